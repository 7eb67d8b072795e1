"""What the sender writes in the journal when a server refuses a mail: the SMTP code and the reply with every
e-mail address replaced by "<adresse>" at INFO/WARNING (no personal data); the full reply only at DEBUG and in the
outbox row's last_error. SQLite and PostgreSQL; a local aiosmtpd server that refuses on purpose."""
from __future__ import annotations

import logging
from datetime import datetime

import pytest
from sqlalchemy import select

from mailbot.config import load_settings
from mailbot.db import make_engine, make_session_factory
from mailbot.dev.devserver import LOOPBACK
from mailbot.models import OutboxMail
from mailbot.sender import Sender, redact
from tests.helpers import loopback_smtp

NOW = datetime(2026, 11, 27, 10, 0)
GONE, BUSY, BIG = "gone.person@membres.test", "busy.person@membres.test", "big.person@membres.test"


class Refusing:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        if address == GONE:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown in virtual mailbox table"
        if address == BUSY:
            return f"450 4.2.1 <{address}>: mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        return f"552 5.2.2 {envelope.rcpt_tos[0]} is over quota (mailbox of {envelope.rcpt_tos[0]} full)"


@pytest.fixture
def smtp_port():  # type: ignore[no-untyped-def]
    with loopback_smtp(Refusing()) as controller:
        yield controller.port


@pytest.fixture
def sessions(database_url):  # type: ignore[no-untyped-def]
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


def test_smtp_replies_are_logged_without_addresses(database_url, sessions, smtp_port, caplog):
    env = {"MAILBOT_DATABASE_URL": database_url, "MAILBOT_CLUB_ADDRESS": "aide@club.test",
           "MAILBOT_AIDEUR_ADDRESSES": "aideur@club.test", "MAILBOT_SECRET_KEY": "sender-logs-0123456789",
           "MAILBOT_SMTP_HOST": LOOPBACK, "MAILBOT_SMTP_PORT": str(smtp_port), "MAILBOT_SMTP_SECURITY": "none"}
    settings = load_settings(env, env_file=None)
    with sessions.begin() as session:
        for recipient in (GONE, BUSY, BIG):
            session.add(OutboxMail(idempotency_key=recipient, message_id=f"{recipient}.m@club.test", kind="ack",
                                   sender="aide@club.test", recipient=recipient, subject="Demande bien reçue",
                                   body=f"From: aide@club.test\r\nTo: {recipient}\r\n\r\nBonjour\r\n".encode(),
                                   next_attempt_at=NOW, created_at=NOW))
    sender = Sender(settings.smtp, sessions, max_attempts=5, timeout=10, clock=lambda: NOW)
    with caplog.at_level(logging.INFO, logger="mailbot"):
        result = sender.flush()
    assert len(result.failed or []) == 2 and result.deferred == 1
    journal = [r for r in caplog.records if r.levelno >= logging.INFO and r.name.startswith("mailbot")]
    text = "\n".join(r.getMessage() for r in journal)
    for address in (GONE, BUSY, BIG):
        assert address not in text and address.split("@")[0] not in text, text
    assert "failed for good: SMTP 550: 5.1.1 <adresse>: Recipient address rejected: User unknown" in text, text
    # ("busy" is also a word of that test address, busy.person@…: masked as a piece of its local part)
    assert "deferred: SMTP 450: 4.2.1 <adresse>: mailbox <nom>, try again later" in text, text
    assert "failed for good: SMTP 552: 5.2.2 <adresse> is over quota (mailbox of <adresse> full)" in text, text
    assert {r.levelname for r in journal} == {"WARNING", "INFO"}
    # The full reply: in the outbox row (the operator's `tickets show`, Aideur's failure notice) and at DEBUG.
    with sessions() as session:
        errors = {row.recipient or row.idempotency_key: row.last_error for row in session.scalars(select(OutboxMail))}
    assert GONE in errors[GONE] and BUSY in errors[BUSY] and BIG in errors[BIG]
    caplog.clear()
    with sessions.begin() as session:  # the busy one is due again
        session.get(OutboxMail, 2).next_attempt_at = NOW
    with caplog.at_level(logging.DEBUG, logger="mailbot.sender"):
        sender.flush()
    assert any(BUSY in r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG)
    assert not any(BUSY in r.getMessage() for r in caplog.records if r.levelno > logging.DEBUG)


@pytest.mark.parametrize("reply, logged", [
    ("550 5.1.1 <alice@membres.test>: Recipient address rejected", "550 5.1.1 <adresse>: Recipient address rejected"),
    ("535 5.7.8 authentication failed for aide+t42m-abc@club.test\nmore", "535 5.7.8 authentication failed for <adresse>"),
    ("452 4.5.3 Too many recipients (jean.dupont@ailleurs.fr, b@c.fr)", "452 4.5.3 Too many recipients (<adresse>, <adresse>)"),
    ("421 4.3.2 Service not available", "421 4.3.2 Service not available"),
])
def test_redact(reply, logged):
    assert redact(reply) == logged


@pytest.mark.parametrize("reply", [
    "550 5.1.1 Jean Dupont <jean.dupont@nowhere.test> rejected",  # a display name after the status code
    "550 user jean.dupont unknown",  # the local part alone
    "550 5.1.1 <jean.dupont>: unknown user",
    "550 Mailbox for Jean Dupont is full",
])
def test_redact_masks_the_recipients_local_part_however_quoted(reply):
    shown = redact(reply, "jean.dupont@nowhere.test")
    assert "jean" not in shown.lower() and "dupont" not in shown.lower(), shown
