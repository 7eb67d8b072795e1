"""A tiny sd_notify(3) client: one datagram to $NOTIFY_SOCKET, no dependency.

systemd starts a `Type=notify` service with NOTIFY_SOCKET set (a path, or "@name" for the abstract namespace) and,
with `WatchdogSec=`, WATCHDOG_USEC (and WATCHDOG_PID). Everything here is a no-op when NOTIFY_SOCKET is unset
(a terminal, the tests, `run --once`), and never raises: a lost notification must not stop the daemon.
"""
from __future__ import annotations

import os
import socket

__all__ = ["enabled", "notify", "ready", "status", "stopping", "watchdog", "watchdog_interval"]


def _address() -> str | None:
    path = os.environ.get("NOTIFY_SOCKET", "")
    if path.startswith("@"):
        return "\0" + path[1:]  # Linux abstract namespace
    if path.startswith("/"):
        return path
    return None  # unset, or a kind we do not speak (vsock:…)


def enabled() -> bool:
    return _address() is not None


def notify(*fields: str) -> bool:
    """Send `FIELD=value` lines in one datagram. True when it was handed to the socket."""
    address = _address()
    if address is None or not fields:
        return False
    message = "\n".join(fields).encode("utf-8", "replace")
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(message)
        return True
    except OSError:
        return False


def _status_field(text: str) -> str:
    return "STATUS=" + " ".join(text.split())  # one line: a newline would start another field


def ready(status_text: str | None = None) -> bool:
    return notify("READY=1", *([_status_field(status_text)] if status_text else []))


def stopping(status_text: str | None = None) -> bool:
    return notify("STOPPING=1", *([_status_field(status_text)] if status_text else []))


def watchdog() -> bool:
    return notify("WATCHDOG=1")


def status(text: str) -> bool:
    return notify(_status_field(text))


def watchdog_interval() -> float | None:
    """Seconds between two WATCHDOG=1: half of WATCHDOG_USEC (sd_watchdog_enabled(3)'s advice), or None when
    systemd expects none (unset, zero, garbage, or meant for another process: WATCHDOG_PID)."""
    pid = os.environ.get("WATCHDOG_PID", "")
    if pid and pid != str(os.getpid()):
        return None
    try:
        usec = int(os.environ.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    if usec <= 0:
        return None
    return usec / 2_000_000
