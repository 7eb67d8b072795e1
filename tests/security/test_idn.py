"""Issue 11 point 10: internationalised addresses (RFC 6531, IDN domains), end to end.

A member whose address has accents before the @ (josé.garcía@…) writes to the club (real Dovecot): the mail is
accepted and becomes a ticket — nothing quarantined, nothing crashes — and the acknowledgement goes out with
SMTPUTF8 to a server that offers it. To a server that does not (the outgoing side is aiosmtpd on loopback, where
SMTPUTF8 can be switched off per test; the test Postfix offers it), that one mail fails and Aideur gets a clear
alert in French saying what to do; everything else is delivered. An IDN domain with an ASCII local part needs no
SMTPUTF8 at all: it travels as its A-label.
"""
from __future__ import annotations

from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from mailbot.compose import Rendered, ascii_domain, build_message
from mailbot.config import load_settings
from mailbot.dev.devserver import free_port
from mailbot.members import upsert_member
from mailbot.models import InboundMail, Member, OutboxMail, Ticket
from tests.conftest import make_env
from tests.helpers import AIDEUR, CLOCK, CLUB, append, run_cycle

pytestmark = pytest.mark.servers

JOSE = "josé.garcía@membres.test"
IDN = "jose@exemple-été.test"


class Recorder:
    def __init__(self) -> None:
        self.mails: list[tuple[str, list[str], list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd's naming
        self.mails.append((envelope.mail_from, list(envelope.rcpt_tos), list(envelope.mail_options),
                           envelope.original_content or envelope.content))
        return "250 OK"


@pytest.fixture(params=[True, False], ids=["smtputf8", "no-smtputf8"])
def outgoing(request):  # type: ignore[no-untyped-def]
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port(), enable_SMTPUTF8=request.param)
    controller.start()
    yield recorder, controller, request.param
    controller.stop()


def _request(sender: str, subject: str) -> bytes:
    return (f"From: {sender}\r\nTo: {CLUB}\r\nSubject: {subject}\r\nMessage-ID: <idn-{abs(hash(sender))}@x.test>\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            "Bonjour,\r\n\r\nJ'ai besoin d'un conseil sur un bail commercial.\r\n").encode()


def test_an_internationalised_member_is_served(clean_mail, database_url, sessions_for, outgoing):
    recorder, controller, utf8 = outgoing
    settings = load_settings(make_env(clean_mail, database_url, MAILBOT_SMTP_HOST="127.0.0.1",
                                      MAILBOT_SMTP_PORT=str(controller.port)), env_file=None)
    sessions = sessions_for(database_url)
    with sessions.begin() as session:
        upsert_member(session, JOSE, first_name="José", last_name="García")
        upsert_member(session, IDN, first_name="Jo", last_name="Été")
    append(clean_mail, CLUB, _request(JOSE, "Bail commercial"))
    # Its client writes the domain as its A-label: the same member all the same.
    append(clean_mail, CLUB, _request("jose@xn--exemple-t-i4ab.test", "Bail commercial aussi"))
    report = run_cycle(settings, sessions, at=CLOCK)
    assert dict(report.actions) == {"new-request": 2}, report.actions
    with sessions() as session:
        assert session.scalar(select(Member.email).where(Member.email == JOSE)) == JOSE  # stored as written
        assert len(session.scalars(select(Ticket)).all()) == 2
        assert not session.scalars(select(InboundMail).where(InboundMail.outcome == "quarantined")).all()
        rows = {row.recipient: row for row in session.scalars(select(OutboxMail))}

    to = {rcpt: (options, raw) for _, rcpts, options, raw in recorder.mails for rcpt in rcpts}
    # The IDN domain: its A-label, never SMTPUTF8, whatever the server.
    idn_ack = to["jose@xn--exemple-t-i4ab.test"]
    assert "SMTPUTF8" not in [o.upper() for o in idn_ack[0]] and rows[IDN].status == "sent"
    # Aideur hears of both requests.
    assert AIDEUR in to
    if utf8:
        options, raw = to[JOSE]
        assert "SMTPUTF8" in [o.upper() for o in options]
        ack = message_from_bytes(raw, policy=policy.SMTPUTF8)
        assert str(ack["To"]) == JOSE and "Bail commercial" in str(ack["Subject"])
        assert rows[JOSE].status == "sent"
    else:
        assert JOSE not in to and rows[JOSE].status == "failed"
        alerts = [message_from_bytes(raw, policy=policy.default) for _, rcpts, _, raw in recorder.mails
                  if AIDEUR in rcpts]
        alert = [m for m in alerts if "Échec d'envoi" in str(m["Subject"])]
        assert len(alert) == 1, [str(m["Subject"]) for m in alerts]
        text = alert[0].get_body(("plain",)).get_content()
        assert JOSE in text and "SMTPUTF8" in text and "hébergeur" in text and "sans accents" in text


def test_compose_takes_any_address():
    rendered = Rendered(subject="Accusé de réception", body="Bonjour José,\n")
    raw = build_message(from_name="Club Aide", from_address=CLUB, to=JOSE, reply_to=CLUB, rendered=rendered,
                        message_id="<a@club.test>", in_reply_to=None, references=[], auto_submitted="auto-replied",
                        date=CLOCK)
    assert message_from_bytes(raw, policy=policy.SMTPUTF8)["To"] == JOSE
    assert ascii_domain(IDN) == "jose@xn--exemple-t-i4ab.test" and ascii_domain(JOSE) == JOSE
