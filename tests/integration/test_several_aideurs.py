"""Issue 13, points 3 and 5: two Aideur addresses deciding on one ticket, and notices that say what really happened.

End to end over the loopback servers, with two Aideur mailboxes: every mailbox (the member's, each Aideur's) is
checked for what it must and must not hold.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from mailbot.addresses import add_alias
from mailbot.config import load_settings
from mailbot.models import Event, Member, OutboxMail, Ticket
from tests.conftest import make_env
from tests.helpers import (
    AIDEUR,
    ALICE,
    CLUB,
    PASSWORD,
    add_members,
    mailbox,
    make_mail,
    run_cycle,
    settle,
    smtp_send,
    wait_mail,
)
from tests.integration.aideur_clients import confirm_command, confirmation_requests, reply_to_notification

pytestmark = [pytest.mark.servers, pytest.mark.sqlite_only]

AIDEUR_B = "aideur.b@club.test"  # the second coordinator's own address
THURSDAY = datetime(2026, 11, 26, 10, 0)  # 11:00 in Paris
LATER = THURSDAY + timedelta(minutes=5)
TOLD = "Votre collègue"
HELD_BACK = "Non exécuté"
OTHER_ADDRESS = "alice.martin@autre.test"  # Alice's second address (issue 13, point 2)


@pytest.fixture
def two(clean_mail, database_url, sessions_for):  # type: ignore[no-untyped-def]
    """Settings with two Aideur addresses, each a real mailbox, and their sessions."""
    clean_mail.add_user(AIDEUR_B, PASSWORD)
    settings = load_settings(make_env(clean_mail, database_url, MAILBOT_AIDEUR_ADDRESSES=f"{AIDEUR},{AIDEUR_B}"),
                             env_file=None)
    return settings, sessions_for(database_url)


def open_ticket(server, settings, sessions):  # type: ignore[no-untyped-def]
    """Alice asks; returns the new-request notice each Aideur address got."""
    add_members(sessions)
    smtp_send(server, make_mail(ALICE, "Litige salarié", "Je cherche un avocat en droit du travail."))
    wait_mail(server, CLUB, 1)
    run_cycle(settings, sessions, at=THURSDAY)
    wait_mail(server, ALICE, 1)
    [note_a] = wait_mail(server, AIDEUR, 1)
    [note_b] = wait_mail(server, AIDEUR_B, 1)
    return note_a, note_b


def both_reply(server, settings, sessions, first, second, at=LATER):  # type: ignore[no-untyped-def]
    """Two replies reach the club before one cycle: `first` then `second` (arrival order)."""
    for count, mail in enumerate((first, second), start=1):
        smtp_send(server, mail)
        wait_mail(server, CLUB, count)  # Postfix delivers in any order what it gets in the same instant
    return run_cycle(settings, sessions, at=at)


def flat(mail) -> str:  # type: ignore[no-untyped-def]
    """The text as words: templates wrap their lines anywhere."""
    return " ".join(mail.text.split())


def status(sessions) -> str:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return session.scalars(select(Ticket.status)).one()


def test_opposite_decisions_in_one_cycle_first_applies_both_aideurs_told(clean_mail, two):  # type: ignore[no-untyped-def]
    settings, sessions = two
    note_a, note_b = open_ticket(clean_mail, settings, sessions)
    both_reply(clean_mail, settings, sessions,
               reply_to_notification(note_a, "#accepter 15/12", "thunderbird"),
               reply_to_notification(note_b, "#refuser hors du champ du Club", "gmail", sender=AIDEUR_B,
                                     name="Béatrice"))
    # The member: her acknowledgement and the acceptance, never the refusal.
    alice = settle(clean_mail, ALICE, 2)
    assert len(alice) == 2
    assert any("prend en charge" in m.subject for m in alice)
    assert not any("désolé" in flat(m).lower() or "hors du champ" in flat(m) for m in alice)
    assert status(sessions) == "accepted"
    # B: his command was not carried out, who decided what and when, how to insist.
    b_mails = settle(clean_mail, AIDEUR_B, 2)
    assert len(b_mails) == 2
    [held] = [m for m in b_mails if HELD_BACK in m.subject]
    assert "#refuser hors du champ du Club" in flat(held) and "#accepter 15/12" in flat(held)
    assert AIDEUR in flat(held) and "26 novembre 2026 à 11 h 05" in flat(held)
    assert "rien n'a été envoyé au membre" in flat(held) and "répondez à ce mail" in flat(held)
    assert not any(TOLD in m.subject for m in b_mails)
    # A: told that the colleague tried, and that it was refused.
    a_mails = settle(clean_mail, AIDEUR, 2)
    assert len(a_mails) == 2
    [told] = [m for m in a_mails if TOLD in m.subject]
    assert AIDEUR_B in flat(told) and "#refuser hors du champ du Club" in flat(told) and "refusé" in flat(told)
    assert not any(HELD_BACK in m.subject for m in a_mails)
    with sessions() as session:
        assert session.scalar(select(func.count(Event.id)).where(Event.kind == "decision-conflict")) == 1
        assert session.scalar(select(func.count(Event.id)).where(Event.kind == "command:refuser")) == 0

    # B insists by answering the refusal: now he has seen the decision, his command is carried out.
    smtp_send(clean_mail, reply_to_notification(held, "#refuser hors du champ du Club", "gmail", sender=AIDEUR_B))
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(settings, sessions, at=LATER + timedelta(minutes=30))
    alice = settle(clean_mail, ALICE, 3)
    assert len(alice) == 3 and any("hors du champ du Club" in flat(m) for m in alice)
    assert status(sessions) == "declined"
    assert len(settle(clean_mail, AIDEUR_B, 2)) == 2  # no second "non exécuté"


def test_free_text_from_b_after_a_refused_is_held_back(clean_mail, two):  # type: ignore[no-untyped-def]
    """A refuses; later B answers the old notice with a friendly promise: the member must not read it after the
    refusal without anyone knowing. Held back, B told why, A told of it."""
    settings, sessions = two
    note_a, note_b = open_ticket(clean_mail, settings, sessions)
    smtp_send(clean_mail, reply_to_notification(note_a, "#refuser hors du champ du Club", "thunderbird"))
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(settings, sessions, at=LATER)
    settle(clean_mail, ALICE, 2)
    smtp_send(clean_mail, reply_to_notification(note_b, "Je m'en occupe, je vous rappelle demain.", "gmail",
                                                sender=AIDEUR_B))
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(settings, sessions, at=LATER + timedelta(hours=1))
    alice = settle(clean_mail, ALICE, 2)
    assert len(alice) == 2 and not any("rappelle demain" in flat(m) for m in alice)
    [held] = [m for m in settle(clean_mail, AIDEUR_B, 2) if HELD_BACK in m.subject]
    assert "(votre message à transmettre)" in flat(held) and "#refuser" in flat(held)
    [told] = [m for m in settle(clean_mail, AIDEUR, 2) if TOLD in m.subject]
    assert AIDEUR_B in flat(told)
    assert status(sessions) == "declined"


def test_a_decision_b_has_seen_is_no_conflict(clean_mail, two):  # type: ignore[no-untyped-def]
    """A accepts; Alice writes again, both addresses get her message; B answers that one with a solution: he saw
    the ticket as it stands, his command is carried out, nobody gets a conflict notice."""
    settings, sessions = two
    note_a, _ = open_ticket(clean_mail, settings, sessions)
    smtp_send(clean_mail, reply_to_notification(note_a, "#accepter 15/12", "thunderbird"))
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(settings, sessions, at=LATER)
    [_ack, accepted] = settle(clean_mail, ALICE, 2)
    smtp_send(clean_mail, reply_to_notification(accepted, "Merci, j'ai un rendez-vous mardi.", "gmail",
                                                sender=ALICE, name="Alice"))
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(settings, sessions, at=LATER + timedelta(hours=1))
    suivi = [m for m in wait_mail(clean_mail, AIDEUR_B, 2) if "Nouveau message" in m.subject]
    assert suivi and "État de la demande : acceptée" in flat(suivi[0]) and AIDEUR in flat(suivi[0])
    smtp_send(clean_mail, reply_to_notification(suivi[0], "#solution Maître Durand, avocate, vous recevra.",
                                                "gmail", sender=AIDEUR_B))
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(settings, sessions, at=LATER + timedelta(hours=2))
    alice = settle(clean_mail, ALICE, 3)  # acknowledgement, acceptance, the solution
    assert any("Maître Durand" in flat(m) for m in alice)
    for address in (AIDEUR, AIDEUR_B):
        assert not any(HELD_BACK in m.subject or TOLD in m.subject for m in mailbox(clean_mail, address))


def test_same_address_twice_stays_as_before(clean_mail, two):  # type: ignore[no-untyped-def]
    """Two #accepter from the same address: the second is refused by the ticket's state, as before; no conflict
    notice to anyone, the member gets one acceptance."""
    settings, sessions = two
    note_a, _ = open_ticket(clean_mail, settings, sessions)
    both_reply(clean_mail, settings, sessions, reply_to_notification(note_a, "#accepter 15/12", "thunderbird"),
               reply_to_notification(note_a, "#accepter 15/12", "outlook"))
    alice = settle(clean_mail, ALICE, 2)
    assert len(alice) == 2
    a_mails = settle(clean_mail, AIDEUR, 2)
    assert any("déjà acceptée" in flat(m) for m in a_mails)
    for address in (AIDEUR, AIDEUR_B):
        assert not any(HELD_BACK in m.subject or TOLD in m.subject for m in mailbox(clean_mail, address))
    assert len(mailbox(clean_mail, AIDEUR_B)) == 1


def test_held_acknowledgement_is_reported_as_held_and_sent_later(clean_mail, database_url, sessions_for):  # type: ignore[no-untyped-def]
    """Three requests from Alice in one cycle with a limit of two automatic mails an hour: the third
    acknowledgement is held, Aideur's notice says so (with when it leaves), and it reaches Alice, reference
    included, once the hour has passed."""
    settings = load_settings(make_env(clean_mail, database_url, MAILBOT_RATE_LIMIT_PER_HOUR="2"), env_file=None)
    sessions = sessions_for(database_url)
    add_members(sessions)
    for number in range(3):
        smtp_send(clean_mail, make_mail(ALICE, f"Question {number}", f"Question numéro {number} sur la TVA."))
    wait_mail(clean_mail, CLUB, 3)
    run_cycle(settings, sessions, at=THURSDAY)
    notes = settle(clean_mail, AIDEUR, 3)
    assert len(notes) == 3
    with sessions() as session:
        held_ref = session.scalars(select(Ticket.ref).order_by(Ticket.id)).all()[-1]
        assert session.scalar(select(func.count(OutboxMail.id)).where(OutboxMail.recipient == ALICE)) == 3
    [held_note] = [n for n in notes if held_ref in n.subject]
    assert "RETENU" in flat(held_note) and "26 novembre 2026 à 12 h 00" in flat(held_note)
    assert "part au membre" not in flat(held_note) and "a reçu un accusé" not in flat(held_note)
    for note in notes:
        if note is not held_note:
            assert "part au membre" in flat(note) and "RETENU" not in note.text
    alice = settle(clean_mail, ALICE, 2)
    assert len(alice) == 2 and not any(held_ref in m.subject for m in alice)
    # An hour later the held acknowledgement leaves, with its reference.
    run_cycle(settings, sessions, at=THURSDAY + timedelta(hours=1, minutes=1))
    alice = settle(clean_mail, ALICE, 3)
    assert len(alice) == 3
    assert any(held_ref in m.subject and held_ref in flat(m) for m in alice)
    assert len(mailbox(clean_mail, AIDEUR)) == 3


def test_a_held_acknowledgement_is_reported_as_held_whichever_address_the_member_wrote_from(  # type: ignore[no-untyped-def]
        clean_mail, database_url, sessions_for):
    """The acknowledgement goes to the member's main address; Aideur's notice about it must count the same person
    whichever of her addresses she wrote from: two requests from her main address, the third from her other one,
    with a limit of two: the third acknowledgement is held, and its notice says so (it said "part au membre")."""
    settings = load_settings(make_env(clean_mail, database_url, MAILBOT_RATE_LIMIT_PER_HOUR="2"), env_file=None)
    sessions = sessions_for(database_url)
    add_members(sessions)
    with sessions.begin() as session:
        alice = session.scalar(select(Member).where(Member.email == ALICE))
        add_alias(session, alice, OTHER_ADDRESS)
    for number, sender in enumerate((ALICE, ALICE, f"Alice Martin <{OTHER_ADDRESS}>")):
        smtp_send(clean_mail, make_mail(sender, f"Question {number}", f"Question numéro {number} sur la TVA."))
    wait_mail(clean_mail, CLUB, 3)
    run_cycle(settings, sessions, at=THURSDAY)
    notes = settle(clean_mail, AIDEUR, 3)
    with sessions() as session:
        held_ref = session.scalars(select(Ticket.ref).order_by(Ticket.id)).all()[-1]
        assert session.scalar(select(func.count(OutboxMail.id)).where(OutboxMail.recipient == ALICE)) == 3
    [held_note] = [n for n in notes if held_ref in n.subject]
    assert "RETENU" in flat(held_note) and "26 novembre 2026 à 12 h 00" in flat(held_note)
    assert "part au membre" not in flat(held_note)
    assert len(settle(clean_mail, ALICE, 2)) == 2


def test_command_confirmed_after_a_colleague_decided_is_held_back_and_not_reported_done(  # type: ignore[no-untyped-def]
        clean_mail, two):
    """B sends "#refuser" through the command address (it waits for a OUI); meanwhile A accepts by replying to the
    notice; B's OUI then comes on a state B had not seen: held back, both told, the member gets the acceptance only;
    A's late OUI on the same command is told it was refused, not that it was "déjà exécutée"."""
    settings, sessions = two
    note_a, note_b = open_ticket(clean_mail, settings, sessions)
    command_address = next(line.strip() for line in note_b.text.splitlines() if line.strip().startswith("aide+c"))
    smtp_send(clean_mail, make_mail(f"Béatrice <{AIDEUR_B}>", "CA-2026-0001", "#refuser hors du champ du Club",
                                    to=command_address))
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(settings, sessions, at=LATER)
    [request_b] = confirmation_requests(clean_mail, AIDEUR_B)
    [request_a] = confirmation_requests(clean_mail, AIDEUR)
    smtp_send(clean_mail, reply_to_notification(note_a, "#accepter 15/12", "thunderbird"))
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(settings, sessions, at=LATER + timedelta(minutes=5))
    confirm_command(clean_mail, settings, sessions, LATER + timedelta(minutes=10), request=request_b,
                    sender=AIDEUR_B, client="gmail")
    alice = settle(clean_mail, ALICE, 2)
    assert len(alice) == 2 and not any("hors du champ" in flat(m) for m in alice)
    assert status(sessions) == "accepted"
    [held] = [m for m in settle(clean_mail, AIDEUR_B, 3) if HELD_BACK in m.subject]
    assert "#refuser hors du champ du Club" in flat(held) and "#accepter 15/12" in flat(held)
    assert [m for m in settle(clean_mail, AIDEUR, 3) if TOLD in m.subject]
    confirm_command(clean_mail, settings, sessions, LATER + timedelta(minutes=15), request=request_a)
    [late] = [m for m in settle(clean_mail, AIDEUR, 4) if "déjà" in m.subject]
    assert "refusée" in late.subject and "déjà exécutée" not in late.subject
    assert len(settle(clean_mail, ALICE, 2)) == 2


# Attack (point 3): other commands racing, other clients. A closes quietly from Outlook while B, in the same
# cycle, sends the solution from Gmail: the member must read nothing (neither the solution nor a closing mail),
# B is told his #solution was not carried out, A is told of the attempt.
def test_a_quiet_close_racing_a_solution_first_applies_member_reads_nothing(clean_mail, two):  # type: ignore[no-untyped-def]
    settings, sessions = two
    note_a, note_b = open_ticket(clean_mail, settings, sessions)
    both_reply(clean_mail, settings, sessions,
               reply_to_notification(note_a, "#clore silencieusement", "outlook"),
               reply_to_notification(note_b, "#solution Maître Durand, avocate, 01 23 45 67 89", "gmail",
                                     sender=AIDEUR_B, name="Béatrice"))
    assert len(settle(clean_mail, ALICE, 1)) == 1  # her acknowledgement only
    assert status(sessions) == "closed"
    [held] = [m for m in settle(clean_mail, AIDEUR_B, 2) if HELD_BACK in m.subject]
    assert "#solution" in flat(held) and "#clore silencieusement" in flat(held) and AIDEUR in flat(held)
    a_mails = settle(clean_mail, AIDEUR, 3)
    assert any(TOLD in m.subject and AIDEUR_B in flat(m) for m in a_mails)
    with sessions() as session:
        assert session.scalar(select(func.count(Event.id)).where(Event.kind == "command:solution")) == 0
        assert session.scalar(select(func.count(OutboxMail.id)).where(OutboxMail.recipient == ALICE)) == 1


def test_held_acknowledgements_of_two_members_at_once_are_each_reported_and_sent(  # type: ignore[no-untyped-def]
        clean_mail, database_url, sessions_for):
    """Attack (point 5): Alice and Bruno over the limit in the same cycle, their mails interleaved: each one's
    third acknowledgement is held (and only that one), each notice says which, and both leave an hour later."""
    from tests.helpers import BRUNO

    settings = load_settings(make_env(clean_mail, database_url, MAILBOT_RATE_LIMIT_PER_HOUR="2"), env_file=None)
    sessions = sessions_for(database_url)
    add_members(sessions)
    for number in range(3):
        for who in (ALICE, BRUNO):
            smtp_send(clean_mail, make_mail(who, f"Question {number} de {who[:5]}", f"Question {number} sur la TVA."))
    wait_mail(clean_mail, CLUB, 6)
    run_cycle(settings, sessions, at=THURSDAY)
    notes = settle(clean_mail, AIDEUR, 6)
    assert len(notes) == 6
    held = [n for n in notes if "RETENU" in flat(n)]
    assert len(held) == 2 and all("26 novembre 2026 à 12 h 00" in flat(n) for n in held)
    with sessions() as session:
        refs = {t.member.email: t.ref for t in session.scalars(select(Ticket).order_by(Ticket.id))}
    assert {ALICE, BRUNO} == {next(email for email in (ALICE, BRUNO) if email in flat(n)) for n in held}
    assert len(settle(clean_mail, ALICE, 2)) == 2 and len(settle(clean_mail, BRUNO, 2)) == 2
    run_cycle(settings, sessions, at=THURSDAY + timedelta(hours=1, minutes=1))
    assert len(settle(clean_mail, ALICE, 3)) == 3 and len(settle(clean_mail, BRUNO, 3)) == 3
    assert refs[ALICE] in " ".join(m.subject for m in mailbox(clean_mail, ALICE))
    assert len(mailbox(clean_mail, AIDEUR)) == 6
