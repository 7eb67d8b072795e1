"""The week's figures and what is waiting, read from the database (docs/rules.md §11).

Pure queries: nothing here writes, sends or formats for a mail. The weekly digest (mailbot.workflows.digest) and
`mailbot report` both show what `build_digest` returns.

Times are naive UTC, as stored; a period is the half-open interval [start, end).
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from mailbot import calendar
from mailbot.calendar import MONTHS
from mailbot.models import (
    Activity,
    Booking,
    Connection,
    Consent,
    Event,
    InboundMail,
    Member,
    Poll,
    PollParticipant,
    ResultForm,
    Solicitation,
    Suggestion,
    Ticket,
)
from mailbot.ticket_states import TicketStatus, label

PERIOD_DAYS = 7
# Commands that are not an answer to the member: a note is internal, #aide and #tickets are Aideur's own lists.
NOT_AN_ANSWER = ("command:note", "command:aide", "command:tickets")
ROLES = {"requester": "demandeur", "helper": "aidant"}
ERASED = "membre effacé"


@dataclass(frozen=True)
class WeekFigures:
    """What happened in [start, end). Each count is defined where build_figures computes it."""

    start: datetime
    end: datetime
    requests: int
    accepted: int
    declined: int
    solved: int
    withdrawn: int
    median_first_answer_hours: float | None
    satisfaction_mean: float | None
    satisfaction_count: int
    results: dict[str, int]
    new_members: int


@dataclass(frozen=True)
class OpenTicket:
    ref: str
    member: str
    title: str
    state: str  # in French: à trier, acceptée, proposition faite
    promise: str  # answer | proposals
    due: date | None  # the next deadline, local date
    late: bool
    days_late: int  # local calendar days since the deadline's day (0: not late, or late since today)


@dataclass(frozen=True)
class PendingConsent:
    ref: str
    member: str  # who has not answered yet
    role: str  # demandeur | aidant
    asked_on: date
    reminded: bool


@dataclass(frozen=True)
class PendingForm:
    ref: str
    member: str
    role: str  # demandeur | aidant
    sent_on: date
    reminders: int


@dataclass(frozen=True)
class NewMember:
    name: str
    activity: str
    joined_on: date


@dataclass(frozen=True)
class UnansweredMail:
    """A mail that got no answer (an auto-reply, a delivery report, a list's mail…), and why."""

    received_at: datetime  # naive UTC
    sender: str
    subject: str
    kind: str  # the parser's: auto-reply, bounce, bulk, normal
    outcome: str  # the router's action: auto-reply, bounce, ignore
    reason: str  # in French where mailbot wrote it: "rebond non authentifié : …", "réponse automatique (…)"
    ticket_ref: str  # the ticket it was about, when known


@dataclass(frozen=True)
class MemberSuggestion:
    """A member's suggestion of the period (issue 17, point 4): never a ticket, listed for Aideur."""

    number: int
    member: str
    received_on: date
    text: str


@dataclass(frozen=True)
class Reciprocity:
    """One member's help asked and help given (issue 17, point 5), in the period and since they joined.

    - asked: their tickets (Ticket.member_id), by created_at;
    - offers: their answers to appeals that offered help (Solicitation status "offered"), by answered_at;
    - connections: the connections made with them as the helper (Connection.helper_id, status "exchanged": both
      sides agreed and the details were passed on), by closed_at (the moment the details were exchanged);
    - activities_led: the activities they led (activities_led: a hook, 0 until an activity records who leads it);
    - given = offers + connections + activities_led. An offer that led to a connection counts twice on purpose:
      offering is help given, being put in touch is more of it.
    """

    member_id: int
    name: str
    email: str
    asked_period: int
    asked_total: int
    offers_period: int
    offers_total: int
    connections_period: int
    connections_total: int
    activities_led_period: int = 0
    activities_led_total: int = 0

    @property
    def given_period(self) -> int:
        return self.offers_period + self.connections_period + self.activities_led_period

    @property
    def given_total(self) -> int:
        return self.offers_total + self.connections_total + self.activities_led_total


@dataclass(frozen=True)
class ActivityLine:
    """An activity still to come (issue 17): its places and how they are taken."""

    ref: str
    title: str
    starts_at: datetime  # naive UTC
    places: int
    booked: int
    waiting: int
    status: str


@dataclass(frozen=True)
class PollLine:
    """A poll open now, or closed in the period (issue 17): its participation, never anyone's choice."""

    ref: str
    question: str
    closes_at: datetime  # naive UTC
    asked: int
    voted: int
    status: str


@dataclass(frozen=True)
class Digest:
    figures: WeekFigures
    open_tickets: list[OpenTicket]
    overdue: list[OpenTicket]
    pending_consents: list[PendingConsent]
    pending_forms: list[PendingForm]
    new_members: list[NewMember]
    unanswered: list[UnansweredMail] = field(default_factory=list)  # in the period, the newest UNANSWERED_LIMIT
    unanswered_count: int = 0  # all of the period's
    suggestions: list[MemberSuggestion] = field(default_factory=list)  # the period's, oldest first
    reciprocity: list[Reciprocity] = field(default_factory=list)  # every member who ever asked or gave
    activities: list[ActivityLine] = field(default_factory=list)  # to come, soonest first
    polls: list[PollLine] = field(default_factory=list)  # open, or closed in the period


def build_digest(session: Session, now: datetime, zone: ZoneInfo, *, period_end: datetime | None = None,
                 period_start: datetime | None = None) -> Digest:
    """The figures of the 7 days ending at `period_end` (default: `now`), or of [period_start, period_end), and the
    lists as they stand at `now`.

    The seven days are counted on the local calendar (the same local time seven days before), so a week across a
    change of summer time is still seven days on Aideur's clock.
    """
    end = period_end or now
    start = period_start or week_start(end, zone)
    tickets = open_tickets(session, now, zone)
    return Digest(
        figures=build_figures(session, start, end),
        open_tickets=tickets,
        overdue=[t for t in tickets if t.late],
        pending_consents=pending_consents(session, zone),
        pending_forms=pending_forms(session, zone),
        new_members=new_members(session, start, end, zone),
        unanswered=unanswered(session, start, end),
        unanswered_count=session.scalar(select(func.count(InboundMail.id)).where(
            InboundMail.outcome.in_(UNANSWERED_OUTCOMES), InboundMail.received_at >= start,
            InboundMail.received_at < end)) or 0,
        suggestions=suggestions(session, start, end, zone),
        reciprocity=reciprocity(session, start, end),
        activities=activities_to_come(session, now),
        polls=polls_of_the_period(session, start, now),
    )


def activities_to_come(session: Session, now: datetime) -> list[ActivityLine]:
    """The activities not cancelled whose date is still to come, soonest first, with places booked (a place
    offered to someone waiting counts as taken) and people waiting."""
    activities = session.scalars(select(Activity).where(Activity.starts_at >= now, Activity.status != "cancelled")
                                 .order_by(Activity.starts_at, Activity.id)).all()
    if not activities:
        return []
    counts: dict[tuple[int, str], int] = {
        (activity_id, status): n for activity_id, status, n in session.execute(
            select(Booking.activity_id, Booking.status, func.count()).where(
                Booking.activity_id.in_([a.id for a in activities])).group_by(Booking.activity_id, Booking.status))}
    return [ActivityLine(ref=a.ref, title=a.title, starts_at=a.starts_at, places=a.places,
                         booked=counts.get((a.id, "booked"), 0) + counts.get((a.id, "offered"), 0),
                         waiting=counts.get((a.id, "waiting"), 0), status=a.status) for a in activities]


def polls_of_the_period(session: Session, start: datetime, now: datetime) -> list[PollLine]:
    """The polls open now and those that closed since `start`, by closing time: members asked and who voted."""
    polls = session.scalars(select(Poll).where(or_(Poll.status == "open", Poll.closes_at >= start))
                            .order_by(Poll.closes_at, Poll.id)).all()
    if not polls:
        return []
    counts: dict[tuple[int, bool], int] = {
        (poll_id, bool(voted)): n for poll_id, voted, n in session.execute(
            select(PollParticipant.poll_id, PollParticipant.has_voted, func.count()).where(
                PollParticipant.poll_id.in_([p.id for p in polls]))
            .group_by(PollParticipant.poll_id, PollParticipant.has_voted))}
    return [PollLine(ref=p.ref, question=p.question, closes_at=p.closes_at,
                     asked=counts.get((p.id, True), 0) + counts.get((p.id, False), 0),
                     voted=counts.get((p.id, True), 0), status=p.status) for p in polls]


def report_period(now: datetime, zone: ZoneInfo, digest_weekday: int = 0) -> tuple[datetime, datetime]:
    """The week `mailbot report` shows at `now`: the one the weekly digest names (naive UTC, [start, end)).

    Weeks run from digest day to digest day on the club's calendar (Monday: the ISO week in the club's zone). On
    the digest day, the week that just ended — what the digest mails that day; on any other day, the week in
    progress, from its first day at midnight up to `now` — what the next digest will mail. So `mailbot report`
    and the mailed digest never name two different weeks (a rolling "last seven days" straddled two).
    """
    local = now.replace(tzinfo=UTC).astimezone(zone)
    first_day = local.date() - timedelta(days=(local.weekday() - digest_weekday) % 7)
    midnight = local_midnight(first_day, zone)
    if first_day == local.date():
        return week_start(midnight, zone), midnight
    return midnight, now


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """00:00 on the club's `day`, naive UTC: where the digest's weeks begin and end."""
    return _utc(datetime.combine(day, time(0), tzinfo=zone))


def week_name(start: datetime, zone: ZoneInfo) -> str:
    """'2026-W48': the ISO week of the period's first local day (the ISO week itself for a Monday digest)."""
    year, week, _ = local_date(start, zone).isocalendar()
    return f"{year}-W{week:02d}"


def week_start(end: datetime, zone: ZoneInfo) -> datetime:
    """The same local time PERIOD_DAYS days before `end` (naive UTC in, naive UTC out)."""
    local = end.replace(tzinfo=UTC).astimezone(zone)
    return _utc(local - timedelta(days=PERIOD_DAYS))  # aware arithmetic on one zone is wall-clock arithmetic


def build_figures(session: Session, start: datetime, end: datetime) -> WeekFigures:
    """The week's figures, every one counted on events that happened in [start, end):

    - requests: tickets created in the period;
    - accepted / declined: tickets with an Aideur command "#accepter" / "#refuser" in the period (Event kind
      command:accepter / command:refuser), each ticket counted once;
    - solved: tickets with a result form answered in the period saying "resolu" (ResultForm.result), each ticket
      counted once (the requester and the helper both saying so is one problem solved);
    - withdrawn: tickets closed in the period with status "withdrawn" (the member said it was no longer needed);
    - median_first_answer_hours: for the tickets created in the period, the hours from created_at to Aideur's
      first answer (the first Event whose kind is a command other than #note, #aide, #tickets, or "relayed",
      his text passed on to the member), as known at the end of the period (an answer only comes after the
      ticket, so after the start); None when no ticket created in the period was answered in it;
    - satisfaction_mean / satisfaction_count: the mean (and number) of ResultForm.satisfaction given in the result
      forms answered in the period; None / 0 when there is none;
    - results: the number of result forms answered in the period, per ResultForm.result;
    - new_members: members created in the period whose status is active or ended (erased members are not counted).
    """
    created = (Ticket.created_at >= start, Ticket.created_at < end)
    requests = session.scalar(select(func.count(Ticket.id)).where(*created)) or 0
    answered = (ResultForm.answered_at >= start, ResultForm.answered_at < end, ResultForm.status == "answered")
    results = {result: count for result, count in session.execute(
        select(ResultForm.result, func.count(ResultForm.id)).where(*answered, ResultForm.result != "")
        .group_by(ResultForm.result).order_by(ResultForm.result))}
    satisfaction = [value for value in session.scalars(
        select(ResultForm.satisfaction).where(*answered, ResultForm.satisfaction.is_not(None))) if value is not None]
    return WeekFigures(
        start=start,
        end=end,
        requests=requests,
        accepted=_tickets_with_event(session, "command:accepter", start, end),
        declined=_tickets_with_event(session, "command:refuser", start, end),
        solved=session.scalar(select(func.count(func.distinct(ResultForm.ticket_id)))
                              .where(*answered, ResultForm.result == "resolu")) or 0,
        withdrawn=session.scalar(select(func.count(Ticket.id)).where(
            Ticket.status == TicketStatus.WITHDRAWN, Ticket.closed_at >= start, Ticket.closed_at < end)) or 0,
        median_first_answer_hours=_median_first_answer(session, start, end),
        satisfaction_mean=statistics.fmean(satisfaction) if satisfaction else None,
        satisfaction_count=len(satisfaction),
        results=results,
        new_members=session.scalar(select(func.count(Member.id)).where(
            Member.created_at >= start, Member.created_at < end, Member.status.in_(("active", "ended")))) or 0,
    )


def _tickets_with_event(session: Session, kind: str, start: datetime, end: datetime) -> int:
    return session.scalar(select(func.count(func.distinct(Event.ticket_id))).where(
        Event.kind == kind, Event.at >= start, Event.at < end, Event.ticket_id.is_not(None))) or 0


def _median_first_answer(session: Session, start: datetime, end: datetime) -> float | None:
    is_answer = or_(Event.kind == "relayed",
                    and_(Event.kind.startswith("command:", autoescape=True), Event.kind.not_in(NOT_AN_ANSWER)))
    first = (select(Event.ticket_id, func.min(Event.at).label("first_at"))
             .where(is_answer, Event.at >= start, Event.at < end, Event.ticket_id.is_not(None))
             .group_by(Event.ticket_id).subquery())
    rows = session.execute(select(Ticket.created_at, first.c.first_at).join(first, first.c.ticket_id == Ticket.id)
                           .where(Ticket.created_at >= start, Ticket.created_at < end)).all()
    delays = [max((answered - created).total_seconds(), 0) / 3600 for created, answered in rows]
    return statistics.median(delays) if delays else None


def open_tickets(session: Session, now: datetime, zone: ZoneInfo) -> list[OpenTicket]:
    """Tickets not closed (closed_at is null), the nearest deadline first, those without one last."""
    tickets = session.scalars(select(Ticket).where(Ticket.closed_at.is_(None)).options(selectinload(Ticket.member))
                              .order_by(Ticket.due_at.is_(None), Ticket.due_at, Ticket.id)).all()
    today = local_date(now, zone)
    return [OpenTicket(
        ref=t.ref,
        member=_name(t.member),
        title=t.subject or t.summary or "(sans objet)",
        state=label(t.status),
        promise=t.promise,
        due=local_date(t.due_at, zone) if t.due_at else None,
        late=t.due_at is not None and t.due_at < now,  # overdue: open with its deadline passed
        days_late=(today - local_date(t.due_at, zone)).days if t.due_at is not None and t.due_at < now else 0,
    ) for t in tickets]


def pending_consents(session: Session, zone: ZoneInfo) -> list[PendingConsent]:
    """The sides not yet answered (Consent pending) of the connections still asking, oldest question first."""
    rows = session.execute(
        select(Consent, Ticket.ref).options(selectinload(Consent.member))
        .join(Connection, Consent.connection_id == Connection.id)
        .join(Ticket, Connection.ticket_id == Ticket.id)
        .where(Consent.status == "pending", Connection.status == "asking")
        .order_by(Consent.asked_at, Consent.id)).all()
    return [PendingConsent(ref=ref, member=_name(consent.member), role=ROLES.get(consent.role, consent.role),
                           asked_on=local_date(consent.asked_at, zone), reminded=consent.reminded_at is not None)
            for consent, ref in rows]


def pending_forms(session: Session, zone: ZoneInfo) -> list[PendingForm]:
    """The result forms sent and not answered yet (status pending), oldest first."""
    rows = session.execute(
        select(ResultForm, Ticket.ref).options(selectinload(ResultForm.member))
        .join(Ticket, ResultForm.ticket_id == Ticket.id)
        .where(ResultForm.status == "pending").order_by(ResultForm.sent_at, ResultForm.id)).all()
    return [PendingForm(ref=ref, member=_name(form.member), role=ROLES.get(form.role, form.role),
                        sent_on=local_date(form.sent_at, zone), reminders=form.reminders) for form, ref in rows]


def new_members(session: Session, start: datetime, end: datetime, zone: ZoneInfo) -> list[NewMember]:
    """Members created in [start, end), active or ended (never the erased), in the order they joined."""
    members = session.scalars(select(Member).where(
        Member.created_at >= start, Member.created_at < end, Member.status.in_(("active", "ended")))
        .order_by(Member.created_at, Member.id)).all()
    return [NewMember(name=_name(m), activity=m.activity, joined_on=local_date(m.created_at, zone)) for m in members]


def suggestions(session: Session, start: datetime, end: datetime, zone: ZoneInfo) -> list[MemberSuggestion]:
    """The members' suggestions received in [start, end), oldest first."""
    rows = session.execute(select(Suggestion, Member).outerjoin(Member, Member.id == Suggestion.member_id)
                           .where(Suggestion.received_at >= start, Suggestion.received_at < end)
                           .order_by(Suggestion.received_at, Suggestion.id)).all()
    return [MemberSuggestion(number=s.id, member=_name(m), received_on=local_date(s.received_at, zone),
                             text=" ".join((s.text or s.subject or "").split())) for s, m in rows]


def activities_led(session: Session, start: datetime, end: datetime) -> tuple[dict[int, int], dict[int, int]]:
    """The hook for "activities led" ({member id: count} in [start, end), and in total). An activity records no
    leader yet (issue 17: activities are announced by Aideur): every member counts 0 until one does; then this
    is the one place to count them."""
    return {}, {}


def reciprocity(session: Session, start: datetime, end: datetime) -> list[Reciprocity]:
    """Help asked and given per member (see Reciprocity), for every member who ever asked or gave and was not
    erased; the most helpful first (given in the period, then in total), then by name."""
    def counts(column: Any, moment: Any, *conditions: Any) -> tuple[dict[int, int], dict[int, int]]:
        query = select(column, func.count()).where(*conditions).group_by(column)
        total = {key: n for key, n in session.execute(query) if key is not None}
        period = {key: n for key, n in session.execute(query.where(moment >= start, moment < end))
                  if key is not None}
        return period, total

    asked = counts(Ticket.member_id, Ticket.created_at)
    offers = counts(Solicitation.member_id, Solicitation.answered_at, Solicitation.status == "offered")
    connections = counts(Connection.helper_id, Connection.closed_at, Connection.status == "exchanged")
    led = activities_led(session, start, end)
    ids = set(asked[1]) | set(offers[1]) | set(connections[1]) | set(led[1])
    if not ids:
        return []
    members = session.scalars(select(Member).where(Member.id.in_(ids), Member.status != "erased")).all()
    rows = [Reciprocity(
        member_id=m.id, name=_name(m), email=m.email or "",
        asked_period=asked[0].get(m.id, 0), asked_total=asked[1].get(m.id, 0),
        offers_period=offers[0].get(m.id, 0), offers_total=offers[1].get(m.id, 0),
        connections_period=connections[0].get(m.id, 0), connections_total=connections[1].get(m.id, 0),
        activities_led_period=led[0].get(m.id, 0), activities_led_total=led[1].get(m.id, 0),
    ) for m in members]
    return sorted(rows, key=lambda r: (-r.given_period, -r.given_total, r.name.casefold(), r.member_id))


# The router's actions for mail that gets no answer (mailbot.router.Action values).
UNANSWERED_OUTCOMES = ("ignore", "auto-reply", "bounce")
UNANSWERED_LIMIT = 200  # a digest lists at most this many (the newest); `mailbot tickets unanswered` says all


def unanswered(session: Session, start: datetime, end: datetime, *,
               limit: int | None = UNANSWERED_LIMIT) -> list[UnansweredMail]:
    """The mails received in [start, end) that got no answer, with the reason recorded, newest first (at most
    `limit`, None for all)."""
    rows = session.execute(
        select(InboundMail, Ticket.ref).outerjoin(Ticket, InboundMail.ticket_id == Ticket.id)
        .where(InboundMail.outcome.in_(UNANSWERED_OUTCOMES), InboundMail.received_at >= start,
               InboundMail.received_at < end)
        .order_by(InboundMail.received_at.desc(), InboundMail.id.desc()).limit(limit)).all()
    return [UnansweredMail(received_at=m.received_at, sender=m.from_address, subject=m.subject, kind=m.kind,
                           outcome=m.outcome, reason=m.reason or "", ticket_ref=ref or "") for m, ref in rows]


def summary(digest: Digest, zone: ZoneInfo | None = None) -> dict[str, object]:
    """The figures and the lengths of the lists, for `mailbot report --json` (times in ISO 8601, UTC; with the
    club's `zone`, the week's name too: "week": "2026-W48")."""
    figures = digest.figures
    named = {"week": week_name(figures.start, zone)} if zone is not None else {}
    return named | {
        "start": figures.start.replace(tzinfo=UTC).isoformat(),
        "end": figures.end.replace(tzinfo=UTC).isoformat(),
        "requests": figures.requests,
        "accepted": figures.accepted,
        "declined": figures.declined,
        "solved": figures.solved,
        "withdrawn": figures.withdrawn,
        "median_first_answer_hours": figures.median_first_answer_hours,
        "satisfaction_mean": figures.satisfaction_mean,
        "satisfaction_count": figures.satisfaction_count,
        "results": dict(figures.results),
        "new_members": figures.new_members,
        "open_tickets": len(digest.open_tickets),
        "overdue": len(digest.overdue),
        "pending_consents": len(digest.pending_consents),
        "pending_forms": len(digest.pending_forms),
        "suggestions": len(digest.suggestions),
        "unanswered": [{"received_at": m.received_at.replace(tzinfo=UTC).isoformat(), "sender": m.sender,
                        "subject": m.subject, "kind": m.kind, "outcome": m.outcome, "reason": m.reason,
                        "ticket": m.ticket_ref or None} for m in digest.unanswered],
        "reciprocity": [{"email": r.email, "name": r.name,
                         "asked": {"period": r.asked_period, "total": r.asked_total},
                         "given": {"period": r.given_period, "total": r.given_total,
                                   "offers": {"period": r.offers_period, "total": r.offers_total},
                                   "connections": {"period": r.connections_period, "total": r.connections_total},
                                   "activities_led": {"period": r.activities_led_period,
                                                      "total": r.activities_led_total}}}
                        for r in digest.reciprocity],
        "activities": [{"ref": a.ref, "title": a.title, "starts_at": a.starts_at.replace(tzinfo=UTC).isoformat(),
                        "places": a.places, "booked": a.booked, "waiting": a.waiting, "status": a.status}
                       for a in digest.activities],
        "polls": [{"ref": p.ref, "question": p.question, "closes_at": p.closes_at.replace(tzinfo=UTC).isoformat(),
                   "asked": p.asked, "voted": p.voted, "status": p.status} for p in digest.polls],
    }


def period_label(start: datetime, end: datetime, zone: ZoneInfo) -> str:
    """'du 23 au 29 novembre 2026': the local days of [start, end) (an end at midnight closes the day before)."""
    first = local_date(start, zone)
    last = (end.replace(tzinfo=UTC).astimezone(zone) - timedelta(microseconds=1)).date()
    last = max(last, first)
    if (first.year, first.month) == (last.year, last.month):
        return f"du {_day(first)} au {_day(last)} {MONTHS[last.month - 1]} {last.year}"
    if first.year == last.year:
        return f"du {_day(first)} {MONTHS[first.month - 1]} au {_day(last)} {MONTHS[last.month - 1]} {last.year}"
    return f"du {_day(first)} {MONTHS[first.month - 1]} {first.year} au {_day(last)} {MONTHS[last.month - 1]} " \
           f"{last.year}"


def local_date(value: datetime, zone: ZoneInfo) -> date:
    return calendar.local_date(value, zone)


def _day(value: date) -> str:
    return "1er" if value.day == 1 else str(value.day)


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None)


def _name(member: Member | None) -> str:
    if member is None or member.status == "erased":
        return ERASED
    return member.display_name

