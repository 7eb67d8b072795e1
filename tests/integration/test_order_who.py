"""Order across daemons (PostgreSQL, another daemon's claim held by the test): a mail that may change who is who
(Aideur's OUI linking an address) keeps its arrival order with the mails before it whose sender it may move, and the
daemon reads who is who again after it — also when its header is cut. Found by an attack, stop 23."""
from __future__ import annotations

import threading
import time

from mailbot import daemon as daemon_module
from mailbot.coordination import MailClaims
from mailbot.mailbox import Mailbox
from mailbot.parsers import parse_mail
from tests.helpers import CLUB, add_members, append, run_cycle
from tests.integration.daemon_process import wait_until
from tests.integration.test_order_across_daemons import (
    FOLLOW_UP,
    FOLLOW_UP_PRO,
    POSTGRES_ONLY,
    _oui_linking_alice_pro,
    _outcomes,
    _second_waits_for_held_first,
    _tickets,
)


@POSTGRES_ONLY
def test_aideurs_oui_linking_an_address_waits_for_an_earlier_mail_from_that_address(
        clean_mail, settings, sessions, monkeypatch):
    """Alice's request is a ticket; Aideur's "#adresse alice.pro@… alice@…" awaits his OUI. Then: a mail from
    alice.pro@… (UID n, held by another daemon), Aideur's OUI (n+1). One daemon handles n first: alice.pro@… is
    nobody's yet (a stranger's mail: held, invited), then the OUI links it. The OUI cites ANY, so it waits for n
    (it shared no key with n and went first: n was then read as Alice's follow-up, which one daemon never
    decides)."""
    add_members(sessions)
    oui = _oui_linking_alice_pro(clean_mail, settings, sessions)
    oui_id = parse_mail(oui).message_id
    # all_wait: the OUI waits for the held mail, and the unrelated mail after it waits for the OUI (WHO).
    outcomes = _second_waits_for_held_first(clean_mail, settings, sessions, monkeypatch, FOLLOW_UP_PRO, oui,
                                            all_wait=True)
    assert outcomes[oui_id] == "aideur-command"
    assert outcomes["suite-pro@ailleurs.test"] != "follow-up", outcomes  # a stranger's mail when one daemon reads it


@POSTGRES_ONLY
def test_a_strangers_mail_overtaken_by_the_oui_that_links_her_address_is_not_read_as_the_members(
        clean_mail, settings, sessions, monkeypatch):
    """The consequence of the test above, without its timing assertion: the mail from alice.pro@… (held while the
    OUI is handled) must get the outcome one daemon gives it (a stranger's mail), never Alice's follow-up."""
    monkeypatch.setattr(daemon_module, "DEFER_PAUSE_SECONDS", 0.05)
    add_members(sessions)
    oui = _oui_linking_alice_pro(clean_mail, settings, sessions)
    append(clean_mail, CLUB, FOLLOW_UP_PRO)
    append(clean_mail, CLUB, oui)
    box = Mailbox(settings.imap, "INBOX")
    box.connect()
    uidvalidity, uid = box.uidvalidity, box.sizes()[0][0]
    box.close()
    hold = MailClaims(sessions.kw["bind"]).hold("INBOX", uidvalidity, [uid])
    assert hold.__enter__() == [uid]
    worker = threading.Thread(target=lambda: run_cycle(settings, sessions))
    worker.start()
    try:
        time.sleep(2.0)
    finally:
        hold.__exit__(None, None, None)
    worker.join(30)
    run_cycle(settings, sessions)  # the other daemon (here: the next cycle) handles the mail it held
    outcomes, tickets = _outcomes(sessions), _tickets(sessions)
    assert outcomes["suite-pro@ailleurs.test"] == "non-member", (outcomes, tickets)  # as one daemon decides


@POSTGRES_ONLY
def test_after_a_who_mail_whose_header_was_cut_the_daemon_reads_who_is_who_again(
        clean_mail, settings, sessions, monkeypatch):
    """As test_after_a_mail_that_changes_who_is_who_the_daemon_reads_it_again_before_going_on, but Aideur's OUI
    (UID n, handled here: it links alice.pro@… to Alice) comes behind 70 KB of trace fields, so its reply address
    (the q token) lies past HEAD_BYTES: its keys own CUT, not WHO. A cut header may hide such a token, so doing it
    makes the round's people stale too: Alice's mail from her main address (n+1) is held by another daemon, and her
    mail from alice.pro@… (n+2) waits for it (it was handled at once, with the people read before the OUI:
    alice.pro@… nobody's)."""
    add_members(sessions)
    monkeypatch.setattr(daemon_module, "DEFER_PAUSE_SECONDS", 0.05)
    oui = _oui_linking_alice_pro(clean_mail, settings, sessions)
    trace = b"".join(b"X-Relay-Trace: hop%04d.relay.example.test id %08d; Thu, 26 Nov 2026 09:00:00 +0100\r\n"
                     % (i, i) for i in range(1000))
    oui = trace + oui
    assert oui.index(b"+q") > 70000
    oui_id = parse_mail(oui).message_id
    for mail in (oui, FOLLOW_UP, FOLLOW_UP_PRO):
        append(clean_mail, CLUB, mail)
    box = Mailbox(settings.imap, "INBOX")
    box.connect()
    uidvalidity, uid = box.uidvalidity, box.sizes()[1][0]
    box.close()
    hold = MailClaims(sessions.kw["bind"]).hold("INBOX", uidvalidity, [uid])
    assert hold.__enter__() == [uid]  # the other daemon's claim on her mail from her main address
    result: dict[str, object] = {}
    worker = threading.Thread(target=lambda: result.update(report=run_cycle(settings, sessions)))
    worker.start()
    try:
        assert wait_until(lambda: oui_id in _outcomes(sessions), timeout=15)
        time.sleep(1.0)
        assert "suite-pro@ailleurs.test" not in _outcomes(sessions), _outcomes(sessions)  # waits for her held one
    finally:
        hold.__exit__(None, None, None)
        worker.join(30)
    assert _outcomes(sessions)[oui_id] == "aideur-command"
    tickets = _tickets(sessions)
    assert tickets["suite-pro@ailleurs.test"] == tickets["suite@membres.test"] == tickets["demande@membres.test"]
