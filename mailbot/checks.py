"""`mailbot check`: is everything the daemon needs there and working? Says what is wrong, in plain words.

Each failure is explained for the operator rather than shown as a Python exception: a certificate that is not
trusted (which host, which setting trusts a private CA), a TLS handshake that failed (wrong port or security mode),
a server that cannot be reached or whose name is unknown, a password or an OAuth2 token refused.
"""
from __future__ import annotations

import asyncio
import errno
import imaplib
import json
import socket
import ssl
from collections.abc import Callable, Iterator

import aiosmtplib
from alembic.runtime.migration import MigrationContext
from imap_tools.errors import MailboxLoginError
from sqlalchemy import text

from mailbot import dkim, oauth
from mailbot.compose import override_files, override_problems
from mailbot.config import (
    DEFAULT_ENV_FILE,
    ConfigError,
    ServerSettings,
    Settings,
    load_settings,
)
from mailbot.db import SchemaError, make_engine, require_schema
from mailbot.mailbox import Mailbox
from mailbot.sender import connect_smtp

CHECK_TIMEOUT = 20


def run_checks(env_file: str | None, *, as_json: bool = False) -> int:
    """Run every check and print one line each (or, with `as_json`, one JSON object: `ok` and `checks`, a list of
    `name`, `ok`, `detail`, and `setting` for a configuration error). Exit status: 0 all well, 78 (EX_CONFIG) for a
    wrong setting (nothing else can be checked then), 1 when a check fails."""
    results: list[dict[str, object]] = []
    status = _run_all(env_file, results)
    if as_json:
        print(json.dumps({"ok": status == 0, "checks": results}, ensure_ascii=False, indent=2))
    else:
        for result in results:
            _line(bool(result["ok"]), str(result["name"]), str(result["detail"]))
    return status


def _run_all(env_file: str | None, results: list[dict[str, object]]) -> int:
    try:
        settings = load_settings(env_file=env_file or DEFAULT_ENV_FILE, env_file_required=env_file is not None)
    except ConfigError as error:
        results.append({"name": "configuration", "ok": False, "detail": str(error), "setting": error.setting})
        return 78  # EX_CONFIG, as every other command
    results.append({"name": "configuration", "ok": True,
                    "detail": f"club {settings.club_address}, Aideur {', '.join(settings.aideur_addresses)}"})
    checks: list[tuple[str, Callable[[Settings], str], ServerSettings | None]] = [
        ("database", check_database, None), ("commandes", check_commands, None), ("modèles", check_templates, None)]
    oauth2 = next((s.oauth2 for s in (settings.imap, settings.smtp) if s is not None and s.oauth2 is not None), None)
    if oauth2 is not None:
        checks.append(("OAuth2", check_oauth2, None))
    checks += [("IMAP", check_imap, settings.imap), ("SMTP", check_smtp, settings.smtp)]
    if settings.dkim is not None:
        checks.append(("DKIM", check_dkim, None))
    ok = True
    for name, check, server in checks:
        try:
            results.append({"name": name, "ok": True, "detail": check(settings)})
        except Exception as error:  # noqa: BLE001 - every failure is reported, none stops the others
            ok = False
            results.append({"name": name, "ok": False, "detail": explain(error, server, name)})
    return 0 if ok else 1


def _line(ok: bool, what: str, detail: str) -> None:
    print(f"{'OK    ' if ok else 'ERREUR'} {what:<14} {detail}")


def check_database(settings: Settings) -> str:
    require_schema(settings.database_url)  # SchemaError says what to run
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
    return f"{engine.url.render_as_string(hide_password=True)} (schema {current})"


def check_templates(settings: Settings) -> str:
    """The operator's templates (MAILBOT_TEMPLATES_DIR) that replace packaged ones, and any that would not render."""
    directory = settings.templates_dir
    if directory is None:
        return "ceux de mailbot (MAILBOT_TEMPLATES_DIR non défini)"
    names = [path.name for path in override_files(directory)]
    problems = override_problems(directory)
    if problems:
        raise TemplateOverrideError("; ".join(f"{directory / name} : {problem}" for name, problem in problems.items()))
    if not names:
        return f"ceux de mailbot (aucun fichier .j2 dans {directory})"
    return f"{len(names)} remplacé(s) par {directory} : {', '.join(names)}"


class TemplateOverrideError(ValueError):
    """One of the operator's templates would not render; the message names the file and the reason."""


def check_commands(settings: Settings) -> str:
    """Which protections guard Aideur's commands: who vouches for his From:, and the confirmation round trip of
    commands received through his command address (with that address's generation)."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from mailbot.models import SigningDomain
    from mailbot.workflows.aideur import aideur_command_token
    from mailbot.workflows.triage import CONFIRMATION_HOURS

    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as session:
            token = aideur_command_token(session)
            domains = list(session.scalars(select(SigningDomain.domain).order_by(SigningDomain.domain)))
    finally:
        engine.dispose()
    if settings.authserv_id:
        sender = f"expéditeur d'Aideur vérifié par Authentication-Results de {settings.authserv_id}"
    else:
        known = ", ".join(domains) if domains else "aucun encore"
        sender = (f"expéditeur d'Aideur vérifié par mailbot (DKIM ; domaines qui signent : {known} ; "
                  "MAILBOT_AUTHSERV_ID non défini)")
    local, domain = settings.club_address.rsplit("@", 1)
    # Not the address itself: this output gets pasted into support requests, and the address is a capability.
    return (f"{sender} ; commandes reçues par l'adresse de commande : confirmation par OUI exigée "
            f"({CONFIRMATION_HOURS} h) ; adresse de commande n° {token.number} ({local}+{token.payload}-…@{domain}, "
            "`mailbot aideur rotate-address` pour la changer)")


def check_oauth2(settings: Settings) -> str:
    server = next(s for s in (settings.imap, settings.smtp) if s is not None and s.oauth2 is not None)
    assert server.oauth2 is not None
    oauth.access_token(server.oauth2)
    return f"jeton d'accès obtenu de {server.oauth2.token_url}"


def check_imap(settings: Settings) -> str:
    if settings.imap is None:
        raise ConfigError("MAILBOT_IMAP_HOST", "is not set")
    box = Mailbox(settings.imap, settings.imap_folder, timeout=CHECK_TIMEOUT)
    try:
        box.connect()
        idle = "IDLE" if box.supports_idle() else "no IDLE: polling every MAILBOT_POLL_SECONDS"
        count = len(box.box.uids("ALL"))
        sock = box.box.client.sock
        tls = _tls_words(sock.version() if isinstance(sock, ssl.SSLSocket) else None, settings.imap)
    finally:
        box.close()
    login = "XOAUTH2" if settings.imap.auth == "xoauth2" else "login ok"
    return (f"{settings.imap.user}@{settings.imap.host}:{settings.imap.port} ({tls}, {login}), "
            f"{settings.imap_folder}: {count} mail(s), {idle}")


def check_smtp(settings: Settings) -> str:
    server = settings.smtp
    if server is None:
        raise ConfigError("MAILBOT_SMTP_HOST", "is not set")

    async def probe() -> str:
        smtp = await connect_smtp(server, CHECK_TIMEOUT)
        try:
            ssl_object = smtp.transport.get_extra_info("ssl_object") if smtp.transport is not None else None
            tls = _tls_words(ssl_object.version() if ssl_object is not None else None, server)
        finally:
            try:
                await smtp.quit()
            except (aiosmtplib.SMTPException, OSError):
                smtp.close()
        login = ", XOAUTH2" if server.auth == "xoauth2" else (", login ok" if server.user else "")
        return f"{server.host}:{server.port} ({tls}{login})"

    return asyncio.run(probe())


def check_dkim(settings: Settings) -> str:
    """The key signs, and the public key published in DNS verifies what it signs."""
    import dkim as dkimpy
    from dkim.dnsplug import get_txt

    config = settings.dkim
    assert config is not None
    kind = f"RSA {config.key_bits} bits" if config.algorithm == dkim.RSA else "Ed25519"
    record = dkim.dns_record(config)
    probe = dkim.sign(f"From: {settings.club_address}\r\nTo: {settings.club_address}\r\nSubject: mailbot check\r\n"
                      f"Date: Thu, 01 Jan 2026 00:00:00 +0000\r\nMessage-ID: <check@mailbot.invalid>\r\n\r\n"
                      f"mailbot check\r\n".encode(), config)
    published: list[bytes | None] = []

    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        answer = get_txt(name, timeout=timeout)
        published.append(answer)
        return answer

    try:
        verified = dkimpy.verify(probe, dnsfunc=lookup)
    except Exception as error:  # noqa: BLE001 - no DNS here: the key itself is fine, say what to publish
        return f"{kind}, {config.dns_name} (DNS non vérifié : {error}) ; à publier : {record}"
    if verified:
        return f"{kind}, {config.dns_name} : la clé publiée en DNS vérifie la signature"
    if not published or not published[-1]:
        raise RuntimeError(f"aucun enregistrement TXT à {config.dns_name} : publiez-y « {record} »")
    raise RuntimeError(f"la clé publiée à {config.dns_name} ne correspond pas à MAILBOT_DKIM_KEY_FILE "
                       f"(clé ancienne ou autre sélecteur ?) : publiez « {record} »")


def _tls_words(version: str | None, server: ServerSettings) -> str:
    if server.security == "none":
        return "SANS chiffrement (MAILBOT_*_SECURITY=none)"
    how = "TLS implicite" if server.security == "ssl" else "STARTTLS"
    authority = f"autorité de {server.ca_file}" if server.ca_file else "autorités du système"
    return f"{how} {version or ''}, certificat vérifié ({authority})".replace("  ", " ")


# --- plain words --------------------------------------------------------------------------------------------------


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def explain(error: BaseException, server: ServerSettings | None, what: str) -> str:
    """One sentence for the operator: what went wrong, and which setting to look at."""
    if server is None:
        for cause in _chain(error):
            if isinstance(cause, (oauth.OAuthError, TemplateOverrideError, SchemaError)):
                return str(cause)
        return f"{type(error).__name__}: {error}"
    prefix = f"MAILBOT_{what}_"
    where = f"{server.host}:{server.port}"
    for cause in _chain(error):
        if isinstance(cause, ssl.SSLCertVerificationError):
            reason = cause.verify_message or cause.reason or str(cause)
            if "hostname" in reason.lower() or "ip address mismatch" in reason.lower():
                return (f"certificat non reconnu : le certificat présenté par {server.host} est fait pour un autre "
                        f"nom ({reason}) ; vérifiez {prefix}HOST")
            hint = (f"{prefix}CA_FILE ({server.ca_file}) ne contient pas l'autorité qui l'a signé" if server.ca_file
                    else f"si le serveur utilise une autorité privée, indiquez son certificat dans {prefix}CA_FILE")
            return f"certificat non reconnu pour {server.host} ({reason}) : {hint}"
    for cause in _chain(error):
        if isinstance(cause, oauth.OAuthError):
            return str(cause)
        if _plaintext_refused(cause):
            return (f"{server.host} n'accepte de connexion qu'en TLS : mettez {prefix}SECURITY=starttls "
                    f"(ou ssl, selon le port)")
        if isinstance(cause, (MailboxLoginError, aiosmtplib.SMTPAuthenticationError)) or _imap_login_refused(cause):
            detail = _server_words(cause)
            if server.auth == "xoauth2":
                return (f"jeton OAuth2 refusé par {server.host} pour {server.user} ({detail}) : le jeton ne donne pas "
                        f"accès à cette boîte (portée, compte ou {prefix}USER)")
            return f"identifiant ou mot de passe refusé par {server.host} ({detail}) : vérifiez {prefix}USER et {prefix}PASSWORD"
        if isinstance(cause, socket.gaierror):
            return f"serveur {server.host} introuvable (nom inconnu du DNS) : vérifiez {prefix}HOST"
        if isinstance(cause, ssl.SSLError):
            ports = "ssl : 993, starttls : 143" if what == "IMAP" else "ssl : 465, starttls : 587"
            return (f"la négociation TLS avec {where} a échoué ({cause.reason or cause}) : vérifiez "
                    f"{prefix}SECURITY ({server.security}) et {prefix}PORT (en général {ports})")
        if "starttls" in str(cause).lower() or "tls not supported" in str(cause).lower():
            return (f"{where} ne propose pas STARTTLS : vérifiez {prefix}SECURITY ({server.security}) "
                    f"et {prefix}PORT")
        if isinstance(cause, (ConnectionRefusedError, TimeoutError, socket.timeout, aiosmtplib.SMTPTimeoutError)) or (
                isinstance(cause, OSError) and cause.errno in (errno.ECONNREFUSED, errno.EHOSTUNREACH,
                                                               errno.ENETUNREACH, errno.ETIMEDOUT)):
            how = "connexion refusée" if isinstance(cause, ConnectionRefusedError) or getattr(
                cause, "errno", None) == errno.ECONNREFUSED else "pas de réponse"
            return f"serveur {where} injoignable ({how}) : vérifiez {prefix}HOST et {prefix}PORT, et le pare-feu"
    for cause in _chain(error):
        if isinstance(cause, aiosmtplib.SMTPConnectError):
            return f"serveur {where} injoignable ({cause}) : vérifiez {prefix}HOST et {prefix}PORT"
        if isinstance(cause, (ConnectionResetError, EOFError, imaplib.IMAP4.abort,
                              aiosmtplib.SMTPServerDisconnected)):
            return (f"{where} a coupé la connexion ({cause or type(cause).__name__}) : souvent un mode de sécurité "
                    f"qui ne correspond pas au port ; vérifiez {prefix}SECURITY ({server.security}) et {prefix}PORT")
    return f"{type(error).__name__}: {error}"


def _plaintext_refused(error: BaseException) -> bool:
    words = str(error).lower()
    return ("privacyrequired" in words or "plaintext authentication disallowed" in words
            or ("auth extension is not supported" in words and "try connecting via tls" in words)
            or "must issue a starttls command first" in words)


def _imap_login_refused(error: BaseException) -> bool:
    """imaplib's AUTHENTICATE (XOAUTH2) fails with its own error, not imap-tools' MailboxLoginError."""
    words = str(error).lower()
    return isinstance(error, imaplib.IMAP4.error) and not isinstance(error, imaplib.IMAP4.abort) and (
        "authenticationfailed" in words or "authentication failed" in words or "login failed" in words)


def _server_words(error: BaseException) -> str:
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return f"{error.code} {error.message}"
    text = str(error)
    # imap-tools: "Response status "OK" expected, but "NO" received. Data: [b'[AUTHENTICATIONFAILED] …']"
    if "Data:" in text:
        text = text.split("Data:", 1)[1].strip(" []")
    return text.strip("b'\" ")[:200]
