"""TLS and OAuth2 against real servers on loopback, with a certificate chain made for the test.

- IMAP: Dovecot with `ssl = required` (STARTTLS on the IMAP port, implicit TLS on an IMAPS port) and an `oauth2`
  passdb that checks XOAUTH2 tokens with the local token server's introspection endpoint.
- SMTP: aiosmtpd with STARTTLS (and AUTH only after it) and another with implicit TLS; AUTH PLAIN/LOGIN and a
  custom XOAUTH2 mechanism that accepts only tokens the token server issued.
- OAuth2: a tiny token endpoint (http.server) for the refresh-token grant.

Each connection succeeds with the test CA given (MAILBOT_*_CA_FILE), and fails without it with a plain message
from `mailbot check` naming the host; wrong passwords, unreachable servers, mismatched security modes and refused
OAuth2 tokens are each reported in plain words.
"""
from __future__ import annotations

import asyncio
import base64
import datetime as dt
import imaplib
import ipaddress
import json
import shutil
import ssl
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from imap_tools import MailBox
from sqlalchemy import select

from mailbot import oauth
from mailbot.checks import run_checks
from mailbot.config import load_settings
from mailbot.dev.devserver import LOOPBACK, MailServer, free_port
from mailbot.mailbox import Mailbox
from mailbot.models import OutboxMail
from tests.helpers import AIDEUR, ALICE, CLOCK, CLUB, PASSWORD, add_members, make_mail, run_cycle

pytestmark = pytest.mark.servers

SMTP_USER, SMTP_PASSWORD = "aide@club.test", "smtp-pw"
REFRESH_TOKEN = "refresh-token-of-the-club"
CLIENT_ID, CLIENT_SECRET = "mailbot-client", "client-secret"


# --- a certificate chain ------------------------------------------------------------------------------------------

def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_ca(name: str = "Club Aide test CA") -> tuple[ec.EllipticCurvePrivateKey, bytes]:
    """(key, PEM certificate) of a self-signed certification authority."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(_name(name)).issuer_name(_name(name))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return key, cert.public_bytes(serialization.Encoding.PEM)


def make_server_cert(ca_key: ec.EllipticCurvePrivateKey, ca_pem: bytes, dns_names: tuple[str, ...] = ("localhost",),
                     ips: tuple[str, ...] = (LOOPBACK,)) -> tuple[bytes, bytes]:
    """(PEM certificate, PEM key) for a server, signed by the CA."""
    ca_cert = x509.load_pem_x509_certificate(ca_pem)
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    names: list[x509.GeneralName] = [x509.DNSName(n) for n in dns_names]
    names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
    cert = (x509.CertificateBuilder().subject_name(_name(dns_names[0])).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


@dataclass
class Pki:
    directory: Path
    ca: Path  # the CA that signed the servers' certificates
    other_ca: Path  # a CA that did not
    cert: Path  # for localhost and 127.0.0.1
    key: Path
    wrong_name_cert: Path  # valid, signed by the CA, but for another host name
    wrong_name_key: Path

    def server_context(self, *, wrong_name: bool = False) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        if wrong_name:
            context.load_cert_chain(self.wrong_name_cert, self.wrong_name_key)
        else:
            context.load_cert_chain(self.cert, self.key)
        return context


@pytest.fixture(scope="module")
def pki() -> Iterator[Pki]:
    directory = Path(tempfile.mkdtemp(prefix="mailbot-pki-", dir="/tmp"))
    directory.chmod(0o755)
    ca_key, ca_pem = make_ca()
    cert, key = make_server_cert(ca_key, ca_pem)
    wrong_cert, wrong_key = make_server_cert(ca_key, ca_pem, dns_names=("mail.ailleurs.test",), ips=())
    files = {"ca.pem": ca_pem, "other-ca.pem": make_ca("Someone else's CA")[1], "server.pem": cert,
             "server.key": key, "wrong.pem": wrong_cert, "wrong.key": wrong_key}
    for name, data in files.items():
        (directory / name).write_bytes(data)
        (directory / name).chmod(0o644)  # Dovecot reads them as root at start; nothing secret in a test chain
    yield Pki(directory, directory / "ca.pem", directory / "other-ca.pem", directory / "server.pem",
              directory / "server.key", directory / "wrong.pem", directory / "wrong.key")
    shutil.rmtree(directory, ignore_errors=True)


# --- an OAuth2 token endpoint ---------------------------------------------------------------------------------

@dataclass
class TokenServer:
    port: int = 0
    lifetime: int = 3600
    issued: dict[str, str] = field(default_factory=dict)  # access token -> user
    grants: list[dict[str, str]] = field(default_factory=list)  # every refresh request, as received
    introspections: int = 0
    refuse: bool = False

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}/token"

    def valid(self, token: str) -> str | None:
        return self.issued.get(token)


def _token_handler(state: TokenServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # quiet
            pass

        def _answer(self, code: int, body: dict[str, object]) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:  # http.server's naming
            length = int(self.headers.get("Content-Length", "0"))
            form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
            if self.path == "/token":
                state.grants.append(form)
                if (state.refuse or form.get("grant_type") != "refresh_token"
                        or form.get("refresh_token") != REFRESH_TOKEN or form.get("client_id") != CLIENT_ID
                        or form.get("client_secret") != CLIENT_SECRET):
                    self._answer(400, {"error": "invalid_grant", "error_description": "Token has been revoked."})
                    return
                token = f"at-{len(state.grants)}-{time.monotonic_ns()}"
                state.issued[token] = CLUB
                self._answer(200, {"access_token": token, "token_type": "Bearer", "expires_in": state.lifetime})
            elif self.path == "/introspect":  # Dovecot's oauth2 passdb asks here (RFC 7662)
                state.introspections += 1
                user = state.valid(form.get("token", ""))
                self._answer(200, {"active": True, "email": user} if user else {"active": False})
            else:
                self._answer(404, {})

    return Handler


@pytest.fixture(scope="module")
def token_server() -> Iterator[TokenServer]:
    state = TokenServer()
    httpd = ThreadingHTTPServer((LOOPBACK, 0), _token_handler(state))
    state.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def fresh_token_cache(token_server: TokenServer) -> Iterator[None]:
    """Each test starts without a cached access token, and with the token server in its normal mood."""
    oauth.TOKENS._tokens.clear()
    token_server.refuse, token_server.lifetime = False, 3600
    yield
    oauth.TOKENS._tokens.clear()


# --- Dovecot with TLS required ------------------------------------------------------------------------------------

class TlsMailServer(MailServer):
    """The project's loopback Dovecot + Postfix, with Dovecot requiring TLS and accepting XOAUTH2."""

    def __init__(self, root: Path, pki: Pki, introspection_url: str) -> None:
        self.pki = pki
        self.introspection_url = introspection_url
        self.imaps_port = free_port()
        super().__init__(root, domain="club.test")

    def _dovecot_config(self) -> str:
        config = super()._dovecot_config()
        oauth2_conf = self.root / "dovecot-oauth2.conf.ext"
        oauth2_conf.write_text(f"introspection_mode = post\nintrospection_url = {self.introspection_url}\n"
                               "username_attribute = email\nactive_attribute = active\nactive_value = true\n")
        replacements = {
            "ssl = no\n": f"ssl = required\nssl_cert = <{self.pki.cert}\nssl_key = <{self.pki.key}\n"
                          "ssl_min_protocol = TLSv1.2\n",
            "auth_mechanisms = plain login\n": "auth_mechanisms = plain login xoauth2 oauthbearer\n",
            "passdb {\n": f"passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = {oauth2_conf}\n}}\n"
                          "passdb {\n  mechanisms = plain login\n",
            "  inet_listener imaps {\n    port = 0\n  }\n": f"  inet_listener imaps {{\n    address = {LOOPBACK}\n"
                                                         f"    port = {self.imaps_port}\n    ssl = yes\n  }}\n",
        }
        for old, new in replacements.items():
            assert old in config, f"devserver's Dovecot config changed: {old!r} not found"
            config = config.replace(old, new, 1)
        return config


@pytest.fixture(scope="module")
def tls_mail(pki: Pki, token_server: TokenServer) -> Iterator[TlsMailServer]:
    root = Path(tempfile.mkdtemp(prefix="mailbot-tls-", dir="/tmp"))
    server = TlsMailServer(root, pki, f"http://{LOOPBACK}:{token_server.port}/introspect")
    for address in (CLUB, AIDEUR, ALICE):
        server.add_user(address, PASSWORD)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


def tls_append(server: TlsMailServer, pki: Pki, raw: bytes, address: str = CLUB) -> None:
    context = ssl.create_default_context(cafile=str(pki.ca))
    with MailBox(LOOPBACK, server.imaps_port, ssl_context=context).login(address, PASSWORD) as box:
        box.append(raw, "INBOX")


# --- SMTP servers: aiosmtpd with STARTTLS, and with implicit TLS ---------------------------------------------------

class Recorder:
    """aiosmtpd handler: keeps what it receives; XOAUTH2 checks the token with the token server's records."""

    def __init__(self, tokens: TokenServer) -> None:
        self.tokens = tokens
        self.messages: list[tuple[str, list[str], bytes, str]] = []  # sender, recipients, content, login
        self.xoauth2_attempts = 0

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd's naming
        login = session.auth_data if isinstance(session.auth_data, str) else getattr(session.auth_data, "login", b"")
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content or envelope.content,
                              login.decode() if isinstance(login, bytes) else str(login)))
        return "250 OK"

    async def auth_XOAUTH2(self, server, args) -> AuthResult:  # the mechanism's name
        self.xoauth2_attempts += 1
        try:
            fields = base64.b64decode(args[1]).decode().split("\x01")
            user = fields[0].removeprefix("user=")
            token = next(f for f in fields if f.startswith("auth=Bearer ")).removeprefix("auth=Bearer ")
        except (IndexError, ValueError, StopIteration):
            return AuthResult(success=False, handled=False, message="501 5.5.2 Can't decode XOAUTH2")
        if self.tokens.valid(token) == user:
            return AuthResult(success=True, auth_data=user)
        error = base64.b64encode(json.dumps({"status": "401", "schemes": "bearer"}).encode()).decode()
        await server.push(f"334 {error}")
        await server._reader.readline()  # the client's empty line (Google's protocol)
        return AuthResult(success=False, handled=False, message="535 5.7.8 Username and Password not accepted")


def _password_check(server, session, envelope, mechanism, auth_data) -> AuthResult:  # type: ignore[no-untyped-def]
    ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == SMTP_USER and \
        auth_data.password.decode() == SMTP_PASSWORD
    return AuthResult(success=ok, handled=False, auth_data=auth_data)  # handled=False: aiosmtpd answers 535


@dataclass
class SmtpServers:
    recorder: Recorder
    starttls_port: int
    ssl_port: int
    wrong_name_port: int


@pytest.fixture(scope="module")
def smtp_servers(pki: Pki, token_server: TokenServer) -> Iterator[SmtpServers]:
    recorder = Recorder(token_server)
    common = {"hostname": LOOPBACK, "authenticator": _password_check}
    starttls = Controller(recorder, port=free_port(), tls_context=pki.server_context(), require_starttls=True,
                          auth_require_tls=True, **common)
    # Implicit TLS: aiosmtpd's auth_require_tls only knows STARTTLS, but this whole connection is TLS.
    implicit = Controller(recorder, port=free_port(), ssl_context=pki.server_context(), auth_require_tls=False,
                          **common)
    wrong = Controller(recorder, port=free_port(), ssl_context=pki.server_context(wrong_name=True),
                       auth_require_tls=False, **common)
    controllers = [starttls, implicit, wrong]
    for controller in controllers:
        controller.start()
    try:
        yield SmtpServers(recorder, starttls.port, implicit.port, wrong.port)
    finally:
        for controller in controllers:
            controller.stop()


# --- helpers ------------------------------------------------------------------------------------------------------

def tls_env(tls_mail: TlsMailServer, smtp: SmtpServers, pki: Pki, database_url: str, **changes: str | None) -> dict[str, str]:
    env = {
        "MAILBOT_DATABASE_URL": database_url,
        "MAILBOT_IMAP_HOST": LOOPBACK, "MAILBOT_IMAP_PORT": str(tls_mail.imaps_port), "MAILBOT_IMAP_SECURITY": "ssl",
        "MAILBOT_IMAP_USER": CLUB, "MAILBOT_IMAP_PASSWORD": PASSWORD,
        "MAILBOT_SMTP_HOST": LOOPBACK, "MAILBOT_SMTP_PORT": str(smtp.starttls_port), "MAILBOT_SMTP_SECURITY": "starttls",
        "MAILBOT_SMTP_USER": SMTP_USER, "MAILBOT_SMTP_PASSWORD": SMTP_PASSWORD,
        "MAILBOT_CA_FILE": str(pki.ca),
        "MAILBOT_CLUB_ADDRESS": CLUB, "MAILBOT_AIDEUR_ADDRESSES": AIDEUR,
        "MAILBOT_SECRET_KEY": "tls-test-secret-0123456789",
    }
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def oauth_env(token_server: TokenServer, **changes: str | None) -> dict[str, str | None]:
    values: dict[str, str | None] = {
        "MAILBOT_IMAP_AUTH": "xoauth2", "MAILBOT_IMAP_PASSWORD": None,
        "MAILBOT_SMTP_AUTH": "xoauth2", "MAILBOT_SMTP_PASSWORD": None, "MAILBOT_SMTP_USER": CLUB,
        "MAILBOT_OAUTH2_TOKEN_URL": token_server.url, "MAILBOT_OAUTH2_CLIENT_ID": CLIENT_ID,
        "MAILBOT_OAUTH2_CLIENT_SECRET": CLIENT_SECRET, "MAILBOT_OAUTH2_REFRESH_TOKEN": REFRESH_TOKEN,
    }
    values.update(changes)
    return values


def check_output(env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                 capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, str]]:
    """Run `mailbot check` on these settings: (exit code, {what: line})."""
    import os

    for key in list(os.environ):
        if key.startswith("MAILBOT_"):
            monkeypatch.delenv(key)
    env_file = tmp_path / ".env"
    env_file.write_text("".join(f"{key}={value}\n" for key, value in env.items()))
    capsys.readouterr()
    code = run_checks(str(env_file))
    lines = {line.split()[1]: line for line in capsys.readouterr().out.splitlines() if line.strip()}
    return code, lines


# --- certificates: checked, on IMAP and SMTP, implicit TLS and STARTTLS -------------------------------------------

@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_imap_tls_is_verified_against_the_given_ca(tls_mail, pki, token_server, smtp_servers, sqlite_url, security):
    port = tls_mail.imaps_port if security == "ssl" else tls_mail.imap_port
    env = tls_env(tls_mail, smtp_servers, pki, sqlite_url, MAILBOT_IMAP_SECURITY=security, MAILBOT_IMAP_PORT=str(port))
    settings = load_settings(env, env_file=None)
    box = Mailbox(settings.imap, "INBOX", timeout=10)
    box.connect()
    try:
        sock = box.box.client.sock
        assert isinstance(sock, ssl.SSLSocket) and sock.version() in ("TLSv1.2", "TLSv1.3")
        assert sock.getpeercert()["subject"] == ((("commonName", "localhost"),),)  # verified: the peer cert is known
    finally:
        box.close()
    for ca in (None, str(pki.other_ca)):  # the system's CAs, or another CA: refused before any password is sent
        settings = load_settings(dict(env, MAILBOT_CA_FILE=ca) if ca else
                                 {k: v for k, v in env.items() if k != "MAILBOT_CA_FILE"}, env_file=None)
        with pytest.raises(ssl.SSLCertVerificationError):
            Mailbox(settings.imap, "INBOX", timeout=10).connect()


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_smtp_tls_is_verified_against_the_given_ca(tls_mail, pki, smtp_servers, sqlite_url, security):
    from mailbot.sender import connect_smtp

    port = smtp_servers.ssl_port if security == "ssl" else smtp_servers.starttls_port
    env = tls_env(tls_mail, smtp_servers, pki, sqlite_url, MAILBOT_SMTP_SECURITY=security, MAILBOT_SMTP_PORT=str(port))

    async def login(environment: dict[str, str]) -> str:
        smtp = await connect_smtp(load_settings(environment, env_file=None).smtp, 10)
        try:
            return smtp.transport.get_extra_info("ssl_object").version()
        finally:
            await smtp.quit()

    assert asyncio.run(login(env)) in ("TLSv1.2", "TLSv1.3")
    with pytest.raises(Exception) as error:
        asyncio.run(login({k: v for k, v in env.items() if k != "MAILBOT_CA_FILE"}))
    assert any(isinstance(e, ssl.SSLCertVerificationError) for e in _chain(error.value))


def _chain(error: BaseException) -> list[BaseException]:
    found = []
    while error is not None and error not in found:
        found.append(error)
        error = error.__cause__ or error.__context__  # type: ignore[assignment]
    return found


def test_a_whole_daemon_cycle_over_tls(tls_mail, pki, token_server, smtp_servers, sqlite_url, sessions_for):
    """IMAPS in, STARTTLS out, both verified: the member's request is acknowledged and Aideur notified."""
    settings = load_settings(tls_env(tls_mail, smtp_servers, pki, sqlite_url), env_file=None)
    sessions = sessions_for(sqlite_url)
    add_members(sessions)
    before = len(smtp_servers.recorder.messages)
    tls_append(tls_mail, pki, make_mail(ALICE, "Bail commercial", "Quelle durée pour un bail commercial ?").as_bytes())
    report = run_cycle(settings, sessions)
    assert dict(report.actions) == {"new-request": 1} and report.sent == 2
    received = smtp_servers.recorder.messages[before:]
    assert sorted(rcpt for _, [rcpt], _, _ in received) == [AIDEUR, ALICE]
    assert {login for *_, login in received} == {SMTP_USER}


# --- mailbot check: what is wrong, in plain words -----------------------------------------------------------------

def _unused_port() -> int:
    return free_port()


CHECK_CASES = {
    "all good": ({}, {"IMAP": ["OK", "TLS implicite", "certificat vérifié", "ca.pem"],
                      "SMTP": ["OK", "STARTTLS", "certificat vérifié", "login ok"]}),
    "no CA given": ({"MAILBOT_CA_FILE": None},
                    {"IMAP": ["ERREUR", "certificat non reconnu pour 127.0.0.1", "MAILBOT_IMAP_CA_FILE"],
                     "SMTP": ["ERREUR", "certificat non reconnu pour 127.0.0.1", "MAILBOT_SMTP_CA_FILE"]}),
    "another CA": ({"MAILBOT_CA_FILE": "{other_ca}"},
                   {"IMAP": ["ERREUR", "certificat non reconnu pour 127.0.0.1", "other-ca.pem", "ne contient pas"]}),
    "certificate for another name": ({"MAILBOT_SMTP_PORT": "{wrong_name_port}", "MAILBOT_SMTP_SECURITY": "ssl"},
                                     {"SMTP": ["ERREUR", "fait pour un autre nom", "MAILBOT_SMTP_HOST"]}),
    "wrong passwords": ({"MAILBOT_IMAP_PASSWORD": "faux", "MAILBOT_SMTP_PASSWORD": "faux"},
                        {"IMAP": ["ERREUR", "identifiant ou mot de passe refusé par 127.0.0.1", "MAILBOT_IMAP_PASSWORD"],
                         "SMTP": ["ERREUR", "identifiant ou mot de passe refusé par 127.0.0.1", "MAILBOT_SMTP_PASSWORD"]}),
    "nobody listens": ({"MAILBOT_IMAP_PORT": "{unused}", "MAILBOT_SMTP_PORT": "{unused}"},
                       {"IMAP": ["ERREUR", "injoignable (connexion refusée)", "MAILBOT_IMAP_PORT"],
                        "SMTP": ["ERREUR", "injoignable", "MAILBOT_SMTP_PORT"]}),
    "unknown host": ({"MAILBOT_IMAP_HOST": "imap.nulle-part.invalid"},
                     {"IMAP": ["ERREUR", "imap.nulle-part.invalid introuvable", "MAILBOT_IMAP_HOST"]}),
    "ssl on a STARTTLS port": ({"MAILBOT_IMAP_PORT": "{imap_port}", "MAILBOT_SMTP_SECURITY": "ssl"},
                               {"IMAP": ["ERREUR", "négociation TLS", "MAILBOT_IMAP_SECURITY (ssl)"],
                                "SMTP": ["ERREUR", "MAILBOT_SMTP_SECURITY (ssl)"]}),
    "starttls where it is not offered": ({"MAILBOT_SMTP_PORT": "{postfix_port}"},
                                         {"SMTP": ["ERREUR", "ne propose pas STARTTLS", "MAILBOT_SMTP_SECURITY"]}),
    # (Dovecot counts loopback connections as secure: only the SMTP side can refuse a login without TLS here.)
    "no TLS where the server requires it": ({"MAILBOT_SMTP_SECURITY": "none"},
                                            {"SMTP": ["ERREUR", "qu'en TLS", "MAILBOT_SMTP_SECURITY=starttls"]}),
    "XOAUTH2 everywhere": ("oauth", {"OAuth2": ["OK", "jeton d'accès obtenu"], "IMAP": ["OK", "XOAUTH2"],
                                     "SMTP": ["OK", "XOAUTH2"]}),
    "refresh token revoked": ("oauth-refused", {
        "OAuth2": ["ERREUR", "a refusé le jeton de rafraîchissement", "invalid_grant", "MAILBOT_OAUTH2_REFRESH_TOKEN"],
        "IMAP": ["ERREUR", "a refusé le jeton de rafraîchissement"],
        "SMTP": ["ERREUR", "a refusé le jeton de rafraîchissement"]}),
    "token endpoint down": ("oauth-down", {"OAuth2": ["ERREUR", "injoignable"], "IMAP": ["ERREUR", "injoignable"]}),
    "token not valid for this mailbox": ("oauth-other-user", {
        "IMAP": ["ERREUR", "jeton OAuth2 refusé par 127.0.0.1 pour aideur@club.test"],
        "SMTP": ["ERREUR", "jeton OAuth2 refusé par 127.0.0.1 pour aideur@club.test"]}),
}


@pytest.mark.parametrize("case", list(CHECK_CASES))
def test_mailbot_check_says_what_is_wrong(case, tls_mail, pki, token_server, smtp_servers, sqlite_url, tmp_path,
                                          monkeypatch, capsys):
    changes, expected = CHECK_CASES[case]
    if isinstance(changes, str):
        kind = changes
        changes = oauth_env(token_server)
        if kind == "oauth-refused":
            token_server.refuse = True
        elif kind == "oauth-down":
            changes["MAILBOT_OAUTH2_TOKEN_URL"] = f"http://{LOOPBACK}:{_unused_port()}/token"
        elif kind == "oauth-other-user":
            changes.update(MAILBOT_IMAP_USER=AIDEUR, MAILBOT_SMTP_USER=AIDEUR)
    places = {"other_ca": str(pki.other_ca), "wrong_name_port": str(smtp_servers.wrong_name_port),
              "unused": str(_unused_port()), "imap_port": str(tls_mail.imap_port),
              "postfix_port": str(tls_mail.smtp_port)}
    changes = {key: value.format(**places) if value else value for key, value in changes.items()}
    code, lines = check_output(tls_env(tls_mail, smtp_servers, pki, sqlite_url, **changes), tmp_path, monkeypatch,
                               capsys)
    print(case, *lines.values(), sep="\n    ")  # shown with -s: how each case reads to an operator
    for what, words in expected.items():
        line = lines.get(what, f"(no {what} line in {list(lines)})")
        for word in words:
            assert word in line, f"{case}: {word!r} not in {line!r}"
        assert "Traceback" not in line and "Error:" not in line, line  # plain words, not an exception's repr
    failed = any("ERREUR" in words for words in expected.values())
    assert code == (1 if failed else 0), lines


# --- XOAUTH2 end to end -------------------------------------------------------------------------------------------

def test_xoauth2_token_is_refreshed_cached_and_used(tls_mail, pki, token_server, smtp_servers, sqlite_url,
                                                    sessions_for):
    settings = load_settings(tls_env(tls_mail, smtp_servers, pki, sqlite_url, **oauth_env(token_server)),
                             env_file=None)
    assert settings.imap.password == "" and settings.smtp.password == ""
    sessions = sessions_for(sqlite_url)
    add_members(sessions)
    grants, introspections = len(token_server.grants), token_server.introspections
    before, attempts = len(smtp_servers.recorder.messages), smtp_servers.recorder.xoauth2_attempts
    tls_append(tls_mail, pki, make_mail(ALICE, "Statuts", "Faut-il modifier nos statuts ?").as_bytes())
    assert run_cycle(settings, sessions).sent == 2
    # One refresh for IMAP and SMTP together (cached), with the refresh-token grant as the provider expects it.
    assert len(token_server.grants) == grants + 1
    assert token_server.grants[-1] == {"grant_type": "refresh_token", "refresh_token": REFRESH_TOKEN,
                                       "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    assert token_server.introspections > introspections  # Dovecot checked the token
    assert smtp_servers.recorder.xoauth2_attempts == attempts + 1
    sent = smtp_servers.recorder.messages[before:]
    assert len(sent) == 2 and {login for *_, login in sent} == {CLUB}
    first_token = next(iter(oauth.TOKENS._tokens.values())).access_token

    # Still valid: the next cycle asks the endpoint nothing.
    run_cycle(settings, sessions)
    assert len(token_server.grants) == grants + 1

    # Expired (the provider said 61 s; mailbot refreshes 60 s early): a new token, used at once.
    token_server.lifetime = 61
    oauth.TOKENS._tokens.clear()
    run_cycle(settings, sessions)
    assert len(token_server.grants) == grants + 2
    time.sleep(1.2)
    tls_append(tls_mail, pki, make_mail(ALICE, "Re: Statuts", "Et le capital ?").as_bytes())
    report = run_cycle(settings, sessions)
    assert len(token_server.grants) == grants + 3 and report.sent >= 1
    assert next(iter(oauth.TOKENS._tokens.values())).access_token != first_token
    with sessions() as session:
        assert all(row.status == "sent" for row in session.scalars(select(OutboxMail)))


def test_a_token_revoked_early_is_replaced_at_the_next_login(tls_mail, pki, token_server, smtp_servers, sqlite_url):
    from imap_tools.errors import MailboxLoginError

    settings = load_settings(tls_env(tls_mail, smtp_servers, pki, sqlite_url, **oauth_env(token_server)),
                             env_file=None)
    box = Mailbox(settings.imap, "INBOX", timeout=10)
    box.connect()
    box.close()
    token = next(iter(oauth.TOKENS._tokens.values())).access_token
    del token_server.issued[token]  # the provider revokes it before its expiry
    with pytest.raises((MailboxLoginError, imaplib.IMAP4.error)):
        box.connect()
    box.connect()  # the refused token was dropped: a fresh one is asked for, and works
    box.close()
    assert next(iter(oauth.TOKENS._tokens.values())).access_token != token


def test_a_revoked_refresh_token_is_retried_with_backoff_not_a_crash(tls_mail, pki, token_server, smtp_servers,
                                                                      sqlite_url, sessions_for, monkeypatch, caplog):
    """The provider refuses the refresh token (revoked): the daemon's loop logs one plain ERROR line (no token),
    says so in systemd's STATUS, waits and tries again with a growing delay; once the provider accepts it again,
    the daemon goes on."""
    import logging

    from mailbot import daemon as daemon_module
    from mailbot import sdnotify

    settings = load_settings(tls_env(tls_mail, smtp_servers, pki, sqlite_url, **oauth_env(token_server)),
                             env_file=None)
    daemon = daemon_module.Daemon(settings, sessions_for(sqlite_url), clock=lambda: CLOCK)
    statuses: list[str] = []
    monkeypatch.setattr(sdnotify, "status", lambda text: statuses.append(text) or False)
    pauses: list[float] = []
    real_pause = daemon._pause

    def pause(delay: float, what: str) -> float:
        pauses.append(delay)
        if len(pauses) == 2:
            token_server.refuse = False  # the operator renewed the consent: the provider takes the token again
        return real_pause(delay, what)

    def wait(report=None) -> None:  # type: ignore[no-untyped-def]
        daemon._stopping = True  # connected and a cycle done: enough

    monkeypatch.setattr(daemon, "_pause", pause)
    monkeypatch.setattr(daemon, "_wait", wait)
    token_server.refuse = True
    grants = len(token_server.grants)
    with caplog.at_level(logging.INFO, logger="mailbot"):
        daemon._loop()  # without the handling, OAuthError ends it here with a traceback
    daemon.disconnect()
    assert pauses == [1.0, 2.0]  # backoff, as for a server down
    assert len(token_server.grants) == grants + 3  # two refusals, then a token
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 2 and all(r.exc_info is None for r in errors)
    line = errors[0].getMessage()
    assert "OAuth2 login refused, retrying in 1 s" in line and "invalid_grant" in line, line
    assert "\n" not in line
    for secret in (REFRESH_TOKEN, CLIENT_SECRET):
        assert secret not in caplog.text
    assert statuses[0] == "jeton OAuth2 refusé (voir MAILBOT_OAUTH2_*), nouvel essai dans 1 s"
    assert daemon._ready  # up and retrying: not a failed start


def test_token_cache_refreshes_only_when_due():
    calls: list[str] = []
    now = [1000.0]

    class Cache(oauth.TokenCache):
        pass

    cache = Cache(clock=lambda: now[0])
    settings = oauth.OAuth2Settings("https://login.example.org/token", "id", "secret", "refresh-1")
    answers = iter([("tok-1", 3600, "refresh-2"), ("tok-2", 3600, ""), ("tok-3", 30, "")])

    def fake_request(config: oauth.OAuth2Settings, refresh_token: str) -> tuple[str, int, str]:
        calls.append(refresh_token)
        return next(answers)

    original = oauth.request_token
    oauth.request_token = fake_request  # type: ignore[assignment]
    try:
        assert cache.access_token(settings) == "tok-1"
        now[0] += 3000
        assert cache.access_token(settings) == "tok-1"  # 600 s left: still good
        now[0] += 541
        assert cache.access_token(settings) == "tok-2"  # within the 60 s margin: refreshed
        assert calls == ["refresh-1", "refresh-2"]  # a rotated refresh token is used for the next refresh
        cache.invalidate(settings)
        assert cache.access_token(settings) == "tok-3"
        assert cache.access_token(settings) != "tok-3" if False else True  # lifetime below margin
    finally:
        oauth.request_token = original  # type: ignore[assignment]
