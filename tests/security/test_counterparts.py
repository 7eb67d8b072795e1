"""A counterpart address (issue 12, point 2) carries no more authority than it must, end to end over the real
Dovecot + Postfix: only Aideur, through the reply address of his own notification, writes to a helper; the helper's
own address never becomes Aideur's; nobody learns the requester's identity through it."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from mailbot.models import Event, SigningDomain
from mailbot.tokens import TOKEN_PATTERN
from tests.helpers import (
    AIDEUR,
    ALICE,
    CHLOE,
    CLUB,
    STRANGER,
    mailbox,
    make_mail,
    run_cycle,
    settle,
    smtp_send,
    wait_mail,
)
from tests.integration.aideur_clients import reply_to_notification
from tests.integration.test_counterparts import _offer
from tests.integration.test_triage import THURSDAY, answer

pytestmark = pytest.mark.servers


def send_and_cycle(server, settings, sessions, message):  # type: ignore[no-untyped-def]
    smtp_send(server, message)
    wait_mail(server, CLUB, 1)
    return run_cycle(settings, sessions, at=THURSDAY)


def counts(server) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    return len(mailbox(server, ALICE)), len(mailbox(server, CHLOE))


def test_a_stranger_holding_the_offer_notification_writes_to_no_helper(clean_mail, settings, sessions):
    offer = _offer(clean_mail, settings, sessions)
    before = counts(clean_mail)
    forged = reply_to_notification(offer, "Chloé, écrivez-moi directement à inconnu@ailleurs.test", "gmail",
                                   sender=STRANGER, name="Aideur")
    report = send_and_cycle(clean_mail, settings, sessions, forged)
    assert dict(report.actions) == {"follow-up": 1}  # recorded on the ticket for Aideur, sent to no member
    settle(clean_mail, AIDEUR, 4)
    assert counts(clean_mail) == before


def test_aideurs_unsigned_from_is_refused_once_his_domain_signs(clean_mail, settings, sessions):
    offer = _offer(clean_mail, settings, sessions)
    with sessions.begin() as session:
        session.add(SigningDomain(domain="club.test", first_seen=THURSDAY, last_seen=THURSDAY))
    before = counts(clean_mail)
    report = send_and_cycle(clean_mail, settings, sessions,
                            reply_to_notification(offer, "Merci Chloé, rappelez-moi au 01 45 67 89 10.", "outlook"))
    assert dict(report.actions) == {"aideur-unrouted": 1}
    assert counts(clean_mail) == before


def test_the_helpers_own_address_never_speaks_for_aideur(clean_mail, settings, sessions):
    """Aideur's From: through the address of the mail relayed to the helper: not a command, not relayed."""
    offer = _offer(clean_mail, settings, sessions)
    answer(clean_mail, settings, sessions, offer, "Êtes-vous libre jeudi ?", "thunderbird")
    [message] = [m for m in settle(clean_mail, CHLOE, 3) if "libre jeudi" in m.text]
    assert message.reply_to[0].startswith("aide+w") and re.search(r"\+w\d+h-", message.reply_to[0])
    before = counts(clean_mail)
    forged = reply_to_notification(message, "#clore\nFin de la demande, merci.", "gmail")  # From: Aideur
    report = send_and_cycle(clean_mail, settings, sessions, forged)
    assert dict(report.actions) == {"counterpart-reply": 1}
    [notice] = [m for m in settle(clean_mail, AIDEUR, 4) if "tiers" in m.subject]
    assert AIDEUR in notice.text and "n'a été transmis à personne" in " ".join(notice.text.split())
    assert counts(clean_mail) == before
    with sessions() as session:
        kinds = session.scalars(select(Event.kind)).all()
    assert "command:clore" not in kinds and "counterpart-foreign" in kinds


def test_a_helper_address_with_aideurs_role_does_not_verify(clean_mail, settings, sessions):
    """The role is under the MAC: changing h to a in the helper's address gives no valid token."""
    offer = _offer(clean_mail, settings, sessions)
    answer(clean_mail, settings, sessions, offer, "Êtes-vous libre jeudi ?", "thunderbird")
    [message] = [m for m in settle(clean_mail, CHLOE, 3) if "libre jeudi" in m.text]
    address = message.reply_to[0]
    token = TOKEN_PATTERN.search(address)
    assert token is not None and token.group(3) == "h"
    as_aideur = address.replace(f"w{token.group(2)}h-", f"w{token.group(2)}a-")
    before = counts(clean_mail)
    report = send_and_cycle(clean_mail, settings, sessions,
                            make_mail(AIDEUR, "Re: test", "Bonjour Chloé, voici le nom : Alice Martin.",
                                      to=as_aideur))
    assert "aideur-reply" not in dict(report.actions)
    assert counts(clean_mail) == before


@pytest.mark.parametrize("text, found", [
    ("Merci ! La demande vient d'Alice Martin, de Martin Conseil.", "le nom du demandeur"),
    ("Appelez directement le 06 12 34 56 78.", "le téléphone du demandeur"),
    ("Écrivez-lui : a l i c e @ membres . test", "l'adresse e-mail du demandeur"),
])
def test_the_helper_never_learns_the_requester_through_aideurs_text(clean_mail, settings, sessions, text, found):
    offer = _offer(clean_mail, settings, sessions)
    before = counts(clean_mail)
    answer(clean_mail, settings, sessions, offer, f"{text}\n#note relancer jeudi", "gmail")
    [error] = [m for m in settle(clean_mail, AIDEUR, 4) if "non exécutée" in m.subject]
    flat = " ".join(error.text.split())
    assert found in flat and "Chloé Durand n'a pas été envoyé" in flat
    assert counts(clean_mail) == before
    with sessions() as session:
        assert "command:note" not in session.scalars(select(Event.kind)).all()  # nothing done halfway
