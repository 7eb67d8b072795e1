"""Bookable activities (issue 17, point 1): trainings, conferences, workshops, express slots, workspaces.

Aideur announces one (`#activite`, mailbot.commands.activite); each member of the audience
(workflows.announcements.audience) gets it with their own reply address (token scope e: a Booking row bound to
that member and that activity). Their answer books a seat, puts them on the waiting list, cancels, or leaves the
list; a freed seat is offered to the first member waiting with a reply deadline (MAILBOT_WAITLIST_OFFER_HOURS),
then to the next — or, with `promotion: automatique`, given at once. The scheduler (run_due) sends the reminder the
working day before, closes bookings at their deadline, lets offers lapse, and after the activity sends Aideur the
participant list (CSV attached) and participants a short "comment s'est passée …" mail.

Never more bookings than places: a booked or offered row holds a seat number in 1..places and (activity, seat) is
unique in the database. The activity row is locked (SELECT … FOR UPDATE, PostgreSQL; SQLite has one writer) while
its seats are counted; a transaction that still picks a seat taken meanwhile fails on the unique index, and the
pipeline runs the mail again (CONFLICT_RETRIES): it then finds the seat taken.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailbot.calendar import french_date, french_datetime, is_business_day, local_date
from mailbot.models import Activity, ActivityCounter, Booking, Member
from mailbot.parsers import InboundMail
from mailbot.parsers.activities import ActivityBlock, Answer, answer_of
from mailbot.tokens import ROLE_MEMBER, SCOPE_ACTIVITY, SCOPE_PROFILE, Token
from mailbot.workflows.aideur import notify_aideurs
from mailbot.workflows.announcements import audience
from mailbot.workflows.base import Outgoing, WorkflowContext
from mailbot.workflows.profiles import image_rights_label

HOLDS_SEAT = ("booked", "offered")
REMINDER_HOUR = 9  # the reminder goes from 9:00 (club time) on the working day before


# --- creating and announcing ----------------------------------------------------------------------------------------
def to_utc(ctx: WorkflowContext, local: datetime) -> datetime:
    """A club-local naive datetime as naive UTC (how times are stored)."""
    return local.replace(tzinfo=ctx.settings.timezone).astimezone(UTC).replace(tzinfo=None)


def end_of_local_day(ctx: WorkflowContext, day: date) -> datetime:
    return to_utc(ctx, datetime.combine(day, time(23, 59)))


def next_ref(ctx: WorkflowContext) -> str:
    """AC-YYYY-NNN, numbered per year of the club's calendar. Two daemons creating the year's first counter at
    once: the loser's unique key fails and its mail is processed again."""
    year = local_date(ctx.now, ctx.settings.timezone).year
    counter = ctx.session.get(ActivityCounter, year, with_for_update=True)
    if counter is None:
        counter = ActivityCounter(year=year, last_number=0)
        ctx.session.add(counter)
    counter.last_number += 1
    return f"AC-{year}-{counter.last_number:03d}"


def create(ctx: WorkflowContext, block: ActivityBlock, *, actor: str, key: str) -> tuple[Activity, int]:
    """Record the activity and announce it; returns it and how many members it was announced to."""
    assert block.starts is not None
    starts = to_utc(ctx, block.starts)
    activity = Activity(
        ref=next_ref(ctx), kind=block.kind, title=block.title, starts_at=starts,
        duration_minutes=block.duration_minutes, place=block.place, places=block.places, fee=block.fee,
        booking_until=end_of_local_day(ctx, block.until) if block.until else starts,
        cancel_until=end_of_local_day(ctx, block.cancel_until) if block.cancel_until else starts,
        skills=block.skills, text=block.text, status="open", auto_promote=block.auto_promote, created_by=actor,
        created_at=ctx.now, cancel_reason="", version=1)
    ctx.session.add(activity)
    ctx.session.flush()
    members = audience(ctx.session, block.skills)
    for member in members:
        booking = invite(ctx, activity, member)
        to_member(ctx, booking, "activite_annonce", {}, key=f"activite-annonce:{activity.id}:{member.id}")
    notify_aideurs(ctx, None, "activite_creee", {
        "club_name": ctx.settings.club_name, "activity": describe(ctx, activity), "count": len(members),
        "skills": block.skills}, key=f"activite-creee:{key}", only=actor or None)
    return activity, len(members)


def invite(ctx: WorkflowContext, activity: Activity, member: Member) -> Booking:
    """The member's row for this activity (its id is their reply address's number), created once."""
    booking = ctx.session.scalar(select(Booking).where(Booking.activity_id == activity.id,
                                                       Booking.member_id == member.id))
    if booking is None:
        booking = Booking(activity_id=activity.id, member_id=member.id, status="invited", invited_at=ctx.now)
        ctx.session.add(booking)
        ctx.session.flush()
    return booking


# --- what mails say about an activity -------------------------------------------------------------------------------
def describe(ctx: WorkflowContext, activity: Activity) -> dict[str, object]:
    zone = ctx.settings.timezone
    hours, minutes = divmod(activity.duration_minutes, 60)
    duration = (f"{hours} h {minutes:02d}" if minutes else f"{hours} h") if hours else f"{minutes} min"
    counts = counts_of(ctx.session, activity)
    return {
        "ref": activity.ref, "kind": activity.kind, "title": activity.title,
        "when": french_datetime(activity.starts_at, zone), "duration": duration, "place": activity.place,
        "online": activity.place.lower().startswith(("http://", "https://")), "places": activity.places,
        "fee": activity.fee, "free": activity.fee == "gratuit", "text": activity.text,
        "until": french_date(activity.booking_until, zone) if activity.booking_until else "",
        "cancel_until": french_datetime(activity.cancel_until, zone) if activity.cancel_until else "",
        "status": activity.status, "booked": counts["booked"], "left": counts["left"], "waiting": counts["waiting"],
    }


def counts_of(session: Session, activity: Activity) -> dict[str, int]:
    rows = dict(session.execute(select(Booking.status, func.count(Booking.id)).where(
        Booking.activity_id == activity.id).group_by(Booking.status)).all())
    taken = rows.get("booked", 0) + rows.get("offered", 0)
    return {"booked": rows.get("booked", 0), "offered": rows.get("offered", 0), "waiting": rows.get("waiting", 0),
            "left": max(0, activity.places - taken)}


def to_member(ctx: WorkflowContext, booking: Booking, template: str, extra: dict[str, object], *, key: str,
              ics: bool = False, in_reply_to: str | None = None) -> None:
    """A mail to the booking's member, with their reply address for this activity (the .ics when asked)."""
    member = booking.member or ctx.session.get(Member, booking.member_id)
    activity = booking.activity or ctx.session.get(Activity, booking.activity_id)
    if member is None or not member.email or activity is None:
        return
    context = {"club_name": ctx.settings.club_name, "first_name": member.first_name, "activity": describe(ctx, activity),
               "status": booking.status, "position": waiting_position(ctx.session, booking)} | extra
    files = ((f"{activity.ref}.ics", "text/calendar", ics_of(ctx, activity)),) if ics else ()
    ctx.send(Outgoing(template=template, to=member.email, context=context, idempotency_key=key,
                      token=Token(SCOPE_ACTIVITY, booking.id, ROLE_MEMBER), auto_submitted="auto-generated",
                      files=files, in_reply_to=in_reply_to, rate_limited=False))


def ics_of(ctx: WorkflowContext, activity: Activity) -> bytes:
    """The activity as an iCalendar file (METHOD:PUBLISH): added to the calendar, nothing to answer."""
    def escape(text: str) -> str:
        return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")

    def stamp(value: datetime) -> str:
        return value.strftime("%Y%m%dT%H%M%SZ")

    domain = ctx.settings.club_address.rsplit("@", 1)[-1]
    status = "CANCELLED" if activity.status == "cancelled" else "CONFIRMED"
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//mailbot//activites//FR", "METHOD:PUBLISH",
             "BEGIN:VEVENT", f"UID:{activity.ref.lower()}@{domain}", f"SEQUENCE:{activity.version - 1}",
             f"DTSTAMP:{stamp(ctx.now)}", f"DTSTART:{stamp(activity.starts_at)}",
             f"DTEND:{stamp(activity.starts_at + timedelta(minutes=activity.duration_minutes))}",
             f"SUMMARY:{escape(activity.title)}", f"LOCATION:{escape(activity.place)}",
             f"DESCRIPTION:{escape(f'{activity.ref} - {ctx.settings.club_name}')}", f"STATUS:{status}",
             "END:VEVENT", "END:VCALENDAR"]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def waiting_position(session: Session, booking: Booking) -> int:
    """1 for the first member waiting; 0 when not waiting."""
    if booking.status != "waiting" or booking.position is None:
        return 0
    ahead = session.scalar(select(func.count(Booking.id)).where(
        Booking.activity_id == booking.activity_id, Booking.status == "waiting", Booking.position < booking.position))
    return int(ahead or 0) + 1


# --- seats ------------------------------------------------------------------------------------------------------------
def lock(session: Session, activity_id: int) -> Activity:
    """The activity row, locked until the transaction ends (PostgreSQL; SQLite's single writer does it anyway)."""
    activity = session.get(Activity, activity_id, with_for_update=True, populate_existing=True)
    assert activity is not None
    return activity


def free_seat(session: Session, activity: Activity) -> int | None:
    """The lowest seat number in 1..places that no booked or offered row holds, or None when full."""
    taken = set(session.scalars(select(Booking.seat).where(Booking.activity_id == activity.id,
                                                           Booking.seat.is_not(None))))
    held = session.scalar(select(func.count(Booking.id)).where(Booking.activity_id == activity.id,
                                                               Booking.status.in_(HOLDS_SEAT))) or 0
    if held >= activity.places:
        return None
    return next((seat for seat in range(1, activity.places + 1) if seat not in taken), None)


def take_seat(ctx: WorkflowContext, booking: Booking, status: str) -> bool:
    """Give the booking a free seat (booked or offered); False when full. The flush makes the unique index
    judge at once: a seat another transaction took meanwhile fails here, and the mail is processed again."""
    activity = lock(ctx.session, booking.activity_id)
    seat = free_seat(ctx.session, activity)
    if seat is None:
        return False
    booking.seat, booking.status = seat, status
    ctx.session.flush()
    return True


def release(booking: Booking) -> None:
    booking.seat, booking.offer_expires_at = None, None


def fill(ctx: WorkflowContext, activity: Activity, *, key: str) -> int:
    """Freed seats go to the first members waiting: offered with a reply deadline, one seat one member (never to
    everyone at once), or booked at once with automatic promotion. Returns how many were offered or booked."""
    done = 0
    # After bookings close, the waiting list (people who asked in time) still gets the freed seats.
    if activity.status == "cancelled" or ctx.now >= activity.starts_at:
        return 0
    while True:
        first = ctx.session.scalar(select(Booking).where(Booking.activity_id == activity.id,
                                                         Booking.status == "waiting")
                                   .order_by(Booking.position, Booking.id).limit(1))
        if first is None:
            return done
        promoted = "booked" if activity.auto_promote else "offered"
        if not take_seat(ctx, first, promoted):
            return done
        first.position = None
        done += 1
        if promoted == "booked":
            first.at = ctx.now
            to_member(ctx, first, "activite_offre", {"outcome": "promoted"},
                      key=f"activite-promu:{first.id}:{key}", ics=True)
        else:
            first.offer_expires_at = min(ctx.now + timedelta(hours=ctx.settings.waitlist_offer_hours),
                                         activity.starts_at)
            to_member(ctx, first, "activite_offre", {
                "outcome": "offered",
                "expires": french_datetime(first.offer_expires_at, ctx.settings.timezone)},
                key=f"activite-offre:{first.id}:{key}")


# --- members' answers ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Result:
    outcome: str  # booked | waiting | already | cancelled | left | closed | too_late | not_booked | unclear …
    ics: bool = False


def member_reply(ctx: WorkflowContext, mail: InboundMail, booking_id: int) -> str:
    """A member's answer through their reply address for one activity (the router checked it is theirs): booked,
    waiting, cancelled, left… and the mail saying so; returns what happened, for the inbound record."""
    booking = ctx.session.get(Booking, booking_id)
    assert booking is not None
    words = (mail.new_text or mail.text or "").strip()
    answer = answer_of(words)
    activity = ctx.session.get(Activity, booking.activity_id)
    assert activity is not None
    if ctx.now >= activity.starts_at and answer is not Answer.BOOK and words:
        # After the activity (the "comment s'est passée" mail, or any late word): Aideur reads it, the member is
        # thanked. Never "not understood" for an opinion.
        result = Result("thanks")
    else:
        result = answer_booking(ctx, booking, answer, key=mail.message_id)
    forwarded = result.outcome in ("thanks", "unclear", "too_late") and bool(words)
    if forwarded:
        # A question, an opinion, a reason: nothing a member writes to the club is lost.
        member = booking.member
        notify_aideurs(ctx, None, "activite_retour", {
            "club_name": ctx.settings.club_name, "activity": describe(ctx, activity), "outcome": result.outcome,
            "member": member.display_name, "email": member.email or "", "text": words[:4000]},
            key=f"activite-retour:{mail.message_id}")
    to_member(ctx, booking, "activite_reponse", {"outcome": result.outcome, "forwarded": forwarded},
              key=f"activite-reponse:{mail.message_id}", ics=result.ics, in_reply_to=f"<{mail.message_id}>")
    return f"réponse à l'activité {activity.ref} : {result.outcome}"


def answer_booking(ctx: WorkflowContext, booking: Booking, answer: Answer, *, key: str) -> Result:
    """Apply one answer: book, cancel, leave the waiting list. The outcome names what the member is told."""
    activity = lock(ctx.session, booking.activity_id)
    if answer is Answer.UNCLEAR:
        return Result("unclear")
    if answer is Answer.STOP:
        # The member's own choice, kept on their profile (workflows.announcements.audience obeys it); their
        # bookings stay as they are.
        member = booking.member
        member.accepts_announcements = False
        return Result("no_more_announcements")
    if booking.status == "invited" and answer in (Answer.CANCEL, Answer.LEAVE):
        return Result("declined_invitation")
    if activity.status == "cancelled":
        return Result("activity_cancelled")
    if ctx.now >= activity.starts_at:
        return Result("past")
    if answer is Answer.BOOK:
        return _book(ctx, activity, booking)
    if answer is Answer.LEAVE and booking.status != "waiting":
        answer = Answer.CANCEL if booking.status in HOLDS_SEAT else answer
        if answer is Answer.LEAVE:
            return Result("not_booked")
    if booking.status == "waiting":
        booking.status, booking.position, booking.at = "cancelled", None, ctx.now
        return Result("left")
    if booking.status == "offered":
        release(booking)
        booking.status, booking.at = "cancelled", ctx.now
        fill(ctx, activity, key=key)
        return Result("declined")
    if booking.status != "booked":
        return Result("not_booked")
    if activity.cancel_until is not None and ctx.now > activity.cancel_until:
        return Result("too_late")
    release(booking)
    booking.status, booking.at = "cancelled", ctx.now
    ctx.session.flush()
    fill(ctx, activity, key=key)
    return Result("cancelled")


def _book(ctx: WorkflowContext, activity: Activity, booking: Booking) -> Result:
    if booking.status == "booked":
        return Result("already", ics=True)
    if booking.status == "offered":
        booking.status, booking.at, booking.offer_expires_at = "booked", ctx.now, None
        return Result("booked", ics=True)
    if booking.status == "waiting":
        return Result("already_waiting")
    if activity.status != "open" or (activity.booking_until is not None and ctx.now > activity.booking_until):
        return Result("closed")
    booking.at = ctx.now
    if take_seat(ctx, booking, "booked"):
        booking.position = None
        return Result("booked", ics=True)
    last = ctx.session.scalar(select(func.max(Booking.position)).where(Booking.activity_id == activity.id))
    booking.status, booking.position = "waiting", (last or 0) + 1
    ctx.session.flush()
    return Result("waiting")


# --- members' "activités" ------------------------------------------------------------------------------------------
def open_activities(session: Session, now: datetime) -> list[Activity]:
    return list(session.scalars(select(Activity).where(Activity.status == "open", Activity.starts_at > now)
                                .order_by(Activity.starts_at, Activity.id)))


def list_for_member(ctx: WorkflowContext, mail: InboundMail, member: Member | None) -> None:
    """"activités" / "formations": the open activities, each with the member's own reply address to book it.
    Only active members (at the address on record); anyone else gets a short refusal listing nothing."""
    if member is None or member.status != "active" or not member.email:
        address = member.email if member is not None and member.email else mail.from_address
        ctx.send(Outgoing(template="activite_liste", to=address,
                          context={"club_name": ctx.settings.club_name, "member": False, "entries": [],
                                   "first_name": ""},
                          idempotency_key=f"activite-liste:{mail.message_id}",
                          token=ctx.signer.address_token(address), in_reply_to=f"<{mail.message_id}>"))
        return
    entries = []
    first_token: Token | None = None
    for activity in open_activities(ctx.session, ctx.now):
        booking = invite(ctx, activity, member)
        token = Token(SCOPE_ACTIVITY, booking.id, ROLE_MEMBER)
        first_token = first_token or token
        entries.append(describe(ctx, activity) | {
            "address": ctx.signer.plus_address(ctx.settings.club_address, token), "mine": booking.status,
            "position": waiting_position(ctx.session, booking)})
    # One activity: a plain reply books it. Several: each has its own address (the mail's own goes to the profile).
    token = first_token if len(entries) == 1 and first_token else Token(SCOPE_PROFILE, member.id, ROLE_MEMBER)
    ctx.send(Outgoing(template="activite_liste", to=member.email,
                      context={"club_name": ctx.settings.club_name, "member": True, "entries": entries,
                               "first_name": member.first_name, "single": len(entries) == 1},
                      idempotency_key=f"activite-liste:{mail.message_id}", token=token,
                      in_reply_to=f"<{mail.message_id}>"))


# --- Aideur's changes ------------------------------------------------------------------------------------------------
def booked_rows(session: Session, activity: Activity, statuses: tuple[str, ...] = HOLDS_SEAT) -> list[Booking]:
    return list(session.scalars(select(Booking).where(Booking.activity_id == activity.id,
                                                      Booking.status.in_(statuses)).order_by(Booking.id)))


def cancel_activity(ctx: WorkflowContext, activity: Activity, reason: str, *, key: str) -> int:
    """Cancel it and tell everyone booked, offered or waiting (once). Returns how many were told."""
    told = booked_rows(ctx.session, activity, ("booked", "offered", "waiting"))
    activity.status, activity.cancel_reason = "cancelled", reason
    activity.version += 1
    for booking in told:
        was = booking.status
        release(booking)
        booking.status, booking.position = "cancelled", None
        to_member(ctx, booking, "activite_annulee", {"reason": reason, "was": was},
                  key=f"activite-annulee:{activity.id}:{booking.id}", ics=was == "booked")
    return len(told)


def set_places(ctx: WorkflowContext, activity: Activity, places: int, *, key: str) -> int:
    """A new capacity; the waiting list is promoted into new seats (never anyone dropped: fewer places than
    bookings only stops new ones). Returns how many were offered or booked."""
    activity.places = places
    ctx.session.flush()
    return fill(ctx, activity, key=key)


def modify(ctx: WorkflowContext, activity: Activity, block: ActivityBlock, *, key: str) -> int:
    """A change of date, duration or place: recorded, and told once to everyone booked (the new .ics)."""
    if block.starts is not None:
        activity.starts_at = to_utc(ctx, block.starts)
        if "cancel" not in block.given and activity.cancel_until and activity.cancel_until > activity.starts_at:
            activity.cancel_until = activity.starts_at
    if "duration" in block.given:
        activity.duration_minutes = block.duration_minutes
    if "place" in block.given:
        activity.place = block.place
    if "title" in block.given:
        activity.title = block.title
    if block.until is not None:
        activity.booking_until = end_of_local_day(ctx, block.until)
    if block.cancel_until is not None:
        activity.cancel_until = end_of_local_day(ctx, block.cancel_until)
    activity.version += 1
    activity.reminded_at = None  # a new date: a new reminder
    told = booked_rows(ctx.session, activity)
    changed = [label for field, label in (("date", "date"), ("place", "lieu"), ("duration", "durée"),
                                          ("title", "titre")) if field in block.given]
    for booking in told:
        to_member(ctx, booking, "activite_modifiee", {"changed": changed},
                  key=f"activite-modifiee:{activity.id}:{activity.version}:{booking.id}", ics=True)
    return len(told)


def find(session: Session, ref: str) -> Activity | None:
    return session.scalar(select(Activity).where(Activity.ref == ref.upper()))


# --- scheduler ---------------------------------------------------------------------------------------------------------
def reminder_due(ctx: WorkflowContext, activity: Activity) -> datetime:
    """9:00 club time on the working day before the activity (naive UTC)."""
    day = local_date(activity.starts_at, ctx.settings.timezone) - timedelta(days=1)
    while not is_business_day(day):
        day -= timedelta(days=1)
    return to_utc(ctx, datetime.combine(day, time(REMINDER_HOUR, 0)))


def run_due(ctx: WorkflowContext) -> int:
    """Offers lapsing, bookings closing, reminders, and the follow-up after the activity. Each step is marked on
    its row and its mails keyed in the outbox: it happens once, across restarts and daemons."""
    done = 0
    lapsed = ctx.session.scalars(select(Booking).where(Booking.status == "offered",
                                                       Booking.offer_expires_at <= ctx.now).order_by(Booking.id))
    for booking in list(lapsed):
        activity = lock(ctx.session, booking.activity_id)
        release(booking)
        booking.status = "cancelled"
        to_member(ctx, booking, "activite_reponse", {"outcome": "offer_lapsed"},
                  key=f"activite-offre-perdue:{booking.id}")
        ctx.session.flush()
        fill(ctx, activity, key=f"lapsed:{booking.id}")
        done += 1
    for activity in list(ctx.session.scalars(select(Activity).where(Activity.status.in_(("open", "closed")),
                                                                    Activity.followed_up_at.is_(None)))):
        done += _activity_due(ctx, activity)
    return done


def _activity_due(ctx: WorkflowContext, activity: Activity) -> int:
    done = 0
    if activity.status == "open" and activity.booking_until is not None and ctx.now > activity.booking_until:
        activity.status, activity.closed_at = "closed", ctx.now
        done += 1
    if activity.reminded_at is None and reminder_due(ctx, activity) <= ctx.now < activity.starts_at:
        activity.reminded_at = ctx.now
        for booking in booked_rows(ctx.session, activity, ("booked",)):
            to_member(ctx, booking, "activite_rappel", {},
                      key=f"activite-rappel:{activity.id}:{activity.version}:{booking.id}", ics=True)
        done += 1
    ends = activity.starts_at + timedelta(minutes=activity.duration_minutes)
    if ctx.now >= ends:
        activity.followed_up_at = ctx.now
        if activity.status == "open":
            activity.status = "closed"
        participants = booked_rows(ctx.session, activity, ("booked",))
        for booking in participants:
            to_member(ctx, booking, "activite_bilan", {}, key=f"activite-bilan:{activity.id}:{booking.id}")
        notify_participants(ctx, activity, participants, key=f"activite-participants:{activity.id}")
        done += 1
    return done


def participant_rows(session: Session, participants: list[Booking]) -> list[dict[str, str]]:
    rows = []
    for booking in participants:
        member = booking.member
        rows.append({"name": member.display_name, "email": member.email or "", "company": member.company,
                     "phone": member.phone, "image_rights": image_rights_label(member)})
    return rows


def notify_participants(ctx: WorkflowContext, activity: Activity, participants: list[Booking], *, key: str,
                        only: str | None = None) -> None:
    """Aideur gets the participant list, with the CSV file (after the activity, or when he asks: `only` him)."""
    rows = participant_rows(ctx.session, participants)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(["nom", "email", "entreprise", "telephone", "droit_image"])
    for row in rows:
        writer.writerow([row["name"], row["email"], row["company"], row["phone"],
                         row["image_rights"].rpartition(" : ")[2]])
    from mailbot.workflows.aideur import aideur_command_token, command_address

    token = aideur_command_token(ctx.session)
    data = buffer.getvalue().encode("utf-8-sig")  # the BOM: spreadsheets then read the accents right
    for address in [only.lower()] if only else ctx.settings.aideur_addresses:
        ctx.send(Outgoing(template="activite_participants", to=address, context={
            "club_name": ctx.settings.club_name, "activity": describe(ctx, activity), "rows": rows,
            "past": ctx.now >= activity.starts_at,
            "reply_address": command_address(ctx), "command_address": command_address(ctx), "counterpart": ""},
            idempotency_key=f"{key}:{address}", token=token, auto_submitted="auto-generated", rate_limited=False,
            files=((f"participants-{activity.ref}.csv", "text/csv", data),)))


def overview(ctx: WorkflowContext) -> list[dict[str, object]]:
    """The upcoming activities (not cancelled), for Aideur's #activites."""
    rows = ctx.session.scalars(select(Activity).where(Activity.starts_at > ctx.now, Activity.status != "cancelled")
                               .order_by(Activity.starts_at, Activity.id))
    return [describe(ctx, activity) for activity in rows]
