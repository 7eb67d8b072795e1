"""The database goes away under the running daemon: PostgreSQL connections terminated, the SQLite file locked
longer than the busy timeout, the disk holding SQLite full. The daemon logs it, retries, then finishes: nothing
lost, nothing doubled, still alive."""
from __future__ import annotations

import random
import shutil
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from mailbot.db import make_engine, make_session_factory
from mailbot.models import InboundMail, OutboxMail
from tests.conftest import POSTGRES_ADMIN_URL, make_env
from tests.faults.harness import (
    FaultDaemon,
    assert_alive,
    assert_logged,
    check_exactly_once,
    drop_in_maildir,
    fault_seed,
    request,
    scaled,
    settle,
)
from tests.helpers import ALICE, CHLOE, CLUB, MEMBERS, add_members
from tests.integration.daemon_process import wait_until

SQLITE_BUSY_TIMEOUT = 30  # seconds: mailbot.db.make_engine

pytestmark = [pytest.mark.slow]  # minutes of real servers: `make test` runs them, `make test-fast` not


def _recorded(sessions) -> int:  # type: ignore[no-untyped-def]
    try:
        with sessions() as session:
            return session.scalar(select(func.count(InboundMail.id))) or 0
    except sqlalchemy.exc.OperationalError:
        return -1  # the database is the thing being broken


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgresql_connections_terminated(clean_mail, database_url, sessions_for):
    """pg_terminate_backend on every connection of the daemon (and its helper), again and again, while it works."""
    seed = fault_seed()
    rng = random.Random(seed)
    mails = scaled(150)
    sessions = sessions_for(database_url)
    add_members(sessions)
    requests = [request(MEMBERS[n % 3], f"Demande sans base {n}") for n in range(mails)]
    drop_in_maildir(clean_mail, CLUB, (raw for _, raw in requests))
    name = make_url(database_url).database
    admin = sqlalchemy.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    terminated = 0
    env = make_env(clean_mail, database_url, MAILBOT_RATE_LIMIT_PER_HOUR="1000000", MAILBOT_POLL_SECONDS="1",
                   MAILBOT_BATCH_SIZE="20")
    try:
        with FaultDaemon(env, "postgresql-terminated", level="INFO") as daemon:
            assert wait_until(lambda: _recorded(sessions) >= 10, 60), daemon.output()
            until = time.monotonic() + scaled(6)
            while time.monotonic() < until:
                time.sleep(rng.uniform(0.05, 0.6))
                with admin.connect() as connection:
                    terminated += len(connection.execute(sqlalchemy.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name AND pid <> pg_backend_pid()"),
                        {"name": name}).all())
                assert daemon.alive(), daemon.output()
            settle(clean_mail, sessions, timeout=120)
            alive = assert_alive(daemon, clean_mail, sessions, ALICE)
            line = assert_logged(daemon, r"database unavailable|terminat|connection.*(?:closed|lost)")
            assert daemon.terminate() == 0, daemon.output()
    finally:
        admin.dispose()
    ledger = check_exactly_once(clean_mail, sessions, [mid for mid, _ in requests] + [alive])
    assert ledger.processed == mails + 1
    print(f"seed {seed}: {terminated} PostgreSQL connections terminated over {mails} mails: {ledger.line()}\n  {line}")


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgresql_down_while_the_daemon_sends(clean_mail, database_url, sessions_for):
    """PostgreSQL goes away for a few seconds (connections cut, new ones refused) in the middle of sending."""
    seed = fault_seed()
    rng = random.Random(seed)
    sessions = sessions_for(database_url)
    add_members(sessions)
    requests = [request(MEMBERS[n % 3], f"Demande envoyée sans base {n}") for n in range(60)]
    name = make_url(database_url).database
    admin = sqlalchemy.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")

    def sent() -> int:
        with sessions() as session:
            return session.scalar(select(func.count(OutboxMail.id)).where(OutboxMail.status == "sent")) or 0

    def allow(connections: bool) -> None:
        with admin.connect() as connection:
            connection.execute(sqlalchemy.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(connections).lower()}'))
            if not connections:
                connection.execute(sqlalchemy.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                                   "WHERE datname = :name"), {"name": name})

    env = make_env(clean_mail, database_url, MAILBOT_RATE_LIMIT_PER_HOUR="1000000", MAILBOT_POLL_SECONDS="1")
    try:
        with FaultDaemon(env, "postgresql-down-sending") as daemon:
            first = assert_alive(daemon, clean_mail, sessions, CHLOE)
            drop_in_maildir(clean_mail, CLUB, (raw for _, raw in requests))
            assert wait_until(lambda: sent() >= 2 + rng.randint(5, 40), 60, 0.02), daemon.output()
            sessions.kw["bind"].dispose()
            allow(False)
            outage = rng.uniform(2, 4)
            time.sleep(outage)
            allow(True)
            assert daemon.alive(), f"the daemon died in a {outage:.1f} s outage while sending:\n{daemon.output()}"
            try:
                settle(clean_mail, sessions, timeout=25)
            except AssertionError as error:
                raise AssertionError(f"{error}; the daemon's threads:\n{daemon.stacks()}") from None
            alive = assert_alive(daemon, clean_mail, sessions, ALICE)
            line = assert_logged(daemon, r"database unavailable|not currently accepting connections|terminat")
            assert daemon.terminate() == 0, daemon.output()
    finally:
        allow(True)
        admin.dispose()
    ledger = check_exactly_once(clean_mail, sessions, [first] + [mid for mid, _ in requests] + [alive])
    print(f"seed {seed}: PostgreSQL down {outage:.1f} s while sending: {ledger.line()}\n  {line}")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_sqlite_locked_longer_than_the_busy_timeout(clean_mail, database_url, sessions_for):
    """Another process holds the SQLite write lock (BEGIN EXCLUSIVE) past the daemon's 30 s busy timeout."""
    seed = fault_seed()
    rng = random.Random(seed)
    mails = scaled(80)
    sessions = sessions_for(database_url)
    add_members(sessions)
    requests = [request(MEMBERS[n % 3], f"Demande base verrouillée {n}") for n in range(mails)]
    env = make_env(clean_mail, database_url, MAILBOT_RATE_LIMIT_PER_HOUR="1000000", MAILBOT_POLL_SECONDS="1",
                   MAILBOT_BATCH_SIZE="20")
    path = make_url(database_url).database
    with FaultDaemon(env, "sqlite-locked") as daemon:
        first = assert_alive(daemon, clean_mail, sessions, CHLOE)
        drop_in_maildir(clean_mail, CLUB, (raw for _, raw in requests))
        # The lock is taken while the daemon works: mid-transaction, mid-send or between two mails.
        target = rng.randint(5, mails // 2)
        assert wait_until(lambda: _recorded(sessions) >= target, 60), daemon.output()
        locker = sqlite3.connect(path, timeout=60, isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")
        try:
            held = SQLITE_BUSY_TIMEOUT + rng.uniform(1, 4)
            time.sleep(held)
            assert daemon.alive(), daemon.output()
        finally:
            locker.execute("ROLLBACK")
            locker.close()
        settle(clean_mail, sessions, timeout=120)
        alive = assert_alive(daemon, clean_mail, sessions, ALICE)
        line = assert_logged(daemon, r"database unavailable|database is locked|database is busy")
        assert daemon.terminate() == 0, daemon.output()
    ledger = check_exactly_once(clean_mail, sessions, [first] + [mid for mid, _ in requests] + [alive])
    print(f"seed {seed}: SQLite locked for {held:.1f} s with {mails} mails waiting: {ledger.line()}\n  {line}")


@pytest.fixture
def small_disk(migrated_sqlite):  # type: ignore[no-untyped-def]
    """A 24 MB tmpfs holding a fresh SQLite database (mount works as root here)."""
    mount = Path(tempfile.mkdtemp(prefix="mailbot-full-", dir="/tmp"))
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m,mode=0755", "tmpfs", str(mount)],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        mount.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
    shutil.copy(migrated_sqlite, mount / "mailbot.db")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
        mount.rmdir()


def _fill(directory: Path) -> Path:
    filler = directory / "filler"
    with filler.open("wb") as out:
        try:
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        except OSError:
            pass
    return filler


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_sqlite_disk_full(clean_mail, database_url, small_disk):
    """The file system holding the SQLite database fills up while mail waits, then space comes back."""
    seed = fault_seed()
    rng = random.Random(seed)
    mails = scaled(80)
    url = f"sqlite:///{small_disk / 'mailbot.db'}"
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    try:
        add_members(sessions)
        requests = [request(MEMBERS[n % 3], f"Demande disque plein {n}", "Bonjour,\n\n" + "Un long texte. " * 400)
                    for n in range(mails)]
        env = make_env(clean_mail, url, MAILBOT_RATE_LIMIT_PER_HOUR="1000000", MAILBOT_POLL_SECONDS="1",
                       MAILBOT_BATCH_SIZE="10")
        with FaultDaemon(env, "sqlite-disk-full") as daemon:
            first = assert_alive(daemon, clean_mail, sessions, CHLOE)
            filler = _fill(small_disk)
            drop_in_maildir(clean_mail, CLUB, (raw for _, raw in requests))
            assert wait_until(lambda: "disk is full" in daemon.log.read_text(errors="replace"), 60), daemon.output()
            time.sleep(rng.uniform(1, 5))  # the daemon keeps failing and retrying for a while
            assert daemon.alive(), daemon.output()
            filler.unlink()
            settle(clean_mail, sessions, timeout=120)
            alive = assert_alive(daemon, clean_mail, sessions, ALICE)
            line = assert_logged(daemon, r"disk is full")
            assert daemon.terminate() == 0, daemon.output()
        ledger = check_exactly_once(clean_mail, sessions, [first] + [mid for mid, _ in requests] + [alive])
    finally:
        engine.dispose()
    print(f"seed {seed}: disk full under SQLite with {mails} mails waiting: {ledger.line()}\n  {line}")
