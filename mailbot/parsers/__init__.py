"""MIME → InboundMail: text, quote/signature split, attachments, auto-reply/bounce/bulk kind."""
from __future__ import annotations

from .errors import ParseError
from .mime import iter_attachment_payloads
from .model import Attachment, InboundMail, MailKind
from .parse import parse_mail
from .quotes import split_reply
from .subjects import strip_subject_prefixes

__all__ = [
    "Attachment",
    "InboundMail",
    "MailKind",
    "ParseError",
    "iter_attachment_payloads",
    "parse_mail",
    "split_reply",
    "strip_subject_prefixes",
]
