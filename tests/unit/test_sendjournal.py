"""The send journal (mailbot.sendjournal) and what the next start makes of it (sender.recover_interrupted): a mail
the server accepted is recorded as sent, never sent again; a row claimed and never handed over goes back as if never
claimed; only a row handed over without a known answer is an interrupted send. A line never speaks for another
claim of the same row, a cut line never turns into "sent", and the files go once the database has it all."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from mailbot import sendjournal
from mailbot.models import Base, OutboxMail
from mailbot.sender import recover_interrupted

NOW = datetime(2026, 12, 3, 10, 0)
SENT_AT = datetime(2026, 12, 3, 9, 59, 30)


def _journal(directory: Path, name: str, *lines: str) -> Path:
    directory.mkdir(exist_ok=True)
    path = directory / name
    path.write_text("".join(line + "\n" for line in lines), encoding="ascii")
    return path


def test_the_furthest_step_of_each_claim_wins_across_files(tmp_path: Path) -> None:
    _journal(tmp_path, "1-1-1", "c 5 1", "c 6 1", "h 5 1", "s 5 1 2026-12-03T09:59:30", "h 6 1")
    _journal(tmp_path, "1-1-2", "c 5 2", "h 7 3", "c 7 3")  # a later claim of row 5; a step out of order
    steps, files = sendjournal.read_all(tmp_path)
    assert len(files) == 2
    assert steps[(5, 1)] == sendjournal.Step(sendjournal.SENT, SENT_AT)
    assert steps[(6, 1)].state == sendjournal.HANDED
    assert steps[(5, 2)].state == sendjournal.CLAIMED  # the first claim's "sent" says nothing of the second
    assert steps[(7, 3)].state == sendjournal.HANDED


@pytest.mark.parametrize("line", ["s 5 1", "s 5 1 2026-12-0", "s 5", "s x 1 2026-12-03T09:59:30", "", "z 5 1",
                                  "h 5 1 2026-12-03T09:59:30"])
def test_a_cut_or_strange_line_is_never_read_as_sent(tmp_path: Path, line: str) -> None:
    _journal(tmp_path, "1-1-1", "c 5 1", "h 5 1", line)
    steps, _ = sendjournal.read_all(tmp_path)
    assert steps[(5, 1)].state == sendjournal.HANDED


def test_no_directory_means_no_steps(tmp_path: Path) -> None:
    assert sendjournal.read_all(tmp_path / "absent") == ({}, [])


def test_only_an_sqlite_file_has_a_journal(tmp_path: Path) -> None:
    assert sendjournal.directory_for(create_engine(f"sqlite:///{tmp_path}/m.db")) == tmp_path / "m.db-sending"
    assert sendjournal.directory_for(create_engine("sqlite://")) is None
    assert sendjournal.directory_for(create_engine("sqlite:///:memory:")) is None


def test_a_journal_writes_its_file_at_its_first_line_and_removes_it_when_settled(tmp_path: Path) -> None:
    journal = sendjournal.SendJournal(tmp_path / "j")
    assert not (tmp_path / "j").exists()  # a flush that claims nothing leaves nothing
    journal.claimed(3, 1)
    journal.handed(3, 1)
    journal.sent(3, 1, SENT_AT)
    assert journal.path.read_text() == "c 3 1\nh 3 1\ns 3 1 2026-12-03T09:59:30\n"
    assert oct(journal.path.stat().st_mode & 0o777) == "0o600"
    journal.close()
    assert journal.path.exists()  # closed without settling (something not recorded): kept for the next start
    journal.settle()
    assert not journal.path.exists()


# --- what the next start does with them (a real SQLite file) ------------------------------------------------------


def _row(session, key: str, *, attempts: int, scrub: bool = False) -> OutboxMail:  # type: ignore[no-untyped-def]
    row = OutboxMail(idempotency_key=key, message_id=f"{key}@club.test", kind="ack", sender="aide@club.test",
                     recipient=f"{key}@example.fr", subject="Demande bien reçue", body=b"Bonjour\r\n",
                     next_attempt_at=NOW, created_at=NOW, status="sending", attempts=attempts,
                     scrub_after_send=scrub)
    session.add(row)
    session.flush()
    return row


def test_the_next_start_sends_again_only_what_may_not_have_arrived(sqlite_url, sessions_for) -> None:  # type: ignore[no-untyped-def]
    sessions = sessions_for(sqlite_url)
    with sessions.begin() as session:
        accepted, erased, claimed, handed, _no_line, recycled = (
            _row(session, "accepted", attempts=1).id, _row(session, "erased", attempts=1, scrub=True).id,
            _row(session, "claimed", attempts=2).id, _row(session, "handed", attempts=1).id,
            _row(session, "unknown", attempts=1).id, _row(session, "recycled", attempts=2).id)
    directory = sendjournal.directory_for(sessions.kw["bind"])
    assert directory is not None
    _journal(directory, "9-9-1", f"c {accepted} 1", f"c {erased} 1", f"c {claimed} 2", f"c {handed} 1",
             f"h {accepted} 1", f"s {accepted} 1 {SENT_AT.isoformat()}", f"h {erased} 1",
             f"s {erased} 1 {SENT_AT.isoformat()}", f"h {handed} 1",
             f"c {recycled} 1", f"h {recycled} 1", f"s {recycled} 1 {SENT_AT.isoformat()}")  # an older claim

    assert recover_interrupted(sessions) == 3  # handed, unknown (no line: the server may have it), recycled

    with sessions() as session:
        rows = {row.idempotency_key: row for row in session.scalars(select(OutboxMail))}
    assert (rows["accepted"].status, rows["accepted"].sent_at, rows["accepted"].interrupted_sends) == ("sent", SENT_AT, 0)
    assert (rows["erased"].status, rows["erased"].recipient, rows["erased"].body) == ("sent", "membre-efface@invalid", b"")
    assert (rows["claimed"].status, rows["claimed"].attempts, rows["claimed"].interrupted_sends) == ("pending", 1, 0)
    for key in ("handed", "unknown", "recycled"):
        assert (rows[key].status, rows[key].interrupted_sends) == ("pending", 1), key
    assert list(directory.iterdir()) == []  # read once: the database has it all now
    assert recover_interrupted(sessions) == 0


def test_a_memory_database_puts_every_sending_row_back_as_before(sessions_for) -> None:  # type: ignore[no-untyped-def]
    sessions = sessions_for("sqlite://")
    Base.metadata.create_all(sessions.kw["bind"])
    with sessions.begin() as session:
        _row(session, "a", attempts=1)
    assert recover_interrupted(sessions) == 1
