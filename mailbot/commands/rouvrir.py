"""#rouvrir [DATE]: a closed, declined or withdrawn request is taken up again; the member is told by when
Aideur will answer (DATE, or the usual business days)."""
from __future__ import annotations

from datetime import date

from mailbot.calendar import french_date
from mailbot.commands.base import AideurCommand, promise_problem
from mailbot.models import Ticket
from mailbot.parsers.commands import Command, CommandError, date_error
from mailbot.parsers.dates import parse_date
from mailbot.ticket_states import Move
from mailbot.workflows import opening
from mailbot.workflows.base import WorkflowContext


class Rouvrir(AideurCommand):
    name, alias, near_forms, order = "rouvrir", "reopen", ("reouvrir", "rouvre", "reouvre"), 120
    decision, state_move, template = True, Move.REOPEN, "reouverture"

    def parse(self, line: str, argument: str, body: list[str], today: date) -> Command | CommandError:
        if not argument.strip():
            return Command("rouvrir", line, argument)
        when, _rest = parse_date(argument, today)
        if when is None:
            return date_error(line, "rouvrir", argument, "#rouvrir 15/12")
        return Command("rouvrir", line, argument, when=when)

    def check(self, ctx: WorkflowContext, ticket: Ticket | None, command: Command, today: date) -> str:
        return super().check(ctx, ticket, command, today) or promise_problem(ctx, command, today)

    def apply(self, ctx: WorkflowContext, ticket: Ticket, command: Command, *, actor: str) -> dict[str, object]:
        opening.reopen(ctx, ticket, command.when, actor=actor)
        assert ticket.due_at is not None
        return {"due_date": french_date(ticket.due_at, ctx.settings.timezone)}

    def effect(self, ctx: WorkflowContext, ticket: Ticket | None, command: Command, who: str) -> str:
        when = f", réponse promise le {french_date(command.when)}" if command.when else ""
        return f"à {who} : la demande est rouverte{when}"
