"""Members' own requests by mail: the filled-in profile form, the acceptance of the conditions, short requests
(join, change profile, end membership, erase data), "oui"/"non" confirmations and helpers' answers to an appeal.

Everything here reads plain text and decides nothing: the caller stores, asks again or forwards to Aideur.

Reading the form (`parse_form`):

* A field line is "label : value" (or "label = value"), the label accent- and case-insensitive, the form's own label
  or a common synonym, with an optional list bullet or Markdown bold around it ("- Nom :", "**Nom** : Dupont"), as
  HTML conversion and phones leave them. Quote markers (">" at any depth) are read through: many people fill the form
  inline, in the quoted invitation or profile mail.
* Where the same field appears several times, the person's latest word wins: first what they wrote in this mail
  (`new_text`), then lines of a form block over stray lines (a signature's "Tél :" must not beat the filled form),
  then the least quoted lines, then the first one. A label left empty fills nothing and overrides nothing.
* The acceptance of the conditions is legal evidence, so it is strict: the acceptance field filled with a clear
  "yes", or a sentence the person wrote in this mail that accepts *the conditions*. Our own instructions ("écrivez
  « J'accepte les conditions… »") never count, quoted or not. Any refusal wins over an acceptance. The sentence is
  read with every line she wrote below it outside the form (her closing and name are neutral, a PS is read):
  "J'accepte les conditions." then "Non finalement." / "Sauf l'article 4." / "Je plaisante." is no acceptance.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType

from .consent import ConsentAnswer, consent_words_and, read_answer
from .dates import fold
from .rules import SEPARATOR, SIGN_OFF_START, SIGNATURE, nfc
from .subjects import strip_subject_prefixes
from .withdrawal import read_confirmation

__all__ = [
    "FIELD_LABELS",
    "REQUIRED",
    "FormReply",
    "HelperAnswer",
    "Intent",
    "confirmation_of",
    "helper_answer",
    "intent_of",
    "parse_form",
]

# The labels as printed in the form mailbot sends, in the form's order.
FIELD_LABELS: Mapping[str, str] = MappingProxyType({
    "civility": "Civilité (Madame, Monsieur, ou rien)",
    "last_name": "Nom",
    "first_name": "Prénom",
    "company": "Entreprise",
    "activity": "Activité",
    "postal_address": "Adresse postale",
    "phone": "Téléphone",
    "email": "Courriel",
    "skills": "Compétences",
    "hobbies": "Loisirs",
    "particulars": "Particularités",
    "visibility": "Visibilité (confidentielle ou membres)",
    "directory_contacts": "Coordonnées dans l'annuaire (e-mail, téléphone ou aucune)",
    "accepts_appeals": "Appels du réseau (oui ou non)",
    # Issue 17: the club's announcements (activities, polls) and the image-rights choice.
    "accepts_announcements": "Annonces du Club (activités, sondages)",
    "image_rights": "Droit à l'image (oui ou non)",
    "acceptance": "Acceptation des conditions",
})

REQUIRED: tuple[str, ...] = ("last_name", "first_name", "company", "activity", "postal_address", "phone", "visibility")

_EMPTY: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True)
class FormReply:
    # key → normalised value of each field the person answered. Optional free-text fields (skills, hobbies,
    # particulars) answered "néant", "aucun", "-"… hold "" (answered: nothing), so a profile update can clear them.
    # The acceptance field is never here: see `acceptance`.
    values: Mapping[str, str] = field(default_factory=lambda: _EMPTY, hash=False)
    # key → short French explanation for the person, for fields filled with something we cannot use.
    unreadable: Mapping[str, str] = field(default_factory=lambda: _EMPTY, hash=False)
    acceptance: str | None = None  # the line that accepts the conditions, as written (kept as evidence)
    refused: bool = False          # the person explicitly declines the conditions

    def missing(self, required: tuple[str, ...] = REQUIRED) -> tuple[str, ...]:
        """Required keys neither answered nor answered unreadably (those have their own explanation)."""
        return tuple(key for key in required if key not in self.values and key not in self.unreadable)


# --- labels ---------------------------------------------------------------------------------------------------

# Matched on folded text (lower case, no accents, plain apostrophes and dashes). A label only counts when a
# separator follows, so "adresse" does not swallow "adresse e-mail" and "nom" does not swallow "nom de l'entreprise".
_LABELS: dict[str, str] = {
    "civility": r"civilite|titre\s+de\s+civilite",
    "last_name": r"nom(?:\s+de\s+famille)?|nom\s+d'usage",
    "first_name": r"prenoms?",
    "company": r"entreprise|societe|raison\s+sociale|structure|nom\s+de\s+(?:l'entreprise|la\s+societe|la\s+structure)",
    "activity": r"activite(?:\s+professionnelle)?|metier|profession",
    "postal_address": r"adresse(?:\s+(?:postale|professionnelle|complete))?",
    "phone": r"(?:telephone|tel\.?)(?:\s+(?:portable|mobile|fixe|professionnel|pro))?|portable|mobile|gsm",
    "email": r"(?:adresse\s+)?(?:e-?\s?mail|courriel|mel|mail)|adresse\s+(?:electronique|de\s+messagerie)",
    "skills": r"competences?|savoir[-\s]faire|domaines?\s+de\s+competences?",
    "hobbies": r"loisirs?|hobbies|hobby|centres?\s+d'interets?",
    "particulars": r"particularites?",
    "visibility": r"visibilite|confidentialite",
    "directory_contacts": r"coordonnees\s+(?:dans|de|pour)\s+l'annuaire|coordonnees\s+visibles",
    "accepts_appeals": r"appels?(?:\s+du\s+reseau)?",
    "accepts_announcements": r"annonces?(?:\s+du\s+club)?",
    "image_rights": r"droits?\s+(?:a\s+l'|de\s+l'|a\s+)?image|autorisation\s+(?:de\s+)?(?:droit\s+a\s+l')?image",
    "acceptance": r"acceptation(?:\s+des\s+conditions)?|conditions",
}
_BOLD = r"(?:\*{1,2}|_{1,2})"
_LABEL_LINE = re.compile(
    r"^\s*+(?:[-*•·+]\s+|[-•·]\s*)?" + _BOLD + r"?\s*+(?:"
    + "|".join(f"(?P<{key}>{pattern})" for key, pattern in _LABELS.items())
    # The parenthesised hint of the label is optional: "Visibilité (confidentielle ou membres)".
    + r")(?:\s*+\([^)\n]*\))?\s*+" + _BOLD + r"?\s*+[:=]\s*" + _BOLD + r"?"
)

# Fields whose value may run over the next lines ("12 rue des Lilas" / "75011 Paris").
_CONTINUED = frozenset({"postal_address", "skills", "hobbies", "particulars"})

_MARKERS = re.compile(r"^[ \t]*(?:>[ \t]*)+")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)
_ODD_SPACES = dict.fromkeys(map(ord, "\u00a0\u202f\u2007\u2009\u200a\t"), " ")

# Where a quoted message starts (Outlook headers, attributions, separators): a value never runs across one, and
# what follows is one level more quoted even without ">".
_HEADER_FROM = re.compile(r"^\s*+\**+\s*+(?:de|from)\s*+\**+\s*+:")
_HEADER_OTHER = re.compile(r"^\s*+\**+\s*+(?:envoye(?:\s+le)?|sent|date|a|to|cc|objet|subject)\s*+\**+\s*+:")
_HEADER_INLINE = re.compile(r"\s(?:envoye|sent|objet|subject|a|to)\s*:")
_ATTRIBUTION = re.compile(r"(?:^|\s)(?:a\s+)?(?:ecrit|wrote)\s*:\s*$")
_SEPARATOR = SEPARATOR
_SIGNATURE = SIGNATURE
_SIGN_OFF = SIGN_OFF_START  # the shared list (rules.py); a line that starts with a sign-off


@dataclass(frozen=True)
class _Line:
    depth: int    # quote level: ">" markers plus the quote headers above the line
    text: str     # as written, without quote markers, odd spaces made plain
    folded: str   # fold(text), same length
    skipped: bool  # a quoted signature: never read
    segment: int   # how many quote headers are above: a form block never spans one


@dataclass(frozen=True)
class _Found:
    key: str
    value: str    # as written, continuation lines joined
    line: str     # the label line as written, without quote markers
    rank: tuple[int, ...]


def _lines(text: str) -> list[_Line]:
    raw = (text or "").translate(_INVISIBLE).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    parts: list[tuple[int, str, str]] = []
    for line in raw:
        markers = _MARKERS.match(line)
        depth = markers.group().count(">") if markers else 0
        content = (line[markers.end():] if markers else line).translate(_ODD_SPACES).rstrip()
        parts.append((depth, content, fold(content)))

    lines: list[_Line] = []
    extra = 0
    signature_depth: int | None = None
    for index, (depth, content, folded) in enumerate(parts):
        header = _is_header(parts, index)
        if header or (signature_depth is not None and depth != signature_depth):
            signature_depth = None
        skipped = signature_depth is not None
        if _SIGNATURE.match(folded) and not header:
            signature_depth = depth
            skipped = True
        if header:
            extra += 1
        lines.append(_Line(depth + extra - header, content, folded, skipped, extra))
    return lines


def _is_header(parts: list[tuple[int, str, str]], index: int) -> bool:
    folded = parts[index][2]
    if _SEPARATOR.match(folded) or _ATTRIBUTION.search(folded):
        return True
    if not _HEADER_FROM.match(folded):
        return False
    if _HEADER_INLINE.search(folded):
        return True  # Yahoo: "De : … Envoyé : … À : … Objet : …" on one line
    following = [part[2] for part in parts[index + 1:index + 8] if part[2].strip()][:4]
    return any(_HEADER_OTHER.match(line) for line in following)


def _label(folded: str) -> tuple[str, int] | None:
    match = _LABEL_LINE.match(folded)
    if not match:
        return None
    key = next(name for name, value in match.groupdict().items() if value is not None)
    return key, match.end()


_POSTCODE_LINE = re.compile(r"^\s*(?:\d{5}|\d{2}\s\d{3})\s+[a-z]")  # "33000 Bordeaux", "75 011 Paris"


def _stops_value(line: _Line) -> bool:
    """A line that cannot continue the value above it."""
    return (not line.folded.strip() or line.skipped or _label(line.folded) is not None
            or _SIGNATURE.match(line.folded) is not None or _SIGN_OFF.match(line.folded) is not None
            or _ATTRIBUTION.search(line.folded) is not None or _HEADER_FROM.match(line.folded) is not None
            or _SEPARATOR.match(line.folded) is not None or bool(_acceptance_clauses(line.folded)))


def _join(key: str, pieces: list[str]) -> str:
    """Address lines are joined with ", "; skills and the like keep a wrapped sentence whole but separate items."""
    out = ""
    for number, piece in enumerate(pieces):
        piece = piece.strip()
        if not piece:
            continue
        # A bullet starts an item on a continuation line; "Loisirs : -" is a placeholder, not a bullet.
        bullet = re.match(r"^(?:[-*•·+]\s+|[-•·]\s*)(?=\S)", piece) if number else None
        if bullet:
            piece = piece[bullet.end():]
        if not out:
            out = piece
        elif key == "postal_address":
            out = out.rstrip(" ,;") + ", " + piece
        elif bullet or (out[-1] not in ",;:." and piece[:1].isupper()):
            out = out.rstrip(" ,;") + ", " + piece  # "Comptabilité" / "Fiscalité": a list, one item a line
        else:
            out = out + " " + piece  # a sentence wrapped by the mail client
    return out


def _continuation(lines: list[_Line], index: int, key: str) -> list[int]:
    """The indices of the lines below the label line `index` that continue its value ("75011 Paris")."""
    if key not in _CONTINUED:
        return []
    line = lines[index]
    out: list[int] = []
    follow = index + 1
    while follow < len(lines) and lines[follow].depth == line.depth:
        if _stops_value(lines[follow]):
            # Outlook turns each line of an HTML mail into a paragraph, so "8 allée des Tilleuls" and
            # "33000 Bordeaux" arrive a blank line apart: a postcode line still belongs to the address.
            after = lines[follow + 1] if follow + 1 < len(lines) else None
            if not (key == "postal_address" and not lines[follow].folded.strip() and after is not None
                    and after.depth == line.depth and _POSTCODE_LINE.match(after.folded)
                    and not _stops_value(after)):
                break
            follow += 1
            continue
        out.append(follow)
        follow += 1
    return out


def _read(lines: list[_Line], base: int) -> list[_Found]:
    found: list[_Found] = []
    labelled = [(index, _label(line.folded)) for index, line in enumerate(lines) if not line.skipped]
    keys_at = {index: hit[0] for index, hit in labelled if hit}
    filled = [index for index, line in enumerate(lines) if line.folded.strip() and not line.skipped]
    position = {index: number for number, index in enumerate(filled)}
    for index, hit in labelled:
        if hit is None:
            continue
        key, end = hit
        line = lines[index]
        pieces = [line.text[end:]] + [lines[follow].text for follow in _continuation(lines, index, key)]
        value = _join(key, pieces)
        # A form block holds several fields; a stray "Tél :" in a signature does not.
        near = filled[max(0, position[index] - 8):position[index] + 9]
        in_form = len({keys_at[other] for other in near
                       if other in keys_at and lines[other].segment == line.segment}) >= 4
        found.append(_Found(key, value, line.text.strip(), (base, 0 if in_form else 1, line.depth, index)))
    return found


# --- values ---------------------------------------------------------------------------------------------------

_BLANK_SYMBOLS = re.compile(r"^[\s.…_*]*$")
_PLACEHOLDER = re.compile(
    r"^(?:-+|/+|x|n/?a|n\.?c\.?|ras|neant|rien|sans(?:\s+objet)?|none|nil|pas\s+de|"
    r"(?:aucune?s?|pas\s+de|pas\s+d'(?!accord)|rien\s+de\s+particulier)(?:\s*[a-z'-]+)?)$"
)
# What a professional without a company writes in the company field: an answer, kept as written.
_NO_COMPANY = re.compile(r"^(?:neant|aucune?|sans(?:\s+entreprise)?|independante?|(?:auto|micro)[-\s]?entrepreneure?|"
                         r"pas\s+d'entreprise|aucune\s+entreprise|a\s+mon\s+compte|freelance|liberale?)$")
_OPTIONAL_TEXT = frozenset({"skills", "hobbies", "particulars"})


def _clean(value: str) -> str:
    value = " ".join(value.split())
    # Bold closers and stray separators HTML conversion leaves around a value: "**Dupont**", "Dupont ;".
    return value.strip("*_ ").rstrip(" ,;").strip()


def _short(value: str) -> str:
    return value if len(value) <= 60 else value[:57].rstrip() + "…"


def _is_blank(value: str) -> bool:
    return bool(_BLANK_SYMBOLS.match(value) or re.fullmatch(r"\[?\s*a\s+completer\s*\]?", fold(value).strip()))


def _placeholder(value: str) -> bool:
    return bool(_PLACEHOLDER.match(fold(value).strip(" .!")))


_PHONE_RUN = re.compile(r"[+(]?\d[\d\s.()\-]*\d\)?")


def _phone(value: str) -> bool:
    """9 to 15 digits per number; "01 23 45 67 89 / 06 12 34 56 78" and "06 12 34 56 78 (portable)" are fine."""
    numbers = 0
    for part in re.split(r"[/,;]|\bou\b|\bet\b", value):
        for run in _PHONE_RUN.findall(part):
            digits = re.sub(r"\D", "", run)
            if not 9 <= len(digits) <= 15:
                return False
            numbers += 1
        if re.search(r"\d", _PHONE_RUN.sub("", part)):
            return False  # a digit outside any number: "06 12 34 5x 78"
    return numbers > 0


_ADDRESS = re.compile(r"(?<![\w.+'-])[\w.+'-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}", re.IGNORECASE)


def _email(value: str) -> str | None:
    # "alice@example.fr <mailto:alice@example.fr>" from an HTML link reads as one address.
    found = {address.lower() for address in _ADDRESS.findall(value)}
    rest = _ADDRESS.sub("", value)
    if len(found) != 1 or re.search(r"[\w@]", re.sub(r"mailto:?|[<>()\[\]]", "", rest, flags=re.IGNORECASE)):
        return None
    return found.pop()


_CONFIDENTIAL = re.compile(
    r"\b(?:confidentiel(?:le)?s?|confidential|aideur|privee?s?|private|secrete?s?|restreinte?)\b"
)
_MEMBERS = re.compile(r"\b(?:membres?|members?|visibles?|publi(?:c|que)s?|partagee?s?|shared|oui|yes|tous)\b")
_NEGATION = re.compile(r"\b(?:pas|non|ne|ni|no|not)\b")


def _visibility(value: str) -> str | None:
    folded = fold(value)
    if _NEGATION.search(folded):
        return None  # "pas visible", "non": which of the two is meant is a guess
    confidential, members = bool(_CONFIDENTIAL.search(folded)), bool(_MEMBERS.search(folded))
    if confidential == members:
        return None  # neither, or both ("confidentielle ou membres" copied from the label)
    return "confidentielle" if confidential else "membres"


def directory_contacts(value: str) -> str | None:
    """"e-mail, téléphone", "e-mail", "téléphone" or "aucune" from what the member wrote; None if unclear."""
    folded = fold(value)
    if re.search(r"\b(?:pas|sans|sauf|hors|ni)\b", folded):
        return None  # "tout sauf le téléphone": which is meant is a guess
    email = bool(re.search(r"e-?\s?mail|courriel|\bmail\b|adresse\s+electronique", folded))
    phone = bool(re.search(r"telephone|\btel\b|portable|mobile", folded))
    if email or phone:
        return ", ".join(name for name, chosen in (("e-mail", email), ("téléphone", phone)) if chosen)
    return "aucune" if re.fullmatch(r"\s*(?:aucune?s?|rien|non)\s*[.!]*\s*", folded) else None


_YES = re.compile(r"\b(?:oui|yes|volontiers|d'accord|ok|okay|avec\s+plaisir|bien\s+sur)\b")
_NO = re.compile(r"\b(?:non|no|jamais|never|pas\s+d'accord|surtout\s+pas)\b")


def _appeals(value: str) -> str | None:
    folded = fold(value)
    no = bool(_NO.search(folded))
    yes = bool(_YES.search(_NO.sub(" ", folded)))
    if yes == no:
        return None
    return "oui" if yes else "non"


_UNREADABLE = {
    "civility": "« {value} » n'est pas une civilité que nous savons lire : écrivez « Madame » ou « Monsieur », ou "
                "« rien » si vous préférez ne pas la donner.",
    "phone": "« {value} » n'est pas un numéro de téléphone complet : écrivez-le en entier, par exemple "
             "06 12 34 56 78 ou +33 6 12 34 56 78.",
    "email": "« {value} » n'est pas une adresse e-mail complète : écrivez-la sous la forme prenom.nom@exemple.fr.",
    "visibility": "« {value} » ne dit pas qui peut voir votre profil : écrivez « confidentielle » (seul Aideur le "
                  "voit) ou « membres » (les autres membres du Club peuvent le voir).",
    "directory_contacts": "« {value} » ne dit pas quelles coordonnées montrer dans l'annuaire : écrivez « e-mail », "
                          "« téléphone », « e-mail, téléphone » ou « aucune ».",
    "accepts_appeals": "« {value} » ne dit pas si vous voulez recevoir les appels du réseau : écrivez « oui » pour "
                       "les recevoir ou « non » pour ne pas en recevoir.",
    "accepts_announcements": "« {value} » ne dit pas si vous voulez recevoir les annonces du Club : écrivez "
                             "« oui » pour les recevoir ou « non » pour ne plus en recevoir.",
    "image_rights": "« {value} » ne dit pas si le Club peut utiliser des photos ou vidéos où vous apparaissez : "
                    "écrivez « oui » ou « non ».",
    "acceptance": "« {value} » n'est pas une acceptation claire des conditions : pour les accepter, écrivez "
                  "« J'accepte les conditions ».",
}


# Civility: how the mails agree with the member ("inscrite", "prévenu"). Optional: "rien", "-", "je préfère ne pas
# le dire" store "not given" and the mails then use a wording that needs no agreement.
_MADAME = re.compile(r"^(?:madame|mme|mlle|mademoiselle|mrs|ms|miss|une\s+femme|femme|f)(?![\w'])")
_MONSIEUR = re.compile(r"^(?:monsieur|mr|m|un\s+homme|homme|h)(?![\w'])")
_NOT_GIVEN = re.compile(r"^(?:rien|aucune?|non\s+(?:precisee?|renseignee?|communiquee?)|sans|autre|ni\s+l'un\s+ni\s+l'autre|"
                        r"(?:je\s+)?(?:prefere|ne\s+souhaite|ne\s+veux)\b.*|pas\s+de\s+civilite|-+|/|\?)(?![\w'])")


def _civility(value: str) -> str | None:
    folded = fold(value).strip(" .!")
    if _NOT_GIVEN.match(folded):
        return ""
    madame, monsieur = bool(_MADAME.match(folded)), bool(_MONSIEUR.match(folded))
    if madame == monsieur:
        return None
    return "madame" if madame else "monsieur"


def _normalise(key: str, value: str) -> tuple[str | None, str | None]:
    """(value to store, problem), both None when the field counts as not filled."""
    if key == "civility":
        if _placeholder(value):
            return "", None
        if re.search(r"\bou\b", fold(value)) and len(value) > 12:  # the hint copied back: "Madame, Monsieur, ou rien"
            return None, None
        choice = _civility(value)
        return (choice, None) if choice is not None else (None, _UNREADABLE["civility"].format(value=_short(value)))
    if key in _OPTIONAL_TEXT and _placeholder(value):
        return "", None
    if key == "directory_contacts" and value.strip():  # issue 12: "aucune" is an answer here, not a blank
        choice = directory_contacts(value)
        return (choice, None) if choice else (None, _UNREADABLE[key].format(value=_short(value)))
    if key == "company" and _NO_COMPANY.match(fold(value).strip(" .!")):
        return value, None
    if _placeholder(value):
        return None, None
    if key == "phone":
        return (value, None) if _phone(value) else (None, _UNREADABLE["phone"].format(value=_short(value)))
    if key == "email":
        address = _email(value)
        return (address, None) if address else (None, _UNREADABLE["email"].format(value=_short(value)))
    if key in ("visibility", "accepts_appeals", "accepts_announcements", "image_rights"):
        choice = _visibility(value) if key == "visibility" else _appeals(value)
        return (choice, None) if choice else (None, _UNREADABLE[key].format(value=_short(value)))
    return value, None


# --- acceptance -----------------------------------------------------------------------------------------------

# Our own instructions, quoted or pasted back: never an acceptance, whatever words they contain.
_INSTRUCTION = re.compile(r"ecrivez|recopiez|indiquez|pour\s+accepter|sur\s+la\s+ligne|en\s+haut\s+de\s+votre")
_FIELD_YES = re.compile(
    r"^(?:oui|yes|ok|okay|d'accord|accord|acceptee?s?|accepted|j'accepte|je\s+les\s+accepte|je\s+valide|validee?s?|"
    r"lu\s+et\s+approuve|bon\s+pour\s+accord|approuvee?s?|j'approuve|i\s+accept|i\s+agree|agreed)(?![\w'])"
)
_FIELD_NO = re.compile(r"^(?:non|no)(?![\w'])")
# Negated acceptance vocabulary, anywhere in a clause.
_REFUSAL = re.compile(
    r"n'accepte\s+(?:\w+\s+)?pas|ne\s+(?:les\s+)?(?:accepte|valide|approuve)\s+(?:\w+\s+)?pas|n'approuve\s+pas|"
    r"ne\s+(?:souhaite|veux|peux)\s+pas\s+(?:les\s+)?accepter|refuse|pas\s+d'accord|je\s+decline|"
    r"i\s+(?:do\s+not|don't|cannot|can't)\s+(?:accept|agree)|i\s+(?:refuse|decline)"
)
_ACCEPTS = re.compile(
    r"""(?x)
    (?:^|[^\w'])(?:
        (?:j'|je\s+)?(?:accepte|valide|approuve)(?:\s+et\s+(?:j'|je\s+)?(?:accepte|valide|approuve))?
            \s+(?:\w+\s+){0,2}?(?:les|vos|ces|ses)\s+conditions
      | (?:je\s+suis\s+|suis\s+)?d'accord\s+avec\s+(?:les|vos|ces)\s+conditions
      | j'adhere\s+aux\s+conditions
      | conditions\s+(?:\w+\s+)?(?:lues\s+et\s+)?(?:acceptees|approuvees|validees)
      | lu\s+et\s+approuve
      | bon\s+pour\s+accord
      | i\s+(?:accept|agree\s+(?:to|with))\s+(?:the\s+|your\s+)?(?:conditions|terms)
      | ^\s*j'accepte\s*[.!]*\s*$
    )(?![\w'])
    """
)
def _clauses(folded: str) -> list[str]:
    """Clauses of a line: at , ; . ! ? and before "mais", keeping "V4.2018" whole."""
    text = re.sub(r"(?<=\w)\.(?=\w)", "\u0000", folded)  # dots inside words and versions are not full stops
    pieces = re.split(r"[,;.!?]|\s(?=mais\s)", text)
    return [piece.replace("\u0000", ".").strip() for piece in pieces if piece.strip()]


def _acceptance_clauses(folded: str) -> list[str]:
    if _INSTRUCTION.search(folded):
        return []
    return [clause for clause in _clauses(folded) if not _REFUSAL.search(clause) and _ACCEPTS.search(clause)]


# The acceptance is legal evidence: like a consent, only a plain yes counts. From the words that accept to the end
# of the line (or the whole field), nothing may qualify it: "oui sous réserve de lecture par mon avocat", "Si
# j'accepte les conditions, que se passe-t-il ?", "Je ne sais pas si j'accepte les conditions", "J'accepte les
# conditions sauf l'article 4", "oui ?" are not acceptances (the consent reader's rules: conditions, doubts,
# questions, delays, anything more than a plain yes).
_ACCEPTANCE_VOCABULARY = consent_words_and(
    yes=r"""
        lu\s+et\s+approuve | bon\s+pour\s+accord | approuvee?s? | j\s+approuve | validee?s? | acceptee?s? | j\s+adhere
      | i\s+accept | i\s+agree | agreed | j\s+ai\s+lu\s+et\s+j\s+accepte""",
    neutral=["conditions", "condition", "generales", "generale", "club", "prestation", "prestations", "charte",
             "reglement", "adhesion", "lu", "lues", "version", "v", "the", "terms", "with", "to", "your", "invitation",
             "aux"],
)
_VERSION = re.compile(r"(?<![\w])v?\d+(?:[./-]\d+)*(?![\w])", re.IGNORECASE)


def _plain_acceptance(text: str) -> bool:
    """Whether `text` (from the words that accept to the end of the line, or a field's value) is a plain yes."""
    return read_answer(_VERSION.sub(" ", text.replace("«", " ").replace("»", " ")),
                       _ACCEPTANCE_VOCABULARY).answer is ConsentAnswer.YES


def _accepts_plainly(line: str, below: tuple[str, ...] = ()) -> bool:
    """A line that accepts the conditions and says nothing that qualifies it after (or around) its acceptance, nor
    in the lines she wrote `below` it outside the form ("Non finalement.", "Sauf l'article 4.", "Je plaisante."
    take it back as surely as on the same line; a closing and her name do not)."""
    folded = fold(line)
    clauses = _clauses(folded)
    first = next((index for index, clause in enumerate(clauses)
                  if not _REFUSAL.search(clause) and _ACCEPTS.search(clause)), None)
    return first is not None and _plain_acceptance("\n".join([", ".join(clauses[first:]), *below]))


def _refuses(folded: str) -> bool:
    """A clause that refuses the conditions: it names them, or says nothing else ("Je n'accepte pas.")."""
    if _INSTRUCTION.search(folded):
        return False
    return any(_REFUSAL.search(clause) and ("condition" in clause or len(clause.split()) <= 4)
               for clause in _clauses(folded))


def _field_answer(value: str) -> str:
    """"yes", "no" or "unclear" for the value of the acceptance field."""
    folded = " ".join(fold(value).split()).strip(" «»\"'.!")
    if _INSTRUCTION.search(folded):
        return "unclear"
    if _FIELD_NO.match(folded) or _REFUSAL.search(folded):
        return "no"
    return "yes" if _FIELD_YES.match(folded) and _plain_acceptance(value) else "unclear"


# --- the form -------------------------------------------------------------------------------------------------

def parse_form(text: str, new_text: str) -> FormReply:
    """The profile form as the person filled it in `text` (the whole body, quotes included), and their acceptance.

    `new_text` (what they wrote in this mail, without quote and signature) wins over the rest of the body.
    Both are read composed (NFC): parse_mail gives them so already; a text from elsewhere may be decomposed.
    """
    text, new_text = nfc(text), nfc(new_text)
    new_lines = _lines(new_text)
    found = sorted(_read(new_lines, 0) + _read(_lines(text), 1), key=lambda hit: hit.rank)

    chosen: dict[str, _Found] = {}
    for hit in found:
        value = _clean(hit.value)
        if hit.key in chosen or _is_blank(value):
            continue
        # A placeholder in a required field ("Nom : -") fills nothing, so it must not hide a real value below.
        if hit.key in REQUIRED and _placeholder(value) and not _NO_COMPANY.match(fold(value).strip(" .!")):
            continue
        chosen[hit.key] = _Found(hit.key, value, hit.line, hit.rank)

    values: dict[str, str] = {}
    unreadable: dict[str, str] = {}
    for key in FIELD_LABELS:
        if key == "acceptance" or key not in chosen:
            continue
        stored, problem = _normalise(key, chosen[key].value)
        if stored is not None:
            values[key] = stored
        elif problem is not None:
            unreadable[key] = problem

    acceptance, refused, unclear = _acceptance(chosen.get("acceptance"), new_lines)
    if unclear is not None and acceptance is None and not refused:
        unreadable["acceptance"] = _UNREADABLE["acceptance"].format(value=_short(unclear))
    return FormReply(MappingProxyType(values), MappingProxyType(unreadable), acceptance, refused)


def _sentence_lines(lines: list[_Line]) -> list[int]:
    """The indices of the lines the person wrote in this mail outside the form: not quoted, not her "-- "
    signature, neither a field's label line nor a line that continues its value."""
    form: set[int] = set()
    for index, line in enumerate(lines):
        hit = None if line.depth or line.skipped else _label(line.folded)
        if hit is not None:
            form.add(index)
            form.update(_continuation(lines, index, hit[0]))
    return [index for index, line in enumerate(lines)
            if not line.depth and not line.skipped and index not in form and line.folded.strip()]


def _acceptance(field_hit: _Found | None, new_lines: list[_Line]) -> tuple[str | None, bool, str | None]:
    """(acceptance line, refused, unclear field value typed in this mail).

    Order: the field typed in this mail, then sentences of this mail, then the field found in the quote. A refusal
    anywhere in this mail wins: a false acceptance is worse than asking again.
    """
    sentence_yes: str | None = None
    sentence_no = False
    sentences = _sentence_lines(new_lines)
    for position, index in enumerate(sentences):
        line = new_lines[index]
        if _refuses(line.folded):
            sentence_no = True
        elif sentence_yes is None and _acceptance_clauses(line.folded) and _accepts_plainly(
                line.text, tuple(new_lines[other].text for other in sentences[position + 1:])):
            sentence_yes = line.text.strip()

    field_answer = _field_answer(field_hit.value) if field_hit else None
    typed_here = field_hit is not None and field_hit.rank[0] == 0
    if sentence_no or (field_answer == "no" and (typed_here or sentence_yes is None)):
        return None, True, None
    if field_hit is not None and field_answer == "yes" and typed_here:
        return field_hit.line, False, None
    if sentence_yes is not None:
        return sentence_yes, False, None
    if field_hit is not None and field_answer == "yes":
        return field_hit.line, False, None
    # An unclear value in the quote may be our own text: only what the person typed here is worth explaining.
    return None, False, field_hit.value if field_hit is not None and typed_here and field_answer == "unclear" else None


# --- short requests -------------------------------------------------------------------------------------------

class Intent(str, Enum):
    JOIN = "join"
    PROFILE = "profile"
    END = "end"
    ERASE = "erase"


# Matched on words: folded, apostrophes and punctuation made spaces ("m'inscrire" is "m inscrire").
_INTENT_PHRASES: dict[Intent, str] = {
    Intent.ERASE: r"""(?:effacer|effacez|supprimer|supprimez|effacement|suppression|destruction|detruire)
                      \s+(?:de\s+)?(?:toutes\s+)?
                      mes\s+(?:donnees|informations|coordonnees)(?:\s+personnelles)?
                    | effacement | droit\s+a\s+l\s+oubli""",
    Intent.END: r"""resilier | resiliation | (?:me\s+)?desinscrire | desinscription
                  | (?:quitter|quitte|quitterai|quittons)\s+(?:le\s+)?club | (?:je\s+)?demissionne | demission
                  | (?:me\s+)?retirer\s+du\s+club
                  | fin\s+(?:d|de\s+mon|de\s+l)\s+adhesion
                  | mettre\s+fin\s+a\s+(?:mon|ma|l)\s+(?:adhesion|inscription|participation)
                  | ne\s+plus\s+etre\s+membre""",
    Intent.PROFILE: r"""modifier | modification | modifications | changer | changement | mettre\s+a\s+jour
                      | mise\s+a\s+jour | actualiser | actualisation | corriger | correction
                      | (?:mon|ma|mes)\s+(?:profil|informations|infos|coordonnees|fiche) | profil""",
    Intent.JOIN: r"""(?:m\s+)?inscrire | inscription | adherer | adhesion | devenir\s+membre
                   | rejoindre\s+(?:le\s+)?club | nouvel?\s+(?:adherente?|membre)""",
}
_INTENT_ORDER = (Intent.ERASE, Intent.END, Intent.PROFILE, Intent.JOIN)  # the stronger request wins
_INTENT_RE = re.compile(
    "|".join(rf"(?<!\S)(?P<{intent.name}>{pattern})(?!\S)" for intent, pattern in _INTENT_PHRASES.items()),
    re.VERBOSE,
)
# Words that may surround a request without turning it into another subject. Anything else ("statuts", "bail",
# "client", "registre", "linkedin") means the words are part of a real question for the network.
_INTENT_FILLER = frozenset(["je", "j", "veux", "voudrais", "voudrai", "souhaite", "souhaiterais", "aimerais", "desire", "desirerais", "demande", "demander", "faire", "merci", "svp", "stp", "s", "il", "vous", "plait", "please", "de", "d", "du", "des", "la", "le", "les", "l", "a", "au", "aux", "mon", "ma", "mes", "me", "m", "moi", "pour", "et", "en", "tant", "que", "bonjour", "bonsoir", "hello", "club", "aide", "rgpd", "urgent", "profil", "informations", "infos", "coordonnees", "fiche", "donnees", "personnelles", "adresse", "telephone", "numero", "email", "mail", "courriel", "compte", "membre", "adhesion", "inscription", "abonnement", "cotisation", "participation"])


def _words(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", fold(text)).split())


def _intents(text: str) -> set[Intent]:
    words = _words(text)
    if not words:
        return set()
    hits = {Intent[name] for match in _INTENT_RE.finditer(words) for name, value in match.groupdict().items()
            if value is not None}
    leftover = _INTENT_RE.sub(" ", words).split()
    if not hits or any(word not in _INTENT_FILLER for word in leftover):
        return set()
    return hits


_GREETING = re.compile(r"^(?:bonjour|bonsoir|salut|hello|hi|coucou|cher|chere|madame|monsieur|re)\b")


def _meaningful_lines(new_text: str, limit: int | None = None) -> list[str]:
    """Lines of the reply, without quoted lines, blank lines and greetings ("Bonjour Madame,", "Bonjour,"); the
    first `limit` of them only, when that is all the caller reads (a 20 KB request is asked for one line)."""
    out: list[str] = []
    for raw in (new_text or "").splitlines():
        if limit is not None and len(out) >= limit:
            break
        raw = raw.translate(_INVISIBLE).translate(_ODD_SPACES)
        if raw.lstrip().startswith(">") or not raw.strip():
            continue
        line = raw.strip()
        if not out and _GREETING.match(fold(line)):
            if "," in line:
                line = line.split(",", 1)[1].strip()  # "Bonjour Aideur, oui je confirme"
            elif len(line.split()) <= 3:
                line = ""  # "Bonjour Madame"
            else:
                line = re.sub(r"^\W*\w+\W*", "", line)  # "Bonjour oui je confirme"
            if not re.search(r"\w", line):
                continue
        out.append(line)
    return out


def intent_of(subject: str, new_text: str) -> Intent | None:
    """What a fresh mail asks for, when its subject or its short first line says only that.

    "Résiliation" is a request; "Résiliation d'un bail commercial : quel préavis ?" is a question for the network.
    """
    hits = _intents(strip_subject_prefixes(subject or ""))
    lines = _meaningful_lines(new_text, limit=1)
    if lines and len(lines[0].split()) <= 6:
        hits |= _intents(lines[0])
    return next((intent for intent in _INTENT_ORDER if intent in hits), None)


# --- confirmations --------------------------------------------------------------------------------------------

def confirmation_of(new_text: str) -> bool | None:
    """The answer to "do you confirm?": True, False, or None when it is not an unqualified answer.

    Read by withdrawal.read_confirmation, as strictly as a consent (issue 11): a condition, a doubt, a question, a
    joke or a no anywhere in the person's words (PS under the signature included: pass the whole body) is None.
    """
    return read_confirmation(new_text)


# --- helpers' answers -----------------------------------------------------------------------------------------

class HelperAnswer(str, Enum):
    OFFER = "offer"
    DECLINE = "decline"


# Taken out of the text first, so that the offer words they contain ("je ne PEUX pas", "pas DISPONIBLE") are gone
# before offers are looked for.
_DECLINE = re.compile(
    r"""(?x)(?<![\w'])(?:
        non\s+merci | no\s+thanks? | no\s+thank\s+you | desolee?s?\s*,?\s*(?:mais\s+)?non | sorry\s*,?\s*no
      | (?:je\s+ne\s+suis\s+|ne\s+suis\s+|je\s+suis\s+)?(?:\w+\s+)?(?:pas|plus)\s+(?:\w+\s+)?(?:disponible|dispo)s?
      | indisponible | not\s+available | unavailable
      | (?:je\s+)?ne\s+(?:peux|pourrai|pourrais|pourrons|pouvons|saurai|saurais)\s+(?:\w+\s+)?pas
      | je\s+(?:peux|pourrai|pourrais)\s+pas
      | (?:i\s+)?(?:can't|cannot|can\s+not|won't\s+be\s+able)(?:\s+help)?
      | impossible(?:\s+pour\s+moi)?
      | (?:je\s+)?n'ai\s+(?:\w+\s+)?pas\s+(?:le\s+temps|les\s+competences|la\s+competence|d'experience)
      | pas\s+le\s+temps | pas\s+(?:de|d')\s*(?:temps|disponibilite)
      | (?:ce\s+n'est\s+)?pas\s+(?:mon|ma|dans\s+mes|dans\s+mon)\s+(?:domaine|specialite|competences?|rayon)
      | hors\s+de\s+(?:mon|mes)\s+(?:domaine|competences?)
      | (?:je\s+ne\s+suis\s+)?pas\s+(?:competente?|qualifiee?|la\s+bonne\s+personne)
      | pas\s+possible | pas\s+pour\s+moi
      | je\s+passe\s+mon\s+tour | je\s+passe(?=\s*(?:[.!,;\n]|$)) | je\s+decline | je\s+dois\s+decliner
      | (?:je\s+)?n'y\s+connais\s+rien | ne\s+connais\s+rien
      | (?:volontiers\s+)?une\s+(?:autre|prochaine)\s+fois | pas\s+cette\s+fois(?:-ci)?
      | (?:malheureusement|helas|desolee?s?|sorry)\s*,?\s*non
      | ne\s+(?:pense|crois|vais)\s+pas\s+pouvoir(?:\s+(?:vous\s+)?aider)?
      | (?:je\s+suis\s+)?(?:deborde|debordee|surchargee?)s?
    )(?![\w'])"""
)
_STARTS_WITH_NO = re.compile(r"^(?:non|no)(?![\w'])")
_OFFER = re.compile(
    r"""(?x)(?<![\w'])(?:
        je\s+(?:peux|pourrais|pourrai|saurai|saurais)(?!\s+pas) | on\s+peut | nous\s+pouvons
      | volontiers | avec\s+plaisir | je\s+suis\s+(?:\w+\s+)?(?:disponible|dispo|partante?|interessee?)
      | je\s+me\s+propose | je\s+(?:vous\s+)?propose | je\s+connais | je\s+m'en\s+occupe
      | (?:je\s+vous\s+)?(?:mets|mettre)\s+en\s+(?:contact|relation)
      | contactez[\s-]moi | appelez[\s-]moi | je\s+veux\s+bien | pourquoi\s+pas
      | i\s+can(?!'t|not)\s+help | happy\s+to\s+help | i'd\s+be\s+glad
    )(?![\w'])"""
)


# What a "no" to an appeal may say besides the no: a question, a request of the helper's own, a condition, an
# "instead" ("Non, désolé. Par contre j'ai besoin d'un serrurier…"). Read on folded words, the no taken out.
_MORE_THAN_NO = re.compile(
    r"""(?x)(?<![\w'])(?:
        par\s+contre | en\s+revanche | cependant | toutefois | en\s+attendant
      | mais(?!\s*[,!.]?\s*(?:bon\s+courage|bonne\s+chance|merci|desolee?|je\s+vous\s+souhaite|$))
      | sauf | a\s+condition | si\s+(?:vous|besoin|jamais|ca|cela|c'est|la|le|les|il|elle|personne|d'ici)
      | plus\s+tard | (?:la\s+)?semaine\s+prochaine | le\s+mois\s+prochain | apres\s+le | a\s+partir\s+d
      | besoin | cherche | recherche | urgen\w* | aidez[\s-]moi | m'aider | me\s+conseiller
      | pouvez[\s-]vous | pourriez | auriez | avez[\s-]vous | connaissez | conseil\w* | une\s+question
    )(?![\w'])"""
)


def decline_says_more(new_text: str) -> bool:
    """Whether a helper's "no" to an appeal says more than no (attack 13, case 14): a question ("?"), a request
    of his own, a condition, a "later". Such words must reach Aideur; a bare no, with its reason and courtesy
    ("Non merci, pas mon domaine, bon courage"), needs nobody."""
    lines = _meaningful_lines(new_text)
    text = fold("\n".join(lines)).replace("’", "'")
    rest = _DECLINE.sub(" ", text)
    return "?" in rest or bool(_MORE_THAN_NO.search(rest))


def helper_answer(new_text: str) -> HelperAnswer:
    """DECLINE when the reply says no and offers nothing; OFFER otherwise (Aideur reads every offer and judges).

    A false DECLINE loses a helper, a false OFFER only costs Aideur a reading: so any offer wins over a refusal
    ("Je ne peux pas me déplacer mais je peux aider par téléphone").
    """
    lines = _meaningful_lines(new_text)
    text = fold("\n".join(lines)).replace("’", "'")
    declined = bool(_DECLINE.search(text)) or any(_STARTS_WITH_NO.match(fold(line).strip()) for line in lines)
    if declined and not _OFFER.search(_DECLINE.sub(" ", text)):
        return HelperAnswer.DECLINE
    return HelperAnswer.OFFER
