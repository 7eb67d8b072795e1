"""Anonymised appeals to the network (docs/rules.md §4, §7): who is asked, what they answer, when it is over.

The requester stays anonymous: the appeal text is Aideur's own, checked for the requester's identity and for any
e-mail address or phone number before anything is sent (a refusal names what would have leaked). Each member asked
gets an individual mail from the club address with its own reply token (scope a = their Solicitation), so their
answer is theirs alone: an offer, forwarded to Aideur with their identity, or a "non merci", never asked again for
this ticket.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from sqlalchemy import func, select

from mailbot import guard
from mailbot.calendar import french_date
from mailbot.matching import Match, Synonyms, load_synonyms, rank
from mailbot.models import Appeal, Connection, Member, Solicitation, Ticket
from mailbot.parsers import InboundMail
from mailbot.parsers.commands import Command
from mailbot.parsers.registration import HelperAnswer, helper_answer
from mailbot.privacy import Leak, disguise_note, find_leaks
from mailbot.tokens import ROLE_HELPER, SCOPE_APPEAL, SCOPE_CONSENT, Token
from mailbot.workflows.aideur import notify_aideurs
from mailbot.workflows.base import Outgoing, WorkflowContext
from mailbot.workflows.tickets import record_event, record_inbound, shorten

MATCHES_IN_NOTIFICATION = 5
# A request's need is stated in its subject and first lines; a long mail's tail (history, disclaimers) adds noise
# and time (bench/matching.py: ~1 KB of text is where ranking 10,000 members nears 50 ms).
QUERY_CHARS = 700


@lru_cache(maxsize=4)
def synonyms_for(path: Path | None) -> Synonyms:
    return load_synonyms(path)


identity_of = guard.identity_of  # kept here: other workflows import it from this module


# --- matching, for Aideur ------------------------------------------------------------------------------------------
def best_matches(ctx: WorkflowContext, text: str, requester: Member | None, *, limit: int = MATCHES_IN_NOTIFICATION,
                 skills: str | None = None, exclude: set[int] | None = None) -> list[tuple[Member, Match]]:
    excluded = set(exclude or ())
    if requester is not None:
        excluded.add(requester.id)
    found = rank(ctx.session, text[:QUERY_CHARS], synonyms=synonyms_for(ctx.settings.synonyms_file),
                 exclude_member_ids=excluded, limit=limit, skills=skills)
    members = {m.id: m for m in ctx.session.scalars(select(Member).where(Member.id.in_([f.member_id for f in found])))}
    return [(members[f.member_id], f) for f in found if f.member_id in members]


def match_rows(pairs: list[tuple[Member, Match]]) -> list[dict[str, str]]:
    return [{"name": m.display_name, "email": m.email or "", "reason": match.reason_text} for m, match in pairs]


# --- #appel --------------------------------------------------------------------------------------------------------
def appeal_problem(ctx: WorkflowContext, ticket: Ticket, command: Command) -> str:
    """Why this appeal cannot go out ("" if it can): checked before anything of Aideur's mail is done.

    Aideur's text is checked first, strictly; then each mail exactly as it would leave (subject, greeting, the
    text wrapped and quoted, HTML part), so that nothing the template adds can give the requester away either.
    """
    requester = identity_of(ticket.member)
    leaks = find_leaks(command.text, requester)
    if leaks:
        return leak_problem(leaks)
    recipients = _recipients(ctx, ticket, command)
    if not recipients:
        wanted = command.fields.get("competences")
        return ("Aucun membre disponible ne correspond" + (f" aux compétences « {wanted} »" if wanted else "") +
                " (membres actifs qui acceptent les appels, hors demandeur et hors membres ayant déjà répondu) : "
                "rien n'a été envoyé. Essayez d'autres mots-clés avec « compétences: … ».")
    for member, match in recipients:
        leaks = guard.check_template("appel", _appeal_context(ctx, ticket, member, match, command.text), requester,
                                     recipient=identity_of(member), written="", settings=ctx.settings)
        if leaks:
            return leak_problem(leaks)
    return ""


def leak_problem(leaks: list[Leak], *, what: str = "L'appel n'a pas été envoyé", again: str = "#appel") -> str:
    """For Aideur: what would have leaked, where, and how it was disguised; then what to do."""
    found = "\u00a0; ".join(f"{leak.what} (« {leak.found} » dans « {shorten(leak.line, 80)} »"
                      + (f", {note}" if (note := disguise_note(leak.found)) else "") + ")" for leak in leaks)
    return (f"{what} : il contient " + found + ". L'anonymat du demandeur doit être respecté : "
            f"retirez ces éléments, puis renvoyez {again}.")


def _appeal_context(ctx: WorkflowContext, ticket: Ticket, member: Member, match: Match, text: str) -> dict[str, object]:
    return {"club_name": ctx.settings.club_name, "first_name": member.first_name, "ref": ticket.ref,
            "text": text, "reason": match.reason_text,
            "due_date": french_date(ticket.due_at, ctx.settings.timezone) if ticket.due_at else ""}


def send_appeal(ctx: WorkflowContext, ticket: Ticket, command: Command, actor: str, key: str) -> list[Solicitation]:
    recipients = _recipients(ctx, ticket, command)
    appeal = Appeal(ticket_id=ticket.id, text=command.text, skills=command.fields.get("competences", ""),
                    actor=actor, created_at=ctx.now)
    ctx.session.add(appeal)
    ctx.session.flush()
    asked = []
    for member, match in recipients:
        solicitation = Solicitation(appeal_id=appeal.id, ticket_id=ticket.id, member_id=member.id, status="asked",
                                    reason=match.reason_text, asked_at=ctx.now)
        ctx.session.add(solicitation)
        ctx.session.flush()
        asked.append(solicitation)
        ctx.send(Outgoing(
            template="appel",
            to=member.email or "",
            context=_appeal_context(ctx, ticket, member, match, command.text),
            idempotency_key=f"appeal:{appeal.id}:{member.id}",
            token=Token(SCOPE_APPEAL, solicitation.id, ROLE_HELPER),
            ticket_id=ticket.id,
            auto_submitted="auto-generated",
            rate_limited=False,  # Aideur's own decision, one per member: not a loop
        ))
    record_event(ctx.session, ticket, "appeal-sent", f"appel n° {appeal.id} envoyé à {len(asked)} membre(s)",
                 ctx.now, actor=actor)
    notify_aideurs(ctx, ticket, "appel_envoye", {
        "club_name": ctx.settings.club_name, "ref": ticket.ref, "text": command.text,
        "asked": match_rows(recipients)}, key=f"appeal-sent:{key}", only=actor)
    return asked


def _recipients(ctx: WorkflowContext, ticket: Ticket, command: Command) -> list[tuple[Member, Match]]:
    answered = set(ctx.session.scalars(select(Solicitation.member_id).where(
        Solicitation.ticket_id == ticket.id, Solicitation.status.in_(("declined", "offered")))))
    limit = int(command.fields.get("membres") or ctx.settings.appeal_members)
    skills = command.fields.get("competences") or None
    query = command.text if skills else f"{ticket.subject}\n{command.text}"
    return best_matches(ctx, query, ticket.member, limit=limit, skills=skills, exclude=answered)


# --- #relier: what the helper may read before both agreed ------------------------------------------------------
# Shown to Aideur when #relier has no text for the helper and no appeal was sent.
NO_TEXT_FOR_HELPER = (
    "La mise en relation n'a pas été demandée : avant que chacun ait donné son accord, le membre qui aide ne doit "
    "lire que quelques lignes écrites par vous pour lui, jamais le mail du demandeur. Aucun appel n'a été envoyé "
    "pour cette demande : écrivez ce texte sous la commande, sans nom, entreprise, adresse ni téléphone, puis "
    "renvoyez le mail. Par exemple :\n#relier 3\nUn membre, artisan près de Nantes, cherche conseil pour "
    "embaucher son premier apprenti.")


def helper_text(ctx: WorkflowContext, ticket: Ticket, command: Command) -> str:
    """What the helper learns of the request before both agreed: the text Aideur gave with #relier, else his
    latest appeal for this ticket, else nothing (then #relier is refused: see connect_problem)."""
    if command.text:
        return command.text
    appeal = ctx.session.scalar(select(Appeal.text).where(Appeal.ticket_id == ticket.id).order_by(Appeal.id.desc()))
    return shorten(appeal, 300) if appeal else ""


def connect_problem(ctx: WorkflowContext, ticket: Ticket, command: Command, helper: Member) -> str:
    """Why #relier cannot ask the helper ("" if it can): no text for them, or a text that gives the requester away
    (checked as written, then as the whole mail the helper would get)."""
    from mailbot.workflows.consents import helper_question  # consents imports this module

    text = helper_text(ctx, ticket, command)
    if not text:
        return NO_TEXT_FOR_HELPER
    requester = identity_of(ticket.member)
    what, again = "La mise en relation n'a pas été demandée", "#relier avec un autre texte"
    leaks = find_leaks(text, requester)
    if not leaks:
        leaks = guard.check_template("accord_intervenant", helper_question(ctx, ticket, helper, text), requester,
                                     recipient=identity_of(helper), written="", settings=ctx.settings)
    return leak_problem(leaks, what=what, again=again) if leaks else ""


# --- the helpers' answers ------------------------------------------------------------------------------------------
def helper_reply(ctx: WorkflowContext, mail: InboundMail, solicitation: Solicitation, ticket: Ticket) -> None:
    """A helper's answer to an appeal (#appel), come back through the solicitation's signed reply address.

    In: the context, the parsed mail, the `solicitations` row the verified token names and its ticket.

    Written: the mail in the ticket's `messages`, always. Ticket already closed: a "helper-late" event and
    "appel_deja_clos" to the helper. A "no" (parsers.registration.helper_answer) before any offer: the
    solicitation "declined", a "helper-declined" event, "appel_non_merci" on the first answer. Anything else
    is an offer: the solicitation "offered" with the next offer number of the ticket and the text, an "offer"
    event, "notification_offre" to Aideur (the helper's card, for #relier) and "appel_merci" to the helper on
    the first answer. Mails are queued on `ctx.outgoing` (the outbox stores them in the same transaction).

    Raises nothing of its own."""
    text = mail.new_text or mail.text
    record_inbound(ctx.session, ticket, mail, text, ctx.now)
    member = solicitation.member
    base: dict[str, object] = {"club_name": ctx.settings.club_name, "first_name": member.first_name, "ref": ticket.ref}
    if ticket.closed_at is not None:
        record_event(ctx.session, ticket, "helper-late", f"réponse de {mail.from_address} après la clôture",
                     ctx.now, actor=mail.from_address)
        _to_helper(ctx, mail, solicitation, "appel_deja_clos", base)
        return
    answer = helper_answer(text)
    first_answer = solicitation.status == "asked"
    if answer is HelperAnswer.DECLINE and solicitation.status != "offered":
        solicitation.status, solicitation.answered_at, solicitation.answer = "declined", ctx.now, text
        record_event(ctx.session, ticket, "helper-declined", f"{member.display_name} ne peut pas aider",
                     ctx.now, actor=mail.from_address)
        if first_answer:
            _to_helper(ctx, mail, solicitation, "appel_non_merci", base)
        return
    if solicitation.offer_number is None:
        solicitation.offer_number = (ctx.session.scalar(select(func.max(Solicitation.offer_number)).where(
            Solicitation.ticket_id == ticket.id)) or 0) + 1
    solicitation.status, solicitation.answered_at = "offered", ctx.now
    solicitation.answer = "\n\n".join(filter(None, [solicitation.answer if not first_answer else "", text]))
    record_event(ctx.session, ticket, "offer", f"offre n° {solicitation.offer_number} de {member.display_name}",
                 ctx.now, actor=mail.from_address)
    notify_aideurs(ctx, ticket, "notification_offre", base | {
        "number": solicitation.offer_number, "again": not first_answer,
        "helper": {"name": member.display_name, "email": member.email, "company": member.company,
                   "phone": member.phone, "activity": member.activity, "skills": member.skills},
        "reason": solicitation.reason, "text": text, "title": ticket.subject,
    }, key=f"offer:{mail.message_id}", about=member.email or "")
    if first_answer:
        _to_helper(ctx, mail, solicitation, "appel_merci", base)


def tell_helpers_need_is_over(ctx: WorkflowContext, ticket: Ticket) -> None:
    """Seed, solidarity: everyone who was asked stops searching as soon as the need is over. Each in their own
    words: a helper already connected with the requester is thanked for their help (not told to stop searching),
    one whose connection was still waiting for consents learns it will not happen, one who offered is thanked for
    the offer, one merely asked learns the need is over."""
    connections: dict[int, Connection] = {}
    for connection in ctx.session.scalars(select(Connection).where(Connection.ticket_id == ticket.id)
                                          .order_by(Connection.id)):
        kept = connections.get(connection.helper_id)
        if kept is None or _CONNECTION_WEIGHT.get(connection.status, 0) >= _CONNECTION_WEIGHT.get(kept.status, 0):
            connections[connection.helper_id] = connection
    solicitations = ctx.session.scalars(select(Solicitation).where(
        Solicitation.ticket_id == ticket.id, Solicitation.told_over_at.is_(None)).order_by(Solicitation.id)).all()
    told: set[int] = set()
    for solicitation in solicitations:
        solicitation.told_over_at = ctx.now
        if solicitation.member_id in told:
            continue  # asked by two appeals: one mail
        told.add(solicitation.member_id)
        _need_is_over(ctx, ticket, solicitation.member, _helper_role(solicitation.status,
                                                                     connections.get(solicitation.member_id)),
                      key=f"appeal-over:{solicitation.id}", token=Token(SCOPE_APPEAL, solicitation.id, ROLE_HELPER))
    # A helper Aideur connected by address, without an appeal: told too, once per connection.
    for helper_id, connection in connections.items():
        if helper_id in told or connection.status not in ("exchanged", "asking"):
            continue
        if ctx.session.scalar(select(Solicitation.id).where(Solicitation.ticket_id == ticket.id,
                                                            Solicitation.member_id == helper_id)) is not None:
            continue  # told at an earlier close
        helper = ctx.session.get(Member, helper_id)
        consent = next((c for c in connection.consents if c.member_id == helper_id), None)
        if helper is None or consent is None:
            continue
        told.add(helper_id)
        _need_is_over(ctx, ticket, helper, _helper_role("", connection), key=f"connection-over:{connection.id}",
                      token=Token(SCOPE_CONSENT, consent.id, ROLE_HELPER))
    if told:
        record_event(ctx.session, ticket, "helpers-told", f"{len(told)} membre(s) sollicité(s) prévenu(s) que la "
                                                          "demande est close", ctx.now)


# Which connection of a helper on a ticket speaks for them: the exchange over a pending one over a lapsed one.
_CONNECTION_WEIGHT = {"exchanged": 3, "asking": 2}


def _helper_role(status: str, connection: Connection | None) -> str:
    """connected (details exchanged) | connecting (consents pending) | offered | asked (no offer)."""
    if connection is not None and connection.status == "exchanged":
        return "connected"
    if connection is not None and connection.status == "asking":
        return "connecting"
    return "offered" if status == "offered" else "asked"


def _need_is_over(ctx: WorkflowContext, ticket: Ticket, member: Member, role: str, *, key: str,
                  token: Token) -> None:
    if not member.email or member.status == "erased":
        return
    ctx.send(Outgoing(
        template="appel_termine", to=member.email,
        context={"club_name": ctx.settings.club_name, "first_name": member.first_name, "ref": ticket.ref,
                 "role": role, "offered": role != "asked"},
        idempotency_key=key, token=token, ticket_id=ticket.id, auto_submitted="auto-generated",
        rate_limited=False))


def _to_helper(ctx: WorkflowContext, mail: InboundMail, solicitation: Solicitation, template: str,
               context: dict[str, object]) -> None:
    ctx.send(Outgoing(template=template, to=solicitation.member.email or mail.from_address, context=context,
                      idempotency_key=f"{template}:{mail.message_id}",
                      token=Token(SCOPE_APPEAL, solicitation.id, ROLE_HELPER), ticket_id=solicitation.ticket_id,
                      in_reply_to=f"<{mail.message_id}>"))
