"""The order of a mail that may change who is who (coordination.WHO: an OUI linking an address, an address check…)
with the mails before it, and what a round does after it (a cut header may hide such a mail). Found by an attack,
stop 23."""
from __future__ import annotations

import pytest

from mailbot.coordination import MailKeys, WaitingOrder, mail_keys


def keys(**fields: str) -> MailKeys:
    names = {"message_id": "Message-ID", "in_reply_to": "In-Reply-To", "references": "References", "from_": "From",
             "subject": "Subject", "to": "To", "delivered_to": "Delivered-To"}
    return mail_keys("".join(f"{names[k]}: {v}\r\n" for k, v in fields.items()).encode() + b"\r\n")


@pytest.mark.parametrize(("scope", "sender"), [
    ("q", "aideur@club.test"),   # Aideur's OUI to "#adresse alice.pro@... alice@..." awaiting it
    ("c", "aideur@club.test"),   # a mail to his command address
    ("v", "alice@m.test"),       # Alice's OUI to "is alice.pro@... yours?"
])
def test_a_mail_that_may_change_who_is_who_waits_for_an_earlier_mail_of_the_address_it_may_move(scope, sender):
    """UID 1: a mail from alice.pro@... (nobody's address yet: a stranger's, handled as such by one daemon), held by
    another daemon. UID 2: a mail that may link alice.pro@... to Alice. One daemon handles 1 as a stranger's, then 2.
    Several: 2 shared no key with 1 and was handled at once; 1, committed after it, was read as Alice's — not what
    one daemon decides. A WHO mail keeps its place after every earlier open mail (it cites ANY, as CUT does)."""
    stranger = keys(message_id="<p@x>", from_="Alice Martin <alice.pro@ailleurs.test>", subject="Devis toiture")
    who = keys(message_id="<w@x>", from_=sender, to=f"aide+{scope}12a-0123456789abcdef0123@club.test")
    order = WaitingOrder({1: stranger, 2: who})
    assert order.blocker(2) == 1


# --- a round after a mail whose header was cut: Daemon._intake on a fake mailbox ---------------------------------------
from contextlib import contextmanager
from types import SimpleNamespace

from mailbot import daemon as daemon_module
from mailbot.daemon import CycleReport, Daemon


class _Box:
    def __init__(self, mails: dict[int, bytes]) -> None:
        self.mails, self.uidvalidity, self.moved = dict(mails), 1, []

    def sizes(self):  # type: ignore[no-untyped-def]
        return [(uid, len(raw)) for uid, raw in sorted(self.mails.items())]

    def header_blocks(self, uids, size):  # type: ignore[no-untyped-def]
        # BODY[HEADER] as Dovecot returns it: up to and including the first empty line, cut at `size`.
        return {uid: self.mails[uid][:self.mails[uid].find(b"\r\n\r\n") + 4][:size] for uid in uids}

    def heads(self, uids, size):  # type: ignore[no-untyped-def]
        return {uid: self.mails[uid][:size] for uid in uids}

    def fetch(self, uids):  # type: ignore[no-untyped-def]
        return [SimpleNamespace(uid=uid, raw=self.mails[uid]) for uid in uids if uid in self.mails]

    def move(self, uids, target):  # type: ignore[no-untyped-def]
        for uid in uids:
            self.mails.pop(uid, None)
            self.moved.append(uid)


class _Claims:
    enabled = True

    def __init__(self, held=()):  # type: ignore[no-untyped-def]
        self.held = set(held)

    @contextmanager
    def hold(self, folder, uidvalidity, uids):  # type: ignore[no-untyped-def]
        yield [uid for uid in uids if uid not in self.held]


class _Pipeline:
    def __init__(self) -> None:
        self.order: list[int] = []

    def checkpoint(self, folder, uidvalidity):  # type: ignore[no-untyped-def]
        return max(self.order, default=0)

    def committed_destinations(self, folder, uidvalidity, below):  # type: ignore[no-untyped-def]
        return {}

    def process(self, raw, *, folder, uidvalidity, uid):  # type: ignore[no-untyped-def]
        self.order.append(uid)
        return SimpleNamespace(destination="processed", action="x")


class _FakeDaemon(Daemon):
    def __init__(self, mails: dict[int, bytes], held=()) -> None:  # type: ignore[no-untyped-def]
        self.settings = SimpleNamespace(imap_folder="INBOX", batch_size=50, batch_bytes=5_000_000,
                                        aideur_addresses=("aideur@club.test",), club_addresses=("aide@club.test",),
                                        processed_folder="P", quarantine_folder="Q")
        self.mailbox, self.claims, self.pipeline = _Box(mails), _Claims(held), _Pipeline()
        self.sessions = contextmanager(lambda: (yield None))
        self.metrics = SimpleNamespace(observe_mail=lambda action: None)
        self._keys_cache, self._keys_validity = {}, 0
        self._refusals: set[tuple[str, str]] = set()  # the IMAP refusals logged (Daemon.__init__)
        self._stopping = False
        self.rounds = 0

    def _heartbeat(self) -> None:
        pass

    def _feed(self) -> None:
        pass

    def _round(self, report, listed=None, people=None):  # type: ignore[no-untyped-def]
        self.rounds += 1
        return super()._round(report, listed, people)


def _mail(uid: int, who: bool) -> bytes:
    to = f"aide+q{uid}a-0123456789abcdef0123@club.test" if who else "aide@club.test"
    return (f"From: sender{uid}@m.test\r\nTo: {to}\r\nSubject: sujet {uid}\r\nMessage-ID: <m{uid}@m.test>\r\n\r\n"
            "Bonjour.\r\n").encode()


# --- a mail whose header was cut may change who is who too ----------------------------------------------------------
def _cut(fields: bytes) -> bytes:
    filler = b"".join(b"Received: from relay%d.example.test by mx.example.test; Thu, 26 Nov 2026 09:00:00 +0100\r\n"
                      % i for i in range(900))
    return filler + fields + b"\r\n"


CUT_OUI = _cut(b"From: aideur@club.test\r\nTo: aide+q12a-0123456789abcdef0123@club.test\r\n"
               b"Message-ID: <oui@club.test>\r\nSubject: Re: Confirmation\r\n") + b"OUI\r\n"


def test_a_mail_whose_header_was_cut_makes_the_rounds_people_stale_once_done():
    """Aideur's OUI (q: it links alice.pro@... to Alice) behind 70 KB of Received fields: its token lies past the
    cut, so its keys own CUT but not WHO. Done here, it must end the round as a WHO mail does (its tokens are
    unknown: it may change who is who); `stale` stays False, and the round goes on with the people read before it."""
    oui = mail_keys(CUT_OUI[:65536], head=True)
    order = WaitingOrder({1: oui, 2: keys(message_id="<a@x>", from_="alice@m.test")})
    order.done(1)
    assert order.stale


def test_after_a_cut_who_mail_a_members_mail_from_the_linked_address_waits_for_her_held_mail(monkeypatch):
    """Daemon level. UID 1: the cut OUI linking alice.pro@... to Alice (handled here); UID 2: Alice's mail from her
    main address, held by another daemon; UID 3: her mail from alice.pro@... One daemon: 2 then 3 (both hers). Here
    the round's people were read before the OUI (alice.pro@... nobody's), and nothing ends the round after it: 3 is
    handled while 2 is held — her follow-up overtakes her mail."""
    daemon: _FakeDaemon

    def people(session, waiting, aideurs=(), known=None):  # type: ignore[no-untyped-def]
        linked = 1 in daemon.pipeline.order  # the OUI is committed: the address is Alice's
        return {"from:alice@m.test": "member:1"} | ({"from:alice.pro@ailleurs.test": "member:1"} if linked else {})

    monkeypatch.setattr(daemon_module, "people_of", people)
    monkeypatch.setattr(daemon_module, "DEFER_WAIT_SECONDS", 0.3)
    monkeypatch.setattr(daemon_module, "DEFER_PAUSE_SECONDS", 0.05)
    mails = {1: CUT_OUI,
             2: b"From: alice@m.test\r\nTo: aide@club.test\r\nSubject: Devis\r\nMessage-ID: <a@m.test>\r\n\r\nx\r\n",
             3: b"From: alice.pro@ailleurs.test\r\nTo: aide@club.test\r\nSubject: Devis\r\n"
                b"Message-ID: <p@ailleurs.test>\r\n\r\nurgent\r\n"}
    daemon = _FakeDaemon(mails, held={2})
    daemon._intake(CycleReport(), daemon.mailbox.sizes(), 0)
    assert daemon.pipeline.order == [1], "her mail from alice.pro@... overtook her held mail"
