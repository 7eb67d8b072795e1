"""`mailbot`: the daemon and the operator's commands (README.md, "Commands")."""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, defer, sessionmaker
from tqdm import tqdm

from mailbot import __version__, logs, retention
from mailbot.backup import BackupError
from mailbot.config import DEFAULT_ENV_FILE, ConfigError, Settings, load_settings
from mailbot.db import (
    SchemaError,
    make_engine,
    make_session_factory,
    require_schema,
    truncate_wal,
    upgrade,
)
from mailbot.dispatch import peak_rss_kb
from mailbot.members import (
    MemberError,
    count_rows,
    erase_member,
    export_member,
    import_csv,
    list_members,
    member_dict,
    upsert_member,
)
from mailbot.models import Connection, ResultForm, Ticket, utcnow


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logs.setup("INFO")  # MAILBOT_LOG_LEVEL is a setting like the others: applied once they are read (_settings)
    if not hasattr(args, "handler"):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args) or 0)
    except ConfigError as error:
        print(f"mailbot: configuration error: {error}", file=sys.stderr)
        return EX_CONFIG
    except SchemaError as error:
        print(f"mailbot: database not ready: {error}", file=sys.stderr)
        return EX_CONFIG
    except (MemberError, BackupError) as error:
        print(f"mailbot: {error}", file=sys.stderr)
        return 1
    except DBAPIError as error:
        # A table that does not exist although the schema said it did (a database altered by hand), or a database
        # that does not answer: one line, never a traceback with SQL and its parameters.
        words = str(error.orig).lower()
        if "no such table" in words or ("does not exist" in words and "relation" in words):
            print(f"mailbot: database not ready ({logs.short_error(error)}): run `mailbot db upgrade`", file=sys.stderr)
            return EX_CONFIG
        print(f"mailbot: database error: {logs.short_error(error)}", file=sys.stderr)
        return EX_UNAVAILABLE


EX_UNAVAILABLE = 69  # sysexits.h: a service (the database) is unavailable
EX_CONFIG = 78  # sysexits.h: a configuration error; systemd's unit does not restart on it in a loop
# Mails queued by a command are due at once for whichever daemon sends them, even one replaying an earlier
# instant (`run --at`).
AT_ONCE = datetime(2000, 1, 1)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mailbot", description="Le daemon mail du Club Aide.")
    parser.add_argument("--version", action="version", version=f"mailbot {__version__}")
    parser.add_argument("--env-file", default=None,
                        help=f"settings file; must exist (default: {DEFAULT_ENV_FILE} in the working directory, if any)")
    sub = parser.add_subparsers(metavar="COMMAND")

    run = sub.add_parser("run", help="the daemon: IDLE/poll, process, send")
    run.add_argument("--once", action="store_true", help="one full cycle, then exit")
    run.add_argument("--at", type=_iso_datetime, help="the clock for scheduling decisions (ISO date-time)")
    run.set_defaults(handler=cmd_run)

    db = sub.add_parser("db", help="database").add_subparsers(metavar="ACTION")
    db.add_parser("upgrade", help="migrate the database to the newest schema").set_defaults(handler=cmd_db_upgrade)

    tickets = sub.add_parser("tickets", help="tickets").add_subparsers(metavar="ACTION")
    tl = tickets.add_parser("list", help="all tickets, newest first")
    tl.add_argument("--json", action="store_true")
    tl.set_defaults(handler=cmd_tickets_list)
    tu = tickets.add_parser("unanswered", help="mails that got no answer (auto-replies, bounces, lists…) and why")
    tu.add_argument("--days", type=int, help="only the last DAYS days (default: all that are recorded)")
    tu.add_argument("--json", action="store_true")
    tu.set_defaults(handler=cmd_tickets_unanswered)
    ts = tickets.add_parser("show", help="one ticket with its messages and events")
    ts.add_argument("ref")
    ts.add_argument("--json", action="store_true")
    ts.set_defaults(handler=cmd_tickets_show)
    to = tickets.add_parser("open", help="a request for a member (a phone call, a mail Aideur received): the member "
                            "is acknowledged and Aideur notified, as for a mail")
    to.add_argument("email")
    to.add_argument("--subject", required=True, help="the request's title")
    to.add_argument("--text", required=True, help="the request as the member put it")
    to.add_argument("--at", type=_iso_datetime, help="the clock (ISO date-time; default: now)")
    to.set_defaults(handler=cmd_tickets_open)

    polls = sub.add_parser("polls", help="the polls (#sondage)").add_subparsers(metavar="ACTION")
    pl = polls.add_parser("list", help="every poll, newest first, with its votes")
    pl.add_argument("--json", action="store_true")
    pl.set_defaults(handler=cmd_polls_list)
    pw = polls.add_parser("show", help="one poll (never who chose what in an anonymous poll)")
    pw.add_argument("ref")
    pw.add_argument("--json", action="store_true")
    pw.set_defaults(handler=cmd_polls_show)
    activities = sub.add_parser("activities", help="bookable activities (#activite)").add_subparsers(
        metavar="ACTION")
    al = activities.add_parser("list", help="the activities, soonest first, with places booked and waiting")
    al.add_argument("--json", action="store_true")
    al.set_defaults(handler=cmd_activities_list)
    ash = activities.add_parser("show", help="one activity with its bookings")
    ash.add_argument("ref")
    ash.add_argument("--json", action="store_true")
    ash.set_defaults(handler=cmd_activities_show)

    members = sub.add_parser("members", help="the member register").add_subparsers(metavar="ACTION")
    ma = members.add_parser("add", help="add or update one member")
    ma.add_argument("email")
    for option, dest in (("--first-name", "first_name"), ("--last-name", "last_name"), ("--company", "company"),
                         ("--phone", "phone"), ("--skills", "skills"), ("--hobbies", "hobbies"),
                         ("--particulars", "particulars"), ("--activity", "activity"),
                         ("--address", "postal_address")):
        ma.add_argument(option, dest=dest)
    ma.add_argument("--visibility", choices=["confidentielle", "membres"])
    ma.add_argument("--appeals", dest="accepts_appeals", choices=["oui", "non"],
                    help="whether the member receives anonymised appeals (default oui)")
    ma.set_defaults(handler=cmd_members_add)
    ml = members.add_parser("list", help="active and former members")
    ml.add_argument("--json", action="store_true")
    ml.set_defaults(handler=cmd_members_list)
    mi = members.add_parser("import", help="load members from a CSV file")
    mi.add_argument("file", type=Path)
    mi.set_defaults(handler=cmd_members_import)
    me = members.add_parser("export", help="everything held about one member, as JSON")
    me.add_argument("email")
    me.set_defaults(handler=cmd_members_export)
    mx = members.add_parser("erase", help="remove a member's personal data")
    mx.add_argument("email")
    mx.set_defaults(handler=cmd_members_erase)
    mu = members.add_parser("unbounce", help="clear the bounce mark of a member's address (once it works again: "
                                             "the member is asked in appeals again)")
    mu.add_argument("email")
    mu.set_defaults(handler=cmd_members_unbounce)
    # Issue 13, point 2: a member's other addresses, and the change of the main one.
    alias = members.add_parser("alias", help="a member's other addresses (mail from them is the member's)"
                               ).add_subparsers(metavar="ACTION")
    aa = alias.add_parser("add", help="link ALIAS to the member (told at both addresses)")
    aa.add_argument("member", help="the member's address (main or another)")
    aa.add_argument("alias")
    aa.set_defaults(handler=cmd_members_alias_add)
    ar_ = alias.add_parser("remove", help="unlink ALIAS from the member (told at both addresses)")
    ar_.add_argument("member")
    ar_.add_argument("alias")
    ar_.set_defaults(handler=cmd_members_alias_remove)
    al = alias.add_parser("list", help="the other addresses of one member, or of every member")
    al.add_argument("member", nargs="?")
    al.add_argument("--json", action="store_true")
    al.set_defaults(handler=cmd_members_alias_list)
    address = members.add_parser("address", help="the member's main address").add_subparsers(metavar="ACTION")
    ac = address.add_parser("change", help="make NEW the main address; OLD stays another address of the member "
                                           "(--drop-old: it is unlinked)")
    ac.add_argument("old")
    ac.add_argument("new")
    ac.add_argument("--drop-old", action="store_true")
    ac.set_defaults(handler=cmd_members_address_change)

    report = sub.add_parser("report", help="the week's figures and what is waiting (Aideur's weekly digest)")
    report.add_argument("--json", action="store_true")
    report.add_argument("--at", type=_iso_datetime,
                        help="the clock: the week the digest names then (on the digest day, the week just ended; else the "
                             "week so far), the lists as of then (ISO date-time)")
    report.set_defaults(handler=cmd_report)

    check = sub.add_parser("check", help="check config, database, IMAP and SMTP")
    check.add_argument("--json", action="store_true", help="one object: ok, and each check with its detail")
    check.set_defaults(handler=cmd_check)

    backup = sub.add_parser("backup", help="a consistent copy of the database, the daemon running or not")
    backup.add_argument("path", help="the file to write (SQLite copy, or pg_dump custom format), or a directory "
                                     "(ending with /: created if needed) for a dated file in it")
    backup.set_defaults(handler=cmd_backup)
    restore = sub.add_parser("restore", help="put a backup in place of the database (the daemon stopped)")
    restore.add_argument("path", type=Path, help="a file made by `mailbot backup`")
    restore.set_defaults(handler=cmd_restore)

    inspect = sub.add_parser("inspect", help="what mailbot makes of a mail (touches nothing)")
    inspect.add_argument("files", nargs="+", metavar="FILE", help="a mail as raw RFC 5322 bytes; - for stdin")
    inspect.add_argument("--json", action="store_true")
    inspect.set_defaults(handler=cmd_inspect)

    aideur = sub.add_parser("aideur", help="Aideur's command address").add_subparsers(metavar="ACTION")
    ar = aideur.add_parser("rotate-address", help="a new command address; the old one stops working")
    ar.add_argument("--at", type=_iso_datetime, help="the clock (club local time), for replay")
    ar.set_defaults(handler=cmd_aideur_rotate_address)

    absence = sub.add_parser("absence", help="Aideur's absence (as #absent by mail)").add_subparsers(
        metavar="ACTION")
    abs_set = absence.add_parser("set", help="declare an absence: first and last day away, then an optional reason; "
                                             "promises in it move after the return, members are told once")
    abs_set.add_argument("dates", nargs="+", help="e.g. 22/12 05/01 congés")
    abs_set.add_argument("--at", type=_iso_datetime, help="the clock (club local time), for replay")
    abs_set.set_defaults(handler=cmd_absence_set)
    abs_clear = absence.add_parser("clear", help="end the current absence (dates already told stay)")
    abs_clear.add_argument("--at", type=_iso_datetime, help="the clock (club local time), for replay")
    abs_clear.set_defaults(handler=cmd_absence_clear)
    abs_show = absence.add_parser("show", help="the absence declared, if any")
    abs_show.add_argument("--at", type=_iso_datetime, help="the clock (club local time), for replay")
    abs_show.set_defaults(handler=cmd_absence_show)

    purge = sub.add_parser("purge", help="delete stored mail bodies older than MAILBOT_RETENTION_DAYS")
    purge.add_argument("--at", type=_iso_datetime, help="the clock (club local time), for replay")
    purge.add_argument("--json", action="store_true")
    purge.set_defaults(handler=cmd_purge)

    quarantine = sub.add_parser("quarantine", help="the quarantine folder: list, replay after a fix")
    quarantine_sub = quarantine.add_subparsers(metavar="ACTION")
    qlist = quarantine_sub.add_parser("list", help="the quarantined mails with why (UID, date, sender, subject)")
    qlist.add_argument("--json", action="store_true")
    qlist.set_defaults(handler=cmd_quarantine_list)
    qreplay = quarantine_sub.add_parser("replay", help="move mails back to the inbox, to be processed again once")
    qreplay.add_argument("uids", nargs="*", type=int, metavar="UID", help="UIDs shown by `quarantine list`")
    qreplay.add_argument("--all", action="store_true", help="every mail of the quarantine folder")
    qreplay.add_argument("--json", action="store_true")
    qreplay.set_defaults(handler=cmd_quarantine_replay, parser=qreplay)

    docs = sub.add_parser("docs", help="the club's documentation, sent to members who ask (issue 17)")
    docs_sub = docs.add_subparsers(metavar="ACTION")
    dadd = docs_sub.add_parser("add", help="add a document (its bytes are kept in the database)")
    dadd.add_argument("file", type=Path, metavar="FILE")
    dadd.add_argument("--rubrique", required=True, help="its section, e.g. Comptabilité")
    dadd.add_argument("--titre", required=True, help="its title, as members see it")
    dadd.add_argument("--mots-cles", default="", dest="mots_cles", help="comma-separated keywords")
    dadd.add_argument("--json", action="store_true")
    dadd.set_defaults(handler=cmd_docs_add)
    dlist = docs_sub.add_parser("list", help="the documents by section")
    dlist.add_argument("--json", action="store_true")
    dlist.set_defaults(handler=cmd_docs_list)
    dremove = docs_sub.add_parser("remove", help="remove a document by its number")
    dremove.add_argument("id", type=int, metavar="ID")
    dremove.set_defaults(handler=cmd_docs_remove)

    demo = sub.add_parser("demo", help="local demo: loopback mail server with demo accounts")
    demo.add_argument("--root", type=Path, default=Path("var/demo"))
    demo_sub = demo.add_subparsers(metavar="ACTION")
    demo.set_defaults(handler=_lazy("mailbot.dev.demo", "cmd_demo_run"))
    ds = demo_sub.add_parser("send", help="send a mail to the club as a demo member")
    ds.add_argument("--from", dest="sender", default="alice@membres.test")
    ds.add_argument("--to", default="")
    ds.add_argument("--subject", default="Besoin d'un conseil juridique")
    ds.add_argument("text", nargs="?", default="Bonjour,\n\nJe cherche un avocat en droit du travail pour un "
                                               "litige avec un salarié. Pouvez-vous m'aider ?\n\nMerci,\nAlice")
    ds.set_defaults(handler=_lazy("mailbot.dev.demo", "cmd_demo_send"))
    dr = demo_sub.add_parser("read", help="show the mail a demo account received")
    dr.add_argument("address")
    dr.set_defaults(handler=_lazy("mailbot.dev.demo", "cmd_demo_read"))
    return parser


def _lazy(module: str, name: str) -> Callable[[argparse.Namespace], int]:
    def handler(args: argparse.Namespace) -> int:
        import importlib

        return int(getattr(importlib.import_module(module), name)(args) or 0)

    return handler


def _iso_datetime(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date-time: {text!r} (e.g. 2026-12-01T09:30)") from None
    return value  # resolved against MAILBOT_TIMEZONE by to_utc once settings are known


def _settings(args: argparse.Namespace) -> Settings:
    """The settings, through the one loader: `--env-file` (which must exist) or ./.env, under the environment."""
    settings = load_settings(env_file=args.env_file or DEFAULT_ENV_FILE, env_file_required=args.env_file is not None)
    logs.set_level(settings.log_level)
    return settings


def _sessions(settings: Settings) -> sessionmaker[Session]:
    """Sessions on a database at this code's schema; SchemaError (say `mailbot db upgrade`) otherwise."""
    require_schema(settings.database_url)
    return make_session_factory(make_engine(settings.database_url))


# --- run ----------------------------------------------------------------------------------------------------------
def cmd_run(args: argparse.Namespace) -> int:
    from mailbot.backup import daemon_lock

    settings = _settings(args)
    if settings.imap is None or settings.smtp is None:
        missing = "MAILBOT_IMAP_HOST" if settings.imap is None else "MAILBOT_SMTP_HOST"
        raise ConfigError(missing, "is required to run (or use `make run` / `mailbot demo` for the local demo)")
    with daemon_lock(settings.database_url):  # `mailbot restore` refuses while this is held (migration included)
        upgrade(settings.database_url)
        return _run(args, settings, _sessions(settings))


def _run(args: argparse.Namespace, settings: Settings, sessions: sessionmaker[Session]) -> int:
    from mailbot.daemon import Daemon

    clock = utcnow
    at = to_utc(args.at, settings) if args.at is not None else None
    if at is not None:
        clock = lambda: at  # the whole cycle sees one instant
    daemon = Daemon(settings, sessions, clock=clock, fixed_now=at)
    if not args.once:
        daemon.run_forever()
        return 0
    daemon.start()
    try:
        report = daemon.cycle()
    finally:
        daemon.disconnect()
    print(json.dumps({"processed": report.processed, "quarantined": report.quarantined, "sent": report.sent,
                      "deferred": report.deferred, "actions": dict(report.actions), "jobs": report.jobs,
                      # Why sending stopped (the error) and what stopped it: "SMTP unreachable" (the relay) or
                      # "send journal unwritable" (this machine's disk): a cron job tells the two apart.
                      "send_problem": report.send_problem, "send_stopped_by": report.send_stopped_by,
                      # Peak memory (Linux VmHWM, MB) of this process and of its helper sending process, if any.
                      "peak_rss_mb": {"daemon": round(peak_rss_kb() / 1024, 1),
                                      "sender": round(report.helper_peak_kb / 1024, 1)},
                      # CPU time (s) of each: where a run's time went (bench/intake.py reports it per mail).
                      "cpu_seconds": {"daemon": round(time.process_time(), 2),
                                      "sender": round(report.helper_cpu_seconds, 2)}},
                     ensure_ascii=False))
    return 0


def to_utc(value: datetime, settings: Settings) -> datetime:
    """Naive UTC for storage; a date-time without zone is the club's local time."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=settings.timezone)
    return value.astimezone(UTC).replace(tzinfo=None)


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    settings = _settings(args)
    upgrade(settings.database_url)
    print("database is up to date")
    return 0


# --- tickets ------------------------------------------------------------------------------------------------------
def ticket_dict(ticket: Ticket) -> dict[str, Any]:
    return {
        "ref": ticket.ref,
        "status": ticket.status,
        "member_email": ticket.member.email if ticket.member else None,
        "subject": ticket.subject,
        "summary": ticket.summary,
        "created_at": _iso(ticket.created_at),
        "due_at": _iso(ticket.due_at),
        "closed_at": _iso(ticket.closed_at),
    }


def _iso(value: datetime | None) -> str | None:
    return value.replace(tzinfo=UTC).isoformat() if value else None


def cmd_tickets_list(args: argparse.Namespace) -> int:
    settings = _settings(args)
    with _sessions(settings)() as session:
        tickets = session.scalars(select(Ticket).order_by(Ticket.id.desc())).all()
        rows = [ticket_dict(t) for t in tickets]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    if not rows:
        print("Aucun ticket.")
    for row in rows:
        due = (row["due_at"] or "")[:10]
        print(f"{row['ref']:<14} {row['status']:<10} {due:<10} {row['member_email'] or '-':<32} {row['subject']}")
    _print_unanswered(settings, None, UNANSWERED_SHOWN)
    return 0


UNANSWERED_SHOWN = 20  # the newest mails without an answer that `tickets list` shows below the tickets


# --- activities ---------------------------------------------------------------------------------------------------
def activity_dict(session: Session, activity: Any) -> dict[str, Any]:
    """The JSON contract (README, Commands): `ref`, `type`, `title`, `starts_at`, `places`, `booked`, `waiting`,
    `status`."""
    from mailbot.workflows.activities import counts_of

    counts = counts_of(session, activity)
    return {"ref": activity.ref, "type": activity.kind, "title": activity.title,
            "starts_at": _iso(activity.starts_at), "places": activity.places, "booked": counts["booked"],
            "waiting": counts["waiting"], "status": activity.status}


def cmd_activities_list(args: argparse.Namespace) -> int:
    """The activities, soonest first. Reads only."""
    from mailbot.models import Activity

    settings = _settings(args)
    with _sessions(settings)() as session:
        rows = [activity_dict(session, a) for a in session.scalars(
            select(Activity).order_by(Activity.starts_at, Activity.id))]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    if not rows:
        print("Aucune activité.")
    for row in rows:
        print(f"{row['ref']:<12} {row['status']:<9} {(row['starts_at'] or '')[:16]:<16} "
              f"{row['booked']}/{row['places']} (+{row['waiting']}) {row['title']}")
    return 0


def cmd_activities_show(args: argparse.Namespace) -> int:
    """One activity and its bookings (`email`, `status` booked/waiting/cancelled, `at`); an offered seat is shown
    as booked (held for that member) and announcements never answered are left out. Reads only."""
    from mailbot.models import Activity, Booking

    settings = _settings(args)
    with _sessions(settings)() as session:
        activity = session.scalar(select(Activity).where(Activity.ref == args.ref.strip().upper()))
        if activity is None:
            print(f"mailbot: no activity {args.ref}", file=sys.stderr)
            return 1
        bookings = session.scalars(select(Booking).where(Booking.activity_id == activity.id,
                                                         Booking.status != "invited")
                                   .order_by(Booking.status != "booked", Booking.position, Booking.id))
        data = activity_dict(session, activity) | {"bookings": [
            {"email": b.member.email, "status": "booked" if b.status == "offered" else b.status,
             "at": _iso(b.at or b.invited_at)} for b in bookings]}
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    print(f"{data['ref']} · {data['type']} · {data['status']}\n{data['title']}\n{data['starts_at']}, "
          f"{data['booked']}/{data['places']} inscrits, {data['waiting']} en attente")
    for booking in data["bookings"]:
        print(f"  {booking['status']:<10} {booking['at'] or '':<26} {booking['email']}")
    return 0


def _unanswered_rows(settings: Settings, days: int | None, limit: int | None) -> list[dict[str, Any]]:
    from mailbot.report import unanswered

    start = utcnow() - timedelta(days=days) if days is not None else datetime(1970, 1, 1)
    with _sessions(settings)() as session:
        return [{"received_at": _iso(m.received_at), "sender": m.sender, "subject": m.subject, "kind": m.kind,
                 "outcome": m.outcome, "reason": m.reason, "ticket": m.ticket_ref or None}
                for m in unanswered(session, start, datetime(9999, 1, 1), limit=limit)]


def _print_unanswered(settings: Settings, days: int | None, limit: int | None) -> None:
    rows = _unanswered_rows(settings, days, limit)
    print(f"\nMails sans réponse : {len(rows) or 'aucun'}" + (" (les plus récents)" if limit else ""))
    for row in rows:
        print(f"  {(row['received_at'] or '')[:16]} {row['sender'] or '-':<32} {row['subject'] or '(sans objet)'}")
        print(f"      {row['outcome']} : {row['reason']}" + (f" ({row['ticket']})" if row["ticket"] else ""))


def poll_dict(session: Any, poll: Any) -> dict[str, Any]:
    """A poll as `mailbot polls list|show --json` gives it (README, "Polls"): counts only, never a voter's choice."""
    from mailbot.workflows.polls import counts, voters

    votes = counts(session, poll)
    return {"ref": poll.ref, "question": poll.question, "closes_at": _iso(poll.closes_at),
            "anonymous": poll.anonymous,
            "choices": [{"label": c.label, "votes": votes.get(c.id, 0)} for c in poll.choices],
            "voters": voters(session, poll)}


def cmd_polls_list(args: argparse.Namespace) -> int:
    from mailbot.models import Poll

    settings = _settings(args)
    with _sessions(settings)() as session:
        found = session.scalars(select(Poll).order_by(Poll.id.desc())).all()
        rows = [poll_dict(session, p) for p in found]
        states = [p.status for p in found]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    if not rows:
        print("Aucun sondage.")
    for row, state in zip(rows, states, strict=True):
        print(f"{row['ref']:<12} {state:<6} {(row['closes_at'] or '')[:16]:<16} "
              f"votants {row['voters']:<4} {row['question']}")
    return 0


def cmd_polls_show(args: argparse.Namespace) -> int:
    from mailbot.models import Poll

    settings = _settings(args)
    with _sessions(settings)() as session:
        poll = session.scalar(select(Poll).where(Poll.ref == args.ref.strip().upper()))
        if poll is None:
            print(f"mailbot: no poll {args.ref}", file=sys.stderr)
            return 1
        data = poll_dict(session, poll)
        state = poll.status
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    kind = "anonyme" if data["anonymous"] else "nominatif"
    print(f"{data['ref']} · {state} · {kind} · fin {data['closes_at']}\n{data['question']}")
    for number, choice in enumerate(data["choices"], start=1):
        print(f"  {number}. {choice['label']} : {choice['votes']}")
    print(f"Votants : {data['voters']}")
    return 0


def cmd_tickets_open(args: argparse.Namespace) -> int:
    """Open a request for an active member, as Aideur's #ouvrir does; print its reference. The acknowledgement
    and Aideur's notification wait in the outbox for the daemon's next cycle. Exit 1 when no active member has
    this address."""
    from mailbot.compose import TemplateRenderer
    from mailbot.outbox import Outbox
    from mailbot.tokens import TokenSigner
    from mailbot.workflows.base import WorkflowContext
    from mailbot.workflows.opening import OpenError, member_to_open_for, open_for

    settings = _settings(args)
    upgrade(settings.database_url)
    now = to_utc(args.at, settings) if args.at is not None else utcnow()
    if not args.text.strip() and not args.subject.strip():
        print("--subject ou --text : la demande ne peut pas être vide", file=sys.stderr)
        return 1
    signer = TokenSigner(settings.secret_keys)
    with _sessions(settings).begin() as session:
        ctx = WorkflowContext(session=session, settings=settings, signer=signer, now=now)
        try:
            member = member_to_open_for(ctx, args.email)
        except OpenError as refused:
            print(refused, file=sys.stderr)
            return 1
        ticket = open_for(ctx, member, args.subject, args.text, actor="cli", key=f"cli:{now.isoformat()}")
        ref = ticket.ref
        Outbox(settings, signer, TemplateRenderer.for_settings(settings)).store_all(ctx, due_at=AT_ONCE)
    print(ref)
    return 0


def cmd_tickets_unanswered(args: argparse.Namespace) -> int:
    """The mails that got no answer (robots, lists, forged bounces…), each with why: nothing goes unseen."""
    settings = _settings(args)
    if args.json:
        print(json.dumps(_unanswered_rows(settings, args.days, None), ensure_ascii=False, indent=2))
        return 0
    _print_unanswered(settings, args.days, None)
    return 0


def cmd_tickets_show(args: argparse.Namespace) -> int:
    settings = _settings(args)
    with _sessions(settings)() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.ref == args.ref.strip().upper()))
        if ticket is None:
            print(f"mailbot: no ticket {args.ref}", file=sys.stderr)
            return 1
        data = ticket_dict(ticket) | {
            "messages": [{"direction": m.direction, "sender": m.sender,
                          "recipients": [r.strip() for r in m.recipients.split(",") if r.strip()],
                          "subject": m.subject, "text": m.text, "attachments": m.attachments.splitlines(),
                          "at": _iso(m.at)} for m in ticket.messages],
            "events": [{"kind": e.kind, "actor": e.actor, "detail": e.detail, "at": _iso(e.at)}
                       for e in ticket.events],
            "consents": consent_trail(session, ticket),
            "results": [{"member": f.member.display_name, "role": f.role, "status": f.status, "result": f.result,
                         "satisfaction": f.satisfaction, "comment": f.comment, "sent_at": _iso(f.sent_at),
                         "answered_at": _iso(f.answered_at)} for f in session.scalars(
                select(ResultForm).where(ResultForm.ticket_id == ticket.id).order_by(ResultForm.id))],
        }
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    print(f"{data['ref']} · {data['status']} · {data['member_email']}\n{data['subject']}")
    print(f"créé le {data['created_at']}, échéance {data['due_at']}\n")
    for message in data["messages"]:
        arrow = "←" if message["direction"] == "in" else "→"
        print(f"{arrow} {message['at']} {message['sender']} → {', '.join(message['recipients'])}")
        print(f"  {message['subject']}")
        for line in message["text"].splitlines():
            print(f"  | {line}")
        print()
    for event in data["events"]:
        print(f"· {event['at']} {event['kind']} ({event['actor']}) {event['detail']}")
    for connection in data["consents"]:
        print(f"\nmise en relation n° {connection['id']} ({connection['status']}), demandée par "
              f"{connection['actor']} le {connection['created_at']}")
        for consent in connection["consents"]:
            print(f"  {consent['role']:<9} {consent['member']} : {consent['status']}"
                  + (f" le {consent['answered_at']} « {consent['answer_line']} »" if consent["answered_at"] else ""))
            print(f"            question <{consent['asked_message_id']}> sha256 {consent['asked_sha256'][:16]}…")
            if consent["answer_message_id"]:
                print(f"            réponse <{consent['answer_message_id']}> sha256 {consent['answer_sha256'][:16]}…")
    for form in data["results"]:
        print(f"\nrésultat ({form['role']}, {form['member']}) : {form['status']} {form['result']} "
              f"{form['satisfaction'] or ''} {form['comment']}".rstrip())
    return 0


def consent_trail(session: Session, ticket: Ticket) -> list[dict[str, Any]]:
    """The evidence of each side's written consent (docs/rules.md §5): who, what was asked, the answer, when."""
    connections = session.scalars(select(Connection).where(Connection.ticket_id == ticket.id)
                                  .order_by(Connection.id)).all()
    return [{"id": c.id, "status": c.status, "actor": c.actor, "created_at": _iso(c.created_at),
             "closed_at": _iso(c.closed_at), "consents": [{
                 "member": k.member.display_name, "role": k.role, "status": k.status,
                 "asked_at": _iso(k.asked_at), "asked_message_id": k.asked_message_id,
                 "asked_sha256": k.asked_sha256, "reminded_at": _iso(k.reminded_at),
                 "answer_line": k.answer_line, "answered_at": _iso(k.answered_at),
                 "answer_message_id": k.answer_message_id, "answer_sha256": k.answer_sha256,
                 "shared_fields": [f for f in k.shared_fields.split(",") if f]}
                 for k in c.consents]} for c in connections]


# --- report -------------------------------------------------------------------------------------------------------
def cmd_report(args: argparse.Namespace) -> int:
    """The digest's figures and lists: as JSON, or as the text Aideur's weekly mail shows (without its footer)."""
    from mailbot.compose import TemplateRenderer
    from mailbot.report import build_digest, report_period, summary
    from mailbot.workflows.digest import TEMPLATE, digest_context

    settings = _settings(args)
    now = to_utc(args.at, settings) if args.at is not None else utcnow()
    # The week the mailed digest names (issue 13): the one just ended on the digest day, else the one in progress.
    start, end = report_period(now, settings.timezone, settings.digest_weekday)
    with _sessions(settings)() as session:
        digest = build_digest(session, now, settings.timezone, period_start=start, period_end=end)
    if args.json:
        print(json.dumps(summary(digest, settings.timezone), ensure_ascii=False, indent=2))
        return 0
    context = digest_context(digest, now, settings.timezone, settings.club_name) | {"command_address": "",
                                                                                   "reply_address": ""}
    rendered = TemplateRenderer.for_settings(settings).render(TEMPLATE, context)
    print(f"{rendered.subject}\n")
    print(rendered.body.split("\n-- \n", 1)[0].rstrip())
    return 0


# --- members ------------------------------------------------------------------------------------------------------
def cmd_members_add(args: argparse.Namespace) -> int:
    settings = _settings(args)
    upgrade(settings.database_url)
    fields = {k: v for k in ("first_name", "last_name", "company", "phone", "skills", "hobbies", "particulars",
                             "visibility", "activity", "postal_address", "accepts_appeals")
              if (v := getattr(args, k)) is not None}
    with _sessions(settings).begin() as session:
        member, created = upsert_member(session, args.email, **fields)
        print(f"{'added' if created else 'updated'}: {member.email}")
    return 0


def cmd_members_list(args: argparse.Namespace) -> int:
    settings = _settings(args)
    with _sessions(settings)() as session:
        rows = [member_dict(m) for m in list_members(session)]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    for row in rows:
        name = f"{row['first_name']} {row['last_name']}".strip()
        print(f"{row['email']:<36} {name:<28} {row['status']:<8} {row['visibility']:<15} {row['skills'][:40]}")
    if not rows:
        print("Aucun membre.")
    return 0


def cmd_members_import(args: argparse.Namespace) -> int:
    settings = _settings(args)
    upgrade(settings.database_url)
    if not args.file.is_file():
        print(f"mailbot: no such file: {args.file}", file=sys.stderr)
        return 2
    # The bar goes to stderr, so the report on stdout stays clean for scripts.
    with tqdm(total=count_rows(args.file), unit=" membres", desc="Import", file=sys.stderr, ascii=True,
              mininterval=0.2) as bar, _sessions(settings).begin() as session:
        report = import_csv(session, args.file, progress=bar.update)
    print(f"{report.added} added, {report.updated} updated, {len(report.rejected)} rejected")
    for line, why in report.rejected:
        print(f"  line {line}: {why}")
    return 0 if not report.rejected else 1


def cmd_members_export(args: argparse.Namespace) -> int:
    settings = _settings(args)
    with _sessions(settings)() as session:
        print(json.dumps(export_member(session, args.email), ensure_ascii=False, indent=2))
    return 0


def cmd_members_erase(args: argparse.Namespace) -> int:
    settings = _settings(args)
    sessions = _sessions(settings)
    with sessions.begin() as session:
        erase_member(session, args.email)
    truncate_wal(sessions)  # no old copy of the erased rows left in SQLite's WAL file
    print(f"erased: {args.email}")
    return 0


def _address_change(args: argparse.Namespace, member_address: str, change: Callable[..., object]) -> int:
    """Run one change of a member's addresses as a workflow (its mails wait in the outbox for the daemon)."""
    from mailbot.addresses import AddressError, member_of_address
    from mailbot.compose import TemplateRenderer
    from mailbot.outbox import Outbox
    from mailbot.tokens import TokenSigner
    from mailbot.workflows.base import WorkflowContext

    settings = _settings(args)
    upgrade(settings.database_url)
    signer = TokenSigner(settings.secret_keys)
    now = utcnow()
    try:
        with _sessions(settings).begin() as session:  # an AddressError rolls everything back
            member = member_of_address(session, member_address)
            if member is None or member.status == "erased":
                raise AddressError(f"aucun membre avec l'adresse {member_address}")
            ctx = WorkflowContext(session=session, settings=settings, signer=signer, now=now)
            change(ctx, member, key=f"cli:{now.isoformat()}")
            Outbox(settings, signer, TemplateRenderer.for_settings(settings)).store_all(ctx, due_at=AT_ONCE)
    except AddressError as refused:
        print(f"mailbot: {refused}", file=sys.stderr)
        return 1
    return 0


def cmd_members_alias_add(args: argparse.Namespace) -> int:
    """Link another address to a member: mail from it is theirs (withdrawal, threading, rate limit, appeals)."""
    from mailbot.addresses import HOW_CLI
    from mailbot.workflows import aliases

    code = _address_change(args, args.member, lambda ctx, member, key: aliases.link(
        ctx, member, args.alias, how=HOW_CLI, actor="cli", key=key))
    if code == 0:
        print(f"linked: {args.alias.strip().lower()} -> {args.member.strip().lower()}")
    return code


def cmd_members_alias_remove(args: argparse.Namespace) -> int:
    from mailbot.workflows import aliases

    code = _address_change(args, args.member, lambda ctx, member, key: aliases.unlink(
        ctx, member, args.alias, actor="cli", key=key))
    if code == 0:
        print(f"unlinked: {args.alias.strip().lower()}")
    return code


def cmd_members_address_change(args: argparse.Namespace) -> int:
    """Change a member's main address (where their mail goes); the old one stays theirs unless --drop-old."""
    from mailbot.workflows import aliases

    code = _address_change(args, args.old, lambda ctx, member, key: aliases.change(
        ctx, member, args.new, actor="cli", key=key, keep_old=not args.drop_old))
    if code == 0:
        print(f"changed: {args.old.strip().lower()} -> {args.new.strip().lower()}")
    return code


def cmd_members_alias_list(args: argparse.Namespace) -> int:
    from mailbot.addresses import member_of_address
    from mailbot.models import Member, MemberAddress

    settings = _settings(args)
    with _sessions(settings)() as session:
        query = select(MemberAddress, Member).join(Member, Member.id == MemberAddress.member_id)
        if args.member:
            member = member_of_address(session, args.member)
            if member is None:
                print(f"mailbot: no member {args.member}", file=sys.stderr)
                return 1
            query = query.where(MemberAddress.member_id == member.id)
        rows: list[dict[str, str]] = [{"member": owner.email or "", "alias": row.email, "how": row.how, "added_at": row.added_at.isoformat()}
                for row, owner in session.execute(query.order_by(Member.email, MemberAddress.id))]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    for row in rows:
        print(f"{row['member']}\t{row['alias']}\t{row['how']}\t{row['added_at'][:16]}")
    return 0


def cmd_members_unbounce(args: argparse.Namespace) -> int:
    """Clear the bounce mark set by an authenticated delivery report (a fresh mail from the member clears it too)."""
    from mailbot.addresses import member_of_address
    from mailbot.models import Event

    settings = _settings(args)
    address = args.email.strip().lower()
    with _sessions(settings).begin() as session:
        member = member_of_address(session, address)
        if member is None:
            print(f"mailbot: no member {args.email}", file=sys.stderr)
            return 1
        if member.bounced_at is None:
            print(f"not marked: {member.email}")
            return 0
        member.bounced_at = None
        session.add(Event(ticket_id=None, kind="unbounce", detail="marque levée par l'opérateur (mailbot members "
                          "unbounce)", actor=member.email, at=utcnow()))
    print(f"unbounced: {address}")
    return 0


# --- purge --------------------------------------------------------------------------------------------------------
def cmd_purge(args: argparse.Namespace) -> int:
    """Retention by hand (the daemon also runs it as a job): stored bodies go, metadata and evidence stay. The
    raw mails in the mailbox's folders are deleted by the daemon at its next cycle (MailboxPurge rows)."""
    settings = _settings(args)
    upgrade(settings.database_url)
    now = to_utc(args.at, settings) if args.at is not None else utcnow()
    sessions = _sessions(settings)
    reports = []
    while True:  # each pass purges a bounded batch of each kind; go on until the backlog is done
        with sessions.begin() as session:
            report = retention.purge(session, settings, now)
        reports.append(report)
        if not report.more:
            break
    if args.json:
        print(json.dumps([r.as_dict() for r in reports], ensure_ascii=False, indent=2))
    else:
        for report in reports:
            print(retention.describe(report, settings))
    return 0


# --- documentation ------------------------------------------------------------------------------------------------
def _doc_row(doc: Any) -> dict[str, Any]:
    return {"id": doc.id, "rubrique": doc.rubrique, "titre": doc.titre, "mots_cles": doc.mots_cles,
            "filename": doc.filename, "content_type": doc.content_type, "size": doc.size, "sha256": doc.sha256,
            "added_at": _iso(doc.added_at), "added_by": doc.added_by}


def cmd_docs_add(args: argparse.Namespace) -> int:
    """Add one file to the documentation; prints its number. Exit 1 when the file is unreadable, empty or larger
    than MAILBOT_DOC_MAX_BYTES (a member could not receive it by mail)."""
    import mimetypes

    from mailbot.workflows.documents import DocumentError, add_document

    settings = _settings(args)
    upgrade(settings.database_url)
    path: Path = args.file
    try:
        if path.stat().st_size > settings.doc_max_bytes:
            raise DocumentError(f"{path.name}: {path.stat().st_size} bytes, above MAILBOT_DOC_MAX_BYTES "
                                f"({settings.doc_max_bytes})")
        data = path.read_bytes()
    except OSError as error:
        print(f"mailbot: cannot read {path}: {error.strerror or error}", file=sys.stderr)
        return 1
    except DocumentError as error:
        print(f"mailbot: {error}", file=sys.stderr)
        return 1
    try:
        with _sessions(settings).begin() as session:
            doc = add_document(session, data=data, filename=path.name, rubrique=args.rubrique, titre=args.titre,
                               mots_cles=args.mots_cles, content_type=mimetypes.guess_type(path.name)[0] or "",
                               added_by="operator", now=utcnow(), max_bytes=settings.doc_max_bytes)
            row = _doc_row(doc)
    except DocumentError as error:
        print(f"mailbot: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(row, ensure_ascii=False, indent=2))
    else:
        print(f"document {row['id']} added: {row['rubrique']} / {row['titre']} ({row['size']} bytes)")
    return 0


def cmd_docs_list(args: argparse.Namespace) -> int:
    """The documents, by section then number (without their bytes)."""
    from mailbot.models import Document

    settings = _settings(args)
    with _sessions(settings)() as session:
        rows = [_doc_row(doc) for doc in session.scalars(
            select(Document).options(defer(Document.data)).order_by(Document.rubrique, Document.id))]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    print(f"Documentation : {len(rows) or 'vide'}")
    section = None
    for row in rows:
        if row["rubrique"] != section:
            section = row["rubrique"]
            print(f"  {section}")
        print(f"    {row['id']:>4}  {row['titre']}  ({row['filename']}, {row['size']} bytes)"
              + (f"  [{row['mots_cles']}]" if row["mots_cles"] else ""))
    return 0


def cmd_docs_remove(args: argparse.Namespace) -> int:
    """Remove a document; exit 1 when there is none with that number."""
    from mailbot.workflows.documents import remove_document

    settings = _settings(args)
    with _sessions(settings).begin() as session:
        doc = remove_document(session, args.id)
        title = doc.titre if doc is not None else ""
    if doc is None:
        print(f"mailbot: no document {args.id}", file=sys.stderr)
        return 1
    print(f"document {args.id} removed: {title}")
    return 0


# --- quarantine ---------------------------------------------------------------------------------------------------
def cmd_quarantine_list(args: argparse.Namespace) -> int:
    """The quarantine folder read over IMAP, each mail joined with its inbound record's reason. Changes nothing."""
    from mailbot.quarantine import list_quarantine

    settings = _settings(args)
    mails = list_quarantine(settings, _sessions(settings))
    if args.json:
        print(json.dumps([mail.as_dict() for mail in mails], ensure_ascii=False, indent=2))
        return 0
    print(f"Quarantaine ({settings.quarantine_folder}) : {len(mails) or 'vide'}")
    for mail in mails:
        date = mail.date.isoformat(" ", "minutes") if mail.date else "?"
        print(f"  {mail.uid:>6} {date[:16]} {mail.sender or '-':<32} {mail.subject or '(sans objet)'}")
        print(f"         {mail.reason or 'raison inconnue (aucun enregistrement)'}")
    return 0


def cmd_quarantine_replay(args: argparse.Namespace) -> int:
    """Move quarantined mails back to the inbox; the daemon's next cycle processes each of them once. Exit 1 when
    a UID given is not in the quarantine folder."""
    from mailbot.quarantine import replay

    if bool(args.uids) == bool(args.all):
        args.parser.error("give the UIDs to replay (see `mailbot quarantine list`) or --all, not both")
    settings = _settings(args)
    report = replay(settings, _sessions(settings), None if args.all else list(args.uids))
    if args.json:
        print(json.dumps({"replayed": report.replayed, "busy": report.busy, "missing": report.missing}))
    else:
        print(f"{len(report.replayed)} mail(s) moved back to {settings.imap_folder}: the daemon processes them at "
              f"its next cycle (or run `mailbot run --once`)." + (f" UID(s) {report.replayed}" if report.replayed
                                                                  else ""))
        if report.busy:
            print(f"being replayed by another command, left to it: {report.busy}")
        if report.missing:
            print(f"not in {settings.quarantine_folder}: {report.missing}", file=sys.stderr)
    return 1 if report.missing else 0


# --- aideur -------------------------------------------------------------------------------------------------------
def cmd_aideur_rotate_address(args: argparse.Namespace) -> int:
    """A new command address for Aideur (the old one, leaked or not, stops commanding at once); every Aideur
    address is sent the new one, by the daemon's next cycle (the mail waits in the outbox)."""
    from mailbot.compose import TemplateRenderer
    from mailbot.outbox import Outbox
    from mailbot.tokens import TokenSigner
    from mailbot.workflows.aideur import rotate_command_address
    from mailbot.workflows.base import WorkflowContext

    settings = _settings(args)
    upgrade(settings.database_url)
    now = to_utc(args.at, settings) if args.at is not None else utcnow()
    signer = TokenSigner(settings.secret_keys)
    with _sessions(settings).begin() as session:
        ctx = WorkflowContext(session=session, settings=settings, signer=signer, now=now)
        address = rotate_command_address(ctx)
        Outbox(settings, signer, TemplateRenderer.for_settings(settings)).store_all(ctx, due_at=AT_ONCE)
    print(f"nouvelle adresse de commande : {address}")
    print(f"envoyée à : {', '.join(settings.aideur_addresses)} (au prochain cycle du démon)")
    return 0


# --- absence ------------------------------------------------------------------------------------------------------
def _absence(args: argparse.Namespace, action: str) -> int:
    """`mailbot absence set|clear|show`: the same as Aideur's #absent by mail (workflows.absences); the mails it
    causes wait in the outbox for the daemon's next cycle. Exit 1 when the dates cannot be read."""
    from mailbot.commands.absent import read_range
    from mailbot.compose import TemplateRenderer
    from mailbot.outbox import Outbox
    from mailbot.tokens import TokenSigner
    from mailbot.workflows import absences
    from mailbot.workflows.base import WorkflowContext

    settings = _settings(args)
    upgrade(settings.database_url)
    now = to_utc(args.at, settings) if args.at is not None else utcnow()
    signer = TokenSigner(settings.secret_keys)
    with _sessions(settings).begin() as session:
        ctx = WorkflowContext(session=session, settings=settings, signer=signer, now=now)
        if action == "set":
            found = read_range(" ".join(args.dates), absences.local_day(ctx, now))
            if isinstance(found, str):
                print(found, file=sys.stderr)
                return 1
            absences.declare(ctx, *found, actor="cli", key=f"cli:{now.isoformat()}")
        elif action == "clear" and absences.cancel(ctx, actor="cli", key="", tell=False) is None:
            print("aucune absence enregistrée")
            return 0
        Outbox(settings, signer, TemplateRenderer.for_settings(settings)).store_all(ctx, due_at=AT_ONCE)
        found_now = absences.current(ctx) if action != "clear" else None
        if action == "clear":
            print("absence terminée")
        elif found_now is None:
            print("aucune absence enregistrée")
        else:
            info = absences.summary(ctx, found_now)
            print(f"absent du {info['starts']} au {info['ends']}, retour le {info['back']}"
                  + (f" ({info['reason']})" if info["reason"] else ""))
    return 0


def cmd_absence_set(args: argparse.Namespace) -> int:
    return _absence(args, "set")


def cmd_absence_clear(args: argparse.Namespace) -> int:
    return _absence(args, "clear")


def cmd_absence_show(args: argparse.Namespace) -> int:
    return _absence(args, "show")


# --- check --------------------------------------------------------------------------------------------------------
def cmd_inspect(args: argparse.Namespace) -> int:
    """Parse each file as the daemon would and print the verdict; no settings, database or mailbox needed.
    Exit 1 when a file cannot be opened (an unreadable mail is a verdict, not an error)."""
    from mailbot.inspect import inspect_paths, to_json, to_text

    results = inspect_paths(args.files)
    print(to_json(results) if args.json else to_text(results))
    return 1 if any(item["error"].startswith("fichier illisible") for item in results) else 0


def cmd_check(args: argparse.Namespace) -> int:
    from mailbot.checks import run_checks

    return run_checks(args.env_file, as_json=args.json)


# --- backup -------------------------------------------------------------------------------------------------------
def cmd_backup(args: argparse.Namespace) -> int:
    """A consistent copy while the daemon runs (SQLite's online backup; pg_dump for PostgreSQL)."""
    from mailbot.backup import backup

    settings = _settings(args)
    target = Path(args.path)
    if args.path.endswith(os.sep):
        target.mkdir(mode=0o700, parents=True, exist_ok=True)  # a directory, as the operator said
    print(backup(settings.database_url, target))
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    """The backup in place of the database, refused while a daemon runs on it."""
    from mailbot.backup import restore

    settings = _settings(args)
    print(restore(settings.database_url, args.path))
    return 0
