"""#activites (#events): the upcoming activities, with places taken, left and the waiting list. Sends nothing to
members, so it runs at once."""
from __future__ import annotations

from mailbot.commands.base import AideurCommand, Origin, Step
from mailbot.models import Ticket
from mailbot.parsers.commands import Command
from mailbot.workflows import activities
from mailbot.workflows.aideur import notify_aideurs
from mailbot.workflows.base import WorkflowContext


class Activites(AideurCommand):
    name, alias, near_forms, order = "activites", "events", ("formations", "evenements", "activities"), 151
    quiet, needs_ticket = True, False

    def execute(self, ctx: WorkflowContext, origin: Origin, ticket: Ticket | None, command: Command,
                step: Step) -> bool:
        notify_aideurs(ctx, None, "liste_activites", {"club_name": ctx.settings.club_name,
                                                      "activities": activities.overview(ctx)},
                       key=f"activites:{origin.message_id}:{step.index}", only=origin.from_address)
        return False
