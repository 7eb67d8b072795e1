"""Deadlines (docs/rules.md §3): no promise to a member is ever silently broken.

Every open ticket with a due date carries one promise (an answer, or proposals). The working day before, at 9:00,
Aideur is reminded and asked for a new date and its reason (`#reporter DATE` and the reason on the next line).
When the date passes anyway, the member is told of the delay with a reason and a new date, and Aideur is alerted:

* the reason is the one Aideur gave for *this* promise (`#reporter DATE` + reason), or else a plain, honest one
  written for that case; a reason belongs to the promise it was given for (`Ticket.delay_reason_due`), so a
  reason given for an earlier date is never told again for a later delay;
* the new date is LATE_NEW_DATE_BUSINESS_DAYS working days later (weekends and French public holidays skipped),
  and it is a promise like any other: reminded the working day before, told again if it passes;
* during Aideur's declared absence (workflows.absences) no promise falls due: the ones in it were moved after his
  return when he declared it, and a delay notice's new date falling in it is made after his return too — so a
  member whose promise passed just before the absence gets one notice with a date after the return, then the
  usual rules.

Each happens once per promise: an event (ticket, kind, due date) records it in the same transaction as the mails,
so reruns, replays and restarts never repeat it.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from mailbot.calendar import due_after_business_days, french_date, is_business_day
from mailbot.models import Event, Ticket
from mailbot.tokens import ROLE_MEMBER, SCOPE_TICKET, Token
from mailbot.workflows import absences
from mailbot.workflows.aideur import notify_aideurs
from mailbot.workflows.base import Outgoing, WorkflowContext
from mailbot.workflows.requests import ticket_context
from mailbot.workflows.tickets import record_event

REMINDER_TIME = time(9, 0)
# A missed date is replaced by one this many working days later, told to the member with the delay.
LATE_NEW_DATE_BUSINESS_DAYS = 2
# Said to the member when Aideur gave no reason for the promise that passed: true in every case, nothing more.
PLAIN_REASONS = {
    "answer": "Aideur n'a pas pu étudier votre demande à temps. Il en a été prévenu aujourd'hui même.",
    "proposals": "Aideur n'a pas encore pu réunir de propositions à vous faire. Il en a été prévenu aujourd'hui "
                 "même.",
}


def set_promise(ticket: Ticket, due_at: datetime | None, reason: str = "") -> None:
    """Make a new promise to the member: its due date, and the reason given with it (`#reporter`), which is told
    to the member only while this very promise stands."""
    ticket.due_at = due_at
    ticket.delay_reason = reason
    ticket.delay_reason_due = due_at if reason else None


def reason_of_promise(ticket: Ticket) -> str:
    """The reason Aideur gave for the promise now standing ("" if none, or if it was given for another date)."""
    if ticket.delay_reason and ticket.due_at is not None and ticket.delay_reason_due == ticket.due_at:
        return ticket.delay_reason
    return ""


def reminder_time(due_at: datetime, zone: ZoneInfo) -> datetime:
    """9:00 local on the business day before the due date, as naive UTC."""
    day = due_at.replace(tzinfo=UTC).astimezone(zone).date() - timedelta(days=1)
    while not is_business_day(day):
        day -= timedelta(days=1)
    return datetime.combine(day, REMINDER_TIME, tzinfo=zone).astimezone(UTC).replace(tzinfo=None)


def reminders_due_before(now: datetime, zone: ZoneInfo) -> datetime:
    """The start (naive UTC) of the first local day whose promises' reminder is still to come at `now`: every
    promise due before it is late or reminded now, none after (reminder_time only grows with the due date)."""
    day = now.replace(tzinfo=UTC).astimezone(zone).date()
    for _ in range(60):  # the business day before: a few days at most, weekends and holidays included
        start = datetime.combine(day, datetime.min.time(), tzinfo=zone).astimezone(UTC).replace(tzinfo=None)
        if reminder_time(start, zone) > now:
            return start
        day += timedelta(days=1)
    return datetime.max


def run_due(ctx: WorkflowContext) -> int:
    """Send whatever is due at ctx.now. Returns how many promises were acted on."""
    acted = 0
    # Only the promises whose reminder is due are loaded (issue 16: every open ticket, 10,000 after a backlog,
    # was read at each run: +26 MB of the daemon's peak); the exact test stays below.
    horizon = reminders_due_before(ctx.now, ctx.settings.timezone)
    tickets = ctx.session.scalars(select(Ticket).where(Ticket.closed_at.is_(None), Ticket.due_at.is_not(None),
                                                       Ticket.due_at <= horizon)
                                  .order_by(Ticket.due_at)).all()
    for ticket in tickets:
        assert ticket.due_at is not None
        if ctx.now >= ticket.due_at:
            acted += _once(ctx, ticket, "late", _late)
        elif ctx.now >= reminder_time(ticket.due_at, ctx.settings.timezone):
            acted += _once(ctx, ticket, "reminder", _remind)
    return acted


def _once(ctx: WorkflowContext, ticket: Ticket, kind: str, action: Callable[[WorkflowContext, Ticket], None]) -> int:
    stamp = f"échéance {ticket.due_at:%Y-%m-%dT%H:%M}"  # the promise acted on, before the action may move it
    done = ctx.session.scalar(select(Event.id).where(Event.ticket_id == ticket.id, Event.kind == kind,
                                                     Event.detail == stamp))
    if done:
        return 0
    action(ctx, ticket)
    record_event(ctx.session, ticket, kind, stamp, ctx.now)
    return 1


def _local_day(ctx: WorkflowContext, value: datetime) -> str:
    """dd/mm as Aideur types it in a command."""
    local = value.replace(tzinfo=UTC).astimezone(ctx.settings.timezone)
    return f"{local.day}/{local.month:02d}"


def _context(ctx: WorkflowContext, ticket: Ticket) -> dict[str, object]:
    assert ticket.due_at is not None
    suggested = due_after_business_days(ticket.due_at, LATE_NEW_DATE_BUSINESS_DAYS, ctx.settings.timezone)
    return ticket_context(ctx, ticket, ticket.member) | {
        "promise": ticket.promise,
        "reason": reason_of_promise(ticket),
        "due_date": french_date(ticket.due_at, ctx.settings.timezone),
        "suggested_date": _local_day(ctx, suggested),
        "plain_reason": PLAIN_REASONS.get(ticket.promise, PLAIN_REASONS["answer"]),
    }


def _remind(ctx: WorkflowContext, ticket: Ticket) -> None:
    notify_aideurs(ctx, ticket, "rappel_echeance", _context(ctx, ticket),
                   key=f"reminder:{ticket.id}:{ticket.due_at:%Y%m%dT%H%M}")


def _late(ctx: WorkflowContext, ticket: Ticket) -> None:
    """The promise passed: tell the member why and until when, alert Aideur, and track the new date."""
    assert ticket.due_at is not None
    stamp = f"{ticket.due_at:%Y%m%dT%H%M}"
    context = _context(ctx, ticket)
    given = str(context["reason"])
    # A new date falling in Aideur's absence is made after his return: one notice with a date he can keep.
    new_due = absences.promise_due(ctx, due_after_business_days(ctx.now, LATE_NEW_DATE_BUSINESS_DAYS,
                                                                ctx.settings.timezone))
    # The command shown postpones the new promise (#reporter must move a promise later): a working day after it.
    suggested = due_after_business_days(new_due, LATE_NEW_DATE_BUSINESS_DAYS, ctx.settings.timezone)
    context |= {"reason": given or PLAIN_REASONS.get(ticket.promise, PLAIN_REASONS["answer"]),
                "reason_given": bool(given), "new_date": french_date(new_due, ctx.settings.timezone),
                "suggested_date": _local_day(ctx, suggested)}
    member = ticket.member
    if member is not None and member.email:
        ctx.send(Outgoing(template="retard", to=member.email, context=context,
                          idempotency_key=f"late:{ticket.id}:{stamp}",
                          token=Token(SCOPE_TICKET, ticket.id, ROLE_MEMBER), ticket_id=ticket.id,
                          auto_submitted="auto-generated", rate_limited=False))
    notify_aideurs(ctx, ticket, "alerte_retard", context, key=f"late:{ticket.id}:{stamp}")
    set_promise(ticket, new_due)  # the reason stays with the promise that passed
    record_event(ctx.session, ticket, "promise-moved", f"nouvelle échéance {new_due:%Y-%m-%dT%H:%M} annoncée au "
                 "membre" + (" (raison d'Aideur)" if given else " (sans raison d'Aideur)"), ctx.now)
