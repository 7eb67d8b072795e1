"""Consent answers: "May we give your details to …? Answer yes or no by reply." (DESIGN.md 2.5)

Contact details go from one member to another only with the written consent of each, and the answer line is kept as
evidence. So the rule is lopsided: a false YES gives away someone's details, a false UNCLEAR only costs a second
question ("répondez simplement oui ou non"). Whenever in doubt: UNCLEAR. A false NO costs little more (nothing is
shared, Aideur is told and can ask again), so a refusal is read a little more freely than an acceptance.

How a reply is read (`read_consent`):

1. Only what the person wrote: quoted lines (">") are skipped; a "-- " signature, a mobile "Envoyé de mon…" line, an
   Outlook "De : … / Envoyé : …" block, a "-----Message d'origine-----" separator or a sign-off ("Cordialement")
   ends the reply; a "Le … a écrit :" attribution ends it too, unless nothing was written above it (bottom-posting).
   A line that pastes our own instruction ("répondez oui ou non") is not an answer.
2. The reply is cut into clauses (at , ; : . ! ? … and before "mais"). Leading greetings ("Bonjour Aideur,"),
   thanks ("Merci pour votre message,") and lead-ins ("Finalement,", "Après réflexion,") are skipped.
3. The first remaining clause must be a plain answer: a yes phrase or a no phrase, never both, plus only neutral
   words ("pour moi", "mes coordonnées", "à cette personne", "merci"). Fixed phrases that carry a negation but
   mean yes ("pas de problème", "aucun souci", "je n'ai pas d'objection", "sans objection") are read first, and
   refusals that contain a yes word ("pas d'accord", "je retire mon accord", "absolument pas") before yes words.
4. The rest of the reply may thank or add detail, but a YES stays YES only if nothing anywhere asks ("?"), hedges
   ("peut-être", "je ne sais pas", "pas tout de suite"), sets a condition ("mais", "si", "sauf", "seulement") or
   says no or "not" ("oui… enfin non", "oui, ne donnez pas mon adresse"). A NO stays NO unless the rest says yes or
   asks a question.
5. Last, `confirmation_of` (the reading of "do you confirm?" answers) may veto: if it reads the opposite, UNCLEAR.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from .dates import fold
from .quotes import split_reply
from .registration import confirmation_of
from .marks import (
    SIGNATURE as _SIGNATURE,
    MOBILE as _MOBILE,
    SEPARATOR as _SEPARATOR,
    ATTRIBUTION_END as _ATTRIBUTION_END,
    ATTRIBUTION_START as _ATTRIBUTION_START,
    HEADER_FROM as _HEADER_FROM,
    HEADER_OTHER as _HEADER_OTHER,
    HEADER_INLINE as _HEADER_INLINE,
    SIGN_OFF as _SIGN_OFF,
)

__all__ = ["CONSENT_RULE", "ConsentAnswer", "ConsentReading", "read_consent"]

CONSENT_RULE = (
    "Pour que nous transmettions vos coordonnées, répondez à ce message par « oui » (ou « j'accepte », "
    "« d'accord ») ; pour refuser, répondez « non ». Une réponse posée en question, hésitante ou sous condition "
    "(« oui mais… », « peut-être », « oui si… ») ne vaut pas accord : nous vous reposerons alors la question."
)


class ConsentAnswer(str, Enum):
    YES = "yes"
    NO = "no"
    UNCLEAR = "unclear"


@dataclass(frozen=True)
class ConsentReading:
    answer: ConsentAnswer
    # The line the decision was read from, as written (the evidence kept); for UNCLEAR the first line the person
    # wrote, "" when they wrote nothing usable.
    line: str


# --- what the person wrote ------------------------------------------------------------------------------------

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)
_ODD_SPACES = dict.fromkeys(map(ord, "\u00a0\u202f\u2007\u2009\u200a\t"), " ")

# Where the person's own words end (shared with results.py).
# Our own instruction pasted back without ">": its "oui" and "non" are not an answer.
_OUR_INSTRUCTION = re.compile(r"repondez|oui\s+ou\s+(?:par\s+)?non|yes\s+or\s+no")


def _is_header_block(folded: list[str], index: int) -> bool:
    if not _HEADER_FROM.match(folded[index]):
        return False
    if _HEADER_INLINE.search(folded[index]):
        return True  # Yahoo: "De : … Envoyé : … Objet : …" on one line
    following = [line for line in folded[index + 1:index + 8] if line.strip()][:4]
    return any(_HEADER_OTHER.match(line) for line in following)


def _own_lines(new_text: str) -> list[tuple[str, str]]:
    """(line as written, stripped; line cleaned for reading) for each non-blank line the person wrote, in order."""
    # split_reply cuts quotes and signatures the way the rest of mailbot does; when it finds nothing (interleaved
    # replies, odd quoting), the lines are read as they are, the rules below still apply.
    body = split_reply(new_text or "")[0] or (new_text or "")
    written = [line.strip() for line in body.splitlines()]
    raw = [line.translate(_INVISIBLE).translate(_ODD_SPACES).strip() for line in written]
    folded = [fold(line) for line in raw]
    out: list[tuple[str, str]] = []
    for index, line in enumerate(raw):
        low = folded[index]
        if _SIGNATURE.match(low) or _MOBILE.match(low) or _SEPARATOR.match(low) or _is_header_block(folded, index):
            break
        attribution = _ATTRIBUTION_END.search(low) or (
            _ATTRIBUTION_START.match(low) and any(_ATTRIBUTION_END.search(next_line)
                                                  for next_line in folded[index + 1:index + 3]))
        if attribution:
            if out:
                break
            continue  # bottom-posting: the answer may be below the quote
        if out and _SIGN_OFF.match(low):
            break
        if not line or line.startswith(">") or _OUR_INSTRUCTION.search(low):
            continue
        out.append((written[index], line))
    return out


# --- clauses --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Clause:
    line: int   # index in the person's lines
    words: str  # folded, apostrophes and punctuation made single spaces: "j accepte", "d accord"


_CUT = re.compile(r"[,;:.!?…()\[\]«»\"]|\s-+\s|\s(?=mais\s)")


def _words(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def _clauses(lines: list[tuple[str, str]]) -> list[_Clause]:
    out: list[_Clause] = []
    for index, (_written, line) in enumerate(lines):
        for piece in _CUT.split(fold(line)):
            words = _words(piece)
            if words:
                out.append(_Clause(index, words))
    return out


def _phrases(pattern: str) -> re.Pattern[str]:
    """A verbose alternation matched on whole words of a clause."""
    return re.compile(rf"(?x)(?<![a-z0-9])(?:{pattern})(?![a-z0-9])")


# Negation words inside a fixed phrase that means yes: taken out before anything else is looked at.
_YES_FIXED = _phrases(r"""
    (?:il\s+n\s+y\s+a\s+|y\s+a\s+|je\s+n\s+ai\s+|n\s+ai\s+)?(?:pas|aucun|aucune)\s+(?:de\s+|d\s+)?
        (?:probleme|problemes|souci|soucis|soucy|objection|objections|inconvenient|inconvenients)
  | je\s+n\s+y\s+vois\s+(?:pas\s+d|aucun|aucune)\s+(?:inconvenient|objection|probleme)s?
  | sans\s+(?:aucun\s+|aucune\s+)?(?:probleme|souci|soucis|objection|inconvenient|hesiter|hesitation|doute|reserve)
  | (?:ca|cela|ceci)\s+ne\s+me\s+(?:derange|gene|pose)\s+(?:pas|aucun|aucune)
        (?:\s+(?:de\s+|d\s+)?(?:probleme|souci|inconvenient)s?)?
  | (?:ca|cela)\s+ne\s+pose\s+(?:pas\s+de|pas\s+d|aucun|aucune)\s+(?:probleme|souci|inconvenient)s?
  | n\s+hesitez\s+pas
""")
_NO = _phrases(r"""
    non(?!\s+seulement) | no | nan | nope | nenni
  | je\s+refuse | refuse | refusee | je\s+decline | je\s+m\s+y\s+oppose | je\s+m\s+oppose
  | (?:je\s+)?ne\s+(?:le\s+|la\s+)?(?:veux|voudrais|souhaite|souhaiterais|desire|tiens)\s+pas
  | je\s+(?:ne\s+)?(?:prefere|preferais|prefererais|prefere\s+ne|prefererais\s+ne)\s+pas
  | (?:je\s+)?(?:ne\s+suis|suis)\s+pas\s+(?:d\s+accord|interessee?|partante?)
  | pas\s+d\s+accord | pas\s+interessee? | ca\s+ne\s+m\s+interesse\s+pas
  | je\s+n\s+accepte\s+pas | (?:je\s+)?ne\s+(?:consens|donne)\s+pas(?:\s+mon\s+accord)?
  | (?:je\s+)?retire\s+mon\s+(?:accord|consentement)
  | j\s+aime\s+mieux\s+pas | plutot\s+(?:pas|non)
  | (?:surtout|certainement|absolument|vraiment)\s+pas | pas\s+du\s+tout | jamais
  | (?:pas|hors\s+de)\s+question | il\s+n\s+en\s+est\s+pas\s+question
  | pas\s+pour\s+(?:l\s+instant|le\s+moment|l\s+heure|moi) | pas\s+maintenant | pas\s+cette\s+fois(?:\s+ci)?
  | ne\s+(?:transmettez|donnez|communiquez|partagez)\s+pas | ne\s+pas\s+(?:transmettre|donner|communiquer|partager)
  | sans\s+(?:facon|moi)
""")
_YES = _phrases(r"""
    oui | ouais | ouai | yes | yep | ok | okay | oki | okey | d\s+accord | daccord | d\s+acc? | dacc? | accord
  | affirmatif | je\s+veux\s+bien
  | je\s+suis\s+d\s+accord | c\s+est\s+d\s+accord | tout\s+a\s+fait | absolument | bien\s+sur | bien\s+entendu
  | evidemment | naturellement | certainement | entendu | parfait | volontiers | avec\s+(?:grand\s+)?plaisir
  | j\s+accepte | accepte | acceptee | je\s+consens | j\s+autorise | je\s+vous\s+autorise | je\s+valide | valide
  | je\s+donne\s+mon\s+accord | (?:vous\s+avez|voici)\s+mon\s+accord | je\s+suis\s+partante?
  | ca\s+(?:me\s+va|marche|me\s+convient) | cela\s+me\s+convient | c\s+est\s+(?:bon|ok|parfait)(?:\s+pour\s+moi)?
  | allez\s+y | transmettez | vous\s+pouvez\s+(?:lui\s+|leur\s+)?(?:transmettre|donner|communiquer|partager)
  | avec\s+joie
""")
# Doubt anywhere: never a YES. In the first clause: never an answer at all.
_HEDGE = _phrases(r"""
    peut\s+etre | peutetre | p\s+e | je\s+(?:ne\s+)?(?:sais|sait)\s+pas | sais\s+pas | chais\s+pas | j\s+sais\s+pas
  | je\s+ne\s+suis\s+pas\s+(?:sure?|certaine?) | pas\s+(?:sure?|certaine?) | j\s+hesite | je\s+doute
  | a\s+voir | on\s+verra | je\s+verrai | (?:ca|cela)\s+depend | selon | reflexion\s+faite
  | je\s+(?:vais\s+)?reflechi\w*
  | probablement | sans\s+doute | a\s+priori | en\s+principe | normalement | je\s+pense | je\s+crois | pourquoi
  | plus\s+tard | pas\s+tout\s+de\s+suite | pas\s+encore | (?:ne\s+suis\s+)?pas\s+contre
  | en\s+discuter | en\s+parler | on\s+en\s+reparle | rappelez\s+moi | qui\s+est\s+ce | c\s+est\s+qui | qui\s+c\s+est
""")
_CONDITION = _phrases(r"""
    mais | sauf | seulement | uniquement | a\s+condition | sous\s+reserve | si | s\s+il(?!\s+(?:vous|te)\s+plait)
  | s\s+ils | par\s+contre | cependant | toutefois | pourvu | tant\s+que | a\s+part | excepte | hormis | neanmoins
  | en\s+revanche | quand\s+meme | enfin | but | only | if
""")
_NEGATION = _phrases(r"ne | n | pas | non | jamais | aucun | aucune | ni | nullement | sans | no | not")

_GREETINGS = frozenset("bonjour bonsoir salut hello hi coucou re cher chere chers cheres".split())
_TITLES = frozenset("madame monsieur mme mr m aideur a tous tout toutes le la l monde equipe club aide".split())
_POLITE = frozenset("""
    merci beaucoup infiniment bien mille fois encore pour votre vos ce cet cette le la l les de du d message mail
    courriel retour proposition question demande sollicitation votre prise contact gentil c est tres
    je vous remercie
""".split())
_LEAD_IN = frozenset("alors bon bah ben eh bien euh ah oh finalement apres reflexion tout compte fait en".split())
# Words that may stand next to the answer without changing it: politeness, the details and the people concerned.
_FILLER = frozenset("""
    merci beaucoup bien mille fois infiniment encore
    je j vous il elle on lui leur leurs me m moi nous y en le la l les un une des de du d a au aux pour par avec et
    mon ma mes votre vos son sa ses ce cet cette ces ca cela que qu qui c est s soit soient sont etre ai a avoir
    pouvez peut pouvons donc alors bon bah ben eh euh ah oh tres tout toute tous toutes finalement tant
    madame monsieur aideur club aide reponse part cote mien mienne ici
""".split())
_CONTEXT = re.compile(r"(?:transm|communiq|donn|partag|envoy|contact|coordonn|inform|info|numer|telephon|tel|"
                      r"adress|mail|email|courriel|person|membre|demand|relation|echang|nom|prenom|detail)\w*")


def _neutral(word: str) -> bool:
    return word in _FILLER or word in _LEAD_IN or bool(_CONTEXT.fullmatch(word))


def _opening(clauses: list[_Clause]) -> list[_Clause]:
    """The clauses from the first one that is not a greeting, a thank-you or a lead-in ("Finalement,")."""
    clauses = list(clauses)
    while clauses:
        words = clauses[0].words.split()
        answers = bool(_YES_FIXED.search(clauses[0].words) or _NO.search(clauses[0].words)
                       or _YES.search(clauses[0].words))
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

def _first_clause(words: str) -> ConsentAnswer:
    """YES, NO or UNCLEAR for the clause that must carry the answer."""
    words = re.sub(r"^mais\s+", "", words)  # "Mais oui, bien sûr !", "C'est gentil, mais non."
    if _HEDGE.search(words) or _CONDITION.search(words):
        return ConsentAnswer.UNCLEAR
    fixed_yes = bool(_YES_FIXED.search(words))
    text = _YES_FIXED.sub(" ", words)
    no = bool(_NO.search(text))
    text = _NO.sub(" ", text)
    yes = fixed_yes or bool(_YES.search(text))
    text = _YES.sub(" ", text)
    if yes == no:
        return ConsentAnswer.UNCLEAR  # neither, or both ("oui non", "non, pas de problème")
    leftover = [word for word in text.split() if not _neutral(word)]
    if yes:
        # Anything else, and any "not" left over, makes it something other than a plain yes.
        return ConsentAnswer.YES if not leftover and not _NEGATION.search(text) else ConsentAnswer.UNCLEAR
    # "Non, je préfère garder mes coordonnées": a clause opening with a bare "non" may say why, briefly.
    opens_with_no = re.match(r"(?:non|no|nan|nope)(?![a-z0-9])", words) is not None
    if not leftover or (opens_with_no and len(words.split()) <= 6):
        return ConsentAnswer.NO
    return ConsentAnswer.UNCLEAR


def _rest_allows(answer: ConsentAnswer, rest: str) -> bool:
    """Whether the clauses after the answer leave it standing."""
    fixed_yes = bool(_YES_FIXED.search(rest))
    text = _YES_FIXED.sub(" ", rest)
    no = bool(_NO.search(text))
    text = _NO.sub(" ", text)
    yes = fixed_yes or bool(_YES.search(text))
    if answer is ConsentAnswer.YES:
        return not (no or _NEGATION.search(text) or _HEDGE.search(rest) or _CONDITION.search(rest))
    return not yes


def read_consent(new_text: str) -> ConsentReading:
    """The answer to "may we give your details to …?" in `new_text` (what the person wrote in this mail)."""
    lines = _own_lines(new_text)
    clauses = _opening(_clauses(lines))
    if not clauses:
        return ConsentReading(ConsentAnswer.UNCLEAR, "")  # nothing written, or only "Bonjour," and "Merci !"
    line = lines[clauses[0].line][0]
    answer = _first_clause(clauses[0].words)
    if answer is ConsentAnswer.UNCLEAR:
        return ConsentReading(ConsentAnswer.UNCLEAR, line)
    rest = " | ".join(clause.words for clause in clauses[1:])
    spoken = [cleaned for _written, cleaned in lines[clauses[0].line:]]
    if any("?" in text for text in spoken) or not _rest_allows(answer, rest):
        return ConsentReading(ConsentAnswer.UNCLEAR, line)
    # A second opinion from the "do you confirm?" reader: it may only veto, never decide.
    confirmed = confirmation_of("\n".join(spoken))
    if confirmed is not None and confirmed != (answer is ConsentAnswer.YES):
        return ConsentReading(ConsentAnswer.UNCLEAR, line)
    return ConsentReading(answer, line)
