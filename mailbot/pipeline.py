"""One mail from raw bytes to committed effects: parse → route → workflow → outbox, in one transaction.

The inbound record, the ticket changes, the outbox rows and the mailbox checkpoint are committed together, so a
crash either keeps all of them or none; the mailbox moves the mail only after this returns.
"""
from __future__ import annotations

import dataclasses
import email
import email.policy
import functools
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import bindparam, case, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from mailbot.config import Settings
from mailbot.db import truncate_wal
from mailbot.logs import mail_tag
from mailbot.members import erased_identifier
from mailbot.models import InboundMail as InboundRecord
from mailbot.models import MailboxCheckpoint, Ticket
from mailbot.outbox import Outbox
from mailbot.parsers import InboundMail, MailKind, ParseError, mime, parse_mail
from mailbot.parsers.digest import content_digest
from mailbot.parsers.parse import MAX_ADDRESS
from mailbot.router import Action, RouterDeps, route
from mailbot.tokens import TokenSigner
from mailbot.workflows import (
    activities,
    appeals,
    consents,
    copies,
    counterparts,
    directory,
    documents,
    newcomers,
    notices,
    notrequests,
    polls,
    profiles,
    requests,
    results,
    suggestions,
    triage,
)
from mailbot.workflows.base import WorkflowContext

log = logging.getLogger(__name__)
T = TypeVar("T")

PROCESSED = "processed"
QUARANTINED = "quarantined"
# Where a second delivery of an erased person's mail goes: nowhere. Its record was rewritten by the erasure
# (members.erased_identifier) and the first copy deleted from the mailbox (MailboxPurge); this copy names her just
# as much, so the daemon deletes it rather than keep it in the processed folder.
ERASED_COPY = "erased-copy"
# A transaction that lost a race with another daemon's (a unique key other than the Message-ID, a deadlock) is
# run again this many times, then the mail is quarantined: never taken for a duplicate it is not.
CONFLICT_RETRIES = 3
RETRYABLE_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock detected (PostgreSQL)
# A mail with the Message-ID of an earlier one but another content is recorded under this derived Message-ID
# (unique like any other, so two daemons still process it once). mailbox.py searches the original part.
VARIANT_MARK = ".variante-"


# The statements every mail runs, built once with bound parameters (building and keying them per mail was a tenth
# of the pipeline's SQLAlchemy work); Core statements on the session's connection, as nothing reads them back.
RECORDED = (select(InboundRecord.message_id, InboundRecord.raw_sha256, InboundRecord.content_sha256)
            .where(InboundRecord.message_id.in_(bindparam("keys", expanding=True))))
RECORD = insert(InboundRecord)
ADVANCE = (update(MailboxCheckpoint).where(MailboxCheckpoint.folder == bindparam("at_folder")).values(
    last_uid=case((MailboxCheckpoint.uidvalidity != bindparam("validity"), bindparam("uid")),
                  (MailboxCheckpoint.last_uid < bindparam("uid"), bindparam("uid")), else_=MailboxCheckpoint.last_uid),
    uidvalidity=bindparam("validity")))


# A member's own mail (not a robot's): an address marked bouncing works again (workflows.notices.member_wrote).
MEMBER_WRITES = frozenset({Action.NEW_REQUEST, Action.FOLLOW_UP, Action.PROFILE, Action.CONFIRMATION,
                           Action.HELPER_REPLY, Action.CONSENT_REPLY, Action.RESULT_REPLY,
                           Action.COUNTERPART_REPLY, Action.DOCUMENTATION, Action.SUGGESTION,
                           Action.POLL_REPLY, Action.ACTIVITY_REPLY})


@dataclass(frozen=True)
class Outcome:
    destination: str  # PROCESSED or QUARANTINED: where the mailbox moves the mail
    action: str  # what was done, for logs and counters
    ticket_ref: str = ""


class TransientError(RuntimeError):
    """The database is unreachable: stop the batch, keep the mail where it is, try again later."""


def _outage_is_transient(method: Callable[..., T]) -> Callable[..., T]:
    """The daemon waits out a TransientError; a raw OperationalError (connection lost, database locked past the
    busy timeout, disk full) from these reads would end it."""
    @functools.wraps(method)
    def wrapper(*args: object, **kwargs: object) -> T:
        try:
            return method(*args, **kwargs)
        except (OperationalError, InterfaceError) as error:
            raise TransientError(str(error)) from error
    return wrapper


class Pipeline:
    def __init__(self, settings: Settings, sessions: sessionmaker[Session], signer: TokenSigner,
                 outbox: Outbox, clock: Callable[[], datetime]) -> None:
        self.settings = settings
        self.sessions = sessions
        self.signer = signer
        self.outbox = outbox
        self.clock = clock

    # --- checkpoint -------------------------------------------------------------------------------------------
    @_outage_is_transient
    def checkpoint(self, folder: str, uidvalidity: int) -> int:
        """The highest UID already committed in this folder (0 after a UIDVALIDITY change)."""
        with self.sessions() as session:
            row = session.get(MailboxCheckpoint, folder)
            return row.last_uid if row is not None and row.uidvalidity == uidvalidity else 0

    @_outage_is_transient
    def committed_destinations(self, folder: str, uidvalidity: int, uids: list[int]) -> dict[int, str]:
        """For the mails among these UIDs that have their own inbound record (committed, never moved): where each
        should go now. A UID without one is absent: it must be processed, not moved."""
        found: dict[int, str] = {}
        with self.sessions() as session:
            for start in range(0, len(uids), 1000):
                for uid, outcome in session.execute(select(InboundRecord.uid, InboundRecord.outcome).where(
                        InboundRecord.folder == folder, InboundRecord.uidvalidity == uidvalidity,
                        InboundRecord.uid.in_(uids[start:start + 1000]))):
                    found[uid] = QUARANTINED if outcome == QUARANTINED else PROCESSED
        return found

    # --- one mail ---------------------------------------------------------------------------------------------
    def process(self, raw: bytes, *, folder: str, uidvalidity: int, uid: int, conflicts: int = 0) -> Outcome:
        """Handle one mail of the club mailbox, exactly once, in one transaction; say where the mailbox moves it.

        In: the mail as fetched (`raw` bytes) and where it sits (`folder`, `uidvalidity`, `uid`); `conflicts`
        counts the retries after a race lost to another daemon (internal).

        Written: the parsed mail is routed (mailbot.router) and handed to one workflow, which writes its own rows
        (tickets, members, messages, events, appeals, consents…); then one `inbound_mails` row (the mail's
        identity and outcome: a second delivery of the same mail is recognised by it and only moves), and the
        folder's `mailbox_checkpoints` row. All of it commits together or not at all.

        Queued: every mail the workflow decided (acknowledgements, notifications to Aideur, questions, refusals…)
        goes into the `outbox` table in the same transaction (Outbox.store_all); nothing is sent here. A mail
        that cannot be handled (unreadable, invalid sender, an internal or database error) is quarantined
        instead: its `inbound_mails` row has outcome "quarantined" and Aideur gets a quarantine notice.

        Returns the Outcome: PROCESSED or QUARANTINED (the folder to move it to), the action, the ticket's ref.

        Raises TransientError when the database cannot be reached (or keeps refusing): nothing was committed,
        the mail stays where it is and is tried again at the next cycle. No other exception escapes."""
        now = self.clock()
        digest = hashlib.sha256(raw).hexdigest()
        message = _load(raw)  # parsed once: the content digest, the parser and the router's calendar rule read it
        content = content_digest(raw, message)

        def legacy() -> str:  # rows recorded by earlier versions hold this one (see _record_key)
            return content_digest(raw, message, legacy=True)

        try:
            mail = parse_mail(raw, loaded=message)
        except ParseError as error:
            return self._quarantine(raw, digest, None, f"mail illisible : {error}", folder, uidvalidity, uid, now)
        if mail.sender_problem and mail.kind is MailKind.NORMAL:
            # Answering would go to an invented address, or to whoever a forger named first (parsers/headers.py).
            return self._quarantine(raw, digest, mail, f"expéditeur illisible : {mail.sender_problem}", folder,
                                    uidvalidity, uid, now)
        if len(mail.from_address) > MAX_ADDRESS:
            # No SMTP server takes it (RFC 5321 4.5.3.1.3): no answer could reach it, nor is it anyone's address.
            return self._quarantine(raw, digest, mail, f"adresse d'expéditeur invalide : {len(mail.from_address)} "
                                    f"caractères (au plus {MAX_ADDRESS})", folder, uidvalidity, uid, now)
        try:
            with self.sessions.begin() as session:
                key = self._record_key(session, mail.message_id, digest, content, legacy)
                if key is None:
                    self._advance(session, folder, uidvalidity, uid)
                    if self._erased_copy(session, mail.message_id, digest, content, legacy):
                        log.info("mail uid %s %s: duplicate of an erased person's mail, deleted", uid,
                                 mail_tag(mail.message_id))
                        return Outcome(ERASED_COPY, "duplicate")
                    log.info("mail uid %s %s: duplicate, already handled", uid, mail_tag(mail.message_id))
                    return Outcome(PROCESSED, "duplicate")
                if key != mail.message_id:
                    # Not a second delivery of the same mail (that would have the same content): a client reusing
                    # an identifier, or someone hoping to have a real mail taken for a copy. Processed as new.
                    log.warning("mail uid %s %s: same Message-ID as an earlier mail but another content: "
                                "processed as a new mail (%s)", uid, mail_tag(mail.message_id), mail_tag(key))
                    mail = dataclasses.replace(mail, message_id=key)
                outcome, ticket, erased, reason = self._act(session, mail, raw, digest, now, message)
                # A Core insert: nothing reads the row back in this transaction, so the ORM's unit of work (a
                # flush of its own) is not needed for it.
                session.connection().execute(RECORD, {
                    "message_id": mail.message_id, "folder": folder, "uidvalidity": uidvalidity, "uid": uid,
                    "received_at": now,
                    # The mail that confirmed an erasure must not itself keep the address it erased.
                    "from_address": "" if erased else mail.from_address[:320],
                    "subject": "" if erased else mail.subject[:998], "kind": mail.kind.value,
                    "outcome": outcome, "reason": reason, "size": len(raw), "raw_sha256": digest,
                    "content_sha256": content, "ticket_id": ticket.id if ticket else None})
                self._advance(session, folder, uidvalidity, uid)
            if erased:
                truncate_wal(self.sessions)  # the erased data must not stay in SQLite's WAL file
            return Outcome(PROCESSED, outcome, ticket.ref if ticket else "")
        except IntegrityError as error:
            if not self._committed(mail.message_id, digest, content, legacy):
                # Another unique key (the year's first reference, the checkpoint's first row, a member created by
                # a concurrent mail): a race lost to another daemon, not a duplicate. Again, on what it committed.
                if conflicts < CONFLICT_RETRIES:
                    log.warning("mail uid %s %s: conflict with a concurrent transaction, trying again", uid,
                                mail_tag(mail.message_id))
                    return self.process(raw, folder=folder, uidvalidity=uidvalidity, uid=uid, conflicts=conflicts + 1)
                return self._quarantine(raw, digest, mail, f"erreur de base de données : {error.orig}", folder,
                                        uidvalidity, uid, now)
            # The same mail committed by someone else meanwhile (a second daemon): it is done.
            log.info("mail uid %s %s: duplicate, handled meanwhile by another process", uid,
                     mail_tag(mail.message_id))
            return Outcome(PROCESSED, "duplicate")
        except (OperationalError, InterfaceError) as error:
            if getattr(error.orig, "sqlstate", None) in RETRYABLE_SQLSTATES and conflicts < CONFLICT_RETRIES:
                return self.process(raw, folder=folder, uidvalidity=uidvalidity, uid=uid, conflicts=conflicts + 1)
            raise TransientError(str(error)) from error
        except DBAPIError as error:
            if error.connection_invalidated:
                raise TransientError(str(error)) from error
            return self._quarantine(raw, digest, mail, f"erreur de base de données : {error.orig}", folder,
                                    uidvalidity, uid, now)
        except Exception as error:  # one bad mail must never hold up the others
            log.exception("mail uid %s %s could not be processed", uid, mail_tag(mail.message_id))
            return self._quarantine(raw, digest, mail, f"erreur interne : {type(error).__name__}: {error}", folder,
                                    uidvalidity, uid, now)

    def _act(self, session: Session, mail: InboundMail, raw: bytes, digest: str,
             now: datetime, message: email.message.Message | None = None) -> tuple[str, Ticket | None, bool, str]:
        """Route and act; returns the outcome, the ticket, whether the sender was erased, and for a mail that
        gets no answer (a robot's, a list's, our own) why: it is recorded and listed for Aideur."""
        decision = route(mail, RouterDeps(session, self.settings, self.signer, raw, now=now, message=message))
        ctx = WorkflowContext(session=session, settings=self.settings, signer=self.signer, now=now)
        ticket = decision.ticket
        reason = ""
        if decision.member is not None and decision.action in MEMBER_WRITES \
                and decision.member.email == mail.from_address.lower():
            notices.member_wrote(ctx, decision.member)
        if decision.action is Action.NEW_REQUEST:
            assert decision.member is not None
            # A request written in reply to a club mail is titled by its text, not by that mail's subject.
            asked = dataclasses.replace(mail, subject="") if decision.subject_is_ours else mail
            ticket = requests.new_request(ctx, asked, raw, decision.member)
        elif decision.action is Action.FOLLOW_UP:
            assert ticket is not None
            if copies.diverts(ctx, mail, ticket):  # someone else's copy through the ticket's token: no follow-up
                copies.copy_mail(ctx, mail, raw, ticket, decision.member)
            else:
                requests.follow_up(ctx, mail, raw, ticket, decision.member)
        elif decision.action is Action.COPY:
            reason = copies.copy_mail(ctx, mail, raw, ticket, decision.member)
        elif decision.action is Action.AIDEUR_REPLY:
            if ticket is not None:
                triage.aideur_reply(ctx, mail, ticket)
            else:  # a notification about a member and no ticket
                assert decision.token is not None
                counterparts.aideur_reply(ctx, mail, decision.token.number)
        elif decision.action is Action.AIDEUR_COMMAND:
            triage.aideur_command_mail(ctx, mail, raw)
        elif decision.action is Action.NON_MEMBER:
            newcomers.newcomer(ctx, mail, digest, decision.member)
        elif decision.action is Action.PROFILE:
            assert decision.member is not None
            profiles.profile_mail(ctx, mail, digest, decision.member, decision.token)
        elif decision.action is Action.CONFIRMATION:
            assert decision.member is not None
            profiles.confirmation_mail(ctx, mail, decision.member)
        elif decision.action is Action.CONSENT_REPLY:
            assert decision.token is not None
            consents.consent_reply(ctx, mail, digest, decision.token.number)
        elif decision.action is Action.RESULT_REPLY:
            assert decision.token is not None
            results.result_reply(ctx, mail, decision.token.number)
        elif decision.action is Action.HELPER_REPLY:
            assert decision.solicitation is not None and ticket is not None
            appeals.helper_reply(ctx, mail, decision.solicitation, ticket)
        elif decision.action is Action.COUNTERPART_REPLY:
            assert decision.token is not None
            counterparts.counterpart_reply(ctx, mail, decision.token.number)
        elif decision.action is Action.POLL_REPLY:
            assert decision.token is not None
            reason = polls.poll_reply(ctx, mail, decision.token.number)
        elif decision.action is Action.POLL_UNPROVEN:
            assert decision.token is not None
            reason = polls.poll_reply(ctx, mail, decision.token.number, proven=False)
        elif decision.action is Action.ACTIVITY_REPLY:
            assert decision.token is not None
            reason = activities.member_reply(ctx, mail, decision.token.number)
        elif decision.action is Action.ACTIVITIES:
            activities.list_for_member(ctx, mail, decision.member)
        elif decision.action is Action.DIRECTORY:
            directory.directory_mail(ctx, mail, decision.member)
        elif decision.action is Action.DOCUMENTATION:
            documents.documentation_mail(ctx, mail, decision.member)
        elif decision.action is Action.SUGGESTION:
            assert decision.member is not None
            suggestions.suggestion_mail(ctx, mail, decision.member)
        elif decision.action is Action.CALENDAR:
            reason = notrequests.calendar(ctx, mail, raw, ticket, decision.member)
        elif decision.action is Action.THANKS:
            assert decision.member is not None
            ticket, reason = notrequests.thanks(ctx, mail, decision.member)
        elif decision.action is Action.BOUNCE:
            reason = notices.bounce(ctx, mail, ticket)
        elif decision.action is Action.AUTO_REPLY:
            reason = notices.auto_reply(ctx, mail, ticket)
        elif decision.action is Action.IGNORE:
            reason = decision.reason
        elif decision.action is Action.AIDEUR_UNROUTED:
            notices.aideur_unrouted(ctx, mail, decision.reason)
        queued = len(self.outbox.store_all(ctx))
        # INFO: what an operator follows in the journal; nothing personal (no address, subject, name, body,
        # and not the router's reason either: a robot's reason can quote the subject).
        log.info("mail %s: %s%s, %d mail(s) queued", mail_tag(mail.message_id), decision.action.value,
                 f", ticket {ticket.ref}" if ticket is not None else "", queued)
        log.debug("mail %s: Message-ID <%s> from %s, subject %r: %s", mail_tag(mail.message_id), mail.message_id,
                  mail.from_address, mail.subject, decision.reason)
        erased = ctx.erased or (decision.member is not None and decision.member.status == "erased")
        return decision.action.value, ticket, erased, reason

    # --- helpers ----------------------------------------------------------------------------------------------
    @staticmethod
    def _record_key(session: Session, message_id: str, digest: str, content: str,
                    legacy: Callable[[], str] | None = None) -> str | None:
        """The Message-ID to record this mail under, or None when this very mail is recorded already.

        Its own Message-ID when new; when that is taken by a mail of the same content (the same bytes, or the same
        mail with other delivery traces), None: a duplicate; by another content: the derived identifier of this
        content, unless that is recorded too (this variant, delivered again).

        Also looked for, as a match only (they never take the Message-ID): the record of an erased person's mail,
        whose Message-ID the erasure turned into members.erased_identifier (a late second delivery of her mail is
        still a duplicate, and records nothing of her again); and, for an invented Message-ID, the one earlier
        versions made from the raw bytes. `legacy` gives this mail's content digest computed the way earlier
        versions did (content_digest(legacy=True)): compared, only when records of this Message-ID exist and none
        matched, with what those versions stored."""
        variant = variant_id(message_id, content)
        own = [message_id, variant]
        keys = [*own, erased_identifier(message_id), erased_identifier(variant)]
        if message_id.endswith("@mailbot.invalid"):
            keys.append(f"{digest}@mailbot.invalid")  # invented by an earlier version: the raw bytes' SHA-256
        rows = session.connection().execute(RECORDED, {"keys": keys}).all()
        variants = {variant, erased_identifier(variant)}
        if any(key in variants or raw == digest or (stored and stored == content) for key, raw, stored in rows):
            return None
        if rows and legacy is not None:
            old = legacy()
            if old != content:
                earlier = variant_id(message_id, old)
                rows_old = session.connection().execute(
                    RECORDED, {"keys": [earlier, erased_identifier(earlier)]}).all()
                if rows_old or any(stored == old for _, _, stored in rows):
                    return None
        if not any(key in own for key, _, _ in rows):
            return message_id
        return variant

    @staticmethod
    def _erased_copy(session: Session, message_id: str, digest: str, content: str,
                     legacy: Callable[[], str]) -> bool:
        """Whether this duplicate is a copy of a mail whose record an erasure rewrote (see _record_key): read
        only on the duplicate path, so a mail of the usual kind pays nothing for it."""
        erased_variant = erased_identifier(variant_id(message_id, content))
        rows = session.connection().execute(
            RECORDED, {"keys": [erased_identifier(message_id), erased_variant]}).all()
        return any(key == erased_variant or raw == digest or stored in (content, legacy())
                   for key, raw, stored in rows)

    def _committed(self, message_id: str, digest: str, content: str,
                   legacy: Callable[[], str] | None = None) -> bool:
        """Whether this mail is recorded now (after a unique-key conflict: by whom else?). A mail of the same
        Message-ID but another content recorded meanwhile does not count: this one is processed again."""
        try:
            with self.sessions() as session:
                return self._record_key(session, message_id, digest, content, legacy) is None
        except (OperationalError, InterfaceError) as error:
            raise TransientError(str(error)) from error

    @staticmethod
    def _advance(session: Session, folder: str, uidvalidity: int, uid: int) -> None:
        """Move the folder's checkpoint to `uid`: one UPDATE in the usual case (the row exists), computed in SQL
        since another daemon may have committed a higher UID since this transaction began; an INSERT the first
        time (two daemons inserting it at once: the loser's IntegrityError is retried by process)."""
        moved = session.connection().execute(ADVANCE, {"at_folder": folder, "validity": uidvalidity, "uid": uid})
        if not getattr(moved, "rowcount", 0):
            session.add(MailboxCheckpoint(folder=folder, uidvalidity=uidvalidity, last_uid=uid))

    def _tell_aideur(self, session: Session, now: datetime, **notice: str) -> None:
        """Queue the quarantine notice; if even that fails, the mail is still quarantined (and logged)."""
        try:
            with session.begin_nested():
                ctx = WorkflowContext(session=session, settings=self.settings, signer=self.signer, now=now)
                notices.quarantined(ctx, folder=self.settings.quarantine_folder, **notice)
                self.outbox.store_all(ctx)
        except (OperationalError, InterfaceError):
            raise
        except Exception:  # the notice is a courtesy; the quarantine itself must happen
            log.exception("could not queue the quarantine notice for %s", mail_tag(notice.get("message_id", "")))

    def _quarantine(self, raw: bytes, digest: str, mail: InboundMail | None, reason: str, folder: str,
                    uidvalidity: int, uid: int, now: datetime) -> Outcome:
        message_id = mail.message_id if mail else f"quarantine-{digest}@mailbot.invalid"
        content = content_digest(raw)

        def legacy() -> str:  # rows recorded by earlier versions hold this one (see _record_key)
            return content_digest(raw, legacy=True)

        try:
            with self.sessions.begin() as session:
                key = self._record_key(session, message_id, digest, content, legacy)
                if key is None:
                    self._advance(session, folder, uidvalidity, uid)
                    return Outcome(QUARANTINED, "duplicate")
                message_id = key
                sender = mail.from_address if mail else _sniff_header(raw, b"from")
                subject = mail.subject if mail else _sniff_header(raw, b"subject")
                # The notice's subject line holds the mail's, shortened by the template; its body says it whole
                # (issue 13, point 7). (Its idempotency key holds the Message-ID: the outbox stores long keys with
                # a digest.) A From with no usable address (sender_problem) is shown to Aideur as it was written.
                self._tell_aideur(session, now, message_id=message_id, sender=sender or _sniff_header(raw, b"from"),
                                  subject=subject[:998],
                                  reason=reason)
                session.add(InboundRecord(
                    message_id=message_id, folder=folder, uidvalidity=uidvalidity, uid=uid, received_at=now,
                    from_address=sender[:320], subject=subject[:998], kind=mail.kind.value if mail else "unknown",
                    outcome=QUARANTINED, reason=reason, size=len(raw), raw_sha256=digest, content_sha256=content))
                self._advance(session, folder, uidvalidity, uid)
        except IntegrityError as error:
            if self._committed(message_id, digest, content, legacy):  # quarantined meanwhile by another daemon
                return Outcome(QUARANTINED, "duplicate")
            raise TransientError(f"conflict with a concurrent transaction: {error.orig}") from error
        except (OperationalError, InterfaceError) as error:
            raise TransientError(str(error)) from error
        log.warning("mail uid %s %s quarantined (%s)", uid, mail_tag(message_id), _kind_of(reason))
        log.debug("mail uid %s %s quarantined: %s", uid, mail_tag(message_id), reason)
        return Outcome(QUARANTINED, "quarantined")


def _load(raw: bytes) -> email.message.Message | None:
    """The mail parsed (mime.load: slimmed, compat32), or None when even that fails (each reader then says why)."""
    try:
        return mime.load(raw)
    except Exception:  # noqa: BLE001 - parse_mail quarantines it with the reason
        return None


def variant_id(message_id: str, content: str) -> str:
    """The identifier a mail is recorded under when its Message-ID is taken by another content."""
    base = message_id[:998 - len(VARIANT_MARK) - 16]
    return f"{base}{VARIANT_MARK}{content[:16]}"


def _kind_of(reason: str) -> str:
    """A quarantine reason without its details, for the log: "erreur interne : KeyError", "mail illisible"
    (an exception's text can quote the mail; the whole reason goes to Aideur and into the inbound record)."""
    head, _, rest = reason.partition(" : ")
    first = rest.strip().split("\n", 1)[0]
    return f"{head} : {first.split(':', 1)[0].strip()}" if ":" in first else head


def _sniff_header(raw: bytes, name: bytes) -> str:
    """A best-effort header value from bytes the parser refused, for Aideur's notice only."""
    for line in raw[:20000].splitlines():
        if not line.strip():
            break
        key, sep, value = line.partition(b":")
        if sep and key.strip().lower() == name:
            return value.strip().decode("utf-8", "replace").replace("\x00", "")[:200]  # PostgreSQL refuses NUL
    return ""
