"""Time: a ticket left alone gives Aideur a reminder, then the member a delay notice — exactly once each, across
daemon restarts (each `run --once --at T` is a fresh process)."""
from __future__ import annotations

import json

from tests.conftest import make_env
from tests.helpers import AIDEUR, ALICE, CLUB, add_members, make_mail, settle, smtp_send, wait_mail
from tests.integration.aideur_clients import reply_to_notification
from tests.integration.daemon_process import DaemonProcess


def once(daemon: DaemonProcess, at: str) -> dict:  # type: ignore[type-arg]
    result = daemon.run_once_at(at)
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    return json.loads(result.stdout)


def test_reminder_then_delay_notice_exactly_once_across_restarts(clean_mail, database_url, sessions_for):
    env = make_env(clean_mail, database_url)
    add_members(sessions_for(database_url))
    daemon = DaemonProcess(env)
    smtp_send(clean_mail, make_mail(ALICE, "Bail commercial", "Mon bailleur augmente le loyer de 30 %."))
    wait_mail(clean_mail, CLUB, 1)
    once(daemon, "2026-11-26T11:00")  # Thursday, Paris time: answer due Monday 30 November, 18:00
    assert once(daemon, "2026-11-27T08:59")["jobs"]["deadlines"] == 0  # Friday before 9:00: too early
    assert once(daemon, "2026-11-27T09:00")["jobs"]["deadlines"] == 1  # the working day before: reminder
    assert once(daemon, "2026-11-27T15:00")["jobs"]["deadlines"] == 0  # restarted: not again
    assert once(daemon, "2026-11-30T17:59")["jobs"]["deadlines"] == 0
    assert once(daemon, "2026-11-30T18:00")["jobs"]["deadlines"] == 1  # due: the member is told, with a new date
    assert once(daemon, "2026-11-30T19:00")["jobs"]["deadlines"] == 0
    # The new date (Wednesday 2 December) is a promise like any other: reminded the day before, told if missed.
    assert once(daemon, "2026-12-01T08:59")["jobs"]["deadlines"] == 0
    assert once(daemon, "2026-12-01T10:00")["jobs"]["deadlines"] == 1
    assert once(daemon, "2026-12-02T17:59")["jobs"]["deadlines"] == 0
    assert once(daemon, "2026-12-03T10:00")["jobs"]["deadlines"] == 1
    assert once(daemon, "2026-12-03T11:00")["jobs"]["deadlines"] == 0

    member = settle(clean_mail, ALICE, 3)
    assert [m.subject for m in member] == ["[CA-2026-0001] Demande bien reçue : Bail commercial",
                                           "[CA-2026-0001] Votre demande prend du retard",
                                           "[CA-2026-0001] Votre demande prend du retard"]
    late, again = (" ".join(m.text.split()) for m in member[1:])
    assert "lundi 30 novembre 2026" in late and "excuser" in late
    # Never "n'a pas encore pu vous répondre" alone: a reason, and a new date two working days later.
    assert "La raison de ce retard : Aideur n'a pas pu étudier votre demande à temps." in late
    assert "au plus tard le mercredi 2 décembre 2026" in late
    assert "mercredi 2 décembre 2026" in again and "au plus tard le lundi 7 décembre 2026" in again  # weekend skipped
    # (Monday's weekly digest also reaches Aideur in this time span: it is not a deadline mail.)
    aideur = [m for m in settle(clean_mail, AIDEUR, 6) if "bilan de la semaine" not in m.subject]
    assert [m.subject.split("] ", 1)[1] for m in aideur] == [
        "Nouvelle demande (Alice Martin) : Bail commercial",
        "Rappel : échéance le lundi 30 novembre 2026",
        "Échéance dépassée : le membre a été prévenu",
        "Rappel : échéance le mercredi 2 décembre 2026",
        "Échéance dépassée : le membre a été prévenu"]
    # The reminder asks for a new date and its reason, with the command to send.
    reminder = " ".join(aideur[1].text.split())
    assert "#reporter 2/12" in reminder and "raison" in reminder


def test_postponed_promise_passing_tells_the_member_the_reason(clean_mail, database_url, sessions_for):
    env = make_env(clean_mail, database_url)
    add_members(sessions_for(database_url))
    daemon = DaemonProcess(env)
    smtp_send(clean_mail, make_mail(ALICE, "Logiciel", "Quel logiciel de caisse choisir ?"))
    wait_mail(clean_mail, CLUB, 1)
    once(daemon, "2026-11-26T11:00")
    [note] = wait_mail(clean_mail, AIDEUR, 1)
    smtp_send(clean_mail, reply_to_notification(note, "#reporter 4/12 le membre expert revient de congés le 3",
                                                "thunderbird"))
    wait_mail(clean_mail, CLUB, 1)
    once(daemon, "2026-11-26T12:00")
    assert once(daemon, "2026-11-30T18:30")["jobs"]["deadlines"] == 0  # the old date no longer counts
    assert once(daemon, "2026-12-03T09:30")["jobs"]["deadlines"] == 1  # reminder for the new date
    assert once(daemon, "2026-12-04T18:00")["jobs"]["deadlines"] == 1
    member = settle(clean_mail, ALICE, 3)
    assert "Nouveau délai" in member[1].subject
    late = member[2]
    assert "retard" in late.subject and "le membre expert revient de congés le 3" in late.text
    assert "vendredi 4 décembre 2026" in late.text
    assert "mardi 8 décembre 2026" in " ".join(late.text.split())  # the new date, two working days later
    # That new date passes too: the reason given for 4 December is not told again for it.
    assert once(daemon, "2026-12-07T09:30")["jobs"]["deadlines"] == 1
    assert once(daemon, "2026-12-08T18:00")["jobs"]["deadlines"] == 1
    second = " ".join(settle(clean_mail, ALICE, 4)[3].text.split())
    assert "retard" in second and "expert" not in second and "congés" not in second
    assert "Aideur n'a pas pu étudier votre demande à temps" in second
    assert "au plus tard le jeudi 10 décembre 2026" in second
