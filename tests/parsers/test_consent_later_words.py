"""What a person writes after their "oui" is read as carefully as the "oui" itself (stop 17: a stranger's attack).

Two principles, each tried here in several phrasings and layouts:
1. After the answer, every clause must be plain: neutral words, a polite closing, the person's name. Anything else —
   a condition worded in a way no list foresaw, a delay, someone else's say, an acknowledgement, a limit on what
   may be shared, another subject — leaves the yes unclear, and the question is asked again.
2. A "Merci" or "Cordialement" line ends the message only if what follows is a signature: the lines after it that
   say anything about the answer (a no, a doubt, a condition, a question) are the person's words.
A false unclear costs a second question; a false yes gives away someone's details.
"""
from __future__ import annotations

import pytest

from mailbot.parsers.consent import ConsentAnswer, read_consent
from mailbot.parsers.withdrawal import read_confirmation
from tests.parsers.test_consent_table import apple, gmail, outlook

YES, NO, UNCLEAR = ConsentAnswer.YES, ConsentAnswer.NO, ConsentAnswer.UNCLEAR

NOT_A_PLAIN_YES = [
    # conditions worded as no list foresaw
    "Oui, pour peu que ce soit gratuit", "Oui pour autant que ça reste entre nous", "Oui, dès lors que c'est gratuit",
    "Oui, à une condition : que ça reste entre nous", "Oui, en supposant que ce soit bénévole",
    "Oui, une fois qu'il aura signé", "D'accord, moyennant un petit geste", "Oui, si et seulement si c'est gratuit",
    # delays
    "Oui, à mon retour de congés", "Oui, dans 15 jours", "Oui, la semaine pro", "OK, dès mon retour",
    # someone else's say
    "Oui, mon responsable doit valider", "Oui, mon assistante vous confirmera", "Oui, ma collègue s'en occupe",
    # an acknowledgement, or another subject
    "Ok, bien reçu", "Ok, noté", "OK merci pour l'info", "Oui, j'ai bien reçu",
    "Oui, j'ai déjà trouvé quelqu'un", "Oui, annulez ma demande", "Oui, et puis quoi encore",
    # limits on what may be shared, in words no pattern knows
    "Oui, mon mail suffit", "Oui, contact par mail svp", "Oui, évitez de donner mon portable",
    # an intention, a one-way request
    "Je donnerai mon accord", "Oui, envoyez-moi son numéro", "Oui, je vous enverrai mes coordonnées",
    # marks
    "Oui;)", "Oui ？", "Oui ¿", "Oui ⁉", "Oui❓",
    # a restriction turned upside down
    "Oui, mais je ne veux pas que mon numéro soit diffusé", "Oui, sachant que mon portable est souvent coupé",
    "Oui, je ne souhaite pas que mon téléphone circule",
]


@pytest.mark.parametrize("text", NOT_A_PLAIN_YES)
def test_what_follows_the_yes_must_be_plain(text: str) -> None:
    assert read_consent(text).answer is UNCLEAR, text


@pytest.mark.parametrize("layout", [lambda text: text, outlook, gmail, apple])
@pytest.mark.parametrize("text", [
    "D'accord.\nMerci.\nEnfin non, je réfléchis encore.", "Oui\nMerci\nPar contre pas mon téléphone svp",
    "Oui\nCordialement\nAlice\n\nNON, pardon", "Oui\nCordialement\nAlice\n\nErratum : non",
    "Oui\n\nsi c'est gratuit\nAlice Martin\nTél. 06 12 34 56 78", "Oui\nBises\nSauf si c'est payant",
    "Oui\nComme je vous l'ai déjà écrit :\nseulement par e-mail", "Oui\nBonne journée\nJe préfère attendre lundi",
    "Oui\nEntre oui ou non, j'hésite encore.", "Oui\nRépondez-moi d'abord : qui est-ce ?",
    # words no list names, in the first person or written as a sentence
    "Oui\n\nBien à vous,\nAlice\n\nJe me rétracte.", "Oui\nMerci\nJ'ai changé d'avis",
    "Oui\nMerci\nTout bien pesé, mieux vaut attendre.",
])
def test_a_sign_off_line_does_not_hide_what_is_written_after_it(text: str, layout) -> None:  # type: ignore
    assert read_consent(layout(text)).answer is not YES, text


@pytest.mark.parametrize("text", [
    "Oui\n\nE-mail : oui\nTéléphone : non",
])
def test_a_yes_then_a_form_with_a_no_is_not_a_yes(text: str) -> None:
    assert read_consent(text).answer is not YES


@pytest.mark.parametrize("text", [
    "Oui, avec plaisir. Bonne journée !", "Oui bien sûr. Bonne continuation à lui.", "D'accord, au plaisir.",
    "Oui, ravie de pouvoir aider !", "Oui, avec plaisir\nBien à vous\nAlice Martin", "Oui. Bon courage à elle !",
    "Oui\n\nAlice", "Oui, merci\nJean-Pierre Dupont", "Oui, je reste à votre disposition.",
    "Oui, avec grand plaisir, bonne soirée", "OK pour moi, belle journée", "Oui !\nBonne fin de semaine",
    "Oui\nMerci\nAlice Martin\nBoulangerie Martin\n06 12 34 56 78", "Oui\nMerci\nAlice\nJe suis joignable au 06 12 34 56 78",
    "Bonjour, oui je suis d'accord. Cordialement, Marc", "Oui, je suis d'accord pour être mis en relation.",
    "Bien sûr, avec plaisir ! Merci pour votre travail.", "Oui, je vous remercie.",
    "Oui, il peut me contacter par mail ou téléphone.", "Oui, c'est d'accord, merci pour la mise en relation.",
    "D'accord, vous pouvez lui donner mes coordonnées.", "Oui, j'autorise la transmission de mes coordonnées.",
    "Oui avec plaisir, n'hésitez pas à lui transmettre mes coordonnées.", "OK pour la mise en relation",
    "Oui je veux bien être mis en contact", "Oui, volontiers. Je serai ravie d'aider", "Oui, je suis disponible.",
    "Oui, bien sûr, je suis joignable au 06 12 34 56 78.", "Oui. Mon mail : marc@exemple.fr", "Oui, merci, à bientôt",
])
def test_a_plain_yes_with_kind_words_stays_a_yes(text: str) -> None:
    assert read_consent(text).answer is YES, text


def test_a_seul_field_is_a_restriction() -> None:
    reading = read_consent("Oui, seul mon mail")
    assert reading.answer is ConsentAnswer.RESTRICTED and reading.fields == frozenset({"email"})


@pytest.mark.parametrize("text", ["Oui\nMerci\nEnfin non, je reste", "Ok, bien reçu", "Oui, dans 15 jours"])
def test_a_confirmation_is_read_as_strictly(text: str) -> None:
    assert read_confirmation(text) is not True
