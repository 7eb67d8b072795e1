"""Keeping a requester's identity out of what the network sees, and out of stored texts when they ask (RGPD).

Two uses of the same matchers:

* `find_leaks` checks an appeal (#appel) before it is relayed to the members: the requester's name, company, e-mail,
  phone or street must not be in it, nor any e-mail address, phone number, SIREN/SIRET or IBAN at all (they all point
  at someone). Aideur gets the list and rephrases; nothing is sent meanwhile.
* `scrub` erases one member's identity from a stored text (ticket messages, subjects, events), leaving everything
  else byte-identical, other people's addresses included.

Policy: a missed leak is worse than a refused appeal, because refusing costs Aideur one rephrasing while a leak cannot
be taken back. So the matchers lean towards reporting: a first name alone is reported even when it is also a common
French word ("Pierre", "Rose", "Claire", "Marine", "Constance"), and so is a last name that is a word ("Petit",
"Boulanger"). Only names of one or two letters are ignored, as they match too much to be useful ("Li", "Ba").

Matching is done on a *folded* copy of the text (`fold`: lower case, no accents, plain dashes and spaces, one character
per original character), so a span found there is cut from the original as typed. Words are compared by their letters
only: "Jean-Pierre", "jean pierre", "JEANPIERRE" and "Le Goff" / "Legoff" are the same name.
"""
from __future__ import annotations

import bisect
import itertools
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from mailbot.lookalikes import latin_lookalikes

__all__ = [
    "ANY_ADDRESS",
    "ANY_EMAIL",
    "ANY_PHONE",
    "COMPANY",
    "COMPANY_NUMBER",
    "EMAIL",
    "EMAIL_DOMAIN",
    "FIRST_NAME",
    "IBAN",
    "LAST_NAME",
    "PHONE",
    "POSTAL_ADDRESS",
    "REQUESTER_WHATS",
    "Identity",
    "Leak",
    "find_identity",
    "find_leaks",
    "normalise",
    "scrub",
]

# What a leak is, in the words of the error mail to Aideur.
FIRST_NAME = "le prénom du demandeur"
LAST_NAME = "le nom du demandeur"
COMPANY = "l'entreprise du demandeur"
EMAIL = "l'adresse e-mail du demandeur"
EMAIL_DOMAIN = "le domaine e-mail du demandeur"
PHONE = "le téléphone du demandeur"
POSTAL_ADDRESS = "l'adresse postale du demandeur"
ANY_EMAIL = "une adresse e-mail"
ANY_PHONE = "un numéro de téléphone"
COMPANY_NUMBER = "un numéro SIREN/SIRET"
IBAN = "un IBAN"
ANY_ADDRESS = "une adresse postale"

# The leaks that are about the requester (and that `scrub` erases); the others are about anyone.
REQUESTER_WHATS = frozenset({FIRST_NAME, LAST_NAME, COMPANY, EMAIL, EMAIL_DOMAIN, PHONE, POSTAL_ADDRESS})


@dataclass(frozen=True)
class Identity:
    first_name: str = ""
    last_name: str = ""
    company: str = ""
    email: str = ""
    phone: str = ""
    postal_address: str = ""   # may be multi-line or "12 rue des Lilas, 75011 Paris"


@dataclass(frozen=True)
class Leak:
    what: str    # one of the constants above, French, for Aideur
    found: str   # the text as it appears
    line: str    # the whole line where it was found (stripped), to quote in the error mail


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    what: str
    address: bool = False   # a whole e-mail address: what lies inside it is not reported again

    @property
    def about_requester(self) -> bool:
        return self.what in REQUESTER_WHATS


def find_leaks(text: str, identity: Identity) -> list[Leak]:
    """Every leak in `text`, in text order; the same (what, found) is reported once."""
    leaks: dict[tuple[str, str], Leak] = {}
    for span in _spans(text, identity, drop_inside_addresses=True):
        found = text[span.start:span.end]
        leaks.setdefault((span.what, found), Leak(span.what, found, _line(text, span.start)))
    return list(leaks.values())


def scrub(text: str, identity: Identity, replacement: str = "[effacé]") -> str:
    """`text` with every trace of `identity` replaced; the rest, other people's addresses included, is untouched."""
    # Names inside someone else's address are erased too ("alice.martin@autre.fr" is probably hers).
    spans = sorted((s for s in _spans(text, identity, drop_inside_addresses=False) if s.about_requester),
                   key=lambda s: s.start)
    merged: list[list[int]] = []
    for span in spans:
        if merged and span.start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], span.end)
        else:
            merged.append([span.start, span.end])
    pieces, position = [], 0
    for start, end in merged:
        pieces += [text[position:start], replacement]
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


# Where a profile's free text ("avocate associée, cabinet Durand Avocats", "droit du travail (Me Durand)") falls
# into pieces that each say one thing.
_PROFILE_PIECES = re.compile(r"\s*(?:[,;/|()\[\]\n•·]|\s[-–—]\s|\s+et\s+|\s+and\s+)\s*")


def without_identity(text: str, identity: Identity) -> str:
    """A profile's free text (activity, skills, hobbies…) as it may be shown to the other side of a connection
    before both agreed (attack 13, case 12): the pieces that name the person or reach them (`find_leaks` against
    their identity: name, company, e-mail, phone, address; and any contact or company number) are left out, the
    rest is kept, readable ("avocate associée, cabinet Durand Avocats" is "avocate associée"). "" when nothing is
    left, or when what is left would still give something away."""
    text = (text or "").strip()
    if not text or not find_leaks(text, identity):
        return text
    kept = [piece.strip() for piece in _PROFILE_PIECES.split(text)
            if piece and piece.strip(" .-–—") and not find_leaks(piece, identity)]
    left = ", ".join(kept)
    return left if left and not find_leaks(left, identity) else ""


def find_identity(text: str, identity: Identity) -> list[Leak]:
    """Where `identity` (not anyone else) appears in `text`, in any disguise `normalise` sees through.

    The same as `find_leaks` restricted to the requester's own data (REQUESTER_WHATS): for erasure and audits.
    """
    return [leak for leak in find_leaks(text, identity) if leak.what in REQUESTER_WHATS]


def _spans(text: str, identity: Identity, *, drop_inside_addresses: bool) -> list[_Span]:
    norm = _normalised(text)
    folded = norm.text
    tokens = _tokenize(folded, norm.camel)
    found: list[_Span] = []
    names = _name_targets(identity)
    found += _word_spans(folded, tokens, names)
    found += _company_spans(text, norm, tokens, identity)
    found += _web_identifier_spans(folded, identity)
    for read in _leet_readings(folded):  # "M4rt1n", "Z@nett1": names and company spelled with digits and signs
        read_tokens = _tokenize(read, norm.camel)
        found += _word_spans(read, read_tokens, names)
        found += _company_spans(text, replace(norm, text=read), read_tokens, identity)
    found += _word_spans(folded, tokens, [(POSTAL_ADDRESS, target) for target in _street_targets(identity)])
    found += _email_spans(folded, identity)
    found += _phone_spans(folded, identity)
    found += _phone_words_spans(folded, identity)
    found += _company_number_spans(folded)
    found += _iban_spans(folded)
    # Anyone's street with its number ("domicilié 3 impasse des Roses"), unless it is the requester's, named as such.
    own_streets = [span for span in found if span.what == POSTAL_ADDRESS]
    found += [span for span in _any_street_spans(text, norm)
              if not any(own.start < span.end and span.start < own.end for own in own_streets)]
    spans = _resolve(found, drop_inside_addresses)
    spans = [replace(span, start=start, end=end) for span in spans
             for start, end in [norm.original(span.start, span.end)]]
    with_digits = _digits_read(text, norm)
    if with_digits is None:
        return spans
    # Phone numbers written with letters for digits ("O6 l2 34 56 78"): read again with the digits in place (same
    # length as `text`, so the spans found stand for the text as written), and kept where they reach further.
    read_norm = _normalised(with_digits)
    again = [replace(span, start=start, end=end) for span in _phone_spans(read_norm.text, identity)
             for start, end in [read_norm.original(span.start, span.end)]]
    return _resolve(spans + again, drop_inside_addresses)


def _resolve(spans: list[_Span], drop_inside_addresses: bool) -> list[_Span]:
    """Per kind of leak, the leftmost longest of overlapping spans; then, optionally, nothing inside an address."""
    kept: list[_Span] = []
    by_what: dict[str, list[_Span]] = {}
    for span in spans:
        by_what.setdefault(span.what, []).append(span)
    for group in by_what.values():
        end = -1
        for span in sorted(group, key=lambda s: (s.start, -s.end)):
            if span.start >= end:
                kept.append(span)
                end = span.end
    if drop_inside_addresses:
        # "alice.martin@exemple.fr" is one leak, not an address plus a first name, a last name and a domain.
        addresses = [s for s in kept if s.address]
        kept = [s for s in kept
                if s.address or not any(a.start <= s.start and s.end <= a.end for a in addresses)]
    return sorted(kept, key=lambda s: (s.start, s.end, s.what))


def _line(text: str, index: int) -> str:
    start = text.rfind("\n", 0, index) + 1
    end = text.find("\n", index)
    return text[start:len(text) if end < 0 else end].strip()


# --- Normalising: what the guard compares ------------------------------------------------------------------------

# Characters that phones, Outlook and HTML conversion put where a plain one is meant.
_PLAIN = {
    "\t": " ", "\r": "\n", "\u2028": "\n", "\u2029": "\n", "\x0b": "\n", "\x0c": "\n", "\x85": "\n",
    "\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u00b4": "'", "`": "'", "\u2032": "'",
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
    "\u2043": "-", "\ufe63": "-", "\uff0d": "-",
    # Letters NFKD leaves whole; people spell them out in two ("Lætitia", "Cœur") when a keyboard lacks them.
    "œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss", "ø": "o", "Ø": "o", "đ": "d", "Đ": "d", "ł": "l",
    "Ł": "l", "ı": "i",
    # Blank characters Unicode counts as letters (Hangul fillers) or symbols (the blank Braille pattern): invisible.
    "\u3164": "", "\u115f": "", "\u1160": "", "\uffa0": "", "\u2800": "",
}
# A letter in any dress, by its Unicode name: "LATIN LETTER SMALL CAPITAL M" (ᴍ), "LATIN SMALL LETTER T WITH STROKE"
# (ŧ), "NEGATIVE SQUARED LATIN CAPITAL LETTER M" (🅼), "REGIONAL INDICATOR SYMBOL LETTER M": the letter is M.
_NAMED_LETTER = re.compile(r"(?:^|\s)(?:LATIN|REGIONAL INDICATOR SYMBOL)(?: SMALL| CAPITAL)? LETTER"
                           r"(?: SMALL CAPITAL)? ([A-Z])(?: WITH .+)?$")
# Between two digits, anything of these is a separator a phone number may be written with ("06_12", "06,12",
# "06 • 12", "0 6  1 2"); a run of them is made one space, which the phone patterns accept.
# ("+" is not one: it starts "+33".)
_DIGIT_GAP = re.compile(r"(?<=\d)[ \n_,.;:/\\|*~·•=-]{1,6}(?=\d)")
# What the phone, date and amount patterns read as written and must keep: one space, or one of ". - /" maybe
# with spaces ("06.12", "06 - 12", "15/12/2026").
_KEPT_GAP = re.compile(r" ?[./-] ?| ")


class _CharTable(dict[str, str]):
    """What one character becomes once normalised (maybe nothing, maybe two letters); computed on first sight."""

    def __missing__(self, char: str) -> str:
        plain = self._compute(char)
        if len(self) < 65536:  # bounded: a mail of random code points must not grow it without end
            self[char] = plain
        return plain

    @staticmethod
    def _compute(char: str) -> str:
        if char in _PLAIN:
            return _PLAIN[char]
        category = unicodedata.category(char)
        if category in ("Cf", "Mn", "Me") or char == "\u034f":
            return ""  # soft hyphen, zero-width, bidi controls, combining accents (NFD), variation selectors
        if category == "Zs":
            return " "
        if category in ("Cc", "Zl", "Zp", "Cs", "Co", "Cn"):
            return "\n" if category in ("Zl", "Zp") else " "
        if category == "Nd":
            return str(unicodedata.digit(char))  # fullwidth, Arabic-Indic, mathematical digits
        if category == "Pd":
            return "-"
        out = []
        confusables = latin_lookalikes()
        for part in unicodedata.normalize("NFKD", char):
            if unicodedata.combining(part):
                continue
            part = confusables.get(part) or confusables.get(part.upper()) or _named_letter(part) or part
            out += [c for c in unicodedata.normalize("NFKD", _PLAIN.get(part, part).lower())
                    if not unicodedata.combining(c)]
        return "".join(out)


def _named_letter(char: str) -> str:
    """The Latin letter a character is by its Unicode name (see _NAMED_LETTER), or ""."""
    if char.isascii():
        return ""
    match = _NAMED_LETTER.search(unicodedata.name(char, ""))
    return match.group(1).lower() if match else ""


_CHARS = _CharTable({chr(code): _PLAIN.get(chr(code), chr(code).lower()) for code in range(32, 127)}
                    | {"\n": "\n", "\t": " ", "\r": "\n"})


@dataclass(frozen=True)
class _Normalised:
    text: str                      # what is compared
    origin: Sequence[int]          # for each of its characters, the index of the original one it comes from
    camel: frozenset[int]          # where a word starts in the middle of another ("AliceMartin", "chezMartin")

    def original(self, start: int, end: int) -> tuple[int, int]:
        return self.origin[start], self.origin[end - 1] + 1


class _OrdTable(dict[int, str]):
    """The same, keyed by code point for `str.translate` (C speed once a character was seen). Characters that do
    not become exactly one character (dropped, or two letters) are noted: a text without any takes the fast path."""

    def __missing__(self, code: int) -> str:
        plain = _CHARS[chr(code)]
        if len(plain) != 1:
            _IRREGULAR.add(chr(code))
        if len(self) < 65536:
            self[code] = plain
        return plain


_IRREGULAR: set[str] = set()
_ORDS = _OrdTable()


@lru_cache(maxsize=64)
def _irregular_pattern(count: int) -> re.Pattern[str]:  # the cache key: the set's size
    return re.compile("[" + "".join(re.escape(char) for char in sorted(_IRREGULAR)) + "]")


# Where a word starts inside another: a capital just after a small letter (Latin, Greek, Cyrillic, fullwidth).
_SMALL = "a-zß-öø-ÿа-яѐ-џα-ωａ-ｚ"
_CAPITAL = re.compile("[A-ZÀ-ÖØ-ÞА-ЯЀ-ЏΑ-ΩＡ-Ｚ]")
_CAMEL = re.compile(f"(?<=[{_SMALL}])" + _CAPITAL.pattern)


def _normalised(text: str) -> _Normalised:
    mapped = text.translate(_ORDS)
    if len(mapped) == len(text) and not (_IRREGULAR and _irregular_pattern(len(_IRREGULAR)).search(text)):
        # Every character became one: same indices (the usual case, accented French included).
        camel = frozenset(match.start() for match in _CAMEL.finditer(text))
        return _collapsed(mapped, range(len(text)), camel)
    # Some characters vanish (invisible ones, combining accents) or become two ("œ", "…"): keep where each came from.
    pieces = [_CHARS[char] for char in text]
    lengths = [len(piece) for piece in pieces]
    offsets = list(itertools.accumulate(lengths, initial=0))
    origin = list(itertools.chain.from_iterable(itertools.repeat(index, n) for index, n in enumerate(lengths)))
    camel_set = set()
    for index in (match.start() for match in _CAPITAL.finditer(text, 1) if lengths[match.start()]):
        before = index - 1
        while before > 0 and not lengths[before]:
            before -= 1  # "Alice\u200bMartin": the word goes on across what vanished
        if text[before].islower():
            camel_set.add(offsets[index])
    return _collapsed("".join(pieces), origin, frozenset(camel_set))


def _collapsed(joined: str, origin: Sequence[int], camel: frozenset[int]) -> _Normalised:
    """Runs of spaces made one space; runs of separators between digits made one space (see _DIGIT_GAP)."""
    spaces = [match for match in re.finditer(r" {2,}", joined)]
    gaps = [match for match in _DIGIT_GAP.finditer(joined) if not _KEPT_GAP.fullmatch(match.group())]
    if not spaces and not gaps:
        return _Normalised(joined, origin, camel)
    chars = list(joined)
    keep = [True] * len(chars)
    for match in spaces:
        for position in range(match.start() + 1, match.end()):
            keep[position] = False
    for match in gaps:
        chars[match.start()] = " "
        for position in range(match.start() + 1, match.end()):
            keep[position] = False
    new_index: dict[int, int] = {}
    kept_chars: list[str] = []
    kept_origin: list[int] = []
    for position, (piece, source) in enumerate(zip(chars, origin, strict=False)):
        if keep[position]:
            new_index[position] = len(kept_chars)
            kept_chars.append(piece)
            kept_origin.append(source)
    return _Normalised("".join(kept_chars), kept_origin, frozenset(new_index[p] for p in camel if p in new_index))


def normalise(text: str) -> str:
    """`text` as the guard compares it: NFKC, lower case, no accents (composed or decomposed), no invisible
    characters (soft hyphen, zero-width, bidi), look-alike letters made Latin (Cyrillic "а", Greek "ο", fullwidth
    "Ａ"), one space for a run of spaces, one space for any run of separators between digits ("06_12", "0 6  1 2").

    Public for the modules that compare texts with people's data (erasure, logs): compare normalised to normalised.
    """
    return _normalised(text).text


# --- Words: names, company, street -------------------------------------------------------------------------------

# Letters and digits apart: "12bis" is "12" + "bis", as "12 bis" is.
_TOKEN = re.compile(r"[^\W\d_]+|\d+")
# What may sit between the words of one name: "Jean-Pierre", "O'Neil", "J.-P.", "12, rue", "Martin & Fils".
_JOINERS = frozenset(" \t-'.,&/_·•*")
# Joiners that may also split a single word: "Du-Pont" is surely Dupont, but "du pont" is a bridge, "le grand" is
# not Legrand and "du bois" is not Dubois. The others are only accepted where the identity has a word boundary.
_WORD_JOINERS = frozenset("-'._·•*")  # "Mar·tin" (inclusive writing's dot), "**Mar**tin" (Markdown)
_MAX_JOIN = 3

_Token = tuple[int, int, str]


class _Tokens(list[_Token]):
    """Tokens, with where each word occurs: a name is looked for only where a token could start it."""

    def __init__(self, tokens: Iterable[_Token]) -> None:
        super().__init__(tokens)
        self.by_word: dict[str, list[int]] = {}
        for index, (_, _, word) in enumerate(self):
            self.by_word.setdefault(word, []).append(index)

    def starts(self, target: str) -> list[int]:
        """Indices of the tokens that are a beginning of `target`, in text order."""
        found = [index for length in range(1, len(target) + 1) for index in self.by_word.get(target[:length], ())]
        return sorted(found)


def _tokenize(folded: str, camel: frozenset[int] = frozenset()) -> _Tokens:
    if not camel:
        return _Tokens((m.start(), m.end(), m.group()) for m in _TOKEN.finditer(folded))
    cuts = sorted(camel)
    tokens = []
    for match in _TOKEN.finditer(folded):
        start = match.start()
        # "AliceMartin", "chezMartin": a capital after a small letter starts a word, with nothing between them.
        for cut in cuts[bisect.bisect_right(cuts, start):bisect.bisect_left(cuts, match.end())]:
            tokens.append((start, cut, folded[start:cut]))
            start = cut
        tokens.append((start, match.end(), folded[start:match.end()]))
    return _Tokens(tokens)


def _words(text: str) -> list[str]:
    return list(_cached_words(text or ""))


@lru_cache(maxsize=4096)
def _normalised_data(text: str) -> str:
    return normalise(text)


@lru_cache(maxsize=4096)
def _cached_words(text: str) -> tuple[str, ...]:
    """The words of a piece of someone's data (the same few strings are looked up for every mail)."""
    return tuple(word for _, _, word in _tokenize(normalise(text)))


def _single_letters(first: _Token, second: _Token) -> bool:
    return len(first[2]) == 1 and len(second[2]) == 1 and first[2].isalpha() and second[2].isalpha()


def _spaced_out(gap: str) -> bool:
    """Between two single letters: "M a r t i n", "M. a. r. t. i. n", "M-a-r-t-i-n", "M*a*r*t*i*n"."""
    # "J. e. a. n. -. P. i. e. r. r. e", "J - e - a - n - - - P": what separates the two words is longer.
    return 0 < len(gap) <= 8 and "\n" not in gap


def _joins(gap: str) -> bool:
    gap = _unhyphenated(gap)
    return len(gap) <= _MAX_JOIN and all(char in _JOINERS for char in gap)


def _unhyphenated(gap: str) -> str:
    """A word cut at the end of a line with a hyphen ("Mar-" / "tin") is one word: the line break goes."""
    return gap.replace("-\n", "-").rstrip(" ") if "-\n" in gap else gap


def _sequences(folded: str, tokens: list[_Token], words: tuple[str, ...]) -> Iterator[tuple[int, int]]:
    """(first, last) token indices of every run of joined tokens whose letters, end to end, spell `words`.

    Comparing the concatenation makes "Jean-Pierre", "jean pierre" and "Jeanpierre", or "Le Goff" and "Legoff", the
    same name, while a match still starts and ends on word boundaries ("Martin" is not found in "Martinez").
    """
    target = "".join(words)
    boundaries = set(itertools.accumulate(len(word) for word in words))
    firsts = tokens.starts(target) if isinstance(tokens, _Tokens) else [
        index for index, (_, _, word) in enumerate(tokens) if target.startswith(word)]
    for first in firsts:
        built, last = tokens[first][2], first
        while built != target:
            if last + 1 >= len(tokens):
                break
            gap = folded[tokens[last][1]:tokens[last + 1][0]]
            spaced = _single_letters(tokens[last], tokens[last + 1]) and _spaced_out(gap)
            if not spaced and (not _joins(gap) or (len(built) not in boundaries and not set(_unhyphenated(gap)) <= _WORD_JOINERS)):
                break
            last += 1
            built += tokens[last][2]
            if not target.startswith(built):
                break
        else:
            yield first, last


def _word_spans(folded: str, tokens: list[_Token], targets: Iterable[tuple[str, tuple[str, ...]]]) -> Iterator[_Span]:
    for what, words in targets:
        for first, last in _sequences(folded, tokens, words):
            yield _Span(tokens[first][0], tokens[last][1], what)


# Particles of compound last names, too common to report alone ("de", "Le" in "Le Goff", "van").
_PARTICLES = frozenset(
    ["de", "du", "des", "la", "le", "les", "l", "d", "van", "von", "der", "den", "ter", "di", "da", "del", "della", "dos", "das", "do", "ben", "bin", "ibn", "el", "al", "mac", "mc", "saint", "sainte", "st", "ste", "y", "e", "et"]
)


_TITLES = ("m", "mr", "mme", "mlle", "monsieur", "madame", "mademoiselle", "dr", "docteur", "me", "maitre")


# German and Nordic letters as they are spelled out without the keyboard for them: "Müller" is "Mueller", "Grønn"
# "Groenn", "Åberg" "Aaberg" — and back: a "Mueller" on the register is the "Müller" of a text.
_SPELLED_OUT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ø": "oe", "Ø": "Oe",
                              "å": "aa", "Å": "Aa"})
_SPELLED_BACK = re.compile(r"(?<=[b-df-hj-np-tv-z])([aou])e", re.IGNORECASE)


def _name_targets(identity: Identity) -> list[tuple[str, tuple[str, ...]]]:
    targets = _name_targets_as_written(identity)
    for first, last in {(identity.first_name.translate(_SPELLED_OUT), identity.last_name.translate(_SPELLED_OUT)),
                        (_spelled_back(identity.first_name), _spelled_back(identity.last_name))}:
        if (first, last) != (identity.first_name, identity.last_name):
            other = replace(identity, first_name=first, last_name=last)
            targets += [target for target in _name_targets_as_written(other) if target not in targets]
    return targets


def _spelled_back(name: str) -> str:
    """"Mueller" as "Müller" (a consonant, then "ue", "oe" or "ae"), for names of five letters or more."""
    if len(name) < 5 or name.translate(_SPELLED_OUT) != name:
        return name
    return _SPELLED_BACK.sub(lambda match: {"a": "ä", "o": "ö", "u": "ü"}[match.group(1).lower()], name)


def _name_targets_as_written(identity: Identity) -> list[tuple[str, tuple[str, ...]]]:
    targets: list[tuple[str, tuple[str, ...]]] = []
    first = tuple(_words(identity.first_name))
    if len("".join(first)) >= 3:
        # A compound first name is looked for whole: its parts alone ("Jean", "Marie", "Pierre") would match half the
        # club, and people are called by the whole of it.
        targets.append((FIRST_NAME, first))
    last = tuple(_words(identity.last_name))
    if len("".join(last)) >= 3:
        targets.append((LAST_NAME, last))
    if len(last) > 1:
        # People do go by one half of a compound last name ("Dupont" for "Dupont-Moretti").
        targets += [(LAST_NAME, (part,)) for part in last
                    if len(part) >= 3 and part.isalpha() and part not in _PARTICLES]
    if first and last and (len("".join(first)) < 3 or len("".join(last)) < 3):
        # A short name alone would match everywhere ("Li", "Wu", "Ng"), but the whole name, in either order, or the
        # last name after a title ("Mme Wu", "M. Ng") is the person.
        targets += [(LAST_NAME, first + last), (LAST_NAME, last + first)]
    if len("".join(last)) < 3 and last:
        targets += [(LAST_NAME, (title,) + last) for title in _TITLES]
    if first and last:
        # Glued into one word, in either order: "alicemartin", "MARTINALICE" (a capital in the middle, as in
        # "AliceMartin", already cuts the word in two).
        targets += [(LAST_NAME, ("".join(first) + "".join(last),)), (LAST_NAME, ("".join(last) + "".join(first),))]
    return targets


# Digits and signs written for the letters they look like: "Mart1n", "H3l3ne", "M@rtin", "Mart!n", "Z4N3TT1",
# "A4444". A run of them is read as letters when it touches a letter, whatever its length; a run with no letter
# beside it ("75011", "06 12 34 56 78", "10/12") is a number and stays one, and so is a number with its unit or
# ordinal ("20e", "70m", "1er", "15h": not "Zoé", "Tom"). Two tables, for the signs that stand for two letters;
# each read twice: every run, then only the runs inside a word, for what sits at a word's edge may be its own
# ("M4rtin75", "Al1ce!", "2M4rtin"). Same length, so the spans found in a reading stand for the text as written.
_LEET_TABLES = (
    {"0": "o", "1": "i", "2": "z", "3": "e", "4": "a", "5": "s", "6": "g", "7": "t", "8": "b", "9": "g",
     "@": "a", "$": "s", "€": "e", "!": "i", "¡": "i", "|": "l", "+": "t"},
    {"0": "o", "1": "l", "2": "z", "3": "e", "4": "a", "5": "s", "6": "b", "7": "t", "8": "b", "9": "g",
     "@": "a", "$": "s", "€": "e", "!": "l", "¡": "i", "|": "i", "+": "t"},
)
_LEET_SIGNS = "0-9@$€!¡|+"
_LEET_RUN = re.compile(rf"(?<=[^\W\d_])[{_LEET_SIGNS}]+|[{_LEET_SIGNS}]+(?=[^\W\d_])")
# After a number, the letters that make it a quantity or a rank, not a word: "20e", "1er", "70m", "15h", "3kg".
_UNIT_AFTER = re.compile(r"(?:e|er|ere|re|eme|nd|nde|d|h|min|mn|s|m|km|cm|mm|g|kg|mg|t|l|cl|ml|a|an|ans|j|k|ko|mo|"
                         r"go|ht|ttc|x|v|w|kw|kwh)(?![^\W_])|h(?=\d)")  # the unit ends the word ("4l1c3" is no 4 litres); "10h30"


def _leet_readings(folded: str) -> Iterator[str]:
    """The text read with the runs of digits and signs touching a letter as the letters they stand for (nothing
    when there is no such run)."""
    if not _LEET_RUN.search(folded):
        return
    for table in _LEET_TABLES:
        for inside_only in (False, True):

            def letters(match: re.Match[str], table: dict[str, str] = table, inside_only: bool = inside_only) -> str:
                run, start, end = match.group(), match.start(), match.end()
                before = start > 0 and folded[start - 1].isalpha()
                after = end < len(folded) and folded[end].isalpha()
                if inside_only and not (before and after):
                    return run
                if not before and run[0].isdigit() and _UNIT_AFTER.match(folded, end):
                    return run  # a quantity or a rank
                return "".join(table[sign] for sign in run)
            yield _LEET_RUN.sub(letters, folded)


# Handles, hashtags, web addresses and mailbox names glue words together: "@martinphoto", "#teamalice",
# "instagram.com/lesgateauxdalice", "plomberiezanettiparis.fr", "martin.photo75@gmail.com". Inside one, the
# requester's name or company is looked for anywhere, not only as a whole word: such an identifier points at one
# person. (Names under five letters would be found inside too many other words: "anne" in "annecy".)
_WEB_IDENTIFIER = re.compile(
    r"(?:https?://|www\.)[^\s<>\"']+"
    r"|(?<![\w@])[@#][\w.-]{3,}"
    r"|[\w-]+(?:\.[\w-]+)*\.(?:fr|com|net|org|eu|io|be|ch|info|biz|shop|paris|bzh|co|me|art|pro)\b(?:/[^\s<>\"']*)?"
    r"|[\w.+-]{3,}(?=@)"
)
_WEB_MIN_LETTERS = 5


def _web_identifier_spans(folded: str, identity: Identity) -> Iterator[_Span]:
    wanted: list[tuple[str, str]] = []
    for what, words in _name_targets(identity):
        joined = "".join(words)
        if len(joined) >= _WEB_MIN_LETTERS and joined.isalpha():
            wanted.append((what, joined))
    core = _company_core(identity.company)
    names = set(_words(identity.first_name)) | set(_words(identity.last_name))
    company_words = ["".join(core)] if len(core) > 1 else []
    company_words += [word for word in core if word.isalpha() and word not in _COMMON_WORDS and word not in names]
    wanted += [(COMPANY, word) for word in dict.fromkeys(company_words) if len(word) >= _WEB_MIN_LETTERS]
    if not wanted:
        return
    for match in _WEB_IDENTIFIER.finditer(folded):
        letters = re.sub(r"[^a-z]", "", match.group())
        for what, word in wanted:
            if word in letters:
                yield _Span(match.start(), match.end(), what)
                break


# Legal forms, left out of the company name: "Boulangerie Martin SARL" is written "la boulangerie Martin".
_LEGAL_FORMS = frozenset(
    ["sarl", "sas", "sasu", "eurl", "sa", "sci", "ei", "eirl", "snc", "scop", "scp", "scm", "selarl", "selas", "selafa", "sca", "scs", "gie", "gaec", "earl", "sem", "spl", "sprl", "srl", "ltd", "llc", "inc", "gmbh", "cie", "ets", "etablissements"]
)
_ARTICLES = frozenset(["le", "la", "les", "l"])

# Words that do not point at one company: trades, places, common French words. Used for a company's single words and
# for the local part of an e-mail address; names are never checked against it (see the policy at the top).
_COMMON_WORDS = frozenset(["avec", "dans", "pour", "sans", "sous", "chez", "vers", "entre", "depuis", "pendant", "avant", "apres", "selon", "contre", "parmi", "tout", "tous", "toute", "toutes", "autre", "autres", "meme", "memes", "bien", "tres", "plus", "moins", "aussi", "encore", "leur", "leurs", "notre", "votre", "nous", "vous", "elle", "elles", "cette", "ceux", "celle", "celles", "ceci", "cela", "quel", "quelle", "comme", "mais", "donc", "ainsi", "alors", "etre", "avoir", "faire", "fait", "faits", "main", "mains", "boulangerie", "boulanger", "patisserie", "patissier", "boucherie", "boucher", "charcuterie", "traiteur", "epicerie", "fromagerie", "poissonnerie", "primeur", "primeurs", "cave", "caviste", "vins", "bars", "cafe", "cafes", "brasserie", "bistrot", "restaurant", "restauration", "hotel", "hotellerie", "auberge", "gite", "gites", "camping", "pizzeria", "creperie", "salon", "coiffure", "coiffeur", "coiffeuse", "barbier", "esthetique", "beaute", "institut", "onglerie", "fleuriste", "fleurs", "jardinerie", "pepiniere", "paysagiste", "paysage", "paysages", "jardin", "jardins", "garage", "carrosserie", "auto", "autos", "automobile", "automobiles", "moto", "motos", "taxi", "taxis", "ambulance", "ambulances", "transport", "transports", "demenagement", "demenagements", "logistique", "plomberie", "plombier", "chauffage", "chauffagiste", "electricite", "electricien", "menuiserie", "menuisier", "charpente", "charpentier", "maconnerie", "macon", "couverture", "couvreur", "peinture", "peintre", "platrerie", "carrelage", "carreleur", "renovation", "renovations", "construction", "constructions", "batiment", "batiments", "travaux", "habitat", "immobilier", "immobiliere", "agence", "agences", "cabinet", "conseil", "conseils", "consulting", "consultant", "consultants", "expertise", "expert", "experts", "comptable", "comptables", "comptabilite", "audit", "avocat", "avocats", "notaire", "notaires", "architecte", "architectes", "architecture", "design", "graphisme", "studio", "studios", "atelier", "ateliers", "creation", "creations", "communication", "marketing", "digital", "numerique", "informatique", "services", "service", "solutions", "solution", "systemes", "systeme", "technologies", "technologie", "tech", "group", "groupe", "holding", "societe", "entreprise", "entreprises", "compagnie", "maison", "maisons", "bureau", "bureaux", "etudes", "etude", "formation", "formations", "ecole", "academie", "centre", "center", "pharmacie", "optique", "opticien", "librairie", "papeterie", "imprimerie", "presse", "bijouterie", "horlogerie", "cordonnerie", "pressing", "laverie", "nettoyage", "proprete", "securite", "sante", "medical", "medicale", "dentaire", "kine", "osteopathe", "infirmier", "infirmiere", "veterinaire", "clinique", "sport", "sports", "fitness", "yoga", "danse", "musique", "photo", "photos", "photographie", "video", "production", "productions", "edition", "editions", "events", "event", "evenement", "evenements", "location", "locations", "distribution", "import", "export", "commerce", "negoce", "industrie", "industries", "mecanique", "metal", "metallerie", "serrurerie", "vitrerie", "miroiterie", "ebenisterie", "tapisserie", "decoration", "deco", "interieur", "interieurs", "mode", "textile", "couture", "boutique", "magasin", "shop", "store", "market", "marche", "ferme", "bio", "nature", "naturel", "naturelle", "energie", "energies", "solaire", "environnement", "recyclage", "reseau", "reseaux", "telecom", "conciergerie", "assurance", "assurances", "courtage", "finance", "finances", "patrimoine", "gestion", "management", "ressources", "humaines", "recrutement", "interim", "emploi", "traduction", "traductions", "association", "club", "aide", "aides", "france", "paris", "lyon", "marseille", "nord", "ouest", "grand", "grande", "grands", "petit", "petite", "petits", "nouveau", "nouvelle", "nouveaux", "vieux", "vieille", "beau", "belle", "bonne", "bons", "premier", "premiere", "saint", "sainte", "haut", "haute", "basse", "vert", "verte", "bleu", "bleue", "rouge", "blanc", "blanche", "noir", "noire", "gris", "rose", "jaune", "lumiere", "soleil", "terre", "pierre", "bois", "eaux", "foret", "mont", "montagne", "vallee", "riviere", "mer", "plage", "port", "ville", "village", "pays", "region", "avenir", "horizon", "horizons", "idee", "idees", "projet", "projets", "passion", "plaisir", "saveur", "saveurs", "delice", "delices", "gourmand", "gourmande", "gourmandises", "tradition", "traditions", "artisan", "artisans", "artisanal", "artisanale", "qualite", "express", "rapide", "pros", "amis", "famille", "freres", "soeurs", "fils", "fille", "filles", "enfants", "associes", "associe", "partenaires", "partners", "compagnons", "gens", "maitre", "maitres", "ouvriers", "ouvrier", "home", "house", "world", "international", "europe", "francaise", "francais", "national", "nationale", "regional", "regionale", "local", "locale",
    # places, numbers, animals and things shop names are made of ("Hôtel de la Poste", "Aux Trois Épis")
    "poste", "gare", "coin", "eglise", "mairie", "pont", "moulin", "chateau", "lac", "parc", "halle", "halles", "quai", "quartier", "fontaine", "tour", "tours", "croix", "chene", "chenes", "pins", "roses", "lilas", "tilleuls", "platanes", "marronniers", "un", "deux", "trois", "quatre", "cinq", "sept", "huit", "neuf", "cent", "mille", "epis", "saisons", "vents", "etoile", "etoiles", "lune", "ciel", "sud", "rond", "carre", "jeune", "doux", "douce", "frais", "fraiche", "gourmet", "gourmets", "ange", "anges", "roi", "reine", "prince", "princesse", "lion", "coq", "chat", "chien", "cheval", "ours", "loup", "renard", "lapin", "poule", "abeille", "abeilles", "papillon", "oiseau", "oiseaux", "table", "tables", "four", "fournil", "pain", "pains", "vin", "cafe", "the", "epi", "ble", "moisson", "verger", "vignes", "vigne", "source", "sources", "rivage", "ile", "iles", "cote", "cotes", "colline", "collines", "campagne", "bourg", "hameau", "village", "marches", "comptoir", "relais", "escale", "etape", "palais", "galerie", "cabane", "chalet", "grenier", "cellier", "cuisine", "cuisines", "fourchette", "assiette", "marmite", "chaudron", "canard", "cochon", "boeuf", "agneau", "mouton"])


def _company_core(company: str) -> list[str]:
    words = _words((company or "").replace("&", " et "))
    # "SARL Boulangerie Martin", "Martin et Cie", "Ets Martin": the legal form is not how people name a company.
    while words and (words[-1] in _LEGAL_FORMS or words[-1] in {"et", "and"}):
        words.pop()
    while words and (words[0] in _LEGAL_FORMS or words[0] in _ARTICLES):
        words.pop(0)
    return words


def _company_spans(text: str, norm: _Normalised, tokens: list[_Token], identity: Identity) -> Iterator[_Span]:
    folded = norm.text
    core = _company_core(identity.company)
    target = "".join(core)
    if len(target) < 3 or (len(core) == 1 and target in _COMMON_WORDS):
        return  # "Boulangerie SARL" names a trade, not a company
    # "Martin & Fils" is written "Martin et Fils" as often as "Martin & Fils" (where "&" is no word).
    spellings = {tuple(core), tuple(word for word in core if word not in {"et", "and"})}
    for words in spellings:
        for first, last in _sequences(folded, tokens, words):
            first, last = _with_legal_form(text, norm, tokens, first, last)
            yield _Span(tokens[first][0], tokens[last][1], COMPANY)
    if len(core) > 1:
        # "Plomberie Zanetti" is also "Zanetti"; "boulangerie" alone is any bakery, and a word that is the
        # requester's name is already reported as such.
        names = set(_words(identity.first_name)) | set(_words(identity.last_name))
        for word in dict.fromkeys(core):
            if len(word) >= 4 and word.isalpha() and word not in _COMMON_WORDS and word not in names:
                yield from _word_spans(folded, tokens, [(COMPANY, (word,))])


def _with_legal_form(text: str, norm: _Normalised, tokens: list[_Token], first: int, last: int) -> tuple[int, int]:
    """Widen a company match over a legal form written beside it, so that `scrub` does not leave "[effacé] SARL"."""
    folded = norm.text

    def is_form(index: int) -> bool:
        start, end, word = tokens[index]
        # "SA" is a legal form; "sa" in lower case is mostly "her" ("la boulangerie Martin sa voisine").
        return word in _LEGAL_FORMS and (word != "sa" or _original(text, norm, start, end).isupper())

    while last + 1 < len(tokens) and _joins(folded[tokens[last][1]:tokens[last + 1][0]]):
        if is_form(last + 1):
            last += 1
        elif (tokens[last + 1][2] in {"et", "and"} and last + 2 < len(tokens) and tokens[last + 2][2] == "cie"
              and _joins(folded[tokens[last + 1][1]:tokens[last + 2][0]])):
            last += 2
        else:
            break
    while first > 0 and _joins(folded[tokens[first - 1][1]:tokens[first][0]]) and is_form(first - 1):
        first -= 1
    return first, last


# Street types and their abbreviations, any of which may be written for the others.
_STREET_SYNONYMS: tuple[tuple[str, ...], ...] = (
    ("rue", "r"), ("avenue", "av", "ave"), ("boulevard", "bd", "bld", "blvd", "boul"), ("place", "pl"),
    ("chemin", "ch", "chem"), ("impasse", "imp"), ("allee", "all"), ("route", "rte"), ("square", "sq"),
    ("faubourg", "fbg", "fg", "faub"), ("residence", "res", "resid"), ("lotissement", "lot", "lotiss"),
    ("saint", "st"), ("sainte", "ste"), ("bis", "b"), ("ter", "t"), ("quater", "q"),
    # the ranks and titles streets are named after, as signs and letters abbreviate them
    ("docteur", "dr"), ("general", "gal", "gl", "gen"), ("marechal", "mal", "mar", "marl"), ("president", "pdt", "pres"),
    ("professeur", "pr", "prof"), ("commandant", "cdt", "cmdt"), ("capitaine", "cne", "capt"), ("colonel", "col"),
    ("lieutenant", "lt"), ("monseigneur", "mgr"), ("abbe", "abb"), ("passage", "pass"), ("cours", "crs"),
    ("hameau", "ham"), ("chaussee", "chee", "chse"), ("domaine", "dom"), ("quartier", "qrt"),
)
_SYNONYMS = {form: group for group in _STREET_SYNONYMS for form in group}
_STREET_WORDS = frozenset(
    ["rue", "avenue", "av", "ave", "boulevard", "bd", "bld", "blvd", "boul", "place", "pl", "chemin", "ch", "chem", "impasse", "imp", "allee", "all", "quai", "quais", "route", "rte", "cours", "square", "sq", "passage", "voie", "sentier", "sente", "faubourg", "fbg", "fg", "faub", "chaussee", "promenade", "esplanade", "parvis", "montee", "traverse", "ruelle", "venelle", "villa", "cite", "hameau", "lieu", "lieudit", "residence", "res", "resid", "lotissement", "lotiss", "domaine", "clos", "carrefour", "rocade", "rond", "za", "zi", "zac", "zone", "bp", "cs", "tsa", "ham", "chee", "chse", "dom", "crs", "pass", "qrt", "quartier", "ferme", "mas", "moulin", "bastide", "manoir", "chateau", "grange", "bergerie", "metairie", "borde", "closerie", "lieudit"]
)
_NUMBER_SUFFIXES = frozenset(["bis", "ter", "quater", "b", "t", "q", "a", "c", "d"])
_STREET_LINKS = frozenset(["de", "du", "des", "la", "le", "les", "l", "d", "au", "aux"])
_MAX_VARIANTS = 256


def _address_parts(address: str) -> list[list[str]]:
    parts = [_words(part) for part in re.split(r"[\n,;]", address or "")]
    merged: list[list[str]] = []
    for words in parts:
        if not words:
            continue
        # "12, rue des Lilas": the number and the street were cut apart by the comma.
        if merged and merged[-1] and all(w.isdigit() or w in _NUMBER_SUFFIXES for w in merged[-1]) \
                and merged[-1][0].isdigit():
            merged[-1] = merged[-1] + words
        else:
            merged.append(words)
    return merged


def _street_targets(identity: Identity) -> set[tuple[str, ...]]:
    targets: set[tuple[str, ...]] = set()
    for words in _address_parts(identity.postal_address):
        # "12 rue des Lilas 75011 Paris" on one line: the street stops at the postal code; the city is not identifying.
        for index, word in enumerate(words):
            if word.isdigit() and len(word) == 5:
                words = words[:index]
                break
        number = 0
        while number < len(words) and words[number].isdigit():
            number += 1
        if number and number < len(words) - 1 and words[number] in _NUMBER_SUFFIXES:
            number += 1
        rest = words[number:]
        if not any(word.isalpha() for word in rest):
            continue
        kind = next((index for index, word in enumerate(rest) if word in _STREET_WORDS), None)
        if not number and kind is None:
            continue  # "Bâtiment B", "France", "CEDEX": not a street
        targets |= _variants(words)
        # Without its number the street still narrows things down a lot ("rue des Lilas"), if it has a name besides
        # its kind ("rue de la Chaussée" has one, "Grand-Rue" has one, "rue" alone has none).
        named = "".join(w for i, w in enumerate(rest) if i != kind and w not in _STREET_LINKS)
        if number and kind is not None and len(named) >= 3:
            targets |= _variants(rest)
    return targets


def _variants(words: list[str]) -> set[tuple[str, ...]]:
    choices: list[tuple[str, ...]] = [_SYNONYMS.get(word, (word,)) for word in words]
    for index, word in enumerate(words[:-1]):
        # A first name before the name a street is given ("rue Jean Jaurès", "avenue Victor Hugo") is often written
        # as its initial, or left out: "rue J. Jaurès", "rue Jaurès".
        following = words[index + 1]
        if (len(word) >= 3 and word.isalpha() and word not in _SYNONYMS and word not in _STREET_WORDS
                and word not in _STREET_LINKS and index > 0 and words[index - 1] in _STREET_WORDS
                and following.isalpha() and len(following) >= 3 and following not in _STREET_LINKS):
            choices[index] = (word, word[0], "")
    count = 1
    for choice in choices:
        count *= len(choice)
    if count > _MAX_VARIANTS:
        return {tuple(words)}
    return {tuple(word for word in variant if word) for variant in itertools.product(*choices)}


# --- E-mail addresses ----------------------------------------------------------------------------------------------

# "@" and "." as people hide them from robots: "alice (at) exemple.fr", "alice[at]exemple point fr",
# "alice arobase exemple.fr", "alice @ exemple.fr". A bare " at " is English and rare in French prose.
_OPEN, _CLOSE = r"[(\[{<]", r"[)\]}>]"
_AT = rf"(?: ?@ ?| ?{_OPEN} ?(?:at|arobase|arobas|@) ?{_CLOSE} ?| (?:at|arobase|arobas) )"
_DOT = rf"(?:\.| ?{_OPEN} ?(?:dot|point|pt|\.) ?{_CLOSE} ?| (?:dot|point) )"
_LABEL = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
_EMAIL = re.compile(
    rf"(?<![a-z0-9._%+-])(?P<local>[a-z0-9](?:[a-z0-9._%+-]*[a-z0-9_%+-])?){_AT}"
    rf"(?P<domain>{_LABEL}(?:{_DOT}{_LABEL})*{_DOT}[a-z]{{2,12}})(?![a-z0-9-])"
)
_DOT_FORM = re.compile(_DOT)

# Shared mailboxes say nothing about who writes from them; neither do the big providers' domains.
_GENERIC_LOCAL_PARTS = frozenset(
    ["contact", "contacts", "info", "infos", "information", "informations", "bonjour", "hello", "admin", "administration", "accueil", "secretariat", "direction", "compta", "comptabilite", "commercial", "commerciale", "commande", "commandes", "vente", "ventes", "sales", "support", "service", "gerant", "gerance", "office", "mail", "courrier", "noreply", "no-reply", "postmaster", "webmaster", "recrutement", "devis", "facturation", "factures", "boutique", "magasin", "atelier", "cabinet", "agence"]
)
_MAIL_PROVIDERS = frozenset(
    ["gmail", "googlemail", "yahoo", "ymail", "hotmail", "outlook", "live", "msn", "orange", "wanadoo", "free", "sfr", "neuf", "laposte", "aol", "icloud", "me", "mac", "protonmail", "proton", "pm", "gmx", "bbox", "numericable", "club-internet", "aliceadsl", "tutanota", "yandex", "mail", "zoho", "cegetel", "noos", "9online", "caramail", "voila", "libertysurf", "tiscali", "posteo", "fastmail"]
)


def _email_spans(folded: str, identity: Identity) -> Iterator[_Span]:
    own = _normalised_data(identity.email or "").strip()
    for match in _EMAIL.finditer(folded):
        address = match["local"] + "@" + _DOT_FORM.sub(".", match["domain"]).replace(" ", "")
        yield _Span(match.start(), match.end(), EMAIL if own and address == own else ANY_EMAIL, address=True)
    local, at, domain = own.rpartition("@")
    if not at:
        return
    # "écrire à alice.martin" gives the address away as surely as the address itself.
    if len(local) >= 5 and local not in _GENERIC_LOCAL_PARTS and re.sub(r"[._-]", "", local) not in _COMMON_WORDS:
        pattern = rf"(?<![a-z0-9._%+-]){re.escape(local)}(?![a-z0-9_%+-]|\.[a-z0-9])"
        yield from (_Span(m.start(), m.end(), EMAIL) for m in re.finditer(pattern, folded))
    # A short address at a big provider named without its ending: "am75 sur gmail", "am75@gmail", "am75 (gmail)".
    labels = domain.split(".")
    if len(local) >= 2 and labels and labels[0]:
        pattern = (rf"(?<![a-z0-9._%+-]){re.escape(local)}\s*(?:@|\(|\[|\s(?:sur|chez|at|arobase|arobas|a|de)\s)\s*"
                   rf"{re.escape(labels[0])}(?![a-z0-9-])")
        yield from (_Span(m.start(), m.end(), EMAIL) for m in re.finditer(pattern, folded))
    # A company's own domain is its website: "boulangerie-martin.fr" names it.
    if len(labels) >= 2 and labels[-2] not in _MAIL_PROVIDERS:
        pattern = rf"(?<![a-z0-9-]){re.escape(domain)}(?![a-z0-9-]|\.[a-z0-9])"
        yield from (_Span(m.start(), m.end(), EMAIL_DOMAIN) for m in re.finditer(pattern, folded))
    yield from _own_address_spelled_out(folded, local, domain)


_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def _own_address_spelled_out(folded: str, local: str, domain: str) -> Iterator[_Span]:
    """The requester's own address however it is cut up: "a l i c e . m a r t i n @ exemple . f r",
    "alice_martin chez exemple point fr". Compared on letters and digits only, where it cannot be mistaken for
    anything else: the whole address, with at most a word for "@" and one for each dot."""
    keys = [re.sub(r"[^a-z0-9]", "", part) for part in [local, *domain.split(".")]]
    if len(keys[0]) < 2 or not all(keys):
        return
    at, dot = "(?:at|arobase|arobas|chez|a)?", "(?:dot|point|pt)?"
    # The local part's own dots, dashes and underscores may be spelled out too: "jp point dupuis arobase gmail…".
    pieces = [re.escape(piece) for piece in re.split(r"[._-]+", local) if re.sub(r"[^a-z0-9]", "", piece)]
    local_pattern = "(?:dot|point|pt|tiret|underscore)?".join(pieces) if pieces else re.escape(keys[0])
    pattern = re.compile(local_pattern + at + dot.join(re.escape(key) for key in keys[1:]))
    if not pattern.search(_NOT_ALNUM.sub("", folded)):
        return  # the usual case, found without building the index below
    positions = [index for index, char in enumerate(folded) if char.isascii() and char.isalnum()]
    compact = "".join(folded[index] for index in positions)
    for match in pattern.finditer(compact):
        yield _Span(positions[match.start()], positions[match.end() - 1] + 1, EMAIL, address=True)


# --- Phone numbers -------------------------------------------------------------------------------------------------

# Between digits: nothing, a space, or a dot/dash/slash with optional spaces ("06 12", "06.12", "06 - 12", "06/12").
_SEP = r"(?: ?[./-] ?| )?"
# French: ten digits starting 0[1-9], "(0)6…" written after a dropped +33, "(01) 23…".
_NATIONAL = re.compile(rf"(?<![\d+])(?:\(0[1-9]\) ?|(?:0|\(0\) ?){_SEP}[1-9])(?:{_SEP}\d){{8}}(?!\d)")
# International: "+" or "00", then 8 to 15 digits (E.164), possibly with "(0)": "+33 (0)6 12 34 56 78".
_INTERNATIONAL = re.compile(rf"(?:(?<![\w+])\+ ?|(?<![\w+])00 ?)[1-9](?:{_SEP}\d|{_SEP}\(0\) ?\d){{7,14}}(?!\d)")
# Shapes that are dates, not phones, if a run of digits happens to add up to ten: "01.12.2026 14h30".
_DATE_INSIDE = re.compile(r"\d{1,2}[ ./-]\d{1,2}[ ./-](?:19|20)\d\d|(?:19|20)\d\d[./-]\d{1,2}[./-]\d{1,2}")
# "+10 000 000 €" is a sum, and "123 456 789 €" too.
_AMOUNT_AFTER = re.compile(r" ?(?:€|eur\b|euros?\b|k€|m€|%|\$|dollars?\b)")


def _phone_key(number: str) -> str:
    """The number as one string of digits: "0612345678" for a French number however written, "+<digits>" otherwise."""
    number = number.strip()
    international = number.startswith("+") or re.match(r"00 ?[1-9]", number) is not None
    digits = re.sub(r"\D", "", number.replace("(0)", "") if international else number)
    if not international:
        return digits
    if number.startswith("00"):
        digits = digits[2:]
    if digits.startswith("33"):
        national = digits[2:]
        if len(national) == 10 and national.startswith("0"):
            national = national[1:]  # "+33 06 12…", a common slip
        return "0" + national
    return "+" + digits


# One number is written with one kind of separator ("06 12 34 56 78", "06.12.34.56.78", "06-12-…", maybe some pairs
# glued): digits that change separators on the way are a list of dates or times ("04/05 11/05 18/05", "08 30-12 00
# 14 00", as folded), not a phone.
_PHONE_SEPARATOR = re.compile(r" ?([./-]) ?| ")


def _one_separator(number: str) -> bool:
    return len({match.group(1) or " " for match in _PHONE_SEPARATOR.finditer(number.split(")")[-1])}) <= 1


def _phone_candidates(folded: str) -> Iterator[re.Match[str]]:
    for pattern in (_NATIONAL, _INTERNATIONAL):
        for match in pattern.finditer(folded):
            number = match.group()
            if _DATE_INSIDE.search(number) or _AMOUNT_AFTER.match(folded, match.end()):
                continue
            # (After "+", a country's own habits mix them: "+1 555-123-4567". After "00", times do: "00 14 00-18 00".)
            if not number.startswith("+") and not _one_separator(number):
                continue
            yield match


def _own_phone_key(phone: str) -> str:
    for match in _phone_candidates(_normalised_data(phone or "")):
        return _phone_key(match.group())
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) == 9 and not digits.startswith("0"):
        return "0" + digits  # stored without its leading 0
    return digits if len(digits) >= 8 else ""


def _phone_spans(folded: str, identity: Identity) -> Iterator[_Span]:
    own = _own_phone_key(identity.phone)
    for match in _phone_candidates(folded):
        yield _Span(match.start(), match.end(), PHONE if own and _phone_key(match.group()) == own else ANY_PHONE)
    if len(own) == 10 and own.startswith("0"):
        # The requester's own number in spellings no general rule dares accept: "6 12 34 56 78" with its 0 lost,
        # separators mixed or of any kind ("06 12.34 56-78", "06⋅12⋅34", "06'12'34", "06 12 (34) 56 78"). Its ten
        # digits in their order are the person, whatever stands between them on one line.
        any_separator = r"[^\w\n+]{0,3}"
        digits = any_separator.join(own[1:])
        prefix = rf"(?:(?:\+ ?|00 ?)33 ?(?:\(0\) ?)?|0{any_separator}|\(0\) ?)?"
        for match in re.finditer(rf"(?<![\d+]){prefix}{digits}(?!\d)", folded):
            yield _Span(match.start(), match.end(), PHONE)


# Letters that stand for digits in a phone number, typed in a hurry or to disguise it: "O6 l2 34 56 78" (capital O,
# small L, capital I, dotless ı). Once folded, their look-alikes are these letters too: Cyrillic "О" "І" "ӏ", Greek
# "Ο" "Ι", fullwidth "Ｏ" "ｌ". Read as digits only inside a phone-shaped run — groups of digits and such letters,
# separated as a number is, no letter touching it — with at least 6 real digits and no more than 4 letters, so that
# words next to numbers ("il 12", "lot 34", "l 121-1") are never read as digits; the phone patterns then decide.
_DIGIT_LOOKALIKES = {"o": "0", "l": "1", "i": "1"}
_LOOKALIKE_SEPARATOR = r"[ _,.;:/\\*~·•=()-]{1,6}"
_LOOKALIKE_RUN = re.compile(rf"(?<![^\W\d_])\(?[\doli]+(?:{_LOOKALIKE_SEPARATOR}[\doli]+)*(?![^\W\d_])")
_LOOKALIKE_HINT = re.compile(r"[oli][ ._/-]?\d|\d[ ._/-]?[oli]")  # a quick look before the runs are read
_MIN_REAL_DIGITS = 6
_MAX_LOOKALIKES = 4
# A vertical bar for a 1 ("06 |2 34 56 78") is read before folding, where the bar is still there (between digits it
# is a separator, see _DIGIT_GAP): one touching a digit on one side and a space on the other is a digit.
_BAR_DIGIT = re.compile(r"(?:(?<=\s)|^)[|\uff5c](?=\d)|(?<=\d)[|\uff5c](?=\s|$)")


def _digits_read(text: str, norm: _Normalised) -> str | None:
    """`text` with the letters that stand for digits in a phone-shaped run replaced by those digits (one character
    for one, so positions hold), or None when there is none (the usual case: one quick search)."""
    barred = _BAR_DIGIT.sub("1", text) if "|" in text or "\uff5c" in text else text
    if barred != text:
        norm = _normalised(barred)
    folded = norm.text
    chars: list[str] | None = None
    for match in _LOOKALIKE_RUN.finditer(folded) if _LOOKALIKE_HINT.search(folded) else ():
        run = match.group()
        letters = [match.start() + at for at, char in enumerate(run) if char in _DIGIT_LOOKALIKES]
        if not letters or len(letters) > _MAX_LOOKALIKES or sum(char.isdigit() for char in run) < _MIN_REAL_DIGITS:
            continue
        for position in letters:
            source = norm.origin[position]
            if _CHARS[barred[source]] == folded[position]:  # one character became this letter: it is the digit
                if chars is None:
                    chars = list(barred)
                chars[source] = _DIGIT_LOOKALIKES[folded[position]]
    if chars is not None:
        return "".join(chars)
    return barred if barred != text else None


# The requester's own number written in French words, whole or mixed with digits: "zéro six douze trente-quatre
# cinquante-six soixante-dix-huit", "06 douze 34 56 78", "six un deux trois…".
_NUMBER_UNITS = {"zero": 0, "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7,
                 "huit": 8, "neuf": 9}
_NUMBER_TEENS = {"dix": 10, "onze": 11, "douze": 12, "treize": 13, "quatorze": 14, "quinze": 15, "seize": 16}
_NUMBER_TENS = {"vingt": 20, "trente": 30, "quarante": 40, "cinquante": 50, "soixante": 60, "septante": 70,
                "huitante": 80, "octante": 80, "nonante": 90}
_NUMBER_TOKEN = re.compile(r"[a-z]+|\d+")
_NUMBER_GAP = re.compile(r"[\s,.;:/_()-]{0,4}")


def _words_as_digits(folded: str) -> Iterator[list[tuple[int, int, str, bool]]]:
    """Each run of number words and digits in `folded`: its pieces (start, end, digits, written in words)."""
    tokens = [(m.start(), m.end(), m.group()) for m in _NUMBER_TOKEN.finditer(folded)]
    index, run_end = 0, -1
    run: list[tuple[int, int, str, bool]] = []

    def word(at: int) -> str:
        return tokens[at][2] if at < len(tokens) and _NUMBER_GAP.fullmatch(folded[tokens[at - 1][1]:tokens[at][0]]) \
            else ""

    while index <= len(tokens):
        value, used = None, 1
        text = tokens[index][2] if index < len(tokens) else ""
        if text.isdigit():
            value = text
        elif text in _NUMBER_TENS or (text == "quatre" and word(index + 1) in ("vingt", "vingts")):
            base = _NUMBER_TENS.get(text, 80)
            used = 1 if text in _NUMBER_TENS else 2
            following = word(index + used)
            if following == "et":
                used += 1
                following = word(index + used)
            if base in (60, 80) and following == "dix" and word(index + used + 1) in ("sept", "huit", "neuf"):
                base += 10 + _NUMBER_UNITS[word(index + used + 1)]
                used += 2
            elif base in (60, 80) and following in _NUMBER_TEENS:
                base += _NUMBER_TEENS[following]
                used += 1
            elif following in _NUMBER_UNITS and following != "zero":
                base += _NUMBER_UNITS[following]
                used += 1
            value = str(base)
        elif text == "dix" and word(index + 1) in ("sept", "huit", "neuf"):
            value, used = str(10 + _NUMBER_UNITS[word(index + 1)]), 2
        elif text in _NUMBER_TEENS:
            value = str(_NUMBER_TEENS[text])
        elif text in _NUMBER_UNITS:
            value = str(_NUMBER_UNITS[text])
        joined = index < len(tokens) and run_end >= 0 and _NUMBER_GAP.fullmatch(folded[run_end:tokens[index][0]])
        if value is None or not joined:
            if run:
                yield run
            run = []
        if value is not None:
            run_end = tokens[index + used - 1][1]
            run.append((tokens[index][0], run_end, value, not text.isdigit()))
        index += used


def _phone_words_spans(folded: str, identity: Identity) -> Iterator[_Span]:
    own = _own_phone_key(identity.phone)
    if len(own) < 8:
        return
    key = own[1:] if len(own) == 10 and own.startswith("0") else own.lstrip("+")
    for run in _words_as_digits(folded):
        digits = "".join(piece[2] for piece in run)
        at = digits.find(key)
        while at >= 0:
            if at > 0 and digits[at - 1] == "0":
                at -= 1  # the leading 0 of a French number belongs to it
            # The pieces that hold digits at..at+len: from the one where `at` falls to the one holding the last digit.
            bounds = list(itertools.accumulate(len(piece[2]) for piece in run))
            first = next(i for i, bound in enumerate(bounds) if bound > at)
            last = next(i for i, bound in enumerate(bounds) if bound >= digits.find(key, at) + len(key))
            if any(piece[3] for piece in run[first:last + 1]):
                yield _Span(run[first][0], run[last][1], PHONE)
            at = digits.find(key, digits.find(key, at) + 1)


# --- Company numbers and bank accounts -----------------------------------------------------------------------------

# SIREN "123 456 789" and SIRET "123 456 789 00012" as written on invoices; 9 or 14 digits in one block only when the
# Luhn key checks out (a bare 9-digit number may be anything) or a "SIREN"/"SIRET" label stands just before.
_COMPANY_NUMBER_GROUPED = re.compile(r"(?<!\d)(?<!\d[ .])\d{3}([ .])\d{3}\1\d{3}(?:\1?\d{5})?(?![ .]?\d)")
_COMPANY_NUMBER_BLOCK = re.compile(r"(?<![\d.])(?<!\d )(\d{9}|\d{14})(?![ .]?\d)")
_COMPANY_NUMBER_LABEL = re.compile(r"(?:siren|siret|rcs)\b[^\n\d]{0,15}$")


def _luhn(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _company_number_spans(folded: str) -> Iterator[_Span]:
    for match in _COMPANY_NUMBER_GROUPED.finditer(folded):
        if not _AMOUNT_AFTER.match(folded, match.end()):
            yield _Span(match.start(), match.end(), COMPANY_NUMBER)
    for match in _COMPANY_NUMBER_BLOCK.finditer(folded):
        labelled = _COMPANY_NUMBER_LABEL.search(folded, max(0, match.start() - 25), match.start())
        if (labelled or _luhn(match.group())) and not _AMOUNT_AFTER.match(folded, match.end()):
            yield _Span(match.start(), match.end(), COMPANY_NUMBER)


# Country code, check digits, then 11 to 30 letters and digits, usually in groups of four. Reported only when the
# ISO 13616 check (mod 97) holds, so a reference number that looks alike is left alone.
# Groups may be cut by any separator, or none ("FR76-3000-6000…", "FR76.3000…", "FR7630006000…").
_IBAN = re.compile(r"(?<![a-z0-9])[a-z]{2}\d{2}(?:[ ._/-]{0,3}[a-z0-9]){11,30}(?![a-z0-9])")
_IBAN_SEPARATORS = re.compile(r"[ ._/-]")


def _iban_valid(candidate: str) -> bool:
    compact = _IBAN_SEPARATORS.sub("", candidate).upper()
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def _iban_spans(folded: str) -> Iterator[_Span]:
    for match in _IBAN.finditer(folded):
        # The match may run on into the next word ("FR76 … 189 merci" stops at the space, but "… 189 ab12"
        # does not): try the longest valid prefix ending on a letter or digit.
        candidate = match.group()
        for end in range(len(candidate), 14, -1):
            if candidate[end - 1].isalnum() and _iban_valid(candidate[:end]):
                yield _Span(match.start(), match.start() + end, IBAN)
                break


def _original(text: str, norm: _Normalised, start: int, end: int) -> str:
    first, last = norm.original(start, end)
    return text[first:last]


def disguise_note(found: str) -> str:
    """How `found` hides what it is, in words for Aideur ("" if it is written plainly): he sees "Martin" in his
    mail client and must understand why it was refused."""
    notes = []
    if any(unicodedata.category(char) == "Cf" for char in found):
        notes.append("des caractères invisibles")
    if any(unicodedata.combining(char) for char in found):
        notes.append("des accents décomposés")
    if any(not char.isascii() and char.isalnum() and not _is_accented_latin(char) for char in found):
        notes.append("des caractères d'un autre alphabet")
    return ("écrit avec " + " et ".join(notes)) if notes else ""


def _is_accented_latin(char: str) -> bool:
    base = "".join(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c))
    return base.isascii() or char in _PLAIN


# --- Anyone's street address ---------------------------------------------------------------------------------------

# A number, then a street kind, then its name: "3 impasse des Roses", "12 bis, rue Victor-Hugo", "8 av. Foch".
# "rue", "avenue", "boulevard", "impasse", "allée", "quai" after a number are always an address; the kinds that are
# also common words ("1 place libre", "2 chemins", "3 cours de maths") count only before a capitalised name.
_ALWAYS_STREETS = "rue|avenue|av|boulevard|bd|bld|blvd|impasse|imp|allee|quai|faubourg|fbg"
_WORD_STREETS = "place|pl|chemin|route|square|cours|passage|chaussee|promenade|residence|lotissement|hameau|villa|cite"
_ANY_STREET = re.compile(
    rf"(?<![\w,.])\d{{1,4}}(?: ?(?:bis|ter|quater|[abc]))?,? (?P<kind>{_ALWAYS_STREETS}|{_WORD_STREETS})\.?"
    r" (?:(?:de la|de l'|des|du|de|d'|la|le|les|l'|au|aux) ?)?(?P<name>[^\W\d_][\w'-]{2,})"
)


def _any_street_spans(text: str, norm: _Normalised) -> Iterator[_Span]:
    for match in _ANY_STREET.finditer(norm.text):
        if match["kind"] not in _ALWAYS_STREETS.split("|"):
            name = _original(text, norm, match.start("name"), match.end("name"))
            if not name[:1].isupper():
                continue
        yield _Span(match.start(), match.end(), ANY_ADDRESS)
