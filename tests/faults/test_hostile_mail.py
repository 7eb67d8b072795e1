"""Huge and hostile mails through the real daemon: a 50 MB mail, 5,000 MIME parts, 100 KB header lines, broken
encodings, NUL bytes, garbage. Each one is processed or quarantined with Aideur told; the daemon never dies, its
memory stays bounded, and the mail after them is served as usual."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from mailbot.models import Event, InboundMail, OutboxMail
from tests.conftest import make_env
from tests.faults.harness import (
    FaultDaemon,
    append_many,
    assert_alive,
    check_exactly_once,
    drop_in_maildir,
    peak_rss_mb,
    settle,
)
from tests.faults.hostile import CASES, MB
from tests.helpers import AIDEUR, ALICE, CLUB, add_members

MEMORY_LIMIT_MB = 400

pytestmark = [pytest.mark.slow]  # minutes of real servers: `make test` runs them, `make test-fast` not


def _put(server, raws: list[bytes]) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """IMAP APPEND, as a mail client would; what the server refuses (NUL bytes…) goes straight to the Maildir."""
    appended = dropped = 0
    for raw in raws:
        try:
            appended += append_many(server, CLUB, [raw])
        except AssertionError:
            dropped += drop_in_maildir(server, CLUB, [raw])
    return appended, dropped


def test_huge_and_hostile_mails(clean_mail, database_url, sessions_for):
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    sessions = sessions_for(database_url)
    add_members(sessions)
    small = [case for case in CASES if not case.big]
    big = [case for case in CASES if case.big]
    env = make_env(clean_mail, database_url, MAILBOT_RATE_LIMIT_PER_HOUR="1000000", MAILBOT_POLL_SECONDS="1")
    with FaultDaemon(env, "hostile-" + backend, level="INFO") as daemon:
        started = time.monotonic()
        appended, dropped = _put(clean_mail, [case.build() for case in small])
        settle(clean_mail, sessions, timeout=120)
        small_seconds = time.monotonic() - started

        started = time.monotonic()
        raws = [case.build() for case in big]
        sizes = [len(raw) for raw in raws]
        _put(clean_mail, raws)
        del raws
        settle(clean_mail, sessions, timeout=180)
        big_seconds = time.monotonic() - started
        assert daemon.process is not None
        peak = peak_rss_mb(daemon.process.pid)

        alive = assert_alive(daemon, clean_mail, sessions, ALICE)
        assert daemon.terminate() == 0, daemon.output()
        log = daemon.log.read_text(errors="replace")

    cases = small + big
    with_id = [case.message_id for case in cases if case.message_id]
    ledger = check_exactly_once(clean_mail, sessions, with_id + [alive], mails=len(cases) + 1)
    with sessions() as session:
        records = {row.message_id: row for row in session.scalars(select(InboundMail))}
        outbox = session.execute(select(OutboxMail.kind, OutboxMail.recipient, OutboxMail.subject)).all()
        held = session.scalar(select(func.count(Event.id)).where(Event.kind == "quarantine-notice-held"))
    quarantined = [row for row in records.values() if row.outcome == "quarantined"]
    notices = [row for row in outbox if row.kind == "alerte_quarantaine"]
    # Each is told to Aideur, or (many from one sender within the hour) counted in a summary notice.
    assert len(notices) + held == len(quarantined), "a quarantined mail without its notice to Aideur"
    assert notices
    assert all(row.recipient == AIDEUR for row in notices)
    assert log.count("quarantined") >= len(quarantined), log[-3000:]
    assert "Traceback" not in log or "could not be processed" in log, log[-3000:]
    for case in big:
        assert records[case.message_id].outcome != "quarantined", f"{case.name}: {records[case.message_id].reason}"
    # A hostile mail is read or refused for what it is, the same on both databases: never because a value did not
    # fit a column (PostgreSQL enforces lengths, SQLite does not).
    storage_errors = [(row.message_id[:60], row.reason[:120]) for row in records.values()
                      if "base de données" in (row.reason or "")]
    assert not storage_errors, storage_errors
    long_sender = records["fault-from-address-400@membres.test"]  # no SMTP path carries it: nobody to answer
    assert (long_sender.outcome, long_sender.reason) == (
        "quarantined", "adresse d'expéditeur invalide : 404 caractères (au plus 254)")
    assert peak < MEMORY_LIMIT_MB, f"peak RSS {peak:.0f} MB for a {max(sizes) / MB:.0f} MB mail"

    report = [(f"{len(cases)} hostile mails on {backend} ({appended + len(big)} by IMAP APPEND, "
              f"{dropped} dropped in the Maildir): {ledger.line()}"),
              (f"  small ones handled in {small_seconds:.1f} s; {max(sizes) / MB:.1f} MB mail in {big_seconds:.1f} s, "
              f"daemon peak RSS {peak:.0f} MB (limit {MEMORY_LIMIT_MB})")]
    for case in cases:
        row = records.get(case.message_id) if case.message_id else None
        outcome = f"{row.outcome}: {row.reason[:90]}" if row is not None and row.reason else (
            row.outcome if row is not None else "(no Message-ID: counted in the totals)")
        report.append(f"  {case.name:45s} {outcome}")
    print("\n".join(report))
