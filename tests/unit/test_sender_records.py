"""When the sender records a mail `sent`: in the commit that claims the next mail, never later (one commit per mail,
and at most one mail accepted by the server and not recorded yet, which is what a crash could send twice). SQLite
and PostgreSQL; a local aiosmtpd server that looks at the outbox each time a mail arrives."""
from __future__ import annotations

import email
from datetime import datetime

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from mailbot.config import load_settings
from mailbot.db import make_engine, make_session_factory
from mailbot.dev.devserver import LOOPBACK, free_port
from mailbot.models import OutboxMail
from mailbot.sender import Sender

NOW = datetime(2026, 11, 27, 10, 0)
ERASED = "efface.membre@membres.test"


class Watching:
    """Accepts every mail; at each one, notes the outbox's statuses. `refuse_at`: the n-th mail (1-based) gets 421."""

    def __init__(self, sessions, refuse_at: int = 0) -> None:  # type: ignore[no-untyped-def]
        self.sessions = sessions
        self.refuse_at = refuse_at
        self.received: list[str] = []
        self.seen: list[tuple[str, dict[str, str]]] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        message_id = email.message_from_bytes(envelope.content)["Message-ID"].strip("<>")
        with self.sessions() as db:
            statuses = dict(db.execute(select(OutboxMail.message_id, OutboxMail.status)).all())
        self.seen.append((message_id, statuses))
        if len(self.seen) == self.refuse_at:
            return "421 4.3.2 Service shutting down"
        self.received.append(message_id)
        return "250 2.0.0 Ok: queued"


@pytest.fixture
def sessions(database_url):  # type: ignore[no-untyped-def]
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


def queue(sessions, count: int) -> list[str]:  # type: ignore[no-untyped-def]
    ids = [f"m{i}@club.test" for i in range(count)]
    with sessions.begin() as session:
        for i, message_id in enumerate(ids):
            recipient = ERASED if i == 2 else f"membre{i}@membres.test"
            session.add(OutboxMail(idempotency_key=message_id, message_id=message_id, kind="ack",
                                   sender="aide@club.test", recipient=recipient, subject=f"Demande {i}",
                                   body=(f"From: aide@club.test\r\nTo: {recipient}\r\nMessage-ID: <{message_id}>\r\n"
                                         f"Subject: Demande {i}\r\n\r\nBonjour\r\n").encode(),
                                   next_attempt_at=NOW, created_at=NOW, scrub_after_send=i == 2))
    return ids


def sender_for(database_url: str, sessions, handler: Watching):  # type: ignore[no-untyped-def]
    controller = Controller(handler, hostname=LOOPBACK, port=free_port())
    controller.start()
    env = {"MAILBOT_DATABASE_URL": database_url, "MAILBOT_CLUB_ADDRESS": "aide@club.test",
           "MAILBOT_AIDEUR_ADDRESSES": "aideur@club.test", "MAILBOT_SECRET_KEY": "sender-records-0123456789",
           "MAILBOT_SMTP_HOST": LOOPBACK, "MAILBOT_SMTP_PORT": str(controller.port), "MAILBOT_SMTP_SECURITY": "none"}
    settings = load_settings(env, env_file=None)
    return controller, Sender(settings.smtp, sessions, max_attempts=5, timeout=10, clock=lambda: NOW)


def test_each_mail_is_recorded_sent_before_the_next_is_handed_over(database_url, sessions):
    ids = queue(sessions, 6)
    handler = Watching(sessions)
    controller, sender = sender_for(database_url, sessions, handler)
    try:
        result = sender.flush()
    finally:
        controller.stop()
    assert result.sent == 6 and not result.failed and not result.deferred and not result.unreachable
    assert handler.received == ids  # each once, in order
    for position, (message_id, statuses) in enumerate(handler.seen):
        assert message_id == ids[position]
        # The mail being handed over is `sending`; every earlier one is recorded `sent` (the one just before in the
        # commit that claimed this one); the later ones wait.
        assert statuses == {other: "sent" if n < position else "sending" if n == position else "pending"
                            for n, other in enumerate(ids)}, (position, statuses)
    with sessions() as session:
        rows = {row.message_id: row for row in session.scalars(select(OutboxMail))}
    assert {row.status for row in rows.values()} == {"sent"}
    assert all(row.sent_at == NOW and row.attempts == 1 for row in rows.values())
    # The erased member's mail (the third) is blanked once sent, whether recorded with a claim or on its own.
    erased = rows[ids[2]]
    assert (erased.recipient, erased.body, erased.subject) == ("membre-efface@invalid", b"", "")
    assert rows[ids[1]].recipient == "membre1@membres.test" and rows[ids[1]].body


def test_the_last_mail_before_a_failure_is_recorded_sent(database_url, sessions):
    ids = queue(sessions, 5)
    handler = Watching(sessions, refuse_at=3)
    controller, sender = sender_for(database_url, sessions, handler)
    try:
        result = sender.flush()
    finally:
        controller.stop()
    assert result.sent == 2 and result.deferred == 1 and result.unreachable
    assert handler.received == ids[:2]
    with sessions() as session:
        rows = {row.message_id: (row.status, row.attempts) for row in session.scalars(select(OutboxMail))}
    assert rows == {ids[0]: ("sent", 1), ids[1]: ("sent", 1), ids[2]: ("pending", 1), ids[3]: ("pending", 0),
                    ids[4]: ("pending", 0)}


class Sessions(Watching):
    """Also notes which SMTP session (connection) each mail came on."""

    def __init__(self, sessions) -> None:  # type: ignore[no-untyped-def]
        super().__init__(sessions)
        self.connections: list[object] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.connections.append(session.peer)  # the client's port: one per connection
        return await super().handle_DATA(server, session, envelope)


def add_one(sessions, message_id: str) -> None:  # type: ignore[no-untyped-def]
    with sessions.begin() as session:
        session.add(OutboxMail(idempotency_key=message_id, message_id=message_id, kind="ack", sender="aide@club.test",
                               recipient="membre@membres.test", subject="Demande",
                               body=f"From: aide@club.test\r\nMessage-ID: <{message_id}>\r\n\r\nBonjour\r\n".encode(),
                               next_attempt_at=NOW, created_at=NOW))


def test_a_kept_connection_serves_the_next_flushes_and_a_dead_one_is_replaced(database_url, sessions):
    handler = Sessions(sessions)
    controller, sender = sender_for(database_url, sessions, handler)
    port = controller.port
    sender.keep_connection = True
    try:
        assert sender.flush().sent == 0  # nothing due: no connection at all
        for n in range(3):
            add_one(sessions, f"kept{n}@club.test")
            assert sender.flush().sent == 1
        assert len(handler.received) == 3 and len(set(handler.connections)) == 1
        controller.stop()  # the server goes away while the connection is idle, and comes back
        controller = Controller(handler, hostname=LOOPBACK, port=port)
        controller.start()
        add_one(sessions, "after@club.test")
        result = sender.flush()
        assert (result.sent, result.deferred, result.unreachable) == (1, 0, "")  # not sent on the dead connection
        assert handler.received[-1] == "after@club.test" and len(set(handler.connections)) == 2
    finally:
        sender.close()
        controller.stop()
    with sessions() as session:
        assert set(session.scalars(select(OutboxMail.status))) == {"sent"}
