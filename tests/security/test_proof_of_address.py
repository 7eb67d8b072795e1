"""Issue 11, points 1 and 8, attacked end to end over the real loopback Dovecot + Postfix (SQLite and PostgreSQL).

Point 1 — proof of address before any change: a forged `From:` (to the plain address, through someone else's
reply address, with the In-Reply-To of a real mail) changes no member's data, status or acceptance; the address
on record is asked, and only its answer through its own confirmation token applies the change.
Point 8 — no reflection, bounded noise: nothing a stranger wrote comes back in the club's mail to them, and a
flood of stranger or unreadable mail gives Aideur a bounded number of summarised notices, every mail recorded.

Each test checks the absence of the harmful effect (rows, every mailbox) and the right answer to the right person.
"""
from __future__ import annotations

import smtplib
from datetime import datetime, timedelta
from email.header import decode_header, make_header
from email.message import EmailMessage

import pytest
from sqlalchemy import func, select

from mailbot.models import Acceptance, Event, InboundMail, Member
from tests.helpers import (
    AIDEUR,
    ALICE,
    BRUNO,
    CHLOE,
    CLUB,
    STRANGER,
    add_members,
    append,
    mailbox,
    make_mail,
    run_cycle,
    settle,
    smtp_send,
    wait_mail,
)
from tests.integration.aideur_clients import reply_to_notification

pytestmark = pytest.mark.servers

NOW = datetime(2026, 11, 26, 10, 0)  # a Thursday, 11:00 in Paris, nothing due
EVERYONE = (CLUB, AIDEUR, ALICE, BRUNO, CHLOE, STRANGER)
ATTACK = "Téléphone : 07 00 00 00 01\nEntreprise : Arnaque SARL\nAppels du réseau : non"
ALICE_BEFORE = ("06 12 34 56 78", "Martin Conseil", True)
FORM = """Nom : Lefèvre
Prénom : Hélène
Entreprise : Lefèvre Traductions
Activité : traductrice technique
Adresse postale : 8 allée des Tilleuls, 33000 Bordeaux
Téléphone : 06 55 44 33 22
Visibilité : membres
Acceptation des conditions : J'accepte les conditions V4/2018"""
PHISHING = "Service client : réglez 49 EUR sur http://paiement-club.evil.test/facture"


def deliver(server, settings, sessions, message, count: int = 1):  # type: ignore[no-untyped-def]
    smtp_send(server, message)
    wait_mail(server, CLUB, count)
    return run_cycle(settings, sessions, at=NOW)


def alice(sessions) -> tuple[str, str, bool, str]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        row = session.scalar(select(Member).where(Member.email == ALICE))
        return row.phone, row.company, row.accepts_appeals, row.status


def pending(sessions) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    """(kind, status, address) of every change kept aside, oldest first."""
    from mailbot.models import PendingChange  # imported here: each test fails on its own assertion on old code

    with sessions() as session:
        return [(row.kind, row.status, row.email) for row in
                session.scalars(select(PendingChange).order_by(PendingChange.id))]


def counts(server) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {address: len(mailbox(server, address)) for address in EVERYONE if address != CLUB}


def everything(message) -> str:  # type: ignore[no-untyped-def]
    """All a recipient can see of a mail: every header decoded, the plain and the HTML text."""
    headers = []
    for name, value in message.obj.items():
        try:
            headers.append(f"{name}: {make_header(decode_header(str(value)))}")
        except Exception:  # noqa: BLE001 - an undecodable header is shown raw
            headers.append(f"{name}: {value}")
    return " ".join(" ".join(headers + [message.text, message.html]).split())


def forged(sender: str, subject: str, text: str, **headers: str) -> EmailMessage:
    """A mail with someone else's From: (an SMTP session accepts any)."""
    return make_mail(sender, subject, text, **headers)


# --- point 1: proof of address -------------------------------------------------------------------------------------

def test_forged_modifier_with_form_lines_changes_nothing_and_alice_is_asked(clean_mail, settings, sessions):
    add_members(sessions)
    report = deliver(clean_mail, settings, sessions, forged(f"Alice Martin <{ALICE}>", "modifier", ATTACK))
    assert dict(report.actions) == {"profile": 1}
    assert alice(sessions) == (*ALICE_BEFORE, "active")
    # Alice (the real address) is asked, with a reply address of its own; the attacker gets nothing at all.
    [question] = settle(clean_mail, ALICE, 1)
    assert "merci de confirmer" in question.subject and question.reply_to[0].startswith("aide+v")
    assert "Téléphone : 07 00 00 00 01" in question.text and "Rien n'est encore changé" in question.text
    assert counts(clean_mail) == {AIDEUR: 0, ALICE: 1, BRUNO: 0, CHLOE: 0, STRANGER: 0}
    assert pending(sessions) == [("profile", "pending", ALICE)]


@pytest.mark.parametrize("variant", ["resignation", "erasure", "visibility"])
def test_forged_membership_requests_change_nothing(clean_mail, settings, sessions, variant):
    """Other phrasings of the same attack: all wait for Alice's own answer."""
    add_members(sessions)
    subject, text = {"resignation": ("je quitte le club", ""), "erasure": ("effacer mes données", ""),
                     "visibility": ("Mise à jour", "Visibilité : membres\nAppels du réseau : non")}[variant]
    deliver(clean_mail, settings, sessions, forged(ALICE, subject, text))
    assert alice(sessions) == (*ALICE_BEFORE, "active")
    with sessions() as session:
        row = session.scalar(select(Member).where(Member.email == ALICE))
        assert row.visibility == "confidentielle"
    [question] = settle(clean_mail, ALICE, 1)
    assert "confirmer" in question.subject
    assert mailbox(clean_mail, STRANGER) == []


def test_alice_answering_her_own_confirmation_applies_the_change_once(clean_mail, settings, sessions):
    add_members(sessions)
    deliver(clean_mail, settings, sessions, make_mail(ALICE, "Modifier mon profil", "Téléphone : 07 11 22 33 44"))
    [question] = settle(clean_mail, ALICE, 1)
    assert alice(sessions)[0] == "06 12 34 56 78"
    report = deliver(clean_mail, settings, sessions, reply_to_notification(question, "Oui", "outlook", sender=ALICE,
                                                                           name="Alice Martin"))
    assert dict(report.actions) == {"profile": 1}
    assert alice(sessions) == ("07 11 22 33 44", "Martin Conseil", True, "active")
    done = settle(clean_mail, ALICE, 2)[1]
    assert "modification enregistrée" in done.subject and "Téléphone : 07 11 22 33 44" in done.text
    assert pending(sessions) == [("profile", "applied", ALICE)]
    # The same token again (an old token): nothing more happens.
    deliver(clean_mail, settings, sessions, reply_to_notification(question, "Oui", "gmail", sender=ALICE))
    assert "Aucune demande" in settle(clean_mail, ALICE, 3)[2].subject
    assert alice(sessions)[0] == "07 11 22 33 44"


def test_an_older_question_or_a_no_applies_nothing(clean_mail, settings, sessions):
    add_members(sessions)
    deliver(clean_mail, settings, sessions, forged(ALICE, "modifier", "Téléphone : 07 00 00 00 01"))
    deliver(clean_mail, settings, sessions, forged(ALICE, "modifier", "Téléphone : 07 00 00 00 02"))
    first, second = settle(clean_mail, ALICE, 2)
    deliver(clean_mail, settings, sessions, reply_to_notification(first, "Oui", "thunderbird", sender=ALICE))
    assert alice(sessions)[0] == "06 12 34 56 78"  # superseded by the second question
    deliver(clean_mail, settings, sessions, reply_to_notification(second, "Non, je n'ai rien demandé.",
                                                                  "thunderbird", sender=ALICE))
    assert alice(sessions) == (*ALICE_BEFORE, "active")
    assert [status for _, status, _ in pending(sessions)] == ["superseded", "cancelled"]


def test_a_lapsed_question_applies_nothing(clean_mail, settings, sessions):
    """Fifteen days later (the question lapses after 14), even Alice's own OUI changes nothing."""
    add_members(sessions)
    deliver(clean_mail, settings, sessions, forged(ALICE, "modifier", ATTACK))
    [question] = settle(clean_mail, ALICE, 1)
    smtp_send(clean_mail, reply_to_notification(question, "Oui", "thunderbird", sender=ALICE))
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(settings, sessions, at=NOW + timedelta(days=15))
    assert alice(sessions) == (*ALICE_BEFORE, "active")
    assert "Aucune demande" in settle(clean_mail, ALICE, 2)[1].subject
    assert pending(sessions) == [("profile", "expired", ALICE)]


def test_alices_confirmation_token_answered_by_anyone_else_does_nothing(clean_mail, settings, sessions):
    add_members(sessions)
    deliver(clean_mail, settings, sessions, forged(ALICE, "modifier", ATTACK))
    [question] = settle(clean_mail, ALICE, 1)
    # A member who got hold of it (forwarded), and the attacker, each answer OUI through Alice's token.
    deliver(clean_mail, settings, sessions, reply_to_notification(question, "Oui", "thunderbird", sender=BRUNO))
    deliver(clean_mail, settings, sessions, reply_to_notification(question, "Oui", "gmail", sender=STRANGER))
    assert alice(sessions) == (*ALICE_BEFORE, "active")
    with sessions() as session:
        bruno = session.scalar(select(Member).where(Member.email == BRUNO))
        assert bruno.company == "Petit Bâtiment" and session.scalar(select(Member).where(
            Member.email == STRANGER)) is None
        assert session.scalars(select(Acceptance)).all() == []
    for address in (BRUNO, STRANGER):
        answers = settle(clean_mail, address, 1)
        assert len(answers) == 1 and "Arnaque" not in everything(answers[0]) and "07 00" not in everything(answers[0])
    assert pending(sessions) == [("profile", "pending", ALICE)]


def test_a_token_of_another_purpose_does_not_confirm(clean_mail, settings, sessions):
    """Alice's profile mail (scope p) is hers, but "Oui" through it is not the answer to the pending change."""
    add_members(sessions)
    deliver(clean_mail, settings, sessions, make_mail(ALICE, "modifier", ""))
    [profile] = settle(clean_mail, ALICE, 1)
    assert profile.subject == "Votre profil au Club Aide"
    deliver(clean_mail, settings, sessions, forged(ALICE, "modifier", ATTACK))
    deliver(clean_mail, settings, sessions, reply_to_notification(profile, "Oui", "thunderbird", sender=ALICE))
    assert alice(sessions) == (*ALICE_BEFORE, "active")
    assert pending(sessions) == [("profile", "pending", ALICE)]


def test_forged_from_through_the_invitation_reply_address_changes_nothing(clean_mail, settings, sessions):
    """The attacker gets his own invitation, then writes through its reply address (or with its Message-ID in
    In-Reply-To) with Alice's From: and form lines."""
    add_members(sessions)
    deliver(clean_mail, settings, sessions, make_mail(STRANGER, "Bonjour", "Comment adhérer ?"))
    [invitation] = settle(clean_mail, STRANGER, 1)
    deliver(clean_mail, settings, sessions, forged(ALICE, "Re: " + invitation.subject, ATTACK,
                                                   to=invitation.reply_to[0]))
    deliver(clean_mail, settings, sessions, forged(ALICE, "Re: " + invitation.subject, ATTACK + "\nVisibilité : membres",
                                                   In_Reply_To=invitation.headers["message-id"][0]))
    assert alice(sessions) == (*ALICE_BEFORE, "active")
    with sessions() as session:
        assert session.scalars(select(Acceptance)).all() == []
    questions = settle(clean_mail, ALICE, 2)
    assert all("merci de confirmer" in m.subject for m in questions)
    assert len(mailbox(clean_mail, STRANGER)) == 1  # his invitation, nothing since


def test_forged_registration_of_a_third_party_waits_for_her_confirmation(clean_mail, settings, sessions):
    """Chloé (not a member here) registers Hélène's address: by a fresh mail, and through Chloé's own
    invitation. Nothing is recorded until Hélène answers from her mailbox."""
    deliver(clean_mail, settings, sessions, make_mail(CHLOE, "Bonjour", "Je voudrais adhérer."))
    [chloes] = settle(clean_mail, CHLOE, 1)
    deliver(clean_mail, settings, sessions, forged(f"Hélène Lefèvre <{STRANGER}>", "Inscription", FORM))
    deliver(clean_mail, settings, sessions, forged(STRANGER, "Re: inscription", FORM, to=chloes.reply_to[0]))
    with sessions() as session:
        assert session.scalars(select(Member)).all() == [] and session.scalars(select(Acceptance)).all() == []
    first, second = settle(clean_mail, STRANGER, 2)
    for question in (first, second):
        assert "merci de confirmer" in question.subject and question.reply_to[0].startswith("aide+v")
        assert "Lefèvre" not in everything(question) and "Bordeaux" not in everything(question)
    assert len(mailbox(clean_mail, CHLOE)) == 1
    # Hélène answers the latest question: now (and only now) she is a member, the acceptance recorded.
    deliver(clean_mail, settings, sessions, reply_to_notification(second, "Oui", "gmail", sender=STRANGER))
    with sessions() as session:
        member = session.scalar(select(Member).where(Member.email == STRANGER))
        assert member is not None and member.status == "active" and member.company == "Lefèvre Traductions"
        [acceptance] = session.scalars(select(Acceptance)).all()
        assert "J'accepte les conditions V4/2018" in acceptance.line
    assert "Bienvenue" in settle(clean_mail, STRANGER, 3)[2].subject


def test_a_resigned_member_is_reactivated_only_after_confirmation(clean_mail, settings, sessions):
    add_members(sessions)
    with sessions.begin() as session:
        session.scalar(select(Member).where(Member.email == ALICE)).status = "ended"
    form = FORM.replace("Lefèvre", "Martin").replace("Hélène", "Alice")
    deliver(clean_mail, settings, sessions, forged(ALICE, "Je reviens", form))
    assert alice(sessions)[3] == "ended"
    with sessions() as session:
        assert session.scalars(select(Acceptance)).all() == []
    [question] = settle(clean_mail, ALICE, 1)
    assert "merci de confirmer" in question.subject and "reprendrait votre adhésion" in question.text
    assert mailbox(clean_mail, STRANGER) == []
    deliver(clean_mail, settings, sessions, reply_to_notification(question, "Oui, je confirme.", "outlook",
                                                                  sender=ALICE))
    assert alice(sessions)[3] == "active"
    assert "Bienvenue" in settle(clean_mail, ALICE, 2)[1].subject


def test_a_former_member_erases_her_data_only_after_confirmation(clean_mail, settings, sessions):
    """After résilier, the farewell mail says "reply « effacer mes données »": forged, it erases nothing; her own
    OUI to the question sent to her address does."""
    add_members(sessions)
    with sessions.begin() as session:
        session.scalar(select(Member).where(Member.email == ALICE)).status = "ended"
    deliver(clean_mail, settings, sessions, forged(ALICE, "Effacer mes données", ""))
    assert alice(sessions) == (*ALICE_BEFORE, "ended")
    [question] = settle(clean_mail, ALICE, 1)
    assert "merci de confirmer" in question.subject and question.reply_to[0].startswith("aide+x")
    deliver(clean_mail, settings, sessions, reply_to_notification(question, "Oui", "gmail", sender=BRUNO))
    assert alice(sessions) == (*ALICE_BEFORE, "ended")  # anyone else's OUI through her token: nothing
    deliver(clean_mail, settings, sessions, reply_to_notification(question, "Oui", "gmail", sender=ALICE))
    with sessions() as session:
        assert session.scalar(select(Member).where(Member.email == ALICE)) is None
        assert session.scalar(select(func.count(Member.id)).where(Member.status == "erased")) == 1


# --- point 8: no reflection, bounded noise --------------------------------------------------------------------------

@pytest.mark.parametrize("where", ["display name", "everything"])
def test_nothing_a_stranger_wrote_comes_back_to_them(clean_mail, settings, sessions, where):
    subject, text = ("Bonjour", "Une question.") if where == "display name" else (PHISHING, PHISHING)
    deliver(clean_mail, settings, sessions, make_mail(f'"{PHISHING}" <{STRANGER}>', subject, text))
    # An incomplete form by fresh mail too: its values are not repeated to the From: address.
    deliver(clean_mail, settings, sessions, make_mail(f'"{PHISHING}" <{STRANGER}>', "Inscription",
                                                      f"Nom : {PHISHING}\nTéléphone : {PHISHING}\nPrénom : Jean"))
    sent = settle(clean_mail, STRANGER, 2)
    assert len(sent) == 2 and sent[0].text.splitlines()[0] == "Bonjour,"
    for mail in sent:
        seen = everything(mail)
        for piece in ("Service client", "49 EUR", "evil.test", "paiement-club"):
            assert piece not in seen, f"{piece!r} reflected in {mail.subject!r}"
    assert "il manque" in sent[1].subject
    # Aideur is told, with the address only: the display name is not shown to him either.
    [note] = settle(clean_mail, AIDEUR, 1)
    assert STRANGER in note.text
    if where == "display name":
        assert "49 EUR" not in everything(note)


def _flood(server, messages: list[EmailMessage]) -> None:  # type: ignore[no-untyped-def]
    with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=30) as smtp:
        for message in messages:
            smtp.send_message(message)
    wait_mail(server, CLUB, len(messages), timeout=120)


def test_a_flood_from_one_stranger_gives_a_few_summarised_notices(clean_mail, settings, sessions):
    _flood(clean_mail, [make_mail(STRANGER, f"Offre n° {n}", "Achetez !") for n in range(500)])
    report = run_cycle(settings, sessions, at=NOW)
    assert dict(report.actions) == {"non-member": 500}
    with sessions() as session:  # every mail recorded
        assert session.scalar(select(func.count(InboundMail.id)).where(InboundMail.outcome == "non-member")) == 500
    notes = settle(clean_mail, AIDEUR, 3)
    assert 2 <= len(notes) <= 3  # the 1st, the 10th, the 100th
    assert "Message d'un non-membre" in notes[0].subject
    summaries = [n for n in notes if "autres mails de" in n.text]
    assert "99 autres mails de inconnu@ailleurs.test cette heure-ci" in " ".join(summaries[-1].text.split())
    assert len(mailbox(clean_mail, STRANGER)) <= settings.rate_limit_per_hour


def test_a_flood_from_many_strangers_is_bounded_overall(clean_mail, settings, sessions):
    _flood(clean_mail, [make_mail(f"inconnu+{n}@ailleurs.test", "Bonjour", "Une question.") for n in range(120)])
    run_cycle(settings, sessions, at=NOW)
    with sessions() as session:
        assert session.scalar(select(func.count(InboundMail.id))) == 120
        assert session.scalar(select(func.count(Event.id)).where(Event.kind == "non-member-notice-held")) > 0
    notes = settle(clean_mail, AIDEUR, 11)
    assert len(notes) == 11  # one each for the first ten, then a summary at the 100th
    assert any("100 mails de non-membres sont arrivés cette heure-ci" in " ".join(n.text.split()) for n in notes)


def test_a_flood_of_unreadable_mail_gives_bounded_notices(clean_mail, settings, sessions):
    sender = f"{'a' * 330}@ailleurs.test"  # longer than any SMTP path: quarantined
    for n in range(30):
        append(clean_mail, CLUB, (f"From: {sender}\r\nTo: {CLUB}\r\nSubject: Illisible {n}\r\n"
                                  f"Message-ID: <flood-{n}@ailleurs.test>\r\n\r\nBonjour.\r\n").encode())
    run_cycle(settings, sessions, at=NOW)
    with sessions() as session:
        assert session.scalar(select(func.count(InboundMail.id)).where(InboundMail.outcome == "quarantined")) == 30
    notes = settle(clean_mail, AIDEUR, 2)
    assert len(notes) == 2  # the 1st and the 10th
    # Postfix may deliver the two in either order (parallel deliveries): which one sums up is told by its text.
    texts = [" ".join(note.text.split()) for note in notes]
    assert sorted("9 autres mails de" in text for text in texts) == [False, True], texts


@pytest.mark.parametrize("header", ["In-Reply-To", "References"])
def test_the_message_id_of_alices_profile_mail_is_no_proof(clean_mail, settings, sessions, header):
    """Attack review: whoever saw the Message-ID of Alice's profile mail (a reply-all, a forward) cites it in
    In-Reply-To/References of a fresh mail to the plain address, with Alice's From: and form lines. A Message-ID is
    thread context, never proof: nothing changes until Alice answers her own confirmation."""
    add_members(sessions)
    deliver(clean_mail, settings, sessions, make_mail(ALICE, "modifier", ""))
    [profile] = settle(clean_mail, ALICE, 1)
    assert profile.subject == "Votre profil au Club Aide"
    deliver(clean_mail, settings, sessions, forged(ALICE, "Re: " + profile.subject, ATTACK,
                                                   **{header.replace("-", "_"): profile.headers["message-id"][0]}))
    assert alice(sessions) == (*ALICE_BEFORE, "active")
    assert pending(sessions) == [("profile", "pending", ALICE)]


def test_the_message_id_of_alices_confirmation_question_confirms_nothing(clean_mail, settings, sessions):
    """The question's Message-ID cited by a forged "Oui" (to the plain address) is not Alice's answer."""
    add_members(sessions)
    deliver(clean_mail, settings, sessions, forged(ALICE, "modifier", ATTACK))
    [question] = settle(clean_mail, ALICE, 1)
    deliver(clean_mail, settings, sessions, forged(ALICE, "Re: " + question.subject, "Oui",
                                                   In_Reply_To=question.headers["message-id"][0]))
    assert alice(sessions) == (*ALICE_BEFORE, "active")
    assert pending(sessions) == [("profile", "pending", ALICE)]


def test_a_ps_under_the_signature_saying_no_confirms_nothing(clean_mail, settings, sessions):
    """Attack review: the confirmation of a profile change was read on the new text only, above the signature, so
    "Oui" with "PS : finalement non" under it applied the change."""
    add_members(sessions)
    deliver(clean_mail, settings, sessions, forged(ALICE, "modifier", ATTACK))
    [question] = settle(clean_mail, ALICE, 1)
    answer = "Oui\n\n-- \nAlice Martin\n06 12 34 56 78\n\nPS : finalement non, ne changez rien"
    deliver(clean_mail, settings, sessions, reply_to_notification(question, answer, "thunderbird", sender=ALICE))
    assert alice(sessions) == (*ALICE_BEFORE, "active")
    assert pending(sessions)[0][1] != "applied"


# --- issue 12: one lookup of the delivery address's token ----------------------------------------------------------

@pytest.mark.parametrize("header", ["In-Reply-To", "References"])
def test_an_old_style_message_id_confirms_no_registration(clean_mail, settings, sessions, header):
    """Mails sent before thread tokens existed carried the reply address's own token in their Message-ID. Citing
    such a Message-ID (here: of the question "do you confirm your registration?") in a forged "Oui" to the plain
    address is thread context, not proof: nobody is registered; only the answer through the reply address is."""
    from mailbot.models import PendingChange
    from mailbot.tokens import ROLE_MEMBER, SCOPE_VERIFY, Token, TokenSigner

    deliver(clean_mail, settings, sessions, forged(STRANGER, "Inscription", FORM))
    [question] = settle(clean_mail, STRANGER, 1)
    assert "merci de confirmer" in question.subject
    with sessions() as session:
        number = session.scalars(select(PendingChange.id)).one()
    old_style = f"<{TokenSigner(settings.secret_keys).sign(Token(SCOPE_VERIFY, number, ROLE_MEMBER))}@club.test>"
    deliver(clean_mail, settings, sessions, forged(STRANGER, "Re: " + question.subject, "Oui",
                                                   **{header.replace("-", "_"): old_style}))
    with sessions() as session:
        assert session.scalar(select(Member).where(Member.email == STRANGER)) is None
    assert pending(sessions) == [("register", "pending", STRANGER)]
    # Her own answer through the reply address still registers her.
    deliver(clean_mail, settings, sessions, reply_to_notification(question, "Oui", "gmail", sender=STRANGER))
    with sessions() as session:
        assert session.scalar(select(Member).where(Member.email == STRANGER)).status == "active"


# --- issue 12, point 4: a copy of the data goes to the address on record only --------------------------------------

@pytest.mark.parametrize("victim", [ALICE, STRANGER])
def test_a_forged_request_for_a_copy_of_the_data_reaches_only_the_address_on_record(clean_mail, settings, sessions,
                                                                                     victim):
    """Bruno forges the victim's From: with his own Reply-To, asks for "mes données", then forges her "Oui" citing
    the question's Message-ID (he saw it in a forward) at the plain address: the question went to her address only,
    and no copy is sent to anyone. (The victim: a member, or someone whose unconfirmed registration is held.)"""
    if victim == ALICE:
        add_members(sessions)
    else:
        deliver(clean_mail, settings, sessions, forged(STRANGER, "Inscription", FORM))
    before = len(settle(clean_mail, victim, 1 if victim == STRANGER else 0))
    deliver(clean_mail, settings, sessions, forged(victim, "Mes données", "Merci de m'envoyer mes données.",
                                                   Reply_To=BRUNO))
    question = settle(clean_mail, victim, before + 1)[-1]
    assert question.subject == "Copie de vos données : merci de confirmer" and question.to == (victim,)
    deliver(clean_mail, settings, sessions, forged(victim, "Re: " + question.subject, "Oui", Reply_To=BRUNO,
                                                   In_Reply_To=question.headers["message-id"][0]))
    deliver(clean_mail, settings, sessions, forged(victim, "Re: " + question.subject, "Oui", Reply_To=BRUNO,
                                                   References=question.headers["message-id"][0]))
    for address in EVERYONE:
        for mail in mailbox(clean_mail, address):
            assert not [a for a in mail.attachments if a.filename == "mes-donnees.json"], (address, mail.subject)
    assert mailbox(clean_mail, BRUNO) == []
