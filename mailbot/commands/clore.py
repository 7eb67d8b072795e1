"""#clore [MOTIF]: Aideur closes the request; the member is told, then gets the result form."""
from __future__ import annotations

from mailbot.commands.base import AideurCommand
from mailbot.models import Ticket
from mailbot.parsers.commands import Command
from mailbot.ticket_states import Move, move
from mailbot.workflows import appeals, results
from mailbot.workflows.base import WorkflowContext


class Clore(AideurCommand):
    name, alias, order = "clore", "close", 80
    near_forms = ("clos", "cloture", "cloturer", "fermer")
    decision, state_move, template = True, Move.CLOSE, "cloture"

    def apply(self, ctx: WorkflowContext, ticket: Ticket, command: Command, *, actor: str) -> dict[str, object]:
        move(ticket, Move.CLOSE, ctx.now)
        appeals.tell_helpers_need_is_over(ctx, ticket)
        return {"reason": command.argument}  # the optional reason is the rest of the line

    def after(self, ctx: WorkflowContext, ticket: Ticket, command: Command) -> None:
        results.send_form(ctx, ticket, ticket.member, "requester", "close")

    def effect(self, ctx: WorkflowContext, ticket: Ticket | None, command: Command, who: str) -> str:
        return f"à {who} : la demande est close ; puis le formulaire de résultat"
