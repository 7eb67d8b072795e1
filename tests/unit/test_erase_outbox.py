"""Erasure inside the outbox: a contact card stored and sent to someone else, a pending notification, an HTML
part with entities, an attachment — all lose the person, stay valid mails, and keep going to the right person."""
from __future__ import annotations

from email import message_from_bytes, policy

import pytest
from sqlalchemy import select

from mailbot.compose import Rendered, build_message
from mailbot.db import make_engine, make_session_factory
from mailbot.members import erase_member, upsert_member
from mailbot.models import OutboxMail, Ticket, utcnow
from mailbot.parsers import Attachment
from mailbot.privacy import EMAIL_DOMAIN, REQUESTER_WHATS, Identity, find_leaks

IDENTITY = Identity(first_name="Josette", last_name="Ferrand", company="Ferrand Menuiserie",
                    email="josette@ferrand.test", phone="06 71 82 93 04", postal_address="14 rue des Glycines")
CARD = ("Voici les coordonnées de votre contact :\nJosette FERRAND — Ferrand Menuiserie\n"
        "Téléphone : 06.71.82.93.04\nAdresse : 14, rue des Glycines, 69003 Lyon\nE-mail : josette@ferrand.test\n")


@pytest.fixture
def sessions(database_url):  # type: ignore[no-untyped-def]
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


def _mail(to: str, html: str | None = None, attachments=()) -> bytes:  # type: ignore[no-untyped-def]
    return build_message(from_name="Club", from_address="aide@club.test", to=to, reply_to="aide@club.test",
                         rendered=Rendered(subject="Contact : Josette Ferrand", body=CARD, html=html),
                         message_id="<x@club.test>", in_reply_to=None, references=[], auto_submitted="auto-generated",
                         date=utcnow(), attachments=attachments)


def _leaks(text: str) -> list[str]:
    return [leak.found for leak in find_leaks(text, IDENTITY) if leak.what in REQUESTER_WHATS - {EMAIL_DOMAIN}]


def test_cards_and_notifications_in_the_outbox_lose_her(database_url, sessions):
    html = "<p>Jos&eacute;tte <b>Fer</b>rand &mdash; 06&nbsp;71&nbsp;82&nbsp;93&nbsp;04</p>"
    attachment = (Attachment(filename="carte-ferrand.vcf", content_type="text/vcard", size=40, disposition="attachment", part_index=1),
                  b"BEGIN:VCARD\r\nFN:Josette Ferrand\r\nTEL:0671829304\r\nEND:VCARD\r\n")
    with sessions.begin() as session:
        upsert_member(session, IDENTITY.email, first_name="Josette", last_name="Ferrand", company="Ferrand Menuiserie",
                      phone="06 71 82 93 04", postal_address="14 rue des Glycines, 69003 Lyon")
        upsert_member(session, "bruno@membres.test", first_name="Bruno", last_name="Petit")
        session.add(Ticket(ref="CA-2026-0001", subject="Litige", summary="Litige"))
        for number, (status, body) in enumerate([("sent", _mail("bruno@membres.test")),
                                                 ("pending", _mail("bruno@membres.test", html=html)),
                                                 ("pending", _mail("aideur@club.test", attachments=[attachment]))]):
            session.add(OutboxMail(idempotency_key=f"card:{number}", message_id=f"card{number}@club.test",
                                   kind="carte", sender="aide@club.test", recipient=message_from_bytes(body)["To"],
                                   subject="Contact : Josette Ferrand", status=status, body=body))
    with sessions.begin() as session:
        erase_member(session, IDENTITY.email)
    rows = _rows(sessions)
    assert [r.status for r in rows] == ["sent", "pending", "pending"]  # others' mails still go
    assert [r.recipient for r in rows] == ["bruno@membres.test", "bruno@membres.test", "aideur@club.test"]
    for row in rows:
        message = message_from_bytes(row.body, policy=policy.default)
        assert message["To"] == row.recipient and message["Message-ID"]
        texts = [str(message["Subject"]), row.subject]
        for part in message.walk():
            if part.is_multipart():
                continue
            texts.append(part.get_content() if part.get_content_maintype() == "text"
                         else part.get_payload(decode=True).decode("utf-8", "replace"))
        joined = "\n".join(texts)
        assert not _leaks(joined), _leaks(joined)
        assert "membre effacé" in joined
        assert "Ferrand" not in row.body.decode("utf-8", "replace")


def _rows(sessions) -> list[OutboxMail]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return list(session.scalars(select(OutboxMail).order_by(OutboxMail.id)))
