"""split_reply keeps the author's own words in every layout (issue 14, point 2): above, below and between quoted
parts, attributions in seven languages, wrapped or written as header blocks, and the hard cases."""
from __future__ import annotations

import pytest

from mailbot.parsers import split_reply
from mailbot.parsers.quotes import quoteless

QUOTE = "> Pouvez-vous nous dire si le rendez-vous tient ?\n> Merci de confirmer l'adresse."


def words(text: str) -> str:
    return " ".join(text.split())


ATTRIBUTIONS = [
    "Le 03/12/2026 à 14:05, Club Aide a écrit :",
    "Le mer. 3 déc. 2026 à 14:05, Club Aide <aide@club.fr> a écrit :",
    "Le mer. 3 déc. 2026 à 14:05, Club Aide <\naide@club.fr> a écrit :",  # Gmail wraps it
    "Le lun., oct. 10 2022 at 23:14:27 +0300, Andy Shevchenko\n<andy@example.com> a écrit :",
    "Le mer. 3 déc. 2026 à 14:05, Club Aide a écrit",  # no colon
    "On Wed, Dec 3, 2026 at 2:05 PM Club Aide <aide@club.fr>\nwrote:",
    "Am 03.12.2026 um 14:05 schrieb Club Aide <aide@club.fr>:",
    "Op 18 juli 2013 10:23 schreef Club Aide <aide@club.fr> het volgende:",
    "El mié, 3 dic 2026 a las 14:05, Club Aide (<aide@club.fr>) escribió:",
    "Il giorno mer 3 dic 2026 alle ore 14:05 Club Aide <aide@club.fr> ha scritto:",
    "Em qua., 3 de dez. de 2026 às 14:05, Club Aide <aide@club.fr> escreveu:",
    "Le Mon 08 Dec 25, 21:05, Janne Grunau a écrit :",
    ("-----Message d'origine-----\nDe : Club Aide <aide@club.fr>\nEnvoyé : mercredi 3 décembre 2026 14:05\n"
    "À : Jean\nObjet : RE: Rendez-vous"),
    ("-----Original Message-----\nFrom: Club Aide <aide@club.fr>\nSent: Wednesday, December 3, 2026 2:05 PM\n"
    "To: Jean\nSubject: RE: Rendez-vous"),
    ("-------- Message d'origine --------\nDe : Club Aide <aide@club.fr>\nDate : 03/12/2026 14:05 (GMT+01:00)\n"
    "À : Jean\nObjet : Rendez-vous"),
    "From: Club Aide <aide@club.fr>\nDate: Wed, 3 Dec 2026 14:05:00 +0100\nSubject: Rendez-vous",
    "Von: Club Aide <aide@club.fr>\nGesendet: Mittwoch, 3. Dezember 2026 14:05\nAn: Jean\nBetreff: Termin",
    "Van: Club Aide <aide@club.fr>\nVerzonden: woensdag 3 december 2026 14:05\nAan: Jean\nOnderwerp: Afspraak",
    "De: Club Aide <aide@club.fr>\nEnviado: miércoles, 3 de diciembre de 2026 14:05\nPara: Jean\nAsunto: Cita",
    ("-----Mensaje original-----\nDe: Club Aide\nEnviado el: miércoles, 3 de diciembre de 2026 14:05\nPara: Jean\n"
    "Asunto: Cita"),
    "De : Club Aide\nEnvoyé : mercredi 3 décembre 2026 14:05\nÀ : Jean\nCc : Paul\nImportance : Haute\nObjet : RE: x",
    "Le lun. 3 juin 2024 à\n10:00, Club Aide\n<aide@club.fr> a écrit :",  # over three lines
]


@pytest.mark.parametrize("attribution", ATTRIBUTIONS)
def test_interleaved_answers_kept_whole_in_every_language(attribution: str) -> None:
    text = (f"Bonjour,\n\n{attribution}\n> Pouvez-vous nous dire si le rendez-vous tient ?\n\n"
            "Oui, jeudi à 14 h.\n\n> Merci de confirmer l'adresse.\nC'est au 12 rue des Lilas.\n"
            "> Bonne journée.\n\nCordialement,\nJean")
    new, _ = split_reply(text)
    assert words(new) == "Bonjour, Oui, jeudi à 14 h. C'est au 12 rue des Lilas. Cordialement, Jean"


@pytest.mark.parametrize("attribution", ATTRIBUTIONS)
def test_above_and_below_the_quote(attribution: str) -> None:
    assert split_reply(f"Oui, jeudi à 14 h.\n\n{attribution}\n{QUOTE}\n")[0] == "Oui, jeudi à 14 h."
    assert split_reply(f"{attribution}\n{QUOTE}\n\nOui, jeudi à 14 h.\n")[0] == "Oui, jeudi à 14 h."


def test_unmarked_outlook_history_runs_to_the_end() -> None:
    text = ("Oui, c'est d'accord.\n\nDe : Club Aide <aide@club.fr>\nEnvoyé : mercredi 3 décembre 2026 14:05\n"
            "À : Jean\nObjet : RE: Rendez-vous\n\nPouvez-vous confirmer ?\n\nLe Club")
    assert split_reply(text)[0] == "Oui, c'est d'accord."


def test_outlook_express_without_quote_marks() -> None:
    text = ("Voici ma réponse.\n\n----- Original Message -----\nFrom: Club\nTo: Jean\nSent: Wednesday\n"
            "Subject: Question\n\nAvez-vous un créneau ?\nLe Club")
    assert split_reply(text)[0] == "Voici ma réponse."


def test_shell_prompts_are_not_quotes() -> None:
    text = "J'ai tapé :\n> ls -la /var/mail\net rien ne s'affiche. Une idée ?"
    assert split_reply(text)[0] == text


def test_name_quote_marks() -> None:
    text = ("Bonjour,\n\nJean> Le rendez-vous tient-il ?\nJean> Et l'adresse ?\n\nOui, au 12 rue des Lilas.\n\n"
            "Marc")
    assert words(split_reply(text)[0]) == "Bonjour, Oui, au 12 rue des Lilas. Marc"


def test_a_quoted_line_wrapped_by_the_client_stays_in_the_quote() -> None:
    text = ("Le 03/12/2026 à 14:05, Club Aide a écrit :\n> Nous aurions besoin du devis signé avant la réunion "
            "de jeudi avec le\nprestataire retenu.\n> Merci.\n\nJe vous l'envoie demain.")
    assert split_reply(text)[0] == "Je vous l'envoie demain."


def test_list_footer_under_the_quote_is_dropped() -> None:
    text = ("Le 03/12/2026 à 14:05, Club Aide a écrit :\n> Une question ?\n\nMa réponse.\n\n"
            "_______________________________________________\nListe entraide\nentraide@listes.example\n"
            "https://listes.example/listinfo/entraide")
    assert split_reply(text)[0] == "Ma réponse."


def test_signed_top_post_ends_at_its_quote_even_when_only_the_first_line_is_marked() -> None:
    text = "Oui.\n\nCordialement,\nJean\n\nLe 3 juin 2024 à 10:00, Le Club a écrit :\n> Bonjour,\nAvez-vous un créneau ?"
    assert split_reply(text)[0] == "Oui.\n\nCordialement,\nJean"


def test_greeting_only_reply_and_quoteless_text() -> None:
    text = "Bonjour,\n\nMerci !\n\nLe 3 juin 2024 à 10:00, Le Club a écrit :\n> Votre demande CA-2026-0042 est reçue."
    new, _ = split_reply(text)
    assert "demande" not in new
    assert quoteless(text) == "Bonjour,\n\nMerci !"


def test_mailing_list_footer_part_is_not_the_senders_text() -> None:
    from mailbot.parsers import parse_mail

    raw = ("From: jean@membres.test\nTo: liste@listes.test\nSubject: Re: Question\nMessage-ID: <l@x>\n"
           "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=F\n\n"
           "--F\nContent-Type: text/plain; charset=utf-8\n\nLe 03/12/2026 à 14:05, Club a écrit :\n> Une question ?\n\n"
           "Ma réponse.\n--F\nContent-Type: text/plain; charset=utf-8\nContent-Disposition: inline\n\n"
           "Liste entraide\nentraide@listes.test\nhttps://listes.test/mailman/listinfo/entraide\n--F--\n").encode()
    assert parse_mail(raw).new_text == "Ma réponse."


def test_gmail_html_interleaved_reply() -> None:
    from mailbot.parsers import parse_mail

    html = ('<div dir="ltr">Bonjour,<div><br></div></div><br><div class="gmail_quote"><div class="gmail_attr">'
            'Le jeu. 3 déc. 2026 à 10:00, Club Aide &lt;<a href="mailto:aide@club.fr">aide@club.fr</a>&gt; a écrit'
            '&nbsp;:<br></div><blockquote class="gmail_quote">Quel jour vous arrange ?</blockquote>'
            '<div>Jeudi matin.</div><blockquote class="gmail_quote">Et l&#39;adresse ?</blockquote>'
            '<div>12 rue des Lilas.</div><div><br></div><div>Cordialement,</div><div>Alice</div></div>')
    raw = ("From: alice@membres.test\nTo: aide@club.fr\nSubject: Re: Rendez-vous\nMessage-ID: <h@x>\n"
           "MIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n" + html).encode()
    assert parse_mail(raw).new_text == "Bonjour,\n\nJeudi matin.\n\n12 rue des Lilas.\n\nCordialement,\nAlice"


def test_in_a_fresh_mail_quoted_lines_without_any_marker_are_the_authors() -> None:
    from mailbot.parsers import parse_mail

    body = "Mon contrat dit :\n> Article 12 : résiliation sous 30 jours.\n> Sans indemnité.\nEst-ce légal ?"
    head = "From: alice@membres.test\nTo: aide@club.test\nMessage-ID: <c@x>\nContent-Type: text/plain; charset=utf-8\n"
    assert parse_mail(f"{head}Subject: Contrat\n\n{body}".encode()).new_text == body
    # The same lines in a reply are a quote.
    assert parse_mail(f"{head}Subject: Re: Contrat\n\n{body}".encode()).new_text == "Mon contrat dit :\n\nEst-ce légal ?"


def test_inline_pgp_armor_is_not_the_senders_text() -> None:
    from mailbot.parsers import parse_mail

    body = ("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nOui, jeudi me va.\n\n- -- \nJean\n\n"
            "Le 03/12/2026 à 14:05, Club Aide a écrit :\n> Jeudi ?\n-----BEGIN PGP SIGNATURE-----\n\n"
            "iQEzBAEBCAAdFiEE\n=abcd\n-----END PGP SIGNATURE-----\n")
    raw = ("From: jean@membres.test\nTo: aide@club.test\nSubject: Re: Jeudi\nMessage-ID: <p@x>\n"
           "Content-Type: text/plain; charset=utf-8\n\n" + body).encode()
    mail = parse_mail(raw)
    assert mail.new_text == "Oui, jeudi me va." and mail.signature == "--\nJean"
    assert "PGP" not in mail.text
