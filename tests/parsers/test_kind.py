"""Kind detection (issue 11, point 5): a mail is automatic only on header or structure evidence, or on a subject
that starts with an autoresponder's words; delivery reports count as failures only when they say so."""
from __future__ import annotations

import pytest

from mailbot.parsers import MailKind, parse_mail
from mailbot.parsers.kind import NO_FAILURE, auto_reply_subject, is_failure

BODY = "Bonjour,\n\nJe suis absente du bureau jusqu'au 3 décembre, avec un accès limité à mes mails.\n\nJeanne"


def mail(headers: str, body: str = BODY, content_type: str = "text/plain; charset=utf-8",
         sender: str = "Jeanne Martin <jeanne.martin@example.fr>") -> bytes:
    head = f"From: {sender}\nTo: aide@club.fr\nMessage-ID: <k1@example.fr>\n{headers}"
    head += f"MIME-Version: 1.0\nContent-Type: {content_type}\n"
    return (head + "\n" + body).encode("utf-8")


def subject_header(subject: str) -> str:
    from email.header import Header

    return f"Subject: {Header(subject, 'utf-8').encode()}\n"


# --- subjects -----------------------------------------------------------------------------------------------------

AUTO_SUBJECTS = [
    # French (Outlook, Thunderbird, OVH, Orange…)
    "Réponse automatique : Votre demande CA-2026-0042", "Réponse automatique: Votre demande",
    "RE: Réponse automatique : Demande d'aide", "Reponse automatique : Demande", "Absence du bureau",
    "Absence du bureau : Demande d'aide", "Absente du bureau : votre message", "[Réponse automatique] Demande",
    "RÉPONSE AUTOMATIQUE : demande", "Notification d'absence : Demande",
    # English
    "Automatic reply: Your request", "Out of Office: Your request", "Out of Office AutoReply: Your request",
    "Auto reply: Nyaan", "Auto-Reply: hello", "AutoReply: hello", "Autoresponse: hello", "Out of the office",
    "Automated response: your message", "OOO: your request", "Re: hello (Automatic Response)",
    "Thank you for your e-mail",
    # German, Spanish, Italian, Portuguese
    "Abwesenheitsnotiz: Ihre Anfrage", "AW: Abwesenheitsnotiz: Anfrage", "Automatische Antwort: Anfrage",
    "Respuesta automática: Solicitud", "Risposta automatica: Richiesta", "Fuori sede: richiesta",
    "Resposta automática: Pedido",
    # Dutch, Scandinavian, Finnish, Polish, Czech, Hungarian, Romanian, Turkish
    "Automatisch antwoord: Verzoek", "Autosvar: Forespørsel", "SV: Autosvar: Forespørsel",
    "Automaattinen vastaus: Pyyntö", "Automatyczna odpowiedź: Prośba", "[Automatyczna odpowiedź] test",
    "Automatická odpověď: Žádost", "Automatikus válasz: Kérés", "Răspuns automat: Cerere", "Otomatik yanıt: Talep",
    # read receipts sent as plain mail
    "Lu : Votre demande", "Read: Your request", "Gelesen: Anfrage",
]

HUMAN_SUBJECTS = [
    # the three of the issue: members asking about exactly these things
    "Comment configurer une réponse automatique sur Outlook ?", "Absent depuis 3 semaines, mon apprenti…",
    "Message d'absence",
    # and more of the same kind
    "Message d'absence : comment le mettre sur mon téléphone ?", "Réponse automatique qui ne s'arrête plus",
    "Ma réponse automatique envoie des mails à mes clients", "Absent du bureau demain, qui me remplace ?",
    "Absence de mon salarié : que faire ?", "Absent", "Vacances", "Je suis absent la semaine prochaine",
    "Mes salariés en vacances", "Out of ideas for my shop", "Automatic gate installer needed",
    "Lucie m'a conseillé de vous écrire", "Lu votre article : une question", "Ready to help",
    "Retour de congés : besoin d'aide", "TR: Réponse automatique : Votre demande",  # a member forwards one
    "Fwd: Out of Office: Request", "Demande urgente", "Re: Votre demande CA-2026-0042",
    "Autoentrepreneur : déclaration", "Automatisation de ma facturation", "Hors délai : recours ?",
    "Outlook : message d'absence qui ne marche pas", "Absence du bureau de mon comptable : aide",
]


@pytest.mark.parametrize("subject", AUTO_SUBJECTS)
def test_autoresponder_subjects_are_auto_replies(subject: str) -> None:
    assert auto_reply_subject(subject), subject
    parsed = parse_mail(mail(subject_header(subject)))
    assert parsed.kind is MailKind.AUTO_REPLY, subject


@pytest.mark.parametrize("subject", HUMAN_SUBJECTS)
def test_people_writing_about_absence_or_auto_replies_are_normal(subject: str) -> None:
    assert not auto_reply_subject(subject), subject
    parsed = parse_mail(mail(subject_header(subject)))
    assert parsed.kind is MailKind.NORMAL, (subject, parsed.kind_reason)


# --- headers ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("header, kind", [
    ("Auto-Submitted: auto-replied\n", MailKind.AUTO_REPLY),
    ("Auto-Submitted: auto-generated\n", MailKind.AUTO_REPLY),
    ("Auto-Submitted: auto-notified; owner-email=x@y.fr\n", MailKind.AUTO_REPLY),
    ("Precedence: auto_reply\n", MailKind.AUTO_REPLY),
    ("X-Autoreply: yes\n", MailKind.AUTO_REPLY),
    ("X-Autorespond: Demande\n", MailKind.AUTO_REPLY),
    ("X-MS-Exchange-Inbox-Rules-Loop: jeanne.martin@example.fr\n", MailKind.AUTO_REPLY),
    ("X-MS-Exchange-Generated-Message-Source: Mailbox Rules Agent\n", MailKind.AUTO_REPLY),
    ("Precedence: bulk\n", MailKind.BULK),
    ("Precedence: junk\n", MailKind.BULK),
    ("Precedence: list\n", MailKind.BULK),
    ("List-Id: <infos.example.fr>\n", MailKind.BULK),
    ("List-Unsubscribe: <mailto:u@example.fr>\n", MailKind.BULK),
    ("List-Post: <mailto:l@example.fr>\n", MailKind.BULK),
    ("List-Subscribe: <mailto:s@example.fr>\n", MailKind.BULK),
    ("List-Archive: <https://example.fr/archives>\n", MailKind.BULK),
])
def test_header_evidence(header: str, kind: MailKind) -> None:
    parsed = parse_mail(mail("Subject: Demande d'aide\n" + header, "Bonjour, j'ai besoin d'un conseil."))
    assert parsed.kind is kind and parsed.kind_reason


@pytest.mark.parametrize("header", [
    "Auto-Submitted: no\n", "X-Auto-Response-Suppress: All\n", "X-Auto-Response-Suppress: OOF, DR, RN\n",
    "X-Autoreply: no\n", "Importance: high\n", "X-Priority: 1\n", "Return-Path: <jeanne.martin@example.fr>\n",
])
def test_no_evidence_is_normal(header: str) -> None:
    """X-Auto-Response-Suppress asks others not to auto-reply: Outlook puts it on ordinary mail too."""
    parsed = parse_mail(mail("Subject: Absent depuis 3 semaines, mon apprenti…\n" + header,
                             "Mon apprenti est absent depuis 3 semaines sans justificatif. Que faire ?"))
    assert parsed.kind is MailKind.NORMAL, parsed.kind_reason


def test_suppress_header_with_an_autoresponder_subject_is_an_auto_reply() -> None:
    parsed = parse_mail(mail("Subject: Réponse automatique : Demande\nX-Auto-Response-Suppress: All\n"))
    assert parsed.kind is MailKind.AUTO_REPLY and "X-Auto-Response-Suppress" in parsed.kind_reason


def test_a_member_asking_about_a_bounce_is_normal() -> None:
    """Failure words and a bounce-like subject, but an ordinary sender and return path: a request."""
    body = ("Bonjour,\n\nMon client me dit que mon mail n'a pas pu être remis : « user unknown », "
            "« mailbox unavailable ». Pouvez-vous m'aider ?\n\nJeanne")
    parsed = parse_mail(mail("Subject: Mail non distribué : Undelivered Mail Returned to Sender\n"
                             "Return-Path: <jeanne.martin@example.fr>\n", body))
    assert parsed.kind is MailKind.NORMAL, parsed.kind_reason


def test_a_member_forwarding_a_bounce_as_attachment_is_normal() -> None:
    inner = dsn_body("client@exemple.fr", "failed", boundary="I")
    body = ("--O\nContent-Type: text/plain; charset=utf-8\n\nBonjour, j'ai reçu ceci, que faire ?\n"
            "--O\nContent-Type: message/rfc822\n\nFrom: MAILER-DAEMON@exemple.fr\nTo: jeanne.martin@example.fr\n"
            "Subject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\n"
            "Content-Type: multipart/report; report-type=delivery-status; boundary=\"I\"\n\n" + inner + "\n--O--\n")
    parsed = parse_mail(mail("Subject: TR: Undelivered Mail Returned to Sender\n", body,
                             'multipart/mixed; boundary="O"'))
    assert parsed.kind is MailKind.NORMAL, parsed.kind_reason


# --- delivery reports ---------------------------------------------------------------------------------------------

def dsn_body(recipient: str, action: str, *, boundary: str = "B", status: str = "5.1.1") -> str:
    return (f"--{boundary}\nContent-Type: text/plain\n\nDelivery report.\n"
            f"--{boundary}\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.exemple.fr\n\n"
            f"Final-Recipient: rfc822; {recipient}\nOriginal-Recipient: rfc822;{recipient}\n"
            f"Action: {action}\nStatus: {status}\n\n--{boundary}--\n")


def dsn(recipient: str, action: str, status: str = "5.1.1") -> bytes:
    return mail("Subject: Delivery Status Notification\nReturn-Path: <>\n", dsn_body(recipient, action,
                status=status), 'multipart/report; report-type=delivery-status; boundary="B"',
                sender="Mail Delivery System <MAILER-DAEMON@mx.exemple.fr>")


def test_failed_dsn_is_a_failure_naming_its_recipient() -> None:
    parsed = parse_mail(dsn("alice@membres.test", "failed"))
    assert parsed.kind is MailKind.BOUNCE and parsed.bounced_recipients == ("alice@membres.test",)
    assert is_failure(parsed.kind, parsed.kind_reason)


@pytest.mark.parametrize("action", ["delivered", "relayed", "expanded", "delayed", "Relayed", "DELAYED"])
def test_success_and_delay_reports_are_no_failure(action: str) -> None:
    parsed = parse_mail(dsn("alice@membres.test", action, status="2.0.0" if action.lower() != "delayed" else "4.4.1"))
    assert parsed.kind is MailKind.BOUNCE  # still a robot's mail: never answered
    assert parsed.kind_reason.startswith(NO_FAILURE)
    assert not is_failure(parsed.kind, parsed.kind_reason)


def test_a_report_with_one_failure_among_successes_is_a_failure_for_that_one() -> None:
    body = ("--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.exemple.fr\n\n"
            "Final-Recipient: rfc822; bruno@membres.test\nAction: relayed\nStatus: 2.0.0\n\n"
            "Final-Recipient: rfc822; alice@membres.test\nAction: failed\nStatus: 5.1.1\n\n--B--\n")
    parsed = parse_mail(mail("Subject: DSN\nReturn-Path: <>\n", body,
                             'multipart/report; report-type=delivery-status; boundary="B"',
                             sender="MAILER-DAEMON@mx.exemple.fr"))
    assert is_failure(parsed.kind, parsed.kind_reason)
    assert parsed.bounced_recipients == ("alice@membres.test",)


def test_relayed_fields_in_plain_text_from_a_mail_system_are_no_failure() -> None:
    body = ("This is the mail system.\n\nReporting-MTA: dns; mx.exemple.fr\n\n"
            "Final-Recipient: rfc822; alice@membres.test\nAction: relayed\nStatus: 2.0.0\n")
    parsed = parse_mail(mail("Subject: Successful Mail Delivery Report\nReturn-Path: <>\n", body,
                             sender="MAILER-DAEMON@mx.exemple.fr"))
    assert parsed.kind is MailKind.BOUNCE and not is_failure(parsed.kind, parsed.kind_reason)
