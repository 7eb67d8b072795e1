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
    journals = sendjournal.take(tmp_path)
    assert journals.count == 2 and not journals.live
    assert journals.steps[(5, 1)] == sendjournal.Step(sendjournal.SENT, SENT_AT)
    assert journals.steps[(6, 1)].state == sendjournal.HANDED
    assert journals.steps[(5, 2)].state == sendjournal.CLAIMED  # the first claim's "sent" says nothing of the second
    assert journals.steps[(7, 3)].state == sendjournal.HANDED
    journals.done(applied=False)
    assert len(list(tmp_path.iterdir())) == 2  # not applied: kept
    sendjournal.take(tmp_path).done(applied=True)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("line", ["s 5 1", "s 5 1 2026-12-0", "s 5", "s x 1 2026-12-03T09:59:30", "", "z 5 1",
                                  "h 5 1 2026-12-03T09:59:30"])
def test_a_cut_or_strange_line_is_never_read_as_sent(tmp_path: Path, line: str) -> None:
    _journal(tmp_path, "1-1-1", "c 5 1", "h 5 1", line)
    assert sendjournal.take(tmp_path).steps[(5, 1)].state == sendjournal.HANDED


def test_no_directory_means_no_steps(tmp_path: Path) -> None:
    journals = sendjournal.take(tmp_path / "absent")
    assert (journals.steps, journals.live, journals.count) == ({}, set(), 0)


def test_only_an_sqlite_file_has_a_journal(tmp_path: Path) -> None:
    assert sendjournal.directory_for(create_engine(f"sqlite:///{tmp_path}/m.db")) == tmp_path / "m.db-sending"
    assert sendjournal.directory_for(create_engine("sqlite://")) is None
    assert sendjournal.directory_for(create_engine("sqlite:///:memory:")) is None


def test_a_live_journal_is_read_for_its_rows_but_never_taken(tmp_path: Path) -> None:
    journal = sendjournal.SendJournal(tmp_path / "j")
    assert not (tmp_path / "j").exists()  # a flush that claims nothing leaves nothing
    journal.claimed(3, 1)
    journal.handed(3, 1)
    journal.sent(3, 1, SENT_AT)
    assert journal.path.read_text() == "c 3 1\nh 3 1\ns 3 1 2026-12-03T09:59:30\n"
    assert oct(journal.path.stat().st_mode & 0o777) == "0o600"
    assert [path.name for path in (tmp_path / "j").iterdir()] == [journal.path.name]  # locked, then named
    live = sendjournal.take(tmp_path / "j")  # its owner holds the lock: alive
    assert (live.live, live.steps, live.count) == ({3}, {}, 0)
    live.done(applied=True)
    assert journal.path.exists()
    journal.close()  # closed without settling (something not recorded): dead now, kept for a recovery
    dead = sendjournal.take(tmp_path / "j")
    assert dead.count == 1 and dead.steps[(3, 1)].state == sendjournal.SENT
    assert sendjournal.take(tmp_path / "j").count == 0  # one reader at a time: the first holds its lock
    dead.done(applied=True)
    assert list((tmp_path / "j").iterdir()) == []


def test_a_settled_journal_leaves_nothing(tmp_path: Path) -> None:
    journal = sendjournal.SendJournal(tmp_path / "j")
    journal.claimed(3, 1)
    journal.settle()
    assert list((tmp_path / "j").iterdir()) == []


def test_a_file_left_before_its_first_line_is_removed(tmp_path: Path) -> None:
    _journal(tmp_path, "1-1-1" + sendjournal.TEMPORARY)  # its process died between creating and naming it
    journals = sendjournal.take(tmp_path)
    assert (journals.count, journals.steps) == (0, {})
    assert list(tmp_path.iterdir()) == []


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


def test_a_live_senders_rows_are_left_to_it_and_a_dead_ones_settled_at_any_time(sqlite_url, sessions_for) -> None:  # type: ignore[no-untyped-def]
    sessions = sessions_for(sqlite_url)
    with sessions.begin() as session:
        live_row, dead_row = _row(session, "live", attempts=1).id, _row(session, "dead", attempts=1).id
    directory = sendjournal.directory_for(sessions.kw["bind"])
    assert directory is not None
    live = sendjournal.SendJournal(directory)  # an orphaned helper finishing its mail while the next daemon starts
    live.claimed(live_row, 1)
    live.handed(live_row, 1)
    try:
        _journal(directory, "9-9-1", f"c {dead_row} 1", f"h {dead_row} 1", f"s {dead_row} 1 {SENT_AT.isoformat()}")
        assert recover_interrupted(sessions, at_start=False) == 0  # a cycle: the dead one's mail recorded
        assert recover_interrupted(sessions) == 0  # a start: still the live one's
        with sessions() as session:
            rows = {row.idempotency_key: row for row in session.scalars(select(OutboxMail))}
        assert (rows["dead"].status, rows["live"].status) == ("sent", "sending")
    finally:
        live.close()  # its process died without recording: the next cycle settles it
    assert recover_interrupted(sessions, at_start=False) == 1
    with sessions() as session:
        row = session.get(OutboxMail, live_row)
        assert row is not None and (row.status, row.interrupted_sends) == ("pending", 1)
    assert list(directory.iterdir()) == []


def test_a_memory_database_puts_every_sending_row_back_as_before(sessions_for) -> None:  # type: ignore[no-untyped-def]
    sessions = sessions_for("sqlite://")
    Base.metadata.create_all(sessions.kw["bind"])
    with sessions.begin() as session:
        _row(session, "a", attempts=1)
    assert recover_interrupted(sessions) == 1


def test_a_sending_row_no_journal_names_is_put_back_at_the_next_cycle(sqlite_url, sessions_for) -> None:  # type: ignore[no-untyped-def]
    # Its sender's record of a refusal failed (the database busy for longer than its timeout) after its journal was
    # settled: no journal names the row, no live sender has it.
    sessions = sessions_for(sqlite_url)
    with sessions.begin() as session:
        _row(session, "refused", attempts=1)
    directory = sendjournal.directory_for(sessions.kw["bind"])
    assert directory is not None
    assert recover_interrupted(sessions, at_start=False) == 1
    with sessions() as session:
        row = session.scalars(select(OutboxMail)).one()
        assert (row.status, row.attempts, row.interrupted_sends) == ("pending", 1, 1)


def test_a_journal_that_cannot_be_removed_is_let_go_and_said_so(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """settle() on a disk that refuses the removal: a JournalError (not an OSError the sender would take for the SMTP
    server's), and the file closed and unlocked all the same — a journal kept locked by a living process would be
    taken for a live sender's forever, its rows never settled."""
    journal = sendjournal.SendJournal(tmp_path / "j")
    journal.claimed(1, 0)
    journal.sent(1, 0, datetime(2026, 12, 3, 10, 0))

    def refuse(self, missing_ok=False):  # type: ignore[no-untyped-def]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "unlink", refuse)
    with pytest.raises(sendjournal.JournalError):
        journal.settle()
    monkeypatch.undo()
    taken = sendjournal.take(tmp_path / "j")
    assert not taken.live and taken.count == 1  # unlocked: the next recovery takes it
    taken.done(applied=True)
    assert not any((tmp_path / "j").iterdir())


def test_a_journal_directory_whose_name_is_taken_is_a_journal_error(tmp_path: Path) -> None:
    (tmp_path / "j").write_text("not a directory")
    with pytest.raises(sendjournal.JournalError):
        sendjournal.take(tmp_path / "j")
