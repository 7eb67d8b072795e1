"""Registration by mail (DESIGN.md 2.9): a newcomer gets the invitation, replies with the form and the acceptance.

Nothing is half-registered: the member row, the acceptance evidence and the matching index are written together,
only when every required field is readable and the conditions are explicitly accepted. Until then the newcomer
gets a polite reply naming exactly what is missing, with what they already gave filled back into the form.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from sqlalchemy import select

from mailbot.calendar import french_datetime
from mailbot.matching import index_member
from mailbot.models import Acceptance, Member
from mailbot.parsers import InboundMail
from mailbot.parsers.registration import FIELD_LABELS, REQUIRED, FormReply, parse_form
from mailbot.tokens import ROLE_MEMBER, SCOPE_PROFILE, SCOPE_REGISTRATION, Token
from mailbot.workflows.base import Outgoing, WorkflowContext
from mailbot.workflows.profiles import PROFILE_KEYS, apply_values, form_lines, profile_lines
from mailbot.workflows.aideur import notify_aideurs
from mailbot.workflows.tickets import record_event, shorten

# Replies to the invitation come back here, whoever writes: the sender's address is the key until they are a member.
REGISTRATION_TOKEN = Token(SCOPE_REGISTRATION, 0, ROLE_MEMBER)


@lru_cache(maxsize=4)
def conditions_text(path: Path) -> str:
    return path.read_text(encoding="utf-8").strip()


def newcomer(ctx: WorkflowContext, mail: InboundMail, raw_sha256: str, known: Member | None) -> None:
    """A mail from someone who is not an active member: their form if they sent one, else the invitation."""
    form = parse_form(mail.text, mail.new_text or mail.text)
    if not _looks_like_an_answer(form):
        _invite(ctx, mail, known)
        return
    problems = _problems(form, ctx.settings.conditions_version)
    if form.refused:
        _send(ctx, mail, "inscription_refus_conditions", {}, key="refused")
        record_event(ctx.session, None, "registration-refused", f"conditions refusées par {mail.from_address}",
                     ctx.now, actor=mail.from_address)
        return
    if problems:
        _send(ctx, mail, "inscription_incomplete", {
            "problems": problems,
            "form": form_lines(_with_defaults(form.values, mail.from_address)),
            "acceptance_missing": form.acceptance is None,
        }, key="incomplete")
        return
    member = _register(ctx, mail, raw_sha256, form, known)
    _welcome(ctx, mail, member, form)


def _looks_like_an_answer(form: FormReply) -> bool:
    """The invitation pre-fills the e-mail and the appeals choice: those alone are not an answer."""
    answered = set(form.values) | set(form.unreadable)
    return bool(answered - {"email", "accepts_appeals"}) or form.acceptance is not None or form.refused


def _problems(form: FormReply, version: str) -> list[dict[str, str]]:
    problems = [{"field": _label(key), "problem": "à remplir"} for key in form.missing(REQUIRED)]
    problems += [{"field": _label(key), "problem": why} for key, why in form.unreadable.items()]
    if form.acceptance is None:
        problems.append({"field": _label("acceptance"),
                         "problem": f"écrivez « J'accepte les conditions {version} » "
                                    "(votre accord écrit est obligatoire)"})
    return problems


def _label(key: str) -> str:
    return FIELD_LABELS[key].split(" (")[0]


def _with_defaults(values: dict[str, str] | object, address: str) -> dict[str, str]:
    given = dict(values)  # type: ignore[call-overload]
    given.setdefault("email", address)
    given.setdefault("accepts_appeals", "oui")
    return given


def _register(ctx: WorkflowContext, mail: InboundMail, raw_sha256: str, form: FormReply,
              known: Member | None) -> Member:
    member = known or ctx.session.scalar(select(Member).where(Member.email == mail.from_address))
    if member is None:
        member = Member(email=mail.from_address, created_at=ctx.now)
        ctx.session.add(member)
    member.status, member.ended_at, member.bounced_at = "active", None, None
    member.pending_action, member.pending_since = "", None
    apply_values(member, {k: v for k, v in form.values.items() if k in PROFILE_KEYS})
    member.conditions_version = ctx.settings.conditions_version
    member.updated_at = ctx.now
    ctx.session.flush()
    ctx.session.add(Acceptance(member_id=member.id, conditions_version=ctx.settings.conditions_version,
                               accepted_at=ctx.now, message_id=mail.message_id, line=form.acceptance or "",
                               raw_sha256=raw_sha256))
    index_member(ctx.session, member)
    record_event(ctx.session, None, "member-registered",
                 f"membre n° {member.id} inscrit par mail (conditions {ctx.settings.conditions_version})",
                 ctx.now, actor=mail.from_address)
    return member


def _welcome(ctx: WorkflowContext, mail: InboundMail, member: Member, form: FormReply) -> None:
    other_address = form.values.get("email", "")
    context = {
        "club_name": ctx.settings.club_name,
        "first_name": member.first_name,
        "address": member.email,
        "other_address": other_address if other_address and other_address != member.email else "",
        "profile": profile_lines(member),
        "conditions_version": ctx.settings.conditions_version,
    }
    ctx.send(Outgoing(template="bienvenue", to=member.email or "", context=context,
                      idempotency_key=f"welcome:{mail.message_id}", token=Token(SCOPE_PROFILE, member.id,
                                                                                   ROLE_MEMBER),
                      in_reply_to=f"<{mail.message_id}>", auto_submitted="auto-replied"))
    notify_aideurs(ctx, None, "notification_nouveau_membre", context | {
        "name": member.display_name, "acceptance": form.acceptance, "accepted_at": french_datetime(ctx.now, ctx.settings.timezone),
        "message_id": mail.message_id}, key=f"new-member:{mail.message_id}", about=member.email or "")


def _invite(ctx: WorkflowContext, mail: InboundMail, known: Member | None) -> None:
    context = {
        "club_name": ctx.settings.club_name,
        "sender": mail.from_address,
        "sender_name": mail.from_name,
        "subject": mail.subject or "(sans objet)",
        "text": shorten(mail.new_text or mail.text, 2000),
        "former_member": known is not None,
    }
    _send(ctx, mail, "invitation", {
        "former_member": known is not None,
        "form": form_lines(_with_defaults({}, mail.from_address)),
        "conditions": conditions_text(ctx.settings.conditions_file),
        "conditions_version": ctx.settings.conditions_version,
    }, key="invitation")
    notify_aideurs(ctx, None, "notification_non_membre", context, key=f"non-member:{mail.message_id}",
                   about=mail.from_address)


def _send(ctx: WorkflowContext, mail: InboundMail, template: str, extra: dict[str, object], *, key: str) -> None:
    if not mail.from_address:
        return
    ctx.send(Outgoing(
        template=template,
        to=mail.from_address,
        context={"club_name": ctx.settings.club_name, "sender_name": mail.from_name,
                 "conditions_version": ctx.settings.conditions_version} | extra,
        idempotency_key=f"{key}:{mail.message_id}",
        token=REGISTRATION_TOKEN,
        in_reply_to=f"<{mail.message_id}>",
    ))
