"""The member register as the operator manages it from the command line (registration by mail comes later)."""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailbot.models import Event, InboundMail, Member, Message, OutboxMail, Ticket, utcnow

VISIBILITIES = ("confidentielle", "membres")
FIELDS = ("email", "first_name", "last_name", "company", "phone", "skills", "hobbies", "particulars", "visibility")
FRENCH_FIELDS = {
    "courriel": "email", "e-mail": "email", "mail": "email", "adresse": "email",
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
    member = session.scalar(select(Member).where(Member.email == email))
    created = member is None
    if member is None:
        member = Member(email=email, status="active", visibility="confidentielle")
        session.add(member)
    for key, value in values.items():
        if key not in FIELDS or key == "email":
            raise MemberError(f"champ inconnu : {key}")
        setattr(member, key, value.strip())
    if member.status != "active":
        member.status = "active"
    session.flush()
    return member, created


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line number, why)


def import_csv(session: Session, path: Path) -> ImportReport:
    """Load a member list; every row is checked, bad rows are reported with their line and reason."""
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
        "visibility": member.visibility,
        "status": member.status,
        "accepts_appeals": member.accepts_appeals,
        "created_at": member.created_at.isoformat(),
    }


def export_member(session: Session, email: str) -> dict[str, Any]:
    """Everything mailbot holds about one member (RGPD right of access)."""
    member = _get(session, email)
    tickets = session.scalars(select(Ticket).where(Ticket.member_id == member.id).order_by(Ticket.id)).all()
    return member_dict(member) | {
        "tickets": [
            {"ref": t.ref, "status": t.status, "subject": t.subject, "created_at": t.created_at.isoformat(),
             "messages": [{"direction": m.direction, "sender": m.sender, "subject": m.subject, "text": m.text,
                           "at": m.at.isoformat()} for m in t.messages]}
            for t in tickets
        ],
    }


def erase_member(session: Session, email: str) -> None:
    """Remove a member's personal data; their tickets keep their history with the person removed."""
    member = _get(session, email)
    address = member.email or ""
    for attr in ("first_name", "last_name", "company", "phone", "skills", "hobbies", "particulars"):
        setattr(member, attr, "")
    member.email = None
    member.status = "erased"
    member.accepts_appeals = False
    ticket_ids = [t.id for t in session.scalars(select(Ticket).where(Ticket.member_id == member.id))]
    for message in session.scalars(select(Message).where(Message.ticket_id.in_(ticket_ids))):
        if message.sender == address:
            message.sender = "membre effacé"
        message.recipients = message.recipients.replace(address, "membre effacé")
    for record in session.scalars(select(InboundMail).where(InboundMail.from_address == address)):
        record.from_address = ""
    for row in session.scalars(select(OutboxMail).where(OutboxMail.recipient == address)):
        row.recipient = "membre-efface@invalid"
        row.body = b""
    session.add(Event(kind="member-erased", detail=f"membre n° {member.id} effacé", at=utcnow()))


def list_members(session: Session) -> Iterable[Member]:
    return session.scalars(select(Member).where(Member.status != "erased").order_by(Member.last_name, Member.email))


def _get(session: Session, email: str) -> Member:
    member = session.scalar(select(Member).where(Member.email == email.strip().lower()))
    if member is None:
        raise MemberError(f"aucun membre avec l'adresse {email}")
    return member
