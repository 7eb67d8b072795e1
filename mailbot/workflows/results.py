"""The result form (docs/rules.md §8; seed: "le retour de résultat … le formulaire est simplifié afin de garder la
discrétion sur les prestations, durée, prix"): result, satisfaction 1–5, an optional comment. Nothing else.

One form per member and ticket. After a solution or a connection it goes MAILBOT_RESULT_FORM_DAYS later (time to
try it: never in the same second as the contact details), sent by the scheduler's cycle; after a close, at once.
The requester is asked about their request, a helper about the help they gave to a member (their own form,
never "your request"). Understood in any reasonable shape (parsers/results.py); silence gets a reminder after a
week, another two weeks later, then the form is let go. Every answer goes to Aideur. "En cours" (or "pas encore")
is asked again MAILBOT_RESULT_FORM_DAYS later; a later answer to the same form updates it.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from mailbot.addresses import same_person
from mailbot.calendar import french_date
from mailbot.compose import excerpt
from mailbot.models import Member, ResultForm, Ticket
from mailbot.parsers import InboundMail
from mailbot.parsers.results import RESULT_LABELS, parse_result
from mailbot.tokens import ROLE_HELPER, ROLE_MEMBER, SCOPE_RESULT, Token
from mailbot.workflows import counterparts, remarks
from mailbot.workflows.aideur import notify_aideurs
from mailbot.workflows.base import Outgoing, WorkflowContext
from mailbot.workflows.tickets import record_event, record_inbound

FORM_LINES = ("Résultat (résolu / en partie / non résolu / en cours) :", "Satisfaction (de 1 à 5) :",
              "Commentaire (facultatif) :")
# Reminder n is due this long after the form was sent: a week, then two weeks more; then it is let go.
REMINDERS = (timedelta(days=7), timedelta(days=21))
LET_GO_AFTER = timedelta(days=35)
CAUSES = {"connection": "votre mise en relation", "solution": "la solution proposée", "close": "la clôture"}


def form_delay(ctx: WorkflowContext, cause: str) -> timedelta:
    """How long after its cause the form goes: at once after a close, MAILBOT_RESULT_FORM_DAYS otherwise."""
    return timedelta(0) if cause == "close" else timedelta(days=ctx.settings.result_form_days)


def send_form(ctx: WorkflowContext, ticket: Ticket, member: Member | None, role: str, cause: str) -> None:
    """Ask for the result, unless this member already has this ticket's form (a solution then a close: one form).

    After a close it goes at once; after a solution or a connection it is scheduled MAILBOT_RESULT_FORM_DAYS
    later (status "scheduled", `sent_at` the time it will go) and the scheduler's cycle sends it (run_due)."""
    if member is None or not member.email or member.status == "erased":
        return
    exists = ctx.session.scalar(select(ResultForm.id).where(ResultForm.ticket_id == ticket.id,
                                                            ResultForm.member_id == member.id))
    if exists is not None:
        return
    delay = form_delay(ctx, cause)
    form = ResultForm(ticket_id=ticket.id, member_id=member.id, role=role, cause=cause,
                      status="scheduled" if delay else "pending", sent_at=ctx.now + delay)
    ctx.session.add(form)
    ctx.session.flush()
    if delay:
        record_event(ctx.session, ticket, "result-form-scheduled", f"formulaire de résultat à "
                     f"{member.display_name} prévu le {french_date(form.sent_at, ctx.settings.timezone)}", ctx.now)
        return
    _form_mail(ctx, form, ticket, member, key=f"result-form:{form.id}", reminder=0)
    record_event(ctx.session, ticket, "result-form-sent", f"formulaire de résultat à {member.display_name}", ctx.now)


def _form_mail(ctx: WorkflowContext, form: ResultForm, ticket: Ticket, member: Member, *, key: str,
               reminder: int) -> None:
    helper = form.role == "helper"
    ctx.send(Outgoing(
        template="formulaire_resultat_intervenant" if helper else "formulaire_resultat", to=member.email or "",
        context={"club_name": ctx.settings.club_name, "ref": ticket.ref, "title": "" if helper else ticket.subject,
                 "first_name": member.first_name, "role": form.role, "cause": CAUSES.get(form.cause, ""),
                 "form": FORM_LINES, "reminder": reminder, "again": form.result == "en_cours"},
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
    if not member.email or not same_person(ctx.session, mail.from_address, member.email):  # any of their addresses
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
        # Whatever they wrote instead of a result (a question, "je ne sais pas encore") reaches Aideur.
        remark = remarks.remark_in(mail.new_text)
        if remark:
            remarks.forward(ctx, ticket, member, form.role, remark, what="result", key=mail.message_id)
        _reply(ctx, mail, form, "resultat_incompris", base | {"problems": list(reply.problems), "form": FORM_LINES,
                                                             "forwarded": bool(remark)})
        return
    # A question in the comment is for Aideur to answer: sent to him as such (the comment is in the result too).
    question = reply.comment if "?" in reply.comment else ""
    if question:
        remarks.forward(ctx, ticket, member, form.role, question, what="result", key=mail.message_id)
    updated = form.status == "answered" or bool(form.result)
    form.status, form.result, form.answered_at, form.answer_message_id = "answered", reply.result, ctx.now, \
        mail.message_id
    asked_again = ""
    if reply.result == "en_cours":
        # Not over yet: the same form is asked again later, with its own reminders.
        form.status, form.sent_at, form.reminders = "scheduled", ctx.now + again_after(ctx), 0
        asked_again = french_date(form.sent_at, ctx.settings.timezone)
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
                                                     "still_going": reply.result == "en_cours",
                                                     "asked_again": asked_again, "role": form.role,
                                                     "forwarded": bool(question)})
    notify_aideurs(ctx, ticket, "notification_resultat", base | {
        "name": member.display_name, "role": form.role, "result": label, "satisfaction": form.satisfaction,
        "comment": form.comment, "updated": updated, "title": ticket.subject}, key=f"result:{mail.message_id}",
        counterpart=counterparts.for_helper(ctx, ticket, member) if form.role == "helper" else None)


def _reply(ctx: WorkflowContext, mail: InboundMail, form: ResultForm, template: str,
           context: dict[str, object]) -> None:
    ctx.send(Outgoing(template=template, to=form.member.email or mail.from_address, context=context,
                      idempotency_key=f"{template}:{mail.message_id}", token=_token(form),
                      ticket_id=form.ticket_id, in_reply_to=f"<{mail.message_id}>"))


def again_after(ctx: WorkflowContext) -> timedelta:
    """How long after an "en cours" the form is asked again (a week when the forms go at once)."""
    return timedelta(days=ctx.settings.result_form_days or 7)


def run_due(ctx: WorkflowContext) -> int:
    """Scheduled forms whose time has come, and reminders, exactly once each: the form's new state is stored with
    the mail's outbox row, in one transaction, and each mail's key names the time it was planned for."""
    acted = 0
    for form in ctx.session.scalars(select(ResultForm).where(ResultForm.status.in_(("pending", "scheduled")))
                                    .order_by(ResultForm.id)).all():
        member = form.member
        if form.status == "scheduled":
            if ctx.now >= form.sent_at:
                acted += _send_scheduled(ctx, form, member)
            continue
        age = ctx.now - form.sent_at
        if member.status != "active" or not member.email or age >= LET_GO_AFTER:
            form.status = "stopped"
            acted += 1
            continue
        if form.reminders < len(REMINDERS) and age >= REMINDERS[form.reminders]:
            form.reminders += 1
            ticket = ctx.session.get(Ticket, form.ticket_id)
            assert ticket is not None
            _form_mail(ctx, form, ticket, member, key=f"result-form:{form.id}:{form.sent_at:%Y%m%dT%H%M}:"
                                                      f"reminder-{form.reminders}", reminder=form.reminders)
            record_event(ctx.session, ticket, "result-form-reminded", f"rappel n° {form.reminders} à "
                                                                      f"{member.display_name}", ctx.now)
            acted += 1
    return acted


def _send_scheduled(ctx: WorkflowContext, form: ResultForm, member: Member) -> int:
    """A scheduled form's time has come: sent now (its reminders count from now), or let go if the member left."""
    ticket = ctx.session.get(Ticket, form.ticket_id)
    assert ticket is not None
    if member.status != "active" or not member.email:
        form.status = "stopped"
        return 1
    planned = form.sent_at
    form.status, form.sent_at, form.reminders = "pending", ctx.now, 0
    _form_mail(ctx, form, ticket, member, key=f"result-form:{form.id}:{planned:%Y%m%dT%H%M}", reminder=0)
    record_event(ctx.session, ticket, "result-form-sent", f"formulaire de résultat à {member.display_name}"
                 + (" (de nouveau : c'était en cours)" if form.result == "en_cours" else ""), ctx.now)
    return 1
