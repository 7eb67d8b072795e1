"""Optional DKIM signing of the mail mailbot sends (dkimpy), with the operator's key.

The key is read and checked once, at start (MAILBOT_DKIM_KEY_FILE: a PEM RSA key, PKCS#1 or PKCS#8, at least
1024 bits, or a PEM Ed25519 key; dkimpy's own one-line base64 Ed25519 format is accepted too). A key that cannot be
read stops the start, naming the setting, like every other bad setting.

Signing happens in the sender, on the bytes it is about to hand to SMTP, not when the mail is stored in the outbox:
the outbox keeps what mailbot composed, so a key rotated (or DKIM switched on) while mail waits for a retry applies
to that retry, and a signature never carries a timestamp older than the moment the mail really left.

Signed header fields: those that say who wrote to whom, about what, when, in which thread, and how to read the
body (From, To, Subject, Date, Message-ID, Reply-To, In-Reply-To, References, Auto-Submitted, the MIME fields).
From, To, Subject, Reply-To, Date and Message-ID are listed once more than they appear ("oversigned"), so that a
relay or an attacker cannot add a second one without breaking the signature. Relaxed canonicalisation for both
header and body: relays that re-fold headers or trim trailing spaces do not break it.

Verification (`verify_aligned`) is for mail that claims to come from Aideur when the operator's own server vouches
for nothing (MAILBOT_AUTHSERV_ID unset): a valid signature whose d= aligns with the From: domain proves the domain
sent it. The DNS lookup of the public key is a parameter (`dns=`, default `lookup_txt`), so tests answer it with a
stub, as a receiver's resolver would.
"""
from __future__ import annotations

import base64
import binascii
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

RSA_MIN_BITS = 1024  # verifiers refuse shorter keys (RFC 8301)
SIGNED_HEADERS = ("From", "To", "Subject", "Date", "Message-ID", "Reply-To", "In-Reply-To", "References",
                  "Auto-Submitted", "MIME-Version", "Content-Type", "Content-Transfer-Encoding")
OVERSIGNED = ("From", "To", "Subject", "Reply-To", "Date", "Message-ID")
RSA = "rsa-sha256"
ED25519 = "ed25519-sha256"

_PEM = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----\s*(.*?)\s*-----END \1-----", re.DOTALL)
# PKCS#8 PrivateKeyInfo of an Ed25519 key (RFC 8410): this fixed prefix, then the 32-byte seed.
_ED25519_PKCS8_PREFIX = bytes.fromhex("302e020100300506032b657004220420")


@dataclass(frozen=True)
class DkimSettings:
    selector: str
    domain: str
    key_file: Path
    algorithm: str  # rsa-sha256 | ed25519-sha256
    private_key: bytes = field(repr=False)  # as dkimpy takes it: PEM for RSA, base64 of the seed for Ed25519
    key_bits: int = 0  # RSA modulus size, 0 for Ed25519

    @property
    def dns_name(self) -> str:
        return f"{self.selector}._domainkey.{self.domain}"


class DkimKeyError(ValueError):
    """The key file cannot be used; the message says why, plainly."""


def load_key(path: Path) -> tuple[str, bytes, int]:
    """(algorithm, key as dkimpy takes it, RSA bits) from a key file, or DkimKeyError."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise DkimKeyError(f"cannot read {str(path)!r}: {error.strerror or error}") from None
    data = data.replace(b"\r\n", b"\n").strip()
    match = _PEM.search(data)
    if match is None:
        return ED25519, _raw_ed25519(data, path), 0
    label, body = match.group(1).decode(), match.group(2)
    if "ENCRYPTED" in label or b"Proc-Type: 4,ENCRYPTED" in body:
        raise DkimKeyError(f"{str(path)!r} is protected by a passphrase: mailbot needs it without one "
                           "(`openssl pkey -in KEY -out KEY.plain`), readable only by mailbot's user")
    if label not in ("RSA PRIVATE KEY", "PRIVATE KEY"):
        raise DkimKeyError(f"{str(path)!r} holds a {label}, not a private key")
    try:
        der = base64.b64decode(b"".join(body.split()), validate=True)
    except (binascii.Error, ValueError):
        raise DkimKeyError(f"{str(path)!r} is not valid PEM (broken base64)") from None
    if label == "PRIVATE KEY" and der.startswith(_ED25519_PKCS8_PREFIX) and len(der) == len(_ED25519_PKCS8_PREFIX) + 32:
        return ED25519, base64.b64encode(der[len(_ED25519_PKCS8_PREFIX):]), 0
    from dkim.crypto import UnparsableKeyError, parse_private_key

    try:
        key = parse_private_key(der)
    except (UnparsableKeyError, Exception):  # noqa: BLE001 - dkimpy's ASN.1 parser raises several kinds
        raise DkimKeyError(f"{str(path)!r} is neither an RSA nor an Ed25519 private key, or it is damaged "
                           "(copied only in part?)") from None
    bits = int(key["modulus"]).bit_length()
    if bits < RSA_MIN_BITS:
        raise DkimKeyError(f"{str(path)!r} is a {bits}-bit RSA key: receivers refuse less than {RSA_MIN_BITS} "
                           "bits (use 2048)")
    pem = b"-----BEGIN RSA PRIVATE KEY-----\n" + base64.encodebytes(_rsa_pkcs1(der)) + b"-----END RSA PRIVATE KEY-----\n"
    return RSA, pem, bits


def _raw_ed25519(data: bytes, path: Path) -> bytes:
    """dkimpy's `dknewkey --ktype ed25519` format: the 32-byte seed in base64 on one line."""
    try:
        seed = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        seed = b""
    if len(seed) != 32:
        raise DkimKeyError(f"{str(path)!r} is not a PEM private key (-----BEGIN … PRIVATE KEY-----)")
    return base64.b64encode(seed)


def _rsa_pkcs1(der: bytes) -> bytes:
    """The PKCS#1 RSAPrivateKey inside `der` (itself, or unwrapped from PKCS#8): dkimpy reads both, but its PEM
    reader wants the body between lines of exactly "--\\n", so the key is rewritten in the plainest form."""
    from dkim.asn1 import ASN1FormatError
    from dkim.crypto import ASN1_PKCS8_PrivateKey, ASN1_RSAPrivateKey, asn1_parse

    try:
        asn1_parse(ASN1_RSAPrivateKey, der)
        return der
    except ASN1FormatError:
        return asn1_parse(ASN1_PKCS8_PrivateKey, der)[0][2]


def make_settings(selector: str, domain: str, key_file: Path) -> DkimSettings:
    algorithm, key, bits = load_key(key_file)
    settings = DkimSettings(selector=selector, domain=domain.lower(), key_file=key_file, algorithm=algorithm,
                            private_key=key, key_bits=bits)
    # A key dkimpy cannot sign with must stop the start, not the first mail: sign a probe now.
    try:
        sign(b"From: a@" + domain.encode() + b"\r\nSubject: probe\r\n\r\nprobe\r\n", settings)
    except Exception as error:  # noqa: BLE001 - any failure here means the key is unusable
        raise DkimKeyError(f"{str(key_file)!r} cannot sign: {type(error).__name__}: {error}") from None
    return settings


def header_list(message: bytes) -> list[bytes]:
    """The h= list: each signed field as many times as it appears, the important ones once more."""
    head = message.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    present: dict[bytes, int] = {}
    for line in head.splitlines():
        if line[:1] in (b" ", b"\t") or b":" not in line:
            continue
        name = line.split(b":", 1)[0].strip().lower()
        present[name] = present.get(name, 0) + 1
    names: list[bytes] = []
    for header in SIGNED_HEADERS:
        name = header.lower().encode()
        count = present.get(name, 0) + (1 if header in OVERSIGNED else 0)
        names.extend([name] * max(count, 1))
    return names


def sign(message: bytes, settings: DkimSettings) -> bytes:
    """The message with its DKIM-Signature field first."""
    import dkim as dkimpy

    signature = dkimpy.sign(message, settings.selector.encode(), settings.domain.encode(), settings.private_key,
                            canonicalize=(b"relaxed", b"relaxed"), signature_algorithm=settings.algorithm.encode(),
                            include_headers=header_list(message), linesep=b"\r\n")
    return signature + message


def dns_record(settings: DkimSettings) -> str:
    """The TXT record to publish at `settings.dns_name`."""
    if settings.algorithm == ED25519:
        import nacl.signing

        public = bytes(nacl.signing.SigningKey(base64.b64decode(settings.private_key)).verify_key)
        return f"v=DKIM1; k=ed25519; p={base64.b64encode(public).decode()}"
    from dkim.crypto import parse_pem_private_key

    key = parse_pem_private_key(settings.private_key)
    rsa_public = _der(0x30, _der_int(key["modulus"]) + _der_int(key["publicExponent"]))
    algorithm = _der(0x30, bytes.fromhex("06092a864886f70d010101") + b"\x05\x00")  # rsaEncryption, NULL
    spki = _der(0x30, algorithm + _der(0x03, b"\x00" + rsa_public))
    return f"v=DKIM1; k=rsa; p={base64.b64encode(spki).decode()}"


def _der(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes([tag, size]) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + content


def _der_int(value: int) -> bytes:
    raw = value.to_bytes(value.bit_length() // 8 + 1, "big")  # one spare byte keeps the sign bit clear
    while len(raw) > 1 and raw[0] == 0 and raw[1] < 0x80:
        raw = raw[1:]
    return _der(0x02, raw)


# --- verification of incoming mail -------------------------------------------------------------------------------

DnsLookup = Callable[..., "bytes | None"]  # (name: bytes, timeout: int = 5) -> the TXT record, None if absent
PASS, FAIL, NONE, TEMPERROR = "pass", "fail", "none", "temperror"
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DkimCheck:
    status: str  # pass: an aligned signature verifies; fail: aligned ones exist, none verifies; none: no aligned
    # signature at all; temperror: the key could not be fetched (DNS down), nothing can be said
    detail: str  # for Aideur's alert and the debug log: which domain, what went wrong


def lookup_txt(name: bytes, timeout: int = 5) -> bytes | None:
    """The real DNS lookup (dkimpy's, through dnspython)."""
    from dkim.dnsplug import get_txt

    return get_txt(name, timeout=timeout)


def aligned(other: str, domain: str) -> bool:
    """Relaxed alignment (RFC 7489 3.1), without the public-suffix list: the same domain, or one a subdomain of the
    other, sharing at least the registrable part (two labels)."""
    other, domain = other.lower().strip("."), domain.lower().strip(".")
    if other == domain:
        return True
    shorter, longer = sorted((other, domain), key=len)
    return shorter.count(".") >= 1 and longer.endswith("." + shorter)


def verify_aligned(raw: bytes, from_domain: str, *, dns: DnsLookup | None = None) -> DkimCheck:
    """Whether `raw` carries a valid DKIM signature of a domain aligned with `from_domain`.

    Every signature is looked at (a mailing service may add its own, unaligned, above the author's); only aligned
    ones count, and one valid is enough. A signature that does not verify (body or signed headers changed, key
    revoked, a forged d=) is a failure, not an absence: an attacker cannot make a signing domain look unsigned by
    adding a broken signature, and gains nothing by it either."""
    import dkim as dkimpy

    lookup = dns or lookup_txt
    dns_errors: list[str] = []

    def guarded(name: bytes, timeout: int = 5) -> bytes | None:
        try:
            return lookup(name, timeout=timeout)
        except dkimpy.DnsTimeoutError as error:
            dns_errors.append(str(error))
            raise
        except Exception as error:  # noqa: BLE001 - any resolver failure means "cannot tell", never "valid"
            dns_errors.append(f"{type(error).__name__}: {error}")
            return None

    domain = from_domain.lower().strip(".")
    if not domain:
        return DkimCheck(NONE, "adresse d'expéditeur illisible")
    verifier = dkimpy.DKIM(raw, logger=_log, timeout=5)
    signatures = sum(1 for name, _value in verifier.headers if name.lower() == b"dkim-signature")
    failures: list[str] = []
    for index in range(signatures):
        try:
            prepared = verifier.verify_headerprep(index)
        except dkimpy.DKIMException:
            continue  # unreadable: says nothing about any domain
        if not prepared:
            continue
        signer = prepared[0].get(b"d", b"").decode("ascii", "replace")
        if not aligned(signer, domain):
            continue
        dns_errors.clear()
        try:
            valid = verifier.verify(idx=index, dnsfunc=guarded)
        except dkimpy.DKIMException as error:
            valid = False
            failures.append(f"d={signer} : {error}")
        if valid:
            return DkimCheck(PASS, f"dkim=pass d={signer}")
        if dns_errors:
            return DkimCheck(TEMPERROR, f"clé DKIM de {signer} introuvable pour l'instant (DNS : {dns_errors[0]})")
        if not failures or not failures[-1].startswith(f"d={signer} "):
            failures.append(f"d={signer} : signature invalide")
    if failures:
        return DkimCheck(FAIL, "dkim=fail " + " ; ".join(failures))
    return DkimCheck(NONE, f"aucune signature DKIM de {domain}")
