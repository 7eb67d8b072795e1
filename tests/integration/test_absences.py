"""Aideur's absences (issue 13, point 4), end to end over the loopback servers: `#absent DU AU` through the command
address (confirmed by OUI), promises moved after the return with one mail per member, new requests promised from
the return, and Aideur's vacation notices — with or without headers — never relayed to a member."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from mailbot.models import Absence, Event, Ticket
from tests.helpers import (
    AIDEUR,
    ALICE,
    BRUNO,
    CHLOE,
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

FRIDAY = datetime(2026, 12, 18, 10, 0)  # 11:00 in Paris: a request's answer is due Tuesday 22 December
MOTIF = "congés de fin d'année à la montagne"


def words(message) -> str:  # type: ignore[no-untyped-def]
    return " ".join(message.text.split())


def command_address(note) -> str:  # type: ignore[no-untyped-def]
    return next(line.strip() for line in note.text.splitlines() if line.strip().startswith("aide+c"))


def requests_at(server, settings, sessions, at, *mails) -> list:  # type: ignore[no-untyped-def, type-arg]
    """Members' requests, one cycle; returns Aideur's notifications (in arrival order)."""
    before = len(mailbox(server, AIDEUR))
    for sender, subject, text in mails:
        smtp_send(server, make_mail(sender, subject, text))
    wait_mail(server, CLUB, len(mails))
    run_cycle(settings, sessions, at=at)
    return wait_mail(server, AIDEUR, before + len(mails))[before:]


def to_command_address(server, settings, sessions, note, body, at, subject="Absence"):  # type: ignore[no-untyped-def]
    smtp_send(server, make_mail(AIDEUR, subject, body, to=command_address(note)))
    wait_mail(server, CLUB, 1)
    return run_cycle(settings, sessions, at=at)


def dues(sessions) -> dict[str, datetime | None]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return dict(session.execute(select(Ticket.ref, Ticket.due_at)).all())


def test_absence_moves_promises_after_the_return_and_tells_each_member_once(clean_mail, settings, sessions):
    add_members(sessions)
    notes = requests_at(clean_mail, settings, sessions, FRIDAY,
                        (ALICE, "Bail commercial", "Mon bailleur augmente le loyer de 30 %."),
                        (ALICE, "Logiciel de caisse", "Quel logiciel de caisse choisir ?"),
                        (BRUNO, "Assurance décennale", "Quel assureur pour la décennale ?"))
    assert set(dues(sessions).values()) == {datetime(2026, 12, 22, 17, 0)}  # Tuesday 22 December, 18:00 Paris
    # Through the command address, the absence waits for Aideur's OUI: nothing moves, nobody is told before.
    to_command_address(clean_mail, settings, sessions, notes[0], f"#absent 22/12 05/01 {MOTIF}\n\nAideur",
                       datetime(2026, 12, 18, 11, 0))
    [request] = confirmation_requests(clean_mail)
    assert "#absent 22/12 05/01" in request.text and "prévenu une fois" in words(request)
    assert set(dues(sessions).values()) == {datetime(2026, 12, 22, 17, 0)}
    confirm_command(clean_mail, settings, sessions, datetime(2026, 12, 18, 12, 0))
    with sessions() as session:
        [absence] = session.scalars(select(Absence)).all()
        assert (absence.starts_on.isoformat(), absence.ends_on.isoformat()) == ("2026-12-22", "2027-01-05")
    # Back Wednesday 6 January; the promises had no business day left: his return day to catch up, then Thursday.
    assert set(dues(sessions).values()) == {datetime(2027, 1, 7, 17, 0)}

    alice = settle(clean_mail, ALICE, 3)
    assert len(alice) == 3  # two acknowledgements, ONE mail for both requests
    [told] = [m for m in alice if "Aideur absent" in m.subject]
    text = words(told)
    assert "mercredi 6 janvier 2027" in text and "jeudi 7 janvier 2027" in text and "mardi 22 décembre 2026" in text
    assert "Bail commercial" in text and "Logiciel de caisse" in text
    assert "montagne" not in text and "congés" not in text  # the motif is Aideur's own
    bruno = settle(clean_mail, BRUNO, 2)
    assert len(bruno) == 2 and "Assurance décennale" in words(bruno[1]) and "montagne" not in words(bruno[1])
    assert mailbox(clean_mail, CHLOE) == []
    summary = [m for m in mailbox(clean_mail, AIDEUR) if m.subject.startswith("Absence enregistrée")]
    assert len(summary) == 1 and MOTIF in words(summary[0]) and "CA-2026-0003" in words(summary[0])

    # During the absence: no delay notice on the old date, none on the days away.
    assert run_cycle(settings, sessions, at=datetime(2026, 12, 22, 18, 0)).jobs.get("deadlines", 0) == 0
    # A new request during the absence: promised from the return, and its acknowledgement says so.
    smtp_send(clean_mail, make_mail(CHLOE, "Prud'hommes", "Un salarié me convoque aux prud'hommes."))
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(settings, sessions, at=datetime(2026, 12, 28, 10, 0))
    [ack] = wait_mail(clean_mail, CHLOE, 1)
    ack_text = words(ack)
    assert "absent" in ack_text and "mercredi 6 janvier 2027" in ack_text and "vendredi 8 janvier 2027" in ack_text
    assert dues(sessions)["CA-2026-0004"] == datetime(2027, 1, 8, 17, 0)
    for day in (datetime(2026, 12, 30, 10, 0), datetime(2027, 1, 5, 18, 0)):
        assert run_cycle(settings, sessions, at=day).jobs.get("deadlines", 0) == 0
    # The moved promise is one like any other after the return (told if it passes): once each; Chloé's is
    # reminded to Aideur the day before.
    assert run_cycle(settings, sessions, at=datetime(2027, 1, 7, 18, 0)).jobs.get("deadlines", 0) == 4
    assert len(settle(clean_mail, ALICE, 5)) == 5 and len(settle(clean_mail, BRUNO, 3)) == 3
    assert all("montagne" not in words(m) for m in mailbox(clean_mail, ALICE) + mailbox(clean_mail, BRUNO))


@pytest.mark.sqlite_only  # wording and routing: the queries are those the first test runs on both
def test_bad_absence_dates_get_an_error_naming_what_was_wrong(clean_mail, settings, sessions):
    add_members(sessions)
    [note] = requests_at(clean_mail, settings, sessions, FRIDAY, (ALICE, "Bail", "Mon bailleur augmente le loyer."))
    for body, expected in (("#absent 22/12", "date de fin"), ("#absent bientôt 05/01", "date de début"),
                           ("#absent 10/12 12/12", "déjà passée"), ("#absent 22/12 05/01/2028", "vérifiez l'année")):
        before = len(mailbox(clean_mail, AIDEUR))
        to_command_address(clean_mail, settings, sessions, note, body, FRIDAY)
        [error] = wait_mail(clean_mail, AIDEUR, before + 1)[before:]
        assert expected in words(error) and "#absent 22/12 05/01" in words(error), words(error)
    assert confirmation_requests(clean_mail) == []
    with sessions() as session:
        assert session.scalars(select(Absence)).all() == []
    assert len(settle(clean_mail, ALICE, 1)) == 1


@pytest.mark.sqlite_only  # wording and routing: the queries are those the first test runs on both
def test_absent_alone_shows_it_and_annuler_ends_it(clean_mail, settings, sessions):
    add_members(sessions)
    [note] = requests_at(clean_mail, settings, sessions, FRIDAY, (ALICE, "Bail", "Mon bailleur augmente le loyer."))
    to_command_address(clean_mail, settings, sessions, note, "#away du 22 décembre au 5 janvier", FRIDAY)
    confirm_command(clean_mail, settings, sessions, FRIDAY)
    before = len(mailbox(clean_mail, AIDEUR))
    to_command_address(clean_mail, settings, sessions, note, "#absent", FRIDAY)  # quiet: no OUI asked
    [shown] = wait_mail(clean_mail, AIDEUR, before + 1)[before:]
    assert "mercredi 6 janvier 2027" in words(shown)
    to_command_address(clean_mail, settings, sessions, note, "#absent annuler", FRIDAY)
    [ended] = wait_mail(clean_mail, AIDEUR, before + 2)[before + 1:]
    assert ended.subject == "Absence terminée"
    with sessions() as session:
        assert session.scalars(select(Absence)).one().cancelled_at == FRIDAY
    assert len(confirmation_requests(clean_mail)) == 1


VACATION = ("Bonjour,\n\nJe suis absent du 22 décembre au 5 janvier inclus. Je prendrai connaissance de votre "
            "message à mon retour.\n\nEn cas d'urgence, appelez le secrétariat.\n\nAideur")


def vacation_notice(note, subject: str, body: str = VACATION, **headers: str):  # type: ignore[no-untyped-def]
    """What a vacation responder sends back to a notification: its own subject, no quote."""
    mail = make_mail(AIDEUR, subject, body, to=note.reply_to[0], **headers)
    mail["In-Reply-To"] = note.headers["message-id"][0]
    return mail


@pytest.mark.sqlite_only  # wording and routing: the queries are those the first test runs on both
def test_aideurs_vacation_notice_is_never_relayed_to_a_member(clean_mail, settings, sessions):
    add_members(sessions)
    notes = requests_at(clean_mail, settings, sessions, FRIDAY,
                        (ALICE, "Bail commercial", "Mon bailleur augmente le loyer de 30 %."),
                        (BRUNO, "Assurance décennale", "Quel assureur pour la décennale ?"),
                        (CHLOE, "Prud'hommes", "Un salarié me convoque aux prud'hommes."))
    smtp_send(clean_mail, vacation_notice(notes[0], "Congés de fin d'année"))  # no header says it is automatic
    smtp_send(clean_mail, vacation_notice(notes[0], "Congés de fin d'année"))  # the same, in a row
    smtp_send(clean_mail, vacation_notice(notes[1], "Absence du bureau", Auto_Submitted="auto-replied"))
    smtp_send(clean_mail, vacation_notice(notes[2], "Re: " + notes[2].subject,
                                          "Je suis actuellement en congés, de retour le 6 janvier.\nAideur"))
    # And to a notice whose reply address is his command address: no "command not executed" error back.
    smtp_send(clean_mail, make_mail(AIDEUR, "Congés de fin d'année", VACATION, to=command_address(notes[0])))
    wait_mail(clean_mail, CLUB, 5)
    run_cycle(settings, sessions, at=datetime(2026, 12, 18, 11, 0))
    # A human answer still goes through.
    smtp_send(clean_mail, reply_to_notification(notes[0], "Bonjour Alice, je vous mets en relation avec un "
                                                          "avocat dès lundi.", "thunderbird"))
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(settings, sessions, at=datetime(2026, 12, 18, 12, 0))
    alice = settle(clean_mail, ALICE, 2)
    assert len(alice) == 2 and "avocat dès lundi" in words(alice[1])
    assert all("absent" not in words(m) and "congés" not in words(m) for m in alice)
    for member in (BRUNO, CHLOE):
        assert len(settle(clean_mail, member, 1)) == 1  # the acknowledgement only
    told = [m for m in mailbox(clean_mail, AIDEUR) if "réponse automatique" in m.subject]
    assert len(told) == 1 and "#absent" in words(told[0])  # once, with the suggestion
    assert len(mailbox(clean_mail, AIDEUR)) == 4  # the three notifications and that notice: no error reply
    with sessions() as session:
        held = session.scalars(select(Event).where(Event.kind == "aideur-auto-reply")).all()
    assert len(held) == 5


@pytest.mark.sqlite_only  # wording and routing: the queries are those the first test runs on both
def test_the_same_text_to_two_tickets_waits_for_aideurs_oui(clean_mail, settings, sessions):
    add_members(sessions)
    notes = requests_at(clean_mail, settings, sessions, FRIDAY,
                        (ALICE, "Bail commercial", "Mon bailleur augmente le loyer de 30 %."),
                        (BRUNO, "Assurance décennale", "Quel assureur pour la décennale ?"))
    text = "Merci pour votre message, je regarde cela avec attention cette semaine."
    for note in notes:
        smtp_send(clean_mail, reply_to_notification(note, text, "thunderbird"))
        wait_mail(clean_mail, CLUB, 1)
        run_cycle(settings, sessions, at=datetime(2026, 12, 18, 11, 0))
    assert text in words(settle(clean_mail, ALICE, 2)[1])
    assert len(settle(clean_mail, BRUNO, 1)) == 1  # held
    [request] = confirmation_requests(clean_mail)
    assert "CA-2026-0001" in words(request) and text in words(request)
    confirm_command(clean_mail, settings, sessions, datetime(2026, 12, 18, 12, 0))
    bruno = settle(clean_mail, BRUNO, 2)
    assert len(bruno) == 2 and text in words(bruno[1])


@pytest.mark.sqlite_only  # wording and routing: the queries are those the first test runs on both
def test_a_promise_passing_just_before_the_absence_gets_one_notice_dated_after_the_return(clean_mail, env,
                                                                                          settings, sessions):
    from tests.integration.test_cli import mailbot

    add_members(sessions)
    requests_at(clean_mail, settings, sessions, datetime(2026, 12, 10, 10, 0),
                (ALICE, "Bail commercial", "Mon bailleur augmente le loyer de 30 %."))  # due Monday 14 December
    # Declared from the shell the morning the promise falls due: the absence starts the next day.
    declared = mailbot(env, "absence", "set", "15/12", "05/01", "opération", "--at", "2026-12-14T10:00")
    assert declared.returncode == 0, declared.stderr
    assert "retour le mercredi 6 janvier 2027" in declared.stdout
    assert dues(sessions)["CA-2026-0001"] == datetime(2026, 12, 14, 17, 0)  # not in the absence: kept
    bad = mailbot(env, "absence", "set", "15/12", "--at", "2026-12-14T10:00")
    assert bad.returncode == 1 and "date de fin" in bad.stderr
    # The promise passes: ONE delay notice, whose new date is after the return — then silence until then.
    assert run_cycle(settings, sessions, at=datetime(2026, 12, 14, 17, 30)).jobs.get("deadlines", 0) == 1
    for day in (datetime(2026, 12, 16, 18, 0), datetime(2026, 12, 28, 10, 0), datetime(2027, 1, 5, 18, 0)):
        assert run_cycle(settings, sessions, at=day).jobs.get("deadlines", 0) == 0
    alice = settle(clean_mail, ALICE, 2)
    assert len(alice) == 2 and "retard" in alice[1].subject
    assert "jeudi 7 janvier 2027" in words(alice[1]) and "opération" not in words(alice[1])
    assert dues(sessions)["CA-2026-0001"] == datetime(2027, 1, 7, 17, 0)
    aideur = [m.subject for m in mailbox(clean_mail, AIDEUR)]
    assert sum(s.startswith("Absence enregistrée") for s in aideur) == 1
    shown = mailbot(env, "absence", "show", "--at", "2026-12-20T10:00")
    assert "du mardi 15 décembre 2026 au mardi 5 janvier 2027" in shown.stdout and "opération" in shown.stdout
    cleared = mailbot(env, "absence", "clear", "--at", "2026-12-20T10:00")
    assert cleared.returncode == 0 and "terminée" in cleared.stdout
    assert "aucune absence" in mailbot(env, "absence", "show", "--at", "2026-12-20T10:00").stdout
