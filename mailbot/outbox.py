"""The transactional outbox: a workflow's mails become rows in the same transaction as its state change.

Nothing is sent from here. The row holds the complete message with its Message-ID fixed at insert, so the sender
(and any retry) hands over exactly these bytes.
"""
from __future__ import annotations

import hashlib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import bindparam, insert, or_, select, update
from sqlalchemy.orm import Session

from mailbot import guard
from mailbot.addresses import addresses_of, member_of_address
from mailbot.compose import TemplateRenderer, build_message, new_message_id
from mailbot.config import Settings
from mailbot.db import read
from mailbot.models import Event, Member, Message, OutboxMail
from mailbot.parsers import iter_attachment_payloads
from mailbot.parsers.model import Attachment
from mailbot.tokens import SCOPE_BOUNCE, Token, TokenSigner
from mailbot.workflows.base import Outgoing, WorkflowContext

RATE_WINDOW = timedelta(hours=1)
HOLD_AT_MOST = timedelta(days=1)  # an automatic mail held longer than this is a loop's: dropped
KEY_LENGTH = 200  # OutboxMail.idempotency_key
MAX_REFERENCES = 8

# The reads of every pass, built once (mailbot.db.read).
QUEUED_KEYS = select(OutboxMail.idempotency_key).where(
    OutboxMail.idempotency_key.in_(bindparam("keys", expanding=True)))
THREADS = (select(OutboxMail.ticket_id, OutboxMail.recipient, OutboxMail.message_id)
           .where(OutboxMail.ticket_id.in_(bindparam("ticket_ids", expanding=True))).order_by(OutboxMail.id))
RECENT_AUTOMATIC = select(OutboxMail.created_at, OutboxMail.next_attempt_at, OutboxMail.status).where(
    OutboxMail.recipient.in_(bindparam("recipients", expanding=True)), OutboxMail.automatic.is_(True),
    or_(OutboxMail.created_at > bindparam("since"), OutboxMail.next_attempt_at > bindparam("since")))


@dataclass
class StoredMail:
    """An outbox row this pass stores: its values (store_all inserts the pass's rows together), then its id."""

    idempotency_key: str
    message_id: str
    kind: str
    ticket_id: int | None
    sender: str
    recipient: str
    subject: str
    automatic: bool
    body: bytes
    next_attempt_at: datetime
    created_at: datetime
    scrub_after_send: bool
    about: str
    id: int = 0  # known once inserted

    def columns(self) -> dict[str, object]:
        """The row as inserted: a new mail, pending, never tried."""
        values = {name: getattr(self, name) for name in _STORED_COLUMNS}
        return values | {"status": "pending", "attempts": 0, "interrupted_sends": 0, "last_error": ""}


_STORED_COLUMNS = [name for name in StoredMail.__dataclass_fields__ if name != "id"]

# Core statements, not the ORM's unit of work: a new request stores two mails, and flushing them as ORM objects
# (then updating each one's envelope sender) was a tenth of its time. The ids come back in the rows' order.
INSERT_OUTBOX = insert(OutboxMail).returning(OutboxMail.id, sort_by_parameter_order=True)
SET_ENVELOPE_SENDER = (update(OutboxMail).where(OutboxMail.id == bindparam("row_id"))
                       .values(sender=bindparam("envelope")))


@dataclass
class Threads:
    """The earlier mails of the tickets `read` (store_all's one query), by (ticket id, recipient)."""

    read: set[int]
    rows: dict[tuple[int, str], list[str]] = field(default_factory=dict)


class Outbox:
    def __init__(self, settings: Settings, signer: TokenSigner, renderer: TemplateRenderer) -> None:
        self.settings = settings
        self.signer = signer
        self.renderer = renderer

    def store_all(self, ctx: WorkflowContext, *, due_at: datetime | None = None) -> list[StoredMail]:
        """Store the workflow's mails. One flush first, then none until the commit: the ORM's flushes were the
        costliest part of intake, so the rows stored by this call are looked up in memory, not re-queried.

        Round trips are counted here (issue 16): the idempotency keys and the earlier mails of the tickets
        concerned are read for the whole pass in one query each (none for a ticket created in this transaction:
        it can have no earlier mail); the outbox rows go in as one Core insert (their envelope senders, which
        name each row's id, as one update), and so do the conversation rows ("out" messages).

        `due_at`: every mail stored now is due then (the CLI's "at once, whatever instant a daemon replays")."""
        ctx.session.flush()
        rows: list[StoredMail] = []
        roles: list[str] = []
        messages: list[dict[str, object]] = []
        with ctx.session.no_autoflush:
            known = self._known_keys(ctx.session, [storable_key(mail.idempotency_key) for mail in ctx.outgoing])
            threads = self._threads(ctx.session, {mail.ticket_id for mail in ctx.outgoing
                                                  if mail.ticket_id is not None} - ctx.created_tickets)
            # Mails a guard or a hold adds while storing (an anonymity alert) are looked up one by one below.
            for mail in ctx.outgoing:
                row = self.store(ctx, mail, rows, known=known, threads=threads, messages=messages)
                if row is not None:
                    rows.append(row)
                    roles.append(mail.token.role)
        ctx.outgoing.clear()
        ctx.rate_rows.clear()  # the rows stored now count from the database from here on
        if rows:
            if due_at is not None:
                for row in rows:
                    row.next_attempt_at = due_at
            connection = ctx.session.connection()
            ids = connection.execute(INSERT_OUTBOX, [row.columns() for row in rows]).scalars().all()
            for row, row_id in zip(rows, ids, strict=True):
                row.id = row_id
            if self.settings.verp:
                # Each mail's envelope sender names the row (VERP), so it is known only now.
                connection.execute(SET_ENVELOPE_SENDER, [
                    {"row_id": row.id, "envelope": self.envelope_sender(row.id, role)}
                    for row, role in zip(rows, roles, strict=True)])
        if messages:
            # No id is needed back: one executemany instead of one INSERT per row through the ORM.
            ctx.session.execute(insert(Message), messages)
        return rows

    @staticmethod
    def _known_keys(session: Session, keys: list[str]) -> dict[str, bool]:
        """For each of these idempotency keys, whether it is queued already (one query for the pass)."""
        unique = list(dict.fromkeys(keys))
        known = dict.fromkeys(unique, False)
        for start in range(0, len(unique), 500):
            known.update((key, True) for key in read(session, QUEUED_KEYS,
                                                     {"keys": unique[start:start + 500]}).scalars())
        return known

    @staticmethod
    def _threads(session: Session, ticket_ids: set[int]) -> Threads:
        """Message-IDs of the earlier mails of these tickets, by (ticket, recipient), oldest first."""
        threads = Threads(read=set(ticket_ids))
        ids = sorted(ticket_ids)
        for start in range(0, len(ids), 500):
            for ticket_id, recipient, message_id in read(session, THREADS, {"ticket_ids": ids[start:start + 500]}):
                if ticket_id is not None:
                    threads.rows.setdefault((ticket_id, recipient), []).append(f"<{message_id}>")
        return threads

    def envelope_sender(self, row_id: int, role: str) -> str:
        """`aide+b<id><role>-<mac>@club`: where the delivery reports of outbox row `row_id` come back. A report
        counts only if it comes back to such an address and names the recipient of that very row
        (workflows.notices.bounce)."""
        return self.signer.plus_address(self.settings.club_address, Token(SCOPE_BOUNCE, row_id, role))

    def store(self, ctx: WorkflowContext, mail: Outgoing, stored: list[StoredMail], *,
              known: dict[str, bool] | None = None, threads: Threads | None = None,
              messages: list[dict[str, object]] | None = None) -> StoredMail | None:
        """Turn one decided mail into a ready-to-send `outbox` row, in the caller's transaction (no commit, no SMTP);
        store_all inserts the pass's rows together.

        In: the workflow's context (session, settings, `now`), the `Outgoing` (template, context, recipient,
        token, idempotency key, ticket…) and the rows already `stored` by this pass (looked up in memory, since
        store_all does not flush between them).

        Written: one `outbox` row (status "pending", the complete message with its Message-ID, threaded under
        the earlier mails of the ticket to that recipient) and, for a mail about a ticket, a "out" `messages` row
        showing it in the ticket's conversation. Nothing at all when the same idempotency key is already queued
        (returns None). An automatic mail over the recipient's hourly limit is held: stored with its first
        attempt when the limit allows (release_time), and a "rate-limited" `events` row says until when; one that
        would wait more than HOLD_AT_MOST is not stored (the event says so). A mail that would show the
        requester's identity to someone they have not agreed to (mailbot.guard) is not stored either: an "anonymity-blocked" event, and an "alerte_anonymat" notice to
        Aideur queued on `ctx.outgoing`, which store_all stores in the same pass.

        `known`, `threads` (store_all's reads for the whole pass; a mail not covered by them is looked up here)
        and `messages` (where the "out" conversation rows are collected for one insert; added to the session
        when None).

        Returns the new row's values (inserted by store_all), or None when nothing is to be stored. Raises what the template renderer raises (jinja2:
        an unknown template, a variable missing from the context): a bug, which rolls the caller's transaction
        back."""
        session = ctx.session
        key = storable_key(mail.idempotency_key)
        if known is not None and key in known:
            queued = known[key]
        else:
            queued = session.scalar(select(OutboxMail.id).where(OutboxMail.idempotency_key == key)) is not None
        if queued or any(row.idempotency_key == key for row in stored):
            return None  # this very decision was already queued (a replayed mail, a rerun job)
        recipient = mail.to.lower()
        release = ctx.now
        if mail.rate_limited:
            # Over the hourly limit, a mail is held (sent when the limit allows), not dropped: an acknowledgement
            # still brings its reference. Only a mail that would wait more than HOLD_AT_MOST (a loop) is dropped.
            person = person_addresses(session, recipient, ctx.people)
            held = release_time(session, self.settings, recipient, ctx.now, [
                row.next_attempt_at for row in stored if row.recipient.lower() in person and row.automatic],
                cache=ctx.rate_rows, people=ctx.people)
            if held is None or held > ctx.now:
                session.add(Event(ticket_id=mail.ticket_id, kind="rate-limited", at=ctx.now, detail=(
                    f"{mail.template} à {recipient} non envoyé : plus de {self.settings.rate_limit_per_hour} mails "
                    "automatiques en une heure" if held is None else
                    f"{mail.template} à {recipient} retenu jusqu'à {held:%Y-%m-%d %H:%M} UTC : plus de "
                    f"{self.settings.rate_limit_per_hour} mails automatiques en une heure")))
            if held is None:
                return None
            release = held
        token_text = self.signer.sign_thread(mail.token)  # a Message-ID's token is no reply address
        message_id = new_message_id(token_text, self.settings.club_domain)
        if mail.ticket_id is None:
            thread: list[str] = []
        elif mail.ticket_id in ctx.created_tickets:
            thread = []  # created in this transaction: its only earlier mails are in `stored`
        elif threads is not None and mail.ticket_id in threads.read:
            thread = threads.rows.get((mail.ticket_id, recipient), [])
        else:
            thread = self._thread(session, mail.ticket_id, recipient)
        earlier = thread + [
            f"<{row.message_id}>" for row in stored
            if mail.ticket_id is not None and row.ticket_id == mail.ticket_id and row.recipient == recipient]
        references = list(mail.references) + earlier
        in_reply_to = mail.in_reply_to or (earlier[-1] if earlier else None)
        if in_reply_to:
            # RFC 5322 3.6.4: References ends with the parent, so clients thread it under the right mail.
            references = [ref for ref in references if ref != in_reply_to] + [in_reply_to]
        references = _trim_references(references)
        rendered = self.renderer.render(mail.template, mail.context)
        leaks = guard.blocked(session, self.settings, mail.ticket_id, recipient, rendered)
        if leaks:
            guard.stop(ctx, mail, recipient, leaks)  # the requester's identity would reach someone not yet agreed
            return None
        # Forwarded attachments are read one at a time from the raw mail (never all in memory); then made files.
        attachments = itertools.chain(
            iter_attachment_payloads(mail.attach_from_raw) if mail.attach_from_raw else (),
            ((Attachment(name, ctype, len(data), "attachment", -1), data) for name, ctype, data in mail.files))
        body = build_message(
            from_name=self.settings.club_name,
            from_address=self.settings.club_address,
            to=recipient,
            reply_to=self.signer.plus_address(self.settings.club_address, mail.token),
            rendered=rendered,
            message_id=message_id,
            in_reply_to=in_reply_to,
            references=references,
            auto_submitted=mail.auto_submitted,
            date=ctx.now,
            zone=self.settings.timezone,
            attachments=attachments,
        )
        row = StoredMail(
            idempotency_key=key,
            message_id=message_id.strip("<>"),
            kind=mail.template,
            ticket_id=mail.ticket_id,
            sender=self.settings.club_address,
            recipient=recipient,
            subject=rendered.subject,
            automatic=mail.rate_limited,
            body=body,
            next_attempt_at=release,
            created_at=ctx.now,
            scrub_after_send=mail.scrub_after_send,
            about=(mail.about or recipient).lower(),
        )
        if mail.after_store is not None:
            mail.after_store(row.message_id, rendered.body)
        if mail.ticket_id is not None:
            # The ticket's conversation shows what was sent, as the recipient reads it.
            shown = {"ticket_id": mail.ticket_id, "direction": "out", "sender": self.settings.club_address,
                     "recipients": recipient, "subject": rendered.subject, "text": rendered.body,
                     "message_id": row.message_id, "attachments": "", "at": ctx.now}
            if messages is not None:
                messages.append(shown)
            else:
                session.add(Message(**shown))
        return row

    @staticmethod
    def _thread(session: Session, ticket_id: int | None, recipient: str) -> list[str]:
        """Message-IDs of the earlier mails to this recipient about this ticket, oldest first."""
        if ticket_id is None:
            return []
        ids = session.scalars(
            select(OutboxMail.message_id)
            .where(OutboxMail.ticket_id == ticket_id, OutboxMail.recipient == recipient)
            .order_by(OutboxMail.id)
        ).all()
        return [f"<{mid}>" for mid in ids]


def release_time(session: Session, settings: Settings, recipient: str, now: datetime,
                 queued: Sequence[datetime] = (), *,
                 cache: dict[str, list[datetime]] | None = None,
                 people: dict[str, set[str]] | None = None) -> datetime | None:
    """When one more automatic mail to `recipient` may leave (issue 13, point 5): `now` while under
    MAILBOT_RATE_LIMIT_PER_HOUR, else the first instant the limit allows (the mail is held until then), or None
    when that is more than HOLD_AT_MOST away (a loop nobody recognised: the mail is dropped). `queued`: the send
    times of mails to the same recipient not stored yet. Aideur is never limited.

    The outbox decides with it, and a workflow that tells Aideur about a member's mail asks it first, so that
    what Aideur reads ("held until…") is what the outbox does.

    `cache` (WorkflowContext.rate_rows): the stored send times read once per recipient and transaction pass; the
    mails queued meanwhile are in `queued`, so the workflow's question and the outbox's answer cost one query."""
    if settings.is_aideur(recipient):
        return now
    recipient = recipient.lower()
    stored = cache.get(recipient) if cache is not None else None
    if stored is None:
        since = now - RATE_WINDOW
        # One budget per person (issue 13, point 2): every address of the member the recipient address belongs to.
        rows = read(session, RECENT_AUTOMATIC, {
            "recipients": sorted(person_addresses(session, recipient, people)), "since": since}).all()
        # A pending mail leaves at its next attempt (a held one, in the future); the others from their queuing.
        stored = [max(created, due) if status == "pending" else created for created, due, status in rows]
        if cache is not None:
            cache[recipient] = stored
    times = sorted(stored + list(queued))
    return _next_slot(times, now, settings.rate_limit_per_hour)


def person_addresses(session: Session, recipient: str, known: dict[str, set[str]] | None = None, *,
                     member: Member | None = None) -> set[str]:
    """The recipient's address and, when it is a member's, every other address of that member (lower case).
    `known` (WorkflowContext.people): the answers already read in this pass. `member`: the member the caller knows
    `recipient` belongs to (not looked up again)."""
    recipient = recipient.lower()
    if known is not None and recipient in known:
        return known[recipient]
    person = member if member is not None else member_of_address(session, recipient)
    addresses = {address.lower() for address in addresses_of(session, person)} if person is not None else set()
    addresses.add(recipient)
    if known is not None:
        known[recipient] = addresses
    return addresses


def _next_slot(times: list[datetime], now: datetime, limit: int) -> datetime | None:
    """The earliest instant from `now` with fewer than `limit` of `times` in the hour before it."""
    recent = [t for t in times if t > now - RATE_WINDOW]
    if len(recent) < limit:
        return now
    slot = max(now, recent[-limit] + RATE_WINDOW)
    return slot if slot - now <= HOLD_AT_MOST else None


def storable_key(key: str) -> str:
    """The idempotency key as stored: keys carry Message-IDs (up to 998 characters), the column holds 200; a long
    one keeps its start, for reading, and ends with a digest of the whole, so equal keys stay equal."""
    if len(key) <= KEY_LENGTH:
        return key
    return f"{key[:KEY_LENGTH - 65]}#{hashlib.sha256(key.encode('utf-8', 'surrogatepass')).hexdigest()}"


def _trim_references(references: list[str]) -> list[str]:
    """Keep the root and the newest ones: enough for every client to thread, short enough for any header."""
    unique = list(dict.fromkeys(f"<{ref.strip('<>')}>" for ref in references if ref.strip("<> ")))
    if len(unique) <= MAX_REFERENCES:
        return unique
    return unique[:1] + unique[-(MAX_REFERENCES - 1):]
