"""Reply/forward subject prefixes in the languages our members' clients use."""
from __future__ import annotations

import re

# One prefix: a known word, optional counter ("Re[2]", "Re(2)", "RE^2"), optional space, then ":" or "：".
# Single letters (Italian "R:", "I:") are left out: too likely to be part of a real subject.
_PREFIX = re.compile(
    r"""(?:re|ré|réf|ref|rép|rep|aw|antw|antwort|sv|vs|odp|res|
         tr|fw|fwd|wg|rv|enc|doorst|vl|fs|trans|transf)
        \s*(?:\[\d+\]|\(\d+\)|\^\d+)?\s*[:：]\s*""",
    re.IGNORECASE | re.VERBOSE,
)
# A forward prefix among the leading prefixes and tags: "TR :", "Fwd:", "Fw:", "WG:", "RV:", "Enc:", "Doorst:", "I:".
FORWARD_PREFIX = re.compile(
    r"^(?:(?:re|ré|aw|sv|antw|rép|rep)\s*(?:\[\d+\])?\s*[:：]\s*|\[[^\[\]]{1,40}\]\s*)*"
    r"(?:tr|fw|fwd|wg|rv|enc|doorst|vl|fs|trans|transf|i)\s*(?:\[\d+\])?\s*[:：]",
    re.IGNORECASE,
)
_TAG = re.compile(r"\[[^\[\]]{1,40}\]\s*")


def strip_subject_prefixes(subject: str) -> str:
    """Remove every "Re:"/"TR :"/"Fwd:"… prefix at the start; bracket tags like "[EXTERNAL]" are kept.

    "RE: [EXTERNAL] TR : Demande" gives "[EXTERNAL] Demande": tags carry meaning for the reader,
    prefixes only repeat the thread history.
    """
    text = " ".join((subject or "").split())
    tags: list[str] = []
    pos = 0
    while pos < len(text):
        match = _PREFIX.match(text, pos)
        if match:
            pos = match.end()
            continue
        tag = _TAG.match(text, pos)
        if tag and pos < len(text):
            # Only a tag followed by more prefixes/tags is "leading"; keep it and continue.
            tags.append(tag.group(0).strip())
            pos = tag.end()
            continue
        break
    rest = text[pos:]
    return " ".join([*tags, rest]).strip() if tags else rest
