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


def test_daemons_starting_together_on_a_new_postgresql_database_migrate_it_once():
    """Each `mailbot run` migrates at start: four started at once on an empty PostgreSQL database must all come up
    (one creates the schema, the others wait for it and find it done), not fail on "relation already exists"."""
    import subprocess
    import sys
    import uuid

    import pytest
    import sqlalchemy
    from sqlalchemy.engine import make_url

    from tests.conftest import POSTGRES_ADMIN_URL, _postgres_available

    if not _postgres_available():
        pytest.skip("PostgreSQL not reachable")
    name = f"mailbot_race_{uuid.uuid4().hex[:12]}"
    admin = sqlalchemy.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    code = "import sys; from mailbot.db import upgrade; upgrade(sys.argv[1])"
    try:
        # Processes, as the daemons are (Alembic's context is global to a process: threads would share it).
        runs = [subprocess.Popen([sys.executable, "-c", code, url], stderr=subprocess.PIPE) for _ in range(4)]
        failures = [run.stderr.read().decode(errors="replace")[-800:] for run in runs if run.wait(120) != 0]
        assert failures == []
        engine = create_engine(url)
        with engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
        engine.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
