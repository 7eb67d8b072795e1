"""The send journal (SQLite only): what a sender did with the outbox rows it claimed, written as it happens, outside
the database, so that recording a send does not wait for the database's one writer.

On SQLite one process writes at a time, and the daemon holds the write lock for most of each mail it decides. A
sender that had to write "sent" to the database after every mail before taking the next one sent one mail per gap
in the daemon's writing (measured: a 9 s tail in a 40 s run, docs/performance.md, stop 19). With the journal, a
sender claims several rows in one transaction, sends them one by one, appends one line per step to its journal,
and records all the sends in one transaction at the end of the batch.

Each flush that claims rows writes its own file in a directory next to the database (`<database>-sending/`), one
line per step, each line one `write()` on a file opened O_APPEND:

    c <id> <attempts>             claimed (written before the claim is committed)
    h <id> <attempts>             about to be handed to the SMTP server
    s <id> <attempts> <sent_at>   the server accepted it

The flush holds an exclusive lock (flock) on its file from its creation (under a temporary name, renamed once
locked) until it removes it, once every row it names is recorded in the database (sent, deferred, failed or
released). So a journal whose lock can be taken belongs to a flush that is over without having recorded all it
did: its process died, or the database refused the record. sender.recover_interrupted takes such journals, at
start and at each cycle, and settles the rows they name: a row the journal says was accepted is recorded as sent
(never sent twice), a row claimed and never handed over goes back as if never claimed, and only a row handed over
without a known answer is an interrupted send (sent again, same Message-ID), and so is a `sending` row no journal
names (a sender whose record of a refusal failed). Rows a live journal names are its owner's: never touched (an
orphaned helper finishing its last mail while the next daemon starts; a dead journal's stale line about a row that
was claimed again since). A claim that does not commit leaves no journal behind: its lines would name a claim that
never was.

Written, not synced: a line survives the process's death (it is in the kernel's page cache), not a power cut, the
same guarantee as the database's own `synchronous=NORMAL` (mailbot.db). The lines hold row numbers only, nothing
about a member.
"""
from __future__ import annotations

import fcntl
import itertools
import logging
import os
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from mailbot.db import sqlite_path

log = logging.getLogger(__name__)

CLAIMED, HANDED, SENT = "c", "h", "s"
_RANK = {CLAIMED: 0, HANDED: 1, SENT: 2}
_COUNTER = itertools.count(1)  # files of one process: one per flush (the main loop and the scheduler's thread)


def directory_for(engine: Engine) -> Path | None:
    """Where an SQLite database file's senders keep their journals; None for PostgreSQL or a memory database (no
    journal: one row at a time, recorded as it goes)."""
    path = sqlite_path(engine.url.render_as_string(hide_password=False))
    if path is None or str(path).startswith("file:"):
        return None
    path = path.resolve()
    return path.with_name(path.name + "-sending")


class JournalError(OSError):
    """The send journal cannot be written (disk full, the directory unwritable): sending stops, mail waits in the
    outbox. Not the SMTP server's fault, and the log must not say it is."""


@dataclass(frozen=True)
class Step:
    state: str  # CLAIMED, HANDED or SENT
    sent_at: datetime | None = None


class SendJournal:
    """One flush's journal file, created (and locked) at its first line, removed by `settle` once all it names is
    recorded."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        # Random too: a process restarted under the same pid (pid 1 in a container) must not reuse a dead one's name.
        self.path = directory / f"{os.getpid()}-{threading.get_ident()}-{next(_COUNTER)}-{os.urandom(4).hex()}"
        self._fd: int | None = None

    def claimed(self, outbox_id: int, attempts: int) -> None:
        self._write(f"{CLAIMED} {outbox_id} {attempts}\n")

    def handed(self, outbox_id: int, attempts: int) -> None:
        self._write(f"{HANDED} {outbox_id} {attempts}\n")

    def sent(self, outbox_id: int, attempts: int, sent_at: datetime) -> None:
        self._write(f"{SENT} {outbox_id} {attempts} {sent_at.isoformat()}\n")

    def settle(self) -> None:
        """Everything this journal names is in the database now: the file goes (before its lock is let go). If it
        cannot go, it is closed all the same (its lock let go): the next recovery reads it, finds every row it
        names recorded, and removes it."""
        try:
            if self._fd is not None:
                self.path.unlink(missing_ok=True)
        except OSError as error:
            raise JournalError(error.errno, f"send journal {self.path}: {error.strerror or error}") from error
        finally:
            self.close()

    def close(self) -> None:
        """Closed, the file kept (something it names is not recorded yet): with its lock gone, the next recovery
        (this process's next cycle, or the next start) settles what it names."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _write(self, line: str) -> None:
        data = line.encode("ascii")
        try:
            if self._fd is None:
                self._fd = _create_locked(self.path)
            written = os.write(self._fd, data)
        except OSError as error:
            raise JournalError(error.errno, f"send journal {self.path}: {error.strerror or error}") from error
        if written != len(data):  # a short write on a full disk: better stop than trust it
            raise JournalError(f"send journal {self.path}: short write")


def _create_locked(path: Path) -> int:
    """The journal file, locked before it appears under its name (a recovery listing the directory meanwhile must
    not take a live journal for a dead one)."""
    path.parent.mkdir(mode=0o700, exist_ok=True)
    temporary = path.with_name(path.name + TEMPORARY)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.rename(temporary, path)
    except BaseException:
        os.close(fd)
        temporary.unlink(missing_ok=True)
        raise
    return fd


TEMPORARY = ".new"


@dataclass
class Journals:
    """What the journals of a directory say: the steps of the dead ones (locked by this reader until `done`), and
    the rows the live ones name."""

    steps: dict[tuple[int, int], Step] = field(default_factory=dict)
    live: set[int] = field(default_factory=set)
    _taken: list[tuple[Path, int]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self._taken)

    def done(self, *, applied: bool) -> None:
        """Let the dead journals go: removed once what they say is committed (`applied`), else kept for later."""
        taken, self._taken = self._taken, []
        failed: OSError | None = None
        for path, fd in taken:
            try:
                if applied:
                    path.unlink(missing_ok=True)
            except OSError as error:  # kept: read again next time, when all it names is recorded (harmless)
                failed = error
            finally:
                os.close(fd)
        if failed is not None:
            raise JournalError(failed.errno, f"send journal: {failed.strerror or failed}") from failed


def take(directory: Path) -> Journals:
    """The journals in `directory`: each one whose lock is free is taken (locked, read); the others are live, and
    only the rows they name are noted. A file left under its temporary name by a process that died before its
    first line names nothing: removed."""
    journals = Journals()
    try:
        paths = sorted(path for path in directory.iterdir())
    except FileNotFoundError:
        return journals
    except OSError as error:  # its name taken by a file, unreadable: this machine's problem, said as such
        raise JournalError(error.errno, f"send journal {directory}: {error.strerror or error}") from error
    for path in paths:
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:  # settled meanwhile
            continue
        except OSError as error:
            journals.done(applied=False)
            raise JournalError(error.errno, f"send journal {path}: {error.strerror or error}") from error
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            journals.live.update(outbox_id for (outbox_id, _), _ in _steps(path, fd).items())
            os.close(fd)
            continue
        if os.fstat(fd).st_nlink == 0:  # another recovery took and removed it before this one got the lock
            os.close(fd)
        elif path.name.endswith(TEMPORARY):
            path.unlink(missing_ok=True)
            os.close(fd)
        else:
            for key, step in _steps(path, fd).items():
                _keep_furthest(journals.steps, key, step)
            journals._taken.append((path, fd))
    return journals


def _steps(path: Path, fd: int) -> dict[tuple[int, int], Step]:
    """The furthest step per (id, attempts) in one journal. A line that cannot be read (cut by a power loss) is
    skipped: its row is then treated as handed, or claimed, by the lines before it — never as sent without a line
    that says so."""
    chunks: list[bytes] = []
    while chunk := os.read(fd, 1 << 16):  # this reader's own descriptor, from the start
        chunks.append(chunk)
    steps: dict[tuple[int, int], Step] = {}
    for line in b"".join(chunks).decode("ascii", errors="replace").splitlines():
        parts = line.split()
        try:
            state, outbox_id, attempts = parts[0], int(parts[1]), int(parts[2])
            sent_at = datetime.fromisoformat(parts[3]) if state == SENT else None
        except (IndexError, ValueError):
            log.warning("send journal %s: unreadable line skipped", path.name)
            continue
        if state not in _RANK or (state == SENT) != (len(parts) == 4):
            continue
        _keep_furthest(steps, (outbox_id, attempts), Step(state, sent_at))
    return steps


def _keep_furthest(steps: dict[tuple[int, int], Step], key: tuple[int, int], step: Step) -> None:
    if key not in steps or _RANK[step.state] > _RANK[steps[key].state]:
        steps[key] = step
