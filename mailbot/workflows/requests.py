"""Request → ticket (docs/rules.md §1): a member's new mail becomes a ticket, acknowledged; later mails thread onto it."""
from __future__ import annotations

from mailbot.addresses import same_person
from mailbot.calendar import due_after_business_days, french_date
from mailbot.models import Member, Ticket
from mailbot.parsers import InboundMail
from mailbot.parsers.quotes import quoteless
from mailbot.parsers.rules import is_courtesy_only
from mailbot.parsers.subjects import strip_subject_prefixes
from mailbot.parsers.withdrawal import is_withdrawal
from mailbot.ticket_states import Move, TicketStatus, label, move
from mailbot.tokens import ROLE_MEMBER, SCOPE_TICKET, Token
from mailbot.workflows import absences, quotes
from mailbot.workflows.aideur import mail_fate, notify_aideurs, read_rate_rows
from mailbot.workflows.appeals import best_matches, match_rows, tell_helpers_need_is_over
from mailbot.workflows.base import Outgoing, WorkflowContext
from mailbot.workflows.tickets import (
    NO_NEW_TEXT,
    human_size,
    next_reference,
    record_event,
    record_inbound,
    summary_of,
    title_of,
)


def new_request(ctx: WorkflowContext, mail: InboundMail, raw: bytes, member: Member) -> Ticket:
    """An active member's fresh mail (the router decided it is not about an existing ticket): open a ticket.

    In: the context (session, settings, `now`), the parsed mail, its `raw` bytes (Aideur's notice carries the
    mail's attachments when they fit MAILBOT_MAX_FORWARD_BYTES) and the member.

    Written: a `tickets` row (status "new", the next reference of the year, a title and a summary, due after
    the settings' business days), the mail in `messages` ("in"), a "created" `events` row. Queued (on
    `ctx.outgoing`, stored by the outbox in the same transaction): "accuse_reception" to the sender, threaded
    under their mail, with the ticket's reply address; "notification_nouvelle_demande" to each Aideur address,
    with the members whose profile matches the request.

    Returns the new ticket. Raises nothing of its own (database errors go up to Pipeline.process)."""
    settings = ctx.settings
    # Everything that needs no reference comes first (the words, the ranking of who could help, the member's
    # hourly-limit rows): the year's counter row stays locked from the reference's allocation to the commit, and
    # several daemons' new requests wait on it there (docs/performance.md, "Several daemons").
    title = title_of(mail)
    due_at = absences.promise_due(ctx, due_after_business_days(ctx.now, settings.answer_business_days,
                                                               settings.timezone))
    text, no_new_text = own_words(mail)
    forward = forwardable(ctx, mail)
    # Aideur sees who could help at a glance; the member's acknowledgement does not use it.
    # A forwarded client's mail says what the problem is: it helps find who could help (shown to Aideur only).
    query = "\n".join([title, text, *(f.text for f in mail.forwarded)])
    matches = match_rows(best_matches(ctx, query, member))
    # The acknowledgement goes to the member's main address, whichever of theirs they wrote from (issue 13).
    acknowledged = member.email or mail.from_address
    read_rate_rows(ctx, acknowledged, member)
    ticket = Ticket(
        ref=next_reference(ctx.session, settings.reference_prefix, ctx.now, settings.timezone),
        member_id=member.id,
        status=TicketStatus.NEW,
        subject=title,
        summary=summary_of(mail),
        created_at=ctx.now,
        updated_at=ctx.now,
        # A promise falling in Aideur's absence is made from his return (workflows.absences).
        due_at=due_at,
    )
    ctx.session.add(ticket)
    ctx.session.flush()
    ctx.created_tickets.add(ticket.id)  # the outbox need not look for its earlier mails: there are none
    record_inbound(ctx.session, ticket, mail, stored_text(mail), ctx.now)
    record_event(ctx.session, ticket, "created", f"demande reçue de {mail.from_address}", ctx.now,
                 actor=mail.from_address)
    context = ticket_context(ctx, ticket, member) | {
        "request_text": text,
        "no_new_text": no_new_text,
        "forwarded": forwarded_rows(mail),
        "attachments": [(a.filename, human_size(a.size)) for a in mail.attachments],
        "attachments_forwarded": forward,
        "folder": ctx.settings.processed_folder,
    } | absences.away_context(ctx, ticket.due_at)
    # The ticket's title is shortened (TITLE_LENGTH): Aideur still reads the subject whole (issue 13, point 7).
    full_subject = " ".join(strip_subject_prefixes(mail.subject).split())
    aideur_context = context | {"matches": matches,
                                "full_subject": full_subject if full_subject != ticket.subject else ""}
    ctx.send(Outgoing(
        template="accuse_reception",
        to=acknowledged,
        context=context,
        idempotency_key=f"ack:{ticket.id}",
        token=Token(SCOPE_TICKET, ticket.id, ROLE_MEMBER),
        ticket_id=ticket.id,
        in_reply_to=f"<{mail.message_id}>",
        references=tuple(f"<{ref}>" for ref in mail.references),
    ))
    # What Aideur reads is what happens to the acknowledgement: sent, or held by the hourly limit (issue 13, 5).
    aideur_context["ack"] = mail_fate(ctx, acknowledged)
    notify_aideurs(ctx, ticket, "notification_nouvelle_demande", aideur_context, key=f"new:{ticket.id}",
                   attach_from_raw=raw if forward else None)
    return ticket


def follow_up(ctx: WorkflowContext, mail: InboundMail, raw: bytes, ticket: Ticket, member: Member | None) -> None:
    """The member (or someone holding their reply address) writes again: record it, pass it on to Aideur.

    On a closed, declined or withdrawn request, the owner's words through its reply address (the proof it is
    them) reopen it within MAILBOT_REOPEN_DAYS of its closing, or later start a new request linked to it; a
    thank-you or a "résolu" only reaches Aideur."""
    from mailbot.workflows import opening  # opening imports this module

    text, no_new_text = own_words(mail)
    if opening.takes_up_again(ctx, mail, ticket, member, text):
        if not opening.within_reopen_window(ctx, ticket):
            assert member is not None
            opening.link(ctx, new_request(ctx, mail, raw, member), ticket, actor=mail.from_address)
            return
        record_inbound(ctx.session, ticket, mail, stored_text(mail), ctx.now)
        opening.reopened_by_member(ctx, mail, ticket, text)
        return
    record_inbound(ctx.session, ticket, mail, stored_text(mail), ctx.now)
    ticket.updated_at = ctx.now
    owner = ticket.member
    if owner is not None and _owners(ctx, owner, mail) and ticket.closed_at is None and is_withdrawal(text):
        if through_reply_address(ctx, mail, ticket):
            withdraw(ctx, ticket, owner, text)
            return
        # A `From:` can be forged and a subject reference or a Message-ID in References can be copied: closing a
        # request is a change of its status, so it needs the reply address only the member's mailbox received.
        # The member is asked at the address on record; the mail still reaches Aideur as a follow-up below.
        ask_to_confirm_withdrawal(ctx, ticket, owner, mail)
    if quotes.quote_answer(ctx, mail, ticket):  # "oui, l'offre m'intéresse": acknowledged, Aideur told
        return
    record_event(ctx.session, ticket, "follow-up", f"message de {mail.from_address}", ctx.now, actor=mail.from_address)
    if ctx.settings.is_aideur(mail.from_address):
        notify_aideurs(ctx, ticket, "alerte_jeton_membre", ticket_context(ctx, ticket, owner) | {
            "sender": mail.from_address}, key=f"aideur-member-token:{mail.message_id}")
    context = ticket_context(ctx, ticket, owner) | {
        "sender": mail.from_address,
        "sender_is_owner": owner is not None and _owners(ctx, owner, mail),
        "text": text,
        "no_new_text": no_new_text,
        "forwarded": forwarded_rows(mail),
        "attachments": [(a.filename, human_size(a.size)) for a in mail.attachments],
        "attachments_forwarded": forwardable(ctx, mail),
        "folder": ctx.settings.processed_folder,
        "ticket_closed": ticket.closed_at is not None,
        # Where it stands, with who decided last: replying to this notice is deciding on what it shows (one
        # Aideur address must see what another decided, workflows.concurrency).
        "state": label(ticket.status), "last_decision": concurrency_last_decision(ctx, ticket),
    }
    notify_aideurs(ctx, ticket, "notification_suivi", context, key=f"follow-up:{mail.message_id}",
                   attach_from_raw=raw if context["attachments_forwarded"] else None)


FORWARD_START = "----- Message transféré -----"
FORWARD_END = "----- Fin du message transféré -----"


def own_words(mail: InboundMail) -> tuple[str, bool]:
    """(what the sender wrote in this mail, True when that is nothing but courtesy).

    With nothing new, the mail's text without its quotes is shown instead (a greeting, a signature), never the
    quote as if it were new. A bare forward has its forwarded message as content: that is not "nothing new".
    """
    if not is_courtesy_only(mail.new_text):
        return mail.new_text, False
    shown = quoteless(mail.text) or mail.new_text
    return shown, not mail.forwarded


def forwarded_rows(mail: InboundMail) -> list[dict[str, str]]:
    """The forwarded messages for the templates (Aideur's notifications only: nothing here goes to helpers)."""
    return [{"sender": f.sender, "date": f.date, "subject": f.subject, "text": f.text,
             "attached": "oui" if f.attached else ""} for f in mail.forwarded]


def stored_text(mail: InboundMail) -> str:
    """The ticket's record of an inbound mail: the sender's words, then each forwarded message, marked as such."""
    text, no_new_text = own_words(mail)
    parts = [f"{NO_NEW_TEXT}\n\n{text}".strip() if no_new_text else text]
    for forward in mail.forwarded:
        head = [FORWARD_START]
        head += [f"{label} : {value}" for label, value in (("De", forward.sender), ("Date", forward.date),
                                                            ("Objet", forward.subject)) if value]
        parts.append("\n".join(head) + "\n\n" + forward.text + "\n" + FORWARD_END)
    return "\n\n".join(part for part in parts if part.strip())


def forwardable(ctx: WorkflowContext, mail: InboundMail) -> bool:
    """Attachments go to Aideur with the notification unless they would be too big for his provider."""
    return bool(mail.attachments) and sum(a.size for a in mail.attachments) <= ctx.settings.max_forward_bytes


def through_reply_address(ctx: WorkflowContext, mail: InboundMail, ticket: Ticket) -> bool:
    """Whether the mail came to the member's own reply address of this ticket (aide+t<id>m-…): the only proof
    that its sender reads the member's mailbox (a token in In-Reply-To/References is thread context only)."""
    from mailbot.router import address_token  # the router imports the workflows

    return address_token(mail, ctx.signer) == Token(SCOPE_TICKET, ticket.id, ROLE_MEMBER)


def ask_to_confirm_withdrawal(ctx: WorkflowContext, ticket: Ticket, member: Member, mail: InboundMail) -> None:
    """"Résolu" arrived without the ticket's reply address: nothing closes; the member, at the address on record,
    is asked to answer this mail (it carries that reply address) if it was really them."""
    record_event(ctx.session, ticket, "withdrawal-unproven", "« résolu » reçu hors de l'adresse de réponse : "
                 "confirmation demandée au membre", ctx.now, actor=mail.from_address)
    ctx.send(Outgoing(template="retrait_confirmation", to=member.email or "",
                      context=ticket_context(ctx, ticket, member),
                      idempotency_key=f"withdraw-confirm:{mail.message_id}",
                      token=Token(SCOPE_TICKET, ticket.id, ROLE_MEMBER), ticket_id=ticket.id))


def withdraw(ctx: WorkflowContext, ticket: Ticket, member: Member, text: str) -> None:
    """The member says it is solved or no longer needed: close, thank them, tell Aideur (seed: solidarity)."""
    move(ticket, Move.WITHDRAW, ctx.now)
    record_event(ctx.session, ticket, "withdrawn", "retirée par le membre", ctx.now, actor=member.email or "")
    context = ticket_context(ctx, ticket, member) | {"text": text}
    ctx.send(Outgoing(template="retrait", to=member.email or "", context=context,
                      idempotency_key=f"withdrawn:{ticket.id}", token=Token(SCOPE_TICKET, ticket.id, ROLE_MEMBER),
                      ticket_id=ticket.id))
    notify_aideurs(ctx, ticket, "notification_retrait", context, key=f"withdrawn:{ticket.id}")
    tell_helpers_need_is_over(ctx, ticket)


def concurrency_last_decision(ctx: WorkflowContext, ticket: Ticket) -> str:
    from mailbot.workflows.concurrency import last_decision  # it imports the commands, which import this module

    return last_decision(ctx, ticket)


def ticket_context(ctx: WorkflowContext, ticket: Ticket, member: Member | None) -> dict[str, object]:
    settings = ctx.settings
    return {
        "club_name": settings.club_name,
        "ref": ticket.ref,
        "title": ticket.subject,
        "summary": ticket.summary,
        "status": ticket.status,
        "due_date": french_date(ticket.due_at, settings.timezone) if ticket.due_at else "",
        "member": {
            "name": member.display_name if member else "membre effacé",
            "first_name": member.first_name if member else "",
            "email": member.email if member else "",
            "company": member.company if member else "",
            "phone": member.phone if member else "",
            "civilite": (member.civility or "") if member else "",  # agreement in the mails (french.accord)
        },
    }


def _owners(ctx: WorkflowContext, owner: Member, mail: InboundMail) -> bool:
    """Whether the mail comes from the ticket's member, at their main address or another of theirs (issue 13)."""
    return bool(owner.email) and same_person(ctx.session, owner.email or "", mail.from_address)
