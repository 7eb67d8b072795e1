"""#relier N|EMAIL [TEXTE]: put the requester and a helper in touch, once both said yes to sharing contacts."""
from __future__ import annotations

import re
from datetime import date
from types import MappingProxyType

from mailbot.commands.base import AideurCommand, Origin, Step
from mailbot.models import Ticket
from mailbot.parsers.commands import EMAIL, SIGN_OFF, Command, CommandError, courtesy_only, tidy
from mailbot.parsers.dates import fold
from mailbot.parsers.text import shorten
from mailbot.ticket_states import Move
from mailbot.workflows import appeals, consents
from mailbot.workflows.base import WorkflowContext

_OFFER = re.compile(r"^(?:(?:offre|offer|proposition)\s*)?(?:n\s*[°o]\.?\s*|no\.?\s*|#)?(\d{1,6})\b")


class Relier(AideurCommand):
    name, alias, order = "relier", "connect", 70
    takes_text, state_move = True, Move.WORK

    def parse(self, line: str, argument: str, body: list[str], today: date) -> Command | CommandError:
        """The helper (offer number or e-mail), then the text the helper will read before both agreed: the rest of
        the line and the lines below, up to the next command or a sign-off ("Cordialement," and his signature)."""
        email = EMAIL.search(argument)
        offer = None if email else _OFFER.match(fold(argument))
        if email:
            fields = {"email": email.group().lower()}
            rest = argument[:email.start()].rstrip("<( ") + " " + argument[email.end():].lstrip(">) ")
        elif offer:
            fields, rest = {"offre": offer.group(1)}, argument[offer.end():]
        if email or offer:
            lines = [rest.strip().lstrip(":-–—>").strip(), *body]
            cut = next((index for index, text in enumerate(lines) if SIGN_OFF.match(fold(text).strip())), len(lines))
            text = tidy(lines[:cut])
            return Command("relier", line, argument, text="" if courtesy_only(text) else text,
                           fields=MappingProxyType(fields))
        read = f" (lu : « {argument} »)" if argument else ""
        return CommandError(line, f"la commande #relier demande le numéro de l'offre ou l'adresse e-mail du membre "
                                  f"qui aide{read} : par exemple « #relier 3 » ou « #relier jean.dupont@exemple.fr ».")

    def check(self, ctx: WorkflowContext, ticket: Ticket | None, command: Command, today: date) -> str:
        problem = super().check(ctx, ticket, command, today)
        if problem or ticket is None:
            return problem
        helper, _, problem = consents.helper_for(ctx, ticket, dict(command.fields))
        if problem or helper is None:
            return problem
        return appeals.connect_problem(ctx, ticket, command, helper)

    def execute(self, ctx: WorkflowContext, origin: Origin, ticket: Ticket | None, command: Command,
                step: Step) -> bool:
        assert ticket is not None
        helper, solicitation, _ = consents.helper_for(ctx, ticket, dict(command.fields))
        assert helper is not None
        consents.start(ctx, ticket, helper, solicitation, actor=origin.from_address,
                       summary=appeals.helper_text(ctx, ticket, command))
        return False

    def effect(self, ctx: WorkflowContext, ticket: Ticket | None, command: Command, who: str) -> str:
        return (f"une demande d'accord pour échanger les coordonnées, à {who} et à l'intervenant "
                f"« {shorten(command.argument, 100)} »")
