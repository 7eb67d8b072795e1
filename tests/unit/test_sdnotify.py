"""sd_notify client: real AF_UNIX datagram sockets standing in for systemd's, no mock of the socket module."""
from __future__ import annotations

import os
import socket
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailbot import sdnotify


class Listener:
    """A datagram socket as systemd opens it; `address` is what NOTIFY_SOCKET holds."""

    def __init__(self, *, abstract: bool = False) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.settimeout(2)
        if abstract:
            name = f"mailbot-test-{uuid.uuid4().hex}"
            self.sock.bind("\0" + name)
            self.address = "@" + name
            self.directory: Path | None = None
        else:
            self.directory = Path(tempfile.mkdtemp(prefix="mailbot-notify-", dir="/tmp"))
            path = self.directory / "notify"
            self.sock.bind(str(path))
            self.address = str(path)

    def receive(self) -> str:
        return self.sock.recv(4096).decode()

    def pending(self) -> list[str]:
        self.sock.setblocking(False)
        try:
            messages = []
            while True:
                try:
                    messages.append(self.sock.recv(4096).decode())
                except BlockingIOError:
                    return messages
        finally:
            self.sock.settimeout(2)

    def close(self) -> None:
        self.sock.close()
        if self.directory is not None:
            for child in self.directory.iterdir():
                child.unlink()
            self.directory.rmdir()


@pytest.fixture
def listener(monkeypatch: pytest.MonkeyPatch) -> Iterator[Listener]:
    server = Listener()
    monkeypatch.setenv("NOTIFY_SOCKET", server.address)
    yield server
    server.close()


def test_each_message_reaches_the_socket(listener: Listener) -> None:
    assert sdnotify.enabled()
    assert sdnotify.ready()
    assert listener.receive() == "READY=1"
    assert sdnotify.watchdog()
    assert listener.receive() == "WATCHDOG=1"
    assert sdnotify.status("en attente de courrier")
    assert listener.receive() == "STATUS=en attente de courrier"
    assert sdnotify.stopping()
    assert listener.receive() == "STOPPING=1"


def test_fields_go_together_in_one_datagram(listener: Listener) -> None:
    sdnotify.ready("connecté")
    assert listener.receive() == "READY=1\nSTATUS=connecté"  # UTF-8, as systemd reads it
    sdnotify.stopping("arrêt : fin du courrier en cours")
    assert listener.receive() == "STOPPING=1\nSTATUS=arrêt : fin du courrier en cours"
    sdnotify.notify("STATUS=a", "EXTEND_TIMEOUT_USEC=5000000")
    assert listener.receive() == "STATUS=a\nEXTEND_TIMEOUT_USEC=5000000"


def test_a_status_stays_on_one_line(listener: Listener) -> None:
    sdnotify.status("IMAP indisponible,\nnouvel essai dans 8 s")
    assert listener.receive() == "STATUS=IMAP indisponible, nouvel essai dans 8 s"


def test_abstract_namespace(monkeypatch: pytest.MonkeyPatch) -> None:
    server = Listener(abstract=True)
    try:
        monkeypatch.setenv("NOTIFY_SOCKET", server.address)
        assert server.address.startswith("@")
        assert sdnotify.watchdog()
        assert server.receive() == "WATCHDOG=1"
    finally:
        server.close()


def test_nothing_without_notify_socket(monkeypatch: pytest.MonkeyPatch, listener: Listener) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET")
    assert not sdnotify.enabled()
    assert sdnotify.ready() is False
    assert sdnotify.watchdog() is False
    assert sdnotify.status("x") is False
    assert sdnotify.stopping() is False
    assert listener.pending() == []  # and nothing reached the socket that was there


@pytest.mark.parametrize("value", ["", "relative/path", "vsock:2:1234"])
def test_addresses_it_does_not_speak_are_ignored(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", value)
    assert sdnotify.ready() is False


def test_a_missing_socket_never_raises(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "gone"))
    assert sdnotify.watchdog() is False  # systemd went away: the daemon goes on


def test_watchdog_interval_is_half_of_watchdog_usec(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    assert sdnotify.watchdog_interval() is None
    monkeypatch.setenv("WATCHDOG_USEC", "120000000")
    assert sdnotify.watchdog_interval() == 60.0
    monkeypatch.setenv("WATCHDOG_USEC", "2000000")
    assert sdnotify.watchdog_interval() == 1.0
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    assert sdnotify.watchdog_interval() == 1.0
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid() + 1))  # meant for another process
    assert sdnotify.watchdog_interval() is None
    monkeypatch.delenv("WATCHDOG_PID")
    for bad in ("0", "-5", "soon", ""):
        monkeypatch.setenv("WATCHDOG_USEC", bad)
        assert sdnotify.watchdog_interval() is None
