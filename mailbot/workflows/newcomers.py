"""A sender who is not a member: a polite answer on how to join, and Aideur is told.

Registration by mail itself comes later (DESIGN.md 2.9); until then the answer explains how to join.
"""
from __future__ import annotations

from mailbot.models import Member
from mailbot.parsers import InboundMail
from mailbot.tokens import ROLE_MEMBER, SCOPE_COMMAND, Token
from mailbot.workflows.base import Outgoing, WorkflowContext
from mailbot.workflows.requests import notify_aideurs
from mailbot.workflows.tickets import shorten

# Scope for mails to people who are not (yet) members: number 0, no ticket.
NEWCOMER_TOKEN = Token(SCOPE_COMMAND, 0, ROLE_MEMBER)


def non_member(ctx: WorkflowContext, mail: InboundMail, known: Member | None) -> None:
    context = {
        "club_name": ctx.settings.club_name,
        "sender": mail.from_address,
        "sender_name": mail.from_name,
        "subject": mail.subject or "(sans objet)",
        "text": shorten(mail.new_text or mail.text, 2000),
        "former_member": known is not None,
    }
    if mail.from_address:
        ctx.send(Outgoing(
            template="non_membre",
            to=mail.from_address,
            context=context,
            idempotency_key=f"non-member:{mail.message_id}",
            token=NEWCOMER_TOKEN,
            in_reply_to=f"<{mail.message_id}>",
        ))
    notify_aideurs(ctx, None, "notification_non_membre", context, key=f"non-member:{mail.message_id}")
