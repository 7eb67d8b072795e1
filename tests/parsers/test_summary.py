"""The summary is the first real sentence of the new text (issue 14, point 3)."""
from __future__ import annotations

import pytest

from mailbot.parsers.text import first_sentence


@pytest.mark.parametrize(("text", "want"), [
    ("Bonjour,\n\nJ'ai rendez-vous avec M. Dupont lun. 3 déc. à 14 h. Pouvez-vous venir ?",
     "J'ai rendez-vous avec M. Dupont lun. 3 déc. à 14 h."),
    ("Bonjour Madame,\nMme. Leroy, p. ex., n'a pas payé la facture n° 12. Que faire ?",
     "Mme. Leroy, p. ex., n'a pas payé la facture n° 12."),
    ("Livraison le 12.03.2026 à 14.30, etc. comme prévu. Merci.", "Livraison le 12.03.2026 à 14.30, etc. comme prévu."),
    ("Le client, J. Martin, conteste. Pouvez-vous aider ?", "Le client, J. Martin, conteste."),
    ("Salut ! Ça marche pour jeudi ?", "Ça marche pour jeudi ?"),
    ("Voir ci-dessous… Un client conteste.", "Voir ci-dessous…"),
    ("Bonjour", ""),
    ("Bonjour,\n> Le lun., oct. 10 2022, Andy a écrit :\nJe confirme. Merci", "Je confirme."),
])
def test_first_sentence(text: str, want: str) -> None:
    assert first_sentence(text, 160) == want


def test_long_sentence_is_shortened_at_a_word() -> None:
    got = first_sentence("Bonjour, " + "mot " * 80, 40)
    assert len(got) <= 40 and got.endswith("…")
