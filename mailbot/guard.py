"""The anonymity guard on mails as they would leave (issue 11, points 3 and 4).

A requester stays anonymous until both sides agreed in writing. So every mail about a ticket that goes to anyone but
the requester and Aideur (in practice: the members asked by an appeal, the helper asked to agree to a connection) is
checked on what its reader would see — the subject, the text part and the HTML part as rendered — for the
requester's identity in any disguise `privacy.normalise` sees through, and for any e-mail address, phone number,
SIREN/SIRET, IBAN or street address. Two places call it:

* the workflows, before anything of Aideur's command is done (`check_template`), so that he gets a clear refusal
  naming what matched and nothing happens halfway;
* the outbox, on every mail it stores (`blocked`), so that no path — a new workflow, a scheduled job, a template
  that grows a variable — can bypass the check. A mail stopped there is not stored; Aideur is told.

The recipient's own name, company, address or phone is not a leak ("Bonjour Alice" to a helper called Alice, even
if the requester is an Alice too), except inside the text Aideur wrote, which is checked strictly.
"""
from __future__ import annotations

import contextlib
import html as html_lib
import quopri
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from mailbot.addresses import member_of_address
from mailbot.addresses import normalise as normal_address
from mailbot.compose import Rendered, TemplateRenderer
from mailbot.config import Settings
from mailbot.db import read
from mailbot.models import Connection, Member, Ticket
from mailbot.privacy import ANY_EMAIL, Identity, Leak, find_leaks, normalise
from mailbot.workflows.aideur import notify_aideurs
from mailbot.workflows.base import Outgoing, WorkflowContext
from mailbot.workflows.tickets import record_event

__all__ = ["blocked", "check_template", "identity_of", "mail_leaks", "readable_parts"]

_TAG = re.compile(r"<[^>]*>")


def identity_of(member: Member | None) -> Identity:
    if member is None:
        return Identity()
    return Identity(first_name=member.first_name, last_name=member.last_name, company=member.company,
                    email=member.email or "", phone=member.phone, postal_address=member.postal_address)


def readable_parts(rendered: Rendered, *, sender_name: str = "") -> list[str]:
    """Everything of a mail a person reads: the sender's display name, the subject, the text and the HTML (its
    text, tags removed, entities decoded: "&#77;artin" is read "Martin")."""
    parts = [sender_name, rendered.subject, rendered.body]
    if rendered.html:
        parts.append(html_lib.unescape(_TAG.sub("", rendered.html)))
    return [part for part in parts if part]


def mail_leaks(parts: list[str], requester: Identity, *, recipient: Identity = Identity(), written: str = "",
               own_domain: str = "") -> list[Leak]:
    """What of `requester` (or of anyone: addresses, phones…) a mail made of `parts` would give away.

    `written` is the free text Aideur wrote into it: checked strictly, the recipient's own data included.
    Addresses at `own_domain` (the club's, in its footers and reply addresses) are not leaks.
    """
    return list(_mail_leaks(tuple(parts), requester, recipient, written, own_domain))


@lru_cache(maxsize=256)
def _mail_leaks(parts: tuple[str, ...], requester: Identity, recipient: Identity, written: str,
                own_domain: str) -> tuple[Leak, ...]:
    """Cached: the workflow checks each mail before acting, and the outbox checks the very same mail again."""
    leaks: dict[tuple[str, str], Leak] = {}
    for reading in _readings(written):
        for leak in find_leaks(reading, requester):
            leaks.setdefault((leak.what, normalise(leak.found)), leak)
    for part in parts:
        for leak in (leak for reading in _readings(part) for leak in find_leaks(reading, requester)):
            key = (leak.what, normalise(leak.found))
            if key in leaks or _excused(leak, recipient, own_domain):
                continue
            leaks[key] = leak
    return tuple(leaks.values())


_ENTITY = re.compile(r"&(?:#\d{2,7}|#x[0-9a-fA-F]{2,6}|[a-zA-Z]{2,8});")
_QUOTED_PRINTABLE = re.compile(r"=[0-9A-F]{2}")
# UTF-8 read as Windows-1252: "Ã©" for "é", "Ã¨" for "è", "Ã§" for "ç".
_MOJIBAKE = re.compile("[\u00c2\u00c3\u00c5][\u0080-\u00ff\u0152\u0153\u0160\u0161\u0178\u017d\u017e"
                       "\u2013-\u203a\u20ac\u2122]")


def _readings(text: str) -> Iterator[str]:
    """The text, and what a reader makes of encodings left in it by a paste or a careless client: HTML entities
    ("H&eacute;l&egrave;ne"), quoted-printable ("H=C3=A9l=C3=A8ne"), UTF-8 read as Latin-1 ("HÃ©lÃ¨ne")."""
    if not text:
        return
    yield text
    if _ENTITY.search(text):
        yield html_lib.unescape(text)
    if _QUOTED_PRINTABLE.search(text):
        yield quopri.decodestring(text.encode("utf-8", "replace")).decode("utf-8", "replace")
    if _MOJIBAKE.search(text):
        with contextlib.suppress(UnicodeError):
            yield text.encode("cp1252").decode("utf-8")


def _excused(leak: Leak, recipient: Identity, own_domain: str) -> bool:
    found = normalise(leak.found)
    if own_domain and leak.what == ANY_EMAIL and found.replace(" ", "").endswith("@" + own_domain):
        return True
    # The recipient's own data, as the template puts it ("Bonjour Alice"): they know it already, whatever it holds.
    # Whole words only: a helper called "Martine" is no excuse for the requester "Martin".
    whole = re.compile(rf"(?<!\w){re.escape(found)}(?!\w)")
    return any(whole.search(normalise(value)) for value in (recipient.first_name, recipient.last_name,
                                                             recipient.company, recipient.email, recipient.phone,
                                                             recipient.postal_address) if value)


@lru_cache(maxsize=4)
def _renderer(overrides: Path | None) -> TemplateRenderer:
    # The operator's templates too (MAILBOT_TEMPLATES_DIR): what is checked is what would be sent.
    return TemplateRenderer(overrides=overrides)


def check_template(template: str, context: dict[str, Any], requester: Identity, *, recipient: Identity,
                   written: str, settings: Settings) -> list[Leak]:
    """The leaks of the mail `template` would make with `context`, as the outbox would render it."""
    rendered = _renderer(settings.templates_dir).render(template, context)
    return mail_leaks(readable_parts(rendered, sender_name=settings.club_name), requester, recipient=recipient,
                      written=written, own_domain=settings.club_domain.lower())


EXCHANGED = select(Connection.id).where(Connection.ticket_id == bindparam("ticket_id"),  # built once: every mail
                                       Connection.helper_id == bindparam("member_id"), Connection.status == "exchanged")


def blocked(session: Session, settings: Settings, ticket_id: int | None, recipient: str,
            rendered: Rendered) -> list[Leak]:
    """The outbox's last check: the leaks of a mail about a ticket to someone who may not know the requester."""
    if ticket_id is None or settings.is_aideur(recipient):
        return []
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or ticket.member is None:
        return []
    requester = ticket.member
    if requester.email and normal_address(recipient) == normal_address(requester.email):
        return []  # the requester at their main address (every acknowledgement): no query needed to know it
    member = member_of_address(session, recipient)
    if member is not None and member.id == requester.id:
        return []  # the requester, at any of their addresses
    if member is not None and read(session, EXCHANGED, {"ticket_id": ticket_id, "member_id": member.id}).first():
        return []  # both agreed in writing: the cards are exchanged, on purpose
    return mail_leaks(readable_parts(rendered, sender_name=settings.club_name), identity_of(requester),
                      recipient=identity_of(member), own_domain=settings.club_domain.lower())


def stop(ctx: WorkflowContext, mail: Outgoing, recipient: str, leaks: list[Leak]) -> None:
    """A mail the outbox will not store: recorded on the ticket, and Aideur told what and why (he sees identities).
    The alert is queued on the context: the outbox stores it in the same pass."""
    ticket = ctx.session.get(Ticket, mail.ticket_id)
    assert ticket is not None
    record_event(ctx.session, ticket, "anonymity-blocked",
                 f"mail « {mail.template} » à {recipient} non envoyé : il contenait "
                 + ", ".join(dict.fromkeys(leak.what for leak in leaks)), ctx.now)
    notify_aideurs(ctx, ticket, "alerte_anonymat", {
        "club_name": ctx.settings.club_name, "ref": ticket.ref, "recipient": recipient,
        "leaks": [{"what": leak.what, "found": leak.found, "line": leak.line} for leak in leaks]},
        key=f"anonymity-blocked:{mail.idempotency_key}")
