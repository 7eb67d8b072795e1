"""tests/helpers.in_sending_order: the tests read a mailbox in the order mailbot sent, not in Postfix's order of
delivery (parallel: two mails sent milliseconds apart may land either way round)."""
from __future__ import annotations

from imap_tools import MailMessage

from tests.helpers import in_sending_order


def _delivered(return_path: str | None, subject: str) -> MailMessage:
    head = f"Return-Path: <{return_path}>\r\n" if return_path else ""
    return MailMessage.from_bytes(f"{head}From: aide@club.test\r\nSubject: {subject}\r\n\r\nTexte.\r\n".encode())


def test_mails_are_read_in_the_order_of_their_outbox_rows() -> None:
    landed = [_delivered("aide+b12m-0ad5ae29fc5263d25306@club.test", "deuxième"),
              _delivered("aide+b9a-2809fe6befe179bc4a09@club.test", "première"),
              _delivered("aide+b103m-2809fe6befe179bc4a09@club.test", "troisième")]
    assert [m.subject for m in in_sending_order(landed)] == ["première", "deuxième", "troisième"]


def test_without_a_row_on_every_mail_the_mailbox_order_is_kept() -> None:
    landed = [_delivered("aide+b12m-0ad5ae29fc5263d25306@club.test", "a"), _delivered(None, "b"),
              _delivered("aide@club.test", "c"), _delivered("aide+b1m-2809fe6befe179bc4a09@club.test", "d")]
    assert [m.subject for m in in_sending_order(landed)] == ["a", "b", "c", "d"]
    plain = [_delivered("aide@club.test", "x"), _delivered("aide@club.test", "y")]  # VERP off
    assert [m.subject for m in in_sending_order(plain)] == ["x", "y"]
