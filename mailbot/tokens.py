"""Unforgeable routing tokens (docs/architecture.md, "Routing tokens").

A token names what a reply is about and who it was sent to: a scope letter (t = ticket, c = Aideur's command
address (its number is the address's generation: `mailbot aideur rotate-address` makes a new one), q = a command
waiting for Aideur's confirmation, r = registration, p = a member's profile, x = a confirmation asked before ending
membership or erasing data, v = a confirmation of one pending change (a profile change or a registration asked by a
fresh mail), a = one member asked by an appeal, k = one side's consent before contact, f = a result form,
b = the envelope sender of one outgoing mail, for its delivery reports, w = the one counterpart a notification to
Aideur is about (its reply address) and the mail relayed to that counterpart (theirs), o = one member asked by a poll), a number, and the
recipient's role
(m = member, a = Aideur,
h = helper), sealed with an HMAC of the operator's secret. Lower-case only, because some providers fold the
local part of an address; 80 bits of MAC so that guessing is hopeless.

It travels in the Reply-To plus address (`aide+t42m-<mac>@club`) and at the start of every Message-ID we send,
so that a reply still finds its way through In-Reply-To/References where a provider drops plus addresses. The
Message-ID's copy is sealed differently (a MAC over "thread:" and the payload): a Message-ID is copied into every
reply, forward and Cc, so whoever sees one must not be able to make the reply address out of it. A thread token
verifies only where thread headers are read (`find(..., thread=True)`), never as an address.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

MAC_LENGTH = 20  # hex characters: 80 bits
ADDRESS_HEX = 9  # an address's registration number: 36 bits of a keyed digest, at most 11 digits
TOKEN_PATTERN = re.compile(rf"\b([a-z])(\d{{1,12}})([a-z])-([0-9a-f]{{{MAC_LENGTH}}})\b", re.IGNORECASE)

SCOPE_TICKET = "t"
SCOPE_COMMAND = "c"  # number: the generation of the command address (aideur_state)
SCOPE_PENDING = "q"  # number: the PendingCommand's id (its confirmation mail's reply address)
# number: a keyed digest of the address the invitation was sent to (address_token): a reply through it proves
# the sender reads that mailbox, for that address only. (0 was the old shared number: it proves nothing.)
SCOPE_REGISTRATION = "r"
SCOPE_PROFILE = "p"  # number: the member's id
SCOPE_CONFIRM = "x"  # number: the member's id; the pending action is stored on the member
SCOPE_VERIFY = "v"  # number: the PendingChange's id; bound to the address it was sent to, used once
SCOPE_APPEAL = "a"  # number: the Solicitation's id
SCOPE_CONSENT = "k"  # number: the Consent's id (one per person asked)
SCOPE_RESULT = "f"  # number: the ResultForm's id
# The envelope sender (VERP) of one outgoing mail: a delivery report comes back to it. Number: the OutboxMail's id
# (whose row names the recipient); role: the recipient's. Never a reply address: it routes nothing else.
SCOPE_BOUNCE = "b"
# The one counterpart Aideur's free text goes to (issue 12, point 2): number, the Counterpart's id. Role a: the
# reply address of a notification to Aideur (his text goes to that counterpart); role h or m: the reply address of
# the mail relayed to the counterpart (their answer comes back to Aideur bound to them). The role is under the MAC,
# so a helper's own address can never be turned into Aideur's.
SCOPE_COUNTERPART = "w"
# The club's documentation (issue 17, point 3): number, the member's id. A reply to a documentation mail ("doc 4")
# counts only from that member (router._documents); it never opens a ticket for a forwarder.
SCOPE_DOCS = "d"
# One member asked by a poll (issue 17): number, the PollParticipant's id (bound to that member and that poll).
SCOPE_POLL = "o"
# One member and one activity (issue 17): number, the Booking's id (created when the activity is announced or
# listed to that member). Only that member's answer books, cancels or leaves the waiting list.
SCOPE_ACTIVITY = "e"
ROLE_MEMBER = "m"
ROLE_AIDEUR = "a"
ROLE_HELPER = "h"
THREAD = "thread:"  # what a Message-ID's MAC covers before the payload


@dataclass(frozen=True)
class Token:
    scope: str
    number: int
    role: str

    @property
    def payload(self) -> str:
        return f"{self.scope}{self.number}{self.role}"


class TokenSigner:
    """Signs with the first key, verifies with any (so a key can be rotated without breaking pending replies)."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise ValueError("at least one secret key is needed")
        self._keys = tuple(keys)

    def _mac(self, key: bytes, payload: str) -> str:
        return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()[:MAC_LENGTH]

    def sign(self, token: Token) -> str:
        """The token as it goes in a reply address."""
        return f"{token.payload}-{self._mac(self._keys[0], token.payload)}"

    def sign_thread(self, token: Token) -> str:
        """The token as it goes in a Message-ID: it names the thread, and is worth nothing as an address."""
        return f"{token.payload}-{self._mac(self._keys[0], THREAD + token.payload)}"

    def verify(self, text: str, *, thread: bool = False) -> Token | None:
        """The token if `text` is exactly one well-formed token with a valid MAC, else None. With `thread`, a
        Message-ID's token (sign_thread) is accepted too; so is an address token, as in the Message-IDs of mails
        sent before thread tokens existed."""
        match = TOKEN_PATTERN.fullmatch(text.strip().lower())
        if not match:
            return None
        scope, number, role, mac = match.groups()
        token = Token(scope, int(number), role)
        for key in self._keys:
            if hmac.compare_digest(self._mac(key, token.payload), mac):
                return token
            if thread and hmac.compare_digest(self._mac(key, THREAD + token.payload), mac):
                return token
        return None

    def find(self, candidates: Iterable[str], *, thread: bool = False, scopes: Iterable[str] | None = None,
             exclude: Iterable[str] = ()) -> Token | None:
        """The first valid token found inside any of the strings: addresses, or with `thread` Message-IDs
        (In-Reply-To, References); among the given scopes (default: any) and not of an excluded one."""
        wanted = None if scopes is None else set(scopes)
        unwanted = set(exclude)
        for text in candidates:
            for match in TOKEN_PATTERN.finditer(text.lower()):
                token = self.verify(match.group(0), thread=thread)
                if token is not None and token.scope not in unwanted and (wanted is None or token.scope in wanted):
                    return token
        return None

    def _address_number(self, key: bytes, address: str) -> int:
        digest = hmac.new(key, b"address:" + address.strip().lower().encode("utf-8"), hashlib.sha256).hexdigest()
        return int(digest[:ADDRESS_HEX], 16)

    def address_token(self, address: str) -> Token:
        """The registration token bound to one address: the invitation sent there carries it.

        The number is keyed with the secret, so nobody can compute the number of another address (nor search
        for an address of theirs sharing it), and it changes nothing for a reply from any other address."""
        return Token(SCOPE_REGISTRATION, self._address_number(self._keys[0], address), ROLE_MEMBER)

    def address_matches(self, token: Token, address: str) -> bool:
        """Whether `token` is the registration token of `address` (under any key still accepted)."""
        if token.scope != SCOPE_REGISTRATION or not address:
            return False
        return any(hmac.compare_digest(str(self._address_number(key, address)), str(token.number))
                   for key in self._keys)

    def ballot_keys(self, poll_id: int, member_id: int) -> list[str]:
        """The keys an anonymous poll's ballot of this voter may be stored under (the first: where it goes now;
        the others: under keys still accepted after a rotation). A keyed hash: without the secret, nobody can tell
        whose ballot a key is (workflows/polls.py)."""
        payload = f"ballot:{poll_id}:{member_id}".encode()
        return [hmac.new(key, payload, hashlib.sha256).hexdigest() for key in self._keys]

    def plus_address(self, club_address: str, token: Token) -> str:
        local, domain = club_address.rsplit("@", 1)
        return f"{local}+{self.sign(token)}@{domain}"
