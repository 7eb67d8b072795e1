"""The quarantine folder as something the operator can act on: list it, replay a mail once its cause is fixed.

GNU Mailman's `unshunt` is the model. A quarantined mail has an inbound record (outcome `quarantined`, with the
reason) and its raw bytes in the quarantine folder; the two are joined by the SHA-256 of the bytes (IMAP moves keep
them), or by the content digest for a second delivery quarantined as a duplicate of the first.

Replaying a mail moves it back to the inbox, where the daemon processes it like any new mail. Its quarantine record
would make it a duplicate of itself (the pipeline records each mail once, by Message-ID and content digest), so the
record is first *released*: marked `replayed` and filed under a derived Message-ID, committed before the move.
Replays run one at a time per database (`_replay_lock`) and each reads the folder afresh, so a mail is moved back
once; the pipeline's own duplicate check does the rest (a daemon racing the replay still processes it once).
"""
from __future__ import annotations

import email
import email.message
import email.policy
import email.utils
import fcntl
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from mailbot.config import ConfigError, Settings
from mailbot.coordination import lock_key, uses_advisory_locks
from mailbot.mailbox import Mailbox, batches
from mailbot.models import InboundMail as InboundRecord
from mailbot.pipeline import QUARANTINED, content_digest

REPLAYED = "replayed"
# A released quarantine record is filed under "<its Message-ID>.rejeu-<record id>": unique, and never the
# identifier the replayed mail will be recorded under (mailbox._as_carried strips it when erasing).
REPLAY_MARK = ".rejeu-"
FETCH_COUNT = 50
FETCH_BYTES = 20_000_000


@dataclass(frozen=True)
class QuarantinedMail:
    """One mail of the quarantine folder, with why it is there (from its inbound record)."""

    uid: int  # in the quarantine folder: what `replay` takes
    date: datetime | None  # when mailbot received it (its record), else the mail's own Date header
    sender: str
    subject: str
    reason: str  # empty when no record says why (put there by hand, or erased since)
    raw_sha256: str = field(repr=False, default="")
    record_ids: tuple[int, ...] = field(repr=False, default=())  # its quarantine records still to release

    def as_dict(self) -> dict[str, object]:
        # Records hold naive UTC: said so, so that a reader in another zone is not misled.
        date = self.date.replace(tzinfo=UTC) if self.date and self.date.tzinfo is None else self.date
        return {"uid": self.uid, "date": date.isoformat() if date else None, "sender": self.sender,
                "subject": self.subject, "reason": self.reason}


@dataclass
class ReplayReport:
    replayed: list[int] = field(default_factory=list)  # moved back to the inbox
    busy: list[int] = field(default_factory=list)  # released meanwhile by another replay: left to it
    missing: list[int] = field(default_factory=list)  # no such UID in the quarantine folder


def open_quarantine(settings: Settings) -> Mailbox | None:
    """The quarantine folder, selected; None when it does not exist yet (nothing was ever quarantined)."""
    if settings.imap is None:
        raise ConfigError("MAILBOT_IMAP_HOST", "is required to read the quarantine folder")
    box = Mailbox(settings.imap, settings.imap_folder)
    box.connect()
    if not box.box.folder.exists(settings.quarantine_folder):
        box.close()
        return None
    box.folder = settings.quarantine_folder
    box.select()
    return box


def list_quarantine(settings: Settings, sessions: sessionmaker[Session]) -> list[QuarantinedMail]:
    """Every mail of the quarantine folder, in UID order, with its reason. Reads only (BODY.PEEK, SELECT)."""
    box = open_quarantine(settings)
    if box is None:
        return []
    try:
        return _read(box, sessions, [uid for uid, _ in box.sizes()])
    finally:
        box.close()


def replay(settings: Settings, sessions: sessionmaker[Session], uids: list[int] | None) -> ReplayReport:
    """Move these quarantined mails (all of them with None) back to the inbox, to be processed again, once.

    Writes: each mail's quarantine records become `replayed` (derived Message-ID), committed before the move, so the
    daemon never sees the mail while its record still makes it a duplicate. Queues nothing: the daemon's next cycle
    processes the mail (and quarantines it again, with a new notice to Aideur, if the cause is not fixed)."""
    with _replay_lock(sessions):
        return _replay(settings, sessions, uids)


def _replay(settings: Settings, sessions: sessionmaker[Session], uids: list[int] | None) -> ReplayReport:
    report = ReplayReport()
    box = open_quarantine(settings)  # opened inside the lock: what an earlier replay moved is gone from here
    if box is None:
        report.missing = sorted(set(uids or []))
        return report
    try:
        present = [uid for uid, _ in box.sizes()]
        wanted = present if uids is None else sorted(set(uids))
        report.missing = [uid for uid in wanted if uid not in present]
        for mail in _read(box, sessions, [uid for uid in wanted if uid in present]):
            if _release(sessions, box, mail) and box.move_claimed([mail.uid], settings.imap_folder):
                report.replayed.append(mail.uid)
            else:
                report.busy.append(mail.uid)
    finally:
        box.close()
    return report


@contextmanager
def _replay_lock(sessions: sessionmaker[Session]) -> Iterator[None]:
    """One replay at a time per database: IMAP lets two sessions move the same mail at once (each copies it before
    either expunges it), which would put two copies in the inbox. PostgreSQL: an advisory lock (it goes with the
    connection if the command dies); SQLite, which lives on one machine: a lock file beside the database."""
    engine = sessions.kw["bind"]
    if uses_advisory_locks(engine):
        with engine.connect() as connection:
            connection.execute(select(func.pg_advisory_lock(lock_key("quarantine-replay"))))
            try:
                yield
            finally:
                connection.execute(select(func.pg_advisory_unlock(lock_key("quarantine-replay"))))
                connection.commit()
        return
    database = engine.url.database
    if not database or database == ":memory:":
        yield
        return
    with open(f"{database}.replay-lock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, and if the command dies
        yield


def _release(sessions: sessionmaker[Session], box: Mailbox, mail: QuarantinedMail) -> bool:
    """Mark the mail's quarantine records replayed; False when another replay released them first (or moved the
    mail meanwhile). The UID is checked while the update holds its locks, so that a concurrent replay which has
    released and moved the mail, and a daemon which has quarantined it again, lose nothing to this one."""
    if not mail.record_ids:
        return True  # nothing would make it a duplicate; a second copy moved by someone else is one (pipeline)
    with sessions() as session:
        released = 0
        for record_id in mail.record_ids:
            record = session.get(InboundRecord, record_id)
            if record is None:
                continue
            result = session.execute(
                update(InboundRecord)
                .where(InboundRecord.id == record_id, InboundRecord.outcome == QUARANTINED)
                .values(outcome=REPLAYED, message_id=replayed_id(record.message_id, record_id))
                .execution_options(synchronize_session=False))
            released += cast("CursorResult[Any]", result).rowcount or 0
        box.box.client.noop()  # the expunges of other sessions (a replay that moved it) are seen from here on
        if released == 0 or str(mail.uid) not in box.box.uids("ALL"):
            session.rollback()
            return False
        session.commit()
    return True


def replayed_id(message_id: str, record_id: int) -> str:
    """The Message-ID a released quarantine record is filed under (within the column's 998 characters)."""
    suffix = f"{REPLAY_MARK}{record_id}"
    return f"{message_id[:998 - len(suffix)]}{suffix}"


def _read(box: Mailbox, sessions: sessionmaker[Session], uids: list[int]) -> list[QuarantinedMail]:
    wanted = set(uids)
    sizes = [(uid, size) for uid, size in box.sizes() if uid in wanted]
    found: list[QuarantinedMail] = []
    for batch in batches(sizes, FETCH_COUNT, FETCH_BYTES):
        fetched = list(box.fetch(batch))
        digests = {mail.uid: (hashlib.sha256(mail.raw).hexdigest(), content_digest(mail.raw)) for mail in fetched}
        records = _records(sessions, digests)
        for mail in fetched:
            raw, content = digests[mail.uid]
            mine = [r for r in records if r.raw_sha256 == raw] or [r for r in records if r.content_sha256 == content]
            found.append(_describe(mail.uid, mail.raw, raw, mine))
    return found


def _records(sessions: sessionmaker[Session], digests: dict[int, tuple[str, str]]) -> list[InboundRecord]:
    raws = [raw for raw, _ in digests.values()]
    contents = [content for _, content in digests.values()]
    with sessions() as session:
        rows = session.scalars(select(InboundRecord).where(
            InboundRecord.outcome.in_([QUARANTINED, REPLAYED]),
            or_(InboundRecord.raw_sha256.in_(raws), InboundRecord.content_sha256.in_(contents)))
            .order_by(InboundRecord.id)).all()
        session.expunge_all()
        return list(rows)


def _describe(uid: int, raw: bytes, digest: str, records: list[InboundRecord]) -> QuarantinedMail:
    quarantined = [r for r in records if r.outcome == QUARANTINED]
    headers = email.message_from_bytes(raw[:65536], policy=email.policy.default)
    if quarantined:
        latest = quarantined[-1]
        return QuarantinedMail(uid, latest.received_at, latest.from_address or _header(headers, "from"),
                               latest.subject or _header(headers, "subject"), latest.reason, digest,
                               tuple(r.id for r in quarantined))
    # No quarantine record left: released by a replay cut before its move, or the mail was put here by hand.
    reason = f"{records[-1].reason} (rejeu interrompu : à relancer)" if records else ""
    return QuarantinedMail(uid, records[-1].received_at if records else _date(headers), _header(headers, "from"),
                           _header(headers, "subject"), reason, digest, ())


def _header(message: email.message.Message, name: str) -> str:
    try:
        value = message.get(name)
    except Exception:  # noqa: BLE001 - a header the parser cannot decode is shown empty, never fails the listing
        return ""
    return " ".join(str(value).split())[:300] if value is not None else ""


def _date(message: email.message.Message) -> datetime | None:
    try:
        return email.utils.parsedate_to_datetime(_header(message, "date"))
    except (TypeError, ValueError, IndexError):
        return None


__all__ = ["REPLAYED", "QuarantinedMail", "ReplayReport", "list_quarantine", "replay", "replayed_id"]
