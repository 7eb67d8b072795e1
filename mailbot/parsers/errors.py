"""The only exception parse_mail lets out."""
from __future__ import annotations


class ParseError(ValueError):
    """Raised for input that is not a mail at all (no headers, or neither a sender nor a body)."""
