"""Issue 11, point 1, for a request's status: "RÉSOLU" closes a request only through the member's own reply address.

A forged `From:` with the ticket's reference in the subject, or with the acknowledgement's Message-ID in
In-Reply-To/References (anyone in copy of a later exchange has it), closes nothing: the member is asked at the
address on record, and her answer to that mail (it carries her reply address) closes the request.
"""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from mailbot.models import Ticket
from tests.helpers import ALICE, BRUNO, CLUB, add_members, mailbox, make_mail, run_cycle, settle, smtp_send, wait_mail
from tests.integration.aideur_clients import reply_to_notification

pytestmark = pytest.mark.servers

NOW = datetime(2026, 11, 26, 10, 0)


def deliver(server, settings, sessions, message):  # type: ignore[no-untyped-def]
    smtp_send(server, message)
    wait_mail(server, CLUB, 1)
    return run_cycle(settings, sessions, at=NOW)


def status(sessions) -> str:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return session.scalar(select(Ticket.status))


def open_request(server, settings, sessions):  # type: ignore[no-untyped-def]
    add_members(sessions)
    deliver(server, settings, sessions, make_mail(ALICE, "Bail commercial", "Bonjour,\n\nMon bailleur refuse de "
                                                  "renouveler mon bail commercial. Que faire ?\n\nAlice"))
    [ack] = wait_mail(server, ALICE, 1)
    with sessions() as session:
        ref = session.scalar(select(Ticket.ref))
    return ack, ref


@pytest.mark.parametrize("how", ["subject-reference", "in-reply-to", "both"])
def test_a_forged_resolu_closes_nothing_and_the_member_is_asked(clean_mail, settings, sessions, how):
    server = clean_mail
    ack, ref = open_request(server, settings, sessions)
    forged = make_mail(f"Alice Martin <{ALICE}>", f"Re: [{ref}] Bail commercial" if how != "in-reply-to"
                       else "Re: ma demande", "RÉSOLU\n\nAlice")
    if how != "subject-reference":
        forged["In-Reply-To"] = ack.headers["message-id"][0]
        forged["References"] = ack.headers["message-id"][0]
    before = status(sessions)
    deliver(server, settings, sessions, forged)
    assert status(sessions) == before != "withdrawn"
    mails = settle(server, ALICE, 2)
    assert not any("retirée" in mail.subject for mail in mails)
    question = next(mail for mail in mails if "Clore votre demande" in mail.subject)
    assert question.reply_to[0].startswith("aide+t")
    # Alice really meant it: her answer to that question, through its reply address, closes the request.
    deliver(server, settings, sessions, reply_to_notification(question, "RÉSOLU", "gmail", sender=ALICE,
                                                               name="Alice Martin"))
    assert status(sessions) == "withdrawn"
    assert any("retirée" in mail.subject for mail in settle(server, ALICE, 3))


def test_resolu_through_the_reply_address_closes_at_once(clean_mail, settings, sessions):
    server = clean_mail
    ack, _ref = open_request(server, settings, sessions)
    deliver(server, settings, sessions, reply_to_notification(ack, "Résolu, merci !", "thunderbird", sender=ALICE,
                                                               name="Alice Martin"))
    assert status(sessions) == "withdrawn"


def test_another_member_through_alices_reply_address_closes_nothing(clean_mail, settings, sessions):
    server = clean_mail
    ack, _ref = open_request(server, settings, sessions)
    before = status(sessions)
    deliver(server, settings, sessions, reply_to_notification(ack, "RÉSOLU", "gmail", sender=BRUNO,
                                                               name="Bruno Petit"))
    assert status(sessions) == before != "withdrawn"
    assert not any("retirée" in mail.subject for mail in mailbox(server, ALICE) + mailbox(server, BRUNO))
