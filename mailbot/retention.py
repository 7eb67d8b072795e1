"""Retention limit for raw mail (docs/rules.md §10, RGPD data minimisation): MAILBOT_RETENTION_DAYS.

What a mail *said* is kept only as long as it is useful; *that* it was sent, by whom, to whom and when is kept
as the club's record. Past the limit (365 days by default; 0 keeps everything):

| what | purged | kept |
|---|---|---|
| outgoing mails (outbox), once sent or given up | the complete message (body and attachments), its subject | Message-ID, kind, ticket, recipient, dates, status, errors |
| a ticket's conversation, once the ticket is closed | each message's text, subject and attachment list | direction, sender, recipients, Message-ID, date |
| inbound records | the subject | Message-ID, sender, date, size, SHA-256, kind, outcome |
| the raw mails in the club mailbox (processed, quarantine and inbox folders) | deleted: a MailboxPurge row each, carried out by the daemon, which owns IMAP | — |

Never touched: the ticket itself (reference, subject, summary, status, dates, events: its history), members, and
the evidence — acceptances and consents keep their line, Message-ID and hash. An open ticket keeps its whole
conversation and its raw mails whatever their age (Aideur may still need them). Mail still to be sent keeps its
body. Subjects go too: members write names, companies and problems in them.

`purge` is idempotent and cheap when there is nothing to do (indexed range scans on the dates, bounded batches): the
daemon runs it as a scheduled job (scheduler.JOBS, every MAILBOT_JOBS_SECONDS, under its job lock), and
`mailbot purge` runs it by hand.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, and_, exists, func, or_, select, update
from sqlalchemy.orm import Session

from mailbot.config import Settings
from mailbot.models import InboundMail, MailboxPurge, Message, OutboxMail, Ticket
from mailbot.workflows.base import WorkflowContext

RETENTION_BATCH = 1000  # rows of each kind (outbox, messages, inbound records) blanked per run
MAILBOX_PURGE_BATCH = 500  # raw mails queued for deletion per run: the daemon searches each one in three folders
PURGED = "[supprimé : durée de conservation dépassée]"  # what a purged message's text reads in `tickets show`
_SYNTHETIC_ID = "%@mailbot.invalid"  # a mail that had no Message-ID: no IMAP search can find it by one


@dataclass
class PurgeReport:
    cutoff: datetime | None  # None: MAILBOT_RETENTION_DAYS=0, nothing purged
    outbox_bodies: int = 0  # outgoing mails whose stored copy was blanked
    message_texts: int = 0  # conversation messages whose text was removed
    inbound_subjects: int = 0  # inbound records whose subject was blanked
    mailbox_deletions: int = 0  # raw mails queued for deletion from the club mailbox
    more: bool = False  # more rows wait to be purged or raw mails to be queued: the next run goes on

    @property
    def total(self) -> int:
        return self.outbox_bodies + self.message_texts + self.inbound_subjects + self.mailbox_deletions

    def as_dict(self) -> dict[str, object]:
        data: dict[str, object] = asdict(self)
        data["cutoff"] = self.cutoff.isoformat(timespec="seconds") if self.cutoff else None
        return data


def purge(session: Session, settings: Settings, now: datetime) -> PurgeReport:
    """Apply the retention limit as of `now` (naive UTC) in the caller's transaction."""
    if settings.retention_days <= 0:
        return PurgeReport(cutoff=None)
    cutoff = now - timedelta(days=settings.retention_days)
    report = PurgeReport(cutoff=cutoff)
    closed = select(Ticket.id).where(Ticket.closed_at.is_not(None)).scalar_subquery()

    # Each kind of row is purged in bounded batches (ids first, LIMIT, then an UPDATE by primary key): a run costs
    # at most a few indexed range scans and RETENTION_BATCH updates of each kind, however large the backlog, and
    # nothing but the scans when nothing is due (the scheduled job runs every MAILBOT_JOBS_SECONDS).
    old_outbox = and_(OutboxMail.created_at < cutoff, OutboxMail.status.in_(("sent", "failed")),
                      or_(OutboxMail.subject != "", func.length(OutboxMail.body) > 0))
    ids, more = _batch(session, OutboxMail.id, old_outbox)
    report.outbox_bodies = _blank(session, OutboxMail, ids, body=b"", subject="")

    old_messages = and_(Message.at < cutoff, Message.ticket_id.in_(closed), Message.text != PURGED)
    ids, more_messages = _batch(session, Message.id, old_messages)
    report.message_texts = _blank(session, Message, ids, text=PURGED, subject="", attachments="")

    old_inbound = and_(InboundMail.received_at < cutoff,
                       or_(InboundMail.ticket_id.is_(None), InboundMail.ticket_id.in_(closed)))
    ids, more_inbound = _batch(session, InboundMail.id, and_(old_inbound, InboundMail.subject != ""))
    report.inbound_subjects = _blank(session, InboundMail, ids, subject="")
    report.more = more or more_messages or more_inbound

    queued = exists().where(MailboxPurge.message_id == InboundMail.message_id)
    message_ids = list(session.scalars(
        select(InboundMail.message_id)
        .where(old_inbound, ~queued, InboundMail.message_id.not_like(_SYNTHETIC_ID))
        .order_by(InboundMail.id)
        .limit(MAILBOX_PURGE_BATCH + 1)))
    report.more = report.more or len(message_ids) > MAILBOX_PURGE_BATCH
    for message_id in message_ids[:MAILBOX_PURGE_BATCH]:
        session.add(MailboxPurge(message_id=message_id, requested_at=now))
    report.mailbox_deletions = min(len(message_ids), MAILBOX_PURGE_BATCH)
    session.flush()
    return report


def _batch(session: Session, key, condition) -> tuple[list[int], bool]:  # type: ignore[no-untyped-def]
    """The ids of at most RETENTION_BATCH rows to purge, oldest first; True if more wait."""
    ids = list(session.scalars(select(key).where(condition).order_by(key).limit(RETENTION_BATCH + 1)))
    return ids[:RETENTION_BATCH], len(ids) > RETENTION_BATCH


def _blank(session: Session, model: type[Any], ids: list[int], **values: object) -> int:
    if not ids:
        return 0
    # Session.execute is typed as returning a Result; an UPDATE gives a CursorResult, which has the rowcount.
    return cast(CursorResult[Any], session.execute(update(model).where(model.id.in_(ids)).values(**values)
                                                   .execution_options(synchronize_session=False))).rowcount or 0


def run_due(ctx: WorkflowContext) -> int:
    """The scheduled job (an entry of scheduler.JOBS): how many rows were purged or queued."""
    from mailbot.workflows.aliases import drop_lapsed_held  # what unknown addresses asked lapses on its own clock

    drop_lapsed_held(ctx)
    return purge(ctx.session, ctx.settings, ctx.now).total


def describe(report: PurgeReport, settings: Settings) -> str:
    """What `mailbot purge` prints."""
    if report.cutoff is None:
        return "MAILBOT_RETENTION_DAYS=0 : rien n'est purgé (conservation sans limite)."
    lines = [
        f"Durée de conservation : {settings.retention_days} jours (avant le {report.cutoff:%d/%m/%Y %H:%M} UTC).",
        f"Mails envoyés dont la copie est effacée : {report.outbox_bodies}",
        f"Messages de tickets clos dont le texte est effacé : {report.message_texts}",
        f"Objets de mails reçus effacés : {report.inbound_subjects}",
        f"Mails bruts à supprimer de la boîte du club : {report.mailbox_deletions}"
        + (" (suite au prochain passage)" if report.more else ""),
    ]
    if report.mailbox_deletions:
        lines.append("La boîte du club est nettoyée par le démon à son prochain cycle (ou `mailbot run --once`).")
    return "\n".join(lines)
