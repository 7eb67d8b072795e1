"""French that reads as written by a person: the rules compose.py applies to every rendered mail.

A template mixes two kinds of text: the template's own words, and values (a name, a date, a member's message).
Most mistakes happen where they meet: "de Alice", "Bruno." + "." = "Bruno..", "Bonjour Alice, … Bonjour Alice".
So the renderer marks every value (`mark_value`, Jinja's `finalize`) with invisible private-use characters, the rules
below look at those seams, then `unmark` removes the marks:

- `elide`: "de" / "que" / "le" / "la" / "je"… before a value starting with a vowel → "d'Alice", "qu'Yves";
- `no_double_stop`: a value ending with « . ! ? … » followed by the template's own "." → one mark only;
- `one_greeting`: a relayed text opening with its own greeting ("Bonjour Alice,") in a mail that already greets →
  the relayed greeting goes (the template's one stays);
- line breaks inside a value are the writer's own: `wrap_paragraphs` (in compose) keeps them (`HARD_BREAK`).

`typography` then puts the no-break spaces French wants before « : ; ! ? » and inside « », on every line but quoted
ones (« > »), and `accord` agrees a word with a member's civility (madame / monsieur; unknown: the template uses an
epicene phrasing instead, see `civilite`).
"""
from __future__ import annotations

import re
from typing import Any

VALUE_START = "\ue002"
VALUE_END = "\ue003"
HARD_BREAK = "\ue001"  # ends a line whose line break is the writer's own (inside a value)
NBSP = "\u00a0"

CIVILITIES = {"madame": "Madame", "monsieur": "Monsieur"}  # stored value -> how the profile shows it


_ALL_MARKS = str.maketrans("", "", VALUE_START + VALUE_END + HARD_BREAK)
_HAS_MARK = re.compile(f"[{VALUE_START}{VALUE_END}{HARD_BREAK}]")


def mark_value(value: Any) -> Any:
    """Jinja `finalize`: every `{{ … }}` output is framed by the value marks; its own line breaks become hard.
    Marks already in the value (a macro's output, or a sender who typed these private-use characters) go first."""
    text = value if isinstance(value, str) else str(value)
    if _HAS_MARK.search(text):  # rare: searching is much cheaper than translating every character
        text = text.translate(_ALL_MARKS)
    if "\n" in text:
        text = text.replace("\n", HARD_BREAK + "\n")
    return VALUE_START + text + VALUE_END


def unmark(text: str) -> str:
    # Two replaces, not str.translate: translate looks every character up, replace runs at memchr's speed.
    return text.replace(VALUE_START, "").replace(VALUE_END, "")


# Words that lose their vowel before a vowel or a mute h: "de Alice" → "d'Alice". Only at a seam between the
# template and a value: the template's own text is written right, and a member's words are theirs.
_ELIDABLE = re.compile(
    rf"(?<![\w'’])(?P<word>[Dd]e|[Qq]ue|[Ll]e|[Ll]a|[Jj]e|[Jj]usque|[Ll]orsque|[Pp]uisque) (?P<marks>{VALUE_START}+)"
    # A vowel, a mute h, or a y said as a vowel ("d'Yves", but "de Yannick", "de Yolande").
    rf"(?=[AEIOUÂÊÎÔÛÀÉÈËÏÜaeiouâêîôûàéèëïüœŒ]|H[a-zéèêàâîôû]|[Yy](?![aeiouéèêàâîôûAEIOU]))"
    # An e-mail address is spelt, not said: « de alice@… » stays as it is.
    rf"(?![^\s{VALUE_END}]*@)")


# Every elision is at a seam: an elidable word, one space, a value's mark. The pattern above starts with a
# lookbehind, which the regex engine would try at every character of a kilobytes-long body; `elide` instead finds
# each seam (" " + VALUE_START) with str.find and tries the pattern only where the word would start, for each
# length an elidable word has. At most one of those starts can match (the lookbehind wants no letter just before
# the word: "que" never matches inside "lorsque"), the seams come in order and matches never overlap (a word is
# letters, a seam is not): the result is the same as `_ELIDABLE.sub` on the whole text.
_SEAM = " " + VALUE_START
_ELIDABLE_LENGTHS = (2, 3, 6, 7)  # de le la je / que / jusque / lorsque puisque


def elide(text: str) -> str:
    """"de ⟨Alice⟩" → "d'⟨Alice⟩" (also que, le, la, je, jusque, lorsque, puisque)."""
    seam = text.find(_SEAM)
    if seam < 0:
        return text
    pieces: list[str] = []
    done = 0  # the text before this is in `pieces`
    while seam >= 0:
        for length in _ELIDABLE_LENGTHS:
            start = seam - length
            if start < done:
                break
            match = _ELIDABLE.match(text, start)
            if match:
                pieces += [text[done:start], match["word"][:-1], "'", match["marks"]]
                done = match.end()
                break
        seam = text.find(_SEAM, seam + 1)
    return "".join(pieces) + text[done:] if pieces else text


def elide_word(word: str, name: Any) -> str:
    """For templates: {{ "de" | elide(name) }} → "d'Alice" / "de Bruno"."""
    value = str(name)
    return unmark(elide(f"{word} {VALUE_START}{value}"))


_DOUBLE_STOP = re.compile(rf"([.!?…]){VALUE_END}+\.(?!\.)")


def no_double_stop(text: str) -> str:
    """"⟨Bruno.⟩." → "Bruno.", "⟨aider ?⟩." → "aider ?"."""
    if VALUE_END + "." not in text:  # what every double stop holds: the common case, found at memchr's speed
        return text
    return _DOUBLE_STOP.sub(lambda m: m[1] + VALUE_END, text)


_GREETING = (r"(?:Re-?)?(?:Bonjour|Bonsoir|Salut|Hello|Coucou|Ch[eè]re?s?|Madame|Monsieur)"
             rf"(?:[ \u00a0][^\s,!.{VALUE_END}]+){{0,3}}")  # a greeting names at most three words
_TEMPLATE_GREETING = re.compile(rf"\A\s*(?i:{_GREETING})[,!.]?[ \t]*(?:\n|$)")
# A relayed greeting: a whole greeting line, or the greeting words up to their comma at the start of a paragraph.
_RELAYED_GREETING = re.compile(rf"(?m)(^|{VALUE_START})((?:{VALUE_START})*)[ \t]*(?i:{_GREETING})"
                               rf"(?:[,!][ \t]*(?:{HARD_BREAK}?\n)?|{HARD_BREAK}?\n)(?:[ \t]*{HARD_BREAK}?\n)*")


def one_greeting(text: str) -> str:
    """When the mail opens with a greeting (the template's), a relayed text's own opening greeting is left out."""
    opening = _TEMPLATE_GREETING.match(unmark(text))
    if not opening:
        return text
    # The template's greeting line is left alone: skip as many lines as it spans.
    cut = 0
    for _ in range(opening[0].count("\n")):
        cut = text.index("\n", cut) + 1
    head, rest = text[:cut], text[cut:]

    def drop(match: re.Match[str]) -> str:
        # Only a greeting that opens a value: the template's own words are never touched.
        return match[1] + match[2] if (match[1] or match[2]) else match[0]

    # What followed the greeting on its line now starts the sentence: "Bonjour Alice, voici…" → "Voici…".
    return head + _capitalise_after(_RELAYED_GREETING.sub(drop, rest), rest)


def _capitalise_after(mended: str, original: str) -> str:
    if mended == original:
        return mended
    at = next((i for i, (a, b) in enumerate(zip(mended, original, strict=False)) if a != b), len(original))
    while at < len(mended) and mended[at] in VALUE_START + VALUE_END + " \t":
        at += 1
    return mended[:at] + mended[at:at + 1].upper() + mended[at + 1:] if at < len(mended) else mended


# French punctuation: a no-break space before « : ; ! ? » (instead of a plain one) and inside « ».
# The rules run on every line of every mail (a relayed request is kilobytes): each pattern starts with what it
# looks for (a space, a digit) and checks what comes before with a lookbehind placed after it, so the regex engine
# skips ahead to its first character instead of trying the lookbehind at every position.
# The spaces before a « : ; ! ? » and before a closing « » » are found from that mark, rarer than spaces, then
# backwards (`_nbsp_before`): the same rules as the regexes [ \t](?<=\S[ \t])[ \t]*(?=[:;!?](?:\s|$|[»)\].,⟨hard
# break⟩])) and (?<=\S)[ \t]*», whose first space or lookbehind the engine would try at every space or character.
_SPACED_PUNCTUATION = re.compile(rf"[:;!?](?=\s|$|[»)\].,{HARD_BREAK}])")
_OPEN_QUOTE = re.compile(r"«[ \t]*(?=\S)")
_AFTER_SPACED = frozenset(f"»)].,{HARD_BREAK}")


def _spaced_punctuation(line: str) -> list[int]:
    """Where _SPACED_PUNCTUATION matches, in order. The regex engine tests its character class at every character
    of a kilobytes-long request; str.find looks for each of the four marks at memchr's speed, and only the few
    found are checked: followed by a space (the regex's \\s is str.isspace), the end, or a closing mark."""
    found: list[int] = []
    for mark in ":;!?":
        at = line.find(mark)
        while at >= 0:
            found.append(at)
            at = line.find(mark, at + 1)
    found.sort()
    last = len(line) - 1
    return [at for at in found if at == last or line[at + 1].isspace() or line[at + 1] in _AFTER_SPACED]


_CLOSING_QUOTE = re.compile("»")


def _nbsp_before(line: str, marks: list[int], *, bare: bool) -> str:
    """The spaces and tabs just before each position of `marks` become one no-break space, when a character
    other than a space comes before them (not at the start of the line); with `bare`, a no-break space is also
    put where there was none."""
    pieces: list[str] = []
    done = 0  # the line before this is in `pieces`
    for at in marks:
        start = at
        while start > 0 and line[start - 1] in " \t":
            start -= 1
        if start == 0 or line[start - 1].isspace() or (start == at and not bare):  # isspace() is what \s is
            continue
        pieces += [line[done:start], NBSP]
        done = at
    return "".join(pieces) + line[done:] if pieces else line


# Numbers hold to what they count: "1 000", "n° 3", "12 Ko", "10 h 02", "200 €" never break at the line's end.
_NUMBER_SPACE = re.compile(r" (?:(?<=\d )(?=\d{3}(?!\d)|(?:h|€|%|Ko|Mo|Go|ko)(?!\w))|(?<=n° )(?=\d))")


# A date is read as one thing: "jeudi 10 décembre 2026", "1er mars", "à 10 h 00" are never cut at a line's end.
# Found by its number (a digit not inside a word); a weekday just before a day and month is glued to it too.
_MONTHS = "janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre"
_DATE = re.compile(rf"\d(?<!\w\d)(?:(?P<day>\d?(?:er)? (?:{_MONTHS})(?: \d{{4}})?\b)|\d?[ \u00a0]h \d{{2}}\b)")
_WEEKDAY_BEFORE = re.compile(r"(?<!\w)(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche) \Z")


def _glue_dates(text: str) -> str:
    pieces: list[str] = []
    at = 0
    for match in _DATE.finditer(text):
        start = match.start()
        if match["day"] is not None and _WEEKDAY_BEFORE.search(text, max(0, start - 10), start):
            start -= 1  # the space between the weekday and the number
        pieces += [text[at:start], text[start:match.end()].replace(" ", NBSP)]
        at = match.end()
    return "".join(pieces) + text[at:] if pieces else text


# Every rule of `typography` needs one of these: a line without any is left as it is (and quickly).
_TYPOGRAPHY_CHARS = re.compile(r"[:;!?«»\d]|n°")


def typography_text(text: str) -> str:
    """`typography` on each line of a text (quoted lines kept as written). Without quoted lines the rules run once
    on the whole text: none of them crosses a line end (they match spaces and tabs, never a line break)."""
    if text.startswith(">") or "\n>" in text:
        return "\n".join(typography(line) for line in text.split("\n"))
    return typography(text)


def typography(line: str) -> str:
    """One line: plain spaces before « : ; ! ? », next to « », inside numbers and dates become no-break spaces."""
    if line.startswith(">"):  # a quoted mail is shown as it was written
        return line
    if not _TYPOGRAPHY_CHARS.search(line):
        return line  # most lines of prose: nothing these rules look at
    line = _nbsp_before(line, _spaced_punctuation(line), bare=False)
    if "«" in line:
        line = _OPEN_QUOTE.sub("«" + NBSP, line)
    if "»" in line:
        line = _nbsp_before(line, [match.start() for match in _CLOSING_QUOTE.finditer(line)], bare=True)
    line = _NUMBER_SPACE.sub(NBSP, line)
    return _glue_dates(line)


def civilite(value: Any) -> str:
    """The stored civility, normalised: "madame", "monsieur" or "" (not given)."""
    text = str(value or "").strip().lower()
    return text if text in CIVILITIES else ""


def accord(word: str, civility: Any, feminine: str | None = None) -> str:
    """The word agreed with the civility: {{ "inscrit" | accord(civilite) }} → "inscrite" for Madame.

    Unknown civility gives the masculine form: a template that cannot know must phrase the sentence so that no
    agreement is needed (« Nous avons prévenu Alice Martin »), with {% if civilite %}.
    """
    if civilite(civility) != "madame":
        return word
    if feminine is not None:
        return feminine
    return word if word.endswith("e") else word + "e"
