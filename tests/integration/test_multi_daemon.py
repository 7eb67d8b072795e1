"""Several daemons on one PostgreSQL database and one mailbox (two servers, or a restart overlapping the old process).

The guarantee: whatever the number of daemons, each mail is processed once (one inbound record per Message-ID, one
ticket per request), each outgoing mail is sent once (never taken back from a live daemon sending it), and each
scheduled action happens once (a reminder, a delay notice, a result-form reminder, the weekly digest).

The big test runs three real `mailbot run` processes while 300 requests arrive (SMTP, and IMAP APPEND for mails
without a Message-ID, duplicate deliveries and unreadable mail), with deadlines, result-form reminders and the digest
falling due under them; then replays the new tickets' deadlines with three `run --once --at` at the same instants.
Its variant SIGKILLs one daemon twice and restarts it while the two others go on. The small tests each pin one
race: a lost race on another unique key, a checkpoint above an unprocessed mail, a job held elsewhere, a send in
progress in another process, a MOVE of a UID another session already moved.
"""
from __future__ import annotations

import asyncio
import hashlib
import os
import random
import re
import socket
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from imap_tools import MailBoxUnencrypted
from sqlalchemy import func, insert, select

from mailbot.calendar import WEEKDAYS
from mailbot.compose import TemplateRenderer
from mailbot.config import load_settings
from mailbot.coordination import lock_key
from mailbot.mailbox import Mailbox
from mailbot.models import Event, InboundMail, MailboxCheckpoint, OutboxMail, RefCounter, ResultForm, Ticket, utcnow
from mailbot.outbox import Outbox
from mailbot.pipeline import Pipeline
from mailbot.scheduler import run_jobs
from mailbot.sender import Sender, recover_interrupted
from mailbot.tokens import TokenSigner
from mailbot.workflows.deadlines import reminder_time
from tests.conftest import make_env
from tests.helpers import (
    AIDEUR,
    ALICE,
    CLUB,
    MEMBERS,
    PASSWORD,
    add_members,
    append,
    mailbox,
    make_mail,
    run_cycle,
    smtp_send,
)
from tests.integration.daemon_process import DaemonProcess, wait_until

POSTGRES_ONLY = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
DAEMONS = 3
REQUESTS = 300  # distinct request mails during the run
WITHOUT_MESSAGE_ID = 20  # of which APPENDed without a Message-ID (one is derived from what it says)
DUPLICATES = 10  # second deliveries of a request already sent (same Message-ID)
UNREADABLE = 2
SEEDED = 12  # tickets made before the run: 6 with a reminder due, 6 with their due date passed
FORMS = 3  # result forms sent 22 days ago: both reminders due, one per job run
PROCESSED_FOLDER = "mailbot-traites"
QUARANTINE_FOLDER = "mailbot-quarantaine"


# --- reading mailboxes ------------------------------------------------------------------------------------------------


def _subject(raw: str) -> str:
    return " ".join(str(make_header(decode_header(raw))).split())


def headers(server, address: str, folder: str = "INBOX") -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    """Message-ID, In-Reply-To and subject of every mail in a folder (headers only: hundreds of mails)."""
    with MailBoxUnencrypted(server.imap_host, server.imap_port).login(address, PASSWORD, initial_folder=None) as box:
        if not box.folder.exists(folder):
            return []
        box.folder.set(folder)
        return [{"message_id": (m.headers.get("message-id", ("",))[0]).strip().strip("<>"),
                 "in_reply_to": (m.headers.get("in-reply-to", ("",))[0]).strip().strip("<>"),
                 "subject": _subject(m.obj.get("subject", ""))}
                for m in box.fetch(mark_seen=False, bulk=True, headers_only=True)]


def count(server, address: str, folder: str = "INBOX") -> int:  # type: ignore[no-untyped-def]
    with MailBoxUnencrypted(server.imap_host, server.imap_port).login(address, PASSWORD, initial_folder=None) as box:
        if not box.folder.exists(folder):
            return 0
        return int(box.folder.status(folder, ["MESSAGES"])["MESSAGES"])


# --- the mail that arrives --------------------------------------------------------------------------------------------


def _raw_without_message_id(sender: str, number: int) -> bytes:
    return (f"From: {sender}\r\nTo: {CLUB}\r\nSubject: Demande sans identifiant {number}\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            f"Bonjour,\r\n\r\nMon client sans Message-ID envoie la demande {number}.\r\n").encode()


def _incoming() -> list[tuple[str, str, object]]:
    """(how, sender, mail) in arrival order: "smtp" (EmailMessage), "append" (raw bytes), "duplicate", "garbage"."""
    arrivals: list[tuple[str, str, object]] = []
    smtp_sent = []
    no_id_every = REQUESTS // WITHOUT_MESSAGE_ID
    for number in range(REQUESTS):
        sender = MEMBERS[number % len(MEMBERS)]
        if number % no_id_every == no_id_every // 2:
            arrivals.append(("append", sender, _raw_without_message_id(sender, number)))
        else:
            mail = make_mail(sender, f"Demande {number}", f"Bonjour,\n\nVoici ma demande numéro {number}.\n")
            arrivals.append(("smtp", sender, mail))
            smtp_sent.append(mail)
        if number % (REQUESTS // DUPLICATES) == REQUESTS // DUPLICATES - 1:
            earlier = smtp_sent[-5] if len(smtp_sent) >= 5 else smtp_sent[0]
            arrivals.append(("duplicate", str(earlier["From"]), earlier))
        if number in (REQUESTS // 3, 2 * REQUESTS // 3):
            garbage = b"ceci n'est pas un mail\r\nni ceci\r\nni cela " + os.urandom(8).hex().encode()
            arrivals.append(("garbage", "", garbage))
    return arrivals


def _deliver(server, how: str, sender: str, mail: object) -> None:  # type: ignore[no-untyped-def]
    if how == "smtp":
        smtp_send(server, mail)  # type: ignore[arg-type]
    elif how == "duplicate":
        append(server, CLUB, mail.as_bytes())  # type: ignore[attr-defined]
    else:
        append(server, CLUB, mail)  # type: ignore[arg-type]


def _seed(database_url: str, sessions, env: dict[str, str], server) -> list[int]:  # type: ignore[no-untyped-def]
    """Tickets made before the run (one daemon, as always), then put where the jobs have work: 6 reminders due,
    6 due dates passed, 3 result forms whose two reminders are due. Returns the seeded ticket ids."""
    for number in range(SEEDED):
        sender = MEMBERS[number % len(MEMBERS)]
        append(server, CLUB, make_mail(sender, f"Ancienne demande {number}", "Bonjour,\n\nUne demande d'avant.\n")
               .as_bytes())
    seeded = DaemonProcess(env).run_once()
    assert seeded.returncode == 0, seeded.stderr.decode()[-3000:]
    now = utcnow()
    with sessions.begin() as session:
        tickets = session.scalars(select(Ticket).order_by(Ticket.id)).all()
        assert len(tickets) == SEEDED
        for ticket in tickets[:SEEDED // 2]:
            ticket.due_at = now + timedelta(hours=2)  # the working day before, 9:00, is always past: reminder due
        for ticket in tickets[SEEDED // 2:]:
            ticket.due_at = now - timedelta(hours=1)  # passed: the member is told of the delay
        for ticket in tickets[:FORMS]:
            session.add(ResultForm(ticket_id=ticket.id, member_id=ticket.member_id, role="requester", cause="close",
                                   status="pending", sent_at=now - timedelta(days=22)))
        return [ticket.id for ticket in tickets]


def _by_kind(session) -> Counter:  # type: ignore[no-untyped-def,type-arg]
    return Counter(dict(session.execute(select(Event.kind, func.count(Event.id)).group_by(Event.kind)).all()))


# --- the test ---------------------------------------------------------------------------------------------------------


@pytest.mark.slow
@POSTGRES_ONLY
@pytest.mark.parametrize("kills", [0, 2], ids=["three-daemons", "one-killed-twice-and-restarted"])
def test_three_daemons_process_each_mail_once_send_each_mail_once_run_each_job_once(
        clean_mail, database_url, sessions_for, kills):
    zone = ZoneInfo("Europe/Paris")
    today = datetime.now(zone)
    env = make_env(clean_mail, database_url, MAILBOT_RATE_LIMIT_PER_HOUR="100000", MAILBOT_POLL_SECONDS="1",
                   MAILBOT_JOBS_SECONDS="5", MAILBOT_BATCH_SIZE="10", MAILBOT_DIGEST_HOUR="0",
                   MAILBOT_DIGEST_DAY=WEEKDAYS[(today.weekday() + 1) % 7])  # no digest before the run
    sessions = sessions_for(database_url)
    add_members(sessions)
    seeded = _seed(database_url, sessions, env, clean_mail)
    live = env | {"MAILBOT_DIGEST_DAY": WEEKDAYS[today.weekday()]}  # the digest falls due under the daemons

    arrivals = _incoming()
    daemons = [DaemonProcess(live) for _ in range(DAEMONS)]
    for daemon in daemons:
        daemon.env["MAILBOT_LOG_LEVEL"] = "INFO"  # each cycle's count: did they share the work?
    seed = int(os.environ.get("MAILBOT_CRASH_SEED", time.time()))
    rng = random.Random(seed)
    print(f"seed {seed} (replay with MAILBOT_CRASH_SEED)")

    def kill_and_restart() -> None:  # while mail keeps coming, the two others running on
        time.sleep(rng.uniform(2.0, 4.0))
        for _ in range(kills):
            daemons[0].kill()
            daemons[0].start()
            time.sleep(rng.uniform(1.5, 4.0))

    killer = threading.Thread(target=kill_and_restart)
    try:
        for daemon in daemons:
            daemon.start()
        if kills:
            killer.start()
        for how, sender, mail in arrivals:
            _deliver(clean_mail, how, sender, mail)
            time.sleep(0.01)
        if kills:
            killer.join()

        records = SEEDED + REQUESTS + UNREADABLE

        def settled() -> bool:
            with sessions() as session:
                inbound = session.scalar(select(func.count(InboundMail.id)))
                unsent = session.scalar(select(func.count(OutboxMail.id)).where(OutboxMail.status != "sent"))
                kinds = _by_kind(session)
                reminded = session.scalar(select(func.coalesce(func.sum(ResultForm.reminders), 0)))
            return (inbound == records and unsent == 0 and kinds["reminder"] == SEEDED // 2
                    and kinds["late"] == SEEDED // 2 and reminded == 2 * FORMS
                    and (kinds["digest"] >= 1 or datetime.now(zone).date() != today.date())
                    and count(clean_mail, CLUB) == 0)

        done = wait_until(settled, timeout=300, interval=1.0)
        assert done, "the daemons did not finish:\n" + "\n".join(daemon.output() for daemon in daemons)
        for number, daemon in enumerate(daemons):
            assert daemon.alive(), f"daemon {number} died:\n{daemon.output()}"
        for daemon in daemons:
            assert daemon.terminate() == 0, daemon.output()
        logs = [daemon.log.read_text(errors="replace") for daemon in daemons]
        assert not [log for log in logs if "Traceback" in log], "\n".join(logs)[-20000:]
        shares = [sum(int(n) for n in re.findall(r"cycle: (\d+) mail\(s\) handled", log)) for log in logs]
        print(f"mails handled by each daemon (duplicates included): {shares}")
        if any(shares):  # (the log line's wording belongs to daemon.py)
            assert sum(1 for share in shares if share) >= 2, shares
    finally:
        for daemon in daemons:
            if daemon.alive():
                daemon.kill()

    # Phase 2: the 300 new tickets' deadlines, replayed by three `run --once --at` at the same instants.
    with sessions() as session:
        dues = list(session.scalars(select(Ticket.due_at).where(Ticket.id.not_in(seeded))))
    assert len(dues) == REQUESTS
    remind_at = max(reminder_time(due, zone) for due in dues)
    assert all(reminder_time(due, zone) <= remind_at < due for due in dues)
    late_at = max(dues) + timedelta(minutes=1)
    replay = DaemonProcess(live)
    for at in (remind_at, late_at):
        stamp = at.replace(tzinfo=UTC).isoformat()
        with ThreadPoolExecutor(DAEMONS) as pool:
            results = list(pool.map(lambda _, stamp=stamp: replay.run_once_at(stamp, timeout=300), range(DAEMONS)))
        for result in results:
            assert result.returncode == 0, result.stderr.decode()[-3000:]

    # --- the database: each mail once, each decision once, everything sent ---------------------------------------
    with sessions() as session:
        tickets = SEEDED + REQUESTS
        assert session.scalar(select(func.count(Ticket.id))) == tickets
        assert session.scalar(select(func.count(InboundMail.id))) == SEEDED + REQUESTS + UNREADABLE
        outcomes = Counter(dict(session.execute(select(InboundMail.outcome, func.count(InboundMail.id))
                                                .group_by(InboundMail.outcome)).all()))
        assert outcomes == {"new-request": tickets, "quarantined": UNREADABLE}
        derived = session.scalar(select(func.count(InboundMail.id))
                                 .where(InboundMail.message_id.like("%@mailbot.invalid"),
                                        InboundMail.outcome == "new-request"))
        assert derived == WITHOUT_MESSAGE_ID  # a Message-ID made from what it says: one record each, as any other
        assert session.scalar(select(func.count(func.distinct(InboundMail.ticket_id)))) == tickets
        kinds = _by_kind(session)
        # Once per promise. A missed date is replaced by a new one two working days later (told to the member),
        # itself a promise: depending on the weekday the test runs, the replayed instants reach it too.
        assert kinds["reminder"] >= SEEDED // 2 + REQUESTS
        assert kinds["late"] >= tickets
        assert kinds["result-form-reminded"] == 2 * FORMS
        assert kinds["digest"] == 1 or datetime.now(zone).date() != today.date()
        promised: dict[str, Counter] = {}  # type: ignore[type-arg]
        for kind in ("reminder", "late"):
            per_promise = Counter(session.execute(select(Event.ticket_id, Event.detail).where(Event.kind == kind)))
            assert set(per_promise.values()) == {1}, kind
            promised[kind] = Counter(f"[{ref}" for ref in session.scalars(
                select(Ticket.ref).join(Event, Event.ticket_id == Ticket.id).where(Event.kind == kind)))
        assert len(promised["late"]) == tickets
        assert session.scalar(select(func.count(OutboxMail.id)).where(OutboxMail.status != "sent")) == 0
        interrupted = set(session.scalars(select(OutboxMail.message_id).where(OutboxMail.interrupted_sends > 0)))
        expected = Counter(dict(session.execute(select(OutboxMail.recipient, func.count(OutboxMail.id))
                                                .group_by(OutboxMail.recipient)).all()))
    if not kills:
        assert interrupted == set()  # no process died: no send was ever taken back from a live daemon
    assert len(interrupted) <= 3 * kills  # a killed daemon had at most its own, its helper's and its jobs' send

    # --- the mailboxes: each mail delivered once --------------------------------------------------------------------
    addresses = [*MEMBERS, AIDEUR]
    assert set(expected) == set(addresses)
    wait_until(lambda: all(count(clean_mail, a) >= expected[a] for a in addresses), timeout=180, interval=1.0)
    time.sleep(1.0)  # and a moment for any extra copy
    received = {address: headers(clean_mail, address) for address in addresses}
    copies = Counter(m["message_id"] for mails in received.values() for m in mails)
    doubled = {message_id for message_id, n in copies.items() if n > 1}
    assert doubled <= interrupted, f"sent twice by live daemons: {doubled - interrupted}"
    assert all(n <= 2 for n in copies.values())
    print(f"{kills} kill(s): {len(interrupted)} interrupted send(s), {len(doubled)} mail(s) delivered twice")
    for address in addresses:
        got = len(received[address])
        assert expected[address] <= got <= expected[address] + len(doubled), address

    smtp_requests = {str(m["Message-ID"]).strip("<>"): sender for how, sender, m in arrivals if how == "smtp"}
    acks = [(a, m) for a in MEMBERS for m in received[a] if "Demande bien reçue" in m["subject"]]
    assert len({m["message_id"] for _, m in acks}) == tickets
    ack_subjects = Counter(m["subject"] for _, m in acks)
    assert len(ack_subjects) == tickets and max(ack_subjects.values()) <= (2 if kills else 1)
    answered = Counter(m["in_reply_to"] for _, m in {m["message_id"]: (a, m) for a, m in acks}.values())
    assert all(answered[message_id] == 1 for message_id in smtp_requests), "a request not acknowledged once"
    for address, m in acks:  # into the right member's mailbox
        assert smtp_requests.get(m["in_reply_to"], address) == address

    def refs(address: str, words: str) -> Counter:  # type: ignore[type-arg]
        unique = {m["message_id"]: m for m in received[address] if words in m["subject"]}
        return Counter(m["subject"].split("]", 1)[0] for m in unique.values())

    per_ref = refs(AIDEUR, "Nouvelle demande")
    assert len(per_ref) == tickets and set(per_ref.values()) == {1}
    # One mail per promise: as many reminders and delay notices per ticket as promises reminded or missed.
    assert refs(AIDEUR, "Rappel : échéance") == promised["reminder"]
    assert refs(AIDEUR, "Échéance dépassée") == promised["late"]
    assert sum((refs(a, "prend du retard") for a in MEMBERS), Counter()) == promised["late"]
    forms = sum((refs(a, "Rappel : quel résultat") for a in MEMBERS), Counter())
    assert len(forms) == FORMS and set(forms.values()) == {2}  # reminder 1, then reminder 2: never a third
    digests = {m["message_id"] for m in received[AIDEUR] if "bilan de la semaine" in m["subject"]}
    assert len(digests) == 1 or datetime.now(zone).date() != today.date()
    assert len({m["message_id"] for m in received[AIDEUR] if "illisible" in m["subject"]}) == UNREADABLE

    # --- the club mailbox: nothing left, each mail moved once ------------------------------------------------------
    assert count(clean_mail, CLUB) == 0
    moved = headers(clean_mail, CLUB, PROCESSED_FOLDER)
    assert {m["message_id"] for m in moved} >= set(smtp_requests)
    assert len(moved) == SEEDED + REQUESTS + DUPLICATES  # one UID MOVE each: even a kill leaves no second copy
    assert count(clean_mail, CLUB, QUARANTINE_FOLDER) >= UNREADABLE


# --- one race at a time -----------------------------------------------------------------------------------------------


@POSTGRES_ONLY
def test_a_race_lost_on_another_unique_key_is_processed_again_not_taken_for_a_duplicate(settings, sessions):
    """Two daemons make the year's first ticket at once: both insert the year's reference counter. The loser's
    IntegrityError is not about its Message-ID: its mail is processed again (it was once moved as a "duplicate",
    unprocessed: lost)."""
    add_members(sessions)
    at = datetime(2026, 12, 1, 10, 0)
    signer = TokenSigner(settings.secret_keys)
    pipeline = Pipeline(settings, sessions, signer, Outbox(settings, signer, TemplateRenderer()), lambda: at)
    raw = make_mail(ALICE, "Licenciement", "Bonjour,\n\nUne question de droit du travail.\n").as_bytes()
    outcome = {}
    with sessions.kw["bind"].connect() as other:
        other.execute(insert(RefCounter).values(year=at.year, last_number=41))  # another daemon, not committed
        worker = threading.Thread(target=lambda: outcome.update(
            result=pipeline.process(raw, folder="INBOX", uidvalidity=1, uid=1)))
        worker.start()
        time.sleep(1.0)
        assert worker.is_alive()  # waiting for the other transaction's counter row
        other.commit()
    worker.join(30)
    assert outcome["result"].action == "new-request"
    assert outcome["result"].ticket_ref == f"CA-{at.year}-0042"
    with sessions() as session:
        assert session.scalar(select(func.count(InboundMail.id))) == 1


def test_a_mail_below_the_checkpoint_without_its_record_is_processed_never_moved_unseen(clean_mail, settings,
                                                                                        sessions):
    """The checkpoint is only a shortcut: a UID at or below it without an inbound record of its own (another daemon
    committed a higher UID while this one was still in progress, then died) is processed, not moved."""
    add_members(sessions)
    for number in range(3):
        append(clean_mail, CLUB, make_mail(ALICE, f"Demande {number}", "Bonjour,\n\nUne demande.\n").as_bytes())
    box = Mailbox(settings.imap, "INBOX")
    box.connect()
    uidvalidity = box.uidvalidity
    box.close()
    with sessions.begin() as session:
        session.add(MailboxCheckpoint(folder="INBOX", uidvalidity=uidvalidity, last_uid=1000))
    report = run_cycle(settings, sessions)
    assert report.processed == 3 and dict(report.actions) == {"new-request": 3}
    with sessions() as session:
        assert session.scalar(select(func.count(Ticket.id))) == 3
    assert mailbox(clean_mail, CLUB) == []


def _due_ticket(sessions) -> None:  # type: ignore[no-untyped-def]
    from mailbot.models import Member

    now = utcnow()
    with sessions.begin() as session:
        alice = session.scalar(select(Member).where(Member.email == ALICE))
        session.add(Ticket(ref="CA-2026-0001", member_id=alice.id, subject="Bail", summary="Mon bail.",
                           created_at=now - timedelta(days=3), due_at=now + timedelta(hours=2)))


@POSTGRES_ONLY
def test_a_job_running_in_another_process_is_skipped_and_never_repeated(settings, sessions):
    add_members(sessions)
    _due_ticket(sessions)
    signer = TokenSigner(settings.secret_keys)
    outbox = Outbox(settings, signer, TemplateRenderer())
    now = utcnow()
    with sessions.kw["bind"].connect() as other:  # another daemon, in the middle of its deadlines job
        other.execute(select(func.pg_advisory_xact_lock(lock_key("job:deadlines"))))
        assert run_jobs(sessions, settings, signer, outbox, now)["deadlines"] == 0
        other.rollback()
    # Three daemons at the same instant: one reminder, no error.
    barrier = threading.Barrier(3)

    def tick() -> int:
        barrier.wait()
        return run_jobs(sessions, settings, signer, outbox, now)["deadlines"]

    with ThreadPoolExecutor(3) as pool:
        assert sorted(pool.map(lambda _: tick(), range(3))) == [0, 0, 1]
    assert run_jobs(sessions, settings, signer, outbox, now)["deadlines"] == 0
    with sessions() as session:
        assert session.scalar(select(func.count(OutboxMail.id)).where(OutboxMail.kind == "rappel_echeance")) == 1


class _SlowSmtp:
    """An SMTP server that takes 2 s to accept each mail: a send in progress, long enough to look at."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        self.receiving = threading.Event()

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.receiving.set()
        await asyncio.sleep(2.0)
        self.received.append(envelope.original_content or envelope.content)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _queue(sessions, key: str, status: str = "pending") -> int:  # type: ignore[no-untyped-def]
    now = utcnow()
    with sessions.begin() as session:
        row = OutboxMail(idempotency_key=key, message_id=f"{key}@club.test", kind="test", sender=CLUB,
                         recipient=ALICE, subject=key, body=f"Subject: {key}\r\n\r\nBonjour.\r\n".encode(),
                         status=status, next_attempt_at=now - timedelta(seconds=1), created_at=now)
        session.add(row)
        session.flush()
        return row.id


@POSTGRES_ONLY
def test_a_restarting_daemon_never_takes_back_a_mail_another_daemon_is_sending(mail_server, database_url,
                                                                               sessions_for):
    handler = _SlowSmtp()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        env = make_env(mail_server, database_url, MAILBOT_SMTP_HOST="127.0.0.1",
                       MAILBOT_SMTP_PORT=str(controller.port))
        settings = load_settings(env, env_file=None)
        sessions = sessions_for(database_url)
        sending = _queue(sessions, "in-flight")
        sender = Sender(settings.smtp, sessions, max_attempts=3, timeout=10, clock=utcnow)
        worker = threading.Thread(target=sender.flush)
        worker.start()
        assert handler.receiving.wait(10)
        with sessions() as session:
            assert session.get(OutboxMail, sending).status == "sending"
        assert recover_interrupted(sessions) == 0  # another daemon starting now
        assert recover_interrupted(sessions, at_start=False) == 0  # or in its cycle
        worker.join(30)
        abandoned = _queue(sessions, "abandoned", status="sending")  # left by a process that died
        assert recover_interrupted(sessions, at_start=False) == 1
        with sessions() as session:
            row = session.get(OutboxMail, sending)
            assert (row.status, row.attempts, row.interrupted_sends) == ("sent", 1, 0)
            gone = session.get(OutboxMail, abandoned)
            assert (gone.status, gone.interrupted_sends) == ("pending", 1)
        assert len(handler.received) == 1
    finally:
        controller.stop()


def test_moving_or_fetching_a_uid_another_session_already_moved_is_harmless(clean_mail, settings):
    """Two daemons' sessions: one moves a mail; the other, not told yet, moves the same UID (Dovecot refuses the
    whole COPY with NO [EXPUNGEISSUED], copies nothing) or fetches it (absent). No error, nothing else moved, one
    copy of each in the processed folder."""
    for number in range(4):
        append(clean_mail, CLUB, make_mail(ALICE, f"Demande {number}", "Bonjour.\n").as_bytes())
    first, second = Mailbox(settings.imap, "INBOX"), Mailbox(settings.imap, "INBOX")
    for box in (first, second):
        box.connect()
        box.ensure_folder(PROCESSED_FOLDER)
    try:
        uids = [uid for uid, _ in second.sizes()]
        first.move(uids[:1], PROCESSED_FOLDER)
        second.move(uids[:2], PROCESSED_FOLDER)
        first.move(uids[2:3], PROCESSED_FOLDER)
        assert [fetched.uid for fetched in second.fetch(uids)] == uids[3:]
        second.move(uids[:3], PROCESSED_FOLDER)
        assert [uid for uid, _ in first.sizes()] == uids[3:]
    finally:
        first.close()
        second.close()
    moved = headers(clean_mail, CLUB, PROCESSED_FOLDER)
    assert sorted(m["subject"] for m in moved) == ["Demande 0", "Demande 1", "Demande 2"]


def test_daemons_starting_together_both_create_the_folders(clean_mail, settings):
    """Both see no processed folder, both create it: the second gets NO [ALREADYEXISTS], and starts all the same."""
    first, second = Mailbox(settings.imap, "INBOX"), Mailbox(settings.imap, "INBOX")
    for box in (first, second):
        box.connect()
    try:
        second.box.folder.exists = lambda *args, **kwargs: False  # it looked before the first one created it
        first.ensure_folder("mailbot-nouveau")
        second.ensure_folder("mailbot-nouveau")
    finally:
        first.close()
        second.close()


def test_mail_announced_during_a_cycle_ends_the_wait_at_once(clean_mail, settings):
    """Found by bench/latency.py: mail arriving while the daemon works is announced (EXISTS) in the answer to one
    of its own commands; IDLE does not announce it again, so it waited for the next mail or the poll interval
    (p95 43 s at 10 mails/s). The wait now starts by looking at what was announced since the listing."""
    box = Mailbox(settings.imap, "INBOX")
    box.connect()
    try:
        box.sizes()
        append(clean_mail, CLUB, make_mail(ALICE, "Demande", "Bonjour.\n").as_bytes())
        box.box.client.noop()  # the cycle's own commands (a fetch, a move) hear of it first
        start = time.monotonic()
        assert box.wait_for_mail(5.0)
        assert time.monotonic() - start < 1.0
        box.sizes()
        start = time.monotonic()
        assert not box.wait_for_mail(1.0)  # and nothing new: a real wait
        assert time.monotonic() - start >= 0.9
    finally:
        box.close()


def test_lock_keys_are_stable_and_distinct() -> None:
    assert lock_key("job:deadlines") == lock_key("job:deadlines")
    assert lock_key("job:deadlines") != lock_key("job:digest")
    # From blake2b, not hash(): the same key in every process, on every server.
    assert lock_key("job:digest") == int.from_bytes(hashlib.blake2b(b"mailbot:job:digest", digest_size=8).digest(),
                                                    "big", signed=True)
