"""#adresse (#alias): a member's other addresses (issue 13, point 2).

    #adresse EMAIL MEMBRE               links EMAIL to the member; MEMBRE is the member's address (main or another)
                                        or the reference of one of their requests (CA-2026-0042); in a reply to a
                                        request's notification MEMBRE may be left out (that request's member)
    #adresse retirer EMAIL              unlinks EMAIL from the member it belongs to
    #adresse changer ANCIENNE NOUVELLE  NOUVELLE becomes the main address; ANCIENNE stays another address of the
                                        member (mail from it is still theirs)

Mail from a linked address is the member's in every rule (mailbot.addresses.member_of_address). Like every
command that writes to a member through the command address, it waits for Aideur's OUI; the member is told at
both addresses.
"""
from __future__ import annotations

import re
from datetime import date
from types import MappingProxyType

from sqlalchemy import select

from mailbot.addresses import HOW_AIDEUR, AddressError, member_of_address, normalise
from mailbot.commands.base import AideurCommand, Origin, Step
from mailbot.models import Member, Ticket
from mailbot.parsers.commands import EMAIL, Command, CommandError
from mailbot.parsers.rules import REFERENCE, fold
from mailbot.workflows import aliases
from mailbot.workflows.base import WorkflowContext
from mailbot.workflows.tickets import record_event

_REMOVE = re.compile(r"^(?:retirer|retire|supprimer|supprime|enlever|enleve|remove|delete)\b")
_CHANGE = re.compile(r"^(?:changer|change|remplacer|remplace|modifier|modifie)\b")
LINK, REMOVE, CHANGE = "relier", "retirer", "changer"
USAGE = ("« #adresse autre.adresse@exemple.fr membre@exemple.fr » (ou la référence d'une de ses demandes à la place "
         "de l'adresse du membre), « #adresse retirer autre.adresse@exemple.fr » ou « #adresse changer "
         "ancienne@exemple.fr nouvelle@exemple.fr »")


class Adresse(AideurCommand):
    name, alias, near_forms, order = "adresse", "alias", ("adresses", "address"), 135
    needs_ticket = False

    def parse(self, line: str, argument: str, body: list[str], today: date) -> Command | CommandError:
        folded = fold(argument).strip()
        found = [match.group().lower().rstrip(".") for match in EMAIL.finditer(argument)]
        if _REMOVE.match(folded):
            if len(found) != 1:
                return CommandError(line, f"#adresse retirer demande une adresse e-mail, celle à retirer : {USAGE}.")
            return Command(self.name, line, argument, fields=MappingProxyType({"action": REMOVE, "email": found[0]}))
        if _CHANGE.match(folded):
            if len(found) != 2:
                return CommandError(line, "#adresse changer demande deux adresses e-mail, l'ancienne puis la "
                                          f"nouvelle : {USAGE}.")
            return Command(self.name, line, argument, fields=MappingProxyType(
                {"action": CHANGE, "old": found[0], "new": found[1]}))
        reference = REFERENCE.search(argument)
        if not found or len(found) > 2 or (len(found) == 2 and reference is not None):
            return CommandError(line, f"la commande #adresse demande l'adresse à relier puis le membre : {USAGE}.")
        fields = {"action": LINK, "email": found[0]}
        if len(found) == 2:
            fields["member"] = found[1]
        elif reference is not None:
            fields["ref"] = reference.group(0).upper()
        return Command(self.name, line, argument, fields=MappingProxyType(fields))

    # --- checking -----------------------------------------------------------------------------------------------
    def _member(self, ctx: WorkflowContext, ticket: Ticket | None, command: Command) -> Member | str:
        """The member the command is about, or why there is none (French, for Aideur)."""
        fields = command.fields
        if fields["action"] == REMOVE:
            member = member_of_address(ctx.session, fields["email"])
            return member if member is not None else f"{fields['email']} n'est l'adresse d'aucun membre."
        if fields["action"] == CHANGE:
            member = member_of_address(ctx.session, fields["old"])
            return member if member is not None else f"{fields['old']} n'est l'adresse d'aucun membre."
        if "member" in fields:
            member = member_of_address(ctx.session, fields["member"])
            return member if member is not None else f"{fields['member']} n'est l'adresse d'aucun membre."
        if "ref" in fields:
            ticket = ctx.session.scalar(select(Ticket).where(Ticket.ref == fields["ref"]))
            if ticket is None:
                return f"Aucune demande n'a la référence {fields['ref']}."
        if ticket is None or ticket.member is None:
            return ("Indiquez le membre après l'adresse à relier : son adresse enregistrée ou la référence d'une de "
                    "ses demandes.")
        return ticket.member

    def check(self, ctx: WorkflowContext, ticket: Ticket | None, command: Command, today: date) -> str:
        member = self._member(ctx, ticket, command)
        if isinstance(member, str):
            return member
        if member.status != "active" or not member.email:
            return f"{member.display_name} n'est plus membre du Club."
        fields = command.fields
        reserved = (ctx.settings.club_address, *ctx.settings.aideur_addresses)
        if fields["action"] == LINK:
            address = normalise(fields["email"])
            owner = member_of_address(ctx.session, address)
            if owner is not None and owner.id == member.id:
                return f"{address} est déjà une adresse de {member.display_name}."
            if owner is not None:
                return (f"{address} est déjà l'adresse d'un autre membre ({owner.display_name}) : une adresse "
                        "n'appartient qu'à une personne.")
            if address in {normalise(r) for r in reserved}:
                return f"{address} est une adresse du Club ou d'Aideur."
        if fields["action"] == REMOVE and normalise(fields["email"]) == member.email:
            return (f"{fields['email']} est l'adresse principale de {member.display_name} : changez-la plutôt "
                    "(#adresse changer ANCIENNE NOUVELLE).")
        if fields["action"] == CHANGE:
            new = normalise(fields["new"])
            owner = member_of_address(ctx.session, new)
            if owner is not None and owner.id != member.id:
                return (f"{new} est déjà l'adresse d'un autre membre ({owner.display_name}) : une adresse "
                        "n'appartient qu'à une personne.")
            if new == member.email:
                return f"{new} est déjà l'adresse principale de {member.display_name}."
            if new in {normalise(r) for r in reserved}:
                return f"{new} est une adresse du Club ou d'Aideur."
        return ""

    # --- doing --------------------------------------------------------------------------------------------------
    def execute(self, ctx: WorkflowContext, origin: Origin, ticket: Ticket | None, command: Command,
                step: Step) -> bool:
        member = self._member(ctx, ticket, command)
        assert isinstance(member, Member)  # check() passed
        fields, key = command.fields, f"{origin.message_id}:{step.index}"
        try:
            if fields["action"] == LINK:
                aliases.link(ctx, member, fields["email"], how=HOW_AIDEUR, actor=origin.from_address, key=key)
            elif fields["action"] == REMOVE:
                aliases.unlink(ctx, member, fields["email"], actor=origin.from_address, key=key)
            else:
                aliases.change(ctx, member, fields["new"], actor=origin.from_address, key=key)
        except AddressError as refused:  # changed between the check and the OUI: nothing done, recorded
            record_event(ctx.session, None, "command-failed", f"{command.line} : {refused}", ctx.now,
                         actor=origin.from_address)
        return False

    def effect(self, ctx: WorkflowContext, ticket: Ticket | None, command: Command, who: str) -> str:
        member = self._member(ctx, ticket, command)
        name = member.display_name if isinstance(member, Member) else "le membre"
        fields = command.fields
        if fields["action"] == LINK:
            return f"{fields['email']} est reliée à {name} (un mail à chacune des deux adresses)"
        if fields["action"] == REMOVE:
            return f"{fields['email']} n'est plus une adresse de {name} (un mail à chacune des deux adresses)"
        return (f"l'adresse principale de {name} devient {fields['new']} ; {fields['old']} reste reliée "
                "(un mail à chacune des deux adresses)")
