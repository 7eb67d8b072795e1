"""Authentication-Results (RFC 8601): whether the operator's own MTA vouched for a mail's From: domain.

A pure function of the raw header block (no settings, no database): the router asks it before Aideur's commands
are obeyed when MAILBOT_AUTHSERV_ID is set.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32

# --- Authentication-Results (RFC 8601) --------------------------------------------------------------------------
#
# The operator's MTA (its authserv-id in MAILBOT_AUTHSERV_ID) checks SPF, DKIM and DMARC on arrival and writes the
# result at the top of the mail. Only its own header counts: the topmost one bearing its authserv-id (any header
# below it, or with another authserv-id, may have been written by the sender). The MTA should also remove incoming
# headers that claim its authserv-id (RFC 8601 section 5); Postfix with OpenDMARC/OpenDKIM, rspamd and Exim do.


@dataclass(frozen=True)
class AuthResult:
    method: str  # dmarc, dkim, spf, …
    result: str  # pass, fail, none, …
    properties: dict[str, str]  # "header.from" -> "club.fr", "smtp.mailfrom" -> "x@club.fr", …


@dataclass(frozen=True)
class Verdict:
    passed: bool
    reason: str


def authenticated_sender(raw: bytes, from_address: str, authserv_id: str) -> Verdict:
    """Whether the operator's MTA says `from_address`'s domain really sent this mail: dmarc=pass, or dkim=pass
    with d= aligned to the From: domain, or spf=pass with the envelope sender aligned to it."""
    domain = from_address.rsplit("@", 1)[-1].lower() if "@" in from_address else ""
    results = None
    for value in _authentication_results_headers(raw):
        parsed = parse_authentication_results(value)
        if parsed is not None and parsed[0] == authserv_id.lower():
            results = parsed[1]
            break
    if results is None:
        return Verdict(False, "pas d'en-tête Authentication-Results de ce serveur")
    if not domain:
        return Verdict(False, "adresse d'expéditeur illisible")
    for result in results:
        if result.result != "pass":
            continue
        if result.method == "dmarc":
            # The domain DMARC passed for must be named (RFC 7489 11.2): a bare "dmarc=pass" proves nothing about
            # this From:.
            header_from = result.properties.get("header.from", "").lower()
            if header_from == domain:
                return Verdict(True, "dmarc=pass")
        elif result.method == "dkim":
            signer = result.properties.get("header.d") or result.properties.get("header.i", "").rsplit("@", 1)[-1]
            if signer and _aligned(signer, domain):
                return Verdict(True, f"dkim=pass d={signer}")
        elif result.method == "spf":
            envelope = result.properties.get("smtp.mailfrom", "").rsplit("@", 1)[-1]
            if envelope and _aligned(envelope, domain):
                return Verdict(True, f"spf=pass {envelope}")
    said = ", ".join(f"{r.method}={r.result}" for r in results) or "aucun résultat"
    return Verdict(False, f"{said} pour {domain}")


def _aligned(other: str, domain: str) -> bool:
    """Relaxed alignment (RFC 7489 3.1), without the public-suffix list: the same domain, or one a subdomain of the
    other, sharing at least the registrable part (two labels)."""
    other, domain = other.lower().strip("."), domain.lower().strip(".")
    if other == domain:
        return True
    shorter, longer = sorted((other, domain), key=len)
    return shorter.count(".") >= 1 and longer.endswith("." + shorter)


def _authentication_results_headers(raw: bytes) -> list[str]:
    """The Authentication-Results values, topmost first, unfolded. Only the header block is read."""
    end = raw.find(b"\r\n\r\n")
    end = raw.find(b"\n\n") if end < 0 else end
    head = raw if end < 0 else raw[:end + 2]
    message = BytesHeaderParser(policy=compat32).parsebytes(head)
    return [" ".join(str(value).split()) for value in message.get_all("Authentication-Results") or []]


_TOKEN = re.compile(r'\s*(?:"((?:[^"\\]|\\.)*)"|([^\s=;"]+))')
_PAIR = re.compile(r'([A-Za-z0-9_.-]+(?:/\d+)?)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s;"]+))')


def parse_authentication_results(value: str) -> tuple[str, list[AuthResult]] | None:
    """(authserv-id lower-cased, results) of one header value (RFC 8601 section 2.2), or None if unreadable.

    Comments in parentheses are dropped first (they may hold anything, even "dmarc=pass"), then the value is split
    at the semicolons outside quoted strings: the first piece is the authserv-id (and an optional version), each
    other piece a "method=result" followed by "reason=…" and "ptype.property=value" pairs."""
    pieces = _split_semicolons(_strip_comments(value))
    if pieces is None or not pieces:
        return None
    first = _TOKEN.match(pieces[0])
    if first is None:
        return None
    authserv_id = (first.group(1) if first.group(1) is not None else first.group(2) or "").lower()
    if not authserv_id:
        return None
    results: list[AuthResult] = []
    for piece in pieces[1:]:
        pairs = [(m.group(1).lower(), m.group(2) if m.group(2) is not None else m.group(3))
                 for m in _PAIR.finditer(piece)]
        if not pairs:
            continue  # "none": no result
        method, result = pairs[0]
        if "." in method:
            continue  # a property before any method: not a resinfo
        properties = {key: val for key, val in pairs[1:] if key != "reason"}
        results.append(AuthResult(method.split("/", 1)[0], result.lower(), properties))
    return authserv_id, results


def _strip_comments(value: str) -> str:
    out: list[str] = []
    depth = 0
    quoted = False
    escaped = False
    for char in value:
        if escaped:
            escaped = False
            if depth == 0:
                out.append(char)
            continue
        if char == "\\":
            escaped = True
            if depth == 0:
                out.append(char)
            continue
        if quoted:
            out.append(char)
            if char == '"':
                quoted = False
            continue
        if char == "(":
            depth += 1
            continue
        if char == ")" and depth:
            depth -= 1
            out.append(" ")
            continue
        if depth == 0:
            if char == '"':
                quoted = True
            out.append(char)
    return "".join(out)


def _split_semicolons(value: str) -> list[str] | None:
    pieces: list[str] = []
    current: list[str] = []
    quoted = False
    escaped = False
    for char in value:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == ";" and not quoted:
            pieces.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    if quoted:
        return None
    pieces.append("".join(current).strip())
    return pieces
