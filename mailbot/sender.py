"""Hands outbox rows to the SMTP server (aiosmtplib): the only module that talks SMTP.

A row is marked `sending` (committed) before it is handed over and `sent` right after the server accepts it (in the
commit that claims the next mail: see Sender).
A crash between the two leaves it `sending`; at the next start it is sent again (at-least-once: its
Message-ID is unchanged, so receiving systems see the same mail) and counted in `interrupted_sends`.
On PostgreSQL, a process holds an advisory lock on a row from before its claim until its outcome is recorded
(coordination.SendGuard): recovery takes only the `sending` rows whose lock is free, so another live daemon's sends
are never taken back, and a dead one's are taken back as soon as its connection is gone (each cycle).
Temporary failures (4xx, connection lost) retry with exponential backoff; permanent ones (5xx) fail the row
and alert Aideur.
"""
from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import aiosmtplib
from sqlalchemy import Connection, CursorResult, Engine, Result, bindparam, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from mailbot import dkim, oauth
from mailbot.compose import ascii_domain, needs_smtputf8
from mailbot.config import ServerSettings
from mailbot.coordination import REQUEUE_ABANDONED, SendGuard, uses_advisory_locks
from mailbot.db import truncate_wal
from mailbot.logs import mask
from mailbot.models import OutboxMail

log = logging.getLogger(__name__)

BACKOFF_FIRST = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=2)
FLUSH_BATCH = 100
MARK_SENT_ATTEMPTS = 5
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

    def __post_init__(self) -> None:
        if self.failed is None:
            self.failed = []


# The last mails about a member who asked for erasure keep nothing personal once they are out (RGPD).
SCRUB = (update(OutboxMail).where(OutboxMail.scrub_after_send.is_(True))
         .values(body=b"", recipient="membre-efface@invalid", subject="", about=""))


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


def backoff(attempts: int) -> timedelta:
    return min(BACKOFF_FIRST * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


def recover_interrupted(sessions: sessionmaker[Session], *, at_start: bool = True) -> int:
    """Rows left `sending` by a process that died go back to `pending`. Returns how many.

    PostgreSQL: only rows no live sender holds (coordination.SendGuard), so it is safe at any time, with other
    daemons sending. SQLite: every `sending` row, at start only (one daemon per SQLite file)."""
    postgres = uses_advisory_locks(sessions.kw["bind"])
    if not postgres and not at_start:
        return 0
    with sessions.begin() as session:
        if postgres:
            recovered = _rowcount(session.execute(REQUEUE_ABANDONED))
        else:
            recovered = _rowcount(session.execute(
                update(OutboxMail)
                .where(OutboxMail.status == "sending")
                .values(status="pending", interrupted_sends=OutboxMail.interrupted_sends + 1)
            ))
    if recovered and not at_start:
        log.warning("%d mail(s) were being sent by a process that stopped: they will be sent again", recovered)
    return recovered


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


# The statements run for every mail, built once: building a statement and computing its cache key cost about as
# much as executing it (SQLAlchemy caches the compiled form by that key, computed once per statement object).
CLAIM = (update(OutboxMail)
         .where(OutboxMail.id == bindparam("outbox_id"), OutboxMail.status == "pending")
         .values(status="sending", attempts=OutboxMail.attempts + 1))
CLAIMED_ROW = (select(OutboxMail.sender, OutboxMail.recipient, OutboxMail.body, OutboxMail.attempts)
               .where(OutboxMail.id == bindparam("outbox_id")))
# With RETURNING (PostgreSQL, SQLite >= 3.35) the claim reads the row it claimed in the same statement.
CLAIM_RETURNING = CLAIM.returning(OutboxMail.sender, OutboxMail.recipient, OutboxMail.body, OutboxMail.attempts)
MARK_SENT = (update(OutboxMail).where(OutboxMail.id == bindparam("outbox_id"))
             .values(status="sent", sent_at=bindparam("sent_at"), last_error=""))
SCRUB_ONE = SCRUB.where(OutboxMail.id == bindparam("outbox_id"))
DUE = (select(OutboxMail.id)
       .where(OutboxMail.status == "pending", OutboxMail.next_attempt_at <= bindparam("now"))
       .order_by(OutboxMail.id)
       .limit(FLUSH_BATCH))


@dataclass
class Claimed:
    """An outbox row this process has marked `sending`: what it hands to the server."""
    id: int
    sender: str
    recipient: str
    body: bytes
    attempts: int


class Accepted:
    """The mail the server accepted last in a flush, not recorded `sent` yet, and the guard's hold on it (PostgreSQL:
    its advisory lock, kept until the record is committed). Never more than one."""

    def __init__(self) -> None:
        self.outbox_id: int | None = None
        self.hold = ExitStack()

    def keep(self, outbox_id: int, hold: ExitStack) -> None:
        assert self.outbox_id is None
        self.outbox_id, self.hold = outbox_id, hold

    def done(self, *, failing: bool = False) -> None:
        """Recorded (or given up, `failing`: an error is on its way up): its lock can go."""
        self.outbox_id = None
        if failing:
            _close_quietly(self.hold)
        else:
            self.hold.close()


def _close_quietly(hold: ExitStack) -> None:
    """Release a row's hold while an error goes up: the database error that stopped the sender is the one to report;
    an unlock that fails too (its connection broken as well) would hide it, and SendGuard.close releases every lock
    of the guard's connection anyway (or drops the connection, which releases them)."""
    try:
        hold.close()
    except Exception:  # see above: the error already going up says what happened
        log.debug("outbox lock release failed while an error was going up", exc_info=True)


class Sender:
    """Hands the due outbox rows to the SMTP server, one connection per flush.

    One transaction per mail: the claim of a mail (`pending` -> `sending`) also records the previous mail `sent`
    when the server has just accepted that one (`_claim`). The window between the server's 250 and the record is
    still one mail: the record is the next write after the 250, in the commit that claims the next mail (on
    PostgreSQL the next row's advisory lock is tried first, one round trip). Anything else first records the
    accepted mail on its own (`_settle`): a row skipped, a new connection, the next batch's query, the end of the
    flush, an error. A crash inside that window leaves that one mail `sending`, and recover_interrupted sends it
    again at the next start, as before: at most one mail per sender is ever accepted and not recorded.

    Batching the records of N mails in one commit would save more, but a crash would then send up to N mails
    twice (each mail accepted since the last commit); one commit per mail keeps that at one."""

    def __init__(self, server: ServerSettings, sessions: sessionmaker[Session], *, max_attempts: int,
                 timeout: float, clock: Callable[[], datetime], keep_connection: bool = False) -> None:
        self.server = server
        self.sessions = sessions
        self.engine: Engine = sessions.kw["bind"]
        self.max_attempts = max_attempts
        self.timeout = timeout
        self.clock = clock
        # keep_connection (the helper sending process, which flushes every few mails): one event loop for all the
        # flushes, and the SMTP connection kept open between them (a new one per flush cost as much CPU as
        # sending two mails). `close` ends both.
        self.keep_connection = keep_connection
        self._runner: asyncio.Runner | None = None
        self._kept: aiosmtplib.SMTP | None = None

    def flush(self) -> FlushResult:
        """Send every due mail (see flush_async). Nothing due: returns at once, without an event loop or a
        connection (the helper sending process asks often)."""
        due = self._due_ids()
        if not due:
            return FlushResult()
        if not self.keep_connection:
            return asyncio.run(self.flush_async(due))
        if self._runner is None:
            self._runner = asyncio.Runner()
        return self._runner.run(self.flush_async(due))

    def close(self) -> None:
        """Quit the SMTP connection kept between flushes, and close their event loop (keep_connection)."""
        runner, smtp = self._runner, self._kept
        self._runner = self._kept = None
        if runner is None:
            return
        try:
            if smtp is not None:
                runner.run(_quit(smtp))
        finally:
            runner.close()

    async def flush_async(self, due: list[int] | None = None) -> FlushResult:
        """Send every due mail (`due`: the first batch's ids, already read); returns what was sent, deferred,
        failed, or why the server could not be reached."""
        result = FlushResult()
        smtp = await self._reuse()
        guard = SendGuard(self.engine).start()
        accepted = Accepted()
        finished = False
        try:
            while True:
                self._settle(accepted)
                due = due if due is not None else self._due_ids()
                if not due:
                    break
                for outbox_id in due:
                    hold = ExitStack()
                    try:
                        if not hold.enter_context(guard.hold(outbox_id)):
                            # Another daemon's: skipped, no SMTP connection for it (and the accepted mail does not
                            # wait while others are skipped).
                            self._settle(accepted)
                        else:
                            if smtp is None or not smtp.is_connected:
                                self._settle(accepted)
                                smtp = await self._connect()
                            row = self._claim(outbox_id, accepted)
                            if row is not None and await self._send_one(smtp, row, result):
                                accepted.keep(outbox_id, hold)
                                hold = ExitStack()  # the row's hold outlives this block, until it is recorded
                    except BaseException:
                        _close_quietly(hold)
                        raise
                    hold.close()
                if len(due) < FLUSH_BATCH:
                    break
                due = None
            self._settle(accepted)
            finished = True
        except (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError,
                aiosmtplib.SMTPAuthenticationError, OSError) as error:
            result.unreachable = f"{type(error).__name__}: {error}"
        finally:
            try:
                self._settle(accepted)
            finally:
                guard.close()
                if smtp is not None and smtp.is_connected:
                    if self.keep_connection and finished:
                        self._kept = smtp
                    else:
                        await _quit(smtp)
        return result

    async def _reuse(self) -> aiosmtplib.SMTP | None:
        """The connection kept from the last flush, if the server still answers on it (a NOOP: a server may have
        closed it while it was idle, and a mail sent on a dead connection would wait for its backoff)."""
        smtp, self._kept = self._kept, None
        if smtp is None:
            return None
        try:
            await smtp.noop()
            return smtp
        except (aiosmtplib.SMTPException, OSError):
            smtp.close()
            return None

    def _due_ids(self) -> list[int]:
        with self.engine.connect() as connection:
            return list(connection.execute(DUE, {"now": self.clock()}).scalars())

    async def _connect(self) -> aiosmtplib.SMTP:
        try:
            return await connect_smtp(self.server, self.timeout)
        except oauth.OAuthError as error:
            # The token endpoint is down or refused: mail waits in the outbox, like with the SMTP server down.
            raise aiosmtplib.SMTPConnectError(str(error)) from error

    def _claim(self, outbox_id: int, accepted: Accepted) -> Claimed | None:
        """Mark the row `sending` and read what to send, in one transaction that also records the mail accepted
        just before (`accepted`) as sent. None: another sender claimed it first.

        The claim is one conditional UPDATE: of two senders (a scheduler thread, a second daemon), exactly one
        sees rowcount 1 and sends it. Should this transaction fail (a database busy for longer than its timeout),
        the accepted mail is recorded on its own, with the retries of `_settle`, and the error goes up as before."""
        previous = accepted.outbox_id
        try:
            with self.engine.begin() as connection:
                scrubbed = self._record_sent(connection, previous) if previous is not None else False
                params = {"outbox_id": outbox_id}
                if self.engine.dialect.update_returning:
                    claimed = connection.execute(CLAIM_RETURNING, params).one_or_none()
                elif connection.execute(CLAIM, params).rowcount == 1:
                    claimed = connection.execute(CLAIMED_ROW, params).one()
                else:
                    claimed = None
        except OperationalError:
            self._settle(accepted)
            raise
        if previous is not None:
            accepted.done()
            if scrubbed:
                truncate_wal(self.engine)  # the erased member's last mail: no copy left in the WAL
        if claimed is None:
            return None
        sender, recipient, body, attempts = claimed
        return Claimed(outbox_id, sender, recipient, body, attempts)

    def _record_sent(self, connection: Connection, outbox_id: int) -> bool:
        """Record one mail sent (and blank it if it was an erased member's last mail): True if it was blanked."""
        connection.execute(MARK_SENT, {"outbox_id": outbox_id, "sent_at": self.clock()})
        return bool(connection.execute(SCRUB_ONE, {"outbox_id": outbox_id}).rowcount)

    async def _send_one(self, smtp: aiosmtplib.SMTP, row: Claimed, result: FlushResult) -> bool:
        """Hand a claimed row to the server. True: accepted, to be recorded `sent` (by the next claim or `_settle`);
        a refusal or a failure is recorded here."""
        outbox_id, attempts, body = row.id, row.attempts, row.body
        try:
            if self.server.dkim is not None:
                # Signed now, not when stored: see mailbot/dkim.py (a rotated key applies to retries).
                body = dkim.sign(body, self.server.dkim)
            sender, recipient = ascii_domain(row.sender), ascii_domain(row.recipient)
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
            result.sent += 1
            return True
        return False

    def _settle(self, accepted: Accepted) -> None:
        """Record the accepted mail, if any, on its own: retrying a busy database rather than leaving the row
        `sending` (which the next start would have to send again)."""
        outbox_id = accepted.outbox_id
        if outbox_id is None:
            return
        for attempt in range(MARK_SENT_ATTEMPTS):
            try:
                with self.engine.begin() as connection:
                    scrubbed = self._record_sent(connection, outbox_id)
                break
            except OperationalError:
                if attempt == MARK_SENT_ATTEMPTS - 1:
                    accepted.done(failing=True)  # left `sending`: the next start sends it again
                    raise
                log.warning("outbox %s sent, but the database is busy: retrying the record", outbox_id)
                time.sleep(2 ** attempt)
        accepted.done()
        if scrubbed:
            truncate_wal(self.engine)  # the erased member's last mail: no copy left in the WAL

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
            session.execute(update(OutboxMail).where(OutboxMail.id == outbox_id).values(**values))
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


async def _quit(smtp: aiosmtplib.SMTP) -> None:
    try:
        await smtp.quit()
    except (aiosmtplib.SMTPException, OSError):
        smtp.close()


def _rowcount(result: Result[Any]) -> int:
    """The rows an UPDATE changed: Session.execute is typed as returning a Result, a DML statement gives a
    CursorResult."""
    return cast(CursorResult[Any], result).rowcount or 0
