"""What a person wrote beside their answer (issue 12, point 6): forwarded to Aideur when it says something."""
from __future__ import annotations

import pytest

from mailbot.workflows.remarks import remark_in

CASES = [
    # (what the person wrote, the line their answer was read from, the remark or "")
    ("Oui", "Oui", ""),
    ("Oui\n\nAlice Martin", "Oui", ""),
    ("Oui, d'accord.\n\nAlice Martin\nMartin Conseil\n06 12 34 56 78", "Oui, d'accord.", ""),
    ("Bonjour,\n\nOui.\n\nMerci beaucoup !\nAlice", "Oui.", ""),
    ("Oui\n\n-- \nAlice Martin\nhttps://martin-conseil.test", "Oui", ""),
    ("Oui\nmais seulement mon e-mail", "Oui / mais seulement mon e-mail", ""),
    ("Oui. Pouvez-vous lui dire que je suis joignable le matin ?", "",
     "Oui. Pouvez-vous lui dire que je suis joignable le matin ?"),
    ("Oui.\nJe serai absente du 10 au 20 décembre, merci de le lui dire.", "Oui.",
     "Je serai absente du 10 au 20 décembre, merci de le lui dire."),
    ("C'est qui ?", "", "C'est qui ?"),
    ("Avant de dire oui : est-ce près de Nantes ?\n\nAlice", "", "Avant de dire oui : est-ce près de Nantes ?"),
    ("Non merci.\nJe suis débordée jusqu'en janvier, une autre fois volontiers.", "Non merci.",
     "Je suis débordée jusqu'en janvier, une autre fois volontiers."),
    ("Résolu, 5/5\n> Résultat (résolu / en partie / non résolu / en cours) :", "Résolu, 5/5", ""),
]


@pytest.mark.parametrize(("written", "answer", "remark"), CASES, ids=[c[0][:40] for c in CASES])
def test_what_is_forwarded(written: str, answer: str, remark: str) -> None:
    assert remark_in(written, answer) == remark
