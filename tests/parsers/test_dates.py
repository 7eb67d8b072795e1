"""parse_date: French/ISO/English dates at the start of a command argument."""
from __future__ import annotations

from datetime import date

import pytest

from mailbot.parsers.dates import fold, parse_date

THURSDAY = date(2026, 12, 10)  # a Thursday; 25/12 is a holiday, 1/1 too

CASES = [
    # numeric
    ("15/12", date(2026, 12, 15), ""),
    ("15/12/2026", date(2026, 12, 15), ""),
    ("15/12/26", date(2026, 12, 15), ""),
    ("15-12", date(2026, 12, 15), ""),
    ("15.12.2026", date(2026, 12, 15), ""),
    ("2026-12-15", date(2026, 12, 15), ""),
    ("15 / 12", date(2026, 12, 15), ""),
    ("5/1", date(2027, 1, 5), ""),
    ("15/01", date(2027, 1, 15), ""),          # January typed in December: next year
    ("10/12", date(2026, 12, 10), ""),         # today is "on or after today"
    ("09/12", date(2027, 12, 9), ""),
    ("29/02", date(2028, 2, 29), ""),          # next year that has one
    # textual
    ("15 décembre", date(2026, 12, 15), ""),
    ("15 decembre 2026", date(2026, 12, 15), ""),
    ("15 DÉCEMBRE 2027", date(2027, 12, 15), ""),
    ("le 15 déc.", date(2026, 12, 15), ""),
    ("le 15 dec", date(2026, 12, 15), ""),
    ("1er décembre", date(2027, 12, 1), ""),
    ("1er janvier", date(2027, 1, 1), ""),
    ("3 fevrier", date(2027, 2, 3), ""),
    ("mardi 15 décembre", date(2026, 12, 15), ""),
    ("Mardi, 15 décembre 2026", date(2026, 12, 15), ""),
    ("17 sept.", date(2027, 9, 17), ""),
    ("dec 15", date(2026, 12, 15), ""),
    ("December 15th, 2027", date(2027, 12, 15), ""),
    ("le 17", date(2026, 12, 17), ""),
    ("jeudi 17", date(2026, 12, 17), ""),
    # weekdays: never today
    ("lundi", date(2026, 12, 14), ""),
    ("jeudi", date(2026, 12, 17), ""),
    ("lundi prochain", date(2026, 12, 14), ""),
    ("ce vendredi", date(2026, 12, 11), ""),
    ("lundi en huit", date(2026, 12, 21), ""),
    ("next monday", date(2026, 12, 14), ""),
    ("Monday", date(2026, 12, 14), ""),
    # relative
    ("demain", date(2026, 12, 11), ""),
    ("après-demain", date(2026, 12, 12), ""),
    ("apres demain", date(2026, 12, 12), ""),
    ("après\u2011demain", date(2026, 12, 12), ""),
    ("aujourd'hui", date(2026, 12, 10), ""),
    ("aujourd\u2019hui", date(2026, 12, 10), ""),
    ("dans 3 jours", date(2026, 12, 13), ""),
    ("dans 2 semaines", date(2026, 12, 24), ""),
    ("dans un mois", date(2027, 1, 10), ""),
    ("dans quinze jours", date(2026, 12, 24), ""),
    ("dans huit jours", date(2026, 12, 17), ""),
    ("sous 3 jours", date(2026, 12, 13), ""),
    ("dans 3 jours ouvrés", date(2026, 12, 15), ""),
    ("dans 3 jours ouvrables", date(2026, 12, 15), ""),
    ("dans 11 jours ouvres", date(2026, 12, 28), ""),   # skips two weekends and Christmas
    ("in 3 business days", date(2026, 12, 15), ""),
    ("in 3 days", date(2026, 12, 13), ""),
    ("in a week", date(2026, 12, 17), ""),
    ("tomorrow", date(2026, 12, 11), ""),
    ("today", date(2026, 12, 10), ""),
    # periods
    ("fin de semaine", date(2026, 12, 11), ""),
    ("en fin de semaine", date(2026, 12, 11), ""),
    ("fin de la semaine prochaine", date(2026, 12, 18), ""),
    ("fin du mois", date(2026, 12, 31), ""),
    ("d'ici la fin du mois", date(2026, 12, 31), ""),
    ("fin du mois prochain", date(2027, 1, 31), ""),
    ("end of the month", date(2026, 12, 31), ""),
    ("semaine prochaine", date(2026, 12, 14), ""),
    ("la semaine prochaine", date(2026, 12, 14), ""),
    ("next week", date(2026, 12, 14), ""),
    ("mois prochain", date(2027, 1, 1), ""),
    # the rest of the text
    ("15/12 le prestataire est malade", date(2026, 12, 15), "le prestataire est malade"),
    ("15/12 : le prestataire est malade", date(2026, 12, 15), "le prestataire est malade"),
    ("15/12 - raison", date(2026, 12, 15), "raison"),
    ("  lundi prochain, il est en congé  ", date(2026, 12, 14), "il est en congé"),
    ("Mardi\u00a015\u00a0décembre\u00a0: raison", date(2026, 12, 15), "raison"),
    ("pour le 15/12. Merci", date(2026, 12, 15), "Merci"),
    ("jusqu'au 15 décembre inclus", date(2026, 12, 15), "inclus"),
    ("DEMAIN matin", date(2026, 12, 11), "matin"),
    ("dans 3 jours ouvrés car absent", date(2026, 12, 15), "car absent"),
    ("le 15 déc. Il revient", date(2026, 12, 15), "Il revient"),
]


@pytest.mark.parametrize(("text", "expected", "rest"), CASES, ids=[case[0] for case in CASES])
def test_reads_dates(text: str, expected: date, rest: str) -> None:
    assert parse_date(text, THURSDAY) == (expected, rest)


NOT_DATES = [
    "31/02",            # does not exist
    "31/04/2027",
    "32/12",
    "15/13",
    "30 février",
    "hello",
    "",
    "lundis",           # a word that starts like a weekday
    "1.200 €",          # a price, not 1 February
    "demainville",
    "le prestataire est malade",
    "3 pommes",
    "#accepter",
    "12h30",
]


@pytest.mark.parametrize("text", NOT_DATES)
def test_not_a_date(text: str) -> None:
    assert parse_date(text, THURSDAY) == (None, text)


@pytest.mark.parametrize(("today", "text", "expected"), [
    (date(2026, 12, 11), "fin de semaine", date(2026, 12, 11)),   # Friday: today
    (date(2026, 12, 12), "fin de semaine", date(2026, 12, 18)),   # Saturday: next Friday
    (date(2026, 12, 14), "lundi", date(2026, 12, 21)),            # Monday: never today
    (date(2026, 12, 31), "fin du mois", date(2026, 12, 31)),
    (date(2027, 1, 31), "dans un mois", date(2027, 2, 28)),       # clamped to the month's end
    (date(2026, 12, 24), "dans 1 jour ouvré", date(2026, 12, 28)),  # Christmas and the weekend skipped
    (date(2026, 12, 20), "le 17", date(2027, 1, 17)),
    (date(2027, 1, 31), "le 30", date(2027, 3, 30)),             # February has no 30th
])
def test_relative_to_today(today: date, text: str, expected: date) -> None:
    assert parse_date(text, today)[0] == expected


def test_fold_keeps_length() -> None:
    text = "Après\u2011demain\u00a0: Déc. ＃ŒUVRE ﬁn"
    assert len(fold(text)) == len(text)
    assert fold("Après\u2011demain\u00a0:") == "apres-demain :"
