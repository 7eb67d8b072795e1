"""OAuth2 for mailbox providers that refuse passwords (Gmail, Microsoft 365…): the XOAUTH2 SASL mechanism.

The operator registers mailbot as an OAuth2 client at the provider once, obtains a refresh token for the club
mailbox, and puts both in the settings (MAILBOT_OAUTH2_*). mailbot then asks the provider's token endpoint for a
short-lived access token with the refresh-token grant (RFC 6749 section 6), keeps it in memory until shortly before
it expires, and logs in with it over IMAP (`AUTHENTICATE XOAUTH2`) and SMTP (`AUTH XOAUTH2`).

Standard library only (urllib): one POST, one JSON answer. One cache per process, shared by IMAP, SMTP and the
scheduler's thread. A provider that rotates refresh tokens sends a new one with the access token: it is kept in
memory for the next refresh (the .env file is never rewritten; the original keeps working at the providers that
rotate, until it is revoked).
"""
from __future__ import annotations

import base64
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field

EXPIRY_MARGIN_SECONDS = 60  # refresh this long before the provider's expiry: a login never races the clock
DEFAULT_LIFETIME_SECONDS = 3600  # when the provider does not say (expires_in is only RECOMMENDED)
REQUEST_TIMEOUT_SECONDS = 20


@dataclass(frozen=True)
class OAuth2Settings:
    token_url: str
    client_id: str
    client_secret: str = field(repr=False)
    refresh_token: str = field(repr=False)
    scope: str = ""  # most providers need none with a refresh token; Microsoft wants the scopes again


class OAuthError(RuntimeError):
    """The token endpoint could not be reached or refused the refresh token; the message says which, plainly."""

    def __init__(self, message: str, *, refused: bool) -> None:
        super().__init__(message)
        self.refused = refused  # True: the provider answered no (fix the settings); False: unreachable (retry)


@dataclass
class _Cached:
    access_token: str
    expires_at: float  # time.monotonic()
    refresh_token: str


class TokenCache:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[tuple[str, str], _Cached] = {}
        self.refreshes = 0  # how many times the endpoint was asked (tests, logs)

    def access_token(self, settings: OAuth2Settings) -> str:
        """A valid access token: the cached one, or a fresh one from the token endpoint."""
        key = (settings.token_url, settings.client_id)
        with self._lock:  # one refresh at a time: two threads needing a token at once make one request
            cached = self._tokens.get(key)
            if cached is not None and self._clock() < cached.expires_at:
                return cached.access_token
            refresh_token = cached.refresh_token if cached is not None else settings.refresh_token
            token, lifetime, new_refresh = request_token(settings, refresh_token)
            self.refreshes += 1
            self._tokens[key] = _Cached(token, self._clock() + max(lifetime - EXPIRY_MARGIN_SECONDS, 0),
                                        new_refresh or refresh_token)
            return token

    def invalidate(self, settings: OAuth2Settings) -> None:
        """The server refused the access token (revoked early): the next login asks for a new one."""
        with self._lock:
            cached = self._tokens.get((settings.token_url, settings.client_id))
            if cached is not None:
                cached.expires_at = 0.0


TOKENS = TokenCache()


def access_token(settings: OAuth2Settings) -> str:
    return TOKENS.access_token(settings)


def request_token(settings: OAuth2Settings, refresh_token: str) -> tuple[str, int, str]:
    """(access token, lifetime in seconds, new refresh token or "") from the refresh-token grant."""
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": settings.client_id}
    if settings.client_secret:
        form["client_secret"] = settings.client_secret
    if settings.scope:
        form["scope"] = settings.scope
    request = urllib.request.Request(
        settings.token_url, data=urllib.parse.urlencode(form).encode("ascii"), method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"})
    host = urllib.parse.urlsplit(settings.token_url).netloc
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_SECONDS) as response:
            answer = _json(response.read())
    except urllib.error.HTTPError as error:
        # RFC 6749 5.2: 400/401 with {"error": "invalid_grant", "error_description": …}
        detail = _json(error.read())
        what = detail.get("error") or f"HTTP {error.code}"
        description = detail.get("error_description")
        raise OAuthError(f"le serveur OAuth2 {host} a refusé le jeton de rafraîchissement ({what}"
                         f"{': ' + str(description) if description else ''}) : vérifiez MAILBOT_OAUTH2_CLIENT_ID, "
                         f"MAILBOT_OAUTH2_CLIENT_SECRET et MAILBOT_OAUTH2_REFRESH_TOKEN",
                         refused=error.code in (400, 401, 403)) from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise OAuthError(f"le serveur OAuth2 {host} est injoignable ({reason})", refused=False) from None
    token = answer.get("access_token")
    if not isinstance(token, str) or not token:
        raise OAuthError(f"le serveur OAuth2 {host} n'a pas donné de jeton d'accès "
                         f"({answer.get('error') or 'réponse sans access_token'})", refused=True)
    try:
        expires = answer.get("expires_in", DEFAULT_LIFETIME_SECONDS)
        lifetime = int(expires) if isinstance(expires, int | float | str) else DEFAULT_LIFETIME_SECONDS
    except (TypeError, ValueError):
        lifetime = DEFAULT_LIFETIME_SECONDS
    new_refresh = answer.get("refresh_token")
    return token, lifetime, new_refresh if isinstance(new_refresh, str) else ""


def _json(data: bytes) -> dict[str, object]:
    try:
        value = json.loads(data.decode("utf-8", "replace"))
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def xoauth2_string(user: str, token: str) -> str:
    """The XOAUTH2 initial response, before base64 (Google's and Microsoft's documented format)."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01"


def xoauth2_base64(user: str, token: str) -> str:
    return base64.b64encode(xoauth2_string(user, token).encode()).decode("ascii")


def describe_xoauth2_refusal(challenge: str) -> str:
    """The server's XOAUTH2 error challenge (base64 JSON such as {"status":"401",…}) in a few plain words."""
    try:
        detail = json.loads(base64.b64decode(challenge.strip() + "=" * (-len(challenge.strip()) % 4)))
    except (ValueError, TypeError):
        return challenge.strip()[:200]
    if isinstance(detail, dict):
        return ", ".join(f"{key}={value}" for key, value in detail.items() if key in ("status", "schemes", "scope"))
    return str(detail)[:200]
