"""The ticket's state machine (issue 12, point 10): every (state, move) pair of the table, then every (state,
command) pair through Aideur's triage on a real SQLite database, without mail servers (the outbox rows are the
mails)."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailbot.config import Settings, load_settings
from mailbot.db import make_engine, make_session_factory
from mailbot.members import upsert_member
from mailbot.models import Event, ResultForm, Ticket
from mailbot.parsers.commands import parse_aideur_reply
from mailbot.ticket_states import (
    LABELS,
    Move,
    TicketStatus,
    TransitionError,
    label,
    move,
    target,
)
from mailbot.tokens import TokenSigner
from mailbot.workflows import triage
from mailbot.workflows.base import WorkflowContext

N, A, P = TicketStatus.NEW, TicketStatus.ACCEPTED, TicketStatus.PROPOSED
C, D, W = TicketStatus.CLOSED, TicketStatus.DECLINED, TicketStatus.WITHDRAWN

# Written out by hand (not derived from the module's table): what each move does from each state; None: refused.
EXPECTED: dict[Move, dict[TicketStatus, TicketStatus | None]] = {
    Move.ACCEPT:   {N: A, A: None, P: None, C: None, D: None, W: None},
    Move.POSTPONE: {N: N, A: A, P: P, C: None, D: None, W: None},
    Move.PROPOSE:  {N: P, A: P, P: P, C: None, D: None, W: None},
    Move.DECLINE:  {N: D, A: D, P: D, C: None, D: None, W: None},
    Move.CLOSE:    {N: C, A: C, P: C, C: None, D: None, W: None},
    Move.WITHDRAW: {N: W, A: W, P: W, C: None, D: None, W: None},
    Move.REOPEN:   {N: None, A: None, P: None, C: N, D: N, W: N},
    Move.WORK:     {N: N, A: A, P: P, C: None, D: None, W: None},
}
NOW = datetime(2026, 11, 26, 10, 0)


def test_every_move_is_in_the_expected_table() -> None:
    assert set(EXPECTED) == set(Move)
    assert all(set(row) == set(TicketStatus) for row in EXPECTED.values())


@pytest.mark.parametrize("what, state", [(m, s) for m in Move for s in TicketStatus])
def test_transition(what: Move, state: TicketStatus) -> None:
    expected = EXPECTED[what][state]
    ticket = Ticket(ref="CA-2026-0042", status=state.value, due_at=NOW, closed_at=None if state in (N, A, P) else NOW)
    if expected is None:
        with pytest.raises(TransitionError) as refused:
            move(ticket, what, NOW)
        assert "CA-2026-0042" in str(refused.value) and ticket.status == state.value  # unchanged
        if state in (C, D, W):
            assert "#rouvrir" in str(refused.value) or what is Move.REOPEN
        return
    assert move(ticket, what, NOW) is expected and ticket.status == expected.value
    if expected in (C, D, W):
        assert ticket.closed_at == NOW and ticket.due_at is None
    else:
        assert ticket.closed_at is None


def test_labels_are_french_and_one_per_state() -> None:
    assert set(LABELS) == set(TicketStatus)
    assert label("declined") == "refusée" and label("new") == "à trier" and label("withdrawn").startswith("retirée")
    assert label("unknown-value") == "unknown-value"


@pytest.mark.parametrize("state, expected", [(N, "encore ouverte"), (C, "déjà close"), (D, "refusée")])
def test_refusals_say_what_to_do(state: TicketStatus, expected: str) -> None:
    what = Move.REOPEN if state is N else Move.ACCEPT
    with pytest.raises(TransitionError, match=expected):
        target("CA-2026-0001", state.value, what)


# --- every (state, command) pair through triage, on SQLite ------------------------------------------------------

AIDEUR, ALICE = "aideur@club.test", "alice@membres.test"


@dataclass(frozen=True)
class _Origin:
    from_address: str
    message_id: str


@pytest.fixture
def settings(sqlite_url: str) -> Settings:
    env = {"MAILBOT_DATABASE_URL": sqlite_url, "MAILBOT_IMAP_HOST": "127.0.0.1", "MAILBOT_IMAP_PORT": "1",
           "MAILBOT_IMAP_USER": "aide@club.test", "MAILBOT_IMAP_PASSWORD": "x", "MAILBOT_IMAP_SECURITY": "none",
           "MAILBOT_SMTP_HOST": "127.0.0.1", "MAILBOT_SMTP_PORT": "1", "MAILBOT_SMTP_SECURITY": "none",
           "MAILBOT_CLUB_ADDRESS": "aide@club.test", "MAILBOT_AIDEUR_ADDRESSES": AIDEUR,
           "MAILBOT_SECRET_KEY": "test-secret-states"}
    return load_settings(env, env_file=None)


@pytest.fixture
def session(settings: Settings) -> Iterator[Session]:
    engine = make_engine(settings.database_url)
    with make_session_factory(engine)() as session:
        yield session
    engine.dispose()


# Aideur's command, the move it makes, the mail the member gets when it is allowed.
COMMANDS = {
    "#accepter 15/12": (Move.ACCEPT, "acceptation"),
    "#reporter 15/12 l'avocate est en congés": (Move.POSTPONE, "report"),
    "#refuser hors du champ du Club": (Move.DECLINE, "refus"),
    "#clore": (Move.CLOSE, "cloture"),
    "#solution voici le guide du ministère": (Move.PROPOSE, "solution"),
    "#devis\nprestataire: Durand\nobjet: conseil\ntarif habituel: 300 €\ntarif club: 200 €": (Move.PROPOSE, "devis"),
    "#rouvrir": (Move.REOPEN, "reouverture"),
    "#rouvrir 15/12": (Move.REOPEN, "reouverture"),
}


@pytest.mark.parametrize("state", list(TicketStatus))
@pytest.mark.parametrize("text", list(COMMANDS))
def test_command_on_each_state(session: Session, settings: Settings, state: TicketStatus, text: str) -> None:
    what, template = COMMANDS[text]
    member, _ = upsert_member(session, ALICE, first_name="Alice", last_name="Martin")
    closed = state in (C, D, W)
    ticket = Ticket(ref="CA-2026-0001", member_id=member.id, status=state.value, subject="Litige salarié",
                    summary="Un litige.", created_at=NOW, updated_at=NOW, due_at=None if closed else NOW,
                    closed_at=NOW if closed else None)
    session.add(ticket)
    session.flush()
    ctx = WorkflowContext(session=session, settings=settings, signer=TokenSigner(settings.secret_keys), now=NOW)
    triage.execute(ctx, _Origin(AIDEUR, "cmd@club.test"), ticket, parse_aideur_reply(text, NOW.date()))
    expected = EXPECTED[what][state]
    templates = [mail.template for mail in ctx.outgoing]
    if expected is None:
        assert ticket.status == state.value and templates == ["erreur_commande"]
        [error] = ctx.outgoing
        problem = error.context["errors"][0]["problem"]
        assert ("#rouvrir" in problem) if closed else ("ouverte" in problem or "#reporter" in problem)
        assert (ticket.closed_at is not None) == closed
        return
    assert ticket.status == expected.value and template in templates
    assert "erreur_commande" not in templates
    if what is Move.REOPEN:
        assert ticket.closed_at is None and ticket.due_at is not None
        if "15/12" in text:
            assert ticket.due_at == datetime(2026, 12, 15, 17, 0)  # 18:00 in Paris
        kinds = session.scalars(select(Event.kind).where(Event.ticket_id == ticket.id)).all()
        assert "reopened" in kinds


def test_reopening_stops_the_result_forms_of_the_closing(session: Session, settings: Settings) -> None:
    """#clore asks for the result; #rouvrir means the help is not over: that form (and its reminders) stops."""
    member, _ = upsert_member(session, ALICE, first_name="Alice", last_name="Martin")
    ticket = Ticket(ref="CA-2026-0001", member_id=member.id, status="new", subject="Litige salarié",
                    summary="Un litige.", created_at=NOW, updated_at=NOW, due_at=NOW)
    session.add(ticket)
    session.flush()
    ctx = WorkflowContext(session=session, settings=settings, signer=TokenSigner(settings.secret_keys), now=NOW)
    triage.execute(ctx, _Origin(AIDEUR, "close@club.test"), ticket, parse_aideur_reply("#clore", NOW.date()))
    assert [f.status for f in session.scalars(select(ResultForm))] in (["pending"], ["scheduled"])
    triage.execute(ctx, _Origin(AIDEUR, "reopen@club.test"), ticket, parse_aideur_reply("#rouvrir", NOW.date()))
    assert ticket.status == "new" and [f.status for f in session.scalars(select(ResultForm))] == ["stopped"]
