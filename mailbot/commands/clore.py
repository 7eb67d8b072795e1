"""#clore [MOTIF]: Aideur closes the request; the member is told, then gets the result form.

#clore silencieux (or "sans message", "discret", "en silence", "sans le prévenir", "ne pas envoyer de mail"…,
anywhere in the argument after the reference): the request is closed and nobody is written to — no closing mail,
no result form, no "the need is over" to helpers (issue 13, point 1: a copy or a thread that was never a
request). Aideur's own free text, if he wrote any, is still relayed: he chose to write it.
"""
from __future__ import annotations

import re

from mailbot.commands.base import AideurCommand, Origin, Step
from mailbot.models import Ticket
from mailbot.parsers.commands import Command
from mailbot.parsers.rules import fold
from mailbot.ticket_states import Move, move
from mailbot.workflows import appeals, results
from mailbot.workflows.aideur import notify_aideurs
from mailbot.workflows.base import WorkflowContext
from mailbot.workflows.requests import ticket_context
from mailbot.workflows.tickets import record_event

# Words that ask for a quiet close, accents and case folded (fold keeps "é" → "e"): a word of silence, or a negation
# ("sans", "ne pas", "pas de", "aucun", "inutile de", "no", "without") before a verb or a noun of telling, with the
# pronouns between ("sans le prévenir", "sans rien lui dire", "ne pas envoyer de message"). "sans réponse" and
# "sans suite" are reasons, not orders: "répondre" is not a word of telling here.
_TELL = (r"(?:prevenir|informer|avertir|notifier|ecrire|envoyer|dire|mail|e-?mail|message|courriel|formulaire|"
         r"notification|tell\w*|notify\w*)")
QUIET_WORDS = re.compile(
    r"\b(?:silencieu\w*|silence|discret\w*|discrete\w*|muet\w*|quiet\w*|silent\w*|en douce)\b"
    r"|\b(?:sans|ne pas|pas de|pas d'|aucune?|inutile de|no|without)\s+"
    r"(?:(?:rien|le|la|les|l'|lui|leur|personne|de|d'|un|une|au|a|membre|the)\s*)*" + _TELL + r"\b"
    # "aucun message du membre depuis un mois", "pas de mail de sa part": what the member did not send, a reason.
    r"(?!\s+(?:du\s+membre|de\s+sa\s+part|de\s+(?:lui|elle|leur\s+part)|d'elle|recu|depuis|en\s+retour))")


def is_quiet(argument: str) -> bool:
    """Whether the rest of the #clore line asks for a close without any mail."""
    return bool(QUIET_WORDS.search(fold(argument)))


class Clore(AideurCommand):
    name, alias, order = "clore", "close", 80
    near_forms = ("clos", "cloture", "cloturer", "fermer")
    decision, state_move, template = True, Move.CLOSE, "cloture"

    def execute(self, ctx: WorkflowContext, origin: Origin, ticket: Ticket | None, command: Command,
                step: Step) -> bool:
        if ticket is None or not is_quiet(command.argument):
            return super().execute(ctx, origin, ticket, command, step)
        move(ticket, Move.CLOSE, ctx.now)
        record_event(ctx.session, ticket, "closed-quietly", "close sans mail au membre ni formulaire de résultat",
                     ctx.now, actor=origin.from_address)
        # The one mail of a quiet close: to the Aideur address that gave it, so that he knows it was done.
        notify_aideurs(ctx, ticket, "cloture_silencieuse", ticket_context(ctx, ticket, ticket.member),
                       key=f"quiet-close:{origin.message_id}:{step.index}", only=origin.from_address)
        return False

    def apply(self, ctx: WorkflowContext, ticket: Ticket, command: Command, *, actor: str) -> dict[str, object]:
        move(ticket, Move.CLOSE, ctx.now)
        appeals.tell_helpers_need_is_over(ctx, ticket)
        return {"reason": command.argument}  # the optional reason is the rest of the line

    def after(self, ctx: WorkflowContext, ticket: Ticket, command: Command) -> None:
        results.send_form(ctx, ticket, ticket.member, "requester", "close")

    def effect(self, ctx: WorkflowContext, ticket: Ticket | None, command: Command, who: str) -> str:
        if is_quiet(command.argument):
            return ""
        return f"à {who} : la demande est close ; puis le formulaire de résultat"
