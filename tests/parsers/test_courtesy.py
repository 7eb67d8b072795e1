"""The greeting and sign-off around an appeal or an offer (mailbot.parsers.courtesy): left out, the text kept."""
from __future__ import annotations

import pytest

from mailbot.parsers.courtesy import strip_courtesy

TEXT = "Un membre cherche un avis sur un licenciement contesté."


@pytest.mark.parametrize("written", [
    f"Bonjour,\n{TEXT}\nMerci,\nAideur",
    f"Bonjour à tous,\n\n{TEXT}\n\nCordialement",
    f"Bonjour à toutes et à tous,\n{TEXT}\nBien à vous,\nJean Dupont\nCoordinateur du Club Aide",
    f"Chers membres du Club,\n{TEXT}\n\nMerci, Aideur",
    f"Salut tout le monde !\n{TEXT}\n--\nAideur\n06 11 22 33 44",
    f"Hello,\n{TEXT}\nBien cordialement,\nAideur – Club Aide\naideur@club.test",
    f"{TEXT}\n\nMerci !",
    f"{TEXT}\nAideur",
    f"Bonjour, {TEXT[0].lower()}{TEXT[1:]}\nBonne journée",
    f"{TEXT}\n\nEnvoyé de mon iPhone",
    f"{TEXT}\nMerci à tous !\nAideur",
    f"Bonjour à toutes et à tous,\n{TEXT}\nBonne journée à tous",
    f"{TEXT}\n\nMerci d'avance pour vos retours,\nJean",
    f"{TEXT}\nAmitiés,\nAideur",
    f"{TEXT}\nMerci d'avance pour vos réponses !",
    f"{TEXT}\nEncore merci !",
])
def test_greeting_and_sign_off_lines_are_left_out(written: str) -> None:
    assert strip_courtesy(written) == TEXT


@pytest.mark.parametrize("written", [
    f"{TEXT}\nMerci de répondre avant vendredi si vous pouvez aider.",
    f"{TEXT}\nBonjour la galère : il attend depuis trois mois.",
    f"{TEXT}\n\nCordialement,\nil faudrait quelqu'un qui connaisse bien les prud'hommes et la procédure.",
])
def test_the_text_itself_is_kept(written: str) -> None:
    assert strip_courtesy(written) == written


def test_a_helpers_signature_under_an_offer_goes_with_their_name_alone() -> None:
    offer = "Je peux aider : j'ai traité une dizaine de cas, disponible jeudi."
    names = ("Denise", "Leroy", "Denise Leroy", "Leroy Conseil")
    assert strip_courtesy(f"Bonjour,\n{offer}\n\nBien à vous,\nDenise Leroy\nLeroy Conseil\n06 11 22 33 44",
                          names=names) == offer
    assert strip_courtesy(f"{offer}\nDenise", names=names) == offer
    assert strip_courtesy(f"{offer}\nCordialement, Denise Leroy", names=names) == offer
    assert strip_courtesy("Bonjour,\nMerci") == ""
