"""Skill matching: which members could help with a ticket, from their skills, particularities and hobbies.

The profile fields are free French text ("comptabilité, gestion de la paie ; randonnée"). Each word is folded
(lower case, accents dropped), stop words are removed, and it is stemmed with the French Snowball stemmer; the
resulting terms are stored in `member_terms` (one row per member, term and field, with the member's own word to
explain a match), rebuilt by `index_member` whenever the profile changes.

A ticket's text goes through the same steps; each of its words, or each group of the synonyms list it triggers,
is one *concept*. A member's score is the sum over the concepts they match of

    weight (1.0 the ticket's own word, 0.7 a synonym) x field weight (skills 1, particulars 0.8, hobbies 0.5)
    x IDF x (1 + ln(times the ticket says it)) x 1.5 if the concept is in the synonyms list

where IDF (BM25's; df = the index rows of a term, i.e. the profile fields that have it, N = the members) makes a
rare word count more than a common one, and the synonyms list, being the club's vocabulary of skills, tells a
skill ("paie", "allemand") from an incidental word of the mail ("Stuttgart", "catalogue"). A concept counts once,
in the member's best field. These weights were chosen on the 300-member quality set (the figures are in
tests/unit/test_matching.py). The candidates are selected in SQL (`term IN (...)` on the indexed column, joined
to the eligibility conditions), the df counts come from one GROUP BY over the query's terms only; the scoring is
done in Python on those rows (see `rank` for how the common words' rows are spared).

Accents: the stemmer needs them ("comptabilité" -> "comptabl", "comptabilite" -> "comptabilit"), so a word is
stemmed as written and the stem folded afterwards. A word written without any accent (members and their mail
often skip them) gets, besides that, the stems of its likely accented spellings at the end of the word ("-e" ->
"-é", "-ee" -> "-ée", "-ere" -> "-ère", and plurals): "comptabilite" gives "comptabilit" and "comptabl", and
matches "comptable" as "comptabilité" does. A word is matched when any of its terms is.

Synonyms: `mailbot/data/synonymes.txt`, plus the operator's file if configured: one group per line of
comma-separated equivalent words or expressions ("paie, salaire, bulletin de salaire"). They are applied when
ranking, not when indexing, so editing the list needs no re-indexing. An expression of several words
("bulletin de salaire", "site internet") is matched as a sequence of stems in the ticket (stop words skipped)
and, in a profile, when the member has all its words in the same field (the index keeps no positions). Measured
on the 300-member quality set against simply expanding each word of the group separately: see the figures in
tests/unit/test_matching.py.
"""
from __future__ import annotations

import heapq
import math
import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

# PyStemmer (the Snowball project's C stemmers wrapped for Python) rather than the pure-Python snowballstemmer:
# both run the same French Snowball algorithm and gave identical stems on every word of our test corpora, but
# PyStemmer measured 0.4 us a word against 32 us (x77), which counts for every new word of a profile or a long
# mail (each distinct word is stemmed once, see word_terms' cache). snowballstemmer itself uses PyStemmer when
# it is installed.
import Stemmer
from sqlalchemy import Select, bindparam, delete, func, insert, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from mailbot.db import read
from mailbot.models import Member, MemberTerm
from mailbot.parsers.rules import fold_words

BUILTIN_SYNONYMS = Path(__file__).resolve().parent / "data" / "synonymes.txt"

FIELD_WEIGHTS = {"s": 1.0, "p": 0.8, "h": 0.5}  # skills > particulars > hobbies
FIELD_LABELS = {"s": "compétences", "p": "particularités", "h": "loisirs"}
FIELD_ORDER = {"s": 0, "p": 1, "h": 2}
ORIGINAL_WEIGHT = 1.0
SYNONYM_WEIGHT = 0.7
VOCABULARY_BOOST = 1.5
TERM_MAX = 60  # member_terms.term is String(60)
WORD_MAX = 100  # member_terms.word is String(100)

# French function words, then the words every request or profile uses and that would match everybody
# ("bonjour, je cherche quelqu'un pour m'aider avec un client"). Compared folded (without accents), and also by
# stem, so "clientes" or "problèmes" go too.
STOP_WORDS_TEXT = """
a à afin ai aie aient aies ait alors as au aucun aucune aupres auquel aura aurai auraient aurais aurait auras
aurez auriez aurions aurons auront aussi autre autres aux auxquelles auxquels avaient avais avait avant avec avez
aviez avions avoir avons ayant ayez ayons bah beaucoup bien bon bonne c ca car ce ceci cela celle celles celui
cependant certain certaine certaines certains ces cet cette ceux chacun chacune chaque chez ci comme comment d
dans de des desquelles desquels deux dois doit donc dont du duquel elle elles en encore entre es est et etaient
etais etait etant ete etes etiez etions etre eu eue eues eurent eus eusse eut eux fais fait faire faites faut
fois font furent fus fut ici il ils j je jusqu jusque l la laquelle le lequel les lesquelles lesquels leur
leurs lui m ma mais me meme memes mes moi moins mon n ne ni non nos notre nous on ont ou où par parce pas peu
peut peuvent peux plus plusieurs pour pourquoi pourrait pourraient pourrais pourriez pouvez pouvoir puis puisque
qu quand que quel quelle quelles quels qui quoi s sa sans se sera serai seraient serais serait seras serez
seriez serions serons seront ses si sien sienne soi soient sois soit sommes son sont sous suis sur t ta te tes
toi ton tous tout toute toutes tres tu un une unes uns vais va vers via voici voila vont vos votre vous y
deja ensuite egalement ainsi etc svp stp oui
bonjour bonsoir salut hello madame monsieur mesdames messieurs cher chere chers cheres merci remerciement
remerciements cordialement cordiales salutations amicalement bien bise bises
besoin besoins aide aides aider aidant cherche cherchons chercher recherche recherchons rechercher trouver
quelqu quelque quelques quelqu'un chose choses personne personnes gens
probleme problemes souci soucis question questions demande demandes demander urgent urgente urgence rapidement
vite idee idees avis conseil conseils conseiller eclairer eclairage piste pistes info infos information
informations renseignement renseignements savoir sait sais connait connais connaitre connaissance connaissances
client clients cliente clientes entreprise entreprises boite structure membre membres club tant
collegue collegues contact contacts
mon ma mes notre actuellement aujourd hui demain hier jour jours semaine semaines mois an ans annee annees
moment temps fois cas sujet niveau part vrai vraiment petit petite petits grand grande nouveau nouvelle
disponible dispo dispos experience experiences experimente competence competences loisir loisirs
professionnel professionnelle professionnels professionnelles pro
particularite particularites profil domaine domaines
parle parler parlant premier premiers premiere premieres ancien ancienne anciens anciennes genre type coup main
voudrais voudrait veux veut voulons souhaite souhaiterais aimerais aimerait dois devons devez doivent faut
pourriez pourrions expliquer comprendre recu recue recus prochain prochaine dernier derniere nouveaux nouvelles
fortement gros grosse bons bonnes meilleur lors depuis avance
"""


fold = fold_words  # the shared rule (mailbot.parsers.rules): lower case, no accents, ligatures spelled out


_STEMMER = Stemmer.Stemmer("french")
STOP_WORDS = frozenset(fold(w) for w in STOP_WORDS_TEXT.split())
STOP_STEMS = frozenset(fold(_STEMMER.stemWord(w)) for w in STOP_WORDS_TEXT.split() if len(w) > 3)

# Elided articles and pronouns ("l'informatique", "d'entreprise", "qu'un"), with either apostrophe. The one-letter
# ones as a character class: the same matches (checked on every code point), half the time of an alternation.
_ELISION = re.compile(r"\b(?:[ldjmnstc]|qu|jusqu|lorsqu|puisqu|quoiqu)['’]", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+(?:\+\+|#)?")  # letters (any script); "c++" and "c#" kept whole
# Likely accented endings of a word written without accents (see the module docstring).
_ACCENT_ENDINGS = (("ees", "ées"), ("ee", "ée"), ("es", "és"), ("e", "é"), ("eres", "ères"), ("ere", "ère"))


@lru_cache(maxsize=50_000)
def word_terms(word: str) -> frozenset[str]:
    """The terms of one lower-case word: its folded stem, plus those of its accented spellings if it has none.

    Empty for a stop word or a one-letter word."""
    folded = fold(word)
    if len(folded) < 2 or folded in STOP_WORDS:
        return frozenset()
    terms = {fold(_STEMMER.stemWord(word))}
    if folded == word:  # no accent at all: maybe omitted
        for plain, accented in _ACCENT_ENDINGS:
            if folded.endswith(plain) and len(folded) > len(plain) + 2:
                terms.add(fold(_STEMMER.stemWord(folded[: -len(plain)] + accented)))
    terms = {t[:TERM_MAX] for t in terms if t and t not in STOP_STEMS}
    return frozenset(terms)


# --- what a request does not ask for: generic work words, quantities ------------------------------------------
# Words every request may use about its work without naming a skill ("un projet", "ce travail", "une page", "nos
# ateliers", "aux normes"). Unlike the stop words they stay in the index and in the synonyms list, because they
# are part of skills that are expressions ("droit du travail", "gestion de projet", "mise en page"): a request's
# generic word counts only inside such an expression, never alone (issue 12: "travail" and "page" matched).
GENERIC_WORDS_TEXT = """
travail travaux projet projets page pages dossier dossiers atelier ateliers norme normes tache taches mission
missions solution solutions outil outils equipe equipes chose choses
"""
# Units of measure after a number ("6 pages", "3 jours", "200 euros", "80 m2"): a quantity, not a skill; dropped
# like a generic word (kept inside an expression: "10 heures supplémentaires").
UNITS_TEXT = """
page pages feuillet feuillets mot mots ligne lignes caractere caracteres jour jours semaine semaines mois an ans
annee annees heure heures h min minute minutes seconde secondes euro euros eur e k ke keur centime centimes m m2
m3 km cm mm kg g t tonne tonnes l litre litres metre metres degre degres c pourcent pourcents fois go mo to kw
kwh watt watts
"""
# A number written in words counts too ("deux jours", "quelques semaines").
_NUMBER_WORDS = frozenset(["deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix", "onze", "douze", "treize", "quatorze", "quinze", "seize", "vingt", "trente", "quarante", "cinquante", "soixante", "cent", "cents", "mille", "million", "millions", "quelques", "plusieurs"])
GENERIC_STEMS = frozenset(fold(_STEMMER.stemWord(w)) for w in GENERIC_WORDS_TEXT.split())
UNITS = frozenset(fold(w) for w in UNITS_TEXT.split())
_TOKEN = re.compile(r"(?P<number>\d+(?:[ .,\u00a0\u202f]\d+)*)|(?P<word>[^\W\d_]+(?:\+\+|#)?)|(?P<sign>[€%°²³])")

# --- senses: one word, several trades --------------------------------------------------------------------------
# Stemming makes "réseau" and "réseaux" one term; but a professional network, computer networks and social
# networks are three trades. A word of this table is given its sense from the words around it (the profile item
# it is in, the request's sentence): the term becomes "reseau~info". In a profile, a word with a sense has only
# that term; without one (a bare "réseau"), only the plain term. In a request, a word with a sense matches the
# same sense or a bare profile word; a bare request word matches every sense. So a request never crosses a sense
# boundary that either side states, and loses nothing when neither states one. Small and curated: a word goes
# here only when the club's members use it for different trades (measured: tests/data/matching_requests_12.json).
_SENSES: dict[str, dict[str, tuple[str, ...]]] = {
    "reseau": {  # qualifiers: folded word beginnings
        "info": ("informati", "wifi", "wi-fi", "serveur", "internet", "ethernet", "cabl", "routeur", "switch",
                 "vpn", "administrat", "local", "locaux", "lan", "fibre", "box", "telecom", "telephonie",
                 "securit", "poste", "connexion", "debit", "intranet", "cyber", "pare-feu", "firewall"),
        "social": ("sociaux", "social", "facebook", "linkedin", "instagram", "twitter", "tiktok", "community",
                   "publication", "abonne"),
        "pro": ("professionn", "relation", "relationnel", "contact", "partenai", "prescript", "reseautage",
                "networking", "affaires", "dirigeant", "entrepreneur", "vente", "distribution", "franchis",
                "commercia", "carnet", "apporteur", "club", "rencontr"),
    },
    "secur": {
        "info": ("informati", "cyber", "reseau", "donnee", "piratage", "virus", "ransomware", "phishing",
                 "intrusion", "pare-feu", "serveur", "logiciel", "numerique", "internet"),
        "incendie": ("incendie", "travail", "erp", "evacuation", "extincteur", "chantier", "sst", "secouris",
                     "prevention", "commission", "alarme", "batiment", "electrique"),
    },
}
_SENSES["securit"] = _SENSES["secur"]
SENSE_MARK = "~"
_CLAUSE = {"profile": re.compile(r"[,;\n/•]|\s-\s|\bet\b"), "query": re.compile(r"[.!?;:\n]")}


@dataclass(frozen=True)
class Word:
    """One meaningful word of a text: as written, its terms, and whether a request may ignore it (a generic
    word, or a unit after a number) unless it is part of an expression of the synonyms list."""

    text: str
    terms: frozenset[str]
    generic: bool = False


def words_of(text: str) -> list[tuple[str, frozenset[str]]]:
    """(word as written, its terms) for each meaningful word of a text, in order; stop words dropped.
    A word of the senses table gets the term of its sense when the words around it say it (as in a profile)."""
    return [(word.text, word.terms) for word in read_words(text, "profile")]


def read_words(text: str, mode: str = "profile") -> list[Word]:
    """The meaningful words of `text` ("profile": as the index stores them; "query": as a request asks)."""
    text = _ELISION.sub(" ", text or "")
    result: list[Word] = []
    after_number = False
    for match in _TOKEN.finditer(text):
        if match.lastgroup != "word":
            after_number = match.lastgroup == "number"
            continue
        word = match.group()
        unit_word, number_word, terms = _word_facts(word)
        unit = after_number and unit_word
        after_number = number_word
        if not terms:
            continue
        if not terms.isdisjoint(_SENSES):
            terms = _with_sense(terms, text, match.start(), match.end(), mode)
        generic = unit or bool(terms & GENERIC_STEMS)
        result.append(Word(word, terms, generic))
    return result


@lru_cache(maxsize=50_000)
def _word_facts(word: str) -> tuple[bool, bool, frozenset[str]]:
    """What read_words needs of one word as written: whether it is a unit, a number in words, and its terms.

    Cached because every mail repeats the same few thousand words and folding (Unicode normalisation) was most
    of read_words' time; the answer depends on the word alone."""
    lower = word.lower()
    folded = fold(lower)
    return folded in UNITS, folded in _NUMBER_WORDS, word_terms(lower)


def _with_sense(terms: frozenset[str], text: str, start: int, end: int, mode: str) -> frozenset[str]:
    ambiguous = [t for t in terms if t in _SENSES]
    if not ambiguous:
        return terms
    sense = _sense(_SENSES[ambiguous[0]], text, start, end, _CLAUSE[mode])
    plain = terms - set(ambiguous)
    if mode == "profile":
        return plain | ({f"{t}{SENSE_MARK}{sense}" for t in ambiguous} if sense else set(ambiguous))
    senses = [sense] if sense else list(_SENSES[ambiguous[0]])
    return plain | set(ambiguous) | {f"{t}{SENSE_MARK}{s}" for t in ambiguous for s in senses}


def _sense(table: dict[str, tuple[str, ...]], text: str, start: int, end: int, clause: re.Pattern[str]) -> str:
    """The sense the clause around text[start:end] gives the word: the one whose qualifier stands nearest."""
    left = max((m.end() for m in clause.finditer(text, 0, start)), default=0)
    found = clause.search(text, end)
    right = found.start() if found else len(text)
    best: tuple[int, str] | None = None
    for match in re.finditer(r"[^\W\d_][\w'-]*", fold_words(text[left:right])):
        position = left + match.start()
        if left + match.start() == start:
            continue
        for sense, qualifiers in table.items():
            if match.group().startswith(qualifiers):
                distance = abs(position - start)
                if best is None or distance < best[0]:
                    best = (distance, sense)
    return best[1] if best else ""


def terms_of(text: str) -> list[tuple[str, str]]:
    """(term, original word) for a text: folded, tokenised, stop words dropped, stemmed.

    A word written without accents may give two or three terms (its stem and those of its accented spellings),
    hence several pairs with the same original word."""
    return [(term, word) for word, terms in words_of(text) for term in sorted(terms)]


# --- the index --------------------------------------------------------------------------------------------------


def member_rows(member_id: int, skills: str, hobbies: str, particulars: str) -> list[dict[str, object]]:
    """The member_terms rows of a profile: one per (term, field), with the first word that gave it."""
    rows: dict[tuple[str, str], str] = {}
    for code, text in (("s", skills), ("h", hobbies), ("p", particulars)):
        for term, word in terms_of(text or ""):
            rows.setdefault((term, code), word[:WORD_MAX])
    return [{"member_id": member_id, "term": term, "field": code, "word": word}
            for (term, code), word in rows.items()]


def index_member(session: Session, member: Member) -> None:
    """Rebuild this member's rows of the matching index from their current profile (empty fields, no rows).

    Call it whenever skills, hobbies or particulars change, and after erasing a member (their fields are empty
    then, so their rows go)."""
    if member.id is None:
        session.flush()
    session.execute(delete(MemberTerm).where(MemberTerm.member_id == member.id))
    rows = member_rows(member.id, member.skills, member.hobbies, member.particulars)
    if rows:
        session.execute(insert(MemberTerm), rows)


# --- synonyms ---------------------------------------------------------------------------------------------------

Slot = frozenset  # the terms of one word: a profile word matches the slot when it has any of them
Expression = tuple  # tuple[Slot, ...]: a word or a sequence of words


class Synonyms:
    """Groups of equivalent words or expressions, each expression a sequence of slots (the terms of a word)."""

    def __init__(self, groups: Iterable[Sequence[Expression]] = ()) -> None:
        self.groups: list[tuple[Expression, ...]] = []
        self._single: dict[str, set[int]] = defaultdict(set)  # term -> groups with that one-word expression
        self._multi: dict[str, list[tuple[int, Expression]]] = defaultdict(list)  # first-word term -> expressions
        for group in groups:
            self.add_group(group)

    def add_group(self, expressions: Sequence[Expression]) -> None:
        unique = tuple(dict.fromkeys(e for e in expressions if e))
        if len(unique) < 2:
            return
        index = len(self.groups)
        self.groups.append(unique)
        for expression in unique:
            if len(expression) == 1:
                for term in expression[0]:
                    self._single[term].add(index)
            else:
                for term in expression[0]:
                    self._multi[term].append((index, expression))

    @classmethod
    def parse(cls, text: str) -> Synonyms:
        synonyms = cls()
        for line in text.splitlines():
            line = line.split("#", 1)[0].strip()
            if line:
                synonyms.add_group([tuple(terms for _, terms in words_of(part)) for part in line.split(",")])
        return synonyms

    def merged(self, other: Synonyms) -> Synonyms:
        return Synonyms([*self.groups, *other.groups])

    def __len__(self) -> int:
        return len(self.groups)

    def expand(self, stems: Iterable[str]) -> dict[str, float]:
        """stem -> weight: the given stems 1.0, the stems of their groups' other expressions 0.7 (every word of
        a multi-word expression). The simple view; `rank` matches multi-word expressions as sequences."""
        result = {stem: ORIGINAL_WEIGHT for stem in stems}
        for stem in list(result):
            for index in self._single.get(stem, ()):
                for expression in self.groups[index]:
                    for slot in expression:
                        for term in slot:
                            result.setdefault(term, SYNONYM_WEIGHT)
        return result

    def groups_of_word(self, slot: Slot) -> set[int]:
        groups: set[int] = set()
        for term in slot:  # a plain loop: called for every word of a request, most of them in no group
            found = self._single.get(term)
            if found:
                groups |= found
        return groups

    def expressions_at(self, slots: Sequence[Slot], start: int) -> list[tuple[int, Expression]]:
        """The multi-word expressions whose words are the query's words from `start` on, longest first."""
        found = []
        for term in slots[start]:
            for index, expression in self._multi.get(term, ()):
                if len(expression) <= len(slots) - start and all(
                        slot & slots[start + k] for k, slot in enumerate(expression)):
                    found.append((index, expression))
        return sorted(found, key=lambda item: -len(item[1]))


def load_synonyms(extra_file: Path | None = None) -> Synonyms:
    """The built-in list, plus the operator's file when given (a missing or unreadable one raises ValueError).

    Parsed once per version of the files (cached by modification time and size): cheap to call per ticket,
    and an edit of the operator's file is taken into account at the next call. The object is shared: read only."""
    builtin = _parsed_file(BUILTIN_SYNONYMS, *_file_version(BUILTIN_SYNONYMS))
    if extra_file is None:
        return builtin
    try:
        version = _file_version(Path(extra_file))
        extra = _parsed_file(Path(extra_file), *version)
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"fichier de synonymes illisible : {extra_file} ({error})") from error
    return _merged(builtin, extra)


def _file_version(path: Path) -> tuple[int, int]:
    status = path.stat()
    return status.st_mtime_ns, status.st_size


@lru_cache(maxsize=16)
def _parsed_file(path: Path, _mtime_ns: int, _size: int) -> Synonyms:
    return Synonyms.parse(path.read_text(encoding="utf-8"))


@lru_cache(maxsize=16)
def _merged(builtin: Synonyms, extra: Synonyms) -> Synonyms:
    return builtin.merged(extra)


# --- ranking ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    member_id: int
    score: float
    # (field label: "compétences" / "particularités" / "loisirs", the matched word as the member wrote it)
    reasons: tuple[tuple[str, str], ...]

    @property
    def reason_text(self) -> str:
        """"paie, salaires (compétences) ; randonnée (loisirs)"."""
        by_label: dict[str, list[str]] = {}
        for label, word in self.reasons:
            words = by_label.setdefault(label, [])
            if word not in words:
                words.append(word)
        return " ; ".join(f"{', '.join(words)} ({label})" for label, words in by_label.items())


@dataclass
class Concept:
    """One thing the ticket asks for: a word, or a group of synonyms it triggered. Counted once per member."""

    alternatives: dict[Expression, float] = field(default_factory=dict)  # expression -> weight
    vocabulary: bool = False  # found in the synonyms list: names a skill, rather than an incidental word
    count: int = 0  # how many times the ticket says it

    def add(self, expression: Expression, weight: float) -> None:
        if weight > self.alternatives.get(expression, 0.0):
            self.alternatives[expression] = weight


def concepts_of(text: str, synonyms: Synonyms, *, drop_generic: bool = True) -> list[Concept]:
    """The ticket's concepts: multi-word synonym expressions found in it (longest first), then its other words,
    each with its synonym groups. A word or group met twice is one concept. Generic words and units after a
    number count only inside an expression (`drop_generic=False`: Aideur's own list of skills, taken as is)."""
    words = read_words(text, "query")
    slots = [word.terms for word in words]
    by_key: dict[object, Concept] = {}
    covered: set[int] = set()

    def concept_of(key: object, groups: set[int]) -> Concept:
        """The concept of `key`; a new one gets the expressions of its synonym groups. (An existing one has them
        already: a groups key always comes with the same groups, and adding them again would change nothing.)"""
        concept = by_key.get(key)
        if concept is None:
            concept = by_key[key] = Concept(vocabulary=bool(groups))
            for index in groups:
                for expression in synonyms.groups[index]:
                    concept.add(expression, SYNONYM_WEIGHT)
        return concept

    for start in range(len(slots)):
        if start in covered:
            continue
        found = synonyms.expressions_at(slots, start)
        if not found:
            continue
        length = len(found[0][1])
        groups = {index for index, expression in found if len(expression) == length}
        concept = concept_of(("groups", frozenset(groups)), groups)  # groups is never empty here
        concept.add(tuple(slots[start:start + length]), ORIGINAL_WEIGHT)
        concept.count += 1
        covered.update(range(start, start + length))
    for position, slot in enumerate(slots):
        if position in covered or (drop_generic and words[position].generic):
            continue
        groups = synonyms.groups_of_word(slot)
        key: object = ("groups", frozenset(groups)) if groups else ("word", slot)
        concept = concept_of(key, groups)
        concept.add((slot,), ORIGINAL_WEIGHT)
        concept.count += 1
    return list(by_key.values())


def idf(total: int, df: int) -> float:
    """BM25's IDF, always positive: ln(1 + (N - df + 0.5) / (df + 0.5))."""
    return math.log(1.0 + (max(total, df) - df + 0.5) / (df + 0.5))


def eligible_conditions(*, excluding: bool, eligible: bool = True) -> list[ColumnElement[bool]]:
    """Who may be asked: active, accepting appeals, with an address that does not bounce (`eligible=False`:
    anyone not erased, to tell Aideur why a member who would match was not asked); `excluding`: nor the members
    of the bound parameter "excluded"."""
    conditions: list[ColumnElement[bool]] = [Member.email.is_not(None)]
    if eligible:
        conditions += [Member.status == "active", Member.accepts_appeals.is_(True), Member.bounced_at.is_(None)]
    if excluding:
        conditions.append(Member.id.not_in(bindparam("excluded", expanding=True)))
    return conditions


# rank's reads, built once (mailbot.db.read): a new request ranks the members in up to five queries (the dfs with
# the member count; the index rows, in up to three parts when the ticket has common words; the kept members' words).
MEMBER_COUNT = select(func.count()).select_from(Member)
TERM_DFS = (select(MemberTerm.term, func.count()).where(MemberTerm.term.in_(bindparam("terms", expanding=True)))
            .group_by(MemberTerm.term))
# Both in one query (one round trip, one snapshot): each df row also carries the member count, as an uncorrelated
# subquery the database evaluates once. No row means no term is in any profile: then rank needs no count.
TERM_DFS_WITH_TOTAL = TERM_DFS.add_columns(MEMBER_COUNT.scalar_subquery())


@cache
def postings_statement(*, words: bool, eligible: bool, excluding: bool, restricted: bool) -> Select[*tuple[Any, ...]]:
    """The index rows of the bound "terms" (for the members of "member_ids" when `restricted`) of the members
    who may be asked; `words`: with the member's own word. One statement per combination, built once."""
    columns = [MemberTerm.member_id, MemberTerm.term, MemberTerm.field] + ([MemberTerm.word] if words else [])
    query = select(*columns).join(Member, Member.id == MemberTerm.member_id).where(
        MemberTerm.term.in_(bindparam("terms", expanding=True)),
        *eligible_conditions(excluding=excluding, eligible=eligible))
    return query.where(MemberTerm.member_id.in_(bindparam("member_ids", expanding=True))) if restricted else query


def rank(session: Session, text: str, *, synonyms: Synonyms, exclude_member_ids: Collection[int] = (),
         limit: int = 5, skills: str | None = None, eligible: bool = True) -> list[Match]:
    """The members best suited to help with `text`, best first, at most `limit`, each with the matched words.

    Only members who can be asked: status "active", accepting appeals, with an address that has not bounced,
    and not in `exclude_member_ids` (the requester). `eligible=False` ranks every member not erased: what Aideur
    is told when fewer members than he asked for could be asked.

    `skills`, when given (Aideur's explicit targeting, "compétences: paie, droit social"), replaces `text` as
    the query, and the skills field dominates: members are ranked first by what matches in their skills, and
    only then by matches in their particularities and hobbies (which thus only fill the places left, and break
    ties). Aideur named skills: someone who merely has it as a hobby should not come before a professional.

    The work, for a ticket among 10,000 members (bench/matching.py): one GROUP BY for the df of the query's
    terms (index only); the rows of the rarer concepts' terms, joined to the eligibility conditions; the rows of
    the common concepts' terms ("gestion", "commercial": thousands of rows, little weight) only for the members
    already found — unless their most possible score could still reach the top `limit`, then for everybody
    (MaxScore: the result is exact either way); scoring in Python; the member's own words fetched for the few
    members kept.
    """
    skills_first = bool(skills and skills.strip())
    concepts = concepts_of((skills or "") if skills_first else (text or ""), synonyms, drop_generic=not skills_first)
    terms = sorted({term for concept in concepts for expression in concept.alternatives
                    for slot in expression for term in slot})
    if not terms or limit <= 0:
        return []
    rows = read(session, TERM_DFS_WITH_TOTAL, {"terms": terms}).all()
    if not rows:
        return []  # none of the query's terms is in any profile: Plan would find nothing to match
    total = rows[0][2] or 0
    dfs: dict[str, int] = {term: df for term, df, _ in rows}
    plan = Plan(concepts, dfs, total, skills_first)
    if not plan.terms:
        return []

    excluded = sorted(exclude_member_ids)

    def postings(wanted: Collection[str], member_ids: Collection[int] | None = None,
                 words: bool = False) -> Sequence[tuple[Any, ...]]:
        query = postings_statement(words=words, eligible=eligible, excluding=bool(excluded),
                                   restricted=member_ids is not None)
        params: dict[str, Any] = {"terms": sorted(wanted), "excluded": excluded}
        # .all(): one fetchall, not a fetchone per row as iterating the result does (same rows, same order)
        if member_ids is None:
            return read(session, query, params).all()
        found: list[tuple[Any, ...]] = []
        ordered = sorted(member_ids)
        for offset in range(0, len(ordered), 1000):
            found.extend(read(session, query, params | {"member_ids": ordered[offset:offset + 1000]}).all())
        return found

    common = plan.common_terms(total)
    rare = plan.terms - common
    best: Scores = {}
    if rare and common:
        # Folding rows in is idempotent (a best per member and concept): rows fetched twice do no harm.
        plan.accumulate(postings(rare), best)
        complete = False
        if best and len(best) <= PRUNE_MAX_CANDIDATES:
            plan.accumulate(postings(common, best.keys()), best)
            ranked = plan.ranked(best, limit)
            # A member outside `best` has only common concepts: at most their summed upper bounds.
            complete = len(ranked) == limit and plan.bound(common) < ranked[-1][0][0]
        if not complete:
            plan.accumulate(postings(common), best)
    else:
        plan.accumulate(postings(plan.terms), best)
    kept = [member_id for _, member_id, _ in plan.ranked(best, limit)]
    if not kept:
        return []
    # The same scores again for the few members kept, now with their own words for the reasons (the same plan:
    # it depends only on the concepts, dfs, total and skills_first, and scoring does not change it).
    return plan.matches(postings(plan.terms, kept, words=True), limit=limit)


PRUNE_COMMON_FRACTION = 0.02  # a term in more than 2 % of the profiles (and 20 rows) is "common"
PRUNE_MAX_CANDIDATES = 3000  # beyond that, fetching everything is as cheap as fetching for the candidates

Scores = dict[int, dict[tuple[int, int], tuple[float, str, str]]]  # member -> (concept, bucket) -> best match


class Plan:
    """How each index row counts for a ticket: the value of every (term, field) for each concept it serves."""

    def __init__(self, concepts: list[Concept], dfs: dict[str, int], total: int, skills_first: bool) -> None:
        self.dfs = dfs
        # One-word alternatives: (term, field) -> ((concept, bucket), value) — the value of the alternative
        # (weight x IDF of its rarest word x the ticket's repetition x the vocabulary boost) x the field weight.
        # A word's df is that of its most frequent term (about the df of their union).
        single: dict[tuple[str, str], list[tuple[tuple[int, int], float]]] = defaultdict(list)
        self.multi: dict[str, list[tuple[int, int, int]]] = defaultdict(list)  # term -> (concept, alt, word nr)
        self.multi_alternatives: list[tuple[int, float, int]] = []  # (concept, value, words)
        self.upper: list[float] = [0.0] * len(concepts)  # a concept's most possible value
        self.concept_terms: list[set[str]] = [set() for _ in concepts]
        self.skills_first = skills_first
        top_weight = max(FIELD_WEIGHTS.values())
        # (field, its weight, the bucket a match in it counts in): with skills_first, all but skills come second
        fields = [(code, field_weight, 1 if skills_first and code != "s" else 0)
                  for code, field_weight in FIELD_WEIGHTS.items()]
        for c, concept in enumerate(concepts):
            repetition = 1.0 + math.log(max(concept.count, 1))
            boost = VOCABULARY_BOOST if concept.vocabulary else 1.0
            for expression, weight in concept.alternatives.items():
                slot_dfs = [max([dfs.get(t, 0) for t in slot], default=0) for slot in expression]
                if not all(slot_dfs):
                    continue  # some word of it is in nobody's profile
                value = weight * idf(total, min(slot_dfs)) * repetition * boost
                self.upper[c] = max(self.upper[c], value * top_weight)
                self.concept_terms[c].update(t for slot in expression for t in slot if dfs.get(t))
                if len(expression) == 1:
                    for term in expression[0]:
                        for code, field_weight, bucket in fields:
                            single[(term, code)].append(((c, bucket), value * field_weight))
                else:
                    a = len(self.multi_alternatives)
                    self.multi_alternatives.append((c, value, len(expression)))
                    for k, slot in enumerate(expression):
                        for term in slot:
                            self.multi[term].append((c, a, k))
        self.single = {key: tuple(entries) for key, entries in single.items()}
        self.terms: set[str] = set().union(*self.concept_terms) if concepts else set()

    def common_terms(self, total: int) -> set[str]:
        """The terms of the concepts made only of common terms (those cost many rows for little weight)."""
        threshold = max(20, total * PRUNE_COMMON_FRACTION)
        common: set[str] = set()
        for terms in self.concept_terms:
            if terms and all(self.dfs.get(t, 0) > threshold for t in terms):
                common |= terms
        rare = set().union(*(t for t in self.concept_terms if not t <= common)) if self.concept_terms else set()
        return common - rare

    def bound(self, terms: set[str]) -> float:
        """The most a member could score from the concepts that any of `terms` serves."""
        return math.fsum(u for u, ts in zip(self.upper, self.concept_terms, strict=False) if ts & terms)

    def accumulate(self, rows: Iterable[tuple[Any, ...]], best: Scores) -> None:
        """Fold index rows (member_id, term, field[, word]) into each member's best match per concept."""
        single, multi = self.single, self.multi
        partial: dict[tuple[int, int, str], dict[int, str]] = {}
        for row in rows:
            member_id, term, code = row[0], row[1], row[2]
            word = row[3] if len(row) > 3 else ""
            entries = single.get((term, code))
            if entries:
                found = best.get(member_id)
                if found is None:
                    found = best[member_id] = {}
                for key, value in entries:
                    current = found.get(key)
                    # ties: the same word whatever the rows' order
                    if current is None or value > current[0] or (value == current[0] and word < current[2]):
                        found[key] = (value, code, word)
            if term in multi:
                for c, a, k in multi[term]:
                    seen = partial.setdefault((member_id, a, code), {})
                    seen.setdefault(k, word)
                    _, value, size = self.multi_alternatives[a]
                    if len(seen) == size:
                        joined = " ".join(seen[i] for i in sorted(seen))
                        key = (c, 1 if self.skills_first and code != "s" else 0)
                        value *= FIELD_WEIGHTS[code]
                        found = best.setdefault(member_id, {})
                        current = found.get(key)
                        if current is None or value > current[0] or (value == current[0] and joined < current[2]):
                            found[key] = (value, code, joined)

    def ranked(self, best: Scores, limit: int) -> list[tuple[tuple[float, float], int, dict[tuple[int, int], tuple[float, str, str]]]]:
        """((main, other), member_id, matches) for the best `limit` members: highest score, then lowest id."""
        totals = []
        for member_id, found in best.items():
            # fsum: exactly rounded, so the same whatever the order of the rows (ties stay ties on both databases)
            if self.skills_first:
                main = math.fsum(v for (_, bucket), (v, _, _) in found.items() if bucket == 0)
                other = math.fsum(v for (_, bucket), (v, _, _) in found.items() if bucket == 1)
            else:  # every key is in bucket 0 (see __init__ and accumulate): one pass, `other` an empty sum
                main, other = math.fsum(v for v, _, _ in found.values()), 0.0
            totals.append(((main, other), member_id, found))
        return heapq.nsmallest(limit, totals, key=lambda item: (-item[0][0], -item[0][1], item[1]))

    def matches(self, postings: Iterable[tuple[Any, ...]], *, limit: int) -> list[Match]:
        """Rank the members of `postings` (member_id, term, field, word): the best `limit`, with their reasons."""
        best: Scores = {}
        self.accumulate(postings, best)
        matches = []
        for (main, other), member_id, found in self.ranked(best, limit):
            reasons = sorted(found.values(), key=lambda r: (FIELD_ORDER[r[1]], -r[0], r[2]))
            total = round(main + other * (0.01 if self.skills_first else 1.0), 4)
            matches.append(Match(member_id=member_id, score=total,
                                 reasons=tuple((FIELD_LABELS[code], word) for _, code, word in reasons)))
        return matches


def score(postings: Iterable[tuple[Any, ...]], concepts: list[Concept], dfs: dict[str, int], total: int,
          *, limit: int, skills_first: bool = False) -> list[Match]:
    """Rank the members of `postings` (member_id, term, field, word) for the concepts; dfs: term -> rows."""
    return Plan(concepts, dfs, total, skills_first).matches(postings, limit=limit)
