"""The club's documentation by mail (issue 17, point 3): documents in sections ("rubriques"), sent to members.

The operator adds documents with `mailbot docs add FILE --rubrique R --titre T [--mots-cles K]`, Aideur by mailing
the file to his command address with `#document` (`rubrique: …`, `titre: …`, optional `mots-clés: …`). The bytes
are kept in the database (one place, saved by `mailbot backup`), at most MAILBOT_DOC_MAX_BYTES each.

A member writes "documentation" (the subject, or alone on the first line of a fresh mail or of a reply to a
documentation mail): they get the sections and titles, numbered. "doc 4", "doc 2 et 5", "documentation facture"
gets the matching documents attached; words are matched on the title, section and keywords, accents, case and
plurals aside (mailbot.matching.terms_of). What would make the mail larger than MAILBOT_DOC_MAX_BYTES is not
attached: the member is told which, and Aideur too (he can send it another way).

Only active members get documents, and always at the address on record: a forged From: can only make the club
send a document to the real member's own mailbox. Anyone else gets a short refusal with the way to join, which
lists nothing and repeats nothing they wrote.
"""
from __future__ import annotations

import hashlib
import mimetypes
import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailbot.matching import terms_of
from mailbot.models import Document, Member
from mailbot.parsers import InboundMail
from mailbot.parsers.rules import fold
from mailbot.parsers.subjects import strip_subject_prefixes
from mailbot.tokens import ROLE_MEMBER, SCOPE_DOCS, Token
from mailbot.workflows.aideur import notify_aideurs
from mailbot.workflows.base import Outgoing, WorkflowContext
from mailbot.workflows.tickets import human_size

__all__ = ["DOCS_PER_MAIL", "DocRequest", "DocumentError", "add_document", "asked_for", "documentation_mail",
           "matching", "remove_document", "sections"]

DOCS_PER_MAIL = 5  # more matches are listed with their numbers, not all attached
# "documentation", "la documentation", "documentation : facture", "docs", "doc 4", "doc n° 4", "doc 2 et 5",
# "doc facture". The word must open the subject or the first line, which holds at most a few words and no question:
# "Documentation de mon logiciel introuvable, qui peut m'aider ?" is a request for the network, not this.
_ASKED = re.compile(r"^\s*(?:(?:la|les|voir\s+la|envoyez(?:-moi)?\s+la|recevoir\s+la)\s+)?"
                    r"(?:documentations?|(?P<short>docs?))(?:\s+du\s+club(?:\s+aide)?)?\b"
                    r"(?:\s*[:,-]\s*|\s+|$)(?P<rest>[^\n]{0,80}?)\s*[.!]*\s*$")
_NUMBERS = re.compile(r"^(?:(?:n\s*[°o]\.?|no\.?|numeros?|#)\s*)?\d{1,6}(?:\s*(?:,|;|et|&|/|\s)\s*"
                      r"(?:(?:n\s*[°o]\.?|no\.?|#)\s*)?\d{1,6})*$")
_MAX_WORDS = 8
# Words that ask without naming anything: "documentation svp", "documentation merci".
_FILLERS = {"svp", "stp", "merci", "please", "bonjour", "s'il", "vous", "plait", "plaît", "complete", "complète",
            "entiere", "entière", "du", "club"}


@dataclass(frozen=True)
class DocRequest:
    """What a member asked: the list (no numbers, no words), documents by number, or by words."""

    numbers: tuple[int, ...] = ()
    words: str = ""
    short: bool = False  # "doc …" rather than "documentation …": words after it may be anything ("Doc urgente")

    @property
    def is_list(self) -> bool:
        return not self.numbers and not self.words


class DocumentError(ValueError):
    """Why a document cannot be added (French, for the operator or Aideur)."""


def asked_for(subject: str, text: str) -> DocRequest | None:
    """What the mail asks of the documentation, or None when it does not ask for it."""
    for line in (strip_subject_prefixes(subject or ""), _first_line(text)):
        if not line or len(line.split()) > _MAX_WORDS or "?" in line:
            continue
        match = _ASKED.match(fold(line))
        if match is None:
            continue
        rest = fold(line[match.start("rest"):match.end("rest")]).strip(" :,-")
        if _NUMBERS.match(rest):
            return DocRequest(numbers=tuple(dict.fromkeys(int(n) for n in re.findall(r"\d+", rest))))
        words = " ".join(w for w in rest.split() if w.strip(".,;!") not in _FILLERS)
        return DocRequest(words=words, short=bool(match.group("short")))
    return None


def _first_line(text: str) -> str:
    for line in (text or "").splitlines():
        if line.strip():
            return line.strip()
    return ""


# --- the catalogue -------------------------------------------------------------------------------------------------
def sections(session: Session) -> list[dict[str, object]]:
    """The sections in alphabetical order, each with its documents (number, title, size), for the mails."""
    grouped: dict[str, list[dict[str, object]]] = {}
    for doc in session.execute(select(Document.id, Document.rubrique, Document.titre, Document.size)
                               .order_by(Document.rubrique, Document.id)):
        grouped.setdefault(doc.rubrique, []).append({"number": doc.id, "title": doc.titre,
                                                     "size": human_size(doc.size)})
    return [{"name": name, "documents": docs} for name, docs in sorted(grouped.items(), key=lambda i: fold(i[0]))]


def _terms(text: str) -> set[str]:
    return {term for term, _ in terms_of(text)}


def matching(session: Session, words: str) -> list[Document]:
    """The documents whose title, section or keywords hold every word asked (each in any of its forms)."""
    asked: dict[str, set[str]] = {}
    for term, word in terms_of(words):
        asked.setdefault(word, set()).add(term)
    if not asked:
        return []
    found = []
    for doc in session.scalars(select(Document).order_by(Document.rubrique, Document.id)):
        have = _terms(f"{doc.titre} {doc.rubrique} {doc.mots_cles.replace(',', ' ')}")
        if all(terms & have for terms in asked.values()):
            found.append(doc)
    return found


def add_document(session: Session, *, data: bytes, filename: str, rubrique: str, titre: str, mots_cles: str,
                 content_type: str, added_by: str, now: object, max_bytes: int) -> Document:
    """Store one document (checked: a section, a title, not empty, within the size limit); returns it, flushed."""
    rubrique, titre = " ".join(rubrique.split()), " ".join(titre.split())
    mots_cles = ", ".join(w.strip() for w in re.split(r"[,;]", mots_cles or "") if w.strip())
    if not rubrique:
        raise DocumentError("la rubrique manque (par exemple « rubrique: Comptabilité »).")
    if not titre:
        raise DocumentError("le titre manque (par exemple « titre: Guide de la facture électronique »).")
    if not data:
        raise DocumentError(f"le fichier « {filename} » est vide.")
    if len(data) > max_bytes:
        raise DocumentError(f"le fichier « {filename} » fait {human_size(len(data))}, au-delà de la limite de "
                            f"{human_size(max_bytes)} (MAILBOT_DOC_MAX_BYTES) : un membre ne pourrait pas le "
                            "recevoir par mail. Réduisez-le (PDF compressé) ou partagez-le par un lien.")
    if not content_type or content_type == "application/octet-stream":
        content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    doc = Document(rubrique=rubrique[:200], titre=titre[:300], mots_cles=mots_cles, filename=filename[:255] or
                   "document", content_type=content_type[:255], size=len(data),
                   sha256=hashlib.sha256(data).hexdigest(), data=data, added_at=now, added_by=added_by[:320])
    session.add(doc)
    session.flush()
    return doc


def remove_document(session: Session, number: int) -> Document | None:
    """Delete document `number`; returns what it was (None when there is none)."""
    doc = session.get(Document, number)
    if doc is not None:
        session.delete(doc)
        session.flush()
    return doc


# --- a member's mail -----------------------------------------------------------------------------------------------
def documentation_mail(ctx: WorkflowContext, mail: InboundMail, member: Member | None) -> None:
    """Answer "documentation", "doc N", "documentation MOT": to an active member's address on record, else a refusal.

    Reads the documents; writes nothing but the answer (and Aideur's notice when a document was too large)."""
    request = asked_for("", mail.new_text or mail.text) or asked_for(mail.subject, "") or DocRequest()
    if member is None or member.status != "active" or not member.email:
        # Nothing of what they wrote comes back; a former member is answered at the address on record. The reply
        # address is the newcomer's own (an answer "inscription" brings the invitation).
        address = member.email if member is not None and member.email else mail.from_address
        ctx.send(Outgoing(template="doc_refus", to=address,
                          context={"club_name": ctx.settings.club_name, "former": member is not None},
                          idempotency_key=f"doc_refus:{mail.message_id}",
                          token=ctx.signer.address_token(address), in_reply_to=f"<{mail.message_id}>"))
        return
    base: dict[str, object] = {"club_name": ctx.settings.club_name, "first_name": member.first_name,
                               "sections": sections(ctx.session),
            "max_size": human_size(ctx.settings.doc_max_bytes)}
    if request.is_list:
        _answer(ctx, mail, member, "doc_liste", base)
        return
    if request.numbers:
        docs = [doc for n in request.numbers if (doc := ctx.session.get(Document, n)) is not None]
        unknown = [n for n in request.numbers if ctx.session.get(Document, n) is None]
    else:
        docs, unknown = matching(ctx.session, request.words), []
    if not docs:
        _answer(ctx, mail, member, "doc_introuvable", base | {"asked": _asked_label(request), "unknown": unknown})
        return
    attached, too_big, later = _fit(docs, ctx.settings.doc_max_bytes)
    files = tuple((doc.filename, doc.content_type, doc.data) for doc in attached)
    _answer(ctx, mail, member, "doc_envoi", base | {
        "asked": _asked_label(request), "attached": [_entry(d) for d in attached],
        "too_big": [_entry(d) for d in too_big], "later": [_entry(d) for d in later], "unknown": unknown,
    }, files=files)
    if too_big:
        notify_aideurs(ctx, None, "doc_trop_gros_aideur", {
            "club_name": ctx.settings.club_name, "member_name": member.display_name, "member_email": member.email,
            "documents": [_entry(d) for d in too_big], "max_size": human_size(ctx.settings.doc_max_bytes),
        }, key=f"doc_trop_gros:{mail.message_id}", about=member.email)


def _fit(docs: Iterable[Document], limit: int) -> tuple[list[Document], list[Document], list[Document]]:
    """Which documents go in this mail (in order, within `limit` together and DOCS_PER_MAIL), which exceed the
    limit on their own (never sent by mail: Aideur is told), and which wait for another mail (asked by number)."""
    attached: list[Document] = []
    too_big: list[Document] = []
    later: list[Document] = []
    total = 0
    for doc in docs:
        if doc.size > limit:
            too_big.append(doc)
        elif total + doc.size > limit or len(attached) >= DOCS_PER_MAIL:
            later.append(doc)
        else:
            attached.append(doc)
            total += doc.size
    if not attached and later:  # cannot happen (each fits alone), kept for safety
        attached.append(later.pop(0))
    return attached, too_big, later


def _entry(doc: Document) -> dict[str, object]:
    return {"number": doc.id, "title": doc.titre, "section": doc.rubrique, "filename": doc.filename,
            "size": human_size(doc.size)}


def _asked_label(request: DocRequest) -> str:
    if request.numbers:
        return ", ".join(f"n° {n}" for n in request.numbers)
    return request.words


def _answer(ctx: WorkflowContext, mail: InboundMail, member: Member, template: str, context: dict[str, object],
            files: tuple[tuple[str, str, bytes], ...] = ()) -> None:
    assert member.email is not None
    ctx.send(Outgoing(template=template, to=member.email, context=context,
                      idempotency_key=f"{template}:{mail.message_id}",
                      # A reply ("doc 4") comes back bound to this member (router: SCOPE_DOCS).
                      token=Token(SCOPE_DOCS, member.id, ROLE_MEMBER), in_reply_to=f"<{mail.message_id}>",
                      files=files))


# --- Aideur's #document ---------------------------------------------------------------------------------------------
def document_command_mail(ctx: WorkflowContext, mail: InboundMail, raw: bytes, fields: dict[str, str],
                          line: str) -> str:
    """Store the one file attached to Aideur's `#document` mail; returns the problem (French) or "".

    Aideur gets the document's number (doc_ajoute); a problem is answered by the caller with the error reply."""
    from mailbot.parsers.mime import iter_attachment_payloads

    # The files attached; only when there are none, the inline ones with a name (Apple Mail shows an attached image
    # inline): a signature's logo beside the document is not a second document.
    files = [a for a in mail.attachments if a.disposition == "attachment"] or \
        [a for a in mail.attachments if a.filename]
    if not files:
        return ("aucun fichier joint : joignez le document (un seul) au mail qui porte la commande #document.")
    if len(files) > 1:
        names = ", ".join(f"« {a.filename} »" for a in files[:5])
        return (f"{len(files)} fichiers joints ({names}) : un seul document par mail, pour que chacun ait sa "
                "rubrique et son titre. Renvoyez-les un par un.")
    wanted = files[0]
    data = next((payload for att, payload in iter_attachment_payloads(raw) if att.part_index == wanted.part_index),
                None)
    if data is None:
        return "le fichier joint n'a pas pu être lu : renvoyez-le."
    try:
        doc = add_document(ctx.session, data=data, filename=wanted.filename, rubrique=fields.get("rubrique", ""),
                           titre=fields.get("titre", ""), mots_cles=fields.get("mots-cles", ""),
                           content_type=wanted.content_type, added_by=mail.from_address, now=ctx.now,
                           max_bytes=ctx.settings.doc_max_bytes)
    except DocumentError as refused:
        return str(refused)
    notify_aideurs(ctx, None, "doc_ajoute", {
        "club_name": ctx.settings.club_name, "document": _entry(doc), "keywords": doc.mots_cles,
    }, key=f"doc_ajoute:{mail.message_id}", only=mail.from_address)
    return ""
