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


def test_the_schema_head_the_daemon_checks_is_alembics_head(tmp_path):
    """mailbot.db.SCHEMA_HEAD lets a start skip the migration scripts: a new migration must move it too."""
    from mailbot.db import SCHEMA_HEAD, current_revision, head_revision

    url = f"sqlite:///{tmp_path / 'head.db'}"
    assert SCHEMA_HEAD == head_revision(url)
    assert current_revision(url) is None
    upgrade(url)
    assert current_revision(url) == SCHEMA_HEAD


def test_a_command_loads_no_migration_machinery_to_start():
    """Importing the command line (the daemon, its sending process, each command) leaves Alembic unloaded: 0.1 s
    of CPU at every start."""
    import subprocess
    import sys

    code = "import sys, mailbot.cli; print(sorted(m for m in sys.modules if m.split('.')[0] in ('alembic', 'mako')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_database_newer_than_this_mailbot_is_refused_saying_so(tmp_path):
    import pytest
    from sqlalchemy import text

    from mailbot.db import SchemaError, require_schema

    url = f"sqlite:///{tmp_path / 'newer.db'}"
    upgrade(url)
    require_schema(url)  # at this code's schema: nothing to say
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0099_a_later_one'"))
    engine.dispose()
    with pytest.raises(SchemaError, match="newer than this mailbot"):
        require_schema(url)
