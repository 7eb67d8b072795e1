"""`mailbot backup` / `restore` and the copy before a migration (mailbot.backup): consistent copies while another
process writes, a restore refused under a running daemon, atomic and checked, on SQLite and PostgreSQL."""
from __future__ import annotations

import sqlite3
import stat
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from mailbot import backup as bk
from mailbot.db import make_engine, make_session_factory, upgrade
from mailbot.members import upsert_member
from mailbot.models import Member


@pytest.fixture
def sqlite_db(tmp_path: Path) -> tuple[str, Path]:
    path = tmp_path / "var" / "mailbot.db"
    path.parent.mkdir()
    url = f"sqlite:///{path}"
    upgrade(url)
    return url, path


def _members(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            return sorted(session.scalars(select(Member.email)))
    finally:
        engine.dispose()


def _add(url: str, *emails: str) -> None:
    engine = make_engine(url)
    try:
        with make_session_factory(engine).begin() as session:
            for email in emails:
                upsert_member(session, email, first_name="X")
    finally:
        engine.dispose()


def test_a_backup_while_another_process_writes_is_one_consistent_snapshot(sqlite_db, tmp_path):
    url, path = sqlite_db
    with sqlite3.connect(path) as setup:
        setup.execute("CREATE TABLE pairs_a (n INTEGER)")
        setup.execute("CREATE TABLE pairs_b (n INTEGER)")
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            write()
        except BaseException as error:  # noqa: BLE001 - reported by the test
            errors.append(error)

    def write() -> None:  # each transaction writes one row in each table: a torn copy would show unequal counts
        connection = sqlite3.connect(path, timeout=30, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        n = 0
        while not stop.is_set():
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("INSERT INTO pairs_a VALUES (?)", (n,))
            connection.execute("INSERT INTO pairs_b VALUES (?)", (n,))
            connection.execute("COMMIT")
            n += 1
        connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while _count(path) < 20 and not errors:
            stop.wait(0.01)
        counts = []
        for i in range(6):
            target = tmp_path / f"copy-{i}.db"
            assert "integrity ok" in bk.backup(url, target)
            with sqlite3.connect(target) as copy:
                a, b = (copy.execute(f"SELECT count(*) FROM pairs_{t}").fetchone()[0] for t in "ab")
                assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one self-contained file
            assert a == b
            counts.append(a)
            assert stat.S_IMODE(target.stat().st_mode) == 0o600  # members' data: the owner only
            assert not Path(f"{target}-wal").exists()
    finally:
        stop.set()
        thread.join()
    assert not errors
    assert counts[-1] > counts[0] > 0  # the writer did write meanwhile


def _count(path: Path) -> int:
    with sqlite3.connect(path, timeout=30) as connection:
        return int(connection.execute("SELECT count(*) FROM pairs_a").fetchone()[0])


def test_a_backup_into_a_directory_is_dated_and_never_over_the_database(sqlite_db, tmp_path):
    url, path = sqlite_db
    message = bk.backup(url, tmp_path)
    [made] = tmp_path.glob("mailbot-*.db")
    assert str(made) in message
    with pytest.raises(bk.BackupError, match="the database itself"):
        bk.backup(url, path)
    with pytest.raises(bk.BackupError, match="no database"):
        bk.backup(f"sqlite:///{tmp_path / 'absent.db'}", tmp_path / "x.db")
    assert not (tmp_path / "absent.db").exists()


def test_restore_puts_the_backup_in_place_and_keeps_what_it_replaces(sqlite_db, tmp_path):
    url, path = sqlite_db
    _add(url, "a@club.test")
    bk.backup(url, tmp_path / "saved.db")
    _add(url, "b@club.test")
    message = bk.restore(url, tmp_path / "saved.db")
    assert _members(url) == ["a@club.test"]
    assert _members(f"sqlite:///{path}.before-restore") == ["a@club.test", "b@club.test"]
    assert "before-restore" in message
    assert sorted(p.name for p in path.parent.iterdir() if ".tmp" in p.name) == []


def test_restore_on_a_new_server_where_there_is_no_database_yet(sqlite_db, tmp_path):
    url, _path = sqlite_db
    _add(url, "a@club.test")
    bk.backup(url, tmp_path / "saved.db")
    new = tmp_path / "new-server" / "mailbot.db"
    bk.restore(f"sqlite:///{new}", tmp_path / "saved.db")
    assert _members(f"sqlite:///{new}") == ["a@club.test"]


@pytest.mark.parametrize("content", [b"", b"not a database at all" * 100, "sqlite-other"])
def test_restore_refuses_what_is_not_a_mailbot_backup_and_touches_nothing(sqlite_db, tmp_path, content):
    url, _path = sqlite_db
    _add(url, "a@club.test")
    bad = tmp_path / "bad.db"
    if content == "sqlite-other":
        with sqlite3.connect(bad) as other:
            other.execute("CREATE TABLE t (x)")
    else:
        bad.write_bytes(content)
    with pytest.raises(bk.BackupError):
        bk.restore(url, bad)
    assert _members(url) == ["a@club.test"]
    with pytest.raises(bk.BackupError, match="no such backup"):
        bk.restore(url, tmp_path / "absent.db")


def test_restore_is_refused_while_a_daemon_runs_and_no_daemon_starts_during_a_restore(database_url, tmp_path):
    with bk.daemon_lock(database_url), bk.daemon_lock(database_url):  # several daemons share the lock
        with pytest.raises(bk.DaemonRunning, match="systemctl stop mailbot"):
            bk.restore(database_url, Path(__file__))  # refused before the file is even looked at
        with pytest.raises(bk.DaemonRunning), bk.restore_lock(database_url):
            pass
    with bk.restore_lock(database_url), pytest.raises(bk.BackupError, match="restore .* under way"), \
            bk.daemon_lock(database_url):
        pass
    with bk.daemon_lock(database_url):  # released: a daemon starts again
        pass


def test_backup_and_restore_round_trip_on_both_databases(database_url, tmp_path):
    _add(database_url, "a@club.test")
    bk.backup(database_url, tmp_path / "saved")
    _add(database_url, "b@club.test")
    bk.restore(database_url, tmp_path / "saved")
    assert _members(database_url) == ["a@club.test"]
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            assert session.scalar(select(func.count()).select_from(Member)) == 1
    finally:
        engine.dispose()


def test_without_pg_dump_the_exact_command_is_printed_without_the_password(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no pg_dump, no pg_restore
    url = "postgresql+psycopg://mailbot:s3cret-pw@db.example.org:5433/club"
    with pytest.raises(bk.BackupError) as error:
        bk.backup(url, tmp_path / "club.pgdump")
    text = str(error.value)
    assert "pg_dump --format=custom --no-owner" in text and "postgresql://mailbot@db.example.org:5433/club" in text
    assert f"--file={tmp_path / 'club.pgdump'}" in text and "s3cret" not in text and "PGPASSWORD=" in text
    (tmp_path / "club.pgdump").write_bytes(b"x")
    monkeypatch.setattr(bk, "_advisory_lock", lambda url, exclusive: _nothing())
    with pytest.raises(bk.BackupError) as error:
        bk.restore(url, tmp_path / "club.pgdump")
    assert "pg_restore --clean --if-exists" in str(error.value) and "s3cret" not in str(error.value)


def _nothing():  # type: ignore[no-untyped-def]
    import contextlib

    return contextlib.nullcontext()


def test_a_migration_that_changes_the_schema_is_preceded_by_a_copy_and_the_last_few_are_kept(tmp_path):
    from alembic import command

    from mailbot.db import alembic_config, head_revision

    path = tmp_path / "mailbot.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    assert not (tmp_path / "backups").exists()  # a new database: nothing to keep
    upgrade(url)
    assert not (tmp_path / "backups").exists()  # already current: no migration, no copy
    command.downgrade(alembic_config(url), "0001")
    _add_old(path)
    upgrade(url)
    [copy] = (tmp_path / "backups").iterdir()
    assert "schema-0001" in copy.name and stat.S_IMODE(copy.stat().st_mode) == 0o600
    with sqlite3.connect(copy) as old:
        assert old.execute("SELECT version_num FROM alembic_version").fetchone()[0] == "0001"
        assert old.execute("SELECT email FROM members").fetchall() == [("old@club.test",)]
    for _ in range(bk.KEEP_MIGRATION_BACKUPS + 2):
        bk.before_migration(url, "0001", head_revision(url))
    assert len(list((tmp_path / "backups").iterdir())) == bk.KEEP_MIGRATION_BACKUPS


def _add_old(path: Path) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute(
            "insert into members (email, first_name, last_name, company, phone, skills, hobbies, particulars, "
            "visibility, status, accepts_appeals, created_at, updated_at) values ('old@club.test', 'O', 'L', '', "
            "'', '', '', '', 'membres', 'active', 1, '2026-01-01', '2026-01-01')")


def test_a_restore_keeps_the_database_owner_and_mode_and_the_lock_file_opens_for_anyone(sqlite_db, tmp_path):
    url, path = sqlite_db
    path.chmod(0o640)
    bk.backup(url, tmp_path / "saved.db")
    bk.restore(url, tmp_path / "saved.db")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640 and path.stat().st_uid == path.parent.stat().st_uid
    lock = Path(f"{path}.lock")
    lock.chmod(0o444)  # made by another user: this one may only read it, which is enough to lock
    with bk.daemon_lock(url):
        pass


def test_no_migration_without_its_copy(tmp_path, monkeypatch):
    from alembic import command

    from mailbot.db import alembic_config

    path = tmp_path / "mailbot.db"
    url = f"sqlite:///{path}"
    command.upgrade(alembic_config(url), "0001")

    def full(*_args: object) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(bk, "sqlite_copy", full)
    with pytest.raises(bk.BackupError, match="not migrated.*No space left"):
        upgrade(url)
    with sqlite3.connect(path) as connection:  # the schema did not change
        assert connection.execute("SELECT version_num FROM alembic_version").fetchone()[0] == "0001"
