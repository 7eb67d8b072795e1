"""Commands need more than a leaked address (issue 11, point 7, and the two command cases), end to end over the
real Dovecot + Postfix, on SQLite and PostgreSQL.

- A forged `From:` of Aideur writing to his command address (printed in every notification) sends nothing to any
  member: every Aideur address is asked to confirm, quoting the command and what it would send; OUI executes it
  once, NON cancels it, anything unclear is asked again.
- A mail to the plain club address with Aideur's `From:` and an `In-Reply-To`/`References` naming one of his
  notifications commands nothing: a Message-ID is thread context, never authority. Aideur is told.
- `mailbot aideur rotate-address`: the old command address stops commanding (Aideur is alerted when it is used),
  the new one is mailed to every Aideur address and works.
- Without MAILBOT_AUTHSERV_ID, mailbot checks DKIM itself (DNS answered by a stub): once Aideur's domain was seen
  signing, an unsigned or badly signed mail with his `From:` drives nothing; a signed one through the command
  address still waits for his OUI.
- Commands that send nothing to a member (#tickets, #aide, #note) need no confirmation.
"""
from __future__ import annotations

import base64
import os
import smtplib
import subprocess
import sys
from datetime import timedelta
from email.utils import make_msgid

import dkim as dkimpy
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import func, select

import mailbot.dkim
from mailbot.config import load_settings
from mailbot.models import Event, InboundMail, OutboxMail, PendingCommand, SigningDomain, Ticket
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
from tests.integration.aideur_clients import confirm_command, confirmation_requests, reply_to_notification
from tests.integration.test_triage import THURSDAY

pytestmark = pytest.mark.servers

AIDEUR2 = "aideur.mobile@club.test"  # Aideur's second address (his phone's account)
PHISHING = "http://club-aide-connexion.example/login"
ALERT = "n'a pas été traité"


# --- fixtures and helpers -----------------------------------------------------------------------------------------

@pytest.fixture
def two_aideurs(clean_mail, database_url):  # type: ignore[no-untyped-def]
    """Settings with two Aideur addresses, each a real mailbox."""
    clean_mail.add_user(AIDEUR2, PASSWORD)
    env = make_env(clean_mail, database_url, MAILBOT_AIDEUR_ADDRESSES=f"{AIDEUR},{AIDEUR2}")
    return env, load_settings(env, env_file=None)


@pytest.fixture
def cmd_sessions(two_aideurs, sessions_for):  # type: ignore[no-untyped-def]
    return sessions_for(two_aideurs[1].database_url)


def open_ticket(server, settings, sessions):  # type: ignore[no-untyped-def]
    """Alice asks; Aideur's notification (first address) is returned."""
    add_members(sessions)
    smtp_send(server, make_mail(ALICE, "Déclaration de TVA", "Bonjour, je cherche de l'aide pour ma TVA."))
    wait_mail(server, CLUB, 1)
    run_cycle(settings, sessions, at=THURSDAY)
    wait_mail(server, ALICE, 1)
    wait_mail(server, AIDEUR2, 1)
    [note] = wait_mail(server, AIDEUR, 1)
    return note


def command_address_of(note) -> str:  # type: ignore[no-untyped-def]
    return next(line.strip() for line in note.text.splitlines() if line.strip().startswith("aide+c"))


def forged(to: str, subject: str, body: str, **headers: str):  # type: ignore[no-untyped-def]
    """The attacker's mail: Aideur's From:, sent from the attacker's own SMTP session (envelope: the stranger)."""
    message = make_mail(f"Aideur <{AIDEUR}>", subject, body, to=to, **headers)
    message.replace_header("Message-ID", make_msgid(domain="ailleurs.test"))
    return message


def send_and_cycle(server, settings, sessions, message, at=THURSDAY):  # type: ignore[no-untyped-def]
    if isinstance(message, bytes):
        append(server, CLUB, message)
    else:
        with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as smtp:
            smtp.send_message(message, from_addr=STRANGER)
        wait_mail(server, CLUB, 1)
    return run_cycle(settings, sessions, at=at)


def to_member(sessions, address: str = ALICE) -> list[str]:  # type: ignore[no-untyped-def]
    """The kinds of every mail queued to that member, oldest first."""
    with sessions() as session:
        return list(session.scalars(select(OutboxMail.kind).where(OutboxMail.recipient == address)
                                    .order_by(OutboxMail.id)))


def status(sessions) -> str:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return session.scalars(select(Ticket)).one().status


def nobody_else_got_anything(server) -> None:  # type: ignore[no-untyped-def]
    """Only Alice's acknowledgement reached a member, and the attacker's mailbox stays empty."""
    [ack] = mailbox(server, ALICE)
    assert ack.subject.startswith("[CA-2026-0001]") and PHISHING not in ack.text
    for address in (BRUNO, CHLOE, STRANGER):
        assert mailbox(server, address) == [], address


# --- case (a): a forged #solution through the command address -----------------------------------------------------

def test_forged_solution_through_the_command_address_reaches_no_member_and_aideur_is_asked(
        clean_mail, two_aideurs, cmd_sessions):
    server, (_env, settings), sessions = clean_mail, two_aideurs, cmd_sessions
    note = open_ticket(server, settings, sessions)
    attack = forged(command_address_of(note), "CA-2026-0001",
                    f"#solution Votre dossier est prêt : connectez-vous sur {PHISHING}")
    report = send_and_cycle(server, settings, sessions, attack)
    assert dict(report.actions) == {"aideur-command": 1}
    # Nothing to the member, nothing changed on the ticket.
    assert status(sessions) == "new"
    assert to_member(sessions) == ["accuse_reception"]
    settle(server, ALICE, 1)
    nobody_else_got_anything(server)
    # Both Aideur addresses are asked, the command quoted with what it would send and to whom.
    for address in (AIDEUR, AIDEUR2):
        [request] = confirmation_requests(server, address)
        text = " ".join(request.text.split())
        assert PHISHING in text and "#solution" in text and ALICE in text and "Alice Martin" in text
        assert "OUI" in text and "NON" in text and "Si vous n'avez pas écrit ce mail" in text
        assert request.reply_to[0].startswith("aide+q") and request.reply_to[0] != command_address_of(note)
    with sessions() as session:
        [pending] = session.scalars(select(PendingCommand)).all()
        assert pending.status == "pending" and pending.expires_at == THURSDAY + timedelta(hours=72)

    # Aideur did not write it: NON. Nothing is sent, ever, even if a late OUI follows.
    report = confirm_command(server, settings, sessions, THURSDAY, "Non, ce n'est pas moi.")
    assert dict(report.actions) == {"aideur-command": 1}
    with sessions() as session:
        assert session.scalars(select(PendingCommand.status)).one() == "cancelled"
    assert any("Commande annulée" in m.subject for m in settle(server, AIDEUR, 3))
    confirm_command(server, settings, sessions, THURSDAY, "OUI",
                    request=confirmation_requests(server, AIDEUR2)[0], sender=AIDEUR2)
    assert any("annulée" in m.text for m in mailbox(server, AIDEUR2) if "Commande" in m.subject)
    assert status(sessions) == "new" and to_member(sessions) == ["accuse_reception"]
    settle(server, ALICE, 1)
    nobody_else_got_anything(server)


def test_aideur_confirms_with_oui_and_the_command_runs_exactly_once(clean_mail, two_aideurs, cmd_sessions):
    server, (_env, settings), sessions = clean_mail, two_aideurs, cmd_sessions
    note = open_ticket(server, settings, sessions)
    send_and_cycle(server, settings, sessions, forged(
        command_address_of(note), "CA-2026-0001", "#solution Déclarez en ligne sur impots.gouv.fr, rubrique TVA."))
    # An answer that is not a plain yes is asked again; nothing is sent.
    confirm_command(server, settings, sessions, THURSDAY, "Oui, mais attendez mon feu vert")
    assert status(sessions) == "new" and to_member(sessions) == ["accuse_reception"]
    assert any("répondez OUI ou NON" in m.subject for m in settle(server, AIDEUR, 3))
    # His second address says OUI: executed once, the member gets the solution (and the result form).
    report = confirm_command(server, settings, sessions, THURSDAY, "OUI", sender=AIDEUR2, client="outlook",
                             request=confirmation_requests(server, AIDEUR2)[0])
    assert dict(report.actions) == {"aideur-command": 1}
    assert status(sessions) == "proposed"
    assert to_member(sessions) == ["accuse_reception", "solution"]  # the result form goes a week later
    solution = [m for m in settle(server, ALICE, 2) if "impots.gouv.fr" in m.text]
    assert len(solution) == 1
    # A second OUI (the first address, or the same reply delivered again) does nothing more.
    confirm_command(server, settings, sessions, THURSDAY, "OUI", request=confirmation_requests(server, AIDEUR)[0])
    assert to_member(sessions) == ["accuse_reception", "solution"]  # the result form goes a week later
    assert any("déjà exécutée" in m.subject for m in settle(server, AIDEUR, 4))
    assert len(settle(server, ALICE, 2)) == 2
    with sessions() as session:
        kinds = list(session.scalars(select(Event.kind).order_by(Event.id)))
    assert kinds.count("command:solution") == 1 and "command-pending" in kinds and "command-confirmed" in kinds


def test_a_confirmation_answered_too_late_runs_nothing(clean_mail, two_aideurs, cmd_sessions):
    server, (_env, settings), sessions = clean_mail, two_aideurs, cmd_sessions
    note = open_ticket(server, settings, sessions)
    send_and_cycle(server, settings, sessions, forged(command_address_of(note), "CA-2026-0001", "#clore"))
    confirm_command(server, settings, sessions, THURSDAY + timedelta(hours=73), "OUI")
    assert status(sessions) == "new" and to_member(sessions) == ["accuse_reception"]
    assert any("délai dépassé" in m.subject for m in settle(server, AIDEUR, 4))


def test_only_the_confirmation_address_confirms(clean_mail, two_aideurs, cmd_sessions):
    """The OUI must come through the confirmation's own reply address (not the plain address with the request in
    In-Reply-To), from an Aideur address (a stranger's OUI through it confirms nothing)."""
    server, (_env, settings), sessions = clean_mail, two_aideurs, cmd_sessions
    note = open_ticket(server, settings, sessions)
    send_and_cycle(server, settings, sessions, forged(command_address_of(note), "CA-2026-0001", "#clore"))
    [request] = confirmation_requests(server, AIDEUR)
    through_plain = reply_to_notification(request, "OUI", "thunderbird", to=CLUB)
    assert dict(send_and_cycle(server, settings, sessions, through_plain).actions) == {"aideur-unrouted": 1}
    stranger = reply_to_notification(request, "OUI", "gmail", sender=STRANGER, name="Inconnu")
    send_and_cycle(server, settings, sessions, stranger)
    assert status(sessions) == "new" and to_member(sessions) == ["accuse_reception"]
    with sessions() as session:
        assert session.scalars(select(PendingCommand.status)).one() == "pending"


def test_commands_that_send_nothing_need_no_confirmation(clean_mail, two_aideurs, cmd_sessions):
    server, (_env, settings), sessions = clean_mail, two_aideurs, cmd_sessions
    note = open_ticket(server, settings, sessions)
    address = command_address_of(note)
    smtp_send(server, make_mail(AIDEUR, "#tickets", "", to=address))
    smtp_send(server, make_mail(AIDEUR, "CA-2026-0001", "#note rappeler Alice lundi", to=address))
    wait_mail(server, CLUB, 2)
    assert dict(run_cycle(settings, sessions, at=THURSDAY).actions) == {"aideur-command": 2}
    notes = settle(server, AIDEUR, 2)
    assert any(n.subject.startswith("Demandes ouvertes") for n in notes)
    assert confirmation_requests(server, AIDEUR) == []
    with sessions() as session:
        assert session.scalar(select(func.count(Event.id)).where(Event.kind == "command:note")) == 1
        assert session.scalar(select(func.count(PendingCommand.id))) == 0


def test_a_flood_of_forged_commands_is_not_a_flood_of_mail(clean_mail, two_aideurs, cmd_sessions):
    """Twelve forged commands in an hour: ten confirmation questions, then one notice, and nothing to anyone else."""
    server, (_env, settings), sessions = clean_mail, two_aideurs, cmd_sessions
    note = open_ticket(server, settings, sessions)
    with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as smtp:
        for number in range(12):
            smtp.send_message(forged(command_address_of(note), "CA-2026-0001", f"#solution lien {number} {PHISHING}"),
                              from_addr=STRANGER)
    wait_mail(server, CLUB, 12)
    assert dict(run_cycle(settings, sessions, at=THURSDAY).actions) == {"aideur-command": 12}
    for address in (AIDEUR, AIDEUR2):
        received = settle(server, address, 1 + 10 + 1)
        assert len([m for m in received if "Confirmez-vous" in m.subject]) == 10
        assert len([m for m in received if "Trop de commandes" in m.subject]) == 1
    assert status(sessions) == "new" and to_member(sessions) == ["accuse_reception"]
    settle(server, ALICE, 1)
    nobody_else_got_anything(server)


# --- case (b): the plain address with In-Reply-To -----------------------------------------------------------------

@pytest.mark.parametrize("thread", ["In-Reply-To", "References", "both"])
def test_plain_address_citing_a_notification_commands_nothing(clean_mail, two_aideurs, cmd_sessions, thread):
    server, (_env, settings), sessions = clean_mail, two_aideurs, cmd_sessions
    note = open_ticket(server, settings, sessions)
    cited = note.headers["message-id"][0]
    headers = {"In-Reply-To": cited} if thread == "In-Reply-To" else {"References": cited} \
        if thread == "References" else {"In-Reply-To": cited, "References": cited}
    attack = forged(CLUB, "Re: " + note.subject, "#accepter 18/12\nBonjour Alice, c'est accepté.", **headers)
    report = send_and_cycle(server, settings, sessions, attack)
    assert dict(report.actions) == {"aideur-unrouted": 1}
    assert status(sessions) == "new" and to_member(sessions) == ["accuse_reception"]
    with sessions() as session:
        assert session.scalar(select(func.count(Event.id)).where(Event.kind.like("command%"))) == 0
        assert session.scalar(select(func.count(PendingCommand.id))) == 0
    # Aideur (every address) is told that nothing was done, and why.
    for address in (AIDEUR, AIDEUR2):
        alerts = [m for m in settle(server, address, 2) if ALERT in m.subject]
        assert len(alerts) == 1
        assert "Rien n'a été fait" in alerts[0].text and "références" in alerts[0].text
    settle(server, ALICE, 1)
    nobody_else_got_anything(server)
    # The real Aideur replying through the notification's own reply address still commands.
    smtp_send(server, reply_to_notification(note, "#accepter 18/12", "outlook"))
    wait_mail(server, CLUB, 1)
    assert dict(run_cycle(settings, sessions, at=THURSDAY).actions) == {"aideur-reply": 1}
    assert status(sessions) == "accepted"


def test_a_reply_address_made_from_a_notifications_message_id_commands_nothing(clean_mail, two_aideurs,
                                                                              cmd_sessions):
    """Someone Cc'd on Aideur's reply holds the notification's Message-ID: turned into a plus address, it is
    worth nothing (the Message-ID's token is sealed for threads only)."""
    server, (_env, settings), sessions = clean_mail, two_aideurs, cmd_sessions
    note = open_ticket(server, settings, sessions)
    token = note.headers["message-id"][0].strip("<>").split(".", 1)[0]
    assert token.startswith("t1a-")
    made_up = f"aide+{token}@club.test"
    assert made_up != note.reply_to[0]
    report = send_and_cycle(server, settings, sessions, forged(made_up, "Re: " + note.subject,
                                                               f"#solution {PHISHING}"))
    assert dict(report.actions) == {"aideur-unrouted": 1}
    assert status(sessions) == "new" and to_member(sessions) == ["accuse_reception"]
    settle(server, ALICE, 1)
    nobody_else_got_anything(server)


# --- rotation -----------------------------------------------------------------------------------------------------

def test_rotate_address_retires_the_old_one_and_mails_the_new_one(clean_mail, two_aideurs, cmd_sessions):
    server, (env, settings), sessions = clean_mail, two_aideurs, cmd_sessions
    note = open_ticket(server, settings, sessions)
    old = command_address_of(note)
    done = subprocess.run([sys.executable, "-m", "mailbot", "aideur", "rotate-address"],
                          env=os.environ | env, capture_output=True, text=True, timeout=120, cwd="/tmp", check=False)
    assert done.returncode == 0, done.stderr
    new = done.stdout.split("nouvelle adresse de commande : ", 1)[1].split()[0]
    assert new.startswith("aide+c1a-") and new != old
    run_cycle(settings, sessions, at=THURSDAY)  # the daemon sends the new address to every Aideur address
    for address in (AIDEUR, AIDEUR2):
        [told] = [m for m in settle(server, address, 2) if "nouvelle adresse de commande" in m.subject]
        assert new in told.text and old not in told.text
    # The old address commands nothing any more, even from the real Aideur; he is alerted.
    smtp_send(server, make_mail(AIDEUR, "CA-2026-0001", "#clore", to=old))
    wait_mail(server, CLUB, 1)
    assert dict(run_cycle(settings, sessions, at=THURSDAY).actions) == {"aideur-unrouted": 1}
    [alert] = [m for m in settle(server, AIDEUR, 3) if ALERT in m.subject]
    assert "ancienne adresse de commande" in alert.subject and new in alert.text
    assert confirmation_requests(server, AIDEUR) == []
    # The new one works (with the confirmation round trip).
    smtp_send(server, make_mail(AIDEUR, "CA-2026-0001", "#clore", to=new))
    wait_mail(server, CLUB, 1)
    assert dict(run_cycle(settings, sessions, at=THURSDAY).actions) == {"aideur-command": 1}
    confirm_command(server, settings, sessions, THURSDAY, "OUI")
    assert status(sessions) == "closed"
    assert "cloture" in to_member(sessions)


# --- own DKIM verification (MAILBOT_AUTHSERV_ID unset) -------------------------------------------------------------

@pytest.fixture(scope="module")
def aideur_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def club_dns(monkeypatch, aideur_key):  # type: ignore[no-untyped-def]
    """The public key of Aideur's domain (club.test, selector "mail") in a stub resolver; any other name is
    absent, as NXDOMAIN would be."""
    der = aideur_key.public_key().public_bytes(serialization.Encoding.DER,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    records = {b"mail._domainkey.club.test.": b"v=DKIM1; k=rsa; p=" + base64.b64encode(der)}
    asked: list[bytes] = []

    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        asked.append(name)
        return records.get(name)

    monkeypatch.setattr(mailbot.dkim, "lookup_txt", lookup)
    return asked


def signed(message, key, *, domain: bytes = b"club.test") -> bytes:  # type: ignore[no-untyped-def]
    raw = message.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption())
    return dkimpy.sign(raw, b"mail", domain, pem, include_headers=[b"from", b"to", b"subject", b"message-id"]) + raw


def test_own_dkim_check_refuses_unsigned_mail_from_a_signing_domain(clean_mail, two_aideurs, cmd_sessions,
                                                                     club_dns, aideur_key):
    server, (_env, settings), sessions = clean_mail, two_aideurs, cmd_sessions
    assert not settings.authserv_id
    note = open_ticket(server, settings, sessions)
    # 1. Signed by his domain: a command through the notification's reply address runs, the domain is learned.
    report = send_and_cycle(server, settings, sessions, signed(reply_to_notification(note, "#note signé", "gmail"),
                                                               aideur_key))
    assert dict(report.actions) == {"aideur-reply": 1}
    assert b"mail._domainkey.club.test." in club_dns
    with sessions() as session:
        assert session.scalars(select(SigningDomain.domain)).all() == ["club.test"]
    # 2. Unsigned, from the same domain: refused, nothing done, Aideur told why.
    unsigned = reply_to_notification(note, "#refuser Nous ne pouvons pas.", "thunderbird")
    assert dict(send_and_cycle(server, settings, sessions, unsigned).actions) == {"aideur-unrouted": 1}
    # 3. Signed, then changed on the way (the attacker edits a signed mail he got hold of): refused too.
    tampered = signed(reply_to_notification(note, "#note rien", "gmail"), aideur_key).replace(
        b"#note rien", b"#clore tout")
    assert dict(send_and_cycle(server, settings, sessions, tampered).actions) == {"aideur-unrouted": 1}
    # 4. Signed by another key under his domain's name (no such key published): refused.
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged_sig = signed(reply_to_notification(note, "#clore", "gmail"), other)
    assert dict(send_and_cycle(server, settings, sessions, forged_sig).actions) == {"aideur-unrouted": 1}
    assert status(sessions) == "new" and to_member(sessions) == ["accuse_reception"]
    alerts = [m for m in settle(server, AIDEUR, 4) if "expéditeur non confirmé" in m.subject]
    assert len(alerts) == 3
    assert all("signature électronique (DKIM)" in " ".join(m.text.split()) for m in alerts)
    # 5. Signed, through the command address: still waits for his OUI (the address is the capability, not the
    #    signature), then runs once.
    fresh = make_mail(AIDEUR, "CA-2026-0001", "#accepter 18/12", to=command_address_of(note))
    assert dict(send_and_cycle(server, settings, sessions, signed(fresh, aideur_key)).actions) == \
        {"aideur-command": 1}
    assert status(sessions) == "new"
    [request] = confirmation_requests(server, AIDEUR)
    oui = signed(reply_to_notification(request, "OUI", "thunderbird"), aideur_key)
    assert dict(send_and_cycle(server, settings, sessions, oui).actions) == {"aideur-command": 1}
    assert status(sessions) == "accepted"
    assert to_member(sessions) == ["accuse_reception", "acceptation"]
    with sessions() as session:
        assert session.scalar(select(func.count(InboundMail.id)).where(
            InboundMail.outcome == "aideur-unrouted")) == 3
