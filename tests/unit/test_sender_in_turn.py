"""What a flush leaves in the outbox at every step (SQLite: the next row claimed in the transaction that records the
send of the one before; PostgreSQL: a lock, a claim and a record per row): the send of a mail is recorded before
the next one is handed to the server, so one row at most is `sending` (the one a crash would send again); a server
that cannot be reached leaves every row as it was; a busy database while recording a send is retried; an erased
member's last mail is scrubbed once sent, and the SQLite WAL truncated. A local aiosmtpd server that looks at the
outbox as each mail arrives."""
from __future__ import annotations

import itertools
import threading
from datetime import datetime
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError

from mailbot.config import load_settings
from mailbot.dev.devserver import LOOPBACK, free_port
from mailbot.models import OutboxMail
from mailbot.sender import Sender

NOW = datetime(2026, 12, 3, 10, 0)
KEYS = (f"k{n}" for n in itertools.count())


class Watching:
    """At each mail's DATA, the outbox as another process would see it: (recipient, rows `sending`, rows `sent`)."""

    def __init__(self, sessions) -> None:  # type: ignore[no-untyped-def]
        self.sessions = sessions
        self.seen: list[tuple[str, list[str], list[str]]] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        with self.sessions() as db:
            rows = db.execute(select(OutboxMail.recipient, OutboxMail.status)).all()
        self.seen.append((envelope.rcpt_tos[0], sorted(r for r, s in rows if s == "sending"),
                          sorted(r for r, s in rows if s == "sent")))
        return "250 OK"


@pytest.fixture
def sessions(database_url, sessions_for):  # type: ignore[no-untyped-def]
    return sessions_for(database_url)


def _sender(database_url: str, port: int, sessions, *, keep_open: bool = False) -> Sender:  # type: ignore[no-untyped-def]
    settings = load_settings({
        "MAILBOT_DATABASE_URL": database_url, "MAILBOT_CLUB_ADDRESS": "aide@club.test",
        "MAILBOT_AIDEUR_ADDRESSES": "aideur@club.test", "MAILBOT_SECRET_KEY": "in-turn-0123456789",
        "MAILBOT_SMTP_HOST": LOOPBACK, "MAILBOT_SMTP_PORT": str(port), "MAILBOT_SMTP_SECURITY": "none"},
        env_file=None)
    assert settings.smtp is not None
    return Sender(settings.smtp, sessions, max_attempts=5, timeout=10, clock=lambda: NOW, keep_open=keep_open)


def _queue(sessions, *recipients: str, scrub: bool = False) -> None:  # type: ignore[no-untyped-def]
    with sessions.begin() as session:
        for recipient in recipients:
            # Neither key names the person (as in real rows, where both are tokens): the scrub leaves them.
            key = next(KEYS)
            session.add(OutboxMail(idempotency_key=key, message_id=f"{key}@club.test", kind="ack",
                                   sender="aide@club.test", recipient=recipient, subject="Demande bien reçue",
                                   body=f"From: aide@club.test\r\nTo: {recipient}\r\n\r\nBonjour\r\n".encode(),
                                   next_attempt_at=NOW, created_at=NOW, scrub_after_send=scrub))


def _rows(sessions) -> list[tuple[str, str, int, int]]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return [tuple(row) for row in session.execute(
            select(OutboxMail.recipient, OutboxMail.status, OutboxMail.attempts, OutboxMail.interrupted_sends)
            .order_by(OutboxMail.id))]


RECIPIENTS = [f"m{i}@membres.test" for i in range(5)]


@pytest.mark.parametrize("keep_open", [False, True])
def test_each_send_is_recorded_before_the_next_mail_is_handed_over(database_url, sessions, keep_open):  # type: ignore[no-untyped-def]
    handler = Watching(sessions)
    controller = Controller(handler, hostname=LOOPBACK, port=free_port())
    controller.start()
    sender = _sender(database_url, controller.port, sessions, keep_open=keep_open)
    try:
        _queue(sessions, *RECIPIENTS)
        assert sender.flush().sent == 5
    finally:
        sender.close()
        controller.stop()
    assert [recipient for recipient, _, _ in handler.seen] == RECIPIENTS  # in id order
    for index, (recipient, sending, sent) in enumerate(handler.seen):
        assert sending == [recipient]  # only the one in hand: a crash now would send nothing else twice
        assert sent == sorted(RECIPIENTS[:index])  # every earlier one recorded before this one was handed over
    assert _rows(sessions) == [(r, "sent", 1, 0) for r in RECIPIENTS]


def test_no_server_leaves_every_row_as_it_was(database_url, sessions):  # type: ignore[no-untyped-def]
    sender = _sender(database_url, free_port(), sessions)  # nothing listens there
    _queue(sessions, *RECIPIENTS[:2])
    result = sender.flush()
    assert result.unreachable and result.sent == 0 and result.deferred == 0
    assert _rows(sessions) == [(r, "pending", 0, 0) for r in RECIPIENTS[:2]]  # not `sending`, no attempt counted


def test_a_busy_database_while_recording_a_send_is_retried(database_url, sessions):  # type: ignore[no-untyped-def]
    """The first record of a send fails as a database locked past its timeout would: the send is recorded by a
    retry, and the row is not left `sending` (the next start would send it again)."""
    handler = Watching(sessions)
    controller = Controller(handler, hostname=LOOPBACK, port=free_port())
    controller.start()
    sender = _sender(database_url, controller.port, sessions)
    failed: list[str] = []

    def busy_once(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.startswith("UPDATE") and "sent_at" in statement and not failed:  # MARK_SENT alone sets it
            failed.append(statement)
            raise OperationalError(statement, parameters, Exception("database is locked"))

    engine = sessions.kw["bind"]
    event.listen(engine, "before_cursor_execute", busy_once)
    try:
        _queue(sessions, *RECIPIENTS[:2])
        try:
            sender.flush()
        except OperationalError:
            pass  # SQLite: the claim that went with the record failed too, and the flush says so
        result = sender.flush()  # whatever the first left pending goes now
    finally:
        event.remove(engine, "before_cursor_execute", busy_once)
        sender.close()
        controller.stop()
    assert failed and not result.unreachable
    assert [recipient for recipient, _, _ in handler.seen] == RECIPIENTS[:2]  # each handed over once
    assert _rows(sessions) == [(r, "sent", 1, 0) for r in RECIPIENTS[:2]]


def test_an_erased_member_s_last_mail_is_scrubbed_once_sent(database_url, sessions):  # type: ignore[no-untyped-def]
    handler = Watching(sessions)
    controller = Controller(handler, hostname=LOOPBACK, port=free_port())
    controller.start()
    sender = _sender(database_url, controller.port, sessions, keep_open=True)
    try:
        _queue(sessions, "josette.ferrand@membres.test", scrub=True)
        _queue(sessions, "bruno@membres.test")
        assert sender.flush().sent == 2
    finally:
        sender.close()
        controller.stop()
    with sessions() as session:
        rows = session.execute(select(OutboxMail.recipient, OutboxMail.body, OutboxMail.status)
                               .order_by(OutboxMail.id)).all()
    assert [tuple(r) for r in rows] == [("membre-efface@invalid", b"", "sent"),
                                        ("bruno@membres.test",
                                         b"From: aide@club.test\r\nTo: bruno@membres.test\r\n\r\nBonjour\r\n", "sent")]
    if database_url.startswith("sqlite"):
        wal = Path(database_url.split("///", 1)[1] + "-wal")
        assert not wal.exists() or b"josette" not in wal.read_bytes()


def test_a_claim_is_put_back_when_no_smtp_session_can_be_had(database_url, sessions, monkeypatch):  # type: ignore[no-untyped-def]
    """SQLite claims a row before it opens the SMTP session (an idle poll opens none): a session that cannot be had
    puts the row back as it was, neither `sending` (left for the next start) nor counted as an attempt."""
    import aiosmtplib

    sender = _sender(database_url, free_port(), sessions)

    async def refused(self):  # type: ignore[no-untyped-def]
        with sessions() as session:  # the moment the session is asked for: the row is claimed on SQLite
            claimed.extend(session.scalars(select(OutboxMail.status)))
        raise aiosmtplib.SMTPConnectError("connection refused")

    claimed: list[str] = []
    monkeypatch.setattr(Sender, "_connect", refused)
    _queue(sessions, RECIPIENTS[0])
    result = sender.flush()
    assert result.unreachable and claimed
    if database_url.startswith("sqlite"):
        assert claimed == ["sending"]  # the undoing was needed (PostgreSQL connects before it claims)
    assert _rows(sessions) == [(RECIPIENTS[0], "pending", 0, 0)]


def test_two_threads_flushing_one_sender_send_each_mail_once(database_url, sessions):  # type: ignore[no-untyped-def]
    """The daemon's main loop and its scheduler thread may flush at the same time, each in its own event loop:
    each flush has its own SMTP session, and every row goes out once."""
    handler = Watching(sessions)
    controller = Controller(handler, hostname=LOOPBACK, port=free_port())
    controller.start()
    sender = _sender(database_url, controller.port, sessions)
    recipients = [f"t{i}@membres.test" for i in range(12)]
    _queue(sessions, *recipients)
    results = []
    try:
        threads = [threading.Thread(target=lambda: results.append(sender.flush())) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        controller.stop()
    assert len(results) == 2 and not any(r.unreachable or r.failed or r.deferred for r in results), results
    assert sum(r.sent for r in results) == 12
    assert sorted(recipient for recipient, _, _ in handler.seen) == sorted(recipients)
    assert _rows(sessions) == [(r, "sent", 1, 0) for r in recipients]
