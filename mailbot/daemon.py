"""The daemon's loop: wait for mail, process it in UID order, send what was decided, and never give up.

IMAP and SMTP outages are waited out with backoff; a database outage stops the batch (mail stays in the
mailbox) and is retried; SIGTERM finishes the current mail and stops cleanly.
"""
from __future__ import annotations

import logging
import signal
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from mailbot.compose import TemplateRenderer
from mailbot.config import Settings
from mailbot.dispatch import BackgroundSending, Dispatcher
from mailbot.mailbox import IMAP_CONNECTION_ERRORS, Mailbox, batches
from mailbot.models import MailboxPurge, utcnow
from mailbot.outbox import Outbox
from mailbot.pipeline import PROCESSED, QUARANTINED, Pipeline, TransientError
from mailbot.scheduler import run_jobs, start_background
from mailbot.sender import recover_interrupted
from mailbot.tokens import TokenSigner

log = logging.getLogger(__name__)

RECONNECT_MAX_SECONDS = 300
BACKGROUND_SENDING_ABOVE = 100  # mails waiting; below this a helper process costs more than it saves


@dataclass
class CycleReport:
    processed: int = 0
    quarantined: int = 0
    actions: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    sent: int = 0
    send_problem: str = ""
    jobs: dict[str, int] = field(default_factory=dict)


class Shutdown(Exception):
    """Raised from the SIGTERM handler while the daemon is only waiting, so it stops at once."""


class Daemon:
    def __init__(self, settings: Settings, sessions: sessionmaker[Session], *,
                 clock: Callable[[], datetime] = utcnow, fixed_now: datetime | None = None) -> None:
        if settings.imap is None or settings.smtp is None:
            raise ValueError("the daemon needs MAILBOT_IMAP_HOST and MAILBOT_SMTP_HOST")
        self.settings = settings
        self.sessions = sessions
        self.clock = clock
        self.signer = TokenSigner(settings.secret_keys)
        self.outbox = Outbox(settings, self.signer, TemplateRenderer())
        self.pipeline = Pipeline(settings, sessions, self.signer, self.outbox, clock)
        self.dispatcher = Dispatcher(settings, sessions, clock, signer=self.signer, outbox=self.outbox)
        self.fixed_now = fixed_now
        self.mailbox = Mailbox(settings.imap, settings.imap_folder)
        self._connected = False
        self._stopping = False
        self._waiting = False

    # --- lifecycle --------------------------------------------------------------------------------------------
    def start(self) -> None:
        recovered = recover_interrupted(self.sessions)
        if recovered:
            log.warning("%d mail(s) were being sent when mailbot stopped: they will be sent again", recovered)

    def connect(self) -> None:
        self.mailbox.connect()
        for folder in (self.settings.processed_folder, self.settings.quarantine_folder):
            self.mailbox.ensure_folder(folder)
        self._connected = True

    def disconnect(self) -> None:
        self.mailbox.close()
        self._connected = False

    # --- one cycle --------------------------------------------------------------------------------------------
    def cycle(self, *, with_jobs: bool = True) -> CycleReport:
        """Everything pending now: mail in, decisions committed, jobs due, mail out."""
        report = CycleReport()
        if not self._connected:
            self.connect()
        self.mailbox.select()
        folder, uidvalidity = self.settings.imap_folder, self.mailbox.uidvalidity
        sizes = self.mailbox.sizes()
        done = self.pipeline.checkpoint(folder, uidvalidity)
        self._move_committed([uid for uid, _ in sizes if uid <= done], uidvalidity)
        waiting = [(uid, size) for uid, size in sizes if uid > done]
        # A large backlog (after downtime, or the first start on a full mailbox): a helper process sends
        # what is decided while this one goes on processing (see dispatch.py).
        helper = BackgroundSending(self.settings, self.fixed_now, enabled=len(waiting) > BACKGROUND_SENDING_ABOVE)
        with helper:
            for batch in batches(waiting, self.settings.batch_size, self.settings.batch_bytes):
                self._process_batch(batch, folder, uidvalidity, report)
                if self._stopping:
                    break
        report.sent += helper.sent
        if self._stopping:
            return report
        self._purge()
        if with_jobs:
            report.jobs = self.run_jobs()
        self._send(report)
        return report

    def _process_batch(self, batch: list[int], folder: str, uidvalidity: int, report: CycleReport) -> None:
        moves: dict[str, list[int]] = defaultdict(list)
        try:
            for fetched in self.mailbox.fetch(batch):
                outcome = self.pipeline.process(fetched.raw, folder=folder, uidvalidity=uidvalidity, uid=fetched.uid)
                moves[outcome.destination].append(fetched.uid)
                report.actions[outcome.action] += 1
                if outcome.destination == QUARANTINED:
                    report.quarantined += 1
                else:
                    report.processed += 1
                if self._stopping:
                    break
        finally:
            self._move(moves)  # what is committed leaves the inbox, even if the batch stopped halfway

    def _purge(self) -> None:
        """Delete from the mailbox the raw mails of erased members (recorded by the erasure, done here: this module
        owns IMAP). Marked done only once the server has expunged them; a failure is retried next cycle."""
        with self.sessions() as session:
            pending = session.execute(select(MailboxPurge.id, MailboxPurge.message_id)
                                      .where(MailboxPurge.done_at.is_(None))).all()
        if not pending:
            return
        folders = [self.settings.processed_folder, self.settings.quarantine_folder, self.settings.imap_folder]
        deleted = self.mailbox.delete_everywhere([message_id for _, message_id in pending], folders)
        with self.sessions.begin() as session:
            session.execute(update(MailboxPurge).where(MailboxPurge.id.in_([i for i, _ in pending]))
                            .values(done_at=self.clock()))
        log.info("erasure: %d mail(s) deleted from the mailbox", deleted)

    def run_jobs(self) -> dict[str, int]:
        return run_jobs(self.sessions, self.settings, self.signer, self.outbox, self.clock())

    def _jobs_tick(self) -> None:
        """From the scheduler's thread: due jobs, then send what they decided."""
        try:
            self.run_jobs()
            self.dispatcher.flush()
        except Exception:  # noqa: BLE001 - a failed tick is retried at the next one; the daemon goes on
            log.exception("scheduled jobs failed; retrying at the next tick")

    def _move(self, moves: dict[str, list[int]]) -> None:
        targets = {PROCESSED: self.settings.processed_folder, QUARANTINED: self.settings.quarantine_folder}
        for destination, uids in moves.items():
            self.mailbox.move(uids, targets[destination])

    def _move_committed(self, uids: list[int], uidvalidity: int) -> None:
        """Mail whose effects were committed before a crash, but which was never moved: move it now."""
        moves: dict[str, list[int]] = defaultdict(list)
        for uid in uids:
            moves[self.pipeline.committed_destination(self.settings.imap_folder, uidvalidity, uid)].append(uid)
        self._move(moves)

    def _send(self, report: CycleReport) -> None:
        result = self.dispatcher.flush()
        report.sent += result.sent
        if result.unreachable:
            report.send_problem = result.unreachable

    # --- forever ----------------------------------------------------------------------------------------------
    def run_forever(self) -> None:
        self._install_signal_handlers()
        self.start()
        scheduler = start_background(self.settings.jobs_seconds, self._jobs_tick)
        try:
            self._loop()
        finally:
            scheduler.shutdown(wait=True)
            self.disconnect()
        log.info("mailbot stopped")

    def _loop(self) -> None:
        delay = 1.0
        while not self._stopping:
            try:
                self.cycle(with_jobs=False)
                delay = 1.0
                if not self._stopping:
                    self._wait()
            except Shutdown:
                break
            except TransientError as error:
                log.error("database unavailable, retrying in %.0f s: %s", delay, error)
                delay = self._pause(delay)
            except IMAP_CONNECTION_ERRORS as error:
                log.error("IMAP problem, reconnecting in %.0f s: %s", delay, error)
                self.disconnect()
                delay = self._pause(delay)

    def _wait(self) -> None:
        """IDLE until mail arrives (or the poll interval passes, to retry deferred sends)."""
        self._waiting = True
        try:
            if self.settings.use_idle and self.mailbox.supports_idle():
                self.mailbox.wait_for_mail(self.settings.poll_seconds)
            else:
                time.sleep(self.settings.poll_seconds)
        finally:
            self._waiting = False

    def _pause(self, delay: float) -> float:
        self._waiting = True
        try:
            time.sleep(delay)
        except Shutdown:
            self._stopping = True
        finally:
            self._waiting = False
        return min(delay * 2, RECONNECT_MAX_SECONDS)

    def _install_signal_handlers(self) -> None:
        def stop(signum: int, _frame: object) -> None:
            log.info("signal %d: stopping after the current mail", signum)
            self._stopping = True
            if self._waiting:
                raise Shutdown()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
