"""The members' directory by mail ("annuaire", issue 12 point 8), end to end over the real servers: who is listed,
with what, who gets it, and how a member changes their choice."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from mailbot.members import upsert_member
from mailbot.models import Member
from tests.helpers import (
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
from tests.integration.aideur_clients import reply_to_notification

# Wording and routing: the queries are the ones every other test runs on both databases (tests/conftest.py).
pytestmark = pytest.mark.sqlite_only


def club(sessions) -> None:  # type: ignore[no-untyped-def]
    """Alice and Bruno visible to members (Bruno with his full profile), Chloé confidential."""
    add_members(sessions)
    with sessions.begin() as session:
        upsert_member(session, ALICE, visibility="membres")
        upsert_member(session, BRUNO, visibility="membres", activity="Maçon", phone="06 98 76 54 32")
        member = session.scalars(select(Member).where(Member.email == BRUNO)).one()
        member.postal_address = "3 impasse des Roses, 44000 Nantes"
        upsert_member(session, CHLOE, visibility="confidentielle", activity="Juriste")


def write(server, settings, sessions, sender: str, subject: str, text: str = "", **headers: str):  # type: ignore
    smtp_send(server, make_mail(sender, subject, text or "Bonjour,\n\nMerci.", **headers))
    wait_mail(server, CLUB, 1)
    return run_cycle(settings, sessions)


def test_a_member_gets_the_members_who_chose_to_be_visible(clean_mail, settings, sessions):
    club(sessions)
    write(clean_mail, settings, sessions, ALICE, "Annuaire")
    [mail] = settle(clean_mail, ALICE, 1)
    assert "annuaire des membres" in mail.subject.lower() and mail.from_ == CLUB
    text = " ".join(mail.text.split())
    for shown in ("Bruno Petit", "Petit Bâtiment", "Maçon", "maçonnerie", BRUNO, "06 98 76 54 32"):
        assert shown in text
    assert "Chloé" not in text and "Durand" not in text and CHLOE not in text  # confidential: never
    assert "impasse" not in text  # never the postal address
    assert "Vous y figurez aussi" in text
    assert mail.reply_to[0].startswith("aide+")  # a reply goes to her profile
    assert mailbox(clean_mail, BRUNO) == [] and mailbox(clean_mail, CHLOE) == []


def test_a_skill_narrows_the_list(clean_mail, settings, sessions):
    club(sessions)
    with sessions.begin() as session:
        upsert_member(session, "denise@membres.test", first_name="Denise", last_name="Leroy", visibility="membres",
                      skills="gestion de la paie")
    write(clean_mail, settings, sessions, CHLOE, "annuaire maconnerie")
    text = " ".join(settle(clean_mail, CHLOE, 1)[0].text.split())
    assert "Bruno Petit" in text and "Denise" not in text and "Alice" not in text
    assert "Votre profil est confidentiel : vous n'y figurez pas" in text
    write(clean_mail, settings, sessions, CHLOE, "Demande", "annuaire salaires\n\nChloé")  # a synonym of paie
    text = " ".join(settle(clean_mail, CHLOE, 2)[1].text.split())
    assert "Denise Leroy" in text and "Bruno" not in text


def test_non_members_and_former_members_get_a_polite_refusal_without_the_list(clean_mail, settings, sessions):
    club(sessions)
    with sessions.begin() as session:
        session.scalars(select(Member).where(Member.email == CHLOE)).one().status = "ended"
    write(clean_mail, settings, sessions, STRANGER, "annuaire")
    write(clean_mail, settings, sessions, CHLOE, "annuaire")
    for address, words in ((STRANGER, "Pour devenir membre"), (CHLOE, "Votre adhésion a pris fin")):
        [mail] = settle(clean_mail, address, 1)
        text = " ".join(mail.text.split())
        assert "réservé aux membres" in text and words in text
        assert "Bruno" not in text and "Alice" not in text and BRUNO not in text
    assert mailbox(clean_mail, ALICE) == [] and mailbox(clean_mail, BRUNO) == []


def test_a_forged_sender_gets_nothing_the_member_gets_the_list(clean_mail, settings, sessions):
    club(sessions)
    message = make_mail(ALICE, "annuaire", "annuaire", Reply_To=STRANGER)
    smtp_send(clean_mail, message.as_bytes(), sender=STRANGER, recipients=[CLUB])
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(settings, sessions)
    assert "Bruno Petit" in settle(clean_mail, ALICE, 1)[0].text
    assert mailbox(clean_mail, STRANGER) == []


def test_a_member_changes_her_visibility_by_replying(clean_mail, settings, sessions):
    club(sessions)
    write(clean_mail, settings, sessions, CHLOE, "annuaire")
    [directory] = settle(clean_mail, CHLOE, 1)
    smtp_send(clean_mail, reply_to_notification(directory, "Visibilité : membres", "thunderbird", sender=CHLOE,
                                                name="Chloé Durand"))
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(settings, sessions)
    with sessions() as session:
        assert session.scalars(select(Member).where(Member.email == CHLOE)).one().visibility == "membres"
    write(clean_mail, settings, sessions, ALICE, "annuaire")
    assert "Chloé Durand" in " ".join(settle(clean_mail, ALICE, 1)[0].text.split())


def test_a_question_that_merely_names_the_directory_stays_a_request(clean_mail, settings, sessions):
    club(sessions)
    report = write(clean_mail, settings, sessions, ALICE, "Annuaire de la mairie : où le trouver ?")
    assert dict(report.actions) == {"new-request": 1}


def test_only_the_contact_fields_each_member_chose_are_shown(clean_mail, settings, sessions):
    club(sessions)
    with sessions.begin() as session:
        session.scalars(select(Member).where(Member.email == BRUNO)).one().directory_contacts = "aucune"
    write(clean_mail, settings, sessions, CHLOE, "annuaire")
    text = " ".join(settle(clean_mail, CHLOE, 1)[0].text.split())
    assert "Bruno Petit" in text and "Petit Bâtiment" in text
    assert BRUNO not in text and "06 98 76 54 32" not in text
    assert "Alice Martin" in text and ALICE in text and "06 12 34 56 78" in text  # Alice kept the default
    # Bruno shows his phone again, by replying to his own directory mail
    write(clean_mail, settings, sessions, BRUNO, "annuaire")
    [own] = settle(clean_mail, BRUNO, 1)
    assert "coordonnées montrées : aucune" in " ".join(own.text.split())
    smtp_send(clean_mail, reply_to_notification(own, "Coordonnées dans l'annuaire : téléphone", "outlook",
                                                sender=BRUNO, name="Bruno Petit"))
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(settings, sessions)
    with sessions() as session:
        bruno = session.scalars(select(Member).where(Member.email == BRUNO)).one()
        assert bruno.directory_contacts == "téléphone"
        # the quoted list (Outlook quotes without ">") is not read as his answers: Alice's values stay hers
        assert (bruno.skills, bruno.phone) == ("maçonnerie", "06 98 76 54 32")
    write(clean_mail, settings, sessions, CHLOE, "annuaire")
    text = " ".join(settle(clean_mail, CHLOE, 2)[1].text.split())
    assert "06 98 76 54 32" in text and BRUNO not in text
