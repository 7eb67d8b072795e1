"""One person, several addresses (issue 13, point 2): linking, unlinking and changing a member's addresses, and
the recognition of a member who writes from an address the club does not know.

Who may link an address to a member:
* Aideur (`#adresse EMAIL MEMBRE` through his command address, confirmed by OUI like his other commands) and the
  operator (`mailbot members alias add`): they know the person;
* the member, from their REGISTERED address only: someone writing from an unknown address who says "je suis
  membre, mon adresse est alice@…" (or answers the invitation with that address) gets no link; the main address
  is asked (a confirmation with a token of scope v, bound to that address, kind "alias"), and only its OUI links.
  A forged From: can therefore never link anything: the question goes where the forger cannot read.

While the question waits, what the unknown address asked is kept (held_requests, deleted after PENDING_DAYS) and becomes the member's ticket once the address is linked, by whichever way.

A colleague writing on a member's behalf ("je vous écris de la part de …", the member in Cc or named by address)
is not invited to register: Aideur gets the message (he can open the request for the member with #ouvrir, or
link the address) and the colleague is told that the member can write, or that Aideur will come back to them.

Every mail about a change of address goes to both addresses concerned (the member's main address and the other
one), so that a change made by mistake or by someone else is seen by the person.
"""
from __future__ import annotations

import json
import re
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from mailbot import addresses
from mailbot.addresses import AddressError, member_of_address
from mailbot.compose import excerpt
from mailbot.models import HeldRequest, Member
from mailbot.parsers import InboundMail
from mailbot.parsers.commands import EMAIL
from mailbot.parsers.registration import confirmation_of
from mailbot.parsers.rules import fold, is_courtesy_only
from mailbot.tokens import ROLE_MEMBER, SCOPE_PROFILE, SCOPE_REGISTRATION, SCOPE_VERIFY, Token
from mailbot.workflows.aideur import notify_aideurs
from mailbot.workflows.base import Outgoing, WorkflowContext
from mailbot.workflows.profiles import PENDING_DAYS
from mailbot.workflows.tickets import record_event

ALIAS_KIND = "alias"  # PendingChange: the main address is asked to confirm another address (member_id, alias)
HELD_TEXT = 20000     # characters of a held request kept (a request, not an archive)

# "je suis membre", "déjà inscrite", "adhérent", "mon adresse (e-mail) est", "mon autre mail", "enregistré(e) sous"
_CLAIM = re.compile(r"\b(?:membres?|inscrite?s?|adherente?s?|enregistree?s?|mon (?:adresse|autre adresse|"
                    r"ancienne adresse|e-?mail|mail|courriel|adresse e-?mail|adresse mail)|l'adresse (?:de|du) "
                    r"(?:mon|mes) (?:adhesion|compte|inscription))\b")
# "de la part de", "pour le compte de", "au nom de", "à la demande de", "je suis l'assistante de"
_ON_BEHALF = re.compile(r"\b(?:de la part d|pour le compte d|au nom d|a la demande d|je suis (?:l'|son |sa )?"
                        r"(?:assistante?|secretaire|collegue|associee?|collaboratrice|collaborateur) d)")


# --- Aideur's and the operator's changes -----------------------------------------------------------------------------
def _reserved(ctx: WorkflowContext) -> tuple[str, ...]:
    return (ctx.settings.club_address, *ctx.settings.aideur_addresses)


def link(ctx: WorkflowContext, member: Member, address: str, *, how: str, actor: str, key: str) -> None:
    """Link `address` to `member` (AddressError if it is anyone's already); the member is told at both addresses,
    and what that address asked while unknown becomes their ticket."""
    row = addresses.add_alias(ctx.session, member, address, how=how, now=ctx.now, reserved=_reserved(ctx))
    record_event(ctx.session, None, "address-linked", f"membre n° {member.id} : adresse {row.email} reliée ({how})",
                 ctx.now, actor=actor)
    _tell(ctx, member, [member.email or "", row.email], "adresse_ajoutee", {"address": row.email,
          "by_member": how == addresses.HOW_CONFIRMED}, key=f"address-linked:{key}")
    release_held(ctx, member, row.email, actor=actor)


def unlink(ctx: WorkflowContext, member: Member, address: str, *, actor: str, key: str) -> None:
    """Unlink one of the member's other addresses; the member is told at both."""
    address = addresses.normalise(address)
    addresses.remove_alias(ctx.session, member, address)
    record_event(ctx.session, None, "address-unlinked", f"membre n° {member.id} : adresse {address} retirée",
                 ctx.now, actor=actor)
    _tell(ctx, member, [member.email or "", address], "adresse_retiree", {"address": address},
          key=f"address-unlinked:{key}")


def change(ctx: WorkflowContext, member: Member, new: str, *, actor: str, key: str, keep_old: bool = True) -> str:
    """Make `new` the member's main address. The old one stays another address of theirs (mail still coming from
    it is theirs) unless `keep_old` is False. Both are told. Returns the old address."""
    old = addresses.change_main(ctx.session, member, new, keep_old=keep_old, now=ctx.now, reserved=_reserved(ctx))
    record_event(ctx.session, None, "address-changed", f"membre n° {member.id} : adresse principale {old} → "
                 f"{member.email}" + ("" if keep_old else " (l'ancienne est retirée)"), ctx.now, actor=actor)
    _tell(ctx, member, [member.email or "", old], "adresse_changee", {"old": old, "new": member.email,
          "kept": keep_old}, key=f"address-changed:{key}")
    release_held(ctx, member, member.email or "", actor=actor)
    return old


def _tell(ctx: WorkflowContext, member: Member, to: list[str], template: str, extra: dict[str, object], *,
          key: str) -> None:
    """The same notice to each address concerned (a change nobody asked for is seen at once)."""
    context: dict[str, object] = {"club_name": ctx.settings.club_name, "first_name": member.first_name,
                                  "main": member.email, "civilite": member.civility or ""} | extra
    for address in dict.fromkeys(a.lower() for a in to if a):
        ctx.send(Outgoing(template=template, to=address, context=context | {"recipient": address},
                          idempotency_key=f"{key}:{address}", token=Token(SCOPE_PROFILE, member.id, ROLE_MEMBER),
                          auto_submitted="auto-generated", rate_limited=False,
                          about=member.email or ""))


# --- requests kept while an address is unknown ----------------------------------------------------------------------
def hold_request(ctx: WorkflowContext, mail: InboundMail) -> None:
    """Keep what an unknown address asked (it may be a member's other address): it becomes their ticket if the
    address is linked within PENDING_DAYS. A bare yes, no or thanks asks nothing and is not kept."""
    text = (mail.new_text or mail.text).strip()
    if not mail.from_address or not (text or mail.subject.strip()):
        return
    if is_courtesy_only(text) or (len(text.split()) <= 3 and confirmation_of(text) is not None):
        return
    drop_lapsed_held(ctx)
    ctx.session.add(HeldRequest(email=mail.from_address.lower(), subject=mail.subject[:998], text=text[:HELD_TEXT],
                                message_id=mail.message_id, received_at=ctx.now))
    ctx.session.flush()


def drop_lapsed_held(ctx: WorkflowContext) -> None:
    """Nothing an unknown address asked is kept longer than a confirmation may wait (data minimisation); also run
    by the retention job, whatever MAILBOT_RETENTION_DAYS says."""
    ctx.session.execute(delete(HeldRequest).where(HeldRequest.received_at < ctx.now - timedelta(days=PENDING_DAYS)))


def release_held(ctx: WorkflowContext, member: Member, address: str, *, actor: str) -> None:
    """What `address` asked while unknown, now the member's: a ticket each (acknowledged to the main address)."""
    from mailbot.workflows.opening import open_for

    address = address.lower()
    for held in ctx.session.scalars(select(HeldRequest).where(
            HeldRequest.email == address, HeldRequest.received_at > ctx.now - timedelta(days=PENDING_DAYS))
            .order_by(HeldRequest.id)).all():
        ticket = open_for(ctx, member, held.subject, held.text, actor=address,
                          key=held.message_id or f"held:{held.id}",
                          detail=f"demande écrite depuis {address} avant que cette adresse soit reliée au membre")
        record_event(ctx.session, ticket, "held-request-opened", f"mail de {address} gardé en attente", ctx.now,
                     actor=actor)
    ctx.session.execute(delete(HeldRequest).where(HeldRequest.email == address))


def forget_held(session: Session, address: str) -> None:
    """Erasure of an address: what it asked while unknown goes too."""
    session.execute(delete(HeldRequest).where(HeldRequest.email == addresses.normalise(address)))


# --- a member writing from an unknown address -----------------------------------------------------------------------
def claimed_address(ctx: WorkflowContext, mail: InboundMail, token: Token | None) -> str | None:
    """The address the sender says is theirs at the club: an address in their own words (never the quote: the
    invitation quoted names nobody, but a forwarded mail would), when they say they are a member or answer the
    invitation sent to this very address. None when the mail is no such claim."""
    own = mail.new_text or mail.text
    found = [a.lower().rstrip(".") for a in EMAIL.findall(own)]
    found = [a for a in found if a != mail.from_address.lower() and a not in _reserved(ctx)
             and not a.endswith("@" + ctx.settings.club_domain.lower())]
    if not found:
        return None
    answers_invitation = (token is not None and token.scope == SCOPE_REGISTRATION
                          and ctx.signer.address_matches(token, mail.from_address))
    if not answers_invitation and not _CLAIM.search(fold(f"{mail.subject}\n{own}")):
        return None
    return found[0]


def on_behalf_of(ctx: WorkflowContext, mail: InboundMail) -> Member | None:
    """The active member a colleague writes for ("de la part de …"), named by address in the mail's own words or
    in copy; None when the mail says no such thing or names no member."""
    own = mail.new_text or mail.text
    if not _ON_BEHALF.search(fold(f"{mail.subject}\n{own}")):
        return None
    for address in [*(a.lower() for a in EMAIL.findall(own)), *mail.cc, *mail.to]:
        member = member_of_address(ctx.session, address)
        if member is not None and member.status == "active" and address != mail.from_address.lower():
            return member
    return None


def recognise(ctx: WorkflowContext, mail: InboundMail, raw_sha256: str, token: Token | None) -> bool:
    """An unknown address that says it is a member's, or writes on a member's behalf: handled here (True);
    anything else is for the registration workflow (False)."""
    colleague_of = on_behalf_of(ctx, mail)
    if colleague_of is not None:
        _colleague(ctx, mail, colleague_of)
        return True
    claimed = claimed_address(ctx, mail, token)
    if claimed is None:
        return False
    _ask_recognition(ctx, mail, raw_sha256, claimed)
    return True


def _ask_recognition(ctx: WorkflowContext, mail: InboundMail, raw_sha256: str, claimed: str) -> None:
    """Ask the registered address. The sender gets the same answer whether or not `claimed` is a member's (nobody
    learns from the club who is a member), and their request is kept meanwhile."""
    from mailbot.workflows.profiles import new_pending

    alias = mail.from_address.lower()
    held = ctx.session.scalar(select(HeldRequest.id).where(
        HeldRequest.email == alias, HeldRequest.received_at > ctx.now - timedelta(days=PENDING_DAYS)))
    if held is None and _asks_more_than_the_claim(mail, claimed):
        hold_request(ctx, mail)  # the claim came with the request itself: that is the request
    member = member_of_address(ctx.session, claimed)
    if member is not None and member.status == "active" and member.email:
        pending = new_pending(ctx, kind=ALIAS_KIND, email=member.email.lower(), member_id=member.id,
                              values={"alias": alias}, acceptance=None, mail=mail, raw_sha256=raw_sha256)
        record_event(ctx.session, None, "address-link-asked", f"membre n° {member.id} : {alias} dit être à lui, "
                     "confirmation demandée à l'adresse enregistrée", ctx.now, actor=alias)
        ctx.send(Outgoing(template="adresse_confirmation", to=member.email,
                          context={"club_name": ctx.settings.club_name, "first_name": member.first_name,
                                   "alias": alias, "days": PENDING_DAYS},
                          idempotency_key=f"address-confirm:{mail.message_id}",
                          token=Token(SCOPE_VERIFY, pending.id, ROLE_MEMBER), about=member.email))
    else:
        record_event(ctx.session, None, "address-link-unknown", f"{alias} dit être membre sous une adresse "
                     "inconnue : rien à confirmer", ctx.now, actor=alias)
    ctx.send(Outgoing(template="adresse_confirmation_demandee", to=alias,
                      context={"club_name": ctx.settings.club_name, "claimed": claimed, "days": PENDING_DAYS},
                      idempotency_key=f"address-asked:{mail.message_id}",
                      token=ctx.signer.address_token(alias), in_reply_to=f"<{mail.message_id}>"))


def _asks_more_than_the_claim(mail: InboundMail, claimed: str) -> bool:
    """Whether the mail says something besides "je suis membre, mon adresse est …" and a greeting: only then is it
    a request to keep (a ticket made of the claim alone would be noise for Aideur)."""
    own = mail.new_text or mail.text
    rest = "\n".join(line for line in own.splitlines() if claimed not in line.lower())
    return not is_courtesy_only(rest) and len(rest.split()) >= 6


def answer_alias_confirmation(ctx: WorkflowContext, mail: InboundMail, member: Member, number: int) -> None:
    """The main address answers "is this other address yours?": OUI links it (and its kept request becomes a
    ticket), NON drops the question and tells Aideur (someone claimed to be the member)."""
    from mailbot.workflows.profiles import _reply as reply_to_member
    from mailbot.workflows.profiles import close_pending, open_pending

    pending = open_pending(ctx, mail, number, ALIAS_KIND)
    if pending is None or pending.member_id != member.id:
        reply_to_member(ctx, mail, member, "confirmation_sans_objet", {})
        return
    alias = str(json.loads(pending.values or "{}").get("values", {}).get("alias", ""))
    answer = confirmation_of(mail.text or mail.new_text)
    if answer is None:
        reply_to_member(ctx, mail, member, "confirmation_incomprise", {"action": f"relier {alias} à votre adhésion"}, token=Token(SCOPE_VERIFY, pending.id, ROLE_MEMBER))
        return
    if answer is False:
        close_pending(ctx, pending, "cancelled")
        record_event(ctx.session, None, "address-link-refused", f"membre n° {member.id} : {alias} n'est pas à lui",
                     ctx.now, actor=mail.from_address)
        notify_aideurs(ctx, None, "notification_adresse", {
            "club_name": ctx.settings.club_name, "name": member.display_name, "main": member.email,
            "alias": alias, "linked": False, "problem": ""}, key=f"address-refused:{mail.message_id}",
            about=member.email or "")
        reply_to_member(ctx, mail, member, "confirmation_annulee", {"action": f"relier {alias} à votre adhésion"})
        return
    close_pending(ctx, pending, "applied")
    try:
        link(ctx, member, alias, how=addresses.HOW_CONFIRMED, actor=mail.from_address, key=mail.message_id)
    except AddressError as refused:  # linked to someone else meanwhile (by Aideur): he decides
        record_event(ctx.session, None, "address-link-failed", f"membre n° {member.id} : {refused}", ctx.now,
                     actor=mail.from_address)
        notify_aideurs(ctx, None, "notification_adresse", {
            "club_name": ctx.settings.club_name, "name": member.display_name, "main": member.email,
            "alias": alias, "linked": False, "problem": str(refused)}, key=f"address-failed:{mail.message_id}",
            about=member.email or "")
        return
    notify_aideurs(ctx, None, "notification_adresse", {
        "club_name": ctx.settings.club_name, "name": member.display_name, "main": member.email, "alias": alias,
        "linked": True, "problem": ""}, key=f"address-confirmed:{mail.message_id}", about=member.email or "")


def _colleague(ctx: WorkflowContext, mail: InboundMail, member: Member) -> None:
    """Someone writing for a member: no invitation to register (they did not come to join). Aideur gets the
    message with what he can do; the colleague is told the member may write themselves, and that Aideur has it."""
    record_event(ctx.session, None, "on-behalf", f"{mail.from_address} écrit de la part du membre n° {member.id}",
                 ctx.now, actor=mail.from_address)
    notify_aideurs(ctx, None, "notification_de_la_part", {
        "club_name": ctx.settings.club_name, "sender": mail.from_address, "name": member.display_name,
        "main": member.email, "subject": mail.subject or "(sans objet)",
        "text": excerpt(mail.new_text or mail.text, 2000)}, key=f"on-behalf:{mail.message_id}",
        about=member.email or "")
    ctx.send(Outgoing(template="de_la_part", to=mail.from_address,
                      context={"club_name": ctx.settings.club_name},
                      idempotency_key=f"on-behalf:{mail.message_id}", token=ctx.signer.address_token(
                          mail.from_address), in_reply_to=f"<{mail.message_id}>"))
