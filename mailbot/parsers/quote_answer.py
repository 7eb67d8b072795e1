"""A member's answer to a quote (devis): "Oui, l'offre m'intéresse", "je prends", "d'accord pour le devis", or
"non merci, trop cher". Read by the consent reader (parsers/consent.py: the same strictness: a question, a
condition or a doubt is no answer) with the words of a quote added to its vocabulary.
"""
from __future__ import annotations

from .consent import _FILLER, _NO, _YES, ConsentReading, Vocabulary, _phrases, read_answer

_QUOTE_YES = _YES + r"""
  | (?:l\s+offre|le\s+devis|ce\s+devis|votre\s+offre|cette\s+offre|la\s+proposition|ca|cela)\s+m\s+interesse
  | je\s+suis\s+(?:tres\s+)?interessee? | (?:tres\s+)?interessee? | je\s+(?:le\s+|la\s+)?prends
  | je\s+(?:le\s+|la\s+)?retiens | je\s+(?:vous\s+)?(?:le\s+|la\s+)?commande | on\s+y\s+va
"""
_QUOTE_NO = _NO + r"""
  | trop\s+cher | hors\s+budget | (?:l\s+offre|le\s+devis|ce\s+devis|cela|ca)\s+ne\s+m\s+interesse\s+pas
  | je\s+ne\s+(?:le\s+|la\s+)?prends\s+pas | je\s+passe\s+mon\s+tour | je\s+vais\s+voir\s+ailleurs
"""
_QUOTE_FILLER = _FILLER | {"offre", "devis", "proposition", "prix", "tarif", "club", "pour", "interesse", "merci"}
QUOTE_VOCABULARY = Vocabulary(yes=_phrases(_QUOTE_YES), no=_phrases(_QUOTE_NO), neutral=_QUOTE_FILLER,
                              restrictions=False)


def read_quote_answer(text: str) -> ConsentReading:
    """YES (the offer is wanted), NO, or UNCLEAR (anything else: a question, a condition, another subject)."""
    return read_answer(text, QUOTE_VOCABULARY)
