"""Triage by Aideur (docs/rules.md §2, §6, §7): his replies drive the ticket and reach the member.

Everything is checked before anything is done: one bad line and the whole mail is refused with an error reply
that quotes the line, says what is wrong and shows the help — nothing is done halfway, nothing silently ignored.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select, update

from mailbot.calendar import french_datetime
from mailbot.commands import REGISTRY
from mailbot.commands.base import Origin, Step, end_of_day_utc, local_today, to_member
from mailbot.models import OutboxMail, PendingCommand, Ticket
from mailbot.parsers import InboundMail
from mailbot.parsers.commands import AideurReply, CommandError, parse_aideur_reply
from mailbot.parsers.registration import confirmation_of
from mailbot.tokens import ROLE_AIDEUR, SCOPE_PENDING, Token
from mailbot.workflows import concurrency, counterparts
from mailbot.workflows.aideur import notify_aideurs
from mailbot.workflows.base import Outgoing, WorkflowContext
from mailbot.workflows.tickets import REFERENCE, record_event, record_inbound, shorten

__all__ = ["CONFIRMATION_HOURS", "Origin", "StoredOrigin", "aideur_command_mail", "aideur_reply", "check",
           "end_of_day_utc", "execute", "local_today"]

# Each command is one object of mailbot.commands (its words, reading, check, effect, template): triage only runs
# them in order, all or none.
DECISIONS = tuple(name for name, c in REGISTRY.items() if c.decision)  # each sets where the ticket stands: one a mail
QUIET = tuple(name for name, c in REGISTRY.items() if c.quiet)  # send nothing to a member: never wait for a yes
# How long a command received through the command address waits for Aideur's OUI (README, "Who can command").
CONFIRMATION_HOURS = 72
# At most this many confirmation questions an hour: a flood of forged commands must not become a flood of mail
# to Aideur. Beyond it, commands are not kept, and Aideur gets one notice per hour saying so.
CONFIRMATIONS_PER_HOUR = 10


@dataclass(frozen=True)
class StoredOrigin:
    from_address: str
    message_id: str


# --- entry points --------------------------------------------------------------------------------------------------
def aideur_reply(ctx: WorkflowContext, mail: InboundMail, ticket: Ticket) -> None:
    """Aideur answered a ticket's notification (verified token): commands and text for that ticket."""
    text = mail.new_text or mail.text
    record_inbound(ctx.session, ticket, mail, text, ctx.now)
    reply = parse_aideur_reply(text, local_today(ctx))
    if not held_as_automatic(ctx, mail, ticket, reply, text):
        execute(ctx, mail, ticket, reply)


def held_as_automatic(ctx: WorkflowContext, mail: InboundMail, ticket: Ticket, reply: AideurReply,
                      text: str) -> bool:
    """Is this a human answer for the member? A text alone (no command) that reads like Aideur's vacation notice
    is never relayed; the same text he just sent to another ticket waits for his OUI (workflows.absences)."""
    from mailbot.workflows import absences

    if reply.commands or reply.errors or not reply.message.strip():
        return False
    reason = absences.automatic_reason(mail, reply.message, ticket.ref)
    if reason:
        absences.auto_reply_held(ctx, mail, ticket, reason)
        return True
    others = absences.duplicates(ctx, mail, ticket, text)
    if not others:
        return False
    record_event(ctx.session, ticket, "relay-held", f"même texte envoyé à {', '.join(others)} : en attente de "
                 "confirmation", ctx.now, actor=mail.from_address)
    ask_confirmation(ctx, mail, ticket, reply, text, duplicate_of=", ".join(others))
    return True


def aideur_command_mail(ctx: WorkflowContext, mail: InboundMail, raw: bytes = b"") -> None:
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
    if not reply.commands and not reply.errors and reply.message.strip():
        from mailbot.workflows import absences

        # His vacation notice answering a notice that replies to the command address: recorded, no error mail.
        if reason := absences.automatic_reason(mail, reply.message):
            absences.auto_reply_held(ctx, mail, None, reason)
            return
    if any(c.name == "ouvrir" for c in reply.commands):
        _open_by_command_address(ctx, mail, reply, source)
        return
    if any(c.name == "document" for c in reply.commands) and not reply.errors:
        _add_document(ctx, mail, reply, raw)
        return
    refs = reply.references or _refs_in(mail.subject)
    general = [c for c in reply.commands if not REGISTRY[c.name].needs_ticket]
    if not refs:
        if reply.errors or len(general) != len(reply.commands) or not reply.commands or reply.message.strip():
            problem = _about_no_one(ctx, mail, reply) or CommandError(
                line=mail.subject or "(sans objet)",
                problem="Indiquez la référence de la demande (par exemple CA-2026-0042) dans l'objet ou le texte, "
                        "avec vos commandes.")
            _error_reply(ctx, mail, None, reply.errors or (problem,))
            return
        if sends_to_members(reply) and not check(ctx, None, reply):
            # #absent DU AU moves promises and tells members: it waits for OUI like a ticket's commands.
            if _too_many_confirmations(ctx):
                notify_aideurs(ctx, None, "alerte_commandes_en_nombre", {
                    "club_name": ctx.settings.club_name, "limit": CONFIRMATIONS_PER_HOUR,
                }, key=f"command-flood:{ctx.now:%Y-%m-%dT%H}")
                return
            ask_confirmation(ctx, mail, None, reply, source)
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


def _about_no_one(ctx: WorkflowContext, mail: InboundMail, reply: AideurReply) -> CommandError | None:
    """Aideur's free text in reply to one of his notifications that concerns neither a request nor anyone he could
    write to (a quarantined mail, an alert about his own address, a digest…): it reached his command address. He
    is told so in words that name that notification, and what to do instead (issue 13, point 7), rather than
    "indiquez la référence"."""
    ids = list(mail.in_reply_to) + list(mail.references)
    if not ids or not reply.message.strip():
        return None
    notice = ctx.session.scalar(select(OutboxMail).where(
        OutboxMail.message_id.in_(ids), OutboxMail.recipient.in_(ctx.settings.aideur_addresses)))
    if notice is None:
        return None
    first = next((line.strip() for line in reply.message.splitlines() if line.strip()), "")
    return CommandError(line=shorten(first, 80), problem=(
        f"Votre texte n'a été envoyé à personne : la notification « {shorten(notice.subject, 120)} » ne concerne "
        "aucune demande ni personne à qui mailbot puisse écrire. Pour répondre à quelqu'un, écrivez-lui depuis votre "
        "messagerie ; pour agir sur une demande, écrivez sa référence (par exemple CA-2026-0042) avec vos commandes "
        "(#tickets : les demandes en cours)."))


def _open_by_command_address(ctx: WorkflowContext, mail: InboundMail, reply: AideurReply, source: str) -> None:
    """"#ouvrir EMAIL" in a fresh mail to the command address: a request for that member, from a phone call or a
    forwarded mail. It writes to the member (the acknowledgement), so, like any such command through this
    address, it waits for Aideur's OUI; references in a forwarded mail name no ticket to act on."""
    command = next(c for c in reply.commands if c.name == "ouvrir")
    if not command.text and mail.forwarded:
        # No text under the command: the forwarded mail is the request (kept in the stored command, so that the
        # confirmation executes exactly what Aideur is shown).
        source = "\n".join([source, *(f.text for f in mail.forwarded)])
        reply = parse_aideur_reply(source, local_today(ctx))
    others = [c for c in reply.commands if c.name not in ("ouvrir", "aide", "tickets")]
    errors = list(check(ctx, None, reply))
    if others:
        errors.append(CommandError(line=others[0].line, problem="#ouvrir crée une nouvelle demande : envoyez "
                                   "les autres commandes dans un autre mail, avec la référence qu'elle recevra."))
    if errors:
        _error_reply(ctx, mail, None, tuple(errors))
        return
    if _too_many_confirmations(ctx):
        notify_aideurs(ctx, None, "alerte_commandes_en_nombre", {
            "club_name": ctx.settings.club_name, "limit": CONFIRMATIONS_PER_HOUR,
        }, key=f"command-flood:{ctx.now:%Y-%m-%dT%H}")
        return
    ask_confirmation(ctx, mail, None, reply, source)


def _add_document(ctx: WorkflowContext, mail: InboundMail, reply: AideurReply, raw: bytes) -> None:
    """"#document" with its file attached, to the command address (issue 17, point 3): the file goes into the
    documentation at once (it sends nothing to any member) and Aideur gets its number; alone in its mail."""
    from mailbot.workflows import documents

    command = next(c for c in reply.commands if c.name == "document")
    others = [c for c in reply.commands if c.name != "document"]
    problem = ""
    if others or len(reply.commands) > 1:
        problem = "#document s'envoie seul dans son mail (un document par mail, avec son fichier joint)."
    else:
        problem = documents.document_command_mail(ctx, mail, raw, dict(command.fields), command.line)
    if problem:
        _error_reply(ctx, mail, None, (CommandError(line=command.line, problem=problem[:1].upper() + problem[1:]),))


def sends_to_members(reply: AideurReply) -> bool:
    """Whether executing this reply would send anything to a member (a helper is a member too)."""
    return bool(reply.message.strip()) or any(not REGISTRY[c.name].is_quiet(c) for c in reply.commands)


# --- confirmation of command-address commands ---------------------------------------------------------------------
def _too_many_confirmations(ctx: WorkflowContext) -> bool:
    since = ctx.now - timedelta(hours=1)
    asked = ctx.session.scalar(select(func.count(PendingCommand.id)).where(PendingCommand.created_at > since))
    return (asked or 0) >= CONFIRMATIONS_PER_HOUR


def ask_confirmation(ctx: WorkflowContext, mail: InboundMail, ticket: Ticket | None, reply: AideurReply,
                     source: str, *, duplicate_of: str = "") -> None:
    """Keep the command and ask every Aideur address to confirm it, each with the command's own reply address."""
    pending = PendingCommand(created_at=ctx.now, expires_at=ctx.now + timedelta(hours=CONFIRMATION_HOURS),
                             status="pending", from_address=mail.from_address, message_id=mail.message_id,
                             ticket_id=ticket.id if ticket else None, text=source, day=local_today(ctx))
    ctx.session.add(pending)
    ctx.session.flush()  # its id is in the reply address
    record_event(ctx.session, ticket, "command-pending", "reçue par l'adresse de commande, en attente de "
                 f"confirmation : {shorten(' / '.join(c.line.strip() for c in reply.commands), 300)}", ctx.now,
                 actor=mail.from_address)
    _to_aideurs_about(ctx, pending, ticket, "confirmation_commande", {
        "sender": mail.from_address, "effects": _effects(ctx, ticket, reply), "duplicate_of": duplicate_of,
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
        outcome = {"done": "done", "expired": "expired", "refused": "refused"}.get(pending.status, "cancelled_before")
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
    if not execute(ctx, StoredOrigin(pending.from_address, pending.message_id), ticket,
                   parse_aideur_reply(pending.text, pending.day)):
        # Refused when confirmed (an error, or another Aideur address decided meanwhile: its own mail says so): a
        # later OUI must not read "déjà exécutée" (issue 13, point 5).
        pending.status = "refused"


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


def _effects(ctx: WorkflowContext, ticket: Ticket | None, reply: AideurReply) -> list[str]:
    """What executing the reply would send, and to whom, in Aideur's words."""
    member = ticket.member if ticket else None
    who = f"{member.display_name} <{member.email}>" if member is not None and member.email else \
        "le membre (effacé : rien ne lui parviendrait)"
    effects = [effect for command in reply.commands
               if (effect := REGISTRY[command.name].effect(ctx, ticket, command, who))]
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
        problem = REGISTRY[command.name].check(ctx, ticket, command, today)
        if problem:
            errors.append(CommandError(line=command.line, problem=problem))
    if len(decisions) > 1:
        errors.append(CommandError(line=" / ".join(c.line.strip() for c in decisions),
                                   problem=f"Une seule décision par mail ({_either(DECISIONS)}) : elles se "
                                           "contredisent, rien n'a été fait."))
    if ticket is None and reply.message.strip() and not errors:
        errors.append(CommandError(line=reply.message.strip().splitlines()[0],
                                   problem="Ce texte ne peut être transmis à personne : indiquez la référence "
                                           "de la demande."))
    return tuple(errors)


def _either(names: tuple[str, ...]) -> str:
    words = [f"#{name}" for name in names]
    return ", ".join(words[:-1]) + " ou " + words[-1] if len(words) > 1 else "".join(words)


# --- doing ---------------------------------------------------------------------------------------------------------
def execute(ctx: WorkflowContext, mail: Origin, ticket: Ticket | None, reply: AideurReply) -> bool:
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

    A mail from one Aideur address written on a state it had not seen (another address decided since the notice it
    answers: workflows.concurrency) is not carried out either: its sender and the colleague are told.

    Returns whether it was carried out. Raises nothing of its own: a refused command is an answer to Aideur, not an
    exception."""
    if ticket is not None and concurrency.refuse_unseen_decision(ctx, mail, ticket, reply, mail.from_address,
                                                                 mail.message_id):
        return False  # another Aideur address decided meanwhile: both are told, the member gets nothing
    errors = check(ctx, ticket, reply) + counterparts.check(ctx, mail, ticket, reply.message)
    if errors:
        if ticket is not None:
            record_event(ctx.session, ticket, "command-refused", "; ".join(e.problem for e in errors), ctx.now,
                         actor=mail.from_address)
        _error_reply(ctx, mail, ticket, errors)
        return False
    # Free text goes to the counterpart of the notification replied to; what comes back is the requester's.
    message = counterparts.relay(ctx, mail, ticket, reply.message, actor=mail.from_address,
                                 key=f"relay:{mail.message_id}", commands=len(reply.commands))
    carried = False
    for index, command in enumerate(reply.commands):
        record_event(ctx.session, ticket, f"command:{command.name}", command.line, ctx.now, actor=mail.from_address)
        # Aideur's free message rides on the first mail to the member.
        carried = REGISTRY[command.name].execute(ctx, mail, ticket, command,
                                                 Step(index, "" if carried else message)) or carried
    if message and ticket is not None and not carried:
        relay_message(ctx, mail, ticket, message)
    if ticket is not None:
        ticket.updated_at = ctx.now
    return True


def relay_message(ctx: WorkflowContext, mail: Origin, ticket: Ticket, message: str) -> None:
    """Aideur's free text, alone (no command mail carried it), to whoever his reply is for."""
    to_member(ctx, ticket, "message_aideur", {"message": message}, key=f"relay:{mail.message_id}")
    record_event(ctx.session, ticket, "relayed", "message d'Aideur transmis au membre", ctx.now,
                 actor=mail.from_address)


# --- mails ---------------------------------------------------------------------------------------------------------
def _error_reply(ctx: WorkflowContext, mail: Origin, ticket: Ticket | None,
                 errors: tuple[CommandError, ...]) -> None:
    notify_aideurs(ctx, ticket, "erreur_commande", {
        "club_name": ctx.settings.club_name, "ref": ticket.ref if ticket else "",
        "errors": [{"line": e.line.strip(), "problem": e.problem} for e in errors],
    }, key=f"command-error:{mail.message_id}", only=mail.from_address,
        counterpart=counterparts.of_mail(ctx, mail))  # corrected by reply, the text still goes to the same person


def notify_aideurs_one(ctx: WorkflowContext, address: str, ticket: Ticket | None, template: str,
                       context: dict[str, object], *, key: str) -> None:
    """A reply to the one Aideur who wrote (not to every Aideur address)."""
    notify_aideurs(ctx, ticket, template, context, key=key, only=address)
