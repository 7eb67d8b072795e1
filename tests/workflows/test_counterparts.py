"""Counterparts without servers (issue 12, point 2): which reply token and footer each notification gets, and which
free texts are held, table-driven on a real database."""
from __future__ import annotations

from email.message import EmailMessage

import pytest
from sqlalchemy import select

from mailbot.compose import TemplateRenderer
from mailbot.models import Appeal, Connection, Member, Solicitation, Ticket
from mailbot.parsers import parse_mail
from mailbot.tokens import ROLE_AIDEUR, ROLE_HELPER, SCOPE_COUNTERPART, SCOPE_TICKET, Token, TokenSigner
from mailbot.workflows import counterparts
from mailbot.workflows.base import WorkflowContext
from tests.helpers import AIDEUR, ALICE, CHLOE, CLOCK, CLUB, add_members
from tests.unit.test_templates import SAMPLES


@pytest.fixture
def world(settings, sessions):  # type: ignore[no-untyped-def]
    add_members(sessions)
    session = sessions()
    alice = session.scalar(select(Member).where(Member.email == ALICE))
    chloe = session.scalar(select(Member).where(Member.email == CHLOE))
    ticket = Ticket(ref="CA-2026-0001", member_id=alice.id, subject="Licenciement contesté", status="accepted",
                    created_at=CLOCK, updated_at=CLOCK)
    session.add(ticket)
    session.flush()
    appeal = Appeal(ticket_id=ticket.id, text="Un membre cherche un avis.", created_at=CLOCK)
    session.add(appeal)
    session.flush()
    asked = Solicitation(appeal_id=appeal.id, ticket_id=ticket.id, member_id=chloe.id, status="offered",
                         offer_number=1, asked_at=CLOCK)
    session.add(asked)
    session.flush()
    ctx = WorkflowContext(session=session, settings=settings, signer=TokenSigner(settings.secret_keys), now=CLOCK)
    yield ctx, ticket, chloe, asked
    session.rollback()
    session.close()


def reply_through(ctx: WorkflowContext, token: Token) -> object:
    message = EmailMessage()
    message["From"], message["To"] = AIDEUR, ctx.signer.plus_address(CLUB, token)
    message["Subject"], message["Message-ID"] = "Re: offre", "<r1@club.test>"
    message.set_content("texte")
    return parse_mail(message.as_bytes())


@pytest.mark.parametrize("template, scope, footer", [
    ("notification_nouvelle_demande", SCOPE_TICKET, ("Votre texte sera envoyé à : Alice Martin, qui a fait la "
                                                    "demande CA-2026-0001.")),
    ("notification_suivi", SCOPE_TICKET, "Alice Martin, qui a fait la demande"),
    ("alerte_rebond", SCOPE_COUNTERPART, "Votre texte ne sera envoyé à personne"),
    ("alerte_echec_envoi", SCOPE_COUNTERPART, "Votre texte ne sera envoyé à personne"),
    ("notification_accord_tiers", SCOPE_COUNTERPART, "Votre texte ne sera envoyé à personne"),
])
def test_each_notification_names_who_receives_the_text(world, template, scope, footer):  # type: ignore[no-untyped-def]
    ctx, ticket, _chloe, _asked = world
    token, line = counterparts.reply_binding(ctx, ticket, template, None)
    assert token is not None and (token.scope, token.role) == (scope, ROLE_AIDEUR)
    assert footer in line


def test_an_offer_is_bound_to_its_helper_once(world):  # type: ignore[no-untyped-def]
    ctx, ticket, chloe, asked = world
    first = counterparts.for_helper(ctx, ticket, chloe, asked)
    assert counterparts.for_helper(ctx, ticket, chloe, asked).id == first.id  # one row per helper and ticket
    token, line = counterparts.reply_binding(ctx, ticket, "notification_offre", first)
    assert token == Token(SCOPE_COUNTERPART, first.id, ROLE_AIDEUR)
    assert line == "Votre texte sera envoyé à : Chloé Durand, qui propose son aide (demande CA-2026-0001)."
    assert counterparts.of_mail(ctx, reply_through(ctx, token)) == first
    # the helper's own address (role h) never stands for Aideur's
    assert counterparts.of_mail(ctx, reply_through(ctx, Token(SCOPE_COUNTERPART, first.id, ROLE_HELPER))) is None


@pytest.mark.parametrize("to_helper, text, held", [
    (True, "Merci Chloé, êtes-vous libre jeudi ?", False),
    (True, "La demande vient d'Alice.", True),
    (True, "Appelez Martin Conseil.", True),
    (True, "Rappelez-moi au 01 45 67 89 10.", True),  # any phone, as in an appeal
    (False, "Nous cherchons toujours, merci de votre patience.", False),
    (False, "Chloé Durand peut vous aider.", True),
    (False, "Une juriste, Mme D u r a n d, peut vous aider.", True),
    (False, "Écrivez à chloe@membres.test.", True),
])
def test_free_text_that_would_reveal_one_side_to_the_other_is_held(world, to_helper, text, held):  # type: ignore
    ctx, ticket, chloe, asked = world
    token = Token(SCOPE_COUNTERPART, counterparts.for_helper(ctx, ticket, chloe, asked).id, ROLE_AIDEUR) \
        if to_helper else Token(SCOPE_TICKET, ticket.id, ROLE_AIDEUR)
    errors = counterparts.check(ctx, reply_through(ctx, token), ticket, text)
    assert bool(errors) is held, errors


def test_once_both_agreed_the_names_may_be_given(world):  # type: ignore[no-untyped-def]
    ctx, ticket, chloe, _asked = world
    ctx.session.add(Connection(ticket_id=ticket.id, requester_id=ticket.member_id, helper_id=chloe.id,
                               status="exchanged", created_at=CLOCK))
    ctx.session.flush()
    mail = reply_through(ctx, Token(SCOPE_TICKET, ticket.id, ROLE_AIDEUR))
    assert counterparts.check(ctx, mail, ticket, "Chloé Durand vous appellera.") == ()


@pytest.mark.parametrize("name, said", [("Hélène Lefèvre", "d'Hélène Lefèvre"), ("Alice Martin", "d'Alice Martin"),
                                        ("Chloé Durand", "de Chloé Durand"), ("Yves Roux", "d'Yves Roux")])
def test_the_answer_notice_elides_de_before_a_vowel(name, said):  # type: ignore[no-untyped-def]
    subject = TemplateRenderer().render("notification_reponse", SAMPLES["notification_reponse"] | {"name": name}).subject
    assert subject.endswith(f"] Réponse {said}")


def test_a_member_erased_since_gets_nothing(world):  # type: ignore[no-untyped-def]
    ctx, ticket, chloe, asked = world
    row = counterparts.for_helper(ctx, ticket, chloe, asked)
    chloe.email, chloe.status = None, "erased"
    assert "personne" in counterparts.describe(ctx, row)
    mail = reply_through(ctx, Token(SCOPE_COUNTERPART, row.id, ROLE_AIDEUR))
    assert counterparts.check(ctx, mail, ticket, "Bonjour") != ()
