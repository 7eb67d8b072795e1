"""Malformed From lines over the real servers (issue 14, point 5): the written address is answered, an ambiguous
or unreadable one is quarantined with its reason, and no answer ever goes to an address made up or picked first."""
from __future__ import annotations

import email

import pytest
from sqlalchemy import select

from mailbot.config import load_settings
from mailbot.models import InboundMail, OutboxMail, Ticket
from tests.conftest import make_env
from tests.helpers import AIDEUR, ALICE, CLUB, STRANGER, add_members, append, mailbox, run_cycle, settle

pytestmark = pytest.mark.servers


@pytest.fixture
def db_url(sqlite_url: str) -> str:
    return sqlite_url


def raw(from_line: str, message_id: str, body: str = "Bonjour, un client conteste ma facture.") -> bytes:
    return (f"From: {from_line}\r\nTo: {CLUB}\r\nSubject: Une question\r\nMessage-ID: <{message_id}>\r\n"
            f"Date: Thu, 26 Nov 2026 09:00:00 +0100\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n").encode()


def _text(raw_mail: bytes) -> str:
    message = email.message_from_bytes(raw_mail)
    part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")


def test_malformed_from_lines(clean_mail, db_url, sessions_for):  # type: ignore[no-untyped-def]
    server = clean_mail
    settings = load_settings(make_env(server, db_url), env_file=None)
    sessions = sessions_for(db_url)
    add_members(sessions)
    # The member's address without angle brackets: hers, and her name, not "alice martin alice@…".
    append(server, CLUB, raw(f"Alice Martin {ALICE}", "plain@membres.test"))
    # Aideur's address first, a stranger's after: never taken for Aideur, nor answered at either.
    append(server, CLUB, raw(f"{AIDEUR}, {STRANGER}", "two@ailleurs.test", "#clore\nmerci"))
    # Two bare addresses: the old reader made "@ailleurs.test" of them.
    append(server, CLUB, raw(f"tim@ailleurs.test {STRANGER}", "glued@ailleurs.test"))
    run_cycle(settings, sessions)

    with sessions() as session:
        outcomes = {row.message_id: (row.outcome, row.reason) for row in session.scalars(select(InboundMail))}
        recipients = [row.recipient for row in session.scalars(select(OutboxMail))]
        notices = [_text(row.body).replace("\u00a0", " ") for row in session.scalars(  # French spacing as spaces
            select(OutboxMail).where(OutboxMail.recipient == AIDEUR))]
        tickets = list(session.scalars(select(Ticket)))
    assert outcomes["plain@membres.test"][0] == "new-request"
    assert outcomes["two@ailleurs.test"][0] == "quarantined"
    assert outcomes["glued@ailleurs.test"][0] == "quarantined"
    assert "plusieurs adresses" in outcomes["two@ailleurs.test"][1]
    assert len(tickets) == 1
    # The right answer to the right person: Alice is acknowledged; Aideur hears of the ticket and the quarantines.
    assert recipients.count(ALICE) == 1
    assert set(recipients) <= {ALICE, AIDEUR}
    # Aideur is told of each quarantine, with the From as written and the reason.
    quarantined = [text for text in notices if "plusieurs adresses" in text]
    assert len(quarantined) == 2
    assert any(f"Expéditeur : {AIDEUR}, {STRANGER}" in text for text in quarantined)
    assert len(settle(server, ALICE, 1)) == 1
    assert mailbox(server, STRANGER) == []
    assert {m.subject for m in mailbox(server, CLUB, settings.quarantine_folder)} == {"Une question"}
    assert len(mailbox(server, CLUB, settings.quarantine_folder)) == 2
