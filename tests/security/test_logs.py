"""Issue 11 point 12: at INFO and above, no log record holds a local part, a display name or a quoted address,
whoever logs it (mailbot, a library), in its message, its arguments or its traceback.

The masking is applied when each record is made (mailbot.logs.install_masking), so pytest's own handler (caplog)
sees what the journal sees.
"""
from __future__ import annotations

import logging
from datetime import datetime

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from mailbot.config import load_settings
from mailbot.dev.devserver import free_port
from mailbot.logs import mask
from mailbot.models import OutboxMail
from mailbot.sender import Sender
from tests.conftest import make_env

SECRETS = ("jean", "dupont", "josé", "garcía", "marie", "curie", "zoé", "xn--", "nowhere", "exemple")
SOURCES = [
    '550 5.1.1 <"jean dupont"@nowhere.test>: Recipient address rejected',
    '"jean dupont"@nowhere.test',
    "jean\\ dupont@nowhere.test refused",
    "Jean Dupont <jean.dupont@nowhere.test>",
    '"Dupont, Jean" <jd@nowhere.test>, Marie Curie <marie@nowhere.test>',
    "From: Jean Dupont <jd@nowhere.test>",
    "('Jean Dupont', 'jean.dupont@nowhere.test')",
    "josé.garcía@exemple.fr",
    "<josé.garcía@exemple.fr>: mailbox unavailable",
    "user jean@xn--exmple-cua.test unknown",
    "zoé@exémple.test",
    "=?utf-8?q?Jean_Dupont?= <jd@nowhere.test>",
    "=?UTF-8?B?Sm9zw6kgR2FyY8OtYQ==?=",
    "To: =?utf-8?b?Wm/DqQ==?= <zoe@nowhere.test>",
    "jean%40nowhere.test",
    "RCPT TO:<jean.dupont@nowhere.test> SMTPUTF8",
]


@pytest.mark.parametrize("source", SOURCES)
def test_mask_keeps_nothing_personal(source: str) -> None:
    masked = mask(source).lower()
    assert not [s for s in SECRETS if s in masked], (source, masked)


@pytest.mark.parametrize("source", SOURCES)
def test_every_record_is_masked_whoever_logs_it(source: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("mailbot.pipeline").info("mail from %s", source)
        logging.getLogger("aiosmtplib").warning("server said %r", (source, 550))
        logging.getLogger("imaplib").error(source)
        try:
            raise ValueError(f"refused {source}")
        except ValueError:
            logging.getLogger("mailbot.daemon").exception("cycle failed")
        logging.getLogger("mailbot.pipeline").debug("DEBUG may say more: %s", source)
    journal = "\n".join(caplog.handler.format(r) for r in caplog.records if r.levelno >= logging.INFO).lower()
    assert "cycle failed" in journal and "valueerror" in journal  # what an operator needs stays
    assert not [s for s in SECRETS if s in journal], journal
    debug = [r for r in caplog.records if r.levelno == logging.DEBUG]
    assert debug and source in debug[0].getMessage()


class Refusing:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        return '550 5.1.1 <"jean dupont"@nowhere.test>: Recipient address rejected: User unknown'


@pytest.mark.servers
def test_an_smtp_refusal_quoting_a_name_leaves_nothing(clean_mail, sqlite_url, sessions_for,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    controller = Controller(Refusing(), hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        settings = load_settings(make_env(clean_mail, sqlite_url, MAILBOT_SMTP_HOST="127.0.0.1",
                                          MAILBOT_SMTP_PORT=str(controller.port)), env_file=None)
        sessions = sessions_for(sqlite_url)
        now = datetime(2026, 11, 26, 10, 0)
        with sessions.begin() as session:
            session.add(OutboxMail(idempotency_key="k1", message_id="m1@club.test", kind="ack", sender="aide@club.test",
                                   recipient='"jean dupont"@nowhere.test', subject="Accusé", status="pending",
                                   body=b"From: aide@club.test\r\nTo: \"jean dupont\"@nowhere.test\r\n\r\nBonjour\r\n",
                                   next_attempt_at=now, created_at=now))
        with caplog.at_level(logging.INFO):
            result = Sender(settings.smtp, sessions, max_attempts=3, timeout=10, clock=lambda: now).flush()
    finally:
        controller.stop()
    assert result.failed == [1]
    journal = "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.INFO)
    assert "outbox 1 failed for good: SMTP 550" in journal
    assert "jean" not in journal.lower() and "dupont" not in journal.lower(), journal
    with sessions() as session:  # the full reply stays where Aideur and the operator read it
        assert "jean dupont" in session.scalar(select(OutboxMail.last_error))
