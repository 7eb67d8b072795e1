"""Deadlines (docs/rules.md §3): no promise to a member is ever silently broken.

Every open ticket with a due date carries one promise (an answer, or proposals). The working day before, at 9:00,
Aideur is reminded; when it passes with nothing sent, the member is told of the delay (with the reason Aideur gave
when postponing, if any) and Aideur is alerted. Each happens once per promise: an event (ticket, kind, due date)
records it in the same transaction as the mails, so reruns, replays and restarts never repeat it.
"""
from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from mailbot.calendar import french_date, is_business_day
from mailbot.models import Event, Ticket
from mailbot.tokens import ROLE_MEMBER, SCOPE_TICKET, Token
from mailbot.workflows.aideur import notify_aideurs
from mailbot.workflows.base import Outgoing, WorkflowContext
from mailbot.workflows.requests import ticket_context
from mailbot.workflows.tickets import record_event

REMINDER_TIME = time(9, 0)


def reminder_time(due_at: datetime, zone: ZoneInfo) -> datetime:
    """9:00 local on the business day before the due date, as naive UTC."""
    day = due_at.replace(tzinfo=UTC).astimezone(zone).date() - timedelta(days=1)
    while not is_business_day(day):
        day -= timedelta(days=1)
    return datetime.combine(day, REMINDER_TIME, tzinfo=zone).astimezone(UTC).replace(tzinfo=None)


def run_due(ctx: WorkflowContext) -> int:
    """Send whatever is due at ctx.now. Returns how many promises were acted on."""
    acted = 0
    tickets = ctx.session.scalars(select(Ticket).where(Ticket.closed_at.is_(None), Ticket.due_at.is_not(None))
                                  .order_by(Ticket.due_at)).all()
    for ticket in tickets:
        assert ticket.due_at is not None
        if ctx.now >= ticket.due_at:
            acted += _once(ctx, ticket, "late", _late)
        elif ctx.now >= reminder_time(ticket.due_at, ctx.settings.timezone):
            acted += _once(ctx, ticket, "reminder", _remind)
    return acted


def _once(ctx: WorkflowContext, ticket: Ticket, kind: str, action) -> int:  # type: ignore[no-untyped-def]
    stamp = f"échéance {ticket.due_at:%Y-%m-%dT%H:%M}"
    done = ctx.session.scalar(select(Event.id).where(Event.ticket_id == ticket.id, Event.kind == kind,
                                                     Event.detail == stamp))
    if done:
        return 0
    action(ctx, ticket)
    record_event(ctx.session, ticket, kind, stamp, ctx.now)
    return 1


def _context(ctx: WorkflowContext, ticket: Ticket) -> dict[str, object]:
    return ticket_context(ctx, ticket, ticket.member) | {
        "promise": ticket.promise,
        "reason": ticket.delay_reason,
        "due_date": french_date(ticket.due_at, ctx.settings.timezone) if ticket.due_at else "",
    }


def _remind(ctx: WorkflowContext, ticket: Ticket) -> None:
    notify_aideurs(ctx, ticket, "rappel_echeance", _context(ctx, ticket),
                   key=f"reminder:{ticket.id}:{ticket.due_at:%Y%m%dT%H%M}")


def _late(ctx: WorkflowContext, ticket: Ticket) -> None:
    context = _context(ctx, ticket)
    member = ticket.member
    if member is not None and member.email:
        ctx.send(Outgoing(template="retard", to=member.email, context=context,
                          idempotency_key=f"late:{ticket.id}:{ticket.due_at:%Y%m%dT%H%M}",
                          token=Token(SCOPE_TICKET, ticket.id, ROLE_MEMBER), ticket_id=ticket.id,
                          auto_submitted="auto-generated", rate_limited=False))
    notify_aideurs(ctx, ticket, "alerte_retard", context, key=f"late:{ticket.id}:{ticket.due_at:%Y%m%dT%H%M}")
