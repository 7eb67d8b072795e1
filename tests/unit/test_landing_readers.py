"""Issue 12, points 1 and 4, pure logic: is a member's reply to a membership mail an answer to it, and does a mail
ask for a right ("mes données", "effacer mes données")? Table-driven, no servers."""
from __future__ import annotations

import pytest

from mailbot.models import Member
from mailbot.parsers import InboundMail, MailKind
from mailbot.workflows.profiles import ERASE, EXPORT, is_profile_answer, rights_request

MEMBER = Member(email="helene@ailleurs.test", first_name="Hélène", last_name="Lefèvre", company="Lefèvre Traductions",
                phone="06 55 44 33 22", visibility="membres", accepts_appeals=True, activity="traductrice",
                postal_address="8 allée des Tilleuls, 33000 Bordeaux", skills="", hobbies="", particulars="")
QUOTED_PROFILE = ("> Bonjour Hélène,\n>\n> Votre profil :\n>   Nom : Lefèvre\n>   Téléphone : 06 55 44 33 22\n"
                  ">   Visibilité (confidentielle ou membres) : membres")


def reply(new_text: str, subject: str = "Re: Bienvenue au Club Aide !") -> InboundMail:
    return InboundMail(message_id="m@x", subject=subject, from_address=MEMBER.email or "", from_name="", to=(),
                       cc=(), reply_to=(), delivered_to=(), in_reply_to=(), references=(), date=None,
                       text=new_text + "\n\nLe 26/11/2026, Club Aide a écrit :\n" + QUOTED_PROFILE,
                       new_text=new_text, signature="", attachments=(), kind=MailKind.NORMAL, kind_reason="")


@pytest.mark.parametrize(("text", "answer"), [
    ("Téléphone : 07 11 22 33 44", True),
    ("Bonjour,\nvoici mon nouveau numéro :\nTéléphone : 07 11 22 33 44", True),
    ("Visibilité : confidentielle\nAppels du réseau : non\nMerci", True),
    ("Merci beaucoup !", True),
    ("", True),
    ("Je souhaite résilier.", True),
    ("Effacer mes données", True),
    ("mes données", True),
    ("Je cherche un expert-comptable pour ma SARL, quelqu'un dans le réseau ?", False),
    ("Bonjour, j'ai un litige avec un fournisseur qui ne livre pas depuis trois mois. Que faire ?", False),
    (("Activité : boulangerie\nJe cherche un fournisseur de farine bio en circuit court pour l'an prochain, "
      "idéalement dans la région de Bordeaux, avec livraison hebdomadaire."), False),
    ("Mes données comptables ont disparu après une mise à jour du logiciel, qui peut m'aider ?", False),
])
def test_a_reply_to_a_membership_mail_is_an_answer_or_a_request(text: str, answer: bool) -> None:
    assert is_profile_answer(reply(text), MEMBER) is answer


@pytest.mark.parametrize(("subject", "text", "strict", "anywhere"), [
    ("Mes données", "", EXPORT, EXPORT),
    ("RGPD", "Je voudrais recevoir mes données personnelles svp", EXPORT, EXPORT),
    ("Droit d'accès", "", EXPORT, EXPORT),
    ("Effacer mes données", "", ERASE, ERASE),
    ("Re: Votre adhésion est terminée", "Oui, merci d'effacer mes données s'il vous plaît.", ERASE, ERASE),
    ("Question", "Pouvez-vous procéder à la suppression de mes informations ?", None, ERASE),
    ("Droit à l'oubli", "", ERASE, ERASE),
    ("Mes données comptables ont disparu", "", None, EXPORT),
    ("Comptabilité", "Mes clients paient en retard, que faire ?", None, None),
    ("Re: Bienvenue", "Merci !", None, None),
])
def test_rights_asked_by_mail(subject: str, text: str, strict: str | None, anywhere: str | None) -> None:
    assert rights_request(subject, text) == strict
    assert rights_request(subject, text, anywhere=True) == anywhere
