"""The member register as the operator manages it from the command line (registration by mail comes later)."""
from __future__ import annotations

import csv
import re
from datetime import datetime
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from sqlalchemy import delete, false, or_, select
from sqlalchemy.orm import Session

from mailbot.matching import index_member
from mailbot.privacy import Identity, scrub
from mailbot.models import PendingChange
from mailbot.models import (
    Acceptance,
    Appeal,
    Connection,
    Consent,
    Event,
    InboundMail,
    MailboxPurge,
    Member,
    MemberTerm,
    Message,
    OutboxMail,
    ResultForm,
    Solicitation,
    Ticket,
    utcnow,
)

VISIBILITIES = ("confidentielle", "membres")
FIELDS = ("email", "first_name", "last_name", "company", "phone", "skills", "hobbies", "particulars", "visibility",
          "activity", "postal_address", "accepts_appeals")
FRENCH_FIELDS = {
    "courriel": "email", "e-mail": "email", "mail": "email", "adresse_email": "email",
    "adresse": "postal_address", "adresse_postale": "postal_address", "activite": "activity", "activité": "activity",
    "metier": "activity", "métier": "activity", "appels": "accepts_appeals",
    "prenom": "first_name", "prénom": "first_name", "nom": "last_name", "entreprise": "company",
    "societe": "company", "société": "company", "telephone": "phone", "téléphone": "phone",
    "competences": "skills", "compétences": "skills", "loisirs": "hobbies", "hobbies": "hobbies",
    "particularites": "particulars", "particularités": "particulars", "visibilite": "visibility",
    "visibilité": "visibility",
}
EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")


class MemberError(ValueError):
    pass


def normalise_visibility(value: str) -> str:
    folded = value.strip().lower().replace("é", "e")
    if folded in ("", "confidentielle", "confidentiel", "confidential", "aideur"):
        return "confidentielle"
    if folded in ("membres", "membre", "members", "visible"):
        return "membres"
    raise MemberError(f"visibilité inconnue : {value!r} (confidentielle ou membres)")


def upsert_member(session: Session, email: str, **values: str) -> tuple[Member, bool]:
    """Add a member or update the given fields of an existing one. Returns (member, created)."""
    email = email.strip().lower()
    if not EMAIL.match(email):
        raise MemberError(f"adresse e-mail invalide : {email!r}")
    if "visibility" in values:
        values["visibility"] = normalise_visibility(values["visibility"])
    appeals = _yes_no(values.pop("accepts_appeals")) if "accepts_appeals" in values else None
    member = session.scalar(select(Member).where(Member.email == email))
    created = member is None
    if member is None:
        member = Member(email=email, status="active", visibility="confidentielle")
        session.add(member)
    for key, value in values.items():
        if key not in FIELDS or key == "email":
            raise MemberError(f"champ inconnu : {key}")
        setattr(member, key, value.strip())
    if appeals is not None:
        member.accepts_appeals = appeals
    if member.status != "active":
        member.status = "active"
    session.flush()
    index_member(session, member)
    return member, created


def _yes_no(value: str) -> bool:
    folded = value.strip().lower()
    if folded in ("", "oui", "yes", "1", "true", "o", "y"):
        return True
    if folded in ("non", "no", "0", "false", "n"):
        return False
    raise MemberError(f"appels : oui ou non, pas {value!r}")


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line number, why)


def count_rows(path: Path) -> int:
    """Data rows in a CSV file (for the progress bar): lines after the header, quoted newlines aside."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return max(sum(1 for _ in csv.reader(handle)) - 1, 0)


def import_csv(session: Session, path: Path, progress: Callable[[int], None] | None = None) -> ImportReport:
    """Load a member list; every row is checked, bad rows are reported with their line and reason.
    `progress(1)` is called after each row (the CLI's progress bar)."""
    report = ImportReport()
    with path.open(newline="", encoding="utf-8-sig") as handle:
        sample = handle.read(4096)
        handle.seek(0)
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t") if sample else csv.excel
        reader = csv.DictReader(handle, dialect=dialect)
        columns = {name: _column(name) for name in (reader.fieldnames or [])}
        if "email" not in columns.values():
            raise MemberError("le fichier n'a pas de colonne email (ou courriel)")
        seen: set[str] = set()
        for row in reader:
            if progress is not None:
                progress(1)
            line = reader.line_num
            values = {columns[k]: (v or "") for k, v in row.items() if k in columns and columns[k]}
            email = values.pop("email", "").strip().lower()
            if email in seen:
                report.rejected.append((line, f"{email} apparaît deux fois dans le fichier"))
                continue
            try:
                with session.begin_nested():
                    _, created = upsert_member(session, email, **values)
            except MemberError as error:
                report.rejected.append((line, str(error)))
                continue
            seen.add(email)
            report.added += created
            report.updated += not created
    return report


def _column(name: str) -> str:
    key = name.strip().lower()
    return key if key in FIELDS else FRENCH_FIELDS.get(key, "")


def member_dict(member: Member) -> dict[str, Any]:
    return {
        "email": member.email,
        "first_name": member.first_name,
        "last_name": member.last_name,
        "company": member.company,
        "phone": member.phone,
        "skills": member.skills,
        "hobbies": member.hobbies,
        "particulars": member.particulars,
        "activity": member.activity,
        "postal_address": member.postal_address,
        "visibility": member.visibility,
        "status": member.status,
        "accepts_appeals": member.accepts_appeals,
        "created_at": member.created_at.isoformat(),
        "conditions_version": member.conditions_version,
    }


def export_member(session: Session, email: str) -> dict[str, Any]:
    """Everything mailbot holds about one member (RGPD right of access)."""
    member = _get(session, email)
    tickets = session.scalars(select(Ticket).where(Ticket.member_id == member.id).order_by(Ticket.id)).all()
    acceptances = session.scalars(select(Acceptance).where(Acceptance.member_id == member.id)
                                  .order_by(Acceptance.id)).all()
    asked = session.scalars(select(Solicitation).where(Solicitation.member_id == member.id)
                            .order_by(Solicitation.id)).all()
    return member_dict(member) | {
        "acceptances": [{"conditions_version": a.conditions_version, "accepted_at": a.accepted_at.isoformat(),
                         "message_id": a.message_id, "line": a.line, "raw_sha256": a.raw_sha256}
                        for a in acceptances],
        "appeals_received": [{"ticket_id": s.ticket_id, "asked_at": s.asked_at.isoformat(), "status": s.status,
                              "answer": s.answer, "matched": s.reason} for s in asked],
        "tickets": [
            {"ref": t.ref, "status": t.status, "subject": t.subject, "created_at": t.created_at.isoformat(),
             "messages": [{"direction": m.direction, "sender": m.sender, "subject": m.subject, "text": m.text,
                           "at": m.at.isoformat()} for m in t.messages]}
            for t in tickets
        ],
    }


def erase_member(session: Session, email: str, *, now: datetime | None = None,
                 also_purge: Iterable[str] = ()) -> Member:
    """Remove a member's personal data (RGPD art. 17); their tickets keep their history with the person removed.

    Every text mailbot stored that names them is scrubbed (mailbot.privacy): the tickets they opened, the
    conversations they took part in, events, inbound records, their acceptance line and appeal answers. Mails
    already sent lose their stored copy; mails still waiting to go to them are cancelled.
    """
    member = _get(session, email)
    now = now or utcnow()
    address = member.email or ""
    identity = Identity(first_name=member.first_name, last_name=member.last_name, company=member.company,
                        email=address, phone=member.phone, postal_address=member.postal_address)

    def clean(text: str) -> str:
        return scrub(text, identity, ERASED) if text else text

    # The raw mails they sent sit in the club mailbox's folders: the daemon deletes them (MailboxPurge).
    sent = list(session.scalars(select(InboundMail.message_id).where(InboundMail.from_address == address)))
    for message_id in dict.fromkeys([*sent, *also_purge]):
        session.add(MailboxPurge(message_id=message_id, requested_at=now))
    own_tickets = list(session.scalars(select(Ticket).where(Ticket.member_id == member.id)))
    helped = set(session.scalars(select(Solicitation.ticket_id).where(Solicitation.member_id == member.id)))
    ticket_ids = {t.id for t in own_tickets} | helped
    for ticket in own_tickets:
        ticket.subject, ticket.summary = clean(ticket.subject), clean(ticket.summary)
    needles = [n for n in (address, member.last_name, member.company, member.first_name) if len(n) >= 3]
    for message in _rows(session, Message, Message.ticket_id.in_(ticket_ids) | (Message.sender == address) |
                         Message.recipients.contains(address) | _any_like(Message.text, needles)):
        message.text, message.subject = clean(message.text), clean(message.subject)
        message.sender = ERASED if message.sender == address else message.sender
        message.recipients = message.recipients.replace(address, ERASED) if address else message.recipients
    for event in _rows(session, Event, Event.ticket_id.in_(ticket_ids) | (Event.actor == address) |
                       _any_like(Event.detail, needles)):
        event.detail = clean(event.detail)
        event.actor = ERASED if event.actor == address else event.actor
    for record in _rows(session, InboundMail, (InboundMail.from_address == address) |
                        InboundMail.ticket_id.in_(ticket_ids) | _any_like(InboundMail.subject, needles)):
        record.subject = clean(record.subject)
        record.from_address = "" if record.from_address == address else record.from_address
    for acceptance in session.scalars(select(Acceptance).where(Acceptance.member_id == member.id)):
        acceptance.line = clean(acceptance.line)  # version, date, Message-ID and hash stay as evidence
    for solicitation in _rows(session, Solicitation, Solicitation.ticket_id.in_(ticket_ids)):
        solicitation.answer = clean(solicitation.answer)
    for appeal in _rows(session, Appeal, Appeal.ticket_id.in_(ticket_ids)):
        appeal.text = clean(appeal.text)
    connections = set(session.scalars(select(Connection.id).where(
        (Connection.requester_id == member.id) | (Connection.helper_id == member.id))))
    for consent in _rows(session, Consent, Consent.connection_id.in_(connections)):
        consent.answer_line = clean(consent.answer_line)  # who, when, Message-IDs and hashes stay as evidence
    for form in _rows(session, ResultForm, ResultForm.ticket_id.in_(ticket_ids) | (ResultForm.member_id == member.id)):
        form.comment = clean(form.comment)
    _forget_outgoing(session, address, ticket_ids, needles)
    session.execute(delete(MemberTerm).where(MemberTerm.member_id == member.id))
    # Changes asked for them and never (or already) confirmed: the asked values and the address go too.
    session.execute(delete(PendingChange).where(or_(PendingChange.member_id == member.id,
                                                    PendingChange.email == address.lower())))
    for attr in ("first_name", "last_name", "company", "phone", "skills", "hobbies", "particulars", "activity",
                 "postal_address"):
        setattr(member, attr, "")
    member.email = None
    member.status = "erased"
    member.accepts_appeals = False
    member.pending_action, member.pending_since = "", None
    session.add(Event(kind="member-erased", detail=f"membre n° {member.id} effacé", at=now))
    return member


ERASED = "[membre effacé]"


def _rows(session: Session, model: Any, condition: Any) -> Iterable[Any]:
    return session.scalars(select(model).where(condition).execution_options(yield_per=500))


def _any_like(column: Any, needles: list[str]) -> Any:
    """A cheap pre-filter for rows outside the member's own tickets that may still name them."""
    return or_(false(), *[column.ilike(f"%{needle}%") for needle in needles])


def _forget_outgoing(session: Session, address: str, ticket_ids: set[int], needles: list[str]) -> None:
    """Mails waiting for the member are cancelled; stored copies that may name them are blanked, or blanked
    as soon as they are sent (the outbox holds them as MIME, which a text scrub cannot safely edit)."""
    for row in _rows(session, OutboxMail, (OutboxMail.recipient == address) | (OutboxMail.about == address) |
                     OutboxMail.ticket_id.in_(ticket_ids) | _any_like(OutboxMail.subject, needles)):
        if row.recipient == address and row.status in ("pending", "sending"):
            row.status, row.last_error = "failed", "annulé : données du membre effacées"
        if row.status in ("pending", "sending"):
            row.scrub_after_send = True
        else:
            row.body, row.subject = b"", ""
        if row.recipient == address:
            row.recipient = "membre-efface@invalid"
        if row.about == address:
            row.about = ""


def list_members(session: Session) -> Iterable[Member]:
    return session.scalars(select(Member).where(Member.status != "erased").order_by(Member.last_name, Member.email))


def _get(session: Session, email: str) -> Member:
    member = session.scalar(select(Member).where(Member.email == email.strip().lower()))
    if member is None:
        raise MemberError(f"aucun membre avec l'adresse {email}")
    return member
