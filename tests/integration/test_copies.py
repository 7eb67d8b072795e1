"""Issue 13, point 1 and the threading half of point 7, over the real servers: copies are not requests, Aideur can
close without telling anyone, and a member's new mail with the subject of her open request follows it up.

Alice writes to the club with Bruno in Cc; Bruno (another member) answers everyone; someone outside the club
answers everyone; the club is in Cc or in Bcc of a mail between members. Every mailbox is checked for what it must
hold and for what it must not: the sender of a copy gets nothing, the ticket's member nothing more than her own
acknowledgement, Aideur one short notice per copy."""
from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage

import pytest
from sqlalchemy import select

from mailbot.models import Event, Message, OutboxMail, ResultForm, Ticket
from mailbot.models import InboundMail as InboundRecord
from tests.helpers import (
    AIDEUR,
    ALICE,
    BRUNO,
    CHLOE,
    CLOCK,
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

# Wording and routing: the queries are the ones every other test runs on both databases (tests/conftest.py).
pytestmark = pytest.mark.sqlite_only

REQUEST = "Bonjour,\n\nPouvez-vous m'aider à trouver un couvreur pour refaire ma toiture ?\n\nAlice"
BRUNO_TEXT = "Oui avec plaisir, je peux vous faire un devis pour la toiture la semaine prochaine."


def tickets(sessions) -> list[Ticket]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return list(session.scalars(select(Ticket).order_by(Ticket.id)))


def texts_on(sessions, ticket_id: int) -> list[str]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return list(session.scalars(select(Message.text).where(Message.ticket_id == ticket_id,
                                                               Message.direction == "in").order_by(Message.id)))


def alice_asks_with_bruno_in_cc(server, settings, sessions) -> tuple[EmailMessage, Ticket]:  # type: ignore[no-untyped-def]
    add_members(sessions)
    first = make_mail(ALICE, "Devis toiture", REQUEST, to=CLUB, Cc=BRUNO)
    append(server, CLUB, first.as_bytes())
    assert dict(run_cycle(settings, sessions).actions) == {"new-request": 1}
    [ticket] = tickets(sessions)
    return first, ticket


def reply_all(original: EmailMessage, sender: str, text: str, *, to: str, cc: str = "") -> EmailMessage:
    extra = {"Cc": cc} if cc else {}
    return make_mail(sender, "RE: " + str(original["Subject"]), text + "\n\n> " + "\n> ".join(
        str(original.get_content()).splitlines()), to=to, In_Reply_To=str(original["Message-ID"]),
        References=str(original["Message-ID"]), **extra)


def test_another_members_reply_all_attaches_to_the_ticket_and_reaches_only_aideur(clean_mail, settings, sessions):
    first, ticket = alice_asks_with_bruno_in_cc(clean_mail, settings, sessions)
    # Thunderbird's reply-all (the club in Cc) and Outlook's (the club in To, beside Alice): both copies.
    append(clean_mail, CLUB, reply_all(first, BRUNO, BRUNO_TEXT, to=ALICE, cc=CLUB).as_bytes())
    append(clean_mail, CLUB, reply_all(first, BRUNO, "Je peux passer jeudi.", to=f"{ALICE}, {CLUB}").as_bytes())
    assert dict(run_cycle(settings, sessions).actions) == {"copy": 2}
    assert len(tickets(sessions)) == 1  # no ticket for Bruno
    texts = texts_on(sessions, ticket.id)
    assert any("faire un devis" in text for text in texts) and any("passer jeudi" in text for text in texts)
    notes = settle(clean_mail, AIDEUR, 3)
    copies = [note for note in notes if note.subject.startswith(f"Copie reçue pour {ticket.ref}")]
    assert len(copies) == 2 and all(BRUNO in note.subject for note in copies)
    assert any("faire un devis" in note.text and f"Cc : {CLUB}" in note.text for note in copies)
    assert all("ce n'est pas le membre de la demande" in note.text for note in copies)
    assert not any("Nouvelle demande" in note.subject and BRUNO in note.text for note in notes)
    [ack] = settle(clean_mail, ALICE, 1)  # only her own acknowledgement: Bruno's words are not relayed to her
    assert ack.subject.startswith(f"[{ticket.ref}] Demande bien reçue")
    assert mailbox(clean_mail, BRUNO) == []  # no acknowledgement, no promise, no "Votre demande en une ligne"
    with sessions() as session:
        assert session.scalars(select(Event.kind).where(Event.ticket_id == ticket.id, Event.kind == "copy")).all() \
            == ["copy", "copy"]


def test_a_non_members_reply_all_attaches_without_any_invitation(clean_mail, settings, sessions):
    first, ticket = alice_asks_with_bruno_in_cc(clean_mail, settings, sessions)
    append(clean_mail, CLUB, reply_all(first, STRANGER, "Je suis couvreur, je peux aider.", to=ALICE,
                                       cc=f"{CLUB}, {BRUNO}").as_bytes())
    assert dict(run_cycle(settings, sessions).actions) == {"copy": 1}
    notes = settle(clean_mail, AIDEUR, 2)
    assert any(note.subject.startswith(f"Copie reçue pour {ticket.ref} ({STRANGER})") for note in notes)
    assert not any("non-membre" in note.subject for note in notes)
    assert mailbox(clean_mail, STRANGER) == []  # no registration invitation
    assert len(settle(clean_mail, ALICE, 1)) == 1 and mailbox(clean_mail, BRUNO) == []


@pytest.mark.parametrize("to, cc", [
    (BRUNO, CLUB),  # the club in Cc "pour info" of a mail between two members
    (AIDEUR, f"{BRUNO}, {CLUB.upper()}"),  # Aideur in To, the club in Cc (in capitals)
    (f"{BRUNO}, {CHLOE}", ""),  # the club blind-copied
])
def test_a_copy_that_threads_with_nothing_reaches_aideur_only(clean_mail, settings, sessions, to, cc):
    add_members(sessions)
    extra = {"Cc": cc} if cc else {}
    mail = make_mail(ALICE, "Salon des artisans", "Bruno, je te propose de tenir le stand avec moi samedi.",
                     to=to, Delivered_To=CLUB, **extra)
    append(clean_mail, CLUB, mail.as_bytes())
    # Bruno answers everyone, the club still copied: a copy again, still no ticket.
    append(clean_mail, CLUB, reply_all(mail, BRUNO, "D'accord pour samedi.", to=ALICE, cc=cc or CLUB).as_bytes())
    assert dict(run_cycle(settings, sessions).actions) == {"copy": 2}
    assert tickets(sessions) == []
    notes = settle(clean_mail, AIDEUR, 2)
    assert sorted(note.subject for note in notes) == [
        f"Copie pour information ({ALICE}) : Salon des artisans",
        f"Copie pour information ({BRUNO}) : RE: Salon des artisans"]
    first = next(note for note in notes if ALICE in note.subject)
    assert "tenir le stand" in first.text and f"À : {to}" in first.text
    assert ("copie cachée" in first.text) is (not cc)
    assert mailbox(clean_mail, ALICE) == [] and mailbox(clean_mail, BRUNO) == [] and mailbox(clean_mail, CHLOE) == []
    with sessions() as session:
        assert session.scalar(select(OutboxMail.id).where(OutboxMail.recipient.in_([ALICE, BRUNO, CHLOE]))) is None
        reasons = session.scalars(select(InboundRecord.reason).where(InboundRecord.outcome == "copy")).all()
    assert len(reasons) == 2 and all("copie pour information" in reason for reason in reasons)


def test_the_club_in_to_among_others_is_still_a_request(clean_mail, settings, sessions):
    add_members(sessions)
    append(clean_mail, CLUB, make_mail(ALICE, "Expert-comptable", "Je cherche un expert-comptable.",
                                       to=f"{BRUNO}, Club Aide <{CLUB}>, {CHLOE}", Cc=STRANGER).as_bytes())
    # Reply-To naming the club changes nothing: To names Bruno only, the club is blind-copied.
    append(clean_mail, CLUB, make_mail(CHLOE, "Covoiturage", "Qui va au salon ?", to=BRUNO,
                                       Reply_To=CLUB).as_bytes())
    assert dict(run_cycle(settings, sessions).actions) == {"new-request": 1, "copy": 1}
    [ticket] = tickets(sessions)
    assert ticket.subject == "Expert-comptable"
    assert len(settle(clean_mail, ALICE, 1)) == 1 and mailbox(clean_mail, CHLOE) == []


def test_a_reply_all_through_the_tickets_reply_address_is_a_copy_too(clean_mail, settings, sessions):
    add_members(sessions)
    smtp_send(clean_mail, make_mail(ALICE, "Devis toiture", REQUEST))
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(settings, sessions)
    [ack] = wait_mail(clean_mail, ALICE, 1)
    [ticket] = tickets(sessions)
    # Alice answers her acknowledgement with Bruno in Cc (her follow-up); Bruno answers everyone: the ticket's
    # reply address is in his Cc and its Message-ID in his References, yet he is not the ticket's member.
    hers = make_mail(ALICE, "Re: " + ack.subject, "Bruno, peux-tu regarder ?", to=ack.reply_to[0], Cc=BRUNO,
                     In_Reply_To=ack.headers["message-id"][0], References=ack.headers["message-id"][0])
    his = make_mail(BRUNO, "Re: " + ack.subject, BRUNO_TEXT, to=ALICE, Cc=ack.reply_to[0],
                    In_Reply_To=str(hers["Message-ID"]),
                    References=f"{ack.headers['message-id'][0]} {hers['Message-ID']}")
    append(clean_mail, CLUB, hers.as_bytes())
    append(clean_mail, CLUB, his.as_bytes())
    assert dict(run_cycle(settings, sessions).actions) == {"follow-up": 2}
    notes = settle(clean_mail, AIDEUR, 3)
    assert [n.subject for n in notes if n.subject.startswith("Copie reçue")] == [
        f"Copie reçue pour {ticket.ref} ({BRUNO}) : Devis toiture"]
    assert any("Nouveau message (Alice Martin)" in n.subject for n in notes)
    assert not any(f"Nouveau message ({BRUNO})" in n.subject for n in notes)
    assert len(settle(clean_mail, ALICE, 1)) == 1 and mailbox(clean_mail, BRUNO) == []


@pytest.mark.parametrize("command", ["#clore silencieux", "#clore sans message", "#Clore discret",
                                     "#clore {ref} silencieusement, c'était une copie"])
def test_quiet_close_writes_to_nobody_but_the_aideur_who_gave_it(clean_mail, settings, sessions, command):
    first, ticket = alice_asks_with_bruno_in_cc(clean_mail, settings, sessions)
    append(clean_mail, CLUB, reply_all(first, BRUNO, BRUNO_TEXT, to=ALICE, cc=CLUB).as_bytes())
    run_cycle(settings, sessions)
    notes = settle(clean_mail, AIDEUR, 2)
    [copy] = [note for note in notes if note.subject.startswith("Copie reçue")]
    smtp_send(clean_mail, reply_to_notification(copy, command.format(ref=ticket.ref), "thunderbird"))
    wait_mail(clean_mail, CLUB, 1)
    assert dict(run_cycle(settings, sessions).actions) == {"aideur-reply": 1}
    [closed] = tickets(sessions)
    assert closed.status == "closed"
    after = settle(clean_mail, AIDEUR, 3)
    assert [note.subject for note in after[2:]] == [f"[{ticket.ref}] Demande close sans message : Devis toiture"]
    assert len(settle(clean_mail, ALICE, 1)) == 1  # her acknowledgement only: no closing mail, no form
    assert mailbox(clean_mail, BRUNO) == []
    with sessions() as session:
        assert session.scalar(select(ResultForm.id)) is None
        assert len(session.scalars(select(OutboxMail.id).where(OutboxMail.recipient == ALICE)).all()) == 1


def test_a_new_mail_with_the_subject_of_her_open_request_follows_it_up(clean_mail, settings, sessions):
    add_members(sessions)
    append(clean_mail, CLUB, make_mail(ALICE, "Devis toiture", REQUEST).as_bytes())
    run_cycle(settings, sessions)
    [ticket] = tickets(sessions)
    # Reminders written as new mails (no In-Reply-To/References): the same request.
    append(clean_mail, CLUB, make_mail(ALICE, "Relance : devis TOITURE", "Avez-vous du nouveau ?").as_bytes())
    append(clean_mail, CLUB, make_mail(ALICE, "RE: RE: Dévis toiture", "Je relance encore.").as_bytes())
    # Bruno's mail of the same subject is his own request; Alice's other subject too.
    append(clean_mail, CLUB, make_mail(BRUNO, "Devis toiture", "Je cherche aussi un couvreur.").as_bytes())
    append(clean_mail, CLUB, make_mail(ALICE, "Devis toiture 2e bâtiment", "Et pour le hangar ?").as_bytes())
    assert dict(run_cycle(settings, sessions).actions) == {"follow-up": 2, "new-request": 2}
    all_tickets = tickets(sessions)
    assert len(all_tickets) == 3
    texts = texts_on(sessions, ticket.id)
    assert any("du nouveau" in text for text in texts) and any("relance encore" in text for text in texts)
    acks = settle(clean_mail, ALICE, 2)
    assert sorted(ack.subject.split("]")[0] for ack in acks) == sorted(
        f"[{t.ref}" for t in all_tickets if t.member_id == ticket.member_id)  # one acknowledgement per ticket
    assert len(settle(clean_mail, BRUNO, 1)) == 1
    notes = settle(clean_mail, AIDEUR, 5)
    assert sum(f"[{ticket.ref}] Nouveau message (Alice Martin)" in note.subject for note in notes) == 2


def test_a_closed_request_is_not_followed_up_by_subject(clean_mail, settings, sessions):
    add_members(sessions)
    append(clean_mail, CLUB, make_mail(ALICE, "Devis toiture", REQUEST).as_bytes())
    run_cycle(settings, sessions)
    with sessions.begin() as session:
        ticket = session.scalars(select(Ticket)).one()
        ticket.status, ticket.closed_at = "closed", CLOCK
    append(clean_mail, CLUB, make_mail(ALICE, "Devis toiture", "Une nouvelle toiture, cette fois.").as_bytes())
    assert dict(run_cycle(settings, sessions).actions) == {"new-request": 1}
    assert len(tickets(sessions)) == 2


def test_a_copy_naming_the_tickets_reference_attaches_without_thread_headers(clean_mail, settings, sessions):
    _first, ticket = alice_asks_with_bruno_in_cc(clean_mail, settings, sessions)
    # Bruno's client dropped In-Reply-To/References; the subject names Alice's ticket, and Alice is a recipient.
    append(clean_mail, CLUB, make_mail(BRUNO, f"Re: [{ticket.ref}] Devis toiture", BRUNO_TEXT, to=ALICE,
                                       Cc=CLUB).as_bytes())
    # Chloé names it too, but Alice is not among her recipients: a copy for information only.
    append(clean_mail, CLUB, make_mail(CHLOE, f"{ticket.ref} ?", "Je passe l'info.", to=BRUNO, Cc=CLUB).as_bytes())
    assert dict(run_cycle(settings, sessions).actions) == {"copy": 2}
    notes = settle(clean_mail, AIDEUR, 3)
    assert any(note.subject.startswith(f"Copie reçue pour {ticket.ref} ({BRUNO})") for note in notes)
    assert any(note.subject.startswith(f"Copie pour information ({CHLOE})") for note in notes)
    assert mailbox(clean_mail, BRUNO) == [] and mailbox(clean_mail, CHLOE) == []
    assert len(settle(clean_mail, ALICE, 1)) == 1


def test_a_mail_to_a_club_alias_is_a_request_not_a_copy(clean_mail, database_url, sessions_for):
    from mailbot.config import load_settings
    from tests.conftest import make_env

    settings = load_settings(make_env(clean_mail, database_url, MAILBOT_CLUB_ALIASES="Contact@Club.test"),
                             env_file=None)
    sessions = sessions_for(database_url)
    add_members(sessions)
    # The public contact address is forwarded to the club's mailbox: written to the club.
    append(clean_mail, CLUB, make_mail(ALICE, "Expert-comptable", "Je cherche un expert-comptable.",
                                       to="Club Aide <contact@club.test>", Delivered_To=CLUB).as_bytes())
    # A mail between members with that alias in Cc only: a copy.
    append(clean_mail, CLUB, make_mail(BRUNO, "Salon", "Tu viens ?", to=CHLOE, Cc="contact@club.test").as_bytes())
    assert dict(run_cycle(settings, sessions).actions) == {"new-request": 1, "copy": 1}
    assert len(settle(clean_mail, ALICE, 1)) == 1 and mailbox(clean_mail, BRUNO) == []


# Attack (point 1): Outlook's reply-all often carries no In-Reply-To/References (only Thread-Index), and Apple Mail
# puts the club in To beside the author. Bruno's answer then cited nothing and named the club in To: it became a
# ticket for Bruno with an acknowledgement. The subject of Alice's open request, with Alice among its people, is
# the thread.
@pytest.mark.parametrize("subject, to, cc", [
    ("RE: Devis toiture", f"{ALICE}, {CLUB}", ""),  # Outlook, no thread headers
    ("RE : Devis toiture", ALICE, CLUB),  # Outlook in French
    ("Re: Devis toiture", f"Alice <{ALICE}>, Club Aide <{CLUB}>", ""),  # Apple Mail, headers lost by a forwarder
])
def test_a_reply_all_without_thread_headers_attaches_by_its_subject(clean_mail, settings, sessions, subject, to, cc):
    _first, ticket = alice_asks_with_bruno_in_cc(clean_mail, settings, sessions)
    extra = {"Cc": cc} if cc else {}
    mail = make_mail(BRUNO, subject, BRUNO_TEXT, to=to, Thread_Index="AQHZ1234abcd==", **extra)
    append(clean_mail, CLUB, mail.as_bytes())
    assert dict(run_cycle(settings, sessions).actions) == {"copy": 1}
    assert len(tickets(sessions)) == 1
    assert any("faire un devis" in text for text in texts_on(sessions, ticket.id))
    notes = settle(clean_mail, AIDEUR, 2)
    assert any(note.subject.startswith(f"Copie reçue pour {ticket.ref}") for note in notes)
    assert mailbox(clean_mail, BRUNO) == []
    assert len(settle(clean_mail, ALICE, 1)) == 1


def test_a_fresh_mail_with_the_same_subject_cc_that_member_is_its_senders_request(clean_mail, settings, sessions):
    _first, _ticket = alice_asks_with_bruno_in_cc(clean_mail, settings, sessions)
    append(clean_mail, CLUB, make_mail(BRUNO, "Devis toiture", "Bonjour, il me faut aussi un couvreur pour mon "
                                       "entrepôt de Lyon.\nBruno", to=CLUB, Cc=ALICE).as_bytes())
    assert dict(run_cycle(settings, sessions).actions) == {"new-request": 1}
    assert [t.member.email for t in tickets_with_members(sessions)] == [ALICE, BRUNO]


def tickets_with_members(sessions) -> list[Ticket]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        found = list(session.scalars(select(Ticket).order_by(Ticket.id)))
        for ticket in found:
            _ = ticket.member.email
        return found


def test_a_strangers_flood_of_copies_is_not_a_flood_of_notices(clean_mail, settings, sessions):
    """Attack (point 1): a stranger blind-copies the club on 15 mails in an hour (a prospecting campaign without
    list headers). Each is recorded; Aideur hears of the first and of the 10th, not of each one."""
    add_members(sessions)
    for number in range(15):
        append(clean_mail, CLUB, make_mail(STRANGER, f"Offre spéciale n° {number}",
                                           f"Bonjour, notre offre n° {number} vous intéressera.", to=BRUNO).as_bytes())
    assert dict(run_cycle(settings, sessions).actions) == {"copy": 15}
    notes = settle(clean_mail, AIDEUR, 2)
    assert 1 <= len(notes) <= 2
    assert mailbox(clean_mail, STRANGER) == []
    with sessions() as session:
        assert len(session.scalars(select(InboundRecord).where(InboundRecord.outcome == "copy")).all()) == 15


def test_aideurs_own_mail_to_the_member_with_the_club_in_cc_goes_on_her_ticket(clean_mail, settings, sessions):
    """Attack (point 1, "whoever sends it"): Aideur writes to Alice from his own mailbox, the club in Cc "pour la
    trace", naming her request's reference in the subject. It used to drive nothing and bring him the alert « sans
    jeton »; it is a copy on her ticket, and nobody is written to."""
    _first, ticket = alice_asks_with_bruno_in_cc(clean_mail, settings, sessions)
    settle(clean_mail, AIDEUR, 1)
    append(clean_mail, CLUB, make_mail(f"Aideur <{AIDEUR}>", f"[{ticket.ref}] Votre toiture",
                                       "Bonjour Alice, je vous appelle demain avec deux noms de couvreurs.\nAideur",
                                       to=ALICE, Cc=CLUB).as_bytes())
    assert dict(run_cycle(settings, sessions, at=CLOCK + timedelta(minutes=5)).actions) == {"copy": 1}
    assert any("deux noms de couvreurs" in text for text in texts_on(sessions, ticket.id))
    notes = settle(clean_mail, AIDEUR, 2)
    assert not any("sans jeton" in n.subject.lower() or "n'a pas été traité" in n.text for n in notes)
    assert len(settle(clean_mail, ALICE, 1)) == 1 and mailbox(clean_mail, BRUNO) == []


LONG = ("Litige avec un fournisseur d'électricité qui a facturé deux fois la même période à l'entreprise, malgré "
        "trois réclamations écrites et un médiateur saisi")


def test_a_reminder_of_a_long_subject_follows_up_the_request(clean_mail, settings, sessions):
    """Attack (point 7): the ticket's title is the subject shortened (120 characters, « … »); a reminder with the
    whole subject did not match it and opened a duplicate ticket with a second promise."""
    add_members(sessions)
    append(clean_mail, CLUB, make_mail(ALICE, LONG, REQUEST).as_bytes())
    run_cycle(settings, sessions)
    [ticket] = tickets(sessions)
    assert ticket.subject.endswith("…")
    append(clean_mail, CLUB, make_mail(ALICE, "Relance : " + LONG, "Avez-vous du nouveau ?").as_bytes())
    append(clean_mail, CLUB, make_mail(ALICE, LONG[:60], "Autre sujet, plus court.").as_bytes())
    assert dict(run_cycle(settings, sessions, at=CLOCK + timedelta(minutes=5)).actions) == {
        "follow-up": 1, "new-request": 1}
    assert any("du nouveau" in text for text in texts_on(sessions, ticket.id))


def test_a_thank_you_under_a_long_subject_is_a_thank_you(clean_mail, settings, sessions):
    """Attack (point 7): « Merci ! » under her request's whole long subject was not recognised (the title is
    shortened) and opened a ticket with a promise."""
    add_members(sessions)
    append(clean_mail, CLUB, make_mail(ALICE, LONG, REQUEST).as_bytes())
    run_cycle(settings, sessions)
    # Her request still open: a follow-up on it. Closed since: a thank-you on it. Never a new ticket.
    append(clean_mail, CLUB, make_mail(ALICE, LONG, "Merci beaucoup !\nAlice").as_bytes())
    assert dict(run_cycle(settings, sessions, at=CLOCK + timedelta(minutes=5)).actions) == {"follow-up": 1}
    with sessions.begin() as session:
        closed = session.scalars(select(Ticket)).one()
        closed.status, closed.closed_at = "closed", CLOCK + timedelta(minutes=6)
    append(clean_mail, CLUB, make_mail(ALICE, LONG, "Merci encore !\nAlice").as_bytes())
    assert dict(run_cycle(settings, sessions, at=CLOCK + timedelta(minutes=10)).actions) == {"thanks": 1}
    assert len(tickets(sessions)) == 1


# A stranger's probe (stop 17): "RE: <a guessed title>" with a member in Cc. If it attached to her ticket in
# silence while a wrong guess got the usual answer, the stranger learnt that she is a member and what she asked.
# A subject and a name in Cc are no proof: only someone who took part in the ticket's mails is attached by them.
@pytest.mark.parametrize("sender", [STRANGER, CHLOE])
@pytest.mark.parametrize("subject", ["RE: Devis toiture", "RE: Divorce"])
def test_a_guessed_subject_with_a_member_in_cc_tells_a_stranger_nothing(clean_mail, settings, sessions, sender,
                                                                        subject):
    _first, ticket = alice_asks_with_bruno_in_cc(clean_mail, settings, sessions)
    settle(clean_mail, ALICE, 1)
    append(clean_mail, CLUB, make_mail(sender, subject, "Je suis d'accord avec toi.", to=CLUB, Cc=ALICE).as_bytes())
    actions = dict(run_cycle(settings, sessions).actions)
    assert "copy" not in actions  # the same answer whether the guess was right or not
    assert not any("d'accord avec toi" in text for text in texts_on(sessions, ticket.id))


# A colleague copied on the request answers in its thread to the club alone: the ticket's, as a copy; not a
# request of theirs (a member got a ticket and an acknowledgement, a non-member an invitation).
@pytest.mark.parametrize("sender", [BRUNO, "comptable@cabinet.test"])
def test_someone_in_copy_of_the_request_answering_the_club_alone_is_a_copy(clean_mail, settings, sessions, sender):
    add_members(sessions)
    first = make_mail(ALICE, "Devis toiture", REQUEST, to=CLUB, Cc=f"{BRUNO}, comptable@cabinet.test")
    append(clean_mail, CLUB, first.as_bytes())
    assert dict(run_cycle(settings, sessions).actions) == {"new-request": 1}
    [ticket] = tickets(sessions)
    append(clean_mail, CLUB, reply_all(first, sender, "Je confirme, c'est urgent pour elle.", to=CLUB).as_bytes())
    assert dict(run_cycle(settings, sessions).actions) == {"copy": 1}
    assert len(tickets(sessions)) == 1
    assert any("urgent pour elle" in text for text in texts_on(sessions, ticket.id))
    assert mailbox(clean_mail, BRUNO) == []


def test_someone_never_in_the_thread_answering_it_is_still_their_own_mail(clean_mail, settings, sessions):
    first, _ticket = alice_asks_with_bruno_in_cc(clean_mail, settings, sessions)
    append(clean_mail, CLUB, reply_all(first, CHLOE, "Bonjour, moi aussi je cherche un couvreur pour mon atelier.",
                                       to=CLUB).as_bytes())
    assert dict(run_cycle(settings, sessions).actions) == {"new-request": 1}
