"""#reporter DATE MOTIF: a new date for the promise made to the member, and why."""
from __future__ import annotations

from datetime import date

from mailbot.calendar import french_date
from mailbot.commands.base import (
    AideurCommand,
    end_of_day_utc,
    later_than_promise_problem,
    promise_problem,
)
from mailbot.models import Ticket
from mailbot.parsers.commands import Command, CommandError, date_error, tidy
from mailbot.parsers.dates import parse_date
from mailbot.parsers.text import shorten
from mailbot.ticket_states import Move
from mailbot.workflows.base import WorkflowContext
from mailbot.workflows.deadlines import set_promise


class Reporter(AideurCommand):
    name, alias, near_forms, order = "reporter", "postpone", ("reporte",), 30
    takes_text, decision, state_move, template = True, True, Move.POSTPONE, "report"

    def parse(self, line: str, argument: str, body: list[str], today: date) -> Command | CommandError:
        example = "« #reporter 15/12 le prestataire est absent cette semaine »"
        if not argument.strip() and not "".join(body).strip():
            return CommandError(line, "la commande #reporter demande une nouvelle date puis le motif, que le membre "
                                      f"recevra : par exemple {example}.")
        head = argument
        if not head.strip():
            # "#reporter" alone, the date on the next line (phones wrap or Aideur presses Enter): read it there.
            while body and not body[0].strip():
                body = body[1:]
            head, body = body[0].strip(), body[1:]
        when, reason = parse_date(head, today)
        if when is None:
            return date_error(line, "reporter", head, "#reporter 15/12 motif du report")
        text = tidy([reason, *body])
        if not text:
            return CommandError(line, "la commande #reporter demande aussi le motif du report (le membre le "
                                      f"recevra) : écrivez-le après la date, par exemple {example}.")
        return Command("reporter", line, argument, text=text, when=when)

    def check(self, ctx: WorkflowContext, ticket: Ticket | None, command: Command, today: date) -> str:
        return (super().check(ctx, ticket, command, today) or promise_problem(ctx, command, today)
                or later_than_promise_problem(ctx, ticket, command))

    def apply(self, ctx: WorkflowContext, ticket: Ticket, command: Command, *, actor: str) -> dict[str, object]:
        assert command.when is not None
        set_promise(ticket, end_of_day_utc(ctx, command.when), command.text)  # the reason is this date's alone
        return {"due_date": french_date(command.when), "reason": command.text, "promise": ticket.promise}

    def effect(self, ctx: WorkflowContext, ticket: Ticket | None, command: Command, who: str) -> str:
        if command.when is None:
            return ""
        return f"à {who} : report au {french_date(command.when)}, motif : « {shorten(command.text, 300)} »"
