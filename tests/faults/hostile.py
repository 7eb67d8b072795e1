"""Huge and hostile mails, as raw bytes: each one something a real mailbox can hold and a parser can choke on.

Every mail carries a Message-ID of its own (except the case that is about a missing or broken one) and comes from
a member, so that a readable one becomes a ticket with an acknowledgement and an unreadable one a quarantine with
Aideur told. They go in with IMAP APPEND: Postfix would refuse or rewrite several of them.
"""
from __future__ import annotations

import base64
import os
from collections.abc import Callable
from dataclasses import dataclass

from tests.helpers import ALICE, BRUNO, CHLOE, CLUB, STRANGER

MB = 1_000_000
# Long, but within what RFC 5322 allows and what some mail systems really produce.
LONG_ID = "long-" + "0123456789abcdef" * 18 + "@bulk-sender.example.com"
STRANGER_LONG_ID = LONG_ID.replace("long-", "long-stranger-")


@dataclass(frozen=True)
class Hostile:
    name: str
    message_id: str  # the Message-ID as the daemon will record it ("" when the case is about a broken one)
    build: Callable[[], bytes]
    big: bool = False  # measured for memory, and appended on its own


def _head(message_id: str, subject: str = "Demande", sender: str = ALICE, extra: str = "",
          content_type: str = "text/plain; charset=utf-8", cte: str = "8bit") -> bytes:
    lines = [f"From: {sender}", f"To: {CLUB}", f"Subject: {subject}", "Date: Mon, 02 Mar 2026 09:00:00 +0100"]
    if message_id:
        lines.append(f"Message-ID: <{message_id}>")
    lines += ["MIME-Version: 1.0", f"Content-Type: {content_type}", f"Content-Transfer-Encoding: {cte}"]
    if extra:
        lines.append(extra.rstrip("\r\n"))
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


def _base64_lines(data: bytes) -> bytes:
    encoded = base64.encodebytes(data)  # 76 columns, \n
    return encoded.replace(b"\n", b"\r\n")


def fifty_megabytes() -> bytes:
    """One 50 MB mail: a short request with one big binary attachment (37.5 MB decoded, ~51 MB as base64)."""
    boundary = "big-boundary-50mb"
    head = _head("fault-50mb@membres.test", "Devis et plans du local (gros fichier)",
                 content_type=f'multipart/mixed; boundary="{boundary}"', cte="7bit")
    text = (f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            "Bonjour,\r\n\r\nVoici les plans du local, pouvez-vous m'aider à relire le devis ?\r\n\r\nAlice\r\n"
            f"--{boundary}\r\nContent-Type: application/octet-stream; name=\"plans.bin\"\r\n"
            "Content-Disposition: attachment; filename=\"plans.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
    payload = _base64_lines(os.urandom(37_500_000))
    return head + text.encode() + payload + f"--{boundary}--\r\n".encode()


def five_thousand_parts() -> bytes:
    boundary = "parts-5000"
    head = _head("fault-5000-parts@membres.test", "Demande avec beaucoup de pièces",
                 content_type=f'multipart/mixed; boundary="{boundary}"', cte="7bit")
    pieces = [(f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
              "Bonjour, voici mes 5 000 pièces : pouvez-vous m'aider ?\r\n")]
    for number in range(1, 5000):
        if number % 2:
            pieces.append(f"--{boundary}\r\nContent-Type: application/octet-stream; name=\"piece-{number}.bin\"\r\n"
                          "Content-Transfer-Encoding: base64\r\n\r\nAAECAwQFBgcICQ==\r\n")
        else:
            pieces.append(f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nLigne {number}.\r\n")
    pieces.append(f"--{boundary}--\r\n")
    return head + "".join(pieces).encode()


def deep_nesting() -> bytes:
    """600 multiparts inside each other: recursion in any tree walk."""
    depth = 600
    head = _head("fault-deep-nesting@membres.test", "Imbrication profonde",
                 content_type='multipart/mixed; boundary="b0"', cte="7bit")
    opening = "".join(f"--b{level}\r\nContent-Type: multipart/mixed; boundary=\"b{level + 1}\"\r\n\r\n"
                      for level in range(depth))
    leaf = f"--b{depth}\r\nContent-Type: text/plain\r\n\r\nTout au fond.\r\n--b{depth}--\r\n"
    closing = "".join(f"--b{level}--\r\n" for level in reversed(range(depth)))
    return head + (opening + leaf + closing).encode()


def subject_100kb() -> bytes:
    subject = "Demande " + "très longue " * 8600  # one unfolded line of ~100 KB
    return _head("fault-subject-100kb@membres.test", subject) + "Le sujet est très long.\r\n".encode()


def message_id_100kb() -> bytes:
    long_id = "x" * 100_000 + "@membres.test"
    return _head(long_id, "Identifiant démesuré") + b"Mon Message-ID fait 100 Ko.\r\n"


def references_100kb() -> bytes:
    refs = " ".join(f"<ref-{n}-{'r' * 20}@membres.test>" for n in range(2900))  # ~100 KB, one line
    return _head("fault-references-100kb@membres.test", "Beaucoup de références",
                 extra=f"References: {refs}\r\nIn-Reply-To: <{'i' * 100_000}@membres.test>") + b"Suite.\r\n"


def from_name_100kb() -> bytes:
    sender = f"\"{'Alice ' * 17000}\" <{BRUNO}>"
    return _head("fault-from-100kb@membres.test", "Nom démesuré", sender=sender) + b"Bonjour.\r\n"


def to_5000_addresses() -> bytes:
    many = ", ".join(f"destinataire{n}@ailleurs.test" for n in range(5000))
    return _head("fault-to-5000@membres.test", "Copie à tout le monde",
                 extra=f"Cc: {many}\r\nX-Long: {'y' * 100_000}") + b"Bonjour tout le monde.\r\n"


def bad_base64() -> bytes:
    return _head("fault-bad-base64@membres.test", "Base64 cassé", cte="base64") + (
        b"Qm9uam91ciwgdm9pY2kgbWEgZGVtYW5kZQ!!!@@@###\r\n$$$ pas du base64 du tout ===\r\nQUJD=\r\nQQ\r\n")


def unknown_charset() -> bytes:
    return _head("fault-unknown-charset@membres.test", "=?x-klingon?Q?Qapla=E9?=",
                 content_type='text/plain; charset="x-klingon-8"') + "Bonjour, ça va ? Été, hiver.\r\n".encode("cp1252")


def broken_rfc2047() -> bytes:
    subject = ("=?utf-8?B?not base64 at all?= =?utf-8?Q?caf=C3=A9_=ZZ?= =?iso-8859-1?q?=E9t=E9 "
               "=?utf-8?B?w6k=?==?utf-8?B?w6k?= =?unknown-charset?Q?=C3=A9?= =?utf-8?X?bad?= =?=?")
    sender = f"=?utf-8?B?QWxp?= \"=?utf-8?q?Ali=22ce?=\" <{CHLOE}>"
    return _head("fault-broken-rfc2047@membres.test", subject, sender=sender,
                 content_type="text/plain; charset=\"=?utf-8?q?x?=\"") + "Été.\r\n".encode()


def nul_bytes() -> bytes:
    head = (f"From: Ali\x00ce <{ALICE}>\r\nTo: {CLUB}\r\nSubject: Demande\x00 avec NUL\r\n"
            "Message-ID: <fault-nul-bytes@membres.test>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n").encode()
    return head + b"Bonjour\x00, une demande\x00\x00 avec des octets nuls.\r\n\x00\r\n"


def nul_in_attachment_name() -> bytes:
    boundary = "nul-name"
    head = _head("fault-nul-filename@membres.test", "Pièce au nom étrange",
                 content_type=f'multipart/mixed; boundary="{boundary}"', cte="7bit")
    body = (f"--{boundary}\r\nContent-Type: text/plain\r\n\r\nVoir la pièce.\r\n"
            f"--{boundary}\r\nContent-Type: application/pdf; name=\"a\x00b.pdf\"\r\n"
            "Content-Disposition: attachment; filename=\"../../etc/pa\x00sswd\"\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n"
            f"JVBERi0xLjQK\r\n--{boundary}--\r\n")
    return head + body.encode()


def eight_bit_headers() -> bytes:
    head = (b"From: \xc9lodie \xe9\xe8 <" + BRUNO.encode() + b">\r\nTo: " + CLUB.encode() + b"\r\n"
            b"Subject: R\xe9sum\xe9 \xe0 relire \xff\xfe\r\nMessage-ID: <fault-8bit-headers@membres.test>\r\n"
            b"X-Bizarre: \x80\x81\x82\r\nContent-Type: text/plain\r\n\r\n")
    return head + "Corps en latin-1 : été, à bientôt.\r\n".encode("latin-1")


def truncated_multipart() -> bytes:
    boundary = "cut-here"
    head = _head("fault-truncated-multipart@membres.test", "Mail coupé",
                 content_type=f'multipart/mixed; boundary="{boundary}"', cte="7bit")
    body = (f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nLe début de ma demande\r\n"
            f"--{boundary}\r\nContent-Type: image/jpeg; name=photo.jpg\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAAMCAgMCAgMDAwMEAwMEBQgFBQQEBQoHBwYIDAoMDAsKCwsNDhIQDQ4RDgsLEBYQERMU\r\n"
            "/9j/4AAQSkZJRgAB")
    return head + body.encode()


def no_boundary() -> bytes:
    return _head("fault-no-boundary@membres.test", "Multipart sans frontière",
                 content_type="multipart/alternative", cte="7bit") + b"--\r\nrien\r\n--x--\r\n"


def bad_quoted_printable() -> bytes:
    return _head("fault-bad-qp@membres.test", "QP cassé", cte="quoted-printable") + (
        b"Bonjour =ZZ =C3 =\r\n=E9t=C3=A9 =3\r\nligne sans fin =")


def utf16_lie() -> bytes:
    return _head("fault-utf16@membres.test", "UTF-16 impair", content_type="text/plain; charset=utf-16") + (
        b"\xff\xfeB\x00o\x00n\x00j\x00o\x00u\x00r\x00\x00")  # an odd number of bytes


def bare_cr_lines() -> bytes:
    return (f"From: {ALICE}\rTo: {CLUB}\rSubject: Fins de ligne CR\rMessage-ID: <fault-bare-cr@membres.test>\r\r"
            "Bonjour\rune demande\r").encode() + b"\r\n"


def html_bomb() -> bytes:
    html = "<div>" * 20000 + "Bonjour, une demande en HTML très imbriqué" + "</div>" * 20000
    html += "<table>" + "<tr><td>cellule</td></tr>" * 5000 + "</table><script>alert(1)</script>&#0;&#xD800;&#99999999;"
    head = _head("fault-html-bomb@membres.test", "HTML imbriqué", content_type="text/html; charset=utf-8")
    return head + html.encode()


def not_a_mail() -> bytes:
    return b"\x00\x01\x02 ceci n'est pas un mail\r\n\xff\xfe binaire " + os.urandom(2000).replace(b"\r\n", b"..")


def message_id_300() -> bytes:
    return _head(LONG_ID, "Identifiant long mais plausible") + b"Bonjour, une demande ordinaire.\r\n"


def stranger_message_id_300() -> bytes:
    return _head(STRANGER_LONG_ID, "Bonjour, je ne suis pas membre", sender=STRANGER) + b"Comment adherer ?\r\n"


def unreadable_with_nul_sender() -> bytes:
    """Unreadable (nested too deep to parse), and its From: holds a NUL: the quarantine notice reads it raw."""
    return deep_nesting().replace(f"From: {ALICE}".encode(), f"From: Ali\x00ce <{ALICE}>".encode(), 1).replace(
        b"fault-deep-nesting@", b"fault-deep-nul@", 1)


def from_address_400() -> bytes:
    sender = f"{'a' * 330}@{'d' * 60}.membres.test"
    return _head("fault-from-address-400@membres.test", "Adresse démesurée", sender=sender) + b"Bonjour.\r\n"


def header_only() -> bytes:
    return f"From: {ALICE}\r\nTo: {CLUB}\r\nMessage-ID: <fault-header-only@membres.test>\r\n".encode()


CASES: tuple[Hostile, ...] = (
    Hostile("50 MB mail", "fault-50mb@membres.test", fifty_megabytes, big=True),
    Hostile("5,000 MIME parts", "fault-5000-parts@membres.test", five_thousand_parts),
    Hostile("600 nested multiparts", "", deep_nesting),  # unparseable: recorded under a digest of its bytes
    Hostile("100 KB Subject line", "fault-subject-100kb@membres.test", subject_100kb),
    Hostile("100 KB Message-ID", "", message_id_100kb),
    Hostile("100 KB References and In-Reply-To", "fault-references-100kb@membres.test", references_100kb),
    Hostile("100 KB From display name", "fault-from-100kb@membres.test", from_name_100kb),
    Hostile("5,000 Cc addresses, 100 KB X-header", "fault-to-5000@membres.test", to_5000_addresses),
    Hostile("bad base64 body", "fault-bad-base64@membres.test", bad_base64),
    Hostile("unknown charset", "fault-unknown-charset@membres.test", unknown_charset),
    Hostile("broken RFC 2047 words", "fault-broken-rfc2047@membres.test", broken_rfc2047),
    Hostile("NUL bytes in headers and body", "fault-nul-bytes@membres.test", nul_bytes),
    Hostile("NUL and path in an attachment name", "fault-nul-filename@membres.test", nul_in_attachment_name),
    Hostile("8-bit headers", "fault-8bit-headers@membres.test", eight_bit_headers),
    Hostile("truncated multipart", "fault-truncated-multipart@membres.test", truncated_multipart),
    Hostile("multipart without boundary", "fault-no-boundary@membres.test", no_boundary),
    Hostile("bad quoted-printable", "fault-bad-qp@membres.test", bad_quoted_printable),
    Hostile("odd UTF-16 body", "fault-utf16@membres.test", utf16_lie),
    Hostile("bare CR line ends", "fault-bare-cr@membres.test", bare_cr_lines),
    Hostile("deeply nested HTML", "fault-html-bomb@membres.test", html_bomb),
    Hostile("binary garbage, not a mail", "", not_a_mail),
    Hostile("Message-ID of 300 characters", LONG_ID, message_id_300),
    Hostile("a stranger's Message-ID of 300 characters", STRANGER_LONG_ID, stranger_message_id_300),
    Hostile("unreadable, NUL in From", "", unreadable_with_nul_sender),
    Hostile("From address of 400 characters", "fault-from-address-400@membres.test", from_address_400),
    Hostile("headers only, no body", "fault-header-only@membres.test", header_only),
)
