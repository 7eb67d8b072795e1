"""#appel TEXTE: an anonymous appeal to the members whose profile fits (options: compétences, membres)."""
from __future__ import annotations

import re
from datetime import date
from types import MappingProxyType

from mailbot.commands.base import AideurCommand, Origin, Step
from mailbot.models import Ticket
from mailbot.parsers.commands import Command, CommandError, tidy
from mailbot.parsers.dates import fold
from mailbot.parsers.text import shorten
from mailbot.ticket_states import Move
from mailbot.workflows import appeals
from mailbot.workflows.base import WorkflowContext

_APPEL_FIELD = re.compile(
    r"^\s*(?P<key>competences?|skills?|membres?|members?|nombre(?:\s+de\s+membres)?)\s*[:=]\s*", re.IGNORECASE
)


class Appel(AideurCommand):
    name, alias, order = "appel", "appeal", 40
    takes_text, state_move = True, Move.WORK

    def parse(self, line: str, argument: str, body: list[str], today: date) -> Command | CommandError:
        """`compétences: a, b` and `membres: N` may come first (on the command line, separated by ";", or one per
        line), then the appeal text."""
        rest = [argument, *body]
        fields: dict[str, str] = {}
        while rest:
            head = rest[0]
            folded = fold(head)
            match = _APPEL_FIELD.match(folded)
            if not match:
                if not head.strip() and len(rest) > 1:
                    rest.pop(0)  # blank lines before or between the fields: the text starts after them
                    continue
                break
            end = folded.find(";", match.end())
            value, remainder = (head[match.end():end], head[end + 1:]) if end >= 0 else (head[match.end():], "")
            key = "competences" if match.group("key").startswith(("comp", "skill")) else "membres"
            if key == "competences":
                fields[key] = ", ".join(part.strip() for part in re.split(r"[,/]", value) if part.strip())
            else:
                number = re.fullmatch(r"\s*(\d{1,3})\s*(?:membres?|personnes?|members?)?\s*[.,]?\s*", fold(value))
                if not number or int(number.group(1)) == 0:
                    return CommandError(line, f"dans #appel, « membres » doit être un nombre (lu : « "
                                              f"{value.strip()} ») : par exemple « membres: 5 ».")
                fields[key] = number.group(1)
            rest[0] = remainder
            if not remainder.strip():
                rest.pop(0)
        text = tidy(rest)
        if not text:
            return CommandError(line, "la commande #appel demande le texte de l'appel (sans nom ni coordonnées du "
                                      "demandeur) : écrivez-le après le mot ou sur les lignes suivantes, par exemple "
                                      "« #appel compétences: paie ; membres: 5 » puis le texte à la ligne.")
        return Command("appel", line, argument, text=text, fields=MappingProxyType(fields))

    def check(self, ctx: WorkflowContext, ticket: Ticket | None, command: Command, today: date) -> str:
        problem = super().check(ctx, ticket, command, today)
        if problem or ticket is None:
            return problem
        return appeals.appeal_problem(ctx, ticket, command)

    def execute(self, ctx: WorkflowContext, origin: Origin, ticket: Ticket | None, command: Command,
                step: Step) -> bool:
        assert ticket is not None
        appeals.send_appeal(ctx, ticket, command, actor=origin.from_address, key=f"{origin.message_id}:{step.index}")
        return False

    def effect(self, ctx: WorkflowContext, ticket: Ticket | None, command: Command, who: str) -> str:
        return f"un appel au réseau, aux membres choisis : « {shorten(command.text, 300)} »"
