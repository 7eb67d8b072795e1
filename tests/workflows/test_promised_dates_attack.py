"""Issue 13, point 6 (and the absences of point 4), attacked through the commands' own checks over a real SQLite
database, without servers: the date a command would promise the member, typed the ways Aideur types it."""
from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest

from mailbot.commands import REGISTRY
from mailbot.commands.base import local_today
from mailbot.config import load_settings
from mailbot.db import make_engine, make_session_factory, upgrade
from mailbot.models import Absence, Member, Ticket
from mailbot.parsers.commands import Command, parse_aideur_reply
from mailbot.tokens import TokenSigner
from mailbot.workflows.base import WorkflowContext


@pytest.fixture
def session() -> Iterator:  # type: ignore[type-arg]
    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='mailbot-dates-', dir='/tmp')) / 'd.db'}"
    upgrade(url)
    engine = make_engine(url)
    with make_session_factory(engine).begin() as opened:
        member = Member(email="alice@membres.test", first_name="Alice", last_name="Martin")
        opened.add(member)
        opened.flush()
        opened.add(Ticket(id=1, ref="CA-2026-0001", member_id=member.id, subject="Bail", status="new",
                          promise="answer", due_at=datetime(2026, 12, 30, 17, 0)))
        opened.flush()
        yield opened
    engine.dispose()


def problem(session, line: str, now: datetime) -> str:  # type: ignore[no-untyped-def]
    settings = load_settings({"MAILBOT_DATABASE_URL": "sqlite://", "MAILBOT_CLUB_ADDRESS": "aide@club.test",
                              "MAILBOT_AIDEUR_ADDRESSES": "aideur@club.test",
                              "MAILBOT_SECRET_KEY": "dates-attack-0123456789"}, env_file=None)
    ctx = WorkflowContext(session=session, settings=settings, signer=TokenSigner(settings.secret_keys), now=now)
    reply = parse_aideur_reply(line, local_today(ctx))
    assert not reply.errors, reply.errors
    [command] = reply.commands
    assert isinstance(command, Command)
    ticket = session.get(Ticket, 1)
    if command.name == "reporter":
        ticket.status = "accepted"
    return REGISTRY[command.name].check(ctx, ticket, command, local_today(ctx))


# Monday 28 December 2026, 10:00 UTC (11:00 Paris); the promise standing is Wednesday 30 December.
MONDAY = datetime(2026, 12, 28, 10, 0)


@pytest.mark.parametrize(("line", "now", "next_day"), [
    ("#accepter 1/5", MONDAY, "lundi 3 mai"),           # 1er mai 2027 is a Saturday and a holiday
    ("#accepter 14 juillet", MONDAY, "jeudi 15 juillet"),
    ("#accepter 8 mai", MONDAY, "lundi 10 mai"),
    ("#accepter 6/5/2027", MONDAY, "vendredi 7 mai"),   # Ascension 2027
    ("#reporter 1/1 le prestataire est en congés", MONDAY, "lundi 4 janvier"),  # across New Year
    ("#reporter 2 janvier l'expert est absent", MONDAY, "lundi 4 janvier"),
])
def test_holidays_and_weekends_are_refused_naming_the_next_working_day(session, line, now, next_day):  # type: ignore[no-untyped-def]
    assert next_day in problem(session, line, now)


def test_a_later_date_across_new_year_is_accepted(session):  # type: ignore[no-untyped-def]
    assert problem(session, "#reporter 4/1 le prestataire est en congés", MONDAY) == ""


# Attack: "aujourd'hui" typed in the evening promises a day whose end (18:00 Paris) has already passed: the member
# would be told at once that the promise just made is late.
@pytest.mark.parametrize("line", ["#accepter aujourd'hui", "#accepter 28/12", "#accepter ce soir"])
def test_today_after_the_end_of_the_working_day_is_refused(session, line):  # type: ignore[no-untyped-def]
    evening = datetime(2026, 12, 28, 19, 30)  # 20:30 in Paris
    found = problem(session, line, evening)
    assert "mardi 29 décembre" in found
    assert problem(session, line, MONDAY) == ""  # in the morning it is a promise that can be kept


# Attack: a promise falling in Aideur's declared absence (point 4: promises falling in it move after the return).
@pytest.mark.parametrize("line", ["#accepter 23/12", "#reporter 4/1 le prestataire est malade"])
def test_a_date_in_aideurs_declared_absence_is_refused_naming_his_return(session, line):  # type: ignore[no-untyped-def]
    session.add(Absence(starts_on=date(2026, 12, 21), ends_on=date(2027, 1, 5), reason="", created_by="aideur@club.test",
                        created_at=datetime(2026, 12, 1, 9, 0)))
    session.flush()
    now = datetime(2026, 12, 14, 10, 0) if "accepter" in line else MONDAY
    found = problem(session, line, now)
    assert "absence" in found and "mercredi 6 janvier 2027" in found and "#present" in found
