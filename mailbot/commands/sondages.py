"""#sondages (#polls): the polls with their participation, by return mail to the Aideur address that asked."""
from __future__ import annotations

from mailbot.commands.base import AideurCommand, Origin, Step
from mailbot.models import Ticket
from mailbot.parsers.commands import Command
from mailbot.workflows import polls
from mailbot.workflows.base import WorkflowContext


class Sondages(AideurCommand):
    name, alias, order = "sondages", "polls", 151
    quiet, needs_ticket = True, False

    def execute(self, ctx: WorkflowContext, origin: Origin, ticket: Ticket | None, command: Command,
                step: Step) -> bool:
        polls.list_polls(ctx, actor=origin.from_address, key=f"{origin.message_id}:{step.index}")
        return False
