"""is_withdrawal: a member's short reply that withdraws the request, and the look-alikes that do not; and
read_confirmation: the strict answer to "do you confirm?" (erasure, end of membership)."""
from __future__ import annotations

import pytest

from mailbot.parsers.withdrawal import WITHDRAWAL_RULE, is_withdrawal, read_confirmation
from tests.parsers.test_consent_table import apple, gmail, outlook, thunderbird, thunderbird_top

WITHDRAWALS = [
    "résolu",
    "Résolu !",
    "RESOLU",
    "resolu",
    "c'est résolu",
    "C\u2019est résolu",
    "problème résolu",
    "Problème résolu, merci beaucoup !",
    "Le problème s'est résolu entre-temps.",
    "annuler",
    "annulé",
    "Annulation",
    "vous pouvez annuler",
    "Vous pouvez annuler ma demande, merci.",
    "plus besoin",
    "je n'ai plus besoin",
    "plus besoin, merci",
    "Je n'ai plus besoin de votre aide, merci beaucoup",
    "j'ai trouvé une solution",
    "J'ai trouvé une solution ailleurs, merci !",
    "c'est réglé",
    "c est regle",
    "la demande peut être close",
    "merci, c'est bon",
    "Ce n'est plus d'actualité",
    "cancel",
    "solved",
    "Problem solved, thanks",
    "Please cancel",
    "Bonjour,\n\nC'est résolu, merci.\n\nCordialement,\nMarie",
    "Bonjour Aideur, plus besoin merci !",
    "Bonjour\u00a0!\n\nRÉSOLU\n\nMerci à Paul pour son aide précieuse, il a été formidable.",
    "Résolu\n\n> Le 10 déc. 2026, Club Aide a écrit :\n> Avez-vous encore besoin d'aide ?",
]

NOT_WITHDRAWALS = [
    "Le problème de TVA est résolu mais j'ai une autre question sur la paie",
    "Je voulais savoir si le litige pouvait être résolu à l'amiable ?",
    "Mon client a annulé sa commande, que faire ?",
    "Est-ce que je dois annuler le contrat ?",
    "Mon client a annulé sa commande.",
    "J'ai annulé mon rendez-vous chez le comptable.",
    "Pas résolu",
    "Ce n'est toujours pas résolu.",
    "Non, ce n'est pas réglé",
    "Ne pas annuler svp",
    "not solved",
    "Résolu ?",
    "C'est résolu ? Je n'ai rien reçu.",
    "Résolu. Mais j'ai une autre question sur la paie.",
    "Résolu pour la TVA. Par contre le bulletin de paie reste faux.",
    "J'ai une question sur la paie. Résolu pour la TVA.",
    "Merci pour votre réponse",
    "Merci !",
    "Bonjour",
    "",
    "> résolu\nToujours bloqué",
    "Il n'y a plus besoin de TVA sur cette facture, comment faire la déclaration",
    "Le fournisseur a résolu le contrat unilatéralement, quels sont mes recours",
    "Pouvez-vous annuler ?",
    # as strict as a consent: a joke, a doubt or a no anywhere keeps the ticket open (Aideur reads it)
    "Résolu lol", "Résolu ;)", "C'est réglé, enfin je crois", "Résolu.\nEn fait non", "Plus besoin (je plaisante)",
    "Résolu. Peut-être.", "Résolu 🤔",
]


@pytest.mark.parametrize("text", WITHDRAWALS)
def test_withdrawal(text: str) -> None:
    assert is_withdrawal(text)


@pytest.mark.parametrize("text", NOT_WITHDRAWALS)
def test_not_withdrawal(text: str) -> None:
    assert not is_withdrawal(text)


def test_rule_text_is_french_paragraph() -> None:
    assert "\n" not in WITHDRAWAL_RULE and "résolu" in WITHDRAWAL_RULE


# --- read_confirmation: "do you confirm?" (erasure, end of membership), as strict as a consent ------------------


CONFIRMATIONS: list[tuple[str, bool | None]] = [
    ("Oui", True), ("oui", True), ("OUI", True), ("Oui, je confirme", True), ("Je confirme", True),
    ("je confirme l'effacement de mes données", True), ("Je confirme la résiliation de mon adhésion", True),
    ("C'est confirmé", True), ("Oui, effacez tout", True), ("Oui merci", True), ("D'accord", True), ("Ok", True),
    ("Bonjour,\n\nOui, je confirme.\n\nCordialement,\nAlice", True), (outlook("Oui"), True), (gmail("Oui"), True),
    (apple("Je confirme"), True), (thunderbird("Oui, je confirme."), True),
    ("Non", False), ("non merci", False), ("J'annule", False), ("Annulez", False), ("Non, je reste", False),
    ("Finalement non", False), ("Je ne confirme pas", False), ("Laissez tomber", False), (outlook("Non"), False),
    ("Oui\nNon", None), ("Oui\n\nNon", None), ("OUI\nNON", None), ("oui non", None), ("Oui, enfin non", None),
    ("Oui\n\nCordialement,\nAlice\n\nPS : finalement non", None), ("Oui\n-- \nAlice\nP.-S. : je plaisante", None),
    ("Oui (je plaisante)", None), ("Oui lol", None), ("Oui ;)", None), ("Oui ?", None),
    ("Oui, mais gardez mon historique", None), ("Oui, sauf mes tickets", None), ("Oui, je reviens vers vous", None),
    ("Oui, après accord de mon associé", None), ("Oui, éventuellement", None), ("Peut-être", None),
    ("Je pense que oui", None), ("Oui si possible", None), ("Non ?", None), ("Non, je confirme", None),
    ("Oui, mais seulement mon téléphone", None),  # no restriction to such a question: asked again
    (gmail("Oui\nNon"), None), (thunderbird_top("Oui\n\nPS : non"), None), ("", None), ("Merci", None),
]


def test_the_confirmation_table_covers_each_answer() -> None:
    assert len(CONFIRMATIONS) >= 50 and {expected for _, expected in CONFIRMATIONS} == {True, False, None}


@pytest.mark.parametrize(("text", "expected"), CONFIRMATIONS, ids=[repr(t)[:50] for t, _ in CONFIRMATIONS])
def test_confirmation_answers(text: str, expected: bool | None) -> None:
    assert read_confirmation(text) is expected


# --- attack 13: what she writes after the withdrawal is read too -----------------------------------------------

@pytest.mark.parametrize("text", [
    # the attacker's
    "Résolu. Enfin presque.", "Résolu. Partiellement.", "Résolu. Sauf la facture.", "Plus besoin. Pour l'instant.",
    "C'est réglé. Provisoirement.", "Résolu\nÀ suivre",
    # the same cases in other words
    "Résolu. Temporairement.", "Résolu. Du moins je l'espère.", "Résolu. À moitié.", "Plus besoin. Sur le papier.",
    "C'est réglé.\nSauf pour la facture.", "Résolu !\n\nMarie\nPS : enfin presque", "Résolu.\nJe rigole.",
    "Plus besoin, merci.\nJusqu'à lundi.", "Résolu. Plus ou moins.",
])
def test_a_withdrawal_qualified_in_a_later_sentence_or_line_is_not_one(text: str) -> None:
    """Attack 13: "Résolu. Enfin presque." / "Plus besoin. Pour l'instant." / "Résolu\\nÀ suivre" closed the ticket
    and told the helpers to stop — only the first sentence was read for words beyond the withdrawal, the rest only
    for a joke, a doubt or a "non". Every sentence and line she wrote after it (a PS too) is now read as a
    consent's are (consent.qualifier_of): one that limits, postpones or takes it back leaves the ticket open."""
    assert is_withdrawal(text) is False


@pytest.mark.parametrize("text", [
    "Enfin résolu ! Merci", "Résolu.\n\nCordialement,\nMarie Dupont\n06 12 34 56 78",
    "C'est résolu, merci pour votre aide.\n\nMarie", "Plus besoin. Merci à Jean, il a été parfait.",
    "Résolu. Merci, bonne journée !",
])
def test_thanks_praise_and_a_signature_after_a_withdrawal_leave_it_whole(text: str) -> None:
    assert is_withdrawal(text) is True
