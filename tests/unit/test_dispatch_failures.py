"""Every mail the SMTP server refuses for good gets its alert to Aideur, whichever flush it failed in (the flush
that sends the alerts also sends what became due meanwhile: a helper process sends while the daemon stores).
SQLite and PostgreSQL; a local aiosmtpd server that refuses two addresses."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from mailbot.config import Settings, load_settings
from mailbot.db import make_engine, make_session_factory
from mailbot.dev.devserver import LOOPBACK
from mailbot.dispatch import Dispatcher
from mailbot.models import OutboxMail
from tests.helpers import AIDEUR, CLUB, loopback_smtp, queue_acks

NOW = datetime(2026, 11, 27, 10, 0)
FIRST, LATER = "parti.premier@membres.test", "parti.ensuite@membres.test"


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


class Refusing:
    """Refuses FIRST and LATER for good (550 5.1.1); refusing FIRST moves the clock on a minute, so LATER (due
    30 s after NOW) becomes due during the flush that sends the first alert."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        if address in (FIRST, LATER):
            self.clock.now = NOW + timedelta(minutes=1)
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        return "250 OK"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def smtp_port(clock):  # type: ignore[no-untyped-def]
    with loopback_smtp(Refusing(clock)) as controller:
        yield controller.port


@pytest.fixture
def sessions(database_url):  # type: ignore[no-untyped-def]
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


def _settings(database_url: str, smtp_port: int) -> Settings:
    return load_settings({
        "MAILBOT_DATABASE_URL": database_url, "MAILBOT_CLUB_ADDRESS": CLUB, "MAILBOT_AIDEUR_ADDRESSES": AIDEUR,
        "MAILBOT_SECRET_KEY": "dispatch-fail-0123456789", "MAILBOT_SMTP_HOST": LOOPBACK,
        "MAILBOT_SMTP_PORT": str(smtp_port), "MAILBOT_SMTP_SECURITY": "none"}, env_file=None)


def test_a_refusal_in_the_flush_that_sends_the_alerts_gets_its_alert_too(database_url, sessions, smtp_port, clock):
    queue_acks(sessions, [FIRST], NOW)
    queue_acks(sessions, [LATER], NOW + timedelta(seconds=30))
    dispatcher = Dispatcher(_settings(database_url, smtp_port), sessions, clock)
    result = dispatcher.flush()
    with sessions() as session:
        rows = list(session.scalars(select(OutboxMail).order_by(OutboxMail.id)))
    by_recipient = {row.recipient: row for row in rows if row.kind == "ack"}
    assert {by_recipient[FIRST].status, by_recipient[LATER].status} == {"failed"}
    alerts = [row for row in rows if row.kind == "alerte_echec_envoi"]
    assert sorted(alert.idempotency_key for alert in alerts) == sorted(
        f"send-failed:{by_recipient[address].id}:{AIDEUR}" for address in (FIRST, LATER))
    assert all(alert.recipient == AIDEUR for alert in alerts)
    assert sorted(result.failed or []) == sorted(by_recipient[address].id for address in (FIRST, LATER))
    assert {alert.status for alert in alerts} == {"sent"}  # both went out within the flush


def test_a_send_journal_that_cannot_be_written_stops_sending_without_blaming_smtp(tmp_path, smtp_port, caplog):
    """SQLite's senders write a journal next to the database; when they cannot (a full disk; here its directory's
    name taken by a file), sending stops with the mail kept, and the journal says why — not "SMTP unreachable"."""
    database = tmp_path / "mailbot.db"
    url = f"sqlite:///{database}"
    from mailbot.db import upgrade

    upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    queue_acks(sessions, ["bien.recu@membres.test"], NOW)
    blocker = tmp_path / "mailbot.db-sending"
    blocker.write_text("not a directory")
    dispatcher = Dispatcher(_settings(url, smtp_port), sessions, lambda: NOW)
    with caplog.at_level(logging.INFO, logger="mailbot"):
        result = dispatcher.flush()
    assert result.journal_error and not result.unreachable and result.sent == 0
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "send journal" in text and "SMTP unreachable" not in text, text
    with sessions() as session:
        assert session.scalars(select(OutboxMail.status)).all() == ["pending"]
    blocker.unlink()
    assert dispatcher.flush().sent == 1
    engine.dispose()
