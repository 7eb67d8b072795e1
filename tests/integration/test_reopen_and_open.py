"""Issue 12, points 3 and 1b, end to end over the loopback servers: a closed request taken up again (#rouvrir, the
member writing back within MAILBOT_REOPEN_DAYS or later), a request opened by Aideur for a member (#ouvrir through
his command address, `mailbot tickets open`)."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from mailbot.models import Event, Ticket
from tests.helpers import (
    AIDEUR,
    ALICE,
    BRUNO,
    CLUB,
    add_members,
    mailbox,
    make_mail,
    run_cycle,
    settle,
    smtp_send,
    wait_mail,
)
from tests.integration.aideur_clients import confirm_command, confirmation_requests, reply_to_notification
from tests.integration.test_cli import mailbot
from tests.integration.test_triage import THURSDAY, answer, open_ticket

# Wording and routing: the queries are the ones every other test runs on both databases (tests/conftest.py).
pytestmark = pytest.mark.sqlite_only

NEED = "En fait le salarié a saisi les prud'hommes hier : j'ai de nouveau besoin d'un avocat."


def tickets(sessions) -> dict[str, Ticket]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return {t.ref: t for t in session.scalars(select(Ticket))}


def events(sessions, ref: str) -> list[str]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return list(session.scalars(select(Event.kind).join(Ticket, Event.ticket_id == Ticket.id)
                                    .where(Ticket.ref == ref).order_by(Event.id)))


def closed_ticket(server, settings, sessions):  # type: ignore[no-untyped-def]
    """Alice's request, closed by Aideur: returns (Aideur's notification, Alice's closing mail)."""
    note = open_ticket(server, settings, sessions)
    answer(server, settings, sessions, note, "#clore", "thunderbird")
    alice = settle(server, ALICE, 3)  # acknowledgement, closing, result form
    [closing] = [m for m in alice if "est close" in m.subject]
    assert tickets(sessions)["CA-2026-0001"].status == "closed"
    return note, closing


def member_writes_back(server, settings, sessions, closing, text: str, at: datetime, **kwargs):  # type: ignore
    smtp_send(server, reply_to_notification(closing, text, "gmail", sender=ALICE, name="Alice Martin", **kwargs))
    wait_mail(server, CLUB, 1)
    return run_cycle(settings, sessions, at=at)


def command_address(note) -> str:  # type: ignore[no-untyped-def]
    return next(line.strip() for line in note.text.splitlines() if line.strip().startswith("aide+c0a-"))


# --- #rouvrir ---------------------------------------------------------------------------------------------------
def test_rouvrir_reopens_a_closed_request_and_tells_the_member(clean_mail, settings, sessions):
    note, _ = closed_ticket(clean_mail, settings, sessions)
    answer(clean_mail, settings, sessions, note, "#rouvrir 15/12\nNous reprenons votre demande avec l'avocate "
                                                 "du réseau.", "outlook")
    alice = settle(clean_mail, ALICE, 4)
    [reopened] = [m for m in alice if "rouverte" in m.subject]
    text = " ".join(reopened.text.split())
    assert "mardi 15 décembre 2026" in text and "Nous reprenons votre demande avec l'avocate du réseau." in text
    assert "#" not in reopened.text and "06 99 88 77 66" not in reopened.text
    assert reopened.reply_to[0].startswith("aide+t1m-")
    t = tickets(sessions)["CA-2026-0001"]
    assert (t.status, t.closed_at, t.due_at) == ("new", None, datetime(2026, 12, 15, 17, 0))
    assert "reopened" in events(sessions, "CA-2026-0001")
    # Reopened, it takes decisions again.
    answer(clean_mail, settings, sessions, note, "#accepter 18/12", "thunderbird")
    assert tickets(sessions)["CA-2026-0001"].status == "accepted"


def test_rouvrir_without_date_promises_the_usual_delay_and_english_alias_works(clean_mail, settings, sessions):
    note, _ = closed_ticket(clean_mail, settings, sessions)
    answer(clean_mail, settings, sessions, note, "#reopen", "gmail")
    [reopened] = [m for m in settle(clean_mail, ALICE, 4) if "rouverte" in m.subject]
    assert "lundi 30 novembre 2026" in reopened.text  # two business days after Thursday 26
    assert tickets(sessions)["CA-2026-0001"].status == "new"


def test_rouvrir_on_an_open_request_is_refused(clean_mail, settings, sessions):
    note = open_ticket(clean_mail, settings, sessions)
    answer(clean_mail, settings, sessions, note, "#rouvrir", "thunderbird")
    [error] = [n for n in settle(clean_mail, AIDEUR, 2) if "non exécutée" in n.subject]
    assert "encore ouverte" in error.text and "> #rouvrir" in error.text
    assert len(settle(clean_mail, ALICE, 1)) == 1  # only her acknowledgement


def test_a_command_on_a_closed_request_says_to_reopen_first(clean_mail, settings, sessions):
    note, _ = closed_ticket(clean_mail, settings, sessions)
    answer(clean_mail, settings, sessions, note, "#refuser hors du champ du Club", "thunderbird")
    [error] = [n for n in settle(clean_mail, AIDEUR, 2) if "non exécutée" in n.subject]
    assert "déjà close" in error.text and "#rouvrir" in " ".join(error.text.split())


# --- the member writes back -------------------------------------------------------------------------------------
def test_member_reply_within_the_window_reopens_and_tells_aideur(clean_mail, settings, sessions):
    _, closing = closed_ticket(clean_mail, settings, sessions)
    report = member_writes_back(clean_mail, settings, sessions, closing, NEED, THURSDAY + timedelta(days=10))
    assert dict(report.actions) == {"follow-up": 1}
    t = tickets(sessions)["CA-2026-0001"]
    assert t.status == "new" and t.closed_at is None and t.due_at is not None
    notes = settle(clean_mail, AIDEUR, 2)  # the new request, then the reopening
    [told] = [n for n in notes if "rouverte" in n.subject]
    assert "Alice Martin" in told.subject and "prud'hommes hier" in told.text and "(close le" in told.text
    assert told.reply_to[0].startswith("aide+t1a-")  # he answers it like any notification
    assert len(tickets(sessions)) == 1 and "reopened" in events(sessions, "CA-2026-0001")


def test_member_reply_after_the_window_starts_a_linked_request(clean_mail, settings, sessions):
    _, closing = closed_ticket(clean_mail, settings, sessions)
    member_writes_back(clean_mail, settings, sessions, closing, NEED, THURSDAY + timedelta(days=34))  # 30 December
    found = tickets(sessions)
    assert found["CA-2026-0001"].status == "closed"
    assert found["CA-2026-0002"].status == "new" and found["CA-2026-0002"].previous_id == found["CA-2026-0001"].id
    [ack] = [m for m in settle(clean_mail, ALICE, 4) if "Demande bien reçue" in m.subject and "0002" in m.subject]
    assert "prud'hommes hier" in " ".join(ack.text.split())
    assert any("Nouvelle demande" in n.subject and "CA-2026-0002" in n.subject for n in settle(clean_mail, AIDEUR, 2))
    assert "continues" in events(sessions, "CA-2026-0002") and "continued" in events(sessions, "CA-2026-0001")


@pytest.mark.parametrize("words", ["Merci beaucoup !\n\nAlice", "Merci pour votre aide, tout s'est bien passé !"])
def test_a_thank_you_after_closing_reopens_nothing(clean_mail, settings, sessions, words):
    _, closing = closed_ticket(clean_mail, settings, sessions)
    member_writes_back(clean_mail, settings, sessions, closing, words, THURSDAY)
    assert tickets(sessions)["CA-2026-0001"].status == "closed"
    assert not any("rouverte" in n.subject for n in settle(clean_mail, AIDEUR, 2))
    assert len(tickets(sessions)) == 1


def test_a_forged_reply_without_the_reply_address_reopens_nothing(clean_mail, settings, sessions):
    """Alice's From: and the reference in the subject, to the plain club address: no proof it is her."""
    closed_ticket(clean_mail, settings, sessions)
    smtp_send(clean_mail, make_mail(ALICE, "Re: [CA-2026-0001] Votre demande est close", NEED))
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(settings, sessions, at=THURSDAY)
    assert tickets(sessions)["CA-2026-0001"].status == "closed"
    assert not any("rouverte" in n.subject for n in settle(clean_mail, AIDEUR, 2))


# --- #ouvrir and `tickets open` ---------------------------------------------------------------------------------
def test_ouvrir_through_the_command_address_waits_for_oui_then_opens(clean_mail, settings, sessions):
    note = open_ticket(clean_mail, settings, sessions)
    smtp_send(clean_mail, make_mail(AIDEUR, "Appel de Bruno", "#ouvrir Bruno Petit <bruno@membres.test>\n"
                                    "objet: Fuite sur un chantier\nBruno m'a appelé : une fuite sur le chantier de "
                                    "la rue Neuve, il cherche un plombier.\n\nCordialement,\nAideur",
                                    to=command_address(note)))
    wait_mail(clean_mail, CLUB, 1)
    assert dict(run_cycle(settings, sessions, at=THURSDAY).actions) == {"aideur-command": 1}
    assert len(tickets(sessions)) == 1 and mailbox(clean_mail, BRUNO) == []  # nothing before his OUI
    [request] = confirmation_requests(clean_mail)
    assert "#ouvrir" in request.text and BRUNO in request.text and "Fuite sur un chantier" in request.text
    confirm_command(clean_mail, settings, sessions, THURSDAY)
    opened = tickets(sessions)["CA-2026-0002"]
    assert opened.subject == "Fuite sur un chantier" and opened.status == "new"
    [ack] = settle(clean_mail, BRUNO, 1)
    assert ack.subject == "[CA-2026-0002] Demande bien reçue : Fuite sur un chantier"
    assert "une fuite sur le chantier de la rue Neuve" in " ".join(ack.text.split())
    assert ack.reply_to[0].startswith("aide+t2m-")
    [notice] = [n for n in mailbox(clean_mail, AIDEUR) if n.subject.startswith("[CA-2026-0002] Nouvelle demande")]
    assert "Bruno Petit" in notice.subject and "rue Neuve" in notice.text and "Cordialement" not in notice.text
    assert "command:ouvrir" in events(sessions, "CA-2026-0002")


def test_ouvrir_with_a_forwarded_mail_takes_its_text(clean_mail, settings, sessions):
    note = open_ticket(clean_mail, settings, sessions)
    body = ("#ouvrir bruno@membres.test\n\n---------- Forwarded message ---------\n"
            "De : Bruno Petit <bruno@membres.test>\nDate: mer. 25 nov. 2026 à 18:02\nSubject: Un mur fissuré\n"
            "To: Aideur <aideur@club.test>\n\nBonjour, un mur porteur est fissuré chez un client, "
            "je cherche un bureau d'études.\nBruno\n")
    smtp_send(clean_mail, make_mail(AIDEUR, "Fwd: Un mur fissuré", body, to=command_address(note)))
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(settings, sessions, at=THURSDAY)
    confirm_command(clean_mail, settings, sessions, THURSDAY)
    [ack] = settle(clean_mail, BRUNO, 1)
    assert "CA-2026-0002" in ack.subject and "mur porteur est fissuré" in " ".join(ack.text.split())


def test_ouvrir_for_someone_who_is_not_a_member_is_refused(clean_mail, settings, sessions):
    note = open_ticket(clean_mail, settings, sessions)
    smtp_send(clean_mail, make_mail(AIDEUR, "Nouvelle demande", "#ouvrir jean@ailleurs.test\nIl cherche un "
                                    "comptable.", to=command_address(note)))
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(settings, sessions, at=THURSDAY)
    [error] = [n for n in settle(clean_mail, AIDEUR, 2) if "non exécutée" in n.subject]
    assert "Aucun membre" in error.text and "jean@ailleurs.test" in error.text and "#ouvrir adresse" in error.text
    assert confirmation_requests(clean_mail) == [] and len(tickets(sessions)) == 1


def test_ouvrir_to_the_plain_club_address_does_nothing(clean_mail, settings, sessions):
    open_ticket(clean_mail, settings, sessions)
    smtp_send(clean_mail, make_mail(AIDEUR, "Appel de Bruno", "#ouvrir bruno@membres.test\nUne fuite."))
    wait_mail(clean_mail, CLUB, 1)
    assert dict(run_cycle(settings, sessions, at=THURSDAY).actions) == {"aideur-unrouted": 1}
    assert len(tickets(sessions)) == 1 and mailbox(clean_mail, BRUNO) == []


def test_cli_tickets_open(clean_mail, env, settings, sessions):
    add_members(sessions)
    done = mailbot(env, "tickets", "open", BRUNO, "--subject", "Fuite sur un chantier", "--text",
                   "Appel de Bruno : il cherche un plombier pour une fuite.", "--at", "2026-11-26T11:00")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "CA-2026-0001"
    run_cycle(settings, sessions, at=THURSDAY)  # the daemon sends what waits in the outbox
    [ack] = settle(clean_mail, BRUNO, 1)
    assert ack.subject == "[CA-2026-0001] Demande bien reçue : Fuite sur un chantier"
    assert "lundi 30 novembre 2026" in ack.text
    assert any("Nouvelle demande (Bruno Petit)" in n.subject for n in settle(clean_mail, AIDEUR, 1))
    refused = mailbot(env, "tickets", "open", "jean@ailleurs.test", "--subject", "x", "--text", "y")
    assert refused.returncode == 1 and "jean@ailleurs.test" in refused.stderr
