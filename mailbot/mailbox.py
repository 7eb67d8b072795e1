"""The club mailbox over IMAP (imap-tools): the only module that talks IMAP.

It lists what is waiting (in UID order), fetches raw bytes in batches bounded by count and by size, moves mail
once its effects are committed, and waits for new mail with IDLE (or plain polling when the server has none).
"""
from __future__ import annotations

import contextlib
import imaplib
import re
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from imap_tools import AND, BaseMailBox, H, MailBox, MailBoxStartTls, MailBoxUnencrypted
from imap_tools.errors import (
    MailboxCopyError,
    MailboxFolderCreateError,
    MailboxLoginError,
    MailboxMoveError,
    MailboxTaggedResponseError,
    UnexpectedCommandStatusError,
)

from mailbot import oauth
from mailbot.config import ServerSettings

MOVE_ATTEMPTS = 3
HEADER_CHUNK = 500  # UIDs per header FETCH: keeps the command line short
HEAD_CHUNK = 100  # UIDs per FETCH of whole headers or heads (at most 64 KB each: a few MB in memory at a time)
IDLE_MAX_SECONDS = 25 * 60  # RFC 2177: re-issue IDLE before 29 minutes
_FETCH_UID = re.compile(rb"UID (\d+)")
_FETCH_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")

# What a dropped connection or a server going away looks like from imaplib: all of it means "reconnect later".
IMAP_CONNECTION_ERRORS = (OSError, imaplib.IMAP4.abort, imaplib.IMAP4.error, ssl.SSLError, EOFError)
# What the server's refusal of one command looks like (a tagged NO, which imap-tools raises for every command it
# checks: SELECT, STATUS, CREATE, MOVE, COPY, STORE, EXPUNGE, SEARCH, APPEND…): the connection is fine, the refusal
# is about this command (a folder missing, a full account, a permission, a server bug). Not a reason to reconnect;
# the daemon decides per command what to do (daemon.py). MailboxLoginError is one too, handled on its own.
IMAP_REFUSALS = (UnexpectedCommandStatusError,)


LOGOUT_SECONDS = 5.0  # closing: how long a server is waited for to answer LOGOUT


@dataclass(frozen=True)
class FetchedMail:
    uid: int
    raw: bytes


class Mailbox:
    def __init__(self, server: ServerSettings, folder: str, *, timeout: float = 60.0) -> None:
        self.server = server
        self.folder = folder
        self.timeout = timeout
        self._box: BaseMailBox | None = None
        self.uidvalidity = 0

    # --- connection -------------------------------------------------------------------------------------------
    def connect(self) -> None:
        self.close()
        box = self._new_client()
        try:
            self._login(box)
        except BaseException:
            _logout_quietly(box)
            raise
        _refresh_capabilities(box)
        self._box = box
        self.select()

    def _login(self, box: BaseMailBox) -> None:
        if self.server.auth != "xoauth2":
            box.login(self.server.user, self.server.password, initial_folder=None)
            return
        assert self.server.oauth2 is not None
        try:
            token = oauth.access_token(self.server.oauth2)
        except oauth.OAuthError as error:
            if error.refused:
                raise  # a wrong setting: retrying cannot help, the message says which
            raise ConnectionError(str(error)) from error  # the endpoint is down: reconnect with backoff
        try:
            box.xoauth2(self.server.user, token, initial_folder=None)
        except (MailboxLoginError, imaplib.IMAP4.error):  # imaplib's AUTHENTICATE raises its own error on NO
            # Revoked or expired early: the next attempt (the daemon reconnects with backoff) asks for a new one.
            oauth.TOKENS.invalidate(self.server.oauth2)
            raise

    def _new_client(self) -> BaseMailBox:
        """TLS with the certificate and host name checked (ServerSettings.ssl_context), for ssl and starttls."""
        host, port = self.server.host, self.server.port
        if self.server.security == "ssl":
            return MailBox(host, port, timeout=self.timeout, ssl_context=self.server.ssl_context())
        if self.server.security == "starttls":
            return MailBoxStartTls(host, port, timeout=self.timeout, ssl_context=self.server.ssl_context())
        return MailBoxUnencrypted(host, port, timeout=self.timeout)

    def select(self) -> None:
        box = self.box
        box.folder.set(self.folder)
        status = box.folder.status(self.folder, ["UIDVALIDITY"])
        self.uidvalidity = int(status["UIDVALIDITY"])

    def close(self) -> None:
        """LOGOUT and close. A server that no longer answers is given LOGOUT_SECONDS, not the whole IMAP timeout."""
        if self._box is not None:
            # closing a dead connection must never raise
            with contextlib.suppress(Exception):
                self._box.client.sock.settimeout(min(self.timeout, LOGOUT_SECONDS))
                self._box.logout()
            self._box = None

    def abandon(self) -> None:
        """Close the connection without a word to the server: for when an exchange was cut in the middle (a signal
        during the NOOP, IDLE's start or its DONE) and what the server expects next is unknown. A LOGOUT sent into
        an IDLE the server still holds is answered "Expected DONE", never with the LOGOUT's own answer."""
        if self._box is not None:
            _logout_quietly(self._box)
            self._box = None

    @property
    def box(self) -> BaseMailBox:
        if self._box is None:
            raise ConnectionError("IMAP not connected")
        return self._box

    def ensure_folder(self, name: str) -> None:
        if not self.box.folder.exists(name):
            try:
                self.box.folder.create(name)
            except MailboxFolderCreateError as error:
                # Another daemon starting at the same moment created it first (NO [ALREADYEXISTS]): fine.
                if "ALREADYEXISTS" not in str(error) and not self.box.folder.exists(name):
                    raise

    # --- reading ----------------------------------------------------------------------------------------------
    def count(self, folder: str) -> int:
        """How many mails another folder holds (STATUS: nothing fetched, the selection unchanged); 0 if missing."""
        if not self.box.folder.exists(folder):
            return 0
        return int(self.box.folder.status(folder, ["MESSAGES"])["MESSAGES"])

    def sizes(self) -> list[tuple[int, int]]:
        """(uid, size) of every mail in the folder, in UID (arrival) order. Cheap: no bodies."""
        self.box.client.untagged_responses.pop("EXISTS", None)  # from now on, an EXISTS is news: wait_for_mail
        if not self.box.uids("ALL"):
            return []  # some servers answer an error to "1:*" on an empty folder
        status, data = self.box.client.uid("FETCH", "1:*", "(UID RFC822.SIZE)")
        if status != "OK":
            raise imaplib.IMAP4.error(f"UID FETCH sizes failed: {data!r}")
        result = []
        for item in data:
            line = item[0] if isinstance(item, tuple) else item
            if not line:
                continue
            uid, size = _FETCH_UID.search(line), _FETCH_SIZE.search(line)
            if uid and size:
                result.append((int(uid.group(1)), int(size.group(1))))
        return sorted(result)

    def fetch(self, uids: list[int]) -> Iterator[FetchedMail]:
        """Raw bytes of these mails, in the order given, without marking them seen.

        Raw imaplib FETCH through imap-tools' client: imap-tools' own fetch parses every message with the email
        package, and we parse once, our way, in parsers/.
        """
        if not uids:
            return
        status, data = self.box.client.uid("FETCH", ",".join(map(str, uids)), "(UID BODY.PEEK[])")
        if status != "OK":
            raise imaplib.IMAP4.error(f"UID FETCH failed: {data!r}")
        by_uid: dict[int, bytes] = {}
        for item in data:
            if isinstance(item, tuple) and len(item) == 2:
                match = _FETCH_UID.search(item[0])
                if match:
                    by_uid[int(match.group(1))] = item[1]
        del data
        for uid in uids:
            raw = by_uid.pop(uid, None)
            if raw is not None:  # gone meanwhile (another client moved it): nothing to do
                yield FetchedMail(uid, raw)

    def headers(self, uids: list[int], fields: tuple[str, ...]) -> dict[int, bytes]:
        """These header fields of these mails (BODY.PEEK: not marked seen), by UID; a mail gone meanwhile is
        absent. A few hundred bytes a mail, however big its body: cheap enough to read the whole backlog."""
        return self._peek(uids, f"BODY.PEEK[HEADER.FIELDS ({' '.join(fields)})]")

    def header_blocks(self, uids: list[int], size: int) -> dict[int, bytes]:
        """The header of these mails as they were received — every field, in order, up to the blank line — cut at
        `size` bytes, by UID (not marked seen; a mail gone meanwhile is absent). The bytes the parser reads, not
        the server's reading of them: a server and the parser may split fields differently (a bare CR)."""
        return self._peek(uids, f"BODY.PEEK[HEADER]<0.{int(size)}>", HEAD_CHUNK)

    def heads(self, uids: list[int], size: int) -> dict[int, bytes]:
        """The first `size` bytes of these mails, by UID (not marked seen; a mail gone meanwhile is absent)."""
        return self._peek(uids, f"BODY.PEEK[]<0.{int(size)}>", HEAD_CHUNK)

    def _peek(self, uids: list[int], what: str, per_fetch: int = HEADER_CHUNK) -> dict[int, bytes]:
        found: dict[int, bytes] = {}
        for start in range(0, len(uids), per_fetch):
            chunk = uids[start:start + per_fetch]
            status, data = self.box.client.uid("FETCH", ",".join(map(str, chunk)), f"(UID {what})")
            if status != "OK":
                raise imaplib.IMAP4.error(f"UID FETCH {what} failed: {data!r}")
            for item in data:
                if isinstance(item, tuple) and len(item) == 2:
                    match = _FETCH_UID.search(item[0])
                    if match:
                        found[int(match.group(1))] = item[1]
        return found

    # --- writing ----------------------------------------------------------------------------------------------
    def move(self, uids: list[int], folder: str) -> None:
        """Move by UID (a UID is never reused: nothing else can be moved). A UID another session (another daemon)
        expunged a moment ago is skipped: Dovecot refuses the whole COPY/MOVE with NO [EXPUNGEISSUED] and copies
        nothing, so it is tried again once this session has seen the expunge. A destination that no longer exists
        (deleted or renamed in a mail client while the daemon runs: NO [TRYCREATE], RFC 3501 6.4.7) is created again
        and the move tried once more. Any other refusal is raised (one of IMAP_REFUSALS): nothing was moved."""
        if not uids:
            return
        created = False
        failures = 0
        while True:
            try:
                self.box.move([str(uid) for uid in uids], folder)
                return
            except (MailboxCopyError, MailboxMoveError) as error:
                answer = str(error)
                if "TRYCREATE" in answer and not created:
                    created = True
                    self.ensure_folder(folder)  # a refusal to create it is raised from here
                    continue
                failures += 1
                if "EXPUNGEISSUED" not in answer or failures >= MOVE_ATTEMPTS:
                    raise
                self.box.client.noop()

    def move_claimed(self, uids: list[int], folder: str) -> list[int]:
        """Move these mails and return those this session moved itself: when two sessions move the same mail at
        once, one moves it and the other moves nothing (the UID is gone), and only the server knows which. Read from
        the UIDPLUS COPYUID answer (none: nothing moved); from a server without UIDPLUS, every UID is taken as moved
        by this session."""
        if not uids:
            return []
        client = self.box.client
        client.untagged_responses.pop("COPYUID", None)
        self.move(uids, folder)
        answers = client.untagged_responses.pop("COPYUID", None)
        if answers is None:
            return [] if "UIDPLUS" in client.capabilities else list(uids)
        moved: set[int] = set()
        for answer in answers:
            parts = (answer.decode("ascii", "replace") if isinstance(answer, bytes) else str(answer)).split()
            if len(parts) >= 2:
                moved |= _uid_set(parts[1])
        return [uid for uid in uids if uid in moved]

    def delete(self, uids: list[int]) -> None:
        """Delete these mails of the working folder by UID (\\Deleted + EXPUNGE, not to a trash folder)."""
        if uids:
            self.box.delete([str(uid) for uid in uids])

    def delete_everywhere(self, message_ids: list[str], folders: list[str], *,
                          deletable: Callable[[str, int, list[int]], list[int]] | None = None,
                          ) -> tuple[int, set[str]]:
        """Delete (\\Deleted + EXPUNGE, not to a trash folder) every mail with these Message-IDs in these folders
        that `deletable(folder, uidvalidity, uids)` lets go (all of them without it); the working folder is selected
        again afterwards. A Message-ID says nothing of whether the mail found under it was ever taken in (another
        sender may reuse it, a copy may have arrived since): the caller decides per UID. Returns how many mails were
        deleted and the Message-IDs under which a mail was found and left."""
        deleted = 0
        left: set[str] = set()
        try:
            for folder in folders:
                if not self.box.folder.exists(folder):
                    continue
                self.box.folder.set(folder)
                uidvalidity: int | None = None
                for message_id in message_ids:
                    uids = [int(uid) for uid in self.box.uids(AND(header=H("Message-ID", _as_carried(message_id))))]
                    if uids and deletable is not None:
                        if uidvalidity is None:
                            uidvalidity = int(self.box.folder.status(folder, ["UIDVALIDITY"])["UIDVALIDITY"])
                        allowed = set(deletable(folder, uidvalidity, uids))
                        if any(uid not in allowed for uid in uids):
                            left.add(message_id)
                        uids = [uid for uid in uids if uid in allowed]
                    if uids:
                        self.box.delete([str(uid) for uid in uids])
                        deleted += len(uids)
        finally:
            self.select()
        return deleted, left

    # --- waiting ----------------------------------------------------------------------------------------------
    def supports_idle(self) -> bool:
        return "IDLE" in self.box.client.capabilities

    def wait_for_mail(self, seconds: float) -> bool:
        """Block until the server announces new mail (IDLE) or `seconds` pass. True when something arrived.

        Mail that arrived after the last listing (`sizes`) may already have been announced, during the cycle's own
        commands: IDLE would not announce it again, and it would wait for the next mail or the poll interval. So a
        NOOP first, and an EXISTS seen since the listing returns at once."""
        client = self.box.client
        client.noop()
        if client.untagged_responses.pop("EXISTS", None):
            return True
        try:
            responses = self.box.idle.wait(timeout=min(seconds, IDLE_MAX_SECONDS))
        except MailboxTaggedResponseError as error:
            # The server answered IDLE with "* BYE Server shutting down" (a restart between the NOOP and the IDLE):
            # the connection is gone, as with any other abort, and the daemon reconnects.
            raise imaplib.IMAP4.abort(f"IDLE refused: {error}") from error
        return any(b"EXISTS" in line or b"RECENT" in line for line in responses)


def _refresh_capabilities(box: BaseMailBox) -> None:
    """imaplib keeps the capabilities the server greeted with; once logged in it offers more, MOVE among them. With
    MOVE, imap-tools moves a mail with one atomic UID MOVE instead of COPY + \\Deleted + EXPUNGE, which a crash can
    cut in the middle (a second copy in the processed folder) and whose EXPUNGE takes other sessions' \\Deleted
    mail too."""
    status, data = box.client.capability()
    if status == "OK" and data and data[-1]:
        box.client.capabilities = tuple(str(data[-1], "ascii", "replace").upper().split())


def _logout_quietly(box: BaseMailBox) -> None:
    """A connection whose login failed is closed, not left to the garbage collector."""
    # closing a failed connection must never hide why it failed
    with contextlib.suppress(Exception):
        box.client.shutdown()


def _uid_set(text: str) -> set[int]:
    """An IMAP sequence set of UIDs ("3,5:7") as numbers."""
    found: set[int] = set()
    for part in text.split(","):
        low, _, high = part.partition(":")
        if low.isdigit() and (not high or high.isdigit()):
            found.update(range(int(low), int(high or low) + 1))
    return found


def batches(sizes: list[tuple[int, int]], max_count: int, max_bytes: int) -> Iterator[list[int]]:
    """Group UIDs so that a batch never holds more than `max_count` mails or `max_bytes` (a big mail goes alone)."""
    batch: list[int] = []
    total = 0
    for uid, size in sizes:
        if batch and (len(batch) >= max_count or total + size > max_bytes):
            yield batch
            batch, total = [], 0
        batch.append(uid)
        total += size
    if batch:
        yield batch


def server_answer(error: UnexpectedCommandStatusError, limit: int = 300) -> str:
    """The server's own words for a refused command ("NO [OVERQUOTA] Quota exceeded"), for a log line: no mail
    content, only the status and the text the server sent with it."""
    status, data = error.command_result[0], error.command_result[1]
    parts = data if isinstance(data, list | tuple) else [data]
    text = " ".join(part.decode("utf-8", "replace") if isinstance(part, bytes) else str(part)
                    for part in parts if part is not None and not isinstance(part, tuple))
    answer = f"{status} {' '.join(text.split())}".strip()
    return answer if len(answer) <= limit else answer[:limit] + "…"


__all__ = ["IMAP_CONNECTION_ERRORS", "IMAP_REFUSALS", "FetchedMail", "Mailbox", "batches", "server_answer"]


def _as_carried(message_id: str) -> str:
    """The Message-ID as the mail carries it: a mail recorded under a derived identifier (its Message-ID was
    already taken by another content, see pipeline.variant_id) is searched by its own."""
    message_id = message_id.strip("<>")
    base, mark, rest = message_id.rpartition(".rejeu-")  # a quarantine record released by a replay (quarantine.py)
    if mark and rest.isdigit():
        message_id = base
    base, mark, rest = message_id.rpartition(".variante-")
    return base if mark and len(rest) == 16 else message_id
