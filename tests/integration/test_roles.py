"""Issue 12, points 6: each role gets its own words, over the real servers. Each test reproduces one defect the
issue reports (what the person received before is in the test's docstring) and checks what they get now."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from mailbot.models import Connection, Event, ResultForm
from tests.helpers import AIDEUR, ALICE, BRUNO, CHLOE, CLUB, mailbox, run_cycle, settle, smtp_send, wait_mail
from tests.integration.aideur_clients import reply_to_notification
from tests.integration.test_appeals import APPEAL, appeal, helper_answers
from tests.integration.test_consents import connect, having, reply
from tests.integration.test_triage import THURSDAY, answer, open_ticket

# Wording and routing: the queries are the ones every other test runs on both databases (tests/conftest.py).
pytestmark = pytest.mark.sqlite_only


def arrived(server, address: str, fragment: str) -> list:  # type: ignore[type-arg]
    """For a mail that must NOT come: what is there once Postfix has had a moment (settle), without waiting the
    15 seconds `having` gives a mail that must come."""
    time.sleep(0.5)
    return [m for m in mailbox(server, address) if fragment in m.subject]


def flat(mail) -> str:  # type: ignore[no-untyped-def]
    return " ".join(mail.text.split())


def connected_through_an_appeal(server, settings, sessions):  # type: ignore[no-untyped-def]
    """Chloé and Bruno are asked; Chloé offers; #relier 1; both say yes: details exchanged."""
    note = appeal(server, settings, sessions, text="#accepter 31/12\n" + APPEAL)
    helper_answers(server, settings, sessions, CHLOE, "Je peux aider : je suis juriste en droit social.")
    [offer] = having(server, AIDEUR, "Offre n° 1")
    answer(server, settings, sessions, offer, "#relier 1", "outlook")
    [ask_alice] = having(server, ALICE, "Un membre peut vous aider")
    [ask_chloe] = having(server, CHLOE, "êtes-vous d'accord")
    reply(server, settings, sessions, ask_alice, "Oui", ALICE)
    reply(server, settings, sessions, ask_chloe, "oui", CHLOE)
    having(server, CHLOE, "les coordonnées")
    return note


def test_closing_thanks_the_connected_helper_and_tells_the_others_the_need_is_over(clean_mail, settings, sessions):
    """Before: on #clore the helper already working with the requester was told « le besoin est terminé, inutile
    de chercher davantage »."""
    note = connected_through_an_appeal(clean_mail, settings, sessions)
    answer(clean_mail, settings, sessions, note, "#clore réglé avec l'aide d'une juriste du réseau", "thunderbird")
    [thanks] = having(clean_mail, CHLOE, "merci pour votre aide")
    assert "inutile de chercher" not in flat(thanks) and "Merci pour l'aide que vous lui avez apportée" in flat(thanks)
    [over] = having(clean_mail, BRUNO, "besoin est terminé")  # asked, offered nothing
    assert "inutile de chercher davantage" in flat(over)
    assert not any("besoin est terminé" in m.subject for m in mailbox(clean_mail, CHLOE))


def test_a_helper_connected_by_address_is_thanked_at_closing_too(clean_mail, settings, sessions):
    note, ask_alice, ask_chloe = connect(clean_mail, settings, sessions)
    reply(clean_mail, settings, sessions, ask_alice, "Oui", ALICE)
    reply(clean_mail, settings, sessions, ask_chloe, "Oui", CHLOE)
    answer(clean_mail, settings, sessions, note, "#clore", "thunderbird")
    assert len(having(clean_mail, CHLOE, "merci pour votre aide")) == 1
    run_cycle(settings, sessions, at=THURSDAY + timedelta(hours=1))  # again: nothing more
    assert len(settle(clean_mail, CHLOE, len(mailbox(clean_mail, CHLOE)))) == len(mailbox(clean_mail, CHLOE))


def test_only_someone_who_said_yes_is_thanked_for_it(clean_mail, settings, sessions):
    """Before: a member who never answered the consent question was thanked « pour votre accord »."""
    _, ask_alice, _ = connect(clean_mail, settings, sessions)
    reply(clean_mail, settings, sessions, ask_alice, "Non merci, finalement je préfère chercher seule.", ALICE)
    [off] = having(clean_mail, CHLOE, "ne se fera pas")
    assert "Merci pour votre accord" not in flat(off) and "plus à répondre" in flat(off)


def test_a_question_in_a_consent_answer_reaches_aideur(clean_mail, settings, sessions):
    """Before: « Si vous avez une question, posez-la à Aideur » and the question itself went nowhere."""
    _, ask_alice, ask_chloe = connect(clean_mail, settings, sessions)
    reply(clean_mail, settings, sessions, ask_alice, "Avant de dire oui : cette personne est-elle près de Nantes ?",
          ALICE)
    [again] = having(clean_mail, ALICE, "OUI ou NON")
    assert "posez-la" not in flat(again) and "transmis à Aideur" in flat(again)
    [question] = having(clean_mail, AIDEUR, "Une question pour vous : Alice Martin")
    assert "près de Nantes" in flat(question) and "votre texte sera envoyé à Alice Martin" in flat(question)
    # The helper's question too: Aideur is told how to answer her, never through the requester's thread.
    reply(clean_mail, settings, sessions, ask_chloe, "Oui mais c'est pour quel genre d'entreprise ?", CHLOE)
    [hers] = having(clean_mail, AIDEUR, "Une question pour vous : Chloé Durand")
    assert "quel genre d'entreprise" in flat(hers) and CHLOE in flat(hers)
    assert not hers.reply_to[0].startswith("aide+t")  # not the ticket's address: it would reach Alice
    with sessions() as session:
        assert session.scalars(select(Connection.status)).one() == "asking"  # the consent itself stays strict


def test_result_form_waits_a_week_and_the_helper_gets_their_own(clean_mail, settings, sessions):
    """Before: the result form arrived in the same second as the contact details, and the helper was asked
    « quel résultat pour votre demande ? » about someone else's request."""
    _, ask_alice, ask_chloe = connect(clean_mail, settings, sessions)
    reply(clean_mail, settings, sessions, ask_alice, "Oui", ALICE)
    reply(clean_mail, settings, sessions, ask_chloe, "Oui", CHLOE)
    assert having(clean_mail, CHLOE, "les coordonnées")
    assert not arrived(clean_mail, CHLOE, "passée votre aide") and not arrived(clean_mail, ALICE, "quel résultat")
    week = THURSDAY + timedelta(days=settings.result_form_days)
    run_cycle(settings, sessions, at=week - timedelta(hours=1))
    assert not arrived(clean_mail, ALICE, "quel résultat")
    for _ in range(2):  # sent by the scheduler's cycle, once whatever the reruns
        run_cycle(settings, sessions, at=week + timedelta(minutes=1))
    [helper_form] = having(clean_mail, CHLOE, "Comment s'est passée votre aide auprès d'un membre ?")
    [requester_form] = having(clean_mail, ALICE, "quel résultat pour votre demande")
    assert "votre demande" not in helper_form.subject

    # "toujours en discussion" is read as "en cours", and asked again a week later.
    reply(clean_mail, settings, sessions, helper_form, "Toujours en discussion avec elle, 4/5", CHLOE,
          at=week + timedelta(hours=1))
    [noted] = having(clean_mail, CHLOE, "Merci pour votre retour")
    assert "Nous vous reposerons la question le" in flat(noted)
    for days in (6, 7, 7):
        run_cycle(settings, sessions, at=week + timedelta(days=days, hours=2))
    again = having(clean_mail, CHLOE, "Comment s'est passée votre aide", 2)
    assert len(again) == 2 and "en cours" in flat(again[1])
    # "projet lancé … 5/5" is understood.
    reply(clean_mail, settings, sessions, requester_form, "Projet lancé la semaine dernière grâce à elle ! 5/5",
          ALICE, at=week + timedelta(days=1))
    assert having(clean_mail, AIDEUR, "Résultat : résolu (Alice Martin)")
    assert not arrived(clean_mail, ALICE, "une précision")
    with sessions() as session:
        forms = {f.role: f for f in session.scalars(select(ResultForm))}
        assert (forms["requester"].result, forms["requester"].satisfaction) == ("resolu", 5)
        assert (forms["helper"].status, forms["helper"].result) == ("pending", "en_cours")


def test_a_quote_accepted_by_reply_is_acknowledged_and_aideur_told(clean_mail, settings, sessions):
    """Before: the member's « Oui, l'offre m'intéresse » got no answer."""
    note = open_ticket(clean_mail, settings, sessions)
    answer(clean_mail, settings, sessions, note, "#devis\nprestataire: Durand Avocats\nobjet: consultation\n"
                                                 "tarif habituel: 300 €\ntarif club: 200 €", "outlook")
    [quote] = having(clean_mail, ALICE, "Un devis")
    assert "qu'avec votre accord" not in flat(quote)  # true whatever the consent state
    reply(clean_mail, settings, sessions, quote, "Bonjour,\nOui, l'offre m'intéresse.\nAlice", ALICE, client="gmail")
    [ack] = having(clean_mail, ALICE, "Votre accord pour le devis est bien noté")
    assert "Durand Avocats" in flat(ack) and "Aideur en est prévenu" in flat(ack)
    [told] = having(clean_mail, AIDEUR, "Devis accepté par Alice Martin")
    assert "Durand Avocats" in flat(told) and "l'offre m'intéresse" in flat(told)


def test_a_forged_quote_acceptance_is_only_a_follow_up(clean_mail, settings, sessions):
    """The acceptance needs the member's reply address: someone citing the quote's Message-ID with Alice's From:
    gets nothing, Alice gets nothing, Aideur reads it as an ordinary follow-up."""
    note = open_ticket(clean_mail, settings, sessions)
    answer(clean_mail, settings, sessions, note, "#devis\nprestataire: Durand Avocats\nobjet: consultation\n"
                                                 "tarif habituel: 300 €\ntarif club: 200 €", "outlook")
    [quote] = having(clean_mail, ALICE, "Un devis")
    forged = reply_to_notification(quote, "Oui, je prends.", "thunderbird", sender=ALICE, name="Alice")
    forged.replace_header("To", CLUB)  # the plain club address: the thread is cited, the reply address is not
    smtp_send(clean_mail, forged)
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(settings, sessions, at=THURSDAY)
    assert having(clean_mail, AIDEUR, "Nouveau message (Alice Martin)")
    assert not any("devis" in m.subject.lower() and "noté" in m.subject for m in settle(clean_mail, ALICE, 2))
    with sessions() as session:
        assert not session.scalars(select(Event).where(Event.kind == "quote-accepted")).all()
