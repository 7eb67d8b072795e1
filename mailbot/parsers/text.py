"""Plain-text body normalisation: line endings and RFC 3676 format=flowed."""
from __future__ import annotations

import re

_TRAILING_BLANKS = re.compile(r"\n{3,}")


def normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def unflow(text: str, delsp: bool = False) -> str:
    """Join RFC 3676 soft line breaks (a line ending in a space continues on the next one).

    Quote depth is respected: only lines of the same depth are joined, and space-stuffing is undone.
    The signature separator "-- " is never a soft break.
    """
    out: list[str] = []
    current: str | None = None
    current_depth = -1
    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        body = line[depth:]
        if body.startswith(" "):
            body = body[1:]  # space-stuffing
        prefix = ">" * depth + (" " if depth else "")
        if current is not None and depth == current_depth:
            current += body
        else:
            if current is not None:
                out.append(current)
            current = prefix + body
            current_depth = depth
        flowed = body.endswith(" ") and body != "-- "
        if flowed:
            if delsp:
                current = current[:-1]
        else:
            out.append(current)
            current = None
            current_depth = -1
    if current is not None:
        out.append(current)
    return "\n".join(out)


def tidy(text: str) -> str:
    """Trailing spaces off each line, no more than two blank lines in a row, no blank edges."""
    lines = [line.rstrip() for line in text.split("\n")]
    return _TRAILING_BLANKS.sub("\n\n\n", "\n".join(lines)).strip("\n")
