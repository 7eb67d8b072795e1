"""#note TEXTE: an internal note on the request, never sent."""
from __future__ import annotations

from datetime import date
from typing import ClassVar

from mailbot.commands.base import Origin, Step, TextCommand
from mailbot.models import Ticket
from mailbot.parsers.commands import Command
from mailbot.workflows.base import WorkflowContext


class Note(TextCommand):
    name, alias, order = "note", "note", 90
    quiet = True
    what: ClassVar[str] = "le texte de la note (interne, jamais envoyée)"
    example: ClassVar[str] = "appelé le membre ce matin"

    def check(self, ctx: WorkflowContext, ticket: Ticket | None, command: Command, today: date) -> str:
        return "" if ticket is not None else "Une note doit viser une demande."

    def execute(self, ctx: WorkflowContext, origin: Origin, ticket: Ticket | None, command: Command,
                step: Step) -> bool:
        return False  # the "command:note" event triage records for every command is the note

    def effect(self, ctx: WorkflowContext, ticket: Ticket | None, command: Command, who: str) -> str:
        return "une note sur le ticket (rien n'est envoyé)"
