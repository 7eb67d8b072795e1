"""One person, several addresses (issue 13, point 2): the single lookup "member of this address", and the changes
of a member's addresses (link an alias, remove one, change the main address).

A member has one main address (members.email: every mail to them goes there) and any number of other addresses
(member_addresses). A mail from any of them is the member's: `member_of_address` is the one lookup every rule uses
(router, workflows, guard, rate limit, rights), so that no rule can treat the two addresses as two people.

Invariants, checked here for every way in (CLI, Aideur's #adresse, the member's own confirmation):
* an address is one person's: never an alias of two members, never another member's main address (even a former
  member's: their register row still names them);
* the club's and Aideur's addresses are nobody's alias.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from mailbot.db import read
from mailbot.models import Member, MemberAddress, utcnow
from mailbot.parsers.headers import unicode_domain

# The lookups every mail runs (router, outbox, guard), built once: building and keying them was most of their cost.
MEMBER_BY_EMAIL = select(Member).where(Member.email == bindparam("address"))
MEMBER_BY_ALIAS = (select(Member).join(MemberAddress, MemberAddress.member_id == Member.id)
                   .where(MemberAddress.email == bindparam("address")))
OTHER_ADDRESSES = (select(MemberAddress.email).where(MemberAddress.member_id == bindparam("member_id"))
                   .order_by(MemberAddress.id))
EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")
# How an alias came: the CLI, Aideur's #adresse, the member's confirmation from the main address, a former main
# address kept after a change.
HOW_CLI, HOW_AIDEUR, HOW_CONFIRMED, HOW_FORMER = "cli", "aideur", "confirmed", "former"


class AddressError(ValueError):
    """A change refused, with the reason in French (shown to Aideur or to the operator as is)."""


def normalise(address: str) -> str:
    """The form addresses are stored and compared in: lower case, Unicode domain."""
    return unicode_domain((address or "").strip().strip("<>").lower())


def member_of_address(session: Session, address: str) -> Member | None:
    """The member this address belongs to: their main address or one of their other addresses; None if nobody's.

    Whatever the member's status (the callers check it: a former member's mail is still theirs)."""
    address = normalise(address)
    if not address:
        return None
    member = session.scalar(MEMBER_BY_EMAIL, {"address": address})
    if member is not None:
        return member
    return session.scalar(MEMBER_BY_ALIAS, {"address": address})


# members_of_addresses: addresses per query (well under the database's bound parameters).
ADDRESSES_PER_QUERY = 10_000


def members_of_addresses(session: Session, addresses: Iterable[str]) -> dict[str, int]:
    """member_of_address for many addresses at once (two queries per ADDRESSES_PER_QUERY: other addresses, then main
    ones): the member's id by address as given, for those that are someone's main address or other address."""
    by_form: dict[str, list[str]] = {}
    for address in addresses:
        form = normalise(address)
        if form:
            by_form.setdefault(form, []).append(address)
    forms = sorted(by_form)
    owner: dict[str, int] = {}
    for start in range(0, len(forms), ADDRESSES_PER_QUERY):
        chunk = forms[start:start + ADDRESSES_PER_QUERY]
        for query in (select(MemberAddress.email, MemberAddress.member_id).where(MemberAddress.email.in_(chunk)),
                      select(Member.email, Member.id).where(Member.email.in_(chunk))):  # a main address wins
            for email, member_id in session.execute(query):
                if email:
                    owner[email] = member_id
    return {address: owner[form] for form, given in by_form.items() if form in owner for address in given}


def addresses_of(session: Session, member: Member) -> list[str]:
    """Every address of the member, the main one first."""
    others = read(session, OTHER_ADDRESSES, {"member_id": member.id}).scalars().all()
    return ([member.email] if member.email else []) + list(others)


def aliases_of(session: Session, member: Member) -> list[MemberAddress]:
    return list(session.scalars(select(MemberAddress).where(MemberAddress.member_id == member.id)
                                .order_by(MemberAddress.id)))


def same_person(session: Session, first: str, second: str) -> bool:
    """Whether two addresses are one person's (equal, or both a member's)."""
    if normalise(first) == normalise(second):
        return True
    one = member_of_address(session, first)
    return one is not None and one.id == getattr(member_of_address(session, second), "id", None)


def _check_free(session: Session, member: Member, address: str, reserved: tuple[str, ...]) -> None:
    if not EMAIL.match(address):
        raise AddressError(f"adresse e-mail invalide : {address}")
    if address in {normalise(r) for r in reserved if r}:
        raise AddressError(f"{address} est une adresse du club ou d'Aideur : elle ne peut pas être celle d'un membre")
    owner = member_of_address(session, address)
    if owner is not None and owner.id != member.id:
        raise AddressError(f"{address} est déjà l'adresse d'un autre membre ({owner.display_name}) : "
                           "une adresse n'appartient qu'à une personne")
    if owner is not None:
        raise AddressError(f"{address} est déjà une adresse de {member.display_name}")


def add_alias(session: Session, member: Member, address: str, *, how: str = HOW_CLI, now: datetime | None = None,
              reserved: tuple[str, ...] = ()) -> MemberAddress:
    """Link `address` to `member` as another of their addresses. Raises AddressError if it is anyone's already
    (this member's included) or reserved (the club's, Aideur's)."""
    address = normalise(address)
    if member.status == "erased" or not member.email:
        raise AddressError("ce membre a été effacé")
    _check_free(session, member, address, reserved)
    row = MemberAddress(member_id=member.id, email=address, added_at=now or utcnow(), how=how)
    session.add(row)
    session.flush()
    return row


def remove_alias(session: Session, member: Member, address: str) -> None:
    """Unlink one of the member's other addresses (never the main one: change it instead)."""
    address = normalise(address)
    if address == (member.email or ""):
        raise AddressError(f"{address} est l'adresse principale de {member.display_name} : "
                           "changez-la plutôt (adresse changer ANCIENNE NOUVELLE)")
    removed = session.execute(delete(MemberAddress).where(MemberAddress.member_id == member.id,
                                                          MemberAddress.email == address))
    if not getattr(removed, "rowcount", 0):
        raise AddressError(f"{address} n'est pas une adresse de {member.display_name}")
    session.flush()


def change_main(session: Session, member: Member, new: str, *, keep_old: bool = True, now: datetime | None = None,
                reserved: tuple[str, ...] = ()) -> str:
    """Make `new` the member's main address (where their mail goes). The old one stays as another address of
    theirs (keep_old, the default: mail still coming from it is recognised), else it is dropped. `new` may be one
    of their other addresses already (it is promoted). Returns the old main address."""
    new = normalise(new)
    old = member.email or ""
    if member.status == "erased" or not old:
        raise AddressError("ce membre a été effacé")
    if new == old:
        raise AddressError(f"{new} est déjà l'adresse principale de {member.display_name}")
    owner = member_of_address(session, new)
    if owner is None:
        _check_free(session, member, new, reserved)
    elif owner.id != member.id:
        raise AddressError(f"{new} est déjà l'adresse d'un autre membre ({owner.display_name}) : "
                           "une adresse n'appartient qu'à une personne")
    session.execute(delete(MemberAddress).where(MemberAddress.member_id == member.id, MemberAddress.email == new))
    member.email = new
    session.flush()
    if keep_old:
        session.add(MemberAddress(member_id=member.id, email=old, added_at=now or utcnow(), how=HOW_FORMER))
        session.flush()
    return old


def forget_aliases(session: Session, member: Member) -> list[str]:
    """Remove every other address of the member (erasure); returns them, for the scrubbing of what they sent."""
    gone = [row.email for row in aliases_of(session, member)]
    session.execute(delete(MemberAddress).where(MemberAddress.member_id == member.id))
    session.flush()
    return gone

