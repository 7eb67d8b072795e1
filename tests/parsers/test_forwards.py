"""A forward is content (issue 14, point 1): the forwarded message's sender, date, subject and text are kept apart
from the member's own words, whatever client forwarded it, inline or as a message/rfc822 attachment."""
from __future__ import annotations

import pytest

from mailbot.parsers import MailKind, parse_mail

CLIENT_TEXT = "Votre facture ne correspond pas au devis signé : je refuse de payer le supplément."
OWN = "Bonjour, voir ci-dessous : un client conteste ma facture. Que faire ?"

LAYOUTS = {
    "outlook-tr": ("TR : Facture", ("________________________________\nDe : Gérard Lenoir <g.lenoir@client.fr>\n"
                   "Envoyé : mardi 1 décembre 2026 18:12\nÀ : alice@membres.test\nObjet : Facture de novembre\n\n")),
    "outlook-no-rule": ("TR: Facture", ("De : Gérard Lenoir <g.lenoir@client.fr>\nEnvoyé : mardi 1 décembre 2026 "
                        "18:12\nÀ : alice@membres.test\nObjet : Facture de novembre\n\n")),
    "gmail-en": ("Fwd: Facture", ("---------- Forwarded message ---------\nFrom: Gérard Lenoir <g.lenoir@client.fr>\n"
                 "Date: Tue, Dec 1, 2026 at 6:12 PM\nSubject: Facture de novembre\nTo: <alice@membres.test>\n\n\n")),
    "gmail-fr": ("Fwd: Facture", ("---------- Message transféré ---------\nDe : Gérard Lenoir <g.lenoir@client.fr>\n"
                 "Date: mar. 1 déc. 2026 à 18:12\nSubject: Facture de novembre\nTo: <alice@membres.test>\n\n\n")),
    "thunderbird": ("Fwd: Facture", ("-------- Message transféré --------\nSujet : \tFacture de novembre\n"
                    "Date : \tTue, 1 Dec 2026 18:12:00 +0100\nDe : \tGérard Lenoir <g.lenoir@client.fr>\n"
                    "Pour : \talice@membres.test\n\n\n")),
    "iphone": ("Fwd: Facture", ("Envoyé de mon iPhone\n\nDébut du message réexpédié :\n\n"
               "De: Gérard Lenoir <g.lenoir@client.fr>\nDate: 1 décembre 2026 à 18:12:00 UTC+1\n"
               "À: alice@membres.test\nObjet: Facture de novembre\n\n")),
    "apple-mail": ("Fwd: Facture", ("Begin forwarded message:\n\nFrom: Gérard Lenoir <g.lenoir@client.fr>\n"
                   "Subject: Facture de novembre\nDate: 1 December 2026 at 18:12:00 CET\nTo: alice@membres.test\n\n")),
    "fw-no-subject-words": ("FW: Facture", ("-----Original Message-----\nFrom: Gérard Lenoir <g.lenoir@client.fr>\n"
                            "Sent: Tuesday, December 1, 2026 6:12 PM\nTo: alice@membres.test\n"
                            "Subject: Facture de novembre\n\n")),
}


def mail(subject: str, body: str, extra: str = "") -> bytes:
    return (f"From: Alice Martin <alice@membres.test>\nTo: aide@club.test\nSubject: {subject}\n"
            f"Message-ID: <fw@membres.test>\nDate: Wed, 2 Dec 2026 09:00:00 +0100\n{extra}MIME-Version: 1.0\n"
            f"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n{body}").encode()


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_inline_forward_is_kept_as_content(layout: str) -> None:
    subject, head = LAYOUTS[layout]
    parsed = parse_mail(mail(subject, f"{OWN}\n\n{head}Madame,\n\n{CLIENT_TEXT}\n\nG. Lenoir\n"))
    assert parsed.new_text == OWN
    [forward] = parsed.forwarded
    assert forward.sender == "Gérard Lenoir <g.lenoir@client.fr>"
    assert forward.subject == "Facture de novembre"
    assert "18:12" in forward.date or "6:12" in forward.date
    assert CLIENT_TEXT in forward.text and forward.text.startswith("Madame,")
    assert not forward.attached


def test_bare_forward_has_no_own_words_but_keeps_the_forward() -> None:
    subject, head = LAYOUTS["gmail-fr"]
    parsed = parse_mail(mail(subject, f"{head}{CLIENT_TEXT}\n"))
    assert parsed.new_text == ""
    assert parsed.forwarded[0].text == CLIENT_TEXT


def test_outlook_attribution_forward_names_the_sender_and_takes_the_subject() -> None:
    body = (f"{OWN}\n\nLe 01/12/2026 18:12, « Gérard Lenoir » <g.lenoir@client.fr> a écrit :\n\n"
            f"    {CLIENT_TEXT}\n")
    [forward] = parse_mail(mail("TR: Facture de novembre", body)).forwarded
    assert forward.sender == "Gérard Lenoir <g.lenoir@client.fr>"
    assert forward.subject == "Facture de novembre" and forward.text == CLIENT_TEXT


def test_a_reply_is_not_a_forward() -> None:
    body = f"Oui, merci.\n\nLe 01/12/2026 18:12, Club Aide <aide@club.test> a écrit :\n> {CLIENT_TEXT}\n"
    parsed = parse_mail(mail("Re: Facture", body))
    assert parsed.forwarded == () and parsed.new_text == "Oui, merci."
    # The same layout under "TR :" is a forward of that mail.
    assert parse_mail(mail("TR : Facture", body)).forwarded[0].text == CLIENT_TEXT


def test_forward_as_message_rfc822_attachment() -> None:
    inner = (f"From: Gérard Lenoir <g.lenoir@client.fr>\nTo: alice@membres.test\nSubject: Facture de novembre\n"
             f"Date: Tue, 1 Dec 2026 18:12:00 +0100\nContent-Type: text/plain; charset=utf-8\n"
             f"Content-Transfer-Encoding: 8bit\n\n{CLIENT_TEXT}\n")
    body = (f"--B\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n{OWN}\n"
            f"--B\nContent-Type: message/rfc822\nContent-Disposition: attachment\n\n{inner}--B--\n")
    raw = (f"From: Alice Martin <alice@membres.test>\nTo: aide@club.test\nSubject: Fwd: Facture\n"
           f"Message-ID: <fw2@membres.test>\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=B\n\n"
           f"{body}").encode()
    parsed = parse_mail(raw)
    assert parsed.new_text == OWN
    [forward] = parsed.forwarded
    assert forward.attached and forward.sender == "Gérard Lenoir <g.lenoir@client.fr>"
    assert forward.subject == "Facture de novembre" and forward.text == CLIENT_TEXT


def test_a_bounce_returning_a_message_forwards_nothing() -> None:
    raw = (b"From: MAILER-DAEMON@club.test\nTo: aide@club.test\nSubject: Undelivered Mail Returned to Sender\n"
           b"Message-ID: <b@club.test>\nMIME-Version: 1.0\n"
           b"Content-Type: multipart/report; report-type=delivery-status; boundary=R\n\n"
           b"--R\nContent-Type: text/plain\n\nThis is the mail system. Your message could not be delivered.\n"
           b"--R\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; club.test\n\n"
           b"Final-Recipient: rfc822; x@y.test\nAction: failed\nStatus: 5.1.1\n"
           b"--R\nContent-Type: message/rfc822\n\nFrom: aide@club.test\nSubject: Bonjour\n\nTexte\n--R--\n")
    parsed = parse_mail(raw)
    assert parsed.kind is MailKind.BOUNCE and parsed.forwarded == ()


def test_thunderbird_wraps_long_header_values_without_indenting() -> None:
    head = ("-------- Message transféré --------\nSujet : \tFacture de novembre, relance avant mise en demeure et "
            "pénalités\n(deuxième envoi)\nDate : \tTue, 1 Dec 2026 18:12:00 +0100\nDe : \tGérard Lenoir "
            "<g.lenoir@client.fr>\nRépondre à : \tcompta@client.fr\nPour : \tAlice Martin <alice@membres.test>, "
            "Jean Dupont\n<jean@membres.test>\n\n\n")
    [forward] = parse_mail(mail("Fwd: Facture", f"{OWN}\n\n{head}{CLIENT_TEXT}\n")).forwarded
    assert forward.subject.endswith("pénalités (deuxième envoi)")
    assert forward.sender == "Gérard Lenoir <g.lenoir@client.fr>" and forward.text == CLIENT_TEXT


def test_a_client_mail_pasted_into_a_fresh_mail_is_a_forward_but_not_in_a_reply() -> None:
    _subject, head = LAYOUTS["outlook-no-rule"]
    body = f"{OWN}\n\n{head}{CLIENT_TEXT}\n"
    fresh = parse_mail(mail("Client difficile", body))
    assert fresh.new_text == OWN and fresh.forwarded[0].text == CLIENT_TEXT
    # In a reply the same block is the history of the conversation: cut, not kept as a forward.
    assert parse_mail(mail("Re: Client difficile", body)).forwarded == ()
    assert parse_mail(mail("Client difficile", body, extra="In-Reply-To: <a@club.test>\n")).forwarded == ()
    # A fresh mail quoting a line with ">" (a contract clause) has no forward.
    assert parse_mail(mail("Contrat", "Mon contrat dit :\n> Article 12 : résiliation sous 30 jours.\nEst-ce légal ?")
                      ).forwarded == ()


def test_a_forward_quoted_in_a_replys_history_is_not_forwarded_again() -> None:
    body = ("Merci, c'est noté.\n\nLe 02/12/2026 à 10:00, Club Aide <aide@club.test> a écrit :\n> Votre demande est "
            "reçue.\n> Le 01/12/2026 à 09:00, Alice a écrit :\n> > ---------- Forwarded message ---------\n"
            "> > From: Gérard Lenoir <g.lenoir@client.fr>\n> > Subject: Facture\n> >\n> > " + CLIENT_TEXT + "\n")
    parsed = parse_mail(mail("Re: [CA-2026-0001] Facture", body, extra="In-Reply-To: <ack@club.test>\n"))
    assert parsed.forwarded == () and parsed.new_text == "Merci, c'est noté."
