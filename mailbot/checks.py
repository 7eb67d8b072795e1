"""`mailbot check`: is everything the daemon needs there and working? Says what is wrong, in plain words."""
from __future__ import annotations

import asyncio
import ssl
from typing import Callable

import aiosmtplib
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from mailbot.config import ConfigError, Settings, load_settings
from mailbot.db import alembic_config, make_engine
from mailbot.mailbox import Mailbox


def run_checks(env_file: str) -> int:
    try:
        settings = load_settings(env_file=env_file)
    except ConfigError as error:
        _line(False, "configuration", str(error))
        return 1
    _line(True, "configuration", f"club {settings.club_address}, Aideur {', '.join(settings.aideur_addresses)}")
    checks: list[tuple[str, Callable[[Settings], str]]] = [
        ("database", check_database), ("IMAP", check_imap), ("SMTP", check_smtp)]
    ok = True
    for name, check in checks:
        try:
            _line(True, name, check(settings))
        except Exception as error:  # noqa: BLE001 - every failure is reported, none stops the others
            ok = False
            _line(False, name, f"{type(error).__name__}: {error}")
    return 0 if ok else 1


def _line(ok: bool, what: str, detail: str) -> None:
    print(f"{'OK    ' if ok else 'ERREUR'} {what:<14} {detail}")


def check_database(settings: Settings) -> str:
    engine = make_engine(settings.database_url)
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
        current = MigrationContext.configure(connection).get_current_revision()
    head = ScriptDirectory.from_config(alembic_config(settings.database_url)).get_current_head()
    if current != head:
        raise RuntimeError(f"schema at {current or 'nothing'}, expected {head}: run `mailbot db upgrade`")
    return f"{engine.url.render_as_string(hide_password=True)} (schema {current})"


def check_imap(settings: Settings) -> str:
    if settings.imap is None:
        raise ConfigError("MAILBOT_IMAP_HOST", "is not set")
    box = Mailbox(settings.imap, settings.imap_folder, timeout=20)
    try:
        box.connect()
        idle = "IDLE" if box.supports_idle() else "no IDLE: polling every MAILBOT_POLL_SECONDS"
        count = len(box.box.uids("ALL"))
    finally:
        box.close()
    return f"{settings.imap.user}@{settings.imap.host}:{settings.imap.port}, {settings.imap_folder}: {count} mail(s), {idle}"


def check_smtp(settings: Settings) -> str:
    server = settings.smtp
    if server is None:
        raise ConfigError("MAILBOT_SMTP_HOST", "is not set")

    async def probe() -> str:
        smtp = aiosmtplib.SMTP(hostname=server.host, port=server.port, use_tls=server.security == "ssl",
                               start_tls=server.security == "starttls", timeout=20,
                               tls_context=ssl.create_default_context() if server.security != "none" else None)
        await smtp.connect()
        try:
            if server.user:
                await smtp.login(server.user, server.password)
        finally:
            await smtp.quit()
        return f"{server.host}:{server.port} ({server.security}{', login ok' if server.user else ''})"

    return asyncio.run(probe())
