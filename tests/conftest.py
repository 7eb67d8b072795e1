"""Shared fixtures: a real Dovecot + Postfix on loopback, a fresh database (SQLite and PostgreSQL), settings."""
from __future__ import annotations

import logging
import os
import secrets
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy.engine import make_url

from mailbot.config import Settings, load_settings
from mailbot.db import make_engine, make_session_factory, upgrade
from mailbot.dev.devserver import MailServer
from tests.corpus import AVAILABLE, CORPUS, SKIP_REASON
from tests.helpers import AIDEUR, CLUB, MEMBERS, OUTSIDERS, PASSWORD

POSTGRES_ADMIN_URL = os.environ.get("MAILBOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`@pytest.mark.sqlite_only`: tests of wording and routing whose queries are the ones every other test runs
    on both databases gain nothing from a second run on PostgreSQL (each end-to-end test costs seconds)."""
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_postgres = callspec is not None and callspec.params.get("database_url") == "postgresql"
        (dropped if on_postgres and item.get_closest_marker("sqlite_only") else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(autouse=True)
def _root_logging_restored() -> Iterator[None]:
    """A test that runs the CLI in-process points the root logger at that test's captured stderr, which pytest
    closes afterwards: later tests' log lines then end in "Logging error … I/O operation on closed file". Each test
    gets the root logger without the handlers such a test left."""
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):  # mailbot.logs.setup's own handler; pytest's capture handlers are subclasses
        if type(handler) is logging.StreamHandler and handler not in before:
            root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    if not AVAILABLE:
        pytest.skip(SKIP_REASON)
    return CORPUS


@pytest.fixture(scope="session")
def mail_server() -> Iterator[MailServer]:
    # Not pytest's tmp_path: Dovecot's and Postfix's users must traverse the directory (see notes).
    root = Path(tempfile.mkdtemp(prefix="mailbot-test-", dir="/tmp"))
    server = MailServer(root, domain="club.test")
    for address in (CLUB, AIDEUR, *MEMBERS, *OUTSIDERS):
        server.add_user(address, PASSWORD)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def clean_mail(mail_server: MailServer) -> MailServer:
    mail_server.start()  # a test may have stopped a daemon on purpose
    mail_server.wipe_mailboxes()
    return mail_server


def _postgres_available() -> bool:
    try:
        engine = sqlalchemy.create_engine(POSTGRES_ADMIN_URL)
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001
        return False


@pytest.fixture(scope="session")
def migrated_sqlite() -> Iterator[Path]:
    """One migrated SQLite file per test session; each test gets a copy (migrating costs ~0.3 s)."""
    directory = Path(tempfile.mkdtemp(prefix="mailbot-db-template-", dir="/tmp"))
    upgrade(f"sqlite:///{directory / 'template.db'}")
    yield directory / "template.db"
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str | None]:
    """A migrated PostgreSQL database used as TEMPLATE for each test's fresh database."""
    if not _postgres_available():
        if os.environ.get("MAILBOT_TEST_POSTGRES") == "required":
            pytest.fail(f"PostgreSQL is required but not reachable at {POSTGRES_ADMIN_URL}")
        yield None
        return
    name = f"mailbot_template_{uuid.uuid4().hex[:12]}"
    admin = sqlalchemy.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    upgrade(make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False))
    try:
        yield name
    finally:
        with admin.connect() as connection:
            connection.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "sqlite":
        template = request.getfixturevalue("migrated_sqlite")
        directory = Path(tempfile.mkdtemp(prefix="mailbot-db-", dir="/tmp"))
        shutil.copy(template, directory / "mailbot.db")
        yield f"sqlite:///{directory / 'mailbot.db'}"
        shutil.rmtree(directory, ignore_errors=True)
        return
    template = request.getfixturevalue("postgres_template")
    if template is None:
        pytest.skip("PostgreSQL not reachable (set MAILBOT_TEST_POSTGRES=required to fail instead)")
    name = f"mailbot_test_{uuid.uuid4().hex[:12]}"
    admin = sqlalchemy.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sqlalchemy.text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def sqlite_url() -> Iterator[str]:
    directory = Path(tempfile.mkdtemp(prefix="mailbot-db-", dir="/tmp"))
    url = f"sqlite:///{directory / 'mailbot.db'}"
    upgrade(url)
    yield url
    shutil.rmtree(directory, ignore_errors=True)


def make_env(server: MailServer, database_url: str, **overrides: str) -> dict[str, str]:
    env = {
        "MAILBOT_DATABASE_URL": database_url,
        "MAILBOT_IMAP_HOST": server.imap_host, "MAILBOT_IMAP_PORT": str(server.imap_port),
        "MAILBOT_IMAP_USER": CLUB, "MAILBOT_IMAP_PASSWORD": PASSWORD, "MAILBOT_IMAP_SECURITY": "none",
        "MAILBOT_SMTP_HOST": server.smtp_host, "MAILBOT_SMTP_PORT": str(server.smtp_port),
        "MAILBOT_SMTP_SECURITY": "none",
        "MAILBOT_CLUB_ADDRESS": CLUB, "MAILBOT_AIDEUR_ADDRESSES": AIDEUR,
        "MAILBOT_SECRET_KEY": "test-secret-" + secrets.token_hex(8),
        "MAILBOT_POLL_SECONDS": "2",
    }
    env.update(overrides)
    return env


@pytest.fixture
def env(clean_mail: MailServer, database_url: str) -> dict[str, str]:
    return make_env(clean_mail, database_url)


@pytest.fixture
def settings(env: dict[str, str]) -> Settings:
    return load_settings(env, env_file=None)


@pytest.fixture
def sessions(settings: Settings):  # type: ignore[no-untyped-def]
    engine = make_engine(settings.database_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def sessions_for():  # type: ignore[no-untyped-def]
    engines = []

    def factory(url: str):  # type: ignore[no-untyped-def]
        engine = make_engine(url)
        engines.append(engine)
        return make_session_factory(engine)

    yield factory
    for engine in engines:
        engine.dispose()
