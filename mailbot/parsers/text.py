"""Plain-text body normalisation: line endings and RFC 3676 format=flowed."""
from __future__ import annotations

import re

# Runs of four newlines or more (tidy writes three in their place: a run of exactly three is left as it is, so it
# need not be matched); written with the newlines spelled out so that the regex engine searches for that literal
# prefix instead of trying the pattern at every character. Same result as r"\n{3,}" replaced by three newlines.
_TRAILING_BLANKS = re.compile(r"\n\n\n\n+")


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
        body = body.removeprefix(" ")  # space-stuffing
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


_PGP_SIGNED = re.compile(r"^-----BEGIN PGP SIGNED MESSAGE-----\n(?:Hash: [^\n]*\n)*\n?", re.MULTILINE)
_PGP_SIGNATURE = re.compile(r"^-----BEGIN PGP SIGNATURE-----\n.*?^-----END PGP SIGNATURE-----\n?", re.MULTILINE | re.DOTALL)


def strip_pgp_armor(text: str) -> str:
    """Inline PGP (RFC 4880 cleartext signature): the armor lines and the signature block are not the sender's
    words; lines starting with "-" were dash-escaped ("- -- ") and get their dash back."""
    if "-----BEGIN PGP SIGNED MESSAGE-----" not in text:
        return text
    text = _PGP_SIGNATURE.sub("", _PGP_SIGNED.sub("", text))
    return re.sub(r"(?m)^- (?=-)", "", text)


def tidy(text: str) -> str:
    """Trailing spaces off each line, no more than two blank lines in a row, no blank edges."""
    lines = [line.rstrip() for line in text.split("\n")]
    return _TRAILING_BLANKS.sub("\n\n\n", "\n".join(lines)).strip("\n")


# Words whose full stop does not end a sentence: titles, days and months, Latin and French shorthand.
_ABBREVIATIONS = frozenset(["m", "mm", "mme", "mmes", "mlle", "mlles", "me", "mes", "dr", "pr", "prof", "st", "ste", "sté", "cie", "ets", "etc", "cf", "ex", "p", "pp", "vol", "chap", "art", "al", "env", "tél", "tel", "fax", "réf", "ref", "av", "bd", "boul", "fg", "pl", "rte", "no", "num", "lun", "mar", "mer", "jeu", "ven", "sam", "dim", "janv", "jan", "fév", "févr", "fev", "fevr", "avr", "juil", "aou", "sept", "sep", "oct", "nov", "déc", "dec", "hab", "tps", "qqch", "qqn", "svp", "cad", "vs", "ca", "approx", "max", "min", "mn", "ht", "ttc", "tva", "sa", "sarl", "sas", "eurl"])
_SENTENCE_END = re.compile(r"[.!?…]+[»\"')\]]*(?=\s|$)")
_GREETING = re.compile(
    r"^\s*(?:bonjour|bonsoir|salut|hello|coucou|madame|monsieur|mesdames|messieurs|cher|chère|chers|chères|"
    r"re-?bonjour|hi|dear)\b[^.!?\n]{0,50}?(?:[,!:.]|$)",
    re.IGNORECASE,
)


def first_sentence(text: str, limit: int) -> str:
    """The first real sentence of `text` (what a member wrote), at most `limit` characters.

    A greeting line ("Bonjour Madame,") is skipped; quoted lines are never read; the cut is at a full stop, a
    question or exclamation mark that ends a sentence, not at an abbreviation ("M.", "lun.", "p. ex.", "etc."),
    an initial ("J. Dupont"), a number ("n° 12.", "1. …") or a date or time ("12.03.2026", "14.30").
    """
    lines = [line for line in (text or "").split("\n") if not line.lstrip().startswith(">")]
    flat = " ".join(" ".join(lines).split())
    greeting = _GREETING.match(flat)
    if greeting and greeting.end() < len(flat):
        flat = flat[greeting.end():].lstrip()
    elif greeting:
        return ""
    for match in _SENTENCE_END.finditer(flat):
        if match.group(0).startswith(".") and not match.group(0).startswith("..") and _abbreviation_before(
                flat, match.start()):
            continue
        flat = flat[:match.end()]
        break
    return shorten(flat, limit)


def _abbreviation_before(text: str, dot: int) -> bool:
    word = re.search(r"([^\W_]+)$", text[:dot])
    if word is None:
        return text[:dot].endswith("°")  # "n°."
    token = word.group(1)
    following = text[dot + 1:].lstrip()[:1]
    if token.lower() == "h" and re.search(r"\d\s?h$", text[:dot]):
        return bool(following) and not following.isupper()  # "à 14 h. Pouvez-vous…": a time ends the sentence
    if token.lower() in _ABBREVIATIONS or len(token) == 1:
        return True  # "M.", "lun.", "J. Dupont", "p. ex."
    if token.isdigit():
        # "1." opening a list item, a day ("le 3. mars" is rare) — a number ends a sentence only at the text's end
        # or before a capital after a full word: "… coûte 1 200 €." ends on "€", so digits here are not an end.
        return dot + 1 < len(text) and not text[dot + 1:].lstrip()[:1].isupper()
    return bool(following) and following.islower()  # "… la S.A. ou …": a lower-case word follows, same sentence


def shorten(text: str, limit: int) -> str:
    """`text` on one line, cut at a word boundary with "…" when longer than `limit`."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"
