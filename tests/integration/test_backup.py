"""Backup under load, restore, and the daemon goes on with nothing lost or doubled (issue 15, point 5).

A real `mailbot run` works through a batch of requests while backups are taken (each one a consistent snapshot:
every mail recorded has its ticket and both its mails queued, never half of a transaction); `mailbot restore`
is refused while it runs; then the server is lost (database gone), the last backup is restored with `mailbot
restore`, new mail arrives and the restarted daemon handles it: every request has exactly one ticket and one
acknowledgement, Aideur one notification each, nothing sent twice.
"""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from mailbot import backup as bk
from mailbot.db import sqlite_path
from mailbot.models import InboundMail, OutboxMail, Ticket
from tests.conftest import POSTGRES_ADMIN_URL, make_env
from tests.helpers import AIDEUR, CLUB, MEMBERS, add_members, append, mailbox, make_mail
from tests.integration.daemon_process import DaemonProcess, wait_until

FIRST, LATER = 120, 30
WAVE = 10  # mails appended between two backups
AT = "2026-11-26T11:00"  # the daemon's clock (a Thursday with nothing due): never the real one

pytestmark = [pytest.mark.slow]


def mailbot(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mailbot", *args], check=False, env=os.environ | env,
                          capture_output=True, text=True, timeout=300, cwd=os.path.dirname(__file__))


def _requests(start: int, count: int) -> list[tuple[str, bytes]]:
    mails = []
    for number in range(start, start + count):
        mail = make_mail(MEMBERS[number % len(MEMBERS)], f"Demande {number}", f"Bonjour,\n\nMa demande {number}.\n")
        mails.append((mail["Message-ID"].strip("<> "), mail.as_bytes()))
    return mails


def _counts(sessions) -> tuple[int, int, int, int]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return (session.scalar(select(func.count(InboundMail.id))) or 0,
                session.scalar(select(func.count(Ticket.id))) or 0,
                session.scalar(select(func.count(OutboxMail.id))) or 0,
                session.scalar(select(func.count(OutboxMail.id)).where(OutboxMail.status == "sent")) or 0)


def _snapshot_counts(path: Path) -> tuple[int, int, int]:
    with sqlite3.connect(path) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return tuple(copy.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[return-value]
                     for table in ("inbound_mails", "tickets", "outbox"))


def _lose_the_database(url: str) -> None:
    """The server is gone: nothing is left of the database but the backup."""
    path = sqlite_path(url)
    if path is not None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    name = make_url(url).database
    admin = sqlalchemy.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sqlalchemy.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        connection.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))  # a new server's empty database
    admin.dispose()


def test_backup_under_load_then_restore_and_the_daemon_goes_on(clean_mail, database_url, sessions_for, tmp_path):
    env = make_env(clean_mail, database_url, MAILBOT_RATE_LIMIT_PER_HOUR="100000", MAILBOT_POLL_SECONDS="1",
                   MAILBOT_BATCH_SIZE="10")
    sessions = sessions_for(database_url)
    add_members(sessions)
    first = _requests(0, FIRST)
    is_sqlite = sqlite_path(database_url) is not None

    with DaemonProcess(env, "run", "--at", AT) as daemon:
        # Backups while the daemon works: the mail arrives in waves between the backups, so however fast the
        # daemon is, some backups are taken while it has handled part of the batch and not the rest.
        under_load: list[Path] = []
        waiting = list(first)
        taken = 0
        while (waiting or _counts(sessions)[0] < FIRST) and daemon.alive():
            for _, raw in waiting[:WAVE]:
                append(clean_mail, CLUB, raw)
            waiting = waiting[WAVE:]
            done = _counts(sessions)[0]
            target = tmp_path / f"load-{taken}"
            taken += 1
            assert "backup written" in bk.backup(database_url, target)
            if 0 < done < FIRST:
                under_load.append(target)
            if waiting and done == 0:
                time.sleep(0.2)  # the daemon is still starting: let the first wave be handled
        assert daemon.alive(), daemon.output()
        assert under_load, "the daemon was done before a backup could be taken under load"
        if is_sqlite:
            for copy in under_load:
                inbound, tickets, outbox = _snapshot_counts(copy)
                assert tickets == inbound and outbox == 2 * inbound  # whole transactions only
        # The command, as the operator types it, while the daemon runs.
        by_hand = mailbot(env, "backup", str(tmp_path / "by-hand"))
        assert by_hand.returncode == 0, by_hand.stderr
        # Restore is refused while the daemon runs, and changes nothing.
        refused = mailbot(env, "restore", str(tmp_path / "by-hand"))
        assert refused.returncode == 1 and "systemctl stop mailbot" in refused.stderr, refused.stderr
        assert "Traceback" not in refused.stderr
        if is_sqlite:
            assert not Path(f"{sqlite_path(database_url)}.before-restore").exists()

        assert wait_until(lambda: _counts(sessions)[3] == 2 * FIRST, 120), (_counts(sessions), daemon.output())
        final = mailbot(env, "backup", str(tmp_path / "final"))  # idle, still running
        assert final.returncode == 0, final.stderr
        assert daemon.terminate() == 0
    assert _counts(sessions) == (FIRST, FIRST, 2 * FIRST, 2 * FIRST)

    sessions.kw["bind"].dispose()
    _lose_the_database(database_url)
    later = _requests(FIRST, LATER)
    for _, raw in later:
        append(clean_mail, CLUB, raw)  # mail keeps coming while the club restores
    restored = mailbot(env, "restore", str(tmp_path / "final"))
    assert restored.returncode == 0, restored.stderr
    assert _counts(sessions) == (FIRST, FIRST, 2 * FIRST, 2 * FIRST)

    with DaemonProcess(env, "run", "--at", AT) as daemon:
        assert wait_until(lambda: _counts(sessions)[3] == 2 * (FIRST + LATER), 120), (_counts(sessions),
                                                                                      daemon.output())
        time.sleep(2)  # the next polls find nothing more to do
        assert daemon.terminate() == 0
    total = FIRST + LATER
    assert _counts(sessions) == (total, total, 2 * total, 2 * total)

    # Every mailbox: the inbox empty, each request processed once, one acknowledgement each, one notice each.
    assert mailbox(clean_mail, CLUB) == []
    assert len(mailbox(clean_mail, CLUB, "mailbot-traites")) == total
    assert wait_until(lambda: sum(len(mailbox(clean_mail, a)) for a in MEMBERS) >= total, 30)
    time.sleep(1)  # Postfix delivers asynchronously: a second copy would land now
    acks = [m for address in MEMBERS for m in mailbox(clean_mail, address)]
    answered = Counter(m.headers["in-reply-to"][0].strip().strip("<>") for m in acks)
    assert answered == Counter({message_id: 1 for message_id, _ in first + later})
    notes = mailbox(clean_mail, AIDEUR)
    assert len(notes) == total
    sent = Counter(m.headers["message-id"][0].strip("<> ") for m in acks + notes)
    assert max(sent.values()) == 1
