"""The IMAP server refuses a command (a tagged NO) while the daemon runs: a missing folder is made again, any other
refusal is logged and the mail stays where it is. Never the end of the daemon, never the end of the sending."""
from __future__ import annotations

import logging
import time

import pytest
from imap_tools import BaseMailBox, MailBoxUnencrypted
from imap_tools.errors import MailboxFolderCreateError, MailboxMoveError

from mailbot.daemon import Daemon
from tests.conftest import make_env
from tests.helpers import (
    ALICE,
    CLOCK,
    CLUB,
    PASSWORD,
    add_members,
    append,
    mailbox,
    make_mail,
    settle,
)
from tests.integration.daemon_process import DaemonProcess, wait_until

pytestmark = pytest.mark.servers

PROCESSED = "mailbot-traites"


def _delete_folder(server, name: str) -> None:  # type: ignore[no-untyped-def]
    """What a member of staff does in their mail client: the folder is deleted (or renamed) on the server."""
    with MailBoxUnencrypted(server.imap_host, server.imap_port).login(CLUB, PASSWORD, initial_folder=None) as box:
        box.folder.delete(name)


@pytest.mark.slow
def test_processed_folder_deleted_while_the_daemon_runs(clean_mail, database_url, sessions_for):
    """A running daemon (`mailbot run`) has processed a mail; someone then deletes (or renames) the processed folder
    in their mail client; a second request arrives. Expected: the second mail is committed, the folder made again,
    the mail moved there, the daemon still running, its acknowledgement sent. Before: the MOVE to the missing folder
    was refused (NO [TRYCREATE]), imap_tools' MailboxMoveError was none of the errors the loop waits out, and the
    daemon exited with a traceback: the mail stayed in the inbox, its acknowledgement unsent."""
    env = make_env(clean_mail, database_url, MAILBOT_POLL_SECONDS="1")
    sessions = sessions_for(database_url)
    add_members(sessions)
    append(clean_mail, CLUB, make_mail(ALICE, "Besoin d'un comptable", "Bonjour, un comptable ?").as_bytes())
    with DaemonProcess(env, "run", "--at", "2026-11-26T11:00") as daemon:
        assert wait_until(lambda: len(mailbox(clean_mail, CLUB, PROCESSED)) == 1, 30), daemon.output()
        _delete_folder(clean_mail, PROCESSED)
        append(clean_mail, CLUB, make_mail(ALICE, "Besoin d'un avocat", "Bonjour, un avocat ?").as_bytes())
        wait_until(lambda: not daemon.alive() or mailbox(clean_mail, CLUB) == [], 20)
        time.sleep(1)
        assert daemon.alive(), f"the daemon died: {daemon.output()[-1500:]}"
        assert mailbox(clean_mail, CLUB) == []
        assert len(mailbox(clean_mail, CLUB, PROCESSED)) == 1
    assert len(settle(clean_mail, ALICE, 2)) == 2


def test_a_folder_deleted_between_two_cycles_is_made_again(clean_mail, settings, sessions):
    """The same in one process, both folders: the daemon connected (and made its folders) once, then the
    processed and the quarantine folders are deleted. The next cycle's moves are answered NO [TRYCREATE]: the
    folder is created again and the move retried once. Before: MailboxMoveError escaped the cycle."""
    add_members(sessions)
    daemon = Daemon(settings, sessions, clock=lambda: CLOCK, fixed_now=CLOCK)
    daemon.start()
    try:
        daemon.connect()
        _delete_folder(clean_mail, settings.processed_folder)
        _delete_folder(clean_mail, settings.quarantine_folder)
        append(clean_mail, CLUB, make_mail(ALICE, "Besoin d'un comptable", "Bonjour, un comptable ?").as_bytes())
        append(clean_mail, CLUB, b"\x00\xff not a mail at all\r\n")  # unreadable: quarantined
        report = daemon.cycle()
    finally:
        daemon.disconnect()
    assert (report.processed, report.quarantined) == (1, 1)
    assert mailbox(clean_mail, CLUB) == []
    assert len(mailbox(clean_mail, CLUB, settings.processed_folder)) == 1
    assert len(mailbox(clean_mail, CLUB, settings.quarantine_folder)) == 1
    assert len(settle(clean_mail, ALICE, 1)) == 1


def test_a_move_the_server_refuses_leaves_the_mail_committed_and_the_sending_goes_on(clean_mail, settings, sessions,
                                                                                    monkeypatch, caplog):
    """The server refuses the move for another reason than a missing folder (NO [OVERQUOTA]: the account is full).
    Expected: one ERROR line naming the folder and the server's answer, the mail stays in the inbox (committed:
    the next cycle moves it, as after a crash between the commit and the move), and the cycle still sends the
    acknowledgement. Before: MailboxMoveError ended the cycle before its sends (and `mailbot run` with it)."""
    add_members(sessions)
    append(clean_mail, CLUB, make_mail(ALICE, "Besoin d'un comptable", "Bonjour, un comptable ?").as_bytes())
    original = BaseMailBox.move
    refused: list[str] = []

    def full(self, uid_list, destination_folder, chunks=None):  # type: ignore[no-untyped-def]
        refused.append(str(destination_folder))
        raise MailboxMoveError(("NO", [b"[OVERQUOTA] Quota exceeded (mailbox for user is full)"]), "OK")

    monkeypatch.setattr(BaseMailBox, "move", full)
    daemon = Daemon(settings, sessions, clock=lambda: CLOCK, fixed_now=CLOCK)
    daemon.start()
    try:
        with caplog.at_level(logging.ERROR, logger="mailbot"):
            report = daemon.cycle()
            daemon.cycle()  # refused again: said once, not at every cycle
        assert report.processed == 1 and report.sent == 2, report
        assert len(mailbox(clean_mail, CLUB)) == 1
        errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        assert len(errors) == 1 and settings.processed_folder in errors[0] and "OVERQUOTA" in errors[0], errors
        assert len(refused) >= 2
        monkeypatch.setattr(BaseMailBox, "move", original)
        again = daemon.cycle()  # the account has room again: the committed mail moves, nothing is done twice
    finally:
        daemon.disconnect()
    assert (again.processed, again.sent) == (0, 0)
    assert mailbox(clean_mail, CLUB) == []
    assert len(mailbox(clean_mail, CLUB, settings.processed_folder)) == 1
    assert len(settle(clean_mail, ALICE, 1)) == 1


def test_a_folder_the_server_refuses_to_create_does_not_stop_the_start(clean_mail, settings, sessions, monkeypatch,
                                                                       caplog):
    """The processed folder is missing and the server refuses to create it (NO [NOPERM], [OVERQUOTA]). Expected:
    the daemon connects all the same, processes and sends, the mail waits in the inbox, committed, with an ERROR
    line naming the folder. Before: MailboxFolderCreateError escaped `connect` and ended the daemon."""
    add_members(sessions)
    _delete_folder_if_any(clean_mail, settings.processed_folder)
    append(clean_mail, CLUB, make_mail(ALICE, "Besoin d'un comptable", "Bonjour, un comptable ?").as_bytes())

    def refuse(self, folder):  # type: ignore[no-untyped-def]
        raise MailboxFolderCreateError(("NO", [b"[NOPERM] Permission denied"]), "OK")

    monkeypatch.setattr("imap_tools.folder.MailBoxFolderManager.create", refuse)
    daemon = Daemon(settings, sessions, clock=lambda: CLOCK, fixed_now=CLOCK)
    daemon.start()
    try:
        with caplog.at_level(logging.ERROR, logger="mailbot"):
            report = daemon.cycle()
    finally:
        daemon.disconnect()
    assert report.processed == 1 and report.sent == 2, report
    assert len(mailbox(clean_mail, CLUB)) == 1
    errors = " ".join(r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)
    assert settings.processed_folder in errors and "NOPERM" in errors, errors
    assert len(settle(clean_mail, ALICE, 1)) == 1


def _delete_folder_if_any(server, name: str) -> None:  # type: ignore[no-untyped-def]
    with MailBoxUnencrypted(server.imap_host, server.imap_port).login(CLUB, PASSWORD, initial_folder=None) as box:
        if box.folder.exists(name):
            box.folder.delete(name)


def test_an_inbox_the_server_refuses_to_select_is_waited_out_like_an_outage(clean_mail, settings, sessions,
                                                                            monkeypatch, caplog):
    """The inbox itself is refused (SELECT answered NO [NONEXISTENT] or [UNAVAILABLE]: renamed, the account locked):
    nothing can be taken in. Expected: one ERROR line with the server's answer, the connection closed and retried
    with backoff like an outage (the scheduler's thread keeps sending meanwhile). Before: MailboxFolderSelectError
    ended `Daemon._loop`, and `mailbot run` with it."""
    from imap_tools.errors import MailboxFolderSelectError

    from mailbot.mailbox import Mailbox

    def refuse(self):  # type: ignore[no-untyped-def]
        raise MailboxFolderSelectError(("NO", [b"[NONEXISTENT] Mailbox doesn't exist: INBOX"]), "OK")

    monkeypatch.setattr(Mailbox, "select", refuse)
    daemon = Daemon(settings, sessions, clock=lambda: CLOCK, fixed_now=CLOCK)
    outages: list[str] = []

    def pause(delay: float, what: str) -> float:
        outages.append(what)
        daemon._stopping = True  # one round is enough
        return delay

    monkeypatch.setattr(daemon, "_pause", pause)
    with caplog.at_level(logging.ERROR, logger="mailbot"):
        daemon._loop()
    daemon.disconnect()
    assert outages == ["IMAP : dossier refusé par le serveur"]
    errors = " ".join(r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)
    assert "NONEXISTENT" in errors and "INBOX" in errors, errors
