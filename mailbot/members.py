"""The member register as the operator manages it from the command line (registration by mail comes later)."""
from __future__ import annotations

import csv
import email
import email.policy
import hashlib
import html
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import LargeBinary, String, Text, delete, or_, select, update
from sqlalchemy.orm import Session

from mailbot.addresses import addresses_of, aliases_of, forget_aliases, member_of_address
from mailbot.matching import index_member
from mailbot.models import (
    Acceptance,
    Base,
    Event,
    HeldRequest,
    InboundMail,
    MailboxPurge,
    Member,
    MemberTerm,
    OutboxMail,
    PendingChange,
    Solicitation,
    Suggestion,
    Ticket,
    utcnow,
)
from mailbot.parsers.headers import unicode_domain
from mailbot.privacy import Identity, scrub

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
    email = unicode_domain(email.strip().lower())
    if not EMAIL.match(email):
        raise MemberError(f"adresse e-mail invalide : {email!r}")
    if "visibility" in values:
        values["visibility"] = normalise_visibility(values["visibility"])
    appeals = _yes_no(values.pop("accepts_appeals")) if "accepts_appeals" in values else None
    member = session.scalar(select(Member).where(Member.email == email))
    owner = member_of_address(session, email) if member is None else None
    if owner is not None:  # one person, one register row: an address is never two members' (issue 13)
        raise MemberError(f"{email} est déjà une autre adresse de {owner.display_name} (mailbot members alias list)")
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


def import_csv(session: Session, path: Path, progress: Callable[[int], object] | None = None) -> ImportReport:
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
            values = {columns[k]: (v or "") for k, v in row.items() if columns.get(k)}
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
        "directory_contacts": member.directory_contacts,
        "civility": member.civility,
        "status": member.status,
        "accepts_appeals": member.accepts_appeals,
        "accepts_announcements": member.accepts_announcements,  # issue 17
        "image_rights": member.image_rights,  # issue 17: "oui" | "non" | None (not given)
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
        # Their other addresses (issue 13): each is personal data too, with when and how it was linked.
        "other_addresses": [{"email": a.email, "added_at": a.added_at.isoformat(), "how": a.how}
                            for a in aliases_of(session, member)],
        "acceptances": [{"conditions_version": a.conditions_version, "accepted_at": a.accepted_at.isoformat(),
                         "message_id": a.message_id, "line": a.line, "raw_sha256": a.raw_sha256}
                        for a in acceptances],
        "appeals_received": [{"ticket_id": s.ticket_id, "asked_at": s.asked_at.isoformat(), "status": s.status,
                              "answer": s.answer, "matched": s.reason} for s in asked],
        "suggestions": [{"received_at": s.received_at.isoformat(), "subject": s.subject, "text": s.text}
                        for s in session.scalars(select(Suggestion).where(Suggestion.member_id == member.id)
                                                 .order_by(Suggestion.id))],
        "tickets": [
            {"ref": t.ref, "status": t.status, "subject": t.subject, "created_at": t.created_at.isoformat(),
             "messages": [{"direction": m.direction, "sender": m.sender, "subject": m.subject, "text": m.text,
                           "at": m.at.isoformat()} for m in t.messages]}
            for t in tickets
        ],
    }


def export_address(session: Session, email: str) -> dict[str, Any]:
    """Everything mailbot holds about an address (RGPD right of access), member or not: a member's export
    (export_member), or for anyone else (a registration never confirmed, an invitation sent, a former member
    erased later under another address) the registrations asked, and the mails received from and sent to it."""
    address = unicode_domain(email.strip().lower())
    member = member_of_address(session, address)  # an alias's export is the member's, all addresses together
    held = export_member(session, address) if member is not None else {"email": address, "status": "non-membre"}
    every = addresses_of(session, member) if member is not None else [address]
    asked = session.scalars(select(PendingChange).where(PendingChange.email.in_(every))
                            .order_by(PendingChange.id)).all()
    return held | {
        "confirmations_asked": [{"kind": p.kind, "status": p.status, "asked_at": p.asked_at.isoformat(),
                                 "values": (json.loads(p.values).get("values") or {}) if p.values else {}}
                                for p in asked],
        "held_requests": [{"at": h.received_at.isoformat(), "from": h.email, "subject": h.subject, "text": h.text}
                          for h in session.scalars(select(HeldRequest).where(HeldRequest.email.in_(every))
                                                   .order_by(HeldRequest.id))],
        "mails_received": [{"at": m.received_at.isoformat(), "subject": m.subject} for m in session.scalars(
            select(InboundMail).where(InboundMail.from_address.in_(every)).order_by(InboundMail.id))],
        "mails_sent": [{"at": m.created_at.isoformat(), "subject": m.subject} for m in session.scalars(
            select(OutboxMail).where(OutboxMail.recipient.in_(every)).order_by(OutboxMail.id))],
    }


def erase_address(session: Session, email: str, *, now: datetime | None = None, also_purge: Iterable[str] = (),
                  names: Identity | None = None) -> None:
    """Erase what mailbot holds about an address that is no member's (RGPD art. 17): the registrations asked
    (and the names they gave, scrubbed wherever they appear), the raw mails it sent (deleted from the club
    mailbox by the daemon), the mails waiting for it. A member's address goes to erase_member."""
    address = unicode_domain(email.strip().lower())
    if member_of_address(session, address) is not None:  # a member's main address or another of theirs
        erase_member(session, address, now=now, also_purge=also_purge)
        return
    now = now or utcnow()
    given: dict[str, str] = {}
    for row in session.scalars(select(PendingChange).where(PendingChange.email == address)):
        given |= (json.loads(row.values).get("values") or {}) if row.values else {}
    identity = names or Identity(first_name=given.get("first_name", ""), last_name=given.get("last_name", ""),
                                 company=given.get("company", ""), email=address, phone=given.get("phone", ""),
                                 postal_address=given.get("postal_address", ""))

    def clean(text: str) -> str:
        return scrub(text, identity, ERASED) if text else text

    purge = dict.fromkeys([*session.scalars(select(InboundMail.message_id).where(InboundMail.from_address == address)),
                           *also_purge])
    _forget_outgoing(session, address)
    session.execute(delete(PendingChange).where(PendingChange.email == address))
    session.execute(delete(HeldRequest).where(HeldRequest.email == address))  # what it asked while unknown
    session.flush()
    named = _scrub_everywhere(session, clean, set())
    for message_id in dict.fromkeys([*purge, *named]):
        session.add(MailboxPurge(message_id=message_id, requested_at=now))
    for other in session.scalars(select(Member).where(Member.id.in_(_scrub_profiles(session, clean)))):
        index_member(session, other)
    session.add(Event(kind="address-erased", detail="données d'un non-membre effacées", at=now))
    session.flush()
    session.expire_all()


def erase_member(session: Session, email: str, *, now: datetime | None = None,
                 also_purge: Iterable[str] = ()) -> Member:
    """Remove a member's personal data (RGPD art. 17); their tickets keep their history with the person removed.

    Every text column of every table (and every stored mail of the outbox, part by part) is scrubbed of their name,
    address, phone, company and street in every form mailbot.privacy recognises, whoever's ticket, appeal, event or
    contact card it is: no prefilter on the plain spelling, which would miss "D.u.p.o.n.t" or "06.12.34.56.78".
    Mails still waiting to go to them are cancelled; the raw copies of the mails they sent, and of the mails that
    named them, are deleted from the club mailbox by the daemon (MailboxPurge). The caller commits, then calls
    db.truncate_wal so that SQLite's WAL keeps no old copy (the database runs with secure_delete).
    """
    member = _get(session, email)
    now = now or utcnow()
    address = member.email or ""
    identity = Identity(first_name=member.first_name, last_name=member.last_name, company=member.company,
                        email=address, phone=member.phone, postal_address=member.postal_address)
    # Their other addresses (issue 13) go too: unlinked, and scrubbed wherever they appear, like the main one.
    others = forget_aliases(session, member)
    every = [address, *others]

    def clean(text: str) -> str:
        if not text:
            return text
        text = scrub(text, identity, ERASED)
        for other in others:
            text = scrub(text, Identity(email=other), ERASED)
        return text

    # The raw mails they sent sit in the club mailbox's folders: the daemon deletes them (MailboxPurge).
    purge = dict.fromkeys([*session.scalars(select(InboundMail.message_id).where(InboundMail.from_address.in_(every))),
                           *also_purge])
    own_tickets = set(session.scalars(select(Ticket.id).where(Ticket.member_id == member.id)))
    for each in every:
        _forget_outgoing(session, each)
    session.execute(delete(MemberTerm).where(MemberTerm.member_id == member.id))
    # Their suggestions are their own words, kept for nothing else (issue 17): they go with them.
    session.execute(delete(Suggestion).where(Suggestion.member_id == member.id))
    # Changes asked for them and never (or already) confirmed: the asked values and the address go too.
    session.execute(delete(PendingChange).where(or_(PendingChange.member_id == member.id,
                                                    PendingChange.email.in_([a.lower() for a in every]))))
    session.execute(delete(HeldRequest).where(HeldRequest.email.in_([a.lower() for a in every])))
    for attr in ("first_name", "last_name", "company", "phone", "skills", "hobbies", "particulars", "activity",
                 "postal_address"):
        setattr(member, attr, "")
    member.email = None
    member.civility = None  # personal too: nothing of the person stays
    member.status = "erased"
    member.accepts_appeals = False
    member.accepts_announcements, member.image_rights = False, None  # issue 17: nothing of their choices stays
    member.pending_action, member.pending_since = "", None
    session.flush()
    named = _scrub_everywhere(session, clean, own_tickets)
    for message_id in dict.fromkeys([*purge, *named]):
        session.add(MailboxPurge(message_id=message_id, requested_at=now))
    for other in session.scalars(select(Member).where(Member.id.in_(_scrub_profiles(session, clean)))):
        index_member(session, other)
    session.add(Event(kind="member-erased", detail=f"membre n° {member.id} effacé", at=now))
    session.flush()
    session.expire_all()  # the rows were changed by Core statements: reload them on next use
    return member


ERASED = "[membre effacé]"
# Columns that hold a code, never a person's words (a last name "Petit" must not touch a status).
_CODES = {"status", "kind", "role", "direction", "visibility", "promise", "cause", "result", "field", "term",
          "pending_action", "outcome", "folder", "ref", "conditions_version", "raw_sha256", "content_sha256",
          "asked_sha256", "answer_sha256", "skills_targeted"}
# Tables handled apart: the member row itself (blanked above), their index (deleted), other members' profiles
# (_scrub_profiles: their own name is theirs), the purge queue (the daemon needs the Message-IDs), counters, the
# club's documents (issue 17: nobody's words, and megabytes a row).
_APART = {"members", "member_terms", "member_addresses", "mailbox_purges", "ref_counters", "mailbox_checkpoints",
          "alembic_version", "documents"}
# Identifiers: rewritten whole into a digest when they name the person, so that they stay unique.
_IDENTIFIERS = {"message_id", "asked_message_id", "answer_message_id", "idempotency_key"}
# Addresses the outbox sends to: another member's address is never altered (a pending mail must still go).
_ROUTING = {("outbox", "recipient"), ("outbox", "sender"), ("outbox", "about")}


def _scrub_everywhere(session: Session, clean: Callable[[str], str], own_tickets: set[int]) -> list[str]:
    """Scrub every text column of every table (and the outbox's stored mails). Returns the Message-IDs of the
    inbound mails whose stored text named the person: their raw copies in the mailbox name them too."""
    named: list[str] = []
    for table in Base.metadata.sorted_tables:
        if table.name in _APART:
            continue
        keys = list(table.primary_key.columns)
        texts = [column for column in table.columns if isinstance(column.type, (String, Text))
                 and column.name not in _CODES and (table.name, column.name) not in _ROUTING and not column.primary_key]
        binaries = [column for column in table.columns if isinstance(column.type, LargeBinary)]
        if not texts and not binaries:
            continue
        for row in _in_batches(session, table):
            values = row._mapping
            changes: dict[str, object] = {}
            for column in texts:
                value = values[column]
                if not value:
                    continue
                cleaned = clean(value)
                if cleaned != value:
                    changes[column.name] = (erased_identifier(value) if column.name in _IDENTIFIERS else cleaned)
            for column in binaries:
                value = values[column]
                if value and table.name == "outbox":
                    ticket = values.get(table.c.ticket_id) if "ticket_id" in table.c else None
                    cleaned_body = scrub_mime(bytes(value), clean, drop_attachments=ticket in own_tickets)
                    if cleaned_body != bytes(value):
                        changes[column.name] = cleaned_body
            if not changes:
                continue
            if (table.name == "inbound_mails" or (table.name == "messages" and values[table.c.direction] == "in")) \
                    and values[table.c.message_id]:
                    named.append(values[table.c.message_id])
            session.execute(update(table).where(*[key == values[key] for key in keys]).values(**changes))
    return named


def _in_batches(session: Session, table: Any) -> Iterator[Any]:
    """Every row of a table, a few hundred at a time by primary key (the outbox holds whole mails: never all of
    them in memory at once); rows are updated between batches."""
    [key] = list(table.primary_key.columns)
    last = None
    while True:
        query = select(table).order_by(key).limit(ERASE_BATCH)
        rows = session.execute(query if last is None else query.where(key > last)).all()
        yield from rows
        if len(rows) < ERASE_BATCH:
            return
        last = rows[-1]._mapping[key]


ERASE_BATCH = 500


def _scrub_profiles(session: Session, clean: Callable[[str], str]) -> list[int]:
    """Other members' free texts may name the person ("associé de Jean Dupont"); their own identity is theirs."""
    changed = []
    for other in session.scalars(select(Member).where(Member.status != "erased")):
        for attr in ("skills", "hobbies", "particulars", "activity"):
            value = getattr(other, attr)
            if value and clean(value) != value:
                setattr(other, attr, clean(value))
                changed.append(other.id)
    session.flush()
    return changed


def erased_identifier(value: str) -> str:
    """What an identifier naming an erased person becomes: a digest of it, unique as it was. For a Message-ID it
    is also what pipeline._record_key looks for, so that a late second delivery of an erased person's mail is
    still recognised as handled (and does not bring her address back) — the same function on both sides."""
    return f"efface-{hashlib.sha256(value.encode('utf-8', 'surrogatepass')).hexdigest()[:32]}@mailbot.invalid"


def scrub_mime(body: bytes, clean: Callable[[str], str], *, drop_attachments: bool = False) -> bytes:
    """A stored mail with the person removed from its subject and every text part (the HTML one too, entities and
    tags seen through), and every attachment that names them (or all, `drop_attachments`) replaced by a note.
    Unchanged bytes when there is nothing to remove; an unreadable mail is blanked rather than kept."""
    try:
        message = email.message_from_bytes(body, policy=email.policy.default)
        changed = False
        for name in ("Subject", "To", "Cc", "From", "Reply-To"):
            value = message.get(name)
            if value is not None and clean(str(value)) != str(value):
                message.replace_header(name, clean(str(value)) if name == "Subject" else ERASED_ADDRESS)
                changed = True
        for part in list(message.walk()):
            if part.is_multipart():
                continue
            if part.get_content_maintype() == "text" and not part.get_filename():
                content = part.get_content()
                cleaned = _clean_html(content, clean) if part.get_content_subtype() == "html" else clean(content)
                if cleaned != content:
                    part.set_content(cleaned, subtype=part.get_content_subtype(), charset="utf-8",
                                     cte="quoted-printable")
                    changed = True
                continue
            payload = part.get_payload(decode=True)
            if not isinstance(payload, bytes):  # a container part: nothing of its own to read
                payload = b""
            readable = payload.decode("utf-8", "replace") + " " + str(part.get_filename() or "")
            if drop_attachments or clean(readable) != readable:
                part.set_content(ATTACHMENT_REMOVED, charset="utf-8", cte="quoted-printable",
                                 disposition="attachment", filename="piece-jointe-supprimee.txt")
                changed = True
        if not changed:
            return body
        return message.as_bytes(policy=email.policy.SMTPUTF8.clone(linesep="\r\n"))
    except Exception:  # noqa: BLE001 - a stored mail we cannot rewrite is not kept with the person in it
        return b""


ERASED_ADDRESS = "membre-efface@invalid"
ATTACHMENT_REMOVED = "[pièce jointe supprimée : elle contenait les données d'un membre effacé]\n"


def _clean_html(content: str, clean: Callable[[str], str]) -> str:
    cleaned = clean(content)
    visible = html.unescape(re.sub(r"<[^>]*>", " ", cleaned))
    if clean(visible) == visible:
        return cleaned
    # A name split by tags or written with entities: the HTML is rebuilt from its visible text, escaped.
    return f"<html><body><pre>{html.escape(clean(visible))}</pre></body></html>"


def _forget_outgoing(session: Session, address: str) -> None:
    """Mails waiting for the member are cancelled; mails to them or about them already sent or failed lose their
    stored copy, and those still pending are blanked as soon as they are sent."""
    if not address:
        return
    for row in session.scalars(select(OutboxMail).where(
            (OutboxMail.recipient == address) | (OutboxMail.about == address))):
        if row.recipient == address and row.status in ("pending", "sending"):
            row.status, row.last_error = "failed", "annulé : données du membre effacées"
        if row.status in ("pending", "sending"):
            row.scrub_after_send = True
        else:
            row.body, row.subject = b"", ""
        if row.recipient == address:
            row.recipient = ERASED_ADDRESS
        if row.about == address:
            row.about = ""


def list_members(session: Session) -> Iterable[Member]:
    return session.scalars(select(Member).where(Member.status != "erased").order_by(Member.last_name, Member.email))


def _get(session: Session, email: str) -> Member:
    member = member_of_address(session, email)  # the main address or another of the member's
    if member is None:
        raise MemberError(f"aucun membre avec l'adresse {email}")
    return member
