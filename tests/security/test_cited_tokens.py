"""Issue 11, point 1: a Message-ID is not a proof of address.

The club's Message-IDs carry a thread token (so a reply finds its request), but a Message-ID is copied into every
reply and forward: whoever saw one could cite it. A forged `From:` citing the erasure confirmation question in
In-Reply-To/References erases nothing; the answer counts only through the question's own reply address.
"""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from mailbot.models import Member
from tests.helpers import ALICE, CLUB, add_members, make_mail, run_cycle, settle, smtp_send, wait_mail
from tests.integration.aideur_clients import reply_to_notification

pytestmark = pytest.mark.servers

NOW = datetime(2026, 11, 26, 10, 0)


def deliver(server, settings, sessions, message):  # type: ignore[no-untyped-def]
    smtp_send(server, message)
    wait_mail(server, CLUB, 1)
    return run_cycle(settings, sessions, at=NOW)


def alice_status(sessions) -> str | None:  # type: ignore[no-untyped-def]
    with sessions() as session:
        member = session.scalar(select(Member).where(Member.email == ALICE))
        return member.status if member is not None else None


@pytest.mark.parametrize("cited_in", ["In-Reply-To", "References"])
def test_citing_the_confirmation_question_erases_nothing(clean_mail, settings, sessions, cited_in):
    server = clean_mail
    add_members(sessions)
    deliver(server, settings, sessions, make_mail(ALICE, "Mes données", "Effacer mes données"))
    [question] = wait_mail(server, ALICE, 1)
    assert question.reply_to and question.reply_to[0].startswith("aide+")
    forged = make_mail(f"Alice Martin <{ALICE}>", "Re: " + question.subject, "OUI")
    forged[cited_in] = question.headers["message-id"][0]
    deliver(server, settings, sessions, forged)
    assert alice_status(sessions) == "active"
    # Her own answer, through the question's reply address, does what she asked.
    deliver(server, settings, sessions, reply_to_notification(question, "OUI", "thunderbird", sender=ALICE,
                                                               name="Alice Martin"))
    assert alice_status(sessions) != "active"
    assert settle(server, ALICE, 2)
