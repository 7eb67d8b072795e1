"""parse_mail: raw RFC 5322 bytes → InboundMail. Never raises anything but ParseError."""
from __future__ import annotations

import dataclasses
import hashlib
import re
from dataclasses import dataclass
from email.message import Message
from typing import Any

from . import kind as kind_mod
from . import mime
from .digest import content_digest
from .errors import ParseError
from .forwards import attached_forwards, inline_forwards
from .headers import Sender, addresses, decode_header, message_ids, parse_date, sender
from .mime import _HEADER_LINE, _KNOWN_HEADERS, repair_start  # repair_start was public here
from .model import InboundMail, MailKind
from .quotes import split_reply
from .rules import nfc

# "Re:", "RE :", "Réf :", "AW:", "Antw:", "SV:", "R:"… at the start of a subject: the mail answers another one.
_REPLY_SUBJECT = re.compile(r"^\s*(?:\[[^\]]{0,40}\]\s*)*(?:re|ré|réf|ref|rép|rep|aw|antw|sv|vs|odp|res|r)\s*"
                            r"(?:\[\d+\])?\s*[:：]", re.IGNORECASE)
RAW_TEXT_LIMIT = 256 * 1024
# RFC 5322 lines end at 998 characters, and the database keeps Message-IDs and subjects in columns of that size: a
# longer Message-ID (a 100 KB "Message-ID:" line) is replaced by a digest of it, the same for every copy of the
# mail; a longer subject is cut.
MAX_MESSAGE_ID = 998
MAX_SUBJECT = 998
MAX_ADDRESS = 254  # the longest address an SMTP path can carry (RFC 5321: 256 octets with the angle brackets)


def invented_message_id(raw: bytes, msg: Message) -> str:
    """The Message-ID a mail without one is known by: "<sha256>@mailbot.invalid" (retention.py recognises that
    form: no IMAP search can find such a mail by its Message-ID).

    Made of what the mail says only — its content digest (digest.content_digest: the author's headers and every
    part, without what a delivery adds or a relay may change) and its Date — so every delivery of one mail gets the
    same identifier and is recognised as a duplicate. (The SHA-256 of the raw bytes it once was changed with every
    Received header.) The Date keeps apart two mails of the same text written at other times ("Merci !" twice):
    a relay that adds a missing Date adds a Message-ID too, so it never makes two copies of one mail differ here."""
    date = " ".join(str(msg.get("Date") or "").split())
    said = f"{content_digest(raw, msg)}\n{date}".encode("utf-8", "surrogatepass")
    return f"{hashlib.sha256(said).hexdigest()}@mailbot.invalid"


def _looks_like_mail(raw: bytes) -> bool:
    head = raw[:65536]
    if head.startswith(b"From "):  # mbox separator line
        head = head.split(b"\n", 1)[-1]
    first_line = head.lstrip(b"\r\n").split(b"\n", 1)[0]
    return bool(_HEADER_LINE.match(first_line)) and bool(_KNOWN_HEADERS.search(head))


def parse_mail(raw: bytes, *, loaded: Message | None = None) -> InboundMail:
    """Parse one mail. Broken MIME gives the best text possible with its defects listed.

    `loaded` is `raw` already parsed by mime.load (the pipeline parses each mail once for all its readers); it is
    used only when `raw` needs no repair."""
    if not isinstance(raw, (bytes, bytearray, memoryview)):
        raise ParseError("parse_mail expects bytes")
    raw = bytes(raw)
    raw, repairs = repair_start(raw)
    if not raw or raw.isspace() or not _looks_like_mail(raw):
        raise ParseError("no mail headers found")
    try:
        return _parse(raw, repairs, None if repairs else loaded)
    except ParseError:
        raise
    except Exception as exc:  # last line of defence: the daemon quarantines on ParseError
        raise ParseError(f"unparseable mail: {type(exc).__name__}: {exc}") from exc


def _parse(raw: bytes, repairs: list[str], loaded: Message | None = None) -> InboundMail:
    msg = loaded if loaded is not None else mime.load(raw)
    fields = header_fields(msg)
    author = fields.author
    text = mime.body_text(msg)
    atts = mime.attachments(msg)
    if not author.address and not text.strip() and not atts:
        payload = msg.get_payload()
        if not payload or isinstance(payload, str) and not payload.strip():
            raise ParseError("mail has neither a sender nor a body")
        if mime.content_type(msg).startswith("message/"):
            # A bare report (message/delivery-status at top level): its fields are the only readable text.
            text = "\n\n".join(str(p).strip() for p in payload) if isinstance(payload, list) else str(payload)
    # Report fields sit near the top; a 10 MB attachment below them need not be copied into a str.
    raw_text = raw[:RAW_TEXT_LIMIT].decode("utf-8", "replace")
    result = kind_mod.detect(msg, text, raw_text)
    subject, ids, refs, in_reply_to = fields.subject, fields.message_ids, fields.references, fields.in_reply_to
    # A forwarded message is content (the member asks about it), not history; bounces and robots forward nothing.
    fresh = not in_reply_to and not refs and not _REPLY_SUBJECT.match(subject)
    new_text, signature = split_reply(text, fresh=fresh)
    forwarded = ((inline_forwards(text, subject, fresh=fresh) + attached_forwards(msg))
                 if result.kind is MailKind.NORMAL else ())
    message_id = ids[0] if ids else invented_message_id(raw, msg)

    return _storable(InboundMail(
        message_id=message_id,
        subject=subject,
        from_address=author.address,
        from_name=author.name,
        sender_problem=author.problem,
        to=fields.to,
        cc=fields.cc,
        reply_to=_address_list(msg, "Reply-To"),
        delivered_to=fields.delivered_to,
        in_reply_to=in_reply_to,
        references=refs,
        date=parse_date(msg.get("Date")),
        text=text,
        new_text=new_text,
        signature=signature,
        attachments=atts,
        kind=result.kind,
        kind_reason=result.reason,
        bounced_recipients=tuple(a.lower() for a in result.bounced),
        auto_submitted=decode_header(msg.get("Auto-Submitted")).lower(),
        defects=tuple(repairs) + mime.defects(msg),
        forwarded=forwarded,
    ))


# The delivery headers: where a plus address (a reply token) survives when To shows the club's plain address.
DELIVERY_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To")


@dataclass(frozen=True)
class HeaderFields:
    """What routing reads of a mail's header fields, read one way for every reader: the parser (parse_mail) and
    the order across daemons (coordination.mail_keys, from the header fields alone), so that neither can see a
    sender, a Message-ID, a subject or a delivery address the other does not."""
    subject: str  # decoded (RFC 2047, tolerant), whitespace collapsed
    message_ids: tuple[str, ...]
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    author: Sender
    to: tuple[str, ...]
    cc: tuple[str, ...]
    delivered_to: tuple[str, ...]


def header_fields(msg: Message) -> HeaderFields:
    return HeaderFields(
        subject=nfc(decode_header(msg.get("Subject"))),  # composed, as the body (mime.body_text)
        message_ids=message_ids(msg.get("Message-ID")),
        in_reply_to=message_ids(msg.get("In-Reply-To")),
        references=message_ids(" ".join(str(v) for v in (msg.get_all("References") or [])) or None),
        author=sender(msg),
        to=_address_list(msg, "To"),
        cc=_address_list(msg, "Cc"),
        delivered_to=_address_list(msg, *DELIVERY_HEADERS))


def _address_list(msg: Message, *names: str) -> tuple[str, ...]:
    values = [v for name in names for v in (msg.get_all(name) or [])]
    seen: dict[str, None] = {}
    for _, addr in addresses(values):
        seen.setdefault(addr, None)
    return tuple(seen)


def _clean(text: str) -> str:
    """Text any database stores: no NUL (PostgreSQL refuses it in text columns), no lone surrogate (not UTF-8)."""
    text = text.replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


def bounded_id(value: str) -> str:
    """A Message-ID as stored and compared (inbound_mails, the router's thread rules): cleaned, and one longer than
    MAX_MESSAGE_ID replaced by its SHA-256."""
    value = _clean(value)
    if len(value) <= MAX_MESSAGE_ID:
        return value
    return f"{hashlib.sha256(value.encode('utf-8')).hexdigest()}@long-id.mailbot.invalid"


def _storable(mail: InboundMail) -> InboundMail:
    """Every text of the parsed mail, fit for storage; Message-IDs and the subject bounded (see MAX_MESSAGE_ID)."""
    changes: dict[str, Any] = {}  # values of the fields' own types
    for item in dataclasses.fields(mail):
        value = getattr(mail, item.name)
        if item.name in ("message_id", "in_reply_to", "references"):
            new = bounded_id(value) if isinstance(value, str) else tuple(bounded_id(v) for v in value)
        elif item.name == "subject":
            new = _clean(value)[:MAX_SUBJECT]
        elif isinstance(value, str):
            new = _clean(value)
        elif item.name == "forwarded":
            new = tuple(dataclasses.replace(f, sender=_clean(f.sender), date=_clean(f.date), subject=_clean(f.subject),
                                            text=_clean(f.text)) for f in value)
        elif item.name == "attachments":
            new = tuple(dataclasses.replace(a, filename=_clean(a.filename), content_type=_clean(a.content_type))
                        for a in value)
        elif isinstance(value, tuple) and all(isinstance(v, str) for v in value):
            new = tuple(_clean(v) for v in value)
        else:
            continue
        if new != value:
            changes[item.name] = new
    return dataclasses.replace(mail, **changes) if changes else mail
