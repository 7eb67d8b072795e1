"""The whole life of a request over the real servers, every mail checked in the mailbox of the person who should
have it and absent from everyone else's: request → acknowledgement → Aideur accepts and appeals → an offer →
#relier → both consent → details exchanged → result form → result recorded."""
from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from mailbot.models import Connection, Consent, ResultForm
from tests.helpers import AIDEUR, ALICE, BRUNO, CHLOE, CLUB, STRANGER, mailbox, run_cycle, settle, smtp_send, wait_mail
from tests.integration.aideur_clients import reply_to_notification
from tests.integration.test_cli import mailbot
from tests.integration.test_triage import THURSDAY, open_ticket

ALICE_IDENTITY = ("Alice", "Martin", ALICE, "06 12 34 56 78")
CHLOE_IDENTITY = ("Chloé", "Durand", CHLOE)


class Mailboxes:
    """What each person has received so far, and a check that nobody got anything more."""

    def __init__(self, server) -> None:  # type: ignore[no-untyped-def]
        self.server = server
        self.expected = {ALICE: 0, CHLOE: 0, BRUNO: 0, AIDEUR: 0, STRANGER: 0}

    def got(self, address: str, *subjects: str) -> list:  # type: ignore[type-arg]
        """`address` received exactly these new mails (by subject fragment), and nobody else got anything."""
        self.expected[address] += len(subjects)
        mails = settle(self.server, address, self.expected[address])
        assert len(mails) == self.expected[address], [m.subject for m in mails]
        new = mails[-len(subjects):]
        for mail, fragment in zip(new, subjects, strict=False):
            assert fragment in mail.subject, (fragment, mail.subject)
        return new

    def nobody_else(self) -> None:
        for address, count in self.expected.items():
            assert len(mailbox(self.server, address)) == count, address


def reply(server, settings, sessions, mail, body, sender, client="thunderbird"):  # type: ignore[no-untyped-def]
    smtp_send(server, reply_to_notification(mail, body, client, sender=sender, name=sender.split("@")[0]))
    wait_mail(server, CLUB, 1)
    return run_cycle(settings, sessions, at=THURSDAY)


def names_in(mail, identity) -> list[str]:  # type: ignore[no-untyped-def]
    seen = (mail.subject + mail.text + str(mail.headers)).lower()
    return [part for part in identity if part.lower() in seen]


def test_the_whole_life_of_a_request(clean_mail, env, settings, sessions):
    boxes = Mailboxes(clean_mail)
    note = open_ticket(clean_mail, settings, sessions, subject="Licenciement contesté",
                       text="Bonjour, un salarié conteste son licenciement. Qui connaît le droit du travail ?\n\n"
                            "Alice Martin\n06 12 34 56 78")
    [_ack] = boxes.got(ALICE, "Demande bien reçue")
    boxes.got(AIDEUR, "Nouvelle demande")
    assert "Chloé Durand" in note.text  # the best match is shown to Aideur

    reply(clean_mail, settings, sessions, note, "#accepter 15/12\n#appel compétences: droit du travail ; membres: 1\n"
                                                "Un membre cherche un avis sur un licenciement contesté.", AIDEUR)
    boxes.got(ALICE, "prend en charge")
    [appeal] = boxes.got(CHLOE, "Appel du réseau")
    boxes.got(AIDEUR, "Appel envoyé à 1 membre")
    assert names_in(appeal, ALICE_IDENTITY) == []
    boxes.nobody_else()

    reply(clean_mail, settings, sessions, appeal, "Je peux aider : je suis juriste en droit social.", CHLOE, "gmail")
    boxes.got(CHLOE, "Merci pour votre proposition")
    [offer] = boxes.got(AIDEUR, "Offre n° 1 : Chloé Durand")

    reply(clean_mail, settings, sessions, offer, "#relier 1", AIDEUR, "outlook")
    [ask_alice] = boxes.got(ALICE, "Un membre peut vous aider")
    [ask_chloe] = boxes.got(CHLOE, "Mise en relation : êtes-vous d'accord")
    assert names_in(ask_alice, CHLOE_IDENTITY) == [] and "juriste en droit social" in ask_alice.text
    assert names_in(ask_chloe, ALICE_IDENTITY) == [] and "licenciement contesté" in ask_chloe.text
    boxes.nobody_else()

    reply(clean_mail, settings, sessions, ask_alice, "Oui, d'accord", ALICE, "outlook")
    boxes.got(ALICE, "votre accord est enregistré")
    boxes.nobody_else()

    reply(clean_mail, settings, sessions, ask_chloe, "oui", CHLOE)
    [card_alice] = boxes.got(ALICE, "les coordonnées")
    [card_chloe] = boxes.got(CHLOE, "les coordonnées")
    boxes.got(AIDEUR, "Mise en relation faite")
    boxes.nobody_else()  # the result forms are not sent with the contact details
    # A week later, each is asked in their own words: the requester about her request, the helper about his help.
    run_cycle(settings, sessions, at=THURSDAY + timedelta(days=settings.result_form_days))
    [form_alice] = boxes.got(ALICE, "quel résultat pour votre demande")
    [form_chloe] = boxes.got(CHLOE, "Comment s'est passée votre aide auprès d'un membre")
    assert "votre demande" not in form_chloe.subject and "CA-2026-0001" in form_chloe.text
    assert CHLOE in card_alice.text and "Chloé Durand" in card_alice.text
    assert ALICE in card_chloe.text and "06 12 34 56 78" in card_chloe.text and "Alice Martin" in card_chloe.text
    assert "premier entretien est toujours gratuit" in " ".join(card_alice.text.split())
    boxes.nobody_else()

    reply(clean_mail, settings, sessions, form_alice, "Résolu, 5/5, merci pour tout !", ALICE, "gmail")
    boxes.got(ALICE, "Merci pour votre retour")
    [result] = boxes.got(AIDEUR, "Résultat : résolu (Alice Martin)")
    assert "5/5" in result.text
    boxes.nobody_else()

    with sessions() as session:
        connection = session.scalars(select(Connection)).one()
        assert connection.status == "exchanged"
        for consent in session.scalars(select(Consent)):
            assert consent.status == "yes" and consent.answer_line and consent.answered_at
            assert len(consent.answer_sha256) == 64 and consent.answer_message_id
            assert consent.asked_message_id and len(consent.asked_sha256) == 64
        forms = {f.role: f for f in session.scalars(select(ResultForm))}
        assert (forms["requester"].status, forms["requester"].result, forms["requester"].satisfaction) == \
            ("answered", "resolu", 5)
        assert forms["helper"].status == "pending"

    # The consent trail, as the operator reads it.
    shown = json.loads(mailbot(env, "tickets", "show", "CA-2026-0001", "--json").stdout)
    [trail] = shown["consents"]
    assert trail["status"] == "exchanged" and {c["role"] for c in trail["consents"]} == {"requester", "helper"}
    for consent in trail["consents"]:
        assert consent["status"] == "yes" and consent["answer_line"] in ("Oui, d'accord", "oui")
        assert consent["asked_message_id"] and len(consent["answer_sha256"]) == 64
    assert [r["result"] for r in shown["results"] if r["role"] == "requester"] == ["resolu"]
    human = mailbot(env, "tickets", "show", "CA-2026-0001").stdout
    assert "mise en relation n° 1 (exchanged)" in human and "« Oui, d'accord »" in human


def test_the_helper_offer_is_not_shown_to_the_requester_when_it_names_the_helper(clean_mail, settings, sessions):
    note = open_ticket(clean_mail, settings, sessions, subject="Licenciement contesté",
                       text="Bonjour, qui connaît le droit du travail ?")
    reply(clean_mail, settings, sessions, note, "#appel compétences: droit du travail ; membres: 1\nUn membre "
                                                "cherche un avis.", AIDEUR)
    [appeal] = wait_mail(clean_mail, CHLOE, 1)
    reply(clean_mail, settings, sessions, appeal, "Je peux aider. Appelez-moi : Chloé Durand, 06 11 22 33 44.", CHLOE)
    [offer] = [m for m in wait_mail(clean_mail, AIDEUR, 3) if "Offre" in m.subject]
    reply(clean_mail, settings, sessions, offer, "#relier 1", AIDEUR)
    [ask] = [m for m in wait_mail(clean_mail, ALICE, 2) if "peut vous aider" in m.subject]
    assert names_in(ask, CHLOE_IDENTITY + ("06 11 22 33 44",)) == [] and "Ce qu'il propose" not in ask.text
