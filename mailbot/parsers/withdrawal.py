"""Does a member's reply withdraw the request ("résolu", "plus besoin", "vous pouvez annuler")? And does it
confirm the end of their membership or the erasure of their data (`read_confirmation`, at the end)?

The rule, kept strict because a false "yes" closes the ticket and tells every helper to stop, while a false "no" costs
nothing (the reply is forwarded to Aideur, who can `#clore`):

1. Quoted lines (">") are ignored. The text is cut into segments at line ends and at ". ! ? …".
   Leading greeting segments ("Bonjour,", "Bonjour Madame") are skipped, and so is a greeting before a comma.
2. The first remaining segment must be a withdrawal *by itself*: it contains a withdrawal phrase (résolu, réglé,
   annuler/annulé/annulation, plus besoin, j'ai trouvé une solution, la demande peut être close, c'est bon, solved,
   cancel…), and once those phrases are taken out, only polite or neutral filler words remain ("merci", "c'est",
   "le problème", "ma demande", "vous pouvez", "finalement", "entre-temps"…). So "Mon client a annulé sa commande"
   is not one ("client", "commande" are not filler), and neither is a negation ("pas", "toujours", "not" are not
   filler either). The segment has at most 12 words and is not a question (no "?").
3. The rest of the reply may thank or add detail, but must not ask anything: no "?" anywhere, and no contrast that
   opens a new subject ("mais", "par contre", "cependant", "toutefois", "en revanche", "autre question", "but",
   "however"…), no joke marker ("lol", ";)"), no doubt ("je crois", "peut-être") and no "non" anywhere. Every
   sentence and line after the withdrawal (a PS too; not the quote nor the signature) is read as a consent is
   (consent.qualifier_of): one that limits, postpones, doubts or takes it back ("Résolu. Enfin presque.",
   "Plus besoin. Pour l'instant.", "Résolu / À suivre", "Réglé. Sauf la facture.") leaves the ticket open.
"""
from __future__ import annotations

import re

from .consent import (
    _DOUBT_MARKS,
    _HEDGE,
    _JOKE,
    _JOKE_MARKS,
    ConsentAnswer,
    consent_words_and,
    qualifier_of,
    read_answer,
)
from .dates import fold

__all__ = ["CONFIRMATION_RULE", "WITHDRAWAL_RULE", "is_withdrawal", "read_confirmation"]

WITHDRAWAL_RULE = (
    "Un membre retire sa demande en répondant à un mail du Club par une phrase courte qui ne dit que cela : "
    "« résolu », « c'est réglé », « plus besoin, merci », « vous pouvez annuler », « j'ai trouvé une solution », "
    "« la demande peut être close » (accents et majuscules indifférents). Cette phrase doit venir en premier "
    "(après une éventuelle salutation), compter au plus douze mots, ne contenir que des mots de politesse en plus "
    "de la formule (« merci », « le problème », « finalement »…), ne pas être niée (« pas résolu ») ni posée en "
    "question. Le reste du message peut remercier, mais ne doit poser aucune question, ni ouvrir un autre sujet "
    "(« mais », « par contre », « autre question »), ni nuancer, différer ou reprendre le retrait (« enfin "
    "presque », « pour l'instant », « à suivre »). Dans le doute, la réponse n'est pas un retrait : elle est "
    "transmise à Aideur, qui peut clore le ticket lui-même."
)

# Matched on folded text (lower case, no accents, plain apostrophes). Each phrase alone means "withdrawn".
_PHRASES = re.compile(
    r"""(?x)
    (?<![\w'])(?:
        (?:s'est\s+|est\s+|a\s+ete\s+)?(?:resolue?s?|reglee?s?|solutionnee?s?|regularisee?s?)
      | annul\w*
      | (?:(?:je\s+)?n'(?:en\s+)?ai\s+|on\s+n'(?:en\s+)?a\s+|nous\s+n'(?:en\s+)?avons\s+)?plus\s+besoin
            (?:\s+(?:de\s+(?:votre\s+|vos\s+|l'|la\s+|d')?(?:aide|services?|intervention|rien)|d'aide))?
      | (?:ce\s+n'est\s+|n'est\s+)?plus\s+(?:d'actualite|necessaire|utile|la\s+peine)
      | sans\s+objet
      | (?:j'ai|on\s+a|nous\s+avons)\s+trouve(?:\s+(?:une|la|ma|un|notre)\s+(?:solution|reponse|prestataire|
            quelqu'un|personne))?(?:\s+(?:ailleurs|de\s+mon\s+cote|par\s+moi-meme|seule?))?
      | trouve\s+(?:une|la)\s+solution
      | (?:peut\s+etre\s+|pouvez\s+|peux\s+|pouvons\s+|a\s+)?(?:clos|close|closes|clore|cloturee?s?|cloturer|
            fermee?s?|fermer|classee?s?|classer)
      | c'est\s+(?:bon|ok|okay)
      | tout\s+est\s+(?:bon|ok|okay|rentre\s+dans\s+l'ordre)
      | (?:(?:problem|issue)\s*+)?(?:solved|resolved|sorted(?:\s+out)?|fixed)
      | cancel\w*
      | (?:no\s+longer|not)\s+needed(?:\s+anymore)?
      | never\s*mind
    )(?![\w'])
    """
)

# Words that may surround a withdrawal phrase without changing its meaning. Negations (pas, plus alone, jamais,
# toujours, not, no) and anything naming another subject are deliberately absent.
_FILLER = frozenset(["bonjour", "bonsoir", "salut", "hello", "hi", "re", "coucou", "madame", "monsieur", "cher", "chere", "merci", "mercii", "beaucoup", "bcp", "encore", "infiniment", "mille", "fois", "thanks", "thank", "you", "much", "lot", "bien", "tout", "toute", "tous", "c", "ca", "cela", "ceci", "le", "la", "les", "l", "un", "une", "mon", "ma", "mes", "votre", "vos", "notre", "nos", "ce", "cette", "probleme", "problemes", "souci", "soucis", "demande", "demandes", "question", "questions", "ticket", "dossier", "sujet", "requete", "affaire", "point", "finalement", "entre", "temps", "entretemps", "deja", "maintenant", "depuis", "du", "de", "des", "d", "coup", "pour", "moi", "nous", "vous", "on", "est", "sont", "a", "ete", "s", "se", "ok", "okay", "oki", "parfait", "super", "top", "bon", "bonne", "voila", "donc", "vraiment", "enfin", "cote", "pouvez", "peux", "pouvons", "peut", "etre", "j", "je", "ai", "avons", "avez", "grace", "aide", "conseil", "conseils", "cordialement", "journee", "soiree", "et", "it", "is", "the", "my", "our", "this", "that", "issue", "problem", "request", "please", "now", "already", "has", "been", "all", "good"])
_GREETING = re.compile(r"^(?:bonjour|bonsoir|salut|hello|hi|coucou|cher|chere|madame|monsieur|re)\b")
_CONTRAST = re.compile(
    r"(?<!\w)(?:mais|par\s+contre|cependant|toutefois|en\s+revanche|neanmoins|pourtant|sauf\s+que|"
    r"autre\s+(?:question|demande|probleme|souci)|nouvelle\s+(?:question|demande)|but|however|"
    r"another\s+(?:question|request|issue))(?!\w)"
)
_SEGMENT = re.compile(r"[^.!?…\n]+[.!?…]*")
_WORD = re.compile(r"[a-z0-9]+")
_MAX_WORDS = 12


def is_withdrawal(new_text: str) -> bool:
    text = (new_text or "").replace("\r\n", "\n").replace("\r", "\n")
    # Quoted lines blanked (same length), so that a segment's end is also its place in `text`.
    own = "\n".join(" " * len(line) if line.lstrip().startswith(">") else line for line in text.split("\n"))
    folded = fold(own)
    if "?" in folded:
        return False
    segments = [m for m in _SEGMENT.finditer(folded) if _WORD.search(m.group())]
    # Skip greetings, but not a greeting that carries the phrase itself ("Bonjour, c'est résolu").
    while segments and _GREETING.match(segments[0].group().strip()) and not _PHRASES.search(segments[0].group()) \
            and len(_WORD.findall(segments[0].group())) <= 4:
        segments.pop(0)
    if not segments:
        return False
    first = segments[0].group()
    if _GREETING.match(first.strip()) and "," in first:
        first = first.split(",", 1)[1]  # "Bonjour Aideur, plus besoin": the name belongs to the greeting
    if len(_WORD.findall(first)) > _MAX_WORDS or not _PHRASES.search(first):
        return False
    leftover = _WORD.findall(_PHRASES.sub(" ", first))
    if any(word not in _FILLER for word in leftover):
        return False
    # As strict as a consent (issue 11): a joke, a doubt or a "non" anywhere ("Résolu lol", "C'est réglé, enfin
    # je crois", "Résolu.\nEn fait non") leaves the ticket open; Aideur reads the mail and can #clore.
    words = " ".join(_WORD.findall(_PHRASES.sub(" ", folded).replace("'", " ")))  # "peut être close" is no doubt
    if _JOKE.search(words) or _HEDGE.search(words) or re.search(r"(?<![a-z])(?:non|nan|no)(?![a-z])", words) \
            or _JOKE_MARKS.search(new_text) or _DOUBT_MARKS.search(new_text):
        return False
    # Everything she wrote after the withdrawal (other sentences, lines, a PS; not the quote nor her signature)
    # must leave it whole: "Résolu. Enfin presque.", "Plus besoin. Pour l'instant.", "Résolu\nÀ suivre",
    # "Réglé. Sauf la facture." limit, postpone or take it back (the shared reader of parsers/consent.py).
    if qualifier_of(text[segments[0].end():], answer=[_PHRASES]):
        return False
    return not _CONTRAST.search(folded)


# --- "do you confirm?" (erasure, end of membership) ------------------------------------------------------------

CONFIRMATION_RULE = (
    "Pour confirmer l'effacement de vos données ou la fin de votre adhésion, répondez simplement « oui » (ou « je "
    "confirme ») ; pour annuler, « non ». Une réponse qui hésite, pose une question, met une condition, plaisante "
    "ou dit aussi non quelque part (« Oui » puis « Non », un « PS : finalement non ») ne confirme rien : nous vous "
    "reposerons la question, et rien n'est fait d'ici là."
)

# The consent reader's words, plus those of these two questions. Read exactly as strictly (parsers/consent.py):
# the first clause is the answer, and nothing anywhere in the new text (PS included) may qualify a yes.
_CONFIRMATION = consent_words_and(
    yes=r"""
        je\s+(?:vous\s+)?(?:le\s+|la\s+)?confirme | confirme | confirmee | c\s+est\s+confirme | exactement
      | c\s+est\s+bien\s+ca | effacez(?:\s+tout)? | supprimez(?:\s+tout)? | resiliez | allez\s+y | faites\s+le
    """,
    no=r"""
        je\s+ne\s+(?:le\s+|la\s+)?confirme\s+pas | ne\s+confirme\s+pas | pas\s+confirme
      | j\s+annule | annuler | annulez | annule | annulation | je\s+renonce | laissez\s+tomber | ne\s+faites\s+rien
      | je\s+reste(?:\s+(?:membre|au\s+club|dans\s+le\s+club|inscrite?))? | on\s+arrete\s+tout
    """,
    neutral=["resiliation", "effacement", "suppression", "desinscription", "adhesion", "donnees", "souhaite", "veux", "quitter", "effacer", "supprimer", "resilier", "depart", "compte", "profil", "fin", "definitivement", "definitif", "bien"],
)


def read_confirmation(text: str) -> bool | None:
    """The answer to "do you confirm?" in `text` (the mail's whole body is best: a PS under the signature counts):
    True for an unqualified yes, False for a no, None for anything else — asked again, nothing done."""
    reading = read_answer(text, _CONFIRMATION)
    if reading.answer is ConsentAnswer.YES:
        return True
    if reading.answer is ConsentAnswer.NO:
        return False
    return None
