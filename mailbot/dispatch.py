"""Sending what the outbox holds: in the daemon's own process, or from a helper process during a large backlog.

Parsing, the database and sending are all Python work and share one interpreter lock: a thread gains nothing
(measured: 16.1 s vs 16.3 s for 500 requests). A second process uses the machine's second core, so a backlog
drains faster. Both can run at once safely: each outbox row is claimed by one conditional UPDATE (sender.py).
"""
from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.sharedctypes
import multiprocessing.synchronize
import os
import time
from collections.abc import Callable
from datetime import datetime
from typing import Self

from sqlalchemy.orm import Session, sessionmaker

from mailbot.compose import TemplateRenderer
from mailbot.config import Settings
from mailbot.db import make_engine, make_session_factory
from mailbot.models import OutboxMail, Ticket, utcnow
from mailbot.outbox import Outbox
from mailbot.sender import FlushResult, Sender, redact
from mailbot.tokens import TokenSigner
from mailbot.workflows import notices
from mailbot.workflows.base import WorkflowContext

log = logging.getLogger(__name__)
# Flushes in one Dispatcher.flush: the first, then one to send the alerts its refusals queued (and whatever became
# due meanwhile), and so on while new refusals come back.
ALERT_ROUNDS = 4


class Dispatcher:
    """Flush the outbox; a mail refused for good becomes an alert to Aideur (itself sent at once)."""

    def __init__(self, settings: Settings, sessions: sessionmaker[Session], clock: Callable[[], datetime],
                 *, signer: TokenSigner | None = None, outbox: Outbox | None = None,
                 keep_going: Callable[[], bool] = lambda: True, keep_open: bool = False) -> None:
        assert settings.smtp is not None
        self.settings = settings
        self.sessions = sessions
        self.clock = clock
        self.signer = signer or TokenSigner(settings.secret_keys)
        self.outbox = outbox or Outbox(settings, self.signer, TemplateRenderer.for_settings(settings))
        self.sender = Sender(settings.smtp, sessions, max_attempts=settings.smtp_max_attempts,
                             timeout=settings.smtp_timeout, clock=clock, keep_going=keep_going, keep_open=keep_open)

    def close(self) -> None:
        """End the SMTP session and connections a keep_open sender kept between flushes."""
        self.sender.close()

    def flush(self) -> FlushResult:
        """Send what is due; every mail refused for good gets its alert to Aideur queued, and sent by a further
        flush. That flush also sends whatever else became due meanwhile (the daemon goes on storing mail while
        a helper process sends): its own refusals are alerted in turn, never dropped (ALERT_ROUNDS flushes at
        most; an alert queued by the last one goes with the next)."""
        result = FlushResult()
        for round_ in range(ALERT_ROUNDS):
            this = self.sender.flush()
            result.sent += this.sent
            result.deferred += this.deferred
            if this.unreachable:
                log.warning("SMTP unreachable, mail kept for later: %s", redact(this.unreachable))
                result.unreachable = this.unreachable
            if this.journal_error:
                log.error("sending stopped, mail kept for later: %s", this.journal_error)
                result.journal_error = this.journal_error
            if not this.failed:
                break
            result.failed = [*(result.failed or []), *this.failed]
            self._alert_failures(this.failed)
            if this.unreachable or this.journal_error or round_ == ALERT_ROUNDS - 1:
                break  # the alerts wait in the outbox for the next flush
        return result

    def _alert_failures(self, outbox_ids: list[int]) -> None:
        with self.sessions.begin() as session:
            ctx = WorkflowContext(session=session, settings=self.settings, signer=self.signer, now=self.clock())
            for outbox_id in outbox_ids:
                row = session.get(OutboxMail, outbox_id)
                if row is None or self.settings.is_aideur(row.recipient):
                    continue  # an alert about an alert to Aideur would loop; the log has it
                ticket = session.get(Ticket, row.ticket_id) if row.ticket_id else None
                notices.send_failed(ctx, recipient=row.recipient, subject=row.subject, error=row.last_error,
                                    ticket=ticket, outbox_id=row.id)
            self.outbox.store_all(ctx)


def peak_rss_kb() -> int:
    """This process's peak resident memory in KB (Linux: VmHWM), 0 where unknown. Not getrusage's ru_maxrss: a
    process started by a large one (a bench holding its test mails) gets its parent's size at exec in ru_maxrss;
    VmHWM is this process's own memory only."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


class BackgroundSending:
    """For the duration of a `with` block, a helper process flushes the outbox as mail is processed."""

    def __init__(self, settings: Settings, fixed_now: datetime | None, *, enabled: bool) -> None:
        self.enabled = enabled
        self._context = multiprocessing.get_context("spawn")  # never fork a process that has threads
        self._stop = self._context.Event()
        self._sent = self._context.Value("i", 0)
        self._peak = self._context.Value("q", 0)  # the helper's peak memory (KB), set as it ends
        self._cpu = self._context.Value("d", 0.0)  # the helper's CPU seconds, set as it ends
        self._process = self._context.Process(target=_helper_main, name="mailbot-sender", daemon=True,
                                              args=(settings, fixed_now, self._stop, os.getpid(), self._sent,
                                                    self._peak, self._cpu))

    @property
    def sent(self) -> int:
        """Mails the helper sent (read after the block)."""
        return int(self._sent.value) if self.enabled else 0

    @property
    def peak_kb(self) -> int:
        """The helper's peak resident memory in KB (read after the block; 0 when it did not run)."""
        return int(self._peak.value) if self.enabled else 0

    @property
    def cpu_seconds(self) -> float:
        """The helper's CPU time in seconds (read after the block; 0 when it did not run)."""
        return float(self._cpu.value) if self.enabled else 0.0

    def __enter__(self) -> Self:
        if self.enabled:
            self._process.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self._stop.set()
            self._process.join(timeout=120)
            if self._process.is_alive():
                self._process.kill()


def _helper_main(settings: Settings, fixed_now: datetime | None, stop: multiprocessing.synchronize.Event,
                 parent: int, sent: multiprocessing.sharedctypes.Synchronized[int],
                 peak: multiprocessing.sharedctypes.Synchronized[int] | None = None,
                 cpu: multiprocessing.sharedctypes.Synchronized[float] | None = None) -> None:
    engine = make_engine(settings.database_url)
    clock: Callable[[], datetime] = (lambda: fixed_now) if fixed_now is not None else utcnow
    # A killed parent leaves no sender behind: checked between flushes and before each mail of a flush.
    # It flushes every few milliseconds, a mail or two each time: its SMTP session is kept from one to the next.
    dispatcher = Dispatcher(settings, make_session_factory(engine), clock, keep_going=lambda: os.getppid() == parent,
                            keep_open=True)
    try:
        while not stop.is_set() and os.getppid() == parent:
            try:
                result = dispatcher.flush()
            except Exception:  # e.g. a database too busy for too long: log, wait, go on
                log.exception("helper sending process: flush failed, retrying")
                stop.wait(1.0)
                continue
            with sent.get_lock():
                sent.value += result.sent
            if result.unreachable or result.journal_error:
                stop.wait(1.0)
            elif not result.sent:
                stop.wait(0.05)
    finally:
        try:
            dispatcher.close()
        except Exception:  # a QUIT the server does not answer: nothing is lost, the process ends
            log.debug("helper sending process: closing its SMTP session failed", exc_info=True)
        engine.dispose()
        if peak is not None:
            peak.value = peak_rss_kb()
        if cpu is not None:
            cpu.value = time.process_time()
