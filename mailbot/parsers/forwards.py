"""Forwarded messages are content (issue 14, point 1): find them in a mail's text and its message/rfc822 parts.

A member who forwards a client's mail asks for help about that mail: the forwarded message (sender, date, subject,
text) is kept apart from the member's own words (`new_text`), never thrown away as a quote.
"""
from __future__ import annotations

import re
import textwrap
from email.message import Message

from . import mime
from .headers import decode_header
from .model import ForwardedMessage
from .quotes import _marker, _verb_lines, marker_at, quote_marks
from .rules import RAW_FORWARD_LINE as FORWARD_LINE
from .subjects import FORWARD_PREFIX, strip_subject_prefixes
from .text import tidy

# Header lines at the top of a forwarded message, in the clients' languages; the value may follow a tab.
_FIELD = re.compile(
    r"^\s*\**(?P<key>de|from|von|da|van|date|datum|data|fecha|envoyé(?:\s+le)?|sent|gesendet|inviato|verzonden|"
    r"enviado|objet|sujet|subject|betreff|oggetto|onderwerp|asunto|assunto|à|a|pour|to|an|aan|para|cc|copie\s+à|"
    r"répondre\s+à|reply-to)\s*\**\s*[:：]\s*(?P<value>.*)$",
    re.IGNORECASE,
)
_INLINE_FIELD = re.compile(
    r"(?P<key>de|from|date|envoyé|sent|objet|subject|à|to|cc)\s*[:：]\s*(?P<value>.*?)"
    r"(?=(?:de|from|date|envoyé|sent|objet|subject|à|to|cc)\s*[:：]|$)",
    re.IGNORECASE,
)
_ANY_FIELD = re.compile(r"^\s*[^\s:<>@][^:<>@]{0,30}?\s*[:：]\s")
_SENDER_KEYS = {"de", "from", "von", "da", "van"}
_DATE_KEYS = {"date", "datum", "data", "fecha", "envoyé", "envoyé le", "sent", "gesendet", "inviato", "verzonden",
              "enviado"}
_SUBJECT_KEYS = {"objet", "sujet", "subject", "betreff", "oggetto", "onderwerp", "asunto", "assunto"}
_ADDRESS = re.compile(r"[«\"]?\s*([^<>«»\",]{0,80}?)\s*[»\"]?\s*[<(\[]?([\w.+'-]+@[\w-]+(?:\.[\w-]+)+)[>)\]]?")


def is_forward_subject(subject: str) -> bool:
    """ "TR : …", "Fwd: …", "Fw: …", "WG: …", also under "Re:" or a tag ("[Ext] TR: …")."""
    return bool(FORWARD_PREFIX.search(" ".join((subject or "").split())[:60]))


def inline_forwards(text: str, subject: str = "", *, fresh: bool = False) -> tuple[ForwardedMessage, ...]:
    """The message forwarded in the body: under a forward line ("-------- Message transféré --------", "Begin
    forwarded message:", "Début du message réexpédié :"…), or, when the subject says it is a forward ("TR :",
    "Fwd:"), under the first quote marker (Outlook's rule and "De : … Objet :" block, an attribution).

    `fresh` says the mail answers nothing (no In-Reply-To, References or "Re:"): a message under a quote marker
    there was pasted or forwarded by the member, never history of a conversation with the club.
    """
    lines = (text or "").replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "").split("\n")
    start = _forward_start(lines, is_forward_subject(subject), fresh)
    if start is None:
        return ()
    block = lines[start:]
    if all(line.startswith(">") or not line.strip() for line in block):
        block = [re.sub(r"^> ?", "", line) for line in block]  # Apple Mail quotes the whole forward
    found = _read_block(block)
    if not found.subject and is_forward_subject(subject):
        # Outlook's attribution-style forward names no subject: the forward's own subject, prefixes off, is it.
        found = ForwardedMessage(found.sender, found.date, strip_subject_prefixes(subject), found.text)
    return (found,)


def _forward_start(lines: list[str], forward_subject: bool, fresh: bool) -> int | None:
    for i, line in enumerate(lines):
        # A forward line inside the quoted history of a reply is history, not a new forward (Apple Mail quotes a
        # whole forward: that counts under "Fwd:" or in a fresh mail).
        if FORWARD_LINE.match(line) and (forward_subject or fresh or not line.lstrip().startswith(">")):
            return i
    if not forward_subject and not fresh:
        return None
    # Under "TR :" a bare quote is the forwarded mail too; in a fresh mail only a marker says a message starts
    # (a member may quote a line of a contract or a command with ">" in a mail of their own).
    marks = quote_marks(lines) if forward_subject else [False] * len(lines)
    verbs = _verb_lines(lines)  # marker_at's verb test, read once for all the lines
    for i, line in enumerate(lines):
        if marks[i] or (line.strip() and _marker(lines, i, verbs)[0]):
            return i
    return None


def _read_block(block: list[str]) -> ForwardedMessage:
    i = 0
    while i < len(block) and not block[i].strip():
        i += 1
    fields: dict[str, str] = {}
    if i < len(block) and FORWARD_LINE.match(block[i]):
        # Yahoo writes the whole header block on the forward line: "----- Message transmis ----- De : … Objet : …".
        rest = block[i][FORWARD_LINE.match(block[i]).end():]  # type: ignore[union-attr]
        for match in _INLINE_FIELD.finditer(rest):
            _store(fields, match.group("key").lower(), match.group("value"))
        i += 1
    elif i < len(block) and not _FIELD.match(block[i]):
        span, kind = marker_at(block, i)
        if kind == "separator":
            i += 1  # Outlook's rule or "-----Original Message-----": the header lines follow
        elif span:
            # An attribution ("Le 28/10/2021 12:46, « John Doe » <john@acme.com> a écrit :") names the sender.
            attribution = " ".join(x.strip() for x in block[i:i + span])
            fields["sender"] = _sender_in(attribution)
            fields["date"] = _date_in(attribution)
            i += span
    while i < len(block) and (not block[i].strip() or re.match(r"^\s*[-_]{8,}\s*$", block[i])) and not fields:
        i += 1
    seen = False
    while i < len(block):
        found = _FIELD.match(block[i])
        if not found:
            if seen and _ANY_FIELD.match(block[i]):
                i += 1  # a header this module does not read ("Répondre à", "Importance"), or a garbled one
                continue
            break
        seen = True
        key, value = found.group("key").lower(), found.group("value").strip()
        i += 1
        while i < len(block) and _continues_field(block, i):
            value += " " + block[i].strip()  # a folded "À : a; b;" line, or Thunderbird's wrapped long value
            i += 1
        _store(fields, key, value)
    tail = block[i:]
    if any(line.strip() for line in tail) and all(line.startswith(">") or not line.strip() for line in tail):
        tail = [re.sub(r"^> ?", "", line) for line in tail]  # the forwarded mail quoted under an attribution
    body = textwrap.dedent("\n".join(tail))
    return ForwardedMessage(sender=" ".join(fields.get("sender", "").split()), date=fields.get("date", ""),
                            subject=" ".join(fields.get("subject", "").split()), text=tidy(body).strip())


def _continues_field(block: list[str], i: int) -> bool:
    """Line i carries on the header value above it: indented, or wrapped unindented by Thunderbird (then it sits
    between two header lines, or it is the end of an address list)."""
    line = block[i]
    if not line.strip() or _FIELD.match(line) or _ANY_FIELD.match(line):
        return False
    if line.startswith((" ", "\t")):
        return True
    if i + 1 < len(block) and _FIELD.match(block[i + 1]):
        return len(line) <= 120
    return len(line) <= 80 and bool(re.fullmatch(r"[^<>]*<[^\s<>@]+@[^\s<>]+>[,;]?\s*", line))


def _store(fields: dict[str, str], key: str, value: str) -> None:
    name = "sender" if key in _SENDER_KEYS else "date" if key in _DATE_KEYS else "subject" if key in _SUBJECT_KEYS else ""
    if name and value.strip():
        fields.setdefault(name, " ".join(value.split()))


def _sender_in(attribution: str) -> str:
    match = _ADDRESS.search(attribution)
    if not match:
        return ""
    name = re.sub(r"^.*,\s*", "", match.group(1)).strip(" «»\"")
    return f"{name} <{match.group(2)}>" if name else match.group(2)


def _date_in(attribution: str) -> str:
    match = re.search(r"\d{1,2}[/.]\d{1,2}[/.]\d{2,4}(?:\s+(?:à\s+)?\d{1,2}[:h]\d{2})?|\d{1,2}\s+\w+\.?\s+\d{4}"
                      r"(?:\s+(?:à\s+)?\d{1,2}[:h]\d{2})?", attribution)
    return match.group(0) if match else ""


def attached_forwards(msg: Message) -> tuple[ForwardedMessage, ...]:
    """Each message/rfc822 attachment as a forwarded message (not the returned mail inside a bounce report)."""
    found: list[ForwardedMessage] = []
    for _index, part, parent, position, _inside in mime.walk_with_parents(msg):
        if mime.content_type(part) != "message/rfc822" or not part.is_multipart():
            continue
        if parent == "multipart/report" and position > 0:
            continue
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else None
        if not isinstance(inner, Message):
            continue
        found.append(ForwardedMessage(
            sender=decode_header(inner.get("From")), date=decode_header(inner.get("Date")),
            subject=decode_header(inner.get("Subject")), text=mime.body_text(inner), attached=True))
    return tuple(found)
