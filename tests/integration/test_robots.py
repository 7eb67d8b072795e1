"""Robots over the real servers (issue 14, point 4): TLS and DMARC reports, a Hotmail complaint, a read receipt, a
calendar answer and an Outlook out-of-office without Auto-Submitted, all from a member's own address, get no answer
and are recorded with their reason; the member's real request sent beside them is answered once."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from mailbot.models import InboundMail, OutboxMail, Ticket
from tests.helpers import AIDEUR, ALICE, CLUB, add_members, append, mailbox, run_cycle, settle

pytestmark = pytest.mark.servers


def raw(message_id: str, headers: str, body: str, content_type: str = "text/plain; charset=utf-8",
        sender: str = ALICE) -> bytes:
    return (f"From: {sender}\r\nTo: {CLUB}\r\nMessage-ID: <{message_id}>\r\nDate: Thu, 26 Nov 2026 09:00:00 +0100\r\n"
            f"{headers}MIME-Version: 1.0\r\nContent-Type: {content_type}\r\n\r\n{body}").replace("\r\n", "\n") \
        .replace("\n", "\r\n").encode("utf-8")


ROBOTS = {
    "tls@robots": raw("tls@robots", "Subject: Report Domain: club.test Submitter: google.com Report-ID: <1>\n",
                      "--T\nContent-Type: text/plain\n\nTLS report\n--T\nContent-Type: application/tlsrpt+gzip\n"
                      "Content-Transfer-Encoding: base64\n\nH4sIAAAAAAAAAA==\n--T--\n",
                      'multipart/report; report-type=tlsrpt; boundary="T"'),
    "dmarc@robots": raw("dmarc@robots", "Subject: Report domain: club.test Submitter: google.com Report-ID: 2\n",
                        "--M\nContent-Type: text/plain\n\nAggregate report.\n--M\nContent-Type: application/zip\n"
                        "Content-Disposition: attachment; filename=\"google.com!club.test!1733011200!1733097599.zip\"\n"
                        "Content-Transfer-Encoding: base64\n\nUEsDBAoAAAAAAA==\n--M--\n",
                        'multipart/mixed; boundary="M"'),
    "jmrp@robots": raw("jmrp@robots", "Subject: complaint about message from 192.0.2.10\n",
                       "--M\nContent-Type: text/plain\n\n\n--M\nContent-Type: message/rfc822\n\nFrom: aide@club.test\n"
                       "X-HmXmrOriginalRecipient: <x@hotmail.com>\nSubject: Appel\n\nBonjour\n--M--\n",
                       'multipart/mixed; boundary="M"'),
    "mdn@robots": raw("mdn@robots", "Subject: Accusé de réception (affiché) - Votre demande\n",
                      "Ceci est un accusé de réception pour le courrier envoyé.\n"),
    "ics@robots": raw("ics@robots", "Subject: Accepté : Réunion du club\n",
                      "--A\nContent-Type: text/plain; charset=utf-8\n\nAlice a accepté.\n--A\n"
                      "Content-Type: text/calendar; method=REPLY\n\nBEGIN:VCALENDAR\nMETHOD:REPLY\nEND:VCALENDAR\n--A--\n",
                      'multipart/alternative; boundary="A"'),
    "ooo@robots": raw("ooo@robots", "Subject: Votre demande\nX-Auto-Response-Suppress: All\n",
                      "Bonjour,\nJe suis absente du bureau jusqu'au 3 décembre.\nAlice\n"),
}
REQUEST = raw("request@membres.test", "Subject: Facture contestée\nX-Auto-Response-Suppress: All\n",
              "Bonjour,\nJe suis absente du bureau jusqu'au 3 décembre : un client conteste ma facture, "
              "pouvez-vous m'aider ?\nAlice\n")


def test_robots_get_no_answer_and_are_recorded_the_request_beside_them_is_answered(
        clean_mail, settings, sessions):  # type: ignore[no-untyped-def]
    add_members(sessions)
    for message in ROBOTS.values():
        append(clean_mail, CLUB, message)
    append(clean_mail, CLUB, REQUEST)
    run_cycle(settings, sessions)

    with sessions() as session:
        rows = {r.message_id: r for r in session.scalars(select(InboundMail))}
        tickets = session.scalars(select(Ticket)).all()
        outbox = session.scalars(select(OutboxMail)).all()
        # Every robot is recorded, automatic, with its reason; none made a ticket.
        for message_id in ROBOTS:
            assert rows[message_id].kind in ("auto-reply", "bulk"), (message_id, rows[message_id].reason)
            assert rows[message_id].reason, message_id
            assert rows[message_id].ticket_id is None
        assert rows["request@membres.test"].kind == "normal"
        assert [t.subject for t in tickets] == ["Facture contestée"]
        # One acknowledgement to Alice (for the request), one notification to Aideur, and the calendar answer's one
        # short notice (issue 13, point 7): nothing else for the robots.
        assert sorted(m.recipient for m in outbox) == sorted([ALICE, AIDEUR, AIDEUR])
    acks = settle(clean_mail, ALICE, 1)
    assert len(acks) == 1 and "Facture contestée" in acks[0].subject
    notices = settle(clean_mail, AIDEUR, 2)
    assert len(notices) == 2 and sum(m.subject.startswith("Agenda : réponse") for m in notices) == 1
    assert mailbox(clean_mail, CLUB, settings.quarantine_folder) == []
