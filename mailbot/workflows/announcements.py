"""Who the club's announcements reach (issue 17): activities and polls are announced to the active members who
accept announcements, optionally only to those whose profile names one of the given skills.

One function shared by every announcing workflow, so that "plus d'annonces" is obeyed everywhere the same way.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailbot.matching import terms_of
from mailbot.models import Member, MemberTerm


def audience(session: Session, skills: str = "", *, exclude: set[int] | None = None) -> list[Member]:
    """The members an announcement goes to, in a stable order (by id).

    Active, with an address that does not bounce, accepting announcements; when `skills` is given ("facturation,
    comptabilité"), only those whose skills match one of its words (the matching index: stemmed, accent-folded).
    `exclude`: member ids left out (e.g. the member who proposed the activity)."""
    query = (select(Member).where(Member.status == "active", Member.email.is_not(None),
                                  Member.bounced_at.is_(None), Member.accepts_announcements.is_(True))
             .order_by(Member.id))
    terms = {term for term, _ in terms_of(skills)} if skills.strip() else set()
    if terms:
        query = query.where(Member.id.in_(select(MemberTerm.member_id)
                                          .where(MemberTerm.term.in_(terms), MemberTerm.field == "s")))
    members = list(session.scalars(query))
    return [m for m in members if not exclude or m.id not in exclude]
