"""Consent answers: "May we give your details to …? Answer yes or no by reply." (docs/rules.md §5)

Contact details go from one member to another only with the written consent of each, and the answer line is kept as
evidence. So the rule is lopsided: a false YES gives away someone's details, a false UNCLEAR only costs a second
question ("répondez simplement oui ou non"). Whenever in doubt: UNCLEAR. A false NO costs little more (nothing is
shared, Aideur is told and can ask again), so a refusal is read a little more freely than an acceptance.

Only an unqualified yes is a yes. How a reply is read (`read_consent`):

1. Only what the person wrote: quoted lines (">"), attributions ("Le … a écrit :"), an Outlook "De : … / Envoyé : …"
   block or a "-----Message d'origine-----" separator (everything below is quoted), and our own instruction pasted
   back ("répondez oui ou non") are not read. A "-- " signature, a mobile "Envoyé de mon…" line or a footer starts
   the signature, which is not read either — except a post-scriptum ("PS :", "P.-S.", "NB") under it, which is the
   person's words again. A sign-off ("Merci", "Cordialement") or a block that looks like a signature starts one
   only for the lines that say nothing about the answer: "Oui / Merci / Enfin non" has its "Enfin non" read. Unquoted
   lines below a quoted block (an answer written under our question, or under the whole quote) are read too.
2. Restrictions of what may be shared are taken out first and remembered: "seulement mon e-mail", "sans mon
   téléphone", "hors téléphone", "juste mon adresse mail", "uniquement mon portable", "mon mail uniquement",
   "mais pas le téléphone", "ne donnez pas mon numéro"… (the fields of the contact card: name, e-mail, phone,
   company, activity).
3. The reply is cut into clauses (at ; . ! ? … and line ends; commas too for the opening). Leading greetings
   ("Bonjour Aideur,"), thanks and lead-ins ("Finalement,") are skipped. The first remaining clause must be a plain
   answer: a yes phrase or a no phrase (never both) or a restriction, with only neutral words around it ("pour moi",
   "mes coordonnées", "merci"). Fixed phrases that carry a negation but mean yes ("pas de problème", "aucun souci",
   "sans objection") are read first, refusals that contain a yes word ("pas d'accord") before yes words.
4. Then the whole text (PS included) is searched for anything that qualifies a yes: a question ("?", "est-ce que",
   "c'est qui"), a doubt ("peut-être", "éventuellement", "je pense"), a condition or dependency ("si", "mais",
   "après accord de mon associé", "sous réserve"), a deferral ("je vérifie et je reviens vers vous", "demain"), a
   joke marker ("je plaisante", "lol", ";)", "😉"), a preference ("plutôt", "je préfère"), or any no or "not" ("oui…
   non", "Oui\\nNon", "PS : finalement non"). Any of them: UNCLEAR. A NO stays NO unless the rest says yes, restricts,
   jokes or asks a question. Past those lists, every clause after a yes must still be plain: kind words, a closing,
   the person's own details or name (`_says_more`); anything else ("Oui, pour peu que…", "Ok, bien reçu", "Oui,
   mon responsable doit valider") is more than a plain yes: UNCLEAR. A clause counts wherever it stands: "Oui. Que
   par mail." or "Oui\nPar mail" restrict like "Oui, que par mail"; a field named and not given ("Oui, mail svp")
   is UNCLEAR; "only through the club" and anonymity are conditions. A name is not any capitalised line: the
   person's own names when the caller knows them (`names`), else name-shaped words that are none of the words this
   reader knows ("Oui\nAnonyme", "Oui, TBC", "Oui\nÀ Moitié" are read, not signed).
5. A yes with restrictions is RESTRICTED with the fields that may be shared (named ones, or all but the excluded
   ones); the workflow asks the person to confirm exactly that set before anything is shared.

`read_answer` is the same reader with another vocabulary: `withdrawal.read_confirmation` uses it for "do you
confirm?" questions (erasure, end of membership), where restrictions are not a thing and read as UNCLEAR.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum

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

__all__ = ["CARD_FIELDS", "CONSENT_RULE", "CONTACT_CHANNELS", "ConsentAnswer", "ConsentReading", "Vocabulary",
           "consent_words_and", "person_names", "qualifier_of", "read_answer", "read_consent"]

CONSENT_RULE = (
    "Pour que nous transmettions vos coordonnées, répondez à ce message par « oui » (ou « j'accepte », "
    "« d'accord ») ; pour refuser, répondez « non ». Une réponse posée en question, hésitante, différée, sous "
    "condition ou en plaisantant (« oui mais… », « peut-être », « oui si… », « je reviens vers vous », « lol ») ne "
    "vaut pas accord : nous vous reposerons alors la question. Pour ne transmettre qu'une partie de vos coordonnées, "
    "dites laquelle (« oui, seulement mon e-mail », « oui, sans mon téléphone ») : nous vous demanderons de "
    "confirmer ce qui sera transmis."
)

# The fields of a contact card (workflows/consents.contact_card), in the card's order.
CARD_FIELDS: tuple[str, ...] = ("name", "email", "phone", "company", "activity")
# Without one of these, the other side could not reach the person: a card needs at least one.
CONTACT_CHANNELS = frozenset({"email", "phone"})


class ConsentAnswer(str, Enum):
    YES = "yes"
    NO = "no"
    UNCLEAR = "unclear"
    RESTRICTED = "restricted"  # yes, but only for `fields`: to be confirmed before anything is shared


@dataclass(frozen=True)
class ConsentReading:
    answer: ConsentAnswer
    # The line the decision was read from, as written (the evidence kept); for UNCLEAR the first line the person
    # wrote, "" when they wrote nothing usable.
    line: str
    # RESTRICTED: the card fields that may be shared (a subset of CARD_FIELDS). Empty otherwise.
    fields: frozenset[str] = frozenset()
    # UNCLEAR: why, in a word ("question", "doute", "condition", "plaisanterie", "contradiction", "vide"…), for
    # the ticket's history; not part of the reading's identity.
    reason: str = field(default="", compare=False)


# --- what the person wrote ------------------------------------------------------------------------------------

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u200e\u200f\ufe0f"), None)
_ODD_SPACES = dict.fromkeys(map(ord, "\u00a0\u202f\u2007\u2009\u200a\t"), " ")

# Our own instruction pasted back without ">": its "oui" and "non" are not an answer.
_OUR_INSTRUCTION = re.compile(r"repondez|oui\s+ou\s+(?:par\s+)?non|yes\s+or\s+no|dites\s+laquelle|"
                              r"partie\s+de\s+vos\s+coordonnees|confirmez\s+par\s+oui|sera\s+transmise?\s*:")
# A post-scriptum under the signature: the person's words again ("PS : finalement non").
_PS = re.compile(r"^\s*(?:p\s*\.?\s*-?\s*p?\s*\.?\s*-?\s*s\b\s*\.?|post[\s-]*scriptum|n\s*\.?\s*b\s*\.?(?=[\s:.-])|"
                 r"nota\s+bene|edit)\s*[:.-]?\s*")
# Footers some mail programs and antivirus add under everything: signature, never an answer.
_FOOTER = re.compile(r"^\s*(?:garanti\s+sans\s+virus|ce\s+(?:message|courriel|e-?mail)\s|"
                     r"this\s+(?:e-?mail|message)\s|virus-free|www\.avast\.com|avertissement\s*:|"
                     r"(?:confidentiel(?:ite)?|confidential(?:ity)?)(?:\s+notice)?\s*:|"
                     r"si\s+vous\s+(?:avez\s+)?(?:recu|n'etes\s+pas|recevez)\s.*(?:destinataire|erreur)|"
                     r"(?:merci\s+de\s+|pensez\s+a\s+l'environnement|n'imprimez)\S*.*(?:imprim|environnement))")


def _is_header_block(folded: list[str], index: int) -> bool:
    if not _HEADER_FROM.match(folded[index]):
        return False
    if _HEADER_INLINE.search(folded[index]):
        return True  # Yahoo: "De : … Envoyé : … Objet : …" on one line
    following = [line for line in folded[index + 1:index + 8] if line.strip()][:4]
    return any(_HEADER_OTHER.match(line) for line in following)


def _attribution_end(folded: list[str], index: int) -> int:
    """Index of the last line of an attribution ("Le … a écrit :", split over up to 3 lines) starting at index,
    -1 when there is none."""
    if _ATTRIBUTION_END.search(folded[index]):
        return index
    if _ATTRIBUTION_START.match(folded[index]):
        for offset in (1, 2):
            if index + offset < len(folded) and _ATTRIBUTION_END.search(folded[index + offset]):
                return index + offset
    return -1


def _signature_start(written: list[str], text: str) -> int:
    """Index of the line where split_reply (the rest of mailbot) sees the signature begin — a company block with
    a phone or a disclaimer ("Ce message est confidentiel… si vous n'êtes pas…") carries no marker we know —
    or -1."""
    body, signature = split_reply(text)
    if not signature:
        return -1
    if not body.strip():
        # "Oui" alone above a company block reads there as the name on top of it: the first paragraph is the
        # answer, the signature starts with the next one.
        _answer, _blank, signature = signature.partition("\n\n")
        if not signature.strip():
            return -1
        body = _answer
    first = signature.strip().split("\n", 1)[0].strip()
    last_of_body = body.rstrip().rsplit("\n", 1)[-1].strip() if body.strip() else ""
    start = next((index for index, line in enumerate(written) if line == last_of_body), -1) if last_of_body else -1
    return next((index for index in range(start + 1, len(written)) if written[index] == first), -1)


def _own_lines(text: str) -> list[tuple[str, str]]:
    """(line as written, stripped; line cleaned for reading) for each non-blank line the person wrote, in order:
    above and between quoted blocks, and post-scripta under their signature."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    written = [line.strip() for line in text.split("\n")]
    signature_start = _signature_start(written, text)
    raw = [unicodedata.normalize("NFC", line).translate(_INVISIBLE).translate(_ODD_SPACES).strip()
           for line in written]
    folded = [fold(line) for line in raw]
    out: list[tuple[str, str]] = []
    in_signature = soft = False
    index = 0
    while index < len(raw):
        line, low = raw[index], folded[index]
        if not line:
            index += 1
            continue
        if line.startswith(">"):
            index += 1
            continue
        if _SEPARATOR.match(low) or _is_header_block(folded, index):
            break  # Outlook and forwards: everything below is the quoted message, without ">"
        end = _attribution_end(folded, index)
        if end >= 0 and (not out or _ATTRIBUTION_MARKS.search(" ".join(raw[index:end + 1]))):
            following = next((other for other in raw[end + 1:] if other), "")
            if out and not following.startswith(">"):
                break  # an attribution above an unmarked quote: the rest is not theirs
            index = end + 1
            continue
        if _SIGNATURE.match(low) or _MOBILE.match(low) or _FOOTER.match(low):
            in_signature, soft = True, False
            index += 1
            continue
        if (out and _SIGN_OFF.match(low)) or index == signature_start:
            # "Merci", "Cordialement", or a block that looks like a signature: the signature, if what follows is
            # one — a line under it that speaks of the answer ("Enfin non", "Par contre pas mon téléphone") is
            # the person's again.
            in_signature, soft = True, True
            if index == signature_start and _speaks(line):
                out.append((written[index], line))
            index += 1
            continue
        if in_signature:
            ps = _PS.match(low)
            if ps is None and not (soft and _speaks(line)):
                index += 1
                continue  # name, title, phone of the signature
            in_signature = False  # read whole: "P.-S. :P" keeps its smiley
        if _OUR_INSTRUCTION.search(low) and not _speaks_besides_our_instruction(low):
            index += 1
            continue
        out.append((written[index], line))
        index += 1
    return out


_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# An attribution names a date or an address: "Comme je vous l'ai déjà écrit :" is the person's sentence.
_ATTRIBUTION_MARKS = re.compile(r"[\d@<]")


def _speaks(line: str) -> bool:
    """Whether a line under a sign-off says something about the answer (a yes, a no, a "not", a doubt, a
    condition, a delay, a question, a joke, a restriction): then it is the person's words, not their signature.
    A company's "Non-stop dépannage" or "Pas-de-Calais" is one word, no "non"."""
    low = _low(_COMPOUND.sub(r"\1", line))
    found = _Restriction()
    low = _take_restrictions(low, found, 0)
    words = _words(low)
    return bool(found.lines or _QUESTION_MARK.search(line) or _answers(words, CONSENT_VOCABULARY)
                or _NEGATION.search(words) or _qualifier(words, line) or _SENTENCE.match(line))


# What a signature is not: a sentence in the first person ("Je me rétracte", "J'ai changé d'avis") or one that ends
# like a sentence, with words in small letters ("Tout bien pesé, c'est mieux ainsi."). A name, a title, a company,
# a phone are neither.
_SENTENCE = re.compile(r"^\s*(?:(?:je|j['’]|moi|nous|on)\b|(?=.*\b[a-zàâçéèêëîïôûùüÿœæ]{3,}\b.*\s.*[.!…]\s*$))",
                       re.IGNORECASE)


def _speaks_besides_our_instruction(low: str) -> bool:
    """Our instruction pasted back says "oui ou non"; "Entre oui ou non, j'hésite" or "Répondez-moi d'abord : qui
    est-ce ?" are the person's words around the same phrase."""
    rest = _words(_low(_OUR_INSTRUCTION.sub(" ", low)))
    return bool(_HEDGE.search(rest) or _DEFER.search(rest) or _JOKE.search(rest) or _CONDITION.search(rest)
                or CONSENT_VOCABULARY.no.search(rest))


# "Non-stop", "Pas-de-Calais", "Sans-Souci": a negation joined by a hyphen to a word is part of a name.
_COMPOUND = re.compile(r"(?<![\w-])((?i:non|pas|sans))-(?=\w)")
# Question marks of every script and style: "?", fullwidth "？", Spanish "¿", "⁉", "❓".
_QUESTION_MARK = re.compile("[?？¿⁇⁈⁉❓❔]")


# --- words ----------------------------------------------------------------------------------------------------

def _phrases(pattern: str) -> re.Pattern[str]:
    """A verbose alternation matched on whole words (of text folded, apostrophes and hyphens made spaces)."""
    return re.compile(rf"(?x)(?<![a-z0-9])(?:{pattern})(?![a-z0-9])")


def _low(text: str) -> str:
    """Folded, apostrophes and hyphens as spaces, other punctuation kept (restrictions span commas)."""
    return re.sub(r"['\-_]", " ", _COMPOUND.sub(r"\1", fold(text)))


def _words(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


# --- restrictions: which fields of the card may be shared ----------------------------------------------------

_FIELD_WORDS = {
    # Longest first where they overlap: "nom de mon entreprise" is the company, "boîte mail" the e-mail.
    "company": r"nom\s+(?:de\s+|d\s+)?(?:mon\s+|ma\s+|l\s+|la\s+|notre\s+)?(?:entreprise|societe|boite|cabinet|"
               r"structure|agence)|(?:entreprise|societe|boite(?!\s+(?:mail|e\s*mail|email|aux\s+lettres))|cabinet|"
               r"structure|raison\s+sociale|employeur|agence|company)",
    "email": r"(?:adresses?\s+)?(?:e\s*mails?|emails?|mails?|mel|courriels?|electronique|internet|mail\s+perso)"
             r"(?:\s+(?:perso|personnel|pro|professionnel))?|adresses?|boite\s+(?:mail|e\s*mail|email|aux\s+lettres)"
             r"(?:\s+electronique)?",
    "phone": r"(?:numeros?\s+(?:de\s+)?)?(?:telephones?|tels?|teles?|portables?|mobiles?|fixes?|gsm|phone|"
             r"cellulaires?|cell)(?:\s+(?:portable|mobile|fixe|perso|personnel|pro|professionnel))?|numeros?"
             r"(?:\s+(?:perso|personnel|pro|professionnel))?|ligne\s+(?:directe|fixe)|0[67]",
    "activity": r"activites?(?:\s+(?:pro|professionnelle))?|metier|profession|secteur(?:\s+d\s+activite)?|"
                r"specialite|fonction|poste",
    "name": r"nom\s+(?:de\s+famille|et\s+prenom|complet)|noms?|prenoms?|identite|patronyme",
}
_FIELD = re.compile("|".join(f"(?P<{name}>(?<![a-z0-9])(?:{words})(?![a-z0-9]))"
                             for name, words in _FIELD_WORDS.items()))
# Repetitions are bounded: an unbounded run would make a long "de de de …" quadratic (tests/fuzz).
_DET = r"(?:(?:de|d|du|des|le|la|l|les|mon|ma|mes|votre|vos|son|sa|ses|notre|nos|my|the)\s+){0,3}"
_ONE = rf"{_DET}(?:{'|'.join(_FIELD_WORDS.values())})(?![a-z0-9])"
_FIELDS = rf"{_ONE}(?:\s*(?:,|/|&|\+|\s(?:et|ni|ou|plus|and|ainsi\s+que))\s*(?:ni\s+)?{_ONE}){{0,5}}"
_TAIL = r"(?:\s+(?:pour\s+moi|svp|stp|s\s+il\s+vous\s+plait|merci))?"
_ONLY = (r"seulement|seulment|seulemnt|uniquement|uniquemnt|uniquemen|juste|exclusivement|simplement|only|just|"
         r"seule?s?|rien\s+que|limite(?:e|s|es)?\s+a|pas\s+plus\s+que"
         # a bare "que" is "only" where an answer starts ("oui, que mon mail"), not in "sachant que mon portable…"
         # … or a sentence ("Oui. Que par mail.", "Oui ! Que mon mail")
         r"|(?:(?<=^)|(?<=^\s)|(?<=,\s)|(?<=,)|(?<=oui\s)|(?<=ok\s)|(?<=mais\s)|(?<=[.!;…(\[]\s)|(?<=[.!;…(\[]))"
         r"que")
_NOT = (r"sans|hors|sauf|excepte|hormis|a\s+part|a\s+l\s+exception\s+(?:de|du|des|d)|en\s+dehors\s+(?:de|du|des|d)|"
        r"except|without|but\s+not|not|ni|pas|non|jamais"
        r"|ne\s+(?:le\s+|la\s+|les\s+|lui\s+|leur\s+)?(?:donnez|transmettez|communiquez|partagez|divulguez|envoyez|"
        r"diffusez|mettez|indiquez|montrez|passez)\s+(?:surtout\s+)?pas"
        r"|ne\s+pas\s+(?:(?:lui|leur)\s+)?(?:donner|transmettre|communiquer|partager|divulguer|envoyer|diffuser|"
        r"indiquer|passer)"
        r"|(?:je\s+)?(?:prefere(?:rais)?\s+)?gard(?:er|ez|e)")
_YES_WORD = r"oui|ok|okay|d\s+accord|daccord|yes|accepte|j\s+accepte|volontiers|entendu|bien\s+sur"
# Each: (pattern, "only" or "not"). Matched on a line in _low form; the match is replaced by a marker word.
_RESTRICTIONS: list[tuple[re.Pattern[str], str]] = [
    (_phrases(rf"(?:mais\s+|et\s+)?(?:je\s+|j\s+|vous\s+)?(?:pouvez\s+)?ne\s+(?:(?!(?:pas|plus|jamais|point|guere|rien)\s)[a-z]+\s+){{0,4}}?que\s+"
              rf"(?:par\s+|pour\s+|via\s+)?{_FIELDS}{_TAIL}"),
     "only"),
    (_phrases(rf"(?:mais\s+|et\s+)?(?:{_ONLY})\s+(?:par\s+|pour\s+|via\s+|a\s+)?{_FIELDS}{_TAIL}"), "only"),
    (_phrases(rf"(?:mais\s+|et\s+)?(?:par\s+|pour\s+|via\s+)?{_FIELDS}\s*,?\s*(?:seulement|seulment|uniquement|"
              rf"exclusivement|seule?s?|only){_TAIL}"), "only"),
    (_phrases(rf"(?:mais\s+|et\s+)?(?:{_NOT})\s+(?:par\s+|pour\s+|a\s+)?{_FIELDS}{_TAIL}"), "not"),
    (_phrases(rf"(?:mais\s+|et\s+)?(?:pour\s+)?{_FIELDS}\s*,?\s*(?:non|pas|jamais|no)(?=\s*(?:[.,;!)]|$))"), "not"),
    (_phrases(r"je\s+(?:prefere(?:rais)?|souhaite(?:rais)?|voudrais|aimerais(?:\s+mieux)?)\s+(?:etre\s+)?"
              rf"(?:contactee?s?|joint|jointe|appelee?s?)\s+(?:uniquement\s+|seulement\s+)?(?:par|au|sur)\s+"
              rf"{_FIELDS}{_TAIL}"), "only"),
    # A sentence or a line that is only a channel or a list of fields ("Oui. Par mail svp.", "Oui\nVia mail", "nom,
    # e-mail" written under our quoted list): what the yes covers, as in the same clause. It ends the sentence, and
    # the sentence gives no details — "Tél. 06 12…" and "Mon mail, c'est marc@…" give them, they do not choose.
    (_phrases(rf"(?:(?<=^)|(?<=^\s)|(?<=[.!;…(\[]\s)|(?<=[.!;…(\[]))(?![^.!;?]*(?:qqadresse|@|\d))"
              rf"(?:(?:et|mais|ou|donc)\s+)?"
              rf"(?:(?:par|via|sur|en|au|a)\s+)?{_FIELDS}{_TAIL}"
              r"(?=\s*(?:[.!;…),\]]+\s*(?!qqadresse)(?:$|[^\d\s:])|$))"), "only"),
    # "Oui pour le mail", "d'accord par e-mail": a field named right after the yes is what the yes covers.
    (_phrases(rf"(?P<keep>(?:{_YES_WORD})\s*,?\s*)(?:pour|par|via)\s+{_FIELDS}{_TAIL}"), "only"),
]
_MARK = " qqrestriction "


@dataclass
class _Restriction:
    only: set[str] = field(default_factory=set)
    excluded: set[str] = field(default_factory=set)
    lines: set[int] = field(default_factory=set)  # the person's lines that restrict

    def fields(self) -> frozenset[str] | None:
        """The fields that may be shared, None when the restriction contradicts itself or leaves nothing."""
        if self.only & self.excluded and not (self.only - self.excluded):
            return None
        shared = (self.only or set(CARD_FIELDS)) - self.excluded
        return frozenset(shared) if shared else None


def _take_restrictions(low: str, found: _Restriction, line: int) -> str:
    """`low` with each restriction replaced by a marker word; the fields go into `found`."""
    for pattern, kind in _RESTRICTIONS:
        def mark(match: re.Match[str], kind: str = kind) -> str:
            keep = match.groupdict().get("keep") or ""  # the yes before "pour le mail" stays an answer
            named = {name for hit in _FIELD.finditer(match.group()[len(keep):])
                     for name, value in hit.groupdict().items() if value}
            (found.only if kind == "only" else found.excluded).update(named)
            found.lines.add(line)
            return keep + _MARK
        low = pattern.sub(mark, low)
    return low


# --- vocabulary -----------------------------------------------------------------------------------------------

# Negation words inside a fixed phrase that means yes: taken out before anything else is looked at.
_YES_FIXED = _phrases(r"""
    (?:il\s+n\s+y\s+a\s+|y\s+a\s+|je\s+n\s+ai\s+|n\s+ai\s+)?(?:pas|aucun|aucune)\s+(?:de\s+|d\s+)?
        (?:probleme|problemes|souci|soucis|soucy|objection|objections|inconvenient|inconvenients)
  | je\s+n\s+y\s+vois\s+(?:pas\s+d|aucun|aucune)\s+(?:inconvenient|objection|probleme)s?
  | sans\s+(?:aucun\s+|aucune\s+)?(?:probleme|souci|soucis|objection|inconvenient|hesiter|hesitation|reserve)s?
  | sans\s+(?:aucun\s+|aucune\s+)doute
  | (?:ca|cela|ceci)\s+ne\s+me\s+(?:derange|gene|pose)\s+(?:pas|aucun|aucune)
        (?:\s+(?:de\s+|d\s+)?(?:probleme|souci|inconvenient)s?)?
  | (?:ca|cela)\s+ne\s+pose\s+(?:pas\s+de|pas\s+d|aucun|aucune)\s+(?:probleme|souci|inconvenient)s?
  | n\s+hesitez\s+pas | pas\s+de\s+(?:soucis|souci)\s+pour\s+moi
""")
_NO = r"""
    non(?!\s+seulement) | no | nan | nope | nenni | niet | negatif
  | je\s+refuse | refuse | refusee | je\s+decline | je\s+m\s+y\s+oppose | je\s+m\s+oppose
  | (?:je\s+)?ne\s+(?:le\s+|la\s+)?(?:veux|voudrais|souhaite|souhaiterais|desire|tiens)\s+pas
  | je\s+(?:ne\s+)?(?:prefere|preferais|prefererais|prefere\s+ne|prefererais\s+ne)\s+pas
  | (?:je\s+)?(?:ne\s+suis|suis)\s+pas\s+(?:d\s+accord|interessee?|partante?)
  | pas\s+d\s+accord | pas\s+interessee? | ca\s+ne\s+m\s+interesse\s+pas
  | je\s+n\s+accepte\s+pas | (?:je\s+)?ne\s+(?:consens|donne)\s+pas(?:\s+mon\s+accord)?
  | (?:je\s+)?retire\s+mon\s+(?:accord|consentement)
  | j\s+aime\s+mieux\s+pas | plutot\s+(?:pas|non)
  | (?:surtout|certainement|absolument|vraiment)\s+pas | pas\s+du\s+tout | jamais
  | (?:pas|hors\s+de)\s+question | il\s+n\s+en\s+est\s+pas\s+question | c\s+est\s+non | ce\s+sera\s+non
  | pas\s+pour\s+(?:l\s+instant|le\s+moment|l\s+heure|moi) | pas\s+maintenant | pas\s+cette\s+fois(?:\s+ci)?
  | ne\s+(?:transmettez|donnez|communiquez|partagez)\s+(?:rien|pas) | ne\s+pas\s+(?:transmettre|donner|communiquer|partager)
  | sans\s+(?:facon|moi) | tres\s+peu\s+pour\s+moi
"""
_YES = r"""
    ou+i+ | ouais | ouai | yes | yep | ok+ | okay | oki | okey | oke | d\s+acc?ord | dacc?ord | d\s+acc? | dacc?
  | accord | affirmatif | je\s+veux\s+bien
  | je\s+suis\s+d\s+accord | c\s+est\s+d\s+accord | tout\s+a\s+fait | absolument | bien\s+sur | bien\s+entendu
  | evidemment | naturellement | certainement | entendu | parfait | volontiers | avec\s+(?:grand\s+)?plaisir
  | j\s+accepte?s? | accepte | acceptee | je\s+consens | j\s+autorise | je\s+vous\s+autorise | je\s+valide | valide
  | je\s+donne\s+mon\s+accord | (?:vous\s+avez|voici)\s+mon\s+accord | je\s+suis\s+partante?
  | ca\s+(?:me\s+va|marche|me\s+convient) | cela\s+me\s+convient | c\s+est\s+(?:bon|ok|parfait)(?:\s+pour\s+moi)?
  | allez\s+y | transmettez | (?:donnez|communiquez|passez|envoyez|transmettez)\s+(?:lui|leur)(?:\s+(?:mes|mon|ma)\s+coordonnees)?
  | vous\s+pouvez\s+(?:lui\s+|leur\s+)?(?:transmettre|donner|communiquer|partager)
  | avec\s+joie | je\s+(?:vous\s+)?(?:le\s+)?confirme | go | banco | feu\s+vert
"""


@dataclass(frozen=True)
class Vocabulary:
    """The words of one question: what means yes, what means no, what may stand beside them."""

    yes: re.Pattern[str]
    no: re.Pattern[str]
    neutral: frozenset[str]
    restrictions: bool  # whether "only my e-mail" is an answer (consent) or a muddle (a "do you confirm?")


# Doubt anywhere: never a YES. In the first clause: never an answer at all.
_HEDGE = _phrases(r"""
    peut\s*etre | p\s+e | p\s+t\s+e | je\s+(?:ne\s+)?(?:sais|sait)\s+pas | sais\s+pas | chais\s+pas | j\s+sais\s+pas
  | je\s+ne\s+suis\s+pas\s+(?:sure?|certaine?) | pas\s+(?:sure?|certaine?) | j\s+hesite | je\s+doute
  | a\s+voir | on\s+verra | je\s+verrai | faut\s+voir | il\s+faut\s+voir | (?:ca|cela)\s+depend | depend | selon
  | en\s+fonction | je\s+(?:vais\s+)?reflechi\w* | laissez\s+moi | eventuellement | possiblement | potentiellement
  | probablement | sans\s+doute | a\s+priori | en\s+principe | normalement | en\s+theorie | theoriquement
  | je\s+pense | je\s+crois | je\s+suppose | j\s+imagine | il\s+me\s+semble | pourquoi | disons | bof | mouais | moui
  | euh+ | heu+ | hum+ | hmm+ | plutot | pas\s+tout\s+de\s+suite | pas\s+encore | (?:ne\s+suis\s+)?pas\s+contre
  | en\s+discuter | en\s+parler | on\s+en\s+reparle | rappelez\s+moi | qui\s+est\s+ce | c\s+est\s+qui | qui\s+c\s+est
  | a\s+(?:vos|mes|ses|tes|nos)\s+risques | tant\s+pis | faute\s+de\s+quoi
  | maybe | perhaps | not\s+sure | i\s+think | i\s+guess | i\s+suppose | i\s+believe | probably | likely | aucune\s+idee | si\s+vous\s+voulez | si\s+vous\s+insistez
  | pas\s+vraiment | a\s+la\s+rigueur | au\s+pire | pourquoi\s+pas | je\s+(?:vous\s+)?laisse\s+voir
  | surement | possible | semble | j\s+espere | sauf\s+erreur | en\s+attendant | a\s+confirmer | a\s+valider
  | confirmerai | sous\s+condition | conditionnel\w* | devrai[st]? | devrait | faudrai[st]? | faudra | pourrai[st]
  | pourrait | serai[st] | serait | aurai[st] | aurait | voudrai[st] | voudrait
  | tbc | tbd | nsp | to\s+be\s+(?:confirmed|determined)
""")
# Deferral and dependency: the yes is for later, or someone else's.
_DEFER = _phrases(r"""
    je\s+(?:vous\s+)?reviens | reviendrai | revenir\s+vers | reviens\s+vers | je\s+(?:vais\s+|dois\s+)?verifi\w*
  | verifier | je\s+vous\s+(?:re)?dis | je\s+vous\s+dirai | tiens?\s+au\s+courant | recontacte\w* | rappelle\w*
  | je\s+(?:vais\s+)?regarde\w* | je\s+vais\s+voir | je\s+me\s+renseigne | je\s+consulte | consulter
  | je\s+(?:dois\s+|vais\s+)?demande\w* | je\s+dois | il\s+faut\s+que | attendez | patientez | un\s+instant
  | d\s+ici | demain | plus\s+tard | ulterieurement | la\s+semaine\s+prochaine | bientot | tout\s+a\s+l\s+heure
  | a\s+suivre | affaire\s+a\s+suivre | ce\s+soir | des\s+que | une\s+fois\s+que | lorsque | quand | apres | avant | d\s+abord | au\s+prealable
  | prealablement | accord\s+de | avis\s+de | aval\s+de | feu\s+vert\s+de | validation | valider\s+avec
  | associee? | associes | hierarchie | patron | chef | direction | conjointe? | epouse? | femme | mari | avocate?
  | comptable | banquier | notaire | provisoires? | temporaires? | pour\s+l\s+instant | pour\s+le\s+moment | temporairement | provisoirement
  | later | tomorrow | let\s+me\s+check
  | lundi | mardi | mercredi | jeudi | vendredi | samedi | dimanche | a\s+partir | des\s+(?:que|lundi|demain|la|le)
  | a\s+la\s+fin | fin\s+du\s+mois | fin\s+d\s+annee | fin\s+de\s+l\s+annee | janvier | fevrier | mars | avril | mai
  | juin | juillet | aout | septembre | octobre | novembre | decembre | rentree | vacances | semaine\s+prochaine
  | for\s+now | for\s+the\s+time\s+being | next\s+(?:week|month|time) | monday | tuesday | wednesday | thursday
  | friday | saturday | sunday
""")
_CONDITION = _phrases(r"""
    mais | sauf | seulement | uniquement | juste | exclusivement | a\s+condition | sous\s+reserve | si
  | s\s+il(?!\s+(?:vous|te)\s+plait) | s\s+ils | s\s+elle | par\s+contre | cependant | toutefois | pourvu | tant\s+que
  | a\s+part | excepte | hormis | neanmoins | en\s+revanche | quand\s+meme | enfin | but | only | if | unless | except
  | hors | sinon | a\s+moins | dans\s+la\s+mesure | limite\w* | restrei\w* | partiel\w* | en\s+partie | pas\s+tout
  | prefere\w* | preferable | preference | gard(?:er|ez|e) | confidentiel\w* | prive | privee | discret\w*
  | discretion | exclu\w* | reserve | reserves
  | sous\s+(?:certaines\s+|quelques\s+)?conditions? | moyennant | au\s+besoin | en\s+cas\s+de | au\s+cas
  | le\s+cas\s+echeant | si\s+necessaire | quitte\s+a | du\s+moment\s+que | quoique | encore\s+que | admettons
  | globalement | en\s+gros | grosso\s+modo | presque | quasi\w* | pratiquement | a\s+moitie | a\s+peu\s+pres
  | plus\s+ou\s+moins | en\s+quelque\s+sorte | du\s+moins | pas\s+(?:completement|entierement|totalement|tout\s+a\s+fait)
  | sur\s+le\s+papier | exceptionnel\w* | a\s+titre | une\s+seule\s+fois
  | pour\s+une\s+fois | dans\s+un\s+premier\s+temps | pour\s+commencer | a\s+contrec\w* | a\s+reculons
  | faute\s+de\s+mieux | prudemment | avec\s+prudence | par\s+ecrit
  | provided | providing | as\s+long\s+as | so\s+long\s+as | in\s+case | assuming | on\s+condition | subject\s+to
  | sort\s+of | kind\s+of | partly | partially | mostly
  | anonym\w* | incognito | pseudonym\w* | sous\s+pseudo\w* | sans\s+(?:me\s+)?(?:nommer|citer|identifier)
  | moitie | a\s+demi | demi | sous\s+x | ceci\s+dit | cela\s+dit | ca\s+dit | ceci\s+etant | cela\s+etant
  | sms | textos? | whatsapp | signal | telegram | linkedin | messenger | facebook | instagram
""")
# Only through the club: the person wants no details given at all, which no card can be ("Oui, que par le club",
# "Oui. Uniquement via vous.", "Oui\nPar l'intermédiaire du club"): never a yes to sharing them.
_US = r"(?:(?:le|l|la|votre|notre|vos)\s+)?(?:club|association|asso|vous|aideur|intermediaire|coordinat(?:eur|rice))"
_THROUGH_US = _phrases(rf"""
    (?:que|seulement|uniquement|juste|exclusivement|rien\s+que|only|toujours)\s+(?:en\s+passant\s+)?
        (?:par|via|a\s+travers|aupres\s+(?:de|du|d))\s+{_US}
  | (?:en\s+passant\s+par|a\s+travers|par\s+l\s+intermediaire\s+(?:du|de\s+l|de\s+la|de|d)
        |par\s+le\s+biais\s+(?:du|de\s+l|de\s+la|de|d)|via)\s+{_US}
  | (?:^|\|\s*|(?:oui|ok|d\s+accord|yes|volontiers|entendu)\s+)par\s+{_US}(?:\s+(?:svp|stp|merci|s\s+il\s+vous\s+plait))*
        \s*(?=\||$)
""")
# A sentence that starts with "que" after the answer and restricts nothing we know ("Je confirme. Que le profil."):
# "only …" of something that is not a field of the card.
_ONLY_OTHER = re.compile(r"(?:^|\|)\s*que(?![a-z0-9])")
_JOKE = _phrases(r"""
    je\s+(?:plaisante|rigole|blague|deconne|taquine) | c\s+est\s+une\s+blague | blague | pour\s+(?:de\s+)?rire
  | humour | ironi\w* | second\s+degre | poisson\s+d\s+avril | lol | lool+ | mdr+ | ptdr+ | xptdr | haha\w* | hihi\w*
  | hehe\w* | hoho\w* | jk | kidding | joke | troll\w* | ou\s+pas | rires? | xd
""")
_JOKE_MARKS = re.compile(r"[\U0001F609\U0001F61C\U0001F61D\U0001F61B\U0001F92A\U0001F602\U0001F923\U0001F606"
                         r"\U0001F639\U0001F60F\U0001F643\U0001F92D\U0001F921]"
                         r"|(?<![:/;])[;][-'^]?[)pPD(]|(?<![\w/])[:=][-'^]?[pPb](?![\w])|\^\^|\^_\^")
# A yes that trails off ("Oui…", "OK...", "D'accord.."): a hesitation, not an agreement.
_TRAILING_OFF = re.compile(r"(?<![^\W\d_])(?:oui+|ouais|yes|ok(?:ay)?|d\W?accord|entendu|volontiers)\s*(?:…|\.{2,})",
                           re.IGNORECASE)
# Doubt and refusal drawn rather than written: 🤔 🤷 😬 🙄 😐 😕 👎 ❌ :/ — never part of a yes.
_DOUBT_MARKS = re.compile(r"[\U0001F605\U0001F914\U0001F937\U0001F615\U0001F62C\U0001F644\U0001F610\U0001F636"
                          r"\U0001FAE4\U0001F612\U0001F928\U0001F44E\u274C\U0001F6AB\u26D4\U0001F645\U0001F61E"
                          r"\U0001F641\u2639\U0001F61F\U0001F622]"
                          r"|(?<![\w:/])[:;]-?[|sS$](?!\w)|(?<![\w:/]):-?/(?!/)|(?<![\w:/]):-?\(")
_NEGATION = _phrases(r"ne | n | pas | non | jamais | aucun | aucune | ni | nullement | sans | no | not | rien | nan")
_QUESTION = _phrases(r"""
    est\s+ce | qu\s+est | qui\s+est | c\s+est\s+qui | qui\s+c\s+est | pourquoi | comment | combien | quel | quelle
  | quels | quelles | lequel | laquelle | pouvez\s+vous\s+me | pourriez\s+vous | puis\s+je | dois\s+je | faut\s+il
  | savez\s+vous | j\s+aimerais\s+savoir | je\s+voudrais\s+savoir | dites\s+moi | une\s+question | expliquez
  | me\s+dire | me\s+preciser | m\s+indiquer | savoir\s+(?:si|qui|quoi|comment|pourquoi|ou)
  | je\s+me\s+demande | pouvez\s+vous\s+(?:me|m|nous)
  | precisez | de\s+quoi | c\s+est\s+quoi | s\s+agit\s+il | who | why | what | which
""")

_GREETINGS = frozenset(["bonjour", "bonsoir", "salut", "hello", "hi", "coucou", "re", "cher", "chere", "chers", "cheres"])
_TITLES = frozenset(["madame", "monsieur", "mme", "mr", "m", "aideur", "a", "tous", "tout", "toutes", "le", "la", "l", "monde", "equipe", "club", "aide"])
_POLITE = frozenset(["merci", "beaucoup", "infiniment", "bien", "mille", "fois", "encore", "pour", "votre", "vos", "ce", "cet", "cette", "le", "la", "l", "les", "de", "du", "d", "message", "mail", "courriel", "retour", "proposition", "question", "demande", "sollicitation", "votre", "prise", "contact", "gentil", "c", "est", "tres", "je", "vous", "remercie"])
_LEAD_IN = frozenset(["alors", "bon", "bah", "ben", "eh", "bien", "finalement", "apres", "reflexion", "tout", "compte", "fait", "en", "faite"])
# Words that may stand next to the answer without changing it: politeness, the details and the people concerned.
_FILLER = frozenset(["merci", "beaucoup", "bien", "mille", "fois", "infiniment", "encore", "svp", "stp", "plait", "je", "j", "vous", "il", "elle", "on", "lui", "leur", "leurs", "me", "m", "moi", "nous", "y", "en", "le", "la", "l", "les", "un", "une", "des", "de", "du", "d", "a", "au", "aux", "pour", "par", "avec", "et", "mon", "ma", "mes", "votre", "vos", "son", "sa", "ses", "ce", "cet", "cette", "ces", "ca", "cela", "que", "qu", "qui", "c", "est", "s", "soit", "soient", "sont", "etre", "ai", "a", "avoir", "pouvez", "peut", "pouvons", "donc", "alors", "bon", "bah", "ben", "eh", "ah", "oh", "tres", "tout", "toute", "tous", "toutes", "finalement", "tant", "madame", "monsieur", "aideur", "club", "aide", "reponse", "part", "cote", "mien", "mienne", "ici", "bonne", "journee", "soiree", "mis", "mise", "mises"])
_CONTEXT = re.compile(r"(?:transm|communiq|donn|partag|envoy|contact|coordonn|inform|infos|numer|telephon|tel|"
                      r"adress|mail|email|courriel|person|membre|demand|relation|echang|nom|prenom|detail|"
                      r"qqrestriction)\w*")

CONSENT_VOCABULARY = Vocabulary(yes=_phrases(_YES), no=_phrases(_NO), neutral=_FILLER, restrictions=True)


def consent_words_and(*, yes: str = "", no: str = "", neutral: Iterable[str] = ()) -> Vocabulary:
    """The consent reader's words and those of another yes/no question (a confirmation, a booking, a quote, the
    acceptance of the conditions), read as strictly; `yes` and `no` are more alternatives in `_phrases` syntax.
    Restricting what is shared is no answer to those questions."""
    return Vocabulary(yes=_phrases(_YES + (f"| {yes}" if yes.strip() else "")),
                      no=_phrases(_NO + (f"| {no}" if no.strip() else "")),
                      neutral=_FILLER | frozenset(neutral), restrictions=False)


# A verb in the future or the conditional ("je donnerai mon accord", "je vous enverrai"): a promise, not consent.
_FUTURE = re.compile(r"[a-z]{2,}(?:erai|erais|erait|eraient|erons|eront|irai|irais|irait|drai|drais|drait|rrai|rrais|"
                     r"rrait)")


def _neutral(word: str, vocabulary: Vocabulary) -> bool:
    if _FUTURE.fullmatch(word):
        return False
    return (word in vocabulary.neutral or word in _LEAD_IN or word == "qqadresse"
            or bool(_CONTEXT.fullmatch(word)))


# After the answer, only these may stand beside kind words (see _says_more): the person's own details given or
# named ("voici mon numéro : 06…", "PS : sans mon téléphone"), not what is done with them.
_LATER_NEUTRAL = frozenset(["ou", "suis", "remercie", "remercions", "disponible", "disponibles", "joignable", "joignables", "ps", "pps", "nb", "p", "s", "voici", "voila", "ci", "dessous", "coordonnees", "coordonnee", "numero", "numeros", "telephone", "tel", "portable", "mobile", "fixe", "mail", "mails", "email", "e", "courriel", "adresse", "postale", "postal", "nom", "prenom", "perso", "pro"])


def _later_neutral(word: str, vocabulary: Vocabulary) -> bool:
    return (word in vocabulary.neutral or word in _LEAD_IN or word in _LATER_NEUTRAL or word.isdigit()
            or word in ("qqrestriction", "qqadresse")) and not _FUTURE.fullmatch(word)


# --- clauses --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Clause:
    line: int   # index in the person's lines
    words: str  # folded, punctuation made single spaces: "j accepte", "d accord", restrictions as "qqrestriction"


_CUT = re.compile(r"[,;:.!?…()\[\]«»\"]|\s-+\s|\s(?=mais\s)")


def _clauses(lows: list[str]) -> list[_Clause]:
    out: list[_Clause] = []
    for index, low in enumerate(lows):
        for piece in _CUT.split(low):
            words = _words(piece)
            if words:
                out.append(_Clause(index, words))
    return out


def _answers(words: str, vocabulary: Vocabulary) -> bool:
    return bool(_YES_FIXED.search(words) or vocabulary.no.search(words) or vocabulary.yes.search(words)
                or "qqrestriction" in words.split())


def _opening(clauses: list[_Clause], vocabulary: Vocabulary) -> list[_Clause]:
    """The clauses from the first one that is not a greeting, a thank-you or a lead-in ("Finalement,")."""
    clauses = list(clauses)
    while clauses:
        words = clauses[0].words.split()
        answers = _answers(clauses[0].words, vocabulary)
        if words[0] in _GREETINGS:
            if not answers and len(words) <= 5:
                clauses.pop(0)  # "Bonjour Aideur", "Bonsoir Madame", "Bonjour Jean-Pierre"
                continue
            rest = words[1:]
            while rest and rest[0] in _TITLES:
                rest = rest[1:]  # "Bonjour Madame oui"
            if not rest:
                clauses.pop(0)
                continue
            clauses[0] = _Clause(clauses[0].line, " ".join(rest))
            continue
        if not answers and (all(word in _POLITE for word in words) or all(word in _LEAD_IN for word in words)):
            clauses.pop(0)
            continue
        break
    return clauses


# --- the decision ---------------------------------------------------------------------------------------------

def _first_clause(words: str, vocabulary: Vocabulary) -> ConsentAnswer:
    """YES, NO or UNCLEAR for the clause that must carry the answer (a restriction alone counts as a yes)."""
    words = re.sub(r"^mais\s+", "", words)  # "Mais oui, bien sûr !", "C'est gentil, mais non."
    fixed_yes = bool(_YES_FIXED.search(words))
    text = _YES_FIXED.sub(" ", words)
    no = bool(vocabulary.no.search(text))
    text = vocabulary.no.sub(" ", text)
    restricted = "qqrestriction" in text.split()
    yes = fixed_yes or bool(vocabulary.yes.search(text)) or restricted
    text = vocabulary.yes.sub(" ", text)
    if yes == no:
        return ConsentAnswer.UNCLEAR  # neither, or both ("oui non", "non, pas de problème")
    leftover = [word for word in text.split() if not _neutral(word, vocabulary)]
    if yes:
        # Anything else, and any "not" left over, makes it something other than a plain yes.
        return ConsentAnswer.YES if not leftover and not _NEGATION.search(text) else ConsentAnswer.UNCLEAR
    # "Non, je préfère garder mes coordonnées": a clause opening with a bare "non" may say why, briefly.
    opens_with_no = re.match(r"(?:non|no|nan|nope)(?![a-z0-9])", words) is not None
    if not leftover or (opens_with_no and len(words.split()) <= 6):
        return ConsentAnswer.NO
    return ConsentAnswer.UNCLEAR


def _qualifier(everything: str, raw: str) -> str:
    """Why a yes read in `everything` (the words of the whole reply, restrictions marked) is not a plain yes; ""
    when nothing qualifies it."""
    if _QUESTION_MARK.search(raw) or _QUESTION.search(everything):
        return "question"
    if _JOKE.search(everything) or _JOKE_MARKS.search(raw):
        return "plaisanterie"
    if _HEDGE.search(everything) or _DOUBT_MARKS.search(raw) or _TRAILING_OFF.search(raw):
        return "doute"
    if _DEFER.search(everything):
        return "différé"
    if _CONDITION.search(everything) or _THROUGH_US.search(everything) or _ONLY_OTHER.search(everything):
        return "condition"
    return ""


# Phrases that look like a deferral or a doubt but settle the matter: "après réflexion, oui", "quand vous voulez".
_SETTLED = _phrases(r"""
    apres\s+(?:mure\s+)?reflexion | reflexion\s+faite | tout\s+bien\s+reflechi | tout\s+compte\s+fait
  | quand\s+vous\s+(?:voulez|voudrez|le\s+souhaitez)
  | quand\s+(?:il|elle|ils|elles)\s+(?:veut|veulent|voudra|voudront|le\s+souhaite|le\s+souhaitent)
  | a\s+(?:tres\s+)?bientot | des\s+que\s+possible | des\s+maintenant | sans\s+attendre
  | depuis\s+(?:(?:le|la|l|ce|cette|mon|ma)\s+)?(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|hier|janvier
        |fevrier|mars|avril|mai|juin|juillet|aout|septembre|octobre|novembre|decembre|\d+|debut|semaine\s+derniere)
""")


# After the answer, what a plain yes may still say: kind words, a closing, the wish to help. Anything else (a
# condition or a delay in words no list foresaw, someone else's say, "bien reçu", another subject) is more than a
# plain yes, and the question is asked again: the lists above catch the usual qualifiers by name, this catches
# the rest by what it is not.
_KIND = _phrases(r"""
    bonne\s+(?:journee|soiree|fin\s+de\s+(?:journee|semaine)|semaine|continuation|chance|fetes|annee|nuit|reception)
  | belle\s+(?:journee|soiree|semaine|fin\s+de\s+(?:journee|semaine)) | bon\s+(?:courage|week\s*end|apres\s+midi|dimanche)
  | excellente\s+(?:journee|soiree|semaine) | cordialement | bien\s+cordialement | cordiales\s+salutations
  | (?:sinceres\s+|meilleures\s+|bien\s+)?salutations | bien\s+a\s+(?:vous|toi) | amicalement | amities | bises | bisous
  | a\s+bientot | au\s+plaisir | a\s+(?:votre|ta)\s+disposition | je\s+reste\s+a\s+(?:votre|ta)\s+(?:entiere\s+)?disposition
  | (?:je\s+(?:suis|serai)\s+)?(?:tres\s+)?(?:ravie?s?|heureux|heureuse|contente?s?)\s+(?:de\s+|d\s+)?(?:pouvoir\s+)?(?:l\s+|la\s+|les\s+|vous\s+|lui\s+)?
        (?:aider|rendre\s+service|etre\s+utile|participer|contribuer|echanger)
  | (?:avec\s+)?(?:grand\s+|grande\s+)?(?:plaisir|joie) | de\s+rien | je\s+vous\s+en\s+prie | merci\s+a\s+vous
  | (?:il|elle|ils|elles|on)\s+(?:peut|peuvent|pourra|pourront)\s+(?:me|m|nous)\s+(?:appeler|joindre|contacter|ecrire)
  | (?:mise?s?|mettre|mette)\s+en\s+(?:relation|contact) | thanks | thank\s+you | cheers | best\s+regards | regards
  | merci\s+(?:beaucoup\s+|infiniment\s+|bien\s+|encore\s+)?(?:pour|de)\s+(?:votre|vos|ton|ta|tes|la|le|les|l|cette|ce|cet)
        \s+[a-z]+(?:\s+(?:en\s+relation|de\s+contact))?
""")


def _says_more(later: list[_Clause], lines: list[tuple[str, str]], vocabulary: Vocabulary,
               names: frozenset[str] = frozenset()) -> bool:
    """Whether a clause after the answer says more than a plain yes may (see _KIND). Lines that are the person's
    name ("Alice Martin", "J.-P. Dupont") are their signature, whatever precedes them (see _is_name: a capital
    is not enough)."""
    for clause in later:
        line = lines[clause.line][1]
        if _name_line(line, vocabulary, names) or _name_words(clause.words, line, vocabulary, names):
            continue
        # A clause that says yes again ("vous pouvez lui transmettre mes coordonnées", "n'hésitez pas à lui
        # transmettre…") may name what is shared.
        says_yes = bool(_YES_FIXED.search(clause.words) or vocabulary.yes.search(clause.words))
        if not says_yes and not _GIVEN.search(line) and _chooses_fields(clause.words):
            return True  # a field named without being given ("Oui, mail svp", "Et par mail"): a choice, unread
        words = _KIND.sub(" ", _SETTLED.sub(" ", _YES_FIXED.sub(" ", clause.words)))
        neutral = _neutral if says_yes else _later_neutral
        words = vocabulary.yes.sub(" ", words)
        if any(not neutral(word, vocabulary) for word in words.split()):
            return True
    return False


def _chooses_fields(words: str) -> bool:
    """Whether a clause names fields of the card that leave a way of contact out ("mail svp", "joignable par
    téléphone"); "il peut me contacter par mail ou téléphone" names both and chooses nothing."""
    named = {name for hit in _FIELD.finditer(words) for name, value in hit.groupdict().items() if value}
    return bool(named) and not CONTACT_CHANNELS <= named


# Details given on the line (a number, an address): "Mon mail : marc@exemple.fr", "PS : mon portable 06 11…".
_GIVEN = re.compile(r"\d|@")
_NAME_PART = re.compile(r"[^\W\d_]+")
# Around a name: initials, titles, particles ("M. Dupont", "Me Chloé Durand", "Jean de La Fontaine").
_NAME_TITLES = frozenset(["m", "mr", "mme", "mlle", "me", "dr", "docteur", "pr", "maitre"])
_PARTICLES = frozenset(["de", "du", "des", "d", "la", "le", "van", "von", "der", "den", "di", "da", "del", "della",
                        "dos", "ben", "el", "al", "st", "ste", "saint", "sainte"])
# Small words of French that are never a name on their own: prepositions, adverbs of degree and manner.
_FUNCTION_WORDS = frozenset(["sous", "sur", "dans", "chez", "vers", "entre", "contre", "sans", "avec", "pour", "par",
                             "hors", "via", "plus", "moins", "trop", "assez", "peu", "ainsi", "aussi", "comme",
                             "ou", "et", "ni", "mais", "donc", "or", "car", "tot", "tard", "oui", "non"])
# Words that are French words, not names, by their ending: "Partiellement", "Confirmation", "Décision".
_NOT_A_NAME_ENDING = re.compile(r"[a-z]{4,}(?:ment|tion|sion)")


def _name_parts(text: str) -> list[str]:
    return [fold(part) for part in _NAME_PART.findall(text)]


def person_names(*names: str) -> frozenset[str]:
    """The words of a person's names, folded, for read_answer (`names`): "Jean-Pierre", "Le Gall" → jean, pierre,
    le, gall (initials left out)."""
    return frozenset(part for name in names for part in _name_parts(name or "") if len(part) > 1)


def _known_word(word: str, vocabulary: Vocabulary) -> bool:
    """Whether a folded word is one of the words the reader knows (a yes, a no, a doubt, a condition, a field,
    politeness, a filler) or a French word by its ending: a line made of such words, capitalised or not, is read,
    never taken for a signature ("Oui\nAnonyme", "Oui, TBC", "Oui\nPar Mail", "Oui\nÀ Moitié")."""
    if (word in vocabulary.neutral or word in _LATER_NEUTRAL or word in _POLITE or word in _LEAD_IN
            or word in _GREETINGS or word in _FUNCTION_WORDS or _NOT_A_NAME_ENDING.fullmatch(word)
            or _FIELD.fullmatch(word)):
        return True
    return any(pattern.search(word) for pattern in (
        vocabulary.yes, vocabulary.no, _YES_FIXED, _HEDGE, _DEFER, _CONDITION, _JOKE, _NEGATION, _QUESTION, _KIND,
        _SETTLED))


def _is_name(parts: list[str], vocabulary: Vocabulary, names: frozenset[str]) -> bool:
    """Whether these folded words are a signature: the person's own name when the caller knows it (one of its words
    at least, beside initials, titles and particles), else words shaped like a name that are none of the words the
    reader knows."""
    real = [part for part in parts if len(part) > 1 and part not in _NAME_TITLES and part not in _PARTICLES]
    if not real:
        return False
    others = [part for part in real if part not in names]
    if names and len(others) == len(real):
        return False  # a name, but not hers: whose yes is it?
    return not any(_known_word(part, vocabulary) for part in others)


def _name_words(words: str, line: str, vocabulary: Vocabulary, names: frozenset[str]) -> bool:
    """A clause of one to three words, each written with a capital in its line, that is a name: a name signed after
    a closing on the same line ("Oui. Cordialement, Marc")."""
    wanted = words.split()
    if not 0 < len(wanted) <= 3:
        return False
    capitalised = {fold(part) for part in _NAME_PART.findall(line) if part[:1].isupper()}
    return all(word in capitalised for word in wanted) and _is_name(wanted, vocabulary, names)


def _name_line(line: str, vocabulary: Vocabulary, names: frozenset[str]) -> bool:
    """A line that is a name: one to four words, each starting with a capital, no digit, and a name (_is_name)."""
    parts = [part for part in re.split(r"[\s.]+", line.strip(" ,.;")) if part]
    if not (0 < len(parts) <= 4 and all(part[:1].isupper() and not any(c.isdigit() for c in part)
                                        for part in parts)):
        return False
    return _is_name(_name_parts(line), vocabulary, names)


# An answer is a line or two; a long letter is not read for a yes (asked again for a plain OUI).
_LONGEST = 3000


def read_answer(text: str, vocabulary: Vocabulary, names: Iterable[str] = ()) -> ConsentReading:
    """The answer in `text` (the whole mail body: quotes and signature are set aside here) to a yes/no question
    whose words are `vocabulary`. `names`: the person's first and last names when known — a line after the yes is
    her signature only if it is her name (else any name-shaped line of words the reader does not know)."""
    lines = _own_lines(text)
    if not lines:
        return ConsentReading(ConsentAnswer.UNCLEAR, "", reason="vide")
    if sum(len(cleaned) for _written, cleaned in lines) > _LONGEST:
        return ConsentReading(ConsentAnswer.UNCLEAR, lines[0][0], reason="trop long")
    found = _Restriction()
    # An address the person gives ("Mon mail : marc@exemple.fr") is their own details: one neutral word (not a
    # field's name: an address alone on its line chooses nothing).
    lows = [_take_restrictions(_low(_ADDRESS.sub(" qqadresse ", cleaned)), found, index)
            for index, (_written, cleaned) in enumerate(lines)]
    clauses = _opening(_clauses(lows), vocabulary)
    if not clauses:
        return ConsentReading(ConsentAnswer.UNCLEAR, "", reason="vide")  # only "Bonjour," and "Merci !"
    line = lines[clauses[0].line][0]

    def unclear(reason: str) -> ConsentReading:
        return ConsentReading(ConsentAnswer.UNCLEAR, line, reason=reason)

    answer = _first_clause(clauses[0].words, vocabulary)
    if answer is ConsentAnswer.UNCLEAR:
        # Why, for the workflow: a doubt or a no ("PS : en fait non") is not the same as "Bien reçu".
        words = " | ".join(clause.words for clause in clauses)
        raw = "\n".join(cleaned for _written, cleaned in lines)
        if vocabulary.no.search(_YES_FIXED.sub(" ", words)) or _NEGATION.search(_YES_FIXED.sub(" ", words)):
            return unclear("contradiction")
        return unclear(_qualifier(words, raw) or "pas une réponse")
    # From the answer on: every clause, PS included; the greeting and thanks above it do not matter.
    opening = re.sub(r"^mais\s+", "", clauses[0].words)  # "Mais oui !" is no condition
    spoken = _SETTLED.sub(" ", " | ".join([opening] + [clause.words for clause in clauses[1:]]))
    raw = "\n".join(cleaned for _written, cleaned in lines[clauses[0].line:])
    restricted = bool(found.only or found.excluded)
    fixed_yes = bool(_YES_FIXED.search(spoken))
    rest = _YES_FIXED.sub(" ", spoken)
    no = bool(vocabulary.no.search(rest))
    rest_without_no = vocabulary.no.sub(" ", rest)
    yes = fixed_yes or bool(vocabulary.yes.search(rest_without_no))
    if answer is ConsentAnswer.NO:
        if yes or restricted or _QUESTION_MARK.search(raw) or _JOKE.search(spoken) or _JOKE_MARKS.search(raw):
            return unclear("contradiction")
        return ConsentReading(ConsentAnswer.NO, line)
    if no or _NEGATION.search(rest):
        return unclear("contradiction")
    why = _qualifier(rest, raw)
    if why:
        return unclear(why)
    if _says_more(clauses[1:], lines, vocabulary, person_names(*names)):
        return unclear("pas une réponse simple")
    if not restricted:
        return ConsentReading(ConsentAnswer.YES, line)
    if not vocabulary.restrictions:
        return unclear("condition")
    fields = found.fields()
    if fields is None:
        return unclear("restriction incohérente")
    if fields == frozenset(CARD_FIELDS):
        return ConsentReading(ConsentAnswer.YES, line)
    # The evidence: from the answer to the last line that restricts ("Oui" / "mais seulement mon e-mail").
    last = max(found.lines | {clauses[0].line})
    said = " / ".join(written for written, _cleaned in lines[clauses[0].line:last + 1])
    return ConsentReading(ConsentAnswer.RESTRICTED, said, fields)


def read_consent(text: str, names: Iterable[str] = ()) -> ConsentReading:
    """The answer to "may we give your details to …?" in `text`: the mail's whole body is best (a PS under the
    signature counts), its new text is enough. `names`: the person's names, when known (see read_answer)."""
    return read_answer(text, CONSENT_VOCABULARY, names)


def qualifier_of(text: str, *, answer: Iterable[re.Pattern[str]] = ()) -> str:
    """Why what the person wrote in `text` around a decisive answer read elsewhere ("j'accepte", "résolu", "plus
    besoin") qualifies it: "question", "plaisanterie", "doute", "différé", "condition" or "contradiction" (a no,
    "en fait non"); "" when all of it is neutral (thanks, greetings, a closing, praise, details).

    Her own lines only, as `read_consent` reads them: quotes, our pasted instruction and her signature are set
    aside, a post-scriptum and a line under the sign-off that speaks of the answer are read. `answer` takes the
    answer's own phrases out first ("la demande peut être close" holds no "peut-être", "j'ai trouvé un comptable"
    awaits no accountant's say), matched on the folded text, then on its words."""
    lines = _own_lines(text)
    raw = "\n".join(cleaned for _written, cleaned in lines)
    low = fold(raw)
    answer = tuple(answer)
    for pattern in answer:
        low = pattern.sub(" ", low)
    words = _words(_low(low))
    for pattern in answer:
        words = pattern.sub(" ", words)
    words = _SETTLED.sub(" ", words)
    why = _qualifier(words, raw)
    if why:
        return why
    return "contradiction" if CONSENT_VOCABULARY.no.search(_YES_FIXED.sub(" ", words)) else ""
