"""Reading polls (issue 17, point 2): Aideur's `#sondage` block and a member's answer to a poll. Pure functions.

The block is "clé : valeur" lines (`question:`, `jusqu'au:`, `anonyme:`, `résultats:`, `compétences:`,
`activité:`) and numbered choices (`1: …`, `2) …`, `3 - …`). A wrong line is named in the error.

An answer is read the way a person would: one choice number ("2", "choix 2", "le 2", "2)", "n° 2"), or words
that belong to one choice only ("plutôt le jeudi"). Anything else — two numbers, no choice, a hesitation
("oui mais…", "je ne sais pas") — is unclear: the member gets the question again rather than a guessed vote.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, time

from .dates import DATE_FORMS_HELP, fold, parse_date
from .rules import fold_words

__all__ = ["PollBlock", "PollBlockError", "read_answer", "read_block"]

MAX_CHOICES = 20
_CHOICE = re.compile(r"^\s*(?:[-*•]\s*)?(\d{1,2})\s*[:.)\-–—]\s*(.+?)\s*$")
_KEY = re.compile(r"^\s*(?:[-*•]\s*)?(?P<key>[a-z' ]{3,40}?)\s*[:=]\s*(?P<value>.*?)\s*$")
_KEYS = {
    "question": "question", "titre": "question",
    "jusqu'au": "until", "jusqu'a": "until", "jusqu au": "until", "date limite": "until", "fin": "until",
    "until": "until", "cloture": "until", "clos le": "until",
    "anonyme": "anonymous", "anonymous": "anonymous",
    "resultats": "results", "resultat": "results", "results": "results",
    "competences": "skills", "competence": "skills", "skills": "skills",
    "activite": "activity", "activity": "activity",
}
_YES = {"oui", "yes", "o", "vrai", "anonyme"}
_NO = {"non", "no", "n", "faux"}
_TIME = re.compile(r"^\s*(?:a\s+)?(\d{1,2})\s*(?:h|:)\s*(\d{2})?\s*$")
_ACTIVITY = re.compile(r"^[A-Z]{2}-\d{4}-\d{3,4}$")


@dataclass(frozen=True)
class PollBlock:
    question: str
    choices: tuple[str, ...]
    until: date
    at: time | None  # None: the end of that business day
    anonymous: bool
    results_to: str  # aideur | membres
    skills: str = ""
    activity_ref: str = ""


@dataclass(frozen=True)
class PollBlockError:
    line: str  # the wrong line as written ("" when something is missing)
    problem: str  # French, for Aideur


EXAMPLE = ("question: Quel jour pour l'atelier ?\n1: le mardi\n2: le jeudi\njusqu'au: 15/01/2027\n"
           "anonyme: oui\nrésultats: membres")


def read_block(lines: list[str], today: date) -> PollBlock | PollBlockError:
    """The poll described by `lines` (the lines under `#sondage`), or the first problem, naming its line.

    A plain line after the block (a signature, "Merci") ends it; a "clé : valeur" line with an unknown key is an
    error, since Aideur meant something by it."""
    fields: dict[str, tuple[str, str]] = {}
    choices: dict[int, str] = {}
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        folded = fold(line)
        choice = _CHOICE.match(line)
        if choice:
            number = int(choice.group(1))
            if number in choices or not 1 <= number <= MAX_CHOICES:
                return PollBlockError(line, f"le choix n° {number} est en double ou hors de 1 à {MAX_CHOICES}.")
            choices[number] = choice.group(2)
            continue
        key = _KEY.match(folded)
        if key:
            name = _KEYS.get(" ".join(key.group("key").split()))
            if name is None:
                return PollBlockError(line, "cette ligne n'est pas comprise : les clés possibles sont question, "
                                            "jusqu'au, anonyme, résultats, compétences et activité, et les "
                                            "choix s'écrivent « 1: … », « 2: … ».")
            fields.setdefault(name, (line[key.start("value"):key.end("value")].strip(), line))
            continue
        if fields or choices:
            break  # the signature or a closing word after the block
        return PollBlockError(line, "cette ligne n'est pas comprise : écrivez une clé puis « : » (question, "
                                    "jusqu'au…) ou un choix numéroté « 1: … ».")
    return _checked(fields, choices, today)


def _checked(fields: dict[str, tuple[str, str]], choices: dict[int, str], today: date) -> PollBlock | PollBlockError:
    question = fields.get("question", ("", ""))[0]
    if not question:
        return PollBlockError("", "il manque la question : ajoutez une ligne « question: … ».")
    if len(choices) < 2:
        return PollBlockError("", "il faut au moins deux choix numérotés, une ligne chacun : « 1: … », « 2: … ».")
    if sorted(choices) != list(range(1, len(choices) + 1)):
        return PollBlockError("", "les choix doivent être numérotés 1, 2, 3… sans trou ni doublon.")
    if "until" not in fields:
        return PollBlockError("", "il manque la date de fin : ajoutez une ligne « jusqu'au: 15/01/2027 ».")
    value, line = fields["until"]
    until, rest = parse_date(value, today)
    at = None
    if until is not None and rest.strip():
        clock = _TIME.match(fold(rest))
        if clock is None or int(clock.group(1)) > 23 or int(clock.group(2) or 0) > 59:
            until = None
        else:
            at = time(int(clock.group(1)), int(clock.group(2) or 0))
    if until is None:
        return PollBlockError(line, f"la date de fin n'a pas pu être lue : écrivez par exemple « jusqu'au: "
                                    f"15/01/2027 » ou « jusqu'au: 15/01/2027 12:00 » (formes comprises : "
                                    f"{DATE_FORMS_HELP}).")
    if until < today:
        return PollBlockError(line, "la date de fin est déjà passée.")
    anonymous = True
    if "anonymous" in fields:
        value, line = fields["anonymous"]
        word = fold_words(value).strip(" .!")
        if word not in _YES | _NO:
            return PollBlockError(line, "écrivez « anonyme: oui » ou « anonyme: non ».")
        anonymous = word in _YES
    results_to = "aideur"
    if "results" in fields:
        value, line = fields["results"]
        word = fold_words(value).strip(" .!")
        if word in ("aideur", "aideur seulement", "moi", "moi seulement", "aideur seul"):
            results_to = "aideur"
        elif word in ("membres", "membre", "tous", "tout le monde", "members", "participants"):
            results_to = "membres"
        else:
            return PollBlockError(line, "écrivez « résultats: aideur » (vous seul) ou « résultats: membres » "
                                        "(les membres interrogés aussi).")
    activity = ""
    if "activity" in fields:
        value, line = fields["activity"]
        activity = value.strip().upper()
        if not _ACTIVITY.match(activity):
            return PollBlockError(line, "la référence d'activité se lit comme AC-2027-003.")
    return PollBlock(question=question, choices=tuple(choices[n] for n in sorted(choices)), until=until, at=at,
                     anonymous=anonymous, results_to=results_to, skills=fields.get("skills", ("", ""))[0],
                     activity_ref=activity)


# --- a member's answer -------------------------------------------------------------------------------------------
# A number alone, not part of a date, an hour, a decimal, an amount or a duration ("15/01", "14h", "3,5", "20 €").
_NUMBER = re.compile(r"(?<![\d/:,.])(\d{1,3})(?!\d|[/:,.]\d|\s*(?:h\b|heures?|€|euros?|%|ans?\b|jours?))")
_HESITATION = re.compile(r"\b(?:mais|peut[- ]?etre|sais pas|sait pas|hesite|je ne sais|aucune idee|ou bien|"
                         r"ni l'un|ni l un|les deux|tous les deux|aucun|aucune|pas d'avis|sans avis|bof|"
                         # a choice named to be excluded is no vote for it: "pas le mardi", "tout sauf le 2"
                         r"pas|sauf|hormis|excepte|non|jamais|ne|n'|evit\w*|exclu\w*|impossible|indisponibles?|"
                         r"empeche\w*)\b")
_STOP = frozenset(
    ("le", "la", "les", "l", "un", "une", "des", "du", "de", "d", "au", "aux", "a", "et",
     "ou", "en", "pour", "par", "sur", "avec", "sans", "ce", "cet", "cette", "ces", "mon", "ma", "mes",
     "ton", "ta", "tes", "son", "sa", "ses", "je", "j", "tu", "il", "elle", "on", "nous", "vous",
     "ils", "elles", "me", "m", "te", "t", "se", "s", "y", "plutot", "plus", "moins", "tres", "bien",
     "choix", "option", "reponse", "vote", "votre", "merci", "bonjour", "bonsoir", "cordialement", "svp", "stp", "oui", "non", "n",
     "ne", "pas", "que", "qui", "quoi", "c", "est", "ca", "cela", "prefere", "preference", "voudrais", "aimerais", "choisis",
     "choisi",))


@dataclass(frozen=True)
class Answer:
    choice: int | None  # 1-based; None: unclear
    why: str = ""
    numbers: tuple[int, ...] = field(default=())


def _words(text: str) -> set[str]:
    words = re.findall(r"[a-z]+", fold_words(text))
    return {w[:-1] if len(w) > 3 and w.endswith("s") else w for w in words if w not in _STOP and len(w) > 1}


def read_answer(text: str, choices: list[str] | tuple[str, ...]) -> Answer:
    """Which choice (1-based) a member's answer names, or Answer(None) when it is unclear.

    `text` is the member's own words (quote and signature removed). A number counts when it is the only number
    and a choice's; otherwise the words must belong to exactly one choice."""
    body = "\n".join(line for line in (text or "").splitlines() if line.strip() and not line.lstrip().startswith(">"))
    folded = fold_words(body)
    if not folded.strip() or len(folded) > 500:
        return Answer(None, "vide ou trop long")
    if _HESITATION.search(folded):
        return Answer(None, "hésitation")
    numbers = tuple(dict.fromkeys(int(n) for n in _NUMBER.findall(folded)))
    if numbers:
        if len(numbers) == 1 and 1 <= numbers[0] <= len(choices):
            return Answer(numbers[0], "numéro", numbers)
        # Numbers that are not a choice's number may be the choice's own words ("le 22 janvier"): the one choice
        # whose label holds them all.
        holding = [index + 1 for index, label in enumerate(choices)
                   if set(numbers) <= {int(n) for n in re.findall(r"\d{1,3}", label)}]
        if len(holding) == 1:
            return Answer(holding[0], "nombres du choix", numbers)
        return Answer(None, "plusieurs numéros ou hors des choix", numbers)
    said = _words(body)
    own = [_words(label) for label in choices]
    matched = []
    for index, words in enumerate(own):
        others = set().union(*(w for i, w in enumerate(own) if i != index)) if len(own) > 1 else set()
        distinctive = words - others
        if distinctive and distinctive & said:
            matched.append(index + 1)
    if len(matched) == 1:
        return Answer(matched[0], "mots du choix")
    return Answer(None, "aucun choix reconnu" if not matched else "plusieurs choix")
