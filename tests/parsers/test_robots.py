"""Robots that are not bounces (issue 14, point 4): TLS and DMARC reports, complaint reports (ARF and the providers'
own), read receipts, calendar answers and out-of-office bodies are automatic, each with its reason; the same words
or attachments from a person (a forward, a question) stay normal mail."""
from __future__ import annotations

import pytest

from mailbot.parsers import MailKind, parse_mail


def build(headers: str, body: str, content_type: str = "text/plain; charset=utf-8",
          sender: str = "Jeanne Martin <jeanne.martin@example.fr>") -> bytes:
    head = (f"From: {sender}\nTo: aide@club.fr\nMessage-ID: <r1@example.fr>\nDate: Thu, 3 Dec 2026 10:00:00 +0100\n"
            f"{headers}MIME-Version: 1.0\nContent-Type: {content_type}\n")
    return (head + "\n" + body).encode("utf-8")


def mixed(text: str, *parts: str, boundary: str = "M") -> str:
    out = f"--{boundary}\nContent-Type: text/plain; charset=utf-8\n\n{text}\n"
    for part in parts:
        out += f"--{boundary}\n{part}\n"
    return out + f"--{boundary}--\n"


ZIP = "Content-Type: application/zip; name=\"{0}\"\nContent-Disposition: attachment; filename=\"{0}\"\n" \
      "Content-Transfer-Encoding: base64\n\nUEsDBAoAAAAAAA==\n"
GOOGLE_DMARC = "google.com!club.fr!1733011200!1733097599.zip"
ORIGINAL = ("Content-Type: message/rfc822\n\nFrom: Club Aide <aide@club.fr>\nTo: someone@hotmail.com\n"
            "X-HmXmrOriginalRecipient: <someone@hotmail.com>\nSubject: Appel du club\n\nBonjour.\n")

ROBOTS = {
    "tls report (report-type=tlsrpt)": (build(
        "Subject: Report Domain: club.fr Submitter: google.com Report-ID: <2026.12.01T00.00.00Z+club.fr@google.com>\n"
        "TLS-Report-Domain: club.fr\nTLS-Report-Submitter: google.com\n",
        "--T\nContent-Type: text/plain\n\nThis is an aggregate TLS report from google.com\n--T\n"
        "Content-Type: application/tlsrpt+gzip; name=\"google.com!club.fr!1733011200!1733097599!001.json.gz\"\n"
        "Content-Transfer-Encoding: base64\n\nH4sIAAAAAAAAAA==\n--T--\n",
        'multipart/report; report-type=tlsrpt; boundary="T"',
        "noreply-smtp-tls-reporting@google.com"), MailKind.BULK, "TLS"),
    "tls report as json without the report type": (build(
        "Subject: TLS report\nTLS-Report-Domain: club.fr\n", '{"organization-name": "Example"}',
        "application/tlsrpt+json", "tlsrpt@mail.example"), MailKind.BULK, "TLS"),
    "dmarc aggregate report (Google)": (build(
        "Subject: Report domain: club.fr Submitter: google.com Report-ID: 1234567890\n",
        mixed("This is an aggregate report from google.com.", ZIP.format(GOOGLE_DMARC)),
        'multipart/mixed; boundary="M"', "noreply-dmarc-support@google.com"), MailKind.BULK, "DMARC"),
    "dmarc aggregate report (Microsoft, gz)": (build(
        "Subject: Report Domain: club.fr Submitter: protection.outlook.com Report-ID: <a1b2c3>\n",
        mixed("", ZIP.format("protection.outlook.com!club.fr!1733011200!1733097600.xml.gz")
              .replace("application/zip", "application/gzip")), 'multipart/mixed; boundary="M"',
        "dmarcreport@microsoft.com"), MailKind.BULK, "DMARC"),
    "dmarc aggregate report with another subject": (build(
        "Subject: DMARC Aggregate Report\n", mixed("", ZIP.format("yahoo.com!club.fr!1733011200!1733097599.xml.zip"
                                                                   .replace(".xml.zip", ".zip"))),
        'multipart/mixed; boundary="M"', "dmarchelp@yahoo.com"), MailKind.BULK, "DMARC"),
    "ARF part inside another structure": (build(
        "Subject: Abuse report\n",
        mixed("This is an email abuse report.", "Content-Type: message/feedback-report\n\nFeedback-Type: abuse\n"
              "User-Agent: SomeGenerator/1.0\nVersion: 1\n"), 'multipart/mixed; boundary="M"',
        "abuse@isp.example"), MailKind.BULK, "ARF"),
    "Hotmail complaint (JMRP)": (build(
        "Subject: complaint about message from 192.0.2.10\n", mixed("", ORIGINAL), 'multipart/mixed; boundary="M"',
        "staff@hotmail.com"), MailKind.BULK, "plainte"),
    "AOL complaint": (build(
        "Subject: Email Feedback Report for IP 192.0.2.10\n", mixed("Feedback report", ORIGINAL.replace(
            "X-HmXmrOriginalRecipient: <someone@hotmail.com>\n", "")), 'multipart/mixed; boundary="M"',
        "scomp@aol.net"), MailKind.BULK, "plainte"),
    "read receipt part without multipart/report": (build(
        "Subject: Lu : Votre demande\n", mixed("Votre message a été lu.",
                                               "Content-Type: message/disposition-notification\n\n"
                                               "Final-Recipient: rfc822; jeanne.martin@example.fr\n"
                                               "Disposition: manual-action/MDN-sent-manually; displayed\n"),
        'multipart/mixed; boundary="M"'), MailKind.AUTO_REPLY, "lecture"),
    "Thunderbird receipt (French)": (build(
        "Subject: Accusé de réception (affiché) - Votre demande CA-2026-0042\n",
        "Ceci est un accusé de réception pour le courrier électronique envoyé à jeanne.martin@example.fr."),
     MailKind.AUTO_REPLY, "auto-reply subject"),
    "Thunderbird receipt (English)": (build(
        "Subject: Return Receipt (displayed) - Your request\n", "This is a Return Receipt for the mail."),
     MailKind.AUTO_REPLY, "auto-reply subject"),
    "not read": (build("Subject: Non lu : Votre demande\n", "Votre message n'a pas été lu."),
                 MailKind.AUTO_REPLY, "auto-reply subject"),
    "calendar acceptance (method parameter)": (build(
        "Subject: Accepté : Réunion du club\n",
        "--A\nContent-Type: text/plain; charset=utf-8\n\nJeanne Martin a accepté.\n--A\n"
        "Content-Type: text/calendar; charset=utf-8; method=REPLY\n\nBEGIN:VCALENDAR\nMETHOD:REPLY\n"
        "BEGIN:VEVENT\nATTENDEE;PARTSTAT=ACCEPTED:mailto:jeanne.martin@example.fr\nEND:VEVENT\nEND:VCALENDAR\n--A--\n",
        'multipart/alternative; boundary="A"'), MailKind.AUTO_REPLY, "METHOD:REPLY"),
    "calendar decline (in the data only)": (build(
        "Subject: Refusé : Réunion du club\n",
        "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nATTENDEE;PARTSTAT=DECLINED:mailto:j@example.fr\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n", "text/calendar; charset=utf-8"), MailKind.AUTO_REPLY, "METHOD:REPLY"),
    "out-of-office body (French, own words)": (build(
        "Subject: Re: Votre demande CA-2026-0042\n",
        "Bonjour,\n\nAbsente du bureau jusqu'au 3 janvier. Pour toute urgence, contactez le 01 02 03 04 05.\n"),
     MailKind.AUTO_REPLY, "réponse automatique"),
    "out-of-office body (English)": (build(
        "Subject: Your request\n", "Out of office until Monday 7 December, with limited access to e-mail.\n"),
     MailKind.AUTO_REPLY, "réponse automatique"),
    "out-of-office body (German)": (build(
        "Subject: AW: Anfrage\n", "Abwesenheitsnotiz: Ich bin bis 4. Januar nicht im Büro.\n"),
     MailKind.AUTO_REPLY, "réponse automatique"),
    "out-of-office body (Spanish)": (build(
        "Subject: RE: Solicitud\n", "Respuesta automática: estoy fuera de la oficina hasta el lunes.\n"),
     MailKind.AUTO_REPLY, "réponse automatique"),
    "Outlook out-of-office with a translated subject and no Auto-Submitted": (build(
        "Subject: Votre demande CA-2026-0042\nX-Auto-Response-Suppress: All\n",
        "Bonjour,\nJe suis absente du bureau jusqu'au 3 décembre, avec un accès limité à mes mails.\nJeanne\n"),
     MailKind.AUTO_REPLY, "absence"),
    "out-of-office after a greeting on the same line": (build(
        "Subject: RE: Votre demande\nX-Auto-Response-Suppress: All\n",
        "Madame, Monsieur, je suis actuellement absent et de retour le 4 janvier.\n"), MailKind.AUTO_REPLY, "absence"),
    "out-of-office sentence from a mail system": (build(
        "Subject: Your request\nReturn-Path: <>\n", "I am currently out of the office until 7 December.\n"),
     MailKind.AUTO_REPLY, "absence"),
    "Dutch out-of-office sentence with Outlook's header": (build(
        "Subject: Uw verzoek\nX-Auto-Response-Suppress: All\n", "Ik ben afwezig tot 4 januari.\n"),
     MailKind.AUTO_REPLY, "absence"),
}


@pytest.mark.parametrize("name", sorted(ROBOTS))
def test_robots_are_automatic_with_their_reason(name: str) -> None:
    raw, kind, reason = ROBOTS[name]
    parsed = parse_mail(raw)
    assert parsed.kind is kind, (name, parsed.kind, parsed.kind_reason)
    assert reason.lower() in parsed.kind_reason.lower(), parsed.kind_reason


PEOPLE = {
    "a member forwarding a DMARC report to ask": build(
        "Subject: TR: Report domain: club.fr Submitter: google.com Report-ID: 123\n",
        mixed("Bonjour, je reçois ces rapports chaque jour, que dois-je en faire ?", ZIP.format(GOOGLE_DMARC)),
        'multipart/mixed; boundary="M"'),
    "a member asking about TLS reports": build(
        "Subject: Rapport TLS de Google : que faire ?\n", "Bonjour, Google m'envoie des rapports TLS, est-ce grave ?"),
    "a member's complaint about a supplier": build(
        "Subject: Complaint about message from my supplier\n", "Bonjour, mon fournisseur m'insulte par mail."),
    "a member's calendar invitation (METHOD:REQUEST)": build(
        "Subject: Invitation : rendez-vous au club\n",
        "--A\nContent-Type: text/plain; charset=utf-8\n\nJe vous propose un rendez-vous.\n--A\n"
        "Content-Type: text/calendar; charset=utf-8; method=REQUEST\n\nBEGIN:VCALENDAR\nMETHOD:REQUEST\n"
        "END:VCALENDAR\n--A--\n", 'multipart/alternative; boundary="A"'),
    "asking for an acknowledgement": build("Subject: Accusé de réception\n",
                                           "Bonjour, pouvez-vous m'envoyer un accusé de réception ?"),
    "asking about read receipts": build("Subject: Accusé de lecture (Outlook) : comment l'activer ?\n",
                                        "Bonjour, comment activer l'accusé de lecture ?"),
    "absent next week, with a question": build(
        "Subject: Absence\nX-Auto-Response-Suppress: All\n",
        "Bonjour,\nJe suis absente du bureau jusqu'au 3 décembre. Pouvez-vous rappeler mon client ?\n"),
    "absent, no robot evidence": build(
        "Subject: Re: Votre demande CA-2026-0042\n",
        "Bonjour,\nJe suis absent du bureau jusqu'au 3 décembre, je vous rappelle ensuite pour le devis.\n"),
    "absent apprentice": build("Subject: Absent depuis 3 semaines\n",
                               "Absent depuis 3 semaines, mon apprenti ne répond plus. Que faire ?"),
    "out of office furniture": build("Subject: Devis\n", "Out of office furniture is what I sell, any advice"),
    "a Hotmail user's own mail with the JMRP header on top": build(
        "Subject: Demande\nX-HmXmrOriginalRecipient: <aide@club.fr>\n", "Bonjour, une question sur ma TVA.",
        sender="jeanne@hotmail.com"),
    "a question about auto-replies": build(
        "Subject: Question\n", "Réponse automatique : comment la configurer sur mon téléphone ?"),
}


@pytest.mark.parametrize("name", sorted(PEOPLE))
def test_people_are_normal(name: str) -> None:
    parsed = parse_mail(PEOPLE[name])
    assert parsed.kind is MailKind.NORMAL, (name, parsed.kind_reason)
