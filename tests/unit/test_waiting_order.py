"""Which waiting mail must wait for which (coordination.mail_keys, WaitingOrder): the dependency check of the order
across daemons, without servers."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from mailbot.addresses import add_alias
from mailbot.coordination import HEAD_BYTES, STRANGER, MailKeys, WaitingOrder, header_cut, mail_keys, people_of, senders
from mailbot.db import make_engine, make_session_factory
from mailbot.members import upsert_member
from mailbot.parsers import parse_mail
from mailbot.parsers.rules import REFERENCE
from mailbot.tokens import TOKEN_PATTERN


def keys(**fields: str) -> MailKeys:
    names = {"message_id": "Message-ID", "in_reply_to": "In-Reply-To", "references": "References", "from_": "From",
             "subject": "Subject", "to": "To", "cc": "Cc", "delivered_to": "Delivered-To"}
    return mail_keys("".join(f"{names[k]}: {v}\r\n" for k, v in fields.items()).encode() + b"\r\n",
                     ("aide@club.test",))


def test_a_reply_waits_for_the_mail_it_answers_and_nothing_else():
    order = WaitingOrder({
        1: keys(message_id="<a@x>", from_="Alice <alice@m.test>"),
        2: keys(message_id="<b@x>", from_="bruno@m.test"),
        3: keys(message_id="<c@x>", from_="chloe@m.test", in_reply_to="<A@x>"),  # Message-IDs compared folded
        4: keys(message_id="<d@x>", from_="david@m.test", references="<z@x> <b@x>"),
    })
    assert order.blocker(1) is None and order.blocker(2) is None
    assert order.blocker(3) == 1
    assert order.blocker(4) == 2
    order.done(1)
    assert order.blocker(3) is None and order.blocker(4) == 2


def test_same_sender_same_reference_same_token_or_same_message_id_keep_their_order():
    order = WaitingOrder({
        10: keys(message_id="<r@x>", from_="Alice@M.test", subject="Ma demande"),
        11: keys(message_id="<s@x>", from_="alice@m.test", subject="Ma demande (suite)"),  # her second mail
        12: keys(message_id="<t@x>", from_="aideur@club.test", subject="=?utf-8?q?Re=3A_=5BCA-2026-0042=5D?="),
        13: keys(message_id="<u@x>", from_="bruno@m.test", subject="TR: [ca-2026-0042] devis"),
        14: keys(message_id="<v@x>", from_="chloe@m.test", to="aide+t42m-0123456789abcdef0123@club.test"),
        15: keys(message_id="<w@x>", from_="david@m.test", in_reply_to="<t42m-aaaaaaaaaaaaaaaaaaaa.1@club.test>"),
        16: keys(message_id="<r@x>", from_="autre@m.test"),  # a second delivery, whoever it claims to be from
    })
    assert order.blocker(11) == 10
    assert order.blocker(13) == 12  # the same ticket reference, decoded and folded
    assert order.blocker(15) == 14  # the same token: in a reply address or in a thread Message-ID
    assert order.blocker(16) == 10
    assert order.blocker(12) is None and order.blocker(14) is None


def test_a_deferred_or_foreign_mail_keeps_what_depends_on_it_waiting_and_a_committed_one_releases_it():
    order = WaitingOrder({
        1: keys(message_id="<a@x>", from_="alice@m.test"),
        2: keys(message_id="<b@x>", from_="alice@m.test"),
        3: keys(message_id="<c@x>", from_="bruno@m.test", in_reply_to="<b@x>"),
    })
    # 1 held by another daemon: 2 waits, and 3 too — it answers 2, and takes on 2's people (Alice: her earlier mail
    # first, as 2 waits for it).
    assert order.blocker(2) == 1
    assert order.blocker(3) == 1
    order.done(1)  # committed (processed or quarantined) — or gone: not in the next round's WaitingOrder at all
    assert order.blocker(2) is None
    assert WaitingOrder({3: keys(message_id="<c@x>", in_reply_to="<b@x>")}).blocker(3) is None


@pytest.mark.parametrize("field", ["to", "cc"])
def test_the_people_a_mail_copies_and_their_later_mails_keep_their_order(field):
    """Alice writes to the club with her accountant in To or Cc: the router counts him a participant of her ticket
    from then on (router._took_part: his own mail to the club is a copy on it, not a stranger's). His later mail
    waits for hers, whatever it cites (before: only her mail waited for his earlier ones, so his later one, citing
    only the ticket's first mail, overtook hers held by another daemon and was answered as a stranger's). The club's
    own address is nobody's."""
    order = WaitingOrder({
        1: keys(message_id="<a@x>", from_="alice@m.test", **{field: "aide@club.test, Expert <Expert@Cabinet.test>"}),
        2: keys(message_id="<b@x>", from_="expert@cabinet.test", references="<demande@x>"),
        3: keys(message_id="<c@x>", from_="bruno@m.test", to="aide@club.test"),
        4: keys(message_id="<d@x>", from_="chloe@m.test", cc="expert@cabinet.test"),
    })
    assert order.blocker(2) == 1
    assert order.blocker(3) is None  # writing to the club links nobody
    assert order.blocker(4) == 1  # (and copying him too: more order, never less)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_strangers_mails_keep_their_arrival_order_among_themselves(database_url):
    """Aideur hears of each stranger's first mail up to ten an hour, all strangers together (notices.flood_notice):
    one daemon tells him of the first ten in arrival order. A stranger's mail held by another daemon was overtaken by
    the later strangers' (no key in common), and the first to write was the one he never heard of. An address no
    active member and not Aideur has is a stranger's (people_of), and so is a mail naming no sender: those keep
    their order among themselves; a member's mail does not wait for them (nor they for hers)."""
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    try:
        with sessions.begin() as session:
            upsert_member(session, "alice@m.test", first_name="Alice", last_name="Martin")
        waiting = {1: raw_keys("From: inconnu@ailleurs.test\nTo: aide@club.test\nSubject: Renseignement\n"),
                   2: raw_keys("From: alice@m.test\nTo: aide@club.test\nSubject: Devis\n"),
                   3: raw_keys("From: Autre <autre@ailleurs.test>\nTo: aide@club.test\nSubject: Adhésion\n"),
                   4: raw_keys("From: aideur@club.test\nTo: aide@club.test\nSubject: #tickets\n")}
        with sessions() as session:
            people = people_of(session, waiting, ("aideur@club.test",))
        order = WaitingOrder(waiting, people)
        assert order.blocker(2) is None and order.blocker(3) == 1
        order.done(1)
        assert order.blocker(3) is None
        assert not order.stale  # a stranger's mail changes nobody's identity: the round goes on
        assert STRANGER + "from:aideur@club.test" not in people and STRANGER + "from:alice@m.test" not in people
        nameless = {1: raw_keys("To: aide@club.test\nSubject: Formulaire\n"), 2: waiting[2],
                    3: raw_keys("From: autre@ailleurs.test\nTo: aide@club.test\nSubject: Formulaire\n")}
        assert WaitingOrder(nameless, people).blocker(3) == 1
        with sessions.begin() as session:  # a former member is answered as a stranger
            upsert_member(session, "bruno@m.test", first_name="Bruno", last_name="Petit").__getitem__(0).status = \
                "ended"
        former = {1: raw_keys("From: bruno@m.test\nTo: aide@club.test\nSubject: Réadhésion\n"), 2: waiting[3]}
        with sessions() as session:
            people = people_of(session, former, ("aideur@club.test",))
        assert WaitingOrder(former, people).blocker(2) == 1
    finally:
        engine.dispose()


def test_unreadable_headers_name_nobody_and_keep_their_order_among_strangers():
    """A mail naming no sender is a stranger's (it is quarantined or answered as one, and counted with them)."""
    assert mail_keys(b"\xff\xfe not a header \x00") == mail_keys(b"\xff\xfe not a header \x00")
    order = WaitingOrder({1: mail_keys(b""), 2: mail_keys(b"garbage\r\n\r\n"),
                          3: keys(message_id="<a@x>", from_="alice@m.test")})
    assert order.blocker(2) == 1 and order.blocker(3) is None
    assert order.blocker(99) is None  # a UID whose headers were not read (gone meanwhile)


# --- the keys read the headers as the parser and the router do (issue 16, point 1: no other reading may overtake) ---

TOKEN = "aide+t42m-0123456789abcdef0123@club.test"


def raw_keys(header: str | bytes) -> MailKeys:
    data = header.encode() if isinstance(header, str) else header
    return mail_keys(data.replace(b"\n", b"\r\n") + b"\r\n", ("aide@club.test",))


def test_a_sender_is_one_key_however_the_parser_would_write_it():
    """The address the router reads (parsers.headers.sender): IDN domain in either form, raw UTF-8, the name after
    the address, "mailto:", no From but a Sender: one member, one key."""
    first = raw_keys("From: Jo <jo@exemple-\u00e9t\u00e9.fr>\nMessage-ID: <a@x>\n".encode())
    for second in ("From: jo@xn--exemple-t-i4ab.fr\nMessage-ID: <b@x>\n",
                   "From: JO@XN--EXEMPLE-T-I4AB.FR (Jo)\nMessage-ID: <b@x>\n",
                   "From: jo@exemple-\u00e9t\u00e9.fr Jo Martin\nMessage-ID: <b@x>\n",
                   "From: Jo <mailto:jo@exemple-\u00e9t\u00e9.fr>\nMessage-ID: <b@x>\n",
                   "Sender: jo@xn--exemple-t-i4ab.fr\nMessage-ID: <b@x>\n"):
        order = WaitingOrder({1: first, 2: raw_keys(second.encode())})
        assert order.blocker(2) == 1, second


def test_a_subject_reference_the_parser_decodes_is_a_key():
    """Encoded words the tolerant decoder reads (parsers.headers.decode_header) and the standard library does not:
    base64 without its closing "?=", an unknown charset."""
    first = raw_keys("From: aideur@club.test\nSubject: Re: [CA-2026-0001] Devis\n")
    for subject in ("=?UTF-8?B?UmU6IFtDQS0yMDI2LTAwMDFdIERldmlz",
                    "=?x-mac-weird?B?W0NBLTIwMjYtMDAwMV0=?="):
        second = raw_keys(f"From: bruno@m.test\nSubject: {subject}\n")
        assert "ref:CA-2026-0001" in second.cites, subject
        assert WaitingOrder({1: first, 2: second}).blocker(2) == 1


def test_a_token_in_any_delivery_address_the_router_reads_is_a_key():
    """X-Original-To and Envelope-To carry the reply address where To shows the club's plain address (a blind copy,
    a forwarding): the router reads them (router.delivery_token), so do the keys."""
    first = raw_keys(f"From: aideur@club.test\nTo: {TOKEN}\n")
    for name in ("X-Original-To", "Envelope-To", "Delivered-To"):
        second = raw_keys(f"From: chloe@m.test\nTo: aide@club.test\n{name}: {TOKEN}\n")
        assert WaitingOrder({1: first, 2: second}).blocker(2) == 1, name


def test_message_ids_are_read_as_the_parser_reads_them():
    """A bare Message-ID with a comment, a bare References list, an In-Reply-To with a comment, spaces inside the
    brackets: the identifiers the router looks up (parsers.headers.message_ids)."""
    pairs = [("Message-ID: abc@x.test (from Outlook)", "In-Reply-To: <abc@x.test>"),
             ("Message-ID: <abc@x.test>", "References: zzz@x.test abc@x.test"),
             ("Message-ID: <abc@x.test>", "In-Reply-To: abc@x.test (Alice's message of Monday)"),
             ("Message-ID: < abc@x.test >", "In-Reply-To: <abc@x.test>")]
    for own, cites in pairs:
        order = WaitingOrder({1: raw_keys(f"From: alice@m.test\n{own}\n"),
                              2: raw_keys(f"From: bruno@m.test\nMessage-ID: <b@x>\n{cites}\n")})
        assert order.blocker(2) == 1, (own, cites)


def test_a_members_mails_from_any_of_her_addresses_keep_their_order():
    """Issue 13: a member's other addresses are the same person (addresses.member_of_address). The daemon maps each
    sender to its member once per round (`people`); her second mail from another address waits for her first."""
    waiting = {1: raw_keys("From: alice@m.test\nSubject: Devis\nMessage-ID: <a@x>\n"),
               2: raw_keys("From: bruno@m.test\nSubject: Devis\nMessage-ID: <b@x>\n"),
               3: raw_keys("From: Alice Pro <ALICE@pro.test>\nSubject: Devis\nMessage-ID: <c@x>\n")}
    assert WaitingOrder(waiting).blocker(3) is None  # nothing says the two addresses are one person's
    people = {"from:alice@m.test": "member:7", "from:alice@pro.test": "member:7", "from:bruno@m.test": "member:8"}
    assert senders(waiting) == {"alice@m.test", "bruno@m.test", "alice@pro.test"}
    order = WaitingOrder(waiting, people)
    assert order.blocker(3) == 1 and order.blocker(2) is None
    order.done(1)
    assert order.blocker(3) is None


def test_a_mail_to_or_copying_someone_waits_for_their_earlier_mail():
    """The copy rules (router.copy_or_repeat) read the open tickets of the people a mail goes to besides the club:
    a colleague's reply-all that lost its thread headers ("RE: Devis", To the club, Cc the member) is a copy on the
    member's ticket "Devis", which her waiting request opens; Aideur's mail to her with the club in Cc too. The
    club's own addresses (any case, plus tags, its domain) are nobody's mail."""
    clubs = ("aide@club.test", "@club.test", "!aideur@club.test")
    request = mail_keys(b"From: alice@m.test\r\nTo: aide@club.test\r\nCc: paul@client.test\r\nSubject: Devis\r\n"
                        b"Message-ID: <a@x>\r\n\r\n", clubs)
    reply_all = mail_keys(b"From: paul@client.test\r\nTo: Aide+x@Club.test\r\nCc: Alice <ALICE@m.test>\r\n"
                          b"Subject: RE: Devis\r\nMessage-ID: <b@x>\r\n\r\n", clubs)
    aideur = mail_keys(b"From: aideur@club.test\r\nTo: alice@m.test\r\nCc: aide@club.test\r\nSubject: Devis\r\n"
                       b"Message-ID: <c@x>\r\n\r\n", clubs)
    order = WaitingOrder({1: request, 2: reply_all, 3: aideur})
    assert order.blocker(2) == 1 and order.blocker(3) == 1
    assert "from:aide@club.test" not in request.cites | reply_all.cites | aideur.cites
    assert "from:aideur@club.test" in aideur.own  # Aideur is a person: his own mails keep their order
    later = mail_keys(b"From: bruno@m.test\r\nTo: aide@club.test\r\nSubject: Devis\r\n\r\n", clubs)
    assert WaitingOrder({1: aideur, 2: later}).blocker(2) is None  # nobody waits for the club itself


def test_a_head_with_a_blank_line_before_its_header_is_read_as_the_parser_reads_it():
    """The daemon reads the head of a mail the server found no field in (HEAD_BYTES); the parser drops a blank first
    line (parsers.mime.repair_start), so do the keys."""
    head = b"\r\nFrom: alice@m.test\r\nSubject: Devis\r\nMessage-ID: <b@x>\r\n\r\nBonjour,\r\n"
    assert {"from:alice@m.test", "id:b@x"} <= mail_keys(head, head=True).own


def _cut(fields: bytes) -> bytes:
    """A header block as the daemon fetches it (HEAD_BYTES at most) whose `fields` come after 70 KB of Received."""
    filler = b"".join(b"Received: from relay%d.example.test by mx.example.test; Thu, 26 Nov 2026 09:00:00 +0100\r\n"
                      % i for i in range(900))
    return (filler + fields + b"\r\n")[:HEAD_BYTES]


def test_a_header_read_in_part_keeps_its_place_among_all_the_mails():
    """A header longer than the daemon reads (HEAD_BYTES): what lies beyond the cut (here the reply's In-Reply-To,
    a request's Message-ID) is unknown, so the mail waits for every earlier open mail and every later one waits for
    it — its arrival order, whoever it is from and whatever it cites."""
    reply = mail_keys(_cut(b"From: paul@client.test\r\nIn-Reply-To: <a@x>\r\n"), head=True)
    request = mail_keys(_cut(b"From: alice@m.test\r\nMessage-ID: <b@x>\r\n"), head=True)
    assert "id:a@x" not in reply.cites  # beyond the cut: that is why it must wait for all
    order = WaitingOrder({1: keys(message_id="<a@x>", from_="alice@m.test"), 2: reply,
                          3: keys(message_id="<c@x>", from_="bruno@m.test")})
    assert order.blocker(2) == 1 and order.blocker(3) == 2
    order.done(1)
    assert order.blocker(2) is None and order.blocker(3) == 2
    order.done(2)
    assert order.blocker(3) is None
    # A request read in part: a later reply to it (which no key ties to it) still comes after it.
    order = WaitingOrder({5: request, 6: keys(message_id="<d@x>", from_="chloe@m.test", in_reply_to="<b@x>")})
    assert order.blocker(5) is None and order.blocker(6) == 5
    # Unreadable as well as cut: still in its place.
    garbage = mail_keys((b"X-Filler: " + b"\xff" * HEAD_BYTES)[:HEAD_BYTES], head=True)
    assert WaitingOrder({1: keys(message_id="<a@x>"), 2: garbage}).blocker(2) == 1


@pytest.mark.parametrize("scope", ["q", "c", "v", "x", "r"])
def test_a_mail_that_may_change_who_is_who_holds_back_every_later_mail(scope):
    """An answer to a command awaiting Aideur's OUI (q), a mail to his command address (c), an answer to an address
    check (v) or a confirmation (x), a registration (r): it may link an address to a member, so every later mail
    waits for it, and once it is done here the round's mapping of people is stale (the daemon reads it again)."""
    who = keys(message_id="<w@x>", from_="aideur@club.test", to=f"aide+{scope}12a-0123456789abcdef0123@club.test")
    waiting = {1: who, 2: keys(message_id="<a@x>", from_="alias@ailleurs.test"),
               3: keys(message_id="<b@x>", from_="bruno@m.test")}
    order = WaitingOrder(waiting)
    assert order.blocker(1) is None and order.blocker(2) == 1 and order.blocker(3) == 1
    assert not order.stale
    order.done(1)
    assert order.stale and order.blocker(3) is None
    # A reply through a ticket's or an appeal's address changes nobody: it holds back only what it is tied to.
    ticket = keys(message_id="<t@x>", from_="aideur@club.test", to="aide+t12a-0123456789abcdef0123@club.test")
    order = WaitingOrder({1: ticket, 3: keys(message_id="<b@x>", from_="bruno@m.test")})
    assert order.blocker(3) is None
    order.done(1)
    assert not order.stale


def test_a_strict_order_takes_every_mail_after_every_earlier_open_one():
    """When who is who cannot be read (the daemon's fallback), each mail waits for every earlier one still open."""
    waiting = {1: keys(message_id="<a@x>", from_="alice@m.test"), 2: keys(message_id="<b@x>", from_="bruno@m.test"),
               3: keys(message_id="<c@x>", from_="chloe@m.test")}
    assert WaitingOrder(waiting).blocker(3) is None
    order = WaitingOrder(waiting, strict=True)
    assert order.blocker(1) is None and order.blocker(2) == 1 and order.blocker(3) == 1
    order.done(1)
    assert order.blocker(3) == 2


def test_only_a_header_that_may_go_on_beyond_the_bytes_read_is_cut():
    whole = b"From: alice@m.test\r\nSubject: Devis\r\n\r\n"
    assert not header_cut(whole) and not header_cut(whole, head=True)
    assert header_cut(_cut(b"")) and header_cut(_cut(b""), head=True)
    # The first bytes of a mail (a head): its header ends within them, the body fills the rest.
    head = (b"\r\n" + whole + b"x" * HEAD_BYTES)[:HEAD_BYTES]
    assert not header_cut(head, head=True)
    assert "from:alice@m.test" in mail_keys(head, head=True).own and "*cut" not in mail_keys(head, head=True).own


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_each_sender_is_mapped_to_the_person_the_router_sees(database_url):
    """people_of: every address of a member is that member (one query for the round), every address of Aideur's
    (MAILBOT_AIDEUR_ADDRESSES) is Aideur: his two mails from two of his addresses keep their order too."""
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    try:
        with sessions.begin() as session:
            alice, _ = upsert_member(session, "alice@m.test", first_name="Alice", last_name="Martin")
            add_alias(session, alice, "alice@pro.test")
        waiting = {1: raw_keys("From: aideur@club.test\nTo: aide@club.test\nSubject: fermer\n"),
                   2: raw_keys("From: Aideur <AIDEUR@perso.test>\nTo: aide@club.test\nSubject: rouvrir\n"),
                   3: raw_keys("From: alice@pro.test\nTo: aide@club.test\nSubject: Devis\n"),
                   4: raw_keys("From: alice@m.test\nTo: aide@club.test\nSubject: Devis\n"),
                   5: raw_keys("From: bruno@m.test\nTo: aide@club.test\nSubject: Devis\n")}
        with sessions() as session:
            people = people_of(session, waiting, ("aideur@club.test", "aideur@perso.test"))
        assert people["from:alice@pro.test"] == people["from:alice@m.test"] == f"member:{alice.id}"
        assert people["from:aideur@club.test"] == people["from:aideur@perso.test"]
        assert "from:bruno@m.test" not in people
        order = WaitingOrder(waiting, people)
        assert order.blocker(2) == 1
        assert order.blocker(5) == 1  # Aideur's mail may change who is who: every later mail waits for it
        members_only = WaitingOrder({uid: keys for uid, keys in waiting.items() if uid > 2}, people)
        assert members_only.blocker(4) == 3
        assert members_only.blocker(5) is None  # Bruno is no member here: no earlier stranger's mail
    finally:
        engine.dispose()



@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_mail_naming_a_ticket_keeps_its_order_with_the_members_own_mails(database_url):
    """people_of: a ticket's reference and its token stand for its member — the router may put her mail on the
    ticket by its subject or thread alone, so Aideur's "#clore" (token, reference) waits for her earlier mail."""
    from mailbot.models import ResultForm, Ticket

    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    try:
        with sessions.begin() as session:
            alice, _ = upsert_member(session, "alice@m.test", first_name="Alice", last_name="Martin")
            session.flush()
            session.add(Ticket(ref="CA-2026-0007", member_id=alice.id, subject="Devis"))
            session.flush()
            ticket_id = session.scalar(select(Ticket.id))
            bruno, _ = upsert_member(session, "bruno@m.test", first_name="Bruno", last_name="Petit")
            upsert_member(session, "chloe@m.test", first_name="Chloé", last_name="Durand")  # no stranger here
            session.flush()
            form = ResultForm(ticket_id=ticket_id, member_id=bruno.id, role="helper", cause="connection")
            session.add(form)
            session.flush()
            form_id = form.id
        waiting = {1: raw_keys("From: alice@m.test\nTo: aide@club.test\nSubject: Devis\nMessage-ID: <s@m.test>\n"),
                   2: raw_keys(f"From: aideur@club.test\nTo: aide+t{ticket_id}m-0123456789abcdef0123@club.test\n"
                               "Subject: Re: Nouvelle demande\n"),
                   3: raw_keys("From: bruno@m.test\nTo: aide@club.test\nSubject: Re: [ca-2026-0007] devis\n"),
                   4: raw_keys("From: chloe@m.test\nTo: aide@club.test\nSubject: [CA-2026-0999] inconnu\n"),
                   # The helper's answer to the ticket's result form (its token names the form, not the ticket).
                   5: raw_keys(f"From: bruno@m.test\nTo: aide+f{form_id}h-0123456789abcdef0123@club.test\n"
                               "Subject: Re: Votre retour\n")}
        with sessions() as session:
            people = people_of(session, waiting, ("aideur@club.test",))
        assert people["ref:CA-2026-0007"] == people[f"tok:t{ticket_id}"] == f"member:{alice.id}"
        order = WaitingOrder(waiting, people)
        assert order.blocker(2) == 1 and order.blocker(3) == 1  # her mail first, by token or by reference
        assert order.blocker(4) == 2  # Aideur's mail may change who is who: every later mail waits for it
        without_aideur = WaitingOrder({uid: keys for uid, keys in waiting.items() if uid != 2}, people)
        assert without_aideur.blocker(4) is None  # a reference no ticket has: its own key, as before
        assert people[f"tok:f{form_id}"] == f"member:{alice.id}" and order.blocker(5) == 1
    finally:
        engine.dispose()



@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_tickets_member_is_asked_once_a_cycle_the_addresses_every_round(database_url):
    """A stalled daemon runs a round every 0.2 s: the tickets' members found by the cycle's earlier rounds (`known`)
    are not asked again (a ticket's member never changes); a ticket key that named nobody is (a ticket may have been
    opened meanwhile), and so is every address (one may have moved to another member)."""
    from sqlalchemy import event

    from mailbot.models import Ticket

    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    try:
        with sessions.begin() as session:
            alice, _ = upsert_member(session, "alice@m.test", first_name="Alice", last_name="Martin")
        waiting = {1: raw_keys("From: alice@m.test\nSubject: Devis\n"),
                   2: raw_keys("From: aideur@club.test\nSubject: Re: [CA-2026-0009] Devis\n")}
        known: dict[str, str] = {}
        with sessions() as session:
            people = people_of(session, waiting, ("aideur@club.test",), known)
        assert people["from:alice@m.test"] == f"member:{alice.id}" and "ref:CA-2026-0009" not in known
        with sessions.begin() as session:  # her ticket, opened by a mail of an earlier round
            session.add(Ticket(ref="CA-2026-0009", member_id=alice.id, subject="Devis"))
        with sessions() as session:
            people = people_of(session, waiting, ("aideur@club.test",), known)
        assert known["ref:CA-2026-0009"] == people["ref:CA-2026-0009"] == f"member:{alice.id}"
        statements.clear()
        with sessions() as session:
            people = people_of(session, waiting, ("aideur@club.test",), known)
        assert people["ref:CA-2026-0009"] == people["from:alice@m.test"] == f"member:{alice.id}"
        assert not any("tickets" in sql for sql in statements)  # known: not asked again
        assert any("member_addresses" in sql for sql in statements)  # the addresses: every round
    finally:
        engine.dispose()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("move", ["alias-to-another-member", "old-main-address-to-another-member"])
def test_an_address_moved_to_another_member_during_the_cycle_is_that_members_at_the_next_round(database_url, move):
    """A round of the cycle sees a mail from pro@x.test, Alice's (another address of hers, or her main one); a mail of
    that round moves it to Bruno (Aideur's confirmed "#adresse": removed from her, linked to him; or her main
    address changed without keeping it, the old one linked to him). Next round: Bruno's request from pro@x.test
    (held by another daemon), then his follow-up from his main address: the router reads both as Bruno's, so the
    follow-up waits. (A per-cycle cache of the addresses kept pro@x.test as Alice's: the follow-up went first.)"""
    from mailbot.addresses import change_main, member_of_address, remove_alias
    from mailbot.models import Member

    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    try:
        with sessions.begin() as session:
            alice, _ = upsert_member(session, "pro@x.test" if move.startswith("old") else "alice@m.test",
                                     first_name="Alice", last_name="Martin")
            upsert_member(session, "bruno@m.test", first_name="Bruno", last_name="Petit")
            if move.startswith("alias"):
                add_alias(session, alice, "pro@x.test")
        known: dict[str, str] = {}
        with sessions() as session:
            people_of(session, {5: raw_keys("From: pro@x.test\nSubject: Bonjour\nMessage-ID: <r1@x.test>\n")},
                      ("aideur@club.test",), known)
        with sessions.begin() as session:  # what the round's commands did
            alice = session.scalar(select(Member).where(Member.first_name == "Alice"))
            bruno = session.scalar(select(Member).where(Member.email == "bruno@m.test"))
            if move.startswith("alias"):
                remove_alias(session, alice, "pro@x.test")
            else:
                change_main(session, alice, "alice@m.test", keep_old=False)
            session.flush()
            add_alias(session, bruno, "pro@x.test")
            bruno_id = bruno.id
        with sessions() as session:
            assert member_of_address(session, "pro@x.test").id == bruno_id  # what the router reads now
        later = {10: raw_keys("From: pro@x.test\nSubject: Devis\nMessage-ID: <a@x.test>\n"),
                 11: raw_keys("From: bruno@m.test\nSubject: Devis\nMessage-ID: <b@m.test>\n")}
        with sessions() as session:
            people = people_of(session, later, ("aideur@club.test",), known)
        assert WaitingOrder(later, people).blocker(11) == 10, people
    finally:
        engine.dispose()

PARITY_MAILS = [
    ("From: Jo <jo@xn--exemple-t-i4ab.fr>\nTo: aide@club.test\nSubject: =?UTF-8?B?UmU6IFtDQS0yMDI2LTAwMDFdIERldmlz\n"
     "Message-ID: abc@x.test (Outlook)\nIn-Reply-To: zzz@x.test (message of Monday)\nReferences: y1@x.test y2@x.test\n"),
    ("Sender: Alice <ALICE@M.test>\nTo: aide@club.test\nX-Original-To: aide+t42m-0123456789abcdef0123@club.test\n"
     "Subject: =?x-weird?q?[CA-2026-0002]?=\nMessage-ID: < sp@x.test >\n"),
    ("From: alice@m.test Alice Martin\nTo: Aide <mailto:aide@club.test>\nCc: bruno@m.test\n"
     "Envelope-To: aide+w7a-0123456789abcdef0123@club.test\nSubject: TR: [ca-2026-0003] et\n [CA-2026-0004]\n"
     "Message-ID: <UPPER@X.test>\nReferences: <t9m-aaaaaaaaaaaaaaaaaaaa.1@club.test>\n\t<other@x.test>\n"),
    ("From: a@b.test, c@d.test\nSender: c@d.test\nReply-To: e@f.test\nDelivered-To: aide@club.test\n"
     "Subject: Re: =?utf-8?q?Re=3A_=5BCA-20?= =?utf-8?q?26-0005=5D?=\nIn-Reply-To: <q@x.test>\n"),
    # The thread headers first (a webmail's order, appended without the fields a delivery adds).
    ("References: <r1@x.test> <r2@x.test>\nIn-Reply-To: <r2@x.test>\nFrom: paul@client.test\nTo: aide@club.test\n"
     "Subject: Re: [CA-2026-0006]\nMessage-ID: <first-refs@x.test>\n"),
    ("Envelope-To: aide+w7a-0123456789abcdef0123@club.test\nFrom: paul@client.test\nSubject: ok\n"),
    # A bare CR ends a field for the parser (not for an IMAP server): the keys read the header as the parser does.
    ("From: paul@client.test\nTo: aide@club.test\nX-Note: relu\rIn-Reply-To: <cr@x.test>\nSubject: Devis\n"),
]


@pytest.mark.parametrize("header", PARITY_MAILS)
def test_the_keys_hold_everything_the_router_reads_of_the_fetched_fields(header):
    """Parity with the parser (whose InboundMail the router reads): its sender, Message-ID, cited Message-IDs,
    subject references and tokens are all keys, from what the daemon fetches alone: the header as received
    (IMAP BODY[HEADER], up to the blank line)."""
    raw = header.replace("\n", "\r\n").encode() + b"\r\nBonjour\r\n"
    mail = parse_mail(raw)
    keys = mail_keys(raw.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n", ("aide@club.test",), head=True)
    if mail.from_address:
        assert "from:" + mail.from_address in keys.own
    if not mail.message_id.endswith("@mailbot.invalid"):
        assert "id:" + mail.message_id.lower() in keys.own
    assert {"id:" + i.lower() for i in (*mail.in_reply_to, *mail.references)} <= keys.cites
    assert {"ref:" + m.group(1).upper() for m in REFERENCE.finditer(mail.subject)} <= keys.own
    places = (*mail.delivered_to, *mail.to, *mail.cc, *mail.in_reply_to, *mail.references)
    assert {f"tok:{m.group(1).lower()}{int(m.group(2))}" for p in places for m in TOKEN_PATTERN.finditer(p)} \
        <= keys.own
