"""Order across daemons: mails whose effects reach people their headers do not name — a stranger's mail (the hourly
bound on Aideur's notices, all strangers together), a mail copying a colleague (he becomes a participant of the
ticket), an answer through a consent token (a mail to the other member, on her hourly budget), a member's answer
waiting in the inbox when a scheduled reminder falls due.

Each test runs twice: `held=False` is one daemon (arrival order); `held=True` holds the inbox's first mail by
another daemon's claim for one cycle (tests.helpers.cycle_while_held), then handles it. The outcome must be the same
(before the mends, each held case decided differently from one daemon).
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from mailbot.models import OutboxMail
from tests.helpers import (
    ALICE,
    CHLOE,
    CLOCK,
    CLUB,
    add_members,
    append,
    cycle_while_held,
    make_mail,
    plain_text,
    run_cycle,
    run_held_or_in_order,
)

POSTGRES_ONLY = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def _outbox(sessions, kind: str) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return sorted(session.execute(select(OutboxMail.recipient, OutboxMail.about)
                                      .where(OutboxMail.kind == kind)).all())


@POSTGRES_ONLY
@pytest.mark.parametrize("held", [False, True], ids=["one-daemon", "first-held"])
def test_the_flood_bound_on_strangers_notices_counts_in_arrival_order(clean_mail, settings, sessions, held):
    """Eleven strangers write to the club within the hour (UIDs n..n+10, each from their own address). Aideur hears
    of each stranger's first mail until FIRST_OVERALL (10) such mails arrived in the window from all senders
    together (workflows.notices.flood_notice, counted on the inbound records committed before): one daemon tells
    him of strangers 1 to 10, and groups the 11th. The eleven mails shared no key: with the first one held, mails
    2..11 took the ten notices and stranger 1, who wrote first, was the one Aideur did not hear of. Strangers' mails
    now keep their arrival order among themselves (coordination.STRANGER)."""
    add_members(sessions)
    strangers = [f"inconnu+s{n:02d}@ailleurs.test" for n in range(1, 12)]
    mails = [make_mail(s, f"Renseignement {n}", f"Bonjour,\n\nJe voudrais des renseignements ({n}).\n",
                       message_id=f"<inconnu-{n}@ailleurs.test>").as_bytes() for n, s in enumerate(strangers, 1)]
    run_held_or_in_order(clean_mail, settings, sessions, mails, held=held)
    told = {about for _, about in _outbox(sessions, "notification_non_membre")}
    assert strangers[0] in told, sorted(told)  # as one daemon decides: the first stranger is among the first ten
    assert strangers[10] not in told, sorted(told)


def _outcomes(sessions) -> dict[str, str]:  # type: ignore[no-untyped-def]
    from mailbot.models import InboundMail

    with sessions() as session:
        return dict(session.execute(select(InboundMail.message_id, InboundMail.outcome)).all())


COLLEAGUE = "expert@cabinet-comptable.test"


@POSTGRES_ONLY
@pytest.mark.parametrize("field", ["Cc", "To"])
@pytest.mark.parametrize("held", [False, True], ids=["one-daemon", "copy-held"])
def test_a_colleague_answering_in_the_tickets_thread_waits_for_the_mail_that_copied_him(
        clean_mail, settings, sessions, held, field):
    """Alice's request <demande> is a ticket (handled earlier); she had forwarded it to her accountant X herself,
    outside the club. She writes a follow-up on her ticket with X in Cc (UID n: "je mets en copie mon
    expert-comptable"); then X writes to the club alone in the thread of the request he was forwarded (n+1:
    References <demande>, To the club). One daemon: X was in Cc of one of the ticket's mails (router._took_part),
    so his mail is a copy on Alice's ticket. His mail cites <demande> (committed) and his own address; the
    follow-up's Cc (or To) was only among *its* cites, never its own keys: held, X's mail went first and he was read
    as a stranger (an invitation to register, a non-member notice to Aideur). The people a mail copies are now its
    keys both ways."""
    add_members(sessions)
    append(clean_mail, CLUB, make_mail(ALICE, "Bilan de première année", "Bonjour,\n\nJe cherche un conseil "
                                       "pour mon premier bilan comptable.\n\nAlice\n",
                                       message_id="<demande@membres.test>").as_bytes())
    run_cycle(settings, sessions)
    follow = make_mail(ALICE, "Re: Bilan de première année", "Bonjour,\n\nJe mets en copie mon expert-comptable, "
                       "qui pourra vous donner les chiffres.\n\nAlice\n", message_id="<suite@membres.test>",
                       In_Reply_To="<demande@membres.test>", References="<demande@membres.test>",
                       **({"Cc": COLLEAGUE} if field == "Cc" else {"to": f"{CLUB}, {COLLEAGUE}"}))
    answer = make_mail(COLLEAGUE, "Re: Fwd: Bilan de première année", "Bonjour,\n\nLe chiffre d'affaires de "
                       "Mme Martin est de 80 000 euros.\n\nX\n", message_id="<expert@cabinet-comptable.test>",
                       References="<demande@membres.test> <transfert@membres.test>")
    run_held_or_in_order(clean_mail, settings, sessions, [follow.as_bytes(), answer.as_bytes()], held=held)
    outcomes = _outcomes(sessions)
    assert outcomes["suite@membres.test"] == "follow-up", outcomes
    assert outcomes["expert@cabinet-comptable.test"] == "copy", outcomes  # as one daemon decides


@POSTGRES_ONLY
@pytest.mark.parametrize("held", [False, True], ids=["one-daemon", "refusal-held"])
def test_a_helpers_hourly_budget_is_spent_in_arrival_order(clean_mail, settings, sessions, held):
    """MAILBOT_RATE_LIMIT_PER_HOUR=1. Aideur connected Alice's ticket with Chloé (#relier: both asked, not counted).
    Alice refuses the contact through her consent address (UID n): Chloé, the partner, is told the contact will
    not happen (`relation_annulee`, an automatic mail: it counts toward Chloé's budget). Then Chloé writes a
    request of her own (n+1): its acknowledgement counts toward the same budget. One daemon: the refusal's mail to
    Chloé leaves at once and her acknowledgement is held an hour (Aideur's notice says so). Alice's refusal was keyed
    to Alice only (its consent token named her ticket's member): held, Chloé's acknowledgement took the slot and the
    mail telling her the contact is off waited an hour. A consent token now names the contact's helper too
    (coordination.PARTY)."""
    import dataclasses

    from tests.integration.aideur_clients import reply_to_notification
    from tests.integration.test_consents import connect

    _, ask_alice, _ = connect(clean_mail, settings, sessions)
    limited = dataclasses.replace(settings, rate_limit_per_hour=1)
    refusal = reply_to_notification(ask_alice, "Non merci, je préfère ne pas être mise en relation.", "thunderbird",
                                    sender=ALICE, name="Alice Martin")
    request = make_mail(CHLOE, "Local pour une formation", "Bonjour,\n\nJe cherche une salle pour une formation "
                        "de dix personnes en janvier.\n\nChloé\n", message_id="<salle@membres.test>")
    run_held_or_in_order(clean_mail, limited, sessions, [refusal.as_bytes(), request.as_bytes()], held=held)
    with sessions() as session:
        rows = dict(session.execute(select(OutboxMail.kind, OutboxMail.next_attempt_at)
                                    .where(OutboxMail.recipient == CHLOE, OutboxMail.automatic.is_(True))).all())
    assert set(rows) == {"relation_annulee", "accuse_reception"}, rows
    assert rows["relation_annulee"] <= CLOCK < rows["accuse_reception"], rows  # as one daemon decides


@POSTGRES_ONLY
@pytest.mark.parametrize("due", ["reminder", "expiry"])
@pytest.mark.parametrize("held", [False, True], ids=["one-daemon", "answer-held"])
def test_a_scheduled_reminder_does_not_overtake_the_answer_waiting_in_the_inbox(clean_mail, settings, sessions,
                                                                                held, due):
    """Aideur connected Alice's ticket with Chloé (#relier); Alice said yes. Chloé's "Oui" is in the inbox (UID n)
    when the consent reminder falls due (3 days). One daemon: a cycle takes the mail in before it runs the jobs:
    Chloé's yes makes the exchange, no reminder. Held, the jobs ran without the mail another daemon held: Chloé, who
    had answered, was sent "Rappel"; at the expiry (7 days) the connection expired under her yes (no exchange at
    all). The jobs now wait while an intake leaves mail open in the inbox (daemon.JOBS_WAIT_SECONDS at most)."""
    from datetime import timedelta

    from tests.integration.aideur_clients import reply_to_notification
    from tests.integration.test_consents import connect, reply
    from tests.integration.test_triage import THURSDAY

    _, ask_alice, ask_chloe = connect(clean_mail, settings, sessions)
    reply(clean_mail, settings, sessions, ask_alice, "Oui", ALICE)
    yes = reply_to_notification(ask_chloe, "Oui, d'accord.", "thunderbird", sender=CHLOE, name="Chloé Durand")
    append(clean_mail, CLUB, yes.as_bytes())
    later = THURSDAY + (timedelta(days=3, hours=1) if due == "reminder" else timedelta(days=7, minutes=5))
    if held:
        cycle_while_held(settings, sessions, at=later)
    else:
        run_cycle(settings, sessions, at=later)
    run_cycle(settings, sessions, at=later)
    assert_chloe_answered_before_the_jobs(sessions)  # as one daemon decides


@POSTGRES_ONLY
@pytest.mark.parametrize("held", [False, True], ids=["one-daemon", "withdrawal-held"])
def test_a_colleagues_reply_in_the_thread_sees_the_ticket_as_the_members_earlier_mail_left_it(
        clean_mail, settings, sessions, held):
    """Alice's request (Cc: Bruno, a member) opened a ticket. Then, in the inbox: Alice's "Plus besoin, merci !"
    through the ticket's reply address (UID n: withdraws it, the ticket closes) and Bruno's answer to Alice's
    request, to the club alone (n+1: In-Reply-To her request's Message-ID; router.copy_or_repeat: someone who was
    in Cc of the ticket's mails answering in its thread is a copy on that ticket, whose notification says whether
    the ticket is closed). One daemon: Bruno's copy goes on a closed ticket, "(demande close)". Bruno's keys (his
    address, his Message-ID, the cited id of Alice's committed request) shared nothing with Alice's mail: held, his
    copy was notified as on an open request. A mail citing a committed mail of a ticket now names that ticket, as
    its token would (coordination.people_of: THREAD)."""
    from tests.helpers import BRUNO, settle
    from tests.integration.aideur_clients import reply_to_notification

    add_members(sessions)
    append(clean_mail, CLUB, make_mail(ALICE, "Déménagement de bureaux", "Bonjour,\n\nQui pourrait m'aider à "
                                       "déménager mes bureaux à Lyon le mois prochain ?\n\nAlice\n",
                                       message_id="<Demenagement.X7@membres.test>", Cc=BRUNO).as_bytes())
    run_cycle(settings, sessions)
    [ack] = settle(clean_mail, ALICE, 1)
    withdrawal = reply_to_notification(ack, "Plus besoin, merci !", "gmail", sender=ALICE, name="Alice Martin")
    colleague = make_mail(BRUNO, "RE: Déménagement de bureaux", "Bonjour,\n\nJe peux prêter une camionnette "
                          "pour le déménagement d'Alice.\n\nBruno\n", message_id="<camionnette@membres.test>",
                          In_Reply_To="<Demenagement.X7@membres.test>",
                          References="<Demenagement.X7@membres.test>")
    run_held_or_in_order(clean_mail, settings, sessions, [withdrawal.as_bytes(), colleague.as_bytes()], held=held)
    with sessions() as session:
        bodies = session.scalars(select(OutboxMail.body).where(OutboxMail.kind == "notification_copie")).all()
    assert len(bodies) == 1, len(bodies)
    assert "(demande close)" in plain_text(bodies[0]), plain_text(bodies[0])  # as one daemon decides


def assert_chloe_answered_before_the_jobs(sessions) -> None:  # type: ignore[no-untyped-def]
    """Chloé's "Oui" made the exchange (her contact details card) and no reminder went to her: her answer was taken
    in before the consent jobs ran."""
    with sessions() as session:
        kinds = session.scalars(select(OutboxMail.kind).where(OutboxMail.recipient == CHLOE)).all()
    assert "coordonnees" in kinds, kinds
    assert "accord_rappel" not in kinds, kinds
