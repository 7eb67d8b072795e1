"""An IDLE refused with "* BYE Server shutting down" (the server restarting between the NOOP and the IDLE) is a lost
connection like any other: the daemon's reconnection catches it (IMAP_CONNECTION_ERRORS), it must not end the daemon.
A stub stands for the connection: this is the mailbox's own error mapping, pure logic."""
from __future__ import annotations

import imaplib
from types import SimpleNamespace

import pytest
from imap_tools.errors import MailboxTaggedResponseError

from mailbot.config import ServerSettings
from mailbot.mailbox import IMAP_CONNECTION_ERRORS, Mailbox


def test_an_idle_refused_by_a_server_shutting_down_is_a_lost_connection() -> None:
    def refuse(timeout: float) -> list[bytes]:
        raise MailboxTaggedResponseError(command_result=(b"* BYE Server shutting down.", [b""]), expected=None)

    client = SimpleNamespace(noop=lambda: ("OK", [b""]), untagged_responses={})
    mailbox = Mailbox(ServerSettings(host="127.0.0.1", port=1, user="u", password="p", security="none"), "INBOX")
    mailbox._box = SimpleNamespace(client=client, idle=SimpleNamespace(wait=refuse))  # type: ignore[assignment]
    with pytest.raises(IMAP_CONNECTION_ERRORS) as caught:
        mailbox.wait_for_mail(1.0)
    assert isinstance(caught.value, imaplib.IMAP4.abort)
