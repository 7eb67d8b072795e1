"""#present: Aideur is back early — the same as "#absent annuler" (workflows.absences)."""
from __future__ import annotations

from mailbot.commands.base import AideurCommand, Origin, Step
from mailbot.models import Ticket
from mailbot.parsers.commands import Command
from mailbot.workflows import absences
from mailbot.workflows.base import WorkflowContext


class Present(AideurCommand):
    """#present: back early (the same as "#absent annuler")."""

    name, alias, near_forms, order = "present", "back", ("presente", "retour"), 121
    quiet, needs_ticket = True, False

    def execute(self, ctx: WorkflowContext, origin: Origin, ticket: Ticket | None, command: Command,
                step: Step) -> bool:
        absences.cancel(ctx, actor=origin.from_address, key=f"{origin.message_id}:{step.index}")
        return False
