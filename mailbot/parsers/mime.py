"""MIME structure: choosing the readable body and listing attachments (payloads are not kept)."""
from __future__ import annotations

import base64
import binascii
import mimetypes
import re
import secrets
import unicodedata
from collections.abc import Iterator
from collections.abc import Set as AbstractSet
from email import message_from_bytes
from email.message import Message
from email.policy import compat32

from .charsets import decode_bytes, surrogates_to_text
from .headers import decode_header
from .html import html_to_text
from .model import Attachment
from .rules import nfc
from .text import normalise_newlines, strip_pgp_armor, tidy, unflow

# A header line: a field name, a colon. Used to refuse input that is not a mail at all.
_HEADER_LINE = re.compile(rb"^[!-9;-~]{1,76}[ \t]*:", re.MULTILINE)
_KNOWN_HEADERS = re.compile(
    rb"^(?:from|to|subject|date|message-id|received|return-path|mime-version|content-type|delivered-to|"
    rb"x-[\w-]+|cc|reply-to|sender)[ \t]*:",
    re.IGNORECASE | re.MULTILINE,
)


# Parts of a multipart/report after the human-readable one are machine data, not attachments.
_REPORT_DATA = {"message/delivery-status", "message/disposition-notification", "message/feedback-report",
                "text/rfc822-headers", "message/rfc822-headers", "message/global-delivery-status",
                "message/global-headers", "message/global"}


# The email package holds about 8 times a mail's size while parsing it. A big mail's long base64 runs
# (attachments) are replaced by a placeholder carrying their decoded size before parsing, so a 14 MB mail costs
# a few MB; the payloads are read again from the raw bytes only when they are forwarded.
SLIM_ABOVE = 2_000_000  # bytes of raw mail
SLIM_MIN_LINES = 8000  # a run of this many base64 lines (~600 KB) is an attachment, never a mail's text
_BASE64_LINE = re.compile(rb"^[A-Za-z0-9+/]{40,200}={0,2}\r?\n", re.MULTILINE)
# The last line of a base64 body is usually shorter (a line holds 57 bytes; the rest is on the last one), may
# carry the padding and may end the data without a line break.
_BASE64_LAST_LINE = re.compile(rb"(?:[A-Za-z0-9+/]{1,200}={0,2}|={1,2})[ \t]*(?:\r?\n|\Z)")
# What may follow a part's body: an empty (or blank) line, a boundary line, or the end of the data.
_PART_BODY_END = re.compile(rb"[ \t]*\r?\n|--|\Z")
# The placeholder names where the run was in the raw bytes and its decoded size:
# MAILBOTSLIM-<nonce>-<start>-<end>-<size>. The nonce is this process's own: a mail that spells out a placeholder
# (of any size, to have other bytes of itself forwarded, or an error raised) is read as the text it is.
_NONCE = secrets.token_hex(8)
_SLIM_MARK = re.compile(rf"MAILBOTSLIM-{_NONCE}-(\d+)-(\d+)-(\d+)")
_ANY_MARK = re.compile(rf"MAILBOTSLIM-{_NONCE}-(\d+)-")


def load(raw: bytes, *, slim: bool = True) -> Message:
    # compat32 is the most forgiving policy: it keeps going on every malformation and records defects.
    if not slim or len(raw) <= SLIM_ABOVE:
        return message_from_bytes(raw, policy=compat32)
    msg = message_from_bytes(slim_base64_runs(raw), policy=compat32)
    misplaced = _misplaced_placeholders(msg)
    if misplaced:  # read again with those runs left in place (correct first; memory as without the bound)
        msg = message_from_bytes(slim_base64_runs(raw, keep=misplaced), policy=compat32)
    return msg


def _misplaced_placeholders(msg: Message) -> set[int]:
    """Where the runs start whose placeholder some reader would take for the part's text: the readers that decode
    a placeholder from the raw bytes are the attachments' (size, forwarding) and the content digest. A run may stay
    set aside only as the whole payload of a base64 attachment leaf outside any attached message; anything else —
    text beside it, a 7bit or quoted-printable part, a text part, a part of an attached message (forwarded whole,
    as written) — is read as it was sent."""
    misplaced: set[int] = set()
    for _index, part, _parent, _position, inside in walk_with_parents(msg):
        payload = part.get_payload()
        if not isinstance(payload, str) or _ANY_MARK.search(payload) is None:
            continue
        whole = _SLIM_MARK.fullmatch(payload.strip()) is not None
        encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
        if not whole or encoding != "base64" or inside or content_type(part).split("/")[0] in ("text", "message"):
            misplaced.update(int(start) for start in _ANY_MARK.findall(payload))
    return misplaced


def _slim_mark(payload: object) -> re.Match[str] | None:
    """The placeholder a payload is (this process's, the whole payload), or None."""
    return _SLIM_MARK.fullmatch(payload.strip()) if isinstance(payload, str) else None


def _decode_span(raw: bytes, start: int, end: int) -> bytes:
    """A set-aside base64 run decoded from the raw bytes, as leniently as the email package (missing padding)."""
    data = raw[start:end]
    try:
        return base64.decodebytes(data)
    except binascii.Error:
        return base64.decodebytes(data.rstrip() + b"==")


def slim_span(payload: str) -> tuple[int, int] | None:
    """(start, end) in the raw bytes of the base64 run a placeholder payload stands for, or None."""
    match = _slim_mark(payload)
    return (int(match.group(1)), int(match.group(2))) if match else None


def slim_base64_runs(raw: bytes, keep: AbstractSet[int] = frozenset()) -> bytes:
    """Replace each long run of base64 lines by a placeholder naming its place in `raw` and its decoded size;
    the runs starting at an offset in `keep` stay as they are.

    Line by line with finditer (one small match at a time): a single regex for the whole run needs a
    backtracking stack as big as the attachment.
    """
    pieces: list[bytes] = []
    kept_until = run_start = run_end = 0
    lines = significant = 0
    for match in _BASE64_LINE.finditer(raw):
        if match.start() != run_end or not lines:
            if run_start not in keep:
                kept_until = _close_run(raw, pieces, kept_until, run_start, run_end, lines, significant)
            run_start, lines, significant = match.start(), 0, 0
        run_end = match.end()
        lines += 1
        significant += len(match.group(0).rstrip(b"\r\n"))
    if run_start not in keep:
        kept_until = _close_run(raw, pieces, kept_until, run_start, run_end, lines, significant)
    pieces.append(raw[kept_until:])
    return b"".join(pieces)


def _close_run(raw: bytes, pieces: list[bytes], kept_until: int, start: int, end: int, lines: int,
               significant: int) -> int:
    if lines < SLIM_MIN_LINES:
        return kept_until
    # The placeholder must stand for the whole body of its part, or the readers that decode it from `raw` (size,
    # forwarding, content digest) would miss what the parser kept beside it: the run starts right after the
    # part's empty line, takes the shorter last line with it, and is followed by nothing else of its part.
    last = _BASE64_LAST_LINE.match(raw, end)
    if last is not None:
        significant += len(last.group(0).rstrip())
        end = last.end()
    if not raw.endswith((b"\n\n", b"\n\r\n"), 0, start) or _PART_BODY_END.match(raw, end) is None:
        return kept_until
    tail = raw[max(start, end - 6):end].rstrip()
    size = significant * 3 // 4 - tail.endswith(b"==") - tail.endswith(b"=")
    pieces.append(raw[kept_until:start])
    pieces.append(b"MAILBOTSLIM-%s-%d-%d-%d\r\n" % (_NONCE.encode("ascii"), start, end, size))
    return end


def repair_start(raw: bytes) -> tuple[bytes, list[str]]:
    """Drop blank/whitespace-only lines and up to two stray non-header lines before the header block.

    Some exporters prepend such lines; left in place they make the parser see no headers at all.
    """
    repaired: list[str] = []
    lines = raw[:65536].split(b"\n", 4)  # the head only: never copy a big mail to look at its first lines
    skipped = 0
    for line in lines[:3]:
        if line.strip() == b"" and skipped == 0 and line != lines[-1]:
            skipped += 1
            continue
        break
    window = range(skipped, min(skipped + 3, len(lines) - 1))
    # The header begins at its first field, known or not: a first References or In-Reply-To (a mail appended
    # without the fields a delivery adds) is a field, never a stray line. Lines that are no field are dropped
    # only when a field the parser knows follows within the window (else the mail is left as it is).
    start = next((i for i in window if _HEADER_LINE.match(lines[i])), None)
    if start and (start == skipped or any(_KNOWN_HEADERS.match(lines[i]) for i in window if i >= start)):
        repaired.append("StrayLinesBeforeHeaders")
        return raw[sum(len(line) + 1 for line in lines[:start]):], repaired
    return raw, repaired


def header_at_start(data: bytes) -> bool:
    """Whether the parser finds a mail's header at the start of these bytes (after what repair_start drops). The
    IMAP server's header block of a mail that begins with a stray line then a blank one ends at that blank line:
    the parser reads its header further on (coordination then reads the mail's head instead)."""
    repaired, _ = repair_start(data)
    return _HEADER_LINE.match(repaired.split(b"\n", 1)[0]) is not None


def content_type(part: Message) -> str:
    try:
        ctype = part.get_content_type()
    except Exception:  # noqa: BLE001
        return "text/plain"
    return ctype.lower()


def _disposition(part: Message) -> str:
    value = part.get("Content-Disposition")
    if value is None:
        return ""
    return str(value).split(";", 1)[0].strip().lower()


def _param(part: Message, name: str, header: str = "content-type") -> str | None:
    try:
        value = part.get_param(name, header=header)
    except Exception:  # noqa: BLE001
        return None
    if isinstance(value, tuple):  # RFC 2231 (charset, language, text)
        try:
            from email.utils import collapse_rfc2231_value

            value = collapse_rfc2231_value(value)
        except Exception:  # noqa: BLE001
            value = value[2]
    return None if value is None else str(value)


def raw_filename(part: Message) -> str | None:
    """The attachment's name as the sender wrote it: Content-Disposition filename, else Content-Type name."""
    for header, param in (("content-disposition", "filename"), ("content-type", "name")):
        name = _name_param(part, header, param)
        if name:
            return name
    return None


def _name_param(part: Message, header: str, param: str) -> str | None:
    """One name parameter, read from the raw header so that RFC 6532 raw UTF-8 survives.

    compat32 hands a header with 8-bit bytes back as an "unknown-8bit" Header whose parameters come out as
    "\ufffd"; the raw value is recovered as text first (UTF-8, else cp1252) and parsed from a clean copy. RFC 2231
    values (filename*=utf-8''%C3%A9t%C3%A9.pdf, with continuations) are decoded with our charset fallback, so a
    wrong or missing charset label does not give "?" or mojibake.
    """
    raw = next((value for key, value in part.raw_items() if key.lower() == header), None)
    if raw is None:
        return None
    probe = Message()
    try:
        probe[header] = surrogates_to_text(raw)
        value = probe.get_param(param, header=header)
    except Exception:  # noqa: BLE001 - a broken parameter list is a missing name, not a failure
        return None
    if isinstance(value, tuple):  # RFC 2231: (charset, language, %-decoded text held as latin-1 code points)
        charset, _language, text = value
        try:
            return decode_bytes(text.encode("latin-1"), charset or None)
        except UnicodeEncodeError:
            return text  # raw UTF-8 inside an RFC 2231 value: already text
    return None if value is None else str(value)


def _attached_message(part: Message) -> bytes:
    """The whole message attached as a message/rfc822 part (compat32 holds it as a one-item list), or b""."""
    inner = part.get_payload()
    return inner[0].as_bytes() if isinstance(inner, list) and inner and isinstance(inner[0], Message) else b""


def payload_bytes(part: Message) -> bytes:
    """Decoded payload; a bad transfer encoding falls back to the raw bytes rather than failing."""
    try:
        data = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001
        data = None
    if isinstance(data, bytes):
        return data
    payload = part.get_payload()
    return payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else b""


def payload_size(part: Message) -> int:
    """Decoded size without decoding: a 10 MB base64 attachment is counted, not copied (memory bound)."""
    encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    payload = part.get_payload()
    mark = _slim_mark(payload)
    if mark:
        return int(mark.group(3))
    if encoding == "base64" and isinstance(payload, str):
        spaces = payload.count("\n") + payload.count("\r") + payload.count(" ") + payload.count("\t")
        significant = len(payload) - spaces
        padding = payload.rstrip().endswith("==") + payload.rstrip().endswith("=")
        return max(significant * 3 // 4 - padding, 0)
    return len(payload_bytes(part))


def part_text(part: Message) -> str:
    """Text of one text/* leaf, charset fallback and format=flowed applied, \n line endings."""
    data = payload_bytes(part)
    text = normalise_newlines(decode_bytes(data, _param(part, "charset")))
    ctype = content_type(part)
    if ctype == "text/html":
        return html_to_text(text)
    fmt = (_param(part, "format") or "").lower()
    if fmt == "flowed":
        text = unflow(text, delsp=(_param(part, "delsp") or "").lower() == "yes")
    return text


def is_attachment(part: Message, parent_type: str, position: int) -> bool:
    if part.is_multipart():
        return False
    ctype = content_type(part)
    if parent_type == "multipart/report" and position > 0 and (ctype in _REPORT_DATA or ctype.startswith("message/")
                                                              or ctype == "text/rfc822-headers"):
        return False
    if ctype in _REPORT_DATA:
        return False
    disposition = _disposition(part)
    if disposition == "attachment":
        return True
    if raw_filename(part):
        return True
    maintype = ctype.split("/", 1)[0]
    return maintype in ("image", "application", "audio", "video", "model", "font") or ctype == "message/rfc822"


def sanitise_filename(name: str | None, ctype: str, index: int) -> str:
    """No directories, control characters or newlines; a generated name when nothing usable is left."""
    text = decode_header(name, collapse=False) if name else ""
    text = unicodedata.normalize("NFC", text)
    # Control characters (newlines, tabs from folding) are dropped, not turned into spaces.
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    text = " ".join(text.split())
    text = re.split(r"[\\/]", text)[-1]
    text = text.strip(" .")
    if text in ("", ".", ".."):
        ext = mimetypes.guess_extension(ctype) or ".bin"
        return f"part-{index}{ext}"
    return text[:255]


def walk_with_parents(msg: Message) -> Iterator[tuple[int, Message, str, int, bool]]:
    """(walk index, part, parent content type, position in parent, inside an attached message)."""
    counter = 0

    def visit(part: Message, parent: str, pos: int, inside: bool) -> Iterator[tuple[int, Message, str, int, bool]]:
        nonlocal counter
        index = counter
        counter += 1
        yield index, part, parent, pos, inside
        if part.is_multipart():
            ctype = content_type(part)
            children = part.get_payload()
            if not isinstance(children, list):
                return
            nested = inside or ctype == "message/rfc822"
            for i, child in enumerate(children):
                if isinstance(child, Message):
                    yield from visit(child, ctype, i, nested)

    yield from visit(msg, "", 0, False)


def attachments_with_parts(msg: Message) -> Iterator[tuple[Attachment, Message]]:
    attached_messages: set[int] = set()
    for index, part, parent, pos, _inside in walk_with_parents(msg):
        ctype = content_type(part)
        if ctype == "message/rfc822" and part.is_multipart() and not (parent == "multipart/report" and pos > 0):
            # compat32 presents message/rfc822 as a container; the whole message is the attachment.
            attached_messages.add(id(part))
            size = len(_attached_message(part))
            name = sanitise_filename(raw_filename(part), ctype, index)
            yield Attachment(name, ctype, size, _disposition(part) or "attachment", index), part
            continue
        if not is_attachment(part, parent, pos):
            continue
        disposition = _disposition(part) or ("inline" if part.get("Content-ID") else "attachment")
        if disposition not in ("attachment", "inline"):
            disposition = "attachment"
        name = sanitise_filename(raw_filename(part), ctype, index)
        yield Attachment(name, ctype, payload_size(part), disposition, index), part


def attachments(msg: Message) -> tuple[Attachment, ...]:
    return tuple(att for att, _ in attachments_with_parts(msg))


def iter_attachment_payloads(raw: bytes) -> Iterator[tuple[Attachment, bytes]]:
    """Re-read the payloads (e.g. when forwarding): each attachment with its decoded bytes.

    A slimmed attachment is decoded straight from its span of `raw`: one attachment in memory at a time.
    """
    raw, _ = repair_start(raw)  # as parse_mail reads it, so that the same parts are found
    msg = load(raw)
    for att, part in attachments_with_parts(msg):
        payload = part.get_payload()
        mark = _slim_mark(payload)
        if mark:
            yield att, _decode_span(raw, int(mark.group(1)), int(mark.group(2)))
            continue
        if att.content_type == "message/rfc822" and part.is_multipart():
            yield att, _attached_message(part)
        else:
            yield att, payload_bytes(part)


def body_text(msg: Message) -> str:
    """The readable body: text/plain preferred, HTML converted when there is no usable plain text.

    Composed (NFC) here, once for every reader (parse_mail's text, new text and signature, forwarded mails): a mail
    written or pasted in decomposed form ("e" + COMBINING ACUTE, as macOS and iOS apps send it) reads like the same
    mail composed — labels, command words, names. NFC only joins what Unicode says is the same text (canonical
    equivalence), so what is stored shows exactly what was sent; the mail itself stays untouched in the mailbox."""
    text = _best(msg, "", 0)
    return nfc(tidy(strip_pgp_armor(text)))


def _best(part: Message, parent: str, pos: int) -> str:
    ctype = content_type(part)
    if part.is_multipart():
        children = [c for c in part.get_payload() if isinstance(c, Message)]
        if ctype == "message/rfc822":
            return ""  # an attached message is an attachment, not the sender's text
        if ctype == "multipart/alternative":
            plain = html = other = ""
            for child in children:
                child_type = content_type(child)
                value = _best(child, ctype, 0)
                if not value.strip():
                    continue
                if child_type == "text/plain" and not plain:
                    plain = value
                elif child_type == "text/html":
                    html = value
                elif not other:
                    other = value
            return plain or html or other
        if ctype == "multipart/related":
            return _best(children[0], ctype, 0) if children else ""
        if ctype == "multipart/report":
            return _best(children[0], ctype, 0) if children else ""
        texts = [t for t in (_best(child, ctype, i) for i, child in enumerate(children)) if t.strip()]
        if len(texts) > 1 and _is_list_footer(texts[-1]):
            texts.pop()  # the part a mailing list appends ("… mailing list / listinfo / unsubscribe")
        return "\n\n".join(texts)
    if part.get_content_maintype() == "multipart":
        return _loose_text(part)  # declared multipart but no usable boundary: show what is there
    if ctype not in ("text/plain", "text/html"):
        return ""  # images, rich text, vCards…: attachments, not the sender's words
    if _disposition(part) == "attachment" or raw_filename(part):
        return ""  # a text file sent as an attachment
    return part_text(part)


_LIST_FOOTER = re.compile(
    r"listinfo|mailing\s+list|unsubscribe|se\s+d[ée]sinscrire|d[ée]sabonner|d[ée]sinscription|"
    r"you\s+received\s+this\s+message\s+because|vous\s+recevez\s+ce\s+message\s+car",
    re.IGNORECASE,
)


def _is_list_footer(text: str) -> bool:
    """A short last part naming a list and how to leave it: the list's footer, not the sender's words."""
    return len(text) <= 800 and bool(_LIST_FOOTER.search(text))


def _loose_text(part: Message) -> str:
    """A multipart whose boundary is missing is left as one string by the parser: show it as text."""
    payload = part.get_payload()
    if isinstance(payload, str):
        return normalise_newlines(decode_bytes(payload.encode("utf-8", "surrogateescape"), _param(part, "charset")))
    return ""


def defects(msg: Message) -> tuple[str, ...]:
    names: dict[str, None] = {}
    for part in msg.walk():
        for defect in getattr(part, "defects", []) or []:
            names.setdefault(type(defect).__name__, None)
    return tuple(names)
