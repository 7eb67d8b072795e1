"""Issue 13, point 6, end to end over the loopback servers: a year of French dates (2027).

Requests arrive on New Year's night, on the eve of each French public holiday of 2027 and around both changes of
summer time; Aideur answers with dates that fall on those holidays. Checked: the reference numbers (the club's
year, not UTC's), the dates the mails promise (never a weekend or a holiday), the promise's instant (18:00 in
Paris in winter and in summer), and every refusal naming the next working day.

Tickets are closed in the database once checked, so that a year of cycles does not pile up reminders and delay
notices (those have their own tests): every mail looked for is found by its reference, never by its position.
"""
from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from imap_tools import MailMessage
from sqlalchemy import select

from mailbot.calendar import MONTHS, WEEKDAYS, is_business_day
from mailbot.models import Ticket
from tests.helpers import AIDEUR, ALICE, BRUNO, CHLOE, CLUB, add_members, mailbox, make_mail, run_cycle, smtp_send
from tests.helpers import wait_mail as wait_count
from tests.integration.aideur_clients import reply_to_notification

pytestmark = pytest.mark.sqlite_only

PARIS = ZoneInfo("Europe/Paris")
MEMBERS = (ALICE, BRUNO, CHLOE)
# "lundi 4 janvier 2027", "jeudi 1er avril 2027": a date as the mails write it.
FRENCH_DATE = re.compile(rf"\b({'|'.join(WEEKDAYS)}) (\d{{1,2}})(?:er)? ({'|'.join(MONTHS)}) (\d{{4}})\b")

# The 2027 holidays: the eve the request comes, the date Aideur types, what the refusal names.
HOLIDAYS = [
    (date(2027, 3, 29), "29/03", "lundi de Pâques", "mardi 30 mars"),
    (date(2027, 5, 1), "01/05", "fête du Travail", "lundi 3 mai"),
    (date(2027, 5, 6), "jeudi 6 mai", "Ascension", "vendredi 7 mai"),
    (date(2027, 5, 8), "8 mai", "fête de la Victoire", "lundi 10 mai"),
    (date(2027, 7, 14), "14/07", "fête nationale", "jeudi 15 juillet"),
    (date(2027, 8, 15), "15/08", "Assomption", "lundi 16 août"),
    (date(2027, 11, 11), "11/11", "Armistice", "vendredi 12 novembre"),
    (date(2027, 12, 25), "25/12", "Noël", "lundi 27 décembre"),
]


def paris(*args: int) -> datetime:
    """A Paris wall-clock time as the naive UTC the cycles take."""
    return datetime(*args, tzinfo=PARIS).astimezone(UTC).replace(tzinfo=None)  # type: ignore[misc]


def words(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split())


def wait_for(server, address: str, match, timeout: float = 15.0) -> MailMessage:  # type: ignore[no-untyped-def]
    """The first mail in `address`'s box that `match` accepts (other mails may come in between: digests…)."""
    deadline = time.monotonic() + timeout
    while True:
        found = [m for m in mailbox(server, address) if match(m)]
        if found or time.monotonic() > deadline:
            assert found, f"no such mail for {address}: {[m.subject for m in mailbox(server, address)]}"
            return found[0]
        time.sleep(0.05)


def dates_in(text: str) -> list[date]:
    """Every French date written in `text`, each checked against its weekday name."""
    found = []
    for weekday, day, month, year in FRENCH_DATE.findall(words(text)):
        value = date(int(year), MONTHS.index(month) + 1, int(day))
        assert WEEKDAYS[value.weekday()] == weekday, f"{weekday} {day} {month} {year} is a {value:%A}"
        found.append(value)
    return found


class Club:
    """The club over the loopback servers, one request after another."""

    def __init__(self, server, settings, sessions) -> None:  # type: ignore[no-untyped-def]
        self.server, self.settings, self.sessions = server, settings, sessions
        self.count = 0

    def request(self, at: datetime, subject: str) -> tuple[str, MailMessage, MailMessage]:
        """A member's request processed at `at`: its reference, the member's acknowledgement, Aideur's note."""
        self.count += 1
        member = MEMBERS[self.count % len(MEMBERS)]
        subject = f"{subject} (demande {self.count})"
        smtp_send(self.server, make_mail(member, subject, f"Bonjour, j'ai besoin d'aide : {subject}."))
        wait_count(self.server, CLUB, 1)
        run_cycle(self.settings, self.sessions, at=at)
        ack = wait_for(self.server, member, lambda m: subject in m.subject and "bien reçue" in m.subject)
        ref = re.search(r"CA-\d{4}-\d{4}", ack.subject).group(0)  # type: ignore[union-attr]
        note = wait_for(self.server, AIDEUR, lambda m: ref in m.subject and subject in m.subject)
        return ref, ack, note

    def command(self, note: MailMessage, body: str, at: datetime) -> None:
        smtp_send(self.server, reply_to_notification(note, body, "thunderbird"))
        wait_count(self.server, CLUB, 1)
        run_cycle(self.settings, self.sessions, at=at)

    def refusal(self, ref: str, line: str) -> str:
        """The text of Aideur's "Commande non exécutée" about `line` on `ref`."""
        error = wait_for(self.server, AIDEUR, lambda m: ref in m.subject and "non exécutée" in m.subject
                         and line in m.text)
        return words(error.text)

    def ticket(self, ref: str) -> Ticket:
        with self.sessions() as session:
            return session.scalars(select(Ticket).where(Ticket.ref == ref)).one()

    def close(self, ref: str, at: datetime) -> None:
        """Out of the way of the following cycles' deadlines (closing mails have their own tests)."""
        with self.sessions.begin() as session:
            ticket = session.scalars(select(Ticket).where(Ticket.ref == ref)).one()
            ticket.status, ticket.closed_at, ticket.due_at = "closed", at, None


def promised_day(ticket: Ticket) -> date:
    """The local day of the ticket's promise, which must fall at 18:00 in Paris (winter or summer)."""
    assert ticket.due_at is not None
    local = ticket.due_at.replace(tzinfo=UTC).astimezone(PARIS)
    assert (local.hour, local.minute) == (18, 0), local
    return local.date()


def test_a_year_of_french_dates(clean_mail, settings, sessions):
    add_members(sessions)
    club = Club(clean_mail, settings, sessions)

    # --- New Year's night: 23:30 in Paris is still 2026; 00:30 in Paris is 2027 (23:30 UTC on 31 December).
    old_ref, old_ack, _ = club.request(paris(2026, 12, 31, 23, 30), "Réveillon")
    new_ref, new_ack, new_note = club.request(paris(2027, 1, 1, 0, 30), "Nouvel an")
    assert old_ref == "CA-2026-0001"
    assert new_ref == "CA-2027-0001"  # numbered in the club's new year, not UTC's old one
    # Two business days after Thursday 31 December: 1 January is a holiday, then the weekend.
    assert date(2027, 1, 5) in dates_in(old_ack.text)
    assert date(2027, 1, 6) in dates_in(new_ack.text)  # counted from Monday 4 January
    assert promised_day(club.ticket(new_ref)) == date(2027, 1, 6)
    # "#accepter demain" at 00:30 on 1 January (Paris) is Saturday 2 January, not 1 January: refused, Monday named.
    club.command(new_note, "#accepter demain", paris(2027, 1, 1, 0, 45))
    refused = club.refusal(new_ref, "#accepter demain")
    assert "samedi 2 janvier 2027 tombe un week-end" in refused and "est le lundi 4 janvier" in refused
    assert club.ticket(new_ref).status == "new"
    club.close(old_ref, paris(2027, 1, 1, 1, 0))
    club.close(new_ref, paris(2027, 1, 1, 1, 0))

    # --- Summer time begins on Sunday 28 March 2027 (02:00 → 03:00), on Easter weekend.
    ref, ack, note = club.request(paris(2027, 3, 28, 3, 30), "Heure d'été")
    assert ref == "CA-2027-0002"
    assert date(2027, 4, 1) in dates_in(ack.text)  # Easter Monday skipped: Tue 30, Wed 31, Thu 1 April
    assert promised_day(club.ticket(ref)) == date(2027, 4, 1)  # 18:00 CEST = 16:00 UTC
    club.close(ref, paris(2027, 3, 28, 4, 0))

    # --- The eve of each holiday: the acknowledgement's date is a working day, a promise on the holiday is refused.
    for holiday, typed, name, following in HOLIDAYS:
        eve = holiday - timedelta(days=1)
        ref, ack, note = club.request(paris(eve.year, eve.month, eve.day, 16, 0), f"Veille {name}")
        assert ref.startswith("CA-2027-")
        promised = dates_in(ack.text)
        assert promised and all(is_business_day(day) for day in promised), (name, promised)
        assert promised_day(club.ticket(ref)) in promised
        club.command(note, f"#accepter {typed}", paris(eve.year, eve.month, eve.day, 17, 0))
        refused = club.refusal(ref, f"#accepter {typed}")
        assert f"est férié ({name})" in refused and f"le prochain jour ouvré est le {following}." in refused, refused
        assert club.ticket(ref).status == "new"  # nothing done
        club.close(ref, paris(eve.year, eve.month, eve.day, 18, 0))

    # --- Pentecost: the "#accepter 17/05", then the right date, then postponements.
    ref, ack, note = club.request(paris(2027, 5, 12, 10, 0), "Pentecôte")
    club.command(note, "#accepter 17/05", paris(2027, 5, 12, 11, 0))
    assert "lundi 17 mai 2027 est férié (lundi de Pentecôte) : le prochain jour ouvré est le mardi 18 mai." in \
        club.refusal(ref, "#accepter 17/05")
    club.command(note, "#accepter 18/05", paris(2027, 5, 12, 11, 5))
    member = MEMBERS[club.count % len(MEMBERS)]
    accepted = wait_for(clean_mail, member, lambda m: ref in m.subject and "prend en charge" in m.subject)
    assert date(2027, 5, 18) in dates_in(accepted.text)
    assert promised_day(club.ticket(ref)) == date(2027, 5, 18)
    # A "postponement" to an earlier day, or to the same day, is refused, naming the promise standing.
    club.command(note, "#reporter 14/05 le prestataire est absent", paris(2027, 5, 12, 12, 0))
    earlier = club.refusal(ref, "#reporter 14/05")
    assert "vendredi 14 mai 2027 n'est pas après la date déjà promise au membre, le mardi 18 mai 2027" in earlier
    club.command(note, "#reporter 18/05 le prestataire est absent", paris(2027, 5, 12, 12, 5))
    assert "n'est pas après la date déjà promise" in club.refusal(ref, "#reporter 18/05")
    # A past day is refused as such.
    club.command(note, "#reporter 11/05/2027 trop tard", paris(2027, 5, 12, 12, 10))
    assert "mardi 11 mai 2027 est passée" in club.refusal(ref, "#reporter 11/05/2027")
    club.command(note, "#reporter 21/05 le prestataire est absent", paris(2027, 5, 12, 12, 15))
    moved = wait_for(clean_mail, member, lambda m: ref in m.subject and "Nouveau délai" in m.subject)
    assert date(2027, 5, 21) in dates_in(moved.text)
    assert promised_day(club.ticket(ref)) == date(2027, 5, 21)
    club.close(ref, paris(2027, 5, 12, 13, 0))
    # Reopening with a date: the same checks (14 July), then the next working day.
    club.command(note, "#rouvrir 14/07", paris(2027, 5, 12, 14, 0))
    assert "mercredi 14 juillet 2027 est férié (fête nationale)" in club.refusal(ref, "#rouvrir 14/07")
    assert club.ticket(ref).status == "closed"
    club.command(note, "#rouvrir 15/07", paris(2027, 5, 12, 14, 5))
    reopened = wait_for(clean_mail, member, lambda m: ref in m.subject and date(2027, 7, 15) in dates_in(m.text))
    assert "Nouveau délai" not in reopened.subject
    assert promised_day(club.ticket(ref)) == date(2027, 7, 15)
    club.close(ref, paris(2027, 5, 12, 15, 0))

    # --- Winter time: Sunday 31 October 2027, 03:00 → 02:00; "lundi prochain" that day is Toussaint.
    first, first_ack, _ = club.request(datetime(2027, 10, 31, 0, 30), "Heure d'hiver, avant")  # 02:30 CEST
    second, second_ack, note = club.request(datetime(2027, 10, 31, 1, 30), "Heure d'hiver, après")  # 02:30 CET
    for ref, ack in ((first, first_ack), (second, second_ack)):
        assert date(2027, 11, 4) in dates_in(ack.text)  # Toussaint skipped: Tue 2, Wed 3, Thu 4 November
        assert promised_day(club.ticket(ref)) == date(2027, 11, 4)  # 18:00 CET = 17:00 UTC
    club.command(note, "#accepter lundi prochain", datetime(2027, 10, 31, 9, 0))
    refused = club.refusal(second, "#accepter lundi prochain")
    assert "lundi 1er novembre 2027 est férié (Toussaint)" in refused and "est le mardi 2 novembre." in refused
    # "#reporter 25/12" on the Christmas eve of the issue: a holiday on a Saturday, refused with Monday 27.
    club.command(note, "#reporter 25/12 le cabinet est fermé", datetime(2027, 10, 31, 9, 5))
    refused = club.refusal(second, "#reporter 25/12")
    assert "samedi 25 décembre 2027 est férié (Noël)" in refused and "est le lundi 27 décembre." in refused
    assert promised_day(club.ticket(second)) == date(2027, 11, 4)  # unchanged

    # Every mail any member received in the year names only working days as promises.
    for address in MEMBERS:
        for mail in mailbox(clean_mail, address):
            for day in dates_in(mail.text):
                assert is_business_day(day), (mail.subject, day)


def test_the_commands_mailbot_suggests_are_accepted(clean_mail, settings, sessions):
    """The reminder and the late alert show a ready `#reporter DATE`: it must pass the date checks (a working day,
    after the promise standing) — the late alert used to suggest the very date it had just promised."""
    add_members(sessions)
    club = Club(clean_mail, settings, sessions)
    # Thursday 6 May 2027 is Ascension: a request on Tuesday 4 May is due Friday 7 May (Wed 5, Fri 7).
    ref, ack, _note = club.request(paris(2027, 5, 4, 10, 0), "Pont de l'Ascension")
    assert date(2027, 5, 7) in dates_in(ack.text)

    def accept_suggestion(mail: MailMessage, at: datetime, expected: date) -> None:
        before = promised_day(club.ticket(ref))
        [command] = re.findall(r"#reporter \d{1,2}/\d{2}", mail.text)
        assert command == f"#reporter {expected.day}/{expected.month:02d}"
        club.command(mail, f"{command}\nl'expert revient plus tard", at)
        assert promised_day(club.ticket(ref)) == expected > before

    run_cycle(settings, sessions, at=paris(2027, 5, 5, 9, 30))  # the reminder, the working day before
    reminder = wait_for(clean_mail, AIDEUR, lambda m: ref in m.subject and "Rappel" in m.subject)
    accept_suggestion(reminder, paris(2027, 5, 5, 10, 0), date(2027, 5, 11))  # Fri 7 + 2 working days
    # Tuesday 11 May passes: the member is told of a new date, Thursday 13; the alert suggests two working days
    # after it, across Pentecost Monday: Tuesday 18 May.
    run_cycle(settings, sessions, at=paris(2027, 5, 11, 18, 30))
    alert = wait_for(clean_mail, AIDEUR, lambda m: ref in m.subject and "Échéance dépassée" in m.subject)
    assert promised_day(club.ticket(ref)) == date(2027, 5, 13)
    accept_suggestion(alert, paris(2027, 5, 11, 18, 40), date(2027, 5, 18))
    assert [m for m in mailbox(clean_mail, AIDEUR) if "non exécutée" in m.subject] == []
