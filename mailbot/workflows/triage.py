"""Triage by Aideur (docs/rules.md §2, §6, §7): his replies drive the ticket and reach the member.

Everything is checked before anything is done: one bad line and the whole mail is refused with an error reply
that quotes the line, says what is wrong and shows the help — nothing is done halfway, nothing silently ignored.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Protocol

from sqlalchemy import func, select, update

from mailbot.calendar import END_OF_BUSINESS_DAY, french_date, french_datetime
from mailbot.models import PendingCommand, Ticket
from mailbot.parsers import InboundMail
from mailbot.parsers.commands import AideurReply, Command, CommandError, parse_aideur_reply
from mailbot.parsers.registration import confirmation_of
from mailbot.tokens import ROLE_AIDEUR, ROLE_MEMBER, SCOPE_PENDING, SCOPE_TICKET, Token
from mailbot.workflows import appeals, consents, deadlines, results
from mailbot.workflows.aideur import notify_aideurs
from mailbot.workflows.base import Outgoing, WorkflowContext
from mailbot.workflows.requests import ticket_context
from mailbot.workflows.tickets import REFERENCE, record_event, record_inbound, shorten

DECISIONS = ("accepter", "refuser", "reporter", "clore")  # each sets where the ticket stands: one per mail
MEMBER_TEMPLATES = {"accepter": "acceptation", "refuser": "refus", "reporter": "report", "solution": "solution",
                    "devis": "devis", "clore": "cloture"}
QUIET = ("aide", "tickets", "note")  # commands that send nothing to any member: never wait for a confirmation
# How long a command received through the command address waits for Aideur's OUI (README, "Who can command").
CONFIRMATION_HOURS = 72
# At most this many confirmation questions an hour: a flood of forged commands must not become a flood of mail
# to Aideur. Beyond it, commands are not kept, and Aideur gets one notice per hour saying so.
CONFIRMATIONS_PER_HOUR = 10


class Origin(Protocol):
    """Who gave a command and in which mail: the mail itself, or the stored command a confirmation executes (its
    Message-ID keys every effect, so the same command never sends twice)."""

    @property
    def from_address(self) -> str: ...

    @property
    def message_id(self) -> str: ...


@dataclass(frozen=True)
class StoredOrigin:
    from_address: str
    message_id: str


def local_today(ctx: WorkflowContext) -> date:
    return ctx.now.replace(tzinfo=UTC).astimezone(ctx.settings.timezone).date()


def end_of_day_utc(ctx: WorkflowContext, day: date) -> datetime:
    local = datetime.combine(day, END_OF_BUSINESS_DAY, tzinfo=ctx.settings.timezone)
    return local.astimezone(UTC).replace(tzinfo=None)


def is_open(ticket: Ticket) -> bool:
    return ticket.closed_at is None


# --- entry points --------------------------------------------------------------------------------------------------
def aideur_reply(ctx: WorkflowContext, mail: InboundMail, ticket: Ticket) -> None:
    """Aideur answered a ticket's notification (verified token): commands and text for that ticket."""
    text = mail.new_text or mail.text
    record_inbound(ctx.session, ticket, mail, text, ctx.now)
    reply = parse_aideur_reply(text, local_today(ctx))
    execute(ctx, mail, ticket, reply)


def aideur_command_mail(ctx: WorkflowContext, mail: InboundMail) -> None:
    """A fresh mail to Aideur's command address: a ticket reference and commands, or #tickets / #aide alone; or his
    answer to a "do you confirm?" mail (its own reply address).

    The command address is printed in every notification and never changes until rotated: anyone who saw one can
    write to it with Aideur's From:. So what would send anything to a member is not done at once: all his
    addresses get the command quoted, with what it would send, and it runs when one of them answers OUI."""
    from mailbot.router import address_token  # the router imports the workflows

    token = address_token(mail, ctx.signer)
    if token is not None and token.scope == SCOPE_PENDING:
        confirmation_reply(ctx, mail, token.number)
        return
    text = mail.new_text or mail.text
    source = "\n".join(filter(None, [text, _subject_commands(mail.subject)]))
    reply = parse_aideur_reply(source, local_today(ctx))
    refs = reply.references or _refs_in(mail.subject)
    general = [c for c in reply.commands if c.name in ("aide", "tickets")]
    if not refs:
        if reply.errors or len(general) != len(reply.commands) or not reply.commands or reply.message.strip():
            problem = CommandError(line=mail.subject or "(sans objet)",
                                   problem="Indiquez la référence de la demande (par exemple CA-2026-0042) "
                                           "dans l'objet ou le texte, avec vos commandes.")
            _error_reply(ctx, mail, None, reply.errors or (problem,))
            return
        execute(ctx, mail, None, reply)
        return
    ticket = ctx.session.scalar(select(Ticket).where(Ticket.ref == refs[0]))
    if ticket is None:
        _error_reply(ctx, mail, None, (CommandError(line=refs[0], problem=f"Aucune demande ne porte la "
                                                                        f"référence {refs[0]}."),))
        return
    record_inbound(ctx.session, ticket, mail, text, ctx.now)
    if sends_to_members(reply) and not check(ctx, ticket, reply):
        if _too_many_confirmations(ctx):
            record_event(ctx.session, ticket, "command-refused", "reçue par l'adresse de commande : trop de "
                         "commandes en une heure, non retenue", ctx.now, actor=mail.from_address)
            notify_aideurs(ctx, None, "alerte_commandes_en_nombre", {
                "club_name": ctx.settings.club_name, "limit": CONFIRMATIONS_PER_HOUR,
            }, key=f"command-flood:{ctx.now:%Y-%m-%dT%H}")
            return
        ask_confirmation(ctx, mail, ticket, reply, source)
        return
    execute(ctx, mail, ticket, reply)


def sends_to_members(reply: AideurReply) -> bool:
    """Whether executing this reply would send anything to a member (a helper is a member too)."""
    return bool(reply.message.strip()) or any(c.name not in QUIET for c in reply.commands)


# --- confirmation of command-address commands ---------------------------------------------------------------------
def _too_many_confirmations(ctx: WorkflowContext) -> bool:
    since = ctx.now - timedelta(hours=1)
    asked = ctx.session.scalar(select(func.count(PendingCommand.id)).where(PendingCommand.created_at > since))
    return (asked or 0) >= CONFIRMATIONS_PER_HOUR


def ask_confirmation(ctx: WorkflowContext, mail: InboundMail, ticket: Ticket, reply: AideurReply,
                     source: str) -> None:
    """Keep the command and ask every Aideur address to confirm it, each with the command's own reply address."""
    pending = PendingCommand(created_at=ctx.now, expires_at=ctx.now + timedelta(hours=CONFIRMATION_HOURS),
                             status="pending", from_address=mail.from_address, message_id=mail.message_id,
                             ticket_id=ticket.id, text=source, day=local_today(ctx))
    ctx.session.add(pending)
    ctx.session.flush()  # its id is in the reply address
    record_event(ctx.session, ticket, "command-pending", "reçue par l'adresse de commande, en attente de "
                 f"confirmation : {shorten(' / '.join(c.line.strip() for c in reply.commands), 300)}", ctx.now,
                 actor=mail.from_address)
    _to_aideurs_about(ctx, pending, ticket, "confirmation_commande", {
        "sender": mail.from_address, "effects": _effects(ctx, ticket, reply),
    }, key=f"confirm-command:{mail.message_id}")


def confirmation_reply(ctx: WorkflowContext, mail: InboundMail, pending_id: int) -> None:
    """Aideur's answer to "do you confirm this command?": OUI runs it (once), NON cancels it; anything else is
    asked again. Only a plain, unqualified yes counts (the same reader as members' confirmations)."""
    pending = ctx.session.get(PendingCommand, pending_id)
    if pending is None:
        _error_reply(ctx, mail, None, (CommandError(line=mail.subject or "(sans objet)",
                                                    problem="Cette commande en attente n'existe plus."),))
        return
    ticket = ctx.session.get(Ticket, pending.ticket_id) if pending.ticket_id else None
    key = f"confirm-answer:{mail.message_id}"
    if pending.status != "pending":
        outcome = {"done": "done", "expired": "expired"}.get(pending.status, "cancelled_before")
        _to_aideurs_about(ctx, pending, ticket, "confirmation_commande_suite", {"outcome": outcome}, key=key,
                          only=mail.from_address)
        return
    if ctx.now >= pending.expires_at:
        _decide(ctx, pending, "expired")
        _to_aideurs_about(ctx, pending, ticket, "confirmation_commande_suite", {"outcome": "expired"}, key=key,
                          only=mail.from_address)
        return
    answer = confirmation_of(mail.text or mail.new_text)  # the whole body: a PS under the signature counts
    if answer is None:
        _to_aideurs_about(ctx, pending, ticket, "confirmation_commande_suite", {"outcome": "unclear"}, key=key,
                          only=mail.from_address)
        return
    if not _decide(ctx, pending, "done" if answer else "cancelled"):
        # Another answer (another Aideur address, another daemon) decided first.
        _to_aideurs_about(ctx, pending, ticket, "confirmation_commande_suite", {"outcome": "done"}, key=key,
                          only=mail.from_address)
        return
    if not answer:
        record_event(ctx.session, ticket, "command-cancelled", "commande reçue par l'adresse de commande, annulée "
                     "par Aideur", ctx.now, actor=mail.from_address)
        _to_aideurs_about(ctx, pending, ticket, "confirmation_commande_suite", {"outcome": "cancelled"}, key=key,
                          only=mail.from_address)
        return
    record_event(ctx.session, ticket, "command-confirmed", "commande reçue par l'adresse de commande, confirmée "
                 "par Aideur", ctx.now, actor=mail.from_address)
    # Parsed again as it was written (relative dates from the day it was written), checked again now (the ticket
    # may have changed meanwhile), and keyed by the command mail's Message-ID: its effects happen once.
    execute(ctx, StoredOrigin(pending.from_address, pending.message_id), ticket,
            parse_aideur_reply(pending.text, pending.day))


def _decide(ctx: WorkflowContext, pending: PendingCommand, status: str) -> bool:
    """Move a pending command to `status` if it is still pending: one conditional UPDATE, so two answers (or two
    daemons) cannot both execute it."""
    result = ctx.session.execute(update(PendingCommand).where(PendingCommand.id == pending.id,
                                                              PendingCommand.status == "pending")
                                 .values(status=status, decided_at=ctx.now))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _to_aideurs_about(ctx: WorkflowContext, pending: PendingCommand, ticket: Ticket | None, template: str,
                      extra: dict[str, object], *, key: str, only: str | None = None) -> None:
    """A mail about a pending command, to every Aideur address (or one), replying to the command's own address."""
    from mailbot.workflows.aideur import command_address

    token = Token(SCOPE_PENDING, pending.id, ROLE_AIDEUR)
    context = {
        "club_name": ctx.settings.club_name, "ref": ticket.ref if ticket else "",
        "lines": _quoted_lines(pending.text),
        "expires": french_datetime(pending.expires_at, ctx.settings.timezone),
        "reply_address": ctx.signer.plus_address(ctx.settings.club_address, token),
        "command_address": command_address(ctx),
    } | extra
    for address in [only.lower()] if only else ctx.settings.aideur_addresses:
        ctx.send(Outgoing(template=template, to=address, context=context, idempotency_key=f"{key}:{address}",
                          token=token, ticket_id=None, auto_submitted="auto-generated", rate_limited=False))


def _quoted_lines(text: str, limit: int = 60) -> list[str]:
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return lines[:limit] + (["[…]"] if len(lines) > limit else [])


def _effects(ctx: WorkflowContext, ticket: Ticket, reply: AideurReply) -> list[str]:
    """What executing the reply would send, and to whom, in Aideur's words."""
    member = ticket.member
    who = f"{member.display_name} <{member.email}>" if member is not None and member.email else \
        "le membre (effacé : rien ne lui parviendrait)"
    effects: list[str] = []
    for command in reply.commands:
        name = command.name
        if name == "accepter" and command.when:
            effects.append(f"à {who} : la demande est acceptée, propositions d'ici le {french_date(command.when)}")
        elif name == "refuser":
            effects.append(f"à {who} : le Club ne peut pas aider, motif : « {shorten(command.text, 300)} »")
        elif name == "reporter" and command.when:
            effects.append(f"à {who} : report au {french_date(command.when)}, motif : « {shorten(command.text, 300)} »")
        elif name == "solution":
            effects.append(f"à {who}, comme proposition du Club : « {shorten(command.text, 300)} »"
                           " ; puis le formulaire de résultat")
        elif name == "devis":
            effects.append(f"à {who} : un devis de « {shorten(command.fields.get('prestataire', ''), 100)} »")
        elif name == "clore":
            effects.append(f"à {who} : la demande est close ; puis le formulaire de résultat")
        elif name == "appel":
            effects.append(f"un appel au réseau, aux membres choisis : « {shorten(command.text, 300)} »")
        elif name == "relier":
            effects.append(f"une demande d'accord pour échanger les coordonnées, à {who} et à l'intervenant "
                           f"« {shorten(command.argument, 100)} »")
        elif name == "note":
            effects.append("une note sur le ticket (rien n'est envoyé)")
    if reply.message.strip():
        effects.append(f"à {who}, votre message : « {shorten(reply.message, 300)} »")
    return effects


def _subject_commands(subject: str) -> str:
    """A phone user may type the command in the subject: "#tickets", "CA-2026-0042 #clore"."""
    index = subject.find("#")
    return subject[index:] if index >= 0 else ""


def _refs_in(text: str) -> tuple[str, ...]:
    return tuple(match.upper() for match in REFERENCE.findall(text))


# --- checking ------------------------------------------------------------------------------------------------------
def check(ctx: WorkflowContext, ticket: Ticket | None, reply: AideurReply) -> tuple[CommandError, ...]:
    errors = list(reply.errors)
    today = local_today(ctx)
    decisions = [c for c in reply.commands if c.name in DECISIONS]
    for command in reply.commands:
        problem = _problem(command, ticket, today) or _appeal_problem(ctx, command, ticket) or \
            _connect_problem(ctx, command, ticket)
        if problem:
            errors.append(CommandError(line=command.line, problem=problem))
    if len(decisions) > 1:
        errors.append(CommandError(line=" / ".join(c.line.strip() for c in decisions),
                                   problem="Une seule décision par mail (#accepter, #refuser, #reporter ou "
                                           "#clore) : elles se contredisent, rien n'a été fait."))
    if ticket is None and reply.message.strip() and not errors:
        errors.append(CommandError(line=reply.message.strip().splitlines()[0],
                                   problem="Ce texte ne peut être transmis à personne : indiquez la référence "
                                           "de la demande."))
    return tuple(errors)


def _problem(command: Command, ticket: Ticket | None, today: date) -> str:
    if command.name in ("aide", "tickets", "note"):
        return "" if command.name != "note" or ticket is not None else "Une note doit viser une demande."
    if ticket is None:
        return "Indiquez la référence de la demande visée (par exemple CA-2026-0042)."
    if not is_open(ticket):
        return f"La demande {ticket.ref} est déjà close ({_state_fr(ticket)}) : rien à {_verb(command.name)}."
    if command.name == "accepter" and ticket.status != "new":
        return (f"La demande {ticket.ref} est déjà acceptée : pour changer la date des propositions, "
                "utilisez #reporter DATE motif.")
    if command.name in ("accepter", "reporter") and command.when is not None and command.when < today:
        return f"La date {french_date(command.when)} est passée : indiquez une date à venir."
    if command.name == "devis":
        usual, club = _price(command.fields.get("tarif_habituel", "")), _price(command.fields.get("tarif_club", ""))
        if usual is not None and club is not None and club > usual:
            return "Le tarif Club est plus élevé que le tarif habituel : vérifiez les deux montants."
    return ""


def _appeal_problem(ctx: WorkflowContext, command: Command, ticket: Ticket | None) -> str:
    if command.name != "appel" or ticket is None or not is_open(ticket):
        return ""
    return appeals.appeal_problem(ctx, ticket, command)


def _connect_problem(ctx: WorkflowContext, command: Command, ticket: Ticket | None) -> str:
    if command.name != "relier" or ticket is None or not is_open(ticket):
        return ""
    helper, _, problem = consents.helper_for(ctx, ticket, dict(command.fields))
    if problem or helper is None:
        return problem
    return appeals.connect_problem(ctx, ticket, command, helper)


def _verb(name: str) -> str:
    return {"accepter": "accepter", "refuser": "refuser", "reporter": "reporter", "solution": "proposer",
            "devis": "proposer", "clore": "clore"}.get(name, "faire")


def _state_fr(ticket: Ticket) -> str:
    return {"declined": "refusée", "closed": "close", "withdrawn": "retirée par le membre"}.get(ticket.status,
                                                                                              ticket.status)


# --- doing ---------------------------------------------------------------------------------------------------------
def execute(ctx: WorkflowContext, mail: Origin, ticket: Ticket | None, reply: AideurReply) -> None:
    """Carry out Aideur's parsed commands (`reply`, from parse_aideur_reply) on `ticket` (None for a mail to the
    command address), all of them or none.

    In: the context (session, settings, `now`), the `mail` that gave them (its sender and Message-ID: the
    Message-ID keys every effect, so a replayed mail sends nothing twice), the ticket, the parsed reply.

    First every command is checked (check()): if any is refused, nothing is done; a "command-refused" `events`
    row goes on the ticket and Aideur gets "erreur_commande" listing each refused line and why.

    Otherwise, written: a "command:<name>" event per command; the ticket's state (accepter, reporter: due date;
    refuser, clore: closed; solution, devis: promise kept) and `updated_at`; #appel: `appeals` and
    `solicitations` rows; #relier: a `connections` row with its two `consents`; solution and clore: a
    `result_forms` row for the requester. Queued (on `ctx.outgoing`, stored by the outbox in the same
    transaction): the member's mail for each decision (acceptation, refus, report, solution, devis, cloture;
    Aideur's free message rides on the first one, or goes alone as "message_aideur" with a "relayed" event),
    the helpers' appeals and the consent questions, the result form, "appel_termine" to the helpers of a
    closed ticket, and to Aideur "aide" or "liste_tickets" for #aide and #tickets. #note is only recorded.

    Raises nothing of its own: a refused command is an answer to Aideur, not an exception."""
    errors = check(ctx, ticket, reply)
    if errors:
        if ticket is not None:
            record_event(ctx.session, ticket, "command-refused", "; ".join(e.problem for e in errors), ctx.now,
                         actor=mail.from_address)
        _error_reply(ctx, mail, ticket, errors)
        return
    message = reply.message.strip()
    member_mails = 0
    for index, command in enumerate(reply.commands):
        record_event(ctx.session, ticket, f"command:{command.name}", command.line, ctx.now, actor=mail.from_address)
        if command.name == "aide":
            _send_help(ctx, mail)
        elif command.name == "tickets":
            _send_open_tickets(ctx, mail)
        elif command.name == "note":
            pass  # recorded above, never sent
        elif command.name == "appel":
            assert ticket is not None
            appeals.send_appeal(ctx, ticket, command, actor=mail.from_address, key=f"{mail.message_id}:{index}")
        elif command.name == "relier":
            assert ticket is not None
            helper, solicitation, _ = consents.helper_for(ctx, ticket, dict(command.fields))
            assert helper is not None
            consents.start(ctx, ticket, helper, solicitation, actor=mail.from_address,
                           summary=appeals.helper_text(ctx, ticket, command))
        else:
            assert ticket is not None
            extra = _apply(ctx, ticket, command)
            _to_member(ctx, ticket, MEMBER_TEMPLATES[command.name], extra | {"message": message if not member_mails
                                                                             else ""},
                       key=f"{command.name}:{mail.message_id}:{index}")
            member_mails += 1
            if command.name in ("solution", "clore"):
                results.send_form(ctx, ticket, ticket.member, "requester",
                                  "solution" if command.name == "solution" else "close")
    if message and ticket is not None and not member_mails:
        _to_member(ctx, ticket, "message_aideur", {"message": message}, key=f"relay:{mail.message_id}")
        record_event(ctx.session, ticket, "relayed", "message d'Aideur transmis au membre", ctx.now,
                     actor=mail.from_address)
    if ticket is not None:
        ticket.updated_at = ctx.now


def _apply(ctx: WorkflowContext, ticket: Ticket, command: Command) -> dict[str, object]:
    """Change the ticket for one command; return what its mail to the member needs."""
    if command.name == "accepter":
        assert command.when is not None
        ticket.status, ticket.promise, ticket.delay_reason = "accepted", "proposals", ""
        ticket.due_at = end_of_day_utc(ctx, command.when)
        return {"due_date": french_date(command.when)}
    if command.name == "reporter":
        assert command.when is not None
        deadlines.set_promise(ticket, end_of_day_utc(ctx, command.when), command.text)  # the reason is this date's
        return {"due_date": french_date(command.when), "reason": command.text, "promise": ticket.promise}
    if command.name == "refuser":
        _close(ctx, ticket, "declined")
        return {"reason": command.text}
    if command.name == "clore":
        _close(ctx, ticket, "closed")
        return {"reason": command.argument}
    if command.name == "solution":
        _keep_promise(ticket)
        return {"solution": command.text}
    if command.name == "devis":
        _keep_promise(ticket)
        return _quote_context(command)
    raise AssertionError(command.name)  # pragma: no cover - check() refused everything else


def _close(ctx: WorkflowContext, ticket: Ticket, status: str) -> None:
    ticket.status, ticket.closed_at, ticket.due_at = status, ctx.now, None
    appeals.tell_helpers_need_is_over(ctx, ticket)


def _keep_promise(ticket: Ticket) -> None:
    """A proposal keeps the promise made to the member: nothing is due any more until Aideur promises again."""
    ticket.status, ticket.due_at, ticket.delay_reason = "proposed", None, ""


def _price(text: str) -> Decimal | None:
    try:
        return Decimal(text) if text else None
    except InvalidOperation:
        return None


def _euros(amount: Decimal) -> str:
    whole = f"{amount:,.2f}".replace(",", " ").replace(".", ",")
    return (whole.removesuffix(",00")) + " €"


def _quote_context(command: Command) -> dict[str, object]:
    usual = _price(command.fields.get("tarif_habituel", "")) or Decimal(0)
    club = _price(command.fields.get("tarif_club", "")) or Decimal(0)
    saving = usual - club
    percent = int((saving * 100 / usual).quantize(Decimal(1))) if usual else 0
    return {
        "provider": command.fields.get("prestataire", ""),
        "subject_text": command.fields.get("objet", ""),
        "usual_price": command.fields.get("tarif_habituel_texte") or _euros(usual),
        "club_price": command.fields.get("tarif_club_texte") or _euros(club),
        "saving": _euros(saving),
        "saving_percent": percent if percent > 0 else "",
    }


# --- mails ---------------------------------------------------------------------------------------------------------
def _to_member(ctx: WorkflowContext, ticket: Ticket, template: str, extra: dict[str, object], *, key: str) -> None:
    member = ticket.member
    if member is None or not member.email:
        return  # the member was erased: nothing can reach them
    context = ticket_context(ctx, ticket, member) | {"message": ""} | extra
    ctx.send(Outgoing(template=template, to=member.email, context=context, idempotency_key=key,
                      token=Token(SCOPE_TICKET, ticket.id, ROLE_MEMBER), ticket_id=ticket.id,
                      auto_submitted="no", rate_limited=False))


def _error_reply(ctx: WorkflowContext, mail: Origin, ticket: Ticket | None,
                 errors: tuple[CommandError, ...]) -> None:
    notify_aideurs_one(ctx, mail.from_address, ticket, "erreur_commande", {
        "club_name": ctx.settings.club_name, "ref": ticket.ref if ticket else "",
        "errors": [{"line": e.line.strip(), "problem": e.problem} for e in errors],
    }, key=f"command-error:{mail.message_id}")


def _send_help(ctx: WorkflowContext, mail: Origin) -> None:
    notify_aideurs_one(ctx, mail.from_address, None, "aide", {"club_name": ctx.settings.club_name},
                       key=f"help:{mail.message_id}")


def _send_open_tickets(ctx: WorkflowContext, mail: Origin) -> None:
    tickets = ctx.session.scalars(select(Ticket).where(Ticket.closed_at.is_(None))
                                  .order_by(Ticket.due_at.is_(None), Ticket.due_at, Ticket.id)).all()
    rows = [{
        "ref": t.ref,
        "state": {"new": "à trier", "accepted": "acceptée", "proposed": "proposition faite"}.get(t.status, t.status),
        "due": french_date(t.due_at, ctx.settings.timezone) if t.due_at else "",
        "late": bool(t.due_at and t.due_at < ctx.now),
        "member": t.member.display_name if t.member else "membre effacé",
        "title": t.subject,
    } for t in tickets]
    notify_aideurs_one(ctx, mail.from_address, None, "liste_tickets", {
        "club_name": ctx.settings.club_name, "tickets": rows, "today": french_date(local_today(ctx)),
    }, key=f"tickets:{mail.message_id}")


def notify_aideurs_one(ctx: WorkflowContext, address: str, ticket: Ticket | None, template: str,
                       context: dict[str, object], *, key: str) -> None:
    """A reply to the one Aideur who wrote (not to every Aideur address)."""
    notify_aideurs(ctx, ticket, template, context, key=key, only=address)
