"""The ticket never records a quote as if it were new (issue 14, point 2), whichever flow records the mail."""
from __future__ import annotations

from datetime import UTC, datetime

from mailbot.models import Ticket
from mailbot.parsers import parse_mail
from mailbot.workflows.tickets import NO_NEW_TEXT, record_inbound, summary_of


class _Session:
    """What record_inbound writes (one Core insert), kept instead of executed."""

    def __init__(self) -> None:
        self.rows: list[dict[str, object]] = []

    def connection(self) -> _Session:
        return self

    def execute(self, _statement: object, row: dict[str, object]) -> None:
        self.rows.append(row)


def _mail(body: str, subject: str = "Re: Votre demande"):  # type: ignore[no-untyped-def]
    return parse_mail((f"From: alice@membres.test\nTo: aide@club.test\nSubject: {subject}\nMessage-ID: <r@x>\n"
                       f"Content-Type: text/plain; charset=utf-8\n\n{body}").encode())


def test_fallback_to_the_whole_text_records_nothing_new_without_the_quote() -> None:
    mail = _mail("Le 3 déc. 2026 à 10:00, Club Aide a écrit :\n> Votre ticket CA-2026-0042 est ouvert.\n")
    assert mail.new_text == ""
    session = _Session()
    record_inbound(session, Ticket(id=1), mail, mail.new_text or mail.text,  # type: ignore[arg-type]
                   datetime(2026, 12, 3, tzinfo=UTC))
    [row] = session.rows
    assert str(row["text"]).startswith(NO_NEW_TEXT) and "CA-2026-0042" not in str(row["text"])


def test_greeting_only_request_is_summed_up_by_its_subject() -> None:
    mail = _mail("Bonjour,\n\nMerci !\nAlice\n\nLe 3 déc. 2026 à 10:00, Club Aide a écrit :\n> Texte cité.\n",
                 subject="Local à Lyon")
    assert summary_of(mail) == "Local à Lyon"
