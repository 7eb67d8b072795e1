"""The weekly digest for Aideur (docs/rules.md §11): a scheduled job, once per ISO week.

On the digest day (MAILBOT_DIGEST_DAY, Monday by default) from the digest hour (MAILBOT_DIGEST_HOUR, local time),
every Aideur address gets one mail: the week's figures, the promises overdue, the open tickets and their deadlines,
the consents and result forms still awaited, the new members, and the week's mails that got no answer
(auto-replies, delivery reports, lists…) with the reason of each: nothing received goes unseen. The figures cover the seven whole local days before
the digest day (Monday to Sunday for a Monday digest), whenever in the day the job runs: consecutive digests cover
consecutive weeks, with no gap and no overlap. The lists are as they stand when the digest is written.

Once per week: an Event "digest" with the ISO week is recorded in the same transaction as the mails (and the
outbox's idempotency key, which carries the week, would refuse a second one anyway), so reruns, replays and
restarts never repeat it. A digest missed because mailbot was down on the day goes out when it comes back, later
that week, still covering the same seven days; the next week's comes on its day as usual.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from mailbot.calendar import WEEKDAYS, french_date
from mailbot.models import Event
from mailbot.report import (
    Digest,
    OpenTicket,
    Reciprocity,
    UnansweredMail,
    build_digest,
    local_date,
    local_midnight,
    period_label,
)
from mailbot.workflows.aideur import notify_aideurs
from mailbot.workflows.base import WorkflowContext
from mailbot.workflows.tickets import record_event, shorten

TEMPLATE = "digest_hebdo"
EVENT_KIND = "digest"
TITLE_LENGTH = 50  # "  title (proposition faite)" stays within a phone line
RESULT_LABELS = {"resolu": "résolu", "en_partie": "en partie", "non_resolu": "non résolu", "en_cours": "en cours"}
SUGGESTION_LENGTH = 300  # the whole text went to Aideur when it came: the digest recalls it
PROMISES = {"answer": "votre réponse", "proposals": "vos propositions"}  # what the member waits for


def weekly_digest(ctx: WorkflowContext) -> int:
    """Queue this week's digest if it is due at ctx.now and not queued yet. Returns 1 when queued, else 0."""
    zone = ctx.settings.timezone
    local = ctx.now.replace(tzinfo=UTC).astimezone(zone)
    days_late = local.weekday() - ctx.settings.digest_weekday
    if days_late < 0 or (days_late == 0 and local.hour < ctx.settings.digest_hour):
        return 0
    digest_day = local.date() - timedelta(days=days_late)
    week = iso_week(digest_day)
    sent = set(ctx.session.scalars(select(Event.detail).where(Event.kind == EVENT_KIND)
                                   .order_by(Event.id.desc()).limit(2)))
    if week in sent:
        return 0
    if days_late and not sent:
        # Late only for a club that already has its weekly digest (the daemon was down on the day); a new
        # installation starts on the digest day, not on whatever day it first runs.
        return 0
    # The week before the digest day, midnight to midnight on the club's calendar: the week `mailbot report` names
    # that day (mailbot.report.report_period), whenever the digest goes out (late too).
    digest = build_digest(ctx.session, ctx.now, zone, period_end=local_midnight(digest_day, zone))
    notify_aideurs(ctx, None, TEMPLATE, digest_context(digest, ctx.now, zone, ctx.settings.club_name),
                   key=f"digest:{week}")
    record_event(ctx.session, None, EVENT_KIND, week, ctx.now)
    return 1


def iso_week(day: date) -> str:
    """'2026-W49': the ISO year and week (a Monday 28 December 2026 is 2026-W53, 4 January 2027 is 2027-W01)."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def digest_context(digest: Digest, now: datetime, zone: ZoneInfo, club_name: str) -> dict[str, Any]:
    """Everything the template shows, already worded: the template only lays it out."""
    figures = digest.figures
    return {
        "club_name": club_name,
        "period": period_label(figures.start, figures.end, zone),
        "today": french_date(now, zone),
        "figures": {
            "requests": figures.requests,
            "accepted": figures.accepted,
            "declined": figures.declined,
            "solved": figures.solved,
            "withdrawn": figures.withdrawn,
            "first_answer": hours(figures.median_first_answer_hours),
            "satisfaction": (f"{french_number(figures.satisfaction_mean)}/5"
                             if figures.satisfaction_mean is not None else ""),
            "satisfaction_count": figures.satisfaction_count,
            "results": [(RESULT_LABELS.get(key, key), count) for key, count in _ordered(figures.results)],
            "new_members": figures.new_members,
        },
        "open_tickets": [_ticket(t) for t in digest.open_tickets],
        "late_count": len(digest.overdue),
        "consents": [{"ref": c.ref, "member": c.member, "role": c.role, "since": short_date(c.asked_on),
                      "reminded": c.reminded} for c in digest.pending_consents],
        "forms": [{"ref": f.ref, "member": f.member, "role": f.role, "sent": short_date(f.sent_on),
                   "reminders": f.reminders} for f in digest.pending_forms],
        "new_members": [{"name": m.name, "activity": m.activity, "joined": short_date(m.joined_on)}
                        for m in digest.new_members],
        "unanswered": [_unanswered(m, zone) for m in digest.unanswered],
        "unanswered_count": max(digest.unanswered_count, len(digest.unanswered)),
        "suggestions": [{"number": s.number, "member": s.member, "when": short_date(s.received_on),
                         "text": shorten(s.text, SUGGESTION_LENGTH)} for s in digest.suggestions],
        "reciprocity": reciprocity_context(digest.reciprocity),
        # Issue 17: the activities to come and the polls of the week, with participation (never a choice).
        "activities": [{"ref": a.ref, "title": a.title, "when": short_date(local_date(a.starts_at, zone)),
                        "places": a.places, "booked": a.booked, "waiting": a.waiting,
                        "closed": a.status == "closed"} for a in digest.activities],
        "polls": [{"ref": p.ref, "question": p.question, "closes": short_date(local_date(p.closes_at, zone)),
                   "asked": p.asked, "voted": p.voted, "open": p.status == "open"} for p in digest.polls],
    }


# The reciprocity block (issue 17, point 5) stays short: what Aideur can act on this week. Who gave this week
# (the first RECIPROCITY_TOP: to thank them, to know on whom the network rests), and who asked this week without
# ever having given anything (the first RECIPROCITY_TOP: whom to invite to answer the next appeal in their field).
# Everyone, with the totals, is in `mailbot report --json` ("reciprocity").
RECIPROCITY_TOP = 5


def reciprocity_context(rows: list[Reciprocity]) -> dict[str, Any]:
    givers = [r for r in rows if r.given_period]  # rows come most helpful first
    takers = sorted((r for r in rows if r.asked_period and not r.given_total),
                    key=lambda r: (-r.asked_total, r.name.casefold(), r.member_id))
    return {
        "askers": sum(1 for r in rows if r.asked_period),
        "givers": len(givers),
        "top": [{"name": r.name, "detail": _given_detail(r), "given_total": r.given_total,
                 "asked_total": r.asked_total} for r in givers[:RECIPROCITY_TOP]],
        "more_givers": max(len(givers) - RECIPROCITY_TOP, 0),
        "takers": [{"name": r.name, "asked_period": r.asked_period, "asked_total": r.asked_total}
                   for r in takers[:RECIPROCITY_TOP]],
        "more_takers": max(len(takers) - RECIPROCITY_TOP, 0),
        "never_gave": sum(1 for r in rows if r.asked_total and not r.given_total),
    }


def _given_detail(row: Reciprocity) -> str:
    """'2 offres, 1 mise en relation': what a member gave in the period, in words."""
    parts = [(row.offers_period, "offre", "offres"), (row.connections_period, "mise en relation", "mises en relation"),
             (row.activities_led_period, "activité animée", "activités animées")]
    return ", ".join(f"{n} {one if n == 1 else many}" for n, one, many in parts if n)


UNANSWERED_LABELS = {"auto-reply": "réponse automatique", "bounce": "rapport de distribution",
                     "ignore": "ignoré"}


def _unanswered(mail: UnansweredMail, zone: ZoneInfo) -> dict[str, Any]:
    return {"when": short_date(local_date(mail.received_at, zone)), "sender": mail.sender or "(inconnu)",
            "subject": shorten(mail.subject or "(sans objet)", TITLE_LENGTH),
            "label": UNANSWERED_LABELS.get(mail.outcome, mail.outcome), "reason": mail.reason, "ref": mail.ticket_ref}


def _ticket(ticket: OpenTicket) -> dict[str, Any]:
    return {"ref": ticket.ref, "member": ticket.member, "title": shorten(ticket.title, TITLE_LENGTH),
            "state": ticket.state, "promise": PROMISES.get(ticket.promise, ticket.promise),
            "due": short_date(ticket.due) if ticket.due else "", "late": ticket.late, "days_late": ticket.days_late}


def _ordered(results: dict[str, int]) -> list[tuple[str, int]]:
    known = [(key, results[key]) for key in RESULT_LABELS if key in results]
    return known + sorted((key, count) for key, count in results.items() if key not in RESULT_LABELS)


def short_date(day: date) -> str:
    """'lun. 30/11': short enough for a phone line."""
    return f"{WEEKDAYS[day.weekday()][:3]}. {day.day}/{day.month:02d}"


def hours(value: float | None) -> str:
    """'5 h', '2,5 h', '52 h (2,2 jours)'; '' when there is nothing to say."""
    if value is None:
        return ""
    text = f"{french_number(value)} h"
    return text if value < 48 else f"{text} ({french_number(value / 24)} jours)"


def french_number(value: float) -> str:
    """One decimal at most, French style: 3.6667 → '3,7', 5.0 → '5'."""
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")
