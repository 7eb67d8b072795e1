"""One person, several addresses (issue 13, point 2): the lookup "member of this address" and its invariants."""
from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from mailbot.addresses import (
    HOW_AIDEUR,
    AddressError,
    add_alias,
    addresses_of,
    change_main,
    member_of_address,
    members_of_addresses,
    remove_alias,
    same_person,
)
from mailbot.db import make_engine, make_session_factory
from mailbot.members import erase_member, export_address, upsert_member
from mailbot.models import MemberAddress

ALICE, PERSO, BRUNO = "alice@membres.test", "alice.perso@gmail.test", "bruno@membres.test"


@pytest.fixture
def sessions(database_url):  # type: ignore[no-untyped-def]
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


def _two(session):  # type: ignore[no-untyped-def]
    alice, _ = upsert_member(session, ALICE, first_name="Alice", last_name="Martin")
    bruno, _ = upsert_member(session, BRUNO, first_name="Bruno", last_name="Petit")
    return alice, bruno


def test_the_lookup_finds_the_member_by_main_address_or_alias_in_any_case(sessions):
    with sessions.begin() as session:
        alice, bruno = _two(session)
        add_alias(session, alice, "Alice.Perso@GMAIL.test", how=HOW_AIDEUR)
        assert member_of_address(session, ALICE).id == alice.id
        assert member_of_address(session, PERSO).id == alice.id
        assert member_of_address(session, " <ALICE.PERSO@gmail.test> ").id == alice.id
        assert member_of_address(session, BRUNO).id == bruno.id
        assert member_of_address(session, "nobody@ailleurs.test") is None
        assert member_of_address(session, "") is None
        assert addresses_of(session, alice) == [ALICE, PERSO]
        assert same_person(session, PERSO, ALICE) and not same_person(session, PERSO, BRUNO)


def test_many_addresses_are_looked_up_at_once_as_the_single_lookup_does(sessions):
    """The order across daemons maps every waiting sender to its member in one query (members_of_addresses): the
    same answer as member_of_address for each."""
    with sessions.begin() as session:
        alice, bruno = _two(session)
        add_alias(session, alice, PERSO, how=HOW_AIDEUR)
        upsert_member(session, "jo@exemple-\u00e9t\u00e9.fr", first_name="Jo", last_name="Idn")
        asked = [ALICE, "ALICE.perso@gmail.test", BRUNO, "nobody@ailleurs.test", "", "jo@xn--exemple-t-i4ab.fr"]
        found = members_of_addresses(session, asked)
        assert found == {address: member.id for address in asked
                         if (member := member_of_address(session, address)) is not None}
        assert found["ALICE.perso@gmail.test"] == found[ALICE] == alice.id and found[BRUNO] == bruno.id
        assert members_of_addresses(session, []) == {}


def test_an_alias_is_never_two_members_nor_another_members_main_address(sessions):
    with sessions.begin() as session:
        alice, bruno = _two(session)
        add_alias(session, alice, PERSO)
        with pytest.raises(AddressError, match="autre membre"):
            add_alias(session, bruno, PERSO)
        with pytest.raises(AddressError, match="autre membre"):
            add_alias(session, alice, BRUNO)
        with pytest.raises(AddressError, match="déjà une adresse"):
            add_alias(session, alice, PERSO)
        with pytest.raises(AddressError, match="club"):
            add_alias(session, alice, "aide@club.test", reserved=("aide@club.test",))
        with pytest.raises(AddressError, match="invalide"):
            add_alias(session, alice, "pas une adresse")
        assert member_of_address(session, PERSO).id == alice.id
    with sessions() as session, pytest.raises(IntegrityError):  # and the database holds it too
        session.add(MemberAddress(member_id=2, email=PERSO, how="cli"))
        session.flush()


def test_changing_the_main_address_keeps_the_old_one_as_an_alias_and_refuses_anothers(sessions):
    with sessions.begin() as session:
        alice, _ = _two(session)
        with pytest.raises(AddressError, match="autre membre"):
            change_main(session, alice, BRUNO)
        assert change_main(session, alice, "alice@nouvelle.test") == ALICE
        assert alice.email == "alice@nouvelle.test"
        assert member_of_address(session, ALICE).id == alice.id  # still hers
        change_main(session, alice, ALICE, keep_old=False)  # an alias promoted back; the other one dropped
        assert addresses_of(session, alice) == [ALICE]
        with pytest.raises(AddressError, match="principale"):
            remove_alias(session, alice, ALICE)
        add_alias(session, alice, PERSO)
        remove_alias(session, alice, PERSO)
        assert member_of_address(session, PERSO) is None


def test_export_has_the_aliases_and_erasure_removes_them(sessions):
    with sessions.begin() as session:
        alice, _ = _two(session)
        add_alias(session, alice, PERSO)
    with sessions() as session:
        exported = export_address(session, PERSO)  # asked from the alias: the member's whole export
        assert exported["email"] == ALICE
        assert [a["email"] for a in exported["other_addresses"]] == [PERSO]
    with sessions.begin() as session:
        erase_member(session, PERSO)
    with sessions() as session:
        assert member_of_address(session, PERSO) is None and member_of_address(session, ALICE) is None
        assert session.scalars(select(MemberAddress)).all() == []


def test_an_alias_cannot_become_a_second_member(sessions):
    """The issue's bug the other way round: adding the personal address as a member made Alice two people."""
    from mailbot.members import MemberError

    with sessions.begin() as session:
        alice, _ = _two(session)
        add_alias(session, alice, PERSO)
        with pytest.raises(MemberError, match="autre adresse de Alice Martin"):
            upsert_member(session, PERSO, first_name="Alice")


def test_a_held_request_is_exported_and_erased_with_its_address(sessions):
    from datetime import datetime

    from mailbot.members import erase_address
    from mailbot.models import HeldRequest

    with sessions.begin() as session:
        session.add(HeldRequest(email=PERSO, subject="Litige", text="Je cherche un avocat.", message_id="m@x",
                                received_at=datetime(2026, 11, 26, 10, 0)))
    with sessions() as session:
        assert [h["subject"] for h in export_address(session, PERSO)["held_requests"]] == ["Litige"]
    with sessions.begin() as session:
        erase_address(session, PERSO, now=datetime(2026, 11, 26, 11, 0))
    with sessions() as session:
        assert session.scalars(select(HeldRequest)).all() == []


def test_a_held_request_lapses_after_the_confirmation_delay(sessions):
    from datetime import datetime, timedelta
    from types import SimpleNamespace

    from mailbot.models import HeldRequest
    from mailbot.workflows.aliases import drop_lapsed_held
    from mailbot.workflows.profiles import PENDING_DAYS

    asked = datetime(2026, 11, 2, 10, 0)
    with sessions.begin() as session:
        session.add(HeldRequest(email=PERSO, subject="Litige", text="Je cherche un avocat.", received_at=asked))
    for days, left in ((PENDING_DAYS - 1, 1), (PENDING_DAYS + 1, 0)):
        with sessions.begin() as session:
            drop_lapsed_held(SimpleNamespace(session=session, now=asked + timedelta(days=days)))  # type: ignore
        with sessions() as session:
            assert len(session.scalars(select(HeldRequest)).all()) == left
