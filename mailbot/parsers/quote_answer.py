"""A member's answer to a quote (devis): "Oui, l'offre m'intéresse", "je prends", "d'accord pour le devis", or
"non merci, trop cher". Read by the consent reader (parsers/consent.py: the same strictness: a question, a
condition or a doubt is no answer) with the words of a quote added to its vocabulary.
"""
from __future__ import annotations

from .consent import ConsentReading, consent_words_and, read_answer

QUOTE_VOCABULARY = consent_words_and(
    yes=r"""
    (?:l\s+offre|le\s+devis|ce\s+devis|votre\s+offre|cette\s+offre|la\s+proposition|ca|cela)\s+m\s+interesse
  | je\s+suis\s+(?:tres\s+)?interessee? | (?:tres\s+)?interessee? | je\s+(?:le\s+|la\s+)?prends
  | je\s+(?:le\s+|la\s+)?retiens | je\s+(?:vous\s+)?(?:le\s+|la\s+)?commande | on\s+y\s+va
""",
    no=r"""
    trop\s+cher | hors\s+budget | (?:l\s+offre|le\s+devis|ce\s+devis|cela|ca)\s+ne\s+m\s+interesse\s+pas
  | je\s+ne\s+(?:le\s+|la\s+)?prends\s+pas | je\s+passe\s+mon\s+tour | je\s+vais\s+voir\s+ailleurs
""",
    neutral=["offre", "devis", "proposition", "prix", "tarif", "club", "pour", "interesse", "merci"],
)


def read_quote_answer(text: str) -> ConsentReading:
    """YES (the offer is wanted), NO, or UNCLEAR (anything else: a question, a condition, another subject)."""
    return read_answer(text, QUOTE_VOCABULARY)
