"""#document (#doc): Aideur adds a document to the club's documentation by mailing its file to his command address,
with "rubrique: …", "titre: …" and optionally "mots-clés: …" (on the command's line or the lines below it).

It sends nothing to any member, so it runs at once (no OUI asked) and Aideur gets the document's number. The file
is read from the mail itself, so the work is done by workflows.triage (which holds the mail) through
workflows.documents.document_command_mail; check() refuses it anywhere else (a ticket's reply address).
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from types import MappingProxyType

from mailbot.commands.base import AideurCommand, Origin, Step
from mailbot.models import Ticket
from mailbot.parsers.commands import QUOTED, Command, CommandError, is_command_candidate
from mailbot.parsers.dates import fold
from mailbot.workflows.base import WorkflowContext

_KEYS = {
    "rubrique": r"rubrique|section|categorie",
    "titre": r"titre|title|nom",
    "mots-cles": r"mots?[\s_-]*cles?|keywords?|tags?",
}
_KEY = re.compile("(?:^|(?<=[\\s;,]))(?:" + "|".join(f"(?P<{name.replace('-', '_')}>{pattern})"
                                                     for name, pattern in _KEYS.items()) + r")\s*[:=]\s*")
EXAMPLE = "« #document », puis « rubrique: Comptabilité » et « titre: Guide de la facture électronique »"


def read_fields(source: str) -> dict[str, str]:
    """The "clé : valeur" pairs of the command ("rubrique: X titre: Y" on one line too): each value runs to the
    next key or the end of its line."""
    folded = fold(source)
    matches = list(_KEY.finditer(folded))
    values: dict[str, str] = {}
    for position, match in enumerate(matches):
        end = matches[position + 1].start() if position + 1 < len(matches) else len(source)
        value = source[match.end():end].split("\n", 1)[0].strip(" \t;,")
        name = next(key for key in _KEYS if match.group(key.replace("-", "_")))
        values.setdefault(name, value)
    return values


class Document(AideurCommand):
    name, alias, near_forms, order = "document", "doc", ("documents", "documentation"), 140
    quiet, needs_ticket = True, False

    def read_body(self, lines: Sequence[str], index: int) -> tuple[int, list[str]]:
        """The "clé : valeur" lines right below #document (blank lines between them allowed)."""
        body: list[str] = []
        probe = index
        while probe < len(lines):
            line = lines[probe]
            if not line.strip():
                probe += 1
                continue
            if QUOTED.match(line) or is_command_candidate(line) or not _KEY.match(fold(line).lstrip(" -*•")):
                break
            body.extend(lines[index:probe + 1])
            probe += 1
            index = probe
        return index, body

    def parse(self, line: str, argument: str, body: list[str], today: date) -> Command | CommandError:
        fields = read_fields("\n".join([argument, *body]))
        missing = [label for key, label in (("rubrique", "la rubrique"), ("titre", "le titre")) if not fields.get(key)]
        if missing:
            return CommandError(line, f"la commande #document demande {' et '.join(missing)} du document joint : "
                                      f"par exemple {EXAMPLE} (et « mots-clés: … » si vous voulez), le fichier "
                                      "joint au mail.")
        return Command(self.name, line, argument, fields=MappingProxyType(fields))

    def check(self, ctx: WorkflowContext, ticket: Ticket | None, command: Command, today: date) -> str:
        # Reached only when the mail did not come to the command address (triage handles that one itself).
        return ("#document s'envoie seul à votre adresse de commande (elle figure en bas de chaque notification), "
                "avec le fichier joint : pas en réponse à une demande.")

    def execute(self, ctx: WorkflowContext, origin: Origin, ticket: Ticket | None, command: Command,
                step: Step) -> bool:
        return False  # never reached: check() refuses it outside triage's own path

    def sheet_word(self) -> str:
        return "#document (#doc)"


__all__ = ["Document", "read_fields"]
