"""The daemon's loop: wait for mail, process it in UID order, send what was decided, and never give up.

IMAP and SMTP outages are waited out with backoff; a database outage stops the batch (mail stays in the
mailbox) and is retried; SIGTERM finishes the current mail and stops cleanly.

Under systemd (Type=notify, see systemd/mailbot.service) the daemon says READY=1 once it is up, STATUS= what it
is doing, STOPPING=1 on SIGTERM, and feeds the watchdog from its main loop only: between mails, between the slices
of its waits (IDLE, polling, backoff after an outage), and at each step of sending (through its clock, see
`_clock_with_heartbeat`). A call that blocks for good feeds nothing, so systemd kills and restarts the daemon.
"""
from __future__ import annotations

import logging
import math
import signal
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from imap_tools.errors import MailboxLoginError
from sqlalchemy import select, update
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from mailbot import sdnotify
from mailbot.compose import TemplateRenderer
from mailbot.config import ConfigError, Settings
from mailbot.coordination import HEAD_BYTES, MailClaims, MailKeys, WaitingOrder, mail_keys, people_of
from mailbot.dispatch import BackgroundSending, Dispatcher
from mailbot.logs import adapt_to_journal, quiet_libraries, short_error
from mailbot.mailbox import IMAP_CONNECTION_ERRORS, IMAP_REFUSALS, Mailbox, batches, server_answer
from mailbot.metrics import Metrics
from mailbot.models import MailboxPurge, utcnow
from mailbot.oauth import OAuthError
from mailbot.outbox import Outbox
from mailbot.parsers.mime import header_at_start
from mailbot.pipeline import ERASED_COPY, PROCESSED, QUARANTINED, Pipeline, TransientError
from mailbot.scheduler import run_jobs, start_background
from mailbot.sender import recover_interrupted
from mailbot.sendjournal import JournalError
from mailbot.tokens import TokenSigner

log = logging.getLogger(__name__)

RECONNECT_MAX_SECONDS = 300
BACKGROUND_SENDING_ABOVE = 100  # mails waiting; below this a helper process costs more than it saves
# Waits are cut in slices of this share of the watchdog period, so that a slice plus the work around it (an IDLE
# DONE round trip, a cycle) still lands well within the period.
WAIT_SLICE_SHARE = 0.75
# A mail waiting for an earlier one another daemon holds: looked at again after this pause, for at most this long
# without any progress in a cycle (then the next cycle, soon after: see _wait).
DEFER_PAUSE_SECONDS = 0.2
DEFER_WAIT_SECONDS = 10.0
DEFER_CYCLE_SECONDS = 60.0  # and the rounds of one cycle stop after this long, progress or not
# Scheduled jobs (reminders, expiries, deadlines) act on the state every mail that arrived before them made: they
# wait while an intake leaves mail open in the inbox (held by another daemon, or waiting for such a mail), at most
# this long — a daemon stuck on a mail never holds the club's reminders back for good.
JOBS_WAIT_SECONDS = 300.0


SMTP_UNREACHABLE, JOURNAL_UNWRITABLE = "SMTP unreachable", "send journal unwritable"


@dataclass
class CycleReport:
    processed: int = 0
    quarantined: int = 0
    deferred: int = 0  # left in the inbox at the end: they wait for an earlier mail another daemon holds
    held_elsewhere: int = 0  # in the last round: mails another daemon held (being handled there)
    actions: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    sent: int = 0
    send_problem: str = ""  # why sending stopped this cycle (the error), and what stopped it, in a few words:
    send_stopped_by: str = ""  # SMTP_UNREACHABLE or JOURNAL_UNWRITABLE (a full disk on this machine)
    jobs: dict[str, int] = field(default_factory=dict)
    helper_peak_kb: int = 0  # the helper sending process's peak memory, when one ran
    helper_cpu_seconds: float = 0.0  # the helper sending process's CPU time, when one ran


class JobsGate:
    """When the scheduled jobs (reminders, expiries, deadlines) may run: after the mail that arrived before them, as
    one daemon taking its inbox in, then running its jobs, would act. Never during an intake (`intake()`: held by
    the cycle, taken by the scheduler's thread), nor before this daemon's first intake, nor while the last one left
    mail open in the inbox — held by another daemon, or waiting for such a mail (`note`) — for at most
    JOBS_WAIT_SECONDS: a daemon stuck on a mail never holds the club's reminders back for good."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # Since when mail may be open in the inbox: from the start, until an intake has looked.
        self._open_since: float | None = time.monotonic()

    def intake(self) -> threading.Lock:
        return self._lock

    def taking_in(self) -> None:
        """An intake begins: until it ends, mail it listed may be open."""
        self._open_since = time.monotonic() if self._open_since is None else self._open_since

    def note(self, report: CycleReport) -> None:
        """After an intake: whether it left mail open in the inbox."""
        if report.deferred or report.held_elsewhere:
            self.taking_in()  # open since it was first seen so
        else:
            self._open_since = None

    def may_run(self) -> bool:
        if self._open_since is None:
            return True
        waited = time.monotonic() - self._open_since
        if waited < JOBS_WAIT_SECONDS:
            log.info("scheduled jobs wait: mail not taken in yet, or open in the inbox (another daemon's), "
                     "for %.0f s", waited)
            return False
        log.warning("scheduled jobs run although mail has been open in the inbox for %.0f s (another daemon's)",
                    waited)
        return True


class Shutdown(Exception):
    """Raised from the SIGTERM handler while the daemon is only waiting, so it stops at once."""


class Daemon:
    def __init__(self, settings: Settings, sessions: sessionmaker[Session], *,
                 clock: Callable[[], datetime] = utcnow, fixed_now: datetime | None = None) -> None:
        if settings.imap is None or settings.smtp is None:
            raise ValueError("the daemon needs MAILBOT_IMAP_HOST and MAILBOT_SMTP_HOST")
        self.settings = settings
        self.sessions = sessions
        self._watchdog_every = sdnotify.watchdog_interval()  # None: systemd expects no WATCHDOG=1
        self._fed_at = -math.inf
        self.clock = self._clock_with_heartbeat(clock)
        self.signer = TokenSigner(settings.secret_keys)
        self.outbox = Outbox(settings, self.signer, TemplateRenderer.for_settings(settings))
        self.pipeline = Pipeline(settings, sessions, self.signer, self.outbox, self.clock)
        self.dispatcher = Dispatcher(settings, sessions, self.clock, signer=self.signer, outbox=self.outbox)
        self.fixed_now = fixed_now
        self.mailbox = Mailbox(settings.imap, settings.imap_folder)
        self.claims = MailClaims(sessions.kw["bind"])  # several daemons: each mail is fetched by one of them
        self._keys_cache: dict[int, MailKeys] = {}  # the order keys of the mails waiting in the inbox, by UID
        self._keys_validity = 0
        # Always counted (cheap); served over HTTP only with MAILBOT_METRICS_ADDRESS (run_forever). A cycle waits
        # up to the poll interval for mail, so /healthz allows two of them and the slowest sends before it says 503.
        self.metrics = Metrics(sessions.kw["bind"], clock,
                               stale_after=2 * settings.poll_seconds + 2 * settings.smtp_timeout + 60)
        self._connected = False
        self._logged_in_once = False  # a login refused before any success is a wrong setting: stop, say which
        self._stopping = False
        self._waiting = False
        self._ready = False
        self.handled = 0  # since the start, for STATUS=
        self.sent = 0
        self._counter_lock = threading.Lock()
        self.jobs_gate = JobsGate()
        # Commands the server refused (what, folder), said once at ERROR until they work again (see _refused).
        self._refusals: set[tuple[str, str]] = set()

    # --- lifecycle --------------------------------------------------------------------------------------------
    def start(self) -> None:
        try:
            recovered = recover_interrupted(self.sessions)
        except JournalError as error:  # mail can still come in; each cycle tries again before sending
            log.error("sending stopped, mail kept for later: %s", error)
            return
        if recovered:
            log.warning("%d mail(s) were being sent when mailbot stopped: they will be sent again", recovered)

    def connect(self) -> None:
        self.mailbox.connect()
        for folder in (self.settings.processed_folder, self.settings.quarantine_folder):
            try:
                self.mailbox.ensure_folder(folder)
            except IMAP_REFUSALS as error:
                # Refused (NO [NOPERM], [OVERQUOTA]…): mail is still taken in, committed and answered; it waits in
                # the inbox, and each move tries to create the folder again (Mailbox.move, TRYCREATE).
                self._refused("create", folder, error)
        self._connected = True
        self.metrics.observe_connected(True)
        self._logged_in_once = True
        self._announce_ready()

    def disconnect(self) -> None:
        self.mailbox.close()
        self._connected = False
        self.metrics.observe_connected(False)

    # --- one cycle --------------------------------------------------------------------------------------------
    def cycle(self, *, with_jobs: bool = True) -> CycleReport:
        """Everything pending now: mail in, decisions committed, jobs due, mail out."""
        report = CycleReport()
        if not self._connected:
            self.connect()
        self.mailbox.select()
        # A large backlog (after downtime, or the first start on a full mailbox): a helper process sends
        # what is decided while this one goes on processing (see dispatch.py).
        sizes = self.mailbox.sizes()
        done = self.pipeline.checkpoint(self.settings.imap_folder, self.mailbox.uidvalidity)
        backlog = sum(1 for uid, _ in sizes if uid > done)
        helper = BackgroundSending(self.settings, self.fixed_now, enabled=backlog > BACKGROUND_SENDING_ABOVE)
        with helper, self.jobs_gate.intake():
            self.jobs_gate.taking_in()  # an intake cut short (IMAP, the database) leaves its mail open
            self._intake(report, sizes, done)
            self.jobs_gate.note(report)
        report.sent += helper.sent
        report.helper_peak_kb = max(report.helper_peak_kb, helper.peak_kb)
        report.helper_cpu_seconds += helper.cpu_seconds
        self.metrics.observe_sends(sent=helper.sent)
        if self._stopping:
            return report
        self._purge()
        if with_jobs and self.jobs_gate.may_run():
            report.jobs = self.run_jobs()
        self._send(report)
        try:
            quarantined = self.mailbox.count(self.settings.quarantine_folder)
        except IMAP_REFUSALS as error:  # STATUS refused: the gauge keeps its last value
            self._refused("count the mails of", self.settings.quarantine_folder, error)
        else:
            self.metrics.observe_cycle(quarantined)
        return report

    def _intake(self, report: CycleReport, sizes: list[tuple[int, int]], done: int) -> None:
        """Rounds of `_round` until no mail is left deferred for an earlier one (see coordination.WaitingOrder). A
        round that commits nothing while mails wait on other daemons' is followed by a short pause; after
        DEFER_WAIT_SECONDS without progress the cycle ends and the next one looks again (bounded waiting: a daemon
        stuck on the earlier mail never holds this one back for good)."""
        stalled_since: float | None = None
        began = time.monotonic()
        listed: tuple[list[tuple[int, int]], int] | None = (sizes, done)  # the cycle's own listing, for round one
        people: dict[str, str] = {}  # who is who, as the cycle's rounds found it (coordination.people_of)
        while True:
            handled = report.processed + report.quarantined
            deferred = self._round(report, listed, people)
            listed = None
            report.deferred = deferred
            if self._stopping or not deferred:
                return
            now = time.monotonic()
            if now - began >= DEFER_CYCLE_SECONDS:
                break  # mail keeps coming while one waits: the jobs and the sends of this cycle come first
            if report.processed + report.quarantined > handled:
                stalled_since = None
                continue
            stalled_since = now if stalled_since is None else stalled_since
            if now - stalled_since >= DEFER_WAIT_SECONDS:
                break
            self._feed()
            time.sleep(DEFER_PAUSE_SECONDS)
        log.info("%d mail(s) wait for earlier mail another daemon holds: left for the next cycle", report.deferred)

    def _round(self, report: CycleReport, listed: tuple[list[tuple[int, int]], int] | None = None,
               people: dict[str, str] | None = None) -> int:
        """One pass over the inbox: what is committed moves, what is ready is processed in UID order; returns how
        many mails were deferred because they depend on an earlier mail not committed yet."""
        folder, uidvalidity = self.settings.imap_folder, self.mailbox.uidvalidity
        if listed is None:
            listed = self.mailbox.sizes(), self.pipeline.checkpoint(folder, uidvalidity)
        sizes, done = listed
        inbox = [uid for uid, _ in sizes]
        # Records exist only at or below the checkpoint (it is the highest UID committed when it was read); one
        # committed above it since is taken for waiting: at worst a mail waits one round more.
        below = [uid for uid in inbox if uid <= done]
        recorded = self.pipeline.committed_destinations(folder, uidvalidity, below)
        unrecorded = self._move_committed(below, uidvalidity, recorded)
        waiting = [(uid, size) for uid, size in sizes if uid > done or uid in unrecorded]
        # Below the checkpoint, neither committed nor ours: another daemon holds it (a later mail moved the
        # checkpoint past it); the order still waits for it (its keys are read below), and so do the jobs.
        report.held_elsewhere = sum(1 for uid in below if uid not in recorded and uid not in unrecorded)
        if not waiting:
            return 0
        sdnotify.status(f"traitement de {len(waiting)} courrier(s)")
        # Every mail of the inbox not committed, whoever holds it (this daemon, another, nobody yet), is a possible
        # earlier mail: the order is read from their headers (cached, a UID's headers never change). Without claims
        # (SQLite: one daemon per database) this daemon holds them all and takes them in UID order: nothing to read.
        order = None
        if self.claims.enabled:
            keys = self._keys(uidvalidity, [uid for uid in inbox if uid not in recorded])
            try:
                with self.sessions() as session:  # a few queries a round: who is who (coordination.people_of)
                    order = WaitingOrder(keys, people_of(session, keys, self.settings.aideur_addresses, people))
            except (OperationalError, InterfaceError):
                raise  # the database is away: the cycle's own retry
            except SQLAlchemyError:
                # A mail no query of ours expected (a bug): never a reason to stop taking mail in, nor to take it
                # out of order. This round waits for every earlier mail, as if each one's header were cut.
                log.exception("who is who in the waiting mail could not be read: this round takes them in arrival "
                              "order")
                order = WaitingOrder(keys, strict=True)
        deferred = 0
        for batch in batches(waiting, self.settings.batch_size, self.settings.batch_bytes):
            if order is not None and order.stale:
                deferred += len(batch)  # after a mail that may change who is who: the next round reads it again
                continue
            deferred += self._process_batch(batch, folder, uidvalidity, report, order)
            if self._stopping:
                break
        return deferred

    def _keys(self, uidvalidity: int, uids: list[int]) -> dict[int, MailKeys]:
        if self._keys_validity != uidvalidity:
            self._keys_cache, self._keys_validity = {}, uidvalidity
        missing = [uid for uid in uids if uid not in self._keys_cache]
        if missing:
            # The header as received, read by the parser's functions: what the router will read, whatever the
            # server makes of it. A mail whose header the parser finds further on than the server's block ends
            # (a blank first line, a stray line then a blank one: parsers.mime.repair_start drops them) is read
            # from its head instead.
            headers = self.mailbox.header_blocks(missing, HEAD_BYTES)
            unread = [uid for uid, header in headers.items() if not header_at_start(header)]
            if unread:
                headers.update(self.mailbox.heads(unread, HEAD_BYTES))
            for uid, header in headers.items():
                self._keys_cache[uid] = mail_keys(header, self.settings.club_addresses, head=True)
        wanted = set(uids)
        self._keys_cache = {uid: keys for uid, keys in self._keys_cache.items() if uid in wanted}
        return dict(self._keys_cache)

    def _process_batch(self, batch: list[int], folder: str, uidvalidity: int, report: CycleReport,
                       order: WaitingOrder | None = None) -> int:
        """Process what this daemon could claim of the batch, in UID order, except the mails that depend on an
        earlier one still open (not committed, or deferred here): those stay in the inbox, unclaimed once the block
        ends, for a later round or the daemon that will commit the earlier one. Returns how many were deferred."""
        moves: dict[str, list[int]] = defaultdict(list)
        deferred = 0
        # The UIDs another daemon holds are its own: skipped here (see coordination.py).
        with self.claims.hold(folder, uidvalidity, batch) as mine:
            report.held_elsewhere += len(batch) - len(mine)
            ready = []
            for uid in mine:
                if order is not None and (order.stale or order.blocker(uid) is not None):
                    deferred += 1  # (stale: after a mail that may change who is who, the next round's turn)
                    continue
                ready.append(uid)
                if order is not None:
                    # Handled before anything later in this batch (or the batch stops, and the round with it).
                    order.done(uid)
            try:
                for fetched in self.mailbox.fetch(ready):
                    outcome = self.pipeline.process(fetched.raw, folder=folder, uidvalidity=uidvalidity,
                                                    uid=fetched.uid)
                    moves[outcome.destination].append(fetched.uid)
                    report.actions[outcome.action] += 1
                    self.metrics.observe_mail(outcome.action)
                    if outcome.destination == QUARANTINED:
                        report.quarantined += 1
                    else:
                        report.processed += 1
                    self._heartbeat()
                    if self._stopping:
                        break
            finally:
                self._move(moves)  # what is committed leaves the inbox, even if the batch stopped halfway
        return deferred

    def _purge(self) -> None:
        """Delete from the mailbox the raw mails of erased members (recorded by the erasure, done here: this module
        owns IMAP). Marked done only once the server has expunged them; a failure is retried next cycle.

        In the inbox, only mails already taken in go (`_purgeable`): the purge finds mail by Message-ID, which says
        nothing of whether that mail was processed. A mail found there and not taken in yet keeps its purge pending:
        once processed it is in the processed (or quarantine) folder, where the next cycle's purge deletes it."""
        with self.sessions() as session:
            pending = session.execute(select(MailboxPurge.id, MailboxPurge.message_id)
                                      .where(MailboxPurge.done_at.is_(None))).all()
        if not pending:
            return
        folders = [self.settings.processed_folder, self.settings.quarantine_folder, self.settings.imap_folder]
        try:
            deleted, left = self.mailbox.delete_everywhere([message_id for _, message_id in pending], folders,
                                                           deletable=self._purgeable)
        except IMAP_REFUSALS as error:  # refused (a folder's SELECT, the STORE, the EXPUNGE): tried next cycle
            self._refused("delete an erased person's mails in", ", ".join(folders), error)
            return
        self._accepted("delete an erased person's mails in", ", ".join(folders))
        done = [purge_id for purge_id, message_id in pending if message_id not in left]
        if done:
            with self.sessions.begin() as session:
                session.execute(update(MailboxPurge).where(MailboxPurge.id.in_(done)).values(done_at=self.clock()))
        log.info("erasure: %d mail(s) deleted from the mailbox%s", deleted,
                 f"; {len(left)} wait in the inbox to be taken in first" if left else "")

    def _purgeable(self, folder: str, uidvalidity: int, uids: list[int]) -> list[int]:
        """Which of these mails the purge may delete. In the inbox, only those with their own committed inbound
        record (README: a mail leaves the inbox only once it has its own inbound record), as the intake decides it:
        at or below the checkpoint, and recorded under this very folder, UIDVALIDITY and UID. Anything else — a
        mail arrived since the intake, one another daemon holds, another sender's reusing the Message-ID — is not
        processed yet and is never deleted unread. The other folders hold only mail taken in: all of it goes."""
        if folder != self.settings.imap_folder:
            return uids
        done = self.pipeline.checkpoint(folder, uidvalidity)
        below = [uid for uid in uids if uid <= done]
        recorded = self.pipeline.committed_destinations(folder, uidvalidity, below)
        return [uid for uid in below if uid in recorded]

    def run_jobs(self) -> dict[str, int]:
        return run_jobs(self.sessions, self.settings, self.signer, self.outbox, self.clock())

    def _jobs_tick(self) -> None:
        """From the scheduler's thread: due jobs, then send what they decided. (It never feeds the watchdog:
        only the main loop proves the daemon alive.) Never during an intake, nor while one left mail open."""
        try:
            with self.jobs_gate.intake():
                jobs = self.run_jobs() if self.jobs_gate.may_run() else {}
            result = self.dispatcher.flush()
            sent = result.sent
            self.metrics.observe_sends(sent=result.sent, deferred=result.deferred, failed=len(result.failed or []))
        except Exception:
            log.exception("scheduled jobs failed; retrying at the next tick")
            return
        self._count_sent(sent)
        done = {name: count for name, count in jobs.items() if count}
        if done or sent:
            log.info("scheduled jobs: %s; sent: %d", ", ".join(f"{name} {count}" for name, count in done.items())
                     or "nothing due", sent)

    def _move(self, moves: dict[str, list[int]]) -> None:
        """Move committed mail out of the inbox. A move the server refuses (a full account, a permission, a server
        bug; a missing folder is made again by Mailbox.move) never stops the cycle: the mail is committed, stays in
        the inbox and is moved by a later cycle (_move_committed, as after a crash between the commit and the move);
        the cycle goes on and sends what was decided."""
        targets = {PROCESSED: self.settings.processed_folder, QUARANTINED: self.settings.quarantine_folder}
        for destination, uids in moves.items():
            if destination == ERASED_COPY:  # a copy of an erased person's mail: not kept (pipeline.ERASED_COPY)
                what, folder = "delete an erased person's mail copy from", self.settings.imap_folder
            else:
                what, folder = "move committed mail to", targets[destination]
            try:
                if destination == ERASED_COPY:
                    self.mailbox.delete(uids)
                else:
                    self.mailbox.move(uids, folder)
            except IMAP_REFUSALS as error:
                self._refused(what, folder, error)
            else:
                self._accepted(what, folder)

    def _refused(self, what: str, folder: str, error: Exception) -> None:
        """A command the server refused (a tagged NO, IMAP_REFUSALS), the connection fine: one ERROR line naming the
        folder and the server's answer, then quiet while the same refusal repeats (every cycle retries it) until it
        works again (_accepted). Aideur has no mail about IMAP trouble (nor SMTP): the journal is where it shows."""
        answer = server_answer(error) if isinstance(error, IMAP_REFUSALS) else short_error(error)
        if (what, folder) in self._refusals:
            log.debug("IMAP still refuses to %s %r: %s", what, folder, answer)
            return
        self._refusals.add((what, folder))
        log.error("IMAP server refused to %s folder %r: %s (mail stays where it is, committed mail is moved at a "
                  "later cycle; sending goes on)", what, folder, answer)

    def _accepted(self, what: str, folder: str) -> None:
        if (what, folder) in self._refusals:
            self._refusals.discard((what, folder))
            log.info("IMAP server accepts again to %s folder %r", what, folder)

    def _move_committed(self, uids: list[int], uidvalidity: int, recorded: dict[int, str]) -> set[int]:
        """Mail at or below the checkpoint: what has its own inbound record (`recorded`: committed, then a crash,
        or another daemon's not moved yet) is moved now. Returns the UIDs without one: they are processed, never
        moved unseen (a Message-ID already handled makes that a cheap duplicate). UIDs another daemon holds are
        left to it."""
        folder = self.settings.imap_folder
        with self.claims.hold(folder, uidvalidity, uids) as mine:
            moves: dict[str, list[int]] = defaultdict(list)
            for uid in mine:
                if uid in recorded:
                    moves[recorded[uid]].append(uid)
            self._move(moves)
        return {uid for uid in mine if uid not in recorded}

    def _send(self, report: CycleReport) -> None:
        # Sends of a sender that died meanwhile (PostgreSQL: another daemon; SQLite: the helper sending process), or
        # whose record the database refused: settled from their send journals (SQLite) or locks (PostgreSQL).
        try:
            recover_interrupted(self.sessions, at_start=False)
        except JournalError as error:  # (an OSError: not to be taken for the IMAP connection's)
            log.error("sending stopped, mail kept for later: %s", error)
            report.send_problem, report.send_stopped_by = str(error), JOURNAL_UNWRITABLE
            self._heartbeat()
            return
        result = self.dispatcher.flush()
        report.sent += result.sent
        self.metrics.observe_sends(sent=result.sent, deferred=result.deferred, failed=len(result.failed or []))
        if result.unreachable or result.journal_error:
            report.send_problem = result.unreachable or result.journal_error
            report.send_stopped_by = SMTP_UNREACHABLE if result.unreachable else JOURNAL_UNWRITABLE
        self._heartbeat()

    # --- forever ----------------------------------------------------------------------------------------------
    def run_forever(self) -> None:
        adapt_to_journal()  # under systemd: no timestamps (journald adds them), priorities for `journalctl -p`
        quiet_libraries()
        self._install_signal_handlers()
        sdnotify.status("démarrage")
        if self.settings.metrics_address is not None:
            self.metrics.serve(self.settings.metrics_address)  # a port taken: ConfigError, exit 78
        try:
            self.start()
            scheduler = start_background(self.settings.jobs_seconds, self._jobs_tick)
            try:
                self._loop()
            finally:
                scheduler.shutdown(wait=True)
                self.disconnect()
        finally:
            self.metrics.close()
        log.info("mailbot stopped (%d mail(s) handled, %d sent since the start)", self.handled, self.sent)

    def _loop(self) -> None:
        delay = 1.0
        while not self._stopping:
            outage = ""
            try:
                report = self.cycle(with_jobs=False)
                delay = 1.0
                self._after_cycle(report)
                if not self._stopping:
                    self._wait(report)
            except Shutdown:
                break
            except (TransientError, OperationalError, InterfaceError) as error:
                # TransientError from the pipeline; a raw one from anywhere else the cycle reads or writes (the
                # sender's claims and records, the purge): the mail and the outbox rows stay as committed, a send
                # cut between SMTP's answer and its record is recovered as interrupted.
                log.error("database unavailable, retrying in %.0f s: %s", delay, short_error(error))
                outage = "base de données indisponible"
            except IMAP_CONNECTION_ERRORS as error:
                log.error("IMAP problem, reconnecting in %.0f s: %s", delay, short_error(error))
                self.disconnect()
                outage = "IMAP indisponible"
            except MailboxLoginError as error:  # (before IMAP_REFUSALS: a refused login is one of them)
                setting = "MAILBOT_OAUTH2_*" if self.mailbox.server.auth == "xoauth2" else "MAILBOT_IMAP_PASSWORD"
                if not self._logged_in_once:
                    raise ConfigError(setting, f"the IMAP server refused the login of {self.mailbox.server.user}: "
                                      f"check MAILBOT_IMAP_USER and {setting} ({short_error(error)})") from None
                # The login worked at start and is refused now (password changed at the provider, account locked):
                # mail stays where it is; retried with backoff, so a fixed password or an unlocked account needs no
                # restart. One line; the server's reply names no secret.
                log.error("IMAP login refused (MAILBOT_IMAP_USER / %s), retrying in %.0f s: %s", setting, delay,
                          short_error(error))
                self.disconnect()
                outage = f"connexion IMAP refusée (voir MAILBOT_IMAP_USER / {setting})"
            except IMAP_REFUSALS as error:
                # The inbox itself refused (SELECT, STATUS or SEARCH answered NO: the folder deleted or renamed, the
                # account locked, a server bug): nothing can be taken in. Waited out like an outage, with backoff;
                # the scheduler's thread keeps sending meanwhile (_jobs_tick). The moves, the folders' creation and
                # the purge handle their own refusals and never come here.
                log.error("IMAP server refused to read the folder %r, retrying in %.0f s: %s",
                          self.settings.imap_folder, delay, server_answer(error))
                self.disconnect()
                outage = "IMAP : dossier refusé par le serveur"
            except OAuthError as error:
                # The provider refused the refresh token (revoked, or a wrong MAILBOT_OAUTH2_* setting) at the IMAP
                # login: like a server down, mail stays where it is and the login is tried again with backoff (the
                # operator fixes the settings and restarts, or the provider takes it again). One line, no token.
                log.error("OAuth2 login refused, retrying in %.0f s: %s", delay, self._without_secrets(error))
                self.disconnect()
                outage = "jeton OAuth2 refusé (voir MAILBOT_OAUTH2_*)"
            if outage:
                try:  # outside the except clauses above, so that a Shutdown raised here is caught
                    delay = self._pause(delay, outage)
                except Shutdown:
                    break

    def _without_secrets(self, error: OAuthError) -> str:
        """The error's first line, with the OAuth2 secrets masked should a provider ever echo one back."""
        text = short_error(error)
        oauth2 = self.settings.imap.oauth2 if self.settings.imap is not None else None
        if oauth2 is not None:
            for secret in (oauth2.refresh_token, oauth2.client_secret):
                if secret:
                    text = text.replace(secret, "***")
        return text

    def _after_cycle(self, report: CycleReport) -> None:
        handled = report.processed + report.quarantined
        self.handled += handled
        self._count_sent(report.sent)
        if handled or report.sent:
            log.info("cycle: %d mail(s) handled (%d quarantined), sent: %d%s", handled, report.quarantined,
                     report.sent, f", sending deferred: {report.send_stopped_by}" if report.send_stopped_by else "")

    def _wait(self, report: CycleReport | None = None) -> None:
        """IDLE until mail arrives (or the poll interval passes, to retry deferred sends), in slices short enough
        to feed the watchdog: a server that stops answering stops the feeding too."""
        text = f"en attente de courrier (traités : {self.handled}, envoyés : {self.sent})"
        if report is not None and report.send_stopped_by:
            text += (" ; SMTP indisponible, envois différés" if report.send_stopped_by == SMTP_UNREACHABLE
                     else " ; journal d'envoi impossible à écrire (disque plein ?), envois différés")
        sdnotify.status(text)
        try:
            self._waiting = True
            idle = self.settings.use_idle and self.mailbox.supports_idle()
            # Mail left waiting for another daemon's: looked at again soon, whatever announces itself meanwhile.
            poll = min(self.settings.poll_seconds, 1.0) if report is not None and report.deferred else \
                self.settings.poll_seconds
            deadline = time.monotonic() + poll
            while True:
                self._feed()
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                step = min(left, self._slice())
                if idle:
                    if self.mailbox.wait_for_mail(step):
                        return
                else:
                    time.sleep(step)
        except Shutdown:
            # SIGTERM may have cut an IMAP exchange in the middle (the NOOP, IDLE's start or its DONE): the
            # connection is closed without a LOGOUT that would wait for an answer that never comes.
            self.mailbox.abandon()
            raise
        finally:
            self._waiting = False

    def _pause(self, delay: float, what: str) -> float:
        """Wait `delay` seconds before retrying after an outage (Shutdown ends it at once); the next delay."""
        sdnotify.status(f"{what}, nouvel essai dans {delay:.0f} s")
        self._announce_ready()  # up and retrying: a server outage must not fail the start
        try:
            self._waiting = True
            deadline = time.monotonic() + delay
            while True:
                self._feed()
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                time.sleep(min(left, self._slice()))
        finally:
            self._waiting = False
        return min(delay * 2, RECONNECT_MAX_SECONDS)

    def _count_sent(self, sent: int) -> None:
        with self._counter_lock:  # the scheduler's thread counts too
            self.sent += sent

    def _install_signal_handlers(self) -> None:
        def stop(signum: int, _frame: object) -> None:
            log.info("signal %d: stopping after the current mail", signum)
            sdnotify.stopping("arrêt : fin du courrier en cours")
            self._stopping = True
            if self._waiting:
                raise Shutdown()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)

    # --- systemd ----------------------------------------------------------------------------------------------
    def _announce_ready(self) -> None:
        """READY=1 once: when connected (before any backlog, which may take longer than a start may), or when the
        first connection fails (the daemon is up, retrying: that is not a failed start)."""
        if not self._ready:
            self._ready = True
            sdnotify.ready("connecté" if self._connected else "démarré")
            self._feed()

    def _slice(self) -> float:
        return self._watchdog_every * WAIT_SLICE_SHARE if self._watchdog_every else math.inf

    def _feed(self) -> None:
        if self._watchdog_every is not None:
            sdnotify.watchdog()
            self._fed_at = time.monotonic()

    def _heartbeat(self) -> None:
        """Work is progressing (a mail handled, a mail sent): feed the watchdog, at most a few times a period."""
        if self._watchdog_every is not None and time.monotonic() - self._fed_at >= self._watchdog_every / 4:
            self._feed()

    def _clock_with_heartbeat(self, clock: Callable[[], datetime]) -> Callable[[], datetime]:
        """The clock the pipeline, the jobs and the sender ask at every step (the sender: for each mail sent and
        each batch of the outbox). Asked from the main thread, it also proves the daemon alive, so a long but
        progressing flush (a slow provider, a big backlog) is not mistaken for a hang."""
        main = threading.main_thread()

        def now() -> datetime:
            if threading.current_thread() is main:
                self._heartbeat()
            return clock()

        return now
