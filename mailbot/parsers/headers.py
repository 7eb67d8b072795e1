"""Header decoding: RFC 2047 (tolerant of broken encoded words), addresses, message ids, dates."""
from __future__ import annotations

import base64
import binascii
import quopri
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime

from .charsets import decode_bytes, surrogates_to_text

# Tolerant encoded word: spaces inside the text and a missing "?=" at the very end are accepted,
# because real clients produce both and a strict decoder would show the raw =?...?= to members.
_ENCODED_WORD = re.compile(
    r"=\?(?P<charset>[^?\s]+)\?(?P<enc>[bBqQ])\?(?P<text>.*?)(?:\?=|$)",
    re.DOTALL,
)
_BETWEEN_WORDS = re.compile(r"^[ \t\r\n]+$")


def _decode_word(enc: str, text: str) -> bytes:
    if enc in "bB":
        cleaned = re.sub(r"[^A-Za-z0-9+/]", "", text)
        cleaned += "=" * (-len(cleaned) % 4)
        try:
            return base64.b64decode(cleaned)
        except (binascii.Error, ValueError):
            return text.encode("ascii", "replace")
    # Q encoding: "_" is a space; quopri handles =XX and leaves broken escapes as they are. Raw 8-bit text inside
    # the word (some mailers put UTF-8 there unencoded) is kept as its UTF-8 bytes.
    raw = text.replace("_", " ").encode("utf-8", "surrogateescape")
    return quopri.decodestring(raw)


def decode_header(value: object, collapse: bool = True) -> str:
    """Decode one header value to text; never raises. Whitespace is collapsed unless asked not to."""
    if value is None:
        return ""
    text = surrogates_to_text(value)
    if "=?" not in text:
        return " ".join(text.split()) if collapse else text
    pieces: list[str] = []
    pending: list[tuple[str, bytes]] = []  # adjacent encoded words, merged per charset (split multi-byte chars)
    pos = 0

    def flush() -> None:
        for charset, data in _merge(pending):
            pieces.append(decode_bytes(data, charset))
        pending.clear()

    for match in _ENCODED_WORD.finditer(text):
        between = text[pos : match.start()]
        if between and not (pending and _BETWEEN_WORDS.match(between)):
            flush()
            pieces.append(between)
        elif between and not pending:
            pieces.append(between)
        charset = match.group("charset")
        pending.append((charset, _decode_word(match.group("enc"), match.group("text"))))
        pos = match.end()
    flush()
    pieces.append(text[pos:])
    return " ".join("".join(pieces).split()) if collapse else "".join(pieces)


def _merge(words: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    merged: list[tuple[str, bytes]] = []
    for charset, data in words:
        if merged and merged[-1][0].lower() == charset.lower():
            merged[-1] = (merged[-1][0], merged[-1][1] + data)
        else:
            merged.append((charset, data))
    return merged


# The standard library's address parser takes quadratic time on some input (":" then a run of "@": 30 s for a
# 100 KB To: line). A long header value is cut at its top-level commas first, and a piece too long to be one
# address is only searched for bare addr-specs.
LONG_VALUE = 8192
LONG_PIECE = 1000  # a line of RFC 5322 holds 998 characters: no single address is longer
_BARE_ADDRESS = re.compile(r"(?<![\w.+\-=!#$%&'*/?^`{|}~])[\w.+\-=!#$%&'*/?^`{|}~]+@[\w.\-]+\w")


def _pieces(value: str) -> list[str]:
    """An address list cut at its commas outside quotes, <…> and (…comments…)."""
    pieces: list[str] = []
    start = angle = paren = 0
    quoted = escaped = False
    for index, char in enumerate(value):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif quoted:
            quoted = char != '"'
        elif char == "(":
            paren += 1
        elif paren:
            paren -= char == ")"
        elif char == '"':
            quoted = True
        elif char == "<":
            angle += 1
        elif char == ">" and angle:
            angle -= 1
        elif char == "," and not angle:
            pieces.append(value[start:index])
            start = index + 1
    pieces.append(value[start:])
    return pieces


def addresses(values: Sequence[object]) -> list[tuple[str, str]]:
    """(display name, lower-cased addr-spec) pairs from one or more header values; only well-formed addresses.

    getaddresses runs on the still-encoded text: decoding first would let a comma or quote hidden in
    an encoded display name ("=?utf-8?q?Dupont=2C_Jean?=") split one address into two. When its answer has a
    malformed address or a piece with no address (an unquoted comma in a display name, no angle brackets), the
    value is read again by the tolerant reader `mailboxes`: an address is never made up from words around it.
    """
    raw = [surrogates_to_text(v) for v in values if v is not None]
    pairs: list[tuple[str, str]] = []
    for value in raw:
        # Parsed piece by piece when long: the whole list in one call would be the slow input again.
        for piece in [value] if len(value) <= LONG_VALUE else _pieces(value):
            if len(piece) > LONG_PIECE and len(value) > LONG_VALUE:
                pairs += [("", unicode_domain(match.group(0).lower())) for match in _BARE_ADDRESS.finditer(piece)
                          if is_valid_address(match.group(0))]
                continue
            pairs += _strict_or_tolerant(piece)
    return pairs


def _strict_or_tolerant(value: str) -> list[tuple[str, str]]:
    try:
        found = getaddresses([value])
    except Exception:  # noqa: BLE001 - malformed address lists must not stop parsing
        found = []
    found = [(name, addr) for name, addr in found if name.strip() or addr.strip()]
    clean: list[tuple[str, str]] = []
    for name, addr in found:
        addr = addr.strip().strip("<>").strip()
        if not is_valid_address(addr):
            return mailboxes(value)
        clean.append((decode_header(name).strip("\"' "), unicode_domain(addr.lower())))
    if not clean and value.strip(" \t\r\n,;:<>"):
        return mailboxes(value)
    return clean


# An addr-spec as real mail carries it (RFC 5322 dot-atom or quoted local part, RFC 6532 UTF-8 letters):
# a domain whose last label has a letter, or an address literal in brackets.
_LABEL = r"[^\W_](?:[\w-]*[^\W_])?"
_VALID_ADDRESS = re.compile(
    r"(?:[\w!#$%&'*+/=?^`{|}~.-]+|\"[^\"\\\r\n]*\")@(?:(?:" + _LABEL + r"\.)*" + _LABEL + r"|\[[0-9A-Fa-f:.]+\])")


def is_valid_address(addr: str) -> bool:
    """Whether `addr` is one usable addr-spec (no space, one @, a real domain): what an answer could go to."""
    if not addr or len(addr) > LONG_PIECE or not _VALID_ADDRESS.fullmatch(addr):
        return False
    local, domain = addr.rsplit("@", 1)
    if local.startswith(".") or local.endswith(".") and not local.startswith('"'):
        return False
    # A one-label domain ("root@localhost") is what some systems write: kept, it is what the header says.
    if re.fullmatch(r"\d{1,3}(?:\.\d{1,3}){3}", domain):
        return True  # an IPv4 address without its brackets, as old mail systems write it
    return domain.startswith("[") or any(ch.isalpha() for ch in domain.rsplit(".", 1)[-1])


def _tokens(value: str) -> list[tuple[str, str]]:
    """The lexical pieces of an address header: quoted strings, comments, <angle addresses>, separators, words."""
    tokens: list[tuple[str, str]] = []
    i, n = 0, len(value)
    while i < n:
        char = value[i]
        if char in " \t\r\n":
            i += 1
        elif char == '"':
            j, buf = i + 1, []
            while j < n and value[j] != '"':
                if value[j] == "\\" and j + 1 < n:
                    j += 1
                buf.append(value[j])
                j += 1
            tokens.append(("quoted", "".join(buf)))
            i = j + 1
        elif char == "(":
            depth, j = 1, i + 1
            while j < n and depth:
                depth += {"(": 1, ")": -1}.get(value[j], 0)
                j += 1
            tokens.append(("comment", value[i + 1:j - 1 if depth == 0 else j]))
            i = j
        elif char == "<":
            j = value.find(">", i + 1)
            j = n if j < 0 else j
            tokens.append(("angle", value[i + 1:j]))
            i = j + 1
        elif char in ",;":
            tokens.append(("sep", char))
            i += 1
        elif char == ">":
            i += 1  # a stray closing bracket
        else:
            j = i
            while j < n and value[j] not in ' \t\r\n"(<>,;':
                j += 1
            tokens.append(("word", value[i:j]))
            i = j
    return tokens


def _clean_angle(text: str) -> str:
    text = "".join(text.split())
    if text.lower().startswith("mailto:"):
        text = text[7:]
    if text.count("@") > 1 and text.startswith("@") and ":" in text:
        text = text.rsplit(":", 1)[1]  # obsolete source route <@relay:user@host>
    return text


def mailboxes(value: object) -> list[tuple[str, str]]:
    """Tolerant reading of one address header: (display name, lower-cased address) pairs, valid addresses only.

    Reads what clients and scripts write outside RFC 5322: no angle brackets ("Big Bug bb@bug.com"), unquoted
    display names with commas or dots ("Dupont, Jean <j@d.example>", "M. J. Dupont <j@d.example>"), the name
    after the address or in a comment, "mailto:" inside the brackets. Words that are not an address stay words:
    "@a.example" or "tim concierge@a" give nothing rather than an invented address.
    """
    text = surrogates_to_text(value) if value is not None else ""
    boxes: list[list[str]] = []  # [name, address]
    name: list[str] = []
    previous = ""
    for kind, item in _tokens(text):
        if kind == "angle":
            address = _clean_angle(item)
            if previous == "bare" and boxes and not name:
                # "tim@a.example <concierge@a.example>": the words before the brackets are a display name.
                bare = boxes.pop()
                name = [bare[1]]
            boxes.append([" ".join(name), address])
            name = []
        elif kind == "word" and "@" in item:
            word = item.strip("<>'\".:")
            if word.lower().startswith("mailto:"):
                word = word[7:]
            boxes.append([" ".join(name), word])
            name = []
            kind = "bare"
        elif kind == "word" and item.endswith(":"):
            name = []  # a group's display name ("undisclosed-recipients:;")
        elif kind in ("word", "quoted"):
            name.append(item)
        elif kind == "comment":
            if boxes and not boxes[-1][0] and not name:
                boxes[-1][0] = item
        elif kind == "sep" and name:
            name[-1] += item if item == "," else ""
        previous = kind
    if name and boxes and not boxes[-1][0] and previous != "sep":
        boxes[-1][0] = " ".join(name)  # "j@d.example Jean Dupont"
    result: list[tuple[str, str]] = []
    for box_name, address in boxes:
        if is_valid_address(address):
            result.append((decode_header(box_name.strip(" ,;")).strip("\"' "), unicode_domain(address.lower())))
    return result


@dataclass(frozen=True)
class Sender:
    """Who wrote the mail, as far as its From (or Sender) header says it unambiguously."""

    address: str  # lower-cased addr-spec, "" when none can be trusted
    name: str
    problem: str = ""  # why no address was taken from a From header that has text (French, for the quarantine)


def sender(msg: Message) -> Sender:
    """The author's address: the one address of From, else the Sender among several, else nothing and why.

    Never the first of several addresses: "From: aideur@club, intrus@ailleurs" must not pass for Aideur; never
    an address built from words ("From: tim@a.example concierge@a.example" is two addresses, not "@a.example").
    """
    values = [v for v in (msg.get_all("From") or []) if v is not None]
    raw = " ".join(" ".join(surrogates_to_text(v).split()) for v in values).strip()
    # The tolerant reader on each From line: getaddresses reads "alice@x.example <bob@y.example>" as two
    # addresses and "Dupont, Jean <j@d.example>" as a name-only piece.
    found = [pair for value in values for pair in mailboxes(value)]
    distinct = list(dict.fromkeys(addr for _, addr in found))
    agent = addresses([msg.get("Sender")]) if msg.get("Sender") is not None else []
    if len(distinct) == 1:
        name = next((n for n, a in found if n), "")
        return Sender(distinct[0], name)
    if len(distinct) > 1:
        if len(agent) == 1 and agent[0][1] in distinct:
            # RFC 5322 3.6.2: several authors need a Sender, the mailbox that actually sent it.
            name = next((n for n, a in found if a == agent[0][1] and n), agent[0][0])
            return Sender(agent[0][1], name)
        return Sender("", "", "plusieurs adresses dans l'en-tête From (" + ", ".join(distinct[:4])
                      + ") et aucun en-tête Sender qui dise laquelle a écrit")
    if len(agent) == 1:
        return Sender(agent[0][1], agent[0][0])  # no usable From: the Sender header, as before
    if raw.strip(" <>,;:"):
        return Sender("", "", f"aucune adresse valable dans l'en-tête From : « {raw[:120]} »")
    return Sender("", "")


def unicode_domain(address: str) -> str:
    """One spelling per address: an IDN domain in its Unicode form (xn--exemple-t-i4ab.fr → exemple-été.fr), so
    that a member registered as jo@exemple-été.fr is recognised whichever form the client wrote (RFC 5891)."""
    local, at, domain = address.rpartition("@")
    if not at or "xn--" not in domain:
        return address
    try:
        return f"{local}@{domain.encode('ascii').decode('idna').lower()}"
    except UnicodeError:
        return address


_MSGID = re.compile(r"<([^<>\s]+)>")


def message_ids(value: object) -> tuple[str, ...]:
    """Message ids without <>; bare ids (no brackets) are accepted as a fallback."""
    if value is None:
        return ()
    text = surrogates_to_text(value)
    found = _MSGID.findall(text)
    if not found:
        found = [tok.strip("<>,;") for tok in text.split() if "@" in tok]
    seen: dict[str, None] = {}
    for item in found:
        seen.setdefault(item, None)
    return tuple(seen)


def parse_date(value: object) -> datetime | None:
    if value is None:
        return None
    try:
        when = parsedate_to_datetime(surrogates_to_text(value).strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        # "-0000" means UTC with unknown local zone (RFC 5322 §3.3).
        when = when.replace(tzinfo=UTC)
    return when
