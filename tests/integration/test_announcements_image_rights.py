"""Issue 17, point 5, end to end over the loopback servers: "plus d'annonces" / "annonces" from a member, protected
like any profile change (a forged From: changes nothing, the address on record confirms), the profile form lines
"Annonces" and "Droit à l'image", and the image-rights choice at registration."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from mailbot.models import Member
from mailbot.workflows.announcements import audience
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

pytestmark = pytest.mark.servers

NOW = datetime(2026, 11, 26, 10, 0)  # a Thursday, nothing due


def deliver(server, settings, sessions, message, count: int = 1):  # type: ignore[no-untyped-def]
    smtp_send(server, message)
    wait_mail(server, CLUB, count)
    return run_cycle(settings, sessions, at=NOW)


def choices(sessions, address: str = ALICE) -> tuple[bool, str | None]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        row = session.scalar(select(Member).where(Member.email == address))
        return row.accepts_announcements, row.image_rights


def flat(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split())


def test_plus_dannonces_is_confirmed_by_the_mailbox_then_annonces_restarts(clean_mail, settings, sessions):
    """The main scenario (SQLite and PostgreSQL): a fresh mail proves nothing, so the address on record confirms;
    a reply through the member's own reply address then acts at once."""
    add_members(sessions)
    report = deliver(clean_mail, settings, sessions, make_mail(f"Alice Martin <{ALICE}>", "Plus d'annonces",
                                                               "Bonjour,\n\nPlus d'annonces, merci.\n\nAlice"))
    assert dict(report.actions) == {"profile": 1}
    assert choices(sessions) == (True, None)  # nothing changed yet
    [question] = settle(clean_mail, ALICE, 1)
    assert "confirmer" in question.subject and question.reply_to[0].startswith("aide+v")
    assert "Annonces du Club : non" in flat(question.text)

    deliver(clean_mail, settings, sessions, reply_to_notification(question, "Oui", "thunderbird", sender=ALICE,
                                                                  name="Alice Martin"))
    assert choices(sessions) == (False, None)
    done = settle(clean_mail, ALICE, 2)[1]
    assert "vous ne les recevez plus" in done.subject
    assert "« annonces »" in flat(done.text) and done.reply_to[0].startswith("aide+p")
    with sessions() as session:
        assert ALICE not in [m.email for m in audience(session)]

    # "annonces" in reply to that mail (her own profile reply address, From: her address): at once.
    report = deliver(clean_mail, settings, sessions, reply_to_notification(done, "annonces", "gmail", sender=ALICE,
                                                                           name="Alice Martin"))
    assert dict(report.actions) == {"profile": 1}
    assert choices(sessions) == (True, None)
    again = settle(clean_mail, ALICE, 3)[2]
    assert "vous les recevez" in again.subject and "plus d'annonces" in flat(again.text)
    assert [len(mailbox(clean_mail, who)) for who in (BRUNO, CHLOE, STRANGER)] == [0, 0, 0]


@pytest.mark.sqlite_only
@pytest.mark.parametrize("how", ["plain", "through-brunos-profile"])
def test_forged_plus_dannonces_changes_nobody(clean_mail, settings, sessions, how):
    """A stranger writing as Alice (to the plain address, or through Bruno's profile reply address) silences no
    one: Alice is asked at her own address, Bruno and the stranger get nothing about her."""
    add_members(sessions)
    if how == "plain":
        forged = make_mail(f"Alice Martin <{ALICE}>", "stop annonces", "Je ne veux plus recevoir les annonces")
        deliver(clean_mail, settings, sessions, forged)
        [question] = settle(clean_mail, ALICE, 1)
        assert "confirmer" in question.subject
    else:
        deliver(clean_mail, settings, sessions, make_mail(BRUNO, "modifier", ""))
        [profile] = settle(clean_mail, BRUNO, 1)
        deliver(clean_mail, settings, sessions, reply_to_notification(profile, "plus d'annonces", "gmail",
                                                                      sender=ALICE, name="Alice Martin"))
    assert choices(sessions) == (True, None) and choices(sessions, BRUNO) == (True, None)
    assert mailbox(clean_mail, STRANGER) == []


@pytest.mark.sqlite_only
def test_profile_form_lines_change_announcements_and_image_rights(clean_mail, settings, sessions):
    add_members(sessions)
    deliver(clean_mail, settings, sessions, make_mail(ALICE, "modifier", ""))
    [profile] = settle(clean_mail, ALICE, 1)
    text = flat(profile.text)
    assert "Annonces du Club (activités, sondages) : oui" in text and "Droit à l'image (oui ou non) :" in text
    assert "« plus d'annonces »" in text
    deliver(clean_mail, settings, sessions, reply_to_notification(
        profile, "Annonces : non\nDroit à l'image : oui", "outlook", sender=ALICE, name="Alice Martin"))
    assert choices(sessions) == (False, "oui")
    done = settle(clean_mail, ALICE, 2)[1]
    assert "modification enregistrée" in done.subject
    assert "Droit à l'image (oui ou non) : oui" in flat(done.text)


@pytest.mark.sqlite_only
def test_a_request_about_adverts_is_still_a_request(clean_mail, settings, sessions):
    add_members(sessions)
    report = deliver(clean_mail, settings, sessions, make_mail(ALICE, "Annonce immobilière",
                                                               "Comment rédiger une annonce qui attire ?"))
    assert dict(report.actions) == {"new-request": 1}
    assert choices(sessions) == (True, None)


@pytest.mark.sqlite_only
def test_registration_form_carries_image_rights(clean_mail, settings, sessions):
    deliver(clean_mail, settings, sessions, make_mail(f"Hélène Lefèvre <{STRANGER}>", "Renseignement",
                                                      "Bonjour, comment fonctionne votre club ?"))
    [invitation] = wait_mail(clean_mail, STRANGER, 1)
    assert "Droit à l'image (oui ou non) :" in flat(invitation.text)
    form = ("Nom : Lefèvre\nPrénom : Hélène\nEntreprise : Lefèvre Traductions\nActivité : traductrice\n"
            "Adresse postale : 8 allée des Tilleuls, 33000 Bordeaux\nTéléphone : 06 55 44 33 22\n"
            "Visibilité : membres\nDroit à l'image : non\n"
            "Acceptation des conditions : J'accepte les conditions V4/2018")
    deliver(clean_mail, settings, sessions, reply_to_notification(invitation, form, "thunderbird", sender=STRANGER,
                                                                  name="Hélène Lefèvre"))
    assert choices(sessions, STRANGER) == (True, "non")
    welcome = settle(clean_mail, STRANGER, 2)[1]
    text = flat(welcome.text)
    assert "Bienvenue" in welcome.subject and "Droit à l'image (oui ou non) : non" in text
    for words in ("« activités »", "« documentation »", "« doc 4 »", "« suggestion »", "« plus d'annonces »"):
        assert words in text, words
