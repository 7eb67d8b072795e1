"""The crashes and stalls the fuzz and fault suites found, each pinned by the smallest input that showed it."""
from __future__ import annotations

import time
from datetime import date

import pytest
from sqlalchemy.exc import OperationalError

from mailbot.parsers import iter_attachment_payloads, parse_aideur_reply, parse_mail, parse_price, results, split_reply
from mailbot.parsers.consent import read_consent
from mailbot.parsers.headers import addresses, decode_header
from mailbot.parsers.registration import parse_form
from mailbot.parsers.results import parse_result
from mailbot.parsers.withdrawal import is_withdrawal
from mailbot.pipeline import Pipeline, TransientError, _sniff_header

HEAD = b"From: Alice <alice@membres.test>\r\nTo: aide@club.test\r\nSubject: Demande\r\nMessage-ID: <a@b.test>\r\n"


def mail(head: bytes = HEAD, body: bytes = b"Bonjour.\r\n", extra: bytes = b"") -> bytes:
    return head + extra + b"\r\n" + body


# --- what PostgreSQL refused (the daemon died on the mail, and again at each restart) -----------------------------

def test_nul_bytes_are_dropped_from_every_text() -> None:
    parsed = parse_mail(b"From: Ali\x00ce <alice@membres.test>\r\nSubject: Dem\x00ande\r\nMessage-ID: <a\x00@b>\r\n"
                        b"Content-Type: text/plain; charset=utf-8\r\n\r\nBon\x00jour\r\n")
    assert (parsed.subject, parsed.from_name, parsed.text, parsed.message_id) == ("Demande", "Alice", "Bonjour", "a@b")


def test_an_odd_utf16_body_decodes_without_nul() -> None:
    parsed = parse_mail(mail(extra=b"Content-Type: text/plain; charset=utf-16\r\n",
                             body=b"\xff\xfeB\x00o\x00n\x00\x00"))
    assert "\x00" not in parsed.text and "Bon" in parsed.text


def test_a_100_kb_message_id_is_replaced_by_a_stable_digest() -> None:
    raw = mail(head=HEAD.replace(b"<a@b.test>", b"<" + b"x" * 100_000 + b"@b.test>"))
    first, again = parse_mail(raw), parse_mail(raw + b"Une autre copie.\r\n")
    assert first.message_id.endswith("@long-id.mailbot.invalid") and len(first.message_id) < 100
    assert first.message_id == again.message_id  # a second copy is still recognised as the same mail


def test_long_references_are_bounded_and_a_300_character_id_is_kept() -> None:
    long_id = "l" * 300 + "@b.test"
    parsed = parse_mail(mail(head=HEAD.replace(b"<a@b.test>", f"<{long_id}>".encode()),
                             extra=b"References: <" + b"r" * 5000 + b"@x> <ok@x>\r\n"))
    assert parsed.message_id == long_id
    assert all(len(ref) <= 998 for ref in parsed.references) and "ok@x" in parsed.references


def test_a_subject_over_998_characters_is_cut() -> None:
    parsed = parse_mail(mail(head=HEAD.replace(b"Subject: Demande", b"Subject: " + "é".encode() * 60_000)))
    assert len(parsed.subject) == 998


def test_sniffed_sender_of_an_unreadable_mail_has_no_nul() -> None:
    assert _sniff_header(b"From: Ali\x00ce <a@b>\r\n\r\n", b"from") == "Alice <a@b>"


def test_the_quarantine_notice_key_fits_whatever_the_message_id() -> None:
    from mailbot.outbox import KEY_LENGTH, storable_key

    key = "quarantine:" + "x" * 998 + ":aideur@club.test"  # notices.quarantined, then notify_aideurs
    assert len(storable_key(key)) == KEY_LENGTH and storable_key(key) == storable_key(key)
    assert storable_key(key) != storable_key(key.replace("x", "y", 1))
    assert storable_key("quarantine:a@b:aideur@club.test") == "quarantine:a@b:aideur@club.test"


def test_a_lost_database_while_reading_the_checkpoint_is_transient() -> None:
    """SQLite locked past its busy timeout (or PostgreSQL gone) at the start of a cycle ended the daemon."""
    def sessions():  # type: ignore[no-untyped-def]
        raise OperationalError("SELECT", {}, Exception("database is locked"))

    pipeline = Pipeline.__new__(Pipeline)
    pipeline.sessions = sessions  # type: ignore[assignment]
    with pytest.raises(TransientError):
        pipeline.checkpoint("INBOX", 1)
    with pytest.raises(TransientError):
        if hasattr(pipeline, "committed_destinations"):  # several daemons (coordination.py)
            pipeline.committed_destinations("INBOX", 1, [1, 2])
        else:
            pipeline.committed_destination("INBOX", 1, 1)


# --- exceptions the parsers let out (the mail was quarantined as unreadable) --------------------------------------

def test_raw_utf8_inside_a_q_encoded_word() -> None:
    assert parse_mail(mail(head=HEAD.replace(b"Subject: Demande",
                                             b"Subject: =?utf-8?Q?caf\xc3\xa9_cr\xc3\xa8me?="))).subject == "café crème"
    assert decode_header("=?utf-8?Q? \x80?=").strip() in ("\x80", "")


def test_a_price_of_5000_digits_is_no_price() -> None:
    assert parse_price("1" * 5000 + " €") is None
    assert parse_price("1 200 €") == "1200.00"
    assert parse_aideur_reply("#devis\nprestataire: X\nobjet: Y\ntarif habituel: " + "9" * 5000 + "\ntarif club: 1",
                              date(2026, 3, 2)) is not None


def test_a_result_of_5000_digits_is_no_rating() -> None:
    assert parse_result("1" * 5000, "1" * 5000).satisfaction is None
    assert parse_result("4", "4").satisfaction == 4


def test_forwarding_finds_the_attachments_after_a_leading_blank_line() -> None:
    raw = b"\n" + mail(extra=b"Content-Type: application/pdf; name=a.pdf\r\nContent-Transfer-Encoding: base64\r\n",
                       body=b"JVBERi0xLjQK\r\n")
    parsed = parse_mail(raw)
    assert [att.filename for att in parsed.attachments] == ["a.pdf"]
    assert [(att.filename, data) for att, data in iter_attachment_payloads(raw)] == [("a.pdf", b"%PDF-1.4\n")]


# --- inputs that took minutes (quadratic regular expressions and loops); each must take well under a second -----

LIMIT = 5.0  # seconds: the fixed versions take 0.01 to 2 s on these inputs, the quadratic ones took 17 s to hours

STALLS = {
    "split_reply on a line of spaces": lambda: split_reply(" " * 100_000 + "x@y.z"),
    "split_reply on 100,000 blank lines": lambda: split_reply("x\n" + "\n" * 100_000),
    "the form on a line of spaces": lambda: parse_form(" " * 100_000 + ":", " " * 100_000 + "x@y.z"),
    "the form on a line of tabs": lambda: parse_form("\t" * 100_000 + "@", ""),
    "results on a line of spaces": lambda: parse_result(" " * 100_000 + "@", " " * 100_000),
    "results on 200,000 blank lines": lambda: parse_result("\n" * 200_000, "\n" * 200_000),
    # The free lines of a result reply: a copy of the rest of the list per line (29 s here), now one pass.
    "results' free lines, 100,000 of them": lambda: results._free_lines([results._Line(0, "x", "x")] * 100_000, set()),
    "results on non-breaking spaces": lambda: parse_result("\u00a0" * 100_000 + "x@y.z", ""),
    "consent on a line of tabs": lambda: read_consent("\t" * 100_000 + ":"),
    "withdrawal on non-breaking spaces": lambda: is_withdrawal("\u00a0" * 100_000),
    "a signature on spaces": lambda: split_reply("merci" + " " * 100_000 + "x"),
    "an address list of ':' and '@'": lambda: addresses([":" + "@" * 100_000]),
    "an address list of groups": lambda: addresses([", ".join("Nom : " + "@" * 990 for _ in range(100))]),
    "a word run without '@'": lambda: addresses(["x" * 100_000]),
    "an attribution of '>'": lambda: split_reply(">" * 100_000 + ":"),
    "a To: of ':' and '@'": lambda: parse_mail(mail(extra=b"Cc: :" + b"@" * 100_000 + b"\r\n")),
    "a bounce of '_'": lambda: parse_mail(b"From: MAILER-DAEMON@x.test\r\nSubject: Undelivered Mail\r\n\r\n"
                                          + b"_" * 100_000),
}


@pytest.mark.parametrize("name", list(STALLS))
def test_no_quadratic_stall(name: str) -> None:
    started = time.perf_counter()
    STALLS[name]()
    assert time.perf_counter() - started < LIMIT, name


# --- what only PostgreSQL refused, found by the hostile mails of tests/faults on PostgreSQL ------------------------

def test_idempotency_keys_carrying_long_message_ids_fit_their_column() -> None:
    from mailbot.outbox import KEY_LENGTH, storable_key

    long_id = "long-" + "0123456789abcdef" * 18 + "@bulk-sender.example.com"
    key = storable_key(f"invitation:{long_id}")
    assert len(key) == KEY_LENGTH and key.startswith("invitation:long-")
    assert key == storable_key(f"invitation:{long_id}") != storable_key(f"invitation:{long_id}x")
    assert storable_key("ack:12") == "ack:12"
