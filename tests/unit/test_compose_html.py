"""The optional HTML alternative (mailbot.compose): multipart/alternative when a template has an `html` block,
and exactly the old single-part mail when it has none."""
from __future__ import annotations

from datetime import datetime
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from mailbot import compose
from mailbot.compose import Rendered, TemplateRenderer, build_message
from mailbot.parsers import Attachment, iter_attachment_payloads, parse_mail

TEXT = "Bonjour Hélène,\n\nUne ligne avec = signe, des « guillemets » et un espace final \nFin.\n"
HTML = ("<p>Bonjour Hélène,</p>\n<table><tr><td style=\"padding:2px 8px;border-bottom:1px solid #eee;\">"
        + "Une très longue cellule de tableau, " * 20 + "</td></tr></table>\n")


def build(rendered: Rendered, attachments=()) -> bytes:  # type: ignore[no-untyped-def]
    return build_message(
        from_name="Club Aide", from_address="aide@club.test", to="aideur@club.test",
        reply_to="aide+c0a-0123456789abcdef0123@club.test", rendered=rendered,
        message_id="<c0a-0123456789abcdef0123.ab@club.test>", in_reply_to=None, references=[],
        auto_submitted="auto-generated", date=datetime(2026, 11, 30, 7, 0), attachments=attachments)


def assert_wire_safe(raw: bytes) -> None:
    assert raw.isascii(), "7-bit on the wire"
    assert b"\n" not in raw.replace(b"\r\n", b""), "CRLF line ends only"
    assert all(len(line) <= 78 for line in raw.split(b"\r\n")), "every line within 78 characters"


def test_html_makes_a_multipart_alternative_text_first():
    raw = build(Rendered("Bilan de la semaine — 23 au 29 novembre", TEXT, HTML))
    assert_wire_safe(raw)
    message = message_from_bytes(raw, policy=policy.default)
    assert not message.defects and all(not part.defects for part in message.walk())
    assert message.get_content_type() == "multipart/alternative"
    plain, html = message.iter_parts()
    assert [plain.get_content_type(), html.get_content_type()] == ["text/plain", "text/html"]
    for part in (plain, html):
        assert part.get_content_charset() == "utf-8"
        assert part["Content-Transfer-Encoding"] == "quoted-printable"
    assert plain.get_content().replace("\r\n", "\n") == TEXT
    assert html.get_content().replace("\r\n", "\n") == HTML
    assert message["Subject"] == "Bilan de la semaine — 23 au 29 novembre"
    assert message.get_body(("html", "plain")) is html  # an HTML client shows the HTML
    assert message.get_body(("plain",)) is plain  # a text client, the text


def test_html_with_attachments_nests_the_alternative_in_a_mixed():
    pdf = bytes(range(256)) * 40
    raw = build(Rendered("Avec pièce jointe", TEXT, HTML),
                [(Attachment("bilan détaillé.pdf", "application/pdf", len(pdf), "attachment", 2), pdf)])
    assert_wire_safe(raw)
    message = message_from_bytes(raw, policy=policy.default)
    assert not message.defects and all(not part.defects for part in message.walk())
    assert message.get_content_type() == "multipart/mixed"
    alternative, attachment = message.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in alternative.iter_parts()] == ["text/plain", "text/html"]
    assert attachment.get_filename() == "bilan détaillé.pdf"
    assert message.get_body(("plain",)).get_content().replace("\r\n", "\n") == TEXT
    # Our own parser reads it back as a reader would: the text is the body, the PDF the only attachment.
    parsed = parse_mail(raw)
    assert [(a.filename, a.size) for a in parsed.attachments] == [("bilan détaillé.pdf", len(pdf))]
    assert [data for _, data in iter_attachment_payloads(raw)] == [pdf]
    assert "Hélène" in parsed.text


def test_without_html_the_mail_is_byte_for_byte_the_old_single_part(monkeypatch):
    """Every existing mail keeps its exact bytes (golden output of the text-only implementation)."""
    rendered = Rendered("Réponse à « élan »", "Héllo = ok\nLigne deux \n")
    assert rendered.html is None
    raw = build_message(
        from_name="Club Aide", from_address="aide@club.test", to="alice@membres.test",
        reply_to="aide+t1m-0123456789abcdef0123@club.test", rendered=rendered,
        message_id="<t1m-0123456789abcdef0123.ab@club.test>", in_reply_to="<req@membres.test>",
        references=["<root@membres.test>"], auto_submitted="auto-replied", date=datetime(2026, 11, 26, 10, 0))
    head = (b"From: Club Aide <aide@club.test>\r\nTo: alice@membres.test\r\n"
            b"Reply-To: aide+t1m-0123456789abcdef0123@club.test\r\n"
            b"Subject: =?utf-8?b?UsOpcG9uc2Ugw6Agwqsgw6lsYW4gwrs=?=\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\n"
            b"Message-ID: <t1m-0123456789abcdef0123.ab@club.test>\r\nIn-Reply-To: <req@membres.test>\r\n"
            b"References: <root@membres.test>\r\nAuto-Submitted: auto-replied\r\nX-Auto-Response-Suppress: All\r\n"
            b"X-Mailer: mailbot\r\nMIME-Version: 1.0\r\n")
    text_part = (b'Content-Type: text/plain; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n'
                 b"H=C3=A9llo =3D ok\r\nLigne deux=20\r\n")
    assert raw == head + text_part

    monkeypatch.setattr(compose.secrets, "token_hex", lambda n: "ab" * n)
    raw = build_message(
        from_name="Club Aide", from_address="aide@club.test", to="alice@membres.test",
        reply_to="aide+t1m-0123456789abcdef0123@club.test", rendered=rendered,
        message_id="<t1m-0123456789abcdef0123.ab@club.test>", in_reply_to="<req@membres.test>",
        references=["<root@membres.test>"], auto_submitted="auto-replied", date=datetime(2026, 11, 26, 10, 0),
        attachments=[(Attachment("note.txt", "text/plain", 3, "attachment", 2), b"abc")])
    boundary = b"=_mailbot_abababababababababababab"
    assert raw == (head + b'Content-Type: multipart/mixed; boundary="' + boundary + b'"\r\n\r\n'
                   + b"This is a multi-part message in MIME format.\r\n--" + boundary + b"\r\n" + text_part
                   + b"\r\n--" + boundary + b'\r\nContent-Type: text/plain;\r\n name="note.txt"\r\n'
                   + b"Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment;\r\n"
                   + b' filename="note.txt"\r\n\r\nYWJj\r\n\r\n--' + boundary + b"--\r\n")


@pytest.fixture
def renderer(tmp_path: Path) -> TemplateRenderer:
    (tmp_path / "avec_html.j2").write_text(
        "{% block subject %}Pour {{ name }}{% endblock %}\n"
        "{% block body %}\nBonjour {{ name }},\n{{ text }}\n{% endblock %}\n"
        "{% block html %}\n<p>Bonjour {{ name }},</p>\n\n\n<p>{{ text }}</p>\n{% endblock %}\n", encoding="utf-8")
    (tmp_path / "texte.j2").write_text(
        "{% block subject %}Pour {{ name }}{% endblock %}\n{% block body %}\nBonjour {{ name }},\n{% endblock %}\n",
        encoding="utf-8")
    return TemplateRenderer(tmp_path)


def test_the_html_block_is_autoescaped_and_the_text_is_not(renderer: TemplateRenderer):
    context = {"name": "Alice <script>alert('x')</script> & Cie", "text": "a < b"}
    rendered = renderer.render("avec_html", context)
    assert rendered.subject == "Pour Alice <script>alert('x')</script> & Cie"
    assert rendered.body == "Bonjour Alice <script>alert('x')</script> & Cie,\na < b\n"
    assert rendered.html == ("<p>Bonjour Alice &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Cie,</p>\n\n"
                             "<p>a &lt; b</p>\n")
    assert "<script>" not in rendered.html


def test_a_template_without_html_block_renders_no_html(renderer: TemplateRenderer):
    assert renderer.render("texte", {"name": "Alice"}) == Rendered("Pour Alice", "Bonjour Alice,\n")
    assert renderer.render("texte", {"name": "Alice"}).html is None


def test_only_the_templates_with_an_html_block_get_an_html_alternative():
    from tests.unit.test_templates import SAMPLES

    renderer = TemplateRenderer()
    with_html = {name for name, context in SAMPLES.items() if renderer.render(name, context).html is not None}
    declared = {name for name in SAMPLES if "{% block html %}" in (compose.TEMPLATES_DIR / f"{name}.j2").read_text()}
    assert with_html == declared and "digest_hebdo" in declared and "accuse_reception" not in declared
