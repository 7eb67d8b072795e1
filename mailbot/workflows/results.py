"""The result form (docs/rules.md §8; seed: "le retour de résultat … le formulaire est simplifié afin de garder la
discrétion sur les prestations, durée, prix"): result, satisfaction 1–5, an optional comment. Nothing else.

One form per member and ticket, sent after a connection, a solution or a close; understood in any reasonable shape
(parsers/results.py); silence gets a reminder after a week, another two weeks later, then the form is let go.
Every answer goes to Aideur. A later answer to the same form updates it ("en cours", then "résolu").
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from mailbot.compose import excerpt
from mailbot.models import Member, ResultForm, Ticket
from mailbot.parsers import InboundMail
from mailbot.parsers.results import RESULT_LABELS, parse_result
from mailbot.tokens import ROLE_HELPER, ROLE_MEMBER, SCOPE_RESULT, Token
from mailbot.workflows.aideur import notify_aideurs
from mailbot.workflows.base import Outgoing, WorkflowContext
from mailbot.workflows.tickets import record_event, record_inbound

FORM_LINES = ("Résultat (résolu / en partie / non résolu / en cours) :", "Satisfaction (de 1 à 5) :",
              "Commentaire (facultatif) :")
# Reminder n is due this long after the form was sent: a week, then two weeks more; then it is let go.
REMINDERS = (timedelta(days=7), timedelta(days=21))
LET_GO_AFTER = timedelta(days=35)
CAUSES = {"connection": "votre mise en relation", "solution": "la solution proposée", "close": "la clôture"}


def send_form(ctx: WorkflowContext, ticket: Ticket, member: Member | None, role: str, cause: str) -> None:
    """Ask for the result, unless this member already has this ticket's form (a solution then a close: one form)."""
    if member is None or not member.email or member.status == "erased":
        return
    exists = ctx.session.scalar(select(ResultForm.id).where(ResultForm.ticket_id == ticket.id,
                                                            ResultForm.member_id == member.id))
    if exists is not None:
        return
    form = ResultForm(ticket_id=ticket.id, member_id=member.id, role=role, cause=cause, status="pending",
                      sent_at=ctx.now)
    ctx.session.add(form)
    ctx.session.flush()
    _form_mail(ctx, form, ticket, member, key=f"result-form:{form.id}", reminder=0)
    record_event(ctx.session, ticket, "result-form-sent", f"formulaire de résultat à {member.display_name}", ctx.now)


def _form_mail(ctx: WorkflowContext, form: ResultForm, ticket: Ticket, member: Member, *, key: str,
               reminder: int) -> None:
    ctx.send(Outgoing(
        template="formulaire_resultat", to=member.email or "",
        context={"club_name": ctx.settings.club_name, "ref": ticket.ref, "title": ticket.subject if form.role ==
                 "requester" else "", "first_name": member.first_name, "role": form.role,
                 "cause": CAUSES.get(form.cause, ""), "form": FORM_LINES, "reminder": reminder},
        idempotency_key=key, token=_token(form), ticket_id=ticket.id, auto_submitted="auto-generated",
        rate_limited=False))


def _token(form: ResultForm) -> Token:
    return Token(SCOPE_RESULT, form.id, ROLE_MEMBER if form.role == "requester" else ROLE_HELPER)


def result_reply(ctx: WorkflowContext, mail: InboundMail, form_id: int) -> None:
    """An answer to a result form ("résolu", "en cours"…, a satisfaction 1-5, a comment), come back through the
    form's signed reply address.

    In: the context, the parsed mail and the id of the `result_forms` row the verified token names.

    Written: the mail in the ticket's `messages`, always. From anyone but the member asked: a "result-foreign"
    event and "notification_accord_tiers" to Aideur; the sender gets nothing. Unreadable: a "result-unclear"
    event and "resultat_incompris" (what was not understood, and the form again). Otherwise the form
    "answered" with result, satisfaction and comment (a later answer updates it), a "result" event,
    "resultat_merci" to the member and "notification_resultat" to Aideur. Mails are queued on `ctx.outgoing`
    (the outbox stores them in the same transaction).

    Raises AssertionError if the form or its ticket does not exist (the router guarantees both)."""
    form = ctx.session.get(ResultForm, form_id)
    assert form is not None
    ticket = ctx.session.get(Ticket, form.ticket_id)
    assert ticket is not None
    member = form.member
    text = mail.new_text or mail.text
    record_inbound(ctx.session, ticket, mail, text, ctx.now)
    if mail.from_address != (member.email or ""):
        record_event(ctx.session, ticket, "result-foreign", f"réponse de {mail.from_address} au formulaire de "
                                                            f"{member.display_name} : ignorée", ctx.now,
                     actor=mail.from_address)
        notify_aideurs(ctx, ticket, "notification_accord_tiers", {
            "club_name": ctx.settings.club_name, "ref": ticket.ref, "sender": mail.from_address,
            "asked": member.display_name, "text": excerpt(text, 1000), "what": "formulaire de résultat"},
            key=f"result-foreign:{mail.message_id}")
        return
    reply = parse_result(mail.text, text)
    base = {"club_name": ctx.settings.club_name, "ref": ticket.ref, "first_name": member.first_name}
    if reply.result is None:
        record_event(ctx.session, ticket, "result-unclear", f"{member.display_name} : résultat illisible", ctx.now,
                     actor=mail.from_address)
        _reply(ctx, mail, form, "resultat_incompris", base | {"problems": list(reply.problems), "form": FORM_LINES})
        return
    updated = form.status == "answered"
    form.status, form.result, form.answered_at, form.answer_message_id = "answered", reply.result, ctx.now, \
        mail.message_id
    if reply.satisfaction is not None:
        form.satisfaction = reply.satisfaction
    if reply.comment:
        form.comment = reply.comment
    label = RESULT_LABELS[reply.result]
    record_event(ctx.session, ticket, "result", f"{member.display_name} : {label}"
                 + (f", satisfaction {form.satisfaction}/5" if form.satisfaction else ""), ctx.now,
                 actor=mail.from_address)
    _reply(ctx, mail, form, "resultat_merci", base | {"result": label, "satisfaction": form.satisfaction,
                                                     "problems": list(reply.problems),
                                                     "still_going": reply.result == "en_cours"})
    notify_aideurs(ctx, ticket, "notification_resultat", base | {
        "name": member.display_name, "role": form.role, "result": label, "satisfaction": form.satisfaction,
        "comment": form.comment, "updated": updated, "title": ticket.subject}, key=f"result:{mail.message_id}")


def _reply(ctx: WorkflowContext, mail: InboundMail, form: ResultForm, template: str,
           context: dict[str, object]) -> None:
    ctx.send(Outgoing(template=template, to=form.member.email or mail.from_address, context=context,
                      idempotency_key=f"{template}:{mail.message_id}", token=_token(form),
                      ticket_id=form.ticket_id, in_reply_to=f"<{mail.message_id}>"))


def run_due(ctx: WorkflowContext) -> int:
    """Reminders exactly once each: the count is stored with the reminder's outbox row, in one transaction."""
    acted = 0
    for form in ctx.session.scalars(select(ResultForm).where(ResultForm.status == "pending")
                                    .order_by(ResultForm.id)).all():
        member = form.member
        age = ctx.now - form.sent_at
        if member.status != "active" or not member.email or age >= LET_GO_AFTER:
            form.status = "stopped"
            acted += 1
            continue
        if form.reminders < len(REMINDERS) and age >= REMINDERS[form.reminders]:
            form.reminders += 1
            ticket = ctx.session.get(Ticket, form.ticket_id)
            assert ticket is not None
            _form_mail(ctx, form, ticket, member, key=f"result-form:{form.id}:reminder-{form.reminders}",
                       reminder=form.reminders)
            record_event(ctx.session, ticket, "result-form-reminded", f"rappel n° {form.reminders} à "
                                                                      f"{member.display_name}", ctx.now)
            acted += 1
    return acted
