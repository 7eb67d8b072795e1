"""Order across daemons: mails that change what OTHER people's mails find, without sharing a key with them — a
delivery report (its recipient is no longer proposed as a helper), a failing member's own mail (it clears the
mark), an answer to an activity (its free places in anyone's list) — keep their arrival order both ways.

Each test runs twice: `held=False` is one daemon (arrival order); `held=True` holds the earlier mail by another
daemon's claim for one cycle. The outcome must be the same (before the mend, the later mail overtook the held one
and its outcome differed from one daemon's).
"""
from __future__ import annotations

import email
import email.policy

import pytest
from sqlalchemy import select

from mailbot.models import Member, OutboxMail, Ticket
from tests.helpers import (
    ALICE,
    CLUB,
    MEMBERS,
    add_members,
    append,
    cycle_while_held,
    make_mail,
    run_cycle,
    wait_mail,
)

POSTGRES_ONLY = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
CHLOE = MEMBERS[2]  # skills "droit du travail" (tests.helpers.add_members)
LAWYER = ("From: {sender}\r\nTo: " + CLUB + "\r\nSubject: Avocat en droit du travail\r\n"
          "Message-ID: <avocat@membres.test>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
          "Bonjour,\r\n\r\nJe cherche un conseil en droit du travail pour un licenciement.\r\n")


def _first_then_second(server, settings, sessions, first: bytes, second: bytes, *, held: bool,  # type: ignore[no-untyped-def]
                       at=None) -> None:
    """`first` (UID n) then `second` (n+1). held: another daemon claims `first` during one cycle (the second goes
    on), then handles it. Else one daemon, in arrival order."""
    append(server, CLUB, first)
    append(server, CLUB, second)
    kwargs = {} if at is None else {"at": at}
    if held:
        cycle_while_held(settings, sessions, **kwargs)
    else:
        run_cycle(settings, sessions, **kwargs)
    run_cycle(settings, sessions, **kwargs)


def _new_request_notification(sessions, sender: str) -> str:  # type: ignore[no-untyped-def]
    """The text of Aideur's "new request" notification for `sender`'s ticket (with its "who could help" list)."""
    with sessions() as session:
        member_id = session.scalar(select(Member.id).where(Member.email == sender))
        ticket_id = session.scalar(select(Ticket.id).where(Ticket.member_id == member_id).order_by(Ticket.id.desc()))
        bodies = session.scalars(select(OutboxMail.body).where(OutboxMail.ticket_id == ticket_id,
                                                               OutboxMail.recipient != sender)).all()
    texts = []
    for body in bodies:
        message = email.message_from_bytes(body, policy=email.policy.default)
        part = message.get_body(("plain",))
        texts.append(part.get_content() if part is not None else "")
    found = [t for t in texts if "droit du travail" in t]
    assert found, texts
    return " ".join(found[0].split())


@POSTGRES_ONLY
@pytest.mark.parametrize("held", [False, True], ids=["one-daemon", "report-held"])
def test_a_delivery_report_on_a_helper_is_not_overtaken_by_another_members_request_that_ranks_her(
        clean_mail, settings, sessions, held):
    """Chloé (skills: droit du travail) had a mail from the club (her own request's acknowledgement, VERP envelope
    aide+b<id>). A delivery report says her address fails (UID n); then Alice asks for a labour lawyer (n+1).
    One daemon: Chloé is marked bouncing, then Alice's request is ranked without her (matching.eligible_conditions:
    bounced_at IS NULL): Aideur's notification does not propose Chloé. Across daemons nothing ordered the two:
    Alice's request went first and Aideur was told to ask Chloé, whose address does not receive mail."""
    from tests.security.test_bounces import bounced, dsn

    add_members(sessions)
    append(clean_mail, CLUB, make_mail(CHLOE, "Cotisation", "Bonjour,\n\nUne question sur ma cotisation.\n",
                                       message_id="<cotisation@membres.test>").as_bytes())
    run_cycle(settings, sessions)
    with sessions() as session:
        envelope = session.scalar(select(OutboxMail.sender).where(OutboxMail.recipient == CHLOE))
    assert envelope.startswith("aide+b"), envelope
    _first_then_second(clean_mail, settings, sessions, dsn(envelope, CHLOE, "failed"),
                       LAWYER.format(sender=ALICE).encode(), held=held)
    assert bounced(sessions, CHLOE) is not None
    text = _new_request_notification(sessions, ALICE)
    assert "Chloé Durand" not in text, text  # as one daemon decides: her address does not work


@POSTGRES_ONLY
@pytest.mark.parametrize("held", [False, True], ids=["one-daemon", "her-mail-held"])
def test_a_bouncing_helpers_own_mail_is_not_overtaken_by_another_members_request_that_ranks_her(
        clean_mail, settings, sessions, held):
    """Chloé (skills: droit du travail) is marked bouncing. She writes to the club (UID n: her mail proves her
    address works, notices.member_wrote clears the mark); then Alice asks for a labour lawyer (n+1). One daemon:
    Chloé is eligible again when Alice's request is ranked: Aideur's notification proposes her. Across daemons
    the two mails share no key (two members, no token): Alice's request went first, ranked without Chloé. Now
    any mail from a member marked failing keeps its arrival order both ways (coordination.people_of flags her)."""
    from datetime import datetime

    add_members(sessions)
    with sessions.begin() as session:
        session.scalar(select(Member).where(Member.email == CHLOE)).bounced_at = datetime(2026, 11, 1)
    chloe = make_mail(CHLOE, "Cotisation", "Bonjour,\n\nUne question sur ma cotisation.\n",
                      message_id="<cotisation@membres.test>").as_bytes()
    _first_then_second(clean_mail, settings, sessions, chloe, LAWYER.format(sender=ALICE).encode(), held=held)
    with sessions() as session:
        assert session.scalar(select(Member.bounced_at).where(Member.email == CHLOE)) is None
    text = _new_request_notification(sessions, ALICE)
    assert "Chloé Durand" in text, text  # as one daemon decides: she wrote before Alice asked


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("held", [False, True], ids=["one-daemon", "booking-held"])
def test_an_activities_list_does_not_overtake_an_earlier_booking_of_that_activity(
        clean_mail, settings, sessions, held):
    """An activity with 2 places, announced. Alice answers "Je m'inscris" (UID n: booking token e<id>); then Bruno
    writes "activités" (n+1: no token, his own sender). One daemon: Alice is booked, Bruno's list says 1 place
    left of 2. Across daemons the list shared no key with her answer: it went first and told Bruno 2 places were
    free. An answer to an activity now keeps its arrival order both ways."""
    from tests.integration import test_activities as activities
    from tests.integration.aideur_clients import reply_to_notification

    activities.club(sessions)
    created = activities.announce(clean_mail, settings, sessions)
    assert "AC-2026-001" in created.subject
    note = wait_mail(clean_mail, ALICE, 1)[0]
    book = reply_to_notification(note, "Je m'inscris", "thunderbird", sender=ALICE, name="Alice").as_bytes()
    ask = make_mail(MEMBERS[1], "activités", "Bonjour,\n\nQuelles activités ?\n",
                    message_id="<liste@membres.test>").as_bytes()
    _first_then_second(clean_mail, settings, sessions, book, ask, held=held, at=activities.T0)
    assert activities.statuses(sessions)[ALICE] == "booked"
    with sessions() as session:
        bodies = session.scalars(select(OutboxMail.body).where(OutboxMail.recipient == MEMBERS[1])).all()
    texts = [" ".join(email.message_from_bytes(b, policy=email.policy.default).get_body(("plain",)).get_content()
                      .replace("\u00a0", " ").split()) for b in bodies]
    lists = [t for t in texts if "Places libres" in t]
    assert lists, texts
    assert "Places libres : 1 sur 2" in lists[-1], lists[-1]  # as one daemon decides: Alice booked first
