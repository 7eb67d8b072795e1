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

The file is removed once every row it names is recorded in the database (sent, deferred, failed or released). A
file left behind means its process died; the next start (sender.recover_interrupted) reads them all before it
puts `sending` rows back: a row the journal says was accepted is recorded as sent (not sent twice), a row claimed
and never handed goes back quietly, and only a row handed and not known accepted counts as an interrupted send
(sent again, same Message-ID). (id, attempts) names one claim: the claim raises attempts, so a line never speaks
for a later claim of the same row.

Written, not synced: a line survives the process's death (it is in the kernel's page cache), not a power cut, the
same guarantee as the database's own `synchronous=NORMAL` (mailbot.db). The lines hold row numbers only, nothing
about a member.
"""
from __future__ import annotations

import itertools
import logging
import os
import threading
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Step:
    state: str  # CLAIMED, HANDED or SENT
    sent_at: datetime | None = None


class SendJournal:
    """One flush's journal file, created at its first claim and removed by `settle` once all it names is recorded."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / f"{os.getpid()}-{threading.get_ident()}-{next(_COUNTER)}"
        self._fd: int | None = None

    def claimed(self, outbox_id: int, attempts: int) -> None:
        self._write(f"{CLAIMED} {outbox_id} {attempts}\n")

    def handed(self, outbox_id: int, attempts: int) -> None:
        self._write(f"{HANDED} {outbox_id} {attempts}\n")

    def sent(self, outbox_id: int, attempts: int, sent_at: datetime) -> None:
        self._write(f"{SENT} {outbox_id} {attempts} {sent_at.isoformat()}\n")

    def settle(self) -> None:
        """Everything this journal names is in the database now: the file goes."""
        self.close()
        self.path.unlink(missing_ok=True)

    def close(self) -> None:
        """Closed, the file kept (something it names is not recorded yet: the next start reads it)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _write(self, line: str) -> None:
        if self._fd is None:
            self.directory.mkdir(mode=0o700, exist_ok=True)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        data = line.encode("ascii")
        if os.write(self._fd, data) != len(data):  # a short write on a full disk: better stop than trust it
            raise OSError(f"send journal {self.path}: short write")


def read_all(directory: Path) -> tuple[dict[tuple[int, int], Step], list[Path]]:
    """Every step the journals left in `directory` say, the furthest per (id, attempts), and the files read. A line
    that cannot be read (cut by a power loss) is skipped: its row is then treated as handed, or claimed, by the
    lines before it — never as sent without a line that says so."""
    steps: dict[tuple[int, int], Step] = {}
    try:
        files = sorted(path for path in directory.iterdir() if path.is_file())
    except FileNotFoundError:
        return steps, []
    for path in files:
        for line in path.read_text(encoding="ascii", errors="replace").splitlines():
            parts = line.split()
            try:
                state, outbox_id, attempts = parts[0], int(parts[1]), int(parts[2])
                sent_at = datetime.fromisoformat(parts[3]) if state == SENT else None
            except (IndexError, ValueError):
                log.warning("send journal %s: unreadable line skipped", path.name)
                continue
            if state not in _RANK or (state == SENT) != (len(parts) == 4):
                continue
            key = (outbox_id, attempts)
            if key not in steps or _RANK[state] > _RANK[steps[key].state]:
                steps[key] = Step(state, sent_at)
    return steps, files


def remove(files: list[Path]) -> None:
    for path in files:
        path.unlink(missing_ok=True)
