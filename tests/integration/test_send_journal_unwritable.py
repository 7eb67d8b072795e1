"""A send journal that cannot be used (SQLite: its directory beside the database, here its name taken by a file, as
a full or read-only disk would refuse it): the daemon goes on taking mail in, keeps what it decided in the outbox,
and says what stops the sending — never "IMAP problem" nor "SMTP unreachable", which would send the operator to
look at the wrong server. Once the journal can be written again, the next cycle sends it all. Real Dovecot and
Postfix, a real SQLite file."""
from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from mailbot import sendjournal
from mailbot.daemon import JOURNAL_UNWRITABLE
from mailbot.models import OutboxMail
from tests.helpers import ALICE, CLUB, add_members, make_mail, run_cycle, smtp_send, wait_mail


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_send_journal_that_cannot_be_written_defers_sending_and_says_why(clean_mail, settings, sessions, caplog):
    add_members(sessions)
    directory = sendjournal.directory_for(sessions.kw["bind"])
    assert directory is not None
    directory.write_text("un fichier à la place du répertoire")
    smtp_send(clean_mail, make_mail(ALICE, "Besoin d'un comptable", "Bonjour,\n\nJe cherche un comptable.\n\nAlice"))
    wait_mail(clean_mail, CLUB, 1)
    with caplog.at_level(logging.INFO, logger="mailbot"):
        report = run_cycle(settings, sessions)
    assert report.processed == 1 and report.sent == 0
    assert report.send_stopped_by == JOURNAL_UNWRITABLE and str(directory) in report.send_problem
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "send journal" in text and "IMAP" not in text and "SMTP unreachable" not in text, text
    with sessions() as session:
        assert set(session.scalars(select(OutboxMail.status))) == {"pending"}  # kept, none lost
    directory.unlink()
    report = run_cycle(settings, sessions)
    assert report.sent == 2 and not report.send_problem
