"""Recognition of mails that are not requests (issue 13, point 7): calendar parts, newsletters without list
headers, mass recipients, a bare thank-you."""
from __future__ import annotations

import pytest

from mailbot.parsers import MailKind, parse_mail
from mailbot.parsers.notrequests import describe, invitation_of, is_bare_thanks, recipients, when


def _mail(headers: str, body: str, content_type: str = "text/plain; charset=utf-8") -> bytes:
    return (f"From: jean@ailleurs.test\nTo: aide@club.test\nMessage-ID: <x@y>\n{headers}MIME-Version: 1.0\n"
            f"Content-Type: {content_type}\n\n{body}").replace("\n", "\r\n").encode("utf-8")


def _ics(lines: str, method: str = "REQUEST") -> str:
    return f"BEGIN:VCALENDAR\nMETHOD:{method}\nBEGIN:VEVENT\n{lines}\nEND:VEVENT\nEND:VCALENDAR\n"


@pytest.mark.parametrize("dtstart,expected", [
    ("DTSTART:20261208T133000Z", "mardi 8 décembre 2026 à 14 h 30"),  # UTC, winter
    ("DTSTART:20260615T080000Z", "lundi 15 juin 2026 à 10 h 00"),  # UTC, summer time
    ("DTSTART;TZID=Europe/Paris:20260329T030000", "dimanche 29 mars 2026 à 3 h 00"),  # the spring change
    ("DTSTART;TZID=America/New_York:20261201T090000", "mardi 1er décembre 2026 à 15 h 00"),
    ("DTSTART;TZID=Romance Standard Time:20261210T090000", "jeudi 10 décembre 2026 à 9 h 00"),
    ("DTSTART;TZID=Nowhere/Unknown:20261210T090000", "jeudi 10 décembre 2026 à 9 h 00"),  # read as Paris
    ("DTSTART;VALUE=DATE:20261225", "vendredi 25 décembre 2026 (toute la journée)"),
    ("DTSTART:garbage", ""),
])
def test_the_start_is_said_in_paris_time(dtstart: str, expected: str) -> None:
    raw = _mail("Subject: Invitation\n", _ics(f"{dtstart}\nSUMMARY:Réunion"), "text/calendar; method=REQUEST")
    invitation = invitation_of(raw)
    assert invitation is not None and invitation.summary == "Réunion"
    assert when(invitation) == expected


def test_an_ics_attachment_folded_lines_and_the_answer() -> None:
    ics = ("BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nSUMMARY:Point comptable avec un titre très long qui \r\n"
           " continue\r\nORGANIZER;CN=\"Martin, Alice\":mailto:alice@membres.test\r\nATTENDEE;PARTSTAT=DECLINED:mailto:"
           "b@x.test\r\nDTSTART:20261208T133000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    raw = _mail("Subject: Refusé : Point comptable\n", "--B\nContent-Type: text/plain\n\nNon.\n--B\n"
                "Content-Type: application/octet-stream; name=invite.ics\nContent-Disposition: attachment; "
                "filename=invite.ics\n\n" + ics + "--B--\n", 'multipart/mixed; boundary="B"')
    invitation = invitation_of(raw)
    assert invitation is not None
    assert invitation.summary == "Point comptable avec un titre très long qui continue"
    assert invitation.organizer == "Martin, Alice <alice@membres.test>"
    assert describe(invitation) == "réponse à une invitation (refusée)"


@pytest.mark.parametrize("method,words", [("CANCEL", "annulation"), ("COUNTER", "contre-proposition"),
                                          ("PUBLISH", "invitation")])
def test_every_method_is_named(method: str, words: str) -> None:
    raw = _mail("Subject: x\n", _ics("SUMMARY:R", method), "text/calendar")
    invitation = invitation_of(raw)
    assert invitation is not None and describe(invitation) == words


def test_no_calendar_part_and_a_forwarded_invitation_are_no_invitation() -> None:
    assert invitation_of(_mail("Subject: Invitation : réunion\n", "Je vous invite jeudi.")) is None
    forwarded = _mail("Subject: TR: Invitation\n", "--F\nContent-Type: text/plain\n\nQue faire ?\n--F\n"
                      "Content-Type: message/rfc822\n\nSubject: Invitation\nContent-Type: text/calendar\n\n"
                      + _ics("SUMMARY:R") + "--F--\n", 'multipart/mixed; boundary="F"')
    assert invitation_of(forwarded) is None
    assert invitation_of(b"") is None


@pytest.mark.parametrize("headers,body,content_type", [
    ("X-Mailer: Brevo\n", "Bonjour, voici nos nouvelles.", "text/plain; charset=utf-8"),
    ("X-Mailjet-Campaign: 1234\n", "Nouvelles", "text/plain; charset=utf-8"),
    ("X-MC-User: abc\n", "Nouvelles", "text/plain; charset=utf-8"),
    ("X-Campaign: 77\n", "Nouvelles", "text/plain; charset=utf-8"),
    ("X-Mailer: Sendinblue\n", "Nouvelles", "text/plain; charset=utf-8"),
    ("", "<p>Voir la version en ligne</p><p>Nouvelles</p><a href='u'>Se désabonner</a>", "text/html; charset=utf-8"),
    ("", "<p>Nouvelles</p><a href='u'>Cliquez ici pour vous désinscrire</a><img src='p' width='1' height='1'>",
     "text/html; charset=utf-8"),
    ("Content-Transfer-Encoding: quoted-printable\n",
     "<p>Nouvelles</p><a href=3D'u'>Se d=C3=A9sinscrire</a><img src=3D'p' width=3D\"1\" height=3D\"1\">",
     "text/html; charset=utf-8"),
])
def test_newsletters_without_list_headers_are_bulk(headers: str, body: str, content_type: str) -> None:
    mail = parse_mail(_mail("Subject: La lettre de décembre\n" + headers, body, content_type))
    assert mail.kind is MailKind.BULK and "newsletter" in mail.kind_reason


@pytest.mark.parametrize("subject,body", [
    ("Newsletter", "Bonjour,\nComment me désabonner de la newsletter de mon fournisseur ?\nAlice"),
    ("TR: La lettre", "Que pensez-vous de ceci ?\n\nVoir la version en ligne\nSe désabonner"),
    ("Site", "Bonjour, je veux afficher une version en ligne de mon catalogue.\nMerci"),
])
def test_a_person_writing_about_newsletters_is_not_bulk(subject: str, body: str) -> None:
    assert parse_mail(_mail(f"Subject: {subject}\nX-Mailer: Thunderbird 115\n", body)).kind is MailKind.NORMAL


def test_recipients_are_counted_once_without_the_club() -> None:
    to = tuple(f"p{n}@x.test" for n in range(6))
    cc = ("P1@x.test", "aide@club.test", "q@x.test")
    assert recipients(to, cc, ("aide@club.test",)) == 7


@pytest.mark.parametrize("text", [
    "Merci !", "merci beaucoup", "Un grand merci 🙏", "Merci, bonne journée", "Mille mercis !",
    "Bonjour,\n\nMerci !\n\nAlice Martin\nMartin Conseil\n06 12 34 56 78", "Merci pour votre aide, Aideur.",
    "Encore merci pour tout !\nBien cordialement,\nJean", "Super, merci infiniment 😀", "MERCI !!!",
    "Merci à vous\n\n> Bonjour Alice, voici la réponse.",
])
def test_bare_thanks(text: str) -> None:
    assert is_bare_thanks(text)


@pytest.mark.parametrize("text", [
    "Merci de me rappeler demain", "merci, mais j'ai un autre problème : ma box ne marche plus",
    "Merci !\nPouvez-vous me rappeler ?", "Merci.\nJe voudrais un devis pour la toiture.", "Bonjour", "",
    "Merci d'avance pour votre aide sur ma facture", "Merci pour la mise en relation, mais Bruno ne répond pas",
    "Merci !\nMa box ne marche plus depuis hier", "Merci ?",
])
def test_not_bare_thanks(text: str) -> None:
    assert not is_bare_thanks(text)


# Attack (issue 13, point 7): what lies below the signature of a thank-you.
@pytest.mark.parametrize(("full", "own", "more"), [
    ("Merci !\n-- \nAlice\n\nPS : pourriez-vous aussi m'aider ?", "Merci !", True),
    ("Merci !\n\nEnvoyé de mon iPhone\n\nP.S. Il me faut un avocat.", "Merci !", True),
    ("Merci\n--\nAlice\nN.B. : nouveau numéro 06 12 34 56 78", "Merci", True),
    ("Merci !\n-- \nAlice Martin\nPsychologue du travail\n12 rue de la Paix, 75002 Paris", "Merci !", False),
    ("Merci !\n\n> Pouvez-vous m'aider ?", "Merci !", False),
])
def test_says_more_below(full: str, own: str, more: bool) -> None:
    from mailbot.parsers.notrequests import says_more_below

    assert says_more_below(full, own) is more


# Attack (issue 13, point 7): everyday thank-yous that each opened a ticket with a promise.
@pytest.mark.parametrize("text", [
    "Super merci !", "Top merci", "Merci merci !", "Ok merci", "OK merci beaucoup", "Merci bcp", "Mercii !",
    "Parfait merci", "Bien reçu, merci", "Génial merci !", "Cool merci", "Merci 1000 fois", "Thx",
    "Un immense merci à toute l'équipe", "Merci d'avoir pris le temps", "Merci de votre aide précieuse",
    "Merci pour la mise en relation avec Bruno", "Trop bien merci", "Merci pour votre aide si rapide",
])
def test_everyday_thanks_are_bare(text: str) -> None:
    assert is_bare_thanks(text)


@pytest.mark.parametrize("text", [
    "Merci d'avance", "Merci de me rappeler", "Ok merci, et pour le devis ?",
    "Super, merci, je cherche aussi un plombier", "Merci pour la mise en relation, mais Bruno ne répond pas",
    "Merci d'avance pour le nom d'un avocat",
    "Top merci, il me faut aussi un expert-comptable",
])
def test_thanks_asking_something_are_not_bare(text: str) -> None:
    assert not is_bare_thanks(text)


@pytest.mark.parametrize("text", ["Merci Paul !", "Merci à Bruno", "Un grand merci Chloé"])
def test_thanks_to_a_name_are_bare(text: str) -> None:
    assert is_bare_thanks(text)
