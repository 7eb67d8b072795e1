"""Consent before contact, the hard cases, over the real servers: a refusal, silence (one reminder, then expiry),
a consent withdrawn, an unclear answer, a stolen reply address; and result forms' reminders across restarts."""
from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import select

from mailbot.models import Connection, Consent, Event, ResultForm
from tests.helpers import AIDEUR, ALICE, BRUNO, CHLOE, CLUB, mailbox, run_cycle, settle, smtp_send, wait_mail
from tests.integration.aideur_clients import reply_to_notification
from tests.integration.test_triage import THURSDAY, answer, open_ticket


def connect(server, settings, sessions):  # type: ignore[no-untyped-def]
    """Alice's ticket, and Aideur's #relier with Chloé by her address: both are asked."""
    note = open_ticket(server, settings, sessions)
    # Accepted with a far date, so that no delay notice mixes in when the tests move the clock on.
    # With no appeal before it, #relier carries the few lines Chloé may read before both agree.
    answer(server, settings, sessions, note, "#accepter 31/12\n#relier chloe@membres.test\n"
           "Un membre cherche conseil sur un contrat de travail.", "thunderbird")
    [ask_alice] = [m for m in wait_mail(server, ALICE, 3) if "êtes-vous d'accord" in m.subject]
    [ask_chloe] = wait_mail(server, CHLOE, 1)
    return note, ask_alice, ask_chloe


def reply(server, settings, sessions, mail, body, sender, at=THURSDAY, client="thunderbird"):  # type: ignore
    smtp_send(server, reply_to_notification(mail, body, client, sender=sender, name="Membre"))
    wait_mail(server, CLUB, 1)
    return run_cycle(settings, sessions, at=at)


def connection_status(sessions) -> str:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return session.scalars(select(Connection.status)).one()


def having(server, address: str, fragment: str, count: int = 1) -> list:  # type: ignore[type-arg]
    """The mails of `address` whose subject holds `fragment`, once `count` of them are there."""
    for _ in range(100):
        found = [m for m in mailbox(server, address) if fragment in m.subject]
        if len(found) >= count:
            return found
        time.sleep(0.1)
    return found


def cards_sent(server) -> list:  # type: ignore[type-arg]
    return [m for who in (ALICE, CHLOE) for m in mailbox(server, who) if "les coordonnées" in m.subject]


def test_a_refusal_shares_nothing_and_the_other_side_is_told_kindly(clean_mail, settings, sessions):
    _, ask_alice, ask_chloe = connect(clean_mail, settings, sessions)
    reply(clean_mail, settings, sessions, ask_alice, "Oui", ALICE)
    reply(clean_mail, settings, sessions, ask_chloe, "Non merci, je préfère pas.\n\n-- \nChloé", CHLOE, client="gmail")
    assert connection_status(sessions) == "refused" and cards_sent(clean_mail) == []
    [told] = having(clean_mail, ALICE, "ne se fera pas")
    assert "ne dit rien de vous" in " ".join(told.text.split()) and "Chloé" not in told.text
    assert having(clean_mail, CHLOE, "aucune coordonnée")
    refused = [m for m in mailbox(clean_mail, AIDEUR) if "refusée" in m.subject]
    assert len(refused) == 1 and "je préfère pas" in refused[0].text


def test_an_unclear_answer_is_never_a_yes(clean_mail, settings, sessions):
    _, ask_alice, ask_chloe = connect(clean_mail, settings, sessions)
    reply(clean_mail, settings, sessions, ask_chloe, "Oui", CHLOE)
    reply(clean_mail, settings, sessions, ask_alice, "C'est qui ? Je voudrais savoir avant.", ALICE)
    assert connection_status(sessions) == "asking" and cards_sent(clean_mail) == []
    [question] = having(clean_mail, ALICE, "OUI ou NON")
    reply(clean_mail, settings, sessions, question, "oui ok pour moi", ALICE)
    assert connection_status(sessions) == "exchanged" and len(cards_sent(clean_mail)) == 2


def test_a_consent_can_be_withdrawn_before_the_exchange(clean_mail, settings, sessions):
    _, ask_alice, _ = connect(clean_mail, settings, sessions)
    reply(clean_mail, settings, sessions, ask_alice, "D'accord", ALICE)
    [recorded] = having(clean_mail, ALICE, "votre accord est enregistré")
    reply(clean_mail, settings, sessions, recorded, "Non, finalement je retire mon accord.", ALICE)
    assert connection_status(sessions) == "refused" and cards_sent(clean_mail) == []
    [noted] = having(clean_mail, ALICE, "aucune coordonnée")
    assert "retirez votre accord" in noted.text
    assert having(clean_mail, CHLOE, "ne se fera pas")


def test_a_stolen_reply_address_does_not_count(clean_mail, settings, sessions):
    """Chloé forwards her question to Bruno, who answers "oui" through it: the token names Chloé, not Bruno."""
    _, ask_alice, ask_chloe = connect(clean_mail, settings, sessions)
    reply(clean_mail, settings, sessions, ask_alice, "oui", ALICE)
    reply(clean_mail, settings, sessions, ask_chloe, "Oui, j'accepte", BRUNO)
    assert connection_status(sessions) == "asking" and cards_sent(clean_mail) == []
    with sessions() as session:
        chloe = session.scalars(select(Consent).where(Consent.role == "helper")).one()
        assert chloe.status == "pending"
    assert mailbox(clean_mail, BRUNO) == []
    warned = [m for m in mailbox(clean_mail, AIDEUR) if "autre adresse" in m.subject]
    assert len(warned) == 1 and BRUNO in warned[0].text


def test_silence_gets_one_reminder_then_expires_and_aideur_is_told(clean_mail, settings, sessions):
    connect(clean_mail, settings, sessions)
    [ask_alice] = [m for m in mailbox(clean_mail, ALICE) if "êtes-vous d'accord" in m.subject]
    reply(clean_mail, settings, sessions, ask_alice, "Oui", ALICE)
    for days in (1, 2):  # nothing due yet
        run_cycle(settings, sessions, at=THURSDAY + timedelta(days=days))
    assert len(mailbox(clean_mail, CHLOE)) == 1
    for hours in (0, 1, 30):  # the reminder is due after 3 days: once, whatever the restarts
        run_cycle(settings, sessions, at=THURSDAY + timedelta(days=3, hours=hours))
    chloe = settle(clean_mail, CHLOE, 2)
    assert len(chloe) == 2 and "Rappel" in chloe[1].subject
    for days in (7, 7, 8):
        run_cycle(settings, sessions, at=THURSDAY + timedelta(days=days, minutes=5))
    assert connection_status(sessions) == "expired" and cards_sent(clean_mail) == []
    assert len(having(clean_mail, ALICE, "ne se fera pas")) == 1
    expired = [m for m in mailbox(clean_mail, AIDEUR) if "abandonnée" in m.subject]
    assert len(expired) == 1 and "Chloé Durand" in expired[0].text
    assert len(settle(clean_mail, CHLOE, 2)) == 2  # no more mail to the silent side


def test_connect_errors_are_explained(clean_mail, settings, sessions):
    note = open_ticket(clean_mail, settings, sessions)
    answer(clean_mail, settings, sessions, note, "#relier 4", "thunderbird")
    answer(clean_mail, settings, sessions, note, "#relier alice@membres.test", "thunderbird")
    errors = [" ".join(m.text.split()) for m in settle(clean_mail, AIDEUR, 3) if "non exécutée" in m.subject]
    assert len(errors) == 2
    assert "Aucune offre n° 4" in errors[0] and "lui-même" in errors[1]
    assert len(mailbox(clean_mail, CHLOE)) == 0


def test_result_form_reminders_come_once_each_then_stop(clean_mail, settings, sessions):
    note = open_ticket(clean_mail, settings, sessions)
    answer(clean_mail, settings, sessions, note, "#clore le membre a trouvé seul", "thunderbird")
    form_mails = lambda: [m for m in mailbox(clean_mail, ALICE) if "quel résultat" in m.subject]
    assert len(having(clean_mail, ALICE, "quel résultat")) == 1  # after a close: at once (delivery takes a moment)
    for days in (1, 6, 7, 7, 8, 20, 21, 21, 22, 34, 35, 40, 60):
        run_cycle(settings, sessions, at=THURSDAY + timedelta(days=days, hours=1))
    mails = form_mails()
    assert [("Rappel" in m.subject) for m in mails] == [False, True, True]
    with sessions() as session:
        form = session.scalars(select(ResultForm)).one()
        assert (form.status, form.reminders) == ("stopped", 2)
        reminded = session.scalars(select(Event).where(Event.kind == "result-form-reminded")).all()
        assert len(reminded) == 2


def test_result_form_answers_in_many_shapes(clean_mail, settings, sessions):
    note = open_ticket(clean_mail, settings, sessions)
    answer(clean_mail, settings, sessions, note, "#solution Voici un modèle de lettre.", "thunderbird")
    later = THURSDAY + timedelta(days=settings.result_form_days)
    run_cycle(settings, sessions, at=later)  # the form goes a week after the solution
    [form] = having(clean_mail, ALICE, "quel résultat")
    reply(clean_mail, settings, sessions, form, "Euh, je ne sais pas trop encore.", ALICE, at=later)
    assert having(clean_mail, ALICE, "une précision")
    reply(clean_mail, settings, sessions, form, "Toujours en cours, 3 sur 5 pour l'instant", ALICE, client="outlook",
          at=later)
    reply(clean_mail, settings, sessions, form, "Résultat : résolu\nSatisfaction : 4\nCommentaire : très utile",
          ALICE, client="gmail", at=later)
    with sessions() as session:
        stored = session.scalars(select(ResultForm)).one()
        assert (stored.result, stored.satisfaction, stored.status) == ("resolu", 4, "answered")
        assert "très utile" in stored.comment
    results = [m.subject for m in mailbox(clean_mail, AIDEUR) if "Résultat" in m.subject]
    assert results == ["[CA-2026-0001] Résultat : en cours (Alice Martin)",
                       "[CA-2026-0001] Résultat mis à jour : résolu (Alice Martin)"]


def _chloe_profile(sessions, **values: str) -> None:  # type: ignore[no-untyped-def]
    from mailbot.models import Member
    with sessions.begin() as session:
        chloe = session.scalars(select(Member).where(Member.email == CHLOE)).one()
        for key, value in values.items():
            setattr(chloe, key, value)


def test_the_helpers_company_in_her_activity_is_not_shown_before_she_agrees(clean_mail, settings, sessions):
    """Attack 13, case 12: Chloé's profile says "Activité : avocate associée, cabinet Durand Avocats" and
    "Compétences : droit du travail (Me Chloé Durand)". Before: Alice's consent question printed them as written,
    beside "Votre nom ne lui a pas encore été donné, ni le sien à vous". Now the question still goes out, with
    what of them names nobody ("avocate associée", "droit du travail")."""
    note = open_ticket(clean_mail, settings, sessions)
    _chloe_profile(sessions, company="Durand Avocats", visibility="confidentielle",
                   activity="avocate associée, cabinet Durand Avocats", skills="droit du travail (Me Chloé Durand)")
    answer(clean_mail, settings, sessions, note, "#accepter 31/12\n#relier chloe@membres.test\n"
           "Un membre cherche conseil sur un contrat de travail.", "thunderbird")
    [ask_alice] = [m for m in wait_mail(clean_mail, ALICE, 3) if "êtes-vous d'accord" in m.subject]
    text = ask_alice.text + ask_alice.html
    assert "Durand" not in text and "Chloé" not in text, text
    assert "avocate associée" in text and "droit du travail" in text


def test_the_helpers_phone_or_mail_in_her_skills_is_not_shown_before_she_agrees(clean_mail, settings, sessions):
    """Variant: the way to reach her written in her free text (a phone, another e-mail address of hers)."""
    note = open_ticket(clean_mail, settings, sessions)
    _chloe_profile(sessions, phone="06 98 76 54 32", activity="juriste — 06 98 76 54 32",
                   skills="droit social / écrire à chloe.perso@exemple.org")
    answer(clean_mail, settings, sessions, note, "#accepter 31/12\n#relier chloe@membres.test\n"
           "Un membre cherche conseil sur un contrat de travail.", "thunderbird")
    [ask_alice] = [m for m in wait_mail(clean_mail, ALICE, 3) if "êtes-vous d'accord" in m.subject]
    text = ask_alice.text + ask_alice.html
    assert "98 76" not in text and "0698765432" not in text.replace(" ", "") and "chloe.perso" not in text, text
    assert "juriste" in text and "droit social" in text
