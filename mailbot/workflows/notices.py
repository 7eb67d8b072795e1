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

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from mailbot.addresses import addresses_of, member_of_address
from mailbot.models import InboundMail as InboundRecord
from mailbot.models import Member, MemberAddress, OutboxMail, Ticket
from mailbot.parsers import InboundMail
from mailbot.parsers.kind import is_failure
from mailbot.workflows.aideur import notify_aideurs
from mailbot.workflows.base import WorkflowContext
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
    first_overall: int = FIRST_OVERALL  # read by the templates (notification_non_membre, alerte_quarantaine)


def _milestone(count: int) -> bool:
    """10, 100, 1000…: the counts at which a summary goes out."""
    return count >= 10 and str(count).rstrip("0") == "1"


def flood_notice(session: Session, *, sender: str, outcome: str, now: datetime,
                 aideur_addresses: Collection[str] = ()) -> Flood | None:
    """The counts for a notice about this mail, or None when Aideur should not be told of it one by one.

    Counted on the inbound records committed before this mail (its own is written after the workflow), among the
    mails whose order with this one is kept whatever the number of daemons (mailbot.coordination): a stranger's
    among strangers' (and mails naming no sender), a member's among her own, Aideur's among all. Counted over every
    sender, a member's copy or calendar invitation held by another daemon would be counted, or not, before a
    stranger's that came after it."""
    since = now - FLOOD_WINDOW
    counted = select(func.count(InboundRecord.id)).where(InboundRecord.outcome == outcome,
                                                         InboundRecord.received_at > since)
    # No sender at all (a mail too broken to name one): not grouped as one sender; the overall bound holds.
    from_sender = (session.scalar(counted.where(InboundRecord.from_address == sender[:320])) or 0) + 1 \
        if sender else 1
    overall = (session.scalar(counted.where(*_same_order(session, sender, aideur_addresses))) or 0) + 1
    if _milestone(overall) or (overall <= FIRST_OVERALL and (from_sender == 1 or _milestone(from_sender))):
        return Flood(from_sender, overall)
    return None


def _same_order(session: Session, sender: str, aideur_addresses: Collection[str]) -> list[ColumnElement[bool]]:
    """The inbound records whose order with a mail from `sender` the daemons keep, as conditions: those of the
    same member (any of her addresses), of strangers (nobody's address, a former member's, none), or all for
    Aideur — the classes of coordination.people_of."""
    aideur = {address.lower() for address in aideur_addresses}
    if sender and sender.lower() in aideur:
        return []
    member = member_of_address(session, sender) if sender else None
    if member is not None and member.status == "active":
        return [InboundRecord.from_address.in_(addresses_of(session, member) or [""])]
    active_main = select(Member.id).where(Member.email == InboundRecord.from_address, Member.status == "active")
    active_other = (select(MemberAddress.id).join(Member, Member.id == MemberAddress.member_id)
                    .where(MemberAddress.email == InboundRecord.from_address, Member.status == "active"))
    strangers = [~active_main.exists(), ~active_other.exists()]
    return strangers + [InboundRecord.from_address.not_in(sorted(aideur))] if aideur else strangers


# How the reasons recorded for a delivery report start (InboundMail.reason; report.unanswered lists them).
BOUNCE_VERIFIED = "rebond authentifié"
BOUNCE_UNVERIFIED = "rebond non authentifié"
BOUNCE_NO_FAILURE = "rapport sans échec"


def bounce(ctx: WorkflowContext, mail: InboundMail, ticket: Ticket | None) -> str:
    """A delivery report. It counts only when it came back to the envelope sender (VERP) of one of our mails
    with a valid token, reports a failure, and names the address that mail was sent to: then that address is
    marked (a member's: kept out of appeals until it works again) and Aideur is told. Anything else (a forged
    report to the plain address, one naming someone else, a delay or a success) marks nobody: it is recorded
    with its reason and listed for Aideur (`mailbot tickets`, `mailbot report`, the weekly digest).
    Returns that reason."""
    from mailbot.router import returned_mail  # the router imports the workflows

    returned = returned_mail(mail, ctx.signer, ctx.session)
    if returned is not None and returned.ticket_id is not None:
        ticket = ctx.session.get(Ticket, returned.ticket_id)
    named = {address.lower() for address in mail.bounced_recipients}
    if not is_failure(mail.kind, mail.kind_reason):
        reason = f"{BOUNCE_NO_FAILURE} ({mail.kind_reason.rpartition('(')[2].rstrip(')') or 'délai'}) : rien marqué"
        record_event(ctx.session, ticket, "delivery-report", reason, ctx.now)
        return reason
    if returned is None:
        reason = (f"{BOUNCE_UNVERIFIED} : il n'est pas revenu à l'adresse de retour signée d'un mail du Club "
                  "(rapport falsifié ou ancien) : rien marqué")
    elif returned.recipient.lower() not in named:
        reason = (f"{BOUNCE_UNVERIFIED} : il ne nomme pas l'adresse à laquelle ce mail du Club a été envoyé : "
                  "rien marqué")
    else:
        return _verified_bounce(ctx, mail, returned, ticket)
    record_event(ctx.session, ticket, "bounce-unverified", reason, ctx.now)
    return reason


def _verified_bounce(ctx: WorkflowContext, mail: InboundMail, returned: OutboxMail, ticket: Ticket | None) -> str:
    address = returned.recipient.lower()
    member = member_of_address(ctx.session, address)
    if member is not None:
        member.bounced_at = ctx.now
    record_event(ctx.session, ticket, "bounce", address, ctx.now)
    notify_aideurs(ctx, ticket, "alerte_rebond", {
        "club_name": ctx.settings.club_name,
        "ref": ticket.ref if ticket else "",
        "recipients": [address],
        "members": [member.display_name] if member is not None else [],
        "reason": mail.kind_reason,
        "subject": returned.subject,
    }, key=f"bounce:{mail.message_id}", about=address)
    return f"{BOUNCE_VERIFIED} : adresse marquée en échec" if member is not None else \
        f"{BOUNCE_VERIFIED} : l'adresse n'est pas celle d'un membre"


def member_wrote(ctx: WorkflowContext, member: Member) -> None:
    """A fresh mail from a member whose address was marked bouncing: it works again, the mark goes."""
    if member.bounced_at is not None:
        member.bounced_at = None
        record_event(ctx.session, None, "unbounce", "le membre a écrit : son adresse fonctionne de nouveau",
                     ctx.now, actor=member.email or "")


def auto_reply(ctx: WorkflowContext, mail: InboundMail, ticket: Ticket | None) -> str:
    """Never answered (RFC 3834). Kept on the ticket's trail so Aideur knows the member is away; recorded with
    its reason (the header or subject that showed it) and listed for Aideur. Returns that reason."""
    if ticket is not None:
        record_event(ctx.session, ticket, "auto-reply", f"{mail.from_address} : {shorten(mail.subject, 120)}",
                     ctx.now, actor=mail.from_address)
    if ctx.settings.is_aideur(mail.from_address):
        from mailbot.workflows import absences  # Aideur's own vacation notice: he hears of it once (absences)

        absences.auto_reply_held(ctx, mail, ticket, mail.kind_reason or "en-têtes de réponse automatique")
    return f"réponse automatique ({mail.kind_reason or 'en-têtes'}) : pas de réponse"


def aideur_unrouted(ctx: WorkflowContext, mail: InboundMail, reason: str = "") -> None:
    """A mail with Aideur's From: drove nothing, and he is told why: it came to the plain club address without a
    token (`alerte_aideur_sans_jeton`), or, with MAILBOT_AUTHSERV_ID, the club's mail server did not confirm it came
    from his address (the router's reason starts with UNAUTHENTICATED_AIDEUR: `alerte_aideur_non_authentifie`), or
    to a command address rotated out (OLD_COMMAND_ADDRESS: `alerte_aideur_ancienne_adresse`)."""
    from mailbot.router import OLD_COMMAND_ADDRESS, UNAUTHENTICATED_AIDEUR  # the router imports the workflows

    template = "alerte_aideur_sans_jeton"
    if reason.startswith(UNAUTHENTICATED_AIDEUR):
        template = "alerte_aideur_non_authentifie"
    elif reason.startswith(OLD_COMMAND_ADDRESS):
        template = "alerte_aideur_ancienne_adresse"
    notify_aideurs(ctx, None, template, {
        "club_name": ctx.settings.club_name,
        "sender": mail.from_address,
        "subject": mail.subject or "(sans objet)",
        "detail": reason,
    }, key=f"unrouted:{mail.message_id}")


def quarantined(ctx: WorkflowContext, *, message_id: str, sender: str, subject: str, reason: str,
                folder: str) -> None:
    """Tell Aideur a mail was put aside, within the flood bounds (the mail itself is always recorded)."""
    flood = flood_notice(ctx.session, sender=sender, outcome=QUARANTINED_OUTCOME, now=ctx.now,
                         aideur_addresses=ctx.settings.aideur_addresses)
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


# RFC 3463 addressing status (5.1.x: no such mailbox, bad domain, bad syntax, moved): the address itself is
# wrong, as the club's own SMTP server says it over its own session. Not 5.2+ (full mailbox, too big, policy).
_ADDRESS_REFUSED = re.compile(r"^5\d\d\b.*\b5\.1\.(?:0|1|2|3|6|10)\b", re.DOTALL)


def send_failed(ctx: WorkflowContext, *, recipient: str, subject: str, error: str, ticket: Ticket | None,
                outbox_id: int) -> None:
    """The club's SMTP server refused a mail for good. When it refused the address itself (5.1.x), that is as
    authentic as a report through VERP: a member's address is marked, as a bounce would."""
    marked = ""
    if _ADDRESS_REFUSED.search(error.strip()):
        member = member_of_address(ctx.session, recipient)
        if member is not None and member.status == "active":
            member.bounced_at = ctx.now
            marked = member.display_name
    record_event(ctx.session, ticket, "send-failed", f"{recipient} : {error}", ctx.now)
    notify_aideurs(ctx, ticket, "alerte_echec_envoi", {
        "club_name": ctx.settings.club_name,
        "ref": ticket.ref if ticket else "",
        "recipient": recipient,
        "subject": subject,
        "error": error,
        "marked": marked,
    }, key=f"send-failed:{outbox_id}")
