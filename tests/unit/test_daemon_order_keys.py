"""What the daemon reads of each waiting mail to order it (daemon.Daemon._keys: the header block the IMAP server
returns, cut at HEAD_BYTES; the mail's head when the parser finds its header further on) against what the parser
reads of the whole mail (parse_mail): a field the router reads and the keys miss would let a reply or a follow-up
overtake the mail it depends on (issue 16, point 1). The IMAP server is played by FakeMailbox, as Dovecot answers."""
from __future__ import annotations

from types import SimpleNamespace

from mailbot.coordination import HEAD_BYTES, WaitingOrder
from mailbot.daemon import Daemon
from mailbot.parsers import parse_mail

CLUBS = ("aide@club.test",)
REQUEST = (b"From: alice@membres.test\r\nTo: aide@club.test\r\nSubject: Devis pour une toiture\r\n"
           b"Message-ID: <demande@membres.test>\r\n\r\nBonjour,\r\n\r\nJe cherche un couvreur.\r\n")


def server_header(raw: bytes) -> bytes:
    """BODY[HEADER] as Dovecot returns it (checked against the test server): everything up to and including the
    first empty line, whatever comes before it (a line without a colon is a header line for the server)."""
    end = raw.find(b"\r\n\r\n")
    return raw if end < 0 else raw[:end + 4]


class FakeMailbox:
    """What Daemon._keys asks of the mailbox, answered as the IMAP server does."""

    def __init__(self, mails: dict[int, bytes]) -> None:
        self.mails = mails

    def header_blocks(self, uids, size):  # type: ignore[no-untyped-def]
        return {uid: server_header(self.mails[uid])[:size] for uid in uids}

    def heads(self, uids, size):  # type: ignore[no-untyped-def]
        return {uid: self.mails[uid][:size] for uid in uids}


def daemon_keys(mails: dict[int, bytes]):  # type: ignore[no-untyped-def]
    fake = SimpleNamespace(_keys_validity=0, _keys_cache={}, mailbox=FakeMailbox(mails),
                           settings=SimpleNamespace(club_addresses=CLUBS))
    return Daemon._keys(fake, 1, sorted(mails))  # type: ignore[arg-type]


def test_a_reply_with_a_stray_line_and_a_blank_line_before_its_header_waits_for_its_request():
    """A stray first line, then a blank line, then the header (an mbox "From " separator or an exporter's banner
    followed by a blank line): the parser drops both (mime.repair_start) and reads the reply's From and In-Reply-To.
    The server's header block is the stray line alone (not blank): the daemon reads the mail's head, as the
    parser does."""
    reply = (b"From alice@membres.test Thu Nov 26 09:05:00 2026\r\n\r\n"
             b"From: alice@membres.test\r\nTo: aide@club.test\r\nSubject: Re: Devis pour une toiture\r\n"
             b"Message-ID: <reponse@membres.test>\r\nIn-Reply-To: <demande@membres.test>\r\n"
             b"References: <demande@membres.test>\r\n\r\nJe precise : c'est urgent.\r\n")
    parsed = parse_mail(reply)
    assert parsed.from_address == "alice@membres.test"
    assert parsed.in_reply_to == ("demande@membres.test",)  # what the router's thread rule reads
    keys = daemon_keys({1: REQUEST, 2: reply})
    assert "id:demande@membres.test" in keys[2].cites, keys[2]
    assert WaitingOrder(keys).blocker(2) == 1


def test_a_reply_with_a_banner_line_then_a_blank_line_waits_too():
    """The same with any stray line the parser drops (not only an mbox separator)."""
    reply = (b"Exported by MailArchiver 2.1\r\n\r\nFrom: Paul <paul@client.test>\r\nTo: aide@club.test\r\n"
             b"Subject: Re: Devis pour une toiture\r\nMessage-ID: <reponse@client.test>\r\n"
             b"In-Reply-To: <demande@membres.test>\r\n\r\nJe peux aider.\r\n")
    assert parse_mail(reply).in_reply_to == ("demande@membres.test",)
    assert WaitingOrder(daemon_keys({1: REQUEST, 2: reply})).blocker(2) == 1


def _long_references(count: int) -> bytes:
    return b"References: " + b"\r\n ".join(b"<fil-%05d@liste.example.org>" % i for i in range(count))


def test_a_reply_whose_thread_headers_come_after_64_kb_of_header_waits_for_its_request():
    """A reply deep in a long thread: its References list (oldest first, the mail it answers last) runs past
    HEAD_BYTES, and In-Reply-To and From follow it (the thread headers before the sender, as a webmail appends them). The parser reads
    the whole header; the keys see the first 64 KB only, without the request's Message-ID nor the sender."""
    reply = (b"To: aide@club.test\r\nSubject: Re: Devis pour une toiture\r\n" + _long_references(2600) +
             b"\r\n <demande@membres.test>\r\nIn-Reply-To: <demande@membres.test>\r\n"
             b"From: Alice Martin <alice@membres.test>\r\nMessage-ID: <reponse@membres.test>\r\n\r\n"
             b"C'est urgent.\r\n")
    assert len(reply.split(b"\r\n\r\n")[0]) > HEAD_BYTES
    parsed = parse_mail(reply)
    assert parsed.from_address == "alice@membres.test" and parsed.in_reply_to == ("demande@membres.test",)
    keys = daemon_keys({1: REQUEST, 2: reply})
    assert WaitingOrder(keys).blocker(2) == 1, keys[2]


def test_a_members_follow_up_whose_from_comes_after_64_kb_of_header_waits_for_her_request():
    """A member's second mail (same subject, no thread headers) whose From comes after 64 KB of trace fields (a
    long Received / ARC chain from a mailing-list relay): the router reads her From (same-subject follow-up), the
    keys do not, so her second mail may open a ticket before her first."""
    trace = b"".join(b"Received: from relay%04d.liste.example.org (relay%04d.liste.example.org [192.0.2.1])\r\n"
                     b"\tby mx.club.test with ESMTPS id %08d; Thu, 26 Nov 2026 09:05:00 +0100\r\n" % (i, i, i)
                     for i in range(500))
    follow = (trace + b"From: alice@membres.test\r\nTo: aide@club.test\r\nSubject: Devis pour une toiture\r\n"
              b"Message-ID: <suite@membres.test>\r\n\r\nJ'oubliais : c'est urgent.\r\n")
    assert len(trace) > HEAD_BYTES
    assert parse_mail(follow).from_address == "alice@membres.test"
    assert WaitingOrder(daemon_keys({1: REQUEST, 2: follow})).blocker(2) == 1
