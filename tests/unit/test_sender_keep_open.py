"""The helper sending process keeps its SMTP session between flushes (it flushes every few milliseconds during a
backlog, a mail or two each time): one session for all, a session the server dropped replaced without deferring
anyone's mail, and QUIT at the end. SQLite and PostgreSQL (the lock connection kept too); a local aiosmtpd server
that counts its sessions."""
from __future__ import annotations

import time
from datetime import datetime

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from mailbot.dev.devserver import LOOPBACK, free_port
from mailbot.models import OutboxMail
from mailbot.sender import CHECK_SECONDS, Sender
from tests.helpers import loopback_smtp, queue_acks, smtp_settings

NOW = datetime(2026, 12, 3, 10, 0)


class Counting:
    def __init__(self) -> None:
        self.sessions = 0
        self.mails: list[str] = []

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # type: ignore[no-untyped-def]
        self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.mails.append(envelope.rcpt_tos[0])
        return "250 OK"


@pytest.fixture
def server():  # type: ignore[no-untyped-def]
    handler = Counting()
    with loopback_smtp(handler) as controller:
        yield controller, handler


@pytest.fixture
def sessions(database_url, sessions_for):  # type: ignore[no-untyped-def]
    return sessions_for(database_url)


def _sender(database_url: str, port: int, sessions, *, keep_open: bool) -> Sender:  # type: ignore[no-untyped-def]
    return Sender(smtp_settings(database_url, LOOPBACK, port), sessions, max_attempts=5, timeout=10,
                  clock=lambda: NOW, keep_open=keep_open)


def _queue(sessions, *recipients: str) -> None:  # type: ignore[no-untyped-def]
    queue_acks(sessions, list(recipients), NOW)


def _sent(sessions) -> int:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return session.scalar(select(func.count(OutboxMail.id)).where(OutboxMail.status == "sent")) or 0


@pytest.mark.parametrize("keep_open, expected_sessions", [(True, 1), (False, 3)])
def test_the_helper_s_flushes_share_one_smtp_session(database_url, sessions, server, keep_open, expected_sessions):  # type: ignore[no-untyped-def]
    controller, handler = server
    sender = _sender(database_url, controller.port, sessions, keep_open=keep_open)
    try:
        for round_ in range(3):
            _queue(sessions, f"m{round_}a@membres.test", f"m{round_}b@membres.test")
            assert sender.flush().sent == 2
    finally:
        sender.close()
    assert handler.sessions == expected_sessions
    assert len(handler.mails) == 6 and _sent(sessions) == 6


def test_a_kept_session_the_server_dropped_is_replaced_and_no_mail_waits(database_url, sessions):  # type: ignore[no-untyped-def]
    handler = Counting()
    first = Controller(handler, hostname=LOOPBACK, port=free_port())
    first.start()
    sender = _sender(database_url, first.port, sessions, keep_open=True)
    try:
        _queue(sessions, "lea@membres.test")
        assert sender.flush().sent == 1
        first.stop()  # the server goes, and the kept session with it
        second = Controller(handler, hostname=LOOPBACK, port=first.port)
        second.start()
        try:
            sender._kept_at = time.monotonic() - CHECK_SECONDS - 1  # idle long enough to be checked first
            _queue(sessions, "noel@membres.test")
            result = sender.flush()
        finally:
            second.stop()
    finally:
        sender.close()
    assert result.sent == 1 and result.deferred == 0 and not result.unreachable
    assert handler.mails == ["lea@membres.test", "noel@membres.test"] and handler.sessions == 2
