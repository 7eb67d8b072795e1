"""Aideur's absences (issue 13, point 4): `#absent DU AU [MOTIF]` and what it changes.

Rules (README, "Absences"):

* An absence runs from its first day to its last day included (club-local dates); Aideur is back on the first
  business day after the last one (the *return day*).
* A promise to a member falling in the absence moves after the return: the member keeps the business days the
  promise still had when the absence began (counted from the later of its start and today), at most the usual
  MAILBOT_ANSWER_BUSINESS_DAYS and at least one, counted from the return day — Aideur gets his return day to catch
  up, and nobody waits longer than a fresh request would. A date Aideur set himself after declaring the absence
  (`#accepter`, `#reporter`) is his choice and is kept.
* Each member concerned gets ONE mail per declaration, listing all their requests with the return date and the new
  dates. The motif is Aideur's own record: it is shown to him, never to members.
* A request arriving before or during the absence whose promise would fall in it is promised after the return, and
  its acknowledgement says Aideur is away until then. A delay notice's new date is moved the same way.
* Aideur's mail that is not a command and reads like an automatic answer (a vacation notice, with or without the
  RFC 3834 headers) is never relayed to a member: it is recorded on the ticket and Aideur is told once per absence
  (or once a fortnight without a declared absence), with the suggestion to use `#absent`. The same text sent by
  Aideur to another ticket in the last DUPLICATE_WINDOW is held until he confirms it (OUI), as a command through
  his command address would be.
"""
from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import bindparam, select

from mailbot.calendar import END_OF_BUSINESS_DAY, add_business_days, french_date, is_business_day
from mailbot.models import Absence, Event, Member, Message, Ticket
from mailbot.parsers import InboundMail
from mailbot.parsers.kind import auto_reply_subject
from mailbot.tokens import ROLE_MEMBER, SCOPE_TICKET, Token
from mailbot.workflows.aideur import notify_aideurs
from mailbot.workflows.base import Outgoing, WorkflowContext
from mailbot.workflows.tickets import record_event, shorten

# Longest absence accepted in one command: beyond, a typo ("22/12 05/01/2028") is more likely than a sabbatical.
MAX_ABSENCE_DAYS = 183
# An identical text from Aideur to two tickets within this time is held for his confirmation.
DUPLICATE_WINDOW = timedelta(hours=24)
# Without a declared absence, Aideur hears at most once in this time that an auto-reply of his was not relayed.
AUTO_NOTICE_QUIET = timedelta(days=14)
AUTO_EVENT = "aideur-auto-reply"
AUTO_NOTICE_EVENT = "aideur-auto-reply-notice"


# --- dates -------------------------------------------------------------------------------------------------------
def local_day(ctx: WorkflowContext, value: datetime) -> date:
    return value.replace(tzinfo=UTC).astimezone(ctx.settings.timezone).date()


def return_day(absence: Absence) -> date:
    """The first business day after the last day away."""
    return add_business_days(absence.ends_on + timedelta(days=1), 0)


def end_of_day(ctx: WorkflowContext, day: date) -> datetime:
    local = datetime.combine(day, END_OF_BUSINESS_DAY, tzinfo=ctx.settings.timezone)
    return local.astimezone(UTC).replace(tzinfo=None)


def business_days_between(start: date, end: date) -> int:
    """Business days d with start < d <= end."""
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        count += is_business_day(day)
    return count


ACTIVE = (select(Absence).where(Absence.cancelled_at.is_(None), Absence.ends_on >= bindparam("today"))
          .order_by(Absence.starts_on, Absence.id))  # built once: every new request reads it


def active(ctx: WorkflowContext) -> list[Absence]:
    """Absences not cancelled and not over (club-local today), soonest first.

    Read once per WorkflowContext (a new request asks three times: its promise, the acknowledgement's words);
    declare and cancel, the only writers, forget it."""
    if ctx.absences is None:
        today = local_day(ctx, ctx.now)
        ctx.absences = list(ctx.session.scalars(ACTIVE, {"today": today}))
    return list(ctx.absences)


def current(ctx: WorkflowContext) -> Absence | None:
    """The absence today falls in, else the next one declared, else None."""
    found = active(ctx)
    return found[0] if found else None


def covering(ctx: WorkflowContext, day: date) -> Absence | None:
    return next((a for a in active(ctx) if a.starts_on <= day <= a.ends_on), None)


def moved_due(ctx: WorkflowContext, due_at: datetime, *, absence: Absence | None = None) -> datetime | None:
    """The new due date of a promise falling in an absence (module rules), or None when it falls in none."""
    day = local_day(ctx, due_at)
    absence = absence or covering(ctx, day)
    if absence is None or not absence.starts_on <= day <= absence.ends_on:
        return None
    left = business_days_between(max(absence.starts_on, local_day(ctx, ctx.now)), day)
    days = max(1, min(left, ctx.settings.answer_business_days))
    return end_of_day(ctx, add_business_days(return_day(absence), days))


def promise_due(ctx: WorkflowContext, due_at: datetime) -> datetime:
    """A promise about to be made (acknowledgement, delay notice): moved after the return when it falls in an
    absence. Absences may follow each other: moved again until it falls in none."""
    for _ in range(10):
        moved = moved_due(ctx, due_at)
        if moved is None:
            return due_at
        due_at = moved
    return due_at


def away_context(ctx: WorkflowContext, due_at: datetime | None) -> dict[str, object]:
    """What an acknowledgement says of an absence: Aideur away until the return day, when today is in one or
    when its promise had to be moved after one."""
    today = local_day(ctx, ctx.now)
    absence = covering(ctx, today)
    if absence is None and due_at is not None:
        absence = next((a for a in active(ctx) if today < a.starts_on and return_day(a) <= local_day(ctx, due_at)
                        and a.starts_on <= add_business_days(today, ctx.settings.answer_business_days)), None)
    if absence is None:
        return {"away_from": "", "away_until": ""}
    return {"away_from": french_date(absence.starts_on) if absence.starts_on > today else "",
            "away_until": french_date(return_day(absence))}


# --- declaring, ending ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Moved:
    ticket: Ticket
    before: datetime
    after: datetime


def declare(ctx: WorkflowContext, starts_on: date, ends_on: date, reason: str, *, actor: str, key: str) -> Absence:
    """Record an absence (replacing the one not yet over, if any: Aideur corrects his dates by declaring again),
    move the promises falling in it, tell each member concerned once and Aideur what was done."""
    for previous in active(ctx):
        previous.cancelled_at = ctx.now
    ctx.absences = None
    absence = Absence(starts_on=starts_on, ends_on=ends_on, reason=reason, created_at=ctx.now, created_by=actor)
    ctx.session.add(absence)
    ctx.session.flush()
    record_event(ctx.session, None, "absence", f"absence n° {absence.id} du {starts_on:%d/%m/%Y} au "
                 f"{ends_on:%d/%m/%Y}", ctx.now, actor=actor)
    moved = shift_promises(ctx, absence, actor=actor)
    notify_aideurs(ctx, None, "absence_enregistree", summary(ctx, absence) | {
        "moved": [_row(ctx, m) for m in moved],
    }, key=f"absence:{key}")
    return absence


def cancel(ctx: WorkflowContext, *, actor: str, key: str, tell: bool = True) -> Absence | None:
    """End the current (or next) absence now. Promises already moved stay where they are: later, never earlier,
    than what members were told. `tell`: answer the Aideur address that asked (not the CLI)."""
    absence = current(ctx)
    ctx.absences = None
    if absence is not None:
        absence.cancelled_at = ctx.now
        record_event(ctx.session, None, "absence-cancelled", f"absence n° {absence.id} terminée", ctx.now,
                     actor=actor)
    if not tell:
        return absence
    notify_aideurs(ctx, None, "absence_etat", {"club_name": ctx.settings.club_name, "cancelled": absence is not None,
                                               "absence": summary(ctx, absence) if absence else {}},
                   key=f"absence-end:{key}", only=actor)
    return absence


def show(ctx: WorkflowContext, *, actor: str, key: str) -> None:
    absence = current(ctx)
    notify_aideurs(ctx, None, "absence_etat", {"club_name": ctx.settings.club_name, "cancelled": False,
                                               "absence": summary(ctx, absence) if absence else {}},
                   key=f"absence-show:{key}", only=actor)


def summary(ctx: WorkflowContext, absence: Absence) -> dict[str, object]:
    return {"club_name": ctx.settings.club_name, "starts": french_date(absence.starts_on),
            "ends": french_date(absence.ends_on), "back": french_date(return_day(absence)),
            "reason": absence.reason}


def _row(ctx: WorkflowContext, moved: Moved) -> dict[str, str]:
    zone = ctx.settings.timezone
    member = moved.ticket.member
    return {"ref": moved.ticket.ref, "title": moved.ticket.subject,
            "member": member.display_name if member else "membre effacé",
            "before": french_date(moved.before, zone), "after": french_date(moved.after, zone)}


def shift_promises(ctx: WorkflowContext, absence: Absence, *, actor: str = "mailbot") -> list[Moved]:
    """Move every open promise falling in the absence; one mail per member listing their requests."""
    from mailbot.workflows.deadlines import set_promise  # deadlines imports this module

    tickets = ctx.session.scalars(select(Ticket).where(Ticket.closed_at.is_(None), Ticket.due_at.is_not(None))
                                  .order_by(Ticket.due_at, Ticket.id)).all()
    moved: list[Moved] = []
    for ticket in tickets:
        assert ticket.due_at is not None
        after = moved_due(ctx, ticket.due_at, absence=absence)
        if after is None:
            continue
        before = ticket.due_at
        # No reason rides on the new date: the absence is already counted in it, so if it passes too, the member
        # hears the plain, true reason (deadlines.PLAIN_REASONS), not the absence again.
        set_promise(ticket, after)
        record_event(ctx.session, ticket, "promise-moved", f"absence n° {absence.id} : échéance du "
                     f"{before:%Y-%m-%dT%H:%M} reportée au {after:%Y-%m-%dT%H:%M}", ctx.now, actor=actor)
        moved.append(Moved(ticket, before, after))
    by_member: dict[int, list[Moved]] = defaultdict(list)
    for item in moved:
        if item.ticket.member_id is not None:
            by_member[item.ticket.member_id].append(item)
    for member_id, items in by_member.items():
        member = ctx.session.get(Member, member_id)
        if member is None or not member.email or member.status == "erased":
            continue
        first = items[0].ticket
        ctx.send(Outgoing(template="absence_membre", to=member.email, context={
            "club_name": ctx.settings.club_name, "first_name": member.first_name, "ref": first.ref,
            "civilite": member.civility or "", "starts": french_date(absence.starts_on),
            "ends": french_date(absence.ends_on),
            "back": french_date(return_day(absence)), "tickets": [_row(ctx, m) for m in items],
        }, idempotency_key=f"absence:{absence.id}:{member_id}", token=Token(SCOPE_TICKET, first.id, ROLE_MEMBER),
            ticket_id=first.id, auto_submitted="auto-generated", rate_limited=False))
    return moved


# --- Aideur's automatic answers --------------------------------------------------------------------------------
def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.replace("’", "'"))
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).lower().split())


# What a vacation notice says and an answer to a member does not: the writer is away and will read the mail later.
_AWAY_BODY = re.compile(
    r"\b(?:je suis|je serai|nous sommes|nous serons) (?:actuellement |absolument )?(?:absente?s?|en conges?|"
    r"en vacances|en deplacement|hors du bureau|indisponibles?|en formation)\b"
    r"|\b(?:de retour|je serai de retour|je reviens|retour prevu) (?:le|a partir du|lundi|mardi|mercredi|jeudi|"
    r"vendredi|au bureau|des le|\d)"
    r"|\b(?:prendrai|traiterai|lirai|repondrai) (?:connaissance de )?(?:a )?(?:votre|vos) (?:message|mail|courriel|"
    r"e-mail|demande)s? (?:a|des) mon retour"
    r"|\ba mon retour\b|\bacces (?:limite|restreint) (?:a|aux) (?:mes )?(?:mails|messagerie|e-mails|courriels)\b"
    r"|\b(?:message|reponse|mail) automatique\b|\ben cas d'urgence\b"
    r"|\bi(?: am|'m) (?:currently |now )?(?:out of (?:the )?office|away|travell?ing|"
    r"on (?:(?:annual|parental|sick|maternity|paternity|study) )?(?:vacation|holidays?|leave))\b"
    r"|\b(?:i will|i'll) (?:be )?(?:back|return|respond|reply|answer|get back)\b.{0,40}\b(?:on|when|upon)\b"
    r"|\b(?:on|upon) my return\b|\bwhen i(?: am|'m) back\b|\blimited access to (?:my )?e-?mails?\b"
    r"|\bout of (?:the )?office\b|\bautomatic reply\b|\bauto-?reply\b")
# Words by which a mail says it was written by a machine. With an away phrase besides, they make the mail automatic
# even when it quotes the notification (some autoresponders quote the mail they answer).
_SAYS_AUTOMATIC = re.compile(r"\b(?:message|reponse|mail|courriel|e-mail) automatique\b"
                             r"|\b(?:automatic|automated|auto-?generated) (?:reply|response|message|e-?mail)\b"
                             r"|\bauto-?reply\b")
# Subjects of a vacation notice a person writes as a fresh mail (not "Re: <the notification>").
_AWAY_SUBJECT = re.compile(r"\b(?:conges?|vacances|absences?|absente?|out of (?:the )?office|fermeture|"
                           r"indisponib\w*|away|holidays?|vacation)\b")
_REPLY_PREFIX = re.compile(r"^\s*(?:re|ré|aw|sv|antw|r)\s*:", re.IGNORECASE)


def automatic_reason(mail: InboundMail, message: str, ref: str = "") -> str:
    """Why Aideur's mail reads like an automatic answer rather than a word for the member ("" when it does not).

    Headers (Auto-Submitted, X-Autoreply…) and auto-reply subjects are already caught by the router; this reads
    what is left: a notice without headers. Its subject is its own, not a reply to the notification (no "Re:"),
    and says he is away; or its text says so in the words autoresponders use ("je suis absent…", "de retour le…",
    "je prendrai connaissance de votre message à mon retour", "I'm on annual leave") and it does not quote the
    notification (`ref`, the ticket's reference, is in every notification: a person's reply quotes it, an
    autoresponder does not); or, quoting it or not, it says both that he is away and that it is automatic
    ("Ceci est un message automatique. Je suis absent…": some autoresponders quote the mail they answer)."""
    text = _fold(message)
    subject = _fold(mail.subject)
    if auto_reply_subject(mail.subject):
        return f"objet d'une réponse automatique (« {shorten(mail.subject, 80)} »)"
    if mail.kind_reason and "auto" in mail.kind_reason.lower():
        return mail.kind_reason
    body = _AWAY_BODY.search(text)
    fresh_subject = not _REPLY_PREFIX.match(mail.subject or "")
    if fresh_subject and (_AWAY_SUBJECT.search(subject) or body):
        return f"mail d'absence (objet « {shorten(mail.subject, 80)} », pas une réponse à la notification)"
    quoted = bool(ref) and ref.casefold() in (mail.text or "").casefold() and ref.casefold() not in text.casefold()
    if body and not quoted and len(text) < 1200:
        return f"texte d'un message d'absence (« {shorten(body.group(0), 60)} »)"
    says = _SAYS_AUTOMATIC.search(text)
    away = _AWAY_BODY.search(_SAYS_AUTOMATIC.sub(" ", text))
    if says and away and len(text) < 1200:
        return f"message d'absence qui se dit automatique (« {shorten(says.group(0), 40)} », « " \
               f"{shorten(away.group(0), 40)} »)"
    return ""


def _normal(text: str) -> str:
    return re.sub(r"[^\w]+", " ", _fold(text)).strip()


def duplicates(ctx: WorkflowContext, mail: InboundMail, ticket: Ticket, text: str) -> list[str]:
    """The references of the other tickets Aideur sent this very text to in the last DUPLICATE_WINDOW."""
    wanted = _normal(text)
    if len(wanted) < 2:
        return []
    rows = ctx.session.execute(select(Message.text, Ticket.ref).join(Ticket, Ticket.id == Message.ticket_id).where(
        Message.direction == "in", Message.ticket_id != ticket.id, Message.at >= ctx.now - DUPLICATE_WINDOW,
        Message.sender.in_(ctx.settings.aideur_addresses), Message.message_id != mail.message_id)).all()
    return sorted({ref for stored, ref in rows if _normal(stored) == wanted})


def auto_reply_held(ctx: WorkflowContext, mail: InboundMail, ticket: Ticket | None, reason: str) -> None:
    """Aideur's automatic answer: recorded, never relayed; Aideur told once per absence (or fortnight)."""
    record_event(ctx.session, ticket, AUTO_EVENT, f"non transmis au membre : {reason}", ctx.now,
                 actor=mail.from_address)
    absence = current(ctx)
    today = local_day(ctx, ctx.now)
    if absence is not None and absence.starts_on <= today:
        since = datetime.combine(absence.starts_on, datetime.min.time()) - timedelta(days=1)
        since = max(since, absence.created_at)
    else:
        absence, since = None, ctx.now - AUTO_NOTICE_QUIET
    told = ctx.session.scalar(select(Event.id).where(Event.kind == AUTO_NOTICE_EVENT, Event.at >= since))
    if told:
        return
    record_event(ctx.session, None, AUTO_NOTICE_EVENT, f"Aideur prévenu ({mail.from_address})", ctx.now,
                 actor=mail.from_address)
    notify_aideurs(ctx, None, "absence_reponse_auto", {
        "club_name": ctx.settings.club_name, "ticket_ref": ticket.ref if ticket else "", "subject": mail.subject,
        "sender": mail.from_address, "declared": bool(absence),
        "back": french_date(return_day(absence)) if absence else "",
    }, key=f"auto-held:{mail.message_id}", only=mail.from_address)
