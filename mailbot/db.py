"""Engine, sessions and migrations."""
from __future__ import annotations

import sqlite3
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import CursorResult, Engine, Executable, create_engine, event, inspect, make_url, text
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic (and what it loads: Mako, Pygments) is imported only by the functions that migrate or explain a schema
# mismatch: every daemon start, its sending process and each command would pay 0.1 s of CPU for it.

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"  # package data: the wheel carries it
# The newest migration's revision: a database at it needs no look at the migration scripts (test_migrations.py
# checks that it is Alembic's head).
SCHEMA_HEAD = "0008b_activities"


def make_engine(url: str) -> Engine:
    """The engine for MAILBOT_DATABASE_URL; a driver that is not installed is a ConfigError saying what to install."""
    try:
        return _make_engine(url)
    except ModuleNotFoundError as error:
        from mailbot.config import ConfigError

        # PostgreSQL's driver is the `postgres` extra: a SQLite-only install does not carry it.
        if error.name == "psycopg":
            extra = "pip install 'mailbot[postgres]'"
        elif url.startswith("postgres"):
            extra = "install it, or write postgresql+psycopg:// and pip install 'mailbot[postgres]'"
        else:
            extra = f"install {error.name}"
        raise ConfigError("MAILBOT_DATABASE_URL", f"needs the Python module {error.name!r}, which is not "
                                                  f"installed: {extra}") from None


def _make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
                               hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    # hide_parameters: a logged database error must not carry a member's address or text (journald keeps logs).
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    # WAL lets the CLI read while the daemon writes; synchronous=NORMAL in WAL mode still never loses a
    # committed transaction on a process crash (only on power loss), which is the failure we design for.
    dbapi_connection.isolation_level = None  # transactions are begun by SQLAlchemy's "begin" event below
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # What is deleted or overwritten (an erased member's data) is zeroed in the file, not left in free pages.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


# How long BEGIN IMMEDIATE is tried every few milliseconds before SQLite's own wait (the 30 s timeout) takes over.
BEGIN_POLL_SECONDS = 2.0
_BEGIN_PAUSE = 0.0005  # the first pause; each next one 1.5 times longer, up to _BEGIN_PAUSE_MAX
_BEGIN_PAUSE_MAX = 0.004
SQLITE_BUSY_TIMEOUT_MS = 30_000


def _sqlite_begin_immediate(connection) -> None:  # type: ignore[no-untyped-def]
    # Take the write lock when the transaction starts, not at its first write: a transaction that has read and
    # then finds another process's newer commit cannot upgrade (SQLITE_BUSY_SNAPSHOT, "database is locked" at
    # once, no waiting). Begun IMMEDIATE, it waits its turn — the daemon and its helper sending process write
    # side by side. The whole wait is still the busy timeout (30 s): polled first, then SQLite's own wait.
    driver = connection.connection.driver_connection
    if driver is None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        return
    polled_ms = round(BEGIN_POLL_SECONDS * 1000)
    try:
        if _poll_begin(driver):
            return
        driver.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS - polled_ms}")
        connection.exec_driver_sql("BEGIN IMMEDIATE")  # SQLite's own wait, then its error as SQLAlchemy's
    finally:
        driver.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")


def _poll_begin(driver: sqlite3.Connection) -> bool:
    """BEGIN IMMEDIATE tried after 0.5 ms, then at pauses growing to 4 ms, for BEGIN_POLL_SECONDS; False when
    still busy.

    SQLite's own busy handler sleeps 1, 2, 5, 10… then 25, 50 and 100 ms between its tries: the helper sending
    process, whose transactions last a millisecond, waited for the daemon's (one mail each, ~20 ms, with a few
    milliseconds between them) and missed the gaps, so it sent one mail where the daemon queued two (a quarter of
    its time was spent there, measured with py-spy --idle). Polling finely takes the first gap."""
    driver.execute("PRAGMA busy_timeout = 0")
    deadline = time.monotonic() + BEGIN_POLL_SECONDS
    pause = _BEGIN_PAUSE
    while True:
        try:
            driver.execute("BEGIN IMMEDIATE")
            return True
        except sqlite3.OperationalError as error:
            if getattr(error, "sqlite_errorcode", sqlite3.SQLITE_BUSY) != sqlite3.SQLITE_BUSY:
                raise
            if time.monotonic() >= deadline:
                return False
            time.sleep(pause)
            # A longer wait means a longer transaction ahead: trying every 0.5 ms all along would take CPU from
            # the process holding the lock (the two cores are shared with it, Postfix and Dovecot).
            pause = min(pause * 1.5, _BEGIN_PAUSE_MAX)


def truncate_wal(target: Engine | sessionmaker[Session]) -> bool:
    """After an erasure (SQLite): copy the WAL into the database and truncate it to zero bytes, so that the old
    versions of the erased rows do not stay in the -wal file. True when the WAL is now empty (another connection
    still reading keeps it: the next erasure or checkpoint does it then). Nothing to do on PostgreSQL."""
    engine = target if isinstance(target, Engine) else target.kw["bind"]
    if engine.dialect.name != "sqlite":
        return True
    try:
        # The driver's own connection (autocommit, see _sqlite_pragmas): SQLAlchemy's would begin a transaction,
        # and a checkpoint cannot truncate from inside one.
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            busy, _log, _copied = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            cursor.close()
            return not busy
        finally:
            raw.close()
    except Exception:  # noqa: BLE001 - the erasure is committed; a checkpoint refused now is done later
        return False


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def read(session: Session, statement: Executable, params: Mapping[str, Any] | None = None
         ) -> CursorResult[*tuple[Any, ...]]:
    """Run a read of columns (no ORM entities; or an UPDATE … RETURNING of a counter), built once with bound
    parameters, in the session's transaction.

    What the ORM would answer: the session's pending changes are flushed first, as its autoflush does (not inside
    a `no_autoflush` block). What it costs: on this machine 45 µs a query instead of 200-280 µs for the same
    select built at each call and run through Session.execute (building, cache key, ORM result): a new request
    runs a dozen such reads (issue 16)."""
    if session.autoflush:
        session.flush()
    return session.connection().execute(statement, dict(params or {}))


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    """Bring the database to the newest schema (creates it when new). A SQLite database whose schema is about to
    change is copied first (mailbot.backup.before_migration: `backups/` beside it, the last few kept)."""
    from alembic import command

    path = sqlite_path(url)
    if path is not None and path.is_file():
        from mailbot.backup import before_migration

        before_migration(url, current_revision(url), head_revision(url))
    command.upgrade(alembic_config(url), "head")


# --- is the schema this code's? -----------------------------------------------------------------------------------


class SchemaError(Exception):
    """The database is missing, empty or not at this code's schema: the operator runs `mailbot db upgrade`."""


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for another database, or SQLite in memory)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def head_revision(url: str) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


def current_revision(url: str) -> str | None:
    """The schema revision the database is at (Alembic's table), None when it has none."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return None  # an empty database
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()


def require_schema(url: str) -> None:
    """Raise SchemaError, saying what to run, unless the database exists and is at the newest schema. Never creates
    anything (connecting to a SQLite path that does not exist would create an empty file there)."""
    path = sqlite_path(url)
    if path is not None and not path.is_file():
        raise SchemaError(f"no database at {path}: run `mailbot db upgrade` to create it "
                          "(or check MAILBOT_DATABASE_URL)")
    current = current_revision(url)
    if current == SCHEMA_HEAD:
        return
    from alembic.script import ScriptDirectory

    head = head_revision(url)
    if current is None:
        raise SchemaError("the database is empty (no schema yet): run `mailbot db upgrade`")
    if current != head:
        known = {script.revision for script in ScriptDirectory.from_config(alembic_config(url)).walk_revisions()}
        if current not in known:
            raise SchemaError(f"the database schema ({current}) is newer than this mailbot's ({head}): "
                              "install the newer mailbot, or restore a backup made for this one")
        raise SchemaError(f"the database schema is {current}, this mailbot needs {head}: run `mailbot db upgrade`")
