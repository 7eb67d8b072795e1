"""Polls (issue 17, point 2), end to end over the loopback servers: `#sondage` through the command address
(confirmed by OUI), clear, unclear, changed, forged and late answers, the one reminder, the results; and for an
anonymous poll, every stored row read back: nothing links a ballot to a voter."""
from __future__ import annotations

import json
from datetime import datetime

import pytest
from sqlalchemy import inspect, select, text

from mailbot.models import OutboxMail, Poll, PollBallot, PollParticipant, PollVote
from mailbot.tokens import TokenSigner
from mailbot.workflows.aideur import aideur_command_token
from tests.helpers import (
    AIDEUR,
    ALICE,
    BRUNO,
    CHLOE,
    CLOCK,
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
from tests.integration.daemon_process import wait_until
from tests.integration.test_cli import mailbot

BLOCK = """#sondage
question: Quel jour pour le prochain atelier ?
1: le mardi après-midi
2: le jeudi après-midi
3: le samedi matin
jusqu'au: 04/12/2026
anonyme: {anonymous}
résultats: {results}

Aideur"""
REMINDER = datetime(2026, 12, 3, 17, 30)  # Thursday 3 December, 18:30 Paris: a business day before the deadline
CLOSING = datetime(2026, 12, 4, 17, 30)  # Friday 4 December, 18:30 Paris: the poll closed at 18:00


def words(message) -> str:  # type: ignore[no-untyped-def]
    return " ".join(message.text.split())


def command_address(settings, sessions) -> str:  # type: ignore[no-untyped-def]
    with sessions() as session:
        token = aideur_command_token(session)
    return TokenSigner(settings.secret_keys).plus_address(CLUB, token)


def open_poll(server, settings, sessions, *, anonymous: str, results: str) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Aideur writes #sondage to his command address and confirms it; returns each member's question mail."""
    smtp_send(server, make_mail(AIDEUR, "Sondage atelier", BLOCK.format(anonymous=anonymous, results=results),
                                to=command_address(settings, sessions)))
    wait_mail(server, CLUB, 1)
    run_cycle(settings, sessions, at=CLOCK)
    [request] = confirmation_requests(server)
    assert "Quel jour pour le prochain atelier" in words(request) and "3 membre(s)" in words(request)
    assert all(mailbox(server, member) == [] for member in (ALICE, BRUNO, CHLOE))  # nothing before OUI
    confirm_command(server, settings, sessions, datetime(2026, 11, 26, 11, 0))
    questions = {member: settle(server, member, 1)[0] for member in (ALICE, BRUNO, CHLOE)}
    assert all("Quel jour" in words(q) and "3. le samedi matin" in words(q) for q in questions.values())
    return questions


def answer(server, settings, sessions, question, body: str, at: datetime, *, sender: str) -> None:  # type: ignore[no-untyped-def]
    smtp_send(server, reply_to_notification(question, body, "thunderbird", sender=sender))
    wait_mail(server, CLUB, 1)
    run_cycle(settings, sessions, at=at)


def test_anonymous_poll_clear_unclear_changed_forged_and_late_votes_and_nothing_links_a_ballot(
        clean_mail, settings, sessions, env):
    add_members(sessions)
    questions = open_poll(clean_mail, settings, sessions, anonymous="oui", results="membres")
    created = [m for m in mailbox(clean_mail, AIDEUR) if "SO-2026-001 envoyé" in m.subject]
    assert len(created) == 1 and "Alice Martin" in words(created[0])
    assert "anonyme" in words(questions[ALICE]) and questions[ALICE].reply_to[0] != questions[BRUNO].reply_to[0]

    day = datetime(2026, 11, 27, 9, 0)
    answer(clean_mail, settings, sessions, questions[ALICE], "Le 2", day, sender=ALICE)
    answer(clean_mail, settings, sessions, questions[BRUNO], "Oui mais je ne sais pas encore", day, sender=BRUNO)
    [_, voted] = settle(clean_mail, ALICE, 2)
    assert "enregistré" in words(voted) and "le jeudi après-midi" in words(voted)
    [_, unclear] = settle(clean_mail, BRUNO, 2)
    assert "pas su lire votre choix" in words(unclear) and "3. le samedi matin" in words(unclear)
    # An anonymous poll: words that are no vote may tell the vote, so they reach no one, and the member is told so.
    assert "lues par personne" in words(unclear)
    # Alice changes her mind, in words; Bruno answers clearly; Chloé's From: through Alice's address votes nothing.
    answer(clean_mail, settings, sessions, questions[ALICE], "Finalement plutôt le samedi", day, sender=ALICE)
    answer(clean_mail, settings, sessions, questions[BRUNO], "choix 1", day, sender=BRUNO)
    answer(clean_mail, settings, sessions, questions[ALICE], "3", day, sender=CHLOE)
    changed = settle(clean_mail, ALICE, 3)[2]
    assert "remplace le précédent" in words(changed) and "le samedi matin" in words(changed)
    with sessions() as session:
        voted_flags = {p.member.email: p.has_voted for p in session.scalars(select(PollParticipant))}
        assert voted_flags == {ALICE: True, BRUNO: True, CHLOE: False}
        assert len(session.scalars(select(PollBallot)).all()) == 2

    # One reminder, to Chloé only, exactly once across runs.
    assert run_cycle(settings, sessions, at=REMINDER).jobs["polls"] == 1
    assert run_cycle(settings, sessions, at=datetime(2026, 12, 3, 18, 0)).jobs["polls"] == 0
    reminders = [m for m in settle(clean_mail, CHLOE, 2) if "Rappel" in m.subject]
    assert len(reminders) == 1 and "3. le samedi matin" in words(reminders[0])
    assert not [m for m in mailbox(clean_mail, ALICE) + mailbox(clean_mail, BRUNO) if "Rappel" in m.subject]

    # The deadline: Aideur gets counts and percentages, no names; the members get the results too.
    before = len(mailbox(clean_mail, AIDEUR))
    assert run_cycle(settings, sessions, at=CLOSING).jobs["polls"] == 1
    results = [m for m in settle(clean_mail, AIDEUR, before + 1) if m.subject.startswith("Résultats du sondage")]
    assert len(results) == 1
    text_ = words(results[0])
    assert "1. le mardi après-midi : 1 vote (50 %)" in text_ and "3. le samedi matin : 1 vote (50 %)" in text_
    assert "Votants : 2 sur 3" in text_ and "Alice" not in text_ and "Bruno" not in text_
    for member in (ALICE, BRUNO, CHLOE):
        assert [m for m in wait_mail(clean_mail, member, 1, timeout=5) if "Résultats" in m.subject]
    # A late vote is answered politely and not counted.
    late = len(mailbox(clean_mail, CHLOE))
    answer(clean_mail, settings, sessions, questions[CHLOE], "1", datetime(2026, 12, 5, 9, 0), sender=CHLOE)
    [closed] = settle(clean_mail, CHLOE, late + 1)[late:]
    assert "trop tard" in words(closed)

    listed = json.loads(mailbot(env, "polls", "show", "so-2026-001", "--json").stdout)
    assert listed["anonymous"] is True and listed["voters"] == 2
    assert [(c["label"], c["votes"]) for c in listed["choices"]] == [
        ("le mardi après-midi", 1), ("le jeudi après-midi", 0), ("le samedi matin", 1)]
    assert set(listed) == {"ref", "question", "closes_at", "anonymous", "choices", "voters"}

    # Storage: read every table. The ballots hold a key, the poll and the choice — no member, no time, no order.
    with sessions() as session:
        engine = session.get_bind()
        tables = inspect(engine).get_table_names()
        assert {c["name"] for c in inspect(engine).get_columns("poll_ballots")} == {"key", "poll_id", "choice_id"}
        assert {c["name"] for c in inspect(engine).get_columns("poll_participants")} == {
            "id", "poll_id", "member_id", "has_voted"}
        assert session.scalars(select(PollVote)).all() == []
        keys = [b.key for b in session.scalars(select(PollBallot))]
        people = [value for p in session.scalars(select(PollParticipant))
                  for value in (p.member.email, p.member.first_name, p.member.last_name)]
        for row in session.execute(text("SELECT * FROM poll_ballots")).all():
            assert not any(person.lower() in " ".join(map(str, row)).lower() for person in people)
        member_ids = {str(p.member_id) for p in session.scalars(select(PollParticipant))}
        assert not any(key in member_ids for key in keys)
        # No other table holds a ballot key or names a choice beside a voter: a ballot cannot be joined.
        for table in tables:
            for row in session.execute(text(f"SELECT * FROM {table}")).all():
                cells = " ".join(str(cell) for cell in row)
                if table != "poll_ballots":
                    assert not any(key in cells for key in keys), table
        # The confirmations (which name the choice) are blanked once sent; the records say no choice.
        confirmations = session.scalars(select(OutboxMail).where(OutboxMail.kind == "sondage_vote")).all()
        assert confirmations and all(m.body == b"" and m.recipient == "membre-efface@invalid" for m in confirmations)
        reasons = session.execute(text("SELECT reason FROM inbound_mails")).scalars().all()
        assert not any("samedi" in (r or "") or "mardi" in (r or "") for r in reasons)
        if engine.dialect.name == "sqlite":  # no rowid: the storage order is the key's, not the votes'
            assert "WITHOUT ROWID" in session.execute(text(
                "SELECT sql FROM sqlite_master WHERE name = 'poll_ballots'")).scalar_one().upper()


@pytest.mark.sqlite_only  # wording and routing: the queries are those the first test runs on both
def test_named_poll_results_name_voters_and_aideur_asks_who_has_not_voted(clean_mail, settings, sessions, env):
    add_members(sessions)
    questions = open_poll(clean_mail, settings, sessions, anonymous="non", results="aideur")
    assert "n'est pas anonyme" in words(questions[ALICE])
    day = datetime(2026, 11, 27, 9, 0)
    answer(clean_mail, settings, sessions, questions[ALICE], "2)", day, sender=ALICE)
    answer(clean_mail, settings, sessions, questions[ALICE], "1 ou 3 ?", day, sender=ALICE)  # unclear: vote kept
    # A named poll: her words that are no vote reach Aideur (nothing a member writes is lost), and she is told so.
    assert wait_until(lambda: any(m.subject == "Message d'un membre sur le sondage SO-2026-001" and "1 ou 3 ?" in
                                  words(m) for m in mailbox(clean_mail, AIDEUR)), 30)
    settle(clean_mail, ALICE, 3)
    # A bare thank-you to her confirmation gets nothing back (checked by the count below).
    confirmation = next(m for m in mailbox(clean_mail, ALICE) if "enregistré" in m.subject)
    answer(clean_mail, settings, sessions, confirmation, "Merci !", day, sender=ALICE)
    # Her provider dropped the plus address (the token only in References): not counted, and she is told.
    smtp_send(clean_mail, reply_to_notification(questions[ALICE], "3", "gmail", sender=ALICE, to=CLUB))
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(settings, sessions, at=day)
    alice = settle(clean_mail, ALICE, 4)
    assert len(alice) == 4
    assert "transmis à Aideur" in words(alice[2])
    unproven = alice[3]
    assert "pas comptée" in words(unproven) and "vote précédent l'est toujours" in words(unproven)
    with sessions() as session:
        [vote] = session.scalars(select(PollVote)).all()
        assert vote.member.email == ALICE and session.scalar(select(Poll)).anonymous is False

    before = len(mailbox(clean_mail, AIDEUR))
    smtp_send(clean_mail, make_mail(AIDEUR, "Sondages", "#sondage qui SO-2026-001\n#sondages",
                                    to=command_address(settings, sessions)))
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(settings, sessions, at=day)
    new = settle(clean_mail, AIDEUR, before + 2)[before:]
    [who] = [m for m in new if "qui n'a pas voté" in m.subject]
    assert "Bruno Petit" in words(who) and "Chloé Durand" in words(who) and "Alice" not in words(who)
    assert "jeudi" not in words(who).split("Quel jour pour le prochain atelier ?")[1]  # never a choice
    [listing] = [m for m in new if m.subject.startswith("Sondages")]
    assert "SO-2026-001" in words(listing) and "Votants : 1 sur 3" in words(listing)

    before = len(mailbox(clean_mail, AIDEUR))
    run_cycle(settings, sessions, at=CLOSING)
    [results] = [m for m in settle(clean_mail, AIDEUR, before + 1) if m.subject.startswith("Résultats du sondage")]
    assert "Alice Martin : le jeudi après-midi" in words(results) and "(100 %)" in words(results)
    assert not [m for m in mailbox(clean_mail, BRUNO) if "Résultats" in m.subject]  # results: aideur only
    listed = json.loads(mailbot(env, "polls", "list", "--json").stdout)
    assert listed[0]["ref"] == "SO-2026-001" and listed[0]["voters"] == 1 and listed[0]["anonymous"] is False
    shown = mailbot(env, "polls", "show", "SO-2026-001").stdout
    assert "nominatif" in shown and "2. le jeudi après-midi : 1" in shown and "Votants : 1" in shown
    assert mailbot(env, "polls", "show", "SO-1999-001").returncode == 1


@pytest.mark.sqlite_only
def test_a_wrong_poll_line_is_named_in_the_error_reply(clean_mail, settings, sessions):
    add_members(sessions)
    body = "#sondage\nquestion: Quel jour ?\n1: mardi\n2: jeudi\njusqu'au: bientôt\n"
    smtp_send(clean_mail, make_mail(AIDEUR, "Sondage", body, to=command_address(settings, sessions)))
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(settings, sessions, at=CLOCK)
    [error] = wait_mail(clean_mail, AIDEUR, 1)
    assert "jusqu'au: bientôt" in words(error) and "date de fin" in words(error)
    assert confirmation_requests(clean_mail) == []
    with sessions() as session:
        assert session.scalars(select(Poll)).all() == []
