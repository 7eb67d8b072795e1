"""Scheduled jobs wait for the mail that arrived before them (mailbot.daemon.JobsGate): never during an intake, nor
before the daemon's first one, nor while an intake left mail open in the inbox — held by another daemon, or
deferred for such a mail — for at most JOBS_WAIT_SECONDS. Without servers: the daemon's own bookkeeping."""
from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest

from mailbot import daemon as daemon_module
from mailbot.daemon import JOBS_WAIT_SECONDS, CycleReport, Daemon, JobsGate


class _JobsDaemon(Daemon):
    def __init__(self) -> None:  # only what the scheduler's tick reads
        self.jobs_gate = JobsGate()
        self._counter_lock = threading.Lock()
        self.sent = 0
        self.ran = 0
        self.dispatcher = SimpleNamespace(flush=lambda: SimpleNamespace(sent=0, deferred=0, failed=[]))
        self.metrics = SimpleNamespace(observe_sends=lambda **counts: None)

    def run_jobs(self) -> dict[str, int]:
        self.ran += 1
        return {}


def test_a_starting_daemons_jobs_wait_for_its_first_intake():
    """`mailbot run` ticks its jobs on the scheduler's thread from the start: a member's answer already in the
    inbox (or held by another daemon) comes first (before: a reminder went to a member who had answered)."""
    daemon = _JobsDaemon()
    daemon._jobs_tick()
    assert daemon.ran == 0
    daemon.jobs_gate.note(CycleReport())  # the first intake: everything handled
    daemon._jobs_tick()
    assert daemon.ran == 1


@pytest.mark.parametrize("open_mail", [{"held_elsewhere": 1}, {"deferred": 2}], ids=["held", "deferred"])
def test_jobs_wait_while_an_intake_left_mail_open_then_run_once_it_is_handled(open_mail):
    """A consent reminder falls due while the member's "Oui" is held by another daemon: one daemon would have read
    the answer first (a cycle takes mail in before its jobs), so the reminder waits (before: it went out to a
    member who had answered, or the contact expired under her yes)."""
    gate = JobsGate()
    gate.note(CycleReport())
    assert gate.may_run()
    gate.note(CycleReport(**open_mail))
    assert not gate.may_run()
    gate.note(CycleReport())  # the next intake: everything handled
    assert gate.may_run()


def test_jobs_wait_at_most_jobs_wait_seconds(monkeypatch):
    """A daemon stuck on a mail never holds the club's reminders back for good."""
    now = [1000.0]
    monkeypatch.setattr(daemon_module.time, "monotonic", lambda: now[0])
    gate = JobsGate()
    gate.note(CycleReport())
    gate.note(CycleReport(held_elsewhere=1))
    now[0] += JOBS_WAIT_SECONDS / 2
    gate.note(CycleReport(held_elsewhere=1))  # still open: counted from the first time
    assert not gate.may_run()
    now[0] += JOBS_WAIT_SECONDS / 2
    assert gate.may_run()


def test_the_jobs_thread_never_runs_during_an_intake():
    """Under `mailbot run` the jobs run on the scheduler's thread: a mail being taken in when they fall due is
    handled first."""
    daemon = _JobsDaemon()
    daemon.jobs_gate.note(CycleReport())
    with daemon.jobs_gate.intake():
        tick = threading.Thread(target=daemon._jobs_tick)
        tick.start()
        time.sleep(0.2)
        assert daemon.ran == 0 and tick.is_alive()
    tick.join(timeout=5)
    assert daemon.ran == 1


def test_an_intake_cut_short_leaves_the_jobs_waiting():
    """A cycle that lists a member's answer, then loses IMAP while fetching it, never says what it left open: an
    intake closes the gate as it begins (before: the gate stayed as the last complete intake left it, open, and the
    scheduler's tick sent a reminder to the member whose answer sat in the inbox)."""
    gate = JobsGate()
    gate.note(CycleReport())
    assert gate.may_run()
    gate.taking_in()
    assert not gate.may_run()  # (the intake raised here)
    gate.note(CycleReport())  # the next intake, complete
    assert gate.may_run()
