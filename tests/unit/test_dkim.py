"""DKIM signing (mailbot.dkim): keys read at start, mails signed as composed, verified by dkimpy as a receiver
would, with the DNS lookup answered by a stub holding the record `mailbot check` tells the operator to publish."""
from __future__ import annotations

import base64
from datetime import datetime
from email import message_from_bytes
from pathlib import Path

import dkim as dkimpy
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from dkim.util import parse_tag_value

from mailbot.compose import Rendered, build_message
from mailbot.config import ConfigError, load_settings
from mailbot.dkim import DkimKeyError, dns_record, header_list, load_key, make_settings, sign
from mailbot.parsers import Attachment

BASE = {
    "MAILBOT_CLUB_ADDRESS": "aide@club.test",
    "MAILBOT_AIDEUR_ADDRESSES": "aideur@club.test",
    "MAILBOT_SECRET_KEY": "0123456789abcdef0123",
}
_RSA_CACHE: dict[int, rsa.RSAPrivateKey] = {}


def rsa_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    if bits not in _RSA_CACHE:  # generating a 2048-bit key takes a moment: once per test session
        _RSA_CACHE[bits] = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return _RSA_CACHE[bits]


def write_key(path: Path, key: object, fmt: str = "pkcs8", password: bytes | None = None) -> Path:
    encryption = (serialization.BestAvailableEncryption(password) if password
                  else serialization.NoEncryption())
    private_format = {"pkcs8": serialization.PrivateFormat.PKCS8,
                      "pkcs1": serialization.PrivateFormat.TraditionalOpenSSL}[fmt]
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, private_format, encryption))  # type: ignore[attr-defined]
    path.chmod(0o600)
    return path


def public_record(key: object) -> bytes:
    """The DNS TXT record, computed independently of mailbot (cryptography's encoder)."""
    public = key.public_key()  # type: ignore[attr-defined]
    if isinstance(key, ed25519.Ed25519PrivateKey):
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return b"v=DKIM1; k=ed25519; p=" + base64.b64encode(raw)
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return b"v=DKIM1; k=rsa; p=" + base64.b64encode(der)


def dns_stub(records: dict[bytes, bytes]):  # type: ignore[no-untyped-def]
    asked: list[bytes] = []

    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        asked.append(name)
        return records.get(name)

    lookup.asked = asked  # type: ignore[attr-defined]
    return lookup


def club_mail(**changes: object) -> bytes:
    values: dict[str, object] = {
        "from_name": "Club Aide", "from_address": "aide@club.test", "to": "alice@membres.test",
        "reply_to": "aide+t1m-0123456789abcdef0123@club.test",
        "rendered": Rendered(subject="[CA-2026-0001] Demande bien reçue : Déclaration de TVA",
                          body="Bonjour Alice,\n\nVotre demande est bien reçue. Réponse d'ici jeudi.\n"),
        "message_id": "<t1m-0123456789abcdef0123.abc@club.test>", "in_reply_to": "<x@membres.test>",
        "references": ["<x@membres.test>"], "auto_submitted": "auto-replied", "date": datetime(2026, 3, 2, 9, 30)}
    values.update(changes)
    return build_message(**values)  # type: ignore[arg-type]


@pytest.fixture
def rsa_settings(tmp_path: Path):  # type: ignore[no-untyped-def]
    key = rsa_key()
    settings = make_settings("mailbot2026", "club.test", write_key(tmp_path / "dkim.pem", key))
    return settings, key


@pytest.mark.parametrize("kind", ["rsa-pkcs8", "rsa-pkcs1", "ed25519-pem", "ed25519-dkimpy"])
def test_signed_mail_verifies_with_the_published_key(tmp_path, kind):
    if kind.startswith("rsa"):
        key: object = rsa_key()
        path = write_key(tmp_path / "k.pem", key, kind.split("-")[1])
    else:
        key = ed25519.Ed25519PrivateKey.generate()
        path = write_key(tmp_path / "k.pem", key)
        if kind == "ed25519-dkimpy":  # `dknewkey --ktype ed25519` writes the bare seed in base64
            seed = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,  # type: ignore[attr-defined]
                                     serialization.NoEncryption())
            path.write_bytes(base64.b64encode(seed) + b"\n")
    settings = make_settings("sel", "club.test", path)
    assert settings.algorithm == ("rsa-sha256" if kind.startswith("rsa") else "ed25519-sha256")
    assert dns_record(settings).encode() == public_record(key)  # what `mailbot check` says to publish is right
    lookup = dns_stub({b"sel._domainkey.club.test.": public_record(key)})
    signed = sign(club_mail(), settings)
    assert signed.startswith(b"DKIM-Signature: ")
    assert dkimpy.verify(signed, dnsfunc=lookup)
    assert lookup.asked == [b"sel._domainkey.club.test."]  # type: ignore[attr-defined]


def test_signature_covers_the_headers_that_matter_and_survives_relays(rsa_settings):
    settings, key = rsa_settings
    lookup = dns_stub({b"mailbot2026._domainkey.club.test.": public_record(key)})
    attachment = Attachment(filename="contrat é.pdf", content_type="application/pdf", size=7, disposition="attachment",
                            part_index=1)
    raw = club_mail(attachments=[(attachment, b"%PDF-1.4")])
    signed = sign(raw, settings)
    tags = parse_tag_value(message_from_bytes(signed)["DKIM-Signature"].encode())
    signed_names = [name.strip().decode() for name in b"".join(tags[b"h"].split()).split(b":")]
    for name in ("from", "to", "subject", "date", "message-id", "reply-to", "in-reply-to", "references",
                 "auto-submitted", "mime-version", "content-type"):
        assert name in signed_names, name
    assert signed_names.count("from") == 2 and signed_names.count("subject") == 2  # oversigned
    assert tags[b"c"] == b"relaxed/relaxed" and tags[b"d"] == b"club.test" and tags[b"s"] == b"mailbot2026"
    assert dkimpy.verify(signed, dnsfunc=lookup)
    # A relay re-folding headers and trimming trailing blanks (relaxed canonicalisation) breaks nothing.
    refolded = signed.replace(b"Subject: ", b"Subject:   ", 1).replace(b"\r\n\r\n", b"  \r\n\r\n", 1)
    assert dkimpy.verify(refolded, dnsfunc=lookup)


@pytest.mark.parametrize("tamper", [
    lambda m: m.replace(b"Votre demande", b"Votre d\xe9mande", 1).replace(b"Votre=20demande", b"Votre=20d=C3=A9mande"),
    lambda m: m.replace(b"To: alice@membres.test", b"To: mallory@ailleurs.test", 1),
    lambda m: m.replace(b"\r\nTo: ", b"\r\nFrom: =?utf-8?q?Aideur?= <aideur@club.test>\r\nTo: ", 1),  # a second From
    lambda m: m.replace(b"\r\nTo: ", b"\r\nSubject: autre chose\r\nTo: ", 1),  # a second Subject
    lambda m: m.replace(b"\r\nTo: ", b"\r\nBcc: mallory@ailleurs.test\r\nReply-To: mallory@ailleurs.test\r\nTo: ", 1),
    lambda m: m.replace(b"R=C3=A9ponse", b"Rien", 1),
])
def test_any_change_to_what_the_reader_sees_breaks_the_signature(rsa_settings, tamper):
    settings, key = rsa_settings
    lookup = dns_stub({b"mailbot2026._domainkey.club.test.": public_record(key)})
    signed = sign(club_mail(), settings)
    tampered = tamper(signed)
    assert tampered != signed
    assert not dkimpy.verify(tampered, dnsfunc=lookup)


def test_header_list_signs_absent_headers_too():
    """A fresh mail has no In-Reply-To: it is signed as absent, so nobody can add one later."""
    names = header_list(club_mail(in_reply_to=None, references=[]))
    assert b"in-reply-to" in names and b"references" in names
    assert names.count(b"to") == 2


def _bad_key(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / "bad.pem"
    if kind == "missing":
        return tmp_path / "nowhere.pem"
    if kind == "garbage":
        path.write_text("ceci n'est pas une clé\n")
    elif kind == "encrypted":
        write_key(path, rsa_key(), password=b"secret")
    elif kind == "public":
        path.write_bytes(rsa_key().public_key().public_bytes(serialization.Encoding.PEM,
                                                             serialization.PublicFormat.SubjectPublicKeyInfo))
    elif kind == "short":
        path.write_text(WEAK_512_BIT_KEY)
    elif kind == "truncated":
        good = rsa_key().private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()).decode().splitlines()
        path.write_text("\n".join(good[:5] + good[-1:]) + "\n")
    elif kind == "certificate":
        path.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    return path


# A throw-away 512-bit key (cryptography refuses to make one): too weak for any receiver, as mailbot must say.
WEAK_512_BIT_KEY = """\
-----BEGIN RSA PRIVATE KEY-----
MIIBOwIBAAJBAO67HaqPMTsnuwxCjnHy1e05WaJ4SN8EDV6hQte1stl+vTqEHGok
FmZwOxSouh6WZb4GcGG01FpEOZRPgN3nfdECAwEAAQJBAKkzA16sKFdl3GNfFLhc
RRTiLc5B9Fvj8lncb5SVGhKdK6ikwOoIGyHUh7eZNdkfuG1ZPEYDuyqnMnU0f/Fy
b/UCIQD6j+NARMEuxwCr7xqQ2ucKg78pVdoPH+xFAh0s9lOxGwIhAPPpfq+hqGLo
ewJGKUnoHXdMBBs9erjNlEWQkMENlmeDAiAHOs2g1hsI4X8Ydu66TUarW//RDoQb
OZ2UpCn5WSYzDwIhANmi9ZxnJWWjxOahjgPZLjmdRWi88bzmCrALr23i3tpbAiBR
T/Rv34ef4aJNQQ62xlC3LZg+e39UMJOfeRGWMehU9Q==
-----END RSA PRIVATE KEY-----
"""
BAD_KEYS = ["missing", "garbage", "encrypted", "public", "short", "truncated", "certificate"]


@pytest.mark.parametrize("kind", BAD_KEYS)
def test_a_bad_key_file_is_refused_plainly(tmp_path, kind):
    with pytest.raises(DkimKeyError) as error:
        make_settings("sel", "club.test", _bad_key(tmp_path, kind))
    assert "\n" not in str(error.value) and len(str(error.value)) < 300


@pytest.mark.parametrize("kind", BAD_KEYS)
def test_a_bad_key_file_stops_the_start_naming_the_setting(tmp_path, kind):
    env = dict(BASE, MAILBOT_DKIM_SELECTOR="sel", MAILBOT_DKIM_KEY_FILE=str(_bad_key(tmp_path, kind)))
    with pytest.raises(ConfigError) as error:
        load_settings(env, env_file=None)
    assert error.value.setting == "MAILBOT_DKIM_KEY_FILE"


def test_settings_put_the_key_where_the_sender_finds_it(tmp_path):
    path = write_key(tmp_path / "dkim.pem", rsa_key())
    env = dict(BASE, MAILBOT_DKIM_SELECTOR="mailbot2026", MAILBOT_DKIM_KEY_FILE=str(path),
               MAILBOT_SMTP_HOST="smtp.club.test", MAILBOT_SMTP_USER="aide@club.test", MAILBOT_SMTP_PASSWORD="pw")
    settings = load_settings(env, env_file=None)
    assert settings.dkim is not None and settings.smtp is not None and settings.smtp.dkim == settings.dkim
    assert settings.dkim.domain == "club.test" and settings.dkim.key_bits == 2048
    assert settings.dkim.dns_name == "mailbot2026._domainkey.club.test"
    assert "PRIVATE" not in repr(settings) and "PRIVATE" not in repr(settings.dkim)


def test_load_key_accepts_windows_line_endings(tmp_path):
    path = write_key(tmp_path / "k.pem", rsa_key())
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    algorithm, _, bits = load_key(path)
    assert algorithm == "rsa-sha256" and bits == 2048


# --- verification of Aideur's mail (MAILBOT_AUTHSERV_ID unset) ---------------------------------------------------

def aideur_mail(sender: str = "aideur@club.test") -> bytes:
    return (f"From: Aideur <{sender}>\r\nTo: aide+c0a-0123456789abcdef0123@club.test\r\nSubject: CA-2026-0001\r\n"
            "Date: Thu, 26 Nov 2026 10:00:00 +0100\r\nMessage-ID: <cmd-1@club.test>\r\n\r\n#clore\r\n").encode()


def test_verify_aligned_reads_every_signature_and_only_aligned_ones_count(rsa_settings, tmp_path):
    from mailbot.dkim import FAIL, NONE, PASS, verify_aligned

    settings, key = rsa_settings
    lookup = dns_stub({b"mailbot2026._domainkey.club.test.": public_record(key)})
    good = sign(aideur_mail(), settings)
    assert verify_aligned(good, "club.test", dns=lookup).status == PASS
    assert verify_aligned(good, "mail.club.test", dns=lookup).status == PASS  # relaxed alignment
    assert verify_aligned(aideur_mail(), "club.test", dns=lookup).status == NONE
    assert verify_aligned(good.replace(b"#clore", b"#solution http://x"), "club.test", dns=lookup).status == FAIL
    # A valid signature of another domain says nothing about club.test (the attacker signs for his own domain).
    evil = make_settings("s", "evil.test", write_key(tmp_path / "evil.pem", rsa_key(1024)))
    lookup_evil = dns_stub({b"s._domainkey.evil.test.": public_record(rsa_key(1024))})
    assert verify_aligned(sign(aideur_mail(), evil), "club.test", dns=lookup_evil).status == NONE
    # The evil signature on top of the good one: the aligned one still counts.
    assert verify_aligned(sign(good, evil), "club.test", dns=lookup).status == PASS
    # d=club.test signed with a key that is not the published one: a failure, not an absence.
    impostor = make_settings("mailbot2026", "club.test", write_key(tmp_path / "imp.pem", rsa_key(1024)))
    assert verify_aligned(sign(aideur_mail(), impostor), "club.test", dns=lookup).status == FAIL


@pytest.mark.parametrize("failure", [dkimpy.DnsTimeoutError("timeout"), OSError("network unreachable")])
def test_verify_aligned_says_temperror_when_the_key_cannot_be_fetched(rsa_settings, failure):
    from mailbot.dkim import TEMPERROR, verify_aligned

    settings, _key = rsa_settings

    def broken(name: bytes, timeout: int = 5) -> bytes | None:
        raise failure

    check = verify_aligned(sign(aideur_mail(), settings), "club.test", dns=broken)
    assert check.status == TEMPERROR and "DNS" in check.detail
