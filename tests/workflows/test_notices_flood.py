"""Bounded noise (issue 11, point 8): which mails of a flood Aideur hears of, as a table over a real database."""
from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from mailbot.db import make_engine, make_session_factory, upgrade
from mailbot.models import InboundMail
from mailbot.workflows.notices import FIRST_OVERALL, FLOOD_WINDOW, NON_MEMBER_OUTCOME, flood_notice

NOW = datetime(2026, 11, 26, 10, 0)


@pytest.fixture
def sessions():  # type: ignore[no-untyped-def]
    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='mailbot-flood-', dir='/tmp')) / 'flood.db'}"
    upgrade(url)
    engine = make_engine(url)
    yield make_session_factory(engine)
    engine.dispose()


def arrive(sessions, senders: list[str], *, at: datetime = NOW, outcome: str = NON_MEMBER_OUTCOME) -> list[int]:  # type: ignore[no-untyped-def]
    """Each mail in turn, as the pipeline does it: ask, then record. Returns the positions that got a notice."""
    told = []
    with sessions.begin() as session:
        for n, sender in enumerate(senders, 1):
            if flood_notice(session, sender=sender, outcome=outcome, now=at) is not None:
                told.append(n)
            session.add(InboundMail(message_id=f"m{n}-{at.isoformat()}-{sender}-{outcome}", folder="INBOX", uidvalidity=1,
                                    uid=n, received_at=at, from_address=sender, outcome=outcome))
            session.flush()
    return told


def test_one_sender_500_times_gives_three_notices(sessions):  # type: ignore[no-untyped-def]
    assert arrive(sessions, ["x@evil.test"] * 500) == [1, 10, 100]


def test_many_senders_are_told_one_by_one_up_to_the_overall_bound(sessions):  # type: ignore[no-untyped-def]
    told = arrive(sessions, [f"x{n}@evil.test" for n in range(500)])
    assert told == list(range(1, FIRST_OVERALL + 1)) + [100]


def test_the_count_carries_the_summary(sessions):  # type: ignore[no-untyped-def]
    arrive(sessions, ["x@evil.test"] * 9)
    with sessions() as session:
        flood = flood_notice(session, sender="x@evil.test", outcome=NON_MEMBER_OUTCOME, now=NOW)
    assert flood is not None and (flood.from_sender, flood.overall) == (10, 10)


def test_the_window_slides(sessions):  # type: ignore[no-untyped-def]
    arrive(sessions, ["x@evil.test"] * 5)
    later = NOW + FLOOD_WINDOW + timedelta(minutes=1)
    assert arrive(sessions, ["x@evil.test"], at=later) == [1]  # a new hour: told again


def test_other_outcomes_do_not_count(sessions):  # type: ignore[no-untyped-def]
    arrive(sessions, ["x@evil.test"] * 5, outcome="new-request")
    assert arrive(sessions, ["x@evil.test"]) == [1]


def test_mails_naming_no_sender_are_bounded_overall_only(sessions):  # type: ignore[no-untyped-def]
    """Junk too broken to name a sender is not one sender: each is told, up to the overall bound."""
    assert arrive(sessions, [""] * 150, outcome="quarantined") == list(range(1, FIRST_OVERALL + 1)) + [100]


def test_a_members_mails_and_strangers_are_counted_apart(sessions):  # type: ignore[no-untyped-def]
    """A count over every sender would depend on which of a member's and a stranger's mails another daemon
    committed first (their order is not kept between them): each is counted among the mails whose order with it
    is kept — a member's among her own (any of her addresses), strangers' (and senderless mails) among strangers',
    Aideur's among all."""
    from mailbot.members import upsert_member

    with sessions.begin() as session:
        upsert_member(session, "alice@membres.test", first_name="Alice", last_name="Martin")
    # Twelve copies from Alice first: they do not use up the strangers' first ten.
    assert arrive(sessions, ["alice@membres.test"] * 12, outcome="copy") == [1, 10]
    assert arrive(sessions, [f"s{n}@ailleurs.test" for n in range(12)], outcome="copy") == list(range(1, 11))
    with sessions() as session:
        for_alice = flood_notice(session, sender="alice@membres.test", outcome="copy", now=NOW)
        for_aideur = flood_notice(session, sender="aideur@club.test", outcome="copy", now=NOW,
                                  aideur_addresses=("aideur@club.test",))
        senderless = flood_notice(session, sender="", outcome="copy", now=NOW)
    assert for_alice is None  # her 13th: neither her first nor a milestone
    assert for_aideur is None  # the 25th of all
    assert senderless is None  # the 13th of strangers' and senderless mails
