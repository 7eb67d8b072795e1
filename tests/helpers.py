"""Test helpers: send mail over real SMTP, read mailboxes over real IMAP, run one daemon cycle."""
from __future__ import annotations

import email
import email.policy
import re
import smtplib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from imap_tools import MailBoxUnencrypted, MailMessage
from sqlalchemy.orm import Session, sessionmaker

from mailbot.config import ServerSettings, Settings, load_settings
from mailbot.coordination import MailClaims
from mailbot.daemon import CycleReport, Daemon
from mailbot.dev.devserver import LOOPBACK, MailServer, free_port
from mailbot.mailbox import Mailbox
from mailbot.members import upsert_member
from mailbot.models import OutboxMail

PASSWORD = "pw-test"
CLUB = "aide@club.test"
AIDEUR = "aideur@club.test"
ALICE = "alice@membres.test"
BRUNO = "bruno@membres.test"
CHLOE = "chloe@membres.test"
MEMBERS = (ALICE, BRUNO, CHLOE)
STRANGER = "inconnu@ailleurs.test"
OUTSIDERS = (STRANGER,)
# The instant every test cycle runs at unless the test sets its own: Thursday 26 November 2026, 11:00 in Paris,
# a working day with nothing due. Never the real clock (tests/unit/test_no_real_clock.py checks it).
CLOCK = datetime(2026, 11, 26, 10, 0)


def add_members(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        upsert_member(session, ALICE, first_name="Alice", last_name="Martin", company="Martin Conseil",
                      phone="06 12 34 56 78", skills="comptabilité, fiscalité")
        upsert_member(session, BRUNO, first_name="Bruno", last_name="Petit", company="Petit Bâtiment",
                      skills="maçonnerie")
        upsert_member(session, CHLOE, first_name="Chloé", last_name="Durand", skills="droit du travail")


def make_mail(sender: str, subject: str, text: str, *, to: str = CLUB, message_id: str | None = None,
              **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = message_id or make_msgid(domain=sender.rsplit("@", 1)[-1])
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    return message


def smtp_send(server: MailServer, message: EmailMessage | bytes, *, sender: str | None = None,
              recipients: list[str] | None = None) -> None:
    with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as smtp:
        if isinstance(message, bytes):
            assert sender and recipients
            smtp.sendmail(sender, recipients, message)
        else:
            smtp.send_message(message)


def append(server: MailServer, address: str, raw: bytes, folder: str = "INBOX") -> None:
    """Put raw bytes straight into a mailbox (IMAP APPEND): for mail no SMTP server would pass unchanged."""
    with MailBoxUnencrypted(server.imap_host, server.imap_port).login(address, PASSWORD) as box:
        box.append(raw, folder)


class ReadMessage(MailMessage):
    """imap-tools' MailMessage, with the subject decoded as a mail client does.

    imap-tools joins RFC 2047 words without the folding space that separates a plain word from an encoded one
    ("a =?utf-8?…été?=" reads "aété"); Thunderbird, Outlook and the email package keep it.
    """

    @property
    def subject(self) -> str:
        return " ".join(str(make_header(decode_header(self.obj.get("subject", "")))).split())

    @property
    def text(self) -> str:
        """The plain text as words: the no-break spaces of French typography (« Téléphone\u00a0: … ») read as
        plain ones, so that a test compares what is said (typography itself: tests/unit/test_templates_french.py;
        the exact characters: `typeset_text`)."""
        return self.typeset_text.replace("\u00a0", " ").replace("\u202f", " ")

    @property
    def typeset_text(self) -> str:
        return super().text


def mailbox(server: MailServer, address: str, folder: str = "INBOX") -> list[MailMessage]:
    """The mails of `address`'s `folder`, in the order mailbot sent them, once Postfix has delivered what it holds
    (a read right after a cycle could otherwise come before the mails the cycle sent)."""
    wait_delivered(server)
    with MailBoxUnencrypted(server.imap_host, server.imap_port).login(address, PASSWORD, initial_folder=None) as box:
        box.email_message_class = ReadMessage
        if not box.folder.exists(folder):
            return []
        box.folder.set(folder)
        return in_sending_order(list(box.fetch(mark_seen=False, bulk=True)))


_OUTBOX_ROW = re.compile(r"\+b(\d+)[a-z]+-", re.IGNORECASE)


def in_sending_order(messages: list[MailMessage]) -> list[MailMessage]:
    """The mails in the order mailbot sent them. Postfix delivers in parallel, so two mails sent a few
    milliseconds apart may land in either order (more often on a loaded machine), and the mailbox's order is
    that of delivery. Each mail mailbot sends names its outbox row in its envelope sender (VERP), which the
    delivery writes in Return-Path: when every mail has one, that row order is the order of sending. Otherwise
    (VERP off, a mail from elsewhere) the mailbox's order is kept."""
    rows = []
    for message in messages:
        found = _OUTBOX_ROW.search(" ".join(message.headers.get("return-path", ())))
        if found is None:
            return messages
        rows.append(int(found.group(1)))
    return [message for _, message in sorted(zip(rows, messages, strict=True), key=lambda pair: pair[0])]


def wait_mail(server: MailServer, address: str, count: int, *, folder: str = "INBOX",
              timeout: float = 15.0) -> list[MailMessage]:
    """Postfix delivers asynchronously: wait until `count` mails are there (and a moment more for extras)."""
    deadline = time.monotonic() + timeout
    while True:
        messages = mailbox(server, address, folder)
        if len(messages) >= count or time.monotonic() > deadline:
            return messages
        time.sleep(0.05)


def wait_delivered(server: MailServer, timeout: float = 15.0) -> None:
    """Wait until Postfix has delivered what it holds (a mailbox read right after a cycle may come before the mail
    the cycle sent: Postfix delivers asynchronously)."""
    deadline = time.monotonic() + timeout
    while server.queued() and time.monotonic() < deadline:
        time.sleep(0.05)


def settle(server: MailServer, address: str, count: int, folder: str = "INBOX") -> list[MailMessage]:
    """Wait for `count` mails, then a little longer to catch any unexpected extra one."""
    wait_mail(server, address, count, folder=folder)
    time.sleep(0.4)
    return mailbox(server, address, folder)


def run_cycle(settings: Settings, sessions: sessionmaker[Session], *, at: datetime = CLOCK) -> CycleReport:
    """One daemon cycle at an explicit instant: never at the real clock, so no test changes with the date it runs on.

    Deadlines, delay notices and digests are decided by the cycle's clock; a test that runs at the real clock
    passes on the day it is written and fails weeks later (the auto-responder test did, from 30 November 2026).
    """
    if at is None:  # type: ignore[comparison-overlap]  # callers may not opt back into the real clock
        raise TypeError("run_cycle needs an explicit instant (at=...)")
    daemon = Daemon(settings, sessions, clock=lambda: at, fixed_now=at)
    daemon.start()
    try:
        return daemon.cycle()
    finally:
        daemon.disconnect()


def cycle_while_held(settings: Settings, sessions: sessionmaker[Session], *, position: int = 0,
                     at: datetime = CLOCK, cycles: int = 1) -> None:
    """Another daemon's claim (PostgreSQL advisory lock) on the inbox's mail at `position` (0: the first, in UID
    order) during one cycle of this daemon (`cycles`: a slow daemon, a large mail); then the next cycle, in which
    that mail is free (the other daemon's turn, played here)."""
    box = Mailbox(settings.imap, "INBOX")
    box.connect()
    uidvalidity, uid = box.uidvalidity, box.sizes()[position][0]
    box.close()
    with MailClaims(sessions.kw["bind"]).hold("INBOX", uidvalidity, [uid]) as held:
        assert held == [uid]
        for _ in range(cycles):
            run_cycle(settings, sessions, at=at)
    run_cycle(settings, sessions, at=at)


def run_held_or_in_order(server: MailServer, settings: Settings, sessions: sessionmaker[Session], mails: list[bytes],
                         *, held: bool, position: int = 0, at: datetime = CLOCK) -> None:
    """Append `mails` to the club inbox in this order; then `held`: another daemon holds the mail at `position` for
    one cycle of this daemon (cycle_while_held), else one daemon takes them in arrival order; then one more cycle."""
    for raw in mails:
        append(server, CLUB, raw)
    if held:
        cycle_while_held(settings, sessions, position=position, at=at)
    else:
        run_cycle(settings, sessions, at=at)
    run_cycle(settings, sessions, at=at)


def plain_text(body: bytes) -> str:
    """The text/plain part of a stored mail (an outbox row's body)."""
    message = email.message_from_bytes(body, policy=email.policy.default)
    part = message.get_body(("plain",))
    return part.get_content() if isinstance(part, EmailMessage) else ""


def smtp_settings(database_url: str, host: str, port: int) -> ServerSettings:
    """The SMTP settings of a club sending through `host:port` (no TLS, no login): for tests that drive a Sender."""
    settings = load_settings({
        "MAILBOT_DATABASE_URL": database_url, "MAILBOT_CLUB_ADDRESS": CLUB, "MAILBOT_AIDEUR_ADDRESSES": AIDEUR,
        "MAILBOT_SECRET_KEY": "sender-tests-0123456789", "MAILBOT_SMTP_HOST": host, "MAILBOT_SMTP_PORT": str(port),
        "MAILBOT_SMTP_SECURITY": "none"}, env_file=None)
    assert settings.smtp is not None
    return settings.smtp


def queue_acks(sessions: sessionmaker[Session], recipients: list[str], at: datetime) -> None:
    """One small acknowledgement per recipient in the outbox, due at `at` (its Message-ID from the recipient)."""
    with sessions.begin() as session:
        for recipient in recipients:
            session.add(OutboxMail(idempotency_key=recipient, message_id=f"{recipient}.m@club.test", kind="ack",
                                   sender=CLUB, recipient=recipient, subject="Demande bien reçue",
                                   body=f"From: {CLUB}\r\nTo: {recipient}\r\n\r\nBonjour\r\n".encode(),
                                   next_attempt_at=at, created_at=at))


@contextmanager
def loopback_smtp(handler: object) -> Iterator[Any]:
    """An aiosmtpd server on a free loopback port, answering with `handler`; stopped on leaving. Yields its
    controller (`.port`)."""
    from aiosmtpd.controller import Controller  # only the sender tests need it

    controller = Controller(handler, hostname=LOOPBACK, port=free_port())
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()
