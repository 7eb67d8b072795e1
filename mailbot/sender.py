"""Hands outbox rows to the SMTP server (aiosmtplib): the only module that talks SMTP.

A row is marked `sending` (committed) before it is handed over and `sent` right after the server accepts it.
A crash between the two leaves it `sending`; at the next start it is sent again (at-least-once: its
Message-ID is unchanged, so receiving systems see the same mail) and counted in `interrupted_sends`.
Temporary failures (4xx, connection lost) retry with exponential backoff; permanent ones (5xx) fail the row
and alert Aideur.
"""
from __future__ import annotations

import asyncio
import logging
import ssl
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

import aiosmtplib
from sqlalchemy import Engine, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from mailbot.config import ServerSettings
from mailbot.models import OutboxMail

log = logging.getLogger(__name__)

BACKOFF_FIRST = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=2)
FLUSH_BATCH = 100
MARK_SENT_ATTEMPTS = 5


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


def backoff(attempts: int) -> timedelta:
    return min(BACKOFF_FIRST * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


def recover_interrupted(sessions: sessionmaker[Session]) -> int:
    """At start: rows left `sending` by a crash go back to `pending`. Returns how many."""
    with sessions.begin() as session:
        result = session.execute(
            update(OutboxMail)
            .where(OutboxMail.status == "sending")
            .values(status="pending", interrupted_sends=OutboxMail.interrupted_sends + 1)
        )
        return result.rowcount or 0


class Sender:
    def __init__(self, server: ServerSettings, sessions: sessionmaker[Session], *, max_attempts: int,
                 timeout: float, clock: Callable[[], datetime]) -> None:
        self.server = server
        self.sessions = sessions
        self.engine: Engine = sessions.kw["bind"]
        self.max_attempts = max_attempts
        self.timeout = timeout
        self.clock = clock

    def flush(self) -> FlushResult:
        return asyncio.run(self.flush_async())

    async def flush_async(self) -> FlushResult:
        result = FlushResult()
        smtp: aiosmtplib.SMTP | None = None
        try:
            while True:
                due = self._due_ids()
                if not due:
                    break
                for outbox_id in due:
                    if smtp is None or not smtp.is_connected:
                        smtp = await self._connect()
                    await self._send_one(smtp, outbox_id, result)
                if len(due) < FLUSH_BATCH:
                    break
        except (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError,
                aiosmtplib.SMTPAuthenticationError, OSError) as error:
            result.unreachable = f"{type(error).__name__}: {error}"
        finally:
            if smtp is not None and smtp.is_connected:
                try:
                    await smtp.quit()
                except (aiosmtplib.SMTPException, OSError):
                    smtp.close()
        return result

    def _due_ids(self) -> list[int]:
        with self.sessions() as session:
            return list(session.scalars(
                select(OutboxMail.id)
                .where(OutboxMail.status == "pending", OutboxMail.next_attempt_at <= self.clock())
                .order_by(OutboxMail.id)
                .limit(FLUSH_BATCH)
            ))

    async def _connect(self) -> aiosmtplib.SMTP:
        security = self.server.security
        smtp = aiosmtplib.SMTP(
            hostname=self.server.host,
            port=self.server.port,
            use_tls=security == "ssl",
            start_tls=True if security == "starttls" else False,
            timeout=self.timeout,
            tls_context=ssl.create_default_context() if security != "none" else None,
        )
        await smtp.connect()
        if self.server.user:
            await smtp.login(self.server.user, self.server.password)
        return smtp

    async def _send_one(self, smtp: aiosmtplib.SMTP, outbox_id: int, result: FlushResult) -> None:
        with self.engine.begin() as connection:
            # Claim the row with one conditional UPDATE: of two senders (a scheduler thread, a second daemon),
            # exactly one sees rowcount 1 and sends it. Core statements: this runs twice per mail sent.
            claimed = connection.execute(
                update(OutboxMail)
                .where(OutboxMail.id == outbox_id, OutboxMail.status == "pending")
                .values(status="sending", attempts=OutboxMail.attempts + 1)
            ).rowcount
            if claimed != 1:
                return
            sender, recipient, body, attempts = connection.execute(
                select(OutboxMail.sender, OutboxMail.recipient, OutboxMail.body, OutboxMail.attempts)
                .where(OutboxMail.id == outbox_id)).one()
        try:
            await smtp.sendmail(sender, [recipient], body)
        except aiosmtplib.SMTPRecipientsRefused as error:
            self._after_error(outbox_id, attempts, error.recipients[0].code if error.recipients else 550,
                              str(error), result)
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
            self._mark_sent(outbox_id)
            result.sent += 1

    def _mark_sent(self, outbox_id: int) -> None:
        """The server has the mail: record it, retrying a busy database rather than leaving the row `sending`
        (which the next start would have to send again)."""
        for attempt in range(MARK_SENT_ATTEMPTS):
            try:
                with self.engine.begin() as connection:
                    connection.execute(update(OutboxMail).where(OutboxMail.id == outbox_id)
                                       .values(status="sent", sent_at=self.clock(), last_error=""))
                    connection.execute(SCRUB.where(OutboxMail.id == outbox_id))
                return
            except OperationalError:
                if attempt == MARK_SENT_ATTEMPTS - 1:
                    raise
                log.warning("outbox %s sent, but the database is busy: retrying the record", outbox_id)
                time.sleep(2 ** attempt)

    def _after_error(self, outbox_id: int, attempts: int, code: int, message: str, result: FlushResult) -> None:
        permanent = 500 <= code < 600 or attempts >= self.max_attempts
        with self.sessions.begin() as session:
            values: dict[str, object] = {"last_error": message[:2000]}
            if permanent:
                values["status"] = "failed"
            else:
                values["status"] = "pending"
                values["next_attempt_at"] = self.clock() + backoff(attempts)
            session.execute(update(OutboxMail).where(OutboxMail.id == outbox_id).values(**values))
            if permanent:
                session.execute(SCRUB.where(OutboxMail.id == outbox_id))
        if permanent:
            log.warning("outbox %s failed for good: %s", outbox_id, message)
            assert result.failed is not None
            result.failed.append(outbox_id)
        else:
            log.info("outbox %s deferred: %s", outbox_id, message)
            result.deferred += 1
