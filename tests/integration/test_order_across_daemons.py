"""Order across daemons (issue 16, point 1): a mail is handled after the earlier mails it depends on, whatever the
number of daemons.

One mailbox of generated French mails (requests; replies, forwards and second deliveries of a request, a few mails
after it; a member's second mail on the same subject right after the first), run through 1, 2, 3 and 4
`mailbot run --once` processes started at once on one PostgreSQL database, and once more with one of three daemons
SIGKILLed in the middle (then a restart). Each run must give the same tickets, the same threads (which mails are on
which ticket), the same outcomes and the same mails in every mailbox, modulo what legitimately varies: Message-IDs,
tokens, ticket numbers (numbered in commit order) and dates.
"""
from __future__ import annotations

import random
import re
import threading
import time
import uuid
from collections import Counter
from email.header import decode_header, make_header
from email.message import Message

import pytest
import sqlalchemy
from imap_tools import MailBoxUnencrypted
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from mailbot import daemon as daemon_module
from mailbot.coordination import HEAD_BYTES, MailClaims
from mailbot.db import make_engine, make_session_factory
from mailbot.mailbox import Mailbox
from mailbot.members import upsert_member
from mailbot.models import InboundMail, Member, OutboxMail, Ticket
from mailbot.parsers import parse_mail
from mailbot.parsers.rules import REFERENCE
from mailbot.tokens import TOKEN_PATTERN
from tests.conftest import POSTGRES_ADMIN_URL, make_env
from tests.helpers import (
    AIDEUR,
    ALICE,
    CLUB,
    MEMBERS,
    PASSWORD,
    add_members,
    append,
    cycle_while_held,
    make_mail,
    run_cycle,
    wait_mail,
)
from tests.integration.aideur_clients import confirmation_requests, reply_to_notification
from tests.integration.daemon_process import DaemonProcess, wait_until

POSTGRES_ONLY = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
AT = "2026-11-26T11:00:00"  # every run decides at the same instant: the same promised dates
FIRST_NAMES = ("Alice", "Bruno", "Chloé", "David", "Émilie", "Farid", "Gaëlle", "Hugo", "Inès", "Jules", "Karima",
               "Louis", "Manon", "Nicolas", "Océane", "Paul", "Quentin", "Rose", "Samuel", "Théo")
TOPICS = ("un conseil en comptabilité pour ma première clôture", "un avocat en droit du travail",
          "un maçon pour une extension", "une aide pour mon dossier de subvention", "un graphiste pour mon logo",
          "un expert en fiscalité des associations", "un électricien disponible en décembre",
          "un traducteur pour un contrat en anglais", "un conseil pour recruter mon premier salarié",
          "un contact à la chambre de commerce")
REQUESTS = 48
BATCH = "3"  # small batches: the daemons take turns on the mailbox, as a big mailbox would make them


def _members() -> list[tuple[str, str]]:
    """(address, first name): plus addresses of the test server's three member mailboxes (each its own member)."""
    people = []
    for number, first in enumerate(FIRST_NAMES):
        local, domain = MEMBERS[number % len(MEMBERS)].split("@")
        people.append((f"{local}+m{number:02d}@{domain}", first))
    return people


def _mailbox() -> list[bytes]:
    """The inbox, in arrival order: each reply, forward, duplicate or same-subject second mail comes 1 to 5 mails
    after the request it depends on (the request is earlier in the mailbox, as in the issue's measure)."""
    rng = random.Random(16)
    people = _members()
    arrivals: list[tuple[float, bytes]] = []
    for number in range(REQUESTS):
        sender, first = people[number % len(people)]
        topic = TOPICS[number % len(TOPICS)]
        subject = f"Recherche : {topic} ({number})"
        request = make_mail(sender, subject, f"Bonjour,\n\nJe cherche {topic}. C'est assez urgent pour moi.\n\n"
                                             f"Merci d'avance,\n{first}\n",
                            message_id=f"<demande-{number}@membres.test>")
        arrivals.append((number, request.as_bytes()))
        later = number + rng.uniform(0.5, 4.5)
        kind = number % 4
        if kind == 0:  # a reply to their own request (In-Reply-To/References)
            reply = make_mail(sender, f"Re: {subject}", f"Bonjour,\n\nJe précise : il me faudrait une réponse "
                                                        f"avant la fin du mois.\n\n{first}\n",
                              message_id=f"<reponse-{number}@membres.test>",
                              In_Reply_To=f"<demande-{number}@membres.test>",
                              References=f"<demande-{number}@membres.test>")
            arrivals.append((later, reply.as_bytes()))
        elif kind == 1:  # the same request forwarded again by its author, quoting it
            forward = make_mail(sender, f"TR: {subject}",
                                f"Bonjour,\n\nJe vous renvoie ma demande, au cas où.\n\n{first}\n\n"
                                f"-------- Message transféré --------\nDe : {sender}\nÀ : {CLUB}\n"
                                f"Objet : {subject}\n\nBonjour,\n\nJe cherche {topic}.\n",
                                message_id=f"<transfert-{number}@membres.test>",
                                References=f"<demande-{number}@membres.test>")
            arrivals.append((later, forward.as_bytes()))
        elif kind == 2:  # a second delivery of the same request (same Message-ID, same content)
            arrivals.append((later, request.as_bytes()))
        else:  # a second mail on the same subject, without thread headers (a follow-up, not a new request)
            follow = make_mail(sender, subject, f"Bonjour,\n\nJ'oubliais : je suis joignable le matin.\n\n{first}\n",
                               message_id=f"<suite-{number}@membres.test>")
            arrivals.append((later, follow.as_bytes()))
    return [raw for _, raw in sorted(arrivals, key=lambda item: item[0])]


# --- one run ---------------------------------------------------------------------------------------------------------


def _database(template: str) -> str:
    name = f"mailbot_order_{uuid.uuid4().hex[:12]}"
    admin = sqlalchemy.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sqlalchemy.text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    admin.dispose()
    return make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def _drop(url: str) -> None:
    admin = sqlalchemy.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def _load(server, mails: list[bytes]) -> None:  # type: ignore[no-untyped-def]
    with MailBoxUnencrypted(server.imap_host, server.imap_port).login(CLUB, PASSWORD) as box:
        for raw in mails:
            box.append(raw, "INBOX")


def _inbox(server) -> int:  # type: ignore[no-untyped-def]
    with MailBoxUnencrypted(server.imap_host, server.imap_port).login(CLUB, PASSWORD, initial_folder=None) as box:
        return int(box.folder.status("INBOX", ["MESSAGES"])["MESSAGES"])


def _run(server, template: str, mails: list[bytes], daemons: int, kill: bool) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """The mailbox through `daemons` processes started at once (one SIGKILLed in the middle if `kill`, then a
    restart), then what the run decided and sent, normalised."""
    server.wipe_mailboxes()
    url = _database(template)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    try:
        with sessions.begin() as session:
            for address, first in _members():
                upsert_member(session, address, first_name=first, last_name="Membre")
        _load(server, mails)
        env = make_env(server, url, MAILBOT_BATCH_SIZE=BATCH, MAILBOT_RATE_LIMIT_PER_HOUR="100000")
        processes = [DaemonProcess(env, "run", "--once", "--at", AT) for _ in range(daemons)]
        begun = time.monotonic()
        for process in processes:
            process.start()
        if kill:
            def started() -> bool:
                with sessions() as session:
                    return (session.scalar(select(func.count(InboundMail.id))) or 0) >= len(mails) // 4
            assert wait_until(started, timeout=60, interval=0.02)
            processes[0].kill()
        for process in processes[kill:]:
            assert process.process is not None
            assert process.process.wait(120) == 0, process.output()
        print(f"  processes done at {time.monotonic() - begun:.1f} s")
        # Whatever a dead daemon left, and whatever waited on it: the next start handles it, in order.
        for _ in range(3):
            if not _inbox(server):
                break
            restart = DaemonProcess(env).run_once_at(AT)
            assert restart.returncode == 0, restart.stderr.decode()[-3000:]
        assert _inbox(server) == 0
        for process in processes:
            process.log.unlink(missing_ok=True)
        return _snapshot(server, sessions)
    finally:
        engine.dispose()
        _drop(url)


# --- what a run decided and sent, modulo what legitimately varies ----------------------------------------------------

_OUR_ID = re.compile(r"<?((?:demande|reponse|transfert|suite)-\d+@membres\.test)>?")
_ANY_ID = re.compile(r"<[^<>\s]+@[^<>\s]+>")
_DATE = re.compile(r"\b\d{1,2}[:h]\d{2}\b")


def _normal(text: str) -> str:
    """Tokens, ticket references and Message-IDs that are not the test's own vary from run to run: masked."""
    text = _ANY_ID.sub(lambda m: m.group(0) if _OUR_ID.fullmatch(m.group(0)) else "<id>", text)
    text = TOKEN_PATTERN.sub("<jeton>", text)
    text = REFERENCE.sub("<réf>", text)
    return " ".join(text.split())


def _body(message: Message) -> str:
    parts = [part for part in message.walk() if part.get_content_type() == "text/plain"]
    payload = parts[0].get_payload(decode=True) if parts else b""
    return payload.decode(parts[0].get_content_charset() or "utf-8", "replace") if parts else ""


def _header(message: Message, name: str) -> str:
    return str(make_header(decode_header(str(message.get(name, "")))))


def _snapshot(server, sessions) -> dict[str, object]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        outboxed = Counter(session.scalars(select(OutboxMail.recipient)))
        assert session.scalar(select(func.count(OutboxMail.id)).where(OutboxMail.status != "sent")) == 0
        outcomes = sorted(tuple(row) for row in session.execute(select(InboundMail.message_id, InboundMail.outcome)))
        threads = sorted(
            (ticket.status, ticket.member.email if ticket.member else "", _normal(ticket.subject),
             tuple(sorted(session.scalars(select(InboundMail.message_id).where(InboundMail.ticket_id == ticket.id)))))
            for ticket in session.scalars(select(Ticket)))
    boxes = {}
    for address in (*MEMBERS, AIDEUR):
        want = sum(n for recipient, n in outboxed.items()
                   if recipient.split("@")[1] == address.split("@")[1]
                   and recipient.split("@")[0].split("+")[0] == address.split("@")[0])

        def read(address: str = address) -> dict[str, tuple[str, ...]]:
            with MailBoxUnencrypted(server.imap_host, server.imap_port).login(address, PASSWORD) as box:
                # A mail sent again after a kill (interrupted between SMTP's answer and its record) keeps its
                # Message-ID: counted once.
                return {m.headers.get("message-id", ("",))[0]: (
                    _normal(_header(m.obj, "To")), _normal(_header(m.obj, "Subject")),
                    _normal(_header(m.obj, "In-Reply-To")), _normal(_body(m.obj)))
                    for m in box.fetch(mark_seen=False, bulk=True)}

        assert wait_until(lambda read=read, want=want: len(read()) >= want, timeout=60, interval=0.5), address
        boxes[address] = sorted(read().values())
    return {"tickets": threads, "outcomes": outcomes, "mailboxes": boxes}


@pytest.mark.slow
def test_replies_follow_ups_forwards_and_duplicates_wait_for_their_request_whatever_the_daemons(
        clean_mail, postgres_template):
    if postgres_template is None:
        pytest.skip("PostgreSQL not reachable")
    mails = _mailbox()
    started = time.monotonic()
    reference = _run(clean_mail, postgres_template, mails, daemons=1, kill=False)
    tickets = reference["tickets"]
    assert isinstance(tickets, list) and len(tickets) == REQUESTS  # one ticket per request, nothing else opens one
    assert all(len(mail_ids) >= 1 for *_, mail_ids in tickets)
    for daemons, kill in ((2, False), (3, False), (4, False), (3, True)):
        begun = time.monotonic()
        got = _run(clean_mail, postgres_template, mails, daemons=daemons, kill=kill)
        print(f"{daemons} daemon(s){', one killed' if kill else ''}: {time.monotonic() - begun:.1f} s")
        for part in ("tickets", "outcomes", "mailboxes"):
            if got[part] != reference[part]:
                print(_difference(reference[part], got[part]))
            assert got[part] == reference[part], (daemons, kill, part, _difference(reference[part], got[part]))
    print(f"5 runs in {time.monotonic() - started:.0f} s")


def _difference(expected: object, got: object) -> str:
    if isinstance(expected, dict) and isinstance(got, dict):
        return "; ".join(f"{key}: {_difference(expected[key], got.get(key))}" for key in expected
                         if expected[key] != got.get(key))
    if isinstance(expected, list) and isinstance(got, list):
        return (f"missing {[item for item in expected if item not in got][:2]}, "
                f"extra {[item for item in got if item not in expected][:2]}")
    return f"{expected!r} != {got!r}"


# --- one dependency at a time (one daemon in this process, another one's claim held by the test) ---------------------


def _three_mails(server, request: bytes) -> int:  # type: ignore[no-untyped-def]
    """The request (UID n), its author's reply to it (n+1), an unrelated mail (n+2); returns n."""
    append(server, CLUB, request)
    append(server, CLUB, make_mail(ALICE, "Re: Licenciement", "Bonjour,\n\nJe précise : c'est urgent.\n",
                                   message_id="<reponse@membres.test>", In_Reply_To="<demande@membres.test>",
                                   References="<demande@membres.test>").as_bytes())
    append(server, CLUB, make_mail(MEMBERS[2], "Recherche d'un comptable", "Bonjour,\n\nJe cherche un "
                                   "comptable.\n", message_id="<autre@membres.test>").as_bytes())
    box = Mailbox(server_settings(server), "INBOX")
    box.connect()
    try:
        return box.sizes()[0][0]
    finally:
        box.close()


def server_settings(server):  # type: ignore[no-untyped-def]
    from mailbot.config import load_settings
    return load_settings(make_env(server, "sqlite:///unused.db"), env_file=None).imap


def _outcomes(sessions) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return dict(session.execute(select(InboundMail.message_id, InboundMail.outcome)).all())


@POSTGRES_ONLY
def test_a_reply_waits_while_another_daemon_holds_its_request_then_follows_it(clean_mail, settings, sessions,
                                                                             monkeypatch):
    """Another daemon holds the request (its claim): the reply is left in the inbox, the unrelated mail goes on;
    once the request is free again, the same cycle handles it, then the reply, on the request's ticket."""
    add_members(sessions)
    request = make_mail(ALICE, "Licenciement", "Bonjour,\n\nUne question de droit du travail.\n",
                        message_id="<demande@membres.test>").as_bytes()
    reply = make_mail(ALICE, "Re: Licenciement", "Bonjour,\n\nJe précise : c'est urgent.\n",
                      message_id="<reponse@membres.test>", In_Reply_To="<demande@membres.test>",
                      References="<demande@membres.test>").as_bytes()
    _second_waits_for_held_first(clean_mail, settings, sessions, monkeypatch, request, reply)
    outcomes = _outcomes(sessions)
    assert outcomes["demande@membres.test"] == "new-request"
    assert outcomes["reponse@membres.test"] != "new-request"
    with sessions() as session:
        tickets = dict(session.execute(select(InboundMail.message_id, InboundMail.ticket_id)).all())
        assert session.scalar(select(func.count(Ticket.id))) == 2
    assert tickets["reponse@membres.test"] == tickets["demande@membres.test"]


@POSTGRES_ONLY
def test_a_request_held_too_long_defers_its_reply_to_the_next_cycle_and_a_quarantined_one_releases_it(
        clean_mail, settings, sessions, monkeypatch):
    """Bounded waiting: a daemon that cannot get the earlier mail gives up after DEFER_WAIT_SECONDS and leaves the
    reply in the inbox (the cycle ends); the earlier mail, once free, is quarantined (an unreadable sender): the
    reply waits no more, it is handled at the next cycle."""
    add_members(sessions)
    monkeypatch.setattr(daemon_module, "DEFER_PAUSE_SECONDS", 0.05)
    monkeypatch.setattr(daemon_module, "DEFER_WAIT_SECONDS", 0.3)
    request = (b"From: alice@membres.test, bruno@membres.test\r\nTo: aide@club.test\r\nSubject: Licenciement\r\n"
               b"Message-ID: <demande@membres.test>\r\n\r\nBonjour,\r\n\r\nUne question.\r\n")
    first = _three_mails(clean_mail, request)
    box = Mailbox(settings.imap, "INBOX")
    box.connect()
    uidvalidity = box.uidvalidity
    box.close()
    with MailClaims(sessions.kw["bind"]).hold("INBOX", uidvalidity, [first]) as held:
        assert held == [first]
        report = run_cycle(settings, sessions)
    assert report.processed == 1 and report.deferred == 1
    assert set(_outcomes(sessions)) == {"autre@membres.test"}
    report = run_cycle(settings, sessions)
    assert report.quarantined == 1 and report.processed == 1 and report.deferred == 0
    outcomes = _outcomes(sessions)
    assert outcomes["demande@membres.test"] == "quarantined"
    assert outcomes["reponse@membres.test"] != "quarantined"


# --- the same dependencies, written as the router reads them and the keys must too ------------------------------------

ALICE_PRO = "alice.pro@ailleurs.test"
JO_IDN = "jo@exemple-\u00e9t\u00e9.fr"  # registered in its Unicode form; xn--exemple-t-i4ab.fr in punycode


def _second_waits_for_held_first(server, settings, sessions, monkeypatch, first: bytes,  # type: ignore[no-untyped-def]
                                 second: bytes, *, all_wait: bool = False) -> dict[str, str]:
    """`first` (UID n) held by another daemon's claim, `second` (n+1) after it, an unrelated mail (n+2): while
    `first` is held only the unrelated mail is handled (`all_wait`: nothing is, as `first` may change who is who);
    once it is free, the same cycle handles `first`, then `second`. Returns the outcomes by Message-ID."""
    monkeypatch.setattr(daemon_module, "DEFER_PAUSE_SECONDS", 0.05)
    before = set(_outcomes(sessions))  # mails handled earlier in the test
    append(server, CLUB, first)
    append(server, CLUB, second)
    append(server, CLUB, make_mail(MEMBERS[2], "Recherche d'un comptable", "Bonjour,\n\nJe cherche un "
                                   "comptable.\n", message_id="<autre@membres.test>").as_bytes())
    box = Mailbox(settings.imap, "INBOX")
    box.connect()
    uidvalidity, uid = box.uidvalidity, box.sizes()[0][0]
    box.close()
    hold = MailClaims(sessions.kw["bind"]).hold("INBOX", uidvalidity, [uid])
    assert hold.__enter__() == [uid]  # the other daemon's claim
    result: dict[str, object] = {}
    worker = threading.Thread(target=lambda: result.update(report=run_cycle(settings, sessions)))
    worker.start()
    try:
        if all_wait:
            time.sleep(2.0)  # the cycle's rounds come and go
        else:
            assert wait_until(lambda: "autre@membres.test" in _outcomes(sessions), timeout=15)
            time.sleep(0.5)
        # The second mail waits for the first.
        assert set(_outcomes(sessions)) - before == (set() if all_wait else {"autre@membres.test"})
    finally:
        hold.__exit__(None, None, None)
    worker.join(30)
    report = result["report"]
    assert report.processed == 3 and report.deferred == 0  # type: ignore[attr-defined]
    return _outcomes(sessions)


def _tickets(sessions) -> dict[str, int | None]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return dict(session.execute(select(InboundMail.message_id, InboundMail.ticket_id)).all())


def _request_and_follow_up(first_sender: str, second_sender: str) -> tuple[bytes, bytes]:
    request = (f"From: {first_sender}\r\nTo: {CLUB}\r\nSubject: Devis pour une toiture\r\n"
               "Message-ID: <demande@membres.test>\r\nDate: Thu, 26 Nov 2026 09:00:00 +0100\r\n"
               "Content-Type: text/plain; charset=utf-8\r\n\r\nBonjour,\r\n\r\nJe cherche un couvreur.\r\n")
    follow = (f"From: {second_sender}\r\nTo: {CLUB}\r\nSubject: Devis pour une toiture\r\n"
              "Message-ID: <suite@membres.test>\r\nDate: Thu, 26 Nov 2026 09:05:00 +0100\r\n"
              "Content-Type: text/plain; charset=utf-8\r\n\r\nBonjour,\r\n\r\nJ'oubliais : c'est urgent.\r\n")
    return request.encode(), follow.encode()


@POSTGRES_ONLY
@pytest.mark.parametrize(("first_sender", "second_sender"), [
    (ALICE, f"Alice Martin <{ALICE_PRO}>"),  # her other address (issue 13)
    (f"Alice Martin <{ALICE_PRO}>", f"<{ALICE.upper()}>"),  # and back, in capitals
    (JO_IDN, "jo@xn--exemple-t-i4ab.fr"),  # one IDN domain, Unicode then punycode
])
def test_a_members_second_mail_from_another_of_her_addresses_waits_for_her_first(
        clean_mail, settings, sessions, monkeypatch, first_sender, second_sender):
    """A member's second mail on the subject of her request, from another of her addresses (or another spelling of
    hers) while another daemon holds the request: it waits, then follows the request up; one ticket, as one daemon
    makes it."""
    from mailbot.addresses import add_alias

    add_members(sessions)
    with sessions.begin() as session:
        alice = session.scalar(select(Member).where(Member.email == ALICE))
        add_alias(session, alice, ALICE_PRO)
        upsert_member(session, JO_IDN, first_name="Jo", last_name="Durand")
    outcomes = _second_waits_for_held_first(clean_mail, settings, sessions, monkeypatch,
                                            *_request_and_follow_up(first_sender, second_sender))
    assert outcomes["demande@membres.test"] == "new-request"
    assert outcomes["suite@membres.test"] == "follow-up"
    tickets = _tickets(sessions)
    assert tickets["suite@membres.test"] == tickets["demande@membres.test"] is not None


@POSTGRES_ONLY
def test_a_colleagues_reply_all_without_thread_headers_waits_for_the_request_it_copies(
        clean_mail, settings, sessions, monkeypatch):
    """Alice's request copies a colleague; his "RE:" to the club and to her lost its thread headers (router's
    copy rule: the subject of the open ticket of someone it goes to). While another daemon holds her request it
    waits; then it goes on her ticket as a copy, never a stranger's mail of its own (an invitation to register)."""
    add_members(sessions)
    colleague = "paul@client.test"
    request = (f"From: {ALICE}\r\nTo: {CLUB}\r\nCc: {colleague}\r\nSubject: Devis pour une toiture\r\n"
               "Message-ID: <demande@membres.test>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
               "Bonjour,\r\n\r\nJe cherche un couvreur pour mon client Paul, en copie.\r\n").encode()
    reply_all = (f"From: Paul Client <{colleague}>\r\nTo: {CLUB}\r\nCc: Alice Martin <{ALICE}>\r\n"
                 "Subject: RE: Devis pour une toiture\r\nMessage-ID: <copie@client.test>\r\n"
                 "Content-Type: text/plain; charset=utf-8\r\n\r\nBonjour,\r\n\r\nLa toiture fait 120 m2.\r\n").encode()
    outcomes = _second_waits_for_held_first(clean_mail, settings, sessions, monkeypatch, request, reply_all)
    assert outcomes["demande@membres.test"] == "new-request"
    assert outcomes["copie@client.test"] == "copy"
    tickets = _tickets(sessions)
    assert tickets["copie@client.test"] == tickets["demande@membres.test"] is not None


@POSTGRES_ONLY
def test_a_second_mail_whose_header_begins_after_a_blank_line_waits_too(clean_mail, settings, sessions, monkeypatch):
    """A mail beginning with a blank line (some exporters write one): the parser drops it and reads the header
    (mime.repair_start), where the server sees a mail without header fields. Its keys are read from its head as
    the parser reads it: the member's second mail still waits for her first."""
    add_members(sessions)
    request, follow = _request_and_follow_up(ALICE, ALICE)
    outcomes = _second_waits_for_held_first(clean_mail, settings, sessions, monkeypatch, request, b"\r\n" + follow)
    assert outcomes["demande@membres.test"] == "new-request"
    assert outcomes["suite@membres.test"] == "follow-up"


def _request_and_reply(reply_header: str) -> tuple[bytes, bytes]:
    """Alice's request, and a reply to it from someone who is not a member (so only its thread headers tie it to
    the request: it must still come after it) whose header is `reply_header` ({request}: the request's
    Message-ID)."""
    request = (f"From: {ALICE}\r\nTo: {CLUB}\r\nSubject: Devis pour une toiture\r\n"
               "Message-ID: <demande@membres.test>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
               "Bonjour,\r\n\r\nJe cherche un couvreur.\r\n").encode()
    reply = (reply_header.format(request="<demande@membres.test>") +
             "Content-Type: text/plain; charset=utf-8\r\n\r\nBonjour,\r\n\r\nJe peux aider pour la toiture.\r\n")
    return request, reply.encode()


@POSTGRES_ONLY
@pytest.mark.parametrize("reply_header", [
    # As a webmail writes it, appended without the fields a delivery adds: the thread headers come first.
    "References: {request}\r\nIn-Reply-To: {request}\r\nFrom: Paul Client <paul@client.test>\r\nTo: " + CLUB +
    "\r\nSubject: Re: Devis pour une toiture\r\nMessage-ID: <reponse@client.test>\r\n",
    # A bare CR: the parser ends a field there, the IMAP server does not (its In-Reply-To is inside X-Note).
    "From: Paul Client <paul@client.test>\r\nTo: " + CLUB + "\r\nX-Note: relu\rIn-Reply-To: {request}\r\n"
    "Subject: Devis pour une toiture\r\nMessage-ID: <reponse@client.test>\r\n",
], ids=["thread-headers-first", "bare-cr"])
def test_a_reply_read_as_the_parser_reads_its_header_waits_for_its_request(
        clean_mail, settings, sessions, monkeypatch, reply_header):
    """The keys are read from the header as received, by the parser's functions — not from the fields as the IMAP
    server splits them: a reply whose thread headers the server shows differently still waits for its request."""
    add_members(sessions)
    parsed = parse_mail(_request_and_reply(reply_header)[1])
    assert parsed.in_reply_to == ("demande@membres.test",)  # what the router will read
    outcomes = _second_waits_for_held_first(clean_mail, settings, sessions, monkeypatch,
                                            *_request_and_reply(reply_header))
    assert outcomes["demande@membres.test"] == "new-request"
    assert outcomes["reponse@client.test"] == "non-member"  # as one daemon makes it: the order was all at stake


SUBJECT_2 = "Devis pour une toiture"
REQUEST = (f"From: {ALICE}\r\nTo: {CLUB}\r\nSubject: {SUBJECT_2}\r\nMessage-ID: <demande@membres.test>\r\n"
           "Date: Thu, 26 Nov 2026 09:00:00 +0100\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
           "Bonjour,\r\n\r\nJe cherche un couvreur.\r\n").encode()
FOLLOW_UP = (f"From: {ALICE}\r\nTo: {CLUB}\r\nSubject: {SUBJECT_2}\r\nMessage-ID: <suite@membres.test>\r\n"
             "Date: Thu, 26 Nov 2026 09:05:00 +0100\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
             "Bonjour,\r\n\r\nJ'oubliais : c'est urgent, il pleut dans le salon.\r\n").encode()
OWN_REPLY = (f"From: {ALICE}\r\nTo: {CLUB}\r\nSubject: Re: {SUBJECT_2}\r\nMessage-ID: <suite@membres.test>\r\n"
             "In-Reply-To: <demande@membres.test>\r\nReferences: <demande@membres.test>\r\n"
             "Date: Thu, 26 Nov 2026 09:05:00 +0100\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
             "Bonjour,\r\n\r\nJ'oubliais : c'est urgent, il pleut dans le salon.\r\n").encode()
TRACE = "".join(f"X-Relay-Trace: hop {i} via relay{i}.example.test, checked and passed on, 26 Nov 2026\r\n"
                for i in range(900))  # 70 KB of header before the fields that tie the mail to the request


@POSTGRES_ONLY
@pytest.mark.parametrize("second", ["reply", "follow-up", "mbox-separator", "banner"])
def test_a_mail_whose_header_goes_on_beyond_the_bytes_read_keeps_its_arrival_order(
        clean_mail, settings, sessions, monkeypatch, second):
    """A header longer than the daemon reads of it (HEAD_BYTES, 64 KB: here 70 KB of trace fields before a reply's
    In-Reply-To, or before the From of Alice's second mail): what it cites is unknown, so it waits for every
    earlier mail still open, and what follows it waits for it — while the request is held elsewhere nothing after
    it is handled; then all, in arrival order."""
    add_members(sessions)
    monkeypatch.setattr(daemon_module, "DEFER_PAUSE_SECONDS", 0.05)
    if second == "reply":
        request, later = _request_and_reply(TRACE + f"From: Paul Client <paul@client.test>\r\nTo: {CLUB}\r\n"
                                            "In-Reply-To: {request}\r\nSubject: Devis pour une toiture\r\n"
                                            "Message-ID: <reponse@client.test>\r\n")
        later_id, later_outcome = "reponse@client.test", "non-member"
        assert parse_mail(later).in_reply_to == ("demande@membres.test",)  # what the router will read
    else:  # Alice's follow-up; or the same after a stray line then a blank one, which the parser drops too
        prefix = {"mbox-separator": b"From alice@membres.test Thu Nov 26 09:05:00 2026\r\n\r\n",
                  "banner": b"Exported by MailArchiver 2.1\r\n\r\n"}.get(second, b"")
        request, later = REQUEST, prefix + TRACE.encode() + FOLLOW_UP
        later_id, later_outcome = "suite@membres.test", "follow-up"
        assert parse_mail(later).from_address == ALICE
    assert len(later.split(b"\r\n\r\n")[1 if second in ("mbox-separator", "banner") else 0]) > HEAD_BYTES
    for mail in (request, later, make_mail(MEMBERS[2], "Recherche d'un comptable", "Bonjour,\n\nJe cherche un "
                                           "comptable.\n", message_id="<autre@membres.test>").as_bytes()):
        append(clean_mail, CLUB, mail)
    box = Mailbox(settings.imap, "INBOX")
    box.connect()
    uidvalidity, uid = box.uidvalidity, box.sizes()[0][0]
    box.close()
    hold = MailClaims(sessions.kw["bind"]).hold("INBOX", uidvalidity, [uid])
    assert hold.__enter__() == [uid]  # the other daemon's claim on the request
    result: dict[str, object] = {}
    worker = threading.Thread(target=lambda: result.update(report=run_cycle(settings, sessions)))
    worker.start()
    try:
        time.sleep(2.0)  # the cycle's rounds come and go: nothing after the held request may be handled
        assert _outcomes(sessions) == {}
    finally:
        hold.__exit__(None, None, None)
    worker.join(30)
    assert result["report"].processed == 3 and result["report"].deferred == 0  # type: ignore[attr-defined]
    with sessions() as session:
        order = [mid for (mid,) in session.execute(select(InboundMail.message_id).order_by(InboundMail.id))]
    assert order == ["demande@membres.test", later_id, "autre@membres.test"]
    assert _outcomes(sessions)[later_id] == later_outcome


# --- a stray line and a blank one before the header; a ticket's member and its commands -------------------------

@POSTGRES_ONLY
@pytest.mark.parametrize("prefix", [b"From alice@membres.test Thu Nov 26 09:05:00 2026\r\n\r\n",
                                    b"Exported by MailArchiver 2.1\r\n\r\n"], ids=["mbox-separator", "banner"])
def test_a_follow_up_with_a_stray_line_and_a_blank_line_before_its_header_waits_for_her_request(
        clean_mail, settings, sessions, monkeypatch, prefix):
    """The parser drops the stray line and the blank line (mime.repair_start) and reads Alice's From; the server
    sees a header made of the stray line only (BODY[HEADER] ends at the first blank line): the daemon reads the
    mail's head instead (it read nothing there, and the follow-up opened a ticket of its own while another daemon
    held her request)."""
    add_members(sessions)
    follow = prefix + FOLLOW_UP
    assert parse_mail(follow).from_address == ALICE
    outcomes = _second_waits_for_held_first(clean_mail, settings, sessions, monkeypatch, REQUEST, follow)
    assert outcomes["demande@membres.test"] == "new-request"
    assert outcomes["suite@membres.test"] == "follow-up"


@POSTGRES_ONLY
@pytest.mark.parametrize("member_mail", [FOLLOW_UP, OWN_REPLY], ids=["same-subject-follow-up", "reply-to-own-request"])
def test_aideurs_close_does_not_overtake_the_members_earlier_mail_on_the_same_ticket(
        clean_mail, settings, sessions, monkeypatch, member_mail):
    """Alice's request is a ticket already. She writes again (UID n: her request's subject, or a reply to her own
    request: routed to the ticket by subject or by thread); Aideur then closes the ticket by replying "#clore" to
    its notification (n+1: through the ticket's token). One daemon records her mail on the open ticket, then
    closes. Her mail's keys name her ("from:", "id:demande"), Aideur's the ticket ("tok:t1", "ref:CA-…"): each
    round maps a ticket's keys to its member (coordination.people_of), so the close waits for her mail. (It went
    first: her same-subject mail then opened a second ticket, her reply landed on a closed one.)"""
    add_members(sessions)
    append(clean_mail, CLUB, REQUEST)
    run_cycle(settings, sessions)
    notes = [m for m in wait_mail(clean_mail, AIDEUR, 1) if "Nouvelle demande" in m.subject]
    assert notes, "no new-request notification"
    close = reply_to_notification(notes[-1], "#clore", "thunderbird").as_bytes()
    close_id = parse_mail(close).message_id
    # (all_wait: Aideur's mail may change who is who — his commands act at once — so the later unrelated mail waits
    # for it too.)
    assert _second_waits_for_held_first(clean_mail, settings, sessions, monkeypatch, member_mail, close,
                                        all_wait=True)[close_id]
    with sessions() as session:
        assert session.scalar(select(func.count(Ticket.id))) == 2  # the request's and "autre"'s: nothing else
    tickets = _tickets(sessions)
    assert tickets["suite@membres.test"] == tickets["demande@membres.test"]
    assert _outcomes(sessions)["suite@membres.test"] == "follow-up"


def _command_address(note) -> str:  # type: ignore[no-untyped-def]
    return next(line.strip() for line in note.text.splitlines() if line.strip().startswith("aide+c"))


@POSTGRES_ONLY
@pytest.mark.parametrize("subject", ["OUI", "Re: Confirmez-vous cette commande ?"])
def test_aideurs_oui_to_a_close_through_the_command_address_does_not_overtake_the_members_earlier_mail(
        clean_mail, settings, sessions, monkeypatch, subject):
    """Alice's request is a ticket. Aideur closes it through his command address ("#clore CA-…" in the text): it
    writes to the member, so it waits for his OUI (a PendingCommand on the ticket, a confirmation mail whose reply
    address is aide+q<n>a-…). Alice then writes again on the same subject (UID n, held by another daemon) and Aideur
    answers OUI (n+1) with a subject that does not name the ticket: the OUI's keys are his From, "tok:q<n>" and the
    confirmation's Message-ID, and people_of maps "tok:q<n>" to the ticket's member, so it waits for her mail (it
    closed the ticket first, and her follow-up opened a second one)."""
    add_members(sessions)
    append(clean_mail, CLUB, REQUEST)
    run_cycle(settings, sessions)
    notes = [m for m in wait_mail(clean_mail, AIDEUR, 1) if "Nouvelle demande" in m.subject]
    assert notes, "no new-request notification"
    with sessions() as session:
        ref = session.scalar(select(Ticket.ref))
    append(clean_mail, CLUB, make_mail(AIDEUR, "Clôture", f"#clore {ref}\n", to=_command_address(notes[-1]),
                                       message_id="<commande@club.test>").as_bytes())
    run_cycle(settings, sessions)
    wait_mail(clean_mail, AIDEUR, 2)
    requests = confirmation_requests(clean_mail)
    assert requests, "no confirmation request"
    oui_mail = reply_to_notification(requests[-1], "OUI", "thunderbird")
    assert f"[{ref}]" in oui_mail["Subject"]  # a reply that keeps the subject names the ticket: that one waits
    del oui_mail["Subject"]
    oui_mail["Subject"] = subject  # his answer typed as the subject too (a phone), or a client that drops "[…]"
    oui = oui_mail.as_bytes()
    oui_id = parse_mail(oui).message_id
    assert "+q" in parse_mail(oui).to[0]
    # The OUI may change who is who (WHO): the unrelated mail after it waits for it too.
    outcomes = _second_waits_for_held_first(clean_mail, settings, sessions, monkeypatch, FOLLOW_UP, oui,
                                            all_wait=True)
    assert outcomes[oui_id] == "aideur-command"
    with sessions() as session:
        assert session.scalar(select(func.count(Ticket.id))) == 2  # the request's and "autre"'s: nothing else
        assert session.scalar(select(Ticket.closed_at).where(Ticket.ref == ref)) is not None  # the OUI closed it
    tickets = _tickets(sessions)
    assert tickets["suite@membres.test"] == tickets["demande@membres.test"]
    assert _outcomes(sessions)["suite@membres.test"] == "follow-up"


@POSTGRES_ONLY
def test_a_strangers_mail_with_an_impossible_token_number_does_not_stop_the_daemons(
        clean_mail, settings, sessions):
    """A stranger writes to aide+t9999999999m-<any 20 hex>@club.test (a typo, a scanner, a hostile sender: the
    keys read tokens without their MAC). people_of asked PostgreSQL for tickets.id IN (9999999999::INTEGER) each
    round: "integer out of range", raised from Daemon._round before any mail was handled; `mailbot run` exited 69,
    systemd restarted it, the mail was still there: no mail was handled or sent again until someone deleted it by
    hand. A number no row can have names nothing: one daemon handles both mails."""
    add_members(sessions)
    append(clean_mail, CLUB, make_mail("intrus@ailleurs.test", "Bonjour", "Bonjour,\n\nUne question.\n",
                                       to="aide+t9999999999m-0123456789abcdef0123@club.test",
                                       message_id="<intrus@ailleurs.test>").as_bytes())
    append(clean_mail, CLUB, REQUEST)
    report = run_cycle(settings, sessions)
    assert report.processed + report.quarantined == 2
    assert _outcomes(sessions)["demande@membres.test"] == "new-request"


@POSTGRES_ONLY
def test_a_round_whose_people_cannot_be_read_takes_the_mails_in_arrival_order(
        clean_mail, settings, sessions, monkeypatch):
    """A query of the round's who-is-who fails for a reason of its own (the impossible token above was one): the
    daemon neither stops nor takes the mails out of order — this round takes them in arrival order, and a member's
    follow-up still follows her request."""
    def broken(*_: object, **__: object) -> dict[str, str]:
        raise sqlalchemy.exc.DataError("SELECT …", {}, Exception("integer out of range"))

    add_members(sessions)
    monkeypatch.setattr(daemon_module, "people_of", broken)
    append(clean_mail, CLUB, REQUEST)
    append(clean_mail, CLUB, FOLLOW_UP)
    report = run_cycle(settings, sessions)
    assert report.processed == 2 and report.deferred == 0
    assert _outcomes(sessions) == {"demande@membres.test": "new-request", "suite@membres.test": "follow-up"}


ALICE_PRO = "alice.pro@ailleurs.test"
FOLLOW_UP_PRO = (f"From: Alice Martin <{ALICE_PRO}>\r\nTo: {CLUB}\r\nSubject: {SUBJECT_2}\r\n"
                 "Message-ID: <suite-pro@ailleurs.test>\r\nDate: Thu, 26 Nov 2026 09:05:00 +0100\r\n"
                 "Content-Type: text/plain; charset=utf-8\r\n\r\n"
                 "Bonjour,\r\n\r\nJ'oubliais : c'est urgent, il pleut dans le salon.\r\n").encode()


def _oui_linking_alice_pro(server, settings, sessions) -> bytes:  # type: ignore[no-untyped-def]
    """Alice's request becomes a ticket; Aideur writes "#adresse alice.pro@… alice@…" to his command address, which
    awaits his OUI: that OUI (a reply to the confirmation request, as Thunderbird writes it), not yet delivered."""
    append(server, CLUB, REQUEST)
    run_cycle(settings, sessions)
    notes = [m for m in wait_mail(server, AIDEUR, 1) if "Nouvelle demande" in m.subject]
    assert notes, "no new-request notification"
    append(server, CLUB, make_mail(AIDEUR, "Adresse", f"#adresse {ALICE_PRO} {ALICE}\n",
                                   to=_command_address(notes[-1]), message_id="<adresse@club.test>").as_bytes())
    run_cycle(settings, sessions)
    wait_mail(server, AIDEUR, 2)
    requests = confirmation_requests(server)
    assert requests, "no confirmation request"
    return reply_to_notification(requests[-1], "OUI", "thunderbird").as_bytes()


@POSTGRES_ONLY
def test_a_mail_from_an_address_aideurs_oui_links_waits_for_that_oui(clean_mail, settings, sessions, monkeypatch):
    """Alice's request is a ticket. Aideur links her other address ("#adresse alice.pro@… alice@…" through his
    command address) and answers OUI to the confirmation (UID n, held by another daemon). Alice then writes again on
    the same subject from that address (n+1). One daemon: the OUI links the address, her mail is a follow-up of her
    ticket. Its keys say "from:alice.pro@…", which names nobody when the round begins (the link is made by the OUI):
    an answer to a command awaiting the OUI owns WHO, which every later mail waits for, and the round ends after it
    so that the next one reads who is who again. (Her mail was handled as a stranger's, held, then a second ticket.)"""
    add_members(sessions)
    oui = _oui_linking_alice_pro(clean_mail, settings, sessions)
    oui_id = parse_mail(oui).message_id
    outcomes = _second_waits_for_held_first(clean_mail, settings, sessions, monkeypatch, oui, FOLLOW_UP_PRO,
                                            all_wait=True)
    assert outcomes[oui_id] == "aideur-command"
    assert outcomes["suite-pro@ailleurs.test"] == "follow-up", outcomes
    with sessions() as session:
        assert session.scalar(select(func.count(Ticket.id))) == 2  # the request's and "autre"'s: nothing else
    tickets = _tickets(sessions)
    assert tickets["suite-pro@ailleurs.test"] == tickets["demande@membres.test"]


@POSTGRES_ONLY
def test_after_a_mail_that_changes_who_is_who_the_daemon_reads_it_again_before_going_on(
        clean_mail, settings, sessions, monkeypatch):
    """Aideur's OUI linking alice.pro@… to Alice (UID n) is handled here; her same-subject mail from her main address
    (n+1) is held by another daemon; then her mail from alice.pro@… (n+2). The round's mapping of people was read
    before the OUI: alice.pro@… named nobody. The daemon reads it again after the OUI, so her mail from that address
    waits for her held one (with the round's stale mapping it went first: her two mails out of order on her
    ticket)."""
    add_members(sessions)
    monkeypatch.setattr(daemon_module, "DEFER_PAUSE_SECONDS", 0.05)
    oui = _oui_linking_alice_pro(clean_mail, settings, sessions)
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
        assert "suite-pro@ailleurs.test" not in _outcomes(sessions)  # her alias's mail waits for her held one
    finally:
        hold.__exit__(None, None, None)
    worker.join(30)
    with sessions() as session:
        order = [mid for (mid,) in session.execute(select(InboundMail.message_id).order_by(InboundMail.id))]
    assert order[-3:] == [oui_id, "suite@membres.test", "suite-pro@ailleurs.test"]
    tickets = _tickets(sessions)
    assert tickets["suite-pro@ailleurs.test"] == tickets["suite@membres.test"] == tickets["demande@membres.test"]


# --- Aideur's commands in a reply, and the mails that change what other mails find (fifth attack) -------------------


@POSTGRES_ONLY
def test_aideurs_adresse_in_a_reply_to_the_tickets_notification_holds_back_the_mail_from_that_address(
        clean_mail, settings, sessions, monkeypatch):
    """Alice's request is a ticket. Aideur answers its notification (the ticket's token, scope t, role a) with
    "#adresse alice.pro@…" (MEMBRE left out: the request's member): executed at once, no OUI (triage.aideur_reply).
    That mail (UID n) is held by another daemon; Alice then writes again on the same subject from alice.pro@…
    (n+1). One daemon: the address is linked first, her mail is a follow-up of her ticket. The reply's keys
    ("from:aideur", "tok:t1", "ref:CA-…") share nothing with hers ("from:alice.pro@…", nobody's when the round
    begins): her mail went first, as a stranger's. Every mail from Aideur now keeps its arrival order both ways."""
    add_members(sessions)
    append(clean_mail, CLUB, REQUEST)
    run_cycle(settings, sessions)
    notes = [m for m in wait_mail(clean_mail, AIDEUR, 1) if "Nouvelle demande" in m.subject]
    assert notes, "no new-request notification"
    link = reply_to_notification(notes[-1], f"#adresse {ALICE_PRO}", "thunderbird").as_bytes()
    assert "+t" in parse_mail(link).to[0]  # the ticket's reply address, not the command address
    link_id = parse_mail(link).message_id
    outcomes = _second_waits_for_held_first(clean_mail, settings, sessions, monkeypatch, link, FOLLOW_UP_PRO,
                                            all_wait=True)
    assert outcomes[link_id] == "aideur-reply"
    assert outcomes["suite-pro@ailleurs.test"] == "follow-up", outcomes
    tickets = _tickets(sessions)
    assert tickets["suite-pro@ailleurs.test"] == tickets["demande@membres.test"]


@POSTGRES_ONLY
def test_a_strangers_mail_overtaken_by_aideurs_adresse_in_a_ticket_reply_is_not_read_as_the_members(
        clean_mail, settings, sessions, monkeypatch):
    """The other way round: a mail from alice.pro@… (UID n, held by another daemon), then Aideur's reply to the
    ticket's notification "#adresse alice.pro@…" (n+1). One daemon handles n first (nobody's address: a stranger's
    mail), then links the address. The reply shares no key with the held mail: it went first, and the held mail was
    then read as Alice's follow-up — which one daemon never decides. Aideur's mail now waits for every earlier one."""
    monkeypatch.setattr(daemon_module, "DEFER_PAUSE_SECONDS", 0.05)
    add_members(sessions)
    append(clean_mail, CLUB, REQUEST)
    run_cycle(settings, sessions)
    notes = [m for m in wait_mail(clean_mail, AIDEUR, 1) if "Nouvelle demande" in m.subject]
    assert notes, "no new-request notification"
    link = reply_to_notification(notes[-1], f"#adresse {ALICE_PRO}", "thunderbird").as_bytes()
    append(clean_mail, CLUB, FOLLOW_UP_PRO)
    append(clean_mail, CLUB, link)
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


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_member_who_answers_an_activity_first_gets_the_seat_whatever_daemon_holds_her_answer(
        clean_mail, settings, sessions):
    """An activity with 2 places, announced to the members. Alice answers "Je m'inscris" first (UID n, held by
    another daemon for a moment), then Bruno (n+1) and Chloé (n+2). One daemon books Alice and Bruno and puts
    Chloé on the waiting list ("two booked, two waiting in order of arrival", test_activities). Across daemons the
    three answers share no key (each its own booking token e<n>, its own sender): Bruno and Chloé took the two
    seats while Alice's answer was held, and Alice, who answered first, went on the waiting list. An answer to an
    activity now keeps its arrival order both ways (coordination.WHO_SCOPES)."""
    from tests.integration import test_activities as activities

    activities.club(sessions)
    created = activities.announce(clean_mail, settings, sessions)
    assert "AC-2026-001" in created.subject
    notes = {who: wait_mail(clean_mail, who, 1)[0] for who in (ALICE, MEMBERS[1], MEMBERS[2])}
    for who, text in ((ALICE, "Je m'inscris"), (MEMBERS[1], "Inscrivez-moi svp"), (MEMBERS[2], "ok pour moi")):
        append(clean_mail, CLUB, reply_to_notification(notes[who], text, "thunderbird", sender=who,
                                                       name="Membre").as_bytes())
    cycle_while_held(settings, sessions, at=activities.T0)  # Alice's answer held by another daemon for a cycle
    statuses = activities.statuses(sessions)
    assert statuses[ALICE] == "booked", statuses  # as one daemon decides: she answered first
    assert statuses[MEMBERS[2]] == "waiting", statuses


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_member_who_hides_her_profile_first_is_not_shown_in_a_later_directory_answer(
        clean_mail, settings, sessions):
    """Bruno is visible to members. He replies through his profile's reply address (scope p, from his main address:
    proof enough, applied at once) "Visibilité : confidentielle" (UID n, held by another daemon for a moment); then
    Alice asks "Annuaire" (n+1). One daemon hides Bruno first: Alice's directory does not show him. Across daemons
    the two mails share no key ("tok:p<id>" names no ticket, different senders): Alice's request went first and
    she received Bruno's name, activity and phone, which he had withdrawn before she asked. A profile answer now
    keeps its arrival order both ways."""
    from mailbot.tokens import ROLE_MEMBER, SCOPE_PROFILE, Token, TokenSigner
    from tests.helpers import mailbox, settle

    add_members(sessions)
    with sessions.begin() as session:
        upsert_member(session, ALICE, visibility="membres")
        bruno = upsert_member(session, MEMBERS[1], visibility="membres", activity="Maçon", phone="06 98 76 54 32")[0]
        session.flush()
        bruno_id = bruno.id
    reply_address = TokenSigner(settings.secret_keys).plus_address(CLUB, Token(SCOPE_PROFILE, bruno_id, ROLE_MEMBER))
    hide = make_mail(MEMBERS[1], "Re: Votre profil", "Visibilité : confidentielle\n", to=reply_address,
                     message_id="<cacher@membres.test>").as_bytes()
    ask = make_mail(ALICE, "Annuaire", "Bonjour,\n\nMerci.", message_id="<annuaire@membres.test>").as_bytes()
    append(clean_mail, CLUB, hide)
    append(clean_mail, CLUB, ask)
    cycle_while_held(settings, sessions)  # Bruno's change held by another daemon for a cycle
    with sessions() as session:
        assert session.scalar(select(Member.visibility).where(Member.email == MEMBERS[1])) == "confidentielle"
    directory = [m for m in settle(clean_mail, ALICE, 1) if "annuaire" in m.subject.lower()]
    assert directory, [m.subject for m in mailbox(clean_mail, ALICE)]
    text = " ".join(directory[0].text.split())
    assert MEMBERS[1] not in text and "06 98 76 54 32" not in text, text  # as one daemon decides


@POSTGRES_ONLY
def test_aideurs_ouvrir_in_a_ticket_reply_does_not_overtake_the_members_own_earlier_request(
        clean_mail, settings, sessions, monkeypatch):
    """Alice's request is a ticket. Bruno writes "Devis pour une toiture" (UID n, held by another daemon); Aideur,
    who had Bruno on the phone, answers Alice's notification with "#ouvrir bruno@… / objet: Devis pour une toiture"
    (n+1: scope t, executed at once). One daemon: Bruno's mail is his new request, then Aideur opens a second one.
    The reply's keys name Aideur and Alice's ticket, never Bruno (only its body does): it went first, and Bruno's
    earlier mail became a follow-up of the ticket Aideur opened after it. Aideur's mail now waits for it."""
    add_members(sessions)
    append(clean_mail, CLUB, REQUEST)
    run_cycle(settings, sessions)
    notes = [m for m in wait_mail(clean_mail, AIDEUR, 1) if "Nouvelle demande" in m.subject]
    assert notes, "no new-request notification"
    opening = reply_to_notification(notes[-1], f"#ouvrir {MEMBERS[1]}\nobjet: {SUBJECT_2}\nBruno a appelé : "
                                               "il cherche un couvreur.", "thunderbird").as_bytes()
    own = (f"From: {MEMBERS[1]}\r\nTo: {CLUB}\r\nSubject: {SUBJECT_2}\r\nMessage-ID: <bruno@membres.test>\r\n"
           "Content-Type: text/plain; charset=utf-8\r\n\r\nBonjour,\r\n\r\nJe cherche un couvreur.\r\n").encode()
    monkeypatch.setattr(daemon_module, "DEFER_PAUSE_SECONDS", 0.05)
    append(clean_mail, CLUB, own)
    append(clean_mail, CLUB, opening)
    cycle_while_held(settings, sessions)  # Bruno's mail held by another daemon for a cycle
    assert _outcomes(sessions)["bruno@membres.test"] == "new-request", _outcomes(sessions)  # as one daemon decides


@POSTGRES_ONLY
def test_a_members_mail_does_not_overtake_the_delivery_report_it_proves_wrong(
        clean_mail, settings, sessions, monkeypatch):
    """Alice's request is a ticket; its acknowledgement went out with its own envelope sender (VERP:
    aide+b<outbox id>m-…). A delivery report for that mail (UID n, held by another daemon) says her address failed;
    then Alice writes again (n+1), which proves her address works (notices.member_wrote clears the mark). One daemon:
    marked, then cleared. The report's keys (the mailer daemon, "tok:b<id>") named nobody: her mail went first,
    then the report marked her address as failing for good — kept out of appeals although she wrote after. A
    delivery report now keeps its arrival order both ways."""
    from tests.security.test_bounces import bounced, dsn

    add_members(sessions)
    append(clean_mail, CLUB, REQUEST)
    run_cycle(settings, sessions)
    with sessions() as session:
        envelope = session.scalar(select(OutboxMail.sender).where(OutboxMail.recipient == ALICE))
    assert envelope.startswith("aide+b"), envelope
    report = dsn(envelope, ALICE, "failed")
    again = (f"From: {ALICE}\r\nTo: {CLUB}\r\nSubject: Une autre question\r\nMessage-ID: <autre-question@membres.test>"
             "\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBonjour,\r\n\r\nAuriez-vous un bon comptable ?\r\n")
    monkeypatch.setattr(daemon_module, "DEFER_PAUSE_SECONDS", 0.05)
    append(clean_mail, CLUB, report)
    append(clean_mail, CLUB, again.encode())
    cycle_while_held(settings, sessions)  # the report held by another daemon for a cycle
    outcomes = _outcomes(sessions)
    assert outcomes["autre-question@membres.test"] == "new-request", outcomes
    assert bounced(sessions, ALICE) is None, outcomes  # as one daemon decides: her later mail cleared the mark


@POSTGRES_ONLY
def test_after_aideurs_adresse_in_a_ticket_reply_her_mail_from_that_address_waits_for_her_held_one(
        clean_mail, settings, sessions, monkeypatch):
    """As test_after_a_mail_that_changes_who_is_who_the_daemon_reads_it_again_before_going_on, with the link made by
    Aideur's reply to the ticket's notification ("#adresse alice.pro@…", scope t, executed at once) instead of an
    OUI. Handled here (UID n); Alice's same-subject mail from her main address (n+1) is held by another daemon; then
    her mail from alice.pro@… (n+2). The round's people were read before the link (alice.pro@… nobody's) and the
    reply did not make them stale: her second mail overtook her first. Now a mail from Aideur ends its round, and
    the next reads who is who again."""
    add_members(sessions)
    monkeypatch.setattr(daemon_module, "DEFER_PAUSE_SECONDS", 0.05)
    append(clean_mail, CLUB, REQUEST)
    run_cycle(settings, sessions)
    notes = [m for m in wait_mail(clean_mail, AIDEUR, 1) if "Nouvelle demande" in m.subject]
    assert notes, "no new-request notification"
    link = reply_to_notification(notes[-1], f"#adresse {ALICE_PRO}", "thunderbird").as_bytes()
    link_id = parse_mail(link).message_id
    for mail in (link, FOLLOW_UP, FOLLOW_UP_PRO):
        append(clean_mail, CLUB, mail)
    box = Mailbox(settings.imap, "INBOX")
    box.connect()
    uidvalidity, uid = box.uidvalidity, box.sizes()[1][0]
    box.close()
    hold = MailClaims(sessions.kw["bind"]).hold("INBOX", uidvalidity, [uid])
    assert hold.__enter__() == [uid]  # the other daemon's claim on her mail from her main address
    worker = threading.Thread(target=lambda: run_cycle(settings, sessions))
    worker.start()
    try:
        assert wait_until(lambda: link_id in _outcomes(sessions), timeout=15)
        time.sleep(1.0)
        assert "suite-pro@ailleurs.test" not in _outcomes(sessions), _outcomes(sessions)  # waits for her held one
    finally:
        hold.__exit__(None, None, None)
        worker.join(30)
