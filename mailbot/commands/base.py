"""What an Aideur command is (issue 12, point 10), after GNU Mailman's mail commands (`IEmailCommand`): one object per
command — its name and aliases, how its arguments are read, what it checks, what it does, the mail it sends — in
one file of this package. Adding a command is adding a file: `mailbot.commands` finds it.

The reading is pure (`parse`: text → Command or CommandError, no database); `check` and `execute` get the
WorkflowContext and never touch IMAP or SMTP (their mails are queued on it, stored by the outbox).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import ClassVar, Protocol

from mailbot.calendar import (
    END_OF_BUSINESS_DAY,
    end_of_business_day,
    french_date,
    local_date,
    next_business_day,
    promised_day_problem,
)
from mailbot.models import Ticket
from mailbot.parsers.commands import Command, CommandError, is_command_candidate, tidy
from mailbot.ticket_states import Move, TransitionError, move, target
from mailbot.tokens import ROLE_MEMBER, SCOPE_TICKET, Token
from mailbot.workflows.base import Outgoing, WorkflowContext
from mailbot.workflows.requests import ticket_context


class Origin(Protocol):
    """Who gave a command and in which mail: the mail itself, or the stored command a confirmation executes (its
    Message-ID keys every effect, so the same command never sends twice)."""

    @property
    def from_address(self) -> str: ...

    @property
    def message_id(self) -> str: ...


@dataclass(frozen=True)
class Step:
    """Where a command stands in Aideur's mail: its position (part of its mails' idempotency keys) and his free
    message, which rides on the first mail to the member (empty once a mail carried it)."""

    index: int
    message: str


class AideurCommand:
    """One command. Subclasses set the class attributes and override what differs."""

    name: ClassVar[str]                  # canonical French word, typed after "#"
    alias: ClassVar[str]                 # English word (the same when there is none)
    near_forms: ClassVar[tuple[str, ...]] = ()  # typed in a hurry ("#accepte", "#clos"); accents are folded first
    order: ClassVar[int] = 100           # place in the lists shown to Aideur
    takes_text: ClassVar[bool] = False   # reads the lines below it, up to the next command
    decision: ClassVar[bool] = False     # sets where the ticket stands: one decision per mail
    quiet: ClassVar[bool] = False        # sends nothing to any member: no confirmation through the command address
    needs_ticket: ClassVar[bool] = True  # acts on the ticket the mail is about
    state_move: ClassVar[Move | None] = None  # what it does to the ticket's state (mailbot.ticket_states)
    template: ClassVar[str | None] = None  # the mail the member gets

    # --- reading (pure) -------------------------------------------------------------------------------------------
    def read_body(self, lines: Sequence[str], index: int) -> tuple[int, list[str]]:
        """The lines below the command line that belong to it, and where reading goes on."""
        body: list[str] = []
        if self.takes_text:
            while index < len(lines) and not is_command_candidate(lines[index]):
                body.append(lines[index])
                index += 1
        return index, body

    def parse(self, line: str, argument: str, body: list[str], today: date) -> Command | CommandError:
        """The command as typed (`line`), the rest of its line (`argument`) and its lines (`body`)."""
        return Command(self.name, line, argument)

    def is_quiet(self, command: Command) -> bool:
        """Whether this very command sends nothing to any member (`#absent` alone only shows the absence)."""
        return self.quiet

    # --- checking -------------------------------------------------------------------------------------------------
    def check(self, ctx: WorkflowContext, ticket: Ticket | None, command: Command, today: date) -> str:
        """Why it cannot be done now (French, for Aideur), or ""."""
        if not self.needs_ticket:
            return ""
        if ticket is None:
            return "Indiquez la référence de la demande visée (par exemple CA-2026-0042)."
        if self.state_move is not None:
            try:
                target(ticket.ref, ticket.status, self.state_move)
            except TransitionError as refused:
                return str(refused)
        return ""

    # --- doing ----------------------------------------------------------------------------------------------------
    def execute(self, ctx: WorkflowContext, origin: Origin, ticket: Ticket | None, command: Command,
                step: Step) -> bool:
        """Do it (check() passed for every command of the mail). True when a mail to the member carried
        Aideur's message."""
        if ticket is None or self.template is None:
            return False
        extra = self.apply(ctx, ticket, command, actor=origin.from_address)
        to_member(ctx, ticket, self.template, extra | {"message": step.message},
                  key=f"{self.name}:{origin.message_id}:{step.index}")
        self.after(ctx, ticket, command)
        return True

    def apply(self, ctx: WorkflowContext, ticket: Ticket, command: Command, *, actor: str) -> dict[str, object]:
        """Change the ticket; return what the member's mail needs."""
        return {}

    def after(self, ctx: WorkflowContext, ticket: Ticket, command: Command) -> None:
        """What follows the member's mail (a result form)."""

    def effect(self, ctx: WorkflowContext, ticket: Ticket | None, command: Command, who: str) -> str:
        """What it would send, and to whom, in Aideur's words (the confirmation asked through the command
        address); "" when it sends nothing."""
        return ""

    def sheet_word(self) -> str:
        return f"#{self.name} (#{self.alias})" if self.alias != self.name else f"#{self.name}"


class TextCommand(AideurCommand):
    """A command whose argument is a text: the rest of its line and the lines below, up to the next command."""

    takes_text = True
    what: ClassVar[str]     # "un motif (le membre le recevra, avec ménagement)"
    example: ClassVar[str]  # "hors du champ du Club"

    def parse(self, line: str, argument: str, body: list[str], today: date) -> Command | CommandError:
        text = tidy([argument, *body])
        if not text:
            return CommandError(line, f"la commande #{self.name} demande {self.what} : écrivez-le après le mot ou sur "
                                      f"les lignes suivantes, par exemple « #{self.name} {self.example} ».")
        return Command(self.name, line, argument, text=text)


# --- shared by the commands' effects ----------------------------------------------------------------------------
def local_today(ctx: WorkflowContext) -> date:
    """Today on the club's calendar (MAILBOT_TIMEZONE), never UTC's: 00:30 on 1 January in Paris is 2027."""
    return local_date(ctx.now, ctx.settings.timezone)


def end_of_day_utc(ctx: WorkflowContext, day: date) -> datetime:
    """The end of business day `day` in the club's zone, naive UTC (mailbot.calendar.end_of_business_day)."""
    return end_of_business_day(day, ctx.settings.timezone)


# --- dates promised to a member (issue 13) --------------------------------------------------------------------------
def promised_date_problem(command: Command, today: date) -> str:
    """Why the date a command promises the member (`#accepter`, `#reporter`, `#rouvrir` DATE) cannot be promised
    (French, for Aideur), or "": a past day, a weekend or a French public holiday (naming the next business day),
    a day more than a year ahead. `today` is the club's date (local_today)."""
    if command.when is None:
        return ""
    return promised_day_problem(command.when, today)


def promise_problem(ctx: WorkflowContext, command: Command, today: date) -> str:
    """Everything that makes the date a command promises the member (`#accepter`, `#reporter`, `#rouvrir` DATE) one
    that cannot be kept, or "": promised_date_problem, then today after its end of working day (18:00 in the club's
    zone: "#accepter aujourd'hui" typed at 20:00 would be late at once), then a day in Aideur's declared absence
    (issue 13, point 4: promises falling in it move after the return, so none is made there). Each error names the
    day to send the command again with."""
    from mailbot.workflows import absences  # the workflows import the commands

    day = command.when
    if day is None:
        return ""
    problem = promised_date_problem(command, today)
    if problem:
        return problem
    if day == today and ctx.now >= end_of_day_utc(ctx, day):
        following = next_business_day(day)
        return (f"La journée du {french_date(day)} est finie (après {END_OF_BUSINESS_DAY:%H} h, heure du Club) : "
                f"le prochain jour ouvré est le {french_date(following)}. Renvoyez la commande avec cette date.")
    away = absences.covering(ctx, day)
    if away is not None:
        back = absences.return_day(away)
        return (f"Le {french_date(day)} tombe pendant votre absence déclarée (du {french_date(away.starts_on)} au "
                f"{french_date(away.ends_on)}) : le premier jour ouvré après votre retour est le "
                f"{french_date(back)}. Renvoyez la commande avec cette date, ou mettez d'abord fin à l'absence "
                "avec #present.")
    return ""


def later_than_promise_problem(ctx: WorkflowContext, ticket: Ticket | None, command: Command) -> str:
    """Why a new date does not postpone the promise standing (`#reporter` to a day on or before it), or ""."""
    if ticket is None or command.when is None or ticket.due_at is None:
        return ""
    current = local_date(ticket.due_at, ctx.settings.timezone)
    if command.when <= current:
        return (f"Le {french_date(command.when)} n'est pas après la date déjà promise au membre, le "
                f"{french_date(current)} : un report se fait à une date plus tardive. Renvoyez la commande avec "
                "une date après celle-ci.")
    return ""


def keep_promise(ctx: WorkflowContext, ticket: Ticket) -> None:
    """A proposal keeps the promise made to the member: nothing is due any more until Aideur promises again."""
    move(ticket, Move.PROPOSE, ctx.now)
    ticket.due_at, ticket.delay_reason = None, ""


def to_member(ctx: WorkflowContext, ticket: Ticket, template: str, extra: dict[str, object], *, key: str) -> None:
    """A mail to the ticket's member, with the ticket's reply address (nothing when the member was erased)."""
    member = ticket.member
    if member is None or not member.email:
        return  # the member was erased: nothing can reach them
    context = ticket_context(ctx, ticket, member) | {"message": ""} | extra
    ctx.send(Outgoing(template=template, to=member.email, context=context, idempotency_key=key,
                      token=Token(SCOPE_TICKET, ticket.id, ROLE_MEMBER), ticket_id=ticket.id,
                      auto_submitted="no", rate_limited=False))
