"""MIME → InboundMail: text, quote/signature split, attachments, auto-reply/bounce/bulk kind."""
from __future__ import annotations

from .commands import COMMANDS, AideurReply, Command, CommandError, parse_aideur_reply, parse_price
from .dates import parse_date
from .errors import ParseError
from .mime import iter_attachment_payloads
from .model import Attachment, InboundMail, MailKind
from .parse import parse_mail
from .quotes import split_reply
from .subjects import strip_subject_prefixes
from .withdrawal import WITHDRAWAL_RULE, is_withdrawal

__all__ = [
    "COMMANDS",
    "WITHDRAWAL_RULE",
    "AideurReply",
    "Attachment",
    "Command",
    "CommandError",
    "InboundMail",
    "MailKind",
    "ParseError",
    "is_withdrawal",
    "iter_attachment_payloads",
    "parse_aideur_reply",
    "parse_date",
    "parse_mail",
    "parse_price",
    "split_reply",
    "strip_subject_prefixes",
]
