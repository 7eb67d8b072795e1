"""Not every mail is a request (issue 13, point 7), over the real servers: calendar invitations and answers, mass
mails (many recipients, newsletters without list headers) and a member's bare "merci" open no ticket, send no
acknowledgement or promise, and reach Aideur (a notice, a line in the digest, a remark on the latest ticket).
Every mailbox is checked for what it must and must not hold."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from mailbot.models import Event, InboundMail, Message, OutboxMail, Ticket
from mailbot.report import unanswered
from tests.helpers import (
    AIDEUR,
    ALICE,
    BRUNO,
    CHLOE,
    CLOCK,
    CLUB,
    STRANGER,
    add_members,
    append,
    mailbox,
    run_cycle,
    settle,
)

pytestmark = [pytest.mark.servers, pytest.mark.sqlite_only]


def raw(message_id: str, headers: str, body: str, content_type: str = "text/plain; charset=utf-8",
        sender: str = ALICE, to: str = CLUB) -> bytes:
    return (f"From: {sender}\r\nTo: {to}\r\nMessage-ID: <{message_id}>\r\nDate: Thu, 26 Nov 2026 09:00:00 +0100\r\n"
            f"{headers}MIME-Version: 1.0\r\nContent-Type: {content_type}\r\n\r\n{body}").replace("\r\n", "\n") \
        .replace("\n", "\r\n").encode("utf-8")


# Google Calendar: the invitation as text/calendar and as an invite.ics attachment, the start in UTC (13:30Z is
# 14 h 30 in Paris on 8 December).
GOOGLE_ICS = ("BEGIN:VCALENDAR\nPRODID:-//Google Inc//Google Calendar 70.9054//EN\nMETHOD:REQUEST\nBEGIN:VEVENT\n"
              "DTSTART:20261208T133000Z\nDTEND:20261208T143000Z\nORGANIZER;CN=Jean Réseau:mailto:" + STRANGER
              + "\nSUMMARY:Petit-déjeuner des entrepreneurs\nATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:" + CLUB
              + "\nEND:VEVENT\nEND:VCALENDAR\n")
GOOGLE = raw("invite@google", "Subject: Invitation : Petit-déjeuner des entrepreneurs @ mar. 8 déc. 2026\n",
             "--G\nContent-Type: multipart/alternative; boundary=\"H\"\n\n--H\nContent-Type: text/plain; charset=utf-8\n\n"
             "Vous avez été invité à l'événement suivant.\n--H\nContent-Type: text/calendar; charset=utf-8; "
             "method=REQUEST\n\n" + GOOGLE_ICS + "--H--\n--G\nContent-Type: application/ics; name=\"invite.ics\"\n"
             "Content-Disposition: attachment; filename=\"invite.ics\"\n\n" + GOOGLE_ICS + "--G--\n",
             'multipart/mixed; boundary="G"', sender=f"Jean Réseau <{STRANGER}>")
# Outlook: "Accepté : …", its calendar part naming no method parameter, the zone by its Windows name.
OUTLOOK_REPLY = raw("accept@outlook", "Subject: Accepté : Point comptable\n",
                    "--A\nContent-Type: text/plain; charset=utf-8\n\n\n--A\nContent-Type: text/calendar; charset=utf-8\n\n"
                    "BEGIN:VCALENDAR\nMETHOD:REPLY\nBEGIN:VEVENT\nDTSTART;TZID=Romance Standard Time:20261210T090000\n"
                    "SUMMARY:Point comptable\nATTENDEE;PARTSTAT=ACCEPTED;CN=Bruno Petit:mailto:" + BRUNO
                    + "\nEND:VEVENT\nEND:VCALENDAR\n--A--\n", 'multipart/alternative; boundary="A"', sender=BRUNO)

MANY = ", ".join(f"contact{n}@reseau.test" for n in range(11))
NETWORKING = raw("reseau@membres", "Subject: Soirée réseau jeudi : qui vient ?\n",
                 "Bonjour à tous,\nJe vous propose une soirée réseau jeudi à 19 h, qui peut venir ? Et qui connaît "
                 "un bon traiteur ?\nChloé\n", sender=CHLOE, to=f"{MANY}, {CLUB}")
NEWSLETTER = raw("lettre@brevo", "Subject: La lettre des entrepreneurs de décembre\n",
                 "<html><body><p><a href=\"https://x.test/v\">Voir la version en ligne</a></p><p>Nos événements de "
                 "décembre : besoin d'un comptable ? Venez nous voir !</p><p><a href=\"https://x.test/u\">Se "
                 "désabonner</a></p><img src=\"https://x.test/o.gif\" width=\"1\" height=\"1\"></body></html>\n",
                 "text/html; charset=utf-8", sender="lettre@entrepreneurs.test")


def test_calendar_mails_are_one_notice_to_aideur_never_a_ticket(clean_mail, settings, sessions):  # type: ignore[no-untyped-def]
    add_members(sessions)
    append(clean_mail, CLUB, GOOGLE)
    append(clean_mail, CLUB, OUTLOOK_REPLY)
    run_cycle(settings, sessions)

    notices = settle(clean_mail, AIDEUR, 2)
    assert len(notices) == 2
    invitation = next(m for m in notices if "Petit-déjeuner" in m.subject)
    assert invitation.subject.startswith("Agenda : invitation")
    assert "mardi 8 décembre 2026 à 14 h 30 (heure de Paris)" in invitation.text
    assert f"Jean Réseau <{STRANGER}>" in invitation.text
    answer = next(m for m in notices if "Point comptable" in m.subject)
    assert "réponse à une invitation (acceptée)" in answer.subject
    assert "jeudi 10 décembre 2026 à 9 h 00" in answer.text
    assert "Bruno Petit" in answer.text
    # Neither sender got anything: no invitation to join, no acknowledgement, no promise.
    assert mailbox(clean_mail, STRANGER) == [] and mailbox(clean_mail, BRUNO) == []
    with sessions() as session:
        assert session.scalars(select(Ticket)).all() == []
        rows = {r.message_id: r for r in session.scalars(select(InboundMail))}
        assert rows["invite@google"].outcome == "calendar" and "agenda" in rows["invite@google"].reason
        assert rows["accept@outlook"].outcome == "calendar"
        assert sorted(m.recipient for m in session.scalars(select(OutboxMail))) == [AIDEUR, AIDEUR]


def test_a_calendar_answer_in_a_tickets_thread_goes_on_that_ticket(clean_mail, settings, sessions):  # type: ignore[no-untyped-def]
    add_members(sessions)
    append(clean_mail, CLUB, raw("req@bruno", "Subject: Bilan annuel\n",
                                 "Bonjour,\nPouvez-vous m'aider à préparer mon bilan annuel ?\nBruno\n", sender=BRUNO))
    run_cycle(settings, sessions)
    settle(clean_mail, BRUNO, 1)
    settle(clean_mail, AIDEUR, 1)
    threaded = OUTLOOK_REPLY.replace(b"Subject: ", b"In-Reply-To: <req@bruno>\r\nSubject: ", 1)
    append(clean_mail, CLUB, threaded)
    run_cycle(settings, sessions, at=CLOCK + timedelta(minutes=5))

    notices = settle(clean_mail, AIDEUR, 2)
    assert len(notices) == 2
    with sessions() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert f"[{ticket.ref}] Agenda" in notices[1].subject and ticket.ref in notices[1].text
        record = session.scalar(select(InboundMail).where(InboundMail.message_id == "accept@outlook"))
        assert record is not None and record.ticket_id == ticket.id and record.outcome == "calendar"
        assert session.scalar(select(Event).where(Event.kind == "calendar", Event.ticket_id == ticket.id))
    assert len(settle(clean_mail, BRUNO, 1)) == 1  # the acknowledgement of the request only


def test_mass_mails_open_no_ticket_and_are_listed_for_aideur(clean_mail, settings, sessions):  # type: ignore[no-untyped-def]
    add_members(sessions)
    append(clean_mail, CLUB, NETWORKING)
    append(clean_mail, CLUB, NEWSLETTER)
    # Nine people and the club: below the threshold, a request as before.
    few = ", ".join(f"contact{n}@reseau.test" for n in range(8))
    append(clean_mail, CLUB, raw("few@membres", "Subject: Recherche d'un plombier\n",
                                 "Bonjour,\nQui connaît un plombier disponible cette semaine ?\nAlice\n",
                                 to=f"{few}, {CLUB}"))
    run_cycle(settings, sessions)

    assert len(settle(clean_mail, ALICE, 1)) == 1
    assert len(settle(clean_mail, AIDEUR, 1)) == 1  # the notification of Alice's request, nothing else
    assert mailbox(clean_mail, CHLOE) == []
    with sessions() as session:
        # Nothing queued for the newsletter's sender or the people in copy (no mailbox of theirs on the test server).
        assert sorted(m.recipient for m in session.scalars(select(OutboxMail))) == [AIDEUR, ALICE]
        assert [t.subject for t in session.scalars(select(Ticket))] == ["Recherche d'un plombier"]
        rows = {r.message_id: r for r in session.scalars(select(InboundMail))}
        assert rows["reseau@membres"].outcome == "ignore" and "11 destinataires" in rows["reseau@membres"].reason
        assert rows["lettre@brevo"].outcome == "ignore" and rows["lettre@brevo"].kind == "bulk"
        assert "newsletter" in rows["lettre@brevo"].reason
        # Both are in what Aideur's digest and `mailbot report` list.
        listed = {m.subject for m in unanswered(session, CLOCK - timedelta(days=1), CLOCK + timedelta(days=1))}
        assert {"Soirée réseau jeudi : qui vient ?", "La lettre des entrepreneurs de décembre"} <= listed


def test_a_bare_thank_you_goes_on_the_latest_ticket_never_opens_one(clean_mail, settings, sessions):  # type: ignore[no-untyped-def]
    add_members(sessions)
    append(clean_mail, CLUB, raw("req@alice", "Subject: Facture contestée\n",
                                 "Bonjour,\nUn client conteste ma facture, pouvez-vous m'aider ?\nAlice\n"))
    run_cycle(settings, sessions)
    settle(clean_mail, ALICE, 1)
    settle(clean_mail, AIDEUR, 1)
    with sessions.begin() as session:
        session.scalars(select(Ticket)).one().status = "closed"
    later = CLOCK + timedelta(hours=1)
    append(clean_mail, CLUB, raw("merci@alice", "Subject: Merci !\n",
                                 "Bonjour,\n\nUn grand merci 🙏, bonne journée !\n\nAlice Martin\nMartin Conseil\n"
                                 "06 12 34 56 78\n"))
    append(clean_mail, CLUB, raw("merci@chloe", "Subject: \n", "Merci beaucoup !\nChloé\n", sender=CHLOE))
    append(clean_mail, CLUB, raw("rappel@bruno", "Subject: Merci\n",
                                 "Merci de me rappeler demain au sujet du devis de toiture.\nBruno\n", sender=BRUNO))
    run_cycle(settings, sessions, at=later)

    aideur = settle(clean_mail, AIDEUR, 4)
    assert len(aideur) == 4
    with sessions() as session:
        tickets = {t.member.email: t for t in session.scalars(select(Ticket))}
        assert sorted(tickets) == [ALICE, BRUNO]  # Bruno's "merci de me rappeler" stays a request
        alice = tickets[ALICE]
        assert alice.status == "closed"
        thanks = next(m for m in aideur if "remerciement" in m.subject and "Alice" in m.subject)
        assert alice.ref in thanks.subject and "Un grand merci" in thanks.text and "reste close" in thanks.text
        assert session.scalar(select(Message).where(Message.ticket_id == alice.id, Message.direction == "in",
                                                    Message.text.contains("Un grand merci")))
        rows = {r.message_id: r for r in session.scalars(select(InboundMail))}
        assert rows["merci@alice"].outcome == "thanks" and rows["merci@alice"].ticket_id == alice.id
        assert rows["merci@chloe"].outcome == "thanks" and rows["merci@chloe"].ticket_id is None
        chloe = next(m for m in aideur if "remerciement" in m.subject and "Chloé" in m.subject)
        assert "aucune demande" in chloe.text
    # Nothing to Alice or Chloé beyond Alice's first acknowledgement; Bruno gets his acknowledgement.
    assert len(mailbox(clean_mail, ALICE)) == 1 and mailbox(clean_mail, CHLOE) == []
    assert len(settle(clean_mail, BRUNO, 1)) == 1
    _ = datetime  # fixed instants only


# 300 characters, accents and an apostrophe, sent as RFC 2047 encoded words folded over several header lines.
LONG_SUBJECT = ("Litige avec un fournisseur d'électricité qui a facturé deux fois la même période "
                "à l'entreprise, malgré trois réclamations écrites, un médiateur saisi en été et une "
                "promesse de remboursement jamais tenue : que faire maintenant, et à qui m'adresser "
                "pour obtenir enfin gain de cause sans frais d'avocat ? Merci !")[:300]


def _folded(subject: str) -> str:
    from email.header import Header

    return Header(subject, "utf-8", maxlinelen=76, header_name="Subject").encode()


def test_a_long_subject_reaches_aideur_whole(clean_mail, settings, sessions):  # type: ignore[no-untyped-def]
    assert len(LONG_SUBJECT) == 300
    add_members(sessions)
    header = _folded(LONG_SUBJECT)
    assert "\n" in header and "=?utf-8?" in header
    append(clean_mail, CLUB, raw("long@alice", f"Subject: {header}\n",
                                 "Bonjour,\nVoir l'objet : pouvez-vous m'aider ?\nAlice\n"))
    append(clean_mail, CLUB, raw("long@inconnu", f"Subject: {header}\n", "Bonjour,\nVoir l'objet.\nJean\n",
                                 sender=STRANGER))
    # Unreadable (two senders): quarantined, and Aideur's alert says the subject too.
    append(clean_mail, CLUB, raw("long@deux", f"Subject: {header}\n", "Bonjour\n",
                                 sender=f"{STRANGER}, autre@ailleurs.test"))
    run_cycle(settings, sessions)

    notices = settle(clean_mail, AIDEUR, 3)
    assert len(notices) == 3
    assert any("Mail illisible mis de côté" in m.subject for m in notices)
    for notice in notices:
        # The subject of our mail may be shortened; then the body says it whole.
        whole = " ".join(notice.subject.split()) + " " + " ".join(notice.text.split())
        assert LONG_SUBJECT in whole.replace("\u00a0", " "), notice.subject
    request = next(m for m in notices if "Nouvelle demande" in m.subject)
    assert "Objet complet" in request.text
    assert len(settle(clean_mail, ALICE, 1)) == 1


def _flat(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split())


def test_aideur_replying_to_a_non_member_notice_writes_to_that_person(clean_mail, settings, sessions):  # type: ignore[no-untyped-def]
    """The issue's case: his reply to « Message d'un non-membre » was refused for a missing reference."""
    from tests.helpers import smtp_send, wait_mail
    from tests.integration.aideur_clients import reply_to_notification

    add_members(sessions)
    append(clean_mail, CLUB, raw("q@inconnu", "Subject: Renseignement\n",
                                 "Bonjour,\nJe suis artisan à Lyon, comment fonctionne votre club ?\nJean\n",
                                 sender=STRANGER))
    run_cycle(settings, sessions)
    [invitation] = settle(clean_mail, STRANGER, 1)
    [notice] = settle(clean_mail, AIDEUR, 1)
    assert "Message d'un non-membre" in notice.subject
    assert f"Votre texte sera envoyé à : {STRANGER}, qui n'est pas membre du Club" in _flat(notice.text)

    smtp_send(clean_mail, reply_to_notification(notice, "Bonjour Jean,\nLe Club réunit des artisans et des "
                                                "commerçants de la région ; l'adhésion est gratuite.", "thunderbird"))
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(settings, sessions, at=CLOCK + timedelta(minutes=10))
    stranger = settle(clean_mail, STRANGER, 2)
    assert len(stranger) == 2
    relayed = stranger[1]
    assert relayed.from_ == CLUB and "Message d'Aideur" in relayed.subject
    flat = _flat(relayed.text)
    assert "l'adhésion est gratuite" in flat and "Pour vous inscrire, répondez à ce mail" in flat
    assert "Thunderbird" not in relayed.text and "a écrit :" not in relayed.text  # his quote and signature stay
    assert AIDEUR not in relayed.text + str(relayed.headers)
    # No refusal, no error to Aideur; nothing to any member.
    assert len(settle(clean_mail, AIDEUR, 1)) == 1
    assert all(mailbox(clean_mail, member) == [] for member in (ALICE, BRUNO, CHLOE))

    # The person answers: it reaches Aideur as their mail again (bound to them), with the invitation to join.
    smtp_send(clean_mail, reply_to_notification(relayed, "Merci, et comment s'inscrit-on exactement ?", "gmail",
                                                sender=STRANGER, name="Jean Artisan"))
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(settings, sessions, at=CLOCK + timedelta(minutes=20))
    notices = settle(clean_mail, AIDEUR, 2)
    assert len(notices) == 2 and "s'inscrit-on" in notices[1].text
    assert f"Votre texte sera envoyé à : {STRANGER}" in _flat(notices[1].text)
    with sessions() as session:
        assert session.scalars(select(Ticket)).all() == []
    _ = invitation


def test_replying_to_notices_about_no_ticket_does_something_sensible(clean_mail, settings, sessions):  # type: ignore[no-untyped-def]
    """A thank-you from a member without a ticket: his reply goes to that member. A quarantine alert concerns
    no one he could write to: he is told his text went to no one, naming the alert, and what to do instead."""
    from tests.helpers import smtp_send, wait_mail
    from tests.integration.aideur_clients import reply_to_notification

    add_members(sessions)
    append(clean_mail, CLUB, raw("merci@chloe", "Subject: Merci\n", "Merci beaucoup !\nChloé\n", sender=CHLOE))
    append(clean_mail, CLUB, raw("two@senders", "Subject: Deux expéditeurs\n", "Bonjour\n",
                                 sender=f"{STRANGER}, autre@ailleurs.test"))
    run_cycle(settings, sessions)
    notices = settle(clean_mail, AIDEUR, 2)
    assert len(notices) == 2
    [thanks] = [m for m in notices if "remerciement" in m.subject]
    [alert] = [m for m in notices if m is not thanks]
    assert "Votre texte sera envoyé à : Chloé Durand, membre du Club" in _flat(thanks.text)

    smtp_send(clean_mail, reply_to_notification(thanks, "Avec plaisir Chloé, à bientôt au club !", "gmail"))
    smtp_send(clean_mail, reply_to_notification(alert, "Qui est-ce ? Je ne comprends pas ce mail.", "outlook"))
    wait_mail(clean_mail, CLUB, 2)
    run_cycle(settings, sessions, at=CLOCK + timedelta(minutes=10))
    [to_chloe] = settle(clean_mail, CHLOE, 1)
    assert "Message d'Aideur" in to_chloe.subject and "à bientôt au club" in to_chloe.text
    aideur = settle(clean_mail, AIDEUR, 3)
    assert len(aideur) == 3
    refusal = _flat(aideur[2].text)
    assert "Votre texte n'a été envoyé à personne : la notification « " in refusal
    assert alert.subject[:40] in refusal and "écrivez-lui depuis votre messagerie" in refusal
    assert mailbox(clean_mail, STRANGER) == [] and mailbox(clean_mail, ALICE) == []


# Attack (issue 13, point 7): a member's invitation whose text is a real request (Outlook: the body beside the
# calendar part is the invitation's description). No ticket is opened, but Aideur must read what she asks and be
# told how to open it; the notice used to give only the title and the time.
ALICE_INVITE = raw("invite@alice", "Subject: Point bail commercial\n",
                   "--B\nContent-Type: text/plain; charset=utf-8\n\nBonjour,\nMon bailleur augmente le loyer de 30 % au "
                   "1er janvier : pouvez-vous me trouver un avocat en droit commercial avant la réunion ?\nAlice\n"
                   "--B\nContent-Type: text/calendar; charset=utf-8; method=REQUEST\n\nBEGIN:VCALENDAR\nMETHOD:REQUEST\n"
                   "BEGIN:VEVENT\nDTSTART;TZID=Europe/Paris:20261215T100000\nSUMMARY:Point bail commercial\n"
                   "ORGANIZER:mailto:" + ALICE + "\nEND:VEVENT\nEND:VCALENDAR\n--B--\n",
                   'multipart/alternative; boundary="B"')


def test_an_invitation_carrying_a_request_shows_aideur_the_request(clean_mail, settings, sessions):  # type: ignore[no-untyped-def]
    add_members(sessions)
    append(clean_mail, CLUB, ALICE_INVITE)
    assert dict(run_cycle(settings, sessions).actions) == {"calendar": 1}
    [notice] = settle(clean_mail, AIDEUR, 1)
    text = " ".join(notice.text.split())
    assert "avocat en droit commercial" in text and "30 %" in text
    assert f"#ouvrir {ALICE}" in text  # how to make it a request, with her address ready to copy
    assert mailbox(clean_mail, ALICE) == []
    with sessions() as session:
        assert session.scalars(select(Ticket)).all() == []


# Attack (point 7): a thank-you with a request hidden below the signature mark ("-- ") or the phone's line: the
# member's own words were cut there, so it went on her ticket as a bare "Merci !" and Aideur never read the
# request. A signature block with her address stays a thank-you.
@pytest.mark.parametrize("body, asks", [
    ("Merci !\n-- \nAlice Martin\n\nPS : pourriez-vous aussi me trouver un avocat pour lundi ?\n", True),
    ("Un grand merci !\n\nEnvoyé de mon iPhone\n\nP.S. J'ai aussi besoin d'un expert-comptable.\n", True),
    ("Merci pour tout !\n-- \nAlice Martin\nGérante, Martin Conseil\n12 rue de la Paix, 75002 Paris\n", False),
])
def test_a_request_hidden_below_a_thank_you_is_a_request(clean_mail, settings, sessions, body, asks):  # type: ignore[no-untyped-def]
    add_members(sessions)
    append(clean_mail, CLUB, raw("req@alice", "Subject: Facture contestée\n",
                                 "Bonjour,\nUn client conteste ma facture, pouvez-vous m'aider ?\nAlice\n"))
    run_cycle(settings, sessions)
    append(clean_mail, CLUB, raw("merci@alice", "Subject: Merci\n", body))
    actions = dict(run_cycle(settings, sessions, at=CLOCK + timedelta(hours=1)).actions)
    assert actions == ({"new-request": 1} if asks else {"thanks": 1})
    assert len(settle(clean_mail, ALICE, 2 if asks else 1)) == (2 if asks else 1)


def test_aideurs_vacation_notice_to_a_non_member_notice_reaches_nobody(clean_mail, settings, sessions):  # type: ignore[no-untyped-def]
    """Attack (point 4 with point 7's new reply address): Aideur's out-of-office without auto headers answering
    « Message d'un non-membre » was relayed to that stranger as « Message d'Aideur »."""
    from tests.helpers import make_mail, smtp_send, wait_mail

    add_members(sessions)
    append(clean_mail, CLUB, raw("q2@inconnu", "Subject: Renseignement\n",
                                 "Bonjour,\nJe suis artisan à Lyon, comment fonctionne votre club ?\nJean\n",
                                 sender=STRANGER))
    run_cycle(settings, sessions)
    settle(clean_mail, STRANGER, 1)
    [notice] = settle(clean_mail, AIDEUR, 1)
    for subject, body in (("Congés de fin d'année", "Bonjour, je suis en congés jusqu'au 4 janvier.\nAideur"),
                          ("Re: " + notice.subject, "I'm away until January 4th with limited access to email.")):
        smtp_send(clean_mail, make_mail(AIDEUR, subject, body, to=notice.reply_to[0]))
    wait_mail(clean_mail, CLUB, 2)
    run_cycle(settings, sessions, at=CLOCK + timedelta(minutes=10))
    assert len(settle(clean_mail, STRANGER, 1)) == 1  # the invitation only
    told = settle(clean_mail, AIDEUR, 2)
    assert len(told) == 2 and "réponse automatique" in told[1].subject
    with sessions() as session:
        assert len(session.scalars(select(Event).where(Event.kind == "aideur-auto-reply")).all()) == 2


def test_a_mass_mail_with_the_club_in_cc_and_its_reply_alls_are_mass_mails(clean_mail, settings, sessions):  # type: ignore[no-untyped-def]
    """Attack (points 1 and 7): the networking mail with the club in Cc rather than To, then two reply-alls (the
    club in Cc again): no ticket, no answer, and no notice per mail for Aideur (they are listed as mass mails)."""
    add_members(sessions)
    append(clean_mail, CLUB, raw("reseau-cc@membres", f"Subject: Soirée réseau jeudi\nCc: {CLUB}\n",
                                 "Bonjour à tous,\nSoirée réseau jeudi à 19 h, venez nombreux !\nChloé\n",
                                 sender=CHLOE, to=MANY))
    for number, sender in enumerate((BRUNO, STRANGER)):
        append(clean_mail, CLUB, raw(f"reseau-re{number}@x", f"Subject: RE: Soirée réseau jeudi\nCc: {CLUB}, {MANY}\n"
                                     "In-Reply-To: <reseau-cc@membres>\n", "Je viens avec plaisir.\n",
                                     sender=sender, to=CHLOE))
    assert dict(run_cycle(settings, sessions).actions) == {"ignore": 3}
    assert all(mailbox(clean_mail, who) == [] for who in (AIDEUR, CHLOE, BRUNO, STRANGER))
    with sessions() as session:
        assert session.scalars(select(Ticket)).all() == []
        assert all("envoi en nombre" in r.reason for r in session.scalars(select(InboundMail)))


# A member passing on an appointment (stop 17: a forwarded URSSAF convocation with its .ics opened nothing and the
# member got no acknowledgement): a forward, or an .ics shared as a file, is the person's mail about it. Only a
# calendar program's own message (an iTIP method: an invitation it sends, an answer) is no request.
URSSAF_ICS = ("BEGIN:VCALENDAR\nVERSION:2.0\nMETHOD:REQUEST\nBEGIN:VEVENT\nDTSTART:20261210T090000Z\n"
              "SUMMARY:Contrôle URSSAF\nORGANIZER:mailto:controleur@urssaf.test\nEND:VEVENT\nEND:VCALENDAR\n")
ASKS = ("Bonjour, je viens de recevoir cette convocation à un contrôle URSSAF le 10 décembre. Quelqu'un du club "
        "pourrait-il m'accompagner ou me conseiller ?\nAlice\n")


@pytest.mark.parametrize("subject, ics", [
    ("TR: Contrôle URSSAF le 10/12", URSSAF_ICS),  # forwarded
    ("Contrôle URSSAF le 10/12", URSSAF_ICS.replace("METHOD:REQUEST\n", "")),  # a bare .ics shared as a file
    ("Fwd: Contrôle URSSAF", URSSAF_ICS.replace("METHOD:REQUEST", "METHOD:PUBLISH")),
])
def test_a_member_passing_on_an_appointment_asks_for_help(clean_mail, settings, sessions, subject, ics):  # type: ignore[no-untyped-def]
    add_members(sessions)
    append(clean_mail, CLUB, raw("urssaf@alice", f"Subject: {subject}\n",
                                 f"--U\nContent-Type: text/plain; charset=utf-8\n\n{ASKS}--U\nContent-Type: text/calendar;"
                                 f" charset=utf-8\nContent-Disposition: attachment; filename=\"invite.ics\"\n\n{ics}"
                                 "--U--\n", 'multipart/mixed; boundary="U"'))
    assert dict(run_cycle(settings, sessions).actions) == {"new-request": 1}
    assert len(settle(clean_mail, ALICE, 1)) == 1
