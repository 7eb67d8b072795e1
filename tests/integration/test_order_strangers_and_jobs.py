"""Order across daemons: strangers' mails keep their arrival order among themselves (the hour's bound on Aideur's
notices counts them together; a former member, a mail naming no sender the router can take and one with an
unreadable sender are strangers), and the scheduled jobs wait for a mail another daemon holds — below the
checkpoint too, and from a daemon's start.

Each test runs twice: `held=False` is one daemon (arrival order); `held=True` holds an inbox mail by another
daemon's claim (tests.helpers.cycle_while_held, or a longer hold written here), then handles it. The outcome must
be the same (before the mends, each held case decided differently from one daemon).
"""
from __future__ import annotations

import pytest
from sqlalchemy import select, update

from mailbot.coordination import MailClaims
from mailbot.mailbox import Mailbox
from mailbot.models import Member, OutboxMail
from tests.helpers import (
    AIDEUR,
    ALICE,
    BRUNO,
    CHLOE,
    CLUB,
    add_members,
    append,
    cycle_while_held,
    make_mail,
    run_cycle,
    run_held_or_in_order,
)
from tests.integration.test_order_effects import assert_chloe_answered_before_the_jobs

POSTGRES_ONLY = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def _notified(sessions, kind: str) -> set[str]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return set(session.scalars(select(OutboxMail.about).where(OutboxMail.kind == kind,
                                                                  OutboxMail.recipient == AIDEUR)))


# --- 1. the jobs wait for a held mail below the checkpoint ------------------------------------------------------------

@POSTGRES_ONLY
@pytest.mark.parametrize("held", [False, True], ids=["one-daemon", "answer-held-two-cycles"])
def test_jobs_wait_for_a_held_mail_after_a_later_mail_moved_the_checkpoint(clean_mail, settings, sessions, held):
    """Aideur connected Alice's ticket with Chloé (#relier); Alice said yes. When the consent reminder falls due,
    Chloé's "Oui" (UID n) and an unrelated request of Bruno's (n+1) are in the inbox. One daemon: Chloé's yes
    makes the exchange, no reminder. Held by another daemon for two of this daemon's cycles: the first cycle
    handles Bruno's mail (the checkpoint moves to n+1) and its jobs wait; UID n, at or below the checkpoint, with no
    record and not claimable, was not counted as held in the second cycle, whose jobs ran: Chloé, who had answered,
    was sent the reminder. A mail below the checkpoint held elsewhere now counts as open (Daemon._round)."""
    from datetime import timedelta

    from tests.integration.aideur_clients import reply_to_notification
    from tests.integration.test_consents import connect, reply
    from tests.integration.test_triage import THURSDAY

    _, ask_alice, ask_chloe = connect(clean_mail, settings, sessions)
    reply(clean_mail, settings, sessions, ask_alice, "Oui", ALICE)
    yes = reply_to_notification(ask_chloe, "Oui, d'accord.", "thunderbird", sender=CHLOE, name="Chloé Durand")
    append(clean_mail, CLUB, yes.as_bytes())
    append(clean_mail, CLUB, make_mail(BRUNO, "Devis de maçonnerie", "Bonjour,\n\nQui connaît un bon fournisseur "
                                       "de parpaings ?\n\nBruno\n", message_id="<parpaings@membres.test>").as_bytes())
    later = THURSDAY + timedelta(days=3, hours=1)
    if held:
        cycle_while_held(settings, sessions, at=later, cycles=2)
    else:
        run_cycle(settings, sessions, at=later)
        run_cycle(settings, sessions, at=later)
    assert_chloe_answered_before_the_jobs(sessions)  # as one daemon decides


# --- 2. the hourly bound on Aideur's notices: former members, mails with no sender the router takes ------------

@POSTGRES_ONLY
@pytest.mark.parametrize("held", [False, True], ids=["one-daemon", "former-member-held"])
def test_a_former_members_mail_counts_for_the_strangers_bound_in_arrival_order(clean_mail, settings, sessions, held):
    """Bruno left the club (status "ended"). He writes that he would like to join again (UID n: a NON_MEMBER mail,
    the invitation; Aideur's non-member notice is bounded with every stranger's, notices.flood_notice); then ten
    strangers write (n+1..n+10). One daemon: Aideur hears of Bruno first, the tenth stranger is grouped. Bruno's
    address was a member's to the order (members_of_addresses finds ended members too): held, the ten strangers
    took the ten notices and Bruno's was grouped. A member who is not active is a stranger now (people_of)."""
    add_members(sessions)
    with sessions.begin() as session:
        session.execute(update(Member).where(Member.email == BRUNO).values(status="ended"))
    strangers = [f"inconnu{n:02d}@ailleurs.test" for n in range(1, 11)]
    mails = [make_mail(BRUNO, "Inscription", "Bonjour,\n\nJe souhaite m'inscrire à nouveau au club.\n\nBruno\n",
                       message_id="<retour@membres.test>").as_bytes()]
    mails += [make_mail(s, f"Renseignement {n}", f"Bonjour,\n\nJe voudrais des renseignements ({n}).\n",
                        message_id=f"<inconnu-{n}@ailleurs.test>").as_bytes() for n, s in enumerate(strangers, 1)]
    run_held_or_in_order(clean_mail, settings, sessions, mails, held=held)
    told = _notified(sessions, "notification_non_membre")
    assert BRUNO in told, sorted(told)  # as one daemon decides
    assert strangers[-1] not in told, sorted(told)


def _quarantine_notices(sessions) -> list[str]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return sorted(session.scalars(select(OutboxMail.idempotency_key).where(
            OutboxMail.kind == "alerte_quarantaine")))


@POSTGRES_ONLY
@pytest.mark.parametrize("held", [False, True], ids=["one-daemon", "members-quarantined-held"])
def test_a_members_quarantined_mail_counts_for_the_hourly_bound_in_arrival_order(clean_mail, settings, sessions,
                                                                                held):
    """Alice's mail names two authors and no Sender ("From: Alice, Chloé": both members): it is quarantined
    (expéditeur illisible), UID n. Then ten strangers' mails are quarantined the same way (n+1..n+10, each "From:
    a stranger, his partner"). The quarantine notices are bounded per hour for all senders together
    (notices.quarantined → flood_notice, outcome "quarantined"). One daemon: Aideur hears of Alice's mail, the
    tenth stranger's is grouped. Alice's mail had member addresses only and shared no key with the strangers'
    mails: held, theirs took the ten notices and Alice's was grouped. A mail whose sender the router cannot take is
    nobody's now (NOBODY): a stranger's, in order with the others."""
    add_members(sessions)
    mails = [make_mail(f"{ALICE}, {CHLOE}", "Notre demande commune", "Bonjour,\n\nNous cherchons un local.\n",
                       message_id="<commune@membres.test>").as_bytes()]
    mails += [make_mail(f"inconnu{n:02d}@ailleurs.test, associe{n:02d}@ailleurs.test", f"Renseignement {n}",
                        f"Bonjour,\n\nDes renseignements ({n}).\n", message_id=f"<q-{n}@ailleurs.test>").as_bytes()
              for n in range(1, 11)]
    run_held_or_in_order(clean_mail, settings, sessions, mails, held=held)
    keys = " ".join(_quarantine_notices(sessions))
    assert "commune@membres.test" in keys, keys  # as one daemon decides
    assert "q-10@ailleurs.test" not in keys, keys


@POSTGRES_ONLY
@pytest.mark.parametrize("held", [False, True], ids=["one-daemon", "senderless-held"])
def test_a_mail_without_sender_counts_for_the_strangers_bound_in_arrival_order(clean_mail, settings, sessions, held):
    """A mail with no From header at all (UID n: a web form's mail, a broken script) is recorded as a non-member's
    mail (outcome "non-member": no invitation, no notice, there is no address), and that record counts toward the
    hourly bound of all strangers' notices (notices.flood_notice counts every "non-member" record of the hour).
    Then ten strangers write (n+1..n+10). One daemon: the sender-less mail is the hour's first, strangers 1..9 are
    notified and the tenth is grouped. The sender-less mail had no "from:" key, hence no stranger's order: held,
    the ten strangers came first and all ten were notified. A mail naming no sender is a stranger's now (NOBODY)."""
    add_members(sessions)
    senderless = (f"To: {CLUB}\r\nSubject: Formulaire de contact\r\nMessage-ID: <formulaire@site.test>\r\n"
                  "Date: Thu, 26 Nov 2026 09:00:00 +0100\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
                  "Nom : Jean Dupont\r\nMessage : je voudrais des renseignements sur le club.\r\n").encode()
    strangers = [f"inconnu{n:02d}@ailleurs.test" for n in range(1, 11)]
    mails = [senderless] + [make_mail(s, f"Renseignement {n}", f"Bonjour,\n\nJe voudrais des renseignements ({n}).\n",
                                      message_id=f"<inconnu-{n}@ailleurs.test>").as_bytes()
                            for n, s in enumerate(strangers, 1)]
    run_held_or_in_order(clean_mail, settings, sessions, mails, held=held)
    with sessions() as session:
        keys = " ".join(session.scalars(select(OutboxMail.idempotency_key).where(
            OutboxMail.kind == "notification_non_membre")))
    assert "inconnu-9@ailleurs.test" in keys, keys
    assert "inconnu-10@ailleurs.test" not in keys, keys  # as one daemon decides: the hour's eleventh


# --- 4. `mailbot run`: the scheduler's first tick comes before the first intake ------------------------------------

@POSTGRES_ONLY
@pytest.mark.parametrize("held", [False, True], ids=["one-daemon", "answer-held-new-daemon"])
def test_a_starting_daemons_first_jobs_tick_waits_for_the_answer_another_daemon_holds(clean_mail, settings, sessions,
                                                                                      held):
    """Aideur connected Alice's ticket with Chloé; Alice said yes. Chloé's "Oui" is in the inbox, held by daemon A
    (it is processing it), when the consent reminder is due and daemon B starts (`mailbot run`: a restart, a second
    server). B's scheduler thread runs its first tick at once (scheduler.start_background: next_run_time=now),
    before B's main loop's first intake: the reminder went to Chloé while A handled her yes. One daemon (a cycle:
    intake, then jobs): the yes makes the exchange, no reminder. The jobs now wait for a daemon's first intake
    (daemon.JobsGate). (Emulated here by B's `_jobs_tick()` called before any cycle, as run_forever's scheduler
    does.)"""
    from datetime import timedelta

    from mailbot.daemon import Daemon
    from tests.integration.aideur_clients import reply_to_notification
    from tests.integration.test_consents import connect, reply
    from tests.integration.test_triage import THURSDAY

    _, ask_alice, ask_chloe = connect(clean_mail, settings, sessions)
    reply(clean_mail, settings, sessions, ask_alice, "Oui", ALICE)
    yes = reply_to_notification(ask_chloe, "Oui, d'accord.", "thunderbird", sender=CHLOE, name="Chloé Durand")
    append(clean_mail, CLUB, yes.as_bytes())
    later = THURSDAY + timedelta(days=3, hours=1)
    if held:
        def b_starts() -> None:
            daemon = Daemon(settings, sessions, clock=lambda: later, fixed_now=later)
            daemon.start()
            try:
                daemon._jobs_tick()  # the scheduler's first tick (run_forever), before the main loop's first cycle
            finally:
                daemon.disconnect()
        box = Mailbox(settings.imap, "INBOX")
        box.connect()
        uidvalidity, uid = box.uidvalidity, box.sizes()[0][0]
        box.close()
        with MailClaims(sessions.kw["bind"]).hold("INBOX", uidvalidity, [uid]):
            b_starts()
        run_cycle(settings, sessions, at=later)  # A's turn: the yes
    else:
        run_cycle(settings, sessions, at=later)
    run_cycle(settings, sessions, at=later)
    assert_chloe_answered_before_the_jobs(sessions)  # as one daemon decides


@POSTGRES_ONLY
@pytest.mark.parametrize("held", [False, True], ids=["one-daemon", "first-members-quarantined-held"])
def test_mails_naming_no_sender_the_router_takes_share_the_hourly_bound_in_arrival_order(clean_mail, settings,
                                                                                          sessions, held):
    """Eleven mails each name two member authors and no Sender ("From: m0, m1"; "From: m2, m3"…): the router takes
    no sender from them, each is quarantined (expéditeur illisible), and the quarantine notices are bounded per hour
    for all senders together (notices.quarantined → flood_notice). One daemon: the first is notified, the eleventh
    grouped. Their keys were their From addresses (members'), not NOBODY: held, the first was the one grouped. A
    mail whose sender the router cannot take is now nobody's (a stranger's mail, ordered both ways)."""
    from mailbot.members import upsert_member

    members = [f"membre{n:02d}@membres.test" for n in range(22)]
    with sessions.begin() as session:
        for n, address in enumerate(members):
            upsert_member(session, address, first_name=f"Prénom{n}", last_name=f"Nom{n}", skills="conseil")
    mails = [make_mail(f"{members[2 * n]}, {members[2 * n + 1]}", f"Demande commune {n}",
                       f"Bonjour,\n\nNous cherchons un local ({n}).\n",
                       message_id=f"<commune-{n}@membres.test>").as_bytes() for n in range(11)]
    run_held_or_in_order(clean_mail, settings, sessions, mails, held=held)
    with sessions() as session:
        keys = " ".join(session.scalars(select(OutboxMail.idempotency_key).where(
            OutboxMail.kind == "alerte_quarantaine")))
    assert "commune-0@membres.test" in keys, keys  # as one daemon decides
    assert "commune-10@membres.test" not in keys, keys
