"""Mail that gets no answer but must not pass unseen: bounces, auto-replies, Aideur without a token,
unreadable mail and mail that could not be sent. Aideur is told when a person should act.

Bounded noise (issue 11, point 8): notices about strangers and about unreadable mail are counted over a sliding
window of FLOOD_WINDOW (one hour). Aideur hears of the first mail of each sender in the window, then of the 10th,
100th, 1,000th… of that sender, each time with how many came ("12 autres mails de … cette heure-ci"); and once
FIRST_OVERALL such mails arrived in the window from all senders together, only of the 100th, 1,000th… overall.
So a flood of 500 mails in a minute gives at most FIRST_OVERALL + 2 notices. Nothing is lost: every mail keeps its
inbound record (and a quarantined one its place in the quarantine folder).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailbot.models import InboundMail as InboundRecord
from mailbot.models import Member, Ticket
from mailbot.parsers import InboundMail
from mailbot.workflows.base import WorkflowContext
from mailbot.workflows.aideur import notify_aideurs
from mailbot.workflows.tickets import record_event, shorten


FLOOD_WINDOW = timedelta(hours=1)
FIRST_OVERALL = 10  # per window, all senders together: beyond, summaries at the 100th, 1,000th… only
NON_MEMBER_OUTCOME = "non-member"  # the router's action for strangers, as the pipeline records it
QUARANTINED_OUTCOME = "quarantined"
# Events recorded for each mail Aideur was not told of one by one (counted in the next summary).
HELD_NON_MEMBER_NOTICE = "non-member-notice-held"
HELD_QUARANTINE_NOTICE = "quarantine-notice-held"


@dataclass(frozen=True)
class Flood:
    """How many mails of this kind arrived in the window, this one included."""

    from_sender: int
    overall: int
    first_overall: int = FIRST_OVERALL


def _milestone(count: int) -> bool:
    """10, 100, 1000…: the counts at which a summary goes out."""
    return count >= 10 and str(count).rstrip("0") == "1"


def flood_notice(session: Session, *, sender: str, outcome: str, now: datetime) -> Flood | None:
    """The counts for a notice about this mail, or None when Aideur should not be told of it one by one.

    Counted on the inbound records committed before this mail (its own is written after the workflow)."""
    since = now - FLOOD_WINDOW
    counted = select(func.count(InboundRecord.id)).where(InboundRecord.outcome == outcome,
                                                         InboundRecord.received_at > since)
    # No sender at all (a mail too broken to name one): not grouped as one sender; the overall bound holds.
    from_sender = (session.scalar(counted.where(InboundRecord.from_address == sender[:320])) or 0) + 1 \
        if sender else 1
    overall = (session.scalar(counted) or 0) + 1
    if _milestone(overall) or (overall <= FIRST_OVERALL and (from_sender == 1 or _milestone(from_sender))):
        return Flood(from_sender, overall)
    return None


def bounce(ctx: WorkflowContext, mail: InboundMail, ticket: Ticket | None) -> None:
    """Mark every bounced address that belongs to a member, and tell Aideur once per report."""
    members = []
    for address in mail.bounced_recipients:
        member = ctx.session.scalar(select(Member).where(Member.email == address.lower()))
        if member is not None:
            member.bounced_at = ctx.now
            members.append(member.display_name)
    record_event(ctx.session, ticket, "bounce", ", ".join(mail.bounced_recipients) or mail.kind_reason, ctx.now)
    notify_aideurs(ctx, ticket, "alerte_rebond", {
        "club_name": ctx.settings.club_name,
        "ref": ticket.ref if ticket else "",
        "recipients": list(mail.bounced_recipients),
        "members": members,
        "reason": mail.kind_reason,
        "subject": mail.subject,
    }, key=f"bounce:{mail.message_id}")


def auto_reply(ctx: WorkflowContext, mail: InboundMail, ticket: Ticket | None) -> None:
    """Never answered (RFC 3834). Kept on the ticket's trail so Aideur knows the member is away."""
    if ticket is not None:
        record_event(ctx.session, ticket, "auto-reply", f"{mail.from_address} : {shorten(mail.subject, 120)}",
                     ctx.now, actor=mail.from_address)


def aideur_unrouted(ctx: WorkflowContext, mail: InboundMail, reason: str = "") -> None:
    """A mail with Aideur's From: drove nothing, and he is told why: it came to the plain club address without a
    token (`alerte_aideur_sans_jeton`), or, with MAILBOT_AUTHSERV_ID, the club's mail server did not confirm it came
    from his address (the router's reason starts with UNAUTHENTICATED_AIDEUR: `alerte_aideur_non_authentifie`)."""
    from mailbot.router import UNAUTHENTICATED_AIDEUR  # the router imports the workflows

    unauthenticated = reason.startswith(UNAUTHENTICATED_AIDEUR)
    notify_aideurs(ctx, None, "alerte_aideur_non_authentifie" if unauthenticated else "alerte_aideur_sans_jeton", {
        "club_name": ctx.settings.club_name,
        "sender": mail.from_address,
        "subject": mail.subject or "(sans objet)",
        "detail": reason,
    }, key=f"unrouted:{mail.message_id}")


def quarantined(ctx: WorkflowContext, *, message_id: str, sender: str, subject: str, reason: str,
                folder: str) -> None:
    """Tell Aideur a mail was put aside, within the flood bounds (the mail itself is always recorded)."""
    flood = flood_notice(ctx.session, sender=sender, outcome=QUARANTINED_OUTCOME, now=ctx.now)
    if flood is None:
        record_event(ctx.session, None, HELD_QUARANTINE_NOTICE, "avis à Aideur regroupé (afflux de mails illisibles)",
                     ctx.now, actor=sender[:320] or "mailbot")
        return
    notify_aideurs(ctx, None, "alerte_quarantaine", {
        "flood": flood,
        "club_name": ctx.settings.club_name,
        "sender": sender or "(inconnu)",
        "subject": subject or "(sans objet)",
        "reason": reason,
        "folder": folder,
    }, key=f"quarantine:{message_id}")


def send_failed(ctx: WorkflowContext, *, recipient: str, subject: str, error: str, ticket: Ticket | None,
                outbox_id: int) -> None:
    record_event(ctx.session, ticket, "send-failed", f"{recipient} : {error}", ctx.now)
    notify_aideurs(ctx, ticket, "alerte_echec_envoi", {
        "club_name": ctx.settings.club_name,
        "ref": ticket.ref if ticket else "",
        "recipient": recipient,
        "subject": subject,
        "error": error,
    }, key=f"send-failed:{outbox_id}")
