"""#aide: the command sheet, by return mail to the Aideur address that asked."""
from __future__ import annotations

from mailbot.commands.base import AideurCommand, Origin, Step
from mailbot.models import Ticket
from mailbot.parsers.commands import Command
from mailbot.workflows.aideur import notify_aideurs
from mailbot.workflows.base import WorkflowContext


class Aide(AideurCommand):
    name, alias, order = "aide", "help", 100
    quiet, needs_ticket = True, False

    def execute(self, ctx: WorkflowContext, origin: Origin, ticket: Ticket | None, command: Command,
                step: Step) -> bool:
        notify_aideurs(ctx, None, "aide", {"club_name": ctx.settings.club_name,
                                           "reopen_days": ctx.settings.reopen_days},
                       key=f"help:{origin.message_id}", only=origin.from_address)
        return False
