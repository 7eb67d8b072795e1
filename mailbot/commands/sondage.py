"""#sondage (#poll): a poll to the members who accept announcements (the block of lines below it), or
"#sondage qui SO-2027-001": who has not voted yet (names, never choices). Creating one writes to members, so through
the command address it waits for Aideur's OUI like the other such commands (workflows/polls.py)."""
from __future__ import annotations

import re
from datetime import date
from types import MappingProxyType

from mailbot.calendar import french_date
from mailbot.commands.base import AideurCommand, Origin, Step
from mailbot.models import Ticket
from mailbot.parsers.commands import Command, CommandError
from mailbot.parsers.dates import fold
from mailbot.parsers.polls import EXAMPLE, PollBlock, PollBlockError, read_block
from mailbot.workflows import polls
from mailbot.workflows.announcements import audience
from mailbot.workflows.base import WorkflowContext

_WHO = re.compile(r"^(?:qui|who|manquants|non[- ]votants|relance)\b\s*(?P<ref>\S*)", re.IGNORECASE)
_REF = re.compile(r"^SO-\d{4}-\d{3,4}$", re.IGNORECASE)


class Sondage(AideurCommand):
    name, alias, order = "sondage", "poll", 150
    takes_text, needs_ticket = True, False

    def parse(self, line: str, argument: str, body: list[str], today: date) -> Command | CommandError:
        who = _WHO.match(fold(argument))
        if who:
            ref = argument[who.start("ref"):who.end("ref")].strip(" .,;").upper()
            if not _REF.match(ref):
                return CommandError(line, "indiquez la référence du sondage, par exemple « #sondage qui "
                                          "SO-2027-001 » (#sondages les liste).")
            return Command(self.name, line, argument, fields=MappingProxyType({"action": "who", "ref": ref}))
        block = read_block([argument, *body], today)
        if isinstance(block, PollBlockError):
            where = f" (ligne « {block.line} »)" if block.line else ""
            example = EXAMPLE.replace("\n", " ; ")
            return CommandError(line, f"dans #sondage{where}, {block.problem} Exemple : « {example} ».")
        fields = {"action": "create", "question": block.question, "until": block.until.isoformat(),
                  "at": block.at.isoformat(timespec="minutes") if block.at else "",
                  "anonymous": "oui" if block.anonymous else "non", "results": block.results_to,
                  "skills": block.skills, "activity": block.activity_ref,
                  "choices": "\n".join(block.choices)}
        return Command(self.name, line, argument, fields=MappingProxyType(fields))

    def is_quiet(self, command: Command) -> bool:
        return command.fields.get("action") == "who"

    def check(self, ctx: WorkflowContext, ticket: Ticket | None, command: Command, today: date) -> str:
        if command.fields.get("action") == "who":
            if polls.find(ctx, command.fields["ref"]) is None:
                return f"Aucun sondage {command.fields['ref']} : #sondages les liste."
            return ""
        if date.fromisoformat(command.fields["until"]) < today:
            return "La date de fin du sondage est passée."
        if not audience(ctx.session, command.fields.get("skills", "")):
            return ("Aucun membre ne recevrait ce sondage (aucun membre actif qui accepte les annonces"
                    + (" avec ces compétences" if command.fields.get("skills") else "") + ").")
        return ""

    def execute(self, ctx: WorkflowContext, origin: Origin, ticket: Ticket | None, command: Command,
                step: Step) -> bool:
        key = f"{origin.message_id}:{step.index}"
        if command.fields.get("action") == "who":
            poll = polls.find(ctx, command.fields["ref"])
            if poll is not None:
                polls.who_has_not_voted(ctx, poll, actor=origin.from_address, key=key)
            return False
        polls.create(ctx, block_of(command), actor=origin.from_address, key=key)
        return False

    def effect(self, ctx: WorkflowContext, ticket: Ticket | None, command: Command, who: str) -> str:
        if command.fields.get("action") == "who":
            return ""
        count = len(audience(ctx.session, command.fields.get("skills", "")))
        anonymous = "anonyme" if command.fields["anonymous"] == "oui" else "nominatif"
        return (f"sondage {anonymous} « {command.fields['question']} » envoyé à {count} membre(s), réponses "
                f"jusqu'au {french_date(date.fromisoformat(command.fields['until']))}")


def block_of(command: Command) -> PollBlock:
    """The poll as read at parse time (the command is stored as text and read again for its confirmation)."""
    from datetime import time

    fields = command.fields
    return PollBlock(question=fields["question"], choices=tuple(fields["choices"].split("\n")),
                     until=date.fromisoformat(fields["until"]),
                     at=time.fromisoformat(fields["at"]) if fields.get("at") else None,
                     anonymous=fields["anonymous"] == "oui", results_to=fields["results"],
                     skills=fields.get("skills", ""), activity_ref=fields.get("activity", ""))
