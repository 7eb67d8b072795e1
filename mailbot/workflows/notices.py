"""Mail that gets no answer but must not pass unseen: bounces, auto-replies, Aideur without a token,
unreadable mail and mail that could not be sent. Aideur is told when a person should act."""
from __future__ import annotations

from sqlalchemy import select

from mailbot.models import Member, Ticket
from mailbot.parsers import InboundMail
from mailbot.workflows.base import WorkflowContext
from mailbot.workflows.aideur import notify_aideurs
from mailbot.workflows.tickets import record_event, shorten


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
    notify_aideurs(ctx, None, "alerte_quarantaine", {
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
