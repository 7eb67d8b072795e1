"""What every workflow is given (WorkflowContext) and what it returns (Outgoing)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from mailbot.config import Settings
from mailbot.tokens import Token, TokenSigner


@dataclass(frozen=True)
class Outgoing:
    """A mail a workflow decided to send; the outbox renders and stores it in the same transaction."""

    template: str  # templates/emails/<template>.j2
    to: str
    context: dict[str, Any]
    idempotency_key: str  # the same decision never queues the same mail twice
    token: Token  # where a reply to this mail must come back: Reply-To and Message-ID carry it
    ticket_id: int | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    auto_submitted: str = "auto-replied"  # RFC 3834: auto-replied (answers), auto-generated (notices)
    attach_from_raw: bytes | None = field(default=None, repr=False)  # forward the attachments of this mail
    # Files made for this mail, (file name, content type, bytes): a member's data export ("mes données").
    files: tuple[tuple[str, str, bytes], ...] = field(default=(), repr=False)
    rate_limited: bool = True  # counts toward the per-address limit (loop breaker); off for Aideur
    scrub_after_send: bool = False  # erasure: the stored copy is blanked once it is out
    about: str = ""  # the person a notice to Aideur concerns (default: the recipient), for erasure
    # Called with (Message-ID, rendered text) once stored: evidence of exactly what was asked (consents).
    after_store: Callable[[str, str], None] | None = field(default=None, repr=False, compare=False)


@dataclass
class WorkflowContext:
    session: Session
    settings: Settings
    signer: TokenSigner
    now: datetime  # naive UTC; injected so tests and `run --once --at` can replay time
    outgoing: list[Outgoing] = field(default_factory=list)
    # Set when this mail erased its sender (who may be no member): the pipeline then records it without address.
    erased: bool = False
    # Read once per transaction pass (issue 16: round trips per mail). Tickets this transaction created (no earlier
    # outgoing mail can exist for them); automatic send times already stored, by recipient (outbox.release_time,
    # cleared by Outbox.store_all once it stores more); Aideur's absences (workflows.absences.active, cleared
    # when one is declared or ended).
    created_tickets: set[int] = field(default_factory=set)
    rate_rows: dict[str, list[datetime]] = field(default_factory=dict)
    # Every address of the person an address belongs to (issue 13: one rate-limit budget per person), read once.
    people: dict[str, set[str]] = field(default_factory=dict)
    absences: list[Any] | None = None

    def send(self, mail: Outgoing) -> None:
        self.outgoing.append(mail)
