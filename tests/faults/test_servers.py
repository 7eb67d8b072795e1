"""The IMAP and the SMTP server are killed (SIGKILL, every process of theirs) in the middle of the work and
restarted: the daemon reconnects by itself, nothing is lost, nothing doubled.

Dovecot dies mid-batch (the daemon is fetching, committing, moving), Postfix mid-send (the daemon or its helper is
handing mail over). A mail Postfix took just before dying is delivered after its restart from its queue; a mail
whose SMTP transaction was cut is sent again later with the same Message-ID.
"""
from __future__ import annotations

import random
import time
from contextlib import contextmanager

import pytest
from sqlalchemy import func, select

from mailbot.models import InboundMail, OutboxMail
from tests.conftest import make_env
from tests.faults.harness import (
    FaultDaemon,
    assert_alive,
    assert_logged,
    check_exactly_once,
    drop_in_maildir,
    fault_seed,
    healthy,
    kill_server,
    request,
    retry_deferred,
    scaled,
    settle,
)
from tests.helpers import BRUNO, CLUB, MEMBERS, add_members
from tests.integration.daemon_process import wait_until

MAILS = 300


@contextmanager
def restored(server):  # type: ignore[no-untyped-def]
    try:
        yield
    finally:
        server.start()  # whichever was down when a check failed
        healthy(server)

pytestmark = [pytest.mark.slow]  # minutes of real servers: `make test` runs them, `make test-fast` not


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_imap_and_smtp_servers_killed_and_restarted(clean_mail, database_url, sessions_for):
    seed = fault_seed()
    rng = random.Random(seed)
    mails = scaled(MAILS)
    sessions = sessions_for(database_url)
    add_members(sessions)
    requests = [request(MEMBERS[n % 3], f"Demande pendant les pannes {n}") for n in range(mails)]
    drop_in_maildir(clean_mail, CLUB, (raw for _, raw in requests))

    def count(query) -> int:  # type: ignore[no-untyped-def]
        with sessions() as session:
            return session.scalar(query) or 0

    env = make_env(clean_mail, database_url, MAILBOT_RATE_LIMIT_PER_HOUR="1000000", MAILBOT_POLL_SECONDS="1",
                   MAILBOT_BATCH_SIZE="20")
    def diagnose(daemon: FaultDaemon) -> str:
        # the servers' own logs, and where each thread of a daemon that stopped making progress is
        stacks = daemon.stacks() if daemon.alive() else ""
        return f"{daemon.output()}\n{clean_mail._logs()}\n--- daemon stacks\n{stacks}"

    with FaultDaemon(env, "servers-killed") as daemon, restored(clean_mail):
        rounds = scaled(1)
        for round_ in range(rounds):
            # Dovecot dies while the daemon is working through the inbox
            target = rng.randint(mails * round_ // rounds + 10, mails * (round_ + 1) // rounds - 10)
            assert wait_until(lambda target=target: count(select(func.count(InboundMail.id))) >= target, 60), diagnose(daemon)
            kill_server(clean_mail, "imap")
            time.sleep(rng.uniform(0.5, 3.0))
            assert daemon.alive(), daemon.output()
            clean_mail.start_imap()

            # Postfix dies while the outbox is being sent. Dovecot may have died after the last mail was handled and
            # its answers sent: then there would be nothing left to send, and new requests give Postfix work.
            sent = count(select(func.count(OutboxMail.id)).where(OutboxMail.status == "sent"))
            unsent = count(select(func.count(OutboxMail.id)).where(OutboxMail.status != "sent"))
            if unsent < 45:
                more = [request(MEMBERS[n % 3], f"Demande après la panne {round_}-{n}") for n in range(40)]
                drop_in_maildir(clean_mail, CLUB, (raw for _, raw in more))
                requests += more
            target = sent + rng.randint(5, 40)
            assert wait_until(lambda target=target: count(select(func.count(OutboxMail.id))
                                            .where(OutboxMail.status == "sent")) >= target, 60), diagnose(daemon)
            kill_server(clean_mail, "smtp")
            time.sleep(rng.uniform(0.5, 3.0))
            assert daemon.alive(), daemon.output()
            clean_mail.start_smtp()

        settle(clean_mail, sessions, timeout=150, deferred_ok=True)
        alive = assert_alive(daemon, clean_mail, sessions, BRUNO)
        imap_line = assert_logged(daemon, r"IMAP problem, reconnecting")
        smtp_line = assert_logged(daemon, r"SMTP unreachable|SMTP.*(?:deferred|down|unavailable)|connection.*lost")
        assert daemon.terminate() == 0, daemon.output()
        # A send cut by the crash waits for its retry time (30 s): the clock is moved on rather than waited for.
        deferred = retry_deferred(daemon, sessions)
        settle(clean_mail, sessions, timeout=30)

    # Dovecot may die between the copy and the expunge of a move: a mail can then sit in the processed folder twice
    # (the daemon handled it once); and in the middle of an LMTP delivery, which Postfix then retries: a recipient
    # gets a second copy of a mail handed over once. Postfix may die after queueing a mail and before saying so:
    # that mail is handed over twice, with the same Message-ID.
    ledger = check_exactly_once(clean_mail, sessions, [mid for mid, _ in requests] + [alive],
                                allow_folder_duplicates=True, extra_resends=rounds, allow_redelivery=True,
                                smtp_killed=True)
    assert ledger.processed == len(requests) + 1
    print(f"seed {seed}: IMAP and SMTP killed {rounds} time(s) each over {len(requests)} mails ({deferred} sends deferred "
          f"by the SMTP crash): {ledger.line()}\n"
          f"  {imap_line}\n  {smtp_line}")
