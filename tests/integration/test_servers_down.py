"""IMAP and SMTP stop under a running daemon and come back: it reconnects with backoff, nothing lost or doubled."""
from __future__ import annotations

import time
from collections import Counter

import pytest
from sqlalchemy import func, select

from mailbot.models import OutboxMail, Ticket
from tests.conftest import make_env
from tests.helpers import AIDEUR, ALICE, BRUNO, CLUB, PASSWORD, add_members, append, mailbox, make_mail, smtp_send
from tests.integration.daemon_process import DaemonProcess, wait_until

pytestmark = [pytest.mark.slow]


def test_daemon_survives_imap_and_smtp_outages(clean_mail, database_url, sessions_for):
    env = make_env(clean_mail, database_url, MAILBOT_POLL_SECONDS="1")
    sessions = sessions_for(database_url)
    add_members(sessions)

    def acks() -> list:  # type: ignore[type-arg]
        return mailbox(clean_mail, ALICE) + mailbox(clean_mail, BRUNO)

    def outbox(status: str) -> int:
        with sessions() as session:
            return session.scalar(select(func.count(OutboxMail.id)).where(OutboxMail.status == status)) or 0

    with DaemonProcess(env) as daemon:
        # 1. normal service
        for number in range(3):
            smtp_send(clean_mail, make_mail(ALICE, f"Avant la panne {number}", "Une demande ordinaire."))
        # Aideur's three notices too: one still being sent when SMTP stops stays pending, a seventh (a loaded
        # machine made that race).
        assert wait_until(lambda: len(acks()) == 3 and len(mailbox(clean_mail, AIDEUR)) == 3, 20), daemon.output()

        # 2. SMTP down: mail still comes in (straight into the mailbox), decisions are kept in the outbox
        clean_mail.stop_smtp()
        for number in range(3):
            append(clean_mail, CLUB, make_mail(BRUNO, f"Pendant la panne SMTP {number}", "Texte.").as_bytes())
        assert wait_until(lambda: mailbox(clean_mail, CLUB) == [], 20), daemon.output()
        assert wait_until(lambda: outbox("pending") == 6, 10), daemon.output()

        # 3. IMAP down too
        clean_mail.stop_imap()
        time.sleep(3)
        assert daemon.alive(), daemon.output()

        # 4. both back: the daemon reconnects by itself and delivers what waited
        clean_mail.start_imap()
        clean_mail.start_smtp()
        assert wait_until(lambda: len(acks()) == 6, 60), daemon.output()

        # 5. and goes on serving new mail
        smtp_send(clean_mail, make_mail(ALICE, "Après la panne", "Tout refonctionne ?"))
        assert wait_until(lambda: len(acks()) == 7, 30), daemon.output()
        assert daemon.terminate() == 0

    time.sleep(1)
    all_acks = acks()
    notes = mailbox(clean_mail, AIDEUR)
    assert len(all_acks) == 7 and len(notes) == 7
    copies = Counter(m.headers["message-id"][0] for m in all_acks + notes)
    assert max(copies.values()) == 1
    with sessions() as session:
        assert session.scalar(select(func.count(Ticket.id))) == 7
    assert outbox("sent") == 14


def test_a_password_refused_after_the_start_is_retried_and_a_wrong_one_stops_the_start(clean_mail, sqlite_url,
                                                                                      sessions_for):
    """The club's password changes at the provider while mailbot runs: the daemon logs it plainly, keeps retrying
    with backoff and goes on once the password works again. A password refused at the very first login is a wrong
    setting: `mailbot run` stops and names it."""
    sessions = sessions_for(sqlite_url)
    add_members(sessions)
    env = make_env(clean_mail, sqlite_url, MAILBOT_POLL_SECONDS="1")
    try:
        with DaemonProcess(env) as daemon:
            smtp_send(clean_mail, make_mail(ALICE, "Avant le changement", "Une demande."))
            assert wait_until(lambda: len(mailbox(clean_mail, ALICE)) == 1, 20), daemon.output()
            clean_mail.add_user(CLUB, "un-autre-mot-de-passe")
            clean_mail.stop_imap()  # the session in hand ends; the next login meets the new password
            clean_mail.start_imap()
            assert wait_until(lambda: "IMAP login refused" in daemon.output(), 30), daemon.output()
            assert daemon.alive(), daemon.output()
            clean_mail.add_user(CLUB, PASSWORD)
            smtp_send(clean_mail, make_mail(ALICE, "Après le changement", "Une autre demande."))
            assert wait_until(lambda: len(mailbox(clean_mail, ALICE)) == 2, 60), daemon.output()
            assert daemon.terminate() == 0
            line = next(line for line in daemon.output().splitlines() if "IMAP login refused" in line)
            assert "MAILBOT_IMAP_PASSWORD" in line and PASSWORD not in daemon.output()
            assert "Traceback" not in daemon.output()
    finally:
        clean_mail.add_user(CLUB, PASSWORD)

    wrong = DaemonProcess({**env, "MAILBOT_IMAP_PASSWORD": "faux-mot-de-passe"})
    with wrong:
        assert wait_until(lambda: not wrong.alive(), 30), wrong.output()
        assert wrong.process is not None and wrong.process.returncode != 0
        assert "MAILBOT_IMAP_PASSWORD" in wrong.output() and "Traceback" not in wrong.output(), wrong.output()
