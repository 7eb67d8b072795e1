"""Hands outbox rows to the SMTP server (aiosmtplib): the only module that talks SMTP.

A row is marked `sending` (committed) before it is handed over and `sent` right after the server accepts it.
A crash between the two leaves it `sending`; at the next start it is sent again (at-least-once: its
Message-ID is unchanged, so receiving systems see the same mail) and counted in `interrupted_sends`.
On PostgreSQL, a process holds an advisory lock on a row from before its claim until its outcome is recorded
(coordination.SendGuard): recovery takes only the `sending` rows whose lock is free, so another live daemon's sends
are never taken back, and a dead one's are taken back as soon as its connection is gone (each cycle).
On an SQLite file, a sender claims a batch of rows in one transaction, sends them one by one and records them together
at the batch's end; what it did meanwhile is in its send journal (mailbot.sendjournal), which recovery (at start and
each cycle) reads before it puts `sending` rows back: a mail the server accepted is never sent again for want of its
record.
Temporary failures (4xx, connection lost) retry with exponential backoff; permanent ones (5xx) fail the row
and alert Aideur.
"""
from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

import aiosmtplib
from sqlalchemy import CursorResult, Engine, Result, bindparam, case, literal, select, update
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from mailbot import dkim, oauth, sendjournal
from mailbot.compose import ascii_domain, needs_smtputf8
from mailbot.config import ServerSettings
from mailbot.coordination import REQUEUE_ABANDONED, SendGuard, uses_advisory_locks
from mailbot.db import truncate_wal
from mailbot.logs import mask, short_error
from mailbot.models import OutboxMail

log = logging.getLogger(__name__)

BACKOFF_FIRST = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=2)
FLUSH_BATCH = 100
CLAIM_BATCH = 20  # SQLite with a send journal: rows claimed per transaction (each read only just before it is sent)
MARK_SENT_ATTEMPTS = 5
KEEP_SECONDS = 30.0  # the helper's SMTP session idle longer than this is closed (RFC 5321 servers wait 5 min)
CHECK_SECONDS = 2.0  # idle longer than this: a NOOP first
REPLY_LOG_LIMIT = 200


def redact(reply: str, recipient: str = "") -> str:
    """A server's reply fit for the journal at INFO/WARNING: its first line, every e-mail address replaced by
    "<adresse>" (a reply often quotes the recipient's: personal data). The full text goes to the outbox row's
    last_error and to DEBUG only. With the `recipient`, its local part and the words of it are masked too, however
    the server quotes them ("550 5.1.1 Jean Dupont <…> rejected", "user jean.dupont unknown")."""
    lines = reply.strip().splitlines()
    text = mask(lines[0] if lines else "")  # quoted and internationalised local parts, display names too
    local = recipient.rpartition("@")[0].strip('"') if "@" in recipient else ""
    if local:
        text = re.sub(re.escape(local), "<adresse>", text, flags=re.IGNORECASE)
        for word in sorted({w for w in re.split(r"[\W_]+", local) if len(w) >= 3 and not w.isdigit()}, key=len,
                           reverse=True):
            text = re.sub(rf"(?<![^\W_]){re.escape(word)}(?![^\W_])", "<nom>", text, flags=re.IGNORECASE)
    return text[:REPLY_LOG_LIMIT] + "…" if len(text) > REPLY_LOG_LIMIT else text


@dataclass
class FlushResult:
    sent: int = 0
    deferred: int = 0
    failed: list[int] | None = None  # outbox ids that failed for good
    unreachable: str = ""  # the server could not be reached: why
    journal_error: str = ""  # the send journal could not be written: why (sending stopped, mail kept)

    def __post_init__(self) -> None:
        if self.failed is None:
            self.failed = []


# The last mails about a member who asked for erasure keep nothing personal once they are out (RGPD).
SCRUBBED = {"body": b"", "recipient": "membre-efface@invalid", "subject": "", "about": ""}
SCRUB = update(OutboxMail).where(OutboxMail.scrub_after_send.is_(True)).values(**SCRUBBED)

# The statements run for every mail sent, built once (with the row's id as a parameter): building them per mail
# was a tenth of the sending process's time. Same SQL as built inline.
# The claim returns what is sent, and marking sent says whether the row is to be scrubbed: two statements a mail
# instead of four (each a round trip, and most of the sending process's own CPU beside SMTP).
CLAIM = (update(OutboxMail)
         .where(OutboxMail.id == bindparam("outbox_id"), OutboxMail.status == "pending")
         .values(status="sending", attempts=OutboxMail.attempts + 1)
         .returning(OutboxMail.sender, OutboxMail.recipient, OutboxMail.body, OutboxMail.attempts))
# Marked sent and, for an erasure's last mails, scrubbed in the same statement (one step: nothing in between).
_COLUMNS = OutboxMail.__table__.c
_SCRUBBED_IF_ASKED = {name: case((OutboxMail.scrub_after_send.is_(True), literal(value, _COLUMNS[name].type)),
                                 else_=_COLUMNS[name]) for name, value in SCRUBBED.items()}
MARK_SENT = (update(OutboxMail).where(OutboxMail.id == bindparam("outbox_id"))
             .values(status="sent", sent_at=bindparam("sent_at"), last_error="", **_SCRUBBED_IF_ASKED)
             .returning(OutboxMail.scrub_after_send))


# SQLite with a send journal: the next due rows claimed in one statement; what is sent is read row by row, just before
# it goes (a batch of large mails is never in memory at once).
CLAIM_DUE = (update(OutboxMail)
             .where(OutboxMail.id.in_(select(OutboxMail.id)
                                      .where(OutboxMail.status == "pending", OutboxMail.next_attempt_at <= bindparam("now"))
                                      .order_by(OutboxMail.id).limit(bindparam("limit")).scalar_subquery()))
             .values(status="sending", attempts=OutboxMail.attempts + 1)
             .returning(OutboxMail.id, OutboxMail.attempts))
# Fenced: only the claim this sender made, still `sending` (an erasure meanwhile cancels the row: it stays so).
MARK_SENT_FENCED = MARK_SENT.where(OutboxMail.status == "sending", OutboxMail.attempts == bindparam("claim"))
RELEASE_UNSENT = (update(OutboxMail)
                  .where(OutboxMail.id == bindparam("outbox_id"), OutboxMail.status == "sending",
                         OutboxMail.attempts == bindparam("claim"))
                  .values(status="pending", attempts=OutboxMail.attempts - 1))
REQUEUE_ALL_SENDING = (update(OutboxMail).where(OutboxMail.status == "sending")
                       .values(status="pending", interrupted_sends=OutboxMail.interrupted_sends + 1))
REQUEUE_INTERRUPTED = REQUEUE_ALL_SENDING.where(OutboxMail.id == bindparam("outbox_id"))
# Read outside any transaction (the driver's autocommit): SQLAlchemy's transactions on SQLite begin IMMEDIATE
# (mailbot.db) and would wait for the daemon's write lock only to read.
# Fenced like the record: a row an erasure cancelled since the claim is not sent.
READ_ROW = "SELECT sender, recipient, body FROM outbox WHERE id = ? AND status = 'sending' AND attempts = ?"


class NoSmtpUtf8(Exception):
    """An internationalised address (RFC 6531) and a server that does not offer SMTPUTF8: no retry can help."""


SMTPUTF8_MISSING = ("SMTPUTF8 : le serveur d'envoi n'accepte pas les adresses dont la partie avant le @ a des "
                    "caractères accentués ou non latins")


async def _utf8_options(smtp: aiosmtplib.SMTP, sender: str, recipient: str, body: bytes) -> list[str]:
    """["SMTPUTF8"] when the envelope or the headers need it (a non-ASCII local part), [] otherwise."""
    head = body.split(b"\r\n\r\n", 1)[0]
    if not (needs_smtputf8(sender) or needs_smtputf8(recipient) or not head.isascii()):
        return []
    if smtp.is_ehlo_or_helo_needed:
        await smtp.ehlo()
    if not smtp.supports_extension("smtputf8"):
        raise NoSmtpUtf8(SMTPUTF8_MISSING)
    return ["SMTPUTF8"]


async def _quit(smtp: aiosmtplib.SMTP | None) -> None:
    """QUIT, or just close a session that cannot say it."""
    if smtp is not None and smtp.is_connected:
        try:
            await smtp.quit()
        except (aiosmtplib.SMTPException, OSError):
            smtp.close()


def backoff(attempts: int) -> timedelta:
    return min(BACKOFF_FIRST * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


def recover_interrupted(sessions: sessionmaker[Session], *, at_start: bool = True) -> int:
    """Rows left `sending` by a sender that is gone go back to `pending`. Returns how many will be sent again.

    PostgreSQL: only rows no live sender holds (coordination.SendGuard), so it is safe at any time, with other
    daemons sending. SQLite file, at any time: every `sending` row but those a live send journal names
    (mailbot.sendjournal) — a row a dead journal says the server accepted is recorded as sent, a row it says was
    claimed and never handed over goes back as if never claimed, any other (handed over, or named by no journal: a
    sender whose outcome record failed) was interrupted. A memory SQLite database (no journals): every `sending`
    row, at start only."""
    engine: Engine = sessions.kw["bind"]
    if uses_advisory_locks(engine):
        with sessions.begin() as session:
            recovered = _rowcount(session.execute(REQUEUE_ABANDONED))
        if recovered and not at_start:
            log.warning("%d mail(s) were being sent by a process that stopped: they will be sent again", recovered)
        return recovered
    directory = sendjournal.directory_for(engine)
    if directory is None:
        return _requeue_all_sending(sessions) if at_start else 0
    recovered = accepted = scrubbed = 0
    journals = sendjournal.Journals()
    try:
        # The write lock first: no claim commits while the journals are read, so every row a live sender has
        # claimed is named by its live journal already (the lines are written before the claim commits).
        with sessions.begin() as session:
            session.connection()
            journals = sendjournal.take(directory)
            for outbox_id, attempts in session.execute(
                    select(OutboxMail.id, OutboxMail.attempts).where(OutboxMail.status == "sending")).all():
                if outbox_id in journals.live:
                    continue  # its sender is alive: its own to record (a dead journal's line may be a stale claim)
                step = journals.steps.get((outbox_id, attempts))
                if step is not None and step.state == sendjournal.SENT:
                    accepted += 1
                    scrubbed += bool(session.execute(MARK_SENT_FENCED, {
                        "outbox_id": outbox_id, "claim": attempts, "sent_at": step.sent_at}).scalar())
                elif step is not None and step.state == sendjournal.CLAIMED:
                    session.execute(RELEASE_UNSENT, {"outbox_id": outbox_id, "claim": attempts})
                else:
                    recovered += 1
                    session.execute(REQUEUE_INTERRUPTED, {"outbox_id": outbox_id})
    except BaseException:
        journals.done(applied=False)
        raise
    journals.done(applied=True)  # after the commit: taken again after a crash here, they find nothing to do
    if scrubbed:
        truncate_wal(engine)
    if accepted:
        log.info("%d mail(s) accepted by the server before their sender stopped: recorded as sent", accepted)
    if recovered and not at_start:
        log.warning("%d mail(s) were being sent by a process that stopped: they will be sent again", recovered)
    return recovered


def _requeue_all_sending(sessions: sessionmaker[Session]) -> int:
    """SQLite without journals (a memory database), at start: every `sending` row was interrupted."""
    with sessions.begin() as session:
        return _rowcount(session.execute(REQUEUE_ALL_SENDING))


async def connect_smtp(server: ServerSettings, timeout: float) -> aiosmtplib.SMTP:
    """Connected and logged in: implicit TLS (ssl) or STARTTLS, the certificate and host name checked
    (ServerSettings.ssl_context); then the password, or an OAuth2 access token (XOAUTH2)."""
    security = server.security
    smtp = aiosmtplib.SMTP(
        hostname=server.host,
        port=server.port,
        use_tls=security == "ssl",
        start_tls=security == "starttls",  # starttls: refuse a server that does not offer it
        timeout=timeout,
        tls_context=server.ssl_context(),
    )
    await smtp.connect()
    try:
        if server.auth == "xoauth2":
            await login_xoauth2(smtp, server)
        elif server.user:
            await smtp.login(server.user, server.password)
    except BaseException:
        smtp.close()
        raise
    return smtp


async def login_xoauth2(smtp: aiosmtplib.SMTP, server: ServerSettings) -> None:
    """AUTH XOAUTH2 (RFC 4954 with Google's/Microsoft's mechanism), sent by hand: every aiosmtplib version has
    execute_command. A refusal comes as a 334 challenge holding a JSON error; an empty line gets the final 5xx."""
    assert server.oauth2 is not None
    token = oauth.access_token(server.oauth2)
    if smtp.is_ehlo_or_helo_needed:
        await smtp.ehlo()
    if "xoauth2" not in smtp.server_auth_methods:
        offered = ", ".join(smtp.server_auth_methods) or "no login at all"
        raise aiosmtplib.SMTPAuthenticationError(504, f"{server.host} does not offer AUTH XOAUTH2 (it offers: {offered})")
    response = await smtp.execute_command(b"AUTH", b"XOAUTH2", oauth.xoauth2_base64(server.user, token).encode())
    if response.code == 334:
        detail = oauth.describe_xoauth2_refusal(response.message)
        response = await smtp.execute_command(b"")
        if response.code != 235:
            oauth.TOKENS.invalidate(server.oauth2)
            raise aiosmtplib.SMTPAuthenticationError(response.code, f"{response.message} ({detail})")
    if response.code != 235:
        oauth.TOKENS.invalidate(server.oauth2)
        raise aiosmtplib.SMTPAuthenticationError(response.code, response.message)


class Sender:
    def __init__(self, server: ServerSettings, sessions: sessionmaker[Session], *, max_attempts: int,
                 timeout: float, clock: Callable[[], datetime],
                 keep_going: Callable[[], bool] = lambda: True, keep_open: bool = False) -> None:
        self.server = server
        self.sessions = sessions
        self.engine: Engine = sessions.kw["bind"]
        self.max_attempts = max_attempts
        self.timeout = timeout
        self.clock = clock
        # Asked before each mail is claimed: the helper sending process stops as soon as the daemon that started
        # it is gone (dispatch.py). A flush is up to FLUSH_BATCH mails; an orphan going on with it would be sending
        # while the next daemon starts, recovers the row the orphan has in hand as interrupted and sends it again.
        self.keep_going = keep_going
        # keep_open (the helper sending process, which flushes every few milliseconds during a backlog, a mail or
        # two each time): the event loop, the SMTP connection and the lock connection are kept from one flush to
        # the next, instead of a new loop, SMTP session (with its EHLO, STARTTLS, AUTH) and database connection
        # for every mail or two. close() ends them.
        self.keep_open = keep_open
        self._runner: asyncio.Runner | None = None
        self._kept: aiosmtplib.SMTP | None = None
        self._kept_at = 0.0
        self._guard: SendGuard | None = None
        self.journal_dir = sendjournal.directory_for(self.engine)

    def flush(self) -> FlushResult:
        if not self.keep_open:
            return asyncio.run(self.flush_async())
        if self._runner is None:
            self._runner = asyncio.Runner()
        return self._runner.run(self.flush_async())

    def close(self) -> None:
        """End what keep_open kept (the SMTP session with QUIT, the lock connection, the event loop)."""
        if self._guard is not None:
            self._guard.close()
            self._guard = None
        if self._runner is not None:
            if self._kept is not None:
                self._runner.run(_quit(self._kept))
                self._kept = None
            self._runner.close()
            self._runner = None

    async def flush_async(self) -> FlushResult:
        result = FlushResult()
        guard, self._guard = self._guard or SendGuard(self.engine).start(), None
        kept = False
        connection = _SmtpSession(self)
        try:
            if self.journal_dir is not None:
                await self._drain_in_batches(connection, self.journal_dir, result)
            else:
                await self._drain_one_by_one(connection, guard, result)
            kept = self.keep_open
        except sendjournal.JournalError as error:  # an OSError, but this machine's, not the SMTP server's
            result.journal_error = str(error)
        except (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError,
                aiosmtplib.SMTPAuthenticationError, OSError) as error:
            result.unreachable = f"{type(error).__name__}: {error}"
        finally:
            smtp = connection.smtp
            # Kept only after a flush that ended normally: after any error, the next flush starts afresh.
            if kept:
                self._guard = guard
                if smtp is not None and smtp.is_connected:
                    await _quit(self._kept)  # None, or a kept one this flush did not need to take
                    self._kept, self._kept_at = smtp, time.monotonic()
            else:
                guard.close()
                await _quit(smtp)
        return result

    async def _drain_one_by_one(self, connection: _SmtpSession, guard: SendGuard, result: FlushResult) -> None:
        """Each due row claimed, sent and recorded in turn (PostgreSQL, under its advisory lock; a memory SQLite)."""
        while True:
            due = self._due_ids()
            if not due:
                return
            for outbox_id in due:
                if not self.keep_going():
                    return
                with guard.hold(outbox_id) as mine:  # another daemon's: skipped, no SMTP connection for it
                    if mine:
                        await self._send_one(await connection.get(), guard, outbox_id, result)
            if len(due) < FLUSH_BATCH:
                return

    async def _drain_in_batches(self, connection: _SmtpSession, directory: Path, result: FlushResult) -> None:
        """SQLite: CLAIM_BATCH due rows claimed in one transaction, sent one by one with each step in the send
        journal, and recorded together: two write transactions per batch instead of two per mail."""
        journal = sendjournal.SendJournal(directory)
        recorded = True  # all the journal names is in the database: the file can go
        raw = self.engine.raw_connection()
        try:
            while True:
                # A claim that fails is not committed: its lines in the journal name nothing (the journal is
                # settled below, still `recorded`), so they can never be read as a later claim of the same rows.
                claimed = self._claim_batch(journal)
                if not claimed:
                    break
                recorded = False
                sent: list[tuple[int, int, datetime]] = []
                done = 0
                try:
                    for outbox_id, attempts in claimed:
                        if not self.keep_going():
                            break
                        row = _read_row(raw, outbox_id, attempts)
                        if row is None:  # cancelled or gone since the claim (erased): nothing to send or release
                            done += 1
                            continue
                        smtp = await connection.get()
                        journal.handed(outbox_id, attempts)
                        done += 1  # handed over: its outcome is recorded by _hand_over, or as sent below
                        if await self._hand_over(smtp, outbox_id, attempts, *row, result):
                            sent_at = self.clock()
                            sent.append((outbox_id, attempts, sent_at))  # recorded below even if the line fails
                            journal.sent(outbox_id, attempts, sent_at)
                finally:
                    # The sends recorded and what was claimed and not handed over released, even when the SMTP
                    # session failed mid-batch; if the database refuses, the journal stays for the next start.
                    result.sent += len(sent)
                    self._record_batch(sent, claimed[done:])
                    recorded = True
                if done < len(claimed) or len(claimed) < CLAIM_BATCH:
                    break
        finally:
            raw.close()
            if recorded:
                journal.settle()
            else:
                journal.close()

    def _claim_batch(self, journal: sendjournal.SendJournal) -> list[tuple[int, int]]:
        with self.engine.begin() as connection:
            claimed = sorted((row.id, row.attempts) for row in connection.execute(
                CLAIM_DUE, {"now": self.clock(), "limit": CLAIM_BATCH}))
            for outbox_id, attempts in claimed:  # in the journal before the claim is committed
                journal.claimed(outbox_id, attempts)
        return claimed

    def _record_batch(self, sent: list[tuple[int, int, datetime]], unsent: list[tuple[int, int]]) -> None:
        """The batch's sends marked sent and its unsent claims released, in one transaction, retrying a busy
        database (MARK_SENT_ATTEMPTS times) rather than leaving rows `sending`."""
        if not sent and not unsent:
            return

        def record(_attempt: int) -> bool:
            scrubbed = False
            with self.engine.begin() as connection:
                for outbox_id, attempts, sent_at in sent:
                    scrubbed |= bool(connection.execute(MARK_SENT_FENCED, {
                        "outbox_id": outbox_id, "claim": attempts, "sent_at": sent_at}).scalar())
                for outbox_id, attempts in unsent:
                    connection.execute(RELEASE_UNSENT, {"outbox_id": outbox_id, "claim": attempts})
            return scrubbed

        self._retrying(record, f"{len(sent)} mail(s) sent")

    def _retrying(self, record: Callable[[int], bool], what: str) -> None:
        """`record(attempt)`, retried on a busy or unavailable database (MARK_SENT_ATTEMPTS times, 1, 2, 4… s
        apart) rather than leaving rows `sending` for the next start to sort out. It returns True when an erased
        member's last mail was scrubbed: then no copy is left in the WAL either."""
        for attempt in range(MARK_SENT_ATTEMPTS):
            try:
                scrubbed = record(attempt)
            except OperationalError as error:
                if attempt == MARK_SENT_ATTEMPTS - 1:
                    raise
                log.warning("%s, but the database is busy or unavailable (%s): retrying the record", what,
                            short_error(error))
                time.sleep(2 ** attempt)
                continue
            if scrubbed:
                truncate_wal(self.engine)
            return

    async def _reuse(self) -> aiosmtplib.SMTP | None:
        """The SMTP session kept from an earlier flush, if it is still good: used within the last KEEP_SECONDS,
        and answering a NOOP when idle for more than CHECK_SECONDS (a server may drop an idle client)."""
        smtp, self._kept = self._kept, None
        if smtp is None:
            return None
        idle = time.monotonic() - self._kept_at
        if not smtp.is_connected or idle > KEEP_SECONDS:
            await _quit(smtp)
            return None
        if idle > CHECK_SECONDS:
            try:
                await smtp.noop()
            except (aiosmtplib.SMTPException, OSError):
                smtp.close()
                return None
        return smtp

    def _due_ids(self) -> list[int]:
        with self.sessions() as session:
            return list(session.scalars(
                select(OutboxMail.id)
                .where(OutboxMail.status == "pending", OutboxMail.next_attempt_at <= self.clock())
                .order_by(OutboxMail.id)
                .limit(FLUSH_BATCH)
            ))

    async def _connect(self) -> aiosmtplib.SMTP:
        try:
            return await connect_smtp(self.server, self.timeout)
        except oauth.OAuthError as error:
            # The token endpoint is down or refused: mail waits in the outbox, like with the SMTP server down.
            raise aiosmtplib.SMTPConnectError(str(error)) from error

    async def _send_one(self, smtp: aiosmtplib.SMTP, guard: SendGuard, outbox_id: int, result: FlushResult) -> None:
        with guard.statements() as connection:
            # Claim the row with one conditional UPDATE: of two senders (a scheduler thread, a second daemon),
            # exactly one gets the row back and sends it. Core statements: this runs twice per mail sent.
            claimed = connection.execute(CLAIM, {"outbox_id": outbox_id}).one_or_none()
            if claimed is None:
                return
            sender, recipient, body, attempts = claimed
        if await self._hand_over(smtp, outbox_id, attempts, sender, recipient, body, result):
            self._mark_sent(guard, outbox_id)
            result.sent += 1

    async def _hand_over(self, smtp: aiosmtplib.SMTP, outbox_id: int, attempts: int, sender: str, recipient: str,
                         body: bytes, result: FlushResult) -> bool:
        """One claimed mail to the server. True when accepted (the caller records it); a refusal or an error is
        recorded here (_after_error), and a lost session raised after that."""
        try:
            if self.server.dkim is not None:
                # Signed now, not when stored: see mailbot/dkim.py (a rotated key applies to retries).
                body = dkim.sign(body, self.server.dkim)
            sender, recipient = ascii_domain(sender), ascii_domain(recipient)
            options = await _utf8_options(smtp, sender, recipient, body)
            await smtp.sendmail(sender, [recipient], body, mail_options=options)
        except NoSmtpUtf8 as error:
            self._after_error(outbox_id, attempts, 554, str(error), result)
        except aiosmtplib.SMTPRecipientsRefused as error:
            reply = "; ".join(f"{refused.code} {refused.message}" for refused in error.recipients) or str(error)
            self._after_error(outbox_id, attempts, error.recipients[0].code if error.recipients else 550,
                              reply, result)
        except aiosmtplib.SMTPResponseException as error:
            self._after_error(outbox_id, attempts, error.code, f"{error.code} {error.message}", result)
            if error.code == 421 or not smtp.is_connected:
                raise aiosmtplib.SMTPServerDisconnected(error.message) from error
        except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError, OSError) as error:
            # We cannot know whether the server kept it: the row goes back to pending, like after a crash.
            self._after_error(outbox_id, attempts, 421, f"{type(error).__name__}: {error}", result)
            raise
        except (UnicodeError, ValueError, aiosmtplib.SMTPException) as error:
            # E.g. a non-ASCII address the server cannot take (no SMTPUTF8): retrying cannot help.
            self._after_error(outbox_id, attempts, 554, f"{type(error).__name__}: {error}", result)
            if not smtp.is_connected:
                raise aiosmtplib.SMTPServerDisconnected(str(error)) from error
        else:
            return True
        return False

    def _mark_sent(self, guard: SendGuard, outbox_id: int) -> None:
        """The server has the mail: record it, retrying a busy database rather than leaving the row `sending`
        (which the next start would have to send again); the retries on a connection of their own."""
        def record(attempt: int) -> bool:
            with guard.statements() if attempt == 0 else self.engine.begin() as connection:
                return bool(connection.execute(MARK_SENT, {"outbox_id": outbox_id, "sent_at": self.clock()}).scalar())

        self._retrying(record, f"outbox {outbox_id} sent")

    def _after_error(self, outbox_id: int, attempts: int, code: int, message: str, result: FlushResult) -> None:
        permanent = 500 <= code < 600 or attempts >= self.max_attempts
        with self.sessions.begin() as session:
            recipient = session.scalar(select(OutboxMail.recipient).where(OutboxMail.id == outbox_id)) or ""
            values: dict[str, object] = {"last_error": message[:2000]}
            if permanent:
                values["status"] = "failed"
            else:
                values["status"] = "pending"
                values["next_attempt_at"] = self.clock() + backoff(attempts)
            # Fenced by the claim: a row an erasure cancelled meanwhile is not put back to be sent.
            session.execute(update(OutboxMail).where(OutboxMail.id == outbox_id, OutboxMail.status == "sending",
                                                     OutboxMail.attempts == attempts).values(**values))
            scrubbed = _rowcount(session.execute(SCRUB.where(OutboxMail.id == outbox_id))) if permanent else 0
        if scrubbed:
            truncate_wal(self.engine)
        # The journal gets the code and the reply without addresses; the full reply stays in last_error (and DEBUG).
        log.debug("outbox %s: SMTP %s, full reply: %s", outbox_id, code, message)
        shown = redact(message, recipient).removeprefix(f"{code} ")
        if permanent:
            log.warning("outbox %s failed for good: SMTP %s: %s", outbox_id, code, shown)
            assert result.failed is not None
            result.failed.append(outbox_id)
        else:
            log.info("outbox %s deferred: SMTP %s: %s", outbox_id, code, shown)
            result.deferred += 1


def _read_row(raw: Any, outbox_id: int, attempts: int) -> tuple[str, str, bytes] | None:
    cursor = raw.cursor()
    try:
        row = cursor.execute(READ_ROW, (outbox_id, attempts)).fetchone()
    except sqlite3.Error as error:  # as SQLAlchemy's: the daemon's loop knows a database outage by those
        raise DBAPIError.instance(READ_ROW, (outbox_id, attempts), error, sqlite3.Error) from error
    finally:
        cursor.close()
    return (row[0], row[1], bytes(row[2])) if row is not None else None


class _SmtpSession:
    """A flush's SMTP session, opened at its first mail: the one kept from the last flush, or a new one."""

    def __init__(self, sender: Sender) -> None:
        self.sender = sender
        self.smtp: aiosmtplib.SMTP | None = None

    async def get(self) -> aiosmtplib.SMTP:
        if self.smtp is None or not self.smtp.is_connected:
            self.smtp = await self.sender._reuse() or await self.sender._connect()
        return self.smtp


def _rowcount(result: Result[Any]) -> int:
    """The rows an UPDATE changed: Session.execute is typed as returning a Result, a DML statement gives a
    CursorResult."""
    return cast(CursorResult[Any], result).rowcount or 0
