"""The simplified result form, as members fill it in by reply (docs/rules.md §8; seed: "le formulaire est simplifié
afin de garder la discrétion sur les prestations, durée, prix").

The form as sent, values empty::

    Résultat (résolu / en partie / non résolu / en cours) :
    Satisfaction (de 1 à 5) :
    Commentaire (facultatif) :

Members answer in any reasonable shape: the form filled above the quote or inline in it ("> Résultat (…) : résolu",
also in an Outlook quote without ">"), labels with or without accents or bold ("**Résultat** : résolu"), or a
sentence ("résolu, merci !", "Résolu 4/5", "toujours en cours", "c'est réglé, très satisfait").

How `parse_result` reads:

* The person's latest word wins: a field they filled in this mail (`new_text`), then their sentences, then a field
  filled inline in the quote (the least quoted first). A field line is "label : value", the label accent- and
  case-insensitive, its hint in parentheses optional, quote markers read through; synonyms ("Note :",
  "Remarque :") only count in what the person wrote, our quoted text may hold them. An empty value fills nothing;
  our own hint ("résolu / en partie / non résolu / en cours", "de 1 à 5") is never a value; a hint cut down to
  one choice ("Résultat (résolu) :") is an answer.
* Sentences are read only in what the person wrote (quoted lines, signature and our own pasted instructions never
  are). A negation before "résolu"/"réglé" makes it "non résolu" ("pas résolu", "n'a toujours pas été réglé"),
  "pas encore" makes it "en cours", "pas complètement" makes it "en partie". Two different results in one reply
  ("résolu… non résolu") are not guessed: the reply says which could not be read.
* "Résolu" closes the matter, so it counts only when nothing she wrote about the result doubts, limits, postpones,
  jokes about or takes it back (`_unless_qualified`, with the consent reader's words: consent.qualifier_of): the
  field's value ("résolu ? pas sûr"), her sentences that state a result ("Résolu. Enfin presque."), her short
  ones ("Je plaisante.", "Pour l'instant"), and a field "résolu" with a sentence "Enfin non, pas résolu" is two
  results. Then the result is None and the reply asks again; a comment that tells how it went is not read for it.
* Satisfaction is a number from 1 to 5 only when written as one: "4/5", "4 sur 5", "note : 4", "5 étoiles",
  "★★★★☆", or a number alone next to the result ("Résolu 4"). Words ("très satisfait", "super") are kept in the
  comment, never turned into a number. Dates, references and phone numbers are not ratings ("le 12/12",
  "CA-2026-0042"). A rating written out of range ("7/5", "0", "8/10") or a satisfaction field we cannot read
  ("Satisfaction : super") gets a short question in `problems`; a missing one does not (it is optional).
* The comment is the comment field and the lines the person wrote that say more than the answer itself: "résolu,
  merci !" adds nothing, "problème réglé grâce à Jean, merci" is kept as written.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from .consent import qualifier_of
from .dates import fold
from .marks import (
    ATTRIBUTION_END as _ATTRIBUTION_END,
)
from .marks import (
    ATTRIBUTION_START as _ATTRIBUTION_START,
)
from .marks import (
    HEADER_FROM as _HEADER_FROM,
)
from .marks import (
    HEADER_INLINE as _HEADER_INLINE,
)
from .marks import (
    HEADER_OTHER as _HEADER_OTHER,
)
from .marks import (
    MOBILE as _MOBILE,
)
from .marks import (
    SEPARATOR as _SEPARATOR,
)
from .marks import (
    SIGN_OFF as _SIGN_OFF,
)
from .marks import (
    SIGNATURE as _SIGNATURE,
)
from .quotes import split_reply

__all__ = [
    "RESULTS",
    "RESULT_LABELS",
    "RESULT_QUESTION",
    "ResultReply",
    "parse_result",
]

RESULTS: tuple[str, ...] = ("resolu", "en_partie", "non_resolu", "en_cours")
RESULT_LABELS: Mapping[str, str] = MappingProxyType({
    "resolu": "résolu",
    "en_partie": "en partie",
    "non_resolu": "non résolu",
    "en_cours": "en cours",
})
# The question put to the person when their reply names several results, French as everything they read.
RESULT_QUESTION = "Le résultat : résolu, en partie, non résolu ou en cours ?"


@dataclass(frozen=True)
class ResultReply:
    result: str | None = None        # one of RESULTS; None when not written or not readable
    satisfaction: int | None = None  # 1..5; None when not written as a number, or unreadable
    comment: str = ""                # free text the member added (not the form lines, greetings, signature)
    # Short French questions for what was written but could not be read; empty when nothing was.
    problems: tuple[str, ...] = ()


# --- lines ----------------------------------------------------------------------------------------------------

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\ufe0f"), None)
_ODD_SPACES = dict.fromkeys(map(ord, "\u00a0\u202f\u2007\u2009\u200a\t"), " ")
_MARKERS = re.compile(r"^[ \t]*(?:>[ \t]*)+")

# Where the person's own words end (shared with consent.py).
_GREETING = re.compile(r"^\s*(?:bonjour|bonsoir|salut|hello|hi|coucou|re|cher|chere)\b")
# Our own instructions pasted back without ">" ("répondez … par exemple « résolu, 5/5 »"): never an answer.
_OUR_INSTRUCTION = re.compile(r"repondez|par\s+exemple\s+«|en\s+remplissant\s+les\s+lignes")


@dataclass(frozen=True)
class _Line:
    depth: int    # ">" markers plus the quote headers above the line
    text: str     # as written, without quote markers, odd spaces made plain, stripped on the right
    folded: str   # fold(text), same length


def _is_header_block(folded: list[str], index: int) -> bool:
    if not _HEADER_FROM.match(folded[index]):
        return False
    if _HEADER_INLINE.search(folded[index]):
        return True  # Yahoo: "De : … Envoyé : … Objet : …" on one line
    following = [line for line in folded[index + 1:index + 8] if line.strip()][:4]
    return any(_HEADER_OTHER.match(line) for line in following)


def _is_attribution(folded: list[str], index: int) -> bool:
    if _ATTRIBUTION_END.search(folded[index]):
        return True
    return bool(_ATTRIBUTION_START.match(folded[index])
                and any(_ATTRIBUTION_END.search(line) for line in folded[index + 1:index + 3]))


def _split(text: str) -> list[tuple[int, str]]:
    """(quote markers, content) for each line."""
    out = []
    for line in (text or "").translate(_INVISIBLE).splitlines():
        markers = _MARKERS.match(line)
        depth = markers.group().count(">") if markers else 0
        out.append((depth, (line[markers.end():] if markers else line).translate(_ODD_SPACES).rstrip()))
    return out


def _all_lines(text: str) -> list[_Line]:
    """Every line of the body, each quote header block adding a level to the lines below it; signatures out."""
    parts = _split(text)
    folded = [fold(content) for _, content in parts]
    lines: list[_Line] = []
    extra = 0
    in_signature: int | None = None  # the depth of the signature being skipped
    for index, (depth, content) in enumerate(parts):
        if _SEPARATOR.match(folded[index]) or _is_header_block(folded, index) or _is_attribution(folded, index):
            extra += 1
            in_signature = None
            continue
        if in_signature is not None and depth != in_signature:
            in_signature = None
        if _SIGNATURE.match(folded[index]):
            in_signature = depth
        if in_signature is None:
            lines.append(_Line(depth + extra, content, folded[index]))
    return lines


def _own_lines(new_text: str) -> list[_Line]:
    """The lines the person wrote in this mail: no quote, no signature, no pasted instruction (blank lines kept)."""
    body, _signature = split_reply(new_text or "")
    parts = _split(body)
    folded = [fold(content) for _, content in parts]
    out: list[_Line] = []
    for index, (depth, content) in enumerate(parts):
        low = folded[index]
        if _SIGNATURE.match(low) or _MOBILE.match(low) or _SEPARATOR.match(low) or _is_header_block(folded, index):
            break
        if _is_attribution(folded, index):
            if any(line.folded.strip() for line in out):
                break
            continue  # bottom-posting: the answer may be below the quote
        if any(line.folded.strip() for line in out) and _SIGN_OFF.match(low):
            break
        if depth or _OUR_INSTRUCTION.search(low):
            continue
        out.append(_Line(0, content, low))
    return out


# --- fields ---------------------------------------------------------------------------------------------------

_BOLD = r"(?:\*{1,2}|_{1,2})"
_LABEL_LINE = re.compile(
    r"^\s*+(?:[-*•·+]\s+)?" + _BOLD + r"?\s*+(?:"
    r"(?P<result>resultats?)"
    r"|(?P<satisfaction>(?:(?:niveau|degre)\s+de\s+)?satisfaction)"
    r"|(?P<rating>note(?:\s+de\s+satisfaction)?)"
    r"|(?P<comment>commentaires?)"
    r"|(?P<remark>remarques?|observations?)"
    r")\s*+" + _BOLD + r"?\s*+(?:\((?P<hint>[^)\n]*)\)|de\s+1\s+a\s+5)?\s*+" + _BOLD + r"?\s*+[:=]\s*" + _BOLD + r"?"
)
# Synonyms of the form's labels: only in what the person wrote, since our own quoted text may hold "Note : …".
_SYNONYMS = {"rating": "satisfaction", "remark": "comment"}


@dataclass(frozen=True)
class _Field:
    key: str     # result | satisfaction | comment
    value: str   # as written, comment continuation lines joined with "\n"
    hint: str    # the parenthesised hint as written ("" when none)
    rank: tuple[int, int, int]


def _label(line: _Line, *, synonyms: bool = True) -> tuple[str, int, str] | None:
    match = _LABEL_LINE.match(line.folded)
    if not match:
        return None
    name = next(name for name in ("result", "satisfaction", "rating", "comment", "remark")
                if match.group(name) is not None)
    if name in _SYNONYMS and not synonyms:
        return None
    hint = line.text[match.start("hint"):match.end("hint")] if match.group("hint") is not None else ""
    return _SYNONYMS.get(name, name), match.end(), hint


def _stops_comment(line: _Line, depth: int) -> bool:
    return (line.depth != depth or not line.folded.strip() or _label(line) is not None
            or _SIGN_OFF.match(line.folded) is not None or _SIGNATURE.match(line.folded) is not None)


def _fields(lines: list[_Line], base: int) -> tuple[list[_Field], set[int]]:
    """The label lines of `lines` and (for the comment) the lines below that continue them; the indices used."""
    found: list[_Field] = []
    used: set[int] = set()
    for index, line in enumerate(lines):
        hit = _label(line, synonyms=base == 0)
        if hit is None:
            continue
        key, end, hint = hit
        used.add(index)
        value = line.text[end:].strip()
        if key == "comment" and _clean(value):
            # A comment may run over the next lines; an empty comment label is followed by our own text, not theirs.
            pieces = [value]
            follow = index + 1
            while follow < len(lines) and not _stops_comment(lines[follow], line.depth):
                pieces.append(lines[follow].text.strip())
                used.add(follow)
                follow += 1
            value = "\n".join(pieces)
        found.append(_Field(key, value, hint, (base, line.depth, index)))
    return found, used


def _clean(value: str) -> str:
    # Bold closers and stray separators HTML conversion leaves around a value: "**résolu**", "résolu ;".
    return "\n".join(part.strip().strip("*_").strip() for part in value.split("\n")).strip().rstrip(" ,;")


_PLACEHOLDER = re.compile(r"^(?:[-/.…x?]+|n/?a|nc|ras|neant|rien|aucune?|sans\s+(?:objet|avis|commentaire)|"
                          r"pas\s+de\s+commentaires?|none|nil)$")


def _placeholder(value: str) -> bool:
    return bool(_PLACEHOLDER.match(fold(value).strip(" .!")))


# --- the result -----------------------------------------------------------------------------------------------

def _phrases(pattern: str) -> re.Pattern[str]:
    """A verbose alternation matched on whole words (text folded, apostrophes and punctuation made spaces)."""
    return re.compile(rf"(?x)(?<![a-z0-9])(?:{pattern})(?![a-z0-9])")


def _words(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


_SOLVED = r"(?:resolue?s?|reglee?s?|solutionnee?s?|solved|resolved|fixed)"
_PARTLY = _phrases(rf"""
    (?:{_SOLVED}\s+)?(?:en\s+(?:grande\s+|petite\s+)?partie|partiellement|a\s+moitie)(?:\s+{_SOLVED})?
  | partiel(?:le)?s? | {_SOLVED}\s+pour\s+partie
  | pas\s+(?:completement|entierement|totalement|tout\s+a\s+fait|toute\s+a\s+fait|integralement)
        (?:\s+(?:ete\s+)?{_SOLVED})?
  | plus\s+ou\s+moins | a\s+peu\s+pres | partly | partially
  | (?:presque|quasi(?:ment)?|pratiquement|a\s+moitie|almost|nearly)\s+(?:ete\s+)?{_SOLVED}
  | {_SOLVED}\s+(?:a|pour)\s+\d{{1,2}}(?!\d)(?!\s+(?:h|heures?|min)\b)  # "résolu à 50 %" ("%" is no word here)
""")
_ONGOING = _phrases(rf"""
    (?:toujours\s+|encore\s+|c\s+est\s+|est\s+)?en\s+cours
  | (?:ca|cela|c|le\s+dossier|on|les\s+choses)\s+(?:avance|progresse)
  | en\s+bonne\s+voie | suit\s+son\s+cours | on\s+y\s+travaille | en\s+attente | a\s+suivre
  | pas\s+encore(?:\s+(?:ete\s+)?(?:{_SOLVED}|terminee?s?|finie?s?|abouti\w*|tranchee?s?))?
  | pas\s+(?:terminee?s?|finie?s?) | in\s+progress | ongoing
  | (?:toujours\s+|encore\s+)?en\s+(?:discussions?|contact|relation|echanges?|negociations?|reflexion|pourparlers)
  | en\s+train\s+de | on\s+(?:en\s+)?(?:discute|parle|echange)(?:\s+encore)?
  | (?:on|nous)\s+(?:se\s+voit|se\s+voyons|nous\s+voyons|doit\s+se\s+voir|devons\s+nous\s+voir)
  | rien\s+(?:pour\s+l\s+instant|pour\s+le\s+moment|encore) | pas\s+pour\s+l\s+instant
  | (?:bientot|bientot\s+ete|sur\s+le\s+point\s+d\s+etre|en\s+passe\s+d\s+etre)\s+{_SOLVED} | {_SOLVED}\s+bientot
  | en\s+voie\s+de\s+(?:resolution|reglement|{_SOLVED})
""")
_UNSOLVED = _phrases(rf"""
    (?:sans|aucune|pas\s+de|pas\s+trouve\s+de)\s+solution | echec | loin\s+d\s+etre\s+{_SOLVED}
  | (?:ca|cela)\s+n\s+a\s+pas\s+(?:marche|abouti|fonctionne)
  | n\s+a\s+pas\s+abouti | rien\s+n\s+a\s+change | unsolved | not\s+solved
""")
_SOLVED_PHRASE = _phrases(r"""
    tout\s+est\s+rentre\s+dans\s+l\s+ordre | (?:j\s+ai|on\s+a|nous\s+avons)\s+trouve\s+(?:une|la)\s+solution
  | (?:ca|tout)\s+(?:fonctionne|marche)(?:\s+(?:bien|parfaitement|a\s+nouveau))? | probleme\s+regle
  | (?:ca|cela|tout)\s+a\s+(?:bien\s+)?(?:marche|fonctionne)
  | (?:projet|site|activite|entreprise|societe|chantier|boutique|campagne)\s+(?:est\s+|a\s+ete\s+|bien\s+)?
        (?:lancee?s?|demarree?s?|ouverte?s?|en\s+ligne|livree?s?|terminee?s?|aboutie?s?|realisee?s?)
  | (?:mission|travail|dossier|affaire)\s+(?:est\s+|a\s+ete\s+)?(?:accomplie?|terminee?|bouclee?|aboutie?)
  | (?:c\s+est|cest)\s+(?:fait|fini|termine|boucle|regle)
  | (?:contrat|accord|devis|compromis|bail)\s+(?:est\s+|a\s+ete\s+|bien\s+)?signee?s?
  | (?:j\s+ai|on\s+a|nous\s+avons)\s+(?:bien\s+)?trouve\s+(?:un|une|mon|ma|notre|nos|le|la|les|des)\b
  | (?:a|ont)\s+abouti | mission\s+accomplie
""")
_SOLVED_WORD = _phrases(_SOLVED)
_NEGATORS = frozenset(["pas", "non", "jamais", "ni", "aucunement", "nullement", "rien", "n", "ne", "sans", "not"])
# Field values only: "Résultat : oui" is an answer, "oui" in a sentence is not.
_FIELD_YES = re.compile(r"^(?:oui|yes|ok|okay|reussie?|succes)$")
_FIELD_NO = re.compile(r"^(?:non|no)$")


def _results_in(folded: str) -> list[str]:
    """The results a piece of text states, one per statement ("/" separates choices: "résolu / en partie")."""
    found: list[str] = []
    for clause in re.split(r"[,;.!?…:/()\[\]]|\s-+\s|\s(?=mais\s)", folded):
        text = _words(clause)
        for pattern, result in ((_PARTLY, "en_partie"), (_ONGOING, "en_cours"), (_UNSOLVED, "non_resolu"),
                                (_SOLVED_PHRASE, "resolu")):
            found += [result] * len(pattern.findall(text))
            text = pattern.sub(" | ", text)  # a taken phrase also ends the look-back below
        for match in _SOLVED_WORD.finditer(text):
            before = text[:match.start()].split("|")[-1].split()
            # "pas résolu", "n'a toujours pas été réglé", "rien n'a été résolu", "non résolu", and a "not" anywhere
            # before it in its clause: "je ne pense pas que ce soit résolu"
            found.append("non_resolu" if _NEGATORS.intersection(before) else "resolu")
    return found


def _one_result(results: list[str]) -> tuple[str | None, bool]:
    """(result, unreadable): several statements must agree, or be a known pair ("pas résolu, toujours en cours")."""
    distinct = set(results)
    if not distinct:
        return None, False
    if len(distinct) == 1:
        return results[0], False
    if distinct == {"non_resolu", "en_cours"}:
        return "en_cours", False
    if distinct == {"resolu", "en_partie"}:
        return "en_partie", False
    return None, True


def _is_choices(folded: str) -> bool:
    """Our own list of choices, copied or quoted: it names three results or more."""
    return len(set(_results_in(folded))) >= 3


def _field_result(value: str) -> tuple[str | None, bool]:
    folded = fold(value)
    if _is_choices(folded):
        return None, False  # the hint pasted as the value: nothing chosen
    words = _words(folded)
    if _FIELD_YES.match(words):
        return "resolu", False
    if _FIELD_NO.match(words):
        return "non_resolu", False
    result, _conflict = _one_result(_results_in(folded))
    return result, result is None  # no result named, or several


# --- satisfaction ---------------------------------------------------------------------------------------------

_NUMBER_WORDS = {"un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "zero": 0, "six": 6, "sept": 7,
                 "huit": 8, "neuf": 9, "dix": 10}
_NUMBER = r"(?:\d{1,3}|un|une|deux|trois|quatre|cinq|zero|six|sept|huit|neuf|dix)"
# Around a number: not inside a word, a date, a decimal or a reference ("12/12/2026", "4,5", "CA-2026-0042");
# a full stop or a comma right after it still ends it ("Résolu, 5/5.").
_BEFORE = r"(?<![\w/])(?<!\d[.,-])"
_AFTER = r"(?![\w/]|[.,]\d)"
# Our scale, quoted back ("de 1 à 5", "(1-5)"): never a rating. Not inside a reference ("21-54").
_SCALE = re.compile(r"(?:sur\s+une\s+echelle\s+)?(?:de\s+|entre\s+)?(?:\(\s*+)?(?<![\w/.,-])1\s*+(?:a|et|-)\s*+"
                    r"5(?![\w/])\s*\)?")
_DECIMAL = re.compile(r"(?<![\d/])\d[.,]\d+\s*(?:/\s*5|sur\s+5|etoiles?)")
# "4/5", "4 / 5", "4 sur 5", "8/10": the denominator says it is a rating. Not after "le", "du" ("le 4/5" is a date)
# nor inside a date or a reference ("4/5/2026", "CA-2026-0042").
_OVER = re.compile(rf"{_BEFORE}(?<!\ble\s)(?<!\bdu\s)(?<!\bau\s)(?P<n>{_NUMBER})\s*(?:etoiles?\s*)?"
                   rf"(?:/|sur)\s*(?P<d>5|cinq|10|dix|20|100){_AFTER}")
_STARS_WORD = re.compile(rf"{_BEFORE}(?P<n>{_NUMBER})\s+(?:etoiles?|stars?)(?!\w)")
_NOTE = re.compile(rf"(?:^|[,;:.!(]\s*|\b(?:ma|la|une|je\s+(?:vous\s+)?(?:mets|donne))\s+)"
                   rf"(?:note|satisfaction)(?:\s+de\s+satisfaction)?\s*(?::|=|de)?\s*(?P<n>{_NUMBER}){_AFTER}")
_JE_METS = re.compile(r"\bje\s+(?:vous\s+)?(?:mets|donne|note)\s+(?P<n>\d{1,2})(?=\s*(?:[,;.!)]|$))")
_STAR_CHARS = "★⭐🌟"


def _number(token: str) -> int:
    return int(token) if token.isdigit() else _NUMBER_WORDS[token]


def _ratings(folded: str, *, field: bool) -> tuple[list[int], list[str]]:
    """(ratings 1..5, pieces written as a rating but out of range or on another scale) in a line or field value."""
    good: list[int] = []
    bad: list[str] = []

    def keep(number: int, raw: str) -> None:
        if 1 <= number <= 5:
            good.append(number)
        else:
            bad.append(" ".join(raw.split()))

    text = _SCALE.sub(" ", folded)
    stars = "".join(char for char in text if char in _STAR_CHARS)
    if stars:
        keep(len(stars), stars)
    bad += [" ".join(match.group().split()) for match in _DECIMAL.finditer(text)]  # "4,5/5": a whole number, please
    text = _DECIMAL.sub(" ", text)

    def over(match: re.Match[str]) -> str:
        number, scale = _number(match.group("n")), _number(match.group("d"))
        if scale == 5:
            if number <= 10:
                keep(number, match.group())  # "7/5" is a rating out of range; "24/5" is a date
        elif number <= scale:
            bad.append(" ".join(match.group().split()))  # "8/10": another scale, not converted
        return " "

    def single(match: re.Match[str]) -> str:
        number = _number(match.group("n"))
        if number <= 10:
            keep(number, match.group("n"))
        return " "

    text = _OVER.sub(over, text)
    for pattern in (_STARS_WORD, _NOTE, _JE_METS):
        text = pattern.sub(single, text)
    if field and not good and not bad:
        # In the satisfaction field a number alone is the rating: "4", "4 - très bien", "quatre".
        numbers = re.findall(rf"{_BEFORE}{_NUMBER}{_AFTER}", text)
        if len(numbers) == 1 and _number(numbers[0]) <= 10:
            keep(_number(numbers[0]), numbers[0])
    return good, bad


# --- free text ------------------------------------------------------------------------------------------------

# Words that say nothing beyond the answer: politeness, the problem itself, mild intensifiers.
_POLITE = frozenset(["merci", "mercii", "beaucoup", "bien", "encore", "infiniment", "mille", "fois", "bonjour", "bonsoir", "cordialement", "a", "vous", "tous", "toutes", "pour", "votre", "vos", "le", "la", "les", "l", "de", "du", "d", "des", "un", "une", "c", "est", "ce", "ca", "cela", "tout", "toute", "voila", "donc", "et", "tres", "vraiment", "finalement", "helas", "malheureusement", "seulement", "toujours", "probleme", "problemes", "souci", "demande", "question", "dossier", "sujet", "ma", "mon", "mes", "notre", "resultat", "satisfaction", "note", "sur", "etoile", "etoiles", "enfin", "bon", "ok", "okay", "oui", "non", "it", "s", "is", "the", "now", "thanks", "thank", "you", "pas", "n", "ne", "ete", "a", "ai", "jamais", "rien"])


def _says_more(folded: str) -> bool:
    """Whether a line says something beyond its result and rating ("résolu, merci !" does not)."""
    text = _SCALE.sub(" ", folded)
    text = _OVER.sub(" ", text)
    text = _STARS_WORD.sub(" ", text)
    text = _JE_METS.sub(" ", _NOTE.sub(" ", text))
    for pattern in (_PARTLY, _ONGOING, _UNSOLVED, _SOLVED_PHRASE, _SOLVED_WORD):
        text = pattern.sub(" ", _words(text))
    return any(word not in _POLITE and not word.isdigit() for word in text.split())


def _at_most_ten(word: str) -> bool:
    """A number from 0 to 10 written in digits; a run of 5,000 digits is not one (nor something int() may read)."""
    significant = word.lstrip("0") or "0"
    return word.isdecimal() and len(significant) <= 2 and int(significant) <= 10


def _bare_number(folded: str) -> str | None:
    """The number of a line that is only a result and a number ("Résolu 4", "4", "0"), as written."""
    unscaled = _SCALE.sub(" ", folded)
    text = _words(unscaled)
    for pattern in (_PARTLY, _ONGOING, _UNSOLVED, _SOLVED_PHRASE, _SOLVED_WORD):
        text = pattern.sub(" ", text)
    words = [word for word in text.split() if word not in _POLITE]
    if len(words) != 1 or not (_at_most_ten(words[0]) or words[0] in _NUMBER_WORDS):
        return None
    if re.search(rf"\b(?:le|du|au|depuis|avant|apres|dans|vers|en|a|il\s+y\s+a)\s+{words[0]}\b", _words(unscaled)):
        return None  # "résolu le 12", "réglé en 3": a date or a delay, not a rating
    if re.search(rf"(?<!\w){words[0]}\s*(?:[€$£%°#]|(?:eur|euros?|h|heures?|jours?|mois|ans?|min|km)\b)", unscaled):
        return None  # "résolu, 0 €", "résolu 3 jours": an amount or a delay
    return words[0]


def _strip_greeting(line: _Line) -> str:
    """The line as written, without a greeting before a comma ("Bonjour Aideur, c'est réglé")."""
    text = line.text.strip()
    if _GREETING.match(line.folded) and "," in text:
        return text.split(",", 1)[1].strip()
    return text


def _is_greeting(line: _Line) -> bool:
    return bool(_GREETING.match(line.folded)) and len(_words(line.folded).split()) <= 4 and not (
        _results_in(line.folded) or _ratings(line.folded, field=False) != ([], []))


def _free_lines(lines: list[_Line], used: set[int]) -> list[_Line]:
    """The person's own lines that are not form lines nor greetings nor the thanks-and-name block at the end."""
    out = [line for index, line in enumerate(lines)
           if index not in used and line.folded.strip() and not _is_greeting(line)
           and not _is_choices(line.folded)]
    # "Merci,\nJean Dupont": a thank-you line followed only by short lines carrying nothing is a sign-off.
    # quiet[i]: the lines from i to the end are all such lines (computed once from the end: linear time).
    quiet = [True] * (len(out) + 1)
    for index in range(len(out) - 1, -1, -1):
        other = out[index]
        quiet[index] = (quiet[index + 1] and len(other.text.split()) <= 4 and not _results_in(other.folded)
                        and _ratings(other.folded, field=False) == ([], []))
    for position, line in enumerate(out):
        if (position + 1 < len(out) and quiet[position + 1] and re.match(r"^\s*merci\b", line.folded)
                and not _says_more(line.folded)):
            return out[:position + 1]
    return out


# --- the reply ------------------------------------------------------------------------------------------------

def _first_filled(fields: list[_Field], key: str) -> str | None:
    """The value of the first `key` field (in rank order) that holds something other than a placeholder."""
    for hit in sorted(fields, key=lambda found: found.rank):
        if hit.key != key:
            continue
        value = _clean(hit.value)
        if key == "result" and not value and len(set(_results_in(fold(hit.hint)))) == 1:
            value = hit.hint  # "Résultat (résolu) :": the other choices struck out
        if value and not _placeholder(value):
            return value
        # An empty label, or "-": the person left it blank; a less recent line may still hold the answer.
    return None


def _free_result(free: list[_Line]) -> tuple[str | None, list[str]]:
    result, conflict = _one_result([found for line in free for found in _results_in(line.folded)])
    return result, [RESULT_QUESTION] if conflict else []


def _field_result_reading(value: str | None) -> tuple[str | None, list[str]]:
    if value is None:
        return None, []
    result, unreadable = _field_result(value)
    return result, [f"Le résultat (« {_short(value)} ») : résolu, en partie, non résolu ou en cours ?"] \
        if unreadable else []


def _one_rating(good: list[int], bad: list[str]) -> tuple[int | None, list[str]]:
    if len(set(good)) == 1 and not bad:
        return good[0], []
    return None, [str(number) for number in dict.fromkeys(good)] + bad


def _field_rating(value: str | None) -> tuple[int | None, list[str]]:
    if value is None:
        return None, []
    rating, _pieces = _one_rating(*_ratings(fold(value), field=True))
    return rating, [] if rating is not None else [value]


def _free_rating(free: list[_Line]) -> tuple[int | None, list[str]]:
    good: list[int] = []
    bad: list[str] = []
    for line in free:
        line_good, line_bad = _ratings(line.folded, field=False)
        if not line_good and not line_bad:
            bare = _bare_number(line.folded)
            if bare is not None:
                line_good, line_bad = ([_number(bare)], []) if 1 <= _number(bare) <= 5 else ([], [bare])
        good += line_good
        bad += line_bad
    return _one_rating(good, bad)


def _unless_qualified(value: str | None, free: list[_Line]) -> tuple[str | None, list[str]]:
    """("resolu", []) when nothing else the person wrote qualifies the "résolu" read in the field `value` (None:
    read in her sentences), else (None, the question to ask again).

    "Résolu" closes the matter, so it counts only when what she wrote about the result does not doubt, limit,
    postpone, joke about or take it back (the shared reader, consent.qualifier_of): the field's value ("résolu ?
    pas sûr"), each sentence of hers that states a result ("Résolu. Enfin presque.") or is too short to be about
    anything else ("Je plaisante.", "À suivre", "Pour l'instant") — a comment that tells how it went is read for
    its own result only. A sentence that states another result ("Enfin non, pas résolu") is two results: not
    guessed."""
    about = [line for line in free if _results_in(line.folded) or len(_words(line.folded).split()) <= _SHORT]
    stated = ([] if value is None else _results_in(fold(value))) + [
        found for line in about for found in _results_in(line.folded)]
    if set(stated) - {"resolu"}:
        return None, [RESULT_QUESTION]
    # A clause that gives a rating is about the satisfaction ("Résolu. 4/5. Mais 5 étoiles pour Jean"), read there.
    said = "\n".join(" ".join(clause for clause in re.split(r"(?<=[.;!…,])\s*", line)
                              if _ratings(fold(clause), field=False) == ([], []))
                     for line in ([] if value is None else [value]) + [line.text for line in about])
    if qualifier_of(said, answer=_RESOLU_SAID):
        shown = value if value is not None else " / ".join(line.text.strip() for line in about
                                                            if _results_in(line.folded))
        return None, [f"Le résultat (« {_short(shown)} ») : résolu, en partie, non résolu ou en cours ?"]
    return "resolu", []


# What states "résolu", and what was found: "j'ai trouvé un comptable" awaits no accountant's say.
_RESOLU_SAID = (_phrases(r"""
    (?:j\s+ai|on\s+a|nous\s+avons)\s+(?:bien\s+|enfin\s+)?trouve\s+(?:un|une|mon|ma|notre|nos|le|la|les|des)\s+[a-z]+
"""), _SOLVED_PHRASE, _SOLVED_WORD)
# A sentence of at most this many words that states no result can only be about the answer ("Enfin presque").
_SHORT = 5


def parse_result(text: str, new_text: str) -> ResultReply:
    """The result form as the member answered it: `text` is the whole body (quotes included), `new_text` what
    they wrote in this mail (without quote and signature).

    For the result and the satisfaction alike, the person's latest word wins: a field they filled in this mail,
    then their sentences, then a field filled inline in the quote. What was written but could not be read is
    reported only when no source gives a value.
    """
    own = _own_lines(new_text)
    own_fields, used = _fields(own, 0)
    quoted_fields, _ = _fields(_all_lines(text), 1)
    free = _free_lines(own, used)

    result: str | None = None
    result_pieces: list[str] = []
    field_values = (_first_filled(own_fields, "result"), None, _first_filled(quoted_fields, "result"))
    for source, reading in enumerate((lambda: _field_result_reading(field_values[0]),
                                      lambda: _free_result(free),
                                      lambda: _field_result_reading(field_values[2]))):
        result, pieces = reading()
        if result == "resolu":
            result, pieces = _unless_qualified(field_values[source], free)
            if result is None:
                result_pieces += pieces
                break  # taken back or doubted: asked again, not read from a less recent source
        if result is not None:
            break
        result_pieces += pieces

    satisfaction: int | None = None
    rating_pieces: list[str] = []
    for rating_reading in (lambda: _field_rating(_first_filled(own_fields, "satisfaction")),
                           lambda: _free_rating(free),
                           lambda: _field_rating(_first_filled(quoted_fields, "satisfaction"))):
        satisfaction, pieces = rating_reading()
        if satisfaction is not None:
            break
        rating_pieces += pieces

    problems: list[str] = []
    if result is None and result_pieces:
        problems.append(result_pieces[0])
    if satisfaction is None and rating_pieces:
        shown = ", ".join(f"« {_short(piece)} »" for piece in dict.fromkeys(rating_pieces))
        problems.append(f"La satisfaction ({shown}) : une note de 1 à 5 ?")

    # The comment: the comment field, then what the person wrote beyond the answer itself.
    parts = [_first_filled(own_fields, "comment") or "", *(_strip_greeting(line) for line in free
                                                           if _says_more(line.folded)),
             _first_filled(quoted_fields, "comment") or ""]
    comment = "\n".join(dict.fromkeys(part for part in parts if part))
    return ResultReply(result, satisfaction, comment, tuple(problems))


def _short(value: str) -> str:
    value = " ".join(value.split())
    return value if len(value) <= 60 else value[:57].rstrip() + "…"
