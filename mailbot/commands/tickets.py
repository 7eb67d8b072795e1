"""#tickets: the open requests with their due dates, by return mail to the Aideur address that asked."""
from __future__ import annotations

from sqlalchemy import select

from mailbot.calendar import french_date
from mailbot.commands.base import AideurCommand, Origin, Step, local_today
from mailbot.models import Ticket
from mailbot.parsers.commands import Command
from mailbot.ticket_states import label
from mailbot.workflows.aideur import notify_aideurs
from mailbot.workflows.base import WorkflowContext


class Tickets(AideurCommand):
    name, alias, near_forms, order = "tickets", "list", ("liste", "ticket"), 110
    quiet, needs_ticket = True, False

    def execute(self, ctx: WorkflowContext, origin: Origin, ticket: Ticket | None, command: Command,
                step: Step) -> bool:
        tickets = ctx.session.scalars(select(Ticket).where(Ticket.closed_at.is_(None))
                                      .order_by(Ticket.due_at.is_(None), Ticket.due_at, Ticket.id)).all()
        rows = [{
            "ref": t.ref,
            "state": label(t.status),
            "due": french_date(t.due_at, ctx.settings.timezone) if t.due_at else "",
            "late": bool(t.due_at and t.due_at < ctx.now),
            "member": t.member.display_name if t.member else "membre effacé",
            "title": t.subject,
        } for t in tickets]
        notify_aideurs(ctx, None, "liste_tickets", {
            "club_name": ctx.settings.club_name, "tickets": rows, "today": french_date(local_today(ctx)),
        }, key=f"tickets:{origin.message_id}", only=origin.from_address)
        return False
