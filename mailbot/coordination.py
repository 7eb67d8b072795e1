"""Several daemons on one database: which process handles a mail, runs a job, sends an outgoing mail.

Two servers, or a restart overlapping the old process, may run mailbot against the same mailbox and the same
PostgreSQL database. What keeps them from doing anything twice is in the database, never in a process:

- a mail is handled once because its Message-ID is unique (pipeline.py); to keep daemons from all parsing the same
  mail, each one first takes a PostgreSQL advisory lock on the UIDs of a batch (`MailClaims`) and fetches only
  the UIDs it got: another daemon skips them and takes the next batch. The locks are held until the batch is
  moved out of the inbox, and a dead process's locks go with its connection;
- a scheduled job runs in one process at a time: its transaction starts with `pg_try_advisory_xact_lock`
  (`try_job_lock`), and a daemon that finds the job running elsewhere skips it for this tick;
- an outgoing mail is claimed with a conditional UPDATE, and its sender holds an advisory lock on it from before
  the claim until the outcome is recorded (`SendGuard`): a daemon taking back the sends of a dead process
  (sender.recover_interrupted) takes only rows whose lock is free, never one a live daemon is sending.

On SQLite (one machine, `BEGIN IMMEDIATE`: one writing transaction at a time) the locks are no-ops: transactions
are serialised anyway, which is what makes a job or a mail run once there.

Order across daemons (`WaitingOrder`): a mail is handled after every earlier mail of the inbox it depends on (one
it replies to or cites by Message-ID, one from the same person — any of a member's addresses, any of Aideur's —,
one from a person it is sent or copied to, one naming the same ticket reference or token) that is not committed
yet, whoever holds it. The headers are read by the parser's own function (parsers.parse.header_fields), so the
keys see what the router will see. A daemon defers such a mail (it stays in the inbox, unclaimed) and looks
again a moment later; the earlier mail is committed by the daemon that holds it, or, if that daemon died, by
whoever claims it next. Dependencies only point to lower UIDs, so the lowest waiting mail is never deferred: there
is no deadlock, and each round of the daemons commits at least that one. A mail quarantined or gone releases the
mails that waited for it (it is committed, or no longer in the inbox).
"""
from __future__ import annotations

import email.parser
import email.policy
import hashlib
import heapq
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Integer, func, literal, or_, select, text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from mailbot.parsers.headers import mailboxes
from mailbot.parsers.mime import repair_start
from mailbot.parsers.parse import bounded_id, header_fields
from mailbot.parsers.recipients import is_club_address
from mailbot.parsers.rules import REFERENCE
from mailbot.tokens import (
    SCOPE_ACTIVITY,
    SCOPE_APPEAL,
    SCOPE_BOUNCE,
    SCOPE_COMMAND,
    SCOPE_CONFIRM,
    SCOPE_CONSENT,
    SCOPE_COUNTERPART,
    SCOPE_PENDING,
    SCOPE_PROFILE,
    SCOPE_REGISTRATION,
    SCOPE_RESULT,
    SCOPE_TICKET,
    SCOPE_VERIFY,
    TOKEN_PATTERN,
)

LOCK_PREFIX = "mailbot:"
OUTBOX_LOCKS = 0x6D62  # the first key of the two-key advisory locks on outbox rows (the second: the row's id)
# The lock is tried only if the row is still pending (the target list is computed for matching rows only).
TRY_SEND_LOCK = text(f"SELECT pg_try_advisory_lock({OUTBOX_LOCKS}, id) FROM outbox "
                     "WHERE id = :id AND status = 'pending'")
SEND_UNLOCK = text(f"SELECT pg_advisory_unlock({OUTBOX_LOCKS}, CAST(:id AS integer))")


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for a name (a collision only makes a daemon skip, never repeat)."""
    return int.from_bytes(hashlib.blake2b((LOCK_PREFIX + name).encode(), digest_size=8).digest(), "big",
                          signed=True)


def uses_advisory_locks(bind: Engine | object) -> bool:
    dialect = getattr(bind, "dialect", None)
    return dialect is not None and dialect.name == "postgresql"


def try_job_lock(session: Session, name: str) -> bool:
    """Take the job's lock for the current transaction (released at commit or rollback). False: another process
    is running this job right now. Always True on SQLite, where BEGIN IMMEDIATE already serialises the jobs."""
    if not uses_advisory_locks(session.get_bind()):
        return True
    return bool(session.scalar(select(func.pg_try_advisory_xact_lock(lock_key(f"job:{name}")))))


def mail_key(folder: str, uidvalidity: int, uid: int) -> int:
    return lock_key(f"mail:{folder}:{uidvalidity}:{uid}")


class SendGuard:
    """PostgreSQL: the session-level advisory lock (OUTBOX_LOCKS, id) on each outbox row this process is sending,
    on a connection of its own, from before the claim until the outcome is recorded. A process that dies loses
    its connection, and its locks with it. On SQLite: nothing (`hold` always yields True).

    The connection is in autocommit: the locks are the session's, not a transaction's, and each statement the
    sender runs on it (the lock, the claim, the record of the send, the unlock) is atomic by itself: no BEGIN and
    COMMIT round trips around each. A connection the server cut is thrown away (its locks went with it) and the
    next mail opens another."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.enabled = uses_advisory_locks(engine)
        self.connection: Connection | None = None

    def start(self) -> SendGuard:
        if self.enabled:
            self._live()
        return self

    def close(self) -> None:
        if self.connection is not None:
            release(self.connection)
            self.connection = None

    def _live(self) -> Connection:
        if self.connection is None:
            self.connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        return self.connection

    def _failed(self, error: Exception) -> None:
        """After a statement on the connection failed: a cut connection is thrown away; on a live one, SQLAlchemy's
        transaction state is reset so that it can go on (the locks it holds stay)."""
        if connection_cut(error):
            self.close()
        elif self.connection is not None:
            self.connection.rollback()

    @contextmanager
    def hold(self, outbox_id: int) -> Iterator[bool]:
        """True: the row is pending and now ours to claim. False: it is no longer pending, or another process is on
        it (one round trip, no claim attempted: several senders walking the same due list waste little)."""
        if not self.enabled:
            yield True
            return
        try:
            mine = bool(self._live().execute(TRY_SEND_LOCK, {"id": outbox_id}).scalar())
        except SQLAlchemyError as error:
            self._failed(error)
            raise
        if not mine:
            yield False
            return
        try:
            yield True
        finally:
            if self.connection is not None:  # else it was cut meanwhile, and the lock went with it
                try:
                    self.connection.execute(SEND_UNLOCK, {"id": outbox_id})
                except SQLAlchemyError as error:
                    self._failed(error)
                    raise

    @contextmanager
    def statements(self) -> Iterator[Connection]:
        """Where the sender runs its one-statement steps (the claim, the record of the send): on PostgreSQL this
        connection, in autocommit; on SQLite a transaction of their own, begun IMMEDIATE (mailbot.db)."""
        if not self.enabled:
            with self.engine.begin() as connection:
                yield connection
            return
        try:
            yield self._live()
        except SQLAlchemyError as error:
            self._failed(error)
            raise


# Rows left `sending` whose lock is free: their sender is gone. (MATERIALIZED: the lock is tried on those rows only.)
REQUEUE_ABANDONED = text(
    "WITH stuck AS MATERIALIZED (SELECT id FROM outbox WHERE status = 'sending') "
    "UPDATE outbox SET status = 'pending', interrupted_sends = outbox.interrupted_sends + 1 FROM stuck "
    "WHERE outbox.id = stuck.id AND outbox.status = 'sending' "
    f"AND pg_try_advisory_xact_lock({OUTBOX_LOCKS}, stuck.id)")


class MailClaims:
    """Session-level advisory locks on mailbox UIDs, one connection per claim.

    `hold()` locks what it can of the UIDs given, yields those (in the order given), and unlocks them when the block
    ends; a daemon killed meanwhile loses its connection, and PostgreSQL releases the locks with it.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.enabled = uses_advisory_locks(engine)

    @contextmanager
    def hold(self, folder: str, uidvalidity: int, uids: list[int]) -> Iterator[list[int]]:
        if not self.enabled or not uids:
            yield list(uids)
            return
        from mailbot.pipeline import TransientError  # pipeline imports the workflows; keep this module light

        keys = {mail_key(folder, uidvalidity, uid): uid for uid in uids}
        try:
            connection = self.engine.connect()
        except (OperationalError, InterfaceError) as error:
            raise TransientError(str(error)) from error
        try:
            try:
                got = set(connection.execute(
                    text("SELECT k FROM unnest(CAST(:keys AS bigint[])) AS k WHERE pg_try_advisory_lock(k)"),
                    {"keys": list(keys)}).scalars())
                connection.commit()  # session-level locks outlive the transaction; do not sit idle in one
            except (OperationalError, InterfaceError) as error:
                raise TransientError(str(error)) from error
            yield [uid for key, uid in keys.items() if key in got]
        finally:
            release(connection)


# SQLSTATEs that say the server has ended this session (class 08: connection exception; 57P01–57P03: an
# administrator's pg_terminate_backend, a server crash or shutdown). psycopg marks the connection broken only once
# it has read the end of the stream, which can come after the error: the state says it at once.
SESSION_ENDED_SQLSTATES = frozenset({"57P01", "57P02", "57P03"})


def connection_cut(error: BaseException) -> bool:
    """Whether a database error means the connection it came from is gone (not a statement's own failure)."""
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    sqlstate = str(getattr(error.orig, "sqlstate", "") or "")
    return sqlstate.startswith("08") or sqlstate in SESSION_ENDED_SQLSTATES


def release(connection) -> None:  # type: ignore[no-untyped-def]
    """Unlock everything this connection holds; a connection that cannot is thrown away (which unlocks too)."""
    try:
        connection.execute(text("SELECT pg_advisory_unlock_all()"))
        connection.commit()
    except Exception:  # noqa: BLE001 - a broken connection: closing it for good releases its locks server-side
        connection.invalidate()
    finally:
        connection.close()


# --- order across daemons -------------------------------------------------------------------------------------------

# What the dependency check reads of each waiting mail: its header as received (mailbox.Mailbox.header_blocks, never
# a body), up to HEAD_BYTES, read by the parser's own functions (parsers.parse.header_fields) — not the fields as the
# IMAP server splits them (HEADER.FIELDS), which can differ from the parser's (a bare CR ends a field for Python's
# parser, not for Dovecot's). A mail the server finds no header in (one beginning with a blank line, which the
# parser drops: parsers.mime.repair_start) is read from its first HEAD_BYTES instead, as the parser reads them.
HEAD_BYTES = 65536
# A header longer than that (tens of Received fields, a hostile filler) is read only in part: a key beyond the cut is
# unknown, so such a mail waits for every earlier mail still open (it cites ANY) and every later mail waits for it
# (it owns CUT, which every mail cites): it is handled in arrival order, whatever it refers to or is referred by.
ANY, CUT = "*any", "*cut"
# A mail that may change who is who — Aideur's OUI to a command awaiting it (an address linked, unlinked or made a
# member's main one), a mail to his command address, a member's answer to an address check or to a confirmation
# (an erasure), a registration — owns WHO, which every mail cites, and cites ANY: it keeps its arrival order both
# ways (it may move the sender of an earlier mail as well as a later one's), and the daemon reads who is who again
# after it before going on (Daemon._round); so after a cut header, which may hide such a token. Such mails are few.
# The same for every mail that changes at once what other people's mails find: a member's answer through her
# profile address (her visibility in the directory, whether she is asked in appeals), an answer to an activity
# (its free places: another member's booking, anyone's list of activities), a delivery report (its recipient is
# marked failing: no longer proposed as a helper for anyone's request); and (WaitingOrder) every mail from Aideur —
# his commands act at once in a reply to a ticket's notification too (`#adresse` links an address, `#ouvrir`
# opens a ticket for a member named in the body), which no header says — or from a member marked failing (her
# own mail clears the mark: she is proposed again).
WHO = "*who"
WHO_SCOPES = frozenset({SCOPE_PENDING, SCOPE_COMMAND, SCOPE_VERIFY, SCOPE_CONFIRM, SCOPE_REGISTRATION,
                        SCOPE_PROFILE, SCOPE_ACTIVITY, SCOPE_BOUNCE})
AIDEUR = "aideur"  # the person of every address of Aideur's (people_of)
# people_of's entry BARRIER + "member:<id>" (its value, that same person): a member whose every mail is kept in
# order both ways, as one that may change who is who (a member marked failing).
BARRIER = "*barrier:"
# people_of's entry PARTY + a token's key (its value, a member): the other person of what the token names — the
# helper of a contact between two members, the member asked by an appeal or a result form. A mail answering through
# it reaches that person too (a "contact cancelled" to the helper, on her hourly budget): it keeps its order with
# her mails as with the ticket's member's.
PARTY = "*party:"
# people_of's entry STRANGER + "from:<address>" (its value, STRANGER) for an address no active member and not
# Aideur has (a former member's too); NOBODY, the key of a mail naming no sender the router can take. Strangers' mails
# keep their arrival order among themselves: Aideur is told of each stranger's first mail up to a bound per hour,
# all strangers together (workflows.notices.flood_notice): in arrival order, the first ones. (Not with every mail: an
# unrelated member's mail never waits behind a stranger's that waits for a mail another daemon holds.)
STRANGER = "*stranger"
NOBODY = "*nobody"
# people_of's entry THREAD + a cited Message-ID (its value, a member): the member of the ticket that committed mail is
# on. And a mail citing a mail still waiting takes on that mail's people (WaitingOrder): a reply to a member's
# follow-up keeps its order with her next mail to the ticket, as the follow-up does.
THREAD = "*thread:"
# The largest id a row can have (PostgreSQL's integer columns): a token's number beyond it names no row.
MAX_ROW_ID = 2**31 - 1


@dataclass(frozen=True)
class MailKeys:
    """What one waiting mail is (`own`) and what it refers to (`cites`), as keys: "id:<message-id>",
    "from:<address>", "ref:<ticket reference>", "tok:<token scope and number>". A mail depends on an earlier one
    when one of its `cites` is among the earlier one's `own`. The sender, the ticket references and the tokens are
    on both sides (two mails of one member, two mails about one ticket keep their order); a Message-ID is `own`,
    the Message-IDs it replies to are `cites` (its own too: a second delivery comes after the first), and so are
    the people it goes to besides the club ("from:<address>": the copy rules read their open tickets). The daemon
    maps each "from:" key to its person once a round (`people_of`: "member:<id>", "aideur"). `thread`: the
    Message-IDs it cites as the router compares them (parsers.parse.bounded_id): a committed one's ticket is looked
    up each round (people_of: THREAD entries)."""
    own: frozenset[str]
    cites: frozenset[str]
    thread: tuple[str, ...] = ()


def mail_keys(header: bytes, clubs: Sequence[str] = (), *, head: bool = False) -> MailKeys:
    """The keys of a mail from its header (`head`: the first bytes of the mail, header first, which are repaired as
    the parser repairs them; else header fields alone). Never raises: unreadable fields give no key. A header that
    `header_cut` says was read in part adds ANY and CUT: the mail keeps its place among all the others.

    The fields are read by the parser's own function (parsers.parse.header_fields: the sender as the router takes
    it, an IDN domain in its Unicode form, the tolerant RFC 2047 decoding of the subject, Message-IDs bare or in
    brackets, the delivery addresses), so that a key never misses what the router will read. `clubs`: the club's
    addresses (Settings.club_addresses), which are nobody's mail."""
    cut = header_cut(header, head=head)
    try:
        if head:  # the first bytes of the mail (HEAD_BYTES): blank or stray lines before its header, as parsed
            header, _ = repair_start(header)
        # Never on the fetched fields alone: they come in the mail's order, and repair_start, made for a whole mail,
        # would take a first References or In-Reply-To (not in its known headers) for a stray line.
        msg = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(header, headersonly=True)
        fields = header_fields(msg)
        # Several From without a Sender saying which wrote: the mail waits for each of them (the parser names none).
        senders = {fields.author.address} | {address for value in msg.get_all("From") or []
                                             for _, address in mailboxes(value)}
    except Exception:  # noqa: BLE001 - a header no parser reads: it names nobody (the pipeline judges)
        return MailKeys(frozenset({CUT}), frozenset({ANY})) if cut else MailKeys(frozenset({NOBODY}),
                                                                                  frozenset({NOBODY}))
    own_ids = [i.lower() for i in fields.message_ids]
    cited = [i.lower() for i in (*fields.in_reply_to, *fields.references)]
    shared = {"from:" + address for address in senders if "@" in address}
    if not shared or fields.author.problem:
        # No sender the router can take (several From and no Sender, none valid): quarantined or answered as
        # nobody's, it counts with the strangers' mails (NOBODY) — and waits for each From named, as above.
        shared.add(NOBODY)
    shared.update("ref:" + match.group(1).upper() for match in REFERENCE.finditer(fields.subject))
    # A token in a delivery address (a reply address) or in a Message-ID we sent (a thread token) names one ticket,
    # one member, one command: two mails naming the same one keep their order. (Scope and number: the MAC and the
    # role do not change what the mail is about.) The places router.delivery_token and the thread rules read.
    scopes: set[str] = set()
    for place in (*fields.delivered_to, *fields.to, *fields.cc, *cited):
        for m in TOKEN_PATTERN.finditer(place):
            shared.add(f"tok:{m.group(1).lower()}{int(m.group(2))}")
            scopes.add(m.group(1).lower())
    # The people it goes to besides the club and its sender, both ways. It waits for their earlier mails: the copy
    # rules (router.copy_or_repeat) read their open tickets (a reply-all that lost its thread headers, Aideur's mail
    # with the club in Cc), which an earlier mail of theirs may be opening. And their later mails wait for it: a mail
    # copying someone on a ticket makes them a participant of it (router._took_part: a colleague in Cc who then
    # writes to the club is a copy on the ticket, not a stranger).
    shared |= {"from:" + address for address in (*fields.to, *fields.cc)
               if address not in senders and not is_club_address(address, clubs)}
    own = shared | {"id:" + i for i in own_ids}
    cites = shared | {"id:" + i for i in (*own_ids, *cited)}
    if scopes & WHO_SCOPES:  # keeps its arrival order both ways: it may move the sender of an earlier mail too
        own.add(WHO)
        cites.add(ANY)
    if cut:
        own.add(CUT)
        cites.add(ANY)
    thread = tuple(dict.fromkeys(bounded_id(i) for i in (*fields.in_reply_to, *fields.references)))
    return MailKeys(frozenset(own), frozenset(cites), thread)


def thread_members(session: Session, message_ids: Iterable[str]) -> Iterator[tuple[str, int]]:
    """(Message-ID, the member whose ticket it is on) for the committed mails among these (compared as the router
    compares them: as stored)."""
    from mailbot.models import InboundMail as InboundRecord  # models and all: keep this module light
    from mailbot.models import Ticket

    ids = sorted(set(message_ids))
    for start in range(0, len(ids), 500):
        rows = session.execute(select(InboundRecord.message_id, Ticket.member_id)
                               .join(Ticket, Ticket.id == InboundRecord.ticket_id)
                               .where(InboundRecord.message_id.in_(ids[start:start + 500])))
        yield from ((message_id, member_id) for message_id, member_id in rows if member_id is not None)


def header_cut(data: bytes, *, head: bool = False) -> bool:
    """Whether these HEAD_BYTES (a mail's header block, or with `head` its first bytes) may miss part of its header:
    as long as the fetch allowed, and for a head, no blank line ending the header within them — after what the
    parser drops before a header (repair_start: blank lines, a stray line then a blank one)."""
    if len(data) < HEAD_BYTES:
        return False
    if not head:
        return True
    data, _ = repair_start(data)
    data = data.lstrip(b"\r\n")
    return re.search(rb"\n\r?\n", data) is None


def senders(waiting: Mapping[int, MailKeys]) -> set[str]:
    """The addresses the waiting mails' "from:" keys name (their senders, on either side)."""
    return {key[5:] for keys in waiting.values() for key in keys.own | keys.cites if key.startswith("from:")}


def people_of(session: Session, waiting: Mapping[int, MailKeys], aideur_addresses: Sequence[str] = (),
              known: dict[str, str] | None = None) -> dict[str, str]:
    """One key per person for the addresses of the waiting mails, as the router tells people apart: a member's every
    address (issue 13: addresses.member_of_address, here for all of them in one query) is "member:<id>", every
    address of Aideur's (Settings.is_aideur) "aideur"; a ticket's reference and tokens, its member (ticket_members),
    and PARTY entries for the other member a token names; BARRIER entries for the members marked failing
    (flagged_members); STRANGER entries for the addresses of nobody of the club.

    `known`: the tickets' members found by earlier rounds of the cycle (updated): not asked again — a stalled daemon
    runs a round every 0.2 s — as a ticket's member never changes; a ticket key that named nobody is asked again (a
    ticket opened meanwhile). The addresses are asked every round: one may have moved to another member since (a
    stale mapping would order her mails with the wrong person's)."""
    from mailbot.addresses import members_of_addresses  # models and all: keep this module light

    tickets = {} if known is None else known
    tickets.update((key, f"member:{member_id}")
                   for key, member_id in ticket_members(session, ticket_keys(waiting) - tickets.keys()))
    # A mail citing a committed mail of a ticket goes on that ticket, whoever wrote either (router._thread_ticket: a
    # colleague's reply): it keeps its order with the ticket's member's mails (her withdrawal, Aideur's close). Asked
    # every round until found: a cited mail another daemon commits meanwhile.
    cited = {THREAD + message_id for keys in waiting.values() for message_id in keys.thread} - tickets.keys()
    tickets.update((THREAD + message_id, f"member:{member_id}")
                   for message_id, member_id in thread_members(session, (key[len(THREAD):] for key in cited)))
    addresses = senders(waiting)
    # A mail naming a ticket (its reference, its token, the token of an appeal, a consent or a result form of it) is
    # about its member's request: it keeps its order with the member's own mails, which the router may put on that
    # ticket by their subject or thread alone (Aideur's "#clore" must not overtake the member's earlier mail to the
    # same ticket, nor a helper's answer her withdrawal). Coarser keys only order more, never less.
    people = dict(tickets)
    owners = members_of_addresses(session, addresses)
    people.update({f"from:{address}": f"member:{member_id}" for address, member_id in owners.items()})
    failing, inactive = flagged_members(session, set(owners.values()))
    people.update({f"{BARRIER}member:{member_id}": f"member:{member_id}" for member_id in failing})
    aideur = {a.lower() for a in aideur_addresses}
    people.update({f"from:{address}": AIDEUR for address in addresses if address in aideur})
    people.update({f"{STRANGER}from:{address}": STRANGER for address in addresses
                   if (address not in owners or owners[address] in inactive) and address not in aideur})
    return people


def flagged_members(session: Session, member_ids: set[int]) -> tuple[set[int], set[int]]:
    """Those of these members marked failing (a delivery report: whatever they write clears the mark,
    workflows.notices.member_wrote, which puts them back among the helpers proposed for anyone's request), and
    those not active (a former member: the router answers her as a stranger)."""
    from mailbot.models import Member

    failing: set[int] = set()
    inactive: set[int] = set()
    ids = sorted(member_ids)
    for start in range(0, len(ids), 500):
        for member_id, bounced_at, status in session.execute(
                select(Member.id, Member.bounced_at, Member.status).where(
                    Member.id.in_(ids[start:start + 500]),
                    or_(Member.bounced_at.is_not(None), Member.status != "active"))):
            if bounced_at is not None:
                failing.add(member_id)
            if status != "active":
                inactive.add(member_id)
    return failing, inactive


def _numbers(keys: set[str]) -> dict[str, list[int]]:
    """The numbers of the "tok:" keys, by scope. Anyone can write a token without its MAC (the keys check none): a
    number no id column holds names nothing (PostgreSQL would refuse the whole query, and every round with it)."""
    numbers: dict[str, list[int]] = {}
    for key in sorted(keys):
        number = key[5:]
        if key.startswith("tok:") and number.isascii() and number.isdigit() and int(number) <= MAX_ROW_ID:
            numbers.setdefault(key[4], []).append(int(number))
    return numbers


def ticket_members(session: Session, keys: set[str]) -> Iterator[tuple[str, int]]:
    """(key, the member whose ticket it names) for these "ref:" and "tok:" keys, a few queries for the round; and
    (PARTY + key, the other member) for a token naming two (a contact's helper, the member an appeal or a result
    form asks)."""
    from mailbot.models import Connection as ContactConnection
    from mailbot.models import Consent, Counterpart, PendingCommand, ResultForm, Solicitation, Ticket

    refs = sorted(key[4:] for key in keys if key.startswith("ref:"))
    numbers = _numbers(keys)
    # Each scope whose number names something of a ticket (router: the thread, the appeals, the consents, the
    # result forms, a counterpart's relay, a command awaiting Aideur's OUI): that number, and the ticket's member —
    # or, for a counterpart about a member and no ticket, that member.
    # (Each with the other member it names, or NULL.)
    nobody = literal(None, Integer)
    by_scope = {
        SCOPE_TICKET: select(Ticket.id, Ticket.member_id, nobody),
        SCOPE_APPEAL: (select(Solicitation.id, Ticket.member_id, Solicitation.member_id)
                       .join(Ticket, Ticket.id == Solicitation.ticket_id)),
        SCOPE_RESULT: (select(ResultForm.id, Ticket.member_id, ResultForm.member_id)
                       .join(Ticket, Ticket.id == ResultForm.ticket_id)),
        SCOPE_CONSENT: (select(Consent.id, Ticket.member_id, ContactConnection.helper_id)
                        .join(ContactConnection, ContactConnection.id == Consent.connection_id)
                        .join(Ticket, Ticket.id == ContactConnection.ticket_id)),
        SCOPE_COUNTERPART: (select(Counterpart.id, func.coalesce(Ticket.member_id, Counterpart.member_id), nobody)
                            .outerjoin(Ticket, Ticket.id == Counterpart.ticket_id)),
        SCOPE_PENDING: (select(PendingCommand.id, Ticket.member_id, nobody)
                        .join(Ticket, Ticket.id == PendingCommand.ticket_id)),
    }
    wanted: list[tuple[str, Any, Any, Sequence[object]]] = [  # (key prefix, query, its number column, numbers)
        (f"tok:{scope}", query, query.selected_columns[0], sorted(numbers.get(scope, ())))
        for scope, query in by_scope.items()]
    wanted.append(("ref:", select(Ticket.ref, Ticket.member_id, nobody), Ticket.ref, refs))
    for prefix, query, column, values in wanted:
        for start in range(0, len(values), 500):
            for value, member_id, party_id in session.execute(query.where(column.in_(values[start:start + 500]))):
                if member_id is not None:
                    yield f"{prefix}{value}", member_id
                if party_id is not None and party_id != member_id:
                    yield f"{PARTY}{prefix}{value}", party_id


def ticket_keys(waiting: Mapping[int, MailKeys]) -> set[str]:
    """The ticket references ("ref:") and tokens ("tok:") the waiting mails' keys name."""
    return {key for keys in waiting.values() for key in keys.own | keys.cites if key.startswith(("ref:", "tok:"))}


class WaitingOrder:
    """The mails of the inbox not committed yet (by anyone) when a round began, and which of them must wait.

    `blocker(uid)` is the lowest earlier mail still open that `uid` depends on (None: it may be handled now);
    `done(uid)` records a mail this daemon committed. A mail this daemon defers or does not hold stays open, so what
    depends on it waits too. Each key keeps a heap of its open UIDs (done ones are dropped lazily): a check costs a
    few heap reads, whatever the backlog."""

    def __init__(self, waiting: Mapping[int, MailKeys], people: Mapping[str, str] | None = None, *,
                 strict: bool = False) -> None:
        # `people`: one key for every address of one member ("from:<address>" → "member:<id>", issue 13: a
        # member's other addresses are the same person), looked up by the daemon once per round. Applied as keys
        # are read, never by copying the (cached) keys of the whole backlog: 10,000 waiting mails, 9 MB.
        self._people: Mapping[str, str] = people or {}
        self._keys = waiting
        # Every mail waits for an earlier one whose header was cut (CUT) or that may change who is who (WHO); with
        # `strict`, for every earlier one still open (arrival order), when who is who could not be read.
        self._always = (CUT, WHO, ANY) if strict else (CUT, WHO)
        # Set once a mail that may change who is who is done here: `people` may be stale for the mails after it.
        self.stale = False
        self._done: set[int] = set()
        self._open: dict[str, list[int]] = {ANY: sorted(waiting)}  # every mail: what a mail citing ANY waits for
        # Aideur's mails and a failing member's: as a mail that may change who is who (his commands act at once,
        # from their body; hers clears her mark).
        self._barriers: set[int] = set()
        self._strangers: set[int] = set()  # mails of strangers (or copying one): in order among themselves
        # The people a mail is about besides its own keys', both ways: the ticket's member of a committed mail it
        # cites (THREAD), the people of a waiting mail it cites (and theirs, in UID order).
        self._extra: dict[int, frozenset[str]] = {}
        id_owner: dict[str, int] = {}  # an "id:" key → the first waiting mail owning it
        for uid in sorted(waiting):
            extra = self._cited_people(waiting[uid], id_owner)
            if extra:
                self._extra[uid] = extra
                for person in extra:
                    heap = self._open.setdefault(person, [])
                    if not heap or heap[-1] != uid:
                        heap.append(uid)
            for key in waiting[uid].own:
                if key.startswith("id:"):
                    id_owner.setdefault(key, uid)
                for person in self._persons(key):
                    heap = self._open.setdefault(person, [])
                    if not heap or heap[-1] != uid:
                        heap.append(uid)  # in UID order: a heap already
                    if person == AIDEUR or BARRIER + person in self._people:
                        self._barriers.add(uid)
                if (STRANGER + key in self._people or key == NOBODY) and uid not in self._strangers:
                    self._strangers.add(uid)
                    self._open.setdefault(STRANGER, []).append(uid)
            if uid in self._barriers:
                self._open.setdefault(WHO, []).append(uid)  # every later mail waits for it

    def _cited_people(self, keys: MailKeys, id_owner: Mapping[str, int]) -> frozenset[str]:
        """The members of the tickets of the committed mails it cites, and the people of the waiting mails it cites
        (`id_owner`: the earlier waiting mails by their "id:" key) with those they took on."""
        people = {person for message_id in keys.thread if (person := self._people.get(THREAD + message_id))}
        for key in keys.cites:
            earlier = id_owner.get(key) if key.startswith("id:") else None
            if earlier is not None and key not in keys.own:
                people.update(person for own in self._keys[earlier].own if not own.startswith("*")
                              for person in self._persons(own))
                people.update(self._extra.get(earlier, ()))
        return frozenset(people)

    def _persons(self, key: str) -> tuple[str, ...]:
        """Whom a key stands for: its person (people_of), else itself; and the other member a token names."""
        person = self._people.get(key, key)
        party = self._people.get(PARTY + key)
        return (person,) if party is None else (person, party)

    def blocker(self, uid: int) -> int | None:
        keys = self._keys.get(uid)
        if keys is None:
            return None
        lowest: int | None = None
        persons = [person for key in (*keys.cites, *self._always, *((ANY,) if uid in self._barriers else ()),
                                      *((STRANGER,) if uid in self._strangers else ()))
                   for person in self._persons(key)]
        for person in (*persons, *self._extra.get(uid, ())):
            heap = self._open.get(person)
            while heap and heap[0] in self._done:
                heapq.heappop(heap)
            if heap and heap[0] < uid and (lowest is None or heap[0] < lowest):
                lowest = heap[0]
        return lowest

    def done(self, uid: int) -> None:
        self._done.add(uid)
        keys = self._keys.get(uid)
        if keys is not None and (WHO in keys.own or CUT in keys.own) or uid in self._barriers:
            self.stale = True  # (a cut header may hide a WHO token)
