"""The order keys of mails about one ticket (coordination.people_of, ticket_members): a ticket's reference and the
tokens of what belongs to it stand for its member, so a mail the router puts on her ticket by another way (a
counterpart's relay, a command awaiting Aideur's OUI) keeps its order with her own; a token number no row can have
names nothing and stops no round; and a header cut after a stray line then a blank one is still a barrier.

Each test states what the router will read of a mail (or what a ticket's commands will act on) and checks that the
order keys tie it to the earlier mail it must follow (found by an attack, stop 23)."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from mailbot.coordination import STRANGER, WaitingOrder, people_of
from mailbot.db import make_engine, make_session_factory
from mailbot.members import upsert_member
from mailbot.parsers import parse_mail
from tests.unit.test_daemon_order_keys import REQUEST, daemon_keys
from tests.unit.test_waiting_order import raw_keys

MAC = "0123456789abcdef0123"
TRACE = b"".join(b"Received: from relay%04d.liste.example.org (relay%04d.liste.example.org [192.0.2.1])\r\n"
                 b"\tby mx.club.test with ESMTPS id %08d; Thu, 26 Nov 2026 09:05:00 +0100\r\n" % (i, i, i)
                 for i in range(500))  # 72 KB of trace fields


# --- 1. a stray line and a blank one before a header longer than HEAD_BYTES -------------------------------------------

@pytest.mark.parametrize("prefix", [b"From alice@membres.test Thu Nov 26 09:05:00 2026\r\n\r\n",
                                    b"Exported by MailArchiver 2.1\r\n\r\n"], ids=["mbox-separator", "banner"])
def test_a_stray_line_and_a_blank_line_before_a_long_header_still_make_it_a_barrier(prefix):
    """A stray line then a blank one (the server's header block is the stray line: the daemon reads the mail's
    head, 64 KB), then 72 KB of trace fields, then Alice's From. The parser drops the stray line and the blank one
    (mime.repair_start) and reads her From past 64 KB; the keys read the first 64 KB only, so the mail is a barrier
    (CUT/ANY): header_cut looks for the header's end after what repair_start drops (it took the blank line after
    the stray one for it, and the follow-up, depending on nothing, overtook her held request)."""
    follow = prefix + TRACE + (b"From: alice@membres.test\r\nTo: aide@club.test\r\n"
                               b"Subject: Devis pour une toiture\r\nMessage-ID: <suite@membres.test>\r\n\r\n"
                               b"J'oubliais : c'est urgent.\r\n")
    assert parse_mail(follow).from_address == "alice@membres.test"  # what the router reads
    keys = daemon_keys({1: REQUEST, 2: follow})
    assert WaitingOrder(keys).blocker(2) == 1, keys[2]


def test_a_stray_line_and_a_blank_line_before_a_long_reply_header_still_make_it_a_barrier():
    """The same with a reply whose In-Reply-To comes after the cut (a stranger's reply: only the thread ties it)."""
    reply = (b"Exported by MailArchiver 2.1\r\n\r\n" + TRACE +
             b"From: Paul <paul@client.test>\r\nTo: aide@club.test\r\nSubject: Re: Devis pour une toiture\r\n"
             b"Message-ID: <reponse@client.test>\r\nIn-Reply-To: <demande@membres.test>\r\n\r\nJe peux aider.\r\n")
    assert parse_mail(reply).in_reply_to == ("demande@membres.test",)
    keys = daemon_keys({1: REQUEST, 2: reply})
    assert WaitingOrder(keys).blocker(2) == 1, keys[2]


# --- 2. tokens of other scopes that name a ticket (or a member): counterpart w, pending command q ---------------------

@pytest.fixture
def ticket_db(database_url):  # type: ignore[no-untyped-def]
    """Alice's ticket CA-2026-0007, Bruno a helper on it: a counterpart row for him on the ticket, one for Alice
    about no ticket (her profile), and a command waiting for Aideur's OUI on the ticket."""
    from mailbot.models import Counterpart, PendingCommand, Ticket

    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        alice, _ = upsert_member(session, "alice@m.test", first_name="Alice", last_name="Martin")
        bruno, _ = upsert_member(session, "bruno@m.test", first_name="Bruno", last_name="Petit")
        session.flush()
        ticket = Ticket(ref="CA-2026-0007", member_id=alice.id, subject="Devis")
        session.add(ticket)
        session.flush()
        helper = Counterpart(kind="helper", ticket_id=ticket.id, member_id=bruno.id)
        profile = Counterpart(kind="member", ticket_id=None, member_id=alice.id)
        now = datetime(2026, 11, 26, 10, 0)
        pending = PendingCommand(created_at=now, expires_at=now + timedelta(hours=48), status="pending",
                                 from_address="aideur@club.test", message_id="cmd@club.test", ticket_id=ticket.id,
                                 text="CA-2026-0007 #clore", day=date(2026, 11, 26))
        session.add_all([helper, profile, pending])
        session.flush()
        ids = {"alice": alice.id, "bruno": bruno.id, "ticket": ticket.id, "helper": helper.id,
               "profile": profile.id, "pending": pending.id}
    try:
        yield sessions, ids
    finally:
        engine.dispose()


ALICE_MAIL = "From: alice@m.test\nTo: aide@club.test\nSubject: Devis\nMessage-ID: <s@m.test>\n"


def _order(sessions, second: str) -> WaitingOrder:  # type: ignore[no-untyped-def]
    waiting = {1: raw_keys(ALICE_MAIL), 2: raw_keys(second)}
    with sessions() as session:
        people = people_of(session, waiting, ("aideur@club.test",))
    return WaitingOrder(waiting, people)


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_aideurs_close_through_a_helpers_counterpart_address_waits_for_the_members_earlier_mail(ticket_db):
    """Aideur replies "#clore" to the notification of Bruno's answer (reply address aide+w<n>a-…: router
    _counterpart → AIDEUR_REPLY with the counterpart's ticket; his commands act on Alice's ticket, exactly like a
    reply through the ticket's token t): people_of maps w to the ticket's member too, so the close waits for
    Alice's same-subject mail held elsewhere (which otherwise opens a second ticket)."""
    sessions, ids = ticket_db
    order = _order(sessions, f"From: aideur@club.test\nTo: aide+w{ids['helper']}a-{MAC}@club.test\n"
                             "Subject: Re: Bruno Petit propose son aide\nMessage-ID: <clore@club.test>\n")
    assert order.blocker(2) == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_helpers_answer_through_his_counterpart_address_waits_for_the_members_earlier_mail(ticket_db):
    """Bruno's answer through his counterpart address (w, role h: COUNTERPART_REPLY on Alice's ticket), after
    Alice's withdrawal held elsewhere: waits for it, as through the appeal token (a)."""
    sessions, ids = ticket_db
    order = _order(sessions, f"From: bruno@m.test\nTo: aide+w{ids['helper']}h-{MAC}@club.test\n"
                             "Subject: Re: Message d'Aideur\nMessage-ID: <rep@m.test>\n")
    assert order.blocker(2) == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_aideurs_reply_through_a_members_counterpart_address_waits_for_her_earlier_mail(ticket_db):
    """A counterpart about no ticket names a member (kind "member": Aideur's reply to a notification about her
    profile; his text goes to her): it is about her as much as her own mails."""
    sessions, ids = ticket_db
    order = _order(sessions, f"From: aideur@club.test\nTo: aide+w{ids['profile']}a-{MAC}@club.test\n"
                             "Subject: Re: Changement de profil\nMessage-ID: <p@club.test>\n")
    assert order.blocker(2) == 1


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_aideurs_oui_to_a_pending_command_on_a_ticket_waits_for_the_members_earlier_mail(ticket_db):
    """Aideur's OUI through the confirmation's reply address (aide+q<n>a-…: router → AIDEUR_COMMAND, then
    triage.confirmation_reply runs the stored "CA-2026-0007 #clore" on PendingCommand.ticket_id). The OUI names
    the ticket only through the pending command: it waits for Alice's earlier mail as "#clore" by the ticket's
    token does."""
    sessions, ids = ticket_db
    order = _order(sessions, f"From: aideur@club.test\nTo: aide+q{ids['pending']}a-{MAC}@club.test\n"
                             "Subject: Re: Confirmez-vous cette commande ?\nMessage-ID: <oui@club.test>\n")
    assert order.blocker(2) == 1


# --- 3. a token number no row can have: the round's query fails on PostgreSQL ------------------------------------------

@pytest.mark.parametrize("database_url", ["postgresql", "sqlite"], indirect=True)
@pytest.mark.parametrize("address", [
    f"aide+t9999999999m-{MAC}@club.test",  # a ticket token (no MAC is checked by the keys: anyone can write one)
    f"aide+a2147483648h-{MAC}@club.test",  # an appeal's: one above PostgreSQL's integer
    f"aide+f999999999999m-{MAC}@club.test",  # a result form's: the 12 digits TOKEN_PATTERN allows
], ids=["ticket", "appeal", "result"])
def test_a_token_number_beyond_the_integer_columns_does_not_stop_the_round(database_url, address):
    """Anyone may write to aide+t9999999999m-<20 hex>@club.test (mail_keys reads tokens without their MAC, as it
    should: the router decides). people_of asked "tickets.id IN (9999999999::INTEGER)": PostgreSQL raised
    DataError (integer out of range) in Daemon._round, every round, before any mail was handled; the daemon exited
    and, restarted, met the same mail (a poison mail). The round goes on: an impossible number names no ticket, its
    key stays its own."""
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    waiting = {1: raw_keys(ALICE_MAIL),
               2: raw_keys(f"From: intrus@ailleurs.test\nTo: {address}\nSubject: Bonjour\nMessage-ID: <x@a.test>\n"),
               3: raw_keys("From: chloe@m.test\nTo: aide@club.test\nSubject: [CA-2026-" + "0" * 40 + "7] Devis\n")}
    try:
        with sessions() as session:
            people = people_of(session, waiting, ("aideur@club.test",))
        # (Alice and the intruder are no members here: strangers keep their order among themselves, left aside.)
        assert WaitingOrder(waiting, {key: person for key, person in people.items()
                                      if not key.startswith(STRANGER)}).blocker(2) is None
    finally:
        engine.dispose()


# --- 4. a token naming two members: the other one's mails keep their order with it too ---------------------------------

@pytest.mark.parametrize("database_url", ["postgresql", "sqlite"], indirect=True)
def test_an_answer_through_a_consent_token_keeps_its_order_with_the_helpers_mails(ticket_db):
    """Aideur connected Alice's ticket with Bruno (#relier): each was asked for consent (one token each). Alice's
    "non" through her token tells Bruno the contact is off — a mail to him, on his hourly budget, about a
    connection his own answer may be changing. Her token named her ticket's member only: Bruno's earlier mail, held
    by another daemon, was overtaken (his acknowledgement took the hour's slot, the cancellation waited an hour).
    The token names both: the ticket's member, and the helper (PARTY)."""
    from mailbot.coordination import PARTY
    from mailbot.models import Connection, Consent

    sessions, ids = ticket_db
    with sessions.begin() as session:
        connection = Connection(ticket_id=ids["ticket"], requester_id=ids["alice"], helper_id=ids["bruno"])
        session.add(connection)
        session.flush()
        asked = Consent(connection_id=connection.id, member_id=ids["alice"], role="requester")
        session.add(asked)
        session.flush()
        consent_id = asked.id
    waiting = {1: raw_keys("From: bruno@m.test\nTo: aide@club.test\nSubject: Local pour une formation\n"),
               2: raw_keys(f"From: alice@m.test\nTo: aide+k{consent_id}r-{MAC}@club.test\nSubject: Re: Accord\n")}
    with sessions() as session:
        people = people_of(session, waiting, ("aideur@club.test",))
    assert people[f"tok:k{consent_id}"] == f"member:{ids['alice']}"
    assert people[f"{PARTY}tok:k{consent_id}"] == f"member:{ids['bruno']}"
    order = WaitingOrder(waiting, people)
    assert order.blocker(2) == 1
    # And the other way: Bruno's mail after her answer waits for it.
    reverse = {1: waiting[2], 2: waiting[1]}
    assert WaitingOrder(reverse, people).blocker(2) == 1


# --- 5. a mail citing a mail of a ticket: committed (its ticket's member), or waiting (that mail's people) --------

@pytest.mark.parametrize("database_url", ["postgresql", "sqlite"], indirect=True)
def test_a_mail_citing_a_committed_mail_of_a_ticket_keeps_its_order_with_the_tickets_members_mails(ticket_db):
    """Alice's request <Demande.X7@m.test> is committed on her ticket. Bruno answers it, to the club alone: the
    router puts his mail on her ticket by its thread, whoever wrote either (router._thread_ticket). Alice's
    withdrawal through the ticket's address (closing it) came first and is held by another daemon: Bruno's mail cited
    only an id no open mail owns, and went first (his copy notified as on an open request). The cited committed
    mail's ticket member is now his too (people_of: THREAD, the Message-ID compared as stored, a long one hashed as
    the parser stores it; asked every round until found)."""
    from mailbot.coordination import THREAD
    from mailbot.models import InboundMail
    from mailbot.parsers.parse import bounded_id

    sessions, ids = ticket_db
    long_id = "L" * 1200 + "@m.test"
    with sessions.begin() as session:
        session.add_all([InboundMail(message_id=message_id, folder="INBOX", uidvalidity=1, uid=uid, outcome="ticket",
                                     ticket_id=ids["ticket"])
                         for uid, message_id in ((1, "Demande.X7@m.test"), (2, bounded_id(long_id)))])
    withdrawal = raw_keys(f"From: alice@m.test\nTo: aide+t{ids['ticket']}m-{MAC}@club.test\nSubject: Re: Demande\n")
    for cited in ("Demande.X7@m.test", long_id):
        answer = raw_keys("From: bruno@m.test\nTo: aide@club.test\nSubject: RE: Demande\nMessage-ID: <b@m.test>\n"
                          f"In-Reply-To: <{cited}>\n")
        waiting = {1: withdrawal, 2: answer}
        known: dict[str, str] = {}
        with sessions() as session:
            people = people_of(session, waiting, ("aideur@club.test",), known)
        assert people[THREAD + bounded_id(cited)] == f"member:{ids['alice']}"
        assert WaitingOrder(waiting, people).blocker(2) == 1
        assert WaitingOrder(waiting, {}).blocker(2) is None  # (what it lacked)
        assert THREAD + bounded_id(cited) in known  # found once, not asked again this cycle
    unknown = {1: raw_keys("From: bruno@m.test\nTo: aide@club.test\nIn-Reply-To: <pas-encore@m.test>\n")}
    known = {}
    with sessions() as session:
        people_of(session, unknown, ("aideur@club.test",), known)
    assert not any(key.startswith(THREAD) for key in known)  # asked again next round: committed meanwhile?


def test_a_reply_to_a_waiting_mail_takes_on_its_people():
    """Alice's follow-up on her ticket (Cc Bruno) waits in the inbox; Bruno replies to it alone; then Alice withdraws
    through the ticket's address. One daemon: Bruno's copy is on an open ticket, then it closes. Bruno's reply shared
    no key with the withdrawal (it cites the follow-up, which is Alice's): held, the withdrawal went first. A mail
    citing a waiting mail now takes on that mail's people (and theirs), both ways."""
    waiting = {1: raw_keys("From: alice@m.test\nTo: aide@club.test\nCc: bruno@m.test\nSubject: Re: Devis\n"
                           "Message-ID: <Suite@m.test>\n"),
               2: raw_keys("From: bruno@m.test\nTo: aide@club.test\nSubject: Re: Devis\nMessage-ID: <b@m.test>\n"
                           "In-Reply-To: <Suite@m.test>\n"),
               3: raw_keys("From: chloe@m.test\nTo: aide@club.test\nSubject: Re: Devis\nIn-Reply-To: <b@m.test>\n"),
               4: raw_keys(f"From: alice@m.test\nTo: aide+t7m-{MAC}@club.test\nSubject: Plus besoin\n")}
    people = {"from:alice@m.test": "member:1", "tok:t7": "member:1", "from:bruno@m.test": "member:2"}
    order = WaitingOrder(waiting, people)
    assert order.blocker(2) == 1 and order.blocker(3) == 1  # (a reply to Bruno's reply is about Alice's too)
    order.done(1)
    assert order.blocker(4) == 2  # Bruno's reply (about Alice's follow-up) comes first
    order.done(2)
    assert order.blocker(4) == 3  # and a reply to his (through his, hers)
