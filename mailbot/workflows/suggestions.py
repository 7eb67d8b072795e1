"""Members' suggestions (issue 17, point 4): an improvement proposal for the club is recorded, acknowledged and
forwarded to Aideur, and listed in the weekly digest and `mailbot report`. It is not a ticket: nothing is promised.

What is a suggestion: an active member's mail whose subject or first line opens with the word, as a label —
"Suggestion : des ateliers le soir", "Suggestion", "Une petite suggestion : …", "Idée : …", "Idée pour le club" —
or any mail of theirs sent to MAILBOT_SUGGESTION_ADDRESS (given in the welcome mail). "Idée" only counts as a
label (a colon, a dash, alone, or "pour le club"): "Idée de projet : créer ma société, qui peut m'aider ?" is a
request for help. "Suggestion de comptable à Lyon ?" asks for one: a request too. "J'ai une idée…" is not read as
a suggestion: the word must open the line.
"""
from __future__ import annotations

import re

from mailbot.models import Member, Suggestion
from mailbot.parsers import InboundMail
from mailbot.parsers.rules import fold
from mailbot.parsers.subjects import strip_subject_prefixes
from mailbot.parsers.text import shorten
from mailbot.tokens import ROLE_MEMBER, SCOPE_PROFILE, Token
from mailbot.workflows.aideur import notify_aideurs
from mailbot.workflows.base import Outgoing, WorkflowContext

__all__ = ["is_suggestion", "suggestion_mail"]

_LEAD = r"^\s*(?:(?:une|ma|mon|petite|une\s+petite|nouvelle|une\s+nouvelle)\s+)?"
_AFTER = r"(?:\s+(?:d'amelioration|pour\s+(?:le\s+|notre\s+)?club(?:\s+aide)?|au\s+club|pour\s+ameliorer\s+[^:\n]{0,60}))?"
_LABEL = r"\s*(?:[:\-–—!.]|$)"
# "Suggestion : …", "Idée : …", "Idée", "Suggestion d'amélioration", "Idée pour le club : …"
_MARKED = re.compile(_LEAD + r"(?:suggestions?|idees?)" + _AFTER + _LABEL)
# "Suggestion pour les réunions du jeudi" (no colon): a suggestion, unless it asks a question.
_SUGGESTION_WORD = re.compile(_LEAD + r"suggestions?\b(?!\s+de\b|\s+d')")
_MAX_FIRST_LINE = 200


def is_suggestion(subject: str, text: str) -> bool:
    """Whether the subject or the first line of the member's own words opens with "suggestion"/"idée" as a label."""
    for line in (strip_subject_prefixes(subject or "").strip(), _first_line(text)):
        if not line:
            continue
        folded = fold(line[:_MAX_FIRST_LINE])
        if _MARKED.match(folded):
            return True
        if "?" in folded:
            continue  # "Suggestion de comptable à Lyon ?": asks for one
        if _SUGGESTION_WORD.match(folded) or (re.match(_LEAD + r"suggestions?\b", folded) and ":" in folded):
            return True
    return False


def _first_line(text: str) -> str:
    for line in (text or "").splitlines():
        if line.strip():
            return line.strip()
    return ""


def suggestion_mail(ctx: WorkflowContext, mail: InboundMail, member: Member) -> None:
    """Record the suggestion, acknowledge it to the member (address on record), forward it to Aideur.

    Written: one `suggestions` row. Queued: suggestion_merci to the member, suggestion_aideur to Aideur."""
    text = (mail.new_text or mail.text or "").strip()
    subject = strip_subject_prefixes(mail.subject or "").strip()
    row = Suggestion(member_id=member.id, message_id=mail.message_id[:998], received_at=ctx.now,
                     subject=subject, text=text)
    ctx.session.add(row)
    ctx.session.flush()
    if member.email:
        ctx.send(Outgoing(template="suggestion_merci", to=member.email,
                          context={"club_name": ctx.settings.club_name, "first_name": member.first_name,
                                   "summary": shorten(_summary(subject, text), 120)},
                          idempotency_key=f"suggestion_merci:{mail.message_id}",
                          # A reply goes to the member's profile workflow: a request there opens a ticket.
                          token=Token(SCOPE_PROFILE, member.id, ROLE_MEMBER), in_reply_to=f"<{mail.message_id}>"))
    notify_aideurs(ctx, None, "suggestion_aideur", {
        "club_name": ctx.settings.club_name, "number": row.id, "member_name": member.display_name,
        "member_email": member.email or "", "subject": subject, "text": text,
    }, key=f"suggestion:{mail.message_id}", about=member.email or "")


def _summary(subject: str, text: str) -> str:
    first = _first_line(text)
    return first or subject
