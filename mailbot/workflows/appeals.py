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

from sqlalchemy import bindparam, func, select

from mailbot import guard
from mailbot.calendar import french_date
from mailbot.matching import Match, Synonyms, load_synonyms, rank
from mailbot.models import Appeal, Connection, Member, Solicitation, Ticket
from mailbot.parsers import InboundMail
from mailbot.parsers.commands import Command
from mailbot.parsers.courtesy import strip_courtesy
from mailbot.parsers.registration import HelperAnswer, decline_says_more, helper_answer
from mailbot.privacy import Leak, disguise_note, find_leaks
from mailbot.tokens import ROLE_HELPER, SCOPE_APPEAL, SCOPE_CONSENT, Token
from mailbot.workflows import counterparts, remarks
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
MEMBERS_BY_ID = select(Member).where(Member.id.in_(bindparam("ids", expanding=True)))  # built once: every request
def best_matches(ctx: WorkflowContext, text: str, requester: Member | None, *, limit: int = MATCHES_IN_NOTIFICATION,
                 skills: str | None = None, exclude: set[int] | None = None,
                 eligible: bool = True) -> list[tuple[Member, Match]]:
    excluded = set(exclude or ())
    if requester is not None:
        excluded.add(requester.id)
    found = rank(ctx.session, text[:QUERY_CHARS], synonyms=synonyms_for(ctx.settings.synonyms_file),
                 exclude_member_ids=excluded, limit=limit, skills=skills, eligible=eligible)
    if not found:
        return []  # nobody to load: spare the query (an ORM select, about a tenth of a new request's ranking)
    members = {m.id: m for m in ctx.session.scalars(MEMBERS_BY_ID, {"ids": [f.member_id for f in found]})}
    return [(members[f.member_id], f) for f in found if f.member_id in members]


def match_rows(pairs: list[tuple[Member, Match]]) -> list[dict[str, str]]:
    return [{"name": m.display_name, "email": m.email or "", "reason": match.reason_text} for m, match in pairs]


# --- #appel --------------------------------------------------------------------------------------------------------
def appeal_problem(ctx: WorkflowContext, ticket: Ticket, command: Command) -> str:
    """Why this appeal cannot go out ("" if it can): checked before anything of Aideur's mail is done.

    Aideur's text is checked first, strictly; then each mail exactly as it would leave (subject, greeting, the
    text wrapped and quoted, HTML part), so that nothing the template adds can give the requester away either.
    """
    text = appeal_text(command)
    if not text:
        return ("L'appel n'a pas été envoyé : il ne contient qu'une formule de politesse. Écrivez sous la ligne "
                "#appel le texte que les membres liront (sans nom ni coordonnées du demandeur), puis renvoyez #appel.")
    requester = identity_of(ticket.member)
    leaks = find_leaks(text, requester)
    if leaks:
        return leak_problem(leaks, text=command.text)  # lines counted as he wrote them under #appel
    recipients = _recipients(ctx, ticket, command)
    if not recipients:
        wanted = command.fields.get("competences")
        reasons = shortfall_reasons(ctx, ticket, command, [])
        return ("Aucun membre disponible ne peut recevoir cet appel" + (f" (compétences « {wanted} »)" if wanted else "") +
                f" : {reasons}. Rien n'a été envoyé. Essayez d'autres mots-clés avec « compétences: … ».")
    for member, match in recipients:
        leaks = guard.check_template("appel", _appeal_context(ctx, ticket, member, match, text), requester,
                                     recipient=identity_of(member), written="", settings=ctx.settings)
        if leaks:
            return leak_problem(leaks, rendered=True)
    return ""


def appeal_text(command: Command) -> str:
    """The appeal as the members will read it: Aideur's text without his greeting and sign-off lines ("Bonjour à
    tous," / "Merci, Aideur"), which the appeal mail has its own of."""
    return strip_courtesy(command.text)


def leak_problem(leaks: list[Leak], *, what: str = "L'appel n'a pas été envoyé", again: str = "#appel",
                 text: str = "", rendered: bool = False) -> str:
    """For Aideur: what would have leaked (the kind, and the words exactly as found), where (the line of his text
    and its number, or the part of the mail the template added), how it was disguised; then what to do."""
    lines = [line.strip() for line in text.split("\n")]
    found = []
    # "Martin" inside "Martin Conseil" on the same line is the company, said once (not also "le nom").
    leaks = [leak for leak in leaks if not _only_inside_others(leak, leaks)]
    for leak in leaks:
        where = f"dans la ligne « {shorten(leak.line, 80)} »"
        if leak.line in lines and not rendered:
            where = f"ligne {lines.index(leak.line) + 1} sous {again.split()[0]} : « {shorten(leak.line, 80)} »"
        elif rendered:
            where = f"dans le mail tel qu'il partirait, ligne « {shorten(leak.line, 80)} »"
        note = disguise_note(leak.found)
        found.append(f"{leak.what} : « {leak.found} », {where}" + (f" ({note})" if note else ""))
    return (f"{what}, il contient " + "\u00a0; ".join(found) + ". L'anonymat du demandeur doit être respecté : "
            f"retirez ces éléments, puis renvoyez {again}.")


def _only_inside_others(leak: Leak, leaks: list[Leak]) -> bool:
    """Whether every occurrence of what `leak` found, on its line, is part of a longer find of another kind."""
    longer = [other.found for other in leaks if other.line == leak.line and other.what != leak.what
              and len(other.found) > len(leak.found) and leak.found in other.found]
    if not longer or leak.found not in leak.line:
        return False
    rest = leak.line
    for found in sorted(longer, key=len, reverse=True):
        rest = rest.replace(found, "\u0000")
    return leak.found not in rest


def _appeal_context(ctx: WorkflowContext, ticket: Ticket, member: Member, match: Match, text: str) -> dict[str, object]:
    return {"club_name": ctx.settings.club_name, "first_name": member.first_name, "ref": ticket.ref,
            "text": text, "reason": match.reason_text,
            "due_date": french_date(ticket.due_at, ctx.settings.timezone) if ticket.due_at else ""}


def send_appeal(ctx: WorkflowContext, ticket: Ticket, command: Command, actor: str, key: str) -> list[Solicitation]:
    recipients = _recipients(ctx, ticket, command)
    text = appeal_text(command)
    appeal = Appeal(ticket_id=ticket.id, text=text, skills=command.fields.get("competences", ""),
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
            context=_appeal_context(ctx, ticket, member, match, text),
            idempotency_key=f"appeal:{appeal.id}:{member.id}",
            token=Token(SCOPE_APPEAL, solicitation.id, ROLE_HELPER),
            ticket_id=ticket.id,
            auto_submitted="auto-generated",
            rate_limited=False,  # Aideur's own decision, one per member: not a loop
        ))
    record_event(ctx.session, ticket, "appeal-sent", f"appel n° {appeal.id} envoyé à {len(asked)} membre(s)",
                 ctx.now, actor=actor)
    wanted = _wanted(ctx, command)
    notify_aideurs(ctx, ticket, "appel_envoye", {
        "club_name": ctx.settings.club_name, "ref": ticket.ref, "text": text,
        "asked": match_rows(recipients), "wanted": wanted,
        "shortfall": shortfall(ctx, ticket, command, recipients) if len(recipients) < wanted else ""},
        key=f"appeal-sent:{key}", only=actor)
    return asked


def _wanted(ctx: WorkflowContext, command: Command) -> int:
    return int(command.fields.get("membres") or ctx.settings.appeal_members)


def _answered(ctx: WorkflowContext, ticket: Ticket) -> set[int]:
    """The members who already answered an appeal for this ticket (an offer or a "non merci"): never asked again."""
    return set(ctx.session.scalars(select(Solicitation.member_id).where(
        Solicitation.ticket_id == ticket.id, Solicitation.status.in_(("declined", "offered")))))


def _query(ticket: Ticket, command: Command) -> tuple[str, str | None]:
    skills = command.fields.get("competences") or None
    text = appeal_text(command)
    return (text if skills else f"{ticket.subject}\n{text}"), skills


def _recipients(ctx: WorkflowContext, ticket: Ticket, command: Command) -> list[tuple[Member, Match]]:
    query, skills = _query(ticket, command)
    return best_matches(ctx, query, ticket.member, limit=_wanted(ctx, command), skills=skills,
                        exclude=_answered(ctx, ticket))


def _members(count: int) -> str:
    return f"{count} membre{'s' if count > 1 else ''}"


def shortfall(ctx: WorkflowContext, ticket: Ticket, command: Command, recipients: list[tuple[Member, Match]]) -> str:
    """Why fewer members than Aideur asked for receive the appeal: "2 membres sur 3 demandés : 1 membre qui
    correspondrait a choisi de ne pas recevoir les appels du réseau ; aucun autre membre n'a de compétence
    proche de cette demande"."""
    wanted, got = _wanted(ctx, command), len(recipients)
    return (f"{_members(got)} sur {wanted} demandé{'s' if wanted > 1 else ''} : "
            + shortfall_reasons(ctx, ticket, command, recipients))


def shortfall_reasons(ctx: WorkflowContext, ticket: Ticket, command: Command,
                      recipients: list[tuple[Member, Match]]) -> str:
    """The reasons, counted from the members who would match if nobody were set apart (the requester always
    is): those who already answered, chose not to receive appeals, left the club or whose address bounces; and
    whether anyone else is close at all."""
    wanted, got = _wanted(ctx, command), len(recipients)
    query, skills = _query(ticket, command)
    asked_ids = {member.id for member, _ in recipients}
    answered = _answered(ctx, ticket)
    counts = {"answered": 0, "refuse": 0, "ended": 0, "bounced": 0}
    missing = wanted - got
    for member, _ in best_matches(ctx, query, ticket.member, limit=wanted + 50, skills=skills, eligible=False):
        if member.id in asked_ids:
            continue
        if member.id in answered:
            counts["answered"] += 1
        elif member.status != "active":
            counts["ended"] += 1
        elif not member.accepts_appeals:
            counts["refuse"] += 1
        elif member.bounced_at is not None:
            counts["bounced"] += 1
    reasons = []
    for key, (one, many) in {
        "answered": ("a déjà répondu à un appel pour cette demande", "ont déjà répondu à un appel pour cette demande"),
        "refuse": ("a choisi de ne pas recevoir les appels du réseau", "ont choisi de ne pas recevoir les appels du réseau"),
        "ended": ("n'est plus membre du Club", "ne sont plus membres du Club"),
        "bounced": ("a une adresse e-mail qui ne reçoit plus", "ont une adresse e-mail qui ne reçoit plus"),
    }.items():
        if counts[key]:
            reasons.append(f"{_members(counts[key])} qui correspondrai{'en' if counts[key] > 1 else ''}t "
                           f"{one if counts[key] == 1 else many}")
    if sum(counts.values()) < missing:
        reasons.append(f"aucun {'autre ' if got or reasons else ''}membre n'a de compétence proche"
                       + (f" de « {skills} »" if skills else " de cette demande"))
    return "\u00a0; ".join(reasons)


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
    if text := strip_courtesy(command.text):
        return text
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
        _to_helper(ctx, mail, solicitation, "appel_deja_clos", base | {"forwarded": _says_more(
            ctx, mail, ticket, member, text)})
        return
    answer = helper_answer(text)
    first_answer = solicitation.status == "asked"
    if answer is HelperAnswer.DECLINE and solicitation.status != "offered":
        solicitation.status, solicitation.answered_at, solicitation.answer = "declined", ctx.now, text
        record_event(ctx.session, ticket, "helper-declined", f"{member.display_name} ne peut pas aider",
                     ctx.now, actor=mail.from_address)
        forwarded = _says_more(ctx, mail, ticket, member, text)
        if first_answer or forwarded:
            _to_helper(ctx, mail, solicitation, "appel_non_merci", base | {"forwarded": forwarded})
        return
    if solicitation.offer_number is None:
        solicitation.offer_number = (ctx.session.scalar(select(func.max(Solicitation.offer_number)).where(
            Solicitation.ticket_id == ticket.id)) or 0) + 1
    solicitation.status, solicitation.answered_at = "offered", ctx.now
    solicitation.answer = "\n\n".join(filter(None, [solicitation.answer if not first_answer else "",
                                                      offer_text(text, member)]))
    record_event(ctx.session, ticket, "offer", f"offre n° {solicitation.offer_number} de {member.display_name}",
                 ctx.now, actor=mail.from_address)
    notify_aideurs(ctx, ticket, "notification_offre", base | {
        "number": solicitation.offer_number, "again": not first_answer,
        "helper": {"name": member.display_name, "email": member.email, "company": member.company,
                   "phone": member.phone, "activity": member.activity, "skills": member.skills},
        "reason": solicitation.reason, "text": text, "title": ticket.subject,
    }, key=f"offer:{mail.message_id}", about=member.email or "",
        counterpart=counterparts.for_helper(ctx, ticket, member, solicitation))  # his text goes to this helper
    if first_answer:
        _to_helper(ctx, mail, solicitation, "appel_merci", base)


def _says_more(ctx: WorkflowContext, mail: InboundMail, ticket: Ticket, member: Member, text: str) -> bool:
    """A "no" (or a late answer) that says more than no — a question, a request of the helper's own, a condition
    (parsers.registration.decline_says_more) — reaches Aideur with the helper's words, as a remark in a consent or
    a result form does (workflows/remarks.py): Aideur answers him through his own counterpart address, or opens
    him a request with #ouvrir (attack 13, case 14). The requester learns nothing of it. True when forwarded."""
    if not decline_says_more(text):
        return False
    remarks.forward(ctx, ticket, member, "helper", remarks.remark_in(text) or text.strip(), what="appeal",
                    key=mail.message_id)
    return True


def offer_text(text: str, helper: Member) -> str:
    """The offer as the requester may read it before both agreed: the helper's words, without the greeting and
    the sign-off and signature under them ("Bien à vous, / Denise Leroy / Leroy Conseil / 06…"), which would
    name them. Aideur's notification keeps the whole mail."""
    names = (helper.first_name, helper.last_name, helper.display_name, helper.company)
    return strip_courtesy(text, names=tuple(name for name in names if name)) or text


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
