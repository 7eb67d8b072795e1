"""Never more bookings than places (issue 17, point 1), in the database itself: one seat number per booked or
offered row, unique per activity; several daemons answering in the same second."""
from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError

from mailbot.members import upsert_member
from mailbot.models import Activity, Booking
from mailbot.parsers.activities import Answer
from mailbot.tokens import TokenSigner
from mailbot.workflows import activities
from mailbot.workflows.base import WorkflowContext

NOW = datetime(2026, 12, 1, 9, 0)
PEOPLE = [f"membre{n}@membres.test" for n in range(6)]


def setup(sessions, places: int) -> tuple[int, list[int]]:  # type: ignore[no-untyped-def]
    with sessions.begin() as session:
        members = [upsert_member(session, email, first_name=f"M{n}")[0] for n, email in enumerate(PEOPLE)]
        activity = Activity(ref="AC-2026-001", kind="atelier", title="Atelier", starts_at=NOW + timedelta(days=30),
                            duration_minutes=60, place="Salle", places=places, fee="gratuit", skills="", text="",
                            status="open", auto_promote=False, created_by="", created_at=NOW, cancel_reason="",
                            version=1, booking_until=NOW + timedelta(days=29), cancel_until=NOW + timedelta(days=29))
        session.add(activity)
        session.flush()
        bookings = [Booking(activity_id=activity.id, member_id=m.id, status="invited", invited_at=NOW)
                    for m in members]
        session.add_all(bookings)
        session.flush()
        return activity.id, [b.id for b in bookings]


def test_the_database_refuses_a_second_booking_on_the_same_seat(settings, sessions):
    _, ids = setup(sessions, 1)
    with sessions.begin() as session:
        first = session.get(Booking, ids[0])
        first.status, first.seat = "booked", 1
    with pytest.raises(IntegrityError), sessions.begin() as session:
        # What a transaction that counted the seats before the other committed would write.
        second = session.get(Booking, ids[1])
        second.status, second.seat = "booked", 1


def test_concurrent_answers_never_book_more_than_the_places(settings, sessions):
    _, ids = setup(sessions, 2)
    signer = TokenSigner(settings.secret_keys)
    barrier = threading.Barrier(len(ids))
    outcomes: list[str] = []

    def book(booking_id: int) -> None:
        barrier.wait()
        for _ in range(5):  # the pipeline's CONFLICT_RETRIES: a lost race is processed again
            try:
                with sessions.begin() as session:
                    ctx = WorkflowContext(session=session, settings=settings, signer=signer, now=NOW)
                    result = activities.answer_booking(ctx, session.get(Booking, booking_id), Answer.BOOK, key="k")
                outcomes.append(result.outcome)
                return
            except (IntegrityError, OperationalError):
                continue

    threads = [threading.Thread(target=book, args=(booking_id,)) for booking_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == ["booked"] * 2 + ["waiting"] * (len(ids) - 2)
    with sessions() as session:
        seats = list(session.scalars(select(Booking.seat).where(Booking.status == "booked")))
        assert sorted(seats) == [1, 2]
        positions = sorted(session.scalars(select(Booking.position).where(Booking.status == "waiting")))
        assert positions == list(range(1, len(ids) - 1))


def test_a_freed_seat_goes_to_one_member_waiting_at_a_time(settings, sessions):
    activity_id, ids = setup(sessions, 1)
    signer = TokenSigner(settings.secret_keys)
    with sessions.begin() as session:
        ctx = WorkflowContext(session=session, settings=settings, signer=signer, now=NOW)
        for booking_id in ids[:3]:
            activities.answer_booking(ctx, session.get(Booking, booking_id), Answer.BOOK, key="k")
        assert activities.answer_booking(ctx, session.get(Booking, ids[0]), Answer.CANCEL, key="c").outcome \
            == "cancelled"
        assert [session.get(Booking, i).status for i in ids[:3]] == ["cancelled", "offered", "waiting"]
        # The offer lapses: the next one waiting gets it.
        later = WorkflowContext(session=session, settings=settings, signer=signer,
                                now=NOW + timedelta(hours=settings.waitlist_offer_hours, minutes=1))
        activities.run_due(later)
        assert [session.get(Booking, i).status for i in ids[:3]] == ["cancelled", "cancelled", "offered"]
        held = session.scalar(select(func.count()).where(Booking.activity_id == activity_id,
                                                         Booking.seat.is_not(None)))
        assert held == 1


@pytest.mark.sqlite_only
def test_cli_lists_and_shows_activities_with_the_contract_keys(env, settings, sessions):
    from tests.integration.test_cli import mailbot

    _, ids = setup(sessions, 1)
    signer = TokenSigner(settings.secret_keys)
    with sessions.begin() as session:
        ctx = WorkflowContext(session=session, settings=settings, signer=signer, now=NOW)
        for booking_id in ids[:2]:
            activities.answer_booking(ctx, session.get(Booking, booking_id), Answer.BOOK, key="k")
    listed = mailbot(env, "activities", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    [row] = json.loads(listed.stdout)
    assert row == {"ref": "AC-2026-001", "type": "atelier", "title": "Atelier",
                   "starts_at": "2026-12-31T09:00:00+00:00", "places": 1, "booked": 1, "waiting": 1,
                   "status": "open"}
    shown = mailbot(env, "activities", "show", "ac-2026-001", "--json")
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert [(b["email"], b["status"]) for b in data["bookings"]] == [(PEOPLE[0], "booked"), (PEOPLE[1], "waiting")]
    assert set(data["bookings"][0]) == {"email", "status", "at"} and data["bookings"][0]["at"].startswith("2026-12-01")
    assert mailbot(env, "activities", "show", "AC-1999-001").returncode == 1


@pytest.mark.sqlite_only
def test_more_places_go_to_the_waiting_list_and_a_change_is_told_once_to_each(settings, sessions):
    from mailbot.parsers.activities import ActivityBlock, parse_block

    activity_id, ids = setup(sessions, 1)
    signer = TokenSigner(settings.secret_keys)
    with sessions.begin() as session:
        ctx = WorkflowContext(session=session, settings=settings, signer=signer, now=NOW)
        for booking_id in ids[:4]:
            activities.answer_booking(ctx, session.get(Booking, booking_id), Answer.BOOK, key="k")
        activity = session.get(Activity, activity_id)
        activity.auto_promote = True
        assert activities.set_places(ctx, activity, 3, key="p") == 2
        assert [session.get(Booking, i).status for i in ids[:4]] == ["booked", "booked", "booked", "waiting"]
        assert [o.template for o in ctx.outgoing] == ["activite_offre", "activite_offre"]  # "promoted", with .ics
        assert all(o.files and o.files[0][0] == "AC-2026-001.ics" for o in ctx.outgoing)
        ctx.outgoing.clear()
        block = parse_block(["date: 05/01/2027 10:00", "lieu: Salle B"], NOW.date(), partial=True)
        assert isinstance(block, ActivityBlock)
        assert activities.modify(ctx, activity, block, key="m") == 3
        assert sorted(o.to for o in ctx.outgoing) == sorted(PEOPLE[:3])
        assert {o.template for o in ctx.outgoing} == {"activite_modifiee"}
        assert activity.starts_at == datetime(2027, 1, 5, 9, 0) and activity.place == "Salle B"
        assert len({o.idempotency_key for o in ctx.outgoing}) == 3  # one per member and per change


@pytest.mark.sqlite_only
def test_plus_d_annonces_in_reply_stops_announcements_and_keeps_the_booking(settings, sessions):
    from mailbot.workflows.announcements import audience

    _, ids = setup(sessions, 2)
    signer = TokenSigner(settings.secret_keys)
    with sessions.begin() as session:
        ctx = WorkflowContext(session=session, settings=settings, signer=signer, now=NOW)
        booking = session.get(Booking, ids[0])
        activities.answer_booking(ctx, booking, Answer.BOOK, key="k")
        assert activities.answer_booking(ctx, booking, Answer.STOP, key="s").outcome == "no_more_announcements"
        assert booking.status == "booked" and not booking.member.accepts_announcements
        assert booking.member_id not in {m.id for m in audience(session)}
        other = session.get(Booking, ids[1])
        assert activities.answer_booking(ctx, other, Answer.CANCEL, key="c").outcome == "declined_invitation"
        assert other.status == "invited"
