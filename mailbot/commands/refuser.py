"""#refuser MOTIF: the club cannot help; the member gets the reason."""
from __future__ import annotations

from typing import ClassVar

from mailbot.commands.base import TextCommand
from mailbot.models import Ticket
from mailbot.parsers.commands import Command
from mailbot.parsers.text import shorten
from mailbot.ticket_states import Move, move
from mailbot.workflows import appeals
from mailbot.workflows.base import WorkflowContext


class Refuser(TextCommand):
    name, alias, near_forms, order = "refuser", "decline", ("refuse",), 20
    decision, state_move, template = True, Move.DECLINE, "refus"
    what: ClassVar[str] = "un motif (le membre le recevra, avec ménagement)"
    example: ClassVar[str] = "hors du champ du Club"

    def apply(self, ctx: WorkflowContext, ticket: Ticket, command: Command, *, actor: str) -> dict[str, object]:
        move(ticket, Move.DECLINE, ctx.now)
        appeals.tell_helpers_need_is_over(ctx, ticket)
        return {"reason": command.text}

    def effect(self, ctx: WorkflowContext, ticket: Ticket | None, command: Command, who: str) -> str:
        return f"à {who} : le Club ne peut pas aider, motif : « {shorten(command.text, 300)} »"
