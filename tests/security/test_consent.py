"""Consent and confirmations are strict (issue 11, point 2), end to end over the real Dovecot and Postfix, on
SQLite and PostgreSQL.

- A qualified yes (a deferral, a dependency, a joke, a "PS : finalement non" under the signature) is asked again:
  no card leaves, the consent row stays pending, the person gets the "OUI ou NON" question, Aideur hears of no
  connection.
- A restricted yes ("oui, mais seulement mon e-mail" / "oui, sans mon téléphone") gets a question naming exactly
  what would be shared; after OUI, each card holds only those fields, and so do the consent rows.
- "Oui" then "Non" to an erasure confirmation erases nothing and asks again; a plain OUI afterwards erases.
"""
from __future__ import annotations

from email import message_from_bytes, policy

import pytest
from sqlalchemy import select

from mailbot.members import upsert_member
from mailbot.models import Consent, Event, Member, OutboxMail
from tests.helpers import AIDEUR, ALICE, BRUNO, CHLOE, STRANGER, mailbox, settle
from tests.integration.test_consents import cards_sent, connect, connection_status, having, reply
from tests.integration.test_membership import HELENE, latest, register
from tests.integration.test_membership import reply as member_reply

pytestmark = pytest.mark.servers

CHLOE_PHONE, CHLOE_COMPANY = "07 55 66 77 88", "Durand Avocats"
ALICE_PHONE, ALICE_COMPANY = "06 12 34 56 78", "Martin Conseil"


def consents(sessions) -> dict[str, Consent]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        rows = session.scalars(select(Consent)).all()
        session.expunge_all()
        return {row.role: row for row in rows}


def nothing_exchanged(server, sessions) -> None:  # type: ignore[no-untyped-def]
    """No card in any mailbox, no "made" notice to Aideur, no card in the outbox, the connection still asking."""
    assert connection_status(sessions) == "asking"
    assert cards_sent(server) == []
    assert not [m for m in mailbox(server, AIDEUR) if "Mise en relation faite" in m.subject]
    for who in (BRUNO, STRANGER):
        assert not [m for m in mailbox(server, who) if "coordonnées" in m.subject]
    with sessions() as session:
        assert session.scalars(select(OutboxMail).where(OutboxMail.kind == "coordonnees")).all() == []


@pytest.mark.parametrize(("answer", "client"), [
    ("Oui, je vérifie et je reviens vers vous", "thunderbird"),
    ("Oui, après accord de mon associé.", "outlook"),
    ("Oui (je plaisante)", "gmail"),
    ("Oui\n\nCordialement,\nAlice Martin\nMartin Conseil\n\nPS : finalement non", "gmail"),
    ("Oui ;)", "thunderbird"),
    ("Oui, éventuellement", "outlook"),
])
def test_a_qualified_yes_is_asked_again_and_nothing_is_exchanged(clean_mail, settings, sessions, answer, client):
    _, ask_alice, ask_chloe = connect(clean_mail, settings, sessions)
    reply(clean_mail, settings, sessions, ask_chloe, "Oui", CHLOE)
    reply(clean_mail, settings, sessions, ask_alice, answer, ALICE, client=client)

    nothing_exchanged(clean_mail, sessions)
    rows = consents(sessions)
    assert rows["requester"].status == "pending" and rows["requester"].answered_at is None
    assert rows["requester"].shared_fields == ""
    assert rows["helper"].status == "yes"
    # The right answer to the right person: Alice is asked again, plainly; Chloé only got her acknowledgement.
    [again] = having(clean_mail, ALICE, "OUI ou NON")
    assert "réponse claire" in " ".join(again.text.split())
    assert not [m for m in mailbox(clean_mail, CHLOE) if "OUI ou NON" in m.subject]
    assert [m for m in mailbox(clean_mail, CHLOE) if "accord est enregistré" in m.subject]
    with sessions() as session:
        assert session.scalars(select(Event).where(Event.kind == "consent-unclear")).all()

    # and a plain yes afterwards does make the exchange: the question back was a real way forward
    reply(clean_mail, settings, sessions, again, "Oui", ALICE)
    assert connection_status(sessions) == "exchanged" and len(cards_sent(clean_mail)) == 2


def test_a_restricted_yes_is_confirmed_then_only_those_fields_are_shared(clean_mail, settings, sessions):
    _, ask_alice, ask_chloe = connect(clean_mail, settings, sessions)
    with sessions.begin() as session:  # Chloé's card has a phone and a company to hold back
        upsert_member(session, CHLOE, phone=CHLOE_PHONE, company=CHLOE_COMPANY)

    reply(clean_mail, settings, sessions, ask_alice, "Oui, mais seulement mon e-mail.", ALICE, client="outlook")
    [question] = having(clean_mail, ALICE, "confirmez ce qui sera transmis")
    text = " ".join(question.text.replace("\u00a0", " ").split())
    assert "Seule votre adresse e-mail sera transmise : confirmez par OUI" in text
    assert ALICE in text and ALICE_PHONE not in text and ALICE_COMPANY not in text
    nothing_exchanged(clean_mail, sessions)
    assert consents(sessions)["requester"].status == "pending"  # not a yes until she confirms

    reply(clean_mail, settings, sessions, ask_chloe, "Oui, sans mon téléphone", CHLOE, client="gmail")
    [question_chloe] = having(clean_mail, CHLOE, "confirmez ce qui sera transmis")
    text_chloe = " ".join(question_chloe.text.replace("\u00a0", " ").split())
    assert "Seuls votre nom, votre adresse e-mail et le nom de votre entreprise seront transmis" in text_chloe
    assert CHLOE_PHONE not in text_chloe
    nothing_exchanged(clean_mail, sessions)

    reply(clean_mail, settings, sessions, question, "OUI", ALICE)
    nothing_exchanged(clean_mail, sessions)  # Chloé has not confirmed hers yet
    reply(clean_mail, settings, sessions, question_chloe, "Oui", CHLOE, client="gmail")
    assert connection_status(sessions) == "exchanged"

    # Chloé receives Alice's e-mail and nothing else of her.
    [to_chloe] = [m for m in mailbox(clean_mail, CHLOE) if "les coordonnées" in m.subject]
    assert ALICE in to_chloe.text
    for held_back in ("Alice", "Martin", ALICE_PHONE, "0612345678", ALICE_COMPANY, "Téléphone", "Entreprise"):
        assert held_back not in to_chloe.text, held_back
    # Alice receives Chloé's name, e-mail and company, not her phone.
    [to_alice] = [m for m in mailbox(clean_mail, ALICE) if "les coordonnées" in m.subject]
    assert "Chloé Durand" in to_alice.text and CHLOE in to_alice.text and CHLOE_COMPANY in to_alice.text
    assert CHLOE_PHONE not in to_alice.text and "Téléphone" not in to_alice.text
    # The evidence says the same: what each agreed to share, and both lines of a restricted answer.
    rows = consents(sessions)
    assert rows["requester"].status == "yes" and rows["requester"].shared_fields == "email"
    assert rows["requester"].answer_line == "Oui, mais seulement mon e-mail. / OUI"
    assert rows["helper"].status == "yes" and rows["helper"].shared_fields == "name,email,company"
    with sessions() as session:
        stored = [message_from_bytes(row.body, policy=policy.default).get_body(("plain",)).get_content()
                  for row in session.scalars(select(OutboxMail).where(OutboxMail.kind == "coordonnees"))]
    assert len(stored) == 2 and not any(ALICE_PHONE in body or CHLOE_PHONE in body for body in stored)
    [made] = [m for m in mailbox(clean_mail, AIDEUR) if "Mise en relation faite" in m.subject]
    assert "transmis : courriel" in made.text


@pytest.mark.parametrize(("answer", "client"), [
    ("Oui. Que par mail.", "gmail"),            # attack 13
    ("Oui\n\nMerci\nPar mail svp", "thunderbird"),
])
def test_yes_then_only_by_mail_in_its_own_sentence_sends_no_phone(clean_mail, settings, sessions, answer, client):
    """Attack 13: Alice answers "Oui. Que par mail." (the restriction in its own sentence, or under her "Merci").
    Before: read as a plain yes, the exchange was made at once and Chloé's card held Alice's phone. Now: Alice is
    asked to confirm that only her e-mail is shared, as for "Oui, que par mail", and her phone never leaves."""
    _, ask_alice, ask_chloe = connect(clean_mail, settings, sessions)
    with sessions.begin() as session:
        session.scalars(select(Member).where(Member.email == ALICE)).one().phone = ALICE_PHONE
    reply(clean_mail, settings, sessions, ask_chloe, "Oui", CHLOE)
    reply(clean_mail, settings, sessions, ask_alice, answer, ALICE, client=client)
    [question] = having(clean_mail, ALICE, "confirmez ce qui sera transmis")
    assert "Seule votre adresse e-mail sera transmise" in " ".join(question.text.replace("\u00a0", " ").split())
    nothing_exchanged(clean_mail, sessions)
    reply(clean_mail, settings, sessions, question, "OUI", ALICE)
    assert connection_status(sessions) == "exchanged"
    [to_chloe] = [m for m in mailbox(clean_mail, CHLOE) if "les coordonnées" in m.subject]
    assert ALICE in to_chloe.text
    assert ALICE_PHONE not in to_chloe.text and "0612345678" not in to_chloe.text.replace(" ", "")


def _stored_member(sessions):  # type: ignore[no-untyped-def]
    with sessions() as session:
        return session.scalars(select(Member).where(Member.email == STRANGER)).one_or_none()


@pytest.mark.parametrize(("request_word", "contradiction"), [
    ("Effacer mes données", "Oui\nNon"),
    ("Effacer mes données", "OUI\n\nCordialement,\nHélène Lefèvre\nLefèvre Traductions\n\nPS : non, finalement"),
    ("Résilier mon adhésion", "Oui\nNon"),
])
def test_a_contradictory_confirmation_erases_nothing_and_is_asked_again(clean_mail, settings, sessions,
                                                                        request_word, contradiction):
    welcome = register(clean_mail, settings, sessions)
    member_reply(clean_mail, settings, sessions, welcome, request_word, "outlook")
    question = latest(clean_mail, 2)
    assert "merci de confirmer" in question.subject

    member_reply(clean_mail, settings, sessions, question, contradiction, "gmail")
    member = _stored_member(sessions)
    assert member is not None and member.status == "active" and member.last_name == "Lefèvre"
    assert member.pending_action in ("effacer", "resilier")  # still waiting for a clear answer
    again = latest(clean_mail, 3)
    assert again.subject == "Merci de répondre OUI ou NON" and "rien n'a été fait" in " ".join(again.text.split())
    assert not [m for m in mailbox(clean_mail, AIDEUR) if "Effacement" in m.subject or "Fin d'adhésion" in m.subject]
    assert not [m for m in settle(clean_mail, STRANGER, 3) if "effacées" in m.subject or "terminée" in m.subject]

    member_reply(clean_mail, settings, sessions, again, "Oui", "thunderbird")
    member = _stored_member(sessions)
    if request_word.startswith("Effacer"):
        assert member is None  # erased: her address is gone
        assert [m for m in settle(clean_mail, STRANGER, 4) if "effacées" in m.subject]
    else:
        assert member is not None and member.status == "ended"
    assert HELENE  # the registered person of test_membership


def test_a_doubt_after_a_yes_suspends_it_and_nothing_is_exchanged(clean_mail, settings, sessions):
    """Alice said yes; her next mail says "en fait non, je ne suis plus sûre" in a PS: when Chloé then says yes,
    nothing is exchanged, and Alice is asked again."""
    _, ask_alice, ask_chloe = connect(clean_mail, settings, sessions)
    reply(clean_mail, settings, sessions, ask_alice, "Oui", ALICE)
    [recorded] = having(clean_mail, ALICE, "votre accord est enregistré")
    reply(clean_mail, settings, sessions, recorded, "Merci.\n\nCordialement,\nAlice\n\nPS : en fait je ne suis plus "
                                                    "sûre, je vous redis", ALICE, client="gmail")
    assert consents(sessions)["requester"].status == "pending"
    [again] = having(clean_mail, ALICE, "OUI ou NON")
    assert "suspendons" in " ".join(again.text.split())
    reply(clean_mail, settings, sessions, ask_chloe, "Oui", CHLOE)
    nothing_exchanged(clean_mail, sessions)


def test_a_forged_yes_citing_the_consent_questions_message_id_exchanges_nothing(clean_mail, settings, sessions):
    """Attack review: with Chloé's From: forged, a "Oui" to the plain club address whose In-Reply-To cites her
    consent question (a Message-ID seen in any reply-all or forward) is not her consent: nothing is exchanged,
    and Aideur sees the mail on the ticket."""
    from tests.helpers import CLUB, make_mail, run_cycle, smtp_send, wait_mail
    from tests.integration.test_consents import THURSDAY

    _, ask_alice, ask_chloe = connect(clean_mail, settings, sessions)
    reply(clean_mail, settings, sessions, ask_alice, "Oui", ALICE)
    smtp_send(clean_mail, make_mail(CHLOE, "Re: " + ask_chloe.subject, "Oui", to=CLUB,
                                    In_Reply_To=ask_chloe.headers["message-id"][0]))
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(settings, sessions, at=THURSDAY)
    assert connection_status(sessions) == "asking" and cards_sent(clean_mail) == []
    assert consents(sessions)["helper"].status == "pending"
