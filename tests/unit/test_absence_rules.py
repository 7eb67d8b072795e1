"""Absences (issue 13, point 4), the pure rules: reading `#absent DU AU`, and telling Aideur's automatic answer from
a word for the member (other phrasings than the end-to-end tests)."""
from __future__ import annotations

from datetime import date

import pytest

from mailbot.commands.absent import read_range
from mailbot.parsers import parse_mail
from mailbot.workflows.absences import automatic_reason
from tests.helpers import AIDEUR, make_mail

TODAY = date(2026, 12, 6)


@pytest.mark.parametrize(("text", "start", "end", "motif"), [
    ("22/12 05/01", date(2026, 12, 22), date(2027, 1, 5), ""),
    ("22/12/2026 05/01/2027 congés", date(2026, 12, 22), date(2027, 1, 5), "congés"),
    ("du 22 décembre au 5 janvier", date(2026, 12, 22), date(2027, 1, 5), ""),
    ("du 22/12 jusqu'au 05/01 ski en famille", date(2026, 12, 22), date(2027, 1, 5), "ski en famille"),
    ("22 déc. - 3 janv.", date(2026, 12, 22), date(2027, 1, 3), ""),
    ("demain 14/12", date(2026, 12, 7), date(2026, 12, 14), ""),
    ("1/12 14/12", date(2026, 12, 1), date(2026, 12, 14), ""),  # began last week, declared now
])
def test_absence_dates_read_in_order_across_new_year(text: str, start: date, end: date, motif: str) -> None:
    assert read_range(text, TODAY) == (start, end, motif)


@pytest.mark.parametrize(("text", "problem"), [
    ("22/12", "date de fin"), ("bientôt", "date de début"), ("1/12 3/12", "déjà passée"),
    ("22/12 05/01/2028", "l'année"), ("22/12 31/02", "date de fin"),
])
def test_bad_absence_dates_say_what_is_wrong(text: str, problem: str) -> None:
    found = read_range(text, TODAY)
    assert isinstance(found, str) and problem in found and "#absent 22/12 05/01" in found


def _mail(subject: str, body: str):  # type: ignore[no-untyped-def]
    return parse_mail(bytes(make_mail(AIDEUR, subject, body)))


@pytest.mark.parametrize(("subject", "body"), [
    ("Congés de fin d'année", "Bonjour, le bureau est fermé jusqu'au 4 janvier. Bonnes fêtes !"),
    ("Absent", "Merci pour votre mail."),
    ("Fermeture estivale", "Je suis en vacances, de retour le 24 août."),
    ("Re: [CA-2026-0001] Nouvelle demande", "Je suis actuellement absent et n'ai qu'un accès limité à mes mails."),
    ("Re: [CA-2026-0001] Nouvelle demande", "I am currently out of the office, back Monday."),
    ("Re: [CA-2026-0001] Nouvelle demande", "Je prendrai connaissance de votre message à mon retour, le 5."),
    ("Out of Office: [CA-2026-0001] Nouvelle demande", "Back soon."),
])
def test_vacation_notices_are_automatic(subject: str, body: str) -> None:
    assert automatic_reason(_mail(subject, body), body, "CA-2026-0001")


@pytest.mark.parametrize("body", [
    "Bonjour Alice, je vous mets en relation avec un avocat dès lundi.",
    "Bonjour Alice, je serai absent demain mais Bruno peut vous aider : je lui transmets.",
    "Je suis absent la semaine prochaine ; je vous rappelle à mon retour, le 14.",
])
def test_a_reply_quoting_the_notification_is_a_word_for_the_member(body: str) -> None:
    quoted = body + "\n\nLe 26/11/2026 à 10:00, Club Aide a écrit :\n> [CA-2026-0001] Nouvelle demande\n> Bail"
    mail = _mail("Re: [CA-2026-0001] Nouvelle demande", quoted)
    assert automatic_reason(mail, mail.new_text, "CA-2026-0001") == ""


# Attack (issue 13, point 4): English autoresponders and contractions, and a notice that quotes the notification
# but says it is automatic. Each of these was relayed to the member as Aideur's message.
NOTIFICATION_QUOTED = "\n\nLe 26/11/2026 à 10:00, Club Aide a écrit :\n> [CA-2026-0001] Nouvelle demande\n> Bail"


@pytest.mark.parametrize("body", [
    "Thank you for your email. I am on annual leave until Monday 4 January and will reply on my return.",
    "I'm away until January 4th. For urgent matters please contact Bruno.",
    "Hello, I'm on holiday until 4 January; I'll answer when I'm back.",
    "I'm currently on vacation with limited access to email.",
    "Ceci est un message automatique. Je suis absent jusqu'au 4 janvier." + NOTIFICATION_QUOTED,
    "I am out of the office until 4 January. This is an automated reply." + NOTIFICATION_QUOTED,
    "Message automatique : je suis en congés jusqu'au 4 janvier inclus." + NOTIFICATION_QUOTED,
])
def test_other_vacation_notices_are_automatic(body: str) -> None:
    mail = _mail("Re: [CA-2026-0001] Nouvelle demande", body)
    assert automatic_reason(mail, mail.new_text, "CA-2026-0001")


@pytest.mark.parametrize("body", [
    "Hello Alice, I'm away tomorrow but Bruno can help you: I am forwarding your request.",
    "Bonjour Alice, vous avez peut-être reçu un message automatique de ma part : je suis bien là, je m'en occupe.",
])
def test_a_person_mentioning_absence_or_automatic_mail_is_still_relayed(body: str) -> None:
    mail = _mail("Re: [CA-2026-0001] Nouvelle demande", body + NOTIFICATION_QUOTED)
    assert automatic_reason(mail, mail.new_text, "CA-2026-0001") == ""


# Attack (point 4): other ways to write the absence's two days. Each was refused with « n'a pas pu être lue ».
@pytest.mark.parametrize(("text", "start", "end", "motif"), [
    ("jusqu'au 5 janvier", TODAY, date(2027, 1, 5), ""),  # from today
    ("jusqu'au 05/01 congés", TODAY, date(2027, 1, 5), "congés"),
    ("21/12-04/01", date(2026, 12, 21), date(2027, 1, 4), ""),  # a dash without spaces
    ("21/12–04/01 ski", date(2026, 12, 21), date(2027, 1, 4), "ski"),
    ("du 21 au 31 décembre", date(2026, 12, 21), date(2026, 12, 31), ""),  # the month written once
    ("du 28 décembre au 4 janvier", date(2026, 12, 28), date(2027, 1, 4), ""),
    ("28-31 décembre", date(2026, 12, 28), date(2026, 12, 31), ""),
    ("du 28 au 4 janvier", date(2026, 12, 28), date(2027, 1, 4), ""),  # across New Year, month once
])
def test_other_ways_to_write_an_absence(text: str, start: date, end: date, motif: str) -> None:
    assert read_range(text, TODAY) == (start, end, motif)


@pytest.mark.parametrize(("text", "start", "end"), [
    ("22-12-2026 05-01-2027", date(2026, 12, 22), date(2027, 1, 5)),
    ("22.12 au 05.01", date(2026, 12, 22), date(2027, 1, 5)),
    ("22/12/26 05/01/27", date(2026, 12, 22), date(2027, 1, 5)),
])
def test_full_dates_with_dashes_and_short_years_still_read(text: str, start: date, end: date) -> None:
    assert read_range(text, TODAY) == (start, end, "")
