"""Issue 11 point 9, over the real servers (SQLite and PostgreSQL): a Message-ID is not a mail.

The same Message-ID with another content is another mail: processed, acknowledged, never dropped as a duplicate
(an attacker who learns or guesses a Message-ID must not be able to have a real request taken for a copy). The same
mail delivered twice — byte for byte, or with other delivery traces (Received, Return-Path, Delivered-To,
Authentication-Results, X-Spam-…) and another transfer encoding — stays one mail, handled once.
"""
from __future__ import annotations

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
