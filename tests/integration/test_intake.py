"""End to end over real Dovecot + Postfix: a member's mail becomes a ticket, acknowledged, and Aideur is told."""
from __future__ import annotations

import time
from datetime import datetime

from sqlalchemy import func, select

from mailbot.models import InboundMail, OutboxMail, Ticket
from tests.helpers import (
    AIDEUR,
    ALICE,
    CLUB,
    STRANGER,
    add_members,
    mailbox,
    make_mail,
    run_cycle,
    settle,
    smtp_send,
    wait_mail,
)


def test_new_request_makes_ticket_ack_and_notification(clean_mail, settings, sessions):
    add_members(sessions)
    request = make_mail(ALICE, "Besoin d'un avocat", "Bonjour,\n\nJe cherche un avocat en droit du travail pour un "
                        "litige avec un salarié. Pouvez-vous m'aider ?\n\nMerci,\nAlice")
    smtp_send(clean_mail, request)
    wait_mail(clean_mail, CLUB, 1)

    report = run_cycle(settings, sessions, at=datetime(2026, 11, 26, 10, 0))
    assert report.processed == 1 and report.sent == 2

    with sessions() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert ticket.ref == "CA-2026-0001"
        assert ticket.subject == "Besoin d'un avocat"
        assert ticket.member.email == ALICE
        # Thursday 26 Nov + 2 business days = Monday 30 Nov, end of day in Paris
        assert ticket.due_at == datetime(2026, 11, 30, 17, 0)

    [ack] = settle(clean_mail, ALICE, 1)
    assert ack.subject.startswith("[CA-2026-0001]")
    assert "lundi 30 novembre 2026" in ack.text
    assert "Je cherche un avocat en droit du travail" in ack.text  # the one-line summary
    assert "RÉSOLU" in ack.text
    assert ack.headers["auto-submitted"] == ("auto-replied",)
    assert ack.headers["in-reply-to"][0].strip() == request["Message-ID"]
    assert ack.reply_to and ack.reply_to[0].startswith("aide+t1m-")
    assert ack.from_ == CLUB

    [note] = settle(clean_mail, AIDEUR, 1)
    assert "CA-2026-0001" in note.subject and "Alice Martin" in note.subject
    assert "06 12 34 56 78" in note.text and "Martin Conseil" in note.text
    assert "litige avec un salarié" in note.text
    assert note.reply_to[0].startswith("aide+t1a-")

    # the mail left the inbox for the processed folder only after its effects were committed
    assert mailbox(clean_mail, CLUB) == []
    assert len(mailbox(clean_mail, CLUB, settings.processed_folder)) == 1


def test_member_reply_threads_onto_ticket_without_quote(clean_mail, settings, sessions):
    add_members(sessions)
    smtp_send(clean_mail, make_mail(ALICE, "Question TVA", "Comment récupérer la TVA sur un véhicule ?"))
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(settings, sessions)
    [ack] = wait_mail(clean_mail, ALICE, 1)

    reply = make_mail(
        ALICE, "RE : " + ack.subject,
        "J'ajoute que c'est un véhicule utilitaire.\n\nAlice\n\n"
        "-----Message d'origine-----\nDe : Club Aide <aide@club.test>\nEnvoyé : jeudi 26 novembre 2026 10:00\n"
        "À : alice@membres.test\nObjet : " + ack.subject + "\n\n" + ack.text,
        to=ack.reply_to[0], In_Reply_To=ack.headers["message-id"][0], References=ack.headers["message-id"][0])
    smtp_send(clean_mail, reply)
    wait_mail(clean_mail, CLUB, 1)
    report = run_cycle(settings, sessions)
    assert report.actions == {"follow-up": 1}

    with sessions() as session:
        ticket = session.scalars(select(Ticket)).one()
        inbound = [m for m in ticket.messages if m.direction == "in"]
        assert len(inbound) == 2
        assert "véhicule utilitaire" in inbound[1].text
        assert "Message d'origine" not in inbound[1].text
        assert session.scalar(select(func.count(Ticket.id))) == 1

    notes = settle(clean_mail, AIDEUR, 2)
    assert len(notes) == 2
    assert "véhicule utilitaire" in notes[1].text
    assert "Message d'origine" not in notes[1].text
    # the follow-up notification threads under the first one in Aideur's client
    assert notes[0].headers["message-id"][0] in notes[1].headers["references"][0]


def test_non_member_gets_join_explanation_and_aideur_is_told(clean_mail, settings, sessions):
    add_members(sessions)
    smtp_send(clean_mail, make_mail(STRANGER, "Renseignement", "Bonjour, comment fonctionne votre club ?"))
    wait_mail(clean_mail, CLUB, 1)
    report = run_cycle(settings, sessions)
    assert report.actions == {"non-member": 1}
    [answer] = settle(clean_mail, STRANGER, 1)
    assert "membre" in answer.text and "inscription" in answer.text
    assert answer.headers["auto-submitted"] == ("auto-replied",)
    [note] = settle(clean_mail, AIDEUR, 1)
    assert STRANGER in note.text
    with sessions() as session:
        assert session.scalar(select(func.count(Ticket.id))) == 0


def test_auto_reply_and_bounce_get_no_answer(clean_mail, settings, sessions):
    add_members(sessions)
    ooo = make_mail(ALICE, "Réponse automatique : Votre demande", "Je suis absente jusqu'au 3 décembre.",
                    X_Auto_Response_Suppress="All", Auto_Submitted="auto-replied")
    smtp_send(clean_mail, ooo)
    wait_mail(clean_mail, CLUB, 1)
    report = run_cycle(settings, sessions)
    assert report.actions == {"auto-reply": 1}
    assert settle(clean_mail, ALICE, 0) == []
    assert settle(clean_mail, AIDEUR, 0) == []


def test_same_message_id_twice_makes_one_ticket(clean_mail, settings, sessions):
    add_members(sessions)
    mail = make_mail(ALICE, "Doublon", "Une seule demande, livrée deux fois.")
    smtp_send(clean_mail, mail)
    smtp_send(clean_mail, mail)
    wait_mail(clean_mail, CLUB, 2)
    run_cycle(settings, sessions)
    with sessions() as session:
        assert session.scalar(select(func.count(Ticket.id))) == 1
        assert session.scalar(select(func.count(InboundMail.id))) == 1
        assert session.scalar(select(func.count(OutboxMail.id))) == 2
    assert len(settle(clean_mail, ALICE, 1)) == 1
    assert mailbox(clean_mail, CLUB) == []  # the duplicate left the inbox too


def test_html_only_outlook_reply_with_signature_threads_clean(clean_mail, settings, sessions):
    add_members(sessions)
    smtp_send(clean_mail, make_mail(ALICE, "Local commercial", "Je cherche un local commercial à Lyon."))
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(settings, sessions)
    [ack] = wait_mail(clean_mail, ALICE, 1)

    from email.message import EmailMessage

    reply = EmailMessage()
    reply["From"] = "Alice Martin <alice@membres.test>"
    reply["To"] = ack.reply_to[0]
    reply["Subject"] = "RE: " + ack.subject
    reply["Message-ID"] = "<outlook-reply-1@membres.test>"
    reply["In-Reply-To"] = ack.headers["message-id"][0]
    reply.set_content(
        "<html><body><div>Surface souhaitée&nbsp;: <b>80&nbsp;m²</b>, près de la gare.</div>"
        "<div>Cordialement,</div><div>Alice Martin<br>Martin Conseil<br>Tél. : 06 12 34 56 78</div>"
        "<div id=\"divRplyFwdMsg\"><hr><b>De :</b> Club Aide &lt;aide@club.test&gt;<br>"
        "<b>Envoyé :</b> jeudi 26 novembre 2026 10:00<br><b>À :</b> alice@membres.test<br>"
        f"<b>Objet :</b> {ack.subject}</div><div>Bonjour Alice, Nous avons bien reçu votre demande.</div>"
        "</body></html>", subtype="html")
    smtp_send(clean_mail, reply)
    wait_mail(clean_mail, CLUB, 1)
    assert dict(run_cycle(settings, sessions).actions) == {"follow-up": 1}

    notes = settle(clean_mail, AIDEUR, 2)
    forwarded = notes[-1].text
    assert "80 m²" in forwarded and "près de la gare" in forwarded
    assert "Nous avons bien reçu" not in forwarded and "Envoyé :" not in forwarded
    assert "<b>" not in forwarded and "&nbsp;" not in forwarded
    assert "Tél. : 06 12 34 56 78" not in forwarded  # the signature block stays out


def test_polling_fallback_without_idle(clean_mail, database_url):
    from tests.conftest import make_env
    from tests.helpers import add_members as add
    from tests.integration.daemon_process import DaemonProcess, wait_until

    env = make_env(clean_mail, database_url, MAILBOT_IMAP_IDLE="false", MAILBOT_POLL_SECONDS="1")
    from mailbot.db import make_engine, make_session_factory

    engine = make_engine(database_url)
    add(make_session_factory(engine))
    engine.dispose()
    with DaemonProcess(env) as daemon:
        time.sleep(1.5)
        smtp_send(clean_mail, make_mail(ALICE, "Sans IDLE", "Le serveur n'a pas IDLE."))
        assert wait_until(lambda: len(mailbox(clean_mail, ALICE)) == 1, 15), daemon.output()
        assert daemon.terminate() == 0
