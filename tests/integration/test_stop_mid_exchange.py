"""SIGTERM reaches the daemon while it waits for mail, and the daemon stops at once: the signal handler raises
Shutdown wherever the wait is, which may be the middle of an IMAP exchange (the NOOP, IDLE's start, its DONE).
What the server expects next is then unknown: a LOGOUT sent into an IDLE the server still holds is answered
"Expected DONE" and the LOGOUT's own answer never comes, so a polite close would wait for the whole IMAP timeout
(60 s) while systemd waits for the stop. Real Dovecot on loopback."""
from __future__ import annotations

import os
import signal
import time
from datetime import datetime

import pytest

from mailbot.config import ServerSettings, load_settings
from mailbot.daemon import Daemon
from mailbot.dev.devserver import MailServer
from mailbot.mailbox import LOGOUT_SECONDS, Mailbox
from tests.conftest import make_env
from tests.helpers import CLUB, PASSWORD

NOW = datetime(2026, 12, 3, 10, 0)


@pytest.fixture
def mailbox(clean_mail: MailServer) -> Mailbox:
    server = ServerSettings(host=clean_mail.imap_host, port=clean_mail.imap_port, user=CLUB, password=PASSWORD,
                            security="none")
    box = Mailbox(server, "INBOX", timeout=30.0)
    box.connect()
    box.select()
    return box


def test_a_connection_left_inside_idle_is_closed_at_once(mailbox: Mailbox) -> None:
    mailbox.box.idle.start()  # what a signal arriving between IDLE's start and its poll leaves behind
    started = time.monotonic()
    mailbox.abandon()
    assert time.monotonic() - started < 2.0
    assert mailbox._box is None


def test_a_clean_close_still_says_goodbye(mailbox: Mailbox) -> None:
    started = time.monotonic()
    mailbox.close()
    assert time.monotonic() - started < 2.0


def test_a_polite_close_waits_for_logout_seconds_at_most(mailbox: Mailbox) -> None:
    mailbox.box.idle.start()
    started = time.monotonic()
    mailbox.close()
    assert time.monotonic() - started < LOGOUT_SECONDS + 1.0


def test_sigterm_just_after_idle_started_stops_the_daemon_at_once(clean_mail: MailServer, sqlite_url: str,
                                                                 sessions_for) -> None:  # type: ignore[no-untyped-def]
    """The signal is real, sent to this process the moment IDLE was started (the window a busy machine hits when
    systemd stops the daemon just as it settles into waiting); the IMAP server is real."""
    settings = load_settings(make_env(clean_mail, sqlite_url), env_file=None)
    daemon = Daemon(settings, sessions_for(sqlite_url), clock=lambda: NOW)
    saved = {number: signal.getsignal(number) for number in (signal.SIGTERM, signal.SIGINT)}
    try:
        daemon._install_signal_handlers()
        daemon.start()
        daemon.connect()
        idle = daemon.mailbox.box.idle
        start_idle = idle.start

        def start_then_signal() -> object:
            started = start_idle()
            os.kill(os.getpid(), signal.SIGTERM)
            return started
        idle.start = start_then_signal  # type: ignore[method-assign]
        began = time.monotonic()
        daemon._loop()
        daemon.disconnect()
        assert time.monotonic() - began < 5.0
    finally:
        for number, handler in saved.items():
            signal.signal(number, handler)
        daemon.disconnect()
