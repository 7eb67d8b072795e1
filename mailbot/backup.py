"""`mailbot backup` and `mailbot restore`, the daemon's lock, and the automatic copy before a migration.

SQLite: the copy is made with SQLite's online backup API (`sqlite3.Connection.backup`) in one step, so it is one
consistent snapshot even while the daemon writes (WAL mode: the daemon is not blocked meanwhile), then checked
(`PRAGMA integrity_check`) and written as one self-contained file, readable by the service user only.
PostgreSQL: `pg_dump --format=custom` when it is installed, otherwise the exact command to run is printed.

A restore must not happen under a running daemon (it would go on with a database that changed under it, and SQLite
would mix the old WAL into the new file). Each `mailbot run` holds a shared lock while it runs — a `flock` on
`DATABASE.lock` beside a SQLite file, a session advisory lock on PostgreSQL — and the restore takes it exclusively,
or refuses. Both kinds of lock go with the process, even on SIGKILL: no stale pid file to clean.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import URL, Connection, Engine, create_engine, make_url, text
from sqlalchemy.pool import NullPool

from mailbot.db import sqlite_path

KEEP_MIGRATION_BACKUPS = 5  # automatic copies kept before migrations (the oldest go)
MIGRATION_BACKUP_DIR = "backups"  # beside the SQLite file: /var/lib/mailbot/backups/ for the service
_ADVISORY_KEY = 0x6D61696C626F74  # "mailbot" in ASCII: the advisory lock's key on PostgreSQL


class BackupError(Exception):
    """A backup or restore that cannot be done; the text says why and what to do."""


class DaemonRunning(BackupError):
    """A restore refused because a daemon holds the database."""


# --- backup -------------------------------------------------------------------------------------------------------


def backup(url: str, target: Path) -> str:
    """Write a consistent copy of the database to `target` (a directory: a dated file in it); returns what was
    done, in one line. Raises BackupError."""
    source = sqlite_path(url)
    if source is not None:
        if not source.is_file():
            raise BackupError(f"no database at {source} (MAILBOT_DATABASE_URL): nothing to back up")
        if target.is_dir():
            target = target / f"mailbot-{_stamp()}.db"
        if target.exists() and target.resolve() == source.resolve():
            raise BackupError(f"{target} is the database itself: choose another file")
        pages = sqlite_copy(source, target)
        return f"backup written: {target} ({pages} pages, integrity ok)"
    if target.is_dir():
        target = target / f"mailbot-{_stamp()}.pgdump"
    return _pg_dump(url, target)


def sqlite_copy(source: Path, target: Path) -> int:
    """Copy SQLite `source` to `target` atomically (a temporary file renamed into place) and return its page count.
    One backup step copies every page under one read transaction: a snapshot, whatever the daemon commits meanwhile.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)
    os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))  # personal data: owner only
    try:
        with contextlib.closing(sqlite3.connect(source, timeout=30)) as src, \
                contextlib.closing(sqlite3.connect(temporary)) as dst:
            src.backup(dst, pages=-1)
            # One file, no -wal beside it: what is copied or moved later is the whole backup.
            dst.execute("PRAGMA journal_mode=DELETE")
            pages = dst.execute("PRAGMA page_count").fetchone()[0]
        check_sqlite_file(temporary)
        with open(temporary, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_directory(target.parent)
    return int(pages)


def check_sqlite_file(path: Path) -> None:
    """Raise BackupError unless `path` is an intact SQLite database made by mailbot (it has a schema version)."""
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
            result = connection.execute("PRAGMA integrity_check").fetchone()[0]
            if result != "ok":
                raise BackupError(f"{path} is damaged (integrity check: {result})")
            versions = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} is not a mailbot SQLite database ({error})") from None
    if not versions:
        raise BackupError(f"{path} is not a mailbot database (no schema version)")


def _pg_dump(url: str, target: Path) -> str:
    command = ["pg_dump", "--format=custom", "--no-owner", f"--file={target}", "--dbname", _libpq_url(url)]
    if shutil.which("pg_dump") is None:
        raise BackupError("pg_dump is not installed here (apt-get install postgresql-client); run, as a user who "
                          f"may read the database:\n  {_shown(command, url)}")
    env = os.environ | _pg_password(url)
    result = subprocess.run(command, check=False, env=env, capture_output=True, text=True, timeout=3600)
    if result.returncode != 0:
        raise BackupError(f"pg_dump failed: {result.stderr.strip()[:500]}\nthe command was:\n  {_shown(command, url)}")
    os.chmod(target, 0o600)
    return f"backup written: {target} (pg_dump, custom format; restore with `mailbot restore {target}`)"


# --- restore ------------------------------------------------------------------------------------------------------


def restore(url: str, source: Path) -> str:
    """Put the backup `source` in place of the database, refused (DaemonRunning) while a daemon runs on it.
    SQLite: checked first, the current database kept beside it (`.before-restore`), then swapped atomically.
    The schema of an older backup is brought up to date at the daemon's next start (`mailbot db upgrade`)."""
    if not source.is_file():
        raise BackupError(f"no such backup file: {source}")
    database = sqlite_path(url)
    with restore_lock(url):
        if database is None:
            return _pg_restore(url, source)
        check_sqlite_file(source)
        database.parent.mkdir(parents=True, exist_ok=True)
        staged = database.with_name(f".{database.name}.restore.tmp")
        sqlite_copy(source, staged)
        _same_owner(staged, database if database.is_file() else database.parent)
        kept = ""
        if database.is_file():
            previous = database.with_name(database.name + ".before-restore")
            sqlite_copy(database, previous)
            kept = f"; the database it replaces is kept in {previous}"
        # The old WAL must go before the new file is in place: SQLite would replay it onto the restored database.
        for suffix in ("-wal", "-shm", "-journal"):
            database.with_name(database.name + suffix).unlink(missing_ok=True)
        os.replace(staged, database)
        _fsync_directory(database.parent)
        return f"restored {source} to {database}{kept}; start the daemon (it brings the schema up to date)"


def _pg_restore(url: str, source: Path) -> str:
    command = ["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", "--dbname",
               _libpq_url(url), str(source)]
    if shutil.which("pg_restore") is None:
        raise BackupError("pg_restore is not installed here (apt-get install postgresql-client); with the daemon "
                          f"stopped, run:\n  {_shown(command, url)}")
    result = subprocess.run(command, check=False, env=os.environ | _pg_password(url), capture_output=True, text=True,
                            timeout=3600)
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed (nothing changed: one transaction): {result.stderr.strip()[:500]}")
    return f"restored {source} into {make_url(url).render_as_string(hide_password=True)}"


# --- the daemon's lock --------------------------------------------------------------------------------------------


@contextlib.contextmanager
def daemon_lock(url: str) -> Iterator[None]:
    """Held by `mailbot run` for its whole life, shared (several daemons may share one database). BackupError only
    while a restore is under way (systemd starts the daemon again 30 s later)."""
    with _lock(url, exclusive=False):
        yield


@contextlib.contextmanager
def restore_lock(url: str) -> Iterator[None]:
    """Exclusive: refused (DaemonRunning) while any daemon holds its shared lock; no daemon starts meanwhile."""
    with _lock(url, exclusive=True):
        yield


@contextlib.contextmanager
def _lock(url: str, *, exclusive: bool) -> Iterator[None]:
    database = sqlite_path(url)
    if database is not None:
        with _file_lock(database, exclusive=exclusive):
            yield
        return
    if make_url(url).get_backend_name() != "postgresql":
        yield
        return
    with _advisory_lock(url, exclusive=exclusive):
        yield


@contextlib.contextmanager
def _file_lock(database: Path, *, exclusive: bool) -> Iterator[None]:
    path = database.with_name(database.name + ".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    # Read-only and readable by all: whoever made it (root restoring by hand, the service user), the others can
    # still open it to lock (flock needs no write access), and it holds nothing.
    fd = os.open(path, os.O_RDONLY | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _busy(exclusive, str(database)) from None
        yield
    finally:
        os.close(fd)  # releases the lock


@contextlib.contextmanager
def _advisory_lock(url: str, *, exclusive: bool) -> Iterator[None]:
    engine: Engine = create_engine(url, poolclass=NullPool)  # one connection, held for the lock's whole life
    connection: Connection | None = None
    try:
        connection = engine.connect()
        function = "pg_try_advisory_lock" if exclusive else "pg_try_advisory_lock_shared"
        taken = connection.execute(text(f"SELECT {function}(:key)"), {"key": _ADVISORY_KEY}).scalar()
        connection.commit()  # the lock is the session's, not the transaction's: keep no transaction open
        if not taken:
            raise _busy(exclusive, make_url(url).render_as_string(hide_password=True))
        yield
    finally:
        with contextlib.suppress(Exception):  # a connection cut meanwhile (server restart) has lost the lock anyway
            if connection is not None:
                connection.close()
        engine.dispose()


def _busy(exclusive: bool, where: str) -> BackupError:
    if exclusive:
        return DaemonRunning(f"a mailbot daemon is running on {where}: stop it first (`systemctl stop mailbot`), "
                             "then restore, then start it again")
    return BackupError(f"a restore of {where} is under way: start again when it is done")


# --- automatic copy before a migration ----------------------------------------------------------------------------


def before_migration(url: str, current: str | None, head: str | None) -> Path | None:
    """Before a migration changes a SQLite database's schema: a copy in `backups/` beside it, named after the
    schema it holds; the newest KEEP_MIGRATION_BACKUPS are kept. Nothing for a new or current database."""
    database = sqlite_path(url)
    if database is None or current is None or current == head or not database.is_file():
        return None
    directory = database.parent / MIGRATION_BACKUP_DIR
    target = directory / f"{database.stem}-{_stamp()}-schema-{current}.db"
    try:
        directory.mkdir(mode=0o700, exist_ok=True)
        sqlite_copy(database, target)
    except (OSError, sqlite3.Error) as error:
        # No migration without its copy: the schema change waits until the copy can be made.
        raise BackupError(f"the database was not migrated: its copy before the migration could not be written to "
                          f"{directory} ({error}); free some space there (or make it writable) and start again, "
                          "or make a copy elsewhere with `mailbot backup PATH` first") from None
    copies = sorted(directory.glob(f"{database.stem}-*-schema-*.db"))  # the stamp sorts them by date
    for old in copies[:-KEEP_MIGRATION_BACKUPS]:
        old.unlink(missing_ok=True)
    return target


# --- small helpers ------------------------------------------------------------------------------------------------


def _stamp() -> str:
    # The wall clock names the file only; nothing is decided by it.
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def _same_owner(path: Path, model: Path) -> None:
    """Give the restored file the owner and group of the database it replaces (or of its directory on a new
    server): restored by root, the service user must still open it. Mode 0600, or 0640 as the original."""
    status = model.stat()
    os.chmod(path, 0o640 if model.is_file() and status.st_mode & 0o040 else 0o600)
    if os.geteuid() == 0:
        os.chown(path, status.st_uid, status.st_gid)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _libpq_url(url: str) -> str:
    """SQLAlchemy's URL as libpq takes it: no driver name, no password (given in PGPASSWORD, not on the command
    line where `ps` shows it)."""
    parsed = make_url(url)
    bare = URL.create("postgresql", username=parsed.username, host=parsed.host, port=parsed.port,
                      database=parsed.database, query=parsed.query)
    return bare.render_as_string(hide_password=False)


def _pg_password(url: str) -> dict[str, str]:
    password = make_url(url).password
    return {"PGPASSWORD": str(password)} if password else {}


def _shown(command: list[str], url: str) -> str:
    import shlex

    prefix = "PGPASSWORD=… " if make_url(url).password else ""
    return prefix + " ".join(shlex.quote(part) for part in command)
