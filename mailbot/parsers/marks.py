"""Kept for older imports: the markers now live in rules.py with the other shared text rules."""
from __future__ import annotations

from .rules import (  # noqa: F401
    ATTRIBUTION_END,
    ATTRIBUTION_START,
    HEADER_FROM,
    HEADER_INLINE,
    HEADER_OTHER,
    MOBILE,
    SEPARATOR,
    SIGN_OFF,
    SIGNATURE,
)
