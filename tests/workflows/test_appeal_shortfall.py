"""Why fewer members than Aideur asked for get an appeal (issue 12, point 7): each reason, on SQLite and
PostgreSQL, without the mail servers' part (the workflow decides; the outbox is not involved)."""
from __future__ import annotations

from types import MappingProxyType

import pytest
from sqlalchemy import select

from mailbot.matching import index_member
from mailbot.models import Appeal, Member, Solicitation, Ticket, utcnow
from mailbot.parsers.commands import Command
from mailbot.tokens import TokenSigner
from mailbot.workflows import appeals
from mailbot.workflows.base import WorkflowContext
from tests.helpers import CLOCK


def command(wanted: int, skills: str = "paie") -> Command:
    return Command("appel", "#appel", text="Un membre cherche un avis sur ses bulletins.",
                   fields=MappingProxyType({"competences": skills, "membres": str(wanted)}))


@pytest.mark.parametrize(("others", "expected"), [
    ({"skills": "plomberie"}, "aucun autre membre n'a de compétence proche de « paie »"),
    ({"accepts_appeals": False}, "1 membre qui correspondrait a choisi de ne pas recevoir les appels du réseau"),
    ({"status": "ended"}, "1 membre qui correspondrait n'est plus membre du Club"),
    ({"bounced_at": utcnow()}, "1 membre qui correspondrait a une adresse e-mail qui ne reçoit plus"),
    ({"answered": True}, "1 membre qui correspondrait a déjà répondu à un appel pour cette demande"),
])
def test_each_reason_is_named(settings, sessions, others: dict[str, object], expected: str) -> None:
    others = dict(others)  # the parameters are shared by both databases' runs
    with sessions.begin() as session:
        requester = Member(email="req@x.fr", first_name="Rita", status="active", skills="paie")
        asked = Member(email="ok@x.fr", first_name="Olga", status="active", skills="gestion de la paie")
        other = Member(email="other@x.fr", first_name="Otto", status="active", skills="paie")
        answered = bool(others.pop("answered", False))
        for key, value in others.items():
            setattr(other, key, value)
        session.add_all([requester, asked, other])
        session.flush()
        for member in (requester, asked, other):
            index_member(session, member)
        ticket = Ticket(ref="CA-2026-0001", member_id=requester.id, subject="Paie")
        session.add(ticket)
        session.flush()
        if answered:
            appeal = Appeal(ticket_id=ticket.id, text="x", created_at=utcnow())
            session.add(appeal)
            session.flush()
            session.add(Solicitation(appeal_id=appeal.id, ticket_id=ticket.id, member_id=other.id,
                                     status="declined", asked_at=utcnow()))
        ctx = WorkflowContext(session=session, settings=settings, signer=TokenSigner(settings.secret_keys),
                              now=CLOCK)
        wanted = 3
        recipients = appeals._recipients(ctx, ticket, command(wanted))
        assert [m.email for m, _ in recipients] == ["ok@x.fr"]
        text = appeals.shortfall(ctx, ticket, command(wanted), recipients)
        assert text.startswith("1 membre sur 3 demandés : ")
        assert expected in text
        if "skills" not in others:  # one of the two missing is explained, the other is not close at all
            assert text.endswith("aucun autre membre n'a de compétence proche de « paie »")
        assert "Rita" not in text and "req@x.fr" not in text  # the requester is never counted
        assert session.scalar(select(Member.id).where(Member.email == "other@x.fr"))
