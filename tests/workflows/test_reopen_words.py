"""Which words of a member on a closed request take it up again (issue 12, point 3): a need does, a thank-you not."""
from __future__ import annotations

import pytest

from mailbot.workflows.opening import only_thanks

THANKS = ["Merci beaucoup pour votre aide, tout s'est bien passé !", "Super, merci encore.", "Parfait, merci !",
          "Merci pour tout, bonne journée", "Bien reçu, merci.", "Je vous remercie, c'était parfait."]
NEEDS = ["Merci, mais le problème revient : le salarié a saisi les prud'hommes.",
         "Merci. Pouvez-vous rouvrir ma demande ?", "Merci, je n'ai toujours pas de réponse du cabinet.",
         "En fait j'ai de nouveau besoin d'aide, merci", "Le salarié a saisi les prud'hommes hier.",
         "Merci ! Une autre question sur la paie", "MERCI mais ce n’est pas réglé",
         "Merci. " + "Le cabinet a répondu mais il faut maintenant trouver un expert pour la suite du dossier " * 2]


@pytest.mark.parametrize("text", THANKS)
def test_a_thank_you_reopens_nothing(text: str) -> None:
    assert only_thanks(text)


@pytest.mark.parametrize("text", NEEDS)
def test_a_need_or_a_question_reopens(text: str) -> None:
    assert not only_thanks(text)
