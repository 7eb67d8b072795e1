"""Mails to Aideur: one per Aideur address, each with its own reply token, and his command address."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailbot.calendar import french_datetime
from mailbot.db import read
from mailbot.models import AideurState, Counterpart, Member, Ticket
from mailbot.tokens import ROLE_AIDEUR, SCOPE_COMMAND, Token
from mailbot.workflows.base import Outgoing, WorkflowContext


def notify_aideurs(ctx: WorkflowContext, ticket: Ticket | None, template: str, context: dict[str, object], *,
                   key: str, attach_from_raw: bytes | None = None, only: str | None = None,
                   scrub_after_send: bool = False, about: str = "", counterpart: Counterpart | None = None) -> None:
    """One notification per Aideur address (or only to `only`), each with its own reply token.

    The reply token names who receives his free text (workflows.counterparts): `counterpart`, else the ticket's
    requester (or nobody, for the alerts that concern no one he could write to), else his command address; the
    footer says which."""
    from mailbot.workflows import counterparts  # it sends notifications too

    bound, recipient_line = counterparts.reply_binding(ctx, ticket, template, counterpart)
    token = bound or aideur_command_token(ctx.session)
    addresses = [only.lower()] if only else ctx.settings.aideur_addresses
    commands = command_address(ctx)
    for address in addresses:
        ctx.send(Outgoing(
            template=template,
            to=address,
            context=context | {"reply_address": ctx.signer.plus_address(ctx.settings.club_address, token),
                                "command_address": commands, "counterpart": recipient_line},
            idempotency_key=f"{key}:{address}",
            token=token,
            ticket_id=ticket.id if ticket else None,
            auto_submitted="auto-generated",
            attach_from_raw=attach_from_raw,
            rate_limited=False,
            scrub_after_send=scrub_after_send,
            about=about,
        ))


def command_address(ctx: WorkflowContext) -> str:
    """Aideur's own address for fresh mails with commands, printed in every notification's footer."""
    return ctx.signer.plus_address(ctx.settings.club_address, aideur_command_token(ctx.session))


def aideur_command_token(session: Session) -> Token:
    """Aideur's own command address (scope c): where notices not tied to a ticket come from and go back to. Its
    number is the address's generation: part of the HMAC, so a rotated-out address verifies as the old one only."""
    return Token(SCOPE_COMMAND, command_generation(session), ROLE_AIDEUR)


GENERATION = select(AideurState.command_generation).where(AideurState.id == 1)  # read by every notification


def command_generation(session: Session) -> int:
    """The generation of Aideur's command address now (0 until the first `mailbot aideur rotate-address`)."""
    return read(session, GENERATION).scalar() or 0


def rotate_command_address(ctx: WorkflowContext) -> str:
    """A new command address (the next generation); the old one stops commanding at once. Every Aideur address
    is sent the new one. Returns it."""
    state = ctx.session.get(AideurState, 1)
    if state is None:
        state = AideurState(id=1, command_generation=0)
        ctx.session.add(state)
    state.command_generation += 1
    state.rotated_at = ctx.now
    ctx.session.flush()
    address = command_address(ctx)
    notify_aideurs(ctx, None, "nouvelle_adresse_commande", {"club_name": ctx.settings.club_name},
                   key=f"command-address:{state.command_generation}")
    return address


def read_rate_rows(ctx: WorkflowContext, recipient: str, member: Member | None = None) -> None:
    """Read now, into the context's caches, the rows mail_fate and the outbox will need for `recipient` (their
    addresses, their recent automatic mails): the same reads, done before a workflow takes a lock it holds to
    the commit (the year's reference counter), instead of while holding it. `member`: the member `recipient` is
    known to belong to (the caller looked them up): not looked up again."""
    from mailbot.outbox import person_addresses, release_time  # the outbox imports the workflows

    if member is not None:
        person_addresses(ctx.session, recipient, ctx.people, member=member)  # into ctx.people, for release_time
    release_time(ctx.session, ctx.settings, recipient, ctx.now, cache=ctx.rate_rows, people=ctx.people)


def mail_fate(ctx: WorkflowContext, recipient: str) -> dict[str, object]:
    """What becomes of the last automatic mail queued on `ctx` for `recipient` (issue 13, point 5), for the notice
    Aideur gets about it: {"status": "sent"}, "held" by the hourly limit (with "until", the French date it leaves)
    or "dropped" (a loop: it would wait more than a day). The outbox decides with the same function
    (outbox.release_time), in the same order, so the notice says what the outbox then does."""
    from mailbot.outbox import person_addresses, release_time  # the outbox imports the workflows

    queued: list[datetime] = []
    fate: datetime | None = ctx.now
    # One budget per person, as the outbox counts it: the mails queued to any of the recipient's addresses.
    person = person_addresses(ctx.session, recipient, ctx.people)
    for mail in ctx.outgoing:
        if mail.rate_limited and mail.to.lower() in person:
            fate = release_time(ctx.session, ctx.settings, recipient, ctx.now, queued, cache=ctx.rate_rows,
                                people=ctx.people)
            if fate is not None:
                queued.append(fate)
    if fate is None:
        return {"status": "dropped", "limit": ctx.settings.rate_limit_per_hour}
    if fate > ctx.now:
        return {"status": "held", "limit": ctx.settings.rate_limit_per_hour,
                "until": french_datetime(fate, ctx.settings.timezone)}
    return {"status": "sent"}
