"""One reply address = one counterpart (issue 12, point 2).

Every notification to Aideur is about somebody: the member who asked (a new request, a follow-up), one helper (an
offer to an appeal, a helper's answer), or nobody he could write to (a bounce, a failed delivery, a stranger using
a consent address). Its reply address says which, and its footer names them: « Votre texte sera envoyé à : Chloé
Durand, qui propose son aide (demande CA-2026-0001) ». When Aideur replies, his commands act on the ticket as
always, and his free text goes to that counterpart only:

* the requester: the ticket's own token (scope t, as every notification carried before this module), so replies
  to old notifications keep working as they did;
* a helper: a `counterparts` row and its token (scope w, role a). The text goes to the helper through the
  anonymity guard, as an appeal does (never the requester's name, company, address, phone before both agreed),
  with a reply address of its own (scope w, role h): the helper's answer comes back to Aideur as a notification
  bound to the same helper, never to the requester;
* nobody: the text is sent to no one, and Aideur is told so (his commands still run).

Free text to the requester that names a helper who has not yet agreed (and been agreed to) is held the same way.
"""
from __future__ import annotations

from sqlalchemy import select

from mailbot import guard
from mailbot.addresses import same_person
from mailbot.models import Connection, Counterpart, Member, Solicitation, Ticket
from mailbot.parsers import InboundMail
from mailbot.parsers.commands import CommandError
from mailbot.privacy import (
    COMPANY,
    EMAIL,
    EMAIL_DOMAIN,
    FIRST_NAME,
    LAST_NAME,
    PHONE,
    POSTAL_ADDRESS,
    Leak,
    find_identity,
    find_leaks,
    normalise,
)
from mailbot.tokens import ROLE_AIDEUR, ROLE_HELPER, ROLE_MEMBER, SCOPE_COUNTERPART, SCOPE_TICKET, Token
from mailbot.workflows.base import Outgoing, WorkflowContext
from mailbot.workflows.tickets import record_event, record_inbound, shorten

KIND_HELPER = "helper"
KIND_MEMBER = "member"  # a member, about no ticket (their profile, their membership)
KIND_NONE = "none"
KIND_STRANGER = "stranger"  # someone who is not a member, by address: a « Message d'un non-membre » notice
# The mail relayed to a stranger: Aideur's words, and how to join.
TO_STRANGER = "message_non_membre"
# Notifications about a ticket whose free text has nobody to go to: the requester's address bounced or could not
# be reached, or the mail is about someone who is not a party to the ticket (a third party, a forger).
NO_COUNTERPART = frozenset({"alerte_rebond", "alerte_echec_envoi", "notification_accord_tiers", "alerte_anonymat",
                            "alerte_jeton_membre"})
# The mail relayed to a helper, and the notification of their answer.
TO_HELPER = "message_intervenant"
TO_MEMBER = "message_membre"
ANSWER = "notification_reponse"
NOBODY_NOTICE = "texte_sans_destinataire"
# What the identity reader calls the requester's data, said neutrally (it may be a helper's here).
_NEUTRAL = {FIRST_NAME: "le prénom", LAST_NAME: "le nom", COMPANY: "l'entreprise", EMAIL: "l'adresse e-mail",
            EMAIL_DOMAIN: "le domaine e-mail", PHONE: "le téléphone", POSTAL_ADDRESS: "l'adresse postale"}


# --- binding a notification to its counterpart ----------------------------------------------------------------------
def for_helper(ctx: WorkflowContext, ticket: Ticket, helper: Member,
               solicitation: Solicitation | None = None) -> Counterpart:
    """The counterpart "this helper, about this ticket" (one row per helper and ticket, made on first use)."""
    return _row(ctx, KIND_HELPER, ticket.id, helper.id, solicitation.id if solicitation is not None else None)


def for_member(ctx: WorkflowContext, member: Member) -> Counterpart:
    """The counterpart "this member", for a notification about no ticket (a mail about their profile)."""
    return _row(ctx, KIND_MEMBER, None, member.id, None)


def for_stranger(ctx: WorkflowContext, address: str) -> Counterpart:
    """The counterpart "this address, someone who is not a member" (one row per address, made on first use):
    Aideur's reply to the notice about their mail is relayed to them (issue 13, point 7)."""
    address = address.strip().lower()
    found = ctx.session.scalar(select(Counterpart).where(Counterpart.kind == KIND_STRANGER,
                                                         Counterpart.address == address).order_by(Counterpart.id))
    if found is not None:
        return found
    row = Counterpart(kind=KIND_STRANGER, ticket_id=None, member_id=None, solicitation_id=None, address=address,
                      created_at=ctx.now)
    ctx.session.add(row)
    ctx.session.flush()  # its id is in the reply address
    return row


def nobody(ctx: WorkflowContext, ticket: Ticket | None) -> Counterpart:
    """The counterpart of a notification whose free text goes to no one."""
    return _row(ctx, KIND_NONE, ticket.id if ticket is not None else None, None, None)


def _row(ctx: WorkflowContext, kind: str, ticket_id: int | None, member_id: int | None,
         solicitation_id: int | None) -> Counterpart:
    found = ctx.session.scalar(select(Counterpart).where(
        Counterpart.kind == kind,
        Counterpart.ticket_id.is_(None) if ticket_id is None else Counterpart.ticket_id == ticket_id,
        Counterpart.member_id.is_(None) if member_id is None else Counterpart.member_id == member_id,
    ).order_by(Counterpart.id))
    if found is not None:
        return found
    row = Counterpart(kind=kind, ticket_id=ticket_id, member_id=member_id, solicitation_id=solicitation_id,
                      created_at=ctx.now)
    ctx.session.add(row)
    ctx.session.flush()  # its id is in the reply address
    return row


def reply_binding(ctx: WorkflowContext, ticket: Ticket | None, template: str,
                  counterpart: Counterpart | None) -> tuple[Token | None, str]:
    """The token of Aideur's reply address for one notification (None: his command address, as before) and the
    footer sentence naming who receives his free text."""
    if counterpart is None and ticket is not None and template in NO_COUNTERPART:
        counterpart = nobody(ctx, ticket)
    if counterpart is not None:
        return Token(SCOPE_COUNTERPART, counterpart.id, ROLE_AIDEUR), describe(ctx, counterpart)
    if ticket is None:  # his command address: free text goes to the member of the request he names, if any
        return None, ("Votre texte ne sera envoyé à personne, sauf si vous indiquez la référence d'une demande : "
                      "il ira alors au membre qui l'a faite.")
    requester = ticket.member
    if requester is None or not requester.email:
        return Token(SCOPE_TICKET, ticket.id, ROLE_AIDEUR), (
            f"Votre texte ne sera envoyé à personne : le membre qui a fait la demande {ticket.ref} a été effacé.")
    return Token(SCOPE_TICKET, ticket.id, ROLE_AIDEUR), (
        f"Votre texte sera envoyé à : {requester.display_name}, qui a fait la demande {ticket.ref}.")


def describe(ctx: WorkflowContext, counterpart: Counterpart) -> str:
    """The footer sentence for a counterpart row."""
    ticket = ctx.session.get(Ticket, counterpart.ticket_id) if counterpart.ticket_id is not None else None
    member = counterpart.member
    if counterpart.kind == KIND_HELPER and member is not None and member.email and ticket is not None:
        return f"Votre texte sera envoyé à : {member.display_name}, qui propose son aide (demande {ticket.ref})."
    if counterpart.kind == KIND_MEMBER and member is not None and member.email and member.status != "erased":
        return f"Votre texte sera envoyé à : {member.display_name}, membre du Club."
    if counterpart.kind in (KIND_HELPER, KIND_MEMBER):
        return "Votre texte ne sera envoyé à personne : ce membre a quitté le Club ou a été effacé."
    if counterpart.kind == KIND_STRANGER and counterpart.address and "@" in counterpart.address:
        return (f"Votre texte sera envoyé à : {counterpart.address}, qui n'est pas membre du Club (avec la façon "
                "d'adhérer).")
    if counterpart.kind == KIND_STRANGER:
        return "Votre texte ne sera envoyé à personne : les données de cet expéditeur ont été effacées."
    return ("Votre texte ne sera envoyé à personne : ce mail ne concerne aucun membre à qui écrire ; seules vos "
            "commandes seront exécutées.")


# --- Aideur's reply: whose is his free text -------------------------------------------------------------------------
def of_mail(ctx: WorkflowContext, mail: object) -> Counterpart | None:
    """The counterpart named by the address Aideur's mail was delivered to; None means the ticket's requester (a
    ticket token, an old notification, the command address, a stored command)."""
    from mailbot.router import address_token  # the router imports the workflows

    if not isinstance(mail, InboundMail):
        return None
    token = address_token(mail, ctx.signer)
    if token is None or token.scope != SCOPE_COUNTERPART or token.role != ROLE_AIDEUR:
        return None
    return ctx.session.get(Counterpart, token.number)


def check(ctx: WorkflowContext, mail: object, ticket: Ticket | None, message: str) -> tuple[CommandError, ...]:
    """Why Aideur's free text cannot go to its counterpart (nothing of his mail is done then), as CommandErrors.

    To a helper: the requester's identity, any e-mail address or phone number (as in an appeal), checked as
    written and as the helper would read the whole mail. To the requester: the name or details of a helper who
    has not exchanged contact details with them yet."""
    message = message.strip()
    if not message or ticket is None:
        return ()
    counterpart = of_mail(ctx, mail)
    if counterpart is not None and counterpart.kind == KIND_HELPER:
        return _to_helper_problems(ctx, ticket, counterpart, message)
    if counterpart is None:
        return _to_requester_problems(ctx, ticket, message)
    return ()


def _to_helper_problems(ctx: WorkflowContext, ticket: Ticket, counterpart: Counterpart,
                        message: str) -> tuple[CommandError, ...]:
    from mailbot.workflows.appeals import leak_problem  # appeals imports aideur, which imports this module

    helper = counterpart.member
    first_line = message.splitlines()[0]
    if helper is None or not helper.email or helper.status != "active":
        return (CommandError(line=first_line, problem="Ce membre n'est plus membre actif du Club : votre texte ne "
                                                      "peut pas lui être transmis."),)
    if _exchanged(ctx, ticket, helper):
        return ()  # both agreed in writing: they know each other
    requester = guard.identity_of(ticket.member)
    leaks = _distinct(find_leaks(message, requester)) or guard.check_template(
        TO_HELPER, _helper_context(ctx, ticket, helper, message), requester, recipient=guard.identity_of(helper),
        written="", settings=ctx.settings)
    if not leaks:
        return ()
    return (CommandError(line=leaks[0].line or first_line, problem=leak_problem(
        leaks, what=f"Votre texte à {helper.display_name} n'a pas été envoyé", again="votre réponse")),)


def _to_requester_problems(ctx: WorkflowContext, ticket: Ticket, message: str) -> tuple[CommandError, ...]:
    """A helper named to the requester before both agreed: the identity reader, one helper at a time."""
    requester = ticket.member
    if requester is None or not requester.email:
        return ()
    asked = ctx.session.scalars(select(Solicitation.member_id).where(Solicitation.ticket_id == ticket.id)).all()
    connected = ctx.session.scalars(select(Connection.helper_id).where(Connection.ticket_id == ticket.id)).all()
    problems = []
    for member_id in dict.fromkeys([*asked, *connected]):
        helper = ctx.session.get(Member, member_id)
        if helper is None or helper.id == requester.id or _exchanged(ctx, ticket, helper):
            continue
        leaks = _distinct(find_identity(message, guard.identity_of(helper)))
        if leaks:
            found = "\u00a0; ".join(f"{_NEUTRAL.get(leak.what, leak.what)} ({_q(leak.found)} dans "
                                    f"{_q(shorten(leak.line, 80))})" for leak in leaks)
            problems.append(CommandError(line=leaks[0].line, problem=(
                f"Votre texte pour {requester.display_name} n'a pas été envoyé : il désigne "
                f"{helper.display_name}, qui propose son aide, par {found}. Tous deux n'ont pas encore accepté "
                "d'échanger leurs coordonnées : retirez ces éléments. Pour écrire à ce membre, répondez à la "
                "notification de son offre.")))
    return tuple(problems)


def _q(text: str) -> str:
    """French quotes, held to their words by no-break spaces (a wrapped line never starts with « »)."""
    return f"«\u00a0{text}\u00a0»"


def _distinct(leaks: list[Leak]) -> list[Leak]:
    """One finding per piece of text, named by what it most plainly is: "Alice" is her first name before it is
    the start of her e-mail address."""
    order = {FIRST_NAME: 0, LAST_NAME: 1, COMPANY: 2, PHONE: 3, POSTAL_ADDRESS: 4}
    kept: dict[tuple[str, str], Leak] = {}
    for leak in sorted(leaks, key=lambda leak: order.get(leak.what, 9)):
        kept.setdefault((normalise(leak.found), leak.line), leak)
    return list(kept.values())


def _exchanged(ctx: WorkflowContext, ticket: Ticket, helper: Member) -> bool:
    return ctx.session.scalar(select(Connection.id).where(
        Connection.ticket_id == ticket.id, Connection.helper_id == helper.id,
        Connection.status == "exchanged")) is not None


def relay(ctx: WorkflowContext, mail: object, ticket: Ticket | None, message: str, *, actor: str, key: str,
          commands: int = 0) -> str:
    """Send Aideur's free text to the counterpart of the notification he replied to (after check()).

    Returns the text when it is for the ticket's requester (the caller relays it as before: on the member's
    decision mail, or alone); "" when it went to a helper, or to nobody (Aideur is then told, his commands ran)."""
    message = message.strip()
    counterpart = of_mail(ctx, mail)
    if not message or counterpart is None:
        return message
    if counterpart.kind == KIND_HELPER and ticket is not None and counterpart.member is not None:
        helper = counterpart.member
        ctx.send(Outgoing(template=TO_HELPER, to=helper.email or "",
                          context=_helper_context(ctx, ticket, helper, message), idempotency_key=key,
                          token=Token(SCOPE_COUNTERPART, counterpart.id, ROLE_HELPER), ticket_id=ticket.id,
                          auto_submitted="no", rate_limited=False))
        record_event(ctx.session, ticket, "relayed", f"message d'Aideur transmis à {helper.display_name} "
                                                     "(membre qui propose son aide)", ctx.now, actor=actor)
        return ""
    from mailbot.workflows.aideur import notify_aideurs

    notify_aideurs(ctx, ticket, NOBODY_NOTICE, {
        "club_name": ctx.settings.club_name, "ref": ticket.ref if ticket is not None else "",
        "lines": [line.rstrip() for line in message.splitlines()][:40], "commands": commands,
    }, key=f"nobody:{key}", only=actor, counterpart=counterpart)
    return ""


def aideur_reply(ctx: WorkflowContext, mail: InboundMail, counterpart_id: int) -> None:
    """Aideur replied to a notification about a member and no ticket (scope w, role a): his #aide and #tickets run,
    any other command is refused as through his command address without a reference; his free text goes to that
    member, with a reply address bound to them (their answer comes back to him the same way)."""
    from mailbot.parsers.commands import AideurReply, parse_aideur_reply
    from mailbot.workflows import triage  # triage imports this module

    counterpart = ctx.session.get(Counterpart, counterpart_id)
    assert counterpart is not None  # the router checked it
    if counterpart.kind == KIND_STRANGER:
        _to_stranger(ctx, mail, counterpart)
        return
    text = mail.new_text or mail.text
    parsed = parse_aideur_reply(text, triage.local_today(ctx))
    if not parsed.commands and not parsed.errors and parsed.message.strip():
        from mailbot.workflows import absences

        if reason := absences.automatic_reason(mail, parsed.message):  # his vacation notice: never to the member
            absences.auto_reply_held(ctx, mail, None, reason)
            return
    commands_only = AideurReply(parsed.commands, "", parsed.errors, parsed.references)
    problems = triage.check(ctx, None, commands_only)
    member = counterpart.member
    message = parsed.message.strip()
    if message and (member is None or not member.email or member.status == "erased"):
        problems += (CommandError(line=message.splitlines()[0], problem=describe(ctx, counterpart)),)
    if problems or parsed.commands:
        triage.execute(ctx, mail, None, commands_only if not problems else
                       AideurReply(parsed.commands, "", problems, parsed.references))
    if problems or not message or member is None:
        return
    ctx.send(Outgoing(template=TO_MEMBER, to=member.email or "",
                      context={"club_name": ctx.settings.club_name, "first_name": member.first_name,
                               "message": message},
                      idempotency_key=f"relay:{mail.message_id}",
                      token=Token(SCOPE_COUNTERPART, counterpart.id, ROLE_MEMBER), auto_submitted="no",
                      rate_limited=False))
    record_event(ctx.session, None, "relayed", f"membre n° {member.id} : message d'Aideur transmis", ctx.now,
                 actor=mail.from_address)


def _to_stranger(ctx: WorkflowContext, mail: InboundMail, counterpart: Counterpart) -> None:
    """Aideur replied to a « Message d'un non-membre » notice: his #aide and #tickets run, any other command is
    refused as through his command address without a reference; his free text goes to that address, from the club,
    with how to join. Its reply address is the invitation's own (bound to that address): their answer comes back
    as a non-member's mail (a form registers them; anything else reaches Aideur in a new notice)."""
    from mailbot.parsers.commands import AideurReply, parse_aideur_reply
    from mailbot.workflows import triage  # triage imports this module

    parsed = parse_aideur_reply(mail.new_text or mail.text, triage.local_today(ctx))
    if not parsed.commands and not parsed.errors and parsed.message.strip():
        from mailbot.workflows import absences

        if reason := absences.automatic_reason(mail, parsed.message):  # his vacation notice: never sent on
            absences.auto_reply_held(ctx, mail, None, reason)
            return
    commands_only = AideurReply(parsed.commands, "", parsed.errors, parsed.references)
    problems = triage.check(ctx, None, commands_only)
    message = parsed.message.strip()
    address = counterpart.address or ""
    if message and "@" not in address:
        problems += (CommandError(line=message.splitlines()[0], problem=describe(ctx, counterpart)),)
    elif message and ctx.session.scalar(select(Member.id).where(Member.email == address,
                                                                Member.status == "active")) is not None:
        # Registered since the notice: he writes to a member now, through the member's own notifications.
        problems += (CommandError(line=message.splitlines()[0], problem=(
            f"{address} est devenu membre depuis : votre texte n'a pas été envoyé. Répondez à la notification "
            "« Nouveau membre » pour lui écrire.")),)
    if problems or parsed.commands:
        triage.execute(ctx, mail, None, commands_only if not problems else
                       AideurReply(parsed.commands, "", problems, parsed.references))
    if problems or not message:
        return
    ctx.send(Outgoing(template=TO_STRANGER, to=address,
                      context={"club_name": ctx.settings.club_name, "message": message,
                               "conditions_version": ctx.settings.conditions_version},
                      idempotency_key=f"relay:{mail.message_id}", token=ctx.signer.address_token(address),
                      auto_submitted="no", rate_limited=False))
    record_event(ctx.session, None, "relayed", f"non-membre n° {counterpart.id} : message d'Aideur transmis",
                 ctx.now, actor=mail.from_address)


def _helper_context(ctx: WorkflowContext, ticket: Ticket, helper: Member, message: str) -> dict[str, object]:
    return {"club_name": ctx.settings.club_name, "ref": ticket.ref, "first_name": helper.first_name,
            "message": message}


# --- the counterpart's answer -------------------------------------------------------------------------------------
def counterpart_reply(ctx: WorkflowContext, mail: InboundMail, counterpart_id: int) -> None:
    """A helper answered the message Aideur sent them (through its reply address, scope w, role h).

    Written: the mail on the ticket's messages and an event. Queued: "notification_reponse" to Aideur, whose reply
    address is bound to the same helper. From anyone but that helper (a forwarded mail, a forged From:), Aideur is
    told who wrote, and his reply to that notice goes to nobody."""
    from mailbot.workflows.aideur import notify_aideurs

    counterpart = ctx.session.get(Counterpart, counterpart_id)
    assert counterpart is not None  # the router checked it
    ticket = ctx.session.get(Ticket, counterpart.ticket_id) if counterpart.ticket_id is not None else None
    member = counterpart.member
    text = mail.new_text or mail.text
    if ticket is not None:
        record_inbound(ctx.session, ticket, mail, text, ctx.now)
    own = member is not None and bool(member.email) and same_person(ctx.session, mail.from_address, member.email or "")
    name = member.display_name if member is not None else "un membre effacé"
    context: dict[str, object] = {
        "club_name": ctx.settings.club_name, "ref": ticket.ref if ticket is not None else "",
        "name": name, "email": member.email if member is not None else "",
        "sender": mail.from_address,
        "own": own, "text": text, "title": ticket.subject if ticket is not None else "",
    }
    # About no ticket, the event names the member by number only (as the profile workflow does: erasure).
    who = name if ticket is not None else f"membre n° {counterpart.member_id}"
    record_event(ctx.session, ticket, "counterpart-reply" if own else "counterpart-foreign",
                 f"réponse de {who} au message d'Aideur" if own else
                 f"mail de {mail.from_address} par l'adresse de réponse donnée à {who} : non transmis",
                 ctx.now, actor=mail.from_address)
    notify_aideurs(ctx, ticket, ANSWER, context, key=f"counterpart-reply:{mail.message_id}",
                   counterpart=counterpart if own else nobody(ctx, ticket),
                   about=(member.email or "") if member is not None else "")


__all__ = [
    "ANSWER",
    "KIND_HELPER",
    "KIND_MEMBER",
    "KIND_NONE",
    "KIND_STRANGER",
    "NO_COUNTERPART",
    "aideur_reply",
    "check",
    "counterpart_reply",
    "describe",
    "for_helper",
    "for_member",
    "for_stranger",
    "nobody",
    "of_mail",
    "relay",
    "reply_binding",
]
