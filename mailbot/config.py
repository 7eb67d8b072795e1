"""Settings from the environment and an optional .env file.

Every setting is read and checked once, at start: a bad value stops the start with a message naming the setting,
rather than failing at 3 a.m. on the first mail that needs it.
"""
from __future__ import annotations

import difflib
import io
import ipaddress
import os
import re
import ssl
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv.parser import parse_stream

from mailbot.dkim import DkimKeyError, DkimSettings
from mailbot.dkim import make_settings as make_dkim_settings
from mailbot.oauth import OAuth2Settings

SECURITY_MODES = ("ssl", "starttls", "none")
AUTH_MODES = ("password", "xoauth2")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DEFAULT_ENV_FILE = ".env"
DEFAULT_CONDITIONS_FILE = Path(__file__).resolve().parent / "templates" / "conditions" / "v4-2018.txt"
DEFAULT_CONDITIONS_VERSION = "V4/2018"
WEEKDAY_NAMES = (("lundi", "monday", "mon", "1"), ("mardi", "tuesday", "tue", "2"), ("mercredi", "wednesday", "wed", "3"),
                 ("jeudi", "thursday", "thu", "4"), ("vendredi", "friday", "fri", "5"), ("samedi", "saturday", "sat", "6"),
                 ("dimanche", "sunday", "sun", "7", "0"))


def _one_spelling(address: str) -> str:
    """Lower case, and an IDN domain in its Unicode form: incoming mail is compared in that form
    (parsers.headers.unicode_domain), so an address configured as xn--… is still recognised."""
    from mailbot.parsers.headers import unicode_domain

    return unicode_domain(address.lower())


_ADDRESS = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")

# Every setting mailbot reads. A MAILBOT_* name that is not here is a mistake (a misspelt name would otherwise be
# ignored and its default used without a word), reported with the closest of these names.
# Mail providers whose addresses belong to anyone: a club with its address there has no domain of its own.
PUBLIC_MAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "outlook.com", "outlook.fr", "hotmail.com", "hotmail.fr", "live.com", "live.fr",
    "msn.com", "yahoo.com", "yahoo.fr", "icloud.com", "me.com", "mac.com", "orange.fr", "wanadoo.fr", "free.fr",
    "sfr.fr", "neuf.fr", "laposte.net", "gmx.fr", "gmx.com", "gmx.de", "aol.com", "protonmail.com", "proton.me",
    "bbox.fr", "numericable.fr", "aliceadsl.fr", "club-internet.fr", "mailo.com", "zoho.com",
})
KNOWN_SETTINGS = frozenset({
    "MAILBOT_DATABASE_URL", "MAILBOT_LOG_LEVEL", "MAILBOT_ALLOW_CLEARTEXT",
    "MAILBOT_IMAP_HOST", "MAILBOT_IMAP_PORT", "MAILBOT_IMAP_USER", "MAILBOT_IMAP_PASSWORD", "MAILBOT_IMAP_SECURITY",
    "MAILBOT_IMAP_AUTH", "MAILBOT_IMAP_CA_FILE", "MAILBOT_IMAP_FOLDER", "MAILBOT_IMAP_IDLE",
    "MAILBOT_PROCESSED_FOLDER", "MAILBOT_QUARANTINE_FOLDER",
    "MAILBOT_SMTP_HOST", "MAILBOT_SMTP_PORT", "MAILBOT_SMTP_USER", "MAILBOT_SMTP_PASSWORD", "MAILBOT_SMTP_SECURITY",
    "MAILBOT_SMTP_AUTH", "MAILBOT_SMTP_CA_FILE", "MAILBOT_SMTP_MAX_ATTEMPTS", "MAILBOT_SMTP_TIMEOUT",
    "MAILBOT_CA_FILE", "MAILBOT_OAUTH2_TOKEN_URL", "MAILBOT_OAUTH2_CLIENT_ID", "MAILBOT_OAUTH2_CLIENT_SECRET",
    "MAILBOT_OAUTH2_REFRESH_TOKEN", "MAILBOT_OAUTH2_SCOPE",
    "MAILBOT_CLUB_ADDRESS", "MAILBOT_CLUB_NAME", "MAILBOT_AIDEUR_ADDRESSES", "MAILBOT_SECRET_KEY", "MAILBOT_TIMEZONE",
    "MAILBOT_ANSWER_BUSINESS_DAYS", "MAILBOT_REFERENCE_PREFIX", "MAILBOT_BATCH_SIZE", "MAILBOT_BATCH_BYTES",
    "MAILBOT_POLL_SECONDS", "MAILBOT_RATE_LIMIT_PER_HOUR", "MAILBOT_MAX_FORWARD_BYTES", "MAILBOT_JOBS_SECONDS",
    "MAILBOT_APPEAL_MEMBERS", "MAILBOT_SYNONYMS_FILE", "MAILBOT_CONDITIONS_FILE", "MAILBOT_CONDITIONS_VERSION",
    "MAILBOT_DIGEST_DAY", "MAILBOT_DIGEST_HOUR", "MAILBOT_CONSENT_REMINDER_DAYS", "MAILBOT_CONSENT_EXPIRY_DAYS",
    "MAILBOT_AUTHSERV_ID", "MAILBOT_RETENTION_DAYS", "MAILBOT_DKIM_SELECTOR", "MAILBOT_DKIM_KEY_FILE",
    "MAILBOT_DKIM_DOMAIN", "MAILBOT_VERP", "MAILBOT_TEMPLATES_DIR", "MAILBOT_METRICS_ADDRESS",
    "MAILBOT_REOPEN_DAYS",
    "MAILBOT_RESULT_FORM_DAYS",
    "MAILBOT_CLUB_ALIASES",
    "MAILBOT_MASS_RECIPIENTS",
    "MAILBOT_DOC_MAX_BYTES",
    "MAILBOT_SUGGESTION_ADDRESS",
    "MAILBOT_WAITLIST_OFFER_HOURS",
})
# Names the test suite and the benches read (seeds, corpus, their own databases): not settings of the daemon, so a
# CI environment that exports them does not stop it. Built at run time so that no reader mistakes them for settings.
RESERVED_PREFIXES = tuple("MAILBOT_" + part + "_" for part in ("TEST", "BENCH", "FUZZ", "FAULT", "CRASH"))


class ConfigError(ValueError):
    """A setting is missing or wrong; `setting` names it for the operator."""

    def __init__(self, setting: str, problem: str) -> None:
        super().__init__(f"{setting}: {problem}")
        self.setting = setting


@dataclass(frozen=True)
class ServerSettings:
    host: str
    port: int
    user: str
    password: str = field(repr=False)
    security: str  # ssl | starttls | none
    auth: str = "password"  # password | xoauth2
    ca_file: Path | None = None  # a private CA to trust instead of the system's (MAILBOT_*_CA_FILE)
    oauth2: OAuth2Settings | None = None  # with auth == "xoauth2"
    dkim: DkimSettings | None = None  # SMTP only: sign what is sent (mailbot.dkim)

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context for ssl and starttls: certificate chain AND host name checked, always.

        Given explicitly to imaplib and aiosmtplib: imaplib's own default (IMAP4_SSL and starttls without a
        context) checks nothing at all."""
        if self.security == "none":
            return None
        context = ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
        assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
        return context


@dataclass(frozen=True)
class Settings:
    database_url: str
    imap: ServerSettings | None  # None: no mailbox configured (demo mode in `make run`)
    imap_folder: str
    processed_folder: str
    quarantine_folder: str
    smtp: ServerSettings | None
    club_address: str
    club_name: str
    aideur_addresses: tuple[str, ...]
    secret_keys: tuple[bytes, ...] = field(repr=False)  # the first signs; all verify (key rotation)
    timezone: ZoneInfo
    answer_business_days: int
    reference_prefix: str
    batch_size: int
    batch_bytes: int
    poll_seconds: int
    use_idle: bool
    rate_limit_per_hour: int
    smtp_max_attempts: int
    smtp_timeout: float
    max_forward_bytes: int
    jobs_seconds: int
    appeal_members: int = 5  # how many members an #appel reaches when Aideur does not say
    synonyms_file: Path | None = None  # the operator's own synonym groups for matching, beside the built-in ones
    conditions_file: Path = DEFAULT_CONDITIONS_FILE  # the club's conditions quoted in the invitation
    templates_dir: Path | None = None  # the operator's own mail templates: a file there wins over the packaged one
    conditions_version: str = DEFAULT_CONDITIONS_VERSION  # recorded with each member's acceptance
    digest_weekday: int = 0  # Monday = 0: the day Aideur's weekly digest goes out
    digest_hour: int = 8  # local hour of the digest
    consent_reminder_days: int = 3  # a consent question unanswered this long gets its one reminder
    consent_expiry_days: int = 7  # … and lapses this long after it was asked
    # The result form goes this long after a solution or a connection (time to try it), and again this long
    # after an answer "en cours".
    result_form_days: int = 7
    # A place freed in a full activity is offered to the first member waiting, who has this long to take it.
    waitlist_offer_hours: int = 48
    # The operator's own MTA's authserv-id: when set, Aideur's commands also need its Authentication-Results pass.
    authserv_id: str = ""
    retention_days: int = 365  # raw mail bodies older than this are purged (mailbot.retention); 0 = kept
    log_level: str = "INFO"  # MAILBOT_LOG_LEVEL, one of LOG_LEVELS
    dkim: DkimSettings | None = None  # also on `smtp`, where the sender finds it
    # Each mail's own envelope sender (aide+b…@club), which authenticates its delivery reports. Off only for an
    # SMTP provider that refuses a plus address as envelope sender: then no report can mark an address.
    verp: bool = True
    # Where the daemon serves Prometheus metrics and /healthz (mailbot.metrics); None: not served.
    metrics_address: tuple[str, int] | None = None
    # A member's reply to a closed request within this many days of its closing reopens it; later, it starts a
    # new request linked to the old one.
    reopen_days: int = 30
    # Other addresses whose mail lands in the club's mailbox (a public contact address forwarded to it): a mail
    # written to one of them is written to the club, never taken for a copy (parsers.recipients).
    club_aliases: tuple[str, ...] = ()
    # A mail addressed to this many people or more (To + Cc, the club's addresses left out) is a mass mail: recorded
    # and listed for Aideur, never a ticket (issue 13, point 7). 0 turns the rule off.
    mass_recipients: int = 10
    # The documentation (issue 17): the most a member's mail may carry of documents, one or several (a larger
    # document is not sent: the member is told and Aideur too). Also the largest file `docs add` accepts.
    doc_max_bytes: int = 5 * 1024 * 1024
    # A plus address of the club's (aide+suggestion@…) given in the welcome mail: what reaches it is a suggestion.
    suggestion_address: str = ""
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def club_domain(self) -> str:
        return self.club_address.rsplit("@", 1)[1]

    def is_aideur(self, address: str) -> bool:
        return address.lower() in self.aideur_addresses

    @property
    def club_addresses(self) -> tuple[str, ...]:
        """The club's address and its aliases: whoever writes to one of them writes to the club
        (parsers.recipients.is_club_address). Unless the club's address is at a public mail provider, any address
        of its domain is the club too ("@domain": a contact@ forwarded to the mailbox is not a blind copy), except
        Aideur's addresses ("!address"), which are a person's."""
        addresses: tuple[str, ...] = (self.club_address, *self.club_aliases)
        domain = self.club_address.rpartition("@")[2].lower()
        if domain and domain not in PUBLIC_MAIL_DOMAINS:
            addresses += (f"@{domain}", *(f"!{a}" for a in self.aideur_addresses))
        return addresses


def load_settings(env: Mapping[str, str] | None = None, env_file: str | Path | None = DEFAULT_ENV_FILE, *,
                  env_file_required: bool = False) -> Settings:
    """Read settings from `env` (default: os.environ over the .env file) and check each one.

    `env_file` is read when it exists; with `env_file_required` (the operator named it: `--env-file`) a missing one
    is an error. Raises ConfigError naming the setting (or the file and line) that is wrong, including a MAILBOT_*
    name that is no setting (a misspelling), with the closest known name."""
    from_file: dict[str, str] = {}
    if env is None:
        if env_file is not None:
            from_file = read_env_file(Path(env_file), required=env_file_required)
        env = from_file | dict(os.environ)
    reader = _Reader(env)
    try:
        settings = _read(reader)
    except ConfigError:
        # A misspelt name is the likelier cause of a missing or wrong setting: say that first.
        check_names(env, from_file, also_known=reader.asked)
        raise
    check_names(env, from_file, also_known=reader.asked)
    return settings


def _read(reader: _Reader) -> Settings:
    club_address = reader.address("MAILBOT_CLUB_ADDRESS", required=True)
    oauth2 = reader.oauth2()
    dkim = reader.dkim(club_address)
    imap = reader.server("IMAP", default_port={"ssl": 993, "starttls": 143, "none": 143}, oauth2=oauth2)
    smtp = reader.server("SMTP", default_port={"ssl": 465, "starttls": 587, "none": 25}, oauth2=oauth2, dkim=dkim)
    if oauth2 is not None and not any(server and server.auth == "xoauth2" for server in (imap, smtp)):
        raise ConfigError("MAILBOT_OAUTH2_TOKEN_URL", "is set, but neither MAILBOT_IMAP_AUTH nor MAILBOT_SMTP_AUTH "
                                                      "is xoauth2")
    aideurs = reader.address_list("MAILBOT_AIDEUR_ADDRESSES")
    if club_address in aideurs:
        raise ConfigError("MAILBOT_AIDEUR_ADDRESSES", "must not contain the club address itself")
    return Settings(
        database_url=reader.text("MAILBOT_DATABASE_URL", "sqlite:///mailbot.db"),
        imap=imap,
        imap_folder=reader.text("MAILBOT_IMAP_FOLDER", "INBOX"),
        processed_folder=reader.text("MAILBOT_PROCESSED_FOLDER", "mailbot-traites"),
        quarantine_folder=reader.text("MAILBOT_QUARANTINE_FOLDER", "mailbot-quarantaine"),
        smtp=smtp,
        club_address=club_address,
        club_name=reader.text("MAILBOT_CLUB_NAME", "Club Aide"),
        aideur_addresses=aideurs,
        secret_keys=reader.secret_keys("MAILBOT_SECRET_KEY"),
        timezone=reader.timezone("MAILBOT_TIMEZONE", "Europe/Paris"),
        answer_business_days=reader.integer("MAILBOT_ANSWER_BUSINESS_DAYS", 2, minimum=0, maximum=60),
        reference_prefix=reader.text("MAILBOT_REFERENCE_PREFIX", "CA"),
        reopen_days=reader.integer("MAILBOT_REOPEN_DAYS", 30, minimum=0, maximum=3650),
        club_aliases=reader.optional_address_list("MAILBOT_CLUB_ALIASES"),
        batch_size=reader.integer("MAILBOT_BATCH_SIZE", 50, minimum=1, maximum=1000),
        batch_bytes=reader.integer("MAILBOT_BATCH_BYTES", 5_000_000, minimum=100_000),
        poll_seconds=reader.integer("MAILBOT_POLL_SECONDS", 60, minimum=1, maximum=3600),
        use_idle=reader.boolean("MAILBOT_IMAP_IDLE", True),
        rate_limit_per_hour=reader.integer("MAILBOT_RATE_LIMIT_PER_HOUR", 10, minimum=1),
        smtp_max_attempts=reader.integer("MAILBOT_SMTP_MAX_ATTEMPTS", 10, minimum=1, maximum=100),
        smtp_timeout=float(reader.integer("MAILBOT_SMTP_TIMEOUT", 30, minimum=1, maximum=600)),
        max_forward_bytes=reader.integer("MAILBOT_MAX_FORWARD_BYTES", 10_000_000, minimum=0),
        jobs_seconds=reader.integer("MAILBOT_JOBS_SECONDS", 300, minimum=5, maximum=86400),
        appeal_members=reader.integer("MAILBOT_APPEAL_MEMBERS", 5, minimum=1, maximum=100),
        synonyms_file=reader.readable_file("MAILBOT_SYNONYMS_FILE"),
        conditions_file=reader.readable_file("MAILBOT_CONDITIONS_FILE") or DEFAULT_CONDITIONS_FILE,
        templates_dir=reader.directory("MAILBOT_TEMPLATES_DIR"),
        conditions_version=_conditions_version(reader),
        digest_weekday=reader.weekday("MAILBOT_DIGEST_DAY", 0),
        digest_hour=reader.integer("MAILBOT_DIGEST_HOUR", 8, minimum=0, maximum=23),
        consent_reminder_days=reader.integer("MAILBOT_CONSENT_REMINDER_DAYS", 3, minimum=1, maximum=60),
        consent_expiry_days=_consent_expiry(reader),
        result_form_days=reader.integer("MAILBOT_RESULT_FORM_DAYS", 7, minimum=0, maximum=90),
        waitlist_offer_hours=reader.integer("MAILBOT_WAITLIST_OFFER_HOURS", 48, minimum=1, maximum=720),
        mass_recipients=reader.integer("MAILBOT_MASS_RECIPIENTS", 10, minimum=0, maximum=10000),
        doc_max_bytes=reader.integer("MAILBOT_DOC_MAX_BYTES", 5 * 1024 * 1024, minimum=1024,
                                     maximum=50 * 1024 * 1024),
        suggestion_address=reader.address("MAILBOT_SUGGESTION_ADDRESS", required=False),
        authserv_id=reader.authserv_id("MAILBOT_AUTHSERV_ID"),
        retention_days=reader.integer("MAILBOT_RETENTION_DAYS", 365, minimum=0, maximum=36500),
        log_level=log_level(reader.env),
        dkim=dkim,
        verp=reader.boolean("MAILBOT_VERP", True),
        metrics_address=reader.listen_address("MAILBOT_METRICS_ADDRESS"),
    )


def read_env_file(path: Path, *, required: bool) -> dict[str, str]:
    """The settings of a .env file; a line that cannot be read is an error (python-dotenv would skip it with a
    warning, and the setting on it would silently take its default)."""
    where = str(path)
    if not path.exists():
        if required:
            raise ConfigError("--env-file", f"no such file: {where}")
        return {}
    try:
        text = path.read_text(encoding="utf-8-sig")
    except IsADirectoryError:
        raise ConfigError("--env-file", f"{where} is a directory, not a settings file") from None
    except OSError as error:
        raise ConfigError("--env-file", f"cannot read {where}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise ConfigError("--env-file", f"{where} is not UTF-8 text") from None
    values: dict[str, str] = {}
    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            line = binding.original.string.strip().split("=", 1)[0][:40]
            raise ConfigError(f"{where}, line {binding.original.line}",
                              f"cannot be read ({line!r}…): write NAME=value, with quotes closed")
        if binding.key is not None and binding.value is not None:
            values[binding.key] = binding.value
    return values


def check_names(env: Mapping[str, str], from_file: Mapping[str, str],
                also_known: frozenset[str] | set[str] = frozenset()) -> None:
    """Refuse a name that looks like a setting but is none: any MAILBOT_* name (whatever its case) that mailbot
    does not read, and in the settings file any name close to a setting (IMAP_HOST, MAILBOT-SMTP-HOST). The
    message names the closest setting. Other names of the environment are not ours to judge."""
    known = KNOWN_SETTINGS | also_known
    for name in sorted(env):
        if name in known or name.startswith(RESERVED_PREFIXES):
            continue
        folded = name.upper().replace("-", "_").replace(" ", "_")
        if folded.startswith("MAILBOT"):
            guess = _closest(folded, known, cutoff=0.75)  # ours for sure: only the hint depends on closeness
        else:
            # Another program's name (TZ, LANG, PATH…) is left alone; one this close to a setting is a mistake:
            # anywhere in the settings file (IMAP_HOST), in the environment only when nearly the same (MAILBT_…).
            guess = _closest(folded, known, cutoff=0.85 if name in from_file else 0.9)
            if guess is None:
                continue
        where = " (in the settings file)" if name in from_file else " (in the environment)"
        hint = f": did you mean {guess}?" if guess else ": see the Settings section of README.md"
        raise ConfigError(name, f"is not a mailbot setting{where}{hint}")


def _closest(name: str, known: frozenset[str] | set[str], *, cutoff: float) -> str | None:
    candidates = [name] if name.startswith("MAILBOT") else [name, "MAILBOT_" + name]
    for candidate in candidates:
        matches = difflib.get_close_matches(candidate, sorted(known), n=1, cutoff=cutoff)
        if matches:
            return matches[0]
    return None


def log_level(env: Mapping[str, str]) -> str:
    """MAILBOT_LOG_LEVEL, upper case; an unknown level is a ConfigError (not a traceback from logging)."""
    given = (env.get("MAILBOT_LOG_LEVEL") or "").strip()
    value = {"WARN": "WARNING"}.get(given.upper(), given.upper()) or "INFO"
    if value not in LOG_LEVELS:
        raise ConfigError("MAILBOT_LOG_LEVEL", f"must be one of {', '.join(LOG_LEVELS)}, not {given!r}")
    return value


def is_loopback(host: str) -> bool:
    """This machine by name or address (127.0.0.0/8, ::1, localhost): never resolved, DNS can point anywhere."""
    name = host.strip().strip("[]").rstrip(".").lower()
    if name in ("localhost", "ip6-localhost", "ip6-loopback") or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def _consent_expiry(reader: _Reader) -> int:
    days = reader.integer("MAILBOT_CONSENT_EXPIRY_DAYS", 7, minimum=2, maximum=120)
    if days <= reader.integer("MAILBOT_CONSENT_REMINDER_DAYS", 3, minimum=1, maximum=60):
        raise ConfigError("MAILBOT_CONSENT_EXPIRY_DAYS", "must be longer than MAILBOT_CONSENT_REMINDER_DAYS "
                                                         "(the reminder comes before the expiry)")
    return days


def _conditions_version(reader: _Reader) -> str:
    version = reader.raw("MAILBOT_CONDITIONS_VERSION")
    if reader.raw("MAILBOT_CONDITIONS_FILE") and not version:
        # Each member's acceptance records the version: new conditions without a new name would blur the evidence.
        raise ConfigError("MAILBOT_CONDITIONS_VERSION", "is required when MAILBOT_CONDITIONS_FILE is set "
                                                        "(e.g. V5/2027)")
    if version and len(version) > 20:
        raise ConfigError("MAILBOT_CONDITIONS_VERSION", "must be at most 20 characters")
    return version or DEFAULT_CONDITIONS_VERSION


class _Reader:
    """Reads one setting at a time and raises ConfigError naming it."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.asked: set[str] = set()  # every name looked up: known, whoever added it

    def raw(self, name: str) -> str | None:
        self.asked.add(name)
        value = self.env.get(name)
        if value is None:
            return None
        value = value.strip()
        return value or None

    def text(self, name: str, default: str) -> str:
        return self.raw(name) or default

    def integer(self, name: str, default: int, *, minimum: int = 0, maximum: int | None = None) -> int:
        value = self.raw(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise ConfigError(name, f"must be a whole number, not {value!r}") from None
        if number < minimum or (maximum is not None and number > maximum):
            bounds = f"at least {minimum}" + (f" and at most {maximum}" if maximum is not None else "")
            raise ConfigError(name, f"must be {bounds}, not {number}")
        return number

    def listen_address(self, name: str) -> tuple[str, int] | None:
        """HOST:PORT to listen on (an IPv6 host in brackets: [::1]:9464); unset: None."""
        value = self.raw(name)
        if value is None:
            return None
        host, sep, port = value.rpartition(":")
        host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536 \
                or any(c.isspace() or c in "/[]" for c in host):
            raise ConfigError(name, f"must be HOST:PORT (e.g. 127.0.0.1:9464), not {value!r}")
        return host, int(port)

    def boolean(self, name: str, default: bool) -> bool:
        value = self.raw(name)
        if value is None:
            return default
        if value.lower() in ("1", "true", "yes", "oui", "on"):
            return True
        if value.lower() in ("0", "false", "no", "non", "off"):
            return False
        raise ConfigError(name, f"must be true or false, not {value!r}")

    def address(self, name: str, *, required: bool) -> str:
        value = self.raw(name)
        if value is None:
            if required:
                raise ConfigError(name, "is required (an e-mail address, e.g. aide@example.org)")
            return ""
        if not _ADDRESS.match(value):
            raise ConfigError(name, f"is not an e-mail address: {value!r}")
        return _one_spelling(value)

    def address_list(self, name: str) -> tuple[str, ...]:
        value = self.raw(name)
        if value is None:
            raise ConfigError(name, "is required (comma-separated e-mail addresses of Aideur)")
        addresses = tuple(part.strip().lower() for part in value.split(",") if part.strip())
        for address in addresses:
            if not _ADDRESS.match(address):
                raise ConfigError(name, f"is not an e-mail address: {address!r}")
        if not addresses:
            raise ConfigError(name, "names no address")
        return tuple(_one_spelling(address) for address in addresses)

    def optional_address_list(self, name: str) -> tuple[str, ...]:
        """Comma-separated addresses, none when unset."""
        value = self.raw(name)
        addresses = tuple(part.strip().lower() for part in (value or "").split(",") if part.strip())
        for address in addresses:
            if not _ADDRESS.match(address):
                raise ConfigError(name, f"is not an e-mail address: {address!r}")
        return tuple(_one_spelling(address) for address in addresses)

    def secret_keys(self, name: str) -> tuple[bytes, ...]:
        value = self.raw(name)
        if value is None:
            raise ConfigError(name, "is required: a long random string (e.g. `python3 -c 'import secrets; print(secrets.token_hex(32))'`)")
        keys = tuple(part.strip().encode() for part in value.split(",") if part.strip())
        for key in keys:
            if len(key) < 16:
                raise ConfigError(name, "is too short: use at least 16 random characters")
        return keys

    def weekday(self, name: str, default: int) -> int:
        value = self.raw(name)
        if value is None:
            return default
        folded = value.lower().strip()
        for number, names in enumerate(WEEKDAY_NAMES):
            if folded in names:
                return number
        raise ConfigError(name, f"must be a day of the week (lundi … dimanche, or monday … sunday), not {value!r}")

    def readable_file(self, name: str) -> Path | None:
        value = self.raw(name)
        if value is None:
            return None
        path = Path(value).expanduser()
        try:
            path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigError(name, f"cannot read {value!r} as UTF-8 text: {error}") from None
        return path

    def directory(self, name: str) -> Path | None:
        value = self.raw(name)
        if value is None:
            return None
        path = Path(value).expanduser()
        if not path.is_dir():
            raise ConfigError(name, f"{value!r} is not a directory")
        return path

    def timezone(self, name: str, default: str) -> ZoneInfo:
        value = self.text(name, default)
        try:
            return ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(name, f"is not a known time zone: {value!r}") from None

    def server(self, kind: str, *, default_port: dict[str, int], oauth2: OAuth2Settings | None = None,
               dkim: DkimSettings | None = None) -> ServerSettings | None:
        prefix = f"MAILBOT_{kind}_"
        host = self.raw(prefix + "HOST")
        if host is None:
            others = [prefix + s for s in ("USER", "PASSWORD", "PORT", "AUTH", "CA_FILE") if self.raw(prefix + s)]
            if others:
                raise ConfigError(prefix + "HOST", f"is required when {', '.join(others)} is set")
            return None
        security = (self.raw(prefix + "SECURITY") or "ssl").lower()
        if security not in SECURITY_MODES:
            raise ConfigError(prefix + "SECURITY", f"must be one of {', '.join(SECURITY_MODES)}, not {security!r}")
        port = self.integer(prefix + "PORT", default_port[security], minimum=1, maximum=65535)
        auth = (self.raw(prefix + "AUTH") or "password").lower()
        if auth not in AUTH_MODES:
            raise ConfigError(prefix + "AUTH", f"must be one of {', '.join(AUTH_MODES)}, not {auth!r}")
        user = self.raw(prefix + "USER") or ""
        password = self.raw(prefix + "PASSWORD") or ""
        if kind == "IMAP" and not user:
            raise ConfigError(prefix + "USER", "is required when MAILBOT_IMAP_HOST is set")
        if auth == "xoauth2":
            if not user:
                raise ConfigError(prefix + "USER", f"is required when {prefix}AUTH is xoauth2 (the mailbox address)")
            if oauth2 is None:
                raise ConfigError("MAILBOT_OAUTH2_TOKEN_URL", f"is required when {prefix}AUTH is xoauth2")
            if security == "none":
                raise ConfigError(prefix + "SECURITY", "must be ssl or starttls with xoauth2: an access token is as "
                                                       "good as a password and must not cross the network in clear")
        elif user and not password:
            raise ConfigError(prefix + "PASSWORD", f"is required when {prefix}USER is set")
        if security == "none" and password and not is_loopback(host) and not self.boolean("MAILBOT_ALLOW_CLEARTEXT",
                                                                                        False):
            raise ConfigError(prefix + "SECURITY", f"is none: the password would cross the network in clear to "
                                                   f"{host}; use ssl or starttls (or, on a network you trust, set "
                                                   "MAILBOT_ALLOW_CLEARTEXT=true)")
        ca_file = None
        if security != "none":
            ca_file = self.ca_file(prefix + "CA_FILE") or self.ca_file("MAILBOT_CA_FILE")
        return ServerSettings(host=host, port=port, user=user, password=password, security=security, auth=auth,
                              ca_file=ca_file, oauth2=oauth2 if auth == "xoauth2" else None,
                              dkim=dkim if kind == "SMTP" else None)

    def ca_file(self, name: str) -> Path | None:
        """A PEM bundle of CA certificates (a private CA): loaded now, so a wrong file stops the start."""
        value = self.raw(name)
        if value is None:
            return None
        path = Path(value).expanduser()
        try:
            ssl.create_default_context(cafile=str(path))
        except FileNotFoundError:
            raise ConfigError(name, f"no such file: {value!r}") from None
        except (OSError, ssl.SSLError) as error:
            raise ConfigError(name, f"{value!r} is not a PEM file of CA certificates ({error})") from None
        return path

    def oauth2(self) -> OAuth2Settings | None:
        url = self.raw("MAILBOT_OAUTH2_TOKEN_URL")
        names = ("MAILBOT_OAUTH2_CLIENT_ID", "MAILBOT_OAUTH2_CLIENT_SECRET", "MAILBOT_OAUTH2_REFRESH_TOKEN",
                 "MAILBOT_OAUTH2_SCOPE")
        if url is None:
            others = [name for name in names if self.raw(name)]
            if others:
                raise ConfigError("MAILBOT_OAUTH2_TOKEN_URL", f"is required when {', '.join(others)} is set")
            return None
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ConfigError("MAILBOT_OAUTH2_TOKEN_URL", f"is not an http(s) URL: {url!r}")
        if parts.scheme == "http" and not is_loopback(parts.hostname):
            raise ConfigError("MAILBOT_OAUTH2_TOKEN_URL", "must be https:// (the refresh token is a secret); plain "
                                                          "http is accepted only on this machine (localhost)")
        client_id = self.raw("MAILBOT_OAUTH2_CLIENT_ID")
        if client_id is None:
            raise ConfigError("MAILBOT_OAUTH2_CLIENT_ID", "is required when MAILBOT_OAUTH2_TOKEN_URL is set")
        refresh_token = self.raw("MAILBOT_OAUTH2_REFRESH_TOKEN")
        if refresh_token is None:
            raise ConfigError("MAILBOT_OAUTH2_REFRESH_TOKEN", "is required when MAILBOT_OAUTH2_TOKEN_URL is set "
                                                              "(obtained once with the provider's consent screen)")
        return OAuth2Settings(token_url=url, client_id=client_id,
                              client_secret=self.raw("MAILBOT_OAUTH2_CLIENT_SECRET") or "",
                              refresh_token=refresh_token, scope=self.raw("MAILBOT_OAUTH2_SCOPE") or "")

    def dkim(self, club_address: str) -> DkimSettings | None:
        selector = self.raw("MAILBOT_DKIM_SELECTOR")
        key_file = self.raw("MAILBOT_DKIM_KEY_FILE")
        domain = self.raw("MAILBOT_DKIM_DOMAIN")
        if selector is None and key_file is None:
            if domain:
                raise ConfigError("MAILBOT_DKIM_SELECTOR", "is required when MAILBOT_DKIM_DOMAIN is set")
            return None
        if selector is None:
            raise ConfigError("MAILBOT_DKIM_SELECTOR", "is required when MAILBOT_DKIM_KEY_FILE is set "
                                                       "(the name before ._domainkey in DNS, e.g. mailbot2026)")
        if key_file is None:
            raise ConfigError("MAILBOT_DKIM_KEY_FILE", "is required when MAILBOT_DKIM_SELECTOR is set")
        if not re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*",
                            selector):
            raise ConfigError("MAILBOT_DKIM_SELECTOR", f"is not a DNS label: {selector!r}")
        club_domain = club_address.rsplit("@", 1)[1]
        domain = (domain or club_domain).lower()
        if club_domain != domain and not club_domain.endswith("." + domain):
            # DMARC alignment: the signing domain must be the From: domain or a parent of it.
            raise ConfigError("MAILBOT_DKIM_DOMAIN", f"must be {club_domain} (the club address's domain) or a parent "
                                                     f"of it, not {domain!r}")
        try:
            return make_dkim_settings(selector, domain, Path(key_file).expanduser())
        except DkimKeyError as error:
            raise ConfigError("MAILBOT_DKIM_KEY_FILE", str(error)) from None

    def authserv_id(self, name: str) -> str:
        value = self.raw(name)
        if value is None:
            return ""
        if not re.fullmatch(r"[A-Za-z0-9._-]+", value):
            raise ConfigError(name, f"must be the authserv-id your mail server writes at the start of its "
                                    f"Authentication-Results headers (e.g. mx.example.org), not {value!r}")
        return value.lower()
