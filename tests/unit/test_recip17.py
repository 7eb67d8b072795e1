"""Issue 17, point 5, pure logic: the members' words "plus d'annonces" / "annonces", the form lines "Annonces" and
"Droit à l'image", the image-rights label, the export, and reciprocity (help asked and given) in the report and the
weekly digest."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from mailbot.compose import TemplateRenderer
from mailbot.members import export_member, upsert_member
from mailbot.models import Appeal, Connection, Member, Solicitation, Ticket
from mailbot.parsers.registration import parse_form
from mailbot.report import build_digest, reciprocity, summary
from mailbot.workflows.announcements import audience
from mailbot.workflows.digest import RECIPROCITY_TOP, digest_context, reciprocity_context
from mailbot.workflows.profiles import (
    announcements_asked,
    announcements_footer,
    apply_values,
    differences,
    image_rights_label,
    profile_lines,
)

PARIS = ZoneInfo("Europe/Paris")

STOP = [
    ("", "plus d'annonces"), ("", "Plus d’annonces, merci !"), ("", "STOP annonces"), ("", "Stop aux annonces"),
    ("", "Je ne veux plus recevoir les annonces"), ("", "je ne souhaite plus recevoir d'annonces du Club"),
    ("", "désabonner des annonces"), ("", "Bonjour,\nMerci de me désabonner des annonces.\n"),
    ("", "pas d'annonces svp"), ("Plus d'annonces", ""), ("Re: stop annonces", "Merci !"),
    ("", "Ne plus recevoir les annonces"), ("", "Désabonnement des annonces"),
]
START = [
    ("", "annonces"), ("", "Annonces !"), ("", "Reprendre les annonces"), ("", "reprendre les annonces du Club"),
    ("", "Je souhaite recevoir à nouveau les annonces"), ("Annonces", ""), ("", "Bonjour,\nannonces, merci"),
]
NEITHER = [
    ("", "Annonce immobilière : comment la rédiger ?"), ("", "je passe une annonce pour recruter un apprenti"),
    ("", "Annonces légales : où publier la création de ma SARL ?"), ("", "Annonces : non"),
    ("Annonces", ("Bonjour, je cherche quelqu'un pour rédiger mes annonces immobilières sur les sites spécialisés, "
                 "pouvez-vous m'aider ?")),
    ("", "Les annonces du Club sont-elles payantes ?"), ("", "J'ai vu votre annonce de formation"), ("", ""),
]


@pytest.mark.parametrize(("subject", "text"), STOP)
def test_stop_words(subject: str, text: str) -> None:
    assert announcements_asked(subject, text) is False


@pytest.mark.parametrize(("subject", "text"), START)
def test_restart_words(subject: str, text: str) -> None:
    assert announcements_asked(subject, text) is True


@pytest.mark.parametrize(("subject", "text"), NEITHER)
def test_requests_that_mention_announcements_are_not_the_words(subject: str, text: str) -> None:
    assert announcements_asked(subject, text) is None


def test_form_lines_read_announcements_and_image_rights() -> None:
    for text, expected in [
        ("Annonces : non", {"accepts_announcements": "non"}),
        ("Annonces du Club (activités, sondages) : oui", {"accepts_announcements": "oui"}),
        ("Droit à l'image : oui", {"image_rights": "oui"}),
        ("Droit a l’image (oui ou non) : Non merci", {"image_rights": "non"}),
        ("- **Droit à l'image** : non", {"image_rights": "non"}),
    ]:
        assert dict(parse_form(text, text).values) == expected, text
    unclear = parse_form("Droit à l'image : ça dépend", "Droit à l'image : ça dépend")
    assert "image_rights" in unclear.unreadable and not unclear.values


def test_profile_shows_and_changes_both_choices() -> None:
    member = Member(email="a@b.test", first_name="Ana", accepts_appeals=True, accepts_announcements=True,
                    image_rights=None)
    lines = profile_lines(member)
    assert "Annonces du Club (activités, sondages) : oui" in lines
    assert "Droit à l'image (oui ou non) :" in lines  # not given yet
    assert image_rights_label(member) == "droit à l'image : non précisé"
    wanted = {"accepts_announcements": "non", "image_rights": "oui"}
    assert [d["field"] for d in differences(member, wanted)] == ["Annonces du Club", "Droit à l'image"]
    assert apply_values(member, wanted) == ["Annonces du Club", "Droit à l'image"]
    assert member.accepts_announcements is False and member.image_rights == "oui"
    assert image_rights_label(member) == "droit à l'image : oui"
    assert differences(member, wanted) == [] and apply_values(member, wanted) == []


def test_footer_names_the_words() -> None:
    footer = announcements_footer("aide@club.test")
    assert "« plus d'annonces »" in footer and "aide@club.test" in footer
    assert announcements_asked("", "plus d'annonces") is False  # the words the footer gives are understood


def test_export_and_audience(sqlite_url: str, sessions_for) -> None:  # type: ignore[no-untyped-def]
    sessions = sessions_for(sqlite_url)
    with sessions.begin() as session:
        member, _ = upsert_member(session, "ana@b.test", first_name="Ana")
        member.image_rights, member.accepts_announcements = "non", False
        upsert_member(session, "bob@b.test", first_name="Bob")
    with sessions() as session:
        held = export_member(session, "ana@b.test")
        assert held["image_rights"] == "non" and held["accepts_announcements"] is False
        assert [m.email for m in audience(session)] == ["bob@b.test"]


# --- reciprocity ---------------------------------------------------------------------------------------------------
START_AT, END_AT = datetime(2026, 11, 23), datetime(2026, 11, 30)
BEFORE, DURING = datetime(2026, 10, 5, 9), datetime(2026, 11, 25, 9)


def _populate(session) -> dict[str, Member]:  # type: ignore[no-untyped-def]
    people = {}
    for key, name in [("ana", "Ana"), ("bob", "Bob"), ("cyd", "Cyd"), ("dan", "Dan"), ("eve", "Eve")]:
        people[key], _ = upsert_member(session, f"{key}@b.test", first_name=name, last_name="Test")
    session.flush()
    tickets = []
    for number, (who, at) in enumerate([("ana", BEFORE), ("ana", DURING), ("ana", DURING), ("cyd", DURING),
                                        ("bob", BEFORE)], start=1):
        ticket = Ticket(ref=f"CA-2026-{number:04d}", member_id=people[who].id, subject="s", created_at=at,
                        updated_at=at)
        session.add(ticket)
        tickets.append(ticket)
    session.flush()
    appeal = Appeal(ticket_id=tickets[1].id, text="appel", created_at=DURING)
    old_appeal = Appeal(ticket_id=tickets[0].id, text="appel", created_at=BEFORE)
    session.add_all([appeal, old_appeal])
    session.flush()
    for who, status, answered, which in [("bob", "offered", DURING, appeal), ("bob", "offered", BEFORE, old_appeal),
                                         ("dan", "declined", DURING, appeal), ("eve", "asked", None, appeal),
                                         ("eve", "offered", BEFORE, old_appeal)]:
        session.add(Solicitation(appeal_id=which.id, ticket_id=which.ticket_id, member_id=people[who].id,
                                 status=status, asked_at=which.created_at, answered_at=answered))
    session.add_all([
        Connection(ticket_id=tickets[1].id, requester_id=people["ana"].id, helper_id=people["bob"].id,
                   status="exchanged", created_at=DURING, closed_at=DURING),
        Connection(ticket_id=tickets[0].id, requester_id=people["ana"].id, helper_id=people["eve"].id,
                   status="refused", created_at=BEFORE, closed_at=BEFORE),
    ])
    session.flush()
    return people


def test_reciprocity_counts_asked_and_given_in_the_period_and_in_total(sqlite_url: str, sessions_for):  # type: ignore[no-untyped-def]
    sessions = sessions_for(sqlite_url)
    with sessions.begin() as session:
        _populate(session)
        rows = {r.email.split("@")[0]: r for r in reciprocity(session, START_AT, END_AT)}
    assert set(rows) == {"ana", "bob", "cyd", "eve"}  # Dan only declined: neither asked nor gave
    bob, ana, cyd, eve = rows["bob"], rows["ana"], rows["cyd"], rows["eve"]
    assert (bob.offers_period, bob.offers_total, bob.connections_period, bob.connections_total) == (1, 2, 1, 1)
    assert (bob.given_period, bob.given_total, bob.asked_period, bob.asked_total) == (2, 3, 0, 1)
    assert (ana.asked_period, ana.asked_total, ana.given_total) == (2, 3, 0)
    assert (cyd.asked_period, cyd.asked_total, cyd.given_total) == (1, 1, 0)
    assert (eve.given_period, eve.given_total) == (0, 1)  # a refused connection is no help given
    assert bob.activities_led_total == 0  # the documented hook: activities record no leader yet

    context = reciprocity_context(list(reciprocity_rows(sessions)))
    assert context["askers"] == 2 and context["givers"] == 1
    assert context["top"] == [{"name": "Bob Test", "detail": "1 offre, 1 mise en relation", "given_total": 3,
                               "asked_total": 1}]
    assert [t["name"] for t in context["takers"]] == ["Ana Test", "Cyd Test"]  # most asked first
    assert context["never_gave"] == 2


def reciprocity_rows(sessions):  # type: ignore[no-untyped-def]
    with sessions() as session:
        return reciprocity(session, START_AT, END_AT)


def test_report_json_and_digest_show_reciprocity(sqlite_url: str, sessions_for):  # type: ignore[no-untyped-def]
    sessions = sessions_for(sqlite_url)
    with sessions.begin() as session:
        _populate(session)
        digest = build_digest(session, END_AT, PARIS, period_start=START_AT, period_end=END_AT)
    data = summary(digest, PARIS)
    bob = next(r for r in data["reciprocity"] if r["email"] == "bob@b.test")  # type: ignore[attr-defined]
    assert bob["asked"] == {"period": 0, "total": 1}
    assert bob["given"]["period"] == 2 and bob["given"]["total"] == 3
    assert bob["given"]["offers"] == {"period": 1, "total": 2}
    assert bob["given"]["connections"] == {"period": 1, "total": 1}
    assert bob["given"]["activities_led"] == {"period": 0, "total": 0}
    context = digest_context(digest, END_AT, PARIS, "Club Aide") | {"command_address": "c@club.test",
                                                                   "reply_address": "c@club.test"}
    body = " ".join(TemplateRenderer().render("digest_hebdo", context).body.split())
    assert "Entraide de la semaine" in body
    assert "Bob Test — 1 offre, 1 mise en relation" in body
    assert "sans avoir encore aidé" in body and "Ana Test — 3 demandes en tout" in body


def test_digest_block_stays_short() -> None:
    from mailbot.report import Reciprocity

    rows = [Reciprocity(member_id=n, name=f"M{n:02d}", email="", asked_period=1, asked_total=1, offers_period=0,
                        offers_total=0, connections_period=0, connections_total=0) for n in range(12)]
    rows += [Reciprocity(member_id=100 + n, name=f"H{n:02d}", email="", asked_period=0, asked_total=0,
                         offers_period=1, offers_total=1, connections_period=0, connections_total=0)
             for n in range(9)]
    context = reciprocity_context(rows)
    assert len(context["top"]) == RECIPROCITY_TOP and context["more_givers"] == 9 - RECIPROCITY_TOP
    assert len(context["takers"]) == RECIPROCITY_TOP and context["more_takers"] == 12 - RECIPROCITY_TOP
