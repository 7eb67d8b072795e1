"""#activite (#event; #formation is #activite with "type: formation"): announce a bookable activity, from the
`clé : valeur` lines below it (parsers.activities), or act on one:

    #activite annuler AC-2027-003 MOTIF     cancels it, everyone booked is told
    #activite places AC-2027-003 N          a new capacity (the waiting list promoted)
    #activite modifier AC-2027-003          then "date: …", "lieu: …": told once to everyone booked
    #activite participants AC-2027-003      the participant list now, with the CSV file (to Aideur only)

It writes to members: through the command address it waits for Aideur's OUI like the others."""
from __future__ import annotations

import re
from datetime import date
from types import MappingProxyType

from mailbot.calendar import local_date
from mailbot.commands.base import AideurCommand, Origin, Step
from mailbot.models import Ticket
from mailbot.parsers.activities import ActivityBlock, BlockError, parse_block
from mailbot.parsers.commands import SIGN_OFF, Command, CommandError
from mailbot.parsers.dates import fold
from mailbot.parsers.text import shorten
from mailbot.workflows import activities
from mailbot.workflows.aideur import notify_aideurs
from mailbot.workflows.announcements import audience
from mailbot.workflows.base import WorkflowContext

_REF = re.compile(r"\bAC-\d{4}-\d{1,6}\b", re.IGNORECASE)
_ACTIONS = {"annuler": "annuler", "cancel": "annuler", "places": "places", "capacite": "places",
            "modifier": "modifier", "change": "modifier", "modif": "modifier", "participants": "participants",
            "inscrits": "participants", "liste": "participants"}


class Activite(AideurCommand):
    name, alias, near_forms, order = "activite", "event", ("formation", "evenement", "activity"), 150
    takes_text, needs_ticket = True, False

    def parse(self, line: str, argument: str, body: list[str], today: date) -> Command | CommandError:
        words = fold(argument).split()
        action = _ACTIONS.get(words[0]) if words else None
        lines = _until_sign_off(body)
        if action is None:
            source = ([argument] if argument.strip() else []) + lines
            if fold(line).lstrip(" -*•").startswith("#formation") and not any(
                    fold(text).strip().startswith(("type", "genre")) for text in source):
                source = ["type: formation", *source]
            block = parse_block(source, today)
            if isinstance(block, BlockError):
                word = (line.strip().split() or ["#activite"])[0]
                return CommandError(line, f"dans {word}, « {block.line} » : {block.problem}")
            return Command(self.name, line, argument, text="\n".join(source),
                           fields=MappingProxyType({"action": "creer"}))
        ref = _REF.search(argument)
        if ref is None:
            return CommandError(line, f"#activite {action} demande la référence de l'activité, par exemple "
                                      f"« #activite {action} AC-2027-003 » (#activites : la liste).")
        rest = argument[ref.end():].strip(" :-–")
        fields = {"action": action, "ref": ref.group().upper()}
        if action == "annuler":
            reason = "\n".join([rest, *lines]).strip()
            if not reason:
                return CommandError(line, "#activite annuler demande un motif (les inscrits le recevront), par "
                                          "exemple « #activite annuler AC-2027-003 intervenant malade ».")
            fields["reason"] = reason
        elif action == "participants":
            pass
        elif action == "places":
            number = re.match(r"\d{1,4}", rest)
            if number is None or int(number.group()) < 1:
                return CommandError(line, "#activite places demande le nouveau nombre de places, par exemple "
                                          "« #activite places AC-2027-003 20 ».")
            fields["places"] = number.group()
        else:
            block = parse_block(([rest] if rest else []) + lines, today, partial=True)
            if isinstance(block, BlockError):
                return CommandError(line, f"dans #activite modifier, « {block.line} » : {block.problem}")
            if not block.given & {"date", "place", "duration", "title", "until", "cancel"}:
                return CommandError(line, "#activite modifier demande ce qui change, une ligne par information "
                                          "sous la commande : « date: 16/01/2027 14:00 », « lieu: … », « durée: … ».")
            fields["lines"] = "\n".join(([rest] if rest else []) + lines)
        return Command(self.name, line, argument, fields=MappingProxyType(fields))

    def is_quiet(self, command: Command) -> bool:
        """The participant list goes to Aideur only: no confirmation needed."""
        return command.fields.get("action") == "participants"

    def check(self, ctx: WorkflowContext, ticket: Ticket | None, command: Command, today: date) -> str:
        ref = command.fields.get("ref")
        if not ref:
            return ""
        activity = activities.find(ctx.session, ref)
        if activity is None:
            return f"Aucune activité ne porte la référence {ref} (#activites : la liste)."
        if activity.status == "cancelled" and command.fields.get("action") != "participants":
            return f"L'activité {ref} est déjà annulée."
        return ""

    def execute(self, ctx: WorkflowContext, origin: Origin, ticket: Ticket | None, command: Command,
                step: Step) -> bool:
        key = f"{origin.message_id}:{step.index}"
        action = command.fields.get("action")
        today = local_date(ctx.now, ctx.settings.timezone)
        if action == "creer":
            block = parse_block(command.text.splitlines(), today)
            assert isinstance(block, ActivityBlock)
            activities.create(ctx, block, actor=origin.from_address, key=key)
            return False
        activity = activities.find(ctx.session, command.fields["ref"])
        assert activity is not None
        if action == "participants":
            activities.notify_participants(ctx, activity, activities.booked_rows(ctx.session, activity, ("booked",)),
                                           key=f"activite-participants-demande:{key}", only=origin.from_address)
            return False
        if action == "annuler":
            told = activities.cancel_activity(ctx, activity, command.fields["reason"], key=key)
            done = f"L'activité {activity.ref} est annulée ; {told} inscrit(s) ou en attente prévenu(s)."
        elif action == "places":
            before = activity.places
            promoted = activities.set_places(ctx, activity, int(command.fields["places"]), key=key)
            done = (f"L'activité {activity.ref} passe de {before} à {activity.places} places ; "
                    f"{promoted} place(s) proposée(s) ou attribuée(s) à la liste d'attente.")
        else:
            block = parse_block(command.fields["lines"].splitlines(), today, partial=True)
            assert isinstance(block, ActivityBlock)
            told = activities.modify(ctx, activity, block, key=key)
            done = f"L'activité {activity.ref} est modifiée ; {told} inscrit(s) prévenu(s)."
        notify_aideurs(ctx, None, "activite_faite", {"club_name": ctx.settings.club_name, "done": done,
                                                     "activity": activities.describe(ctx, activity)},
                       key=f"activite-faite:{key}", only=origin.from_address)
        return False

    def effect(self, ctx: WorkflowContext, ticket: Ticket | None, command: Command, who: str) -> str:
        action = command.fields.get("action")
        if action == "creer":
            block = parse_block(command.text.splitlines(), local_date(ctx.now, ctx.settings.timezone))
            if isinstance(block, BlockError):
                return ""
            count = len(audience(ctx.session, block.skills))
            return f"à {count} membre(s) : l'annonce de « {shorten(block.title, 100)} »"
        ref = command.fields.get("ref", "")
        if action == "annuler":
            return f"aux inscrits de {ref} : l'annulation, avec votre motif"
        if action == "places":
            return f"à la liste d'attente de {ref} : les places libérées"
        return f"aux inscrits de {ref} : le changement"


def _until_sign_off(lines: list[str]) -> list[str]:
    """The lines up to "Cordialement," or "Aideur" alone: his signature is not the presentation text."""
    cut = next((index for index, text in enumerate(lines) if SIGN_OFF.match(fold(text).strip())), len(lines))
    return lines[:cut]
