"""Aideur's reply to a ticket notification: command lines (docs/rules.md §2) and the message to relay to the member.

The input is the reply's new text (quote and signature already removed by `split_reply`). Reading rules:

* A command line starts with `#` followed directly by letters (after optional spaces, a list bullet "- " / "* " / "• ",
  or Markdown emphasis "**"); a full-width "＃" counts. "# accepter" with a space is accepted for the known words only,
  because "# Titre" is more likely prose than a mistyped command. "#1 priorité" or "voir #2" are plain text.
* Lines starting with ">" are quoted history: never a command, whatever they contain.
* Text commands (#refuser, #reporter's reason, #appel, #solution, #note) take the rest of their line and every line
  below, up to the next command line. The other commands take their own line only (#devis also takes the
  "clé : valeur" lines right below it); all remaining plain lines form the message relayed to the member.
* Nothing is silently dropped: an unknown "#mot", a missing argument or an unreadable date gives a `CommandError`
  with a short French explanation for Aideur. Parsing goes on after an error so he learns of every problem at once;
  the caller executes nothing when `errors` is not empty.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from types import MappingProxyType

from .dates import DATE_FORMS_HELP, fold, parse_date
from .rules import COURTESY, REFERENCE_TYPED, SIGN_OFF_WORDS

__all__ = [
    "COMMANDS",
    "AideurReply",
    "Command",
    "CommandError",
    "parse_aideur_reply",
    "parse_price",
]

# Canonical French name → English alias (docs/rules.md §2).
COMMANDS: Mapping[str, str] = MappingProxyType({
    "accepter": "accept",
    "refuser": "decline",
    "reporter": "postpone",
    "appel": "appeal",
    "solution": "solution",
    "devis": "quote",
    "relier": "connect",
    "clore": "close",
    "note": "note",
    "aide": "help",
    "tickets": "list",
    "rouvrir": "reopen",
    "ouvrir": "open",
})

# Forms typed in a hurry on a phone (accents are folded before lookup, so "#accepté" is "#accepte").
_NEAR_FORMS = {
    "accepte": "accepter",
    "refuse": "refuser",
    "reporte": "reporter",
    "clos": "clore",
    "cloture": "clore",
    "cloturer": "clore",
    "fermer": "clore",
    "liste": "tickets",
    "ticket": "tickets",
    "reouvrir": "rouvrir",
    "rouvre": "rouvrir",
    "reouvre": "rouvrir",
    "ouvre": "ouvrir",
}
_WORDS: dict[str, str] = {**{name: name for name in COMMANDS},
                          **{alias: name for name, alias in COMMANDS.items()},
                          **_NEAR_FORMS}

# Commands whose argument is a text running over the following lines.
_TEXT_COMMANDS = frozenset({"refuser", "reporter", "appel", "solution", "note", "relier", "ouvrir"})

_EMPTY: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True)
class Command:
    name: str                     # canonical French name
    line: str                     # the command line as typed
    argument: str = ""            # the rest of the command line, stripped
    text: str = ""                # text commands: the text (for #reporter, the reason after the date)
    when: date | None = None      # #accepter, #reporter
    # Left out of the hash (a mapping proxy has none) but not of equality, so equal commands still hash alike.
    fields: Mapping[str, str] = field(default_factory=lambda: _EMPTY, hash=False)


@dataclass(frozen=True)
class CommandError:
    line: str
    problem: str                  # French, short, polite, says how to fix it


@dataclass(frozen=True)
class AideurReply:
    commands: tuple[Command, ...]
    message: str                  # plain text to relay to the member
    errors: tuple[CommandError, ...]
    references: tuple[str, ...]   # ticket references found anywhere, upper-cased, first occurrence order


# Matched on the folded line. Group "space" tells "# accepter" from "#accepter".
_COMMAND_LINE = re.compile(
    r"^\s*(?:[-*•·+]\s+|[-•·]\s*)?(?:\*{1,2}|_{1,2})?#(?P<space>\s*)(?P<word>[a-z]+)(?=[\s:.,;!?*_\d]|$)"
)
_QUOTED = re.compile(r"^\s*>")
# Same shape as the router's subject reference (prefix is configurable, hence any 1–6 letters); dashes vary with
# the mail client.
_REFERENCE = REFERENCE_TYPED
# Spaces HTML conversion leaves behind; zero-width ones are dropped so they cannot split a word.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)
_ODD_SPACES = dict.fromkeys(map(ord, "\u00a0\u202f\u2007\u2009\u200a"), " ")

_KNOWN_LIST = ", ".join(f"#{name} (#{alias})" if alias != name else f"#{name}" for name, alias in COMMANDS.items())


def parse_aideur_reply(new_text: str, today: date) -> AideurReply:
    """Read Aideur's mail: the #commands, the free message for the member, the mistakes. Pure: no database,
    no mail; workflows.triage.check() then execute() decide and act on the result.

    In: `new_text`, what Aideur wrote (the quoted earlier mail already cut off; lines starting with ">" are
    ignored anyway), and `today` in the club's time zone (for "#accepter demain", "#reporter lundi").

    Returns an AideurReply: the commands in the order written (a text command — #refuser, #reporter, #appel,
    #solution, #note, #relier — takes the lines after it up to the next command; #devis its lines of amounts),
    the remaining text as the message to relay (emptied when it is only greetings and a sign-off), one
    CommandError per line that looks like a command but cannot be done (an unknown or misspelt word, a
    missing or unreadable date or amount), with a short French explanation of how to fix it, and the ticket
    references found anywhere in the text.

    Raises nothing: any text gives an AideurReply."""
    text = new_text.translate(_INVISIBLE).translate(_ODD_SPACES).replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    references = tuple(dict.fromkeys(
        f"{m.group(1).upper()}-{m.group(2)}-{m.group(3)}" for m in _REFERENCE.finditer(text)
    ))

    commands: list[Command] = []
    errors: list[CommandError] = []
    message: list[str] = []

    index = 0
    while index < len(lines):
        line = lines[index]
        found = _command_word(line)
        if found is None:
            if (unknown := _unknown_word(line)) is not None:
                errors.append(CommandError(line.strip(), _unknown_problem(unknown)))
            else:
                message.append(line)
            index += 1
            continue
        name, argument = found
        index += 1
        body: list[str] = []
        if name in _TEXT_COMMANDS:
            while index < len(lines) and not _is_command_candidate(lines[index]):
                body.append(lines[index])
                index += 1
        elif name == "devis":
            index, body = _devis_lines(lines, index)
        outcome = _BUILDERS[name](line.strip(), argument, body, today)
        if isinstance(outcome, CommandError):
            errors.append(outcome)
        else:
            commands.append(outcome)

    text = _tidy(message)
    if commands and _courtesy_only(text):
        text = ""  # "#relier 1" then "Cordialement," (his client's signature block): nothing to relay
    return AideurReply(tuple(commands), text, tuple(errors), references)


_COURTESY = COURTESY  # greetings and sign-offs: the shared list (rules.py)


def _courtesy_only(text: str) -> bool:
    """A message made only of greetings and sign-offs says nothing to the member."""
    pieces = [piece.strip(" -") for piece in re.split(r"[\n,.!;:]+", fold(text))]
    return all(not piece or _COURTESY.match(piece) for piece in pieces)


def _command_word(line: str) -> tuple[str, str] | None:
    """(canonical name, argument as typed) when the line is a known command."""
    if _QUOTED.match(line):
        return None
    match = _COMMAND_LINE.match(fold(line))
    if not match or match.group("word") not in _WORDS:
        return None
    argument = line[match.end():]
    # "**#accepter 15/12**" (bold in an HTML mail), "#accepter : 15/12".
    argument = argument.strip().strip("*_").strip()
    argument = argument.lstrip(":").strip()
    return _WORDS[match.group("word")], re.sub(r"[ \t]+", " ", argument)


def _unknown_word(line: str) -> str | None:
    """The word of a "#mot" line that is not a command ("# Titre", with a space, is prose, not a typo)."""
    if _QUOTED.match(line):
        return None
    match = _COMMAND_LINE.match(fold(line))
    if not match or match.group("space") or match.group("word") in _WORDS:
        return None
    return line[match.start("word"):match.end("word")]


def _is_command_candidate(line: str) -> bool:
    return _command_word(line) is not None or _unknown_word(line) is not None


def _unknown_problem(word: str) -> str:
    return (f"« #{word} » n'est pas une commande connue. Les commandes sont : {_KNOWN_LIST}. "
            "Vérifiez l'orthographe, ou écrivez #aide pour recevoir la fiche des commandes.")


def _tidy(lines: list[str]) -> str:
    """Join lines, without leading/trailing blank lines and without the runs of blank lines left where commands
    were taken out (or where an HTML conversion put paragraphs)."""
    out: list[str] = []
    for line in lines:
        line = line.rstrip()
        if not line.strip() and (not out or not out[-1].strip()):
            continue
        out.append(line)
    while out and not out[-1].strip():
        out.pop()
    return "\n".join(out)


def _block(argument: str, body: list[str]) -> str:
    return _tidy([argument, *body])


# --- builders: one per command, (line, argument, body lines, today) → Command | CommandError -------------------

def _accepter(line: str, argument: str, body: list[str], today: date) -> Command | CommandError:
    if not argument:
        return CommandError(line, "la commande #accepter demande la date limite des propositions : écrivez-la après "
                                  "le mot, par exemple « #accepter 15/12 » ou « #accepter dans 5 jours ouvrés ».")
    when, _rest = parse_date(argument, today)
    if when is None:
        return _date_error(line, "accepter", argument, "#accepter 15/12")
    # Words after the date ("#accepter 15/12 merci") are kept in `argument` only: the date is what matters.
    return Command("accepter", line, argument, when=when)


def _reporter(line: str, argument: str, body: list[str], today: date) -> Command | CommandError:
    example = "« #reporter 15/12 le prestataire est absent cette semaine »"
    if not argument.strip() and not "".join(body).strip():
        return CommandError(line, "la commande #reporter demande une nouvelle date puis le motif, que le membre "
                                  f"recevra : par exemple {example}.")
    head = argument
    if not head.strip():
        # "#reporter" alone, the date on the next line (phones wrap or Aideur presses Enter): read it there.
        while body and not body[0].strip():
            body = body[1:]
        head, body = body[0].strip(), body[1:]
    when, reason = parse_date(head, today)
    if when is None:
        return _date_error(line, "reporter", head, "#reporter 15/12 motif du report")
    text = _block(reason, body)
    if not text:
        return CommandError(line, "la commande #reporter demande aussi le motif du report (le membre le recevra) : "
                                  f"écrivez-le après la date, par exemple {example}.")
    return Command("reporter", line, argument, text=text, when=when)


Builder = Callable[[str, str, list[str], date], "Command | CommandError"]


def _text_command(name: str, what: str, example: str) -> Builder:
    def build(line: str, argument: str, body: list[str], today: date) -> Command | CommandError:
        text = _block(argument, body)
        if not text:
            return CommandError(line, f"la commande #{name} demande {what} : écrivez-le après le mot ou sur les "
                                      f"lignes suivantes, par exemple « #{name} {example} ».")
        return Command(name, line, argument, text=text)
    return build


_APPEL_FIELD = re.compile(
    r"^\s*(?P<key>competences?|skills?|membres?|members?|nombre(?:\s+de\s+membres)?)\s*[:=]\s*", re.IGNORECASE
)


def _appel(line: str, argument: str, body: list[str], today: date) -> Command | CommandError:
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
                return CommandError(line, f"dans #appel, « membres » doit être un nombre (lu : « {value.strip()} ») : "
                                          "par exemple « membres: 5 ».")
            fields[key] = number.group(1)
        rest[0] = remainder
        if not remainder.strip():
            rest.pop(0)
    text = _tidy(rest)
    if not text:
        return CommandError(line, "la commande #appel demande le texte de l'appel (sans nom ni coordonnées du "
                                  "demandeur) : écrivez-le après le mot ou sur les lignes suivantes, par exemple "
                                  "« #appel compétences: paie ; membres: 5 » puis le texte à la ligne.")
    return Command("appel", line, argument, text=text, fields=MappingProxyType(fields))


# --- #devis -------------------------------------------------------------------------------------------------

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


def _devis_lines(lines: list[str], index: int) -> tuple[int, list[str]]:
    """The "clé : valeur" lines right below #devis (blank lines between them allowed)."""
    body: list[str] = []
    probe = index
    while probe < len(lines):
        line = lines[probe]
        if not line.strip():
            probe += 1
            continue
        if _QUOTED.match(line) or _is_command_candidate(line) or not _DEVIS_KEY.match(fold(line).lstrip(" -*•")):
            break
        body.extend(lines[index:probe + 1])
        probe += 1
        index = probe
    return index, body


def _devis(line: str, argument: str, body: list[str], today: date) -> Command | CommandError:
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
            return CommandError(line, f"dans #devis, le {_DEVIS_LABELS[key]} « {values[key]} » n'est pas un montant "
                                      "lisible : écrivez par exemple « 1 200 € » ou « 350,50 € HT ».")
        fields[key] = amount
        fields[f"{key}_texte"] = values[key]
    return Command("devis", line, argument, fields=MappingProxyType(fields))


_ALL_DEVIS = "« prestataire », « objet », « tarif habituel » et « tarif club »"


_AMOUNT = re.compile(r"\d[\d\s'.,]*")
_FREE = re.compile(r"^\s*(?:gratuit|gratuite|offert|offerte|free)\b")


def parse_price(text: str) -> str | None:
    """'1 200 €', '1200,50 EUR', '1.200€', '300 euros HT', '1,2 k€', 'gratuit' → '1200.00' … '0.00' (None: no amount).

    A lone '.' or ',' followed by exactly three digits is a thousands separator (French "1.200 €"); otherwise the
    last separator is the decimal one.
    """
    folded = fold(text).replace("\u00a0", " ")
    if _FREE.match(folded):
        return "0.00"
    match = _AMOUNT.search(folded)
    if not match:
        return None
    raw = match.group().rstrip(" .,'")
    kilo = bool(re.match(r"\s*k(?:€|e|\b|$)", folded[match.start() + len(raw):]))
    digits = re.sub(r"[\s']", "", raw)
    separators = [char for char in digits if char in ".,"]
    if separators:
        last = max(digits.rfind("."), digits.rfind(","))
        tail = digits[last + 1:]
        if len(separators) == 1 and len(tail) == 3 and not kilo:
            digits = digits.replace(".", "").replace(",", "")
        elif len(set(separators)) == 1 and len(separators) > 1:
            digits = digits.replace(separators[0], "")  # 1.200.000
        else:
            digits = re.sub(r"[.,]", "", digits[:last]) + "." + tail
    try:
        amount = Decimal(digits) * (1000 if kilo else 1)
        return str(amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    except InvalidOperation:  # not a number, or more digits than any price (the quantum cannot be kept)
        return None


# --- the others ---------------------------------------------------------------------------------------------

_EMAIL = re.compile(r"(?<![\w.+'-])[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
_OFFER = re.compile(r"^(?:(?:offre|offer|proposition)\s*)?(?:n\s*[°o]\.?\s*|no\.?\s*|#)?(\d{1,6})\b")


# "Cordialement," (and his signature) ends the text of #relier; the words are the shared ones (parsers.rules).
_SIGN_OFF = re.compile(rf"^(?:{SIGN_OFF_WORDS}|aideur)[ ,.!]*$")


def _relier(line: str, argument: str, body: list[str], today: date) -> Command | CommandError:
    """The helper (offer number or e-mail), then the text the helper will read before both agreed: the rest of the
    line and the lines below, up to the next command or a sign-off ("Cordialement," and his signature)."""
    email = _EMAIL.search(argument)
    offer = None if email else _OFFER.match(fold(argument))
    if email:
        fields = {"email": email.group().lower()}
        rest = argument[:email.start()].rstrip("<( ") + " " + argument[email.end():].lstrip(">) ")
    elif offer:
        fields, rest = {"offre": offer.group(1)}, argument[offer.end():]
    if email or offer:
        lines = [rest.strip().lstrip(":-–—>").strip(), *body]
        cut = next((index for index, text in enumerate(lines) if _SIGN_OFF.match(fold(text).strip())), len(lines))
        text = _tidy(lines[:cut])
        return Command("relier", line, argument, text="" if _courtesy_only(text) else text,
                       fields=MappingProxyType(fields))
    read = f" (lu : « {argument} »)" if argument else ""
    return CommandError(line, f"la commande #relier demande le numéro de l'offre ou l'adresse e-mail du membre "
                              f"qui aide{read} : par exemple « #relier 3 » ou « #relier jean.dupont@exemple.fr ».")


def _rouvrir(line: str, argument: str, body: list[str], today: date) -> Command | CommandError:
    """`#rouvrir` alone, or with the new date by which Aideur will answer ("#rouvrir 15/12")."""
    if not argument.strip():
        return Command("rouvrir", line, argument)
    when, _rest = parse_date(argument, today)
    if when is None:
        return _date_error(line, "rouvrir", argument, "#rouvrir 15/12")
    return Command("rouvrir", line, argument, when=when)


_OBJET = re.compile(r"^\s*(?:objet|sujet|subject)\s*[:=]\s*", re.IGNORECASE)


def _ouvrir(line: str, argument: str, body: list[str], today: date) -> Command | CommandError:
    """`#ouvrir alice@exemple.fr` (a request Aideur received by phone or forwarded): an optional "objet: …" line,
    then the request's text on the lines below, up to the next command or a sign-off. An empty text is completed
    by the caller from the mail's forwarded message."""
    email = _EMAIL.search(argument)
    if email is None:
        read = f" (lu : « {argument} »)" if argument else ""
        return CommandError(line, f"la commande #ouvrir demande l'adresse e-mail du membre{read} : par exemple "
                                  "« #ouvrir alice.martin@exemple.fr », puis « objet: … » et le texte de la "
                                  "demande sur les lignes suivantes.")
    fields = {"email": email.group().lower()}
    lines = [argument[email.end():].strip().lstrip(":-–—>").strip(), *body]
    cut = next((index for index, text in enumerate(lines) if _SIGN_OFF.match(fold(text).strip())), len(lines))
    kept: list[str] = []
    for text in lines[:cut]:
        match = _OBJET.match(fold(text))
        if match and "objet" not in fields:
            fields["objet"] = text[match.end():].strip()
        else:
            kept.append(text)
    return Command("ouvrir", line, argument, text=_tidy(kept), fields=MappingProxyType(fields))


def _simple(name: str) -> Builder:
    # #clore: the optional reason is the argument; #aide, #tickets: words after them are harmless and kept.
    def build(line: str, argument: str, body: list[str], today: date) -> Command:
        return Command(name, line, argument)
    return build


def _date_error(line: str, name: str, argument: str, example: str) -> CommandError:
    read = " ".join(argument.split()[:4])
    return CommandError(line, f"la date de #{name} n'a pas pu être lue (lu : « {read} ») : écrivez-la en tête, "
                              f"par exemple « {example} ». Formes comprises : {DATE_FORMS_HELP}.")


_BUILDERS: dict[str, Builder] = {
    "accepter": _accepter,
    "refuser": _text_command("refuser", "un motif (le membre le recevra, avec ménagement)", "hors du champ du Club"),
    "reporter": _reporter,
    "appel": _appel,
    "solution": _text_command("solution", "le texte de la solution proposée au membre", "voici ce que je propose…"),
    "devis": _devis,
    "relier": _relier,
    "clore": _simple("clore"),
    "note": _text_command("note", "le texte de la note (interne, jamais envoyée)", "appelé le membre ce matin"),
    "aide": _simple("aide"),
    "tickets": _simple("tickets"),
    "rouvrir": _rouvrir,
    "ouvrir": _ouvrir,
}
