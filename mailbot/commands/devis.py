"""#devis: a quote from a provider, with the usual and the club's prices (the "clé : valeur" lines below it)."""
from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from types import MappingProxyType

from mailbot.commands.base import AideurCommand, keep_promise
from mailbot.models import Ticket
from mailbot.parsers.commands import QUOTED, Command, CommandError, is_command_candidate, parse_price
from mailbot.parsers.dates import fold
from mailbot.parsers.text import shorten
from mailbot.ticket_states import Move
from mailbot.workflows.base import WorkflowContext

_DEVIS_KEYS = {
    "prestataire": r"prestataire|fournisseur|provider|supplier",
    "objet": r"objet|object|prestation|description|sujet|subject",
    "tarif_habituel": r"(?:tarif|prix)[\s_-]*(?:habituel|normal|public)|(?:usual|normal|regular)[\s_-]*price",
    "tarif_club": r"(?:tarif|prix)[\s_-]*(?:du[\s_-]*)?club|club[\s_-]*price",
}
_DEVIS_KEY = re.compile(
    "(?:^|(?<=[\\s;,]))(?:" + "|".join(f"(?P<{name}>{pattern})" for name, pattern in _DEVIS_KEYS.items())
    + r")\s*[:=]\s*"
)
_DEVIS_LABELS = {"prestataire": "prestataire", "objet": "objet", "tarif_habituel": "tarif habituel",
                 "tarif_club": "tarif club"}
_ALL_DEVIS = "« prestataire », « objet », « tarif habituel » et « tarif club »"


class Devis(AideurCommand):
    name, alias, order = "devis", "quote", 60
    state_move, template = Move.PROPOSE, "devis"

    def read_body(self, lines: Sequence[str], index: int) -> tuple[int, list[str]]:
        """The "clé : valeur" lines right below #devis (blank lines between them allowed)."""
        body: list[str] = []
        probe = index
        while probe < len(lines):
            line = lines[probe]
            if not line.strip():
                probe += 1
                continue
            if QUOTED.match(line) or is_command_candidate(line) or not _DEVIS_KEY.match(fold(line).lstrip(" -*•")):
                break
            body.extend(lines[index:probe + 1])
            probe += 1
            index = probe
        return index, body

    def parse(self, line: str, argument: str, body: list[str], today: date) -> Command | CommandError:
        source = "\n".join([argument, *body])
        folded = fold(source)
        matches = list(_DEVIS_KEY.finditer(folded))
        values: dict[str, str] = {}
        # Each value runs to the next key: commas inside prices ("1 200,50 €") must not split a field.
        for position, match in enumerate(matches):
            end = matches[position + 1].start() if position + 1 < len(matches) else len(source)
            key = next(name for name, value in match.groupdict().items() if value)
            # Trailing separators and the bullet of the next line ("- tarif club: …") are not part of the value.
            value = source[match.end():end].strip(" \t\n;,-*•·")
            values.setdefault(key, value)
        example = ("« #devis prestataire: Cabinet Martin ; objet: bilan 2026 ; tarif habituel: 1 200 € ; "
                   "tarif club: 900 € »")
        missing = [_DEVIS_LABELS[key] for key in _DEVIS_KEYS if not values.get(key)]
        if missing:
            return CommandError(line, f"la commande #devis demande {_ALL_DEVIS} (manque : {', '.join(missing)}). "
                                      f"Écrivez-les sur la ligne ou une par ligne en dessous, par exemple {example}.")
        fields = {"prestataire": values["prestataire"], "objet": values["objet"]}
        for key in ("tarif_habituel", "tarif_club"):
            amount = parse_price(values[key])
            if amount is None:
                return CommandError(line, f"dans #devis, le {_DEVIS_LABELS[key]} « {values[key]} » n'est pas un "
                                          "montant lisible : écrivez par exemple « 1 200 € » ou « 350,50 € HT ».")
            fields[key] = amount
            fields[f"{key}_texte"] = values[key]
        return Command("devis", line, argument, fields=MappingProxyType(fields))

    def check(self, ctx: WorkflowContext, ticket: Ticket | None, command: Command, today: date) -> str:
        problem = super().check(ctx, ticket, command, today)
        if problem:
            return problem
        usual, club = _price(command.fields.get("tarif_habituel", "")), _price(command.fields.get("tarif_club", ""))
        if usual is not None and club is not None and club > usual:
            return "Le tarif Club est plus élevé que le tarif habituel : vérifiez les deux montants."
        return ""

    def apply(self, ctx: WorkflowContext, ticket: Ticket, command: Command, *, actor: str) -> dict[str, object]:
        keep_promise(ctx, ticket)
        usual = _price(command.fields.get("tarif_habituel", "")) or Decimal(0)
        club = _price(command.fields.get("tarif_club", "")) or Decimal(0)
        saving = usual - club
        percent = int((saving * 100 / usual).quantize(Decimal(1))) if usual else 0
        return {
            "provider": command.fields.get("prestataire", ""),
            "subject_text": command.fields.get("objet", ""),
            "usual_price": command.fields.get("tarif_habituel_texte") or _euros(usual),
            "club_price": command.fields.get("tarif_club_texte") or _euros(club),
            "saving": _euros(saving),
            "saving_percent": percent if percent > 0 else "",
        }

    def effect(self, ctx: WorkflowContext, ticket: Ticket | None, command: Command, who: str) -> str:
        return f"à {who} : un devis de « {shorten(command.fields.get('prestataire', ''), 100)} »"


def _price(text: str) -> Decimal | None:
    try:
        return Decimal(text) if text else None
    except InvalidOperation:
        return None


def _euros(amount: Decimal) -> str:
    whole = f"{amount:,.2f}".replace(",", " ").replace(".", ",")
    return (whole.removesuffix(",00")) + " €"
