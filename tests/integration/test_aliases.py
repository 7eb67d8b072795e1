"""One person, several addresses (issue 13, point 2), end to end over the loopback servers: Alice (alice@membres.test)
also writes from her personal address (here the mailbox inconnu@ailleurs.test, "PERSO"). Every rule treats both
addresses as one person: her requests, her "Résolu", the appeals that never reach her, one rate-limit budget; a
forged From: can never link an address, and her own confirmation from the registered address does."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from mailbot.addresses import HOW_CLI, add_alias, member_of_address
from mailbot.models import Member, MemberAddress, PendingChange, Solicitation, Ticket
from tests.conftest import make_env
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
from tests.integration.aideur_clients import confirm_command, confirmation_requests, reply_to_notification

PERSO = STRANGER  # Alice's personal address (a mailbox of the test server)
AT = datetime(2026, 11, 26, 10, 0)  # Thursday 26 November 2026, 11:00 in Paris
REQUEST = "Bonjour,\nJe cherche un avocat en droit du travail pour un litige avec un salarié.\nAlice"

pytestmark = pytest.mark.sqlite_only


def link_perso(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions.begin() as session:
        alice = session.scalar(select(Member).where(Member.email == ALICE))
        add_alias(session, alice, PERSO, how=HOW_CLI)


def tickets(sessions) -> list[Ticket]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        rows = session.scalars(select(Ticket).order_by(Ticket.id)).all()
        session.expunge_all()
        return list(rows)


def alice_id(sessions) -> int:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return session.scalar(select(Member.id).where(Member.email == ALICE))


def send_and_cycle(server, settings, sessions, message, at=AT):  # type: ignore[no-untyped-def]
    smtp_send(server, message)
    wait_mail(server, CLUB, 1)
    return run_cycle(settings, sessions, at=at)


def test_a_request_from_the_alias_is_alices_ticket_acknowledged_at_her_main_address(clean_mail, settings, sessions):
    add_members(sessions)
    link_perso(sessions)
    report = send_and_cycle(clean_mail, settings, sessions, make_mail(PERSO, "Litige salarié", REQUEST))
    assert dict(report.actions) == {"new-request": 1}
    [ticket] = tickets(sessions)
    assert ticket.member_id == alice_id(sessions)
    [ack] = settle(clean_mail, ALICE, 1)
    assert "Demande bien reçue" in ack.subject
    assert mailbox(clean_mail, PERSO) == []  # no invitation, and mail to her goes to the main address
    [note] = settle(clean_mail, AIDEUR, 1)
    assert "Alice Martin" in note.subject


def test_an_appeal_never_reaches_the_requester_under_any_of_her_addresses(clean_mail, settings, sessions):
    add_members(sessions)
    with sessions.begin() as session:  # Alice could help in her own field: only the requester rule keeps her out
        alice = session.scalar(select(Member).where(Member.email == ALICE))
        alice.skills = "comptabilité, fiscalité, droit du travail"
    link_perso(sessions)
    send_and_cycle(clean_mail, settings, sessions, make_mail(PERSO, "Licenciement contesté", REQUEST))
    [note] = settle(clean_mail, AIDEUR, 1)
    assert "Alice Martin" not in note.text.split("Membres qui pourraient aider", 1)[-1].split("\r\n\r\n", 1)[0]
    smtp_send(clean_mail, reply_to_notification(note, "#appel compétences: droit du travail ; membres: 5\n"
                                                      "Un membre cherche un avis sur un licenciement contesté.",
                                                "thunderbird"))
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(settings, sessions, at=AT)
    assert any("Appel du réseau" in m.subject for m in settle(clean_mail, CHLOE, 1))
    assert len(settle(clean_mail, ALICE, 1)) == 1  # her acknowledgement only
    assert not any("Appel" in m.subject for m in mailbox(clean_mail, ALICE) + mailbox(clean_mail, PERSO))
    with sessions() as session:
        asked = set(session.scalars(select(Solicitation.member_id)))
    assert asked and alice_id(sessions) not in asked


def test_resolu_from_the_alias_withdraws_the_request(clean_mail, settings, sessions):
    add_members(sessions)
    link_perso(sessions)
    send_and_cycle(clean_mail, settings, sessions, make_mail(ALICE, "Litige salarié", REQUEST))
    [ack] = settle(clean_mail, ALICE, 1)
    # She answers from her phone, whose account is her personal address, through the request's reply address.
    report = send_and_cycle(clean_mail, settings, sessions, reply_to_notification(
        ack, "Résolu, merci !", "gmail", sender=PERSO, name="Alice Martin"))
    assert dict(report.actions) == {"follow-up": 1}
    [ticket] = tickets(sessions)
    assert ticket.status == "withdrawn"
    assert any("retir" in m.subject.lower() or "clos" in m.subject.lower() for m in settle(clean_mail, ALICE, 2))
    assert mailbox(clean_mail, PERSO) == []


def test_a_fresh_resolu_from_the_alias_is_confirmed_at_the_main_address(clean_mail, settings, sessions):
    """Without the reply address a From: may be forged: the member is asked at her main address, never ignored."""
    add_members(sessions)
    link_perso(sessions)
    send_and_cycle(clean_mail, settings, sessions, make_mail(ALICE, "Litige salarié", REQUEST))
    settle(clean_mail, ALICE, 1)
    send_and_cycle(clean_mail, settings, sessions, make_mail(PERSO, "[CA-2026-0001] Litige salarié", "Résolu."))
    alice = settle(clean_mail, ALICE, 2)
    assert len(alice) == 2 and mailbox(clean_mail, PERSO) == []
    [follow] = [m for m in settle(clean_mail, AIDEUR, 2) if "Litige" in m.subject and "Nouvelle" not in m.subject]
    assert "Résolu" in follow.text


def test_the_rate_limit_is_one_budget_for_the_person(clean_mail, database_url, sessions_for):
    from mailbot.config import load_settings

    env = make_env(clean_mail, database_url, MAILBOT_RATE_LIMIT_PER_HOUR="2")
    settings = load_settings(env, env_file=None)
    sessions = sessions_for(database_url)
    add_members(sessions)
    # Before she was known, her personal address got the invitation: it counts toward her budget once linked.
    send_and_cycle(clean_mail, settings, sessions, make_mail(PERSO, "Question", "Bonjour, une question."))
    assert len(settle(clean_mail, PERSO, 1)) == 1
    link_perso(sessions)
    send_and_cycle(clean_mail, settings, sessions, make_mail(ALICE, "Litige salarié", REQUEST))
    send_and_cycle(clean_mail, settings, sessions, make_mail(PERSO, "Autre sujet", "Une autre demande, merci."))
    assert len(tickets(sessions)) == 2  # both requests are hers (linked directly: no held request released)
    received = settle(clean_mail, ALICE, 1) + mailbox(clean_mail, PERSO)
    automatic = [m for m in received if "Demande bien reçue" in m.subject or "inscription" in m.subject]
    assert len(automatic) == 2  # the invitation and one acknowledgement: the third is held back


# --- recognition by the member herself ------------------------------------------------------------------------------
def claim(server, settings, sessions, sender=PERSO, text=None):  # type: ignore[no-untyped-def]
    """An unknown address writes a request, gets the invitation, answers it with her registered address."""
    send_and_cycle(server, settings, sessions, make_mail(sender, "Litige salarié", REQUEST))
    [invitation] = settle(server, sender, 1)
    assert "inscription" in invitation.subject and "Déjà membre sous une autre adresse" in invitation.text
    return send_and_cycle(server, settings, sessions, reply_to_notification(
        invitation, text or f"Je suis déjà membre, mon adresse est {ALICE}", "gmail", sender=sender, name="Alice"))


def test_a_member_writing_from_an_unknown_address_is_recognised_after_confirming_from_her_address(
        clean_mail, settings, sessions):
    add_members(sessions)
    claim(clean_mail, settings, sessions)
    assert tickets(sessions) == []  # nothing linked, nothing lost: the request waits
    [asked] = [m for m in settle(clean_mail, PERSO, 2) if "confirmation" in m.subject]
    assert ALICE in " ".join(asked.text.split())
    [question] = settle(clean_mail, ALICE, 1)
    assert PERSO in question.text and question.reply_to[0].startswith("aide+v")
    send_and_cycle(clean_mail, settings, sessions, reply_to_notification(question, "OUI", "thunderbird",
                                                                         sender=ALICE, name="Alice Martin"))
    with sessions() as session:
        assert member_of_address(session, PERSO).email == ALICE
    [ticket] = tickets(sessions)  # the first request, kept, is now her ticket
    assert ticket.member_id == alice_id(sessions) and ticket.subject == "Litige salarié"
    alice = settle(clean_mail, ALICE, 3)
    assert any("Demande bien reçue" in m.subject for m in alice)
    assert any("autre adresse reliée" in m.subject for m in alice)
    assert any("autre adresse reliée" in m.subject for m in settle(clean_mail, PERSO, 3))
    assert any("Adresse reliée" in m.subject for m in mailbox(clean_mail, AIDEUR))


def test_a_forged_from_can_never_link_an_address(clean_mail, settings, sessions):
    add_members(sessions)
    # The attacker (PERSO) claims to be Alice: the question goes to Alice only.
    claim(clean_mail, settings, sessions, text=f"Je suis membre, mon adresse est {ALICE}. Merci de me relier.")
    [question] = settle(clean_mail, ALICE, 1)
    # He answers "OUI" to what he received, and forges Alice's From: without the reply address.
    [asked] = [m for m in mailbox(clean_mail, PERSO) if "confirmation" in m.subject]
    send_and_cycle(clean_mail, settings, sessions, reply_to_notification(asked, "OUI", "gmail", sender=PERSO))
    send_and_cycle(clean_mail, settings, sessions, make_mail(ALICE, "Re: " + question.subject, "OUI",
                                                             In_Reply_To=question.headers["message-id"][0]))
    # And he uses the address token of the question with his own From:.
    send_and_cycle(clean_mail, settings, sessions, reply_to_notification(question, "OUI", "gmail", sender=PERSO))
    with sessions() as session:
        assert member_of_address(session, PERSO) is None
        assert session.scalars(select(MemberAddress)).all() == []
        assert session.scalars(select(Ticket)).all() == []  # the kept request stays kept: nobody's ticket
    # Alice says NON: nothing linked, Aideur told someone claimed to be her.
    send_and_cycle(clean_mail, settings, sessions, reply_to_notification(question, "NON", "thunderbird",
                                                                         sender=ALICE, name="Alice Martin"))
    with sessions() as session:
        assert member_of_address(session, PERSO) is None
        assert session.scalar(select(PendingChange.status).where(PendingChange.kind == "alias")) == "cancelled"
    assert any("Adresse non reliée" in m.subject for m in mailbox(clean_mail, AIDEUR))


def test_the_answer_never_says_whether_an_address_is_a_members(clean_mail, settings, sessions):
    add_members(sessions)
    claim(clean_mail, settings, sessions, text="Je suis membre, mon adresse est personne@nulle-part.test")
    [asked] = [m for m in settle(clean_mail, PERSO, 2) if "confirmation" in m.subject]
    assert "Si personne@nulle-part.test est l'adresse d'un membre" in " ".join(asked.text.split())


def test_a_colleague_writing_on_a_members_behalf_is_not_invited_and_aideur_has_it(clean_mail, settings, sessions):
    add_members(sessions)
    send_and_cycle(clean_mail, settings, sessions, make_mail(
        PERSO, "Devis", "Bonjour,\nJe vous écris de la part de Bruno Petit, qui cherche un plombier.\nMerci",
        Cc=BRUNO))
    [told] = settle(clean_mail, PERSO, 1)
    assert "transmis à Aideur" in told.subject and "Formulaire d'inscription" not in told.text
    [notice] = settle(clean_mail, AIDEUR, 1)
    assert "de la part d'un membre : Bruno Petit" in notice.subject and "#ouvrir bruno@membres.test" in notice.text
    assert tickets(sessions) == []


# --- Aideur's #adresse and the CLI ----------------------------------------------------------------------------------
def test_adresse_through_the_command_address_links_after_oui_and_tells_both_addresses(clean_mail, settings, sessions):
    from tests.integration.test_reopen_and_open import command_address

    add_members(sessions)
    send_and_cycle(clean_mail, settings, sessions, make_mail(ALICE, "Litige salarié", REQUEST))
    [note] = settle(clean_mail, AIDEUR, 1)
    send_and_cycle(clean_mail, settings, sessions, make_mail(AIDEUR, "Adresse d'Alice", f"#adresse {PERSO} {ALICE}",
                                                             to=command_address(note)))
    with sessions() as session:
        assert member_of_address(session, PERSO) is None  # nothing before his OUI
    settle(clean_mail, AIDEUR, 2)
    [request] = confirmation_requests(clean_mail)
    assert PERSO in request.text and "Alice Martin" in request.text
    confirm_command(clean_mail, settings, sessions, AT, request=request)
    with sessions() as session:
        assert member_of_address(session, PERSO).email == ALICE
    assert any("autre adresse reliée" in m.subject for m in settle(clean_mail, ALICE, 2))
    assert any("autre adresse reliée" in m.subject for m in settle(clean_mail, PERSO, 1))
    # Another member's address is refused with the reason.
    send_and_cycle(clean_mail, settings, sessions, make_mail(AIDEUR, "Adresse", f"#alias {BRUNO} {ALICE}",
                                                             to=command_address(note)))
    assert any("autre membre" in " ".join(m.text.split()) for m in mailbox(clean_mail, AIDEUR)
               if "non exécutée" in m.subject)
    with sessions() as session:
        assert member_of_address(session, BRUNO).email == BRUNO


def test_cli_alias_add_list_remove_and_address_change(clean_mail, env, settings, sessions):
    from tests.integration.test_cli import mailbot

    add_members(sessions)
    assert mailbot(env, "members", "alias", "add", ALICE, PERSO).returncode == 0
    refused = mailbot(env, "members", "alias", "add", BRUNO, PERSO)  # one person's only
    assert refused.returncode == 1 and "autre membre" in refused.stderr
    assert PERSO in mailbot(env, "members", "alias", "list", ALICE).stdout
    assert mailbot(env, "members", "address", "change", ALICE, "alice.martin@membres.test").returncode == 0
    with sessions() as session:
        member = member_of_address(session, PERSO)
        assert member.email == "alice.martin@membres.test"
        assert member_of_address(session, ALICE).id == member.id  # the old address stays hers
    assert mailbot(env, "members", "alias", "remove", "alice.martin@membres.test", PERSO).returncode == 0
    with sessions() as session:
        assert member_of_address(session, PERSO) is None
    # Both addresses were told of each change (the daemon sends what the CLI queued).
    run_cycle(settings, sessions, at=AT)
    assert any("nouvelle adresse principale" in m.subject for m in settle(clean_mail, ALICE, 2))
    assert any("adresse retirée" in m.subject for m in settle(clean_mail, PERSO, 2))


def test_a_fresh_mail_saying_i_am_a_member_keeps_its_request_until_confirmed(clean_mail, settings, sessions):
    add_members(sessions)
    send_and_cycle(clean_mail, settings, sessions, make_mail(
        PERSO, "Besoin d'un comptable", f"Bonjour,\nJe suis membre du club (mon adresse habituelle : {ALICE}).\n"
                                        "Je cherche un expert-comptable pour la clôture de mon exercice.\nAlice"))
    [asked] = settle(clean_mail, PERSO, 1)
    assert "confirmation" in asked.subject and "Formulaire d'inscription" not in asked.text
    [question] = settle(clean_mail, ALICE, 1)
    assert tickets(sessions) == []
    send_and_cycle(clean_mail, settings, sessions, reply_to_notification(question, "Oui", "outlook", sender=ALICE,
                                                                         name="Alice Martin"))
    [ticket] = tickets(sessions)
    assert ticket.subject == "Besoin d'un comptable" and ticket.member_id == alice_id(sessions)
    assert any("Demande bien reçue" in m.subject for m in settle(clean_mail, ALICE, 3))
    [note] = [m for m in settle(clean_mail, AIDEUR, 2) if "Nouvelle demande" in m.subject]
    assert "expert-comptable" in " ".join(note.text.split())
