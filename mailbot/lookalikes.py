"""Characters of other scripts that look like Latin letters or digits (Unicode's confusables.txt, as shipped by the
`confusable_homoglyphs` package). Shared by the privacy guard (a name spelled with a Cyrillic "а") and the command
reader (a "#clоre" typed with a Cyrillic "о"); no other import, so that the parsers need not load the guard."""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

__all__ = ["latin_lookalikes"]


@lru_cache(maxsize=1)
def latin_lookalikes() -> dict[str, str]:
    """Every character that looks like a Latin letter or digit, mapped to it: Cyrillic "а", Greek "ο",
    mathematical "𝐀"… (read once, on first use)."""
    data = json.loads(resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8"))
    table: dict[str, str] = {}
    for char, glyphs in data.items():
        if len(char) != 1 or char.isascii():
            continue
        latin = [g["c"] for g in glyphs if len(g["c"]) == 1 and g["c"].isascii() and g["c"].isalnum()]
        # A letter of the same case first: Cyrillic "І" is an "I" to the eye (the table also lists "l" and "1").
        same_case = [c for c in latin if c.isalpha() and (c.isupper() == char.isupper() or not char.isalpha())]
        letters = [c for c in latin if c.isalpha()]
        if latin:
            target = (same_case or letters or latin)[0]
            # Unicode's prototype of "I" is "l" (they are one vertical bar); a capital that looks like it is an I.
            table[char] = "I" if target == "l" and char.isupper() else target
    return table
