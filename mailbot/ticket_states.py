"""A ticket's life as one explicit machine: its states, the moves between them, their French labels.

Every module that changes `tickets.status` goes through `move()`, and every module that shows a state to a person
uses `label()`: there is no other list of states or of labels. The column stays a plain string (`TicketStatus` is a
`str`), so stored values and old rows need no migration.
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mailbot.models import Ticket

__all__ = ["CLOSED_STATES", "OPEN_STATES", "Move", "TicketStatus", "TransitionError", "allowed", "is_open", "label",
           "move", "target"]


class TicketStatus(StrEnum):
    NEW = "new"              # received, waiting for Aideur's decision (the promise: an answer by due_at)
    ACCEPTED = "accepted"    # Aideur takes it on (the promise: proposals by due_at)
    PROPOSED = "proposed"    # a solution or a quote was sent: the promise is kept
    CLOSED = "closed"        # Aideur closed it
    DECLINED = "declined"    # Aideur said the club cannot help
    WITHDRAWN = "withdrawn"  # the member said it is solved or no longer needed (or was erased)


class Move(StrEnum):
    """What can happen to a ticket (Aideur's commands, the member's words, the erasure of the member)."""

    ACCEPT = "accepter"
    POSTPONE = "reporter"
    PROPOSE = "proposer"     # #solution, #devis
    DECLINE = "refuser"
    CLOSE = "clore"
    WITHDRAW = "retirer"
    REOPEN = "rouvrir"
    WORK = "faire"           # #appel, #relier: work on an open request, its state unchanged


LABELS: dict[TicketStatus, str] = {
    TicketStatus.NEW: "à trier",
    TicketStatus.ACCEPTED: "acceptée",
    TicketStatus.PROPOSED: "proposition faite",
    TicketStatus.CLOSED: "close",
    TicketStatus.DECLINED: "refusée",
    TicketStatus.WITHDRAWN: "retirée par le membre",
}

OPEN_STATES = frozenset({TicketStatus.NEW, TicketStatus.ACCEPTED, TicketStatus.PROPOSED})
CLOSED_STATES = frozenset({TicketStatus.CLOSED, TicketStatus.DECLINED, TicketStatus.WITHDRAWN})

_N, _A, _P = TicketStatus.NEW, TicketStatus.ACCEPTED, TicketStatus.PROPOSED
# (state, move) → new state. A pair missing here is not allowed; `_REFUSALS` says why, in Aideur's words.
TRANSITIONS: dict[tuple[TicketStatus, Move], TicketStatus] = {
    (_N, Move.ACCEPT): _A,
    **{(state, Move.POSTPONE): state for state in OPEN_STATES},  # a new date for the same promise
    **{(state, Move.WORK): state for state in OPEN_STATES},
    **{(state, Move.PROPOSE): _P for state in OPEN_STATES},
    **{(state, Move.DECLINE): TicketStatus.DECLINED for state in OPEN_STATES},
    **{(state, Move.CLOSE): TicketStatus.CLOSED for state in OPEN_STATES},
    **{(state, Move.WITHDRAW): TicketStatus.WITHDRAWN for state in OPEN_STATES},
    # Reopened, the request is back with Aideur to decide again (#accepter, #solution…).
    **{(state, Move.REOPEN): _N for state in CLOSED_STATES},
}

_VERBS = {Move.ACCEPT: "accepter", Move.POSTPONE: "reporter", Move.PROPOSE: "proposer", Move.DECLINE: "refuser",
          Move.CLOSE: "clore", Move.WITHDRAW: "retirer", Move.REOPEN: "rouvrir", Move.WORK: "faire"}


class TransitionError(ValueError):
    """A move the ticket's state does not allow; the message is French, for Aideur, and says what to do."""


def label(status: str) -> str:
    """The French label of a stored status ("accepted" → "acceptée"); an unknown value is shown as it is."""
    try:
        return LABELS[TicketStatus(status)]
    except ValueError:
        return status


def is_open(ticket: Ticket) -> bool:
    return ticket.status in OPEN_STATES


def allowed(status: str, move: Move) -> bool:
    try:
        return (TicketStatus(status), move) in TRANSITIONS
    except ValueError:
        return False


def target(ref: str, status: str, move: Move) -> TicketStatus:
    """The state `move` leads to from `status`, or TransitionError saying why not (`ref` names the ticket)."""
    state = TicketStatus(status)
    if (state, move) in TRANSITIONS:
        return TRANSITIONS[(state, move)]
    verb = _VERBS[move]
    if state in CLOSED_STATES:
        how = "" if state is TicketStatus.CLOSED else f" ({LABELS[state]})"
        raise TransitionError(f"La demande {ref} est déjà close{how} : rien à {verb}. Si elle doit reprendre, "
                              "écrivez d'abord #rouvrir.")
    if move is Move.REOPEN:
        raise TransitionError(f"La demande {ref} est encore ouverte ({LABELS[state]}) : il n'y a rien à rouvrir.")
    if move is Move.ACCEPT:
        raise TransitionError(f"La demande {ref} est déjà acceptée ({LABELS[state]}) : pour changer la date des "
                              "propositions, utilisez #reporter DATE motif.")
    raise TransitionError(f"La demande {ref} ({LABELS[state]}) ne peut pas être {verb}.")  # pragma: no cover


def move(ticket: Ticket, what: Move, now: datetime) -> TicketStatus:
    """Apply `what` to the ticket: its status, and `closed_at`/`due_at` when it closes or reopens. Raises
    TransitionError when the state does not allow it (callers check first with `target()` to answer Aideur)."""
    new = target(ticket.ref, ticket.status, what)
    ticket.status = new.value
    if new in CLOSED_STATES:
        ticket.closed_at, ticket.due_at = now, None
    elif what is Move.REOPEN:
        ticket.closed_at = None
    return new
