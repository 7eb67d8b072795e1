"""The parsed form of one inbound mail: what every later stage reads instead of raw MIME."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum


class MailKind(str, Enum):
    """What kind of mail this is, for loop safety (RFC 3834): only NORMAL mail may get an automatic answer."""

    NORMAL = "normal"
    AUTO_REPLY = "auto-reply"  # vacation, autoresponder, challenge-response, read receipt, filter notice
    BOUNCE = "bounce"  # delivery failure or delay report
    BULK = "bulk"  # mailing list, newsletter, Precedence: bulk/list/junk, ARF feedback report


@dataclass(frozen=True)
class Attachment:
    filename: str  # decoded, sanitised (no path, no control chars); a generated name when absent
    content_type: str
    size: int  # decoded payload size in bytes
    disposition: str  # "attachment" or "inline"
    part_index: int  # position in msg.walk(), so the payload can be found again in the raw bytes


@dataclass(frozen=True)
class ForwardedMessage:
    """A message the sender forwarded (inline under a "Message transféré" line, or attached as message/rfc822).

    It is content, not quoted history: the ticket keeps it and Aideur sees it marked as forwarded.
    """

    sender: str  # as the forward shows it ("Jean Client <jean@client.fr>"), "" when absent
    date: str  # as written in the forward (not parsed: clients write it in their own language)
    subject: str
    text: str  # the forwarded message's text, its own quotes kept
    attached: bool = False  # True for a message/rfc822 attachment, False for an inline forward


@dataclass(frozen=True)
class InboundMail:
    # Every text below holds no NUL and no lone surrogate (storable); Message-IDs and the subject are at most 998
    # characters (a longer Message-ID is replaced by "<sha256-of-it>@long-id.mailbot.invalid").
    message_id: str  # without <>; "<sha256>@mailbot.invalid" when the mail has none (parse.invented_message_id)
    subject: str  # decoded (RFC 2047), whitespace collapsed, prefixes kept
    from_address: str  # lower-cased addr-spec, "" when unreadable
    from_name: str
    to: tuple[str, ...]  # lower-cased addr-specs
    cc: tuple[str, ...]
    reply_to: tuple[str, ...]
    delivered_to: tuple[str, ...]  # Delivered-To, X-Original-To, Envelope-To: where plus tokens survive
    in_reply_to: tuple[str, ...]  # message ids without <>
    references: tuple[str, ...]
    date: datetime | None  # timezone-aware when the header is readable
    text: str  # the whole readable body as plain text (HTML converted), normalised to \n
    new_text: str  # what the sender wrote in this mail: quote and signature removed
    signature: str  # the signature removed from new_text, "" if none
    attachments: tuple[Attachment, ...]
    kind: MailKind
    kind_reason: str  # short human reason for the kind (header or pattern that decided), "" for NORMAL
    bounced_recipients: tuple[str, ...] = ()  # for BOUNCE: the failed addresses when known
    auto_submitted: str = ""  # raw Auto-Submitted header value, lower-cased
    defects: tuple[str, ...] = field(default_factory=tuple)  # names of MIME defects found while parsing
    # Why from_address is "" although the From header has text (several addresses and no Sender, no valid
    # address): a normal mail with a sender problem is quarantined with this reason, never answered.
    sender_problem: str = ""
    forwarded: tuple[ForwardedMessage, ...] = ()  # messages forwarded in this mail (content, not in new_text)
