"""#ouvrir EMAIL: a request for a member that did not come as their own mail (a phone call, a mail Aideur
received): "objet: …" and the text below, or the forwarded mail. The member gets the usual acknowledgement."""
from __future__ import annotations

import re
from datetime import date
from types import MappingProxyType

from mailbot.commands.base import AideurCommand, Origin, Step
from mailbot.models import Ticket
from mailbot.parsers.commands import EMAIL, SIGN_OFF, Command, CommandError, tidy
from mailbot.parsers.dates import fold
from mailbot.parsers.text import shorten
from mailbot.workflows import opening
from mailbot.workflows.base import WorkflowContext
from mailbot.workflows.tickets import record_event

_OBJET = re.compile(r"^\s*(?:objet|sujet|subject)\s*[:=]\s*", re.IGNORECASE)


class Ouvrir(AideurCommand):
    name, alias, near_forms, order = "ouvrir", "open", ("ouvre",), 130
    takes_text, needs_ticket = True, False

    def parse(self, line: str, argument: str, body: list[str], today: date) -> Command | CommandError:
        email = EMAIL.search(argument)
        if email is None:
            read = f" (lu : « {argument} »)" if argument else ""
            return CommandError(line, f"la commande #ouvrir demande l'adresse e-mail du membre{read} : par exemple "
                                      "« #ouvrir alice.martin@exemple.fr », puis « objet: … » et le texte de la "
                                      "demande sur les lignes suivantes.")
        fields = {"email": email.group().lower()}
        lines = [argument[email.end():].strip().lstrip(":-–—>").strip(), *body]
        # "Cordialement," and his signature end the request's text.
        cut = next((index for index, text in enumerate(lines) if SIGN_OFF.match(fold(text).strip())), len(lines))
        kept: list[str] = []
        for text in lines[:cut]:
            match = _OBJET.match(fold(text))
            if match and "objet" not in fields:
                fields["objet"] = text[match.end():].strip()
            else:
                kept.append(text)
        return Command("ouvrir", line, argument, text=tidy(kept), fields=MappingProxyType(fields))

    def check(self, ctx: WorkflowContext, ticket: Ticket | None, command: Command, today: date) -> str:
        try:
            opening.member_to_open_for(ctx, command.fields.get("email", ""))
        except opening.OpenError as refused:
            return str(refused)
        if not command.text.strip() and not command.fields.get("objet"):
            return ("La commande #ouvrir demande le texte de la demande : écrivez-le sur les lignes sous la "
                    "commande (et « objet: … » au-dessus si vous voulez), ou transférez le mail du membre avec "
                    "la commande.")
        return ""

    def execute(self, ctx: WorkflowContext, origin: Origin, ticket: Ticket | None, command: Command,
                step: Step) -> bool:
        member = opening.member_to_open_for(ctx, command.fields["email"])
        opened = opening.open_for(ctx, member, command.fields.get("objet", ""), command.text,
                                  actor=origin.from_address, key=f"{origin.message_id}:{step.index}")
        record_event(ctx.session, opened, "command:ouvrir", command.line, ctx.now, actor=origin.from_address)
        return False

    def effect(self, ctx: WorkflowContext, ticket: Ticket | None, command: Command, who: str) -> str:
        subject = command.fields.get("objet") or shorten(command.text, 80)
        return (f"à {command.fields.get('email', '')} : une nouvelle demande « {subject} » est enregistrée à son "
                "nom (accusé de réception)")
