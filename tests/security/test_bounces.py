"""Issue 11, point 6: delivery reports are authenticated (VERP), over the real Postfix and Dovecot.

Every mail mailbot sends has its own envelope sender, `aide+b<outbox id><role>-<mac>@club`. A report marks an
address only when it comes back to a valid one, reports a failure, and names the address that very mail went to.
Forged reports (to the plain address, or through someone else's return address naming a third party) and
successful or delayed reports mark nobody: they are recorded with their reason and listed for Aideur.
"""
from __future__ import annotations

import email
import json
import smtplib

import pytest
from sqlalchemy import func, select

from mailbot.models import Event, InboundMail, Member, OutboxMail
from mailbot.tokens import SCOPE_BOUNCE, TokenSigner
from mailbot.workflows.notices import BOUNCE_NO_FAILURE, BOUNCE_UNVERIFIED, BOUNCE_VERIFIED
from tests.helpers import (
    AIDEUR,
    ALICE,
    BRUNO,
    CLUB,
    PASSWORD,
    add_members,
    make_mail,
    run_cycle,
    settle,
    smtp_send,
    wait_mail,
)
from tests.integration.test_cli import mailbot

pytestmark = pytest.mark.servers

GONE = "parti@membres.test"  # Postfix accepts it, Dovecot does not know it: a real bounce, made by Postfix


def dsn(to: str, recipient: str, action: str, *, sender: str = "MAILER-DAEMON@evil.test",
        status: str = "5.1.1") -> bytes:
    """A delivery report as an MTA writes it (RFC 3464), sent with a null envelope sender."""
    return (
        f"From: Mail Delivery System <{sender}>\r\nTo: {to}\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        f"Message-ID: <dsn-{action}-{recipient.replace('@', '.')}@evil.test>\r\nAuto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n"
        "--B\r\nContent-Type: text/plain\r\n\r\nThis is the mail system. Your message could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.evil.test\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nOriginal-Recipient: rfc822;{recipient}\r\n"
        f"Action: {action}\r\nStatus: {status}\r\n\r\n--B--\r\n"
    ).encode()


def send_dsn(server, raw: bytes, to: str) -> None:  # type: ignore[no-untyped-def]
    """Over SMTP with the null envelope sender of a real report (MAIL FROM:<>)."""
    with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as smtp:
        smtp.sendmail("", [to], raw)


def bounced(sessions, address: str):  # type: ignore[no-untyped-def]
    with sessions() as session:
        return session.scalar(select(Member.bounced_at).where(Member.email == address))


def request_acknowledged(server, settings, sessions, sender: str, subject: str = "Besoin d'aide"):  # type: ignore[no-untyped-def]
    """A member's request, processed: the acknowledgement goes out (to a mailbox, or bouncing)."""
    smtp_send(server, make_mail(sender, subject, "Bonjour, j'ai besoin d'un conseil comptable."))
    wait_mail(server, CLUB, 1)
    report = run_cycle(settings, sessions)
    assert report.actions.get("new-request") == 1


def return_path(message) -> str:  # type: ignore[no-untyped-def]
    return email.message_from_bytes(message.obj.as_bytes()).get("Return-Path", "").strip("<> ")


def test_every_mail_sent_has_its_own_signed_envelope_sender(clean_mail, settings, sessions):
    """The envelope sender survives the sender's code path (aiosmtplib) and Postfix: each recipient's copy has
    its own Return-Path, a valid token naming that outbox row, whose recipient is that person."""
    add_members(sessions)
    request_acknowledged(clean_mail, settings, sessions, ALICE)
    [ack] = settle(clean_mail, ALICE, 1)
    [notice] = settle(clean_mail, AIDEUR, 1)
    signer = TokenSigner(settings.secret_keys)
    seen = {}
    for message, recipient in ((ack, ALICE), (notice, AIDEUR)):
        envelope = return_path(message)
        assert envelope.startswith("aide+b") and envelope.endswith("@club.test"), envelope
        token = signer.find([envelope], scopes=(SCOPE_BOUNCE,))
        assert token is not None
        with sessions() as session:
            row = session.get(OutboxMail, token.number)
            assert row.recipient == recipient and row.sender == envelope
        seen[recipient] = envelope
    assert seen[ALICE] != seen[AIDEUR]
    # The From: and Reply-To stay the club's: only the envelope changes.
    assert CLUB in ack.from_


def test_forged_bounce_to_the_plain_address_marks_nobody(clean_mail, settings, sessions, env):
    add_members(sessions)
    send_dsn(clean_mail, dsn(CLUB, ALICE, "failed"), CLUB)
    wait_mail(clean_mail, CLUB, 1)
    report = run_cycle(settings, sessions)
    assert dict(report.actions) == {"bounce": 1}
    assert bounced(sessions, ALICE) is None
    with sessions() as session:
        record = session.scalars(select(InboundMail)).one()
        assert record.outcome == "bounce" and record.reason.startswith(BOUNCE_UNVERIFIED)
        assert session.scalar(select(func.count(OutboxMail.id))) == 0  # no alert, no answer to anyone
    assert settle(clean_mail, AIDEUR, 0) == [] and settle(clean_mail, ALICE, 0) == []
    # Not silently gone: listed for Aideur and the operator, with its reason.
    listed = json.loads(mailbot(env, "tickets", "unanswered", "--json").stdout)
    assert [(row["outcome"], row["reason"].split(" :")[0]) for row in listed] == [("bounce", BOUNCE_UNVERIFIED)]
    assert "rebond non authentifié" in mailbot(env, "tickets", "list").stdout


def test_forged_bounce_through_someone_elses_return_address_marks_nobody(clean_mail, settings, sessions):
    """Bruno saw the Return-Path of the club's mail to him: a report sent there naming Alice marks nobody."""
    add_members(sessions)
    request_acknowledged(clean_mail, settings, sessions, BRUNO)
    [ack] = settle(clean_mail, BRUNO, 1)
    verp = return_path(ack)
    send_dsn(clean_mail, dsn(verp, ALICE, "failed", sender=f"MAILER-DAEMON@{BRUNO.split('@')[1]}"), verp)
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(settings, sessions)
    assert bounced(sessions, ALICE) is None and bounced(sessions, BRUNO) is None
    with sessions() as session:
        reasons = list(session.scalars(select(InboundMail.reason).where(InboundMail.outcome == "bounce")))
    assert len(reasons) == 1 and reasons[0].startswith(BOUNCE_UNVERIFIED)
    assert len(settle(clean_mail, AIDEUR, 1)) == 1  # only the notification of Bruno's request: no bounce alert
    assert len(settle(clean_mail, ALICE, 0)) == 0


@pytest.mark.parametrize("action", ["relayed", "delayed", "delivered"])
def test_successful_or_delayed_report_through_a_valid_return_address_marks_nobody(clean_mail, settings, sessions,
                                                                                  action):
    add_members(sessions)
    request_acknowledged(clean_mail, settings, sessions, ALICE)
    [ack] = settle(clean_mail, ALICE, 1)
    verp = return_path(ack)
    send_dsn(clean_mail, dsn(verp, ALICE, action, sender="MAILER-DAEMON@membres.test",
                             status="4.4.1" if action == "delayed" else "2.0.0"), verp)
    wait_mail(clean_mail, CLUB, 1)
    report = run_cycle(settings, sessions)
    assert dict(report.actions) == {"bounce": 1}
    assert bounced(sessions, ALICE) is None
    with sessions() as session:
        record = session.scalars(select(InboundMail).where(InboundMail.outcome == "bounce")).one()
        assert record.reason.startswith(BOUNCE_NO_FAILURE) and action in record.reason
        assert record.ticket_id is not None  # recorded on the ticket of the mail it is about
    assert len(settle(clean_mail, AIDEUR, 1)) == 1  # the request's notification only
    assert len(settle(clean_mail, ALICE, 1)) == 1  # the acknowledgement only


def test_real_bounce_from_postfix_through_verp_marks_and_alerts_then_unbounce(clean_mail, settings, sessions, env):
    """Postfix accepts the acknowledgement to GONE, Dovecot refuses it (user unknown), Postfix sends the report
    to the acknowledgement's own envelope sender: it is authentic, GONE is marked and Aideur is told."""
    add_members(sessions)
    clean_mail.add_user(GONE, PASSWORD)
    (clean_mail.users_dir / GONE).unlink()  # Dovecot no longer knows the mailbox: delivery fails for real
    mailbot(env, "members", "add", GONE, "--first-name", "Paul", "--last-name", "Parti")
    request_acknowledged(clean_mail, settings, sessions, GONE)
    wait_mail(clean_mail, CLUB, 1, timeout=30)  # Postfix's own report, to aide+b…@club.test
    report = run_cycle(settings, sessions)
    assert report.actions.get("bounce") == 1
    assert bounced(sessions, GONE) is not None
    assert bounced(sessions, ALICE) is None
    with sessions() as session:
        record = session.scalars(select(InboundMail).where(InboundMail.outcome == "bounce")).one()
        assert record.reason.startswith(BOUNCE_VERIFIED) and record.ticket_id is not None
    notices = settle(clean_mail, AIDEUR, 2)  # the request's notification, then the bounce alert
    [alert] = [m for m in notices if "non distribué" in m.subject]
    assert GONE in alert.subject and "Paul Parti" in alert.text and "lève la marque" in " ".join(alert.text.split())
    assert "mailbot members" not in alert.text  # no shell command in a mail to Aideur: the operator's CLI below

    # The operator checked the address: the CLI clears the mark (and says so); an unknown address is an error.
    done = mailbot(env, "members", "unbounce", GONE)
    assert done.returncode == 0 and "unbounced" in done.stdout
    assert bounced(sessions, GONE) is None
    assert mailbot(env, "members", "unbounce", "personne@nulle-part.test").returncode == 1
    assert "not marked" in mailbot(env, "members", "unbounce", GONE).stdout
    with sessions() as session:
        assert session.scalar(select(func.count(Event.id)).where(Event.kind == "unbounce")) == 1


def test_a_fresh_mail_from_the_member_clears_the_mark(clean_mail, settings, sessions):
    add_members(sessions)
    from mailbot.models import utcnow

    with sessions.begin() as session:
        session.scalars(select(Member).where(Member.email == BRUNO)).one().bounced_at = utcnow()
    request_acknowledged(clean_mail, settings, sessions, BRUNO, "Un nouveau chantier")
    assert bounced(sessions, BRUNO) is None
    assert len(settle(clean_mail, BRUNO, 1)) == 1  # acknowledged as usual


def test_unbounce_is_in_the_cli_help(env):
    help_text = mailbot(env, "members", "--help").stdout
    assert "unbounce" in help_text


def test_address_refused_by_the_clubs_own_smtp_server_is_marked(clean_mail, settings, sessions, env):
    """Postfix refuses an unknown mailbox of a domain it serves at RCPT time (550 5.1.1): no report comes back,
    but the club's own server said it over its own session, as authentic as a report through VERP."""
    add_members(sessions)
    nowhere = "personne-ici@membres.test"  # a served domain, no such mailbox
    mailbot(env, "members", "add", nowhere, "--first-name", "Nina", "--last-name", "Nulle")
    request_acknowledged(clean_mail, settings, sessions, nowhere)
    assert bounced(sessions, nowhere) is not None
    run_cycle(settings, sessions)  # the alert queued by the failure goes out
    alerts = [m for m in settle(clean_mail, AIDEUR, 2) if "Échec d'envoi" in m.subject]
    assert len(alerts) == 1 and "Nina Nulle" in alerts[0].text and "lève la marque" in " ".join(alerts[0].text.split())


def test_without_verp_the_envelope_is_the_club_address_and_no_report_marks(clean_mail, database_url, sessions_for):
    """MAILBOT_VERP=false (a provider refusing plus envelope senders): nothing can authenticate a report."""
    from mailbot.config import load_settings
    from tests.conftest import make_env

    settings = load_settings(make_env(clean_mail, database_url, MAILBOT_VERP="false"), env_file=None)
    sessions = sessions_for(database_url)
    add_members(sessions)
    request_acknowledged(clean_mail, settings, sessions, ALICE)
    [ack] = settle(clean_mail, ALICE, 1)
    assert return_path(ack) == CLUB
    send_dsn(clean_mail, dsn(CLUB, ALICE, "failed", sender="MAILER-DAEMON@membres.test"), CLUB)
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(settings, sessions)
    assert bounced(sessions, ALICE) is None
