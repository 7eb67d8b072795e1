"""Registration by mail (docs/rules.md §9): a newcomer gets the invitation, replies with the form and the acceptance.

Nothing is half-registered: the member row, the acceptance evidence and the matching index are written together,
only when every required field is readable and the conditions are explicitly accepted. Until then the newcomer
gets a polite reply naming exactly what is missing.

Double opt-in (issue 11, point 1): the acceptance is recorded only from a mail that proves its address, that is a
reply through the invitation sent to that very address (its token is bound to the address). A completed form
arriving any other way (a fresh mail, another address's invitation) is kept aside and a confirmation goes to the
`From:` address; only the answer OUI through that confirmation registers (or reactivates a former member).

No reflection (point 8): a mail to a non-member never repeats what the stranger wrote — no display name, subject
or text ("Bonjour,"); their own form values come back only to an address that proved it sent them.
"""
from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

from sqlalchemy import select

from mailbot.calendar import french_datetime
from mailbot.compose import excerpt
from mailbot.matching import index_member
from mailbot.members import erase_address
from mailbot.models import Acceptance, Event, Member, OutboxMail, PendingChange
from mailbot.parsers import InboundMail
from mailbot.parsers.registration import (
    FIELD_LABELS,
    REQUIRED,
    FormReply,
    Intent,
    confirmation_of,
    intent_of,
    parse_form,
)
from mailbot.parsers.rules import is_courtesy_only
from mailbot.tokens import ROLE_MEMBER, SCOPE_PROFILE, SCOPE_VERIFY, Token
from mailbot.workflows import aliases, counterparts
from mailbot.workflows.aideur import mail_fate, notify_aideurs
from mailbot.workflows.base import Outgoing, WorkflowContext
from mailbot.workflows.notices import HELD_NON_MEMBER_NOTICE, NON_MEMBER_OUTCOME, Flood, flood_notice
from mailbot.workflows.profiles import (
    ACTION_WORDS,
    ERASE,
    EXPORT,
    PENDING_DAYS,
    PROFILE_KEYS,
    apply_values,
    ask_confirmation,
    close_pending,
    form_lines,
    member_words,
    new_pending,
    open_pending,
    own_words,
    pending_values,
    profile_lines,
    rights_request,
    send_export,
    unreadable_problems,
)
from mailbot.workflows.tickets import record_event


@lru_cache(maxsize=4)
def conditions_text(path: Path) -> str:
    return path.read_text(encoding="utf-8").strip()


def newcomer(ctx: WorkflowContext, mail: InboundMail, raw_sha256: str, known: Member | None) -> None:
    """A mail from someone who is not an active member: the answer to a registration's confirmation, their form
    if they sent one, else the invitation."""
    from mailbot.router import address_token  # the router imports the workflows

    token = address_token(mail, ctx.signer)  # never In-Reply-To/References: thread context, not proof
    if token is not None and token.scope == SCOPE_VERIFY:
        _confirmation_answer(ctx, mail, known, token.number)
        return
    # Proof of address: a reply through the invitation sent to this very address.
    proved = token is not None and ctx.signer.address_matches(token, mail.from_address)
    form = parse_form(mail.text, mail.new_text or mail.text)
    right = rights_request(member_words(mail)[0], own_words(mail), anywhere=True)  # not a forward's subject
    if right is not None and not _looks_like_an_answer(form):
        # "effacer mes données", "mes données": the rights of everyone the club holds data on (issue 12, point 4),
        # always confirmed from the address on record first (a forged From: gets nothing and erases nothing).
        if known is not None and known.email and known.status != "erased":
            ask_confirmation(ctx, mail, known, right)
        else:
            _ask_rights_confirmation(ctx, mail, raw_sha256, right)
        return
    if not _looks_like_an_answer(form):
        # A member writing from another address, or a colleague for a member (issue 13): no invitation. Else
        # the invitation, and what an unknown address asked is kept in case it turns out to be a member's.
        if known is None and aliases.recognise(ctx, mail, raw_sha256, token):
            return
        if known is None:
            aliases.hold_request(ctx, mail)
        _invite(ctx, mail, known)
        return
    if form.refused:
        _send(ctx, mail, "inscription_refus_conditions", {}, key="refused")
        record_event(ctx.session, None, "registration-refused", f"conditions refusées par {mail.from_address}",
                     ctx.now, actor=mail.from_address)
        return
    problems = _problems(form, ctx.settings.conditions_version, echo=proved)
    if problems:
        _send(ctx, mail, "inscription_incomplete", {
            "problems": problems,
            "form": form_lines(_with_defaults(form.values if proved else {}, mail.from_address)),
            "echoed": proved,
            "acceptance_missing": form.acceptance is None,
        }, key="incomplete")
        return
    values = {k: v for k, v in form.values.items() if k in PROFILE_KEYS}
    if not proved:
        _ask_registration_confirmation(ctx, mail, raw_sha256, known, values, form.acceptance or "")
        return
    member = _register(ctx, mail, values, known, acceptance=form.acceptance or "", message_id=mail.message_id,
                       raw_sha256=raw_sha256)
    _welcome(ctx, mail, member, form.values.get("email", ""), form.acceptance or "")


def _ask_registration_confirmation(ctx: WorkflowContext, mail: InboundMail, raw_sha256: str,
                                   known: Member | None, values: dict[str, str], acceptance: str) -> None:
    """A complete form that did not prove its address: kept aside, and the address is asked (double opt-in). The
    question repeats none of the form: whoever wrote it may not own the address."""
    pending = new_pending(ctx, kind="register", email=mail.from_address.lower(),
                          member_id=known.id if known is not None else None, values=values, acceptance=acceptance,
                          mail=mail, raw_sha256=raw_sha256)
    record_event(ctx.session, None, "registration-asked", f"confirmation n° {pending.id} demandée à l'adresse",
                 ctx.now, actor=mail.from_address)
    _send(ctx, mail, "inscription_confirmation", {"days": PENDING_DAYS, "former_member": known is not None},
          key="register-confirm", token=Token(SCOPE_VERIFY, pending.id, ROLE_MEMBER))


def is_former_members_question(mail: InboundMail, known: Member) -> bool:
    """Whether a former member's mail is a question for Aideur (the router opens a ticket for it) rather than a
    way back in (the form, "inscription"), a right ("mes données", "effacer mes données") or a thank-you."""
    if known.status != "ended" or not known.email:
        return False
    own = own_words(mail)
    subject, _ = member_words(mail)
    if is_courtesy_only(own) or rights_request(subject, own, anywhere=True) is not None:
        return False
    return intent_of(subject, own) is not Intent.JOIN and not _looks_like_an_answer(parse_form(mail.text, own))


def _ask_rights_confirmation(ctx: WorkflowContext, mail: InboundMail, raw_sha256: str, right: str) -> None:
    """A right asked by someone who is no member (a registration never confirmed, an invitation sent): kept aside,
    and the address asked, with a reply address for this question only (scope v, bound to the address)."""
    pending = new_pending(ctx, kind=right, email=mail.from_address.lower(), member_id=None, values={},
                          acceptance=None, mail=mail, raw_sha256=raw_sha256)
    record_event(ctx.session, None, f"{right}-asked", f"confirmation n° {pending.id} demandée à l'adresse", ctx.now,
                 actor=mail.from_address)
    _send(ctx, mail, "confirmation_demandee", {"kind": right, "action": ACTION_WORDS[right], "open_refs": [],
                                               "days": PENDING_DAYS, "first_name": "", "non_member": True},
          key=f"{right}-confirm", token=Token(SCOPE_VERIFY, pending.id, ROLE_MEMBER))


def _rights_answer(ctx: WorkflowContext, mail: InboundMail, pending: PendingChange) -> None:
    """The answer of a non-member to "do you confirm…?" (erasure or a copy of their data), from the address asked."""
    right = pending.kind
    answer = confirmation_of(mail.text or mail.new_text)  # the whole body: a PS under the signature counts
    if answer is None:
        _send(ctx, mail, "confirmation_incomprise", {"action": ACTION_WORDS[right], "first_name": ""},
              key=f"{right}-unclear", token=Token(SCOPE_VERIFY, pending.id, ROLE_MEMBER))
        return
    close_pending(ctx, pending, "applied" if answer else "cancelled")
    if answer is False:
        record_event(ctx.session, None, f"{right}-cancelled", f"confirmation n° {pending.id}", ctx.now,
                     actor=mail.from_address)
        _send(ctx, mail, "confirmation_annulee", {"action": ACTION_WORDS[right], "first_name": "",
                                                  "former_member": True}, key=f"{right}-cancelled")
        return
    address = pending.email
    if right == EXPORT:
        send_export(ctx, mail, address)
        return
    context: dict[str, object] = {"club_name": ctx.settings.club_name, "first_name": "", "name": address,
                                  "address": address, "number": None, "open_refs": []}
    ctx.send(Outgoing(template="donnees_effacees", to=address, context=context,
                      idempotency_key=f"erased:{mail.message_id}", token=ctx.signer.address_token(address),
                      in_reply_to=f"<{mail.message_id}>", scrub_after_send=True, rate_limited=False))
    notify_aideurs(ctx, None, "notification_effacement", context, key=f"erased:{mail.message_id}",
                   scrub_after_send=True)
    erase_address(ctx.session, address, now=ctx.now, also_purge=[mail.message_id])
    ctx.erased = True


def _confirmation_answer(ctx: WorkflowContext, mail: InboundMail, known: Member | None, number: int) -> None:
    """The answer to "do you confirm your registration?" (or a right: erasure, a copy of the data): only OUI
    from the address asked registers."""
    asked = ctx.session.get(PendingChange, number)
    if asked is not None and asked.kind in (ERASE, EXPORT):
        rights = open_pending(ctx, mail, number, asked.kind)
        if rights is None:
            _send(ctx, mail, "inscription_sans_objet", {}, key="rights-none")
        else:
            _rights_answer(ctx, mail, rights)
        return
    pending = open_pending(ctx, mail, number, "register")
    if pending is None:
        _send(ctx, mail, "inscription_sans_objet", {}, key="register-none")
        return
    answer = confirmation_of(mail.text or mail.new_text)  # the whole body: a PS under the signature counts
    if answer is None:
        _send(ctx, mail, "inscription_incomprise", {}, key="register-unclear",
              token=Token(SCOPE_VERIFY, pending.id, ROLE_MEMBER))
        return
    if answer is False:
        close_pending(ctx, pending, "cancelled")
        record_event(ctx.session, None, "registration-cancelled", f"confirmation n° {pending.id}", ctx.now,
                     actor=mail.from_address)
        _send(ctx, mail, "inscription_annulee", {}, key="register-cancelled")
        return
    values, acceptance = pending_values(pending)
    message_id, raw_sha256 = pending.message_id, pending.raw_sha256
    close_pending(ctx, pending, "applied")
    # The evidence is the mail that wrote the acceptance; this answer is the proof that its address agreed.
    member = _register(ctx, mail, values, known, acceptance=acceptance or "", message_id=message_id,
                       raw_sha256=raw_sha256)
    _welcome(ctx, mail, member, values.get("email", ""), acceptance or "")


def _looks_like_an_answer(form: FormReply) -> bool:
    """The invitation pre-fills the e-mail, the appeals and the announcements choices: those alone are not an
    answer."""
    answered = set(form.values) | set(form.unreadable)
    return bool(answered - {"email", "accepts_appeals", "accepts_announcements"}) or form.acceptance is not None or form.refused


def _problems(form: FormReply, version: str, *, echo: bool) -> list[dict[str, str]]:
    problems = [{"field": _label(key), "problem": "à remplir"} for key in form.missing(REQUIRED)]
    problems += unreadable_problems(form, echo=echo)
    if form.acceptance is None:
        problems.append({"field": _label("acceptance"),
                         "problem": f"écrivez « J'accepte les conditions {version} » "
                                    "(votre accord écrit est obligatoire)"})
    return problems


def _label(key: str) -> str:
    return FIELD_LABELS[key].split(" (")[0]


def _with_defaults(values: Mapping[str, str], address: str) -> dict[str, str]:
    given = dict(values)
    given.setdefault("email", address)
    given.setdefault("accepts_appeals", "oui")
    given.setdefault("accepts_announcements", "oui")  # issue 17: on unless the person says "non"
    return given


def _register(ctx: WorkflowContext, mail: InboundMail, values: dict[str, str], known: Member | None, *,
              acceptance: str, message_id: str, raw_sha256: str) -> Member:
    """Only after proof of address: `mail` came from the address through a token bound to it."""
    address = mail.from_address.lower()
    member = known or ctx.session.scalar(select(Member).where(Member.email == address))
    if member is None:
        member = Member(email=address, created_at=ctx.now)
        ctx.session.add(member)
    member.status, member.ended_at, member.bounced_at = "active", None, None
    member.pending_action, member.pending_since = "", None
    apply_values(member, {k: v for k, v in values.items() if k in PROFILE_KEYS})
    member.conditions_version = ctx.settings.conditions_version
    member.updated_at = ctx.now
    ctx.session.flush()
    ctx.session.add(Acceptance(member_id=member.id, conditions_version=ctx.settings.conditions_version,
                               accepted_at=ctx.now, message_id=message_id, line=acceptance,
                               raw_sha256=raw_sha256))
    index_member(ctx.session, member)
    confirmed = "" if message_id == mail.message_id else ", confirmée depuis l'adresse"
    record_event(ctx.session, None, "member-registered",
                 f"membre n° {member.id} inscrit par mail (conditions {ctx.settings.conditions_version}{confirmed})",
                 ctx.now, actor=mail.from_address)
    return member


def _welcome(ctx: WorkflowContext, mail: InboundMail, member: Member, other_address: str, acceptance: str) -> None:
    context: dict[str, object] = {
        "club_name": ctx.settings.club_name,
        "first_name": member.first_name,
        "address": member.email,
        "other_address": other_address if other_address and other_address != member.email else "",
        "profile": profile_lines(member),
        "conditions_version": ctx.settings.conditions_version,
        "civilite": member.civility or "",  # agreement in the mails (french.accord)
        "suggestion_address": ctx.settings.suggestion_address,  # issue 17: where suggestions may go
    }
    ctx.send(Outgoing(template="bienvenue", to=member.email or "", context=context,
                      idempotency_key=f"welcome:{mail.message_id}", token=Token(SCOPE_PROFILE, member.id,
                                                                                   ROLE_MEMBER),
                      in_reply_to=f"<{mail.message_id}>", auto_submitted="auto-replied"))
    notify_aideurs(ctx, None, "notification_nouveau_membre", context | {
        "name": member.display_name, "acceptance": acceptance, "accepted_at": french_datetime(ctx.now, ctx.settings.timezone),
        "message_id": mail.message_id, "fate": mail_fate(ctx, member.email or "")},
        key=f"new-member:{mail.message_id}", about=member.email or "",
        counterpart=counterparts.for_member(ctx, member))  # his reply to the notice reaches the new member


def _invite(ctx: WorkflowContext, mail: InboundMail, known: Member | None) -> None:
    """The invitation, "Bonjour," and nothing of what the stranger wrote; its reply address is bound to the
    address it goes to. Aideur is told within the flood bounds (notices.flood_notice)."""
    _send(ctx, mail, "invitation", {
        "former_member": known is not None,
        "form": form_lines(_with_defaults({}, mail.from_address)),
        "conditions": conditions_text(ctx.settings.conditions_file),
        "conditions_version": ctx.settings.conditions_version,
    }, key="invitation")
    flood = flood_notice(ctx.session, sender=mail.from_address, outcome=NON_MEMBER_OUTCOME, now=ctx.now,
                         aideur_addresses=ctx.settings.aideur_addresses)
    if flood is None and _first_answer_to_aideur(ctx, mail):
        flood = Flood(1, 1)  # Aideur wrote to them: their first answer to each of his messages always reaches him
    if flood is None:
        record_event(ctx.session, None, HELD_NON_MEMBER_NOTICE, "avis à Aideur regroupé (afflux de mails)",
                     ctx.now, actor=mail.from_address)
        return
    notify_aideurs(ctx, None, "notification_non_membre", {
        "club_name": ctx.settings.club_name,
        "sender": mail.from_address,
        "subject": mail.subject or "(sans objet)",
        "text": excerpt(mail.new_text or mail.text, 2000),  # his lines kept
        "former_member": known is not None,
        "flood": flood,
        "rate_limit": ctx.settings.rate_limit_per_hour,
        "fate": mail_fate(ctx, mail.from_address),
    }, key=f"non-member:{mail.message_id}", about=mail.from_address,
        # His reply goes to that person (issue 13, point 7); a summary of many senders' mails is about nobody.
        counterpart=counterparts.nobody(ctx, None) if flood.overall > flood.first_overall and flood.from_sender <= 1
        else counterparts.for_stranger(ctx, mail.from_address))


def _first_answer_to_aideur(ctx: WorkflowContext, mail: InboundMail) -> bool:
    """Whether this mail answers a message Aideur had relayed to this very address (counterparts.TO_STRANGER) for
    the first time: the flood bounds would hold back the answer to the question he just asked. Once per message
    of his (an event remembers it), so a stranger answering again and again is bounded as before."""
    ids = list(mail.in_reply_to) + list(mail.references)
    if not ids or not mail.from_address:
        return False
    relayed = ctx.session.scalar(select(OutboxMail.id).where(
        OutboxMail.message_id.in_(ids), OutboxMail.kind == counterparts.TO_STRANGER,
        OutboxMail.recipient == mail.from_address.lower()))
    if relayed is None:
        return False
    mark = f"réponse au message d'Aideur n° {relayed}"
    if ctx.session.scalar(select(Event.id).where(Event.kind == "stranger-answer", Event.detail == mark)):
        return False
    record_event(ctx.session, None, "stranger-answer", mark, ctx.now, actor=mail.from_address)
    return True


def _send(ctx: WorkflowContext, mail: InboundMail, template: str, extra: dict[str, object], *, key: str,
          token: Token | None = None) -> None:
    """A mail to the `From:` address, with nothing of what it wrote; its reply address is bound to it."""
    if not mail.from_address:
        return
    ctx.send(Outgoing(
        template=template,
        to=mail.from_address,
        context={"club_name": ctx.settings.club_name, "conditions_version": ctx.settings.conditions_version} | extra,
        idempotency_key=f"{key}:{mail.message_id}",
        token=token or ctx.signer.address_token(mail.from_address),
        in_reply_to=f"<{mail.message_id}>",
    ))
