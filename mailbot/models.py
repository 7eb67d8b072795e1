"""The database: the single store of mailbot's state, and its queue (inbound record, outbox).

Times are stored as naive UTC datetimes (portable between SQLite and PostgreSQL); `utcnow()` gives them.
"""
from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy import (
    true as sa_true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class Member(Base):
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True)  # None once erased
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    company: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(50), default="")
    skills: Mapped[str] = mapped_column(Text, default="")
    hobbies: Mapped[str] = mapped_column(Text, default="")
    particulars: Mapped[str] = mapped_column(Text, default="")
    visibility: Mapped[str] = mapped_column(String(20), default="confidentielle")  # or "membres"
    # Issue 12: what a "membres" member's directory entry shows: "e-mail, téléphone", "e-mail", "téléphone", "aucune".
    directory_contacts: Mapped[str] = mapped_column(String(40), default="e-mail, téléphone",
                                                    server_default="e-mail, téléphone")
    status: Mapped[str] = mapped_column(String(20), default="active")  # active | ended | erased
    accepts_appeals: Mapped[bool] = mapped_column(Boolean, default=True)
    bounced_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    activity: Mapped[str] = mapped_column(String(200), default="")
    postal_address: Mapped[str] = mapped_column(Text, default="")
    conditions_version: Mapped[str] = mapped_column(String(20), default="")  # "" = added by the operator
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    # A request to end membership or erase the data, waiting for the member's confirmation by reply.
    pending_action: Mapped[str] = mapped_column(String(20), default="")  # "" | resilier | effacer
    pending_since: Mapped[datetime | None] = mapped_column(DateTime)
    # "madame" | "monsieur" | None (not given): the mails agree with it, or use a wording that needs no agreement.
    civility: Mapped[str | None] = mapped_column(String(10))
    # Issue 17: announcements of activities and polls ("plus d'annonces" stops them, "annonces" restarts them).
    accepts_announcements: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())
    # Issue 17: the image-rights choice of the registration form and profile ("Droit à l'image : oui / non"):
    # "oui" | "non" | None (not given: photos of the member are not used, like "non").
    image_rights: Mapped[str | None] = mapped_column(String(3))

    @property
    def display_name(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return name or (self.email or "membre effacé")


class MemberAddress(Base):
    """Another address of one member (issue 13, point 2): a mail from it is the member's, a mail to the member still
    goes to members.email. An address belongs to one member only, and is never another member's main address
    (mailbot.addresses checks it; the unique index holds it for the aliases themselves)."""

    __tablename__ = "member_addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)  # normalised: lower case, Unicode domain
    added_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # cli | aideur (the #adresse command) | confirmed (the member confirmed from the main address) | former (the
    # main address before a change)
    how: Mapped[str] = mapped_column(String(20), default="cli")


class HeldRequest(Base):
    """What an unknown address asked (issue 13, point 2): kept while it may turn out to be a member's other address
    (the invitation offers to say so), and opened as that member's ticket once the address is linked. Deleted when
    used, and after workflows.profiles.PENDING_DAYS; erased with the address (RGPD)."""

    __tablename__ = "held_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), index=True)  # the unknown address, normalised
    subject: Mapped[str] = mapped_column(String(998), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    message_id: Mapped[str] = mapped_column(String(998), default="")
    received_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class MemberTerm(Base):
    """The matching index: one stemmed, accent-folded word of a member's profile (mailbot.matching).

    field: s = skills, h = hobbies, p = particulars. Rebuilt whenever the profile changes.
    """

    __tablename__ = "member_terms"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    term: Mapped[str] = mapped_column(String(60), primary_key=True, index=True)
    field: Mapped[str] = mapped_column(String(1), primary_key=True)
    word: Mapped[str] = mapped_column(String(100), default="")  # the profile's own word, to explain a match


class Acceptance(Base):
    """The written acceptance of the club's conditions: the evidence kept for each member (docs/rules.md §9)."""

    __tablename__ = "acceptances"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    conditions_version: Mapped[str] = mapped_column(String(20))
    accepted_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    message_id: Mapped[str] = mapped_column(String(998))
    line: Mapped[str] = mapped_column(Text)  # the acceptance sentence as the member wrote it
    raw_sha256: Mapped[str] = mapped_column(String(64))


class PendingChange(Base):
    """A change asked by a mail that did not prove its address (a fresh mail, someone else's reply address): kept
    here, untouched, until the person answers the confirmation sent to the address on record (token scope v,
    whose number is this row's id). Used once; the values are blanked once decided."""

    __tablename__ = "pending_changes"

    id: Mapped[int] = mapped_column(primary_key=True)  # the number in the confirmation's token
    kind: Mapped[str] = mapped_column(String(20))  # profile | register
    email: Mapped[str] = mapped_column(String(320), index=True)  # the only address whose answer counts
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    values: Mapped[str] = mapped_column(Text, default="")  # JSON: the form's fields and the acceptance line
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending|applied|cancelled|superseded
    asked_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    message_id: Mapped[str] = mapped_column(String(998), default="")  # the mail that asked
    raw_sha256: Mapped[str] = mapped_column(String(64), default="")  # of that mail as received


class Ticket(Base):
    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    # One of mailbot.ticket_states.TicketStatus, changed only by ticket_states.move() (its allowed transitions).
    status: Mapped[str] = mapped_column(String(20), default="new")
    subject: Mapped[str] = mapped_column(String(300), default="")
    summary: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    # The promise currently made to the member: "answer" (whether the club can help) or "proposals", due at
    # due_at; delay_reason is what Aideur gave when he postponed it, told to the member if it passes, and only
    # while delay_reason_due (the due date it was given for) is still due_at: a reason belongs to one promise.
    due_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    promise: Mapped[str] = mapped_column(String(20), default="answer")
    delay_reason: Mapped[str] = mapped_column(Text, default="")
    delay_reason_due: Mapped[datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The closed request this one continues (the member wrote again after MAILBOT_REOPEN_DAYS).
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))

    member: Mapped[Member | None] = relationship()
    messages: Mapped[list[Message]] = relationship(back_populates="ticket", order_by="Message.id")
    events: Mapped[list[Event]] = relationship(back_populates="ticket", order_by="Event.id")


class Appeal(Base):
    """One anonymised appeal Aideur sent to the network for a ticket (docs/rules.md §4)."""

    __tablename__ = "appeals"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    skills: Mapped[str] = mapped_column(Text, default="")  # Aideur's targeting, when he gave one
    actor: Mapped[str] = mapped_column(String(320), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Solicitation(Base):
    """One member asked by an appeal, and what they answered: an offer, a "non merci", or nothing yet."""

    __tablename__ = "solicitations"

    id: Mapped[int] = mapped_column(primary_key=True)  # the number in the helper's reply token
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeals.id"), index=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="asked")  # asked | offered | declined
    reason: Mapped[str] = mapped_column(Text, default="")  # why the member was chosen (matched words)
    offer_number: Mapped[int | None] = mapped_column(Integer)  # per ticket, for Aideur's #relier N
    answer: Mapped[str] = mapped_column(Text, default="")
    asked_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)
    told_over_at: Mapped[datetime | None] = mapped_column(DateTime)  # told the need is over

    member: Mapped[Member] = relationship()

    __table_args__ = (Index("ux_solicitation_appeal_member", "appeal_id", "member_id", unique=True),)


class Connection(Base):
    """Aideur's #relier: requester and helper put in contact once both agreed in writing (docs/rules.md §5)."""

    __tablename__ = "connections"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    helper_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    solicitation_id: Mapped[int | None] = mapped_column(ForeignKey("solicitations.id"))
    # asking -> exchanged (both said yes) | refused | expired | cancelled (ticket closed, member gone)
    status: Mapped[str] = mapped_column(String(20), default="asking", index=True)
    actor: Mapped[str] = mapped_column(String(320), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)

    consents: Mapped[list[Consent]] = relationship(back_populates="connection", order_by="Consent.id")


class Consent(Base):
    """One side's written answer to "may we give your details to…?": the evidence kept (docs/rules.md §5)."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(primary_key=True)  # the number in this person's reply token
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    role: Mapped[str] = mapped_column(String(10))  # requester | helper
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending | yes | no | expired
    asked_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    asked_message_id: Mapped[str] = mapped_column(String(998), default="")  # our question, as sent
    asked_sha256: Mapped[str] = mapped_column(String(64), default="")  # of the question's text as rendered
    answer_line: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)
    answer_message_id: Mapped[str] = mapped_column(String(998), default="")
    answer_sha256: Mapped[str] = mapped_column(String(64), default="")  # of the raw answer mail
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The card fields this side agreed to share, comma-separated ("email" or "name,email,phone,company,activity").
    # While still pending, a restriction the person asked for and must confirm by OUI; "" before any answer (and,
    # on a "yes" older than revision 0005a, the whole card).
    shared_fields: Mapped[str] = mapped_column(String(200), default="", server_default="")

    connection: Mapped[Connection] = relationship(back_populates="consents")
    member: Mapped[Member] = relationship()


class Counterpart(Base):
    """Who receives Aideur's free text when he replies to one notification, and whose answers come back bound to
    it (issue 12, point 2): one helper of a ticket, a member about their profile, or nobody. The requester of a
    ticket needs no row: the ticket's own token (scope t) has always meant them. The number in the reply token."""

    __tablename__ = "counterparts"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # helper | member | stranger | none
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    solicitation_id: Mapped[int | None] = mapped_column(ForeignKey("solicitations.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # kind "stranger": the address of someone who is not a member (Aideur's reply to a non-member notice goes there)
    address: Mapped[str | None] = mapped_column(String(320))

    member: Mapped[Member | None] = relationship()


class ResultForm(Base):
    """The simplified result form (docs/rules.md §8) sent to a member, and what they answered."""

    __tablename__ = "result_forms"

    id: Mapped[int] = mapped_column(primary_key=True)  # the number in the reply token
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    role: Mapped[str] = mapped_column(String(10))  # requester | helper
    cause: Mapped[str] = mapped_column(String(20))  # connection | solution | close
    # scheduled (sent_at is when it will go) | pending (sent, no answer yet) | answered | stopped
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    sent_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    reminders: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[str] = mapped_column(String(20), default="")  # resolu | en_partie | non_resolu | en_cours
    satisfaction: Mapped[int | None] = mapped_column(Integer)  # 1..5
    comment: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)
    answer_message_id: Mapped[str] = mapped_column(String(998), default="")

    member: Mapped[Member] = relationship()


class RefCounter(Base):
    """The last ticket number given out per year: references are CA-YYYY-NNNN, numbered per year."""

    __tablename__ = "ref_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class InboundMail(Base):
    """Every fetched mail, recorded in the same transaction as its effects: the dedupe and audit record."""

    __tablename__ = "inbound_mails"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(998), unique=True)
    folder: Mapped[str] = mapped_column(String(200))
    uidvalidity: Mapped[int] = mapped_column(Integer)
    uid: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)  # retention's range scan
    from_address: Mapped[str] = mapped_column(String(320), default="")
    subject: Mapped[str] = mapped_column(String(998), default="")
    kind: Mapped[str] = mapped_column(String(20), default="normal")
    outcome: Mapped[str] = mapped_column(String(40))  # ticket | follow-up | non-member | ignored | quarantined…
    reason: Mapped[str] = mapped_column(Text, default="")
    size: Mapped[int] = mapped_column(Integer, default=0)
    raw_sha256: Mapped[str] = mapped_column(String(64), default="")
    # SHA-256 of what the mail says, without what each delivery adds (pipeline.content_digest): the same
    # Message-ID with the same content is a duplicate delivery, with another content another mail.
    content_sha256: Mapped[str] = mapped_column(String(64), default="", server_default="")
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))

    __table_args__ = (Index("ix_inbound_folder_uid", "folder", "uidvalidity", "uid"),)


class MailboxCheckpoint(Base):
    """The highest UID whose effects are committed, per folder and UIDVALIDITY."""

    __tablename__ = "mailbox_checkpoints"

    folder: Mapped[str] = mapped_column(String(200), primary_key=True)
    uidvalidity: Mapped[int] = mapped_column(Integer)
    last_uid: Mapped[int] = mapped_column(Integer, default=0)


class MailboxPurge(Base):
    """A mail to delete from the club mailbox's folders: the raw copies of an erased member's mails (RGPD).

    Workflows only record the wish; the daemon, which owns the IMAP connection, carries it out and marks it done.
    """

    __tablename__ = "mailbox_purges"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(998))
    requested_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)


class Message(Base):
    """One mail in a ticket's conversation, in or out, as a person would read it."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    direction: Mapped[str] = mapped_column(String(3))  # in | out
    sender: Mapped[str] = mapped_column(String(320))
    recipients: Mapped[str] = mapped_column(Text, default="")  # comma-separated
    subject: Mapped[str] = mapped_column(String(998), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    message_id: Mapped[str] = mapped_column(String(998), default="")
    attachments: Mapped[str] = mapped_column(Text, default="")  # "name (size)" per line
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)  # retention's range scan

    ticket: Mapped[Ticket] = relationship(back_populates="messages")


class Event(Base):
    """What happened to a ticket and who did it: the audit trail."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(320), default="mailbot")
    detail: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    ticket: Mapped[Ticket | None] = relationship(back_populates="events")


class OutboxMail(Base):
    """A mail to send, committed with the state change that caused it.

    `message_id` is fixed at insert, so a retry re-sends the very same mail. `idempotency_key` makes the decision
    to send itself unique: the same event can never queue the same mail twice.
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    message_id: Mapped[str] = mapped_column(String(998), unique=True)
    kind: Mapped[str] = mapped_column(String(40))  # template name: ack, notify-new, ...
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    sender: Mapped[str] = mapped_column(String(320))  # envelope sender
    recipient: Mapped[str] = mapped_column(String(320), index=True)
    subject: Mapped[str] = mapped_column(String(998), default="")
    automatic: Mapped[bool] = mapped_column(Boolean, default=True)  # counts toward the per-address rate limit
    body: Mapped[bytes] = mapped_column(LargeBinary)  # the complete RFC 5322 message
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)  # pending|sending|sent|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    interrupted_sends: Mapped[int] = mapped_column(Integer, default=0)  # crashes while handing it to SMTP
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The person this mail is about (its recipient, or the member an Aideur notice concerns): erasure finds it.
    about: Mapped[str] = mapped_column(String(320), default="", index=True)
    # Blank the body and recipient once sent: the last mail to a member who asked for erasure.
    scrub_after_send: Mapped[bool] = mapped_column(Boolean, default=False)



class AideurState(Base):
    """Aideur's command address (one row, id 1): its generation is part of the address's HMAC, so
    `mailbot aideur rotate-address` makes the old address worthless (no row: generation 0)."""

    __tablename__ = "aideur_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    command_generation: Mapped[int] = mapped_column(Integer, default=0)
    rotated_at: Mapped[datetime | None] = mapped_column(DateTime)


class PendingCommand(Base):
    """A command that came through Aideur's command address and would send something to a member: it waits for
    his OUI by reply to the confirmation mail (its reply address names this row), and is executed once."""

    __tablename__ = "pending_commands"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | done | cancelled | expired | refused
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    from_address: Mapped[str] = mapped_column(String(320))  # who the mail said it came from
    message_id: Mapped[str] = mapped_column(String(998))  # the command mail's: its effects' idempotency keys
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    text: Mapped[str] = mapped_column(Text, default="")  # the commands as written (text, then subject commands)
    day: Mapped[date] = mapped_column(Date)  # the club's local date it was written on (relative dates)


class SigningDomain(Base):
    """A domain of Aideur's addresses seen signing his mail with a valid, aligned DKIM signature: from then on an
    unsigned or badly signed mail with that From: domain is refused (MAILBOT_AUTHSERV_ID unset)."""

    __tablename__ = "signing_domains"

    domain: Mapped[str] = mapped_column(String(253), primary_key=True)
    first_seen: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Absence(Base):
    """Aideur away (`#absent DU AU [MOTIF]`, issue 13 point 4): from `starts_on` to `ends_on` included, club-local
    dates. Promises falling in it move after the return (workflows.absences); `cancelled_at` ends it early."""

    __tablename__ = "absences"

    id: Mapped[int] = mapped_column(primary_key=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)  # the last day away; he is back the next business day
    reason: Mapped[str] = mapped_column(Text, default="")  # for Aideur's records: never told to members
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(320), default="")
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime)


class Document(Base):
    """A document of the club's documentation (issue 17, point 3), in a section ("rubrique"). Its bytes are kept in
    the database: one place to back up (`mailbot backup`), nothing to lose beside it. Members get it attached when
    they ask ("doc 4", "documentation facture"), within MAILBOT_DOC_MAX_BYTES."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    rubrique: Mapped[str] = mapped_column(String(200))
    titre: Mapped[str] = mapped_column(String(300))
    mots_cles: Mapped[str] = mapped_column(Text, default="")
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(255), default="application/octet-stream")
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    added_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    added_by: Mapped[str] = mapped_column(String(320), default="")


class Suggestion(Base):
    """A member's improvement proposal (issue 17, point 4): recorded, acknowledged, forwarded to Aideur and listed in
    the weekly digest; never a ticket. Erasing the member deletes their suggestions."""

    __tablename__ = "suggestions"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    message_id: Mapped[str] = mapped_column(String(998))
    received_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    subject: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
class Poll(Base):
    """A poll (`#sondage`, issue 17 point 2): a question, numbered choices, a deadline. Who was asked and whether
    they voted is in PollParticipant; what they chose is in PollVote (named polls) or PollBallot (anonymous polls),
    never both (workflows/polls.py)."""

    __tablename__ = "polls"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(20), unique=True)  # SO-YYYY-NNN
    question: Mapped[str] = mapped_column(Text)
    closes_at: Mapped[datetime] = mapped_column(DateTime)  # naive UTC: votes count until then
    anonymous: Mapped[bool] = mapped_column(Boolean, default=True)
    results_to: Mapped[str] = mapped_column(String(10), default="aideur")  # aideur | membres
    skills: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | closed
    activity_ref: Mapped[str] = mapped_column(String(20), default="")  # a poll following an activity (AC-…)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(320), default="")
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime)  # the one reminder, sent once
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)  # results sent

    choices: Mapped[list[PollChoice]] = relationship(order_by="PollChoice.position")


class PollChoice(Base):
    __tablename__ = "poll_choices"

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # the number members answer with (1, 2, …)
    label: Mapped[str] = mapped_column(Text)


class PollParticipant(Base):
    """One member asked by a poll: its id is their reply address's number (scope o). Whether they voted, never
    what, and no time of voting (a time could be matched with a ballot)."""

    __tablename__ = "poll_participants"

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    has_voted: Mapped[bool] = mapped_column(Boolean, default=False)

    member: Mapped[Member] = relationship()
    __table_args__ = (Index("ux_poll_participants_poll_member", "poll_id", "member_id", unique=True),)


class PollVote(Base):
    """A vote in a named poll (`anonyme: non`): who chose what; the last one counts."""

    __tablename__ = "poll_votes"

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    choice_id: Mapped[int] = mapped_column(ForeignKey("poll_choices.id"))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    member: Mapped[Member] = relationship()
    __table_args__ = (Index("ux_poll_votes_poll_member", "poll_id", "member_id", unique=True),)


class PollBallot(Base):
    """A ballot of an anonymous poll: the poll and the choice, nothing else. Its key is a keyed hash of the poll
    and the voter (workflows.polls.ballot_keys): only the holder of the secret key can find a voter's ballot again
    (to replace it when they change their vote); no member id, no time, no sequence. On SQLite the table has no
    rowid, so not even the storage order follows the order of the votes."""

    __tablename__ = "poll_ballots"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id"), index=True)
    choice_id: Mapped[int] = mapped_column(ForeignKey("poll_choices.id"))
    __table_args__ = {"sqlite_with_rowid": False}  # noqa: RUF012 - SQLAlchemy reads it from the class
class Activity(Base):
    """A bookable activity announced by Aideur (issue 17, point 1): `#activite` / `#event` / `#formation`.

    Its reference is AC-YYYY-NNN (year in the club's time zone, numbered per year through ActivityCounter)."""

    __tablename__ = "activities"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(40), default="formation")  # formation, conférence, atelier…
    title: Mapped[str] = mapped_column(String(300), default="")
    starts_at: Mapped[datetime] = mapped_column(DateTime, index=True)  # naive UTC
    duration_minutes: Mapped[int] = mapped_column(Integer, default=60)
    place: Mapped[str] = mapped_column(Text, default="")  # an address, or a visio link
    places: Mapped[int] = mapped_column(Integer, default=0)  # capacity
    fee: Mapped[str] = mapped_column(String(100), default="gratuit")
    booking_until: Mapped[datetime | None] = mapped_column(DateTime)  # naive UTC: bookings close then
    cancel_until: Mapped[datetime | None] = mapped_column(DateTime)  # naive UTC: a member may cancel until then
    skills: Mapped[str] = mapped_column(Text, default="")  # who is told ("" = every member accepting announcements)
    text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(12), default="open")  # open | closed | cancelled
    auto_promote: Mapped[bool] = mapped_column(Boolean, default=False)  # "promotion: automatique"
    created_by: Mapped[str] = mapped_column(String(320), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    # The scheduler's marks: each step happens once (their mails are keyed in the outbox too).
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    followed_up_at: Mapped[datetime | None] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)  # bumped by each change of date or place

    bookings: Mapped[list[Booking]] = relationship(back_populates="activity", order_by="Booking.id")


class ActivityCounter(Base):
    """The last activity number given out per year (AC-YYYY-NNN)."""

    __tablename__ = "activity_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class Booking(Base):
    """One member and one activity: the reply address of the announcement they got (token scope e, this row's id),
    then their booking.

    Never more bookings than places, with several daemons: a booked (or offered) row holds a seat number in
    1..places, and (activity_id, seat) is unique in the database: two transactions that pick the same seat cannot
    both commit (the loser's mail is processed again and finds the seat taken). On PostgreSQL the activity row is
    also locked (SELECT … FOR UPDATE) while its seats are counted; SQLite has a single writer."""

    __tablename__ = "bookings"

    id: Mapped[int] = mapped_column(primary_key=True)  # the number in the member's reply token
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    # invited (announced, no answer) | booked | waiting | offered (a freed seat, held until offer_expires_at)
    # | cancelled
    status: Mapped[str] = mapped_column(String(12), default="invited")
    seat: Mapped[int | None] = mapped_column(Integer)  # booked and offered only
    position: Mapped[int | None] = mapped_column(Integer)  # the waiting list's order (lower first)
    at: Mapped[datetime | None] = mapped_column(DateTime)  # when the status last changed by the member's answer
    offer_expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    invited_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    activity: Mapped[Activity] = relationship(back_populates="bookings")
    member: Mapped[Member] = relationship()

    __table_args__ = (Index("ux_booking_activity_member", "activity_id", "member_id", unique=True),
                      Index("ux_booking_activity_seat", "activity_id", "seat", unique=True))
