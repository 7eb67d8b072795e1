"""Bookable activities (issue 17, point 1), end to end over the real servers: Aideur announces one through his
command address, members book by replying, the waiting list is offered a freed seat, the reminder goes once, and
never more bookings than places."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest
from sqlalchemy import select

from mailbot.members import upsert_member
from mailbot.models import Activity, Booking, Member
from mailbot.tokens import ROLE_AIDEUR, SCOPE_COMMAND, Token, TokenSigner
from tests.helpers import (
    AIDEUR,
    ALICE,
    BRUNO,
    CHLOE,
    CLUB,
    STRANGER,
    add_members,
    mailbox,
    make_mail,
    run_cycle,
    settle,
    smtp_send,
    wait_mail,
)
from tests.integration.aideur_clients import confirm_command, reply_to_notification

DENISE = STRANGER  # a fourth member (the test servers have four mailboxes besides the club's)
T0 = datetime(2026, 12, 1, 9, 0)  # a Tuesday
BLOCK = """#activite
type: formation
titre: La facture électronique en 2027
date: 15/01/2027 14:00
durée: 2 h
lieu: Salle du Club, Lyon
places: 2
participation: 20 €
inscriptions jusqu'au: 12/01/2027
Ce qui change pour les petites entreprises.

Aideur"""


def words(message) -> str:  # type: ignore[no-untyped-def]
    return " ".join(message.text.replace("\u00a0", " ").replace("\u202f", " ").split())


def command_address(settings) -> str:  # type: ignore[no-untyped-def]
    return TokenSigner(settings.secret_keys).plus_address(CLUB, Token(SCOPE_COMMAND, 0, ROLE_AIDEUR))


def announce(server, settings, sessions, body: str = BLOCK, at: datetime = T0):  # type: ignore[no-untyped-def]
    """Aideur's #activite through his command address, confirmed by OUI; returns his "annoncée" mail."""
    smtp_send(server, make_mail(AIDEUR, "Nouvelle formation", body, to=command_address(settings)))
    wait_mail(server, CLUB, 1)
    run_cycle(settings, sessions, at=at)
    wait_mail(server, AIDEUR, 1)
    confirm_command(server, settings, sessions, at)
    deadline = time.monotonic() + 15
    while True:  # his confirmation, the announcement's notice: whichever mails came with it
        found = [m for m in wait_mail(server, AIDEUR, 2) if "Activité annoncée" in m.subject]
        if found or time.monotonic() > deadline:
            return found[0]
        time.sleep(0.1)


def answer(server, note, sender: str, text: str):  # type: ignore[no-untyped-def]
    smtp_send(server, reply_to_notification(note, text, "thunderbird", sender=sender, name="Membre"))


def two_daemons(settings, sessions, at: datetime) -> None:  # type: ignore[no-untyped-def]
    """Two daemons' cycles at once (each its own IMAP session and database connections)."""
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda _: run_cycle(settings, sessions, at=at), range(2)))


def club(sessions, *, fourth: bool = True) -> None:  # type: ignore[no-untyped-def]
    add_members(sessions)
    if fourth:
        with sessions.begin() as session:
            upsert_member(session, DENISE, first_name="Denise", last_name="Leroy")


def statuses(sessions) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return {email: status for email, status in session.execute(
            select(Member.email, Booking.status).join(Member, Member.id == Booking.member_id))}


def test_two_places_four_members_waiting_list_offer_and_one_reminder(clean_mail, settings, sessions):
    club(sessions)
    created = announce(clean_mail, settings, sessions)
    text = words(created)
    assert "AC-2026-001" in created.subject and "annoncée à 4 membres" in text
    notes = {who: wait_mail(clean_mail, who, 1)[0] for who in (ALICE, BRUNO, CHLOE, DENISE)}
    assert "je m'inscris" in words(notes[ALICE]) and "AC-2026-001" in notes[ALICE].subject
    assert len({n.reply_to[0] for n in notes.values()}) == 4  # each their own reply address
    # Four answers in the same cycle, two places: two booked, two waiting in order of arrival.
    for who, text in ((ALICE, "Je m'inscris"), (BRUNO, "Inscrivez-moi svp"), (CHLOE, "ok pour moi"),
                      (DENISE, "Présent !")):
        answer(clean_mail, notes[who], who, text)
    wait_mail(clean_mail, CLUB, 4)
    two_daemons(settings, sessions, T0)  # a second daemon runs at the same time, on the same mailbox and database
    assert sorted(statuses(sessions).values()) == ["booked", "booked", "waiting", "waiting"]
    replies = {who: wait_mail(clean_mail, who, 2)[1] for who in (ALICE, BRUNO, CHLOE, DENISE)}
    booked = [who for who, m in replies.items() if "Inscription confirmée" in m.subject]
    waiting = [who for who, m in replies.items() if "Liste d'attente" in m.subject]
    assert len(booked) == 2 and len(waiting) == 2
    confirmation = replies[booked[0]]
    assert [a.filename for a in confirmation.attachments] == ["AC-2026-001.ics"]
    ics = confirmation.attachments[0].payload.decode()
    assert "METHOD:PUBLISH" in ics and "DTSTART:20270115T130000Z" in ics
    text = words(confirmation)
    assert "vendredi 15 janvier 2027 à 14 h 00" in text and "20 €" in text and "annuler" in text
    positions = sorted(words(replies[who]).split("position ")[1][:1] for who in waiting)
    assert positions == ["1", "2"]
    # One booked member cancels: the first waiting gets the offer (not everyone), takes it; places stay 2.
    first_waiting = next(who for who in waiting if "position 1" in words(replies[who]))
    second_waiting = next(who for who in waiting if who != first_waiting)
    answer(clean_mail, replies[booked[0]], booked[0], "Annuler")
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(settings, sessions, at=datetime(2026, 12, 2, 9, 0))
    offer = wait_mail(clean_mail, first_waiting, 3)[2]
    assert "Une place pour vous" in offer.subject and "avant le" in words(offer)
    assert len(settle(clean_mail, second_waiting, 2)) == 2  # the second one is not offered anything
    answer(clean_mail, offer, first_waiting, "Je prends la place")
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(settings, sessions, at=datetime(2026, 12, 2, 10, 0))
    assert "Inscription confirmée" in wait_mail(clean_mail, first_waiting, 4)[3].subject
    final = statuses(sessions)
    assert list(final.values()).count("booked") == 2 and final[booked[0]] == "cancelled"
    # The reminder: the working day before (Thursday 14 January), once, across restarts (each cycle is a new
    # daemon).
    for _ in range(2):
        two_daemons(settings, sessions, datetime(2027, 1, 14, 9, 0))
    for who in (booked[1], first_waiting):
        reminders = [m for m in settle(clean_mail, who, 5 if who == first_waiting else 3)
                     if m.subject.startswith("Rappel")]
        assert len(reminders) == 1 and reminders[0].attachments
    # After the activity: Aideur gets the participants (CSV), participants a short "comment s'est passée".
    run_cycle(settings, sessions, at=datetime(2027, 1, 15, 17, 0))
    listing = [m for m in wait_mail(clean_mail, AIDEUR, 4) if m.subject.startswith("Participants")]
    assert listing and listing[0].attachments[0].filename == "participants-AC-2026-001.csv"
    csv_text = listing[0].attachments[0].payload.decode("utf-8-sig")
    assert booked[1] in csv_text and first_waiting in csv_text and booked[0] not in csv_text
    # Issue 17, point 5: Aideur sees each participant's image-rights choice (none given here).
    assert csv_text.splitlines()[0].endswith(";droit_image") and "non précisé" in csv_text
    assert "droit à l'image : non précisé" in " ".join(listing[0].text.split())  # wrapped lines, no-break spaces
    assert any("Comment s'est passée" in m.subject for m in wait_mail(clean_mail, first_waiting, 6))


@pytest.mark.sqlite_only
def test_a_forged_from_never_books_for_someone_else_and_unclear_answers_are_asked_again(clean_mail, settings,
                                                                                       sessions):
    club(sessions)
    announce(clean_mail, settings, sessions)
    note = wait_mail(clean_mail, ALICE, 1)[0]
    before = len(mailbox(clean_mail, AIDEUR))
    answer(clean_mail, note, BRUNO, "Je m'inscris")  # Bruno through Alice's address
    answer(clean_mail, note, ALICE, "Oui, mais seulement si je finis à temps")
    wait_mail(clean_mail, CLUB, 2)
    run_cycle(settings, sessions, at=T0)
    assert "booked" not in statuses(sessions).values()
    asked = settle(clean_mail, ALICE, 2)[1]
    assert "Nous n'avons pas compris" in words(asked) and "« je m'inscris »" in words(asked)
    # Her words are not lost: Aideur reads them (Bruno's mail is his own new request).
    question = [m for m in wait_mail(clean_mail, AIDEUR, before + 2) if m.subject.startswith("Question d'un membre")]
    assert question and "seulement si je finis à temps" in words(question[0])


@pytest.mark.sqlite_only
def test_members_list_aideur_overview_places_and_cancellation(clean_mail, settings, sessions):
    club(sessions, fourth=False)
    announce(clean_mail, settings, sessions)
    smtp_send(clean_mail, make_mail(CHLOE, "Activités", "Bonjour, quelles activités ?"))
    smtp_send(clean_mail, make_mail(STRANGER, "formations", "Bonjour"))
    wait_mail(clean_mail, CLUB, 2)
    run_cycle(settings, sessions, at=T0)
    listing = wait_mail(clean_mail, CHLOE, 2)[1]
    assert "La facture électronique en 2027" in words(listing) and "aide+e" in listing.text
    assert "réservées à ses membres" in words(wait_mail(clean_mail, STRANGER, 1)[0])
    # Chloé books through the list's own address (one activity: the reply itself).
    answer(clean_mail, listing, CHLOE, "je m'inscris")
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(settings, sessions, at=T0)
    assert statuses(sessions)[CHLOE] == "booked"
    # #activites is quiet: answered at once.
    before = len(mailbox(clean_mail, AIDEUR))
    smtp_send(clean_mail, make_mail(AIDEUR, "#activites", "#activites", to=command_address(settings)))
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(settings, sessions, at=T0)
    overview = next(m for m in wait_mail(clean_mail, AIDEUR, before + 1) if m.subject.startswith("Activités à"))
    assert "AC-2026-001" in words(overview) and "inscrits : 1, places libres : 1 sur 2" in words(overview)
    # The participant list on demand: to Aideur only, at once, with the CSV.
    smtp_send(clean_mail, make_mail(AIDEUR, "Inscrits", "#activite participants AC-2026-001",
                                    to=command_address(settings)))
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(settings, sessions, at=T0)
    listing = next(m for m in wait_mail(clean_mail, AIDEUR, before + 2) if m.subject.startswith("Participants"))
    assert "Chloé Durand" in words(listing)
    assert CHLOE in listing.attachments[0].payload.decode("utf-8-sig")
    # #activite annuler tells everyone booked.
    smtp_send(clean_mail, make_mail(AIDEUR, "Annulation", "#activite annuler AC-2026-001 intervenant malade",
                                    to=command_address(settings)))
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(settings, sessions, at=T0)
    confirm_command(clean_mail, settings, sessions, T0)
    cancelled = wait_mail(clean_mail, CHLOE, 4)[3]
    assert "Activité annulée" in cancelled.subject and "intervenant malade" in words(cancelled)
    with sessions() as session:
        assert session.scalar(select(Activity.status)) == "cancelled"
