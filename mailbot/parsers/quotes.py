"""Separating what the sender wrote from quoted history and signature (French and English clients)."""
from __future__ import annotations

import bisect
import re

from .rules import (  # the shared markers (rules.py), under the names this module always used
    RAW_ATTRIBUTION_END as _ATTRIBUTION_END,
)
from .rules import (
    RAW_ATTRIBUTION_START as _ATTRIBUTION_START,
)
from .rules import (
    RAW_ATTRIBUTION_START_WEAK as _ATTRIBUTION_START_WEAK,
)
from .rules import (
    RAW_ATTRIBUTION_VERB_AT_END as _VERB_AT_END,
)
from .rules import (
    RAW_ATTRIBUTION_VERBS as _ATTRIBUTION_VERBS,
)
from .rules import (
    RAW_CONTACT_LINE as _CONTACT_LINE,
)
from .rules import (
    RAW_CORPORATE_MARKER as _CORPORATE_MARKER,
)
from .rules import (
    RAW_FORWARD_LINE as FORWARD_LINE,
)
from .rules import (
    RAW_FROM_KEYS as _FROM_KEYS,
)
from .rules import (
    RAW_HEADER_KEY as _HEADER_KEY,
)
from .rules import (
    RAW_MOBILE_SIGNATURE as _MOBILE_SIGNATURE,
)
from .rules import (
    RAW_NAMED_QUOTE as _NAMED_QUOTE,
)
from .rules import (
    RAW_PROMPT as _PROMPT,
)
from .rules import (
    RAW_QUOTED as _QUOTED,
)
from .rules import (
    RAW_RULE as _RULE,
)
from .rules import (
    RAW_SEPARATOR as _SEPARATOR,
)
from .rules import (
    RAW_SIG_DELIMITER as _SIG_DELIMITER,
)
from .rules import (
    SIGN_OFF,
    fold,
)


def _attribution_at(lines: list[str], i: int) -> int:
    """Number of lines (1–3) forming an attribution starting at line i, 0 if none."""
    first = lines[i].strip()
    if not first or len(first) > 400:
        return 0
    # Cheap test first: no attribution without its verb in these lines (most lines of a mail have none).
    window = " ".join(lines[i:i + 3]).lower()
    if not any(verb in window for verb in _ATTRIBUTION_VERBS):
        return 0
    return _attribution_from(lines, i, first)


def _verb_lines(lines: list[str]) -> set[int]:
    """Indices of the lines that hold an attribution verb, found in one pass over the whole text.

    _attribution_at's verb test on the window of lines i..i+2 is true exactly when one of those lines is in this
    set: str.lower() maps each character on its own (only a Greek sigma looks at its neighbours, and no verb holds
    one), and no verb holds the space or newline that join the lines. Reading every line's window costs a join,
    a lower() and fifteen substring tests per line; this costs fifteen find() scans per mail.
    """
    # Lowering the whole text gives each line the characters (and so the length) its own lower() gives: where a
    # line starts in it is only worked out when some verb is there (most requests hold none).
    text = "\n".join(lines).lower()
    found: set[int] = set()
    starts: list[int] = []
    for verb in _ATTRIBUTION_VERBS:
        position = text.find(verb)
        if position < 0:
            continue
        if not starts:
            offset = 0
            for line in lines:
                starts.append(offset)
                offset += len(line.lower()) + 1
        while position >= 0:
            found.add(bisect.bisect_right(starts, position) - 1)
            position = text.find(verb, position + 1)
    return found


def _attribution_with(lines: list[str], i: int, verbs: set[int]) -> int:
    """_attribution_at, its verb test read from `verbs` (_verb_lines of the same lines)."""
    first = lines[i].strip()
    if not first or len(first) > 400:
        return 0
    if i not in verbs and i + 1 not in verbs and i + 2 not in verbs:
        return 0
    return _attribution_from(lines, i, first)


def _attribution_from(lines: list[str], i: int, first: str) -> int:
    """The rest of _attribution_at, once its verb is known to be in the window."""
    strong = bool(_ATTRIBUTION_START.match(first))
    if not strong and not _ATTRIBUTION_START_WEAK.match(first):
        return 0
    joined = first
    for span in range(1, 4 if strong else 2):
        if _ends_attribution(joined):
            if _looks_like_attribution(joined):
                return span
            if span == 1 and len(first) <= 80 and i + 1 < len(lines) and _QUOTED.match(lines[i + 1]):
                return 1  # "Marc Slemko wrote:" directly above quoted lines (old Netscape/Usenet style)
        if i + span >= len(lines) or not lines[i + span].strip():
            return 0
        joined += " " + lines[i + span].strip()
        if len(joined) > 400:
            return 0
    return 0


def _ends_attribution(text: str) -> bool:
    """_ATTRIBUTION_END.search(text), faster on prose.

    A match ends at the end of the text, white space apart, with a colon or with the verb itself (each verb ends in
    a letter). So when the last character that is not white space (str.rstrip and the regex's \\s agree on what
    white space is) is no colon, only a verb ending right there can match.
    """
    tail = text.rstrip()
    if tail.endswith((":", "：")):
        return _ATTRIBUTION_END.search(text) is not None
    # Even that search tries the verbs at every character: first look at the last ten characters only.
    if not _VERB_ENDING.search(tail[-_VERB_ENDING_LENGTH:]):
        return False
    return _VERB_AT_END.search(tail) is not None


# How each verb of _ATTRIBUTION_END ends: the verb itself, or for "a\s+écrit", "a\s+ecrit" and "ha\s+scritto" (the
# white space may be any length) the word after it. Each alternative matches one character per pattern character
# (case-insensitive matching pairs single characters), the longest ten ("geschreven"): a verb that ends a text
# ends its last ten characters with one of these.
_VERB_ENDING = re.compile(r"(?:wrote|writes|écrit|ecrit|schrieb|skrev|escribió|escribio|scritto|scrisse|schreef|"
                          r"escreveu|escrevi|написал[а]?|napisał[a]?|geschreven|kirjoitti|yazdı)\Z", re.IGNORECASE)
_VERB_ENDING_LENGTH = 10


def _looks_like_attribution(text: str) -> bool:
    # A date, a time or an address must be present, so that "I wrote:" in prose does not cut the mail.
    text = text.lstrip("> -")
    return bool(
        re.search(r"\d{1,2}[:h.]\d{2}|\d{4}|@|\d{1,2}[./]\d{1,2}", text)
        or re.match(r"^(?:on|le|am)\s", text, re.IGNORECASE) and len(text) > 20
    )


def _header_block_at(lines: list[str], i: int) -> bool:
    """A quoted-message header block: a From-like line near at least one other header line."""
    match = _HEADER_KEY.match(lines[i])
    if not match:
        return False
    keys = {match.group("key").lower()}
    # Yahoo puts the whole block on one line: "De : … À : … Envoyé : … Objet : …".
    inline = re.findall(r"(?:^|\s)(de|à|envoyé|objet|from|to|sent|subject)\s*[:：]", lines[i], re.IGNORECASE)
    keys.update(k.lower() for k in inline)
    j = i + 1
    seen = 0
    while j < len(lines) and seen < 6:
        line = lines[j]
        if not line.strip():
            j += 1
            seen += 1
            continue
        other = _HEADER_KEY.match(line)
        if other:
            keys.add(other.group("key").lower())
        elif not line.startswith((" ", "\t")) and not keys & _FROM_KEYS:
            break
        j += 1
        seen += 1
    return bool(keys & _FROM_KEYS) and len(keys) >= 2 and bool(
        keys & {"sent", "envoyé", "envoyé le", "date", "datum", "gesendet", "subject", "objet", "sujet", "betreff",
                "to", "à", "pour", "an", "inviato", "oggetto", "data", "verzonden", "enviado", "enviado el", "enviada",
                "enviada em", "fecha", "aan", "para", "onderwerp", "asunto", "assunto"}
    )


def _paragraphs(lines: list[str]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = None
    for i, line in enumerate(lines + [""]):
        if line.strip() and start is None:
            start = i
        elif not line.strip() and start is not None:
            spans.append((start, i))
            start = None
    return spans


def _is_name_block(lines: list[str]) -> bool:
    """Short lines without sentence punctuation: a name and a job title, typically."""
    return 0 < len(lines) <= 4 and all(len(x.strip()) <= 50 and not x.rstrip().endswith((".", "?", "!", ":", ","))
                                       for x in lines)


def _corporate_signature_start(lines: list[str]) -> int | None:
    """Start of a company signature block (contact lines, legal or eco disclaimer) at the end of the text.

    Only blocks with such markers are cut: a bare name at the end ("Tony") is part of what members write.
    """
    paragraphs = _paragraphs(lines)
    marked = [k for k, (a, b) in enumerate(paragraphs) if sum(bool(_CORPORATE_MARKER.match(x)) for x in lines[a:b])]
    if not marked:
        return None
    first = marked[0]
    # The run of marked paragraphs must reach the end of the text (a disclaimer mid-text is content).
    if any(k not in marked for k in range(first, len(paragraphs))):
        return None
    start_par = first
    # The name/title lines may sit in the marked paragraph itself or in a short paragraph just above it.
    if first > 0:
        pa, pb = paragraphs[first - 1]
        if _is_name_block(lines[pa:pb]):
            start_par = first - 1
    start = paragraphs[start_par][0]
    # Prose at the top of the block is what the person wrote, not their signature ("Merci de me rappeler.\nTél…").
    while start < paragraphs[first][1] and _is_prose(lines[start]):
        start += 1
    return start


def _is_prose(line: str) -> bool:
    text = line.strip()
    return len(text) > 50 or (text.endswith((".", "?", "!")) and len(text.split()) >= 4)


def _split_signature(lines: list[str]) -> tuple[list[str], list[str]]:
    """Cut a "-- " block, a mobile "Sent from…" line or a company block (and what follows) off the new text."""
    for i, line in enumerate(lines):
        if _SIG_DELIMITER.match(line) and i > 0 and any(x.strip() for x in lines[i + 1 :]):
            return lines[:i], lines[i:]
        if _MOBILE_SIGNATURE.match(line):
            return lines[:i], lines[i:]
    filled = [i for i, x in enumerate(lines) if x.strip()]
    if len(filled) >= 2:
        last = filled[-1]
        # "---/dev/il": a short dashed sign-off line after a blank line.
        if re.match(r"^-{2,}[^\s-]\S{0,29}$", lines[last].strip()) and not lines[last - 1].strip():
            return lines[:last], lines[last:]
    after_sign_off = _after_sign_off(lines)
    if after_sign_off is not None:
        return lines[:after_sign_off], lines[after_sign_off:]
    corporate = _corporate_signature_start(lines)
    if corporate is not None:
        return lines[:corporate], lines[corporate:]
    return lines, []


def _after_sign_off(lines: list[str]) -> int | None:
    """The name/company/phone lines under "Cordialement," at the very end: the sign-off itself stays.

    Only cut when those lines carry contact details (a phone number, an address, a site): a bare first name
    under "Merci," is part of what the member wrote, while a contact block is a signature.
    """
    filled = [i for i, x in enumerate(lines) if x.strip()]
    for position in range(len(filled) - 2, max(len(filled) - 9, -1), -1):
        index = filled[position]
        if not SIGN_OFF.match(fold(lines[index])):
            continue
        tail = [lines[i] for i in filled[position + 1:]]
        if len(tail) <= 7 and all(len(x.strip()) <= 70 for x in tail) and any(_CONTACT_LINE.search(x) for x in tail):
            return index + 1
        return None
    return None


def quote_marks(lines: list[str]) -> list[bool]:
    """Which lines are quoted: "> …" lines, and "Name> …" lines when the same name marks several lines.

    In a mail with no attribution, separator or header block anywhere, a block of ">" lines that reads as shell
    prompts is the member's own text (a command they typed), not a quote.
    """
    named: dict[str, int] = {}
    for line in lines:
        match = _NAMED_QUOTE.match(line)
        if match:
            named[match.group(1)] = named.get(match.group(1), 0) + 1
    marks = [bool(_QUOTED.match(line)) or ((m := _NAMED_QUOTE.match(line)) is not None and named[m.group(1)] >= 2)
             for line in lines]
    i = 0
    while i < len(lines):
        if not marks[i]:
            i += 1
            continue
        j = i
        while j < len(lines) and marks[j]:
            j += 1
        if any(_PROMPT.match(lines[k]) for k in range(i, j)) and not any(
                _attribution_at(lines, k) or _SEPARATOR.match(lines[k]) or _header_block_at(lines, k)
                for k in range(len(lines)) if not marks[k]):
            for k in range(i, j):
                marks[k] = False
        i = j
    return marks


def marker_at(lines: list[str], i: int) -> tuple[int, str]:
    """(number of lines, how) of the quote marker starting at line i: an attribution, a separator (with the header
    block under it) or a header block; (0, "") when there is none."""
    return _marker(lines, i, None)


def _marker(lines: list[str], i: int, verbs: set[int] | None) -> tuple[int, str]:
    """marker_at; with `verbs` (_verb_lines of the same lines) when it is asked of many lines of one text."""
    if _SEPARATOR.match(lines[i]) or FORWARD_LINE.match(lines[i]):
        end = i + 1
        if end < len(lines) and _header_block_at(lines, end):
            end = _header_block_end(lines, end)
        return end - i, "forward" if FORWARD_LINE.match(lines[i]) else "separator"
    span = _attribution_at(lines, i) if verbs is None else _attribution_with(lines, i, verbs)
    if span:
        return span, "attribution"
    if _header_block_at(lines, i):
        return _header_block_end(lines, i) - i, "headers"
    return 0, ""


def _header_block_end(lines: list[str], i: int) -> int:
    """The line after a header block: header lines and their folded continuations, up to a blank or other line."""
    j = i + 1
    while j < len(lines):
        line = lines[j]
        if not line.strip() or _QUOTED.match(line):
            break
        if not _HEADER_KEY.match(line) and not line.startswith((" ", "\t")):
            break
        j += 1
    return j


def _next_filled(lines: list[str], i: int) -> int:
    while i < len(lines) and not lines[i].strip():
        i += 1
    return i


def _wrapped_quote_line(lines: list[str], marks: list[bool], i: int) -> bool:
    """An unquoted line between two quoted ones that only continues the quoted sentence (a client wrapped a long
    quoted line and lost its ">"): "> Nous aurions besoin du devis signé avant la" / "réunion de jeudi." / "> …"."""
    if not (0 < i < len(lines) - 1 and marks[i - 1] and marks[i + 1]):
        return False
    above = lines[i - 1].rstrip()
    text = lines[i].strip()
    return bool(text) and text[0].islower() and len(above) >= 60 and not above.endswith((".", "?", "!", ":", ";"))


def own_lines(text: str, *, fresh: bool = False) -> tuple[list[str], str]:
    """The lines the author wrote in this mail, in order, with a blank line where a quote was cut out, and how the
    quoted history was recognised ("" when there is none).

    Every layout: above the quote, below it, between quoted parts (each quoted block and its attribution or header
    block removed). A marker followed by unquoted text (Outlook's header block, "-----Original Message-----", an
    attribution over an unmarked quote, a forward) starts a history that runs to the end of the mail. In a `fresh`
    mail (one that answers nothing) with no marker anywhere, ">" lines are the author's own (a clause they cite,
    program output), not history.
    """
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "")
    lines = text.split("\n")
    marks = quote_marks(lines)
    verbs = _verb_lines(lines)
    if fresh and any(marks) and not any(line.strip() and _marker(lines, i, verbs)[0] for i, line in enumerate(lines)):
        marks = [False] * len(lines)
    kept: list[str] = []
    how = ""
    i = 0
    while i < len(lines):
        quoted = marks[i] or _wrapped_quote_line(lines, marks, i)
        span, kind = (0, "") if quoted or not lines[i].strip() else _marker(lines, i, verbs)
        if (quoted or span) and not how and _signed(kept):
            # The author signed off above the first quote: a top-posted reply, whatever follows is history (a
            # quote whose client prefixed only the first line, a signature under it).
            how = "quote" if quoted else kind
            break
        if quoted:
            how = how or "quote"
            if kept and kept[-1].strip():
                kept.append("")
            i += 1
            continue
        if span:
            how = how or kind
            after = _next_filled(lines, i + span)
            if kind == "forward" or after < len(lines) and not marks[after]:
                break  # an unmarked history (or a forwarded message): the rest of the mail
            while kept and (not kept[-1].strip() or _RULE.match(kept[-1])):
                kept.pop()  # the rule an HTML client draws above the quoted message (<hr>)
            if kept:
                kept.append("")
            i = after
            continue
        if lines[i].strip() or (kept and kept[-1].strip()):
            kept.append(lines[i])  # one blank line where a quote was cut out, never a run of them
        i += 1
    while kept and (not kept[-1].strip() or _RULE.match(kept[-1])):
        kept.pop()
    return kept, how


def _signed(kept: list[str]) -> bool:
    """The text so far ends like a finished mail: a signature, a phone's "Sent from…", or a sign-off and a name."""
    filled = [line for line in kept if line.strip()]
    if len(filled) < 2:
        return False
    if any(_SIG_DELIMITER.match(line) or _MOBILE_SIGNATURE.match(line) for line in filled[1:]):
        return True
    if any(SIGN_OFF.match(fold(line)) for line in filled[-3:-1]):
        return True  # "Cordialement,\nJeanne"
    return bool(SIGN_OFF.match(fold(filled[-1]))) and not SIGN_OFF.match(fold(filled[0]))


def _clean(lines: list[str]) -> str:
    return "\n".join(line.rstrip() for line in lines).strip("\n").strip()


def quoteless(text: str) -> str:
    """The mail's text without any quote, attribution or forwarded part, its signature kept: what to show when the
    new text is empty or only a greeting (never the quote as if it were new)."""
    return _clean(own_lines(text)[0])


def split_reply(text: str, *, fresh: bool = False) -> tuple[str, str]:
    """(new_text, signature): the sender's own words, without quoted history, and the signature cut off.

    `fresh`: the mail answers nothing (no In-Reply-To, References or "Re:"), see own_lines.
    """
    kept, _how = own_lines(text, fresh=fresh)
    body, signature = _split_signature(kept)
    return _clean(body), _clean(signature)
