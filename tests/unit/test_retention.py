"""Retention (mailbot.retention): old mail contents go, metadata and evidence stay; SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from mailbot import retention
from mailbot.config import load_settings
from mailbot.db import make_engine, make_session_factory
from mailbot.models import (
    Acceptance,
    Connection,
    Consent,
    InboundMail,
    MailboxPurge,
    Member,
    Message,
    OutboxMail,
    Ticket,
)
from mailbot.retention import PURGED, purge
from mailbot.tokens import TokenSigner
from mailbot.workflows.base import WorkflowContext

NOW = datetime(2027, 6, 1, 12, 0)
OLD = NOW - timedelta(days=400)  # past the default 365 days
RECENT = NOW - timedelta(days=30)


def settings_for(database_url: str, **changes: str):  # type: ignore[no-untyped-def]
    env = {"MAILBOT_DATABASE_URL": database_url, "MAILBOT_CLUB_ADDRESS": "aide@club.test",
           "MAILBOT_AIDEUR_ADDRESSES": "aideur@club.test", "MAILBOT_SECRET_KEY": "retention-test-0123456789"}
    env.update(changes)
    return load_settings(env, env_file=None)


@pytest.fixture
def sessions(database_url):  # type: ignore[no-untyped-def]
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


def seed(sessions) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Two members, an old closed ticket, an old ticket still open, a recent closed one; mails in and out of all
    ages and states; the acceptance and consent evidence."""
    ids: dict[str, int] = {}
    with sessions.begin() as session:
        alice = Member(email="alice@membres.test", first_name="Alice", last_name="Martin", created_at=OLD)
        bruno = Member(email="bruno@membres.test", first_name="Bruno", last_name="Petit", created_at=OLD)
        session.add_all([alice, bruno])
        session.flush()
        closed = Ticket(ref="CA-2026-0001", member_id=alice.id, status="closed", subject="Déclaration de TVA",
                        summary="TVA intracommunautaire", created_at=OLD, closed_at=OLD + timedelta(days=5))
        still_open = Ticket(ref="CA-2026-0002", member_id=alice.id, status="accepted", subject="Bail commercial",
                            created_at=OLD)
        recent = Ticket(ref="CA-2027-0001", member_id=bruno.id, status="closed", subject="Recrutement",
                        created_at=RECENT, closed_at=RECENT)
        session.add_all([closed, still_open, recent])
        session.flush()
        ids.update(closed=closed.id, open=still_open.id, recent=recent.id, alice=alice.id, bruno=bruno.id)
        for ticket, at in ((closed, OLD), (still_open, OLD), (recent, RECENT)):
            session.add(Message(ticket_id=ticket.id, direction="in", sender="alice@membres.test",
                                subject=f"Re: {ticket.subject}", text="Alice Martin, 06 12 34 56 78 : mon problème",
                                message_id=f"in-{ticket.ref}@membres.test", attachments="bilan.pdf (12 Ko)", at=at))
            session.add(Message(ticket_id=ticket.id, direction="out", sender="aide@club.test",
                                recipients="alice@membres.test", subject=f"[{ticket.ref}] Demande bien reçue",
                                text="Bonjour Alice", message_id=f"out-{ticket.ref}@club.test", at=at))
        for name, status, at, ticket in (("old-sent", "sent", OLD, closed), ("old-failed", "failed", OLD, None),
                                         ("old-pending", "pending", OLD, closed), ("recent-sent", "sent", RECENT, recent),
                                         ("old-sent-open", "sent", OLD, still_open)):
            session.add(OutboxMail(idempotency_key=name, message_id=f"{name}@club.test", kind="ack",
                                   ticket_id=ticket.id if ticket else None, sender="aide@club.test",
                                   recipient="alice@membres.test", subject="Demande bien reçue : TVA",
                                   body=b"From: aide@club.test\r\n\r\nBonjour Alice Martin\r\n", status=status,
                                   created_at=at, sent_at=at if status == "sent" else None))
        for name, at, ticket in (("in-old-closed", OLD, closed), ("in-old-open", OLD, still_open),
                                 ("in-old-stranger", OLD, None), ("in-recent", RECENT, recent),
                                 ("0" * 64 + "@mailbot.invalid", OLD, None)):  # a mail that had no Message-ID
            session.add(InboundMail(message_id=name, folder="INBOX", uidvalidity=1, uid=len(name), received_at=at,
                                    from_address="alice@membres.test", subject="Mon problème de TVA",
                                    outcome="new-request", size=1234, raw_sha256="ab" * 32,
                                    ticket_id=ticket.id if ticket else None))
        session.add(Acceptance(member_id=alice.id, conditions_version="V4/2018", accepted_at=OLD,
                               message_id="accept@membres.test", line="J'accepte les conditions V4/2018",
                               raw_sha256="cd" * 32))
        connection = Connection(ticket_id=closed.id, requester_id=alice.id, helper_id=bruno.id, status="exchanged",
                                created_at=OLD, closed_at=OLD)
        session.add(connection)
        session.flush()
        session.add(Consent(connection_id=connection.id, member_id=alice.id, role="requester", status="yes",
                            asked_at=OLD, asked_message_id="ask@club.test", asked_sha256="ef" * 32,
                            answer_line="oui, j'accepte", answered_at=OLD, answer_message_id="yes@membres.test",
                            answer_sha256="01" * 32))
    return ids


def _outbox(session) -> dict[str, OutboxMail]:  # type: ignore[no-untyped-def]
    return {row.idempotency_key: row for row in session.scalars(select(OutboxMail))}


def test_old_contents_go_metadata_and_evidence_stay(database_url, sessions):
    ids = seed(sessions)
    settings = settings_for(database_url)
    with sessions.begin() as session:
        report = purge(session, settings, NOW)
    assert report.cutoff == NOW - timedelta(days=365)
    assert (report.outbox_bodies, report.message_texts, report.inbound_subjects, report.mailbox_deletions) == (3, 2, 3, 2)
    with sessions() as session:
        outbox = _outbox(session)
        for name in ("old-sent", "old-failed", "old-sent-open"):  # sent or given up: the copy is useless now
            assert outbox[name].body == b"" and outbox[name].subject == ""
            assert outbox[name].message_id == f"{name}@club.test" and outbox[name].recipient == "alice@membres.test"
            assert outbox[name].kind == "ack" and outbox[name].created_at == OLD
        assert outbox["old-pending"].body.startswith(b"From:")  # still to be sent: kept whole
        assert outbox["recent-sent"].body.startswith(b"From:")

        messages = {m.message_id: m for m in session.scalars(select(Message))}
        for mid in ("in-CA-2026-0001@membres.test", "out-CA-2026-0001@club.test"):
            message = messages[mid]
            assert message.text == PURGED and message.subject == "" and message.attachments == ""
            assert message.sender and message.direction and message.at == OLD  # who, which way, when: kept
        for mid in ("in-CA-2026-0002@membres.test", "in-CA-2027-0001@membres.test"):  # open ticket; recent one
            assert "mon problème" in messages[mid].text and messages[mid].attachments == "bilan.pdf (12 Ko)"

        ticket = session.get(Ticket, ids["closed"])
        assert ticket.subject == "Déclaration de TVA" and ticket.summary == "TVA intracommunautaire"  # its history

        inbound = {r.message_id: r for r in session.scalars(select(InboundMail))}
        assert inbound["in-old-closed"].subject == "" and inbound["in-old-stranger"].subject == ""
        assert inbound["in-old-open"].subject == "Mon problème de TVA" and inbound["in-recent"].subject
        for record in inbound.values():  # the dedupe and audit record itself stays
            assert record.raw_sha256 == "ab" * 32 and record.from_address and record.size == 1234

        queued = sorted(session.scalars(select(MailboxPurge.message_id)))
        assert queued == ["in-old-closed", "in-old-stranger"]  # the daemon deletes these from the mailbox
        assert all(p.done_at is None and p.requested_at == NOW for p in session.scalars(select(MailboxPurge)))

        acceptance = session.scalars(select(Acceptance)).one()
        assert (acceptance.line, acceptance.message_id, acceptance.raw_sha256) == (
            "J'accepte les conditions V4/2018", "accept@membres.test", "cd" * 32)
        consent = session.scalars(select(Consent)).one()
        assert (consent.answer_line, consent.answer_message_id, consent.answer_sha256, consent.asked_sha256) == (
            "oui, j'accepte", "yes@membres.test", "01" * 32, "ef" * 32)


def test_purge_is_idempotent_and_follows_the_clock(database_url, sessions):
    seed(sessions)
    settings = settings_for(database_url)
    with sessions.begin() as session:
        first = purge(session, settings, NOW)
    with sessions.begin() as session:
        again = purge(session, settings, NOW)
    assert first.total > 0 and again.total == 0 and not again.more
    # A year later the recent ticket's mails are old too.
    with sessions.begin() as session:
        later = purge(session, settings, NOW + timedelta(days=365))
    assert (later.outbox_bodies, later.message_texts, later.mailbox_deletions) == (1, 2, 1)
    with sessions() as session:
        assert session.scalar(select(func.count(MailboxPurge.id))) == 3


def test_zero_keeps_everything(database_url, sessions):
    seed(sessions)
    settings = settings_for(database_url, MAILBOT_RETENTION_DAYS="0")
    with sessions.begin() as session:
        report = purge(session, settings, NOW + timedelta(days=10_000))
    assert report.cutoff is None and report.total == 0
    assert "rien n'est purgé" in retention.describe(report, settings)
    with sessions() as session:
        assert all(row.body for row in session.scalars(select(OutboxMail)))
        assert session.scalar(select(func.count(MailboxPurge.id))) == 0


def test_a_shorter_limit_and_a_large_backlog_in_batches(database_url, sessions, monkeypatch):
    seed(sessions)
    with sessions.begin() as session:  # a backlog of old mails from strangers
        for number in range(7):
            session.add(InboundMail(message_id=f"backlog-{number}@ailleurs.test", folder="INBOX", uidvalidity=1,
                                    uid=1000 + number, received_at=NOW - timedelta(days=40), outcome="non-member"))
    monkeypatch.setattr(retention, "MAILBOX_PURGE_BATCH", 4)
    settings = settings_for(database_url, MAILBOT_RETENTION_DAYS="20")
    runs = []
    while True:
        with sessions.begin() as session:
            report = purge(session, settings, NOW)
        runs.append(report.mailbox_deletions)
        if not report.more:
            break
    # 2 old + 7 backlog + the recent closed ticket's mail (30 days > 20); never the open ticket's, never the
    # mail without a Message-ID (no IMAP search can find it)
    assert runs == [4, 4, 2]
    with sessions() as session:
        queued = set(session.scalars(select(MailboxPurge.message_id)))
    assert len(queued) == 10 and "in-old-open" not in queued and "in-recent" in queued


def test_the_scheduled_job_and_the_operator_report(database_url, sessions):
    seed(sessions)
    settings = settings_for(database_url)
    with sessions.begin() as session:
        ctx = WorkflowContext(session=session, settings=settings, signer=TokenSigner(settings.secret_keys), now=NOW)
        done = retention.run_due(ctx)
    assert done == 10 and ctx.outgoing == []  # the job decides nothing to send
    with sessions.begin() as session:
        report = purge(session, settings, NOW)
    text = retention.describe(report, settings)
    assert "365 jours" in text and "Mails bruts à supprimer de la boîte du club : 0" in text
    assert report.as_dict()["cutoff"] == "2026-06-01T12:00:00"


def test_the_daemon_runs_it_from_run_jobs_once_and_cheaply(database_url, sessions):
    """scheduler.JOBS holds the retention job: `run_jobs` (what the daemon calls every MAILBOT_JOBS_SECONDS, and
    `mailbot run --once --at`) purges old contents, keeps metadata and evidence, and a second tick finds nothing."""
    from mailbot.compose import TemplateRenderer
    from mailbot.outbox import Outbox
    from mailbot.scheduler import run_jobs

    seed(sessions)
    settings = settings_for(database_url)
    signer = TokenSigner(settings.secret_keys)
    outbox = Outbox(settings, signer, TemplateRenderer())
    done = run_jobs(sessions, settings, signer, outbox, NOW)
    assert done["retention"] == 10
    with sessions() as session:
        rows = _outbox(session)
        assert rows["old-sent"].body == b"" and rows["old-sent"].message_id == "old-sent@club.test"
        assert rows["old-pending"].body.startswith(b"From:") and rows["recent-sent"].body.startswith(b"From:")
        messages = {m.message_id: m for m in session.scalars(select(Message))}
        assert messages["in-CA-2026-0001@membres.test"].text == PURGED
        assert messages["in-CA-2026-0001@membres.test"].sender == "alice@membres.test"
        assert "mon problème" in messages["in-CA-2026-0002@membres.test"].text  # open ticket: kept whole
        assert session.scalars(select(Acceptance)).one().line == "J'accepte les conditions V4/2018"
        assert session.scalars(select(Consent)).one().answer_sha256 == "01" * 32
        assert sorted(session.scalars(select(MailboxPurge.message_id))) == ["in-old-closed", "in-old-stranger"]
    again = run_jobs(sessions, settings, signer, outbox, NOW + timedelta(minutes=5))  # the next tick: idempotent
    assert again["retention"] == 0
    with sessions() as session:
        assert session.scalar(select(func.count(MailboxPurge.id))) == 2


def test_each_run_is_bounded(database_url, sessions, monkeypatch):
    """A backlog (a first start with retention on, a shorter limit) is purged a bounded batch per tick."""
    seed(sessions)
    monkeypatch.setattr(retention, "RETENTION_BATCH", 2)
    settings = settings_for(database_url)
    reports = []
    while True:
        with sessions.begin() as session:
            reports.append(purge(session, settings, NOW))
        if not reports[-1].more:
            break
    assert [(r.outbox_bodies, r.message_texts, r.inbound_subjects) for r in reports] == [(2, 2, 2), (1, 0, 1)]
    assert all(r.outbox_bodies <= 2 and r.message_texts <= 2 for r in reports)
    with sessions() as session:
        assert all(row.body == b"" for key, row in _outbox(session).items() if key.startswith("old-s"))
        assert session.scalar(select(func.count(InboundMail.id)).where(InboundMail.subject != "")) == 2
