"""One reply address = one counterpart (issue 12, point 2), end to end over the loopback servers: Aideur's free
text on an offer notification reaches that helper and nobody else; the helper's answer comes back to Aideur bound
to the same helper; every notification says who receives his text."""
from __future__ import annotations

import re

from sqlalchemy import select

from mailbot.models import Event
from tests.helpers import AIDEUR, ALICE, BRUNO, CHLOE, CLUB, mailbox, run_cycle, settle, smtp_send, wait_mail
from tests.integration.aideur_clients import reply_to_notification
from tests.integration.test_appeals import appeal, helper_answers
from tests.integration.test_triage import THURSDAY, answer


def flat_text(text: str) -> str:
    """The text with its line breaks and runs of spaces (non-breaking ones too) as single spaces."""
    return re.sub(r"[ \t\r\n\u00a0]+", " ", text)


OFFER = "Bonjour,\nJe peux aider : je suis juriste en droit social, disponible jeudi."


def _offer(server, settings, sessions):  # type: ignore[no-untyped-def]
    appeal(server, settings, sessions)
    helper_answers(server, settings, sessions, CHLOE, OFFER)
    [offer] = [m for m in settle(server, AIDEUR, 3) if "Offre n° 1" in m.subject]
    return offer


def test_offer_notification_footer_names_the_helper(clean_mail, settings, sessions):
    offer = _offer(clean_mail, settings, sessions)
    flat = flat_text(offer.text)
    assert "Votre texte sera envoyé à : Chloé Durand, qui propose son aide (demande CA-2026-0001)" in flat
    assert offer.reply_to[0].startswith("aide+w")


def test_request_notification_footer_names_the_requester(clean_mail, settings, sessions):
    note = appeal(clean_mail, settings, sessions)
    flat = flat_text(note.text)
    assert "Votre texte sera envoyé à : Alice Martin, qui a fait la demande CA-2026-0001" in flat


def test_free_text_on_an_offer_goes_to_that_helper_and_commands_act_on_the_ticket(clean_mail, settings, sessions):
    """The issue's case: "Merci Chloé, votre proposition tombe à pic" went to the requester."""
    offer = _offer(clean_mail, settings, sessions)
    alice_before = len(mailbox(clean_mail, ALICE))
    chloe_before = len(mailbox(clean_mail, CHLOE))
    answer(clean_mail, settings, sessions, offer, "Merci Chloé, votre proposition tombe à pic.\n\n#relier 1",
           "outlook")
    alice = settle(clean_mail, ALICE, alice_before + 1)[alice_before:]
    assert len(alice) == 1  # the consent question only
    assert "tombe à pic" not in alice[0].text and "Chloé" not in alice[0].text + alice[0].subject
    chloe = settle(clean_mail, CHLOE, chloe_before + 2)[chloe_before:]
    [message] = [m for m in chloe if "tombe à pic" in m.text]
    [_question] = [m for m in chloe if "tombe à pic" not in m.text]
    for part in ("Alice", "Martin", ALICE, "06 12 34 56 78"):
        assert part not in message.text + message.subject + str(message.headers)
    assert message.reply_to[0].startswith("aide+w") and message.from_ == CLUB
    assert len(mailbox(clean_mail, BRUNO)) == 1  # the other member asked gets nothing


def test_helper_answer_reaches_aideur_bound_to_the_helper(clean_mail, settings, sessions):
    offer = _offer(clean_mail, settings, sessions)
    answer(clean_mail, settings, sessions, offer, "Pouvez-vous me dire si jeudi matin vous conviendrait ?", "gmail")
    [message] = [m for m in settle(clean_mail, CHLOE, 3) if "jeudi matin" in m.text]
    aideur_before = len(mailbox(clean_mail, AIDEUR))
    smtp_send(clean_mail, reply_to_notification(message, "Oui, jeudi 9 h me va très bien.", "thunderbird",
                                                sender=CHLOE, name="Chloé Durand"))
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(settings, sessions, at=THURSDAY)
    [note] = [m for m in settle(clean_mail, AIDEUR, aideur_before + 1)[aideur_before:] if "9 h" in m.text]
    assert "Chloé Durand" in note.subject + note.text
    assert "Votre texte sera envoyé à : Chloé Durand" in flat_text(note.text)
    alice_before = len(mailbox(clean_mail, ALICE))
    answer(clean_mail, settings, sessions, note, "Parfait, je transmets.", "thunderbird")
    assert any("je transmets" in m.text for m in settle(clean_mail, CHLOE, 4))
    assert len(settle(clean_mail, ALICE, alice_before)) == alice_before  # never the requester


def test_free_text_on_an_alert_about_nobody_goes_to_nobody_and_the_commands_run(clean_mail, settings, sessions):
    """An alert that concerns no one Aideur could write to (here: a mail with his From: through the member's own
    reply address): his text is sent to no one and he is told; his commands still act on the ticket."""
    appeal(clean_mail, settings, sessions)
    [ack] = mailbox(clean_mail, ALICE)[:1]
    smtp_send(clean_mail, reply_to_notification(ack, "Test depuis la boîte d'Aideur.", "gmail"))
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(settings, sessions, at=THURSDAY)
    [alert] = [m for m in settle(clean_mail, AIDEUR, 4) if "Mail à votre nom" in m.subject]
    assert "Votre texte ne sera envoyé à personne" in flat_text(alert.text)
    alice_before = len(mailbox(clean_mail, ALICE))
    answer(clean_mail, settings, sessions, alert, "Merci, je vérifie.\n#note fausse alerte", "thunderbird")
    [told] = [m for m in settle(clean_mail, AIDEUR, 5) if "envoyé à personne" in m.subject]
    assert "je vérifie" in told.text and "Vos commandes ont été exécutées" in flat_text(told.text)
    assert len(settle(clean_mail, ALICE, alice_before)) == alice_before
    with sessions() as session:
        assert "command:note" in session.scalars(select(Event.kind)).all()


def test_a_reply_to_a_notification_sent_before_counterparts_still_reaches_the_requester(clean_mail, settings,
                                                                                         sessions):
    """Old notifications carry the ticket's token (scope t): their free text goes to the requester, as before."""
    note = appeal(clean_mail, settings, sessions)
    assert note.reply_to[0].startswith("aide+t")
    answer(clean_mail, settings, sessions, note, "Nous cherchons, un peu de patience.", "outlook")
    [relayed] = [m for m in settle(clean_mail, ALICE, 2) if "un peu de patience" in m.text]
    assert relayed.reply_to[0].startswith("aide+t")
