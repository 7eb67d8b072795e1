"""The members' directory by mail (issue 12, point 8): "annuaire", or "annuaire comptabilité".

A member who chose "Visibilité : membres" at registration (or later, by mail) agreed that the other members may see
their profile: they are listed with their name, company, activity, skills and the contact fields they chose to show
("Coordonnées dans l'annuaire : e-mail, téléphone ou aucune"; never the postal address). A "confidentielle" member never appears, whatever is asked. Only active
members get the list, and always at the address on record (a forged From: sends it to that member, never to the
forger); anyone else gets a short refusal that lists nothing and repeats nothing they wrote.

The word is read like the other members' words (subject, or alone on the first line of a fresh mail); a skill after
it narrows the list with the matching rules (stems, accents, the club's synonyms), on skills, particularities and
activity.
"""
from __future__ import annotations

import re

from sqlalchemy import select

from mailbot.matching import concepts_of, read_words
from mailbot.models import Member, MemberTerm
from mailbot.parsers import InboundMail
from mailbot.parsers.rules import fold
from mailbot.parsers.subjects import strip_subject_prefixes
from mailbot.tokens import ROLE_MEMBER, SCOPE_PROFILE, Token
from mailbot.workflows.appeals import synonyms_for
from mailbot.workflows.base import Outgoing, WorkflowContext

__all__ = ["LIST_MAX", "asked_for", "directory_mail"]

LIST_MAX = 40  # a longer list is cut, with the count and a hint to name a skill
# "annuaire", "l'annuaire", "annuaire des membres", "annuaire : comptabilité", "Annuaire compta ?"
_ASKED = re.compile(r"^\s*(?:l'|voir\s+l'|(?:envoyez|envoyer)(?:-moi)?\s+l')?annuaire(?:\s+des\s+membres)?"
                    r"(?:\s*[:,-]\s*|\s+|$)(?P<skill>[^\n]{0,60}?)\s*[.!?]*\s*$")


def asked_for(subject: str, text: str) -> str | None:
    """The skill asked for ("" for the whole directory), or None when the mail does not ask for the directory.

    The word must be the whole subject or the whole first line (with at most a skill after it): "Annuaire de la
    mairie : où le trouver ?" is a request for the network, not this."""
    for line in (strip_subject_prefixes(subject or ""), _first_line(text)):
        match = _ASKED.match(fold(line)) if line and len(line.split()) <= 6 and "?" not in line else None
        if match:
            start = match.start("skill")
            return line[start:match.end("skill")].strip(" :,-")
    return None


def _first_line(text: str) -> str:
    for line in (text or "").splitlines():
        if line.strip():
            return line.strip()
    return ""


def directory_mail(ctx: WorkflowContext, mail: InboundMail, member: Member | None) -> None:
    """Answer "annuaire [compétence]": the list to an active member's address on record, else a short refusal.

    Reads the members visible to members; writes nothing but the answer, queued on `ctx`."""
    skill = asked_for(mail.subject, mail.new_text or mail.text) or ""
    if member is None or member.status != "active" or not member.email:
        # Nothing of what they wrote comes back (no reflection); a former member is answered at the address on
        # record. The reply address is the newcomer's own (an answer "inscription" brings the invitation).
        address = member.email if member is not None and member.email else mail.from_address
        ctx.send(Outgoing(template="annuaire_refus", to=address,
                          context={"club_name": ctx.settings.club_name, "former": member is not None},
                          idempotency_key=f"annuaire_refus:{mail.message_id}",
                          token=ctx.signer.address_token(address), in_reply_to=f"<{mail.message_id}>"))
        return
    if skill and not concepts_of(skill, synonyms_for(ctx.settings.synonyms_file), drop_generic=False):
        skill = ""  # "annuaire SVP", "annuaire merci": no skill named, the whole list
    visible = _visible_members(ctx, member, skill)
    ctx.send(Outgoing(
        template="annuaire", to=member.email,
        context={"club_name": ctx.settings.club_name, "first_name": member.first_name, "skill": skill,
                 "entries": [_entry(other) for other in visible[:LIST_MAX]], "more": max(0, len(visible) - LIST_MAX),
                 "self_visible": member.visibility == "membres", "self_contacts": member.directory_contacts},
        idempotency_key=f"annuaire:{mail.message_id}",
        # A reply goes to the member's profile: "Visibilité : confidentielle" there changes their choice.
        token=Token(SCOPE_PROFILE, member.id, ROLE_MEMBER), in_reply_to=f"<{mail.message_id}>"))


def _visible_members(ctx: WorkflowContext, member: Member, skill: str) -> list[Member]:
    query = select(Member).where(Member.visibility == "membres", Member.status == "active",
                                 Member.email.is_not(None), Member.id != member.id)
    candidates = list(ctx.session.scalars(query.order_by(Member.last_name, Member.first_name, Member.id)))
    if not skill or not candidates:
        return candidates
    alternatives = [expression for concept in concepts_of(skill, synonyms_for(ctx.settings.synonyms_file),
                                                          drop_generic=False)
                    for expression in concept.alternatives]
    terms: dict[int, set[str]] = {m.id: {t for w in read_words(m.activity or "", "query") for t in w.terms}
                                  for m in candidates}
    for member_id, term in ctx.session.execute(select(MemberTerm.member_id, MemberTerm.term).where(
            MemberTerm.member_id.in_(list(terms)), MemberTerm.field.in_(("s", "p")))):
        terms[member_id].add(term)
    # A member is listed when one of the ways to say the skill (it, or a synonym) has all its words in their
    # skills, particularities or activity.
    return [m for m in candidates if any(all(slot & terms[m.id] for slot in expression)
                                         for expression in alternatives)]


def _entry(member: Member) -> dict[str, str]:
    """What the directory shows of a member: never the postal address, and only the contact fields they chose
    ("Coordonnées dans l'annuaire : e-mail, téléphone ou aucune", in their profile)."""
    shown = member.directory_contacts or ""
    return {"name": member.display_name, "company": member.company or "", "activity": member.activity or "",
            "skills": " ".join((member.skills or "").split()),
            "email": (member.email or "") if "e-mail" in shown else "",
            "phone": (member.phone or "") if "téléphone" in shown else ""}
