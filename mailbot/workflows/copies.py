"""Copies are not requests (issue 13, point 1): what happens to a mail the club only got a copy of.

The router (router.copy_or_repeat) decides that a mail is a copy — the club only in Cc, blind-copied, or someone
else's reply-all in a ticket's thread — and which ticket it threads with, if any. Here it is recorded and Aideur
is told in one short notice; nobody else gets anything: no acknowledgement, no promise, no invitation, no
ticket for the sender, and the sender is never taken for the ticket's member (no command, no consent, no result
answer, no reopening: those are the follow-up workflow's, and a copy never goes there).
"""
from __future__ import annotations

from mailbot.models import Member, Ticket
from mailbot.parsers import InboundMail
from mailbot.parsers.recipients import addressing, is_copy, is_reply_all
from mailbot.workflows.aideur import notify_aideurs
from mailbot.workflows.base import WorkflowContext
from mailbot.workflows.notices import flood_notice
from mailbot.workflows.requests import forwardable, forwarded_rows, own_words, stored_text, ticket_context
from mailbot.workflows.tickets import human_size, record_event, record_inbound

TEMPLATE = "notification_copie"
# The inbound record's reason for a copy that threads with nothing (listed for Aideur with the unanswered mails).
UNTHREADED = "copie pour information (le Club n'était qu'en copie) : transmise à Aideur, aucune réponse"
GROUPED = "copie pour information (le Club n'était qu'en copie) : avis à Aideur regroupé, aucune réponse"
COPY_OUTCOME = "copy"  # the router's action, as the pipeline records it (flood bounds count on it)


def copy_mail(ctx: WorkflowContext, mail: InboundMail, raw: bytes, ticket: Ticket | None,
              sender: Member | None) -> str:
    """Record a copy on `ticket` (None: it threads with nothing) and tell Aideur; returns the reason recorded
    with the inbound mail ("" when it went on a ticket)."""
    text, no_new_text = own_words(mail)
    context: dict[str, object] = {
        "club_name": ctx.settings.club_name,
        "sender": mail.from_address,
        "sender_name": sender.display_name if sender is not None and sender.status == "active" else "",
        "to": ", ".join(mail.to),
        "cc": ", ".join(mail.cc),
        "blind": addressing(mail, ctx.settings.club_addresses).value == "blind",
        "subject": mail.subject,
        "text": text,
        "no_new_text": no_new_text,
        "forwarded": forwarded_rows(mail),
        "attachments": [(a.filename, human_size(a.size)) for a in mail.attachments],
        "attachments_forwarded": forwardable(ctx, mail),
        "folder": ctx.settings.processed_folder,
    }
    attach = raw if context["attachments_forwarded"] else None
    if ticket is None:
        # Someone who is not a member copying the club on mail after mail (a campaign without list headers) gets
        # the bounds of any stranger's mail: Aideur hears of the first and of the 10th, 100th…; all are recorded.
        stranger = sender is None or sender.status != "active"
        flood = flood_notice(ctx.session, sender=mail.from_address, outcome=COPY_OUTCOME, now=ctx.now,
                             aideur_addresses=ctx.settings.aideur_addresses) if stranger else None
        if stranger and flood is None:
            return GROUPED
        notify_aideurs(ctx, None, TEMPLATE, context | {"ref": "", "flood": flood}, key=f"copy:{mail.message_id}",
                       attach_from_raw=attach)
        return UNTHREADED
    record_inbound(ctx.session, ticket, mail, stored_text(mail), ctx.now)
    record_event(ctx.session, ticket, "copy", f"copie de {mail.from_address} (le Club en copie)", ctx.now,
                 actor=mail.from_address)
    notify_aideurs(ctx, ticket, TEMPLATE, ticket_context(ctx, ticket, ticket.member) | context | {
        "flood": None, "sender_is_aideur": ctx.settings.is_aideur(mail.from_address), "sender_is_owner": ticket.member is not None and ticket.member.email == mail.from_address,
        "ticket_closed": ticket.closed_at is not None,
    }, key=f"copy:{mail.message_id}", attach_from_raw=attach)
    return ""


def diverts(ctx: WorkflowContext, mail: InboundMail, ticket: Ticket) -> bool:
    """Whether a follow-up routed by a token (the ticket's reply address in Cc, its Message-ID in References) is
    someone else's copy: the club not in To, or a reply-all, from anyone but the ticket's member and Aideur. It
    then goes on the ticket as a copy, not as a message of the member's."""
    owner = ticket.member
    if ctx.settings.is_aideur(mail.from_address) or (owner is not None and owner.email == mail.from_address):
        return False
    clubs = ctx.settings.club_addresses
    return is_copy(mail, clubs) or is_reply_all(mail, clubs)
