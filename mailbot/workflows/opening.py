"""Requests that do not start as a member's fresh mail: opened by Aideur for a member (#ouvrir, `mailbot tickets
open`: a phone call, a forwarded mail), and closed requests taken up again (#rouvrir, or the member writing back).
"""
from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import update

from mailbot.addresses import member_of_address, same_person
from mailbot.calendar import due_after_business_days, end_of_business_day, french_date
from mailbot.models import Member, Message, ResultForm, Ticket
from mailbot.parsers import InboundMail
from mailbot.parsers.dates import fold
from mailbot.parsers.rules import is_courtesy_only
from mailbot.parsers.text import first_sentence, shorten
from mailbot.parsers.withdrawal import is_withdrawal
from mailbot.ticket_states import CLOSED_STATES, Move, TicketStatus, label, move
from mailbot.tokens import ROLE_MEMBER, SCOPE_TICKET, Token
from mailbot.workflows import absences
from mailbot.workflows.aideur import notify_aideurs
from mailbot.workflows.appeals import best_matches, match_rows
from mailbot.workflows.base import Outgoing, WorkflowContext
from mailbot.workflows.requests import through_reply_address, ticket_context
from mailbot.workflows.tickets import SUMMARY_LENGTH, TITLE_LENGTH, human_size, next_reference, record_event


class OpenError(ValueError):
    """Why a request cannot be opened for this address (French, for Aideur)."""


def member_to_open_for(ctx: WorkflowContext, email: str) -> Member:
    """The active member a request may be opened for, or OpenError saying why not."""
    address = email.strip().lower()
    member = member_of_address(ctx.session, address)  # their main address or another of theirs
    if member is None:
        raise OpenError(f"Aucun membre n'a l'adresse {address} : vérifiez-la (une demande ne peut être ouverte "
                        "que pour un membre inscrit).")
    if member.status != "active":
        raise OpenError(f"{member.display_name} <{address}> n'est plus membre du Club : aucune demande ne peut être "
                        "ouverte à son nom.")
    return member


def open_for(ctx: WorkflowContext, member: Member, subject: str, text: str, *, actor: str, key: str,
             detail: str = "") -> Ticket:
    """Open a request for `member` on Aideur's word (#ouvrir or the CLI): the same ticket, acknowledgement and
    notification as a member's own mail. `key` makes it happen once (the command mail's Message-ID)."""
    text = text.strip()
    title = shorten(subject.strip() or first_sentence(text, TITLE_LENGTH) or "(sans objet)", TITLE_LENGTH)
    # The ranking first: the counter row stays locked from the reference's allocation to the commit
    # (requests.new_request, the same order).
    matches = match_rows(best_matches(ctx, f"{title}\n{text}", member))
    ref = next_reference(ctx.session, ctx.settings.reference_prefix, ctx.now, ctx.settings.timezone)
    ticket = Ticket(ref=ref, member_id=member.id,
                    status=TicketStatus.NEW.value, subject=title,
                    summary=first_sentence(text, SUMMARY_LENGTH) or title, created_at=ctx.now, updated_at=ctx.now,
                    due_at=absences.promise_due(ctx, due_after_business_days(
                        ctx.now, ctx.settings.answer_business_days, ctx.settings.timezone)))
    ctx.session.add(ticket)
    ctx.session.flush()
    ctx.session.add(Message(ticket_id=ticket.id, direction="in", sender=actor, recipients="", subject=title,
                            text=text, message_id=key, attachments="", at=ctx.now))
    record_event(ctx.session, ticket, "created", detail or f"ouverte par Aideur pour {member.email}", ctx.now,
                 actor=actor)
    context = ticket_context(ctx, ticket, member) | {
        "request_text": text, "no_new_text": False, "forwarded": [], "attachments": [],
        "attachments_forwarded": False, "folder": ctx.settings.processed_folder,
    } | absences.away_context(ctx, ticket.due_at)
    ctx.send(Outgoing(template="accuse_reception", to=member.email or "", context=context,
                      idempotency_key=f"ack:{ticket.id}", token=Token(SCOPE_TICKET, ticket.id, ROLE_MEMBER),
                      ticket_id=ticket.id, auto_submitted="no", rate_limited=False))
    notify_aideurs(ctx, ticket, "notification_nouvelle_demande", context | {"matches": matches},
                   key=f"new:{ticket.id}")
    return ticket


def reopen(ctx: WorkflowContext, ticket: Ticket, when: date | None, *, actor: str) -> None:
    """Take a closed, declined or withdrawn request up again: back with Aideur ("à trier"), with a new date for
    his answer (`when`, or the usual business days), and the helpers' search starts afresh from his commands."""
    was = label(ticket.status)
    move(ticket, Move.REOPEN, ctx.now)
    ticket.promise, ticket.delay_reason = "answer", ""
    if when is not None:
        ticket.due_at = end_of_business_day(when, ctx.settings.timezone)
    else:
        ticket.due_at = absences.promise_due(ctx, due_after_business_days(ctx.now, ctx.settings.answer_business_days,
                                                                          ctx.settings.timezone))
    ticket.updated_at = ctx.now
    # A result form asked at the closing (or planned for later) is about a help that is not over: none goes, no
    # reminder either, until Aideur closes or proposes again.
    ctx.session.execute(update(ResultForm).where(ResultForm.ticket_id == ticket.id,
                                                 ResultForm.status.in_(("pending", "scheduled")))
                        .values(status="stopped"))
    record_event(ctx.session, ticket, "reopened", f"rouverte (elle était {was}) ; réponse promise le "
                 f"{french_date(ticket.due_at, ctx.settings.timezone)}", ctx.now, actor=actor)


def within_reopen_window(ctx: WorkflowContext, ticket: Ticket) -> bool:
    """Whether a member's reply to this closed request still reopens it (MAILBOT_REOPEN_DAYS after its closing)."""
    closed = ticket.closed_at or ticket.updated_at
    return ctx.now <= closed + timedelta(days=ctx.settings.reopen_days)


def takes_up_again(ctx: WorkflowContext, mail: InboundMail, ticket: Ticket, member: Member | None,
                   text: str) -> bool:
    """Whether a follow-up on a closed request asks for it again: the owner (an active member) wrote through the
    request's own reply address (a From: or a reference can be forged; a status change needs that address) and
    said something that is neither a mere thank-you nor a "résolu"."""
    owner = ticket.member
    return (ticket.status in CLOSED_STATES and owner is not None and member is not None and owner.id == member.id
            and owner.status == "active" and same_person(ctx.session, owner.email or "", mail.from_address)
            and not is_courtesy_only(mail.new_text) and not is_withdrawal(text) and not only_thanks(text)
            and through_reply_address(ctx, mail, ticket))


# A short mail that thanks and asks nothing ("Merci pour tout, tout s'est bien passé !") closes the conversation
# rather than reopening it; any sign of a need or a question keeps it a request.
_THANKS = re.compile(r"\b(?:merci|remerci\w*)\b")
_NEED = re.compile(r"\?|\b(?:besoin|probleme|souci|question|rouvr\w*|reouvr\w*|reprendre|relancer|toujours|encore "
                   r"besoin|pas|plus|n'|ne|mais|cependant|pourtant|urgent\w*)\b")
THANKS_WORDS = 25


def only_thanks(text: str) -> bool:
    """Whether a member's words are only a thank-you (short, thanking, no question, no need, no negation)."""
    folded = fold(text)
    return bool(_THANKS.search(folded)) and len(folded.split()) <= THANKS_WORDS and not _NEED.search(folded)


def reopened_by_member(ctx: WorkflowContext, mail: InboundMail, ticket: Ticket, text: str) -> None:
    """Reopen on the member's word and tell Aideur, with what they wrote."""
    previous, closed = label(ticket.status), ticket.closed_at
    reopen(ctx, ticket, None, actor=mail.from_address)
    notify_aideurs(ctx, ticket, "notification_reouverture", ticket_context(ctx, ticket, ticket.member) | {
        "sender": mail.from_address, "text": text, "previous_state": previous,
        "closed_date": french_date(closed or ctx.now, ctx.settings.timezone),
        "attachments": [(a.filename, human_size(a.size)) for a in mail.attachments],
        "folder": ctx.settings.processed_folder,
    }, key=f"reopened:{mail.message_id}")


def link(ctx: WorkflowContext, new: Ticket, old: Ticket, *, actor: str) -> None:
    """The member wrote back long after `old` closed: `new` (already opened and acknowledged) continues it."""
    new.previous_id = old.id
    record_event(ctx.session, new, "continues", f"suite de la demande {old.ref}", ctx.now, actor=actor)
    record_event(ctx.session, old, "continued", f"le membre a écrit de nouveau : nouvelle demande {new.ref}",
                 ctx.now, actor=actor)
