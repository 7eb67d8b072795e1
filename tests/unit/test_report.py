"""The week's figures (mailbot.report), Aideur's weekly digest job (mailbot.workflows.digest) and `mailbot report`.

One seeded week with known answers, on SQLite and PostgreSQL. The digest day is Monday 30 November 2026; times
are naive UTC, Paris being UTC+1 in November.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from datetime import date, datetime, timedelta
from email import message_from_bytes, policy
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from mailbot.compose import TemplateRenderer
from mailbot.config import Settings, load_settings
from mailbot.models import Connection, Consent, Event, Member, OutboxMail, ResultForm, Ticket
from mailbot.outbox import Outbox
from mailbot.report import build_digest, period_label, summary, week_start
from mailbot.tokens import TokenSigner
from mailbot.workflows.base import WorkflowContext
from mailbot.workflows.digest import digest_context, iso_week, weekly_digest

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 30, 7, 0)  # Monday 30 November 2026, 08:00 in Paris
AIDEURS = ("aideur@club.test", "aideur2@club.test")
SCRIPT = "<script>alert('x')</script>"


def at(day: int, hour: int = 12, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute)


@pytest.fixture
def db(database_url, sessions_for):  # type: ignore[no-untyped-def]
    return sessions_for(database_url)


@pytest.fixture
def settings(database_url) -> Settings:  # type: ignore[no-untyped-def]
    return load_settings(env(database_url), env_file=None)


def env(database_url: str) -> dict[str, str]:
    return {"MAILBOT_DATABASE_URL": database_url, "MAILBOT_CLUB_ADDRESS": "aide@club.test",
            "MAILBOT_AIDEUR_ADDRESSES": ",".join(AIDEURS), "MAILBOT_SECRET_KEY": "test-secret-0123456789abcdef",
            "MAILBOT_TIMEZONE": "Europe/Paris"}


def seed(session) -> None:  # type: ignore[no-untyped-def]
    """The week of 23-29 November 2026, with every figure known in advance (see the expectations below)."""
    def member(email: str | None, first: str, last: str, created: datetime, status: str = "active",
               activity: str = "") -> Member:
        row = Member(email=email, first_name=first, last_name=last, created_at=created, status=status,
                     activity=activity)
        session.add(row)
        session.flush()
        return row

    alice = member("alice@membres.test", "Alice", "Martin", at(1, month=10))
    bruno = member("bruno@membres.test", "Bruno", "Petit", at(2, month=10))
    member("old@membres.test", "Ancien", "Membre", at(10))  # before the week
    member("jean@membres.test", "Jean", "Dupont", at(24, 10), activity="menuisier")  # new 1
    member("lea@membres.test", "Léa", "Roux", at(25, 10), activity="graphiste")  # new 2
    member("marc@membres.test", "Marc", "Blanc", at(26, 10), status="ended")  # new 3: joined, then left
    erased = member(None, "", "", at(27, 10), status="erased")  # joined and erased: not counted
    member("later@membres.test", "Tard", "Venu", NOW + timedelta(hours=2))  # after the week

    def ticket(number: int, created: datetime, status: str, member_id: int, *, due: datetime | None = None,
               closed: datetime | None = None, subject: str = "", promise: str = "answer") -> Ticket:
        row = Ticket(ref=f"CA-2026-{number:04d}", member_id=member_id, status=status, created_at=created,
                     subject=subject or f"Demande {number}", due_at=due, closed_at=closed, promise=promise)
        session.add(row)
        session.flush()
        return row

    def event(ticket_: Ticket, kind: str, when: datetime) -> None:
        session.add(Event(ticket_id=ticket_.id, kind=kind, at=when, actor="aideur@club.test"))

    t0 = ticket(10, at(10, 9), "closed", alice.id, closed=at(27, 16))  # the older one
    event(t0, "command:accepter", at(11, 9))  # accepted before the week: not this week's
    event(t0, "relayed", at(24, 9))  # an older ticket's answers do not count toward the delay
    event(t0, "command:clore", at(27, 16))
    t1 = ticket(11, at(24, 9), "accepted", alice.id, due=at(27, 17), promise="proposals")  # overdue
    event(t1, "command:accepter", at(24, 11))  # first answer after 2 h
    event(t1, "command:accepter", at(26, 9))  # accepted again (new date): still one ticket accepted
    t2 = ticket(12, at(24, 10), "accepted", bruno.id, due=at(3, 17, month=12))
    event(t2, "relayed", at(24, 15))  # first answer after 5 h: Aideur's text passed on
    event(t2, "command:accepter", at(25, 9))
    t3 = ticket(13, at(25, 8), "declined", alice.id, due=at(26, 17), closed=at(26, 14))  # closed: never overdue
    event(t3, "command:note", at(25, 9))  # internal: not an answer
    event(t3, "command:refuser", at(26, 14))  # first answer after 30 h
    t4 = ticket(14, at(25, 12), "withdrawn", alice.id, closed=at(26, 10))
    event(t4, "withdrawn", at(26, 10))
    t5 = ticket(15, at(26, 9), "new", bruno.id, due=at(28, 17), subject=f"Urgent {SCRIPT}")  # overdue
    event(t5, "command:aide", at(26, 10))  # Aideur's own help sheet: not an answer
    t6 = ticket(16, at(27, 9), "proposed", erased.id)  # no deadline: listed last
    event(t6, "command:tickets", at(27, 10))

    def form(ticket_: Ticket, member_: Member, role: str, status: str, sent: datetime, *, result: str = "",
             satisfaction: int | None = None, answered: datetime | None = None, reminders: int = 0) -> None:
        session.add(ResultForm(ticket_id=ticket_.id, member_id=member_.id, role=role, cause="solution",
                               status=status, sent_at=sent, result=result, satisfaction=satisfaction,
                               answered_at=answered, reminders=reminders))

    form(t0, alice, "requester", "answered", at(27, 16), result="resolu", satisfaction=5, answered=at(28, 10))
    form(t1, alice, "requester", "answered", at(24, 12), result="resolu", satisfaction=4, answered=at(25, 18))
    form(t2, bruno, "helper", "answered", at(24, 16), result="en_partie", satisfaction=2, answered=at(27, 8))
    form(t0, bruno, "helper", "answered", at(14, 9), result="non_resolu", satisfaction=1, answered=at(15, 9))
    form(t0, bruno, "helper", "pending", at(27, 16))
    form(t2, alice, "requester", "pending", at(20, 9), reminders=2)
    form(t1, bruno, "helper", "stopped", at(1, month=11))

    asking = Connection(ticket_id=t2.id, requester_id=bruno.id, helper_id=alice.id, status="asking")
    expired = Connection(ticket_id=t0.id, requester_id=alice.id, helper_id=bruno.id, status="expired")
    session.add_all([asking, expired])
    session.flush()
    session.add_all([
        Consent(connection_id=asking.id, member_id=bruno.id, role="requester", status="yes", asked_at=at(26, 9)),
        Consent(connection_id=asking.id, member_id=alice.id, role="helper", status="pending", asked_at=at(26, 9),
                reminded_at=at(29, 9)),
        Consent(connection_id=expired.id, member_id=bruno.id, role="helper", status="pending", asked_at=at(12, 9)),
    ])


# --- the figures ------------------------------------------------------------------------------------------------


def test_every_figure_of_the_week(db) -> None:  # type: ignore[no-untyped-def]
    with db.begin() as session:
        seed(session)
    with db() as session:
        figures = build_digest(session, NOW, PARIS).figures
    assert (figures.start, figures.end) == (datetime(2026, 11, 23, 7, 0), NOW)
    assert figures.requests == 6
    assert figures.accepted == 2
    assert figures.declined == 1
    assert figures.solved == 2
    assert figures.withdrawn == 1
    assert figures.median_first_answer_hours == 5.0
    assert figures.satisfaction_mean == pytest.approx(11 / 3)
    assert figures.satisfaction_count == 3
    assert figures.results == {"resolu": 2, "en_partie": 1}
    assert figures.new_members == 3


def test_the_lists_of_what_is_waiting(db) -> None:  # type: ignore[no-untyped-def]
    with db.begin() as session:
        seed(session)
    with db() as session:
        digest = build_digest(session, NOW, PARIS)
    assert [(t.ref, t.due, t.late, t.days_late) for t in digest.open_tickets] == [
        ("CA-2026-0011", date(2026, 11, 27), True, 3),
        ("CA-2026-0015", date(2026, 11, 28), True, 2),
        ("CA-2026-0012", date(2026, 12, 3), False, 0),
        ("CA-2026-0016", None, False, 0),  # no deadline: last
    ]
    assert [(t.member, t.state) for t in digest.open_tickets] == [
        ("Alice Martin", "acceptée"), ("Bruno Petit", "à trier"), ("Bruno Petit", "acceptée"),
        ("membre effacé", "proposition faite")]
    assert [t.ref for t in digest.overdue] == ["CA-2026-0011", "CA-2026-0015"]
    [consent] = digest.pending_consents
    assert (consent.ref, consent.member, consent.role, consent.asked_on, consent.reminded) == (
        "CA-2026-0012", "Alice Martin", "aidant", date(2026, 11, 26), True)
    assert [(f.ref, f.member, f.role, f.sent_on, f.reminders) for f in digest.pending_forms] == [
        ("CA-2026-0012", "Alice Martin", "demandeur", date(2026, 11, 20), 2),
        ("CA-2026-0010", "Bruno Petit", "aidant", date(2026, 11, 27), 0)]
    assert [(m.name, m.activity, m.joined_on) for m in digest.new_members] == [
        ("Jean Dupont", "menuisier", date(2026, 11, 24)), ("Léa Roux", "graphiste", date(2026, 11, 25)),
        ("Marc Blanc", "", date(2026, 11, 26))]
    data = summary(digest)
    assert isinstance(data.pop("reciprocity"), list)  # issue 17, checked in tests/unit/test_recip17.py
    assert data.pop("activities") == data.pop("polls") == []  # issue 17, checked below
    assert data == {
        "start": "2026-11-23T07:00:00+00:00", "end": "2026-11-30T07:00:00+00:00", "requests": 6, "accepted": 2,
        "declined": 1, "solved": 2, "withdrawn": 1, "median_first_answer_hours": 5.0,
        "satisfaction_mean": pytest.approx(11 / 3), "satisfaction_count": 3,
        "results": {"resolu": 2, "en_partie": 1}, "new_members": 3, "open_tickets": 4, "overdue": 2,
        "pending_consents": 1, "pending_forms": 2, "suggestions": 0, "unanswered": []}


def test_an_empty_club_has_zeros_and_nothing_unknown(db) -> None:  # type: ignore[no-untyped-def]
    with db() as session:
        digest = build_digest(session, NOW, PARIS)
    figures = digest.figures
    assert (figures.requests, figures.accepted, figures.declined, figures.solved, figures.withdrawn,
            figures.new_members, figures.satisfaction_count) == (0, 0, 0, 0, 0, 0, 0)
    assert figures.median_first_answer_hours is None and figures.satisfaction_mean is None
    assert figures.results == {}
    assert not (digest.open_tickets or digest.overdue or digest.pending_consents or digest.pending_forms
                or digest.new_members)
    rendered = TemplateRenderer().render("digest_hebdo", digest_context(digest, NOW, PARIS, "Club Aide") | {
        "reply_address": "aide+c@club.test", "command_address": "aide+c@club.test"})
    assert "None" not in rendered.body and "None" not in (rendered.html or "")
    assert "Aucune : toutes les promesses sont tenues." in rendered.body.replace("\u00a0", " ")  # French spacing


def test_the_period_is_half_open(db) -> None:  # type: ignore[no-untyped-def]
    start = NOW - timedelta(days=7)
    with db.begin() as session:
        alice = Member(email="alice@membres.test", first_name="Alice", created_at=start)
        session.add(alice)
        session.flush()
        session.add_all([Ticket(ref="CA-2026-0001", member_id=alice.id, created_at=start),
                         Ticket(ref="CA-2026-0002", member_id=alice.id, created_at=NOW),
                         Ticket(ref="CA-2026-0003", member_id=alice.id, created_at=start - timedelta(seconds=1))])
    with db() as session:
        figures = build_digest(session, NOW, PARIS).figures
    assert (figures.requests, figures.new_members) == (1, 1)  # the first instant counts, the last does not


def test_seven_days_on_the_local_clock_across_summer_time() -> None:
    # Summer time begins on Sunday 29 March 2026: Monday 00:00 is 23:00 UTC before, 22:00 UTC after.
    assert week_start(datetime(2026, 3, 29, 22, 0), PARIS) == datetime(2026, 3, 22, 23, 0)
    assert week_start(datetime(2026, 10, 25, 23, 0), PARIS) == datetime(2026, 10, 18, 22, 0)  # and back


def test_period_labels() -> None:
    assert period_label(datetime(2026, 11, 22, 23, 0), datetime(2026, 11, 29, 23, 0), PARIS) == \
        "du 23 au 29 novembre 2026"
    assert period_label(datetime(2026, 11, 29, 23, 0), datetime(2026, 12, 6, 23, 0), PARIS) == \
        "du 30 novembre au 6 décembre 2026"
    assert period_label(datetime(2026, 12, 27, 23, 0), datetime(2027, 1, 3, 23, 0), PARIS) == \
        "du 28 décembre 2026 au 3 janvier 2027"
    assert period_label(datetime(2026, 11, 23, 7, 0), NOW, PARIS) == "du 23 au 30 novembre 2026"
    assert period_label(datetime(2026, 11, 30, 23, 0), datetime(2026, 12, 7, 23, 0), PARIS) == \
        "du 1er au 7 décembre 2026"


# --- the weekly job ---------------------------------------------------------------------------------------------


def run_job(db, settings: Settings, now: datetime) -> int:  # type: ignore[no-untyped-def]
    """One scheduler run in its own transaction, as mailbot.scheduler does it (a new context: a restart)."""
    signer = TokenSigner(settings.secret_keys)
    with db.begin() as session:
        ctx = WorkflowContext(session=session, settings=settings, signer=signer, now=now)
        done = weekly_digest(ctx)
        Outbox(settings, signer, TemplateRenderer()).store_all(ctx)
    return done


def digests(db) -> list[OutboxMail]:  # type: ignore[no-untyped-def]
    with db() as session:
        return list(session.scalars(select(OutboxMail).where(OutboxMail.kind == "digest_hebdo")
                                    .order_by(OutboxMail.id)))


def test_the_digest_goes_out_once_a_week_from_the_hour(db, settings) -> None:  # type: ignore[no-untyped-def]
    with db.begin() as session:
        seed(session)
    assert run_job(db, settings, NOW - timedelta(minutes=1)) == 0  # Monday 07:59 in Paris: not yet
    assert run_job(db, settings, NOW - timedelta(days=1)) == 0  # Sunday: not the day
    assert digests(db) == []
    assert run_job(db, settings, NOW) == 1
    assert run_job(db, settings, NOW) == 0  # the same run replayed
    assert run_job(db, settings, NOW + timedelta(hours=5)) == 0  # later that day, after a restart
    assert run_job(db, settings, NOW + timedelta(days=1)) == 0  # Tuesday
    mails = digests(db)
    assert sorted(m.recipient for m in mails) == sorted(AIDEURS)  # one per Aideur address
    with db() as session:
        assert session.scalars(select(Event.detail).where(Event.kind == "digest")).all() == ["2026-W49"]
    assert run_job(db, settings, NOW + timedelta(days=7)) == 1  # the next Monday
    assert len(digests(db)) == 4
    with db() as session:
        assert session.scalars(select(Event.detail).where(Event.kind == "digest").order_by(Event.id)).all() == [
            "2026-W49", "2026-W50"]


def test_a_digest_missed_on_its_day_goes_out_when_mailbot_is_back(db, settings) -> None:  # type: ignore[no-untyped-def]
    with db.begin() as session:
        seed(session)
    assert run_job(db, settings, NOW + timedelta(days=2)) == 0  # a first start on a Wednesday: wait for Monday
    assert run_job(db, settings, NOW) == 1  # W49 on its day
    # mailbot is down all Monday 7 December; back on Wednesday 9 at 10:00: W50's digest goes out then, once
    assert run_job(db, settings, NOW + timedelta(days=9, hours=2)) == 1
    assert run_job(db, settings, NOW + timedelta(days=10)) == 0
    assert {mail.subject for mail in digests(db)[-len(AIDEURS):]} == {  # the week before its Monday, not Wednesday's
        "Club Aide — bilan de la semaine du 30 novembre au 6 décembre 2026"}
    assert run_job(db, settings, NOW + timedelta(days=14)) == 1  # W51 on its Monday, as usual
    with db() as session:
        assert session.scalars(select(Event.detail).where(Event.kind == "digest").order_by(Event.id)).all() == [
            "2026-W49", "2026-W50", "2026-W51"]


def test_the_digest_mail_reads_well_as_text_and_as_html(db, settings) -> None:  # type: ignore[no-untyped-def]
    with db.begin() as session:
        seed(session)
    assert run_job(db, settings, NOW + timedelta(hours=1)) == 1
    mail = digests(db)[0]
    assert mail.subject == "Club Aide — bilan de la semaine du 23 au 29 novembre 2026"
    assert all(len(line) <= 78 for line in mail.body.split(b"\r\n"))
    message = message_from_bytes(mail.body, policy=policy.default)
    assert not message.defects and all(not part.defects for part in message.walk())
    assert message.get_content_type() == "multipart/alternative"
    assert message["Subject"] == mail.subject and message["Auto-Submitted"] == "auto-generated"
    plain, html = message.iter_parts()
    assert (plain.get_content_type(), html.get_content_type()) == ("text/plain", "text/html")
    text = plain.get_content().replace("\r\n", "\n").replace("\u00a0", " ")  # no-break spaces read as spaces
    for line in text.splitlines():
        assert len(line) <= 76, line
    assert "None" not in text and "None" not in html.get_content()
    # The figures of the seven whole days before Monday, the lists as they stand.
    for expected in ("Demandes reçues : 6", "Acceptées : 2 · refusées : 1", "Résolues : 2 · retirées : 1",
                     "Première réponse (médiane) : 5 h", "Satisfaction : 3,7/5 (3 avis)",
                     "Résultats : résolu 2, en partie 1", "Nouveaux membres : 3",
                     "Demandes ouvertes : 4, dont 2 en retard", "En retard (2)",
                     "CA-2026-0011 — ven. 27/11, 3 j de retard", "Alice Martin attend vos propositions",
                     "CA-2026-0016 — sans échéance — membre effacé", "Accords attendus (1)",
                     "CA-2026-0012 — Alice Martin (aidant)", "demandé le jeu. 26/11, relancé",
                     "Formulaires de résultat attendus (2)", "envoyé le ven. 20/11, 2 relances",
                     "Jean Dupont — menuisier — mar. 24/11", "Urgent " + SCRIPT, "-- \nClub Aide · mailbot"):
        assert expected in text, expected
    page = html.get_content()
    assert SCRIPT not in page and "Urgent &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert "<table" in page and "CA-2026-0011" in page and "Demandes reçues" in page
    assert page.count("<tr style=\"border-bottom:1px solid #ddd;background:#fdecea;\">") == 2  # late rows stand out


def test_the_week_turns_on_the_paris_calendar(db, settings) -> None:  # type: ignore[no-untyped-def]
    midnight = replace(settings, digest_hour=0)
    sunday_late = datetime(2026, 11, 29, 22, 59)  # Sunday 23:59 in Paris
    assert run_job(db, midnight, sunday_late) == 0
    assert run_job(db, midnight, datetime(2026, 11, 29, 23, 0)) == 1  # Monday 00:00 in Paris, Sunday in UTC
    assert run_job(db, midnight, datetime(2026, 11, 30, 22, 59)) == 0  # still Monday in Paris: same week
    # The ISO week across the new year: 28 December 2026 is in 2026-W53, 4 January 2027 in 2027-W01.
    assert run_job(db, midnight, datetime(2026, 12, 27, 23, 0)) == 1
    assert run_job(db, midnight, datetime(2027, 1, 3, 23, 0)) == 1
    with db() as session:
        assert session.scalars(select(Event.detail).where(Event.kind == "digest").order_by(Event.id)).all() == [
            "2026-W49", "2026-W53", "2027-W01"]
    assert iso_week(date(2027, 1, 3)) == "2026-W53"  # a Sunday belongs to the week of its Monday


def test_the_digest_day_and_hour_follow_the_settings(db, settings) -> None:  # type: ignore[no-untyped-def]
    friday_five = replace(settings, digest_weekday=4, digest_hour=17)
    assert run_job(db, friday_five, NOW) == 0  # Monday
    assert run_job(db, friday_five, datetime(2026, 12, 4, 15, 59)) == 0  # Friday 16:59 in Paris
    assert run_job(db, friday_five, datetime(2026, 12, 4, 16, 0)) == 1  # Friday 17:00 in Paris
    # Summer time: Monday 30 March 2026 at 08:00 in Paris is 06:00 UTC.
    assert run_job(db, settings, datetime(2026, 3, 30, 5, 59)) == 0
    assert run_job(db, settings, datetime(2026, 3, 30, 6, 0)) == 1


# --- mailbot report ---------------------------------------------------------------------------------------------


def mailbot(database_url: str, cwd: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mailbot", *args], env=os.environ | env(database_url),
                          capture_output=True, text=True, timeout=120, cwd=cwd, check=False)


def test_mailbot_report_prints_the_figures(db, database_url, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with db.begin() as session:
        seed(session)
    result = mailbot(database_url, str(tmp_path), "report", "--json", "--at", "2026-11-30T08:00")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    # Issue 17: help asked and given per member (the figures are checked in tests/unit/test_recip17.py).
    asked = {row["email"]: row["asked"] for row in data.pop("reciprocity")}
    assert asked["alice@membres.test"] == {"period": 3, "total": 4}
    assert data == {
        # On the digest day (Monday), the week just ended, midnight to midnight in Paris: the digest's week.
        "week": "2026-W48", "start": "2026-11-22T23:00:00+00:00", "end": "2026-11-29T23:00:00+00:00",
        "requests": 6, "accepted": 2,
        "declined": 1, "solved": 2, "withdrawn": 1, "median_first_answer_hours": 5.0,
        "satisfaction_mean": pytest.approx(11 / 3), "satisfaction_count": 3,
        "results": {"resolu": 2, "en_partie": 1}, "new_members": 3, "open_tickets": 4, "overdue": 2,
        "pending_consents": 1, "pending_forms": 2, "suggestions": 0, "unanswered": [], "activities": [], "polls": []}
    human = mailbot(database_url, str(tmp_path), "report", "--at", "2026-11-30")  # midnight: whole days
    assert human.returncode == 0, human.stderr
    shown = human.stdout.replace("\u00a0", " ")  # French spacing: no-break spaces read as spaces
    assert shown.startswith("Club Aide — bilan de la semaine du 23 au 29 novembre 2026\n")
    assert "Demandes reçues : 6" in shown and "En retard (2)" in shown
    assert "Entraide de la semaine" in shown
    assert "adresse de commande (à garder" not in human.stdout  # the mail's footer is not for the terminal


def test_unanswered_mails_of_the_week_are_listed_newest_first_and_counted(db, settings):
    """Issue 11, point 5: a mail with no answer is listed with its reason; a flood is counted, not all shown."""
    from mailbot.models import InboundMail
    from mailbot.report import unanswered

    with db.begin() as session:
        rows = [("auto-reply", "auto-reply", at(24), "bruno@membres.test", "Réponse automatique : Demande",
                 "réponse automatique (Auto-Submitted: auto-replied) : pas de réponse"),
                ("bounce", "bounce", at(25), "mailer-daemon@evil.test", "Undelivered Mail",
                 "rebond non authentifié : … : rien marqué"),
                ("bulk", "ignore", at(26), "infos@ailleurs.test", "Lettre", "liste de diffusion (List-Id header)"),
                ("normal", "new-request", at(26), "alice@membres.test", "Une demande", ""),  # answered: not listed
                ("auto-reply", "auto-reply", at(30, 12), "late@x.test", "Out of Office", "après la semaine")]
        for number, (kind, outcome, when, sender, subject, reason) in enumerate(rows):
            session.add(InboundMail(message_id=f"u{number}@x", folder="INBOX", uidvalidity=1, uid=number + 1,
                                    received_at=when, from_address=sender, subject=subject, kind=kind,
                                    outcome=outcome, reason=reason, size=1, raw_sha256="0" * 64))
    with db() as session:
        listed = unanswered(session, at(23, 7), NOW)
        assert [m.outcome for m in listed] == ["ignore", "bounce", "auto-reply"]
        assert listed[1].reason.startswith("rebond non authentifié")
        assert [m.sender for m in unanswered(session, at(23, 7), NOW, limit=1)] == ["infos@ailleurs.test"]
        digest = build_digest(session, NOW, PARIS)
    assert digest.unanswered_count == 3 and len(digest.unanswered) == 3
    shown = replace(digest, unanswered=digest.unanswered[:1])  # as when more than UNANSWERED_LIMIT came
    body = TemplateRenderer().render("digest_hebdo", digest_context(shown, NOW, PARIS, "Club Aide") | {
        "command_address": "c@club.test", "reply_address": "r@club.test"}).body
    assert "Mails sans réponse (3)" in body and "Lettre" in body and "… et 2 de plus" in body
    assert summary(digest)["unanswered"][0]["sender"] == "infos@ailleurs.test"


@pytest.mark.sqlite_only
def test_mailbot_report_and_the_digest_name_the_same_week(db, database_url, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Issue 13: `mailbot report` named "the last seven days" (Friday: 20 to 27 November), the digest the week
    before its Monday (23 to 29): now both name the club's week, ISO 2026-W48."""
    with db.begin() as session:
        seed(session)
    assert run_job(db, settings, NOW) == 1
    digest_subject = digests(db)[0].subject
    assert digest_subject == "Club Aide — bilan de la semaine du 23 au 29 novembre 2026"
    for at_ in ("2026-11-30T08:00", "2026-11-30T00:30", "2026-11-30T23:59"):  # the digest's day, any hour
        shown = mailbot(database_url, str(tmp_path), "report", "--at", at_).stdout
        assert shown.splitlines()[0] == digest_subject, at_
    friday = mailbot(database_url, str(tmp_path), "report", "--at", "2026-11-27T12:00").stdout
    assert friday.splitlines()[0] == "Club Aide — bilan de la semaine du 23 au 27 novembre 2026"  # so far
    for at_ in ("2026-11-27T12:00", "2026-11-30T08:00"):
        data = json.loads(mailbot(database_url, str(tmp_path), "report", "--json", "--at", at_).stdout)
        assert data["week"] == "2026-W48" and data["start"] == "2026-11-22T23:00:00+00:00"


def test_activities_to_come_and_the_weeks_polls_are_in_the_report_and_the_digest(db) -> None:  # type: ignore[no-untyped-def]
    """Issue 17: Aideur sees the places taken and the participation, never who chose what."""
    from mailbot.models import Activity, Booking, Poll, PollParticipant

    with db.begin() as session:
        members = [Member(email=f"m{n}@membres.test", first_name=f"M{n}") for n in range(4)]
        session.add_all(members)
        session.flush()
        coming = Activity(ref="AC-2026-001", kind="formation", title="La facture électronique", places=2,
                          starts_at=NOW + timedelta(days=10))
        past = Activity(ref="AC-2026-000", title="Passée", places=5, starts_at=NOW - timedelta(days=1))
        session.add_all([coming, past])
        session.flush()
        for member, status in zip(members, ("booked", "offered", "waiting", "invited"), strict=True):
            session.add(Booking(activity_id=coming.id, member_id=member.id, status=status))
        poll = Poll(ref="SO-2026-001", question="Quel jour ?", closes_at=NOW + timedelta(days=3))
        session.add(poll)
        session.flush()
        session.add_all([PollParticipant(poll_id=poll.id, member_id=m.id, has_voted=n < 1)
                         for n, m in enumerate(members[:3])])
    with db() as session:
        digest = build_digest(session, NOW, PARIS)
    figures = summary(digest, PARIS)
    assert figures["activities"] == [{"ref": "AC-2026-001", "title": "La facture électronique",
                                      "starts_at": (NOW + timedelta(days=10)).replace(tzinfo=ZoneInfo("UTC")).isoformat(),
                                      "places": 2, "booked": 2, "waiting": 1, "status": "open"}]
    assert [(p["ref"], p["asked"], p["voted"]) for p in figures["polls"]] == [("SO-2026-001", 3, 1)]
    rendered = TemplateRenderer().render("digest_hebdo", digest_context(digest, NOW, PARIS, "Club Aide") | {
        "reply_address": "aide+c@club.test", "command_address": "aide+c@club.test"})
    body = rendered.body.replace("\u00a0", " ")
    assert "AC-2026-001" in body and "places : 2/2, en attente : 1" in body and "Passée" not in body
    assert "SO-2026-001 — Quel jour ?" in body and "votes : 1/3" in body
