"""Consent before contact (docs/rules.md §5): contact details go from one member to another only with the written
agreement of each ("qu'avec l'accord de chacun d'entre eux (mail ou écrit)").

Aideur's #relier opens a Connection and asks both sides, each through a reply token naming that person's Consent.
An answer counts only from the person asked, and only when it is a clear yes or no (parsers/consent.py); anything
else gets a short question back, never a guess. Each answer is kept as evidence: what was asked (Message-ID and
hash of the text as sent), the answer line, when, the answer's Message-ID and the hash of the raw mail.
"""
from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import select

from mailbot.addresses import member_of_address, same_person
from mailbot.calendar import french_date
from mailbot.compose import excerpt
from mailbot.models import Connection, Consent, Member, Solicitation, Ticket
from mailbot.parsers import InboundMail
from mailbot.parsers.consent import CARD_FIELDS, CONTACT_CHANNELS, ConsentAnswer, ConsentReading, read_consent
from mailbot.privacy import find_leaks, without_identity
from mailbot.tokens import ROLE_HELPER, ROLE_MEMBER, SCOPE_CONSENT, Token
from mailbot.workflows import remarks, results
from mailbot.workflows.aideur import notify_aideurs
from mailbot.workflows.appeals import identity_of
from mailbot.workflows.base import Outgoing, WorkflowContext
from mailbot.workflows.tickets import record_event, record_inbound, shorten

ROLE_WORDS = {"requester": "le membre qui a demandé de l'aide", "helper": "le membre qui propose son aide"}


# The card's lines, in order: field key (parsers/consent.CARD_FIELDS), label, value.
_CARD = (("name", "Nom", lambda m: m.display_name), ("email", "Courriel", lambda m: m.email or ""),
         ("phone", "Téléphone", lambda m: m.phone), ("company", "Entreprise", lambda m: m.company),
         ("activity", "Activité", lambda m: m.activity))


def contact_card(member: Member, fields: frozenset[str] | None = None) -> list[tuple[str, str]]:
    """What is given to the other side once both agreed: how to reach the person, nothing more (no postal
    address, no skills list): data minimisation. `fields`: only those (a restricted consent)."""
    card = [(label, value(member)) for key, label, value in _CARD if fields is None or key in fields]
    return [(label, value) for label, value in card if value]


def card_fields(member: Member) -> frozenset[str]:
    """The fields the member's card holds today (those a plain yes agrees to share)."""
    return frozenset(key for key, _label, value in _CARD if value(member))


def shared_of(consent: Consent) -> frozenset[str]:
    """The fields a consent covers ("" on a yes older than restricted consent: the whole card)."""
    return frozenset(consent.shared_fields.split(",")) - {""} or frozenset(CARD_FIELDS)


def _in_order(fields: frozenset[str]) -> list[str]:
    return [key for key in CARD_FIELDS if key in fields]


# --- Aideur's #relier --------------------------------------------------------------------------------------------
def helper_for(ctx: WorkflowContext, ticket: Ticket, fields: dict[str, str]) -> tuple[Member | None,
                                                                                     Solicitation | None, str]:
    """The helper #relier names (offer number or e-mail), or why it cannot be done."""
    solicitation = None
    helper: Member | None
    if "offre" in fields:
        solicitation = ctx.session.scalar(select(Solicitation).where(
            Solicitation.ticket_id == ticket.id, Solicitation.offer_number == int(fields["offre"])))
        if solicitation is None:
            return None, None, f"Aucune offre n° {fields['offre']} sur {ticket.ref} (voir les mails « Offre n° … »)."
        helper = solicitation.member
    else:
        helper = member_of_address(ctx.session, fields.get("email", ""))  # any of the member's addresses
        if helper is None:
            return None, None, f"Aucun membre n'a l'adresse {fields.get('email')}."
    requester = ticket.member
    if requester is None or not requester.email or requester.status != "active":
        return None, None, f"Le demandeur de {ticket.ref} n'est plus membre : aucune mise en relation possible."
    if helper.id == requester.id:
        return None, None, "On ne peut pas relier le demandeur à lui-même."
    if helper.status != "active" or not helper.email:
        return None, None, f"{helper.display_name} n'est plus membre actif."
    busy = ctx.session.scalar(select(Connection.status).where(
        Connection.ticket_id == ticket.id, Connection.helper_id == helper.id,
        Connection.status.in_(("asking", "exchanged"))))
    if busy:
        state = "est déjà en cours" if busy == "asking" else "a déjà eu lieu"
        return None, None, f"La mise en relation avec {helper.display_name} sur {ticket.ref} {state}."
    return helper, solicitation, ""


def start(ctx: WorkflowContext, ticket: Ticket, helper: Member, solicitation: Solicitation | None,
          actor: str, summary: str = "") -> Connection:
    """Ask both sides. `summary` is all the helper learns of the request before both agreed: a text Aideur wrote
    for helpers, already checked by the anonymity guard (appeals.helper_text), never the requester's own words."""
    requester = ticket.member
    assert requester is not None
    connection = Connection(ticket_id=ticket.id, requester_id=requester.id, helper_id=helper.id,
                            solicitation_id=solicitation.id if solicitation else None, status="asking", actor=actor,
                            created_at=ctx.now)
    ctx.session.add(connection)
    ctx.session.flush()
    asked = {}
    for member, role in ((requester, "requester"), (helper, "helper")):
        consent = Consent(connection_id=connection.id, member_id=member.id, role=role, status="pending",
                          asked_at=ctx.now)
        ctx.session.add(consent)
        asked[role] = consent
    ctx.session.flush()
    base = {"club_name": ctx.settings.club_name, "ref": ticket.ref, "days": ctx.settings.consent_expiry_days}
    _ask(ctx, asked["requester"], "accord_demandeur", base | {
        "first_name": requester.first_name, "card": [label for label, _ in contact_card(requester)],
        **profile_seen_by_other_side(helper), "offer": _offer_without_identity(solicitation, helper)})
    _ask(ctx, asked["helper"], "accord_intervenant", helper_question(ctx, ticket, helper, summary))
    record_event(ctx.session, ticket, "connection-asked", f"mise en relation n° {connection.id} avec "
                                                          f"{helper.display_name} : accord demandé aux deux", ctx.now,
                 actor=actor)
    return connection


def profile_seen_by_other_side(member: Member) -> dict[str, str]:
    """The free text of a member's profile shown to the other side of a connection before both agreed (the
    requester's question shows the helper's activity and skills): never what names or reaches the member
    (attack 13, case 12: "cabinet Durand Avocats" in her activity). Each text goes through the appeals' leak
    finder against the member's own identity and keeps only what gives nothing away (privacy.without_identity).
    The helper's question shows nothing of the requester's profile but Aideur's text, checked by the guard."""
    identity = identity_of(member)
    return {"helper_activity": without_identity(member.activity, identity),
            "helper_skills": without_identity(member.skills, identity)}


def _offer_without_identity(solicitation: Solicitation | None, helper: Member) -> str:
    """The helper's offer as they wrote it, unless it would name them before they agreed (a signature, a phone)."""
    if solicitation is None or not solicitation.answer or find_leaks(solicitation.answer, identity_of(helper)):
        return ""
    return shorten(solicitation.answer, 600)


def helper_question(ctx: WorkflowContext, ticket: Ticket, helper: Member, summary: str) -> dict[str, object]:
    """The context of the question to the helper (accord_intervenant), also rendered by the guard beforehand."""
    return {"club_name": ctx.settings.club_name, "ref": ticket.ref, "days": ctx.settings.consent_expiry_days,
            "first_name": helper.first_name, "card": [label for label, _ in contact_card(helper)],
            "summary": summary}


def _ask(ctx: WorkflowContext, consent: Consent, template: str, context: dict[str, object], *,
         key: str | None = None) -> None:
    member = consent.member if consent.member is not None else ctx.session.get(Member, consent.member_id)
    assert member is not None and member.email

    def evidence(message_id: str, text: str) -> None:
        if not consent.asked_message_id:  # the question itself; a reminder repeats it, the evidence stays first
            consent.asked_message_id, consent.asked_sha256 = message_id, hashlib.sha256(text.encode()).hexdigest()

    ctx.send(Outgoing(template=template, to=member.email, context=context,
                      idempotency_key=key or f"consent-ask:{consent.id}",
                      token=Token(SCOPE_CONSENT, consent.id, ROLE_MEMBER if consent.role == "requester"
                                  else ROLE_HELPER),
                      ticket_id=consent.connection.ticket_id if consent.connection else None,
                      auto_submitted="auto-generated", rate_limited=False, after_store=evidence))


# --- answers -----------------------------------------------------------------------------------------------------
def consent_reply(ctx: WorkflowContext, mail: InboundMail, raw_sha256: str, consent_id: int) -> None:
    """An answer to a consent question (#relier), come back through the consent's signed reply address.

    In: the context, the parsed mail, the SHA-256 of its raw bytes (kept as evidence of a yes or a no) and the
    id of the `consents` row the verified token names (the router checked the token; the row must exist).

    Written: the mail in the ticket's `messages`, always. From anyone but the person asked: only a
    "consent-foreign" event, and "notification_accord_tiers" queued to Aideur; the sender gets nothing. On a
    connection no longer asking (or one whose other side left the club: it becomes "cancelled"):
    "accord_sans_objet" to the sender. Otherwise the answer is read (parsers.consent) and the `consents` row
    updated (status yes/no/pending, answer line, shared fields, evidence) with a "consent-<status>" event:
    unclear → "accord_incompris" (a doubt after a yes suspends it); a restriction → "accord_restreint" asking
    to confirm exactly what would be shared; no → the `connections` row "refused", "accord_refus_enregistre"
    to the sender, "relation_annulee" to the other side, "notification_relation_refusee" to Aideur; yes with
    the other side's yes → "exchanged": "coordonnees" (the other's card) to both, "notification_relation_faite"
    to Aideur, a `result_forms` row and its form to each; yes alone → "accord_enregistre". A yes said again
    changes nothing. All mails are queued on `ctx.outgoing` (the outbox stores them in the same transaction).

    Raises AssertionError if the consent or its ticket does not exist (the router guarantees both)."""
    consent = ctx.session.get(Consent, consent_id)
    assert consent is not None
    connection = consent.connection
    ticket = ctx.session.get(Ticket, connection.ticket_id)
    assert ticket is not None
    member = consent.member
    text = mail.new_text or mail.text
    record_inbound(ctx.session, ticket, mail, text, ctx.now)
    if not member.email or not same_person(ctx.session, mail.from_address, member.email):  # any of their addresses
        # A forwarded mail's reply address used by someone else: the token names the person asked, so it
        # does not count. Aideur is told; the sender gets nothing (they may not even be a member).
        record_event(ctx.session, ticket, "consent-foreign", f"réponse de {mail.from_address} à la demande "
                                                             f"d'accord adressée à {member.display_name} : ignorée",
                     ctx.now, actor=mail.from_address)
        notify_aideurs(ctx, ticket, "notification_accord_tiers", {
            "club_name": ctx.settings.club_name, "ref": ticket.ref, "sender": mail.from_address,
            "asked": member.display_name, "text": excerpt(text, 1000)}, key=f"consent-foreign:{mail.message_id}")
        return
    base: dict[str, object] = {"club_name": ctx.settings.club_name, "ref": ticket.ref,
                               "first_name": member.first_name, "role": consent.role}
    if connection.status == "asking" and any(c.member.status != "active" or not c.member.email
                                             for c in connection.consents):
        connection.status, connection.closed_at = "cancelled", ctx.now  # one side left the club meanwhile
    # The whole body: a PS under the signature is part of the answer; a line under the yes is her signature only if
    # it is her name.
    reading = read_consent(mail.text or text, names=(member.first_name, member.last_name))
    # A question or a remark beside (or instead of) the answer reaches Aideur; the answer stays read strictly.
    remark = remarks.remark_in(mail.new_text, "" if reading.answer is ConsentAnswer.UNCLEAR else reading.line)
    if remark:
        remarks.forward(ctx, ticket, member, consent.role, remark, what="consent", key=mail.message_id)
    base["forwarded"] = bool(remark)
    if connection.status != "asking":
        _reply(ctx, mail, consent, "accord_sans_objet", base | {"state": connection.status})
        return
    proposal = consent.status == "pending" and bool(consent.shared_fields)
    if reading.answer is ConsentAnswer.RESTRICTED:
        if not (proposal and reading.fields & card_fields(member) == shared_of(consent)):
            _restricted(ctx, mail, ticket, consent, reading, base)
            return
        reading = ConsentReading(ConsentAnswer.YES, reading.line)  # the same restriction again: that confirms it
    if reading.answer is ConsentAnswer.UNCLEAR:
        suspended = consent.status == "yes" and reading.reason not in ("vide", "pas une réponse", "trop long")
        if suspended:
            # "PS : en fait je ne sais plus" after a yes: a doubt now weighs more than the yes before it. Nothing
            # is exchanged until a new plain yes (the other side's yes stays).
            consent.status, consent.shared_fields, consent.answered_at = "pending", "", None
        record_event(ctx.session, ticket, "consent-suspended" if suspended else "consent-unclear",
                     f"{member.display_name} : réponse pas claire ({reading.reason or 'pas une réponse simple'})"
                     + (", accord suspendu" if suspended else ""), ctx.now, actor=mail.from_address)
        _reply(ctx, mail, consent, "accord_incompris", base | _proposal_context(consent, member, proposal)
               | {"suspended": suspended})
        return
    previous = consent.status
    if reading.answer is ConsentAnswer.YES and previous == "yes":
        return  # said again: the evidence of the first yes stays
    consent.status = "yes" if reading.answer is ConsentAnswer.YES else "no"
    consent.answered_at = ctx.now
    consent.answer_message_id, consent.answer_sha256 = mail.message_id, raw_sha256
    if consent.status == "yes" and proposal:
        # A yes to our "only your e-mail?" question covers what it named; the evidence keeps both lines.
        consent.answer_line = f"{consent.answer_line} / {reading.line}"
    elif consent.status == "yes":
        # A plain yes covers the card as it stands, as the question listed it.
        consent.answer_line, consent.shared_fields = reading.line, ",".join(_in_order(card_fields(member)))
    else:
        consent.answer_line, consent.shared_fields = reading.line, ""
    shared = ", ".join(_in_order(shared_of(consent))) if consent.status == "yes" else ""
    record_event(ctx.session, ticket, f"consent-{consent.status}",
                 f"{member.display_name} ({consent.role}) : « {shorten(consent.answer_line, 160)} »"
                 + (f" ; transmis : {shared}" if proposal and shared else ""), ctx.now, actor=mail.from_address)
    other = next(c for c in connection.consents if c.id != consent.id)
    if consent.status == "no":
        _refused(ctx, mail, ticket, connection, consent, other, withdrawn=previous == "yes")
    elif other.status == "yes":
        _exchange(ctx, ticket, connection)
    else:
        _reply(ctx, mail, consent, "accord_enregistre", base | {
            "shared": [label for label, _ in contact_card(member, shared_of(consent))] if proposal else []})


def _proposal_context(consent: Consent, member: Member, proposal: bool) -> dict[str, object]:
    """What the mails say of a restriction waiting for its OUI: exactly the lines that would be shared."""
    if not proposal:
        return {"fields": [], "card": []}
    fields = shared_of(consent)
    return {"fields": _in_order(fields), "card": contact_card(member, fields)}


def _restricted(ctx: WorkflowContext, mail: InboundMail, ticket: Ticket, consent: Consent, reading: ConsentReading,
                base: dict[str, object]) -> None:
    """"Oui, mais seulement mon e-mail": nothing is agreed yet. The person is told exactly what would be shared
    and confirms it by OUI; until then this side is pending (a yes given before is suspended)."""
    member = consent.member
    held = card_fields(member)
    fields = reading.fields & held
    missing = _in_order(reading.fields - held)
    if not fields & CONTACT_CHANNELS:
        # Nothing that lets the other side reach them (or only fields we do not hold): ask which one to give.
        record_event(ctx.session, ticket, "consent-unclear", f"{member.display_name} : restriction sans moyen de "
                     "contact", ctx.now, actor=mail.from_address)
        _reply(ctx, mail, consent, "accord_restreint", base | {"fields": [], "card": [], "missing": missing,
                                                              "no_channel": True})
        return
    consent.status, consent.shared_fields = "pending", ",".join(_in_order(fields))
    consent.answer_line, consent.answered_at = reading.line, None
    consent.answer_message_id, consent.answer_sha256 = "", ""
    record_event(ctx.session, ticket, "consent-restricted",
                 f"{member.display_name} ({consent.role}) : « {shorten(reading.line, 120)} » ; à confirmer : "
                 f"{', '.join(_in_order(fields))}", ctx.now, actor=mail.from_address)
    _reply(ctx, mail, consent, "accord_restreint", base | {"fields": _in_order(fields),
                                                          "card": contact_card(member, fields),
                                                          "missing": missing, "no_channel": False})


def _refused(ctx: WorkflowContext, mail: InboundMail, ticket: Ticket, connection: Connection, consent: Consent,
             other: Consent, *, withdrawn: bool) -> None:
    connection.status, connection.closed_at = "refused", ctx.now
    member, partner = consent.member, other.member
    base = {"club_name": ctx.settings.club_name, "ref": ticket.ref}
    _reply(ctx, mail, consent, "accord_refus_enregistre", base | {"first_name": member.first_name,
                                                                 "withdrawn": withdrawn})
    if other.status != "no" and partner.email:
        ctx.send(Outgoing(template="relation_annulee", to=partner.email,
                          # Thanked "pour votre accord" only if they gave it: silence is not a yes.
                          context=base | {"first_name": partner.first_name, "role": other.role,
                                          "agreed": other.status == "yes"},
                          idempotency_key=f"connection-off:{connection.id}:{partner.id}",
                          token=Token(SCOPE_CONSENT, other.id, ROLE_MEMBER if other.role == "requester"
                                      else ROLE_HELPER), ticket_id=ticket.id, auto_submitted="auto-generated"))
    notify_aideurs(ctx, ticket, "notification_relation_refusee", base | {
        "who": member.display_name, "role": ROLE_WORDS[consent.role], "line": consent.answer_line,
        "withdrawn": withdrawn, "partner": partner.display_name}, key=f"connection-refused:{connection.id}")


def _exchange(ctx: WorkflowContext, ticket: Ticket, connection: Connection) -> None:
    """Both agreed in writing: each receives the other's card, the first meeting is free, discretion applies."""
    connection.status, connection.closed_at = "exchanged", ctx.now
    consents = {c.role: c for c in connection.consents}
    pairs = ((consents["requester"], consents["helper"]), (consents["helper"], consents["requester"]))
    for mine, theirs in pairs:
        me, them = mine.member, theirs.member
        ctx.send(Outgoing(
            template="coordonnees", to=me.email or "",
            context={"club_name": ctx.settings.club_name, "ref": ticket.ref, "first_name": me.first_name,
                     "role": mine.role, "card": contact_card(them, shared_of(theirs)),
                     "form_days": ctx.settings.result_form_days},
            idempotency_key=f"connection-cards:{connection.id}:{me.id}",
            token=Token(SCOPE_CONSENT, mine.id, ROLE_MEMBER if mine.role == "requester" else ROLE_HELPER),
            ticket_id=ticket.id, auto_submitted="auto-generated", rate_limited=False))
    requester, helper = consents["requester"].member, consents["helper"].member
    record_event(ctx.session, ticket, "connection-made", f"coordonnées échangées entre {requester.display_name} "
                                                         f"et {helper.display_name}", ctx.now)
    notify_aideurs(ctx, ticket, "notification_relation_faite", {
        "club_name": ctx.settings.club_name, "ref": ticket.ref, "requester": requester.display_name,
        "helper": helper.display_name,
        "answers": [(c.member.display_name, c.answer_line, french_date(c.answered_at, ctx.settings.timezone),
                     [label for label, _ in contact_card(c.member, shared_of(c))])
                    for c in connection.consents if c.answered_at]}, key=f"connection-made:{connection.id}")
    results.send_form(ctx, ticket, requester, "requester", "connection")
    results.send_form(ctx, ticket, helper, "helper", "connection")


def _reply(ctx: WorkflowContext, mail: InboundMail, consent: Consent, template: str,
           context: dict[str, object]) -> None:
    ctx.send(Outgoing(template=template, to=consent.member.email or mail.from_address, context=context,
                      idempotency_key=f"{template}:{mail.message_id}",
                      token=Token(SCOPE_CONSENT, consent.id, ROLE_MEMBER if consent.role == "requester"
                                  else ROLE_HELPER),
                      ticket_id=consent.connection.ticket_id, in_reply_to=f"<{mail.message_id}>"))


# --- the scheduled part: one reminder, then expiry ---------------------------------------------------------------
def run_due(ctx: WorkflowContext) -> int:
    acted = 0
    reminder_after = timedelta(days=ctx.settings.consent_reminder_days)
    expiry_after = timedelta(days=ctx.settings.consent_expiry_days)
    pending = ctx.session.scalars(select(Consent).join(Connection).where(
        Connection.status == "asking", Consent.status == "pending").order_by(Consent.id)).all()
    for consent in pending:
        connection = consent.connection
        if connection.status != "asking":
            continue  # expired a moment ago, through the other side
        ticket = ctx.session.get(Ticket, connection.ticket_id)
        assert ticket is not None
        gone = [c for c in connection.consents if c.member.status != "active" or not c.member.email]
        if ticket.closed_at is not None or gone:
            # The need is over, or one side left the club or was erased: nothing can be exchanged any more.
            connection.status, connection.closed_at = "cancelled", ctx.now
            record_event(ctx.session, ticket, "connection-cancelled", f"mise en relation n° {connection.id} "
                         "annulée (demande close ou membre parti)", ctx.now)
            acted += 1
            continue
        if ctx.now - consent.asked_at >= expiry_after:
            _expire(ctx, ticket, connection)
            acted += 1
        elif consent.reminded_at is None and ctx.now - consent.asked_at >= reminder_after:
            consent.reminded_at = ctx.now
            member = consent.member
            proposal = [label for label, _ in contact_card(member, shared_of(consent))] if consent.shared_fields \
                else []
            _ask(ctx, consent, "accord_rappel", {
                "club_name": ctx.settings.club_name, "ref": ticket.ref, "first_name": member.first_name,
                "role": consent.role, "card": [label for label, _ in contact_card(member)], "proposal": proposal,
                "deadline": french_date(consent.asked_at + expiry_after, ctx.settings.timezone)},
                 key=f"consent-reminder:{consent.id}")
            record_event(ctx.session, ticket, "consent-reminded", f"rappel à {member.display_name}", ctx.now)
            acted += 1
    return acted


def _expire(ctx: WorkflowContext, ticket: Ticket, connection: Connection) -> None:
    connection.status, connection.closed_at = "expired", ctx.now
    silent = [c for c in connection.consents if c.status == "pending"]
    for consent in silent:
        consent.status = "expired"
    for consent in connection.consents:
        if consent.status == "yes" and consent.member.email:
            ctx.send(Outgoing(template="relation_annulee", to=consent.member.email,
                              context={"club_name": ctx.settings.club_name, "ref": ticket.ref,
                                       "first_name": consent.member.first_name, "role": consent.role,
                                       "agreed": True},
                              idempotency_key=f"connection-off:{connection.id}:{consent.member_id}",
                              token=Token(SCOPE_CONSENT, consent.id, ROLE_MEMBER if consent.role == "requester"
                                          else ROLE_HELPER), ticket_id=ticket.id, auto_submitted="auto-generated"))
    record_event(ctx.session, ticket, "connection-expired", f"mise en relation n° {connection.id} : sans réponse de "
                 + ", ".join(c.member.display_name for c in silent), ctx.now)
    notify_aideurs(ctx, ticket, "notification_relation_expiree", {
        "club_name": ctx.settings.club_name, "ref": ticket.ref,
        "silent": [c.member.display_name for c in silent],
        "agreed": [c.member.display_name for c in connection.consents if c.status == "yes"]},
        key=f"connection-expired:{connection.id}")
