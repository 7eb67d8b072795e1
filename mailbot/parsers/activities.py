"""Reading activities (issue 17, point 1): Aideur's `#activite` block of `clé : valeur` lines, and members' answers
to an activity's mail ("je m'inscris", "annuler", "plus intéressé"…). Pure: text in, values out, no database.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import Enum

from .commands import parse_price
from .consent import ConsentAnswer, consent_words_and, read_answer
from .dates import fold, parse_date

__all__ = ["KINDS", "ActivityBlock", "Answer", "BlockError", "answer_of", "asks_for_list", "parse_block",
           "parse_duration", "parse_when"]

# The kinds the club offers (the list), folded → as shown.
KINDS = {"formation": "formation", "conference": "conférence", "atelier": "atelier",
         "bureau express": "bureau express", "expert express": "expert express",
         "espace de travail": "espace de travail", "evenement": "événement", "reunion": "réunion"}

# Folded key → field. Each key is read at the start of a line ("titre: …", "- Places = 12").
_KEYS: dict[str, str] = {
    "type": "type", "genre": "type", "kind": "type",
    "titre": "title", "title": "title", "intitule": "title",
    "date": "date", "quand": "date", "le": "date", "when": "date",
    "duree": "duration", "duration": "duration",
    "lieu": "place", "adresse": "place", "place": "place", "where": "place", "visio": "visio", "lien": "visio",
    "places": "places", "nombre de places": "places", "capacite": "places", "seats": "places",
    "participation": "fee", "tarif": "fee", "prix": "fee", "fee": "fee", "cout": "fee",
    "inscriptions jusqu'au": "until", "inscriptions jusqu'a": "until", "inscription jusqu'au": "until",
    "inscriptions": "until", "jusqu'au": "until", "date limite": "until", "cloture des inscriptions": "until",
    "booking until": "until", "deadline": "until",
    "annulation jusqu'au": "cancel", "annulation": "cancel", "desistement jusqu'au": "cancel",
    "cancel until": "cancel",
    "competences": "skills", "competence": "skills", "public": "skills", "skills": "skills",
    "promotion": "promotion", "liste d'attente": "promotion",
}
_KEY_LINE = re.compile(r"^\s*[-*•]?\s*(?P<key>[a-z' ]{2,30}?)\s*[:=]\s*(?P<value>.*)$")
_TIME = re.compile(r"(?<!\d)(?P<h>[01]?\d|2[0-3])\s*(?:h|:)\s*(?P<m>[0-5]\d)?(?!\d)")
_DURATION = re.compile(r"(?P<n>\d+(?:[.,]\d+)?)\s*(?P<unit>h|heures?|hours?|min|minutes?|mn|j|jours?|days?)(?![a-z])"
                       r"(?:\s*(?P<m>\d{1,2}))?")
_NUMBER = re.compile(r"^\s*(\d{1,4})\b")
EXAMPLE = ("#activite\ntype: formation\ntitre: La facture électronique en 2027\ndate: 15/01/2027 14:00\n"
           "durée: 2 h\nlieu: Salle du Club, Lyon\nplaces: 12\nparticipation: 20 €\n"
           "inscriptions jusqu'au: 12/01/2027")


@dataclass(frozen=True)
class BlockError:
    line: str
    problem: str  # French, for Aideur


@dataclass
class ActivityBlock:
    kind: str = "formation"
    title: str = ""
    starts: datetime | None = None  # club-local, naive
    duration_minutes: int = 60
    place: str = ""
    places: int = 0
    fee: str = "gratuit"
    until: date | None = None
    cancel_until: date | None = None
    skills: str = ""
    auto_promote: bool = False
    text: str = ""
    given: set[str] = field(default_factory=set)  # the fields written (a change names only those)


def parse_when(value: str, today: date) -> datetime | None:
    """"15/01/2027 14:00", "15 janvier 2027 à 14 h", "le 15/01 14h30" → local naive datetime (9:00 with no hour)."""
    day, rest = parse_date(value, today)
    if day is None:
        return None
    folded = fold(rest or "")
    match = _TIME.search(folded)
    if match is None:
        # The time may come before the date's leftovers were split off: search the whole value.
        match = _TIME.search(re.sub(r"\d{1,4}[/.-]\d{1,2}(?:[/.-]\d{2,4})?", " ", fold(value)))
    hour = time(int(match.group("h")), int(match.group("m") or 0)) if match else time(9, 0)
    return datetime.combine(day, hour)


def parse_duration(value: str) -> int | None:
    """"2 h", "1h30", "90 min", "1 jour" → minutes."""
    match = _DURATION.search(fold(value))
    if match is None:
        number = _NUMBER.match(value)
        return int(number.group(1)) * 60 if number else None
    amount = float(match.group("n").replace(",", "."))
    unit = match.group("unit")
    if unit.startswith(("h", "hour")):
        return int(amount * 60) + int(match.group("m") or 0)
    if unit.startswith(("j", "day")):
        return int(amount * 7 * 60)  # a working day
    return int(amount)


def parse_block(lines: list[str], today: date, *, partial: bool = False) -> ActivityBlock | BlockError:
    """The `clé : valeur` lines (then the presentation text) of `#activite`. `partial`: a change (`modifier`),
    where only what is written is read and nothing is required."""
    block = ActivityBlock()
    text: list[str] = []
    for raw in lines:
        line = raw.strip()
        match = _KEY_LINE.match(fold(line)) if not text else None
        key = _KEYS.get(" ".join(match.group("key").split())) if match else None
        if match is None or key is None:
            if line or text:
                text.append(raw.rstrip())
            continue
        value = line[line.find(":") if ":" in line else line.find("="):][1:].strip()
        problem = _read_value(block, key, value, today)
        if problem:
            return BlockError(line, problem)
        block.given.add(key)
    block.text = "\n".join(text).strip()
    if partial:
        return block
    missing = [label for key, label in (("title", "titre"), ("date", "date"), ("places", "places"))
               if key not in block.given]
    if "place" not in block.given and "visio" not in block.given:
        missing.append("lieu (ou visio)")
    if missing:
        return BlockError("#activite", f"il manque : {', '.join(missing)}. Écrivez une ligne « clé : valeur » par "
                                       "information sous la commande, par exemple :\n" + EXAMPLE)
    return block


def _read_value(block: ActivityBlock, key: str, value: str, today: date) -> str:
    """Put one value in the block; the problem (French) when it cannot be read."""
    folded = fold(value).strip()
    if key == "type":
        kind = KINDS.get(" ".join(folded.split()))
        if kind is None:
            return f"type inconnu « {value} » : écrivez l'un de {', '.join(sorted(set(KINDS.values())))}."
        block.kind = kind
    elif key == "title":
        if not value:
            return "le titre est vide."
        block.title = value[:300]
    elif key == "date":
        starts = parse_when(value, today)
        if starts is None:
            return f"date illisible « {value} » : écrivez par exemple « 15/01/2027 14:00 »."
        if starts.date() < today:
            return f"la date « {value} » est passée."
        block.starts = starts
    elif key == "duration":
        minutes = parse_duration(value)
        if not minutes:
            return f"durée illisible « {value} » : écrivez par exemple « 2 h » ou « 90 min »."
        block.duration_minutes = minutes
    elif key in ("place", "visio"):
        if not value:
            return "le lieu est vide : écrivez l'adresse, ou « visio: » suivi du lien."
        block.place = value
        block.given.add("place")
    elif key == "places":
        number = _NUMBER.match(folded)
        if number is None or int(number.group(1)) < 1:
            return f"nombre de places illisible « {value} » : écrivez un nombre, par exemple « 12 »."
        block.places = int(number.group(1))
    elif key == "fee":
        amount = parse_price(value)
        if amount is None:
            return f"participation illisible « {value} » : écrivez un montant (« 20 € ») ou « gratuit »."
        block.fee = "gratuit" if amount == "0.00" else value
    elif key in ("until", "cancel"):
        day, _ = parse_date(value, today)
        if day is None:
            return f"date illisible « {value} » : écrivez par exemple « 12/01/2027 »."
        if key == "until":
            block.until = day
        else:
            block.cancel_until = day
    elif key == "skills":
        block.skills = value
    elif key == "promotion":
        block.auto_promote = folded.startswith(("auto", "directe", "immediate"))
    return ""


class Answer(str, Enum):
    BOOK = "book"
    CANCEL = "cancel"
    LEAVE = "leave"  # leave the waiting list
    STOP = "stop"  # "plus d'annonces": no more announcements at all
    UNCLEAR = "unclear"


_BOOK = re.compile(
    r"^(?:oui[\s,!.]*)?(?:je\s+m'?\s*inscri[st]?|je\s+souhaite\s+m'inscrire|je\s+veux\s+m'inscrire|"
    r"je\s+voudrais\s+m'inscrire|inscri(?:vez|re|s|ption)(?:-|\s)?(?:moi)?|je\s+viens|je\s+viendrai|"
    r"ok\s+pour\s+moi|d'accord\s+pour\s+moi|oui\s+je\s+participe|je\s+participe(?:rai)?|present(?:e)?|"
    r"partant(?:e)?|je\s+prends?\s+(?:la\s+)?place|j'accepte(?:\s+la\s+place)?|oui|ok|volontiers|"
    r"avec\s+plaisir|book|count\s+me\s+in|i'?m\s+in|yes)\b")
_CANCEL = re.compile(
    r"^(?:annul(?:er|e|ez|ation)|je\s+(?:me\s+)?desiste|je\s+me\s+retire|je\s+ne\s+(?:viendrai|pourrai|peux)\s+"
    r"(?:pas|plus)|desinscri(?:vez|re|ption)|je\s+ne\s+participerai\s+pas|cancel|non\b)")
_LEAVE = re.compile(r"^(?:plus\s+interesse(?:e)?|je\s+ne\s+suis\s+plus\s+interesse|retirez-moi\s+de\s+la\s+liste|"
                    r"(?:je\s+)?quitte(?:r)?\s+la\s+liste|no\s+longer\s+interested)")
_STOP = re.compile(r"^(?:(?:je\s+ne\s+veux\s+)?plus\s+d'annonces?|stop(?:\s+annonces?)?|ne\s+plus\s+recevoir"
                   r"(?:\s+d'annonces?|\s+les\s+annonces)?|desabonn(?:er|ez-moi|ement)|unsubscribe)\b")
# "oui, mais…", "je viens si…", a question: conditional answers are asked again, never taken for a yes.
_CONDITION = re.compile(r"\b(?:mais|sauf|si|seulement|peut-etre|sous\s+reserve|a\s+condition|but|if|maybe)\b|\?")


# A booking takes a seat someone else may be waiting for: like a consent, only a plain yes books. "Je viens pas",
# "Oui normalement", "Oui / sauf s'il pleut", "Je m'inscris. Par ailleurs je cherche un avocat" are asked again (and
# what they say reaches Aideur: nothing a member writes is lost).
_BOOKING_VOCABULARY = consent_words_and(
    yes=r"""
        je\s+m\s+inscri[st]? | je\s+(?:souhaite|veux|voudrais)\s+m\s+inscrire | inscri(?:vez|re|s|ption)(?:\s+moi)?
      | je\s+viens | je\s+viendrai | je\s+participe(?:rai)? | oui\s+je\s+participe | presente? | partante?
      | je\s+prends?\s+(?:la\s+)?place | book | count\s+me\s+in | i\s*m\s+in""",
    no=r"annul\w* | je\s+(?:me\s+)?desiste | je\s+me\s+retire | desinscri\w* | cancel",
    neutral=["place", "places", "seance", "atelier", "formation", "reunion", "soiree", "activite", "sortie", "visite",
             "evenement", "inscription", "cette", "fois", "aussi", "volontiers", "participer", "venir"],
)
_GREETING_LINE = re.compile(r"^(?:bonjour|bonsoir|salut|hello|coucou|cher|chere)\b[^.!?]{0,40}[,!.]?$")


def answer_of(text: str) -> Answer:
    """What a member's answer to an activity's mail says: its first line that is not a greeting, folded; a booking
    only if the whole answer is a plain yes."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip() and not line.startswith(">")]
    folded_lines = [" ".join(fold(line).replace("’", "'").split()) for line in lines]
    folded = next((line for line in folded_lines if not _GREETING_LINE.match(line)), "")
    if not folded:
        return Answer.UNCLEAR
    if _STOP.match(folded):
        return Answer.STOP
    if _LEAVE.match(folded):
        return Answer.LEAVE
    if _CANCEL.match(folded):
        return Answer.CANCEL
    if _BOOK.match(folded):
        if _CONDITION.search(folded) or read_answer(text, _BOOKING_VOCABULARY).answer is not ConsentAnswer.YES:
            return Answer.UNCLEAR
        return Answer.BOOK
    return Answer.UNCLEAR


_LIST = re.compile(r"^\s*(?:les\s+|vos\s+|prochaines?\s+)?(?:activites|formations|evenements|events|activities)"
                   r"(?:\s+(?:du\s+club|a\s+venir|ouvertes?))?\s*[.!?]*\s*$")


def asks_for_list(subject: str, text: str) -> bool:
    """Whether a fresh mail asks for the open activities: "activités" or "formations" alone as the subject or the
    first line."""
    first = next((line.strip() for line in (text or "").splitlines() if line.strip()), "")
    from .subjects import strip_subject_prefixes

    return any(_LIST.match(fold(candidate)) for candidate in (strip_subject_prefixes(subject or ""), first)
               if candidate)
