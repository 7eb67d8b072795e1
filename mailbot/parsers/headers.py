"""Header decoding: RFC 2047 (tolerant of broken encoded words), addresses, message ids, dates."""
from __future__ import annotations

import base64
import binascii
import quopri
import re
from datetime import datetime, timezone
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


def addresses(values: list[object]) -> list[tuple[str, str]]:
    """(display name, lower-cased addr-spec) pairs from one or more header values.

    getaddresses runs on the still-encoded text: decoding first would let a comma or quote hidden in
    an encoded display name ("=?utf-8?q?Dupont=2C_Jean?=") split one address into two.
    """
    raw = [surrogates_to_text(v) for v in values if v is not None]
    if not raw:
        return []
    pairs: list[tuple[str, str]] = []
    for value in raw:
        # Parsed piece by piece when long: the whole list in one call would be the slow input again.
        for piece in [value] if len(value) <= LONG_VALUE else _pieces(value):
            if len(piece) > LONG_PIECE and len(value) > LONG_VALUE:
                pairs += [("", match.group(0)) for match in _BARE_ADDRESS.finditer(piece)]
                continue
            try:
                pairs += getaddresses([piece])
            except Exception:  # noqa: BLE001 - malformed address lists must not stop parsing
                pass
    result: list[tuple[str, str]] = []
    for name, addr in pairs:
        addr = addr.strip().strip("<>").strip().lower()
        if not addr or "@" not in addr and not name:
            continue
        if "@" not in addr:
            continue
        result.append((decode_header(name).strip("\"' "), unicode_domain(addr)))
    if not result:
        # Last resort for lists getaddresses could not split: pick bare addr-specs.
        for match in _BARE_ADDRESS.finditer(" ".join(raw)):
            result.append(("", match.group(0).lower()))
    return result


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
        when = when.replace(tzinfo=timezone.utc)
    return when
