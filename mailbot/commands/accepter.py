"""#accepter DATE: the club takes the request; proposals are promised by DATE."""
from __future__ import annotations

from datetime import date

from mailbot.calendar import french_date
from mailbot.commands.base import AideurCommand, end_of_day_utc, promise_problem
from mailbot.models import Ticket
from mailbot.parsers.commands import Command, CommandError, date_error
from mailbot.parsers.dates import parse_date
from mailbot.ticket_states import Move, move
from mailbot.workflows.base import WorkflowContext


class Accepter(AideurCommand):
    name, alias, near_forms, order = "accepter", "accept", ("accepte",), 10
    decision, state_move, template = True, Move.ACCEPT, "acceptation"

    def parse(self, line: str, argument: str, body: list[str], today: date) -> Command | CommandError:
        if not argument:
            return CommandError(line, "la commande #accepter demande la date limite des propositions : écrivez-la "
                                      "après le mot, par exemple « #accepter 15/12 » ou « #accepter dans 5 jours "
                                      "ouvrés ».")
        when, _rest = parse_date(argument, today)
        if when is None:
            return date_error(line, "accepter", argument, "#accepter 15/12")
        # Words after the date ("#accepter 15/12 merci") are kept in `argument` only: the date is what matters.
        return Command("accepter", line, argument, when=when)

    def check(self, ctx: WorkflowContext, ticket: Ticket | None, command: Command, today: date) -> str:
        return super().check(ctx, ticket, command, today) or promise_problem(ctx, command, today)

    def apply(self, ctx: WorkflowContext, ticket: Ticket, command: Command, *, actor: str) -> dict[str, object]:
        assert command.when is not None
        move(ticket, Move.ACCEPT, ctx.now)
        ticket.promise, ticket.delay_reason = "proposals", ""
        ticket.due_at = end_of_day_utc(ctx, command.when)
        return {"due_date": french_date(command.when)}

    def effect(self, ctx: WorkflowContext, ticket: Ticket | None, command: Command, who: str) -> str:
        if command.when is None:
            return ""
        return f"à {who} : la demande est acceptée, propositions d'ici le {french_date(command.when)}"
