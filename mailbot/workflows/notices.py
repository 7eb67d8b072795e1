"""Mail that gets no answer but must not pass unseen: bounces, auto-replies, Aideur without a token,
unreadable mail and mail that could not be sent. Aideur is told when a person should act."""
from __future__ import annotations

import re

from sqlalchemy import select

from mailbot.models import Member, OutboxMail, Ticket
from mailbot.parsers import InboundMail
from mailbot.parsers.kind import is_failure
from mailbot.workflows.base import WorkflowContext
from mailbot.workflows.aideur import notify_aideurs
from mailbot.workflows.tickets import record_event, shorten


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
    member = ctx.session.scalar(select(Member).where(Member.email == address))
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
                     ctx.now, actor=member.email)


def auto_reply(ctx: WorkflowContext, mail: InboundMail, ticket: Ticket | None) -> str:
    """Never answered (RFC 3834). Kept on the ticket's trail so Aideur knows the member is away; recorded with
    its reason (the header or subject that showed it) and listed for Aideur. Returns that reason."""
    if ticket is not None:
        record_event(ctx.session, ticket, "auto-reply", f"{mail.from_address} : {shorten(mail.subject, 120)}",
                     ctx.now, actor=mail.from_address)
    return f"réponse automatique ({mail.kind_reason or 'en-têtes'}) : pas de réponse"


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
    notify_aideurs(ctx, None, "alerte_quarantaine", {
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
        member = ctx.session.scalar(select(Member).where(Member.email == recipient.lower()))
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
