"""Never lose a mail, never send one twice: SIGKILL the daemon at random moments of a 200-mail batch.

Each kill can land anywhere: mid-transaction, between the commit and the IMAP move, between handing a mail to
SMTP and recording it as sent. The only moment that cannot be made exactly-once is the last one (the server
has the mail, our commit has not happened yet): such a row is marked `interrupted_sends` and sent again with the
same Message-ID. The test allows one more copy of a mail per interrupted send recorded on its row, and no more
interrupted sends than the kills could make. A mail can be interrupted at two kills: after a restart, the row put
back first is the first sent, and a kill can land on it again (seen: a row with two interrupted sends, three
attempts; three copies when both interruptions came after the server had it).
"""
from __future__ import annotations

import os
import random
import time
from collections import Counter

import pytest
from imap_tools import MailMessage
from sqlalchemy import func, select

from mailbot import sendjournal
from mailbot.models import InboundMail, OutboxMail, Ticket
from tests.conftest import make_env
from tests.helpers import AIDEUR, CLUB, MEMBERS, add_members, append, mailbox, make_mail
from tests.integration.daemon_process import DaemonProcess

BATCH = 200
KILLS = 8
AT = "2026-11-26T11:00"  # the daemon's clock (a Thursday with nothing due): never the real one

pytestmark = [pytest.mark.slow]


def _requests() -> list[tuple[str, str]]:
    mails = []
    for number in range(BATCH):
        sender = MEMBERS[number % len(MEMBERS)]
        mail = make_mail(sender, f"Demande numéro {number}", f"Bonjour,\n\nVoici ma demande numéro {number}.\n" * 3)
        mails.append((mail["Message-ID"], mail.as_bytes()))
    return mails


def test_sigkill_at_random_points_loses_nothing_and_doubles_nothing(clean_mail, database_url, sessions_for):
    seed = int(os.environ.get("MAILBOT_CRASH_SEED", time.time()))
    rng = random.Random(seed)
    env = make_env(clean_mail, database_url, MAILBOT_RATE_LIMIT_PER_HOUR="100000", MAILBOT_POLL_SECONDS="1",
                   MAILBOT_BATCH_SIZE="20")
    sessions = sessions_for(database_url)
    add_members(sessions)
    requests = _requests()
    for _, raw in requests:
        append(clean_mail, CLUB, raw)

    daemon = DaemonProcess(env, "run", "--at", AT)
    for _ in range(KILLS):
        daemon.start()
        time.sleep(rng.uniform(0.4, 3.0))  # the interpreter needs ~0.4 s to import before it does anything
        daemon.kill()
    # Then let it finish: two full cycles (the second must find nothing left to do).
    first = daemon.run_once_at(AT)
    assert first.returncode == 0, first.stderr.decode()[-3000:]
    second = daemon.run_once_at(AT)
    assert second.returncode == 0, second.stderr.decode()[-3000:]
    assert b'"processed": 0' in second.stdout, f"seed {seed}"

    with sessions() as session:
        assert session.scalar(select(func.count(Ticket.id))) == BATCH, f"seed {seed}"
        assert session.scalar(select(func.count(InboundMail.id))) == BATCH
        assert session.scalar(select(func.count(OutboxMail.id))) == 2 * BATCH
        assert session.scalar(select(func.count(OutboxMail.id)).where(OutboxMail.status != "sent")) == 0
        interrupted = {message_id: count for message_id, count in session.execute(
            select(OutboxMail.message_id, OutboxMail.interrupted_sends).where(OutboxMail.interrupted_sends > 0))}

    assert mailbox(clean_mail, CLUB) == []
    assert len(mailbox(clean_mail, CLUB, "mailbot-traites")) == BATCH
    # SQLite: the send journals the killed senders left were read at the next start, and the last runs left none.
    journals = sendjournal.directory_for(sessions.kw["bind"])
    assert journals is None or not journals.exists() or list(journals.iterdir()) == [], f"seed {seed}"

    # Postfix delivers asynchronously, and later on a loaded machine: wait until every request's acknowledgement
    # and notification has landed (a fixed second was not always enough), then a moment more for extra copies.
    def delivered() -> tuple[list[MailMessage], list[MailMessage]]:
        return [m for address in MEMBERS for m in mailbox(clean_mail, address)], mailbox(clean_mail, AIDEUR)

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        acks, notes = delivered()
        if len({m.headers["in-reply-to"][0].strip() for m in acks}) >= BATCH and len(notes) >= BATCH:
            break
        time.sleep(0.2)
    time.sleep(0.5)
    acks, notes = delivered()
    answered = Counter(m.headers["in-reply-to"][0].strip() for m in acks)
    assert set(answered) == {message_id for message_id, _ in requests}, f"seed {seed}: an acknowledgement is missing"
    copies = Counter(m.headers["message-id"][0].strip("<> ") for m in acks + notes)
    extra = {message_id: count - 1 for message_id, count in copies.items() if count > 1}
    # Every extra copy is an interrupted send recorded on its row: never a mail sent again for another reason.
    unexplained = {message_id: count for message_id, count in extra.items() if count > interrupted.get(message_id, 0)}
    assert not unexplained, f"seed {seed}: more copies than interrupted sends: {unexplained}, {interrupted}"
    # A kill interrupts at most what the killed daemon had in hand: a mail its main loop and one its scheduler's
    # thread were sending (its helper, left alone, finishes and records its own).
    assert sum(interrupted.values()) <= 2 * KILLS, f"seed {seed}: {interrupted}"
    assert len(notes) - len(set(copies) & {m.headers["message-id"][0].strip("<> ") for m in notes}) <= KILLS
    print(f"seed {seed}: {sum(interrupted.values())} interrupted sends, {sum(extra.values())} resent copies")
