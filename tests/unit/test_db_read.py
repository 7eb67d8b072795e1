"""mailbot.db.read: a prebuilt statement run as Core answers what the ORM would (pending rows flushed first, not
inside no_autoflush), on SQLite and PostgreSQL."""
from __future__ import annotations

from sqlalchemy import bindparam, select

from mailbot.addresses import member_of_address
from mailbot.db import make_engine, make_session_factory, read
from mailbot.models import Member

BY_EMAIL = select(Member.id).where(Member.email == bindparam("address"))


def test_read_sees_the_rows_the_session_has_pending(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine).begin() as session:
            member = Member(email="lea@membres.test", first_name="Léa", last_name="Faure")
            session.add(member)
            assert read(session, BY_EMAIL, {"address": "lea@membres.test"}).scalar() == member.id
            member.email = "lea.faure@membres.test"  # changed in memory only: flushed by the next read
            assert read(session, BY_EMAIL, {"address": "lea@membres.test"}).scalar() is None
            assert member_of_address(session, "Lea.Faure@Membres.test") is member
            session.rollback()
    finally:
        engine.dispose()


def test_read_leaves_pending_rows_alone_inside_no_autoflush(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine).begin() as session:
            session.add(Member(email="noel@membres.test", first_name="Noël", last_name="Mercier"))
            with session.no_autoflush:
                assert read(session, BY_EMAIL, {"address": "noel@membres.test"}).scalar() is None
            assert read(session, BY_EMAIL, {"address": "noel@membres.test"}).scalar() is not None
            session.rollback()
    finally:
        engine.dispose()
