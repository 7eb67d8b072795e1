"""Issue 12, point 1: every member mail lands somewhere useful, over the real servers.

A member's mail that is not a recognised answer to the club mail it replies to (form lines, a membership request,
OUI/NON to a question still open) is a request for help: a ticket and its acknowledgement, whatever club mail it
replies to (the welcome mail, the profile, an old invitation, a confirmation already settled). A forged From: may
open a ticket for the member, as a fresh mail can, but never changes their data."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from mailbot.models import Event, Member, PendingChange, Ticket
from tests.helpers import AIDEUR, ALICE, STRANGER, add_members, mailbox, make_mail, run_cycle, settle, smtp_send
from tests.integration.aideur_clients import reply_to_notification
from tests.integration.test_membership import HELENE, deliver, latest, register, reply
from tests.integration.test_registration import NOW, member

# Wording and routing: the queries are the ones every other test runs on both databases (tests/conftest.py).
pytestmark = pytest.mark.sqlite_only

REQUEST = ("Bonjour,\n\nJe dois recruter un traducteur allemand pour un gros chantier en janvier. "
           "Connaissez-vous quelqu'un de fiable dans le réseau ?\n\nMerci d'avance")


def tickets(sessions) -> list[Ticket]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return list(session.scalars(select(Ticket).order_by(Ticket.id)))


def assert_acknowledged(server, sessions, count: int) -> Ticket:  # type: ignore[no-untyped-def]
    """One ticket, titled by what she wrote (not by the club mail's subject), acknowledged to her; Aideur told
    of a new request, never "replied to a mail about her profile"."""
    [ticket] = tickets(sessions)
    assert ticket.subject.startswith("Je dois recruter un traducteur"), ticket.subject
    assert "traducteur allemand" in ticket.summary
    ack = latest(server, count)
    assert ack.subject.startswith(f"[{ticket.ref}] Demande bien reçue"), ack.subject
    notes = mailbox(server, AIDEUR)
    assert any(f"[{ticket.ref}] Nouvelle demande" in note.subject for note in notes)
    assert not any("sur son profil" in note.text for note in notes)
    return ticket


def test_a_request_in_reply_to_the_welcome_mail_becomes_a_ticket(clean_mail, settings, sessions):
    welcome = register(clean_mail, settings, sessions)
    report = reply(clean_mail, settings, sessions, welcome, REQUEST, "outlook")
    assert dict(report.actions) == {"new-request": 1}
    assert_acknowledged(clean_mail, sessions, 2)
    assert member(sessions).phone == "06 55 44 33 22"  # the quoted profile changed nothing


def test_a_request_in_reply_to_the_profile_mail_becomes_a_ticket(clean_mail, settings, sessions):
    register(clean_mail, settings, sessions)
    deliver(clean_mail, settings, sessions, make_mail(STRANGER, "Modifier mon profil", "Bonjour"))
    profile = latest(clean_mail, 2)
    assert profile.subject == "Votre profil au Club Aide"
    report = reply(clean_mail, settings, sessions, profile, REQUEST, "gmail")
    assert dict(report.actions) == {"new-request": 1}
    assert_acknowledged(clean_mail, sessions, 3)


def test_a_request_in_reply_to_the_old_invitation_becomes_a_ticket(clean_mail, settings, sessions):
    """She registered, then answers the invitation she had kept (its reply address is bound to her address)."""
    smtp_send(clean_mail, make_mail(STRANGER, "Bonjour", "Comment vous rejoindre ?"))
    run_cycle(settings, sessions, at=NOW)
    [invitation] = settle(clean_mail, STRANGER, 1)
    with sessions.begin() as session:
        session.add(Member(email=STRANGER, first_name="Hélène", last_name="Lefèvre", status="active",
                           visibility="confidentielle"))
    report = deliver(clean_mail, settings, sessions, reply_to_notification(invitation, REQUEST, "thunderbird",
                                                                            sender=STRANGER, name=HELENE))
    assert dict(report.actions) == {"new-request": 1}
    assert_acknowledged(clean_mail, sessions, 2)


def test_a_request_in_reply_to_a_settled_confirmation_becomes_a_ticket(clean_mail, settings, sessions):
    """"Résilier", then NON: the "nothing changed" mail is answered later with a real request."""
    register(clean_mail, settings, sessions)
    deliver(clean_mail, settings, sessions, make_mail(STRANGER, "Résiliation", ""))
    reply(clean_mail, settings, sessions, latest(clean_mail, 2), "Non, finalement je reste.", "gmail")
    settled = latest(clean_mail, 3)
    assert "rien n'a changé" in settled.subject
    report = reply(clean_mail, settings, sessions, settled, REQUEST, "thunderbird")
    assert dict(report.actions) == {"new-request": 1}
    assert_acknowledged(clean_mail, sessions, 4)
    assert member(sessions).status == "active"


def test_profile_answers_stay_profile_answers(clean_mail, settings, sessions):
    """The other side of the line: form lines (with a few words around them) and "résilier" are answers."""
    welcome = register(clean_mail, settings, sessions)
    report = reply(clean_mail, settings, sessions, welcome, "Bonjour,\nvoici mon nouveau numéro :\n"
                   "Téléphone : 07 11 22 33 44\nMerci !", "gmail")
    assert dict(report.actions) == {"profile": 1}
    assert member(sessions).phone == "07 11 22 33 44"
    report = reply(clean_mail, settings, sessions, welcome, "Je souhaite résilier mon adhésion.", "outlook")
    assert dict(report.actions) == {"profile": 1}
    assert "merci de confirmer" in latest(clean_mail, 3).subject
    assert tickets(sessions) == []


def test_a_thank_you_to_the_welcome_mail_opens_nothing_and_sends_nothing(clean_mail, settings, sessions):
    welcome = register(clean_mail, settings, sessions)
    aideur_before = len(mailbox(clean_mail, AIDEUR))
    reply(clean_mail, settings, sessions, welcome, "Merci beaucoup !\nHélène", "gmail")
    assert tickets(sessions) == []
    assert len(settle(clean_mail, STRANGER, 1)) == 1
    assert len(mailbox(clean_mail, AIDEUR)) == aideur_before
    with sessions() as session:
        assert session.scalar(select(Event.kind).where(Event.kind == "member-thanks")) == "member-thanks"


def test_a_forged_from_citing_her_profile_mail_opens_a_ticket_but_changes_nothing(clean_mail, settings,
                                                                                    sessions):
    """Someone who saw the Message-ID of Alice's profile mail writes with her From: to the plain address: a request
    is acknowledged to Alice's own address (as a fresh mail in her name would be); form lines change nothing."""
    add_members(sessions)
    smtp_send(clean_mail, make_mail(ALICE, "modifier", ""))
    run_cycle(settings, sessions, at=NOW)
    [profile] = settle(clean_mail, ALICE, 1)
    cited = profile.headers["message-id"][0]
    report = deliver(clean_mail, settings, sessions, make_mail(ALICE, "Re: " + profile.subject, REQUEST,
                                                               In_Reply_To=cited, References=cited))
    assert dict(report.actions) == {"new-request": 1}
    [ticket] = tickets(sessions)
    assert f"[{ticket.ref}]" in settle(clean_mail, ALICE, 2)[1].subject
    deliver(clean_mail, settings, sessions, make_mail(ALICE, "Re: " + profile.subject, "Téléphone : 07 00 00 00 01",
                                                      In_Reply_To=cited))
    with sessions() as session:
        assert session.scalar(select(Member.phone).where(Member.email == ALICE)) == "06 12 34 56 78"
        assert session.scalars(select(PendingChange.status)).all() == ["pending"]


def test_a_reply_that_cites_her_one_open_ticket_is_a_follow_up_of_it(clean_mail, settings, sessions):
    """Alice has one open request; her reply to the profile mail cites the request's acknowledgement in References
    (her client keeps the whole conversation): it is about that request, so it follows it up."""
    add_members(sessions)
    smtp_send(clean_mail, make_mail(ALICE, "Traducteur allemand", "Je cherche un traducteur allemand."))
    run_cycle(settings, sessions, at=NOW)
    [ack] = settle(clean_mail, ALICE, 1)
    smtp_send(clean_mail, make_mail(ALICE, "modifier", ""))
    run_cycle(settings, sessions, at=NOW)
    profile = settle(clean_mail, ALICE, 2)[1]
    message = reply_to_notification(profile, "Précision : c'est pour un chantier de 40 pages, en janvier.", "gmail",
                                    sender=ALICE)
    message.replace_header("References", f"{ack.headers['message-id'][0]} {profile.headers['message-id'][0]}")
    report = deliver(clean_mail, settings, sessions, message)
    assert dict(report.actions) == {"follow-up": 1}
    [ticket] = tickets(sessions)
    assert any("40 pages" in (m.text or "") for m in ticket_messages(sessions, ticket.id))


def ticket_messages(sessions, ticket_id: int) -> list:  # type: ignore[no-untyped-def,type-arg]
    with sessions() as session:
        return list(session.get(Ticket, ticket_id).messages)
