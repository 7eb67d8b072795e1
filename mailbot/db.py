"""Engine, sessions and migrations."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "db"


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)
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
    cursor.close()


def _sqlite_begin_immediate(connection) -> None:  # type: ignore[no-untyped-def]
    # Take the write lock when the transaction starts, not at its first write: a transaction that has read and
    # then finds another process's newer commit cannot upgrade (SQLITE_BUSY_SNAPSHOT, "database is locked" at
    # once, no waiting). Begun IMMEDIATE, it waits its turn (timeout 30 s) — the daemon and its helper sending
    # process write side by side.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    """Bring the database to the newest schema (creates it when new)."""
    command.upgrade(alembic_config(url), "head")
