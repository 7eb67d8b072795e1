"""Hypothesis strategies for bytes shaped like mail, and for the texts the reply parsers read.

Mail: headers with known and random names, values with RFC 2047 words (valid, broken, unknown charsets), raw 8-bit
bytes and NULs, folded or 100 KB long; MIME trees of random depth with random content types, charsets and transfer
encodings (valid and broken base64 / quoted-printable), boundaries that match, are missing, or are cut; line ends
LF, CRLF or bare CR; then random mutations (bytes flipped, cut, spliced) of those mails and of the corpus.

Texts: lines drawn from what the command, form, consent, result and withdrawal parsers look for (command words,
dates, yes/no words, form labels, ratings, quote attributions, signatures), mixed with arbitrary Unicode.
"""
from __future__ import annotations

import base64
import json
import quopri
from functools import lru_cache

from hypothesis import strategies as st

from tests.corpus import CORPUS

HEADER_NAMES = (
    "From", "To", "Cc", "Bcc", "Reply-To", "Sender", "Subject", "Date", "Message-ID", "In-Reply-To", "References",
    "MIME-Version", "Content-Type", "Content-Transfer-Encoding", "Content-Disposition", "Content-ID",
    "Delivered-To", "X-Original-To", "Envelope-To", "Return-Path", "Received", "Auto-Submitted", "Precedence",
    "List-Id", "List-Unsubscribe", "X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress", "X-Failed-Recipients",
    "Feedback-Type", "X-Mailer", "Thread-Topic", "Importance", "X-Spam-Flag", "Content-Language",
)
CHARSETS = (
    "utf-8", "UTF-8", "us-ascii", "iso-8859-1", "iso-8859-15", "windows-1252", "cp1252", "latin1", "utf-16",
    "utf-16le", "utf-7", "utf-32", "koi8-r", "shift_jis", "iso-2022-jp", "gb2312", "gbk", "big5", "euc-kr",
    "ks_c_5601-1987", "x-unknown", "unknown-8bit", "", "\"utf-8\"", "utf-8*fr", "x-mac-cyrillic", "ascii",
    "=?utf-8?q?x?=", "utf8", "windows-874", "iso-8859-8-i", "x-user-defined", "bogus charset", "u\x00tf-8",
)
ENCODINGS = ("7bit", "8bit", "binary", "base64", "quoted-printable", "Base64", "QUOTED-PRINTABLE", "x-uuencode",
             "uuencode", "8bits", "bogus", "")
LEAF_TYPES = (
    "text/plain", "text/html", "text/enriched", "text/calendar", "text/rfc822-headers", "application/octet-stream",
    "application/pdf", "image/png", "image/jpeg", "message/rfc822", "message/delivery-status",
    "message/disposition-notification", "message/feedback-report", "application/ms-tnef", "audio/x-wav",
    "TEXT/PLAIN", "text", "garbage", "",
)
MULTI_TYPES = ("multipart/mixed", "multipart/alternative", "multipart/related", "multipart/report",
               "multipart/signed", "multipart/digest", "multipart/x-weird", "message/rfc822")
FILENAMES = ("a.pdf", "../../etc/passwd", "=?utf-8?q?r=C3=A9sum=C3=A9.pdf?=", "", "x" * 300, "a\x00b", "con",
             "..", " . ", "\\server\\share\\x.doc", "=?bogus?B?////?=", "\u202egnp.exe")
ADDRESSES = ("alice@membres.test", "aide@club.test", "aide+t42m-abcdef@club.test", "aideur@club.test",
             "MAILER-DAEMON@mx.test", "postmaster@example.org", "noreply@list.test", "inconnu@ailleurs.test",
             "<>", "@", "a@b", "\"a,b\"@c.test", "x@[127.0.0.1]", "é@é.test")
WORDS = (
    "Bonjour", "Merci", "Cordialement", "résolu", "c'est réglé", "plus besoin, merci", "oui", "non", "OUI", "NON",
    "d'accord", "non merci", "peut-être", "j'accepte", "je refuse", "J'accepte les conditions V4/2018",
    "lu et approuvé", "bon pour accord", "#accepter", "#refuser", "#reporter", "#solution", "#devis", "#clore",
    "#note", "#aide", "#tickets", "#appel", "#relier", "# accepter", "#accept", "#decline", "#acceptr",
    "demain", "lundi prochain", "15/12", "31/02", "15/12/2026", "15 décembre", "dans 3 jours",
    "dans 5 jours ouvrés", "fin du mois", "semaine prochaine", "2026-13-45", "99/99/9999", "le 0",
    "prestataire:", "objet:", "tarif habituel: 1 200 €", "tarif club: 900 €", "1.000,50 €", "€€€",
    "compétences: paie, droit ; membres: 3", "membres: 999999999999999999999", "Nom :", "Prénom :",
    "Entreprise : indépendant", "Activité :", "Adresse postale :", "Téléphone : 06 12 34 56 78",
    "Téléphone : +33 (0)6 12 34 56 78", "Courriel : alice@membres.test", "Visibilité : membres",
    "Visibilité : confidentielle", "Appels du réseau : oui", "Acceptation des conditions : oui",
    "Résultat : résolu", "Satisfaction : 4/5", "Satisfaction : 6/5", "★★★★", "☆☆", "4/5", "en partie",
    "non résolu", "en cours", "Commentaire :", "inscription", "modifier", "mon profil", "résilier",
    "effacer mes données", "droit à l'oubli", "CA-2026-0042", "ca_2026_0001", "> ", ">> ", "> > >",
    "Le 3 juin 2024 à 10:00, Le Club <aide@club.test> a écrit :", "On Mon, Jun 3, 2024 at 10:00 AM X wrote:",
    "-----Message d'origine-----", "De : Le Club", "Envoyé : lundi", "Objet : RE:", "-- ", "--",
    "Envoyé de mon iPhone", "________________________________", "**Nom** : Dupont", "- Nom :", "* ", "• ",
    "\u200b", "\u00a0", "\u202f", "\ufeff", "\u202e", "e\u0301", "\U0001f600", "\x00", "\r", "\t", "\x0c",
)


def _text(min_size: int = 0, max_size: int = 200) -> st.SearchStrategy[str]:
    return st.text(st.characters(codec=None, exclude_categories=()), min_size=min_size, max_size=max_size)


unicode_text = _text()


@st.composite
def shaped_text(draw: st.DrawFn, max_lines: int = 25) -> str:
    """Lines mixing the words the reply parsers look for with arbitrary text, quote markers and odd spaces."""
    lines = []
    for _ in range(draw(st.integers(0, max_lines))):
        pieces = draw(st.lists(st.one_of(st.sampled_from(WORDS), _text(0, 30)), min_size=0, max_size=6))
        separator = draw(st.sampled_from((" ", "", ": ", "\t", "  ", " ; ", ", ")))
        prefix = draw(st.sampled_from(("", "", "", "> ", ">> ", " ", "- ", "**")))
        lines.append(prefix + separator.join(pieces))
    newline = draw(st.sampled_from(("\n", "\r\n", "\r", "\n\n", "\u2028")))
    text = newline.join(lines)
    if draw(st.booleans()):
        text += newline + draw(st.sampled_from(WORDS)) * draw(st.integers(1, 400))  # a long line
    return text


# --- header values ------------------------------------------------------------------------------------------------

@st.composite
def encoded_word(draw: st.DrawFn) -> str:
    charset = draw(st.sampled_from(CHARSETS)).strip('"') or "utf-8"
    payload = draw(st.binary(max_size=40) | st.text(max_size=20).map(lambda t: t.encode("utf-8", "surrogatepass")))
    kind = draw(st.sampled_from(("B", "Q", "b", "q", "X")))
    if kind in "Bb":
        text = base64.b64encode(payload).decode()
        if draw(st.booleans()):  # damaged: cut, padding lost, spaces inside
            text = draw(st.sampled_from((text[:-1], text.rstrip("="), text.replace("A", " A"), text + "!!")))
    elif kind in "Qq":
        text = quopri.encodestring(payload, header=True).decode("ascii", "replace")
        if draw(st.booleans()):
            text = text.replace("=", draw(st.sampled_from(("=Z", "=", "==", "?="))), 1)
    else:
        text = payload.decode("latin-1")
    end = draw(st.sampled_from(("?=", "?=", "?=", "", "?", "=")))
    return f"=?{charset}?{kind}?{text}{end}"


@st.composite
def header_value(draw: st.DrawFn) -> bytes:
    parts = draw(st.lists(st.one_of(
        encoded_word(),
        _text(0, 40),
        st.sampled_from(ADDRESSES),
        st.sampled_from(WORDS),
        st.builds(lambda a, n: f'"{n}" <{a}>', st.sampled_from(ADDRESSES), _text(0, 20)),
        st.builds(lambda n: f"<{n}@x.test>", st.text("abc.-_$", min_size=0, max_size=20)),
        st.just("; charset=utf-8; boundary=\"b1\""),
        st.just("(comment (nested) \\) unbalanced"),
    ), max_size=6))
    value = " ".join(parts).encode("utf-8", "surrogatepass")
    raw_8bit = draw(st.binary(max_size=20))
    if raw_8bit and draw(st.booleans()):
        value += b" " + raw_8bit
    if draw(st.integers(0, 20)) == 0:  # the 100 KB header line
        value = (value or b"x") * (draw(st.integers(20_000, 100_000)) // max(len(value), 1) + 1)
    if draw(st.booleans()):  # folded
        value = value.replace(b" ", b"\r\n ", draw(st.integers(0, 5)))
    return value


# --- MIME trees ---------------------------------------------------------------------------------------------------

def _encode(body: bytes, encoding: str, damage: bool) -> bytes:
    lower = encoding.lower()
    if lower == "base64":
        data = base64.encodebytes(body)
        if damage:
            data = data[: max(len(data) - 3, 0)] + b"!*\x00==="
        return data
    if lower == "quoted-printable":
        data = quopri.encodestring(body)
        if damage:
            data = data.replace(b"=", b"=Z", 1) + b"=\n=E"
        return data
    return body


@st.composite
def leaf_body(draw: st.DrawFn) -> bytes:
    text = draw(st.one_of(shaped_text(8), unicode_text))
    charset = draw(st.sampled_from(CHARSETS)).strip('"')
    try:
        data = text.encode(charset or "utf-8", "replace")
    except (LookupError, UnicodeError, ValueError):
        data = text.encode("utf-8", "surrogatepass")
    if draw(st.integers(0, 4)) == 0:
        data = draw(st.binary(max_size=300))
    if draw(st.integers(0, 6)) == 0:
        html = draw(st.sampled_from((
            b"<html><body><p>%s</p><br><blockquote>cit\xc3\xa9</blockquote></body></html>",
            b"<div>" * 300 + b"%s" + b"</div>" * 3, b"<table><tr><td>%s</td></tr>", b"<p>%s<a href='x'>lien",
            b"<?xml version='1.0' encoding='bogus'?><html>%s</html>", b"<!-- %s", b"<script>%s</script>&#0;&#xD800;")))
        data = html.replace(b"%s", data[:200])
    return data


@st.composite
def mime_part(draw: st.DrawFn, depth: int = 0) -> bytes:
    headers: list[bytes] = []
    multipart = depth < 4 and draw(st.integers(0, 3)) == 0
    if multipart:
        ctype = draw(st.sampled_from(MULTI_TYPES))
        boundary = draw(st.sampled_from((f"b{depth}", f"=_Part_{depth}", "", "a b", "--", "x" * 80)))
        params = f'; boundary="{boundary}"' if draw(st.integers(0, 6)) else ""
        headers.append(f"Content-Type: {ctype}{params}".encode())
        children = draw(st.lists(mime_part(depth + 1), min_size=0, max_size=4))
        body = b"preamble\r\n" if draw(st.booleans()) else b""
        used = draw(st.sampled_from((boundary, boundary, boundary, "other"))) if boundary else "none"
        for child in children:
            body += f"\r\n--{used}\r\n".encode() + child
        if draw(st.integers(0, 3)):  # sometimes the closing delimiter is missing: truncated
            body += f"\r\n--{used}--\r\nepilogue".encode()
        return b"\r\n".join(headers) + b"\r\n\r\n" + body
    ctype = draw(st.sampled_from(LEAF_TYPES))
    charset = draw(st.sampled_from(CHARSETS))
    params = f"; charset={charset}" if draw(st.booleans()) else ""
    if draw(st.integers(0, 3)) == 0:
        name = draw(st.sampled_from(FILENAMES))
        params += f'; name="{name}"'
    headers.append(f"Content-Type: {ctype}{params}".encode("utf-8", "surrogatepass"))
    encoding = draw(st.sampled_from(ENCODINGS))
    if encoding:
        headers.append(f"Content-Transfer-Encoding: {encoding}".encode())
    if draw(st.integers(0, 3)) == 0:
        disposition = draw(st.sampled_from(("attachment", "inline", "bogus",
                                            "attachment; filename*=utf-8''%C3%A9t%C3%A9.txt",
                                            "attachment; filename*0*=utf-8''a; filename*1=b", "attachment; filename=")))
        headers.append(f"Content-Disposition: {disposition}".encode())
    if draw(st.integers(0, 5)) == 0:
        headers.append(b"X-Odd: " + draw(header_value()))
    body = _encode(draw(leaf_body()), encoding, draw(st.integers(0, 3)) == 0)
    return b"\r\n".join(headers) + b"\r\n\r\n" + body


@st.composite
def mail_bytes(draw: st.DrawFn) -> bytes:
    """A whole mail: a header block (usually with From/To/Subject/Message-ID) and a MIME body."""
    headers: list[bytes] = []
    names = list(draw(st.lists(st.sampled_from(HEADER_NAMES), max_size=10)))
    if draw(st.integers(0, 4)):
        names = ["From", "To", "Subject", "Message-ID"] + names
    if draw(st.integers(0, 5)) == 0:
        names.append(draw(st.text("abcdefghijklmnopqrstuvwxyz-_XYZ0123456789", min_size=1, max_size=30)))
    for name in names:
        if name == "Content-Type":
            continue  # the body part brings its own
        headers.append(name.encode() + b": " + draw(header_value()))
    body = draw(mime_part())
    if draw(st.booleans()):
        headers.append(b"MIME-Version: 1.0")
    raw = b"\r\n".join(headers) + b"\r\n" + body
    newline = draw(st.sampled_from((b"\r\n", b"\n", b"\r", b"\r\n")))
    if newline != b"\r\n":
        raw = raw.replace(b"\r\n", newline)
    if draw(st.integers(0, 9)) == 0:
        raw = b"From alice@membres.test Mon Jun  3 10:00:00 2024\n" + raw  # mbox separator
    if draw(st.integers(0, 9)) == 0:
        raw = draw(st.sampled_from((b"\n", b"  \r\n", b"garbage line\n", b"\xef\xbb\xbf"))) + raw
    return raw


@lru_cache(maxsize=1)
def corpus_mails() -> tuple[bytes, ...]:
    manifest = CORPUS / "manifest.json"
    if not manifest.exists():
        return ()
    files = json.loads(manifest.read_text(encoding="utf-8"))["files"]
    return tuple((CORPUS / entry["file"]).read_bytes() for entry in files if entry["format"] == "eml")


@st.composite
def mutated(draw: st.DrawFn, base: st.SearchStrategy[bytes]) -> bytes:
    """`base` damaged a few times: bytes replaced, a span cut or duplicated, cut short, a piece spliced in."""
    data = bytearray(draw(base))
    for _ in range(draw(st.integers(0, 6))):
        if not data:
            break
        where = draw(st.integers(0, len(data) - 1))
        action = draw(st.integers(0, 5))
        if action == 0:
            data[where] = draw(st.integers(0, 255))
        elif action == 1:
            del data[where: where + draw(st.integers(1, 200))]
        elif action == 2:
            data[where:where] = data[where: where + draw(st.integers(1, 200))] * draw(st.integers(1, 20))
        elif action == 3:
            del data[where:]
        elif action == 4:
            data[where:where] = draw(st.sampled_from((b"\x00", b"\r", b"\n\n", b"=?", b"?=", b"--", b"\xff\xfe",
                                                      b"Content-Type: multipart/mixed; boundary=x\r\n", b"=\r\n")))
        else:
            data[where:where] = draw(st.binary(min_size=1, max_size=50))
    return bytes(data)


def corpus_mail() -> st.SearchStrategy[bytes]:
    mails = corpus_mails()
    return st.sampled_from(mails) if mails else mail_bytes()


any_mail = st.one_of(
    mail_bytes(),
    mutated(mail_bytes()),
    mutated(corpus_mail()),
    st.binary(max_size=2000),
    st.binary(max_size=400).map(lambda tail: b"From: a@b.test\r\nSubject: x\r\n\r\n" + tail),
)
