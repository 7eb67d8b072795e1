"""Separating what the sender wrote from quoted history and signature (French and English clients)."""
from __future__ import annotations

import re

# Attribution lines: "On … wrote:", "Le … a écrit :", "Am … schrieb …:", "… skrev …:", "El … escribió:" …
# They may be split over up to three lines by the client, and Apple Mail sometimes quotes them ("> Le …").
_ATTRIBUTION_END = re.compile(
    r"(?:wrote|writes|a\s+écrit|a\s+ecrit|écrit|schrieb|skrev|escribió|escribio|ha\s+scritto|scrisse|"
    r"написал[а]?|napisał[a]?|geschreven|kirjoitti|yazdı)(?:\s*[:：]?|\b[^\n]{0,160}?[:：])\s*$",
    re.IGNORECASE,
)
# A multi-line attribution must open like one (a date or "On/Le/Am…"), so that the line above it
# ("Hello", "C'est super !") is never swallowed; a one-line attribution may start with a name or address.
_ATTRIBUTION_START = re.compile(
    r"^\s*(?:[->]\s*)*(?:on|le|am|den|el|il|em|op|w\s+dniu|\d+|\w{2,4}\.?,?\s+\d+)\b",
    re.IGNORECASE,
)
_ATTRIBUTION_START_WEAK = re.compile(r"^\s*(?:[->]\s*)*+(?:[^\s:]+@|\"?[\w'.-]+)", re.IGNORECASE)
_SEPARATOR = re.compile(
    r"""^\s*(?:[>*]\s*)*(?:
        -{2,}\s*(?:original\s+message|message\s+d'origine|message\s+original|message\s+transféré|
                   message\s+trans\S*|forwarded\s+message|messaggio\s+inoltrato|mensaje\s+original|ursprüngliche\s+nachricht|
                   weitergeleitete\s+nachricht|messaggio\s+originale|oorspronkelijk\s+bericht|
                   original\s+meddelelse|opprinnelig\s+melding|ursprungligt\s+meddelande)\s*-*
      | _{10,}\s*$
      | begin\s+forwarded\s+message\s*:
      | inizio\s+messaggio\s+inoltrato\s*:
      | début\s+du\s+message\s+(?:réexpédié|transféré)\s*:
      | (?:-\s*)?message\s+transféré\s*(?:-+)?\s*$
    )""",
    re.IGNORECASE | re.VERBOSE,
)
# Header lines of a quoted message block (Outlook, Thunderbird, Apple Mail, Yahoo) in FR/EN/DE.
_HEADER_KEY = re.compile(
    r"^\s*+[*>]*+\s*+(?P<key>from|de|von|fra|från|da|inviato|oggetto|data|sent|envoyé(?:\s+le)?|gesendet|date|datum|to|"
    r"à|a|pour|an|til|"
    r"cc|copie\s+à|subject|objet|sujet|betreff|emne|reply-to|répondre\s+à)\s*+[*]?\s*+[:：]",
    re.IGNORECASE,
)
_FROM_KEYS = {"from", "de", "von", "fra", "från", "da"}
_QUOTED = re.compile(r"^\s*>")

# Automatic signatures of mobile clients and webmails: everything from here down is signature.
_MOBILE_SIGNATURE = re.compile(
    r"""^\s*(?:
        sent\s+from\s+my\s+\S.* | sent\s+from\s+(?:outlook|yahoo|mail\s+for|samsung|my\s+).* |
        sent\s+with\s+\S.* | sent\s+via\s+\S.* | get\s+outlook\s+for\s+\S.* |
        envoyé\s+de\s+mon\s+\S.* | envoyé\s+depuis\s+\S.* | envoyé\s+à\s+partir\s+de\s+\S.* |
        envoyé\s+avec\s+\S.* | obtenir\s+outlook\s+pour\s+\S.* | téléchargez\s+outlook\s+pour\s+\S.* |
        von\s+meinem\s+\S.*\s+gesendet\.? | diese\s+nachricht\s+wurde\s+von\s+meinem\s+.*gesendet\.? |
        gesendet\s+von\s+meinem\s+\S.*
    )$""",
    re.IGNORECASE | re.VERBOSE,
)
_RULE = re.compile(r"^\s*[-_=]{8,}\s*$")
_SIG_DELIMITER = re.compile(r"^(?:-- ?|--|__|—)\s*$")


_ATTRIBUTION_VERBS = ("wrote", "writes", "crit", "schrieb", "skrev", "escrib", "scritto", "scrisse", "написал",
                      "napisał", "geschreven", "kirjoitti", "yazdı")


def _attribution_at(lines: list[str], i: int) -> int:
    """Number of lines (1–3) forming an attribution starting at line i, 0 if none."""
    first = lines[i].strip()
    if not first or len(first) > 400:
        return 0
    # Cheap test first: no attribution without its verb in these lines (most lines of a mail have none).
    window = " ".join(lines[i:i + 3]).lower()
    if not any(verb in window for verb in _ATTRIBUTION_VERBS):
        return 0
    strong = bool(_ATTRIBUTION_START.match(first))
    if not strong and not _ATTRIBUTION_START_WEAK.match(first):
        return 0
    joined = first
    for span in range(1, 4 if strong else 2):
        if _ATTRIBUTION_END.search(joined):
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
                "to", "à", "pour", "an", "inviato", "oggetto", "data"}
    )


def _quote_start(lines: list[str]) -> tuple[int, str]:
    """Index of the first line of quoted history and how it was recognised ("" when none)."""
    for i, line in enumerate(lines):
        if _SEPARATOR.match(line):
            return i, "separator"
        if _attribution_at(lines, i):
            return i, "attribution"
        if _header_block_at(lines, i):
            return i, "headers"
        if _QUOTED.match(line):
            return i, "quote"
    return len(lines), ""


_CORPORATE_MARKER = re.compile(
    r"^\s*(?:t[ée]l(?:[ée]phone)?\.?\s*[:.]?\s*[+\d(]|tel\.|fax\b|mobile\s*[:.]|portable\s*[:.]|gsm\s*[:.]|"
    r"e-?mail\s*:|www\.|p\.?\s*iva|siret|siren|rcs\b|cap\.\s*soc|n'imprimez|pensez\s+à\s+l'environnement|"
    r"please\s+consider\s+the\s+environment|nota\s+di\s+riservatezza|ce\s+(?:message|courriel|mail)\s+"
    r"(?:et\s+(?:ses|les)\s+pi[èe]ces|est\s+confidentiel)|this\s+(?:e-?mail|message)\s+(?:and\s+any|is\s+confidential))",
    re.IGNORECASE,
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


_SIGN_OFF = re.compile(
    r"^\s*+(?:(?:bien\s+|très\s+)?cordialement|bien\s+à\s+(?:vous|toi)|(?:sincères\s+|meilleures\s+)?salutations|"
    r"bonne\s+(?:journée|soirée)|à\s+bientôt|merci(?:\s+d'avance|\s+par\s+avance|\s+beaucoup)?|"
    r"(?:best|kind|warm)?\s*regards|best|cheers|thanks(?:\s+in\s+advance)?)\s*+[,.!]?\s*+$",
    re.IGNORECASE,
)
_CONTACT_LINE = re.compile(r"(?:\+?\d[\d .-]{7,}\d|@|www\.|https?://)")


def _after_sign_off(lines: list[str]) -> int | None:
    """The name/company/phone lines under "Cordialement," at the very end: the sign-off itself stays.

    Only cut when those lines carry contact details (a phone number, an address, a site): a bare first name
    under "Merci," is part of what the member wrote, while a contact block is a signature.
    """
    filled = [i for i, x in enumerate(lines) if x.strip()]
    for position in range(len(filled) - 2, max(len(filled) - 9, -1), -1):
        index = filled[position]
        if not _SIGN_OFF.match(lines[index]):
            continue
        tail = [lines[i] for i in filled[position + 1:]]
        if len(tail) <= 7 and all(len(x.strip()) <= 70 for x in tail) and any(_CONTACT_LINE.search(x) for x in tail):
            return index + 1
        return None
    return None


def _after_quote(lines: list[str], start: int) -> list[str]:
    """Bottom-posting: the unquoted lines after the last quoted line of the first quote block."""
    last_quoted = -1
    for i in range(start, len(lines)):
        if _QUOTED.match(lines[i]):
            last_quoted = i
        elif lines[i].strip() and last_quoted >= 0 and not _QUOTED.match(lines[i]):
            # Keep scanning: several quote/answer rounds are "interleaved"; we take the text after the last.
            continue
    if last_quoted < 0:
        return []
    return lines[last_quoted + 1 :]


def _clean(lines: list[str]) -> str:
    return "\n".join(line.rstrip() for line in lines).strip("\n").strip()


def split_reply(text: str) -> tuple[str, str]:
    """(new_text, signature): the sender's own words, without quoted history, and the signature cut off."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "")
    lines = text.split("\n")
    start, how = _quote_start(lines)
    end = start
    while end and (not lines[end - 1].strip() or _RULE.match(lines[end - 1])):
        end -= 1  # blank lines, and the rule an HTML client draws above the quoted message (<hr>)
    new = lines[:end]
    body, signature = _split_signature(new)
    if not _clean(body) and how in ("attribution", "quote"):
        # Nothing above the quote: a bottom-posted reply has its text below the quoted block.
        below = _after_quote(lines, start)
        if below:
            below_start, _ = _quote_start(below)
            body, signature = _split_signature(below[:below_start])
    elif how and not signature:
        # Top-posted reply whose client put the signature under the quote (K-9 Mail, some webmails).
        tail = _after_quote(lines, start)
        tail_body, tail_signature = _split_signature(tail)
        if tail_signature and not _clean(tail_body):
            signature = tail_signature
    return _clean(body), _clean(signature)
