"""Several Aideur addresses, one ticket (issue 13, point 3): a decision written on a state its author had not seen.

Two people (or one person's phone and desk) answer the same notification: "#accepter" from one address, "#refuser"
from the other, in the same minute. Applying both sends the member "Bonne nouvelle" then "Nous sommes désolés".
So every Aideur mail that would change a ticket or tell a member something is checked against what its author had
seen of the ticket — optimistic concurrency, the version being what he was last shown:

* the notification his mail answers (its In-Reply-To / References name one of our mails): the ticket as it stood
  when that mail was queued;
* otherwise (a fresh mail to the command address, a stored command confirmed later, a client that drops the
  headers): the last mail we sent his address about the ticket.

A decision recorded after that instant by ANOTHER Aideur address is one he had not seen: his mail is not carried out
(nothing reaches the member), he is told what was decided, by whom and when, and how to insist (send the command
again by replying to that mail: he has seen the decision then); the colleague whose decision stood is told of the
attempt. Mails from one address are never in conflict with each other: a second "#accepter" from the same address
is refused by the ticket's state as before, a replayed mail is deduplicated by its Message-ID as before.

Free text alone (no command) conflicts only with a decision that moved the ticket (accepted, declined, closed,
reopened, proposal sent): "je m'en occupe" from one address after the other declined is held back the same way,
so that the member never reads a message contradicting a decision nobody writing it knew about.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from mailbot.calendar import french_datetime
from mailbot.commands import REGISTRY
from mailbot.models import Event, OutboxMail, Ticket
from mailbot.parsers import InboundMail
from mailbot.parsers.commands import AideurReply
from mailbot.ticket_states import Move, label
from mailbot.workflows.aideur import notify_aideurs
from mailbot.workflows.base import WorkflowContext
from mailbot.workflows.tickets import record_event

__all__ = ["CONFLICT", "last_decision", "refuse_unseen_decision"]

CONFLICT = "decision-conflict"  # the event recorded when a mail is held back; its author has seen the decision since
# Commands whose effect another Aideur address must have seen before writing: each tells someone something.
_TELLING = tuple(name for name, c in REGISTRY.items() if c.needs_ticket and not c.quiet)
# Commands that move the ticket's state: the only ones a bare message can contradict.
_MOVING = tuple(name for name, c in REGISTRY.items()
                if c.needs_ticket and c.state_move is not None and c.state_move is not Move.WORK)


def refuse_unseen_decision(ctx: WorkflowContext, mail: object, ticket: Ticket, reply: AideurReply,
                           sender: str, message_id: str) -> bool:
    """If another Aideur address decided on `ticket` after what `sender` had seen, hold his mail back: tell him
    and the colleague(s), record it, and return True (the caller does nothing else). False: carry on."""
    if not any(c.name in _TELLING for c in reply.commands) and not reply.message.strip():
        return False  # #note, #tickets…: tells nobody anything, contradicts nothing
    names = _TELLING if reply.commands else _MOVING
    sender = sender.lower()
    decisions = _unseen(ctx, ticket, sender, names, _seen_at(ctx, mail, ticket, sender))
    if not decisions:
        return False
    attempted = [c.line.strip() for c in reply.commands]
    if reply.message.strip():
        attempted.append("(votre message à transmettre)")
    zone = ctx.settings.timezone
    earlier: list[dict[str, str]] = [
        {"actor": e.actor, "line": e.detail.strip(), "when": french_datetime(e.at, zone)} for e in decisions]
    record_event(ctx.session, ticket, CONFLICT,
                 f"non exécuté ({' / '.join(attempted)}) : décision de {decisions[-1].actor} non vue", ctx.now,
                 actor=sender)
    common: dict[str, object] = {"club_name": ctx.settings.club_name, "ref": ticket.ref,
                                 "state": label(ticket.status), "attempted": attempted, "earlier": earlier,
                                 "sender": sender}
    from mailbot.workflows import counterparts  # it imports the triage helpers

    notify_aideurs(ctx, ticket, "decision_concurrente", common, key=f"conflict:{message_id}", only=sender,
                   counterpart=counterparts.of_mail(ctx, mail))
    for colleague in dict.fromkeys(e.actor for e in decisions):
        notify_aideurs(ctx, ticket, "decision_concurrente_collegue", common | {
            "own": [row for row in earlier if row["actor"] == colleague]},
            key=f"conflict-told:{message_id}", only=colleague)
    return True


def last_decision(ctx: WorkflowContext, ticket: Ticket) -> str:
    """The last command that told someone something on the ticket, in Aideur's words ("#accepter 15/12, par
    aideur@club.test, le jeudi 26 novembre 2026 à 11 h 05"), or "" — shown in the notices a reply decides on."""
    event = ctx.session.scalar(select(Event).where(Event.ticket_id == ticket.id,
                                                   Event.kind.in_([f"command:{name}" for name in _TELLING]))
                               .order_by(Event.id.desc()).limit(1))
    if event is None:
        return ""
    return f"{event.detail.strip()}, par {event.actor}, le {french_datetime(event.at, ctx.settings.timezone)}"


def _unseen(ctx: WorkflowContext, ticket: Ticket, sender: str, names: tuple[str, ...],
            seen_at: datetime) -> list[Event]:
    """Other Aideur addresses' decisions on the ticket recorded after `seen_at` and after the sender's last held
    back mail (the refusal told him everything decided until then), oldest first."""
    last_told = ctx.session.scalar(select(Event.id).where(Event.ticket_id == ticket.id, Event.kind == CONFLICT,
                                                          Event.actor == sender).order_by(Event.id.desc()).limit(1))
    query = select(Event).where(Event.ticket_id == ticket.id,
                                Event.kind.in_([f"command:{name}" for name in names]),
                                Event.at > seen_at).order_by(Event.id)
    if last_told is not None:
        query = query.where(Event.id > last_told)
    return [e for e in ctx.session.scalars(query) if e.actor.lower() != sender and ctx.settings.is_aideur(e.actor)]


def _seen_at(ctx: WorkflowContext, mail: object, ticket: Ticket, sender: str) -> datetime:
    """When the state the sender wrote against was shown to him (see the module's docstring)."""
    if isinstance(mail, InboundMail):
        answered = [ref.strip("<>") for ref in (*mail.in_reply_to, *reversed(mail.references)) if ref]
        if answered:
            shown = ctx.session.scalar(select(OutboxMail.created_at).where(
                OutboxMail.message_id.in_(answered), OutboxMail.ticket_id == ticket.id)
                .order_by(OutboxMail.created_at.desc()).limit(1))
            if shown is not None:
                return shown
    last = ctx.session.scalar(select(OutboxMail.created_at).where(
        OutboxMail.ticket_id == ticket.id, OutboxMail.recipient == sender)
        .order_by(OutboxMail.created_at.desc()).limit(1))
    return last if last is not None else ticket.created_at
