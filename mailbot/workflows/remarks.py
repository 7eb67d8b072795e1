"""A member's question or remark inside an answer (a consent, its confirmation, a result form) reaches Aideur.

The answer itself is read strictly by its own reader (a question makes a consent unclear: asked again); what the
person wrote beyond it is never left with "posez-la à Aideur": Aideur gets it in a notification, says who wrote it
and in which role, and the person is told it was passed on.
"""
from __future__ import annotations

from mailbot.models import Member, Ticket
from mailbot.parsers import rules
from mailbot.parsers.quotes import split_reply
from mailbot.workflows import counterparts
from mailbot.workflows.aideur import notify_aideurs
from mailbot.workflows.base import WorkflowContext
from mailbot.workflows.tickets import record_event, shorten

# What the person was answering, for Aideur's notification.
WHAT = {"consent": "la demande d'accord pour la mise en relation", "result": "le formulaire de résultat",
        "confirmation": "la confirmation de ce qui sera transmis",
        "appeal": "l'appel au réseau (il ne peut pas aider, mais il écrit plus qu'un non)"}
ROLES = {"requester": "le membre qui a fait la demande", "helper": "le membre qui propose son aide"}


def remark_in(new_text: str, answer_line: str = "") -> str:
    """What the person wrote besides their answer ("" when it is only the answer and courtesy): a question,
    a condition, a remark. `answer_line` is the line the answer was read from (left out when it says nothing
    more)."""
    body, _signature = split_reply(new_text or "")
    kept = [line.rstrip() for line in body.splitlines() if not line.lstrip().startswith(">")]
    answer = {part.strip() for part in answer_line.split(" / ") if part.strip()}  # a restriction: "Oui / mais…"
    kept = [line for line in kept if line.strip() not in answer]
    # A signature without its "-- " (a name, a company, a phone under the answer) is no remark.
    while kept and _signature_like(kept[-1]):
        kept.pop()
    text = "\n".join(kept).strip()
    if not text or rules.is_courtesy_only(text):
        return ""
    if "?" not in text and len(rules.words(text)) < MIN_WORDS:
        return ""  # "Merci Aideur !", "Bien à vous, Alice": nothing to act on
    return text


MIN_WORDS = 4  # below this, and without a question mark, what is left beside an answer says nothing to act on


def _signature_like(line: str) -> bool:
    """A short line that ends no sentence: a name, a company, a phone number, a blank line."""
    stripped = line.strip()
    return not stripped or (len(stripped.split()) <= 5 and stripped[-1] not in ".?!:;…" and "," not in stripped)


def forward(ctx: WorkflowContext, ticket: Ticket, member: Member, role: str, text: str, *, what: str,
            key: str) -> None:
    """Aideur receives the person's words, who they are and what they were answering."""
    record_event(ctx.session, ticket, "remark-forwarded", f"{member.display_name} ({ROLES.get(role, role)}), en "
                 f"répondant à {WHAT.get(what, what)} : « {shorten(text, 200)} »", ctx.now,
                 actor=member.email or "")
    # Aideur's reply goes back to the person who wrote: the requester through the ticket, a helper through their
    # own counterpart address (never to the requester, who must not learn who helps before both agree).
    counterpart = None if role == "requester" else counterparts.for_helper(ctx, ticket, member)
    notify_aideurs(ctx, ticket, "notification_remarque", {
        "club_name": ctx.settings.club_name, "ref": ticket.ref, "ticket_ref": ticket.ref,
        "title": ticket.subject,
        "name": member.display_name, "email": member.email or "", "role": role, "role_words": ROLES.get(role, role),
        "what": WHAT.get(what, what), "text": text, "question": "?" in text, "appeal": what == "appeal",
    }, key=f"remark:{key}", about=member.email or "", counterpart=counterpart)
