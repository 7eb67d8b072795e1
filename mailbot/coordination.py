"""Several daemons on one database: which process handles a mail, runs a job, sends an outgoing mail.

Two servers, or a restart overlapping the old process, may run mailbot against the same mailbox and the same
PostgreSQL database. What keeps them from doing anything twice is in the database, never in a process:

- a mail is handled once because its Message-ID is unique (pipeline.py); to keep daemons from all parsing the same
  mail, each one first takes a PostgreSQL advisory lock on the UIDs of a batch (`MailClaims`) and fetches only
  the UIDs it got: another daemon skips them and takes the next batch. The locks are held until the batch is
  moved out of the inbox, and a dead process's locks go with its connection;
- a scheduled job runs in one process at a time: its transaction starts with `pg_try_advisory_xact_lock`
  (`try_job_lock`), and a daemon that finds the job running elsewhere skips it for this tick;
- an outgoing mail is claimed with a conditional UPDATE, and its sender holds an advisory lock on it from before
  the claim until the outcome is recorded (`SendGuard`): a daemon taking back the sends of a dead process
  (sender.recover_interrupted) takes only rows whose lock is free, never one a live daemon is sending.

On SQLite (one machine, `BEGIN IMMEDIATE`: one writing transaction at a time) the locks are no-ops: transactions
are serialised anyway, which is what makes a job or a mail run once there.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, func, select, text
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

LOCK_PREFIX = "mailbot:"
OUTBOX_LOCKS = 0x6D62  # the first key of the two-key advisory locks on outbox rows (the second: the row's id)
# The lock is tried only if the row is still pending (the target list is computed for matching rows only).
TRY_SEND_LOCK = text(f"SELECT pg_try_advisory_lock({OUTBOX_LOCKS}, id) FROM outbox "
                     "WHERE id = :id AND status = 'pending'")
SEND_UNLOCK = text(f"SELECT pg_advisory_unlock({OUTBOX_LOCKS}, CAST(:id AS integer))")


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for a name (a collision only makes a daemon skip, never repeat)."""
    return int.from_bytes(hashlib.blake2b((LOCK_PREFIX + name).encode(), digest_size=8).digest(), "big",
                          signed=True)


def uses_advisory_locks(bind: Engine | object) -> bool:
    dialect = getattr(bind, "dialect", None)
    return dialect is not None and dialect.name == "postgresql"


def try_job_lock(session: Session, name: str) -> bool:
    """Take the job's lock for the current transaction (released at commit or rollback). False: another process
    is running this job right now. Always True on SQLite, where BEGIN IMMEDIATE already serialises the jobs."""
    if not uses_advisory_locks(session.get_bind()):
        return True
    return bool(session.scalar(select(func.pg_try_advisory_xact_lock(lock_key(f"job:{name}")))))


def mail_key(folder: str, uidvalidity: int, uid: int) -> int:
    return lock_key(f"mail:{folder}:{uidvalidity}:{uid}")


class SendGuard:
    """PostgreSQL: the session-level advisory lock (OUTBOX_LOCKS, id) on each outbox row this process is sending,
    on a connection of its own, from before the claim until the outcome is recorded. A process that dies loses
    its connection, and its locks with it. On SQLite: nothing (`hold` always yields True)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.connection: Connection | None = None

    def start(self) -> SendGuard:
        if uses_advisory_locks(self.engine):
            self.connection = self.engine.connect()
        return self

    def close(self) -> None:
        if self.connection is not None:
            release(self.connection)
            self.connection = None

    @contextmanager
    def hold(self, outbox_id: int) -> Iterator[bool]:
        """True: the row is pending and now ours to claim. False: it is no longer pending, or another process is on
        it (one round trip, no claim attempted: several senders walking the same due list waste little)."""
        if self.connection is None:
            yield True
            return
        mine = bool(self.connection.execute(TRY_SEND_LOCK, {"id": outbox_id}).scalar())
        self.connection.commit()
        if not mine:
            yield False
            return
        try:
            yield True
        finally:
            self.connection.execute(SEND_UNLOCK, {"id": outbox_id})
            self.connection.commit()


# Rows left `sending` whose lock is free: their sender is gone. (MATERIALIZED: the lock is tried on those rows only.)
REQUEUE_ABANDONED = text(
    "WITH stuck AS MATERIALIZED (SELECT id FROM outbox WHERE status = 'sending') "
    "UPDATE outbox SET status = 'pending', interrupted_sends = outbox.interrupted_sends + 1 FROM stuck "
    "WHERE outbox.id = stuck.id AND outbox.status = 'sending' "
    f"AND pg_try_advisory_xact_lock({OUTBOX_LOCKS}, stuck.id)")


class MailClaims:
    """Session-level advisory locks on mailbox UIDs, one connection per claim.

    `hold()` locks what it can of the UIDs given, yields those (in the order given), and unlocks them when the block
    ends; a daemon killed meanwhile loses its connection, and PostgreSQL releases the locks with it.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.enabled = uses_advisory_locks(engine)

    @contextmanager
    def hold(self, folder: str, uidvalidity: int, uids: list[int]) -> Iterator[list[int]]:
        if not self.enabled or not uids:
            yield list(uids)
            return
        from mailbot.pipeline import TransientError  # pipeline imports the workflows; keep this module light

        keys = {mail_key(folder, uidvalidity, uid): uid for uid in uids}
        try:
            connection = self.engine.connect()
        except (OperationalError, InterfaceError) as error:
            raise TransientError(str(error)) from error
        try:
            try:
                got = set(connection.execute(
                    text("SELECT k FROM unnest(CAST(:keys AS bigint[])) AS k WHERE pg_try_advisory_lock(k)"),
                    {"keys": list(keys)}).scalars())
                connection.commit()  # session-level locks outlive the transaction; do not sit idle in one
            except (OperationalError, InterfaceError) as error:
                raise TransientError(str(error)) from error
            yield [uid for key, uid in keys.items() if key in got]
        finally:
            release(connection)


def release(connection) -> None:  # type: ignore[no-untyped-def]
    """Unlock everything this connection holds; a connection that cannot is thrown away (which unlocks too)."""
    try:
        connection.execute(text("SELECT pg_advisory_unlock_all()"))
        connection.commit()
    except Exception:  # noqa: BLE001 - a broken connection: closing it for good releases its locks server-side
        connection.invalidate()
    finally:
        connection.close()
