"""The helper sending process stops when the daemon that started it is killed, within the mail it has in hand.

It sends up to FLUSH_BATCH mails per flush. When it looked at its parent only between flushes, a daemon SIGKILLed
left it sending for seconds; the next daemon's start took back, as interrupted, the row it had in hand and sent it
again (a third copy when a kill hit that row's window twice: seen once in the crash-safety test under load)."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from mailbot.db import make_engine, make_session_factory
from mailbot.dev.devserver import LOOPBACK, free_port
from mailbot.models import OutboxMail

PARENT = textwrap.dedent("""
    import os, sys, time
    from mailbot.config import load_settings
    from mailbot.dispatch import BackgroundSending

    if __name__ == "__main__":
        with BackgroundSending(load_settings(os.environ, env_file=None), None, enabled=True):
            print("started", flush=True)
            time.sleep(600)
""")


class Slow:
    """Takes every mail, 50 ms each: a flush of 100 would last five seconds."""

    def __init__(self) -> None:
        self.received = 0

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        await asyncio.sleep(0.05)
        self.received += 1
        return "250 OK"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_killed_daemons_helper_stops_within_the_mail_in_hand(database_url: str, tmp_path: Path) -> None:
    handler = Slow()
    controller = Controller(handler, hostname=LOOPBACK, port=free_port())
    controller.start()
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    try:
        with sessions.begin() as session:
            for n in range(100):
                recipient = f"membre{n}@membres.test"
                session.add(OutboxMail(idempotency_key=f"k{n}", message_id=f"m{n}@club.test", kind="ack",
                                       sender="aide@club.test", recipient=recipient, subject="Demande bien reçue",
                                       body=f"From: aide@club.test\r\nTo: {recipient}\r\n\r\nBonjour\r\n".encode()))
        script = tmp_path / "parent.py"
        script.write_text(PARENT)
        env = os.environ | {
            "MAILBOT_DATABASE_URL": database_url, "MAILBOT_CLUB_ADDRESS": "aide@club.test",
            "MAILBOT_AIDEUR_ADDRESSES": "aideur@club.test", "MAILBOT_SECRET_KEY": "orphan-sender-0123456789",
            "MAILBOT_SMTP_HOST": LOOPBACK, "MAILBOT_SMTP_PORT": str(controller.port),
            "MAILBOT_SMTP_SECURITY": "none", "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
        parent = subprocess.Popen([sys.executable, str(script)], env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 30
            while handler.received < 5 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert handler.received >= 5, parent.stderr.read().decode() if parent.poll() is not None else "slow"
            parent.send_signal(signal.SIGKILL)
            parent.wait()
            at_kill = handler.received
            time.sleep(1.5)  # an orphan going on would send ~30 more meanwhile
            assert handler.received <= at_kill + 1, f"{handler.received - at_kill} mails sent after the kill"
        finally:
            if parent.poll() is None:
                parent.kill()
        with sessions() as session:
            sending = session.scalar(select(func.count()).select_from(OutboxMail)
                                     .where(OutboxMail.status == "sending"))
        assert sending == 0  # the mail in hand was finished and recorded, nothing left for a restart to resend
    finally:
        controller.stop()
        engine.dispose()
