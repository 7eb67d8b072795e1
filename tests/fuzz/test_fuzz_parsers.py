"""Fuzz the parsers: whatever bytes or text come in, no exception but the documented ParseError, in bounded time,
and what comes out can be stored (no NUL, valid UTF-8, Message-IDs that fit their column)."""
from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from hypothesis import strategies as st

from mailbot.parsers import (
    AideurReply,
    InboundMail,
    MailKind,
    ParseError,
    is_withdrawal,
    iter_attachment_payloads,
    parse_aideur_reply,
    parse_date,
    parse_mail,
    parse_price,
    split_reply,
    strip_subject_prefixes,
)
from mailbot.parsers.charsets import decode_bytes
from mailbot.parsers.consent import ConsentAnswer, read_consent
from mailbot.parsers.headers import addresses, decode_header, message_ids
from mailbot.parsers.html import html_to_text
from mailbot.parsers.registration import (
    FIELD_LABELS,
    HelperAnswer,
    confirmation_of,
    helper_answer,
    intent_of,
    parse_form,
)
from mailbot.parsers.results import parse_result
from tests.fuzz.conftest import fuzz
from tests.fuzz.strategies import CHARSETS, any_mail, header_value, shaped_text, unicode_text

pytestmark = [pytest.mark.slow]  # ~40 s in all (see conftest.py for the budget); test_found.py stays in test-fast

MAX_ID = 998  # inbound_mails.message_id, messages.message_id: VARCHAR(998)
texts = st.one_of(shaped_text(), unicode_text)
days = st.dates(min_value=date(2020, 1, 1), max_value=date(2040, 12, 31))


def storable(value: str, what: str) -> None:
    """What PostgreSQL and SQLite both accept in a text column."""
    assert isinstance(value, str), what
    assert "\x00" not in value, f"{what} holds a NUL character: {value[:200]!r}"
    value.encode("utf-8")  # a lone surrogate raises UnicodeEncodeError: not storable


def check_mail(mail: InboundMail) -> None:
    for item in dataclasses.fields(mail):
        value = getattr(mail, item.name)
        if isinstance(value, str):
            storable(value, item.name)
        elif isinstance(value, tuple):
            for element in value:
                if isinstance(element, str):
                    storable(element, item.name)
    assert mail.message_id and len(mail.message_id) <= MAX_ID
    assert all(len(ref) <= MAX_ID for ref in mail.in_reply_to + mail.references)
    assert mail.from_address == mail.from_address.lower()
    assert isinstance(mail.kind, MailKind)
    assert mail.new_text.strip() == "" or mail.text.strip() != ""
    for attachment in mail.attachments:
        storable(attachment.filename, "attachment filename")
        storable(attachment.content_type, "attachment content type")
        assert 0 < len(attachment.filename) <= 255
        assert "/" not in attachment.filename and "\\" not in attachment.filename
        assert not any(ord(ch) < 32 for ch in attachment.filename)
        assert attachment.size >= 0


def check_raw(raw: bytes) -> None:
    try:
        mail = parse_mail(raw)
    except ParseError:
        return
    check_mail(mail)
    # Forwarding re-reads the attachments from the raw bytes: it must find the same ones, and not fail.
    forwarded = list(iter_attachment_payloads(raw))
    assert [att.part_index for att, _ in forwarded] == [att.part_index for att in mail.attachments]


def test_parse_mail() -> None:
    fuzz("parse_mail", any_mail, check_raw, examples=1000, deadline_ms=5000)


def test_reply_parsers() -> None:
    def check(args: tuple[str, str, str, date]) -> None:
        text, new_text, subject, today = args
        reply = parse_aideur_reply(new_text, today)
        assert isinstance(reply, AideurReply)
        for command in reply.commands:
            assert command.when is None or isinstance(command.when, date)
        when, rest = parse_date(new_text, today)
        assert when is None or isinstance(when, date)
        assert isinstance(rest, str)
        assert parse_price(new_text) is None or isinstance(parse_price(new_text), str)
        form = parse_form(text, new_text)
        assert set(form.values) | set(form.unreadable) <= set(FIELD_LABELS)
        intent_of(subject, new_text)
        assert confirmation_of(new_text) in (True, False, None)
        assert isinstance(helper_answer(new_text), HelperAnswer)
        assert isinstance(read_consent(new_text).answer, ConsentAnswer)
        result = parse_result(text, new_text)
        assert result.satisfaction is None or 1 <= result.satisfaction <= 5
        assert isinstance(is_withdrawal(new_text), bool)
        assert isinstance(strip_subject_prefixes(subject), str)

    fuzz("reply parsers", st.tuples(texts, texts, texts, days), check, examples=300, deadline_ms=3000)


def test_split_reply_and_html() -> None:
    def check(args: tuple[str, str]) -> None:
        text, html = args
        new, signature = split_reply(text)
        assert isinstance(new, str) and isinstance(signature, str)
        assert isinstance(html_to_text(html), str)

    html = st.one_of(texts, st.lists(st.sampled_from(("<p>", "</p>", "<br>", "<div>", "</div>", "<blockquote>",
                                                      "<a href='http://x'>", "</a>", "<pre>", "<ul><li>", "<table>",
                                                      "<td>", "&nbsp;", "&#0;", "&#xD800;", "<!--", "<?xml ?>",
                                                      "<script>", "<style>", "texte", "é", "\x00", "<", ">")),
                                     max_size=300).map("".join))
    fuzz("split_reply, html_to_text", st.tuples(texts, html), check, examples=300, deadline_ms=3000)


def test_header_decoding() -> None:
    def check(args: tuple[bytes, bytes, str]) -> None:
        value, data, charset = args
        text = value.decode("utf-8", "surrogateescape")  # what compat32 hands over for 8-bit header bytes
        assert isinstance(decode_header(text), str)
        assert isinstance(decode_header(text, collapse=False), str)
        for name, addr in addresses([text]):
            assert isinstance(name, str) and "@" in addr
        assert all(isinstance(item, str) for item in message_ids(text))
        assert isinstance(decode_bytes(data, charset), str)

    fuzz("header and charset decoding", st.tuples(header_value(), st.binary(max_size=300), st.sampled_from(CHARSETS)),
         check, examples=1000, deadline_ms=3000)
