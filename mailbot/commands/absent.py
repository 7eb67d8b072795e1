"""#absent DU AU [MOTIF]: Aideur is away; promises falling in it move after his return (workflows.absences).

"#absent" alone shows the absence declared; "#absent annuler" (or #present, its own module) ends it. Through the command address
only (it is about no ticket); declaring writes to members, so it waits for Aideur's OUI like any such command.
"""
from __future__ import annotations

import re
from datetime import date, timedelta

from mailbot.calendar import french_date
from mailbot.commands.base import AideurCommand, Origin, Step
from mailbot.models import Ticket
from mailbot.parsers.commands import Command, CommandError, tidy
from mailbot.parsers.dates import DATE_FORMS_HELP, fold, parse_date
from mailbot.parsers.text import shorten
from mailbot.workflows import absences
from mailbot.workflows.base import WorkflowContext

EXAMPLE = "« #absent 22/12 05/01 congés de fin d'année » ou « #absent du 22 décembre au 5 janvier »"
_CANCEL = re.compile(r"^(?:annuler|annulee?|annulation|fin|termine|terminee|stop|cancel|off|aucune?|non)\b")
_FROM = re.compile(r"^(?:du|depuis le|depuis|a partir du|from)\s+")
_TO = re.compile(r"^(?:au|a|jusqu'au|jusqu' au|jusqu'a|jusqu'a le|-|–|—|to|until)\s*")
# "jusqu'au 5 janvier": away from today. "du 21 au 31 décembre", "28-31 décembre": the first day alone, its month
# (and year) written once, with the last day.
_UNTIL = re.compile(r"^(?:jusqu' ?au|jusqu' ?a|until)\s+")
_LONE_DAY = re.compile(r"^(?P<day>\d{1,2})(?:er)?\s*(?:(?:au|a)\s+(?=\d)|[-–—]\s*(?=\d{1,2}(?:er)?\s+[a-z]))")
# A start typed without a year is read as the nearest such day, up to this many days back (an absence that began
# last week and is declared today), else ahead.
START_LOOKBACK_DAYS = 31


def _help(problem: str) -> str:
    return (f"{problem} Écrivez la date de début puis la date de fin (le dernier jour d'absence), puis le motif si "
            f"vous voulez (il ne sera dit à aucun membre) : par exemple {EXAMPLE}. Formes de date comprises : "
            f"{DATE_FORMS_HELP}. « #absent » seul montre l'absence enregistrée, « #absent annuler » la termine.")


def read_range(text: str, today: date) -> tuple[date, date, str] | str:
    """(first day, last day, motif) from "22/12 05/01 motif", "du 22 décembre au 5 janvier", or the problem."""
    head = text.strip()
    folded = fold(head)
    cut = _FROM.match(folded)
    if cut:
        head, folded = head[cut.end():], folded[cut.end():]
    start: date | None
    if (until := _UNTIL.match(folded)) is not None:
        start, rest = today, "au " + head[until.end():]
    elif (lone := _LONE_DAY.match(folded)) is not None:
        start, rest = _lone_start(int(lone.group("day")), head[lone.end():], today), "au " + head[lone.end():]
    else:
        start, rest = parse_date(head, today)
    if start is not None and (start - today).days > 200:
        # "22/11" typed on 6 December: the absence began last month, not next November.
        earlier, earlier_rest = parse_date(head, today - timedelta(days=START_LOOKBACK_DAYS))
        if earlier is not None and earlier < start:
            start, rest = earlier, earlier_rest
    if start is None:
        return _help(f"la date de début n'a pas pu être lue (lu : « {shorten(head, 40)} »).")
    folded = fold(rest)
    cut = _TO.match(folded)
    if cut:
        rest = rest[cut.end():]
    end, reason = parse_date(rest, start)
    if end is None:
        shown = shorten(rest, 40) if rest.strip() else "rien"
        return _help(f"la date de fin n'a pas pu être lue (lu : « {shown} »).")
    if end < start:
        return _help(f"la fin ({french_date(end)}) est avant le début ({french_date(start)}).")
    if end < today:
        return _help(f"la fin ({french_date(end)}) est déjà passée.")
    if (end - start).days > absences.MAX_ABSENCE_DAYS:
        return _help(f"du {french_date(start)} au {french_date(end)}, cela fait plus de "
                     f"{absences.MAX_ABSENCE_DAYS} jours : vérifiez l'année.")
    return start, end, reason.strip()


def _lone_start(day: int, rest: str, today: date) -> date | None:
    """The first day of "du 21 au 31 décembre": day 21 of the last day's month, or of the month before when it
    comes after the last day ("du 28 au 4 janvier" began on 28 December)."""
    end, _reason = parse_date(rest, today)
    if end is None:
        return None
    year, month = (end.year, end.month) if day <= end.day else \
        ((end.year, end.month - 1) if end.month > 1 else (end.year - 1, 12))
    try:
        return date(year, month, day)
    except ValueError:
        return None


class Absent(AideurCommand):
    name, alias, near_forms, order = "absent", "away", ("absence", "absente", "conges", "vacances"), 120
    needs_ticket = False  # its own line only: a signature below is not a motif

    def parse(self, line: str, argument: str, body: list[str], today: date) -> Command | CommandError:
        text = tidy([argument, *body])
        if _CANCEL.match(fold(text)):
            return Command(self.name, line, argument, fields={"action": "cancel"})
        if not text:
            return Command(self.name, line, argument, fields={"action": "show"})
        found = read_range(text, today)
        if isinstance(found, str):
            return CommandError(line, found)
        start, end, reason = found
        return Command(self.name, line, argument, text=reason, when=end,
                       fields={"action": "set", "from": start.isoformat(), "to": end.isoformat()})

    def is_quiet(self, command: Command) -> bool:
        return command.fields.get("action") != "set"

    def check(self, ctx: WorkflowContext, ticket: Ticket | None, command: Command, today: date) -> str:
        if command.fields.get("action") == "set" and command.when is not None and command.when < today:
            return f"La fin de l'absence ({french_date(command.when)}) est passée."
        return ""

    def execute(self, ctx: WorkflowContext, origin: Origin, ticket: Ticket | None, command: Command,
                step: Step) -> bool:
        key = f"{origin.message_id}:{step.index}"
        action = command.fields.get("action")
        if action == "show":
            absences.show(ctx, actor=origin.from_address, key=key)
        elif action == "cancel":
            absences.cancel(ctx, actor=origin.from_address, key=key)
        else:
            absences.declare(ctx, date.fromisoformat(command.fields["from"]), date.fromisoformat(command.fields["to"]),
                             command.text, actor=origin.from_address, key=key)
        return False

    def effect(self, ctx: WorkflowContext, ticket: Ticket | None, command: Command, who: str) -> str:
        if command.fields.get("action") != "set":
            return ""
        start, end = date.fromisoformat(command.fields["from"]), date.fromisoformat(command.fields["to"])
        return (f"absence du {french_date(start)} au {french_date(end)} : les échéances qui y tombent passent "
                f"après votre retour, et chaque membre concerné en est prévenu une fois (sans le motif)")


__all__ = ["Absent", "read_range"]
