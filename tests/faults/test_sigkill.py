"""SIGKILL at random moments over thousands of mails: nothing lost, nothing doubled.

The daemon (`mailbot run`, as the operator starts it) works through a backlog of 2,000 requests — with its helper
sending process, since the backlog is large — and is killed with SIGKILL at seeded random moments: sometimes the
main process alone (its helper notices and stops), sometimes the whole process tree at once. Each kill can land
mid-transaction, between a commit and the IMAP move, between handing a mail to SMTP and recording it. Then a last
start finishes the work, serves a new mail, and stops on SIGTERM.

The seed is printed; MAILBOT_FAULT_SEED replays it, MAILBOT_FAULT_SCALE makes the run longer.
"""
from __future__ import annotations

import os
import random
import signal
import time

import pytest

from tests.conftest import make_env
from tests.faults.harness import (
    FaultDaemon,
    assert_alive,
    assert_logged,
    check_exactly_once,
    children,
    drop_in_maildir,
    fault_seed,
    folder_size,
    request,
    scaled,
    settle,
)
from tests.helpers import ALICE, CLUB, MEMBERS, add_members

MAILS = {"sqlite": 2000, "postgresql": 700}  # 2,700 mails in ~90 s of CI; MAILBOT_FAULT_SCALE for more
KILLS = {"sqlite": 12, "postgresql": 8}

pytestmark = [pytest.mark.slow]  # minutes of real servers: `make test` runs them, `make test-fast` not


def test_sigkill_over_thousands_of_mails(clean_mail, database_url, sessions_for):
    seed = fault_seed()
    rng = random.Random(seed)
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    mails, kills = scaled(MAILS[backend]), scaled(KILLS[backend])
    sessions = sessions_for(database_url)
    add_members(sessions)
    requests = [request(MEMBERS[n % len(MEMBERS)], f"Demande numéro {n}", f"Bonjour,\n\nVoici ma demande numéro {n}.")
                for n in range(mails)]
    started = time.monotonic()
    drop_in_maildir(clean_mail, CLUB, (raw for _, raw in requests))
    assert folder_size(clean_mail, CLUB, "INBOX") == mails
    appended = time.monotonic() - started

    env = make_env(clean_mail, database_url, MAILBOT_RATE_LIMIT_PER_HOUR="1000000", MAILBOT_POLL_SECONDS="1",
                   MAILBOT_BATCH_SIZE=str(rng.choice((10, 25, 50))))
    daemon = FaultDaemon(env, f"sigkill-{backend}")
    whole_tree = 0
    try:
        for _ in range(kills):
            daemon.start()
            time.sleep(rng.uniform(0.6, 4.5))  # ~0.5 s of imports, then anywhere in the work
            assert daemon.process is not None
            if rng.random() < 0.5:
                whole_tree += 1
                for child in children(daemon.process.pid):
                    os.kill(child, signal.SIGKILL)
            daemon.kill()
        daemon.start()
        settle(clean_mail, sessions, timeout=scaled(240))
        alive = assert_alive(daemon, clean_mail, sessions, ALICE)
        assert daemon.terminate() == 0, daemon.output()
        # No folder duplicates allowed: the mailbox moves each mail with one UID MOVE (mailbox.py), which a kill of
        # mailbot cannot cut in half.
        ledger = check_exactly_once(clean_mail, sessions, [mid for mid, _ in requests] + [alive])
        if ledger.interrupted:
            print(assert_logged(daemon, r"were being sent when mailbot stopped"))
    finally:
        daemon.__exit__(None, None, None)  # killed if still running; its log kept if asked
    assert ledger.processed == mails + 1 and ledger.quarantined == 0
    assert ledger.sent == 2 * (mails + 1)
    # No bound per kill: a kill of the daemon alone leaves its helper sending until it notices (dispatch.py), and
    # the next start re-queues what that orphan is handing over; every extra copy is still an interrupted send.
    print(f"seed {seed}, {backend}: {kills} SIGKILLs ({whole_tree} of the whole process tree) over {mails} mails "
          f"(appended in {appended:.1f} s, done in {time.monotonic() - started:.0f} s): {ledger.line()}")
