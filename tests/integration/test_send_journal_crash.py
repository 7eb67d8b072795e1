"""On SQLite a sender claims a batch of rows and records their sends together at the batch's end (mailbot.sendjournal).
A sender killed mid-batch must still send nothing twice but the one mail in hand: the mails the server had accepted
are recorded from the journal at the next start — or at the daemon's next cycle when only its helper died — and
the rows claimed and not handed over go back untouched. A session lost mid-batch, or a sender told to stop, leaves
nothing `sending` and no journal behind. An orphaned helper finishing its last mail while the next daemon starts
keeps its rows; a member erased while their mail waits in a claimed batch gets nothing.

A real SQLite file, a real sending process (SIGKILLed by the SMTP server itself at the chosen mail, after storing it
and before answering: the server has it, the sender never learns it), a local aiosmtpd server that counts copies."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable
from datetime import datetime

import pytest
from sqlalchemy import select

from mailbot import sendjournal
from mailbot.config import ServerSettings
from mailbot.dev.devserver import LOOPBACK
from mailbot.members import erase_address
from mailbot.models import OutboxMail
from mailbot.sender import CLAIM_BATCH, Sender, recover_interrupted
from tests.helpers import loopback_smtp, queue_acks, smtp_settings

NOW = datetime(2026, 12, 3, 10, 0)
MAILS = CLAIM_BATCH + 10  # a batch and part of the next
KILL_AT = 7  # the server has mails 1-7; the sender saw 1-6 accepted

CHILD = """
import sys
from datetime import datetime
from mailbot.config import load_settings
from mailbot.db import make_engine, make_session_factory
from mailbot.sender import Sender
url, port = sys.argv[1], sys.argv[2]
settings = load_settings({"MAILBOT_DATABASE_URL": url, "MAILBOT_CLUB_ADDRESS": "aide@club.test",
    "MAILBOT_AIDEUR_ADDRESSES": "aideur@club.test", "MAILBOT_SECRET_KEY": "journal-crash-0123456789",
    "MAILBOT_SMTP_HOST": "127.0.0.1", "MAILBOT_SMTP_PORT": port, "MAILBOT_SMTP_SECURITY": "none"}, env_file=None)
Sender(settings.smtp, make_session_factory(make_engine(url)), max_attempts=5, timeout=10,
       clock=lambda: datetime(2026, 12, 3, 10, 0)).flush()
"""


class Server:
    """Counts each recipient's copies; at the n-th mail, before answering: kills a process, answers 421, runs a hook,
    or waits for a gate."""

    def __init__(self) -> None:
        self.copies: Counter[str] = Counter()
        self.kill_pid = 0
        self.kill_at = 0
        self.refuse_at = 0
        self.hooks: dict[int, Callable[[], None]] = {}
        self.gates: dict[int, threading.Event] = {}
        self.reached: dict[int, threading.Event] = {}

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.copies[envelope.rcpt_tos[0]] += 1
        total = sum(self.copies.values())
        self._reached(total).set()
        if total == self.kill_at and self.kill_pid:
            os.kill(self.kill_pid, signal.SIGKILL)  # stored, never answered
            return "451 stopping"
        if total == self.refuse_at:
            return "421 4.3.2 going down"
        if total in self.hooks:
            self.hooks[total]()
        while total in self.gates and not self.gates[total].is_set():
            await asyncio.sleep(0.01)
        return "250 OK"

    def _reached(self, number: int) -> threading.Event:
        return self.reached.setdefault(number, threading.Event())

    def wait_for(self, number: int) -> None:
        assert self._reached(number).wait(30), f"mail {number} never reached the server"


@pytest.fixture
def smtp():  # type: ignore[no-untyped-def]
    handler = Server()
    with loopback_smtp(handler) as controller:
        yield controller, handler


def _settings(url: str, port: int) -> ServerSettings:
    return smtp_settings(url, LOOPBACK, port)


def _queue(sessions, count: int) -> list[str]:  # type: ignore[no-untyped-def]
    recipients = [f"membre{number:02d}@example.fr" for number in range(1, count + 1)]
    queue_acks(sessions, recipients, NOW)
    return recipients


def _rows(sessions) -> dict[str, OutboxMail]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return {row.recipient: row for row in session.scalars(select(OutboxMail))}


@pytest.mark.parametrize("at_start", [True, False], ids=["next start", "daemon's next cycle"])
def test_a_sender_killed_mid_batch_sends_again_only_the_mail_in_hand(sqlite_url, sessions_for, smtp,  # type: ignore[no-untyped-def]
                                                                     at_start) -> None:
    controller, server = smtp
    sessions = sessions_for(sqlite_url)
    recipients = _queue(sessions, MAILS)
    child = subprocess.Popen([sys.executable, "-c", CHILD, sqlite_url, str(controller.port)])
    server.kill_pid, server.kill_at = child.pid, KILL_AT
    assert child.wait(timeout=60) == -signal.SIGKILL
    rows = _rows(sessions)
    # The batch was not recorded yet: without the journal, the start could not tell 1-6 from 7.
    assert sum(row.status == "sending" for row in rows.values()) == CLAIM_BATCH

    # The daemon starts again, or (its helper sending process died) goes on to its next cycle.
    assert recover_interrupted(sessions, at_start=at_start) == 1
    Sender(_settings(sqlite_url, controller.port), sessions, max_attempts=5, timeout=10, clock=lambda: NOW).flush()

    rows = _rows(sessions)
    assert {row.status for row in rows.values()} == {"sent"}
    in_hand = recipients[KILL_AT - 1]
    assert server.copies == Counter({recipient: 2 if recipient == in_hand else 1 for recipient in recipients})
    assert {r: row.interrupted_sends for r, row in rows.items() if row.interrupted_sends} == {in_hand: 1}
    # The rows claimed and never handed over were not counted as tries.
    assert all(rows[recipient].attempts == 1 for recipient in recipients[KILL_AT:CLAIM_BATCH])
    directory = sendjournal.directory_for(sessions.kw["bind"])
    assert directory is not None and list(directory.iterdir()) == []


def test_a_session_lost_mid_batch_leaves_nothing_sending(sqlite_url, sessions_for, smtp) -> None:  # type: ignore[no-untyped-def]
    controller, server = smtp
    server.refuse_at = 5
    sessions = sessions_for(sqlite_url)
    recipients = _queue(sessions, MAILS)
    result = Sender(_settings(sqlite_url, controller.port), sessions, max_attempts=5, timeout=10,
                    clock=lambda: NOW).flush()
    assert result.sent == 4 and result.deferred == 1 and result.unreachable
    rows = _rows(sessions)
    assert [rows[r].status for r in recipients[:4]] == ["sent"] * 4
    assert (rows[recipients[4]].status, rows[recipients[4]].attempts) == ("pending", 1)  # deferred, with backoff
    assert rows[recipients[4]].next_attempt_at > NOW
    assert all((rows[r].status, rows[r].attempts) == ("pending", 0) for r in recipients[5:])  # released, untried
    assert not any(row.interrupted_sends for row in rows.values())
    directory = sendjournal.directory_for(sessions.kw["bind"])
    assert directory is not None and list(directory.iterdir()) == []


def test_a_sender_told_to_stop_releases_what_it_has_not_handed_over(sqlite_url, sessions_for, smtp) -> None:  # type: ignore[no-untyped-def]
    controller, server = smtp
    sessions = sessions_for(sqlite_url)
    recipients = _queue(sessions, MAILS)
    result = Sender(_settings(sqlite_url, controller.port), sessions, max_attempts=5, timeout=10, clock=lambda: NOW,
                    keep_going=lambda: sum(server.copies.values()) < 3).flush()
    assert result.sent == 3
    rows = _rows(sessions)
    assert [rows[r].status for r in recipients[:3]] == ["sent"] * 3
    assert all((rows[r].status, rows[r].attempts) == ("pending", 0) for r in recipients[3:])
    directory = sendjournal.directory_for(sessions.kw["bind"])
    assert directory is not None and list(directory.iterdir()) == []


def test_an_orphaned_helper_keeps_its_rows_while_the_next_daemon_starts(sqlite_url, sessions_for, smtp) -> None:  # type: ignore[no-untyped-def]
    controller, server = smtp
    sessions = sessions_for(sqlite_url)
    recipients = _queue(sessions, 5)
    settings = _settings(sqlite_url, controller.port)
    parent_alive = threading.Event()
    parent_alive.set()
    server.gates = {1: threading.Event()}
    orphan = Sender(settings, sessions_for(sqlite_url), max_attempts=5, timeout=30, clock=lambda: NOW,
                    keep_going=parent_alive.is_set, keep_open=True)
    helper = threading.Thread(target=orphan.flush)
    helper.start()
    try:
        server.wait_for(1)  # the helper has mail 1 in hand, mails 2-5 claimed
        parent_alive.clear()  # its daemon dies; the next one starts and sends
        assert recover_interrupted(sessions) == 0
        daemon = Sender(settings, sessions, max_attempts=5, timeout=10, clock=lambda: NOW)
        assert daemon.flush().sent == 0  # the rows are the helper's still
    finally:
        server.gates[1].set()  # the server answers the helper's last mail: it records it and lets the rest go
        helper.join(30)
        orphan.close()
    assert recover_interrupted(sessions, at_start=False) == 0
    assert daemon.flush().sent == 4
    rows = _rows(sessions)
    assert {row.status for row in rows.values()} == {"sent"}
    assert server.copies == Counter(recipients)  # each once
    assert not any(row.interrupted_sends for row in rows.values())


def test_a_member_erased_while_their_mail_waits_in_a_batch_gets_nothing(sqlite_url, sessions_for, smtp) -> None:  # type: ignore[no-untyped-def]
    controller, server = smtp
    sessions = sessions_for(sqlite_url)
    recipients = _queue(sessions, 5)
    erasing = sessions_for(sqlite_url)

    def erase() -> None:  # "effacer mes données", handled by the daemon while its helper has mail 1 in hand
        with erasing.begin() as session:
            erase_address(session, recipients[2], now=NOW)

    server.hooks = {1: erase}
    result = Sender(_settings(sqlite_url, controller.port), sessions, max_attempts=5, timeout=10,
                    clock=lambda: NOW).flush()
    assert result.sent == 4
    assert server.copies == Counter(recipients[:2] + recipients[3:])  # nothing to the erased address, nor a blank
    cancelled = [row for row in _rows(sessions).values() if row.status != "sent"]
    assert [(row.status, row.body) for row in cancelled] == [("failed", b"")]
    assert cancelled[0].last_error.startswith("annulé")


def test_a_stale_claim_in_a_dead_journal_never_touches_a_live_claim_of_the_same_row(sqlite_url, sessions_for,  # type: ignore[no-untyped-def]
                                                                                   smtp) -> None:
    controller, server = smtp
    sessions = sessions_for(sqlite_url)
    recipients = _queue(sessions, 3)
    directory = sendjournal.directory_for(sessions.kw["bind"])
    assert directory is not None
    # Left by a claim that never committed (its process killed between the line and the commit): row 1, attempts 1.
    directory.mkdir()
    (directory / "1-1-1-dead").write_text("c 1 1\n")
    settings = _settings(sqlite_url, controller.port)
    server.gates = {1: threading.Event()}
    live = Sender(settings, sessions_for(sqlite_url), max_attempts=5, timeout=30, clock=lambda: NOW)
    sending = threading.Thread(target=live.flush)
    sending.start()
    try:
        server.wait_for(1)  # the same row claimed for real, (1, 1) again, and in hand
        assert recover_interrupted(sessions, at_start=False) == 0  # the daemon's next cycle
        assert _rows(sessions)[recipients[0]].status == "sending"  # left to its live sender
    finally:
        server.gates[1].set()
        sending.join(30)
    Sender(settings, sessions, max_attempts=5, timeout=10, clock=lambda: NOW).flush()
    assert server.copies == Counter(recipients)  # each once
    assert {row.status for row in _rows(sessions).values()} == {"sent"}
