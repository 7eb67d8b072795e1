"""A member's answer to a quote (devis, docs/rules.md §6): "Oui, l'offre m'intéresse", "je prends", "non merci".

A clear answer to the quote mail (a reply in its thread, through the member's own reply address of the ticket:
the proof it is theirs) is acknowledged to the member and Aideur is told, who arranges what follows. Anything
else (a question, a condition, another subject) stays an ordinary follow-up for Aideur, as before.
"""
from __future__ import annotations

import re

from sqlalchemy import select

from mailbot.addresses import same_person
from mailbot.models import Message, OutboxMail, Ticket
from mailbot.parsers import InboundMail
from mailbot.parsers.consent import ConsentAnswer
from mailbot.parsers.quote_answer import read_quote_answer
from mailbot.tokens import ROLE_MEMBER, SCOPE_TICKET, Token
from mailbot.workflows import remarks
from mailbot.workflows.aideur import notify_aideurs
from mailbot.workflows.base import Outgoing, WorkflowContext
from mailbot.workflows.tickets import record_event, shorten

QUOTE_TEMPLATE = "devis"
_PROVIDER = re.compile(r"^\s*Prestataire\s*:\s*(.+?)\s*$", re.MULTILINE)


def quote_replied_to(ctx: WorkflowContext, mail: InboundMail, ticket: Ticket) -> OutboxMail | None:
    """The quote mail of this ticket the mail answers (its In-Reply-To, else its References), if any."""
    cited = [*mail.in_reply_to, *reversed(mail.references)]
    if not cited:
        return None
    quotes = {row.message_id: row for row in ctx.session.scalars(select(OutboxMail).where(
        OutboxMail.ticket_id == ticket.id, OutboxMail.kind == QUOTE_TEMPLATE, OutboxMail.message_id.in_(cited)))}
    return next((quotes[message_id] for message_id in cited if message_id in quotes), None)


def provider_of(ctx: WorkflowContext, quote: OutboxMail) -> str:
    """The provider named in the quote mail, as the member read it ("" if it cannot be found)."""
    text = ctx.session.scalar(select(Message.text).where(Message.message_id == quote.message_id,
                                                         Message.direction == "out"))
    found = _PROVIDER.search(text or "")
    return found.group(1) if found else ""


def quote_answer(ctx: WorkflowContext, mail: InboundMail, ticket: Ticket) -> bool:
    """Handle the member's clear yes or no to a quote of this ticket; False when the mail is not one (then it is
    an ordinary follow-up). The caller has already recorded the mail on the ticket."""
    from mailbot.workflows.requests import through_reply_address, ticket_context  # requests calls this module

    member = ticket.member
    if member is None or not member.email or ticket.closed_at is not None \
            or not same_person(ctx.session, member.email, mail.from_address):  # any of the member's addresses
        return False
    quote = quote_replied_to(ctx, mail, ticket)
    if quote is None or not through_reply_address(ctx, mail, ticket):
        return False  # not about a quote, or not proven to come from the member's mailbox: Aideur reads it
    reading = read_quote_answer(mail.text or mail.new_text)
    if reading.answer not in (ConsentAnswer.YES, ConsentAnswer.NO):
        return False
    accepted = reading.answer is ConsentAnswer.YES
    provider = provider_of(ctx, quote)
    record_event(ctx.session, ticket, "quote-accepted" if accepted else "quote-declined",
                 f"{member.display_name} : « {shorten(reading.line, 160)} »"
                 + (f" (devis de {provider})" if provider else ""), ctx.now, actor=mail.from_address)
    remark = remarks.remark_in(mail.new_text, reading.line)
    context = ticket_context(ctx, ticket, member) | {"accepted": accepted, "provider": provider,
                                                    "line": reading.line, "remark": remark}
    ctx.send(Outgoing(template="devis_reponse", to=member.email, context=context,
                      idempotency_key=f"quote-answer:{mail.message_id}",
                      token=Token(SCOPE_TICKET, ticket.id, ROLE_MEMBER), ticket_id=ticket.id,
                      in_reply_to=f"<{mail.message_id}>"))
    notify_aideurs(ctx, ticket, "notification_devis_reponse", context, key=f"quote-answer:{mail.message_id}")
    ticket.updated_at = ctx.now
    return True
