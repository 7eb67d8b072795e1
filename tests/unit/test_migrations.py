"""The Alembic migrations and the models describe the same schema (no model change without its migration)."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from mailbot.db import upgrade
from mailbot.models import Base


def test_migrations_match_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'schema.db'}"
    upgrade(url)
    engine = create_engine(url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_upgrade_is_idempotent(tmp_path):
    url = f"sqlite:///{tmp_path / 'twice.db'}"
    upgrade(url)
    upgrade(url)


def test_upgrade_keeps_rows_written_by_an_older_schema(tmp_path):
    """A club upgrading mailbot keeps its members: columns added later get defaults for existing rows."""
    from alembic import command
    from sqlalchemy import text

    from mailbot.db import alembic_config

    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(url), "0001")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(
            "insert into members (email, first_name, last_name, company, phone, skills, hobbies, particulars, "
            "visibility, status, accepts_appeals, created_at, updated_at) values ('a@b.fr', 'Ana', 'Bel', '', '', "
            "'paie', '', '', 'membres', 'active', 1, '2026-01-01', '2026-01-01')"))
    upgrade(url)
    with engine.connect() as connection:
        row = connection.execute(text("select email, activity, postal_address, pending_action from members")).one()
    assert tuple(row) == ("a@b.fr", "", "", "")
