"""A member's own profile by mail (DESIGN.md 2.9, 2.10): see it, change any answer, end membership, erase the data.

Ending membership and erasing data are asked for by mail, so a forged `From:` could ask for them: both wait for a
confirmation sent to the member's own address (token scope x), and only that reply carries them out.
"""
from __future__ import annotations

from datetime import timedelta

from mailbot.matching import index_member
from mailbot.members import erase_member
from mailbot.models import Acceptance, Member
from mailbot.parsers import InboundMail
from mailbot.parsers.registration import FIELD_LABELS, Intent, confirmation_of, intent_of, parse_form
from mailbot.tokens import ROLE_MEMBER, SCOPE_CONFIRM, SCOPE_PROFILE, SCOPE_REGISTRATION, Token
from mailbot.workflows.appeals import tell_helpers_need_is_over
from mailbot.workflows.base import Outgoing, WorkflowContext
from mailbot.workflows.aideur import notify_aideurs
from mailbot.workflows.requests import withdraw
from mailbot.workflows.tickets import open_tickets_of, record_event, shorten

# The answers a member can change by mail (the e-mail address is the membership key: not by form).
PROFILE_KEYS = ("last_name", "first_name", "company", "activity", "postal_address", "phone", "skills", "hobbies",
                "particulars", "visibility", "accepts_appeals")
PENDING_DAYS = 14  # a confirmation not given within two weeks lapses: the member must ask again
ACTION_WORDS = {"resilier": "mettre fin à votre adhésion", "effacer": "effacer toutes vos données"}


# --- the profile as fields -----------------------------------------------------------------------------------------
def profile_values(member: Member) -> dict[str, str]:
    values = {key: str(getattr(member, key) or "") for key in PROFILE_KEYS if key != "accepts_appeals"}
    values["accepts_appeals"] = "oui" if member.accepts_appeals else "non"
    values["email"] = member.email or ""
    return values


def form_lines(values: dict[str, str], *, with_acceptance: bool = True) -> list[str]:
    """The fill-in form, one "Label : value" line per field, in the order the parser knows."""
    lines = []
    for key, label in FIELD_LABELS.items():
        if key == "acceptance" and not with_acceptance:
            continue
        value = " ".join(values.get(key, "").split())  # one line per field: the reply parser reads lines
        lines.append(f"{label} : {value}".rstrip())
    return lines


def profile_lines(member: Member) -> list[str]:
    return form_lines(profile_values(member), with_acceptance=False)


def apply_values(member: Member, values: dict[str, str]) -> list[str]:
    """Set the given answers; returns the labels of what actually changed."""
    changed = []
    for key, value in values.items():
        if key not in PROFILE_KEYS:
            continue
        new: object = value == "oui" if key == "accepts_appeals" else value.strip()
        if getattr(member, key) != new:
            setattr(member, key, new)
            changed.append(FIELD_LABELS[key].split(" (")[0])
    return changed


# --- entry points --------------------------------------------------------------------------------------------------
def profile_mail(ctx: WorkflowContext, mail: InboundMail, raw_sha256: str, member: Member,
                 token: Token | None) -> None:
    """A member writes about their membership: "modifier", the form, "résilier", "effacer mes données"."""
    text = mail.new_text or mail.text
    intent = intent_of(mail.subject, text)
    if intent in (Intent.END, Intent.ERASE):
        _ask_confirmation(ctx, mail, member, "effacer" if intent is Intent.ERASE else "resilier")
        return
    form = parse_form(mail.text, text)
    if form.unreadable:
        _reply(ctx, mail, member, "profil_erreur", {"problems": [
            {"field": FIELD_LABELS[key].split(" (")[0], "problem": why} for key, why in form.unreadable.items()]})
        return
    changes = apply_values(member, {k: v for k, v in form.values.items() if k in PROFILE_KEYS})
    accepted_now = form.acceptance is not None and member.conditions_version != ctx.settings.conditions_version
    if accepted_now:
        # A member added by the operator accepts the conditions by mail: the same evidence as a registration.
        member.conditions_version = ctx.settings.conditions_version
        ctx.session.add(Acceptance(member_id=member.id, conditions_version=ctx.settings.conditions_version,
                                   accepted_at=ctx.now, message_id=mail.message_id, line=form.acceptance or "",
                                   raw_sha256=raw_sha256))
    if not changes and not accepted_now and intent is None and token is not None \
            and token.scope not in (SCOPE_REGISTRATION,):
        # A reply to a profile mail with no field in it ("merci !", a question): a message for Aideur.
        _forward_to_aideur(ctx, mail, member, text)
        return
    if changes:
        member.updated_at = ctx.now
        index_member(ctx.session, member)
        record_event(ctx.session, None, "profile-changed", f"membre n° {member.id} : {', '.join(changes)}",
                     ctx.now, actor=mail.from_address)
    new_email = form.values.get("email", "")
    _reply(ctx, mail, member, "profil", {
        "changes": changes,
        "accepted_now": accepted_now,
        "email_not_changed": new_email if new_email and new_email != member.email else "",
    })


def confirmation_mail(ctx: WorkflowContext, mail: InboundMail, member: Member) -> None:
    """The member's answer to "do you confirm?": only this reply ends membership or erases the data."""
    pending = member.pending_action
    if not pending or member.pending_since is None or ctx.now - member.pending_since > timedelta(days=PENDING_DAYS):
        member.pending_action, member.pending_since = "", None
        _reply(ctx, mail, member, "confirmation_sans_objet", {})
        return
    answer = confirmation_of(mail.text or mail.new_text)  # the whole body: a PS under the signature counts
    if answer is None:
        _reply(ctx, mail, member, "confirmation_incomprise", {"action": ACTION_WORDS[pending]},
               token=Token(SCOPE_CONFIRM, member.id, ROLE_MEMBER))
        return
    member.pending_action, member.pending_since = "", None
    if answer is False:
        record_event(ctx.session, None, f"{pending}-cancelled", f"membre n° {member.id}", ctx.now,
                     actor=mail.from_address)
        _reply(ctx, mail, member, "confirmation_annulee", {"action": ACTION_WORDS[pending]})
    elif pending == "resilier":
        end_membership(ctx, mail, member)
    else:
        erase(ctx, mail, member)


# --- ending and erasing --------------------------------------------------------------------------------------------
def end_membership(ctx: WorkflowContext, mail: InboundMail, member: Member) -> None:
    for ticket in open_tickets_of(ctx.session, member.id):
        withdraw(ctx, ticket, member, "Adhésion terminée à la demande du membre.")
    member.status, member.ended_at = "ended", ctx.now
    record_event(ctx.session, None, "member-ended", f"membre n° {member.id} : adhésion terminée", ctx.now,
                 actor=mail.from_address)
    context = {"club_name": ctx.settings.club_name, "first_name": member.first_name, "name": member.display_name,
               "address": member.email}
    _reply(ctx, mail, member, "adhesion_terminee", {}, token=Token(SCOPE_REGISTRATION, 0, ROLE_MEMBER))
    notify_aideurs(ctx, None, "notification_fin_adhesion", context, key=f"ended:{mail.message_id}",
                   about=member.email or "")


def erase(ctx: WorkflowContext, mail: InboundMail, member: Member) -> None:
    """Erase the person (RGPD art. 17): their tickets close quietly, helpers are told, every stored text is
    scrubbed. The last two mails (to them, to Aideur) are blanked in the outbox as soon as they are sent."""
    context = {"club_name": ctx.settings.club_name, "first_name": member.first_name, "name": member.display_name,
               "address": member.email, "number": member.id}
    address = member.email or ""
    context["open_refs"] = [t.ref for t in open_tickets_of(ctx.session, member.id)]
    for ticket in open_tickets_of(ctx.session, member.id):
        ticket.status, ticket.closed_at, ticket.due_at = "withdrawn", ctx.now, None
        tell_helpers_need_is_over(ctx, ticket)
    ctx.send(Outgoing(template="donnees_effacees", to=address, context=context,
                      idempotency_key=f"erased:{mail.message_id}", token=Token(SCOPE_REGISTRATION, 0, ROLE_MEMBER),
                      in_reply_to=f"<{mail.message_id}>", scrub_after_send=True, rate_limited=False))
    notify_aideurs(ctx, None, "notification_effacement", context, key=f"erased:{mail.message_id}",
                   scrub_after_send=True)
    erase_member(ctx.session, address, now=ctx.now, also_purge=[mail.message_id])  # this very mail, too


# --- mails ---------------------------------------------------------------------------------------------------------
def _ask_confirmation(ctx: WorkflowContext, mail: InboundMail, member: Member, action: str) -> None:
    member.pending_action, member.pending_since = action, ctx.now
    record_event(ctx.session, None, f"{action}-asked", f"membre n° {member.id}", ctx.now, actor=mail.from_address)
    open_refs = [t.ref for t in open_tickets_of(ctx.session, member.id)]
    _reply(ctx, mail, member, "confirmation_demandee", {"action": ACTION_WORDS[action], "kind": action,
                                                        "open_refs": open_refs, "days": PENDING_DAYS},
           token=Token(SCOPE_CONFIRM, member.id, ROLE_MEMBER))


def _forward_to_aideur(ctx: WorkflowContext, mail: InboundMail, member: Member, text: str) -> None:
    record_event(ctx.session, None, "member-message", f"membre n° {member.id} : message transmis à Aideur",
                 ctx.now, actor=mail.from_address)
    notify_aideurs(ctx, None, "notification_message_membre", {
        "club_name": ctx.settings.club_name, "name": member.display_name, "address": member.email,
        "subject": mail.subject or "(sans objet)", "text": shorten(text, 4000)}, key=f"member-message:{mail.message_id}",
        about=member.email or "")


def _reply(ctx: WorkflowContext, mail: InboundMail, member: Member, template: str, extra: dict[str, object], *,
           token: Token | None = None) -> None:
    context = {"club_name": ctx.settings.club_name, "first_name": member.first_name,
               "profile": profile_lines(member), "address": member.email} | extra
    ctx.send(Outgoing(template=template, to=member.email or mail.from_address, context=context,
                      idempotency_key=f"{template}:{mail.message_id}",
                      token=token or Token(SCOPE_PROFILE, member.id, ROLE_MEMBER),
                      in_reply_to=f"<{mail.message_id}>"))
