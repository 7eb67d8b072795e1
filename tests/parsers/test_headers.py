"""Headers as real mail writes them (issue 14, point 5): raw UTF-8 (RFC 6532), RFC 2231 names, malformed From.

The rule under test: the sender's address is the one the header names, or none with a reason (the pipeline
quarantines a normal mail with `sender_problem`), never an address made from surrounding words, never the first
of several.
"""
from __future__ import annotations

import pytest

from mailbot.parsers import MailKind, parse_mail
from mailbot.parsers.headers import addresses, is_valid_address, mailboxes


def mail(from_line: bytes, *, extra: bytes = b"", body: bytes = b"Bonjour, j'ai besoin d'aide.\r\n") -> bytes:
    head = b"From: " + from_line + b"\r\n" if from_line is not None else b""
    return (head + b"To: club@club.example\r\nSubject: Une question\r\nMessage-ID: <m1@x.example>\r\n"
            b"Date: Thu, 03 Dec 2026 10:00:00 +0100\r\n" + extra + b"\r\n" + body)


# --- From: the right address ------------------------------------------------------------------------------------

@pytest.mark.parametrize("line, address, name", [
    (b"Big Bug bb@bug.com", "bb@bug.com", "Big Bug"),  # no angle brackets: was "big bug bb@bug.com"
    (b"M. Jean Dupont jd@x.example", "jd@x.example", "M. Jean Dupont"),
    (b"Dupont, Jean <j@d.example>", "j@d.example", "Dupont, Jean"),  # unquoted comma: the name was cut
    (b"Dupont, Jean j@d.example", "j@d.example", "Dupont, Jean"),
    (b"J. Dupont <j@d.example>", "j@d.example", "J. Dupont"),
    (b"Jean.Dupont <jd@x.example>", "jd@x.example", "Jean.Dupont"),
    (b"S.A.R.L. Dupont & Fils, service client <sav@dupont.example>", "sav@dupont.example",
     "S.A.R.L. Dupont & Fils, service client"),
    (b"j@d.example (Jean Dupont)", "j@d.example", "Jean Dupont"),
    (b"Jean Dupont <mailto:jd@x.example>", "jd@x.example", "Jean Dupont"),
    (b"Jean Dupont <jd@x.example", "jd@x.example", "Jean Dupont"),  # bracket never closed
    (b"Jean Dupont jd@x.example>", "jd@x.example", "Jean Dupont"),
    (b"jd@x.example <jd@x.example>", "jd@x.example", "jd@x.example"),
    (b"alice@example.com <bob@example.com>", "bob@example.com", "alice@example.com"),  # the brackets decide
    (b"=?utf-8?q?Dupont=2C_Jean?= <j@d.example>", "j@d.example", "Dupont, Jean"),
    (b"Jos\xc3\xa9 Garc\xc3\xada <jose@x.example>", "jose@x.example", "José García"),  # RFC 6532
    (b"\"Ren\xc3\xa9e L'\xc3\x89cuyer\" <renee@x.example>", "renee@x.example", "Renée L'Écuyer"),
    (b"Ren\xe9e <renee@x.example>", "renee@x.example", "Renée"),  # raw Latin-1 from an old client
    (b"jos\xc3\xa9@exemple.fr", "josé@exemple.fr", ""),  # UTF-8 local part (RFC 6531)
    (b"<JD@X.Example>", "jd@x.example", ""),
])
def test_from_gives_the_written_address(line: bytes, address: str, name: str) -> None:
    parsed = parse_mail(mail(line))
    assert (parsed.from_address, parsed.from_name, parsed.sender_problem) == (address, name, "")


@pytest.mark.parametrize("line, why", [
    (b"tim@a.example concierge@a.example", "plusieurs adresses"),  # was "@a.example"
    (b"a@b.example, c@d.example", "plusieurs adresses"),
    (b"\"Jean\" <j@d.example>, Paul <p@x.example>", "plusieurs adresses"),
    (b"Jean <jd@x.example> Paul <p@y.example>", "plusieurs adresses"),
    (b"aideur@club.example, intrus@evil.example", "plusieurs adresses"),  # the first is not taken on trust
    (b"Jean Dupont", "aucune adresse valable"),
    (b"jd@@x.example", "aucune adresse valable"),
    (b"@x.example", "aucune adresse valable"),
    (b"Jean Dupont <jean dupont>", "aucune adresse valable"),
    (b"undisclosed-recipients:;", "aucune adresse valable"),
])
def test_from_without_one_clear_address_has_no_address_and_a_reason(line: bytes, why: str) -> None:
    parsed = parse_mail(mail(line))
    assert parsed.from_address == ""
    assert why in parsed.sender_problem
    assert parsed.kind is MailKind.NORMAL  # the pipeline quarantines it with this reason


def test_several_authors_with_a_sender_header_take_the_sender() -> None:
    parsed = parse_mail(mail(b"Jean <j@d.example>, Paule <p@d.example>", extra=b"Sender: Paule <p@d.example>\r\n"))
    assert (parsed.from_address, parsed.from_name, parsed.sender_problem) == ("p@d.example", "Paule", "")


def test_several_authors_with_a_sender_not_among_them_stay_unknown() -> None:
    parsed = parse_mail(mail(b"j@d.example, p@d.example", extra=b"Sender: x@d.example\r\n"))
    assert parsed.from_address == "" and parsed.sender_problem


def test_no_from_falls_back_to_sender_and_an_empty_from_is_no_problem() -> None:
    assert parse_mail(mail(None, extra=b"Sender: s@x.example\r\n")).from_address == "s@x.example"
    empty = parse_mail(mail(b"<>"))
    assert (empty.from_address, empty.sender_problem) == ("", "")


def test_a_robot_with_a_broken_from_keeps_its_kind_and_no_address() -> None:
    robot = parse_mail(mail(b"MAILER-DAEMON", extra=b"Auto-Submitted: auto-replied\r\n"))
    assert robot.kind is MailKind.AUTO_REPLY
    assert robot.from_address == ""


# --- other address headers: no made-up addresses ------------------------------------------------------------------

def test_to_and_cc_keep_only_real_addresses() -> None:
    parsed = parse_mail(mail(b"a@x.example", extra=b"Cc: Big Bug bb@bug.com, Dupont, Jean <j@d.example>, @x.example\r\n"))
    assert parsed.cc == ("bb@bug.com", "j@d.example")
    assert addresses(["tim@a.example concierge@a.example"]) == [("", "tim@a.example"), ("", "concierge@a.example")]


@pytest.mark.parametrize("value", ["@a.example", "big bug bb@bug.com", "a@b@c.example", "a@", "a@.example",
                                   "a@b.", "a b@c.example", ".a@b.example", "a@-b.example", "a@1.2.3"])
def test_invalid_addresses(value: str) -> None:
    assert not is_valid_address(value)


@pytest.mark.parametrize("value", ["a@b.example", "jean.dupont+ca@sub.b.example", "josé@exemple.fr",
                                   "root@localhost", "x@[192.0.2.1]", "postmaster@192.0.2.1",
                                   "o'neil@x.example"])
def test_valid_addresses(value: str) -> None:
    assert is_valid_address(value)


def test_mailboxes_reads_groups_and_comments() -> None:
    assert mailboxes("Équipe: a@x.example, b@y.example;") == [("", "a@x.example"), ("", "b@y.example")]
    assert mailboxes("a@x.example (Alice (la vraie)), Bob <b@y.example>") == [
        ("Alice (la vraie)", "a@x.example"), ("Bob", "b@y.example")]


# --- RFC 6532 and RFC 2231 everywhere -----------------------------------------------------------------------------

def test_raw_utf8_subject_and_encoded_words_together() -> None:
    raw = mail(b"a@x.example").replace(b"Subject: Une question",
                                        b"Subject: R\xc3\xa9union =?utf-8?q?d=C3=A9cembre?= \xe0 Lyon")
    assert parse_mail(raw).subject == "Réunion décembre à Lyon"


def with_attachment(headers: bytes) -> bytes:
    return (b"From: a@x.example\r\nTo: club@club.example\r\nSubject: pj\r\nMessage-ID: <p@x.example>\r\n"
            b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\n\r\nCi-joint.\r\n--XX\r\n" + headers +
            b"\r\nContent-Transfer-Encoding: base64\r\n\r\nQUJD\r\n--XX--\r\n")


@pytest.mark.parametrize("headers, name", [
    # raw UTF-8 (RFC 6532): was "������.doc"
    ((b"Content-Type: application/msword\r\nContent-Disposition: attachment; "
     b"filename=\"\xd0\xb4\xd0\xbe\xd0\xba\xd1\x83\xd0\xbc\xd0\xb5\xd0\xbd\xd1\x82.doc\""), "документ.doc"),
    (b"Content-Type: application/msword\r\nContent-Disposition: attachment; filename=\xc3\xa9t\xc3\xa9.doc", "été.doc"),
    (b"Content-Type: application/pdf; name=\"Facture n\xc2\xb0 12 \xe2\x80\x93 d\xc3\xa9cembre.pdf\"",
     "Facture n° 12 – décembre.pdf"),
    (b"Content-Type: application/msword\r\nContent-Disposition: attachment; filename=\"r\xe9sum\xe9.doc\"",
     "résumé.doc"),  # raw Latin-1
    # RFC 2231, with continuations, a wrong charset label, no charset
    (b"Content-Type: application/pdf\r\nContent-Disposition: attachment; filename*=UTF-8''r%C3%A9sum%C3%A9%20final.pdf",
     "résumé final.pdf"),
    ((b"Content-Type: application/pdf\r\nContent-Disposition: attachment;\r\n filename*0*=UTF-8''r%C3%A9su;\r\n"
     b" filename*1*=m%C3%A9;\r\n filename*2=\".pdf\""), "résumé.pdf"),
    (b"Content-Type: application/pdf\r\nContent-Disposition: attachment; filename*=iso-8859-1'fr'r%E9sum%E9.pdf",
     "résumé.pdf"),
    (b"Content-Type: application/pdf\r\nContent-Disposition: attachment; filename*=utf-8''%E9t%E9.pdf", "été.pdf"),
    (b"Content-Type: application/pdf\r\nContent-Disposition: attachment; filename*=''caf%C3%A9.pdf", "café.pdf"),
    (b"Content-Type: application/pdf; name*=utf-8''%C3%A9t%C3%A9.pdf", "été.pdf"),
    # RFC 2047 inside the quotes (Outlook, Gmail), not standard but everywhere
    (b"Content-Type: application/msword\r\nContent-Disposition: attachment; filename=\"=?utf-8?B?csOpc3Vtw6kuZG9j?=\"",
     "résumé.doc"),
])
def test_attachment_names(headers: bytes, name: str) -> None:
    assert [a.filename for a in parse_mail(with_attachment(headers)).attachments] == [name]


def test_raw_latin1_and_utf8_mixed_in_one_header() -> None:
    raw = mail(b"a@x.example").replace(b"Subject: Une question", b"Subject: Caf\xe9 et th\xc3\xa9")
    assert parse_mail(raw).subject == "Café et thé"


def test_two_from_headers_are_one_author_only_when_they_agree() -> None:
    same = parse_mail(mail(b"Jean <j@d.example>", extra=b"From: j@d.example\r\n"))
    assert (same.from_address, same.sender_problem) == ("j@d.example", "")
    other = parse_mail(mail(b"aideur@club.example", extra=b"From: intrus@evil.example\r\n"))
    assert other.from_address == "" and "plusieurs adresses" in other.sender_problem


@pytest.mark.parametrize("line", [
    b"=?utf-8?q?aideur@club.example?= <intrus@evil.example>",  # an address as the encoded display name
    b"\"Aideur <aideur@club.example>\" <intrus@evil.example>",
    b"aideur@club.example <intrus@evil.example>",
    b"intrus@evil.example (aideur@club.example)",
])
def test_an_address_shown_as_the_name_is_never_the_sender(line: bytes) -> None:
    assert parse_mail(mail(line)).from_address == "intrus@evil.example"
