"""coordination.SendGuard on PostgreSQL: a failed statement on its autocommit connection keeps the connection and
its locks (SQLAlchemy's state reset, the unlock still done); a connection the server cut is thrown away, the lock
gone with it, and the next mail opens another. On SQLite the guard holds nothing and its steps are transactions."""
from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from mailbot.coordination import SendGuard, connection_cut
from mailbot.db import make_engine, make_session_factory
from mailbot.models import OutboxMail

NOW = datetime(2026, 12, 3, 10, 0)


@pytest.fixture
def engine(database_url):  # type: ignore[no-untyped-def]
    """The database with three pending outbox rows, ids 7, 8 and 9 (the guard locks pending rows only)."""
    engine = make_engine(database_url)
    with make_session_factory(engine).begin() as session:
        for row_id in (7, 8, 9):
            session.add(OutboxMail(id=row_id, idempotency_key=f"k{row_id}", message_id=f"m{row_id}@club.test",
                                   kind="ack", sender="aide@club.test", recipient="lea@membres.test", subject="",
                                   body=b"", next_attempt_at=NOW, created_at=NOW))
    yield engine
    engine.dispose()


# pg_locks is the whole server's: the other test workers' daemons hold advisory locks in their own databases at the
# same time. Only this test's database counts (and only its connections may be cut).
THIS_DATABASE = "database = (SELECT oid FROM pg_database WHERE datname = current_database())"


def _advisory_locks(engine) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        return connection.scalar(text(f"SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND {THIS_DATABASE}")) or 0


def test_a_failed_statement_keeps_the_connection_and_its_lock(engine, database_url) -> None:  # type: ignore[no-untyped-def]
    guard = SendGuard(engine).start()
    try:
        with guard.hold(7) as mine:
            assert mine
            with pytest.raises(DBAPIError), guard.statements() as connection:
                connection.execute(text("SELECT nothing FROM no_such_table"))
            with guard.statements() as connection:  # usable again
                assert connection.scalar(text("SELECT 2")) == 2
            if guard.enabled:
                assert _advisory_locks(engine) == 1
        if guard.enabled:
            assert _advisory_locks(engine) == 0  # unlocked at the end of the hold
    finally:
        guard.close()


def test_a_cut_connection_is_replaced_at_the_next_mail(engine, database_url) -> None:  # type: ignore[no-untyped-def]
    if not database_url.startswith("postgresql"):
        pytest.skip("advisory locks: PostgreSQL only")
    guard = SendGuard(engine).start()
    admin = sqlalchemy.create_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        with guard.hold(8) as mine:
            assert mine
            with admin.connect() as connection:  # the server cuts the guard's connection (a restart, a failover)
                # With a timeout, pg_terminate_backend returns once the backend is gone (without one, the next
                # statement could reach it before it had read the signal, and succeed).
                connection.execute(text("SELECT pg_terminate_backend(pid, 10000) FROM pg_locks "
                                        f"WHERE locktype = 'advisory' AND {THIS_DATABASE} AND pid <> pg_backend_pid()"))
            with pytest.raises(DBAPIError), guard.statements() as connection:
                connection.execute(text("SELECT 1"))
            assert guard.connection is None  # thrown away: its lock went with it
        with guard.hold(9) as mine:  # the next mail: a new connection, a new lock
            assert mine and _advisory_locks(engine) == 1
    finally:
        guard.close()
        admin.dispose()


@pytest.mark.parametrize(("sqlstate", "cut"), [
    ("57P01", True),  # pg_terminate_backend: the error can be read before the end of the stream
    ("57P02", True), ("57P03", True), ("08006", True), ("08003", True),
    ("55P03", False),  # lock not available: the statement's failure, the session goes on
    ("23505", False), ("40001", False), ("", False),
])
def test_a_session_ended_by_the_server_is_told_by_its_state(sqlstate: str, cut: bool) -> None:
    """connection_cut reads the SQLSTATE, not only whether the driver has noticed the closed stream yet."""
    class ServerError(Exception):
        pass

    orig = ServerError("terminating connection due to administrator command")
    orig.sqlstate = sqlstate  # type: ignore[attr-defined]
    error = DBAPIError.instance("SELECT 1", {}, orig, Exception)
    assert connection_cut(error) is cut
    assert connection_cut(ValueError("not a database error")) is False
