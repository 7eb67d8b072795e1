"""Issue 11, point 5: nothing is dropped on weak evidence, and nothing unanswered goes unseen (real servers).

A member's mail about auto-replies or absence is a request like any other: a ticket, an acknowledgement to the
member, a notification to Aideur. A real auto-reply (header evidence) gets no answer, and is recorded with its
reason and listed for Aideur: `mailbot tickets list`, `mailbot report` and the weekly digest.
"""
from __future__ import annotations

import json
from datetime import datetime

import pytest
from sqlalchemy import select

from mailbot.models import InboundMail, OutboxMail, Ticket
from tests.helpers import AIDEUR, ALICE, BRUNO, CLUB, add_members, make_mail, run_cycle, settle, smtp_send, wait_mail
from tests.integration.test_cli import mailbot

pytestmark = pytest.mark.servers

THE_THREE = ("Comment configurer une réponse automatique sur Outlook ?", "Absent depuis 3 semaines, mon apprenti…",
             "Message d'absence")
MORE = ("Réponse automatique qui ne s'arrête plus", "Absence du bureau de mon comptable : que faire ?")
# The Monday after helpers.CLOCK, 9:30 in Paris: the weekly digest is due, covering 23–29 November.
DIGEST_DAY = datetime(2026, 11, 30, 8, 30)


def test_members_writing_about_auto_replies_and_absence_get_tickets(clean_mail, settings, sessions):
    add_members(sessions)
    texts = {
        THE_THREE[0]: "Bonjour,\n\nJe pars en congés : comment configurer une réponse automatique sur Outlook ?",
        THE_THREE[1]: "Bonjour,\n\nMon apprenti est absent depuis 3 semaines sans nouvelles. Que dois-je faire ?",
        THE_THREE[2]: "Bonjour,\n\nQue doit dire mon message d'absence pendant la fermeture de l'atelier ?",
        MORE[0]: "Bonjour,\n\nMa réponse automatique part encore alors que je suis rentré. Une idée ?",
        MORE[1]: "Bonjour,\n\nMon comptable est absent, à qui m'adresser pour ma TVA ?",
    }
    for subject, text in texts.items():
        smtp_send(clean_mail, make_mail(ALICE, subject, text, X_Auto_Response_Suppress="All"))
    wait_mail(clean_mail, CLUB, len(texts))
    report = run_cycle(settings, sessions)
    assert dict(report.actions) == {"new-request": len(texts)}
    with sessions() as session:
        tickets = session.scalars(select(Ticket)).all()
        assert sorted(t.subject for t in tickets) == sorted(texts)
        assert all(t.member.email == ALICE for t in tickets)
        assert session.scalars(select(InboundMail.kind)).all() == ["normal"] * len(texts)
    acks = settle(clean_mail, ALICE, len(texts))
    assert len(acks) == len(texts)
    notices = settle(clean_mail, AIDEUR, len(texts))
    assert len(notices) == len(texts)
    for subject in THE_THREE:
        assert any(subject in m.subject for m in acks), subject
        assert any(subject in m.subject for m in notices), subject


def test_an_unanswered_auto_reply_is_listed_for_aideur(clean_mail, settings, sessions, env):
    add_members(sessions)
    away = make_mail(BRUNO, "Réponse automatique : Votre demande", "Je suis absent jusqu'au 3 décembre.",
                     Auto_Submitted="auto-replied")
    newsletter = make_mail("infos@ailleurs.test", "Lettre de novembre", "Nos nouvelles.",
                           List_Id="<infos.ailleurs.test>", List_Unsubscribe="<mailto:stop@ailleurs.test>")
    smtp_send(clean_mail, away)
    smtp_send(clean_mail, newsletter)
    wait_mail(clean_mail, CLUB, 2)
    report = run_cycle(settings, sessions)
    assert dict(report.actions) == {"auto-reply": 1, "ignore": 1}
    with sessions() as session:
        assert session.scalars(select(OutboxMail)).all() == []  # nobody answered, nobody alerted one by one
        reasons = dict(session.execute(select(InboundMail.from_address, InboundMail.reason)).all())
    assert "Auto-Submitted" in reasons[BRUNO] and "List-Id" in reasons["infos@ailleurs.test"]
    assert settle(clean_mail, BRUNO, 0) == [] and settle(clean_mail, AIDEUR, 0) == []

    # `mailbot tickets list`: below the tickets, the mails without an answer and why.
    listed = mailbot(env, "tickets", "list").stdout
    assert "Mails sans réponse : 2" in listed
    assert "Réponse automatique : Votre demande" in listed and BRUNO in listed and "Auto-Submitted" in listed
    unanswered = json.loads(mailbot(env, "tickets", "unanswered", "--json").stdout)
    assert {row["outcome"] for row in unanswered} == {"auto-reply", "ignore"}

    # `mailbot report`: the JSON lists them, the text shows them as the digest does.
    summary = json.loads(mailbot(env, "report", "--json", "--at", "2026-11-27T12:00").stdout)
    assert sorted(row["sender"] for row in summary["unanswered"]) == sorted([BRUNO, "infos@ailleurs.test"])
    text = mailbot(env, "report", "--at", "2026-11-27T12:00").stdout
    assert "Mails sans réponse (2)" in text and "réponse automatique" in text

    # The weekly digest to Aideur lists them too.
    run_cycle(settings, sessions, at=DIGEST_DAY)
    [digest] = [m for m in settle(clean_mail, AIDEUR, 1) if "bilan de la semaine" in m.subject]
    assert "Mails sans réponse (2)" in digest.text
    assert "Réponse automatique : Votre demande" in digest.text and "Lettre de novembre" in digest.text
    assert BRUNO in digest.text
