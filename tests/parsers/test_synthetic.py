"""Synthetic cases the corpus lacks: French clients, French out-of-office, subjects, broken MIME, names."""
from __future__ import annotations

import pytest

from mailbot.parsers import (
    MailKind,
    ParseError,
    iter_attachment_payloads,
    parse_mail,
    split_reply,
    strip_subject_prefixes,
)

NEW = "Oui, je peux aider mardi.\nBien cordialement,\nJeanne"
QUOTE = "Bonjour,\nAvez-vous un créneau ?\nLe Club"


def mail(headers: str, body: str | bytes, content_type: str = "text/plain; charset=utf-8") -> bytes:
    head = f"From: Jeanne Martin <Jeanne.Martin@Example.FR>\nTo: aide@club.fr\nMessage-ID: <abc@x>\n{headers}"
    if content_type:
        head += f"MIME-Version: 1.0\nContent-Type: {content_type}\n"
    data = body.encode("utf-8") if isinstance(body, str) else body
    return head.encode("utf-8") + b"\n" + data


@pytest.mark.parametrize("history", [
    # Gmail FR, one line and split over two lines
    f"Le lun. 3 juin 2024 à 10:00, Le Club <aide@club.fr> a écrit :\n\n> {QUOTE}",
    f"Le lun. 3 juin 2024 à 10:00, Le Club <\naide@club.fr> a écrit :\n\n> {QUOTE}",
    # Gmail EN
    f"On Mon, Jun 3, 2024 at 10:00 AM Le Club <aide@club.fr> wrote:\n> {QUOTE}",
    # Outlook FR
    (f"-----Message d'origine-----\nDe : Le Club <aide@club.fr>\nEnvoyé : lundi 3 juin 2024 10:00\n"
    f"À : Jeanne\nObjet : RE: Demande\n\n{QUOTE}"),
    (f"________________________________\nDe : Le Club <aide@club.fr>\nEnvoyé : lundi 3 juin 2024 10:00\n"
    f"À : Jeanne\nObjet : Demande\n\n{QUOTE}"),
    f"De : Le Club <aide@club.fr>\nEnvoyé : lundi 3 juin 2024 10:00\nÀ : Jeanne\nObjet : Demande\n\n{QUOTE}",
    f"From: Le Club <aide@club.fr>\nSent: Monday, June 3, 2024 10:00 AM\nTo: Jeanne\nSubject: Demande\n\n{QUOTE}",
    # Apple Mail FR
    f"Le 3 juin 2024 à 10:00, Le Club <aide@club.fr> a écrit :\n\n> {QUOTE}",
    # Thunderbird FR
    f"Le 03/06/2024 à 10:00, Le Club a écrit :\n> {QUOTE}",
    f"-------- Message original --------\nSujet : Demande\nDate : 03/06/2024 10:00\nDe : Le Club\n\n{QUOTE}",
    f"-------- Message transféré --------\nSujet : Demande\nDe : Le Club\n\n{QUOTE}",
    # plain "> " quotes
    f"> {QUOTE}",
])
def test_french_clients_history_removed(history: str) -> None:
    new, signature = split_reply(f"{NEW}\n\n{history}")
    assert new == NEW
    assert signature == ""


@pytest.mark.parametrize("sig", [
    "Envoyé de mon iPhone", "Sent from my iPhone", "Envoyé depuis Outlook pour Android",
    "Envoyé depuis Outlook pour iOS", "Obtenir Outlook pour iOS<https://aka.ms/o0ukef>",
])
def test_mobile_signatures(sig: str) -> None:
    new, signature = split_reply(f"{NEW}\n\n{sig}\n\nLe 3 juin 2024 à 10:00, Le Club a écrit :\n> {QUOTE}")
    assert new == NEW
    assert signature == sig


def test_dash_dash_signature() -> None:
    new, signature = split_reply(f"{NEW}\n-- \nJeanne Martin\n06 12 34 56 78")
    assert new == NEW
    assert signature.splitlines()[1:] == ["Jeanne Martin", "06 12 34 56 78"]


def test_bottom_post_keeps_text_below_quote() -> None:
    text = f"Le 03/06/2024 à 10:00, Le Club a écrit :\n> {QUOTE.replace(chr(10), chr(10) + '> ')}\n\n{NEW}"
    assert split_reply(text)[0] == NEW


def test_prose_with_ecrit_is_not_cut() -> None:
    text = "Pierre a écrit :\nune lettre au maire, sans réponse.\nMerci"
    assert split_reply(text)[0] == text


def test_commands_above_quote_survive() -> None:
    new, _ = split_reply("#accepter 15/12\nMerci\n\nLe 3 juin 2024 à 10:00, X <x@y.fr> a écrit :\n> ticket")
    assert new == "#accepter 15/12\nMerci"


# --- kind ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("subject", [
    "Réponse automatique : Demande d'aide", "=?utf-8?q?R=C3=A9ponse_automatique_=3A_Demande?=",
    "Absence du bureau", "Automatic reply: Demande", "Out of Office: Demande", "Abwesenheitsnotiz: x",
])
def test_french_outlook_out_of_office(subject: str) -> None:
    raw = mail(f"Subject: {subject}\nX-Auto-Response-Suppress: All\n", "Je suis absente jusqu'au 10 juin.")
    parsed = parse_mail(raw)
    assert parsed.kind is MailKind.AUTO_REPLY
    assert parsed.auto_submitted == ""


def test_auto_submitted_header() -> None:
    parsed = parse_mail(mail("Subject: Demande\nAuto-Submitted: auto-replied\n", "absent"))
    assert parsed.kind is MailKind.AUTO_REPLY and parsed.auto_submitted == "auto-replied"


def test_auto_submitted_no_is_normal() -> None:
    assert parse_mail(mail("Subject: Demande\nAuto-Submitted: no\n", "Bonjour")).kind is MailKind.NORMAL


def test_ordinary_reply_is_normal() -> None:
    parsed = parse_mail(mail("Subject: RE : TR: Demande\n", "Oui merci"))
    assert parsed.kind is MailKind.NORMAL and parsed.kind_reason == ""


def test_list_mail_is_bulk() -> None:
    raw = mail("Subject: Lettre\nList-Unsubscribe: <mailto:u@l.fr>\n", "Nouvelles")
    assert parse_mail(raw).kind is MailKind.BULK


def test_read_receipt_mdn() -> None:
    body = ("--b\nContent-Type: text/plain\n\nLu.\n--b\nContent-Type: message/disposition-notification\n\n"
            "Final-Recipient: rfc822; a@b.fr\nDisposition: manual-action/MDN-sent-manually; displayed\n--b--\n")
    raw = mail("Subject: Lu : Demande\n", body, 'multipart/report; report-type=disposition-notification; boundary="b"')
    assert parse_mail(raw).kind is MailKind.AUTO_REPLY


def test_french_bounce_recipient() -> None:
    body = ("Votre message n'a pas pu être remis à jean.dupont@orange.fr : adresse inconnue.\n")
    raw = mail("Subject: Message non délivré\n", body).replace(b"Jeanne Martin <Jeanne.Martin@Example.FR>",
                                                                 b"MAILER-DAEMON@orange.fr")
    parsed = parse_mail(raw)
    assert parsed.kind is MailKind.BOUNCE
    assert parsed.bounced_recipients == ("jean.dupont@orange.fr",)


# --- subjects -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("subject", "expected"), [
    ("RE : TR: Re : Demande", "Demande"), ("Réf : Demande", "Demande"), ("Ref:Demande", "Demande"),
    ("Fwd: Fw: AW: WG: RV: Demande", "Demande"), ("Re[2]: Demande", "Demande"), ("re:re: x", "x"),
    ("[EXTERNAL] RE: Demande", "[EXTERNAL] Demande"), ("Rendez-vous : mardi", "Rendez-vous : mardi"),
    ("Demande", "Demande"), ("Retour: x", "Retour: x"),
])
def test_strip_subject_prefixes(subject: str, expected: str) -> None:
    assert strip_subject_prefixes(subject) == expected


# --- headers, charsets, MIME ------------------------------------------------------------------------

def test_headers_decoded_and_addresses_lowercased() -> None:
    raw = mail('Subject: =?utf-8?q?Caf=C3=A9_cr=C3=A8me?=\nCc: "=?utf-8?q?Dupont=2C_Jean?=" <J@X.FR>, b@c.fr\n'
               "In-Reply-To: <r1@club.fr>\nReferences: <r0@club.fr> <r1@club.fr>\nDate: Mon, 3 Jun 2024 10:00:00 +0200\n",
               "x")
    parsed = parse_mail(raw)
    assert parsed.subject == "Café crème"
    assert parsed.from_address == "jeanne.martin@example.fr" and parsed.from_name == "Jeanne Martin"
    assert parsed.cc == ("j@x.fr", "b@c.fr")
    assert parsed.in_reply_to == ("r1@club.fr",) and parsed.references == ("r0@club.fr", "r1@club.fr")
    assert parsed.date is not None and parsed.date.utcoffset() is not None


def test_unterminated_encoded_word_and_raw_8bit_header() -> None:
    raw = mail("Subject: =?utf-8?q?R=C3=A9sum=C3=A9\n", "x").replace(b"Jeanne Martin", "Jérôme".encode("latin-1"))
    parsed = parse_mail(raw)
    assert parsed.subject == "Résumé"
    assert parsed.from_name == "Jérôme"


def test_wrong_and_unknown_charsets() -> None:
    assert parse_mail(mail("Subject: x\n", "déjà vu", "text/plain; charset=us-ascii")).text == "déjà vu"
    latin = mail("Subject: x\n", "déjà vu".encode("latin-1"), "text/plain; charset=x-unknown-42")
    assert parse_mail(latin).text == "déjà vu"


def test_format_flowed_delsp() -> None:
    raw = mail("Subject: x\n", "Un texte qui con \r\ntinue ici.\r\n", "text/plain; charset=utf-8; format=flowed; delsp=yes")
    assert parse_mail(raw).text == "Un texte qui continue ici."


def test_html_only_mail_is_readable_without_markdown() -> None:
    html = ('<html><body><p>Bonjour <b>Jeanne</b>,</p><p>Voir <a href="https://club.fr/x">la fiche</a>.'
            "</p><ul><li>un_deux</li></ul></body></html>")
    text = parse_mail(mail("Subject: x\n", html, "text/html; charset=utf-8")).text
    assert "**" not in text and "\\_" not in text
    assert "Bonjour Jeanne," in text and "la fiche (https://club.fr/x)" in text and "- un_deux" in text


def test_empty_plain_part_falls_back_to_html() -> None:
    body = ('--b\nContent-Type: text/plain\n\n \n--b\nContent-Type: text/html\n\n<p>Le vrai texte</p>\n--b--\n')
    assert parse_mail(mail("Subject: x\n", body, 'multipart/alternative; boundary="b"')).text == "Le vrai texte"


def test_missing_close_boundary_gives_text_and_defects() -> None:
    body = "--b\nContent-Type: text/plain\n\nTexte visible\n"
    parsed = parse_mail(mail("Subject: x\n", body, 'multipart/mixed; boundary="b"'))
    assert "Texte visible" in parsed.text
    assert "CloseBoundaryNotFoundDefect" in parsed.defects


def test_attachment_names_sanitised_and_payloads_rereadable() -> None:
    body = ("--b\nContent-Type: text/plain\n\nVoir PJ\n"
            '--b\nContent-Type: application/pdf\nContent-Disposition: attachment; filename="../../etc/pa\tss.pdf"\n'
            "Content-Transfer-Encoding: base64\n\nJVBERi0x\n"
            "--b\nContent-Type: application/octet-stream\nContent-Disposition: attachment;\n"
            " filename*=utf-8''r%C3%A9sum%C3%A9%0A.txt\n\nabc\n"
            "--b\nContent-Type: image/png\nContent-Disposition: inline\n\nxx\n--b--\n")
    raw = mail("Subject: x\n", body, 'multipart/mixed; boundary="b"')
    parsed = parse_mail(raw)
    names = [a.filename for a in parsed.attachments]
    assert names == ["pass.pdf", "résumé.txt", "part-4.png"]
    assert parsed.attachments[0].size == 6 and parsed.attachments[0].disposition == "attachment"
    assert parsed.attachments[2].disposition == "inline"
    payloads = list(iter_attachment_payloads(raw))
    assert payloads[0][1] == b"%PDF-1" and payloads[0][0] == parsed.attachments[0]


def test_no_message_id_gets_stable_generated_one() -> None:
    raw = b"From: a@b.fr\nSubject: x\n\nbody"
    first, second = parse_mail(raw), parse_mail(raw)
    assert first.message_id == second.message_id and first.message_id.endswith("@mailbot.invalid")


@pytest.mark.parametrize("raw", [b"", b"   \n", b"just some text\nwithout headers", b"\x00\x01\x02"])
def test_not_a_mail_raises_parse_error(raw: bytes) -> None:
    with pytest.raises(ParseError):
        parse_mail(raw)


def test_parse_error_is_value_error() -> None:
    assert issubclass(ParseError, ValueError)


def test_contact_block_under_sign_off_is_signature_and_sign_off_stays():
    from mailbot.parsers import split_reply

    body, signature = split_reply("Surface souhaitée : 80 m², près de la gare.\nCordialement,\nAlice Martin\n"
                                  "Martin Conseil\nTél. : 06 12 34 56 78")
    assert body == "Surface souhaitée : 80 m², près de la gare.\nCordialement,"
    assert signature.endswith("06 12 34 56 78")


def test_bare_first_name_under_thanks_is_kept():
    from mailbot.parsers import split_reply

    assert split_reply("Pouvez-vous m'aider ?\n\nMerci,\nAlice") == ("Pouvez-vous m'aider ?\n\nMerci,\nAlice", "")


def test_prose_above_a_phone_line_is_never_cut_as_signature():
    from mailbot.parsers import split_reply

    body, signature = split_reply("Je cherche un avocat pour un litige.\nTél. : 06 12 34 56 78")
    assert body == "Je cherche un avocat pour un litige."
    assert signature == "Tél. : 06 12 34 56 78"


def test_big_attachment_is_counted_not_held_in_memory():
    """A 6 MB attachment: exact decoded size, the text intact, and parsing holds about the raw size, not 8x."""
    import tracemalloc
    from email.message import EmailMessage

    from mailbot.parsers import iter_attachment_payloads, parse_mail

    payload = bytes(range(256)) * (6 * 1024 * 1024 // 256 + 7)
    message = EmailMessage()
    message["From"] = "alice@membres.test"
    message["To"] = "aide@club.test"
    message["Subject"] = "Gros fichier"
    message["Message-ID"] = "<gros@membres.test>"
    message.set_content("Voici le plan complet du bâtiment.")
    message.add_attachment(payload, maintype="application", subtype="pdf", filename="plan.pdf")
    raw = message.as_bytes()
    tracemalloc.start()
    try:
        mail = parse_mail(raw)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert mail.new_text == "Voici le plan complet du bâtiment."
    [attachment] = mail.attachments
    assert (attachment.filename, attachment.size) == ("plan.pdf", len(payload))
    assert peak < 2 * len(raw), f"parsing held {peak / len(raw):.1f}x the mail's size"
    tracemalloc.start()
    try:
        [(again, data)] = list(iter_attachment_payloads(raw))  # forwarding still gets the bytes
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert again.filename == "plan.pdf" and data == payload
    assert peak < 3 * len(raw), f"forwarding held {peak / len(raw):.1f}x the mail's size"


def _big_mail(payload: bytes, *, text: str = "Voici le plan.", single_part: bool = False) -> bytes:
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"], message["To"] = "alice@membres.test", "aide@club.test"
    message["Subject"], message["Message-ID"] = "Gros fichier", "<gros@membres.test>"
    if single_part:
        message.set_content(payload, maintype="application", subtype="pdf", filename="plan.pdf")
    else:
        message.set_content(text)
        message.add_attachment(payload, maintype="application", subtype="pdf", filename="plan.pdf")
    return message.as_bytes()


# An attachment's base64 is lines of 76 letters (57 bytes) and a last, shorter one: of 4 to 76 letters. Above
# SLIM_ABOVE the long run is kept in the raw bytes, out of the parsed message; the last line must go with it.
@pytest.mark.parametrize("last_line_bytes", [1, 2, 3, 10, 28, 29, 30, 56, 0])
@pytest.mark.parametrize("single_part", [False, True])
def test_a_big_attachment_is_read_whole_whatever_its_last_line(last_line_bytes: int, single_part: bool) -> None:
    """A 2.5 MB attachment whose base64 ends with a line shorter than the others (one in two attachments): its
    size is exact and forwarding gets every byte (it was counted as a few bytes and forwarded as 28 bytes of
    garbage when the last line had fewer than 40 letters)."""
    from mailbot.parsers.mime import SLIM_ABOVE

    size = (SLIM_ABOVE // 57 + 2_000) * 57 + last_line_bytes
    payload = bytes((i * 7 + i // 251) % 256 for i in range(size))
    raw = _big_mail(payload, single_part=single_part)
    assert len(raw) > SLIM_ABOVE
    mail = parse_mail(raw)
    [attachment] = mail.attachments
    assert (attachment.filename, attachment.size) == ("plan.pdf", size)
    [(again, data)] = list(iter_attachment_payloads(raw))
    assert again.filename == "plan.pdf" and data == payload


def test_two_big_attachments_of_one_size_are_two_contents() -> None:
    """The content digest of a big mail reads the attachment's letters, not only where they were: one byte
    changed at the start of a 2.5 MB attachment is another content (the same size, the same short last line)."""
    from mailbot.parsers.mime import SLIM_ABOVE
    from mailbot.pipeline import content_digest

    size = (SLIM_ABOVE // 57 + 2_000) * 57 + 10
    payload = bytes((i * 7) % 256 for i in range(size))
    changed = b"X" + payload[1:]
    assert content_digest(_big_mail(payload)) != content_digest(_big_mail(changed))
    assert content_digest(_big_mail(payload)) == content_digest(_big_mail(payload))


def test_a_long_base64_run_followed_by_other_lines_in_its_part_is_read_as_it_is() -> None:
    """A run of base64-looking lines that is not the whole of its part (text after it in the same part) is not
    set aside: the part reads exactly as written."""
    from mailbot.parsers.mime import SLIM_ABOVE, SLIM_MIN_LINES, load

    run = ("QUJD" * 19 + "\n") * (max(SLIM_MIN_LINES, SLIM_ABOVE // 77) + 10)
    body = ("--b\nContent-Type: text/plain; charset=utf-8\n\nBonjour,\n--b\n"
            "Content-Type: application/octet-stream\nContent-Disposition: attachment; filename=\"x.txt\"\n\n"
            f"{run}fin du fichier, pas du base64\n--b--\n")
    raw = mail("Subject: x\n", body, content_type="multipart/mixed; boundary=b")
    assert len(raw) > SLIM_ABOVE
    part = load(raw).get_payload()[1]
    assert part.get_payload() == run + "fin du fichier, pas du base64"


def test_a_long_base64_run_after_text_in_its_part_is_read_as_it_is() -> None:
    """The same run after a paragraph and an empty line of its part (a blob pasted under a text): the part reads
    exactly as written, text and run together."""
    from mailbot.parsers.mime import SLIM_ABOVE, SLIM_MIN_LINES, load

    run = ("QUJD" * 19 + "\n") * (max(SLIM_MIN_LINES, SLIM_ABOVE // 77) + 10)
    body = ("--b\nContent-Type: text/plain; charset=utf-8\n\nBonjour,\n--b\n"
            "Content-Type: text/plain; charset=utf-8\n\nVoici le fichier collé :\n\n"
            f"{run}--b--\n")
    raw = mail("Subject: x\n", body, content_type="multipart/mixed; boundary=b")
    part = load(raw).get_payload()[1]
    assert part.get_payload() == "Voici le fichier collé :\n\n" + run[:-1]


_BIG = bytes((i * 7 + i // 251) % 256 for i in range(2_600_000))


def _b64_lines(data: bytes) -> bytes:
    import base64

    encoded = base64.b64encode(data)
    return b"\n".join(encoded[i:i + 76] for i in range(0, len(encoded), 76))


def _mixed(*parts: bytes) -> bytes:
    head = (b"From: a@membres.test\nTo: aide@club.test\nSubject: t\nMessage-ID: <m@membres.test>\n"
            b"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b\"\n\n")
    return head + b"".join(b"--b\n" + part + b"\n" for part in parts) + b"--b--\n"


def _part(body: bytes, *, cte: bytes = b"base64", ctype: bytes = b"application/pdf") -> bytes:
    return (b"Content-Type: " + ctype + b"\nContent-Transfer-Encoding: " + cte
            + b"\nContent-Disposition: attachment; filename=\"f.pdf\"\n\n" + body)


_TEXT = b"Content-Type: text/plain\n\nBonjour"


def _read_as_sent(raw: bytes) -> None:
    """Sizes, forwarded bytes and body text as the email package reads the mail without any bound."""
    import email
    import email.policy

    from mailbot.parsers.mime import attachments, body_text, load, payload_bytes

    plain = email.message_from_bytes(raw, policy=email.policy.compat32)
    expected = [(a.filename, a.size) for a in attachments(plain)]
    assert [(a.filename, a.size) for a in attachments(load(raw))] == expected
    forwarded = [data for _, data in iter_attachment_payloads(raw)]
    assert len(forwarded) == len(expected)
    assert body_text(load(raw)) == body_text(plain)
    plain_leaves = [p for p in plain.walk() if not p.is_multipart()]
    assert all(isinstance(payload_bytes(p), bytes) for p in plain_leaves)


@pytest.mark.parametrize("case", ["blank line before the base64", "padding left off", "7bit part",
                                  "quoted-printable part", "base64 text part", "message/rfc822 with a pdf"])
def test_a_big_mail_reads_as_sent_whatever_holds_its_base64(case: str) -> None:
    """The runs set aside in a big mail are only a base64 attachment's whole body: a blank line before it, a run
    without its padding, base64-looking lines in a 7bit or quoted-printable part, a big text part in base64, an
    attached message with its own attachment — each reads (sizes, forwarded bytes, text) as the plain parse reads
    it (they were counted as a few bytes, forwarded as garbage or raised)."""
    from mailbot.parsers.mime import SLIM_ABOVE

    encoded = _b64_lines(_BIG)
    raw = {
        "blank line before the base64": _mixed(_TEXT, _part(b"\n" + encoded)),
        "padding left off": _mixed(_TEXT, _part(_b64_lines(_BIG + b"xy").rstrip(b"="))),
        "7bit part": _mixed(_TEXT, _part(encoded, cte=b"7bit", ctype=b"application/octet-stream")),
        "quoted-printable part": _mixed(_TEXT, _part(encoded, cte=b"quoted-printable")),
        "base64 text part": _mixed(b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
                                   + _b64_lines(("Bonjour tout le monde. " * 120_000).encode())),
        "message/rfc822 with a pdf": _mixed(_TEXT, b"Content-Type: message/rfc822\nContent-Disposition: attachment;"
                                            b" filename=\"fw.eml\"\n\n" + _mixed(_TEXT, _part(encoded)).replace(b"--b", b"--c")
                                            .replace(b'boundary="b"', b'boundary="c"')),
    }[case]
    assert len(raw) > SLIM_ABOVE
    _read_as_sent(raw)
    parse_mail(raw)  # the whole reading, without an error
    if case == "padding left off":
        [(_, data)] = list(iter_attachment_payloads(raw))
        assert data == _BIG + b"xy"
    if case == "message/rfc822 with a pdf":
        forwarded = {a.filename: d for a, d in iter_attachment_payloads(raw)}
        assert encoded[:1000] in forwarded["fw.eml"] and b"MAILBOTSLIM" not in forwarded["fw.eml"]


def test_a_mail_that_spells_out_a_placeholder_is_read_as_text() -> None:
    """An attachment whose whole text looks like the parser's placeholder, in a small mail or a big one, is that
    text: its own size, forwarded as written (it was counted as the size it named, and forwarding raised)."""
    for filler in (b"", _part(_b64_lines(_BIG))):
        for spelt in (b"MAILBOTSLIM-0-100-5", b"MAILBOTSLIM-0123456789abcdef-0-100-5"):
            spelling = _part(spelt, cte=b"7bit", ctype=b"application/octet-stream")
            raw = _mixed(_TEXT, spelling, *([filler] if filler else []))
            forwarded = [data for _, data in iter_attachment_payloads(raw)]
            assert forwarded[0] == spelt
