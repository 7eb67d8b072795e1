"""Order across daemons, by the thread: a mail citing a mail of a ticket keeps its order with the mails that change
that ticket — the cited mail still waiting (the citing mail takes on its people), or committed (its ticket's member,
looked up each round, the Message-ID as the parser stores it); and the scheduled jobs wait after an intake cut short.

Each test runs twice: `held=False` is one daemon (arrival order); `held=True` holds one inbox mail by another
daemon's claim for one cycle (tests.helpers.cycle_while_held), then handles it. The outcome must be the same
(before the mends, each held case decided differently).
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from mailbot.models import OutboxMail
from tests.helpers import (
    ALICE,
    BRUNO,
    CHLOE,
    CLUB,
    add_members,
    append,
    make_mail,
    plain_text,
    run_cycle,
    run_held_or_in_order,
    settle,
)

POSTGRES_ONLY = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def _outcomes(sessions) -> dict[str, str]:  # type: ignore[no-untyped-def]
    from mailbot.models import InboundMail

    with sessions() as session:
        return dict(session.execute(select(InboundMail.message_id, InboundMail.outcome)).all())


def _copy_notes(sessions) -> list[str]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return [plain_text(b) for b in session.scalars(select(OutboxMail.body)
                                                   .where(OutboxMail.kind == "notification_copie")).all()]


def _ticket_with_bruno_in_cc(clean_mail, settings, sessions):  # type: ignore[no-untyped-def]
    add_members(sessions)
    append(clean_mail, CLUB, make_mail(ALICE, "Déménagement de bureaux", "Bonjour,\n\nQui pourrait m'aider à "
                                       "déménager mes bureaux à Lyon le mois prochain ?\n\nAlice\n",
                                       message_id="<Demenagement.X7@membres.test>", Cc=BRUNO).as_bytes())
    run_cycle(settings, sessions)
    [ack] = settle(clean_mail, ALICE, 1)
    return ack


@POSTGRES_ONLY
@pytest.mark.parametrize("thread", ["in-reply-to", "same-subject"])
@pytest.mark.parametrize("held", [False, True], ids=["one-daemon", "colleague-held"])
def test_a_reply_to_a_waiting_follow_up_keeps_its_order_with_the_tickets_withdrawal(
        clean_mail, settings, sessions, held, thread):
    """Alice's request (Cc Bruno) is ticket T. In the inbox: Alice's follow-up <suite> on T (UID n: In-Reply-To her
    request, or a fresh mail with the ticket's subject), Cc Bruno; Bruno's answer to <suite> alone, to the club
    (n+1: In-Reply-To/References <suite> only); Alice's "Plus besoin" through T's reply address (n+2).
    One daemon: n, n+1 (Bruno's copy on T, open), n+2 (closes T). Bruno's mail cited a mail still waiting and
    shared no key with the withdrawal: held, the withdrawal went first and his copy was notified on a closed
    ticket. A mail citing a waiting mail now takes on that mail's people (WaitingOrder)."""
    from tests.integration.aideur_clients import reply_to_notification

    ack = _ticket_with_bruno_in_cc(clean_mail, settings, sessions)
    extra = {"In_Reply_To": "<Demenagement.X7@membres.test>", "References": "<Demenagement.X7@membres.test>"} \
        if thread == "in-reply-to" else {}
    follow = make_mail(ALICE, "Re: Déménagement de bureaux" if extra else "Déménagement de bureaux",
                       "Bonjour,\n\nPrécision : il y a aussi des archives.\n\nAlice\n",
                       message_id="<suite@membres.test>", Cc=BRUNO, **extra)
    colleague = make_mail(BRUNO, "Re: Déménagement de bureaux", "Bonjour,\n\nJe peux prêter une camionnette "
                          "pour les archives d'Alice.\n\nBruno\n", message_id="<camionnette@membres.test>",
                          In_Reply_To="<suite@membres.test>", References="<suite@membres.test>")
    withdrawal = reply_to_notification(ack, "Plus besoin, merci !", "gmail", sender=ALICE, name="Alice Martin")
    run_held_or_in_order(clean_mail, settings, sessions, [follow.as_bytes(), colleague.as_bytes(),
                                                         withdrawal.as_bytes()], held=held, position=1)
    outcomes = _outcomes(sessions)
    assert outcomes["camionnette@membres.test"] == "copy", outcomes
    notes = _copy_notes(sessions)
    assert len(notes) == 1, notes
    assert "(demande close)" not in notes[0], notes[0]  # as one daemon decides: T was open when Bruno wrote


LONG_ID = "demenagement." + "x" * 1000 + "@membres.test"  # longer than parsers.parse.MAX_MESSAGE_ID (998)


@POSTGRES_ONLY
@pytest.mark.parametrize("held", [False, True], ids=["one-daemon", "withdrawal-held"])
def test_a_colleagues_reply_citing_a_long_message_id_keeps_its_order_with_the_withdrawal(
        clean_mail, settings, sessions, held):
    """As test_order_effects' colleague case, but Alice's request has a Message-ID longer than MAX_MESSAGE_ID: the
    pipeline stores it hashed (parsers.parse.bounded_id, "<sha256>@long-id.mailbot.invalid") and the router, which
    reads the parsed (bounded) In-Reply-To, threads Bruno's reply to her ticket. The order looked the id up as
    written: nothing found. UID n: Alice's withdrawal; n+1: Bruno's reply citing the long id. One daemon: "(demande
    close)"; held, Bruno's copy overtook the withdrawal. The cited ids are now bounded as the parser bounds them."""
    from tests.integration.aideur_clients import reply_to_notification

    add_members(sessions)
    request = make_mail(ALICE, "Déménagement de bureaux", "Bonjour,\n\nQui pourrait m'aider à déménager mes "
                        "bureaux à Lyon le mois prochain ?\n\nAlice\n", message_id="<PLACEHOLDER@membres.test>",
                        Cc=BRUNO).as_bytes().replace(b"PLACEHOLDER@membres.test", LONG_ID.encode())
    append(clean_mail, CLUB, request)
    run_cycle(settings, sessions)
    [ack] = settle(clean_mail, ALICE, 1)
    withdrawal = reply_to_notification(ack, "Plus besoin, merci !", "gmail", sender=ALICE, name="Alice Martin")
    colleague = make_mail(BRUNO, "RE: Déménagement de bureaux", "Bonjour,\n\nJe peux prêter une camionnette "
                          "pour le déménagement d'Alice.\n\nBruno\n", message_id="<camionnette@membres.test>",
                          In_Reply_To="<PLACEHOLDER@membres.test>",
                          ).as_bytes().replace(b"PLACEHOLDER@membres.test", LONG_ID.encode())
    run_held_or_in_order(clean_mail, settings, sessions, [withdrawal.as_bytes(), colleague], held=held)
    outcomes = _outcomes(sessions)
    assert outcomes["camionnette@membres.test"] == "copy", outcomes
    notes = _copy_notes(sessions)
    assert len(notes) == 1, notes
    assert "(demande close)" in notes[0], notes[0]  # as one daemon decides


def _uids(settings) -> tuple[int, list[int]]:  # type: ignore[no-untyped-def]
    from mailbot.mailbox import Mailbox

    box = Mailbox(settings.imap, "INBOX")
    box.connect()
    try:
        return box.uidvalidity, [uid for uid, _ in box.sizes()]
    finally:
        box.close()


@POSTGRES_ONLY
@pytest.mark.parametrize("daemon", ["fresh", "running"])
def test_cached_keys_of_a_held_reply_name_the_ticket_its_cited_mail_was_committed_on(
        clean_mail, settings, sessions, daemon, monkeypatch):
    """The order keys are cached per UID for the daemon's life (Daemon._keys_cache). Inbox: Alice's follow-up <suite>
    on T (UID n, Cc Bruno), Bruno's answer citing <suite> only (n+1), Alice's withdrawal through T's address (n+2).
    A running daemon D reads the keys while another daemon holds n (D defers all). The other daemon commits n (on
    T) and goes on holding n+1. A fresh daemon found T through the committed <suite> and deferred the withdrawal
    behind Bruno's held mail (one daemon's order); D's cached keys, read before <suite> was committed, lacked T, and
    D closed T first. The cited mails' tickets are now looked up each round until found (people_of: THREAD), not
    cached with the keys."""
    import mailbot.daemon as daemon_module
    from mailbot.coordination import MailClaims
    from mailbot.daemon import Daemon
    from tests.helpers import CLOCK
    from tests.integration.aideur_clients import reply_to_notification

    monkeypatch.setattr(daemon_module, "DEFER_WAIT_SECONDS", 1.0)
    ack = _ticket_with_bruno_in_cc(clean_mail, settings, sessions)
    follow = make_mail(ALICE, "Re: Déménagement de bureaux", "Bonjour,\n\nPrécision : il y a aussi des archives.\n"
                       "\nAlice\n", message_id="<suite@membres.test>", Cc=BRUNO,
                       In_Reply_To="<Demenagement.X7@membres.test>", References="<Demenagement.X7@membres.test>")
    colleague = make_mail(BRUNO, "Re: Déménagement de bureaux", "Bonjour,\n\nJe peux prêter une camionnette "
                          "pour les archives d'Alice.\n\nBruno\n", message_id="<camionnette@membres.test>",
                          In_Reply_To="<suite@membres.test>", References="<suite@membres.test>")
    withdrawal = reply_to_notification(ack, "Plus besoin, merci !", "gmail", sender=ALICE, name="Alice Martin")
    for raw in (follow.as_bytes(), colleague.as_bytes(), withdrawal.as_bytes()):
        append(clean_mail, CLUB, raw)
    validity, (n, bruno, last) = _uids(settings)
    claims = MailClaims(sessions.kw["bind"])
    d = Daemon(settings, sessions, clock=lambda: CLOCK, fixed_now=CLOCK)
    d.start()
    try:
        with claims.hold("INBOX", validity, [n]) as got:
            assert got == [n]
            d.cycle()  # D reads every key; n is held elsewhere: all deferred
        with claims.hold("INBOX", validity, [bruno, last]) as got:
            assert got == [bruno, last]
            run_cycle(settings, sessions)  # the other daemon commits n
        assert _outcomes(sessions).get("suite@membres.test") == "follow-up", _outcomes(sessions)
        with claims.hold("INBOX", validity, [bruno]) as got:
            assert got == [bruno]
            if daemon == "running":
                d.cycle()
            else:
                run_cycle(settings, sessions)
    finally:
        d.disconnect()
    run_cycle(settings, sessions)
    outcomes = _outcomes(sessions)
    assert outcomes["camionnette@membres.test"] == "copy", outcomes
    notes = _copy_notes(sessions)
    assert len(notes) == 1, notes
    assert "(demande close)" not in notes[0], notes[0]  # as one daemon decides: T was open when Bruno wrote


@POSTGRES_ONLY
@pytest.mark.parametrize("intake", ["complete", "cut"])
def test_a_jobs_tick_does_not_run_while_a_cut_intake_left_the_answer_open(clean_mail, settings, sessions, intake):
    """JobsGate: the jobs never run while an intake left mail open. Aideur connected Alice's ticket with Chloé; Alice
    said yes; a running daemon's last intake found the inbox empty (the gate is open). Chloé's "Oui" arrives; the
    next cycle lists it, then the IMAP connection drops while fetching it (the cycle raises before saying what it
    left open). The consent reminder is due: the scheduler's tick (Daemon._jobs_tick) sent Chloé "Rappel" although
    her answer sat in the inbox, seen by the intake. An intake now closes the gate as it begins (JobsGate.taking_in)
    until it ends. With a complete intake, her answer is taken in first: no reminder."""
    from datetime import timedelta

    from mailbot.daemon import Daemon
    from tests.integration.aideur_clients import reply_to_notification
    from tests.integration.test_consents import connect, reply
    from tests.integration.test_triage import THURSDAY

    _, ask_alice, ask_chloe = connect(clean_mail, settings, sessions)
    reply(clean_mail, settings, sessions, ask_alice, "Oui", ALICE)
    now = [THURSDAY]
    d = Daemon(settings, sessions, clock=lambda: now[0], fixed_now=THURSDAY)
    d.start()
    try:
        d.cycle(with_jobs=False)  # the inbox is empty: nothing open
        yes = reply_to_notification(ask_chloe, "Oui, d'accord.", "thunderbird", sender=CHLOE, name="Chloé Durand")
        append(clean_mail, CLUB, yes.as_bytes())
        now[0] = THURSDAY + timedelta(days=3, hours=1)
        if intake == "cut":
            fetch = d.mailbox.fetch

            def cut(*args, **kwargs):  # type: ignore[no-untyped-def]
                raise ConnectionResetError("connection reset by peer")

            d.mailbox.fetch = cut  # type: ignore[method-assign]
            with pytest.raises(ConnectionResetError):
                d.cycle(with_jobs=False)
            d.mailbox.fetch = fetch  # type: ignore[method-assign]
            d.disconnect()
        else:
            d.cycle(with_jobs=False)
        d._jobs_tick()  # the scheduler's thread, meanwhile (the main loop pauses before reconnecting)
        d.cycle(with_jobs=False)
    finally:
        d.disconnect()
    with sessions() as session:
        kinds = session.scalars(select(OutboxMail.kind).where(OutboxMail.recipient == CHLOE)).all()
    assert "coordonnees" in kinds, kinds
    assert "accord_rappel" not in kinds, kinds  # as one daemon decides: she had answered

