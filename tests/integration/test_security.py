"""Attacks on mailbot, over the real loopback servers, judged on the raw bytes the recipients receive.

- Header injection: CR/LF in everything a member controls (names, subjects, display names, attachment names,
  form values, appeal and offer texts, consent answers) never adds a header, a recipient or a MIME part.
- Tokens: changed to another ticket, a member's made into Aideur's, replayed by someone else, signed with a key
  rotated out: none drives anything.
- Forged Aideur mail: no token, or (with MAILBOT_AUTHSERV_ID) no pass from the operator's own MTA.
- HTML: member text inside the weekly digest's HTML part is escaped.
- Loops: a robot that answers everything, and two mailbots answering each other, stop.
- DKIM: what mailbot sends verifies at the recipient; the outbox keeps the unsigned bytes.
"""
from __future__ import annotations

import base64
import email
import re
import time
from datetime import datetime
from email.header import decode_header, make_header
from email.utils import getaddresses, make_msgid
from pathlib import Path

import dkim as dkimpy
import pytest
from imap_tools import MailBoxUnencrypted
from sqlalchemy import func, select

from mailbot.config import load_settings
from mailbot.db import make_engine, make_session_factory, upgrade
from mailbot.members import upsert_member
from mailbot.models import Event, InboundMail, OutboxMail, Ticket
from tests.conftest import make_env
from tests.helpers import (
    AIDEUR,
    ALICE,
    BRUNO,
    CHLOE,
    CLUB,
    PASSWORD,
    STRANGER,
    add_members,
    append,
    mailbox,
    make_mail,
    run_cycle,
    settle,
    smtp_send,
    wait_mail,
)
from tests.integration.aideur_clients import confirmation_requests, reply_to_notification
from tests.integration.test_triage import THURSDAY

pytestmark = pytest.mark.servers

INTRUDER = STRANGER  # a real mailbox: a recipient injected anywhere would receive something
INJECTION = f"\r\nBcc: {INTRUDER}\r\nX-Injecte: oui\r\n\r\n<b>corps</b>"
ALLOWED_HEADERS = {"from", "to", "reply-to", "subject", "date", "message-id", "in-reply-to", "references",
                   "auto-submitted", "x-auto-response-suppress", "x-mailer", "mime-version", "content-type",
                   "content-transfer-encoding", "dkim-signature"}
ADDED_ON_DELIVERY = {"return-path", "delivered-to", "received", "x-original-to"}
PART_HEADERS = {"content-type", "content-transfer-encoding", "content-disposition"}


# --- fixtures and helpers -----------------------------------------------------------------------------------------

@pytest.fixture
def db_url(sqlite_url: str) -> str:
    """These attacks do not depend on the database: SQLite only, to keep the run short."""
    return sqlite_url


def settings_with(server, url: str, **changes: str):  # type: ignore[no-untyped-def]
    return load_settings(make_env(server, url, **changes), env_file=None)


@pytest.fixture
def sec_settings(clean_mail, db_url):  # type: ignore[no-untyped-def]
    return settings_with(clean_mail, db_url)


@pytest.fixture
def sec_sessions(db_url, sessions_for):  # type: ignore[no-untyped-def]
    return sessions_for(db_url)


def raw_mails(server, address: str) -> list[bytes]:
    """The mails in `address`'s inbox, byte for byte as delivered."""
    with MailBoxUnencrypted(server.imap_host, server.imap_port).login(address, PASSWORD) as box:
        uids = box.uids("ALL")
        if not uids:
            return []
        status, data = box.client.uid("FETCH", ",".join(uids), "(BODY.PEEK[])")
        assert status == "OK"
        return [item[1] for item in data if isinstance(item, tuple)]


def assert_sane(raw: bytes, recipient: str) -> None:
    """One mail from mailbot, as delivered: exactly the headers mailbot writes, each once where it must be, one
    recipient, and MIME parts with part headers only. The injected words may appear as text, never as structure."""
    head, separator, _ = raw.partition(b"\r\n\r\n")
    assert separator, "no end of headers"
    names: list[str] = []
    for line in head.split(b"\r\n"):
        assert b"\r" not in line and b"\n" not in line, f"bare CR or LF in a header line: {line!r}"
        if line[:1] in (b" ", b"\t"):
            continue
        match = re.match(rb"^([A-Za-z0-9-]+):", line)
        assert match, f"not a header line: {line!r}"
        names.append(match.group(1).decode().lower())
    unknown = set(names) - ALLOWED_HEADERS - ADDED_ON_DELIVERY
    assert not unknown, f"headers mailbot never writes: {unknown}"
    for name in ("from", "to", "subject", "date", "message-id", "reply-to", "mime-version", "content-type"):
        assert names.count(name) == 1, f"{name} appears {names.count(name)} times"
    message = email.message_from_bytes(raw)
    assert [address.lower() for _, address in getaddresses([message["To"]])] == [recipient]
    assert [address.lower() for _, address in getaddresses([message["From"]])] == [CLUB]
    for name in ("Subject", "From", "To", "Reply-To"):
        decoded = str(make_header(decode_header(message[name])))
        assert "\r" not in decoded and "\n" not in decoded, f"{name} decodes to several lines: {decoded!r}"
    for part in list(message.walk())[1:]:
        assert {key.lower() for key in part} <= PART_HEADERS, f"part headers: {part.keys()}"
        filename = part.get_filename()
        assert filename is None or ("\r" not in filename and "\n" not in filename), filename


def check_everything_sent(server, addresses=(ALICE, BRUNO, CHLOE, AIDEUR, STRANGER)) -> int:  # type: ignore[no-untyped-def]
    """Every mail mailbot delivered is sane; nothing reached anyone it was not addressed to."""
    count = 0
    for address in addresses:
        for raw in raw_mails(server, address):
            if email.message_from_bytes(raw)["From"] and CLUB in email.message_from_bytes(raw)["From"].lower():
                assert_sane(raw, address)
                count += 1
    return count


def encoded(text: str) -> str:
    return f"=?utf-8?b?{base64.b64encode(text.encode()).decode()}?="


def raw_mail(sender: str, to: str, subject_header: str, body: str, *, extra: str = "",
             message_id: str | None = None) -> bytes:
    """A hand-written mail (what no mail library would produce), for IMAP APPEND."""
    return (f"From: {sender}\r\nTo: {to}\r\nSubject: {subject_header}\r\n"
            f"Message-ID: {message_id or make_msgid(domain='membres.test')}\r\nDate: Thu, 26 Nov 2026 10:00:00 +0100\r\n"
            f"{extra}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
            f"Content-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n").encode()


def deliver(server, settings, sessions, message, *, at: datetime = THURSDAY):  # type: ignore[no-untyped-def]
    if isinstance(message, bytes):
        append(server, CLUB, message)
    else:
        smtp_send(server, message)
        wait_mail(server, CLUB, 1)
    return run_cycle(settings, sessions, at=at)


def newest(server, address: str, fragment: str = ""):  # type: ignore[no-untyped-def]
    for _ in range(100):
        found = [m for m in mailbox(server, address) if fragment in m.subject]
        if found:
            return found[-1]
        time.sleep(0.1)
    raise AssertionError(f"no mail with {fragment!r} for {address}")


def tickets(sessions) -> list[Ticket]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return list(session.scalars(select(Ticket).order_by(Ticket.id)))


# --- header injection ---------------------------------------------------------------------------------------------

def test_crlf_in_every_member_field_never_becomes_a_header_or_a_recipient(clean_mail, sec_settings, sec_sessions):
    server, settings, sessions = clean_mail, sec_settings, sec_sessions
    add_members(sessions)
    with sessions.begin() as session:  # names as a careless import or a hostile form could leave them
        upsert_member(session, ALICE, first_name=f"Alice{INJECTION}", last_name="Martin\nX-Injecte: oui",
                      company="Martin\r\n\r\nConseil", phone="06 12 34 56 78", skills="comptabilité")
        upsert_member(session, CHLOE, first_name=f"Chloé{INJECTION}", last_name="Durand\r",
                      skills="droit du travail, licenciement", particulars="ancienne DRH")

    # 1. A request: encoded CR/LF in the subject and the display name, a bare CR in a header, an attachment
    #    whose name carries CR/LF (RFC 2231).
    boundary = "b0undary"
    request = (
        f"From: {encoded('Alice' + INJECTION)} <{ALICE}>\r\nTo: {CLUB}\r\n"
        f"Subject: {encoded('Litige salarié' + INJECTION)}\r\nX-Note: avant\rBcc: {INTRUDER}\r\n"
        f"Message-ID: <req-1@membres.test>\r\nDate: Thu, 26 Nov 2026 10:00:00 +0100\r\nMIME-Version: 1.0\r\n"
        f"Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n"
        f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Je cherche un avocat en droit du travail pour un litige avec un salarié.\r\nBcc: {INTRUDER}\r\n\r\n"
        f"--{boundary}\r\nContent-Type: application/pdf; name*=utf-8''contrat%0D%0ABcc%3A%20{INTRUDER}.pdf\r\n"
        f"Content-Disposition: attachment; filename*=utf-8''contrat%0D%0ABcc%3A%20{INTRUDER}%0D%0A%0D%0A.pdf\r\n"
        f"Content-Transfer-Encoding: base64\r\n\r\n{base64.b64encode(b'%PDF-1.4 contrat').decode()}\r\n"
        f"--{boundary}--\r\n").encode()
    report = deliver(server, settings, sessions, request)
    assert dict(report.actions) == {"new-request": 1}
    note = newest(server, AIDEUR, "Nouvelle demande")
    assert note.attachments and INTRUDER not in "".join(note.headers.get("bcc", ()))

    # 2. Aideur answers with text and a #solution full of would-be headers, and his subject carries CR/LF too.
    answer = reply_to_notification(note, f"Bonjour,\nBcc: {INTRUDER}\r\nX-Injecte: oui\n\n#solution Voyez un avocat."
                                         f"\nTo: {INTRUDER}\n\n--fin", "thunderbird")
    answer.replace_header("Subject", encoded("Re: Litige" + INJECTION))
    report = deliver(server, settings, sessions, answer)
    assert dict(report.actions) == {"aideur-reply": 1}

    # 3. An appeal with would-be headers in its text; Chloé offers help with CR/LF in her subject and text.
    # (No address in it: an appeal naming any e-mail address is refused outright, see Anonymity.)
    appeal = reply_to_notification(note, "#appel compétences: droit du travail ; membres: 2\nUn membre cherche un "
                                         "avocat.\r\nBcc: quelqu'un\r\nContent-Type: text/html", "gmail")
    deliver(server, settings, sessions, appeal)
    call = newest(server, CHLOE, "")
    offer = reply_to_notification(call, f"Je peux aider.\r\nBcc: {INTRUDER}", "outlook", sender=CHLOE, name="Chloé")
    offer.replace_header("Subject", encoded("Re: appel" + INJECTION))
    deliver(server, settings, sessions, offer)
    offer_note = newest(server, AIDEUR, "Offre n° 1")

    # 4. Aideur connects them; each consents with would-be headers in the answer; the cards carry the names.
    deliver(server, settings, sessions, reply_to_notification(offer_note, "#relier 1", "thunderbird"))
    ask_alice = newest(server, ALICE, "accord")
    ask_chloe = newest(server, CHLOE, "accord")
    for ask, who in ((ask_alice, ALICE), (ask_chloe, CHLOE)):
        # (A yes must be clear to count: the would-be headers ride in the subject and the display name.)
        consent = raw_mail(f"{encoded('Membre' + INJECTION)} <{who}>", ask.reply_to[0],
                           encoded("Re: accord" + INJECTION), "Oui",
                           extra=f"In-Reply-To: {ask.headers['message-id'][0]}\r\n")
        assert dict(deliver(server, settings, sessions, consent).actions) == {"consent-reply": 1}
    assert newest(server, CHLOE, "coordonnées") and newest(server, ALICE, "coordonnées")

    # 5. A newcomer's form with CR (quoted-printable =0D) inside its values.
    invitation_request = raw_mail(f"{encoded('Hélène' + INJECTION)} <{STRANGER}>", CLUB, encoded("Bonjour" + INJECTION),
                                  "Comment adhérer ?")
    deliver(server, settings, sessions, invitation_request)
    invitation = newest(server, STRANGER, "")
    form = ("Nom : Lefèvre=0DBcc: inconnu@ailleurs.test\nPrénom : Hélène=0D=0AX-Injecte: oui\nEntreprise : HL\n"
            "Activité : traduction\nAdresse postale : 8 allée des Tilleuls, 33000 Bordeaux\nTéléphone : 06 55 44 33 22\n"
            "Visibilité : membres\nAcceptation des conditions : J'accepte les conditions V4/2018\n")
    form_mail = (f"From: {STRANGER}\r\nTo: {invitation.reply_to[0]}\r\nSubject: {encoded('Re: inscription' + INJECTION)}"
                 f"\r\nMessage-ID: <form-1@ailleurs.test>\r\nIn-Reply-To: {invitation.headers['message-id'][0]}\r\n"
                 "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
                 f"Content-Transfer-Encoding: quoted-printable\r\n\r\n{form.replace(chr(10), chr(13) + chr(10))}").encode()
    deliver(server, settings, sessions, form_mail)

    checked = check_everything_sent(server)
    assert checked >= 12
    # Nothing at all reached the intruder but what was addressed to Hélène (who is STRANGER: her own mails).
    for raw in raw_mails(server, INTRUDER):
        assert [a.lower() for _, a in getaddresses([email.message_from_bytes(raw)["To"]])] == [STRANGER]
    with sessions() as session:  # the outbox holds the same bytes: no header smuggled into any stored mail
        for row in session.scalars(select(OutboxMail)):
            head = row.body.partition(b"\r\n\r\n")[0].lower()
            assert b"\r\nbcc:" not in head and b"\r\nx-injecte:" not in head


# --- tokens -------------------------------------------------------------------------------------------------------

def _open_two_tickets(server, settings, sessions):  # type: ignore[no-untyped-def]
    add_members(sessions)
    deliver(server, settings, sessions, make_mail(ALICE, "Fiscalité", "Question sur la TVA."))
    deliver(server, settings, sessions, make_mail(BRUNO, "Chantier", "Question sur un chantier."))
    notes = {m.text.count("Alice") > 0 and "alice" or "bruno": m for m in wait_mail(server, AIDEUR, 2)}
    acks = {"alice": wait_mail(server, ALICE, 1)[0], "bruno": wait_mail(server, BRUNO, 1)[0]}
    return notes, acks


def _local(address: str) -> str:
    return address.split("@")[0].split("+", 1)[1]


def _statuses(sessions) -> list[str]:  # type: ignore[no-untyped-def]
    return [t.status for t in tickets(sessions)]


def test_tampered_and_replayed_tokens_drive_nothing(clean_mail, sec_settings, sec_sessions):
    server, settings, sessions = clean_mail, sec_settings, sec_sessions
    notes, acks = _open_two_tickets(server, settings, sessions)
    alice_note, alice_ack = notes["alice"], acks["alice"]
    aideur_token = _local(alice_note.reply_to[0])  # t1a-<mac>
    member_token = _local(alice_ack.reply_to[0])  # t1m-<mac>
    assert aideur_token.startswith("t1a-") and member_token.startswith("t1m-")
    attempts = {
        # Aideur's token for ticket 1, renumbered for ticket 2: the MAC no longer matches.
        "renumbered": aideur_token.replace("t1a-", "t2a-", 1),
        # Alice's member token with the role letter changed to Aideur's.
        "member made aideur": member_token.replace("t1m-", "t1a-", 1),
        # A MAC from one token glued to another payload.
        "spliced": "t2a-" + member_token.split("-", 1)[1],
    }
    for what, token in attempts.items():
        forged = reply_to_notification(alice_note, "#refuser Nous ne pouvons pas.", "thunderbird",
                                       to=f"aide+{token}@club.test")
        del forged["In-Reply-To"], forged["References"]  # the forger does not have the real thread either
        report = deliver(server, settings, sessions, forged)
        assert dict(report.actions) == {"aideur-unrouted": 1}, what
    # Aideur's From through Alice's own (valid) member token: recorded, never a command.
    through_member = reply_to_notification(alice_ack, "#clore", "thunderbird", to=alice_ack.reply_to[0])
    assert dict(deliver(server, settings, sessions, through_member).actions) == {"follow-up": 1}
    # Alice holding Aideur's notification (forwarded to her): her "#accepter" is no command. (A "#clore" from
    # her would close it, rightly: her own words withdrawing her own request.)
    forwarded = reply_to_notification(alice_note, "#accepter 31/12", "gmail", sender=ALICE, name="Alice")
    assert dict(deliver(server, settings, sessions, forwarded).actions) == {"follow-up": 1}
    # Bruno replays Alice's reply address to withdraw her request: only Alice can.
    replay = reply_to_notification(alice_ack, "Résolu, merci.", "thunderbird", sender=BRUNO, name="Bruno")
    deliver(server, settings, sessions, replay)
    assert _statuses(sessions) == ["new", "new"]
    # The very same command mail delivered twice is handled once.
    accept = reply_to_notification(alice_note, "#accepter 31/12", "thunderbird")
    assert dict(deliver(server, settings, sessions, accept).actions) == {"aideur-reply": 1}
    smtp_send(server, accept)
    wait_mail(server, CLUB, 1)
    assert dict(run_cycle(settings, sessions, at=THURSDAY).actions) == {"duplicate": 1}
    assert _statuses(sessions) == ["accepted", "new"]
    with sessions() as session:
        assert session.scalar(select(func.count(Event.id)).where(Event.kind == "accepted")) <= 1
    check_everything_sent(server)


def test_a_key_rotated_out_no_longer_commands(clean_mail, db_url, sec_sessions):
    server, sessions = clean_mail, sec_sessions
    old, new = "old-key-0123456789abcdef", "new-key-0123456789abcdef"
    first = settings_with(server, db_url, MAILBOT_SECRET_KEY=old)
    add_members(sessions)
    deliver(server, first, sessions, make_mail(ALICE, "Fiscalité", "Question sur la TVA."))
    note = wait_mail(server, AIDEUR, 1)[0]
    # Rotation: the new key signs, the old one still verifies the mails already out.
    rotating = settings_with(server, db_url, MAILBOT_SECRET_KEY=f"{new},{old}")
    report = deliver(server, rotating, sessions, reply_to_notification(note, "#note première note", "thunderbird"))
    assert dict(report.actions) == {"aideur-reply": 1}
    # The old key removed: its tokens are worth nothing, even to the real Aideur.
    rotated = settings_with(server, db_url, MAILBOT_SECRET_KEY=new)
    report = deliver(server, rotated, sessions, reply_to_notification(note, "#refuser trop tard", "thunderbird"))
    assert dict(report.actions) == {"aideur-unrouted": 1}
    assert _statuses(sessions) == ["new"]


# --- forged Aideur mail and Authentication-Results ----------------------------------------------------------------

AUTHSERV = "mx.club.test"


def _aideur_mail(note, body: str, auth_results: list[str], *, to: str | None = None) -> bytes:  # type: ignore[no-untyped-def]
    """Aideur's answer to `note`, with the Authentication-Results headers his MTA (or a forger) wrote, topmost
    first. To the plain club address, it carries no thread either (In-Reply-To would hold the token)."""
    extra = "".join(f"Authentication-Results: {value}\r\n" for value in auth_results)
    if to != CLUB:
        extra += f"In-Reply-To: {note.headers['message-id'][0]}\r\n"
    return raw_mail(f"Aideur <{AIDEUR}>", to or note.reply_to[0], "Re: " + note.subject.encode("ascii", "replace").decode(),
                    body, extra=extra)


FORGED = {
    "no token at all (plain club address)": ([f"{AUTHSERV}; dmarc=pass header.from=club.test"], "plain"),
    "no Authentication-Results": ([], None),
    "dmarc fail": ([f"{AUTHSERV}; spf=fail smtp.mailfrom=aideur@club.test; dkim=none; dmarc=fail header.from=club.test"],
                   None),
    "pass from another authserv-id only": (["evil.example; dmarc=pass header.from=club.test"], None),
    "another authserv-id on top, ours says fail": (
        ["evil.example; dmarc=pass header.from=club.test", f"{AUTHSERV}; dmarc=fail header.from=club.test"], None),
    "ours says fail, a forged 'pass' with our id below it": (
        [f"{AUTHSERV}; dmarc=fail header.from=club.test", f"{AUTHSERV}; dmarc=pass header.from=club.test"], None),
    "pass only inside a comment": ([f"{AUTHSERV}; dmarc=fail (dmarc=pass) header.from=club.test"], None),
    "dkim pass for another domain": ([f"{AUTHSERV}; dkim=pass header.d=evil.example; dmarc=none"], None),
    "spf pass for another domain": ([f"{AUTHSERV}; spf=pass smtp.mailfrom=x@evil.example"], None),
    "dmarc pass for another From domain": ([f"{AUTHSERV}; dmarc=pass header.from=evil.example"], None),
}
GENUINE = {
    "dmarc pass": f"{AUTHSERV}; spf=pass smtp.mailfrom=aideur@club.test; dkim=pass header.d=club.test; "
                  "dmarc=pass (p=reject dis=none) header.from=club.test",
    "aligned dkim pass, no dmarc": f"{AUTHSERV} 1; dkim=pass (2048-bit key) header.d=club.test header.b=abcd",
    "aligned spf pass": f"{AUTHSERV}; spf=pass (sender SPF authorized) smtp.mailfrom=aideur@club.test",
}


def test_authentication_results_decide_whether_aideur_commands(clean_mail, db_url, sec_sessions):
    server, sessions = clean_mail, sec_sessions
    settings = settings_with(server, db_url, MAILBOT_AUTHSERV_ID=AUTHSERV)
    add_members(sessions)
    deliver(server, settings, sessions, make_mail(ALICE, "Fiscalité", "Question sur la TVA."))
    note = wait_mail(server, AIDEUR, 1)[0]
    for what, (headers, where) in FORGED.items():
        to = CLUB if where == "plain" else None
        report = deliver(server, settings, sessions, _aideur_mail(note, "#refuser Nous ne pouvons pas.", headers, to=to))
        assert dict(report.actions) == {"aideur-unrouted": 1}, what
        assert _statuses(sessions) == ["new"], what
    with sessions() as session:  # recorded, and Aideur told each time that nothing was done
        unrouted = session.scalar(select(func.count(InboundMail.id)).where(InboundMail.outcome == "aideur-unrouted"))
    assert unrouted == len(FORGED)
    assert len([m for m in mailbox(server, AIDEUR) if "n'a pas été traité" in m.subject]) == len(FORGED)
    # Each alert gives the true reason: the plain club address (no token), or his mail server's checks failed.
    alerts = [m for m in mailbox(server, AIDEUR) if "n'a pas été traité" in m.subject]
    unconfirmed = [m for m in alerts if "expéditeur non confirmé" in m.subject]
    assert len(unconfirmed) == len(FORGED) - 1
    for alert in unconfirmed:
        text = " ".join(alert.text.split())
        assert "n'a pas pu confirmer qu'il venait vraiment de vous" in text and "SPF, DKIM et DMARC" in text
        assert "Rien n'a été fait" in text and "renvoyez votre mail depuis votre messagerie habituelle" in text
        assert "la personne qui gère mailbot" in text and f"non authentifiée par {AUTHSERV}" in text
        assert "Si vous n'avez pas écrit ce mail, quelqu'un a imité votre adresse" in text  # it may be a forgery
        assert "adresse générale" not in text
    plain = [m for m in alerts if m not in unconfirmed]
    assert len(plain) == 1 and "adresse générale" in plain[0].text
    for what, header in GENUINE.items():
        report = deliver(server, settings, sessions, _aideur_mail(note, f"#note {what}", [header]))
        assert dict(report.actions) == {"aideur-reply": 1}, what
    # The command address too: a fresh mail with a pass drives the ticket, once Aideur confirmed it (his OUI needs
    # a pass as well).
    command_address = re.search(r"aide\+c0a-[0-9a-f]+@club\.test", note.text).group(0)
    report = deliver(server, settings, sessions, _aideur_mail(note, f"{tickets(sessions)[0].ref}\n#accepter 31/12",
                                                              [GENUINE["dmarc pass"]], to=command_address))
    assert dict(report.actions) == {"aideur-command": 1}
    assert _statuses(sessions) == ["new"]
    [request] = confirmation_requests(server)
    report = deliver(server, settings, sessions, _aideur_mail(request, "OUI", [FORGED["dmarc fail"][0][0]]))
    assert dict(report.actions) == {"aideur-unrouted": 1} and _statuses(sessions) == ["new"]
    report = deliver(server, settings, sessions, _aideur_mail(request, "OUI", [GENUINE["dmarc pass"]]))
    assert dict(report.actions) == {"aideur-command": 1}
    assert _statuses(sessions) == ["accepted"]


def test_without_authserv_id_a_forged_from_still_needs_a_token(clean_mail, sec_settings, sec_sessions):
    server, settings, sessions = clean_mail, sec_settings, sec_sessions
    add_members(sessions)
    deliver(server, settings, sessions, make_mail(ALICE, "Fiscalité", "Question sur la TVA."))
    ref = tickets(sessions)[0].ref
    for body in (f"#refuser {ref} non", f"{ref}\n#clore"):
        report = deliver(server, settings, sessions, raw_mail(f"Aideur <{AIDEUR}>", CLUB, f"Re: [{ref}]", body))
        assert dict(report.actions) == {"aideur-unrouted": 1}
    assert _statuses(sessions) == ["new"]


# --- HTML ---------------------------------------------------------------------------------------------------------

def test_member_text_in_the_weekly_digest_html_is_escaped(clean_mail, sec_settings, sec_sessions):
    server, settings, sessions = clean_mail, sec_settings, sec_sessions
    add_members(sessions)
    with sessions.begin() as session:
        upsert_member(session, ALICE, first_name="<script>alert('prénom')</script>", last_name="<b>Martin</b>",
                      company="A & B <i>Conseil</i>")
    deliver(server, settings, sessions, make_mail(ALICE, "<img src=x onerror=alert(1)> TVA",
                                                  "<a href='javascript:alert(1)'>clic</a> Question sur la TVA."))
    monday = datetime(2026, 11, 30, 7, 30)  # 08:30 in Paris, the default digest time
    report = run_cycle(settings, sessions, at=monday)
    assert report.jobs.get("digest") == 1
    digest = newest(server, AIDEUR, "bilan de la semaine")
    raw = next(r for r in raw_mails(server, AIDEUR) if b"bilan" in r or b"=?utf-8?" in r and digest.headers[
        "message-id"][0].encode() in r)
    message = email.message_from_bytes(raw)
    html_part = next(part for part in message.walk() if part.get_content_type() == "text/html")
    html = html_part.get_payload(decode=True).decode("utf-8")
    for dangerous in ("<script", "<img", "<b>", "<i>", "onerror=alert(1)>"):
        assert dangerous not in html, dangerous
    assert "&lt;script&gt;" in html or "&lt;img" in html
    assert_sane(raw, AIDEUR)


# --- loops --------------------------------------------------------------------------------------------------------

def _robot_answers(server, robot: str, seen: set[str], *, mark_automatic: bool) -> int:  # type: ignore[no-untyped-def]
    """A vacation responder: every new mail in `robot`'s inbox gets a fresh answer to its From: address (a naive
    one ignores Reply-To, In-Reply-To and RFC 3834 entirely). Returns how many it sent."""
    sent = 0
    for message in mailbox(server, robot):
        key = message.headers["message-id"][0]
        if key in seen:
            continue
        seen.add(key)
        # It does not even quote the subject: nothing ties its answer to the ticket, each looks like a new mail.
        answer = make_mail(robot, f"Message automatique n° {len(seen)}", "Je suis absent jusqu'au 15.",
                           to=message.from_)
        if mark_automatic:
            answer["Auto-Submitted"] = "auto-replied"
        smtp_send(server, answer)
        sent += 1
    return sent


@pytest.mark.parametrize("robot", [ALICE, STRANGER], ids=["member", "stranger"])
def test_a_naive_auto_responder_loop_stops_at_the_rate_limit(clean_mail, db_url, sec_sessions, robot):
    server, sessions = clean_mail, sec_sessions
    settings = settings_with(server, db_url, MAILBOT_RATE_LIMIT_PER_HOUR="3")
    add_members(sessions)
    deliver(server, settings, sessions, make_mail(robot, "Question", "Bonjour, une question."))
    seen: set[str] = set()
    robot_sent = 0
    for _ in range(12):  # bounded: a loop that did not stop would fail the assertions below, not hang
        new = _robot_answers(server, robot, seen, mark_automatic=False)
        if not new:
            break
        robot_sent += new
        wait_mail(server, CLUB, new)
        run_cycle(settings, sessions)
    else:
        pytest.fail("the exchange was still going after 12 rounds")
    to_robot = len(mailbox(server, robot))
    assert to_robot <= 3 and robot_sent <= 3  # at most the rate limit each way
    with sessions() as session:
        held = session.scalar(select(func.count(Event.id)).where(Event.kind == "rate-limited"))
        recorded = session.scalar(select(func.count(InboundMail.id)))
    assert recorded == robot_sent + 1  # every robot mail recorded (nothing lost), only the answers held
    if robot == ALICE:  # a member's every mail is a new request: only the rate limit can stop this one
        assert to_robot == 3 and held >= 1


def test_two_mailbots_answering_each_other_stop_at_once(clean_mail, db_url, sec_sessions, tmp_path):
    """A second club's mailbot (its mailbox: inconnu@ailleurs.test) and ours: each marks its mail
    Auto-Submitted, so each recognises the other's answer as automatic and never answers it."""
    server, sessions = clean_mail, sec_sessions
    ours = settings_with(server, db_url, MAILBOT_RATE_LIMIT_PER_HOUR="3")
    other_db = Path(tmp_path) / "other.db"
    upgrade(f"sqlite:///{other_db}")
    theirs = settings_with(server, f"sqlite:///{other_db}", MAILBOT_CLUB_ADDRESS=STRANGER,
                           MAILBOT_IMAP_USER=STRANGER, MAILBOT_AIDEUR_ADDRESSES=BRUNO)
    their_engine = make_engine(theirs.database_url)
    their_sessions = make_session_factory(their_engine)
    try:
        # Someone at our club writes to them by hand; their mailbot invites us; ours sees an automatic answer.
        append(server, STRANGER, make_mail(CLUB, "Bonjour", "Un message écrit à la main.", to=STRANGER).as_bytes())
        for _ in range(6):  # bounded; each round, each mailbot handles what the other sent
            sent = run_cycle(theirs, their_sessions).sent
            if sent:
                wait_mail(server, CLUB, 1)
            sent += run_cycle(ours, sessions).sent
            if not sent:
                break
        else:
            pytest.fail("the two mailbots were still writing to each other after 6 rounds")
        with sessions() as session:
            answered_to_them = session.scalar(select(func.count(OutboxMail.id)).where(OutboxMail.recipient == STRANGER))
            kinds = list(session.scalars(select(InboundMail.kind)))
        with their_sessions() as session:
            answered_to_us = session.scalar(select(func.count(OutboxMail.id)).where(OutboxMail.recipient == CLUB))
        assert answered_to_us == 1  # their invitation
        assert answered_to_them == 0 and kinds == ["auto-reply"]  # ours recognised it and stayed silent
    finally:
        their_engine.dispose()


def test_a_polite_auto_responder_is_never_answered(clean_mail, sec_settings, sec_sessions):
    server, settings, sessions = clean_mail, sec_settings, sec_sessions
    add_members(sessions)
    deliver(server, settings, sessions, make_mail(ALICE, "Question", "Bonjour, une question."))
    seen: set[str] = set()
    assert _robot_answers(server, ALICE, seen, mark_automatic=True) == 1
    wait_mail(server, CLUB, 1)
    report = run_cycle(settings, sessions)
    assert dict(report.actions) == {"auto-reply": 1}
    # Nothing more for the robot's address than the acknowledgement (not `report.sent == 0`: the cycle also runs
    # the scheduled jobs at the real clock, and from 9:00 in Paris a deadline job may write to Aideur).
    with sessions() as session:
        assert session.scalar(select(func.count(OutboxMail.id)).where(OutboxMail.recipient == ALICE)) == 1
    assert len(settle(server, ALICE, 1)) == 1


# --- DKIM at the recipient ----------------------------------------------------------------------------------------

def test_dkim_signed_mail_verifies_at_the_recipient(clean_mail, db_url, sec_sessions, tmp_path):
    from tests.unit.test_dkim import dns_stub, public_record, rsa_key, write_key

    server, sessions = clean_mail, sec_sessions
    key = rsa_key()
    settings = settings_with(server, db_url, MAILBOT_DKIM_SELECTOR="mailbot2026",
                             MAILBOT_DKIM_KEY_FILE=str(write_key(Path(tmp_path) / "dkim.pem", key)))
    add_members(sessions)
    deliver(server, settings, sessions, make_mail(ALICE, "Fiscalité", "Question sur la TVA."))
    lookup = dns_stub({b"mailbot2026._domainkey.club.test.": public_record(key)})
    wait_mail(server, ALICE, 1)
    wait_mail(server, AIDEUR, 1)
    for address in (ALICE, AIDEUR):
        [raw] = raw_mails(server, address)
        assert b"DKIM-Signature:" in raw.partition(b"\r\n\r\n")[0]
        assert dkimpy.verify(raw, dnsfunc=lookup), address  # through Postfix and Dovecot, as delivered
        assert_sane(raw, address)
    with sessions() as session:  # the outbox keeps what was composed: a rotated key signs any retry afresh
        assert all(b"DKIM-Signature" not in body for body in session.scalars(select(OutboxMail.body)))
