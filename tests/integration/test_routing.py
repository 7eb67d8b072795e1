"""How mail finds its ticket, over the real servers: tokens, threads, subject references, Aideur, loops."""
from __future__ import annotations

from email.message import EmailMessage

from sqlalchemy import func, select

from mailbot.models import Event, InboundMail, Member, OutboxMail, Ticket
from tests.helpers import (
    AIDEUR,
    ALICE,
    BRUNO,
    CLUB,
    add_members,
    append,
    make_mail,
    run_cycle,
    settle,
    smtp_send,
    wait_mail,
)


def _tickets(sessions) -> list[Ticket]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return list(session.scalars(select(Ticket).order_by(Ticket.id)))


def test_french_prefixes_never_reach_the_title(clean_mail, settings, sessions):
    add_members(sessions)
    append(clean_mail, CLUB, make_mail(ALICE, "TR : RE: Réf : Fwd: Devis toiture", "Voici le devis reçu.").as_bytes())
    run_cycle(settings, sessions)
    [ticket] = _tickets(sessions)
    assert ticket.subject == "Devis toiture"
    [ack] = settle(clean_mail, ALICE, 1)
    assert ack.subject == f"[CA-{ticket.ref[3:]}] Demande bien reçue : Devis toiture"


def test_reply_before_its_request_is_impossible_uid_order(clean_mail, settings, sessions):
    """Request and the member's own follow-up (In-Reply-To the request) wait together: one ticket, in order."""
    add_members(sessions)
    first = make_mail(ALICE, "Recrutement", "Je cherche un cabinet de recrutement.")
    second = make_mail(ALICE, "Re: Recrutement", "J'oubliais : pour un poste de comptable.",
                       In_Reply_To=first["Message-ID"], References=first["Message-ID"])
    append(clean_mail, CLUB, first.as_bytes())
    append(clean_mail, CLUB, second.as_bytes())
    report = run_cycle(settings, sessions)
    assert dict(report.actions) == {"new-request": 1, "follow-up": 1}
    [ticket] = _tickets(sessions)
    with sessions() as session:
        texts = [m.text for m in session.get(Ticket, ticket.id).messages if m.direction == "in"]
    assert "cabinet de recrutement" in texts[0] and "poste de comptable" in texts[1]


def test_subject_reference_counts_only_for_the_tickets_own_member(clean_mail, settings, sessions):
    add_members(sessions)
    append(clean_mail, CLUB, make_mail(ALICE, "Logiciel de paie", "Quel logiciel de paie choisir ?").as_bytes())
    run_cycle(settings, sessions)
    [ticket] = _tickets(sessions)
    # Alice writes a fresh mail (no thread headers, plain club address) naming her reference: threads.
    append(clean_mail, CLUB, make_mail(ALICE, f"Au sujet de {ticket.ref}", "Précision : 12 salariés.").as_bytes())
    # Bruno names Alice's reference: he must not reach her ticket; it is a new request of his own.
    append(clean_mail, CLUB, make_mail(BRUNO, f"{ticket.ref} moi aussi", "Même question.").as_bytes())
    report = run_cycle(settings, sessions)
    assert dict(report.actions) == {"follow-up": 1, "new-request": 1}
    tickets = _tickets(sessions)
    assert len(tickets) == 2 and tickets[1].member_id != tickets[0].member_id


def test_plus_address_dropped_by_provider_still_threads_by_references(clean_mail, settings, sessions):
    add_members(sessions)
    smtp_send(clean_mail, make_mail(ALICE, "Assurance", "Quelle assurance pour un local commercial ?"))
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(settings, sessions)
    [ack] = wait_mail(clean_mail, ALICE, 1)
    # The reply goes to the plain club address (plus part lost) with a made-up subject: References lead home.
    reply = make_mail(ALICE, "autre objet", "Le local fait 80 m².", to=CLUB,
                      In_Reply_To=ack.headers["message-id"][0], References=ack.headers["message-id"][0])
    smtp_send(clean_mail, reply)
    wait_mail(clean_mail, CLUB, 1)
    assert dict(run_cycle(settings, sessions).actions) == {"follow-up": 1}
    assert len(_tickets(sessions)) == 1


def test_forged_token_does_not_route(clean_mail, settings, sessions):
    add_members(sessions)
    append(clean_mail, CLUB, make_mail(ALICE, "Fiscalité", "Question fiscale.").as_bytes())
    run_cycle(settings, sessions)
    forged = make_mail(BRUNO, "Re: Fiscalité", "Je me glisse dans le ticket d'Alice.",
                       to="aide+t1m-00000000000000000000@club.test")
    smtp_send(clean_mail, forged)
    wait_mail(clean_mail, CLUB, 1)
    assert dict(run_cycle(settings, sessions).actions) == {"new-request": 1}


def test_aideur_reply_through_token_is_recorded_and_forged_aideur_drives_nothing(clean_mail, settings, sessions):
    add_members(sessions)
    smtp_send(clean_mail, make_mail(ALICE, "Comptable", "Je cherche un expert-comptable."))
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(settings, sessions)
    [note] = wait_mail(clean_mail, AIDEUR, 1)
    reply = make_mail(AIDEUR, "Re: " + note.subject, "Je m'en occupe.\n\n> " + note.text.replace("\n", "\n> "),
                      to=note.reply_to[0], In_Reply_To=note.headers["message-id"][0])
    smtp_send(clean_mail, reply)
    # A forged mail "from Aideur" to the plain club address: no token, so nothing happens but a warning.
    smtp_send(clean_mail, make_mail(AIDEUR, "#refuser CA-2026-0001", "Refusé."))
    wait_mail(clean_mail, CLUB, 2)
    report = run_cycle(settings, sessions)
    assert dict(report.actions) == {"aideur-reply": 1, "aideur-unrouted": 1}
    [ticket] = _tickets(sessions)
    assert ticket.status == "new"
    notes = settle(clean_mail, AIDEUR, 2)
    assert any("n'a pas été traité" in n.subject for n in notes)
    assert settle(clean_mail, ALICE, 1)[0].subject.startswith("[CA-")  # only her acknowledgement


def test_our_own_mail_coming_back_is_ignored(clean_mail, settings, sessions):
    add_members(sessions)
    smtp_send(clean_mail, make_mail(ALICE, "Boucle", "Test de boucle."))
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(settings, sessions)
    [_ack] = wait_mail(clean_mail, ALICE, 1)
    # a misconfigured forward sends the acknowledgement back to the club
    with sessions() as session:
        raw = session.scalars(select(OutboxMail.body).where(OutboxMail.recipient == ALICE)).one()
    append(clean_mail, CLUB, raw)
    append(clean_mail, CLUB, make_mail(CLUB, "De nous-mêmes", "Envoyé depuis l'adresse du club.").as_bytes())
    report = run_cycle(settings, sessions)
    assert dict(report.actions) == {"ignore": 2}
    assert len(settle(clean_mail, ALICE, 1)) == 1


def test_rate_limit_stops_a_loop_we_cannot_recognise(clean_mail, database_url, sessions_for):
    from mailbot.config import load_settings
    from tests.conftest import make_env

    settings = load_settings(make_env(clean_mail, database_url, MAILBOT_RATE_LIMIT_PER_HOUR="3"), env_file=None)
    sessions = sessions_for(database_url)
    add_members(sessions)
    # A robot that looks human (no Auto-Submitted, no list headers) writes five times in a row.
    for number in range(5):
        append(clean_mail, CLUB, make_mail(ALICE, f"Message {number}", "Texte automatique déguisé.").as_bytes())
    run_cycle(settings, sessions)
    assert len(settle(clean_mail, ALICE, 3)) == 3
    with sessions() as session:
        assert session.scalar(select(func.count(Event.id)).where(Event.kind == "rate-limited")) == 2
        assert session.scalar(select(func.count(Ticket.id))) == 5  # nothing is lost: only answers are held
    assert len(settle(clean_mail, AIDEUR, 5)) == 5  # Aideur is never rate-limited


def test_attachments_reach_aideur(clean_mail, settings, sessions):
    add_members(sessions)
    mail = make_mail(ALICE, "Contrat à relire", "Pouvez-vous faire relire ce contrat ?")
    assert isinstance(mail, EmailMessage)
    mail.add_attachment(b"%PDF-1.4 fake contract " * 500, maintype="application", subtype="pdf",
                        filename="contrat fournisseur é.pdf")
    smtp_send(clean_mail, mail)
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(settings, sessions)
    [note] = settle(clean_mail, AIDEUR, 1)
    [attachment] = note.attachments
    assert attachment.filename == "contrat fournisseur é.pdf"
    assert attachment.payload == b"%PDF-1.4 fake contract " * 500
    assert "contrat fournisseur é.pdf" in note.text
    [ack] = settle(clean_mail, ALICE, 1)
    assert ack.attachments == [] and "contrat fournisseur é.pdf" in ack.text


def test_bounce_to_the_plain_address_is_recorded_but_marks_nobody(clean_mail, settings, sessions):
    """Anyone can write a report naming a member to the plain club address: it does not come back to the
    envelope sender (VERP) of one of our mails, so it marks nobody and alerts nobody; it is recorded with its
    reason (tests/security/test_bounces.py has the authentic case, through a real Postfix bounce)."""
    add_members(sessions)
    dsn = (
        "From: MAILER-DAEMON@membres.test\r\nTo: aide@club.test\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <bounce-1@membres.test>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n"
        "--B\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; membres.test\r\n\r\n"
        f"Final-Recipient: rfc822; {BRUNO}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "--B--\r\n"
    ).encode()
    append(clean_mail, CLUB, dsn)
    report = run_cycle(settings, sessions)
    assert dict(report.actions) == {"bounce": 1}
    assert settle(clean_mail, AIDEUR, 0) == []
    assert settle(clean_mail, BRUNO, 0) == []
    with sessions() as session:
        record = session.scalars(select(InboundMail)).one()
        assert record.kind == "bounce" and record.reason.startswith("rebond non authentifié")
        assert session.scalar(select(Member.bounced_at).where(Member.email == BRUNO)) is None


def test_attachments_too_big_to_forward_are_named_not_joined(clean_mail, database_url, sessions_for):
    from mailbot.config import load_settings
    from tests.conftest import make_env

    settings = load_settings(make_env(clean_mail, database_url, MAILBOT_MAX_FORWARD_BYTES="1000"), env_file=None)
    sessions = sessions_for(database_url)
    add_members(sessions)
    mail = make_mail(ALICE, "Plans", "Voici les plans.")
    mail.add_attachment(b"x" * 5000, maintype="image", subtype="png", filename="plan.png")
    append(clean_mail, CLUB, mail.as_bytes())
    run_cycle(settings, sessions)
    [note] = settle(clean_mail, AIDEUR, 1)
    assert note.attachments == []
    assert "plan.png" in note.text and "mailbot-traites" in note.text
