"""What a mail says, as one SHA-256: the same for every delivery of one mail, another as soon as a word differs.

Used by the pipeline to tell a second delivery from another mail under the same Message-ID (pipeline._record_key),
and by the parser to invent a Message-ID for a mail that has none (parse.invented_message_id): both must ignore
what each delivery adds or a relay may change, so they live here, below both.
"""
from __future__ import annotations

import hashlib
from email.message import Message

from . import mime

# What a mail *says*: the headers its author wrote that mailbot reads, and every part's decoded content. Not the
# headers each delivery adds (Received, Return-Path, Delivered-To, Authentication-Results, X-Spam-…), nor those an
# MTA may add when missing (Date, Message-ID), nor transfer encodings and line endings, which a relay may change.
CONTENT_HEADERS = ("from", "sender", "reply-to", "to", "cc", "subject", "in-reply-to", "references",
                   "auto-submitted", "precedence", "list-id", "x-autoreply", "x-autorespond")

# Base64 is hashed in its encoded form, a slice at a time: a 50 MB attachment must not be decoded, copied and split
# into lines in memory (the daemon's peak doubled). A relay may re-wrap base64 lines, never change its letters.
_BASE64_SLICE = 1 << 20
# ASCII whitespace (what bytes.split() splits on): dropped from a text part. Bytes of UTF-8 sequences never are.
_WHITESPACE = b" \t\n\r\x0b\x0c"


def content_digest(raw: bytes, message: Message | None = None, *, legacy: bool = False) -> str:
    """SHA-256 of what a mail says (CONTENT_HEADERS, then each part's type and decoded content without any
    whitespace): equal for two deliveries of one mail, different as soon as a word differs.

    `message` is `raw` already parsed by mime.load, when the caller has it. `legacy` computes the digest as it was
    before it became blind to whitespace inside a text (line ends and trailing blanks only): the value stored in
    inbound_mails.content_sha256 by earlier versions, compared only when the current one matches nothing."""
    try:
        # Slimmed like parse_mail does: a long base64 run stays in `raw`, named by a placeholder (memory bound).
        if message is None:
            message = mime.load(raw)
        digest = hashlib.sha256()
        for name in CONTENT_HEADERS:
            for value in message.get_all(name) or []:
                text = " ".join(str(value).split())
                digest.update(f"{name}:{text}\n".encode("utf-8", "surrogatepass"))
        for part in message.walk():
            if part.is_multipart():
                continue
            digest.update(f"\n--{part.get_content_type()};{part.get_filename() or ''}\n".encode(
                "utf-8", "surrogatepass"))
            _hash_part(digest, part, raw, legacy=legacy)
        return digest.hexdigest()
    except Exception:  # noqa: BLE001 - unparsable here too: the bytes themselves are the content
        return hashlib.sha256(raw).hexdigest()


def _hash_part(digest: hashlib._Hash, part: Message, raw: bytes, *, legacy: bool = False) -> None:
    """One leaf part's content into the digest: base64 letters without their line breaks; other encodings decoded,
    then without any ASCII whitespace.

    A relay may change the whitespace of a text sent as 7bit or 8bit and nothing else: line ends, trailing blanks,
    and line breaks it inserts (Postfix breaks a line longer than 998 bytes with CRLF + space, anywhere, even inside
    a word or a UTF-8 character — hence bytes, and every whitespace byte dropped rather than runs collapsed).
    Every other byte counts: a word changed, added or removed changes the digest."""
    encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    raw_payload = part.get_payload()
    if encoding == "base64" and isinstance(raw_payload, str):
        slimmed = mime.slim_span(raw_payload)
        if slimmed is not None:  # the run is still in `raw`, between these offsets
            start, end = slimmed
            for at in range(start, end, _BASE64_SLICE):
                digest.update(b"".join(raw[at:min(at + _BASE64_SLICE, end)].split()))
            return
        for at in range(0, len(raw_payload), _BASE64_SLICE):
            digest.update("".join(raw_payload[at:at + _BASE64_SLICE].split()).encode("ascii", "surrogateescape"))
        return
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        payload = str(raw_payload).encode("utf-8", "surrogatepass")
    if legacy:
        lines = payload.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
        digest.update(b"\n".join(line.rstrip() for line in lines).rstrip())
        return
    # One copy without the whitespace (not split into words: a 10 MB text would be millions of objects).
    digest.update(payload.translate(None, _WHITESPACE))
