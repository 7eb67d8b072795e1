"""Tickets: references, titles, summaries and the conversation record shared by every flow."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from mailbot.calendar import local_date
from mailbot.db import read
from mailbot.models import Event, Message, RefCounter, Ticket
from mailbot.parsers import InboundMail, rules, strip_subject_prefixes
from mailbot.parsers.quotes import quoteless
from mailbot.parsers.text import first_sentence, shorten

REFERENCE = rules.REFERENCE  # CA-2026-0042 (the shared rule, mailbot.parsers.rules)
TITLE_LENGTH = 120
SUMMARY_LENGTH = 160


# Built once, run as Core (mailbot.db.read: the session's pending rows flushed first, the year's first row too).
NEXT_NUMBER = (update(RefCounter).where(RefCounter.year == bindparam("at_year"))
               .values(last_number=RefCounter.last_number + 1).returning(RefCounter.last_number))


def next_reference(session: Session, prefix: str, now: datetime, zone: ZoneInfo) -> str:
    """CA-2026-0042: numbered per year of the club's calendar (`zone`: a request at 00:30 on 1 January in Paris,
    still 31 December in UTC, is the new year's), allocated inside the caller's transaction."""
    year = local_date(now, zone).year
    # One round trip: the UPDATE takes the row's lock (held to the commit, so numbers have no gaps) and returns
    # the number. The year's first request inserts the row; two daemons doing it at once: the loser's
    # IntegrityError makes the pipeline run the mail again.
    number = read(session, NEXT_NUMBER, {"at_year": year}).scalar()
    if number is None:
        number = 1
        session.add(RefCounter(year=year, last_number=number))
    return f"{prefix}-{year}-{number:04d}"


def title_of(mail: InboundMail) -> str:
    title = strip_subject_prefixes(mail.subject)
    if not title:
        title = first_sentence(mail.new_text, TITLE_LENGTH) or "(sans objet)"
    return shorten(title, TITLE_LENGTH)


def summary_of(mail: InboundMail) -> str:
    """One line saying what the member asks: the first sentence of what they wrote, or else the subject.

    Only the member's own words count: never a quote, an attribution or a forwarded message (the summary may reach
    a helper in a consent request, a forwarded client's mail must not).
    """
    if rules.is_courtesy_only(mail.new_text):
        return title_of(mail)  # "Bonjour, merci !" says nothing of the request: its subject says more
    return first_sentence(mail.new_text, SUMMARY_LENGTH) or title_of(mail)


# What the ticket records when a mail holds nothing new: said plainly, then the mail without its quote.
NO_NEW_TEXT = "(Pas de texte nouveau dans ce message : seulement une salutation, une signature ou une citation.)"


# Core inserts, built once: nothing reads these rows back as objects in the transaction (see record_inbound).
INSERT_MESSAGE = insert(Message)
INSERT_EVENT = insert(Event)


def record_inbound(session: Session, ticket: Ticket, mail: InboundMail, text: str, now: datetime) -> None:
    """Record an inbound mail on the ticket. Callers that fall back to the whole text when the new text is empty
    (`mail.new_text or mail.text`) never record the quote as if it were new: the ticket says there is nothing new
    and keeps the mail without its quote."""
    if text == mail.text and not mail.new_text.strip() and not mail.forwarded and text.strip():
        text = f"{NO_NEW_TEXT}\n\n{quoteless(mail.text)}".strip()
    # Core inserts, here and in record_event: nothing reads these rows back as objects in the transaction, and
    # the ORM's unit of work for them cost more than the statements (a new request writes one of each).
    session.connection().execute(INSERT_MESSAGE, {
        "ticket_id": ticket.id,
        "direction": "in",
        "sender": mail.from_address,
        "recipients": ", ".join(mail.to + mail.cc),
        "subject": mail.subject,
        "text": text,
        "message_id": mail.message_id,
        "attachments": "\n".join(f"{a.filename} ({human_size(a.size)})" for a in mail.attachments),
        "at": now,
    })


def record_event(session: Session, ticket: Ticket | None, kind: str, detail: str, now: datetime,
                 actor: str = "mailbot") -> None:
    session.connection().execute(INSERT_EVENT, {"ticket_id": ticket.id if ticket else None, "kind": kind,
                                                "detail": detail, "actor": actor, "at": now})


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} o"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} Ko"
    return f"{size / (1024 * 1024):.1f} Mo".replace(".", ",")


def open_tickets_of(session: Session, member_id: int) -> list[Ticket]:
    return list(session.scalars(
        select(Ticket).where(Ticket.member_id == member_id, Ticket.closed_at.is_(None)).order_by(Ticket.id)
    ))
