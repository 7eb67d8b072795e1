"""Triage by Aideur (DESIGN.md 2.2, 2.6, 2.7): his replies drive the ticket and reach the member.

Everything is checked before anything is done: one bad line and the whole mail is refused with an error reply
that quotes the line, says what is wrong and shows the help — nothing is done halfway, nothing silently ignored.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from mailbot.calendar import END_OF_BUSINESS_DAY, french_date
from mailbot.models import Ticket
from mailbot.parsers import InboundMail
from mailbot.parsers.commands import AideurReply, Command, CommandError, parse_aideur_reply
from mailbot.tokens import ROLE_MEMBER, SCOPE_TICKET, Token
from mailbot.workflows import appeals, consents, results
from mailbot.workflows.base import Outgoing, WorkflowContext
from mailbot.workflows.aideur import notify_aideurs
from mailbot.workflows.requests import ticket_context
from mailbot.workflows.tickets import REFERENCE, record_event, record_inbound

OPEN_STATES = ("new", "accepted", "proposed")
DECISIONS = ("accepter", "refuser", "reporter", "clore")  # each sets where the ticket stands: one per mail
MEMBER_TEMPLATES = {"accepter": "acceptation", "refuser": "refus", "reporter": "report", "solution": "solution",
                    "devis": "devis", "clore": "cloture"}


@dataclass(frozen=True)
class Plan:
    """What Aideur's mail will do, decided before anything is done."""

    commands: tuple[Command, ...]
    message: str
    errors: tuple[CommandError, ...]


def local_today(ctx: WorkflowContext) -> date:
    return ctx.now.replace(tzinfo=timezone.utc).astimezone(ctx.settings.timezone).date()


def end_of_day_utc(ctx: WorkflowContext, day: date) -> datetime:
    local = datetime.combine(day, END_OF_BUSINESS_DAY, tzinfo=ctx.settings.timezone)
    return local.astimezone(timezone.utc).replace(tzinfo=None)


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
    """A fresh mail to Aideur's command address: a ticket reference and commands, or #tickets / #aide alone."""
    text = mail.new_text or mail.text
    reply = parse_aideur_reply("\n".join(filter(None, [text, _subject_commands(mail.subject)])), local_today(ctx))
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
    execute(ctx, mail, ticket, reply)


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
def execute(ctx: WorkflowContext, mail: InboundMail, ticket: Ticket | None, reply: AideurReply) -> None:
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
        ticket.due_at = end_of_day_utc(ctx, command.when)
        ticket.delay_reason = command.text
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
    return (whole[:-3] if whole.endswith(",00") else whole) + " €"


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


def _error_reply(ctx: WorkflowContext, mail: InboundMail, ticket: Ticket | None,
                 errors: tuple[CommandError, ...]) -> None:
    notify_aideurs_one(ctx, mail.from_address, ticket, "erreur_commande", {
        "club_name": ctx.settings.club_name, "ref": ticket.ref if ticket else "",
        "errors": [{"line": e.line.strip(), "problem": e.problem} for e in errors],
    }, key=f"command-error:{mail.message_id}")


def _send_help(ctx: WorkflowContext, mail: InboundMail) -> None:
    notify_aideurs_one(ctx, mail.from_address, None, "aide", {"club_name": ctx.settings.club_name},
                       key=f"help:{mail.message_id}")


def _send_open_tickets(ctx: WorkflowContext, mail: InboundMail) -> None:
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
