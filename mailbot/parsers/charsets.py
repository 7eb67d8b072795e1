"""Turning bytes of unknown or wrongly declared charset into text, never failing."""
from __future__ import annotations

import codecs
import re
from email.header import Header
from email.header import decode_header as email_decode_header

# Names seen in real mail that Python's codecs either lacks or maps too narrowly.
_ALIASES = {
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "x-mac-cyrillic": "mac_cyrillic",
    "unicode-1-1-utf-7": "utf-7",
    "x-unicode-2-0-utf-7": "utf-7",
    "gb2312": "gb18030",  # senders declare gb2312 but use gbk/gb18030 characters
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "iso-8859-8-i": "iso-8859-8",
    "x-sjis": "shift_jis",
    "shift-jis": "shift_jis",
    "windows-874": "cp874",
    "x-user-defined": "cp1252",
    "utf8": "utf-8",
    "iso-8859-1": "cp1252",  # WHATWG: latin-1 labels are decoded as windows-1252 (smart quotes)
    "latin1": "cp1252",
    "iso_8859-1": "cp1252",
    "us-ascii": "ascii",
    "ansi_x3.4-1968": "ascii",
}
# Declared charsets that are often a lie for UTF-8 bodies; valid UTF-8 with 8-bit bytes is almost never latin text.
_WEAK_DECLARATIONS = {"ascii", "cp1252", "iso8859-15", "iso8859-1"}


def lookup(name: str | None) -> str | None:
    """Return a Python codec name for a MIME charset label, or None when unknown/absent."""
    if not name:
        return None
    label = str(name).strip().strip("\"'").lower()
    label = label.split("*", 1)[0]  # RFC 2231 language suffix: utf-8*fr
    label = _ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except (LookupError, ValueError):
        return None


def _is_8bit(data: bytes) -> bool:
    return any(b > 0x7F for b in data)


def decode_bytes(data: bytes, declared: str | None = None) -> str:
    """Decode with fallback: declared → utf-8 → charset-normalizer guess → cp1252/latin-1."""
    if not data:
        return ""
    codec = lookup(declared)
    eight_bit = _is_8bit(data)
    if codec and eight_bit and codec in _WEAK_DECLARATIONS:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
    if codec:
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            pass
    if not eight_bit and codec not in ("utf-7", "utf-16", "utf-32"):
        # Also covers ISO-2022-JP declared as something else: 7-bit data decodes fine as ascii.
        if b"\x1b$" in data:
            try:
                return data.decode("iso2022_jp")
            except UnicodeDecodeError:
                pass
        return data.decode("ascii", "replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    western = _western(data)
    if western is not None:
        return western
    guess = _guess(data)
    if guess:
        return guess
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


_WESTERN_EXTRA = set("€‚„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ«»°·ª º¿¡§©®±²³´µ¶¸¹¼½¾×÷")


def _western(data: bytes) -> str | None:
    """cp1252 when the text reads as a Western language with a few accents (our members write French).

    Statistical guessers are unreliable on short French mails (they pick Arabic or Cyrillic code pages);
    real Cyrillic/Greek 8-bit text is mostly non-ASCII letters, so it fails the ratio test and is guessed.
    """
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        return None
    non_ascii = [ch for ch in text if ord(ch) > 0x7F]
    letters = sum(ch.isalpha() for ch in text) or 1
    if len(non_ascii) / letters > 0.4:
        return None
    if all(("\u00c0" <= ch <= "\u024f" and ch.isalpha()) or ch in _WESTERN_EXTRA for ch in non_ascii):
        return text
    return None


def _guess(data: bytes) -> str | None:
    # Imported lazily: only needed for the rare undeclared/mis-declared 8-bit bodies.
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - the dependency is declared, but stay usable without it
        return None
    try:
        best = from_bytes(data[:200_000]).best()
    except Exception:  # noqa: BLE001 - a guesser must never break parsing
        return None
    if best is None or best.encoding is None:
        return None
    try:
        return data.decode(best.encoding)
    except (UnicodeDecodeError, LookupError):
        return None


# A raw byte 0x80-0xFF held as a surrogate escape (U+DC80-U+DCFF).
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")


def _has_escaped_byte(text: str) -> bool:
    """Whether `text` holds a surrogate-escaped byte: one regex scan (ASCII text has none) rather than a Python
    generator over every character of every header."""
    return not text.isascii() and _ESCAPED_BYTE.search(text) is not None


def surrogates_to_text(value: object) -> str:
    """compat32 keeps raw 8-bit header bytes as surrogate escapes (or hands them back wrapped in an
    "unknown-8bit" Header); recover them as UTF-8, else cp1252 text."""
    if isinstance(value, Header):
        chunks = email_decode_header(value)
        raw = b"".join(c if isinstance(c, bytes) else c.encode("utf-8", "surrogateescape") for c, _ in chunks)
        return _bytes_to_text(raw)
    value = str(value)
    if not _has_escaped_byte(value):
        return value
    return _bytes_to_text(value.encode("utf-8", "surrogateescape"))


def _bytes_to_text(raw: bytes) -> str:
    """Raw header bytes: UTF-8 where they are UTF-8 (RFC 6532), each other byte as cp1252 (old Latin-1 clients).

    Byte by byte rather than all-or-nothing: a header mixing a UTF-8 name with a Latin-1 word keeps both right.
    """
    text = raw.decode("utf-8", "surrogateescape")
    if not _has_escaped_byte(text):
        return text
    return "".join(bytes([ord(ch) - 0xDC00]).decode("cp1252", "replace").replace("\ufffd", chr(ord(ch) - 0xDC00))
                   if "\udc80" <= ch <= "\udcff" else ch for ch in text)
