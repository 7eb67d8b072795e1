"""Issue 11 point 9, over the real servers (SQLite and PostgreSQL): a Message-ID is not a mail.

The same Message-ID with another content is another mail: processed, acknowledged, never dropped as a duplicate
(an attacker who learns or guesses a Message-ID must not be able to have a real request taken for a copy). The same
mail delivered twice — byte for byte, or with other delivery traces (Received, Return-Path, Delivered-To,
Authentication-Results, X-Spam-…) and another transfer encoding — stays one mail, handled once.

A mail without a Message-ID gets one invented from what it says, the same for every delivery; a text a relay
re-folded (a line longer than 998 bytes broken by Postfix) is the same content; and records made before the
content digest became blind to line breaks are still recognised (the old digest is compared as a fallback).
"""
from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import func, select

from mailbot.models import InboundMail, OutboxMail, Ticket
from mailbot.pipeline import content_digest
from tests.helpers import (
    AIDEUR,
    ALICE,
    CLUB,
    add_members,
    append,
    mailbox,
    make_mail,
    run_cycle,
    settle,
    smtp_send,
    wait_mail,
)

pytestmark = pytest.mark.servers

TRACES = (b"Received: from relay2.example.net (relay2 [192.0.2.7]) by mx.club.test; Thu, 26 Nov 2026 10:00:00\r\n"
          b"Return-Path: <alice@membres.test>\r\nDelivered-To: aide@club.test\r\n"
          b"Authentication-Results: mx.club.test; spf=pass smtp.mailfrom=membres.test\r\n"
          b"X-Spam-Status: No, score=-0.1\r\n")


def _counts(sessions) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return (session.scalar(select(func.count(InboundMail.id))) or 0,
                session.scalar(select(func.count(Ticket.id))) or 0,
                session.scalar(select(func.count(OutboxMail.id)).where(OutboxMail.recipient == ALICE)) or 0)


def test_same_message_id_other_content_is_processed_identical_is_once(clean_mail, settings, sessions):
    add_members(sessions)
    first = make_mail(ALICE, "Bail commercial", "Bonjour,\n\nMon bailleur augmente le loyer de 30 %.\n",
                      message_id="<reutilise-1@membres.test>")
    smtp_send(clean_mail, first)
    wait_mail(clean_mail, CLUB, 1)
    assert dict(run_cycle(settings, sessions).actions) == {"new-request": 1}
    assert _counts(sessions) == (1, 1, 1)

    # The same mail again: byte for byte (IMAP APPEND: no delivery traces at all), then with other traces in front.
    append(clean_mail, CLUB, first.as_bytes())
    append(clean_mail, CLUB, TRACES + first.as_bytes().replace(b"\n", b"\r\n").replace(b"\r\r\n", b"\r\n"))
    assert dict(run_cycle(settings, sessions).actions) == {"duplicate": 2}
    assert _counts(sessions) == (1, 1, 1)

    # Another mail under the same Message-ID (another request: a client reusing identifiers, or someone hoping to
    # have it taken for a copy): processed, acknowledged, Aideur notified — and, delivered twice, still once.
    second = make_mail(ALICE, "Licenciement d'un salarié", "Bonjour,\n\nJe dois licencier un salarié, comment "
                       "faire ?\n", message_id="<reutilise-1@membres.test>")
    smtp_send(clean_mail, second)
    wait_mail(clean_mail, CLUB, 1)
    report = run_cycle(settings, sessions)
    assert "duplicate" not in dict(report.actions), report.actions
    assert sum(dict(report.actions).values()) == 1
    inbound, tickets, to_alice = _counts(sessions)
    assert inbound == 2 and to_alice == 2, (inbound, tickets, to_alice)
    acks = settle(clean_mail, ALICE, 2)
    assert len(acks) == 2
    assert any("Licenciement" in m.subject or "licencier" in m.text for m in acks)
    assert any("licencier" in m.text for m in mailbox(clean_mail, AIDEUR))
    append(clean_mail, CLUB, TRACES + second.as_bytes())
    assert dict(run_cycle(settings, sessions).actions) == {"duplicate": 1}
    assert _counts(sessions)[0] == 2
    assert len(settle(clean_mail, ALICE, 2)) == 2
    # Nothing left behind in the inbox: every mail was moved to its folder.
    assert mailbox(clean_mail, CLUB) == []


def test_content_digest_ignores_delivery_only():
    mail = make_mail(ALICE, "Sujet", "Texte accentué : été.\n").as_bytes()
    assert content_digest(mail) == content_digest(TRACES + mail)
    assert content_digest(mail) == content_digest(mail.replace(b"\n", b"\r\n"))
    assert content_digest(mail) != content_digest(mail.replace("été".encode(), b"hiver"))
    assert content_digest(mail) != content_digest(mail.replace(b"Subject: Sujet", b"Subject: Autre"))


NO_ID_REQUEST = (
    f"From: Alice Martin <{ALICE}>\r\nTo: {CLUB}\r\nSubject: Besoin d'un comptable\r\n"
    "Date: Thu, 26 Nov 2026 10:00:00 +0100\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    "Bonjour,\r\n\r\nJe cherche un comptable pour mon bilan annuel. Pouvez-vous m'aider ?\r\n\r\nAlice\r\n"
).encode()


def test_second_delivery_of_a_mail_without_message_id_is_a_duplicate(clean_mail, settings, sessions):
    """A member's mail without a Message-ID (her client added none, and Postfix adds none to mail relayed from
    another host) is delivered twice: the second copy has one more Received header, nothing else differs.
    Expected: one ticket, one acknowledgement, one notification to Aideur.

    Failed before (attack 12): the identifier invented for a mail without Message-ID was the SHA-256 of the raw
    bytes, delivery headers included (parsers/parse.py), so the second delivery got another one: recorded a second
    time, taken as a follow-up of the ticket the first opened (the text twice) and Aideur notified again."""
    add_members(sessions)
    append(clean_mail, CLUB, NO_ID_REQUEST)
    run_cycle(settings, sessions)
    again = (b"Received: from relay2.membres.test (relay2.membres.test [192.0.2.7])\r\n"
             b"\tby mx.club.test with ESMTP id 4Abc; Thu, 26 Nov 2026 10:05:00 +0100\r\n") + NO_ID_REQUEST
    append(clean_mail, CLUB, again)
    assert dict(run_cycle(settings, sessions).actions) == {"duplicate": 1}
    assert mailbox(clean_mail, CLUB) == []
    with sessions() as session:
        tickets = session.scalar(select(func.count(Ticket.id)))
        inbound = session.scalars(select(InboundMail.message_id)).all()
        outbox = session.scalar(select(func.count(OutboxMail.id)))
    assert tickets == 1 and len(inbound) == 1, (tickets, inbound)
    assert inbound[0].endswith("@mailbot.invalid")  # still recognisable as invented (retention.py relies on it)
    assert outbox == 2
    assert len(settle(clean_mail, ALICE, 1)) == 1
    assert len(settle(clean_mail, AIDEUR, 1)) == 1


def test_second_delivery_whose_long_line_a_relay_folded_is_a_duplicate(clean_mail, settings, sessions):
    """A member's request with one paragraph longer than 998 bytes (8bit text, as many clients send) reaches the
    club twice: once with the line whole (appended, as a primary MX or a fetch would leave it), once through
    Postfix (the sender's MTA retried through a backup MX), which breaks the line at 998 bytes with CRLF + space
    (smtp_line_length_limit) and adds its Received headers. Same Message-ID, same text: a duplicate, only moved.

    Failed before (attack 12): content_digest hashed the body's lines as they came, so the folded copy had
    "another content": recorded under <Message-ID>.variante-…, handled as a follow-up, Aideur notified again."""
    add_members(sessions)
    paragraph = " ".join(f"mot{number}" for number in range(250))  # about 1 500 bytes, one line
    raw = (f"From: Alice Martin <{ALICE}>\r\nTo: {CLUB}\r\nSubject: Besoin d'un comptable\r\n"
           "Message-ID: <long-ligne-1@membres.test>\r\nDate: Thu, 26 Nov 2026 10:00:00 +0100\r\n"
           "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
           f"Bonjour, je cherche un comptable.\r\n\r\n{paragraph}\r\n\r\nAlice\r\n").encode()
    append(clean_mail, CLUB, raw)
    run_cycle(settings, sessions)
    smtp_send(clean_mail, raw, sender=ALICE, recipients=[CLUB])
    wait_mail(clean_mail, CLUB, 1)
    assert dict(run_cycle(settings, sessions).actions) == {"duplicate": 1}
    with sessions() as session:
        records = session.execute(select(InboundMail.message_id, InboundMail.outcome)).all()
        outbox = session.scalar(select(func.count(OutboxMail.id)))
    assert len(records) == 1, f"one mail handled twice: {records}"
    assert outbox == 2


def _folded(raw: bytes) -> bytes:
    """`raw` as Postfix relays it: every body line longer than 998 bytes broken there with CRLF + space."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = []
    for line in body.split(b"\r\n"):
        while len(line) > 998:
            lines.append(line[:998])
            line = b" " + line[998:]
        lines.append(line)
    return head + b"\r\n\r\n" + b"\r\n".join(lines)


def _long_line_mail(paragraph: str, message_id: str = "<long-ligne-2@membres.test>") -> bytes:
    return (f"From: Alice Martin <{ALICE}>\r\nTo: {CLUB}\r\nSubject: Besoin d'un comptable\r\n"
            f"Message-ID: {message_id}\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            f"Bonjour,\r\n\r\n{paragraph}\r\n\r\nAlice\r\n").encode()


def test_content_digest_is_blind_to_what_a_relay_does_to_a_text_and_sees_every_word():
    """Line breaks inserted anywhere (even inside a word or a UTF-8 character), moved, line ends, whitespace runs
    and a quoted-printable re-encoding are what relays do: the same content. A word changed, added or removed is
    another one. (Before attack 12 a folded line made "another content".)"""
    paragraph = "é" + " ".join(f"mot{number} été" for number in range(150))
    mail = _long_line_mail(paragraph)
    assert _folded(mail) != mail
    assert content_digest(mail) == content_digest(_folded(mail))
    assert content_digest(mail) == content_digest(mail.replace(b"mot3 ", b"mot3 \r\n").replace(b"mot7 ", b"mot7  "))
    assert content_digest(mail) == content_digest(mail.replace(b"\r\n", b"\n").replace(b"Alice\n", b"Alice  \n"))
    encoded = make_mail(ALICE, "Sujet", "Texte accentué : été.\n")
    as_8bit = encoded.as_bytes()
    del encoded["Content-Transfer-Encoding"]
    encoded["Content-Transfer-Encoding"] = "quoted-printable"
    encoded.set_payload("Texte accentu=C3=A9 : =C3=\r\n=A9t=C3=A9.\r\n")
    assert content_digest(as_8bit) == content_digest(encoded.as_bytes())
    for changed in (b"mot12 ", b"mot99", b"Bonjour"):
        assert content_digest(mail) != content_digest(mail.replace(changed, changed + b"x", 1))
        assert content_digest(mail) != content_digest(mail.replace(changed, b"", 1))


def test_an_invented_message_id_depends_only_on_what_the_mail_says():
    """A mail without Message-ID: the same identifier for every delivery (other Received headers, line ends), another
    one for another text or another Date (two mails "Merci !" written on two days are two mails)."""
    from mailbot.parsers import parse_mail

    invented = parse_mail(NO_ID_REQUEST).message_id
    assert invented.endswith("@mailbot.invalid")
    assert parse_mail(TRACES + NO_ID_REQUEST).message_id == invented
    assert parse_mail(TRACES + NO_ID_REQUEST.replace(b"\r\n", b"\n")).message_id == invented
    assert parse_mail(NO_ID_REQUEST.replace(b"bilan", b"bilans")).message_id != invented
    assert parse_mail(NO_ID_REQUEST.replace(b"26 Nov", b"27 Nov")).message_id != invented


def test_records_made_before_the_upgrade_still_recognise_a_second_delivery(clean_mail, settings, sessions):
    """Databases made by earlier versions hold the content digest computed line by line (and, for a mail without
    Message-ID, an identifier made of its raw bytes): a second delivery of such a mail after the upgrade is still
    a duplicate (the old digest, and the old invented identifier, are compared as a fallback), while another
    content under the same Message-ID is still processed. Without the fallback, every second delivery of a mail
    recorded before the upgrade would have been processed again."""
    from sqlalchemy import update

    from mailbot.parsers.digest import content_digest as digest_of

    add_members(sessions)
    mail = _long_line_mail(" ".join(f"mot{number}" for number in range(250)))
    append(clean_mail, CLUB, mail)
    append(clean_mail, CLUB, NO_ID_REQUEST)
    assert "duplicate" not in dict(run_cycle(settings, sessions).actions)
    old_invented = f"{hashlib.sha256(NO_ID_REQUEST).hexdigest()}@mailbot.invalid"
    with sessions.begin() as session:  # what an earlier version had stored
        session.execute(update(InboundMail).where(InboundMail.message_id == "long-ligne-2@membres.test")
                        .values(content_sha256=digest_of(mail, legacy=True)))
        session.execute(update(InboundMail).where(InboundMail.message_id.like("%@mailbot.invalid"))
                        .values(message_id=old_invented, content_sha256=digest_of(NO_ID_REQUEST, legacy=True)))
    # Other delivery traces: the new digest differs from the stored one, the old one matches. (A copy a relay
    # folded cannot be recognised against an old record: its old digest differs, which was the defect.)
    assert digest_of(TRACES + mail) != digest_of(mail, legacy=True)
    append(clean_mail, CLUB, TRACES + mail)
    append(clean_mail, CLUB, NO_ID_REQUEST)
    assert dict(run_cycle(settings, sessions).actions) == {"duplicate": 2}
    other = _long_line_mail(" ".join(f"mot{number}" for number in range(251)))
    append(clean_mail, CLUB, other)
    assert "duplicate" not in dict(run_cycle(settings, sessions).actions)  # another text: another mail
    with sessions() as session:
        assert session.scalar(select(func.count(InboundMail.id))) == 3
    assert mailbox(clean_mail, CLUB) == []
