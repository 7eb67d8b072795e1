"""#solution TEXTE: a free proposal of the club, then the result form."""
from __future__ import annotations

from typing import ClassVar

from mailbot.commands.base import TextCommand, keep_promise
from mailbot.models import Ticket
from mailbot.parsers.commands import Command
from mailbot.parsers.text import shorten
from mailbot.ticket_states import Move
from mailbot.workflows import results
from mailbot.workflows.base import WorkflowContext


class Solution(TextCommand):
    name, alias, order = "solution", "solution", 50
    state_move, template = Move.PROPOSE, "solution"
    what: ClassVar[str] = "le texte de la solution proposée au membre"
    example: ClassVar[str] = "voici ce que je propose…"

    def apply(self, ctx: WorkflowContext, ticket: Ticket, command: Command, *, actor: str) -> dict[str, object]:
        keep_promise(ctx, ticket)
        return {"solution": command.text}

    def after(self, ctx: WorkflowContext, ticket: Ticket, command: Command) -> None:
        results.send_form(ctx, ticket, ticket.member, "requester", "solution")

    def effect(self, ctx: WorkflowContext, ticket: Ticket | None, command: Command, who: str) -> str:
        return f"à {who}, comme proposition du Club : « {shorten(command.text, 300)} » ; puis le formulaire de résultat"
