"""The loopback Dovecot + Postfix of mailbot.dev.devserver, end to end: real daemons, real SMTP and IMAP (needs root)."""
from __future__ import annotations

import json
import os
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from imap_tools import MailBoxUnencrypted, MailMessage

from mailbot.dev import devserver
from mailbot.dev.devserver import MailServer, MailServerError

pytestmark = [
    pytest.mark.servers,
    pytest.mark.skipif(os.geteuid() != 0, reason="the loopback mail servers run as root"),
    pytest.mark.skipif(not (shutil.which("dovecot", path=devserver._SBIN_PATH)
                            and shutil.which("postfix", path=devserver._SBIN_PATH)),
                       reason=f"Dovecot/Postfix missing; {devserver.INSTALL_HINT}"),
]

AIDE = ("aide@club.test", "pw-aide")
MEMBER = ("membre1@membres.test", "pw-membre1")


def new_root() -> Path:
    # not pytest's tmp_path: /tmp/pytest-of-root is 0700, and vmail/postfix must traverse the directory (pitfall 3)
    return Path(tempfile.mkdtemp(prefix="mailbot-devserver-", dir="/tmp"))


@pytest.fixture(scope="module")
def running_server() -> Iterator[MailServer]:
    root = new_root()
    server = MailServer(root)
    server.add_user(*AIDE)
    server.add_user(*MEMBER)
    with server:
        yield server
    shutil.rmtree(root)


@pytest.fixture
def server(running_server: MailServer) -> Iterator[MailServer]:
    """The module's server, with both daemons up and every mailbox empty when the test ends."""
    yield running_server
    running_server.start()  # a no-op unless the test left a daemon stopped
    running_server.wipe_mailboxes()


def send(server: MailServer, to: str, subject: str = "Bonjour", *, message_id: bool = True) -> None:
    message = EmailMessage()
    message["From"] = MEMBER[0]
    message["To"] = to
    message["Subject"] = subject
    if message_id:
        message["Message-ID"] = f"<{time.time_ns()}@membres.test>"
    message.set_content("Un problème de comptabilité.\n")
    with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as smtp:
        smtp.send_message(message)


def wait_for_mail(server: MailServer, user: tuple[str, str], count: int = 1) -> list[MailMessage]:
    """The user's INBOX once it holds `count` mails: LMTP delivery is asynchronous after SMTP's 250."""
    deadline = time.monotonic() + 10
    with MailBoxUnencrypted(server.imap_host, server.imap_port).login(*user) as mailbox:
        while True:
            mails = list(mailbox.fetch(mark_seen=False))
            if len(mails) >= count or time.monotonic() > deadline:
                return mails
            time.sleep(0.05)
            # Dovecot's SEARCH only does a fast maildir sync: a mail saved in the second of the last sync can
            # stay invisible to this session for ~5 s. NOOP forces the full sync.
            mailbox.client.noop()


def test_plus_address_reaches_the_users_inbox_with_the_full_address_in_delivered_to(server: MailServer) -> None:
    send(server, "aide+CA-2026-0042.x7Kq@club.test", "Re: votre demande")

    [mail] = wait_for_mail(server, AIDE)
    assert mail.subject == "Re: votre demande"
    assert mail.headers["delivered-to"] == ("aide+CA-2026-0042.x7Kq@club.test",)


def test_any_domain_of_the_users_list_is_served(server: MailServer) -> None:
    send(server, MEMBER[0])

    [mail] = wait_for_mail(server, MEMBER)
    assert mail.headers["delivered-to"] == (MEMBER[0],)


def test_headers_arrive_as_sent(server: MailServer) -> None:
    # Postfix adds Message-Id/Date to mail from "local" clients unless told not to; parser tests need the mail as sent
    send(server, AIDE[0], message_id=False)

    [mail] = wait_for_mail(server, AIDE)
    assert "message-id" not in mail.headers
    assert "date" not in mail.headers


def test_unknown_user_is_rejected_at_smtp_time(server: MailServer) -> None:
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(server, "nobody@club.test")
    assert refused.value.recipients["nobody@club.test"][0] == 550


def test_nothing_is_relayed_outside_the_served_domains(server: MailServer) -> None:
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(server, "someone@example.com")
    assert refused.value.recipients["someone@example.com"][0] == 554


def test_user_added_while_running_receives_and_logs_in_at_once(server: MailServer) -> None:
    newcomer = ("nouveau@nouveaux.test", "pw-nouveau")  # a new domain, too
    server.add_user(*newcomer)

    send(server, "nouveau+inscription@nouveaux.test")
    [mail] = wait_for_mail(server, newcomer)
    assert mail.headers["delivered-to"] == ("nouveau+inscription@nouveaux.test",)


def test_idle_sees_a_new_mail(server: MailServer) -> None:
    with MailBoxUnencrypted(server.imap_host, server.imap_port).login(*AIDE) as mailbox:
        mailbox.idle.start()
        send(server, AIDE[0])
        responses = mailbox.idle.poll(timeout=10)
        mailbox.idle.stop()
    assert any(b"EXISTS" in response for response in responses)


def test_wipe_mailboxes_empties_inbox_and_removes_folders(server: MailServer) -> None:
    send(server, AIDE[0])
    wait_for_mail(server, AIDE)
    with MailBoxUnencrypted(server.imap_host, server.imap_port).login(*AIDE) as mailbox:
        mailbox.folder.create("Traités")

    server.wipe_mailboxes()

    with MailBoxUnencrypted(server.imap_host, server.imap_port).login(*AIDE) as mailbox:
        assert [folder.name for folder in mailbox.folder.list()] == ["INBOX"]
        assert list(mailbox.fetch()) == []


def test_stop_smtp_refuses_connections_until_start_smtp(server: MailServer) -> None:
    server.stop_smtp()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((server.smtp_host, server.smtp_port), timeout=2)

    server.start_smtp()
    send(server, AIDE[0])
    assert len(wait_for_mail(server, AIDE)) == 1


def test_stop_imap_refuses_logins_and_queued_mail_arrives_after_start_imap(server: MailServer) -> None:
    daemon_session = MailBoxUnencrypted(server.imap_host, server.imap_port).login(*AIDE)
    daemon_session.idle.start()  # like the daemon waiting for mail
    started = time.monotonic()
    server.stop_imap()
    assert time.monotonic() - started < 5  # Dovecot alone would leave the IDLE session's process for 10 s
    with pytest.raises(ConnectionRefusedError):
        MailBoxUnencrypted(server.imap_host, server.imap_port)
    send(server, AIDE[0], "pendant la panne")  # Postfix accepts and queues it

    server.start_imap()
    [mail] = wait_for_mail(server, AIDE)
    assert mail.subject == "pendant la panne"


def test_a_second_instance_runs_side_by_side_even_with_a_long_root(server: MailServer) -> None:
    # a root this long would put sockets past the 107-byte limit: they move under /run (pitfall 8)
    base = new_root()
    base.chmod(0o755)
    other = MailServer(base / ("deeply-nested-test-directory-" * 3))
    other.add_user(*AIDE)
    try:
        with other:
            assert {server.imap_port, server.smtp_port}.isdisjoint({other.imap_port, other.smtp_port})
            send(other, AIDE[0], "pour l'autre")
            send(server, AIDE[0], "pour le premier")
            assert [m.subject for m in wait_for_mail(other, AIDE)] == ["pour l'autre"]
            assert [m.subject for m in wait_for_mail(server, AIDE)] == ["pour le premier"]
        assert not other.run_dir.exists()  # the /run directory goes with stop()
    finally:
        shutil.rmtree(base)


def test_cli_prints_ports_and_stops_cleanly_on_sigterm() -> None:
    root = new_root()
    repo = Path(devserver.__file__).resolve().parents[2]
    command = [sys.executable, "-m", "mailbot.dev.devserver", "start", str(root), "--user", "aide@club.test:pw"]
    process = subprocess.Popen(command, cwd=repo, stdout=subprocess.PIPE, text=True)
    try:
        ports = json.loads(process.stdout.readline())
        assert ports["users"] == {"aide@club.test": "pw"}
        with MailBoxUnencrypted(ports["imap_host"], ports["imap_port"]).login("aide@club.test", "pw"):
            pass

        process.send_signal(signal.SIGTERM)
        # the pipe closes too: no daemon kept our stdout (pitfall 4)
        assert process.stdout.read() == ""
        assert process.wait(timeout=15) == 0
        for port in (ports["imap_port"], ports["smtp_port"]):
            assert not devserver.port_open(port)
    finally:
        process.kill()
        shutil.rmtree(root)


def test_missing_binary_is_named_with_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(devserver, "_SBIN_PATH", "/nonexistent")
    with pytest.raises(MailServerError, match="dovecot not found; install with: apt-get install dovecot-imapd"):
        MailServer(Path("/tmp/unused"))
