"""Aideur's reply to a ticket notification: command lines (docs/rules.md §2) and the message to relay to the member.

The input is the reply's new text (quote and signature already removed by `split_reply`). Reading rules:

* A command line starts with `#` followed directly by letters (after optional spaces, a list bullet "- " / "* " / "• ",
  or Markdown emphasis "**"); a full-width "＃" counts. The line is read composed (NFC) and without format characters
  (soft hyphen, zero-width, bidi marks); the word is letters of any script, read as it looks (fullwidth, mathematical
  and look-alike letters made Latin, accents folded): "#clоre" with a Cyrillic "о" is #clore, and a word that spells
  no command is an unknown command (an error), never text for the member. "# accepter" with a space is accepted for the known words only,
  because "# Titre" is more likely prose than a mistyped command. "#1 priorité" or "voir #2" are plain text.
* Lines starting with ">" are quoted history: never a command, whatever they contain.
* Each command is one object in its own module of `mailbot.commands` (its words, how it reads its lines, its
  checks and effects); this module is the reader they share. Text commands (#refuser, #reporter's reason, #appel,
  #solution, #note, #relier, #ouvrir) take the rest of their line and every line below, up to the next command
  line. The other commands take their own line only (#devis also takes the "clé : valeur" lines right below it);
  all remaining plain lines form the message relayed to the member.
* Nothing is silently dropped: an unknown "#mot", a missing argument or an unreadable date gives a `CommandError`
  with a short French explanation for Aideur. Parsing goes on after an error so he learns of every problem at once;
  the caller executes nothing when `errors` is not empty.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache
from types import MappingProxyType
from typing import TYPE_CHECKING

from mailbot.lookalikes import latin_lookalikes

from .dates import DATE_FORMS_HELP, fold
from .rules import COURTESY, REFERENCE_TYPED, SIGN_OFF_WORDS, drop_format, nfc

if TYPE_CHECKING:
    from mailbot.commands.base import AideurCommand

__all__ = [
    "COMMANDS",
    "AideurReply",
    "Command",
    "CommandError",
    "parse_aideur_reply",
    "parse_price",
]


def _registry() -> Mapping[str, AideurCommand]:
    # The commands' own modules read with the helpers below: they are loaded on first use, not at import.
    from mailbot.commands import REGISTRY

    return REGISTRY


class _Names(Mapping[str, str]):
    """Canonical French name → English alias (docs/rules.md §2), from the commands' own modules."""

    def __getitem__(self, name: str) -> str:
        return _registry()[name].alias

    def __iter__(self) -> Iterator[str]:
        return iter(_registry())

    def __len__(self) -> int:
        return len(_registry())


COMMANDS: Mapping[str, str] = _Names()


@cache
def _words() -> Mapping[str, str]:
    """Every word that names a command (French, English, forms typed in a hurry; accents are folded before lookup,
    so "#accepté" is "#accepte") → its canonical name."""
    words: dict[str, str] = {}
    for name, command in _registry().items():
        words.update(dict.fromkeys((*command.near_forms, command.alias, name), name))
    return MappingProxyType(words)


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


# Matched on the folded line (see _probe). Group "space" tells "# accepter" from "#accepter". The word is letters of
# any script, with any combining marks NFC could not compose: what it spells is read by _word_key, so that a word
# disguised in another script or form is the command it spells, or an unknown word (an error), never prose.
_MARKS = "\u0300-\u036f\u0483-\u0489\u0591-\u05bd\u0610-\u061a\u064b-\u065f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff" \
         "\u3099\u309a\ufe00-\ufe0f\ufe20-\ufe2f"
_COMMAND_LINE = re.compile(
    r"^\s*(?:[-*•·+]\s+|[-•·]\s*)?(?:\*{1,2}|_{1,2})?#(?P<space>\s*)"
    rf"(?P<word>(?:[^\W\d_]|[{_MARKS}])+)(?=[\s:.,;!?*_\d]|$)"
)
QUOTED = re.compile(r"^\s*>")
_QUOTED = QUOTED
# Same shape as the router's subject reference (prefix is configurable, hence any 1–6 letters); dashes vary with
# the mail client.
_REFERENCE = REFERENCE_TYPED
# Spaces HTML conversion leaves behind; zero-width ones are dropped so they cannot split a word.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)
_ODD_SPACES = dict.fromkeys(map(ord, "\u00a0\u202f\u2007\u2009\u200a"), " ")


def _known_list() -> str:
    return ", ".join(command.sheet_word() for command in _registry().values())


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
    text = nfc(new_text).translate(_INVISIBLE).translate(_ODD_SPACES).replace("\r\n", "\n").replace("\r", "\n")
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
                errors.append(CommandError(_probe(line).strip(), _unknown_problem(unknown)))
            else:
                message.append(line)
            index += 1
            continue
        name, argument = found
        command = _registry()[name]
        index, body = command.read_body(lines, index + 1)
        outcome = command.parse(_probe(line).strip(), argument, body, today)
        if isinstance(outcome, CommandError):
            errors.append(outcome)
        else:
            commands.append(outcome)

    text = tidy(message)
    if commands and courtesy_only(text):
        text = ""  # "#relier 1" then "Cordialement," (his client's signature block): nothing to relay
    return AideurReply(tuple(commands), text, tuple(errors), references)


_COURTESY = COURTESY  # greetings and sign-offs: the shared list (rules.py)


def courtesy_only(text: str) -> bool:
    """A message made only of greetings and sign-offs says nothing to the member."""
    pieces = [piece.strip(" -") for piece in re.split(r"[\n,.!;:]+", fold(text))]
    return all(not piece or _COURTESY.match(piece) for piece in pieces)


def _probe(line: str) -> str:
    """The line as the command reader reads it: composed (NFC) and without invisible format characters (soft hyphen,
    zero-width characters, word joiner, BOM, bidi marks), which must not split or hide a command word."""
    return nfc(drop_format(line))


def _word_key(word: str) -> str:
    """What a command word spells: compatibility forms (fullwidth, mathematical letters) and accents undone, letters
    of other scripts that look Latin read as Latin ("#clоre" with a Cyrillic "о" is "clore"), lower case."""
    lookalikes = latin_lookalikes()
    letters = (lookalikes.get(char, char) for char in unicodedata.normalize("NFKD", word)
               if not unicodedata.combining(char))
    return fold("".join(letters))


def _command_word(line: str) -> tuple[str, str] | None:
    """(canonical name, argument as typed) when the line is a known command."""
    if _QUOTED.match(line):
        return None
    line = _probe(line)
    match = _COMMAND_LINE.match(fold(line))
    if not match or _word_key(match.group("word")) not in _words():
        return None
    argument = line[match.end():]
    # "**#accepter 15/12**" (bold in an HTML mail), "#accepter : 15/12".
    argument = argument.strip().strip("*_").strip()
    argument = argument.lstrip(":").strip()
    return _words()[_word_key(match.group("word"))], re.sub(r"[ \t]+", " ", argument)


def _unknown_word(line: str) -> str | None:
    """The word of a "#mot" line that is not a command ("# Titre", with a space, is prose, not a typo)."""
    if _QUOTED.match(line):
        return None
    line = _probe(line)
    match = _COMMAND_LINE.match(fold(line))
    if not match or match.group("space") or _word_key(match.group("word")) in _words():
        return None
    return line[match.start("word"):match.end("word")]


def is_command_candidate(line: str) -> bool:
    """Whether the line is a command, or looks like one (then it ends the text of the command above it)."""
    return _command_word(line) is not None or _unknown_word(line) is not None


def _unknown_problem(word: str) -> str:
    return (f"« #{word} » n'est pas une commande connue. Les commandes sont : {_known_list()}. "
            "Vérifiez l'orthographe, ou écrivez #aide pour recevoir la fiche des commandes.")


def tidy(lines: list[str]) -> str:
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


# --- shared by the commands' readers (mailbot.commands) ----------------------------------------

EMAIL = re.compile(r"(?<![\w.+'-])[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")

# "Cordialement," (and his signature) ends the text of #relier; the words are the shared ones (parsers.rules).
SIGN_OFF = re.compile(rf"^(?:{SIGN_OFF_WORDS}|aideur)[ ,.!]*$")


def date_error(line: str, name: str, argument: str, example: str) -> CommandError:
    read = " ".join(argument.split()[:4])
    return CommandError(line, f"la date de #{name} n'a pas pu être lue (lu : « {read} ») : écrivez-la en tête, "
                              f"par exemple « {example} ». Formes comprises : {DATE_FORMS_HELP}.")
