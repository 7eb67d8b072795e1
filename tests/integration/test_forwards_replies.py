"""Forwards are content and replies keep only the author's words, end to end over the real servers (issue 14,
points 1–3): the forwarded client's mail reaches the ticket and Aideur marked as forwarded, never a helper; an
interleaved answer reaches Aideur whole without the quoted club text; a greeting-only reply is said to be one."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from mailbot.models import Message, Ticket
from tests.helpers import (
    AIDEUR,
    ALICE,
    BRUNO,
    CHLOE,
    CLUB,
    add_members,
    make_mail,
    run_cycle,
    settle,
    smtp_send,
    wait_mail,
)
from tests.integration.test_triage import THURSDAY, answer

CLIENT = "litige.client@exemple-client.fr"
CLIENT_WORDS = "Votre facture 2026-118 ne correspond pas au devis signé"
OUTLOOK_FORWARD = (
    "Bonjour, voir ci-dessous : un client conteste ma facture. Qui pourrait me conseiller ?\n\n"
    "Alice\n\n"
    "________________________________\n"
    f"De : Gérard Lenoir <{CLIENT}>\n"
    "Envoyé : mardi 1 décembre 2026 18:12\n"
    f"À : {ALICE}\n"
    "Objet : Facture de novembre\n\n"
    f"Madame,\n\n{CLIENT_WORDS} : je refuse de payer le supplément de 400 €.\n\nG. Lenoir\n")
APPEAL = ("#appel compétences: droit du travail\n"
          "Un membre a un différend avec un client sur une facture : qui peut le conseiller ?")


def messages(sessions) -> list[Message]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        rows = list(session.scalars(select(Message).where(Message.direction == "in").order_by(Message.id)))
        session.expunge_all()
        return rows


def test_a_forwarded_client_mail_reaches_the_ticket_and_aideur_never_a_helper(clean_mail, settings, sessions):
    add_members(sessions)
    smtp_send(clean_mail, make_mail(ALICE, "TR : Facture de novembre", OUTLOOK_FORWARD))
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(settings, sessions, at=THURSDAY)
    [note] = wait_mail(clean_mail, AIDEUR, 1)
    # Aideur sees the member's words, then the forwarded mail marked as such, with its sender and subject.
    assert "voir ci-dessous : un client conteste ma facture" in note.text
    assert "----- Message transféré -----" in note.text and CLIENT in note.text
    assert "Objet : Facture de novembre" in note.text
    assert CLIENT_WORDS in " ".join(note.text.split())
    # The ticket keeps it; the summary is the member's first sentence, not the client's.
    [stored] = messages(sessions)
    assert CLIENT_WORDS in " ".join(stored.text.split()) and "Message transféré" in stored.text
    with sessions() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert ticket.summary == "voir ci-dessous : un client conteste ma facture."
    # The member's acknowledgement does not send the client's mail back around.
    [ack] = settle(clean_mail, ALICE, 1)
    assert CLIENT not in ack.text and "400 €" not in ack.text
    # An appeal carries Aideur's words only: no helper ever gets the client's mail, name or address.
    answer(clean_mail, settings, sessions, note, APPEAL, "thunderbird")
    helpers = [m for address in (BRUNO, CHLOE) for m in settle(clean_mail, address, 0 if address == BRUNO else 1)]
    assert helpers, "the appeal went to a matching member"
    for mail in helpers:
        text = mail.text + mail.subject + mail.html
        assert CLIENT not in text and "Lenoir" not in text and "400 €" not in text and "118" not in text


def test_an_interleaved_answer_reaches_aideur_whole_and_a_greeting_only_reply_is_said_to_be_one(
        clean_mail, settings, sessions):
    add_members(sessions)
    smtp_send(clean_mail, make_mail(ALICE, "Local à louer", "Je cherche un local de 50 m² près de Lyon."))
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(settings, sessions, at=THURSDAY)
    [ack] = wait_mail(clean_mail, ALICE, 1)
    wait_mail(clean_mail, AIDEUR, 1)
    quoted = "\n".join(f"> {line}" for line in ack.text.splitlines()[:6])
    interleaved = ("Bonjour,\n\nLe jeu. 3 déc. 2026 à 10:00, Club Aide <" + CLUB + "> a écrit :\n" + quoted +
                   "\n\nPrécision : un rez-de-chaussée, avec vitrine.\n\n> Merci de votre message.\n\n"
                   "Le budget est de 900 € par mois.\n\nCordialement,\nAlice\n")
    reply = make_mail(ALICE, f"Re: {ack.subject}", interleaved, **{"In-Reply-To": ack.headers["message-id"][0]})
    reply.replace_header("To", ack.reply_to[0])
    smtp_send(clean_mail, reply)
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(settings, sessions, at=THURSDAY)
    notes = settle(clean_mail, AIDEUR, 2)
    follow = notes[1]
    assert "un rez-de-chaussée, avec vitrine" in follow.text and "900 € par mois" in follow.text
    assert "Merci de votre message" not in follow.text.split("Demande d'origine")[0]
    assert "a écrit" not in follow.text
    # A reply of "Bonjour, merci !" over the quote: Aideur is told there is nothing new, the quote is not shown.
    greeting = make_mail(ALICE, f"Re: {ack.subject}", "Bonjour,\n\nMerci !\n\n" + quoted + "\n",
                         **{"In-Reply-To": ack.headers["message-id"][0]})
    greeting.replace_header("To", ack.reply_to[0])
    smtp_send(clean_mail, greeting)
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(settings, sessions, at=THURSDAY)
    last = settle(clean_mail, AIDEUR, 3)[2]
    body = last.text.split("Demande d'origine")[0]
    assert "Rien de nouveau écrit dans ce message" in body
    shown = body.split("----- Message -----", 1)[1].split("-------------------", 1)[0]
    assert "Merci" in shown
    assert not any(line.strip() and line.strip() in shown for line in ack.text.splitlines()[:6] if len(line) > 12)
    assert messages(sessions)[-1].text.startswith("(Pas de texte nouveau")


FORWARDER = "m.garnier@exemple-client.fr"


@pytest.mark.parametrize(("subject", "client_words"), [
    # Attack 13, case 7: her client's words, Outlook's "TR :" / "TR:" and Gmail's "Fwd:".
    ("TR : Demande de résiliation", "Madame, je vous informe de la résiliation de mon contrat d'entretien."),
    ("TR: Effacer mes données", "Conformément au RGPD, je vous demande d'effacer mes données de votre fichier client."),
    ("Fwd: Modification", "Bonjour, je souhaite modifier la date de notre rendez-vous de chantier."),
    # Variants: the same flaw in the other intent rules (data export, announcements, directory, activities, thanks).
    ("TR : Mes données", "Merci de m'envoyer mes données personnelles que vous détenez."),
    ("TR: Plus d'annonces", "Je ne veux plus recevoir vos annonces publicitaires."),
    ("Fwd: Annuaire", "Pouvez-vous me transmettre l'annuaire de vos fournisseurs ?"),
    ("TR : Activités", "Voici le programme des activités de notre association."),
    ("Fwd: Merci", "Merci pour votre devis, mais nous ne donnerons pas suite."),
])
def test_a_forwarded_client_mail_about_her_contract_is_a_request_not_a_membership_change(
        clean_mail, settings, sessions, subject, client_words):
    """Attack 13, case 7: Alice forwards her client's mail "Demande de résiliation" (the client ends HIS contract
    with her) or "Effacer mes données" (his RGPD request to her company) and asks above it "que dois-je faire ?".
    Before: router.member_intent read the forwarded subject ("TR :" stripped) as Alice's own intent — no ticket,
    Aideur never saw it, Alice got "Fin de votre adhésion : merci de confirmer" or her profile. A forwarded mail's
    subject is the third party's words: the member's intents are read from her own words only."""
    body = ("Bonjour,\n\nmon client m'envoie ceci, que dois-je faire ? Merci de votre aide.\n\nAlice\n\n"
            "________________________________\n"
            f"De : Marc Garnier <{FORWARDER}>\n"
            "Envoyé : mardi 1 décembre 2026 18:12\n"
            f"À : {ALICE}\n"
            f"Objet : {subject.split(':', 1)[1].strip()}\n\n"
            f"{client_words}\n\nM. Garnier\n")
    add_members(sessions)
    smtp_send(clean_mail, make_mail(ALICE, subject, body))
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(settings, sessions, at=THURSDAY)
    with sessions() as session:
        tickets = session.scalar(select(func.count(Ticket.id)))
    to_alice = settle(clean_mail, ALICE, 1)
    assert tickets == 1, [m.subject for m in to_alice]
    assert not any("merci de confirmer" in m.subject for m in to_alice)
    notes = settle(clean_mail, AIDEUR, 1)
    assert any(FORWARDER in m.text for m in notes)


def test_her_own_words_above_a_forward_still_say_what_she_wants(clean_mail, settings, sessions):
    """The other side of the rule: a member who forwards something but writes herself, on her own first line,
    "Résilier mon adhésion" is asking that (her words, not the forwarded mail's)."""
    body = ("Résilier mon adhésion\n\n"
            "________________________________\n"
            f"De : Marc Garnier <{FORWARDER}>\n"
            "Envoyé : mardi 1 décembre 2026 18:12\n"
            f"À : {ALICE}\n"
            "Objet : Devis\n\n"
            "Voici mon devis.\n")
    add_members(sessions)
    smtp_send(clean_mail, make_mail(ALICE, "TR : Devis", body))
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(settings, sessions, at=THURSDAY)
    with sessions() as session:
        assert session.scalar(select(func.count(Ticket.id))) == 0
    [asked] = settle(clean_mail, ALICE, 1)
    assert "merci de confirmer" in asked.subject
