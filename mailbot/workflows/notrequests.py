"""Mails that are not requests (issue 13, point 7): a calendar invitation or answer, a member's bare thank-you.

Neither opens a ticket, is acknowledged or promises anything; both reach Aideur. A calendar mail gives one short
notice (who, what, when in Paris time), on the ticket it threads with if any; a thank-you goes on the member's
latest ticket (open or closed) as a remark, or, with no ticket at all, Aideur is told in one line. (Mass mails are
routed IGNORE by the router and parsers/kind.py: recorded and listed for Aideur in the digest.)
"""
from __future__ import annotations

from sqlalchemy import select

from mailbot.models import Counterpart, Member, Ticket
from mailbot.parsers import InboundMail
from mailbot.parsers.notrequests import Invitation, describe, invitation_of, when
from mailbot.workflows import counterparts
from mailbot.workflows.aideur import notify_aideurs
from mailbot.workflows.base import WorkflowContext
from mailbot.workflows.notices import flood_notice
from mailbot.workflows.profiles import own_words
from mailbot.workflows.tickets import record_event, record_inbound, shorten


def display_sender(member: Member | None, mail: InboundMail) -> str:
    """« Alice Martin <alice@…> » for a member, else the name and address the mail gives (not verified)."""
    if member is not None and member.status == "active":
        return f"{member.display_name} <{member.email}> (membre)"
    name = " ".join(mail.from_name.split())[:80]
    return f"{name} <{mail.from_address}>" if name else mail.from_address


CALENDAR_OUTCOME = "calendar"  # the router's action, as the pipeline records it (flood bounds count on it)


def calendar(ctx: WorkflowContext, mail: InboundMail, raw: bytes, ticket: Ticket | None,
             member: Member | None) -> str:
    """Record the invitation (on its ticket when it threads with one) and tell Aideur once; nobody else gets
    anything. Returns the reason recorded with the mail."""
    invitation = invitation_of(raw) or Invitation("", "", "", None)
    what = describe(invitation)
    moment = when(invitation)
    detail = f"{what} de {mail.from_address}" + (f" : « {invitation.summary} »" if invitation.summary else "") \
        + (f", {moment}" if moment else "")
    if ticket is not None:
        record_inbound(ctx.session, ticket, mail, mail.new_text or mail.text, ctx.now)
    record_event(ctx.session, ticket, "calendar", detail, ctx.now, actor=mail.from_address[:320] or "mailbot")
    # A stranger sending invitations by the hundred gets the same bounds as any stranger's mail.
    if ticket is None and flood_notice(ctx.session, sender=mail.from_address, outcome=CALENDAR_OUTCOME,
                                       now=ctx.now, aideur_addresses=ctx.settings.aideur_addresses) is None:
        return f"agenda ({what}) : pas une demande, avis à Aideur regroupé"
    notify_aideurs(ctx, ticket, "notification_agenda", {
        "club_name": ctx.settings.club_name, "ref": ticket.ref if ticket else "",
        "sender": display_sender(member, mail), "what": what, "summary": invitation.summary,
        "organizer": invitation.organizer, "when": moment, "subject": mail.subject or "(sans objet)",
        "title": ticket.subject if ticket else "",
        # What the sender wrote beside the invitation: it may be a request (Aideur opens it with #ouvrir).
        "text": shorten(own_words(mail).strip(), 3000),
        "member_email": member.email if member is not None and member.status == "active" and ticket is None else "",
    }, key=f"calendar:{mail.message_id}", about=mail.from_address, counterpart=_sender(ctx, ticket, member, mail))
    return f"agenda ({what}) : pas une demande, Aideur prévenu"


def _sender(ctx: WorkflowContext, ticket: Ticket | None, member: Member | None,
            mail: InboundMail) -> Counterpart | None:
    """Whom Aideur's reply to the notice goes to: the ticket's requester (None: the ticket's own token), else the
    member who sent it, else that address (someone who is not a member: a short mail from the club)."""
    if ticket is not None:
        return None
    if member is not None and member.status == "active":
        return counterparts.for_member(ctx, member)
    return counterparts.for_stranger(ctx, mail.from_address) if mail.from_address else counterparts.nobody(ctx, None)


def thanks(ctx: WorkflowContext, mail: InboundMail, member: Member) -> tuple[Ticket | None, str]:
    """A member's bare thank-you: on their latest ticket, open or closed (Aideur sees it in a notification), or,
    without any ticket, a one-line notice. Nothing goes to the member. Returns the ticket and the reason."""
    ticket = ctx.session.scalar(select(Ticket).where(Ticket.member_id == member.id)
                                .order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(1))
    text = own_words(mail).strip()
    if ticket is not None:
        record_inbound(ctx.session, ticket, mail, mail.new_text or mail.text, ctx.now)
        record_event(ctx.session, ticket, "thanks", f"{member.display_name} : « {shorten(text, 200)} »", ctx.now,
                     actor=member.email or "")
    else:
        record_event(ctx.session, None, "thanks", f"{member.display_name}, sans demande : « {shorten(text, 200)} »",
                     ctx.now, actor=member.email or "")
    notify_aideurs(ctx, ticket, "notification_merci", {
        "club_name": ctx.settings.club_name, "ref": ticket.ref if ticket else "",
        "title": ticket.subject if ticket else "", "closed": bool(ticket and ticket.status == "closed"),
        "name": member.display_name, "email": member.email or "", "text": text,
    }, key=f"thanks:{mail.message_id}", about=member.email or "",
        counterpart=None if ticket is not None else counterparts.for_member(ctx, member))
    return ticket, ("un remerciement, ajouté à la demande " + ticket.ref if ticket else
                    "un remerciement sans demande : Aideur prévenu") + " ; pas de réponse"
