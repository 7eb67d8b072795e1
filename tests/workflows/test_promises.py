"""Delays explained and followed (issue 12, point 5), as tables over a real SQLite database, without servers:
which reason the member is told, which new date, and that the new date is a promise like any other."""
from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from mailbot.config import load_settings
from mailbot.db import make_engine, make_session_factory, upgrade
from mailbot.models import Member, Ticket
from mailbot.tokens import TokenSigner
from mailbot.workflows import deadlines
from mailbot.workflows.base import WorkflowContext

# Naive UTC, as stored. Paris is UTC+1 in winter: 17:00 UTC is 18:00, the end of a business day.
MONDAY_DUE = datetime(2026, 11, 30, 17, 0)     # Monday 30 November, 18:00 Paris
FRIDAY_DUE = datetime(2026, 12, 4, 17, 0)      # Friday 4 December
BEFORE_XMAS = datetime(2026, 12, 24, 17, 0)    # Thursday 24 December: the 25th is a public holiday


@pytest.fixture
def url() -> str:
    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='mailbot-promises-', dir='/tmp')) / 'p.db'}"
    upgrade(url)
    return url


def run(url: str, ticket: dict, at: datetime) -> tuple[list, Ticket]:  # type: ignore[type-arg]
    settings = load_settings({"MAILBOT_DATABASE_URL": url, "MAILBOT_CLUB_ADDRESS": "aide@club.test",
                              "MAILBOT_AIDEUR_ADDRESSES": "aideur@club.test",
                              "MAILBOT_SECRET_KEY": "promises-test-0123456789"}, env_file=None)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        if session.get(Ticket, 1) is None:
            member = Member(email="alice@membres.test", first_name="Alice", last_name="Martin")
            session.add(member)
            session.flush()
            session.add(Ticket(id=1, ref="CA-2026-0001", member_id=member.id, subject="Bail", **ticket))
            session.flush()
        ctx = WorkflowContext(session=session, settings=settings, signer=TokenSigner(settings.secret_keys), now=at)
        deadlines.run_due(ctx)
        session.flush()
        row = session.get(Ticket, 1)
        assert row is not None
        session.expunge(row)
    engine.dispose()
    return ctx.outgoing, row


# (case, the ticket, when the job runs, the reason the member is told, the new date, Aideur's reason or not)
LATE = [
    ("no reason given: a plain one", {"due_at": MONDAY_DUE, "promise": "answer"}, MONDAY_DUE,
     deadlines.PLAIN_REASONS["answer"], "mercredi 2 décembre 2026", False),
    ("proposals: their own plain reason", {"due_at": MONDAY_DUE, "promise": "proposals"}, MONDAY_DUE,
     deadlines.PLAIN_REASONS["proposals"], "mercredi 2 décembre 2026", False),
    ("the reason given for this date", {"due_at": FRIDAY_DUE, "promise": "answer", "delay_reason": "L'expert est absent.",
                                            "delay_reason_due": FRIDAY_DUE}, FRIDAY_DUE,
     "L'expert est absent.", "mardi 8 décembre 2026", True),
    ("a reason given for an earlier date is never reused",
     {"due_at": FRIDAY_DUE, "promise": "answer", "delay_reason": "L'expert est absent.", "delay_reason_due": MONDAY_DUE},
     FRIDAY_DUE, deadlines.PLAIN_REASONS["answer"], "mardi 8 décembre 2026", False),
    ("noticed late (the daemon was down): two working days from now",
     {"due_at": MONDAY_DUE, "promise": "answer"}, MONDAY_DUE + timedelta(hours=17),
     deadlines.PLAIN_REASONS["answer"], "jeudi 3 décembre 2026", False),
    ("weekend and Christmas skipped", {"due_at": BEFORE_XMAS, "promise": "proposals"}, BEFORE_XMAS,
     deadlines.PLAIN_REASONS["proposals"], "mardi 29 décembre 2026", False),
]


@pytest.mark.parametrize(("case", "ticket", "at", "reason", "new_date", "given"), LATE, ids=[c[0] for c in LATE])
def test_a_missed_date_gives_a_reason_and_a_new_date(url, case, ticket, at, reason, new_date, given):  # type: ignore
    sent, row = run(url, ticket, at)
    [member] = [m for m in sent if m.template == "retard"]
    [aideur] = [m for m in sent if m.template == "alerte_retard"]
    assert (member.context["reason"], member.context["new_date"], member.context["reason_given"]) == \
        (reason, new_date, given)
    assert aideur.context["new_date"] == new_date
    # The new date is the promise now: tracked, and it carries no reason of its own.
    assert row.due_at is not None and row.due_at > at and deadlines.reason_of_promise(row) == ""


def test_the_new_date_is_reminded_then_told_again_once_each(url):  # type: ignore[no-untyped-def]
    moments = [(MONDAY_DUE, ["retard", "alerte_retard"]), (MONDAY_DUE + timedelta(hours=2), []),
               (datetime(2026, 12, 1, 8, 0), ["rappel_echeance"]), (datetime(2026, 12, 1, 9, 0), []),
               (datetime(2026, 12, 2, 17, 0), ["retard", "alerte_retard"]), (datetime(2026, 12, 2, 18, 0), [])]
    for at, expected in moments:
        sent, row = run(url, {"due_at": MONDAY_DUE, "promise": "answer"}, at)
        assert [m.template for m in sent] == expected, at
    assert row.due_at == datetime(2026, 12, 4, 17, 0)  # Wednesday + 2 working days: Friday


@pytest.mark.parametrize(("reason", "reason_due", "due", "told"), [
    ("congés", MONDAY_DUE, MONDAY_DUE, "congés"),
    ("congés", MONDAY_DUE, FRIDAY_DUE, ""),
    ("congés", None, MONDAY_DUE, ""),
    ("", MONDAY_DUE, MONDAY_DUE, ""),
])
def test_a_reason_belongs_to_its_promise(reason, reason_due, due, told):  # type: ignore[no-untyped-def]
    ticket = Ticket(due_at=due, delay_reason=reason, delay_reason_due=reason_due)
    assert deadlines.reason_of_promise(ticket) == told


def test_set_promise_binds_the_reason_to_its_date():
    ticket = Ticket()
    deadlines.set_promise(ticket, FRIDAY_DUE, "L'expert est absent.")
    assert deadlines.reason_of_promise(ticket) == "L'expert est absent."
    ticket.due_at = MONDAY_DUE + timedelta(days=14)  # moved by anything else (a reopening…): the reason stays behind
    assert deadlines.reason_of_promise(ticket) == ""


def test_the_migration_binds_existing_reasons_to_their_current_date(tmp_path):  # type: ignore[no-untyped-def]
    from alembic import command

    from mailbot.db import alembic_config

    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(url), "0005f_erasure")
    engine = make_engine(url)
    with engine.begin() as connection:
        for ref, reason in (("CA-1", "congés"), ("CA-2", "")):
            connection.execute(text("insert into tickets (ref, status, subject, summary, created_at, updated_at, "
                                    "due_at, promise, delay_reason) values (:ref, 'new', '', '', '2026-11-26', "
                                    "'2026-11-26', '2026-12-04 17:00:00', 'answer', :reason)"),
                               {"ref": ref, "reason": reason})
    upgrade(url)
    with engine.connect() as connection:
        rows = dict(connection.execute(text("select ref, delay_reason_due from tickets")).all())
    engine.dispose()
    assert rows["CA-1"] is not None and str(rows["CA-1"]).startswith("2026-12-04 17:00") and rows["CA-2"] is None
