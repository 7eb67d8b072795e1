"""Shared text rules of the parsers, in one place: folding and words, greetings and sign-offs, signature and quote
markers, the ticket reference. Every parser that needs one of these imports it from here, so that the lists no
longer drift apart (registration, results, consent, commands, quotes and matching each had their own).

Patterns named here in capitals are matched on *folded* text (see `fold`) unless their comment says otherwise.
"""
from __future__ import annotations

import re
import unicodedata

# Characters that phones, Outlook and HTML conversion put where a plain one is meant.
_PLAIN = {
    "\u00a0": " ", "\u202f": " ", "\u2007": " ", "\u2009": " ", "\u200a": " ", "\t": " ",
    "\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u00b4": "'", "`": "'",
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
    "\uff03": "#",
}


class _FoldTable(dict[int, str]):
    """str.translate table computed on first sight of each character (then a dict lookup in C)."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        plain = _PLAIN.get(char)
        if plain is None:
            base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)).lower()
            # Ligatures and the like decompose to several characters: keep the first, the length must not change.
            plain = base[:1] if base else char.lower()[:1] or char
        if len(self) < 65536:  # bounded: a mail of random code points must not grow it without end
            self[code] = plain
        return plain


_FOLD = _FoldTable()
_ASCII_PLAIN = str.maketrans({char: plain for char, plain in _PLAIN.items() if char.isascii()})


def fold(text: str) -> str:
    """Lower case without accents, same length as `text` (one output character per input character).

    Keeping the length lets callers match on the folded text and slice the original with the same indices. Called
    on every line of every mail: plain ASCII text takes the fast path.
    """
    if text.isascii():
        return text.lower().translate(_ASCII_PLAIN)
    return text.translate(_FOLD)


class _CombiningTable(dict[int, None | int]):
    """str.translate table that deletes combining marks (unicodedata.combining() non-zero) and keeps every other
    character, computed on first sight of each character: the same as a per-character generator, in C."""

    def __missing__(self, code: int) -> None | int:
        keep = None if unicodedata.combining(chr(code)) else code
        if len(self) < 65536:  # bounded, as _FoldTable
            self[code] = keep
        return keep


_NO_COMBINING = _CombiningTable()


def drop_combining(text: str) -> str:
    """`text` without its combining marks (accents once decomposed by NFKD/NFD). ASCII has none."""
    return text if text.isascii() else text.translate(_NO_COMBINING)


class _FormatTable(dict[int, None | int]):
    """str.translate table that deletes format characters (Unicode category Cf: soft hyphen, zero-width space and
    joiners, word joiner, BOM, bidi marks and isolates, tag characters) and keeps every other character, computed on
    first sight of each character."""

    def __missing__(self, code: int) -> None | int:
        keep = None if unicodedata.category(chr(code)) == "Cf" else code
        if len(self) < 65536:  # bounded, as _FoldTable
            self[code] = keep
        return keep


_NO_FORMAT = _FormatTable()


def drop_format(text: str) -> str:
    """`text` without its invisible format characters (see _FormatTable): what a reader must not let split a word
    ("#c\u00adlore" is "#clore"). ASCII has none."""
    return text if text.isascii() else text.translate(_NO_FORMAT)


def nfc(text: str) -> str:
    """`text` in Unicode's composed form (NFC): "e" + COMBINING ACUTE, as macOS and iOS often send it, is "é".
    Canonically equivalent (shown the same), so nothing the sender wrote is lost; ASCII and text already composed
    (nearly every mail) are returned as they are after a quick check."""
    if text.isascii() or unicodedata.is_normalized("NFC", text):
        return text
    return unicodedata.normalize("NFC", text)


def fold_words(text: str) -> str:
    """Lower case, accents dropped and ligatures spelled out ("Œnologie" -> "oenologie"): for word matching, where
    the length may change (use `fold` to keep one character per character)."""
    text = text.lower().replace("œ", "oe").replace("æ", "ae")
    return drop_combining(unicodedata.normalize("NFKD", text))


# A word: letters of any script; "c++" and "c#" kept whole.
WORD = re.compile(r"[^\W\d_]+(?:\+\+|#)?")


def words(text: str) -> list[str]:
    """The folded words of `text`, in order."""
    return WORD.findall(fold_words(text))


# --- Greetings and sign-offs (folded text) ---------------------------------------------------------------------
GREETING_WORDS = r"(?:re-?)?bonjour|bonsoir|salut|hello|coucou|hi|dear|cher|chere|madame|monsieur"
SIGN_OFF_WORDS = (
    r"(?:bien\s+|tres\s+)?cordialement|bien\s+a\s+(?:vous|toi)|(?:sinceres\s+|meilleures\s+|cordiales\s+)?salutations|"
    r"bonne\s+(?:journee|soiree|fin\s+de\s+journee|continuation)|belle\s+journee|a\s+bientot|amicalement|bises|"
    r"merci(?:\s+d'avance|\s+par\s+avance|\s+beaucoup|\s+bien)?|(?:best|kind|warm)?\s*regards|best|cheers|"
    r"thanks(?:\s+in\s+advance)?"
)
# A line that is only a sign-off ("Bien cordialement,", "Merci !").
SIGN_OFF = re.compile(rf"^\s*+(?:{SIGN_OFF_WORDS})\s*+[,.!]*\s*+$")
# A line that starts with one ("Cordialement, Jeanne").
SIGN_OFF_START = re.compile(rf"^\s*+(?:{SIGN_OFF_WORDS})\b")
# A piece of text (between punctuation) that is only courtesy: says nothing to act on.
COURTESY = re.compile(rf"^(?:{GREETING_WORDS}|{SIGN_OFF_WORDS}|aideur)$")


# A greeting with a title or a name ("Bonjour Madame", "Bonsoir à tous", "Cher Aideur", "Bonjour Jean-Marc").
_GREETING_PIECE = re.compile(
    rf"^(?i:{GREETING_WORDS})(?:\s+(?:(?i:a\s+tous|a\s+toutes|tout\s+le\s+monde|madame|monsieur|mesdames|"
    rf"messieurs|mademoiselle|aideur|l'equipe|le\s+club|amis?|amies?)|[A-Z][\w'-]*)){{0,3}}$"
)


_PIECE = re.compile(r"[^\n,.!;:?]+")
_NAME_AT_END = re.compile(r"(?:[A-ZÀ-Ý][\w'-]*\.?\s*){1,3}")


def is_courtesy_only(text: str) -> bool:
    """A text made only of greetings, sign-offs and a name at the end ("Bonjour,\n\nMerci !\nJean Martin") says
    nothing to act on. An empty text is courtesy only too."""
    # Read piece by piece and stop at the first piece after a non-courtesy one: a request's text is decided in its
    # first sentences, however long it is (this runs several times on every mail).
    filled = 0
    rest = ""
    for match in _PIECE.finditer(text or ""):
        piece = match.group().strip(" -")
        if not piece:
            continue
        if rest:
            return False  # something after a non-courtesy piece: more than a name at the end
        filled += 1
        if not COURTESY.match(fold(piece)) and not _GREETING_PIECE.match(_plain(piece)):
            rest = piece
    # Only a name may remain, at the end, after some courtesy: "Jean", "Jean Martin", "J. Martin".
    return not rest or (filled > 1 and bool(_NAME_AT_END.fullmatch(rest)))


def _plain(piece: str) -> str:
    """Folded (no accents, plain spaces) but with its capitals kept: a name is told by its capital."""
    if piece.isascii():
        # fold() lowers and maps tab and backquote; the capitals put back, only that mapping remains.
        return piece.translate(_ASCII_PLAIN)
    return "".join(f.upper() if o.isupper() else f for o, f in zip(piece, fold(piece), strict=False))


# --- Signature and quote markers on folded lines (consent.py, results.py, registration.py) -----------------------
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


# --- Quote and signature markers on raw lines (accents kept): quotes.py and forwards.py ------------------
# Attribution lines: "On … wrote:", "Le … a écrit :", "Am … schrieb …:", "… skrev …:", "El … escribió:" …
# They may be split over up to three lines by the client, and Apple Mail sometimes quotes them ("> Le …").
_RAW_ATTRIBUTION_VERB = (
    r"(?:wrote|writes|a\s+écrit|a\s+ecrit|écrit|schrieb|skrev|escribió|escribio|ha\s+scritto|scrisse|schreef|"
    r"escreveu|escrevi|"
    r"написал[а]?|napisał[a]?|geschreven|kirjoitti|yazdı)"
)
RAW_ATTRIBUTION_END = re.compile(_RAW_ATTRIBUTION_VERB + r"(?:\s*[:：]?|\b[^\n]{0,160}?[:：])\s*$", re.IGNORECASE)
# RAW_ATTRIBUTION_END on a text whose last character is not a colon: then only its verb, right at the end, can
# match (every verb ends in a letter). Searching for that is fast, where RAW_ATTRIBUTION_END reads up to 160
# characters after every verb it meets ("décrit", "écrit" in prose) looking for a colon. See quotes._ends_attribution.
RAW_ATTRIBUTION_VERB_AT_END = re.compile(_RAW_ATTRIBUTION_VERB + r"\Z", re.IGNORECASE)
# A multi-line attribution must open like one (a date or "On/Le/Am…"), so that the line above it
# ("Hello", "C'est super !") is never swallowed; a one-line attribution may start with a name or address.
RAW_ATTRIBUTION_START = re.compile(
    r"^\s*(?:[->]\s*)*(?:on|le|am|den|el|il|em|op|w\s+dniu|\d+|\w{2,4}\.?,?\s+\d+)\b",
    re.IGNORECASE,
)
RAW_ATTRIBUTION_START_WEAK = re.compile(r"^\s*(?:[->]\s*)*+(?:[^\s:]+@|\"?[\w'.-]+)", re.IGNORECASE)
RAW_SEPARATOR = re.compile(
    r"""^\s*(?:[>*]\s*)*(?:
        -{2,}\s*(?:original\s+message|message\s+d'origine|message\s+original|message\s+transféré|
                   message\s+trans\S*|forwarded\s+message|messaggio\s+inoltrato|mensaje\s+original|ursprüngliche\s+nachricht|
                   weitergeleitete\s+nachricht|messaggio\s+originale|oorspronkelijk\s+bericht|
                   original\s+meddelelse|opprinnelig\s+melding|ursprungligt\s+meddelande|mensagem\s+original)\s*-*
      | _{10,}\s*$
      | begin\s+forwarded\s+message\s*:
      | inizio\s+messaggio\s+inoltrato\s*:
      | début\s+du\s+message\s+(?:réexpédié|transféré)\s*:
      | (?:-\s*)?message\s+transféré\s*(?:-+)?\s*$
    )""",
    re.IGNORECASE | re.VERBOSE,
)
# Header lines of a quoted message block (Outlook, Thunderbird, Apple Mail, Yahoo) in FR/EN/DE.
RAW_HEADER_KEY = re.compile(
    r"^\s*+[*>]*+\s*+(?P<key>from|de|von|fra|från|da|van|inviato|oggetto|data|sent|envoyé(?:\s+le)?|gesendet|date|datum|"
    r"verzonden|enviado(?:\s+el)?|enviada(?:\s+em)?|fecha|to|à|a|pour|an|til|aan|para|onderwerp|asunto|assunto|"
    r"cci|bcc|importance|priorité|priority|wichtigkeit|"
    r"cc|copie\s+à|subject|objet|sujet|betreff|emne|reply-to|répondre\s+à)\s*+[*]?\s*+[:：]",
    re.IGNORECASE,
)
RAW_FROM_KEYS = {"from", "de", "von", "fra", "från", "da", "van"}
RAW_QUOTED = re.compile(r"^\s*>")
# Automatic signatures of mobile clients and webmails: everything from here down is signature.
RAW_MOBILE_SIGNATURE = re.compile(
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
RAW_RULE = re.compile(r"^\s*[-_=]{8,}\s*$")
RAW_SIG_DELIMITER = re.compile(r"^(?:-- ?|--|__|—)\s*$")
RAW_ATTRIBUTION_VERBS = ("wrote", "writes", "crit", "schrieb", "skrev", "escrib", "scritto", "scrisse", "schreef",
                      "escrev", "написал",
                      "napisał", "geschreven", "kirjoitti", "yazdı")
RAW_CORPORATE_MARKER = re.compile(
    r"^\s*(?:t[ée]l(?:[ée]phone)?\.?\s*[:.]?\s*[+\d(]|tel\.|fax\b|mobile\s*[:.]|portable\s*[:.]|gsm\s*[:.]|"
    r"e-?mail\s*:|www\.|p\.?\s*iva|siret|siren|rcs\b|cap\.\s*soc|n'imprimez|pensez\s+à\s+l'environnement|"
    r"please\s+consider\s+the\s+environment|nota\s+di\s+riservatezza|ce\s+(?:message|courriel|mail)\s+"
    r"(?:et\s+(?:ses|les)\s+pi[èe]ces|est\s+confidentiel)|this\s+(?:e-?mail|message)\s+(?:and\s+any|is\s+confidential))",
    re.IGNORECASE,
)
RAW_CONTACT_LINE = re.compile(r"(?:\+?\d[\d .-]{7,}\d|@|www\.|https?://)")
RAW_FORWARD_LINE = re.compile(
    r"""^\s*(?:[>*]\s*)*(?:
        -{2,}\s*(?:message\s+transféré|message\s+trans\S*|forwarded\s+message|messaggio\s+inoltrato|
                   weitergeleitete\s+nachricht|mensaje\s+reenviado|mensagem\s+encaminhada|doorgestuurd\s+bericht)
                   \s*-*
      | begin\s+forwarded\s+message\s*:
      | inizio\s+messaggio\s+inoltrato\s*:
      | début\s+du\s+message\s+(?:réexpédié|transféré)\s*:
      | (?:-\s*)?message\s+transféré\s*(?:-+)?\s*$
    )""",
    re.IGNORECASE | re.VERBOSE,
)
# "Jean> text" (Supercite, some old readers): a short name right before the ">".
RAW_NAMED_QUOTE = re.compile(r"^\s*([A-Za-z][\w.-]{0,11})>(?:\s|$)")
# A ">" line that is a shell or program prompt, not a quote: "> ls -la", ">>> import os", "> cd /tmp && make".
RAW_PROMPT = re.compile(r"^\s*(?:>>>\s|\.\.\.\s|>\s?(?:[$#%]\s|(?:sudo|ls|cd|cat|grep|make|python3?|pip|git|"
                     r"npm|ssh|ping|curl|wget|echo|mkdir|rm|cp|mv|chmod|tail|df|systemctl|apt(?:-get)?|dir|ipconfig)"
                     r"(?:\s|$)))")


# --- The ticket reference --------------------------------------------------------------------------------------
# As mailbot writes it: "CA-2026-0042".
REFERENCE = re.compile(r"\b([A-Z]{1,6}-\d{4}-\d{4,})\b", re.IGNORECASE)
# As people retype it: any dash or an underscore between the parts ("ca_2026_0042", "CA–2026–42").
REFERENCE_TYPED = re.compile(
    r"(?<![\w-])([A-Za-z]{1,6})[-_\u2010\u2011\u2013](\d{4})[-_\u2010\u2011\u2013](\d{4,})(?!\w)")
