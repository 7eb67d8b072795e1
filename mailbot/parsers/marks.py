"""Where a reply's own words end: signatures, "sent from my phone" lines, separators, attributions, Outlook header
blocks and sign-offs — shared by the parsers that read a member's short answer (consent.py, results.py).

All patterns are matched on folded lines (lower case, no accents, plain apostrophes and dashes: see dates.fold).
"""
from __future__ import annotations

import re

SIGNATURE = re.compile(r"^\s*(?:--|—|__)\s*$")
MOBILE = re.compile(r"^\s*(?:envoye\s+(?:de|depuis|a\s+partir\s+de|avec)\s|sent\s+from\s|get\s+outlook\s|"
                     r"obtenir\s+outlook\s|telechargez\s+outlook\s)")
SEPARATOR = re.compile(r"^\s*(?:-{2,}\s*(?:message\s+d'origine|message\s+original|original\s+message|"
                        r"message\s+transfere|forwarded\s+message)|_{10,}\s*$|debut\s+du\s+message\s+"
                        r"(?:reexpedie|transfere))")
ATTRIBUTION_END = re.compile(r"(?:a\s+)?(?:ecrit|wrote)\s*:\s*$")
ATTRIBUTION_START = re.compile(r"^\s*(?:le|on)\s+\S")
HEADER_FROM = re.compile(r"^\s*+\**+\s*+(?:de|from)\s*+\**+\s*+:")
HEADER_OTHER = re.compile(r"^\s*+\**+\s*+(?:envoye(?:\s+le)?|sent|date|a|to|cc|objet|subject)\s*+\**+\s*+:")
HEADER_INLINE = re.compile(r"\s(?:envoye|sent|objet|subject)\s*:")
SIGN_OFF = re.compile(
    r"^\s*(?:(?:bien\s+|tres\s+)?cordialement|bien\s+a\s+(?:vous|toi)|(?:sinceres\s+|meilleures\s+)?salutations|"
    r"bonne\s+(?:journee|soiree|fin\s+de\s+journee|continuation)|a\s+bientot|(?:best|kind)\s+regards)\W*$"
)
