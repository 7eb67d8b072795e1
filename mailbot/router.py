"""Which workflow a mail belongs to (docs/architecture.md, "Routing tokens"): an ordered table of small named rules.

The first rule that recognises the mail wins: loops and robots first, then a verified token, then the thread
(In-Reply-To/References to a mail of the ticket's member), then a ticket reference in the subject (only from the
ticket's own member), then copies (the club only in Cc or Bcc, someone else's reply-all: never a request) and a
member's new mail with the subject of her open ticket, then the sender. No rule trusts `From:` alone to reach a
ticket it names.
"""
from __future__ import annotations

import email.message
import functools
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from mailbot import dkim
from mailbot.addresses import member_of_address
from mailbot.config import Settings
from mailbot.db import read
from mailbot.models import (
    Booking,
    Consent,
    Counterpart,
    Member,
    Message,
    OutboxMail,
    PendingChange,
    PollParticipant,
    ResultForm,
    SigningDomain,
    Solicitation,
    Ticket,
    utcnow,
)
from mailbot.models import InboundMail as InboundRecord
from mailbot.parsers import InboundMail, MailKind
from mailbot.parsers.activities import asks_for_list
from mailbot.parsers.authresults import authenticated_sender
from mailbot.parsers.forwards import is_forward_subject
from mailbot.parsers.notrequests import invitation_of, is_bare_thanks, recipients, says_more_below
from mailbot.parsers.recipients import is_copy, is_reply_all, others, subject_key
from mailbot.parsers.registration import confirmation_of, intent_of
from mailbot.parsers.rules import is_courtesy_only
from mailbot.parsers.subjects import strip_subject_prefixes
from mailbot.tokens import (
    ROLE_AIDEUR,
    ROLE_MEMBER,
    SCOPE_ACTIVITY,
    SCOPE_APPEAL,
    SCOPE_BOUNCE,
    SCOPE_COMMAND,
    SCOPE_CONFIRM,
    SCOPE_CONSENT,
    SCOPE_COUNTERPART,
    SCOPE_DOCS,
    SCOPE_PENDING,
    SCOPE_POLL,
    SCOPE_PROFILE,
    SCOPE_REGISTRATION,
    SCOPE_RESULT,
    SCOPE_TICKET,
    SCOPE_VERIFY,
    Token,
    TokenSigner,
)
from mailbot.workflows.aideur import command_generation
from mailbot.workflows.directory import asked_for
from mailbot.workflows.documents import asked_for as documentation_asked
from mailbot.workflows.documents import matching as matching_documents
from mailbot.workflows.newcomers import is_former_members_question
from mailbot.workflows.profiles import (
    PENDING_DAYS,
    announcements_asked,
    is_forward,
    is_profile_answer,
    member_words,
    own_words,
    rights_request,
)
from mailbot.workflows.suggestions import is_suggestion
from mailbot.workflows.tickets import REFERENCE, open_tickets_of


class Action(str, Enum):
    IGNORE = "ignore"  # our own mail, lists and bulk: recorded, never answered
    BOUNCE = "bounce"  # a delivery failure: mark the address, alert Aideur
    AUTO_REPLY = "auto-reply"  # recorded on its ticket when known, never answered
    FOLLOW_UP = "follow-up"  # the member writes again about their ticket
    AIDEUR_REPLY = "aideur-reply"  # Aideur answers through a verified ticket token
    AIDEUR_COMMAND = "aideur-command"  # a fresh mail from Aideur to his own command address, or his answer to a
    # "do you confirm this command?" mail (its own reply address, scope q)
    AIDEUR_UNROUTED = "aideur-unrouted"  # Aideur's address, but no token: drives nothing
    NEW_REQUEST = "new-request"
    NON_MEMBER = "non-member"  # a newcomer: the registration invitation, or their filled form
    PROFILE = "profile"  # a member about their own profile: show, change, end membership, erase
    CONFIRMATION = "confirmation"  # a member's answer to "do you confirm ending / erasing?"
    HELPER_REPLY = "helper-reply"  # a member's answer to an anonymised appeal: an offer or "non merci"
    CONSENT_REPLY = "consent-reply"  # an answer to "may we give your details to…?" (checked against its recipient)
    RESULT_REPLY = "result-reply"  # an answer to the result form
    COUNTERPART_REPLY = "counterpart-reply"  # a helper's answer to a message Aideur sent them (scope w)
    DIRECTORY = "directory"  # "annuaire [compétence]": the members visible to members (workflows/directory.py)
    COPY = "copy"  # the club only copied (Cc, Bcc, a reply-all): on the ticket it threads with, or to Aideur
    CALENDAR = "calendar"  # an invitation or its answer: one notice to Aideur, on its ticket if it threads with one
    THANKS = "thanks"  # a member's fresh bare thank-you: a remark on their latest ticket, never a new one
    DOCUMENTATION = "documentation"  # "documentation [mot]", "doc N" (workflows/documents.py)
    SUGGESTION = "suggestion"  # a member's "Suggestion : …" / "Idée : …" (workflows/suggestions.py): never a ticket
    POLL_REPLY = "poll-reply"  # a member's answer to a poll, through their own reply address (scope o)
    POLL_UNPROVEN = "poll-unproven"  # the same from the member's From:, the token only in References: not counted
    ACTIVITY_REPLY = "activity-reply"  # a member's answer to an activity's mail (scope e): book, cancel, leave
    ACTIVITIES = "activities"  # "activités" / "formations": the open activities (workflows/activities.py)


@dataclass(frozen=True)
class Route:
    action: Action
    reason: str
    ticket: Ticket | None = None
    member: Member | None = None
    token: Token | None = None
    solicitation: Solicitation | None = None
    # A request written in reply to a club mail keeps that mail's subject ("Re: Bienvenue au Club Aide !"): the
    # ticket is titled by what the member wrote instead.
    subject_is_ours: bool = False


@dataclass(frozen=True)
class RouterDeps:
    session: Session
    settings: Settings
    signer: TokenSigner
    raw: bytes = b""  # the mail as received: its Authentication-Results headers (MAILBOT_AUTHSERV_ID)
    # The sender's member row, looked up once per mail: several rules ask for it in turn.
    members: dict[str, Member | None] = field(default_factory=dict, compare=False, repr=False)
    # DKIM key lookups (MAILBOT_AUTHSERV_ID unset): None is the real DNS (mailbot.dkim.lookup_txt, looked up at
    # call time so that tests can put a stub in its place); when a domain was seen signing (informational).
    dns: dkim.DnsLookup | None = field(default=None, compare=False, repr=False)
    now: datetime | None = None
    message: email.message.Message | None = field(default=None, compare=False, repr=False)  # `raw` parsed


Rule = Callable[[InboundMail, RouterDeps], Route | None]


def route(mail: InboundMail, deps: RouterDeps) -> Route:
    for rule in RULES:
        decision = rule(mail, deps)
        if decision is not None:
            return decision
    raise AssertionError("the last rule always decides")  # pragma: no cover


# The reads every mail's routing runs, built once (mailbot.db.read).
OUR_MAIL = select(OutboxMail.id).where(OutboxMail.message_id == bindparam("message_id")).limit(1)
THREAD_TICKETS = {record: select(record.message_id, record.ticket_id).where(
                      record.message_id.in_(bindparam("ids", expanding=True)), record.ticket_id.is_not(None))
                  for record in (InboundRecord, OutboxMail)}
CITED = {record: select(record.message_id).where(record.message_id.in_(bindparam("ids", expanding=True))).limit(1)
         for record in (InboundRecord, OutboxMail)}
# Ticket titles whose key is kept (_title_key): all the open tickets of a 10,000-request backlog fit. About 5 MB for
# 10,000 ordinary titles; ~20 MB at most, were every title 300 characters long.
TITLE_KEYS_CACHED = 16384
OPEN_TICKET_SUBJECTS = (select(Ticket.id, Ticket.subject, Ticket.member_id)
                        .where(Ticket.member_id.in_(bindparam("member_ids", expanding=True)),
                               Ticket.closed_at.is_(None)).order_by(Ticket.id.desc()))


def own_mail(mail: InboundMail, deps: RouterDeps) -> Route | None:
    if mail.from_address == deps.settings.club_address:
        return Route(Action.IGNORE, "envoyé par l'adresse du club elle-même (boucle évitée)")
    if read(deps.session, OUR_MAIL, {"message_id": mail.message_id}).first() is not None:
        return Route(Action.IGNORE, "un de nos propres mails revenu dans la boîte")
    return None


def bounce(mail: InboundMail, deps: RouterDeps) -> Route | None:
    if mail.kind is MailKind.BOUNCE:
        return Route(Action.BOUNCE, mail.kind_reason or "rapport de non-distribution",
                     ticket=_ticket_of_token(mail, deps))
    return None


def robots(mail: InboundMail, deps: RouterDeps) -> Route | None:
    if mail.kind is MailKind.AUTO_REPLY:
        return Route(Action.AUTO_REPLY, mail.kind_reason or "réponse automatique", ticket=_ticket_of_token(mail, deps))
    if mail.kind is MailKind.BULK:
        return Route(Action.IGNORE, "liste de diffusion ou envoi en nombre"
                     + (f" ({mail.kind_reason}) : pas de réponse" if mail.kind_reason else " : pas de réponse"))
    return None


def calendar(mail: InboundMail, deps: RouterDeps) -> Route | None:
    """A calendar invitation or answer (a text/calendar part or an .ics file; iTIP REQUEST, REPLY, CANCEL,
    COUNTER…) is no request (issue 13, point 7): Aideur gets one short notice, on the ticket it threads with if
    any. Aideur's own (a command may come with one) goes through his rules."""
    if deps.settings.is_aideur(mail.from_address) or mail.kind is MailKind.BOUNCE:
        return None
    token = address_token(mail, deps.signer)
    if token is not None and token.scope != SCOPE_TICKET:
        return None  # an answer to an appeal, a consent, a form…: its own workflow reads it (an .ics beside it)
    invitation = invitation_of(deps.message if deps.message is not None else deps.raw)
    if invitation is None:
        return None
    if is_forward_subject(mail.subject) or mail.forwarded or invitation.method in ("", "PUBLISH"):
        # A person passing on a calendar file (a forwarded appointment, an .ics shared as a document) writes about
        # it: their mail is read like any other. Only a calendar program's own message (an invitation it sends,
        # an answer, a cancellation: an iTIP method) is no request.
        return None
    ticket = _ticket_of_token(mail, deps)
    if ticket is None:
        threaded = thread(mail, deps) or subject_reference(mail, deps)
        ticket = threaded.ticket if threaded is not None else None
    return Route(Action.CALENDAR, "invitation d'agenda ou réponse à une invitation : pas une demande",
                 ticket=ticket, member=_member(deps, mail.from_address))


def verified_token(mail: InboundMail, deps: RouterDeps) -> Route | None:
    token = address_token(mail, deps.signer)
    in_address = token is not None
    if token is None:
        token = deps.signer.find(list(mail.in_reply_to) + list(mail.references), thread=True)
    if token is None:
        return None
    if token.role == ROLE_AIDEUR and deps.settings.is_aideur(mail.from_address) and not in_address:
        # Aideur's From: at the plain club address, citing one of his notifications in In-Reply-To/References: a
        # Message-ID is thread context (anyone who saw the mail's headers has it), never authority to command.
        return Route(Action.AIDEUR_UNROUTED, "mail à l'adresse du club depuis une adresse d'Aideur : son jeton "
                                             "n'est que dans les références (In-Reply-To/References), aucune commande")
    if token.scope in (SCOPE_COMMAND, SCOPE_PENDING) and token.role == ROLE_AIDEUR \
            and deps.settings.is_aideur(mail.from_address):
        return _unauthenticated_aideur(mail, deps) or _old_command_address(token, deps) or Route(
            Action.AIDEUR_COMMAND, "mail d'Aideur à son adresse de commande" if token.scope == SCOPE_COMMAND
            else "réponse d'Aideur à une demande de confirmation de commande", token=token)
    if token.scope == SCOPE_COUNTERPART:
        return _counterpart(mail, deps, token, in_address)
    if token.scope in MEMBER_SCOPES:
        if not in_address:
            return _thread_only(mail, deps, token)
        return MEMBER_SCOPES[token.scope](mail, deps, token)
    if token.scope != SCOPE_TICKET:
        return None
    ticket = deps.session.get(Ticket, token.number)
    if ticket is None:
        return None
    if token.role == ROLE_AIDEUR:
        if deps.settings.is_aideur(mail.from_address):
            return _unauthenticated_aideur(mail, deps) or Route(
                Action.AIDEUR_REPLY, "réponse d'Aideur par le jeton du ticket", ticket=ticket, token=token)
        # Someone holding a notification forwarded by Aideur: never a command, but the ticket is known.
        return Route(Action.FOLLOW_UP, "jeton Aideur utilisé par un autre expéditeur", ticket=ticket,
                     member=_member(deps, mail.from_address), token=token)
    if token.role == ROLE_MEMBER:
        if deps.settings.is_aideur(mail.from_address):
            # Aideur's From through the member's reply address: never a command (a forger can hold that
            # address); recorded as an ordinary follow-up and Aideur is warned.
            return Route(Action.FOLLOW_UP, "adresse d'Aideur par le jeton du membre : aucune commande",
                         ticket=ticket, member=_member(deps, mail.from_address), token=token)
        return Route(Action.FOLLOW_UP, "réponse par le jeton du ticket", ticket=ticket,
                     member=_member(deps, mail.from_address), token=token)
    return None


def _counterpart(mail: InboundMail, deps: RouterDeps, token: Token, in_address: bool) -> Route | None:
    """A reply through a counterpart address (workflows.counterparts). Aideur's (role a): his commands act on the
    ticket and his text goes to that counterpart only, with the same proofs as a ticket notification's reply.
    The counterpart's own (role h or m): their answer, forwarded to Aideur bound to them; the workflow checks the
    sender is that member (anyone else's mail is only reported to Aideur)."""
    counterpart = deps.session.get(Counterpart, token.number)
    ticket = deps.session.get(Ticket, counterpart.ticket_id) if counterpart and counterpart.ticket_id else None
    if counterpart is None or (ticket is None and counterpart.member_id is None and counterpart.address is None):
        return None  # (a stranger's counterpart names their address: Aideur's reply to a non-member notice)
    if token.role == ROLE_AIDEUR:
        if deps.settings.is_aideur(mail.from_address):
            # No ticket (a member's profile mail): triage's proofs all the same; the workflow takes the ticket's
            # absence into account (counterparts.aideur_reply).
            return _unauthenticated_aideur(mail, deps) or Route(
                Action.AIDEUR_REPLY, "réponse d'Aideur par l'adresse d'un interlocuteur", ticket=ticket, token=token)
        if ticket is None:
            return None  # about no ticket: routed as if there were no token (sent on to nobody)
        # Someone holding a notification Aideur forwarded (or a forger): never sent on to anyone.
        return Route(Action.FOLLOW_UP, "adresse d'Aideur utilisée par un autre expéditeur", ticket=ticket,
                     member=_member(deps, mail.from_address), token=token)
    if not in_address and counterpart.member_id != getattr(_member(deps, mail.from_address), "id", None):
        return None  # a Message-ID cited by someone else proves nothing: routed as if there were no token
    return Route(Action.COUNTERPART_REPLY, "réponse à un message d'Aideur", ticket=ticket,
                 member=_member(deps, mail.from_address), token=token)


def _thread_only(mail: InboundMail, deps: RouterDeps, token: Token) -> Route | None:
    """A member-scope token (profile, confirmation, consent, appeal, result form…) found only in In-Reply-To or
    References: a Message-ID is copied into every reply-all and forward, so it proves nothing (README, "Proof of
    address"). A member's own mail about their membership goes to the profile workflow without a token (any change
    waits for a confirmation to the address on record); the others are routed as if there were no token."""
    if token.scope in (SCOPE_PROFILE, SCOPE_CONFIRM, SCOPE_VERIFY, SCOPE_REGISTRATION):
        member = _member(deps, mail.from_address)
        if member is not None and member.status == "active":
            return _profile_or_request(mail, deps, member, None, "jeton d'un mail du membre seulement dans les "
                                                                 "références (In-Reply-To/References) : aucune preuve")
        return None
    if token.scope == SCOPE_POLL:
        # A vote that lost its reply address (a provider dropping plus addresses, or a forged From: citing the
        # Message-ID) counts for nothing; the member the poll was sent to is told so at the address on record.
        participant = deps.session.get(PollParticipant, token.number)
        member = _member(deps, mail.from_address)
        if participant is None or member is None or member.id != participant.member_id or member.status != "active":
            return None
        return Route(Action.POLL_UNPROVEN, "réponse à un sondage sans son adresse de réponse (jeton seulement dans "
                                           "les références) : pas comptée", member=member, token=token)
    # An answer to a consent question, an appeal or a result form that lost its reply address (a provider dropping
    # plus addresses, or a forger citing the Message-ID): it counts for nothing, but Aideur sees it on the ticket.
    ticket_id = None
    if token.scope == SCOPE_CONSENT and (consent := deps.session.get(Consent, token.number)) is not None:
        ticket_id = consent.connection.ticket_id
    elif token.scope == SCOPE_RESULT and (form := deps.session.get(ResultForm, token.number)) is not None:
        ticket_id = form.ticket_id
    elif token.scope == SCOPE_APPEAL and (asked := deps.session.get(Solicitation, token.number)) is not None:
        ticket_id = asked.ticket_id
    ticket = deps.session.get(Ticket, ticket_id) if ticket_id is not None else None
    if ticket is None or deps.settings.is_aideur(mail.from_address):
        return None
    return Route(Action.FOLLOW_UP, "réponse sans son adresse de réponse (jeton seulement dans les références) : "
                                   "elle ne compte pas, transmise à Aideur", ticket=ticket,
                 member=_member(deps, mail.from_address))


def delivery_token(mail: InboundMail, signer: TokenSigner, *, scopes: tuple[str, ...] | None = None) -> Token | None:
    """The token of the address the mail was delivered to, as the club received it (Delivered-To, X-Original-To,
    To, Cc): the only place a token carries authority. In-Reply-To/References only say which thread a mail is in:
    a Message-ID is copied into every reply and forward, and those of mails sent before thread tokens existed even
    carry the reply address's own token, so they are never read here.

    The one lookup for every use: a reply address (`scopes` None: any scope but the envelope sender's) and a
    delivery report's envelope sender (`scopes=(SCOPE_BOUNCE,)`, see returned_mail)."""
    addresses = list(mail.delivered_to) + list(mail.to) + list(mail.cc)
    if scopes is None:
        return signer.find(addresses, exclude=(SCOPE_BOUNCE,))
    return signer.find(addresses, scopes=scopes)


def address_token(mail: InboundMail, signer: TokenSigner) -> Token | None:
    """The reply token of the address the mail was delivered to (delivery_token): what proves the sender reads the
    mailbox that mail went to. Workflows call this, never their own search of the headers."""
    return delivery_token(mail, signer)


# How the reason of that route starts: notices.aideur_unrouted sends the "old command address" alert by it.
OLD_COMMAND_ADDRESS = "ancienne adresse de commande d'Aideur"


def _old_command_address(token: Token, deps: RouterDeps) -> Route | None:
    if token.scope != SCOPE_COMMAND or token.number == command_generation(deps.session):
        return None
    return Route(Action.AIDEUR_UNROUTED, f"{OLD_COMMAND_ADDRESS} (génération {token.number}, remplacée) : "
                                         "aucune commande")


# How the reason of that route starts: notices.aideur_unrouted tells Aideur why by it.
UNAUTHENTICATED_AIDEUR = "adresse d'Aideur non authentifiée"


def _unauthenticated_aideur(mail: InboundMail, deps: RouterDeps) -> Route | None:
    """A mail with Aideur's From: drives commands only if nothing says it was forged (docs/architecture.md, "Routing tokens").

    With MAILBOT_AUTHSERV_ID set, the operator's own MTA must vouch for that From: (RFC 8601). Without it, mailbot
    checks DKIM itself: a valid signature aligned with Aideur's domain is proof (and teaches that the domain
    signs); a broken aligned signature, an unreachable key, or no signature from a domain seen signing before, is a
    forgery. Either way the mail is then treated as not from Aideur: recorded, nothing executed, and Aideur told."""
    if not deps.settings.authserv_id:
        return _own_dkim(mail, deps)
    verdict = authenticated_sender(deps.raw, mail.from_address, deps.settings.authserv_id)
    if verdict.passed:
        return None
    return Route(Action.AIDEUR_UNROUTED, f"{UNAUTHENTICATED_AIDEUR} par {deps.settings.authserv_id} "
                                         f"({verdict.reason}) : aucune commande")


def _own_dkim(mail: InboundMail, deps: RouterDeps) -> Route | None:
    domain = mail.from_address.rsplit("@", 1)[-1].lower() if "@" in mail.from_address else ""
    check = dkim.verify_aligned(deps.raw, domain, dns=deps.dns or dkim.lookup_txt)
    known = deps.session.get(SigningDomain, domain) if domain else None
    if check.status == dkim.PASS:
        # Learning is part of the mail's transaction (rolled back with it if the mail fails).
        now = deps.now or utcnow()
        if known is None:
            deps.session.add(SigningDomain(domain=domain, first_seen=now, last_seen=now))
        else:
            known.last_seen = now
        return None
    if check.status == dkim.NONE and known is None:
        return None  # a domain never seen signing: no proof either way (the command address still asks first)
    if check.status == dkim.NONE and known is not None:  # known: see the return above
        detail = f"{check.detail}, alors que ce domaine signe ses mails (vu depuis le {known.first_seen:%d/%m/%Y})"
    else:
        detail = check.detail
    return Route(Action.AIDEUR_UNROUTED, f"{UNAUTHENTICATED_AIDEUR} par mailbot (DKIM) ({detail}) : aucune commande")


def _registration(mail: InboundMail, deps: RouterDeps, token: Token) -> Route | None:
    member = _member(deps, mail.from_address)
    if member is not None and member.status == "active":
        if deps.signer.address_matches(token, mail.from_address):
            return _profile_or_request(mail, deps, member, token, "un membre répond à l'invitation : son profil")
        # The invitation sent to another address: it proves nothing about this sender (issue 11, point 1), so the
        # profile workflow treats it as a fresh mail: any change waits for a confirmation to the member's address.
        return _profile_or_request(mail, deps, member, None,
                                   "un membre par l'invitation d'une autre adresse : aucune preuve")
    return _not_a_member(mail, deps, member, token, "réponse à l'invitation à s'inscrire")


def _verify(mail: InboundMail, deps: RouterDeps, token: Token) -> Route | None:
    """The answer to the confirmation of one pending change (a profile change, a registration). The workflow
    checks that it comes from the very address asked; a member's goes to the profile, anyone else's to
    registration."""
    member = _member(deps, mail.from_address)
    if member is not None and member.status == "active":
        pending = deps.session.get(PendingChange, token.number)
        if not _still_asked(pending is not None and pending.status == "pending" and pending.member_id == member.id
                            and pending.asked_at > _now(deps) - timedelta(days=PENDING_DAYS), mail):
            return _request(mail, deps, member, "réponse à une confirmation de modification déjà réglée")
        return Route(Action.PROFILE, "réponse à une confirmation de modification", member=member, token=token)
    return Route(Action.NON_MEMBER, "réponse à une confirmation d'inscription", member=member, token=token)


def _own_member(mail: InboundMail, deps: RouterDeps, token: Token) -> Member | None:
    """The member the token was sent to, if this mail comes from them (a forwarded mail drives nothing)."""
    member = _member(deps, mail.from_address)
    return member if member is not None and member.id == token.number and member.status == "active" else None


def _profile(mail: InboundMail, deps: RouterDeps, token: Token) -> Route | None:
    member = _own_member(mail, deps, token)
    return _profile_or_request(mail, deps, member, token, "réponse à un mail de profil") if member else None


def _confirmation(mail: InboundMail, deps: RouterDeps, token: Token) -> Route | None:
    # A former member may still confirm the erasure of their data (asked after the end of membership).
    member = _member(deps, mail.from_address)
    if member is None or member.id != token.number or member.status not in ("active", "ended"):
        return None
    if member.status == "active" and not _still_asked(
            bool(member.pending_action) and member.pending_since is not None
            and member.pending_since > _now(deps) - timedelta(days=PENDING_DAYS), mail):
        return _request(mail, deps, member, "réponse à une demande de confirmation déjà réglée")
    return Route(Action.CONFIRMATION, "réponse à une demande de confirmation", member=member, token=token)


def _appeal(mail: InboundMail, deps: RouterDeps, token: Token) -> Route | None:
    solicitation = deps.session.get(Solicitation, token.number)
    if solicitation is None:
        return None
    member = _member(deps, mail.from_address)
    if member is None or member.id != solicitation.member_id:
        return None  # only the member who was asked answers for themselves
    return Route(Action.HELPER_REPLY, "réponse à un appel au réseau", ticket=deps.session.get(Ticket,
                 solicitation.ticket_id), member=member, token=token, solicitation=solicitation)


def _consent(mail: InboundMail, deps: RouterDeps, token: Token) -> Route | None:
    consent = deps.session.get(Consent, token.number)
    if consent is None:
        return None
    # Whoever sends it, the answer goes to the consent workflow: it counts only from the person asked (the token
    # names them), and a stolen or forwarded reply address is reported to Aideur instead of being answered.
    return Route(Action.CONSENT_REPLY, "réponse à une demande d'accord", ticket=deps.session.get(
        Ticket, consent.connection.ticket_id), member=_member(deps, mail.from_address), token=token)


def _result(mail: InboundMail, deps: RouterDeps, token: Token) -> Route | None:
    form = deps.session.get(ResultForm, token.number)
    if form is None:
        return None
    return Route(Action.RESULT_REPLY, "réponse au formulaire de résultat",
                 ticket=deps.session.get(Ticket, form.ticket_id), member=_member(deps, mail.from_address), token=token)


def _poll(mail: InboundMail, deps: RouterDeps, token: Token) -> Route | None:
    """An answer to a poll: it counts only from the member the reply address was sent to (a forged From: or a
    forwarded poll votes for nobody: routed as if there were no token)."""
    participant = deps.session.get(PollParticipant, token.number)
    member = _member(deps, mail.from_address)
    if participant is None or member is None or member.id != participant.member_id or member.status != "active":
        return None
    return Route(Action.POLL_REPLY, "réponse à un sondage", member=member, token=token)


def _profile_or_request(mail: InboundMail, deps: RouterDeps, member: Member, token: Token | None,
                        why: str) -> Route:
    """An active member's reply to a membership mail: an answer to it goes to the profile workflow; anything else
    is a request for help (issue 12, point 1: no mail of a member is kept from a ticket)."""
    if is_profile_answer(mail, member):
        return Route(Action.PROFILE, why, member=member, token=token)
    return _request(mail, deps, member, why)


def _still_asked(open_question: bool, mail: InboundMail) -> bool:
    """Whether a reply to a confirmation question is its answer: the question is still open, or the reply says
    no more than a yes, a no or a thanks (answered by "nothing to confirm"). Else it is a request for help."""
    own = own_words(mail)
    return open_question or is_courtesy_only(own) or confirmation_of(mail.text or own) is not None


def _request(mail: InboundMail, deps: RouterDeps, member: Member, why: str) -> Route:
    """A member's mail that answers nothing of the club mail it replies to: a new request, or a follow-up of their
    open ticket when it is about it (they have exactly one, and the mail replies to one of that ticket's mails)."""
    ids = list(mail.in_reply_to) + list(mail.references)
    cited = set(deps.session.scalars(select(OutboxMail.ticket_id).where(
        OutboxMail.message_id.in_(ids), OutboxMail.ticket_id.is_not(None)))) if ids else set()
    if cited:
        open_tickets = open_tickets_of(deps.session, member.id)
        if len(open_tickets) == 1 and open_tickets[0].id in cited:
            return Route(Action.FOLLOW_UP, f"{why} ; pas une réponse à ce mail : suite de sa demande en cours",
                         ticket=open_tickets[0], member=member)
    return Route(Action.NEW_REQUEST, f"{why} ; pas une réponse à ce mail : une demande", member=member,
                 subject_is_ours=_subject_is_ours(mail, deps, ids))


def _subject_is_ours(mail: InboundMail, deps: RouterDeps, ids: list[str]) -> bool:
    """Whether the mail's subject is the one of the club mail it replies to, prefixes aside."""
    subject = strip_subject_prefixes(mail.subject).casefold()
    if not ids or not subject:
        return False
    ours = deps.session.scalars(select(OutboxMail.subject).where(OutboxMail.message_id.in_(ids)))
    return any(strip_subject_prefixes(theirs or "").casefold() == subject for theirs in ours)


def _now(deps: RouterDeps) -> datetime:
    return deps.now or utcnow()


def _documents(mail: InboundMail, deps: RouterDeps, token: Token) -> Route | None:
    """A reply to a documentation mail ("doc 4"): from the member it was sent to, another ask of the documentation,
    a suggestion, or else their request; anyone else's is routed as if there were no token."""
    member = _own_member(mail, deps, token)
    if member is None:
        return None
    # Its own words only: the subject is that of our mail ("Re: …").
    if documentation_asked("", own_words(mail)) is not None:
        return Route(Action.DOCUMENTATION, "réponse à un mail de la documentation", member=member, token=token)
    if is_courtesy_only(own_words(mail)) and not mail.attachments:
        return Route(Action.IGNORE, "un remerciement en réponse à un mail de la documentation : pas de réponse")
    return _suggestion_of(mail, member) or _request(mail, deps, member, "réponse à un mail de la documentation")


def _activity(mail: InboundMail, deps: RouterDeps, token: Token) -> Route | None:
    """An answer to an activity's mail (issue 17): it books, cancels or leaves the waiting list only for the
    member the address was sent to. Anyone else's mail through it (a forged From:, a forward) is routed as if
    there were no token: it never books for someone else."""
    booking = deps.session.get(Booking, token.number)
    if booking is None:
        return None
    member = _member(deps, mail.from_address)
    if member is None or member.id != booking.member_id or member.status != "active":
        return None
    return Route(Action.ACTIVITY_REPLY, "réponse à une activité", member=member, token=token)


MEMBER_SCOPES: dict[str, Callable[[InboundMail, RouterDeps, Token], Route | None]] = {
    SCOPE_REGISTRATION: _registration, SCOPE_PROFILE: _profile, SCOPE_CONFIRM: _confirmation, SCOPE_VERIFY: _verify,
    SCOPE_APPEAL: _appeal, SCOPE_CONSENT: _consent, SCOPE_RESULT: _result, SCOPE_DOCS: _documents,
    SCOPE_POLL: _poll,
    SCOPE_ACTIVITY: _activity,
}


def cited_ids(mail: InboundMail) -> list[str]:
    """The Message-IDs a mail cites, nearest first: In-Reply-To (its parent), then References from the last (the
    parent's own parents, back to the thread's first mail); each once."""
    return list(dict.fromkeys([*mail.in_reply_to, *reversed(mail.references)]))


def thread(mail: InboundMail, deps: RouterDeps) -> Route | None:
    """A reply to one of the member's own earlier mails (e.g. they answer their own request to add something)."""
    ids = cited_ids(mail)
    if not ids:
        return None
    member = _member(deps, mail.from_address)
    if member is None:
        return None
    tickets = {cited: ticket_id for cited, ticket_id in read(deps.session, THREAD_TICKETS[InboundRecord], {"ids": ids})}
    # Her own ticket among those the mail cites, the nearest citation first (not the row the database returns
    # first: that follows the order the cited mails were committed in, which several daemons do not keep).
    own = next((tickets[cited] for cited in ids if cited in tickets
                and (ticket := deps.session.get(Ticket, tickets[cited])) is not None and ticket.member_id == member.id),
               None)
    return _if_own_ticket(mail, deps, own, "fil de discussion (References)")


def subject_reference(mail: InboundMail, deps: RouterDeps) -> Route | None:
    match = REFERENCE.search(mail.subject)
    if not match:
        return None
    ticket_id = deps.session.scalar(select(Ticket.id).where(Ticket.ref == match.group(1).upper()))
    return _if_own_ticket(mail, deps, ticket_id, "référence dans l'objet")


def copy_or_repeat(mail: InboundMail, deps: RouterDeps) -> Route | None:
    """Issue 13: a mail the club only got a copy of (Cc, Bcc, or someone's reply-all in a ticket's thread) is no
    request, whoever sends it: it goes on the ticket it threads with (References to any of the ticket's mails, or
    the subject of an open ticket of one of its people), else to Aideur as a copy. A member's fresh mail (citing
    none of our mails) whose subject is that of one of their own open tickets ("Relance : Devis") follows it up;
    a reply ("RE : Devis") to other people with the subject of one of their open tickets, citing nothing (a
    reply-all that lost its thread headers), is a copy on it. A copy threading with no ticket and addressed to many
    people (a networking mail with the club in Cc, its reply-alls) is left to the mass-mail rule: listed, no notice
    each. From an Aideur address, only a mail with the club in Cc or Bcc that threads with a ticket is a copy (his
    own mail to a member "pour la trace"); his other mails have their own rules."""
    clubs = deps.settings.club_addresses
    if deps.settings.is_aideur(mail.from_address):
        # His own mail to a member with the club in Cc "pour la trace": recorded on that member's ticket as a copy
        # (it drives nothing: a copy never does). Anything else from his address has its own rules.
        if not is_copy(mail, clubs):
            return None
        people = others(mail, clubs)
        ticket = _thread_ticket(mail, deps) or _named_ticket(mail, deps, people) \
            or _same_subject_ticket(mail, deps, people)
        if ticket is None:
            return None
        # Recorded as his words on the ticket: only if nothing says his From: was forged.
        return _unauthenticated_aideur(mail, deps) or Route(Action.COPY, f"copie d'Aideur : rattachée à {ticket.ref}",
                                                            ticket=ticket)
    member = _member(deps, mail.from_address)
    threaded = _thread_ticket(mail, deps)
    someone_elses = threaded is not None and (member is None or threaded.member_id != member.id)
    if is_copy(mail, clubs) or (someone_elses and is_reply_all(mail, clubs)):
        people = (mail.from_address, *others(mail, clubs))
        ticket = threaded or _named_ticket(mail, deps, people) or _same_subject_ticket(mail, deps, people)
        if ticket is None and mass_mail(mail, deps) is not None:
            return None  # a copy of a mail to many people (and its reply-alls): the mass-mail rule lists it
        where = f"rattachée à {ticket.ref}" if ticket is not None else "transmise à Aideur pour information"
        return Route(Action.COPY, f"le Club n'est qu'en copie : {where}", ticket=ticket, member=member)
    if someone_elses and threaded is not None and _took_part(deps, threaded, mail.from_address):
        # Someone who was in To or Cc of the ticket's mails answers in its thread to the club alone (a colleague
        # copied on the request): their words belong to that ticket, as a copy; they open no request of their own.
        return Route(Action.COPY, f"réponse dans le fil de {threaded.ref}, où cette personne était en copie : "
                                  "rattachée comme copie", ticket=threaded, member=member)
    if _cites_us(mail, deps):
        return None
    own = _same_subject_ticket(mail, deps, (mail.from_address,)) \
        if member is not None and member.status == "active" else None
    if own is not None:
        return Route(Action.FOLLOW_UP, "nouveau mail du membre, même objet que sa demande en cours", ticket=own,
                     member=member)
    # A reply-all that lost its thread headers (Outlook sends only Thread-Index; Apple Mail puts the club in To
    # beside the author): a reply by its subject ("RE : …"), whose subject is that of the open ticket of one of the
    # other people it goes to. (A fresh mail with that subject, Cc'ing that member, stays its sender's own.)
    is_reply = strip_subject_prefixes(mail.subject).strip() != (mail.subject or "").strip()
    theirs = _same_subject_ticket(mail, deps, others(mail, clubs)) if is_reply else None
    # Only from someone who already took part in that ticket's mails: a subject and a name in Cc are no proof, and
    # a stranger would otherwise learn, by the answer they get or do not get, that this person is a member with a
    # request of that title (and add their text to it).
    if theirs is not None and _took_part(deps, theirs, mail.from_address):
        return Route(Action.COPY, f"réponse à tous sans en-têtes de fil, même objet que {theirs.ref} d'un de ses "
                                  "destinataires : rattachée comme copie", ticket=theirs, member=member)
    return None


TICKET_PARTICIPANTS = select(Message.sender, Message.recipients).where(
    Message.ticket_id == bindparam("ticket_id"), Message.direction == "in")


def _took_part(deps: RouterDeps, ticket: Ticket, address: str) -> bool:
    """Whether `address` wrote one of the ticket's recorded mails or was in their To or Cc."""
    address = address.lower()
    for sender, to_and_cc in read(deps.session, TICKET_PARTICIPANTS, {"ticket_id": ticket.id}):
        if (sender or "").lower() == address or address in {part.strip().lower() for part in (to_and_cc or "").split(",")}:
            return True
    return False


def _thread_ticket(mail: InboundMail, deps: RouterDeps) -> Ticket | None:
    """The ticket of the mail this one answers, whoever wrote either: one recorded on a ticket, or one of ours."""
    ids = cited_ids(mail)
    if not ids:
        return None
    for record in (InboundRecord, OutboxMail):
        by_id = {cited: ticket_id for cited, ticket_id in read(deps.session, THREAD_TICKETS[record], {"ids": ids})}
        found = [ticket for cited in ids if cited in by_id
                 if (ticket := deps.session.get(Ticket, by_id[cited])) is not None]
        if found:
            # The ticket of the nearest mail cited (In-Reply-To, then References from the last), unless a later
            # ticket of the thread reopened it (its successor, cited too): never "the highest id", which follows
            # the order the tickets were committed in, and several daemons do not keep it for unrelated requests.
            reopened = {ticket.previous_id for ticket in found}
            return next((ticket for ticket in found if ticket.id not in reopened), found[0])
    return None


def _named_ticket(mail: InboundMail, deps: RouterDeps, addresses: Collection[str]) -> Ticket | None:
    """The ticket whose reference the subject names ("RE: [CA-2026-0042] …"), if its member is among `addresses`
    (a copy naming someone else's reference goes on nobody's ticket)."""
    match = REFERENCE.search(mail.subject)
    ticket = deps.session.scalar(select(Ticket).where(Ticket.ref == match.group(1).upper())) if match else None
    owner = ticket.member if ticket is not None else None
    return ticket if owner is not None and owner.email and owner.email in addresses else None


def _cites_us(mail: InboundMail, deps: RouterDeps) -> bool:
    """Whether In-Reply-To/References name a mail the club received or sent."""
    ids = list(mail.in_reply_to) + list(mail.references)
    return bool(ids) and any(read(deps.session, CITED[record], {"ids": ids}).first() is not None
                             for record in (InboundRecord, OutboxMail))


def _same_subject_ticket(mail: InboundMail, deps: RouterDeps, addresses: Sequence[str]) -> Ticket | None:
    """An open ticket whose subject is this mail's, read as a person would (parsers.recipients.subject_key), of the
    first member among `addresses` (in the mail's order: its sender, then To and Cc as written) who has one: her
    latest. Not the latest of all: two members' tickets are numbered in the order they were committed, which
    several daemons do not keep for unrelated requests. Closed tickets never match: a reopening needs the reply
    address's proof."""
    key = subject_key(mail.subject)
    if not key:
        return None
    ids: list[int] = []
    for address in addresses:
        member = _member(deps, address)
        if member is not None and member.status == "active" and member.id not in ids:
            ids.append(member.id)
    if not ids:
        return None
    # Only the titles are read (a member may have many open tickets, newest first); the matching one is then loaded.
    matching: dict[int, int] = {}
    for ticket_id, title, member_id in read(deps.session, OPEN_TICKET_SUBJECTS, {"member_ids": ids}).all():
        if member_id not in matching and _same_subject(key, title):
            matching[member_id] = ticket_id
    found = next((matching[member_id] for member_id in ids if member_id in matching), None)
    return deps.session.get(Ticket, found) if found is not None else None


def _same_subject(key: str, title: str) -> bool:
    """Whether a subject's key is that of a ticket's title. A long subject's title is shortened (« … » at the
    end, workflows.tickets.TITLE_LENGTH): the subject then only has to begin like it."""
    stem, shortened = _title_key(title)
    if shortened:
        return bool(stem) and key.startswith(stem) and len(key) > len(stem)
    return stem == key


@functools.lru_cache(maxsize=TITLE_KEYS_CACHED)
def _title_key(title: str) -> tuple[str, bool]:
    """A ticket title's subject_key, and whether the title was shortened. Cached: every new mail of a member reads
    the titles of all her open tickets, and computing each key again (five regular expressions) made a request's
    cost grow with them: 3.2 ms of CPU per request at ~54 open tickets a member, linearly more beyond."""
    if title.endswith("…"):
        return subject_key(title[:-1]), True
    return subject_key(title), False


def aideur_without_token(mail: InboundMail, deps: RouterDeps) -> Route | None:
    if deps.settings.is_aideur(mail.from_address):
        return Route(Action.AIDEUR_UNROUTED, "mail à l'adresse du club depuis une adresse d'Aideur, sans jeton")
    return None


def mass_mail(mail: InboundMail, deps: RouterDeps) -> Route | None:
    """A fresh mail addressed to many people (MAILBOT_MASS_RECIPIENTS, To + Cc): a networking mail, an
    announcement, never a request for help. Recorded and listed for Aideur (digest, `mailbot report`); a reply in
    a ticket's thread was routed before this rule."""
    threshold = deps.settings.mass_recipients
    count = recipients(mail.to, mail.cc, (deps.settings.club_address, *deps.settings.aideur_addresses))
    if threshold <= 0 or count < threshold:
        return None
    return Route(Action.IGNORE, f"envoi en nombre : {count} destinataires (à partir de {threshold}) : "
                                "pas une demande, pas de réponse")


def directory(mail: InboundMail, deps: RouterDeps) -> Route | None:
    """A fresh mail saying "annuaire [compétence]", from anyone (the workflow answers a non-member with a refusal)."""
    if asked_for(*member_words(mail)) is None:
        return None  # (a forwarded "Annuaire" is someone else's word: member_words)
    return Route(Action.DIRECTORY, "demande de l'annuaire des membres", member=_member(deps, mail.from_address))


def activities_list(mail: InboundMail, deps: RouterDeps) -> Route | None:
    """A fresh mail saying "activités" or "formations" (subject or first line), from anyone (the workflow answers a
    non-member with a refusal)."""
    if not asks_for_list(*member_words(mail)):
        return None
    return Route(Action.ACTIVITIES, "demande des activités ouvertes", member=_member(deps, mail.from_address))


def documentation(mail: InboundMail, deps: RouterDeps) -> Route | None:
    """A fresh mail saying "documentation [mot]" or "doc N", from anyone (the workflow refuses a non-member and
    sends documents only to the member's address on record)."""
    asked = documentation_asked(*member_words(mail))
    if asked is None or any(a.disposition == "attachment" for a in mail.attachments) or mail.forwarded:
        return None  # a mail that brings a file ("Doc ci-jointe") gives something: it asks for nothing
    if asked.short and asked.words and not matching_documents(deps.session, asked.words):
        return None  # "Doc urgente à relire": "doc" and words no document answers to are someone's request
    return Route(Action.DOCUMENTATION, "demande de la documentation du Club", member=_member(deps, mail.from_address))


def suggestion(mail: InboundMail, deps: RouterDeps) -> Route | None:
    """An active member's suggestion: "Suggestion : …" / "Idée : …" opening the subject or the first line, or a
    mail to MAILBOT_SUGGESTION_ADDRESS. Someone else's goes on to the other rules (a newcomer's invitation)."""
    member = _member(deps, mail.from_address)
    if member is None or member.status != "active":
        return None
    wanted = deps.settings.suggestion_address
    if wanted and wanted in {a.lower() for a in (*mail.delivered_to, *mail.to, *mail.cc)}:
        return Route(Action.SUGGESTION, "mail à l'adresse des suggestions", member=member)
    return _suggestion_of(mail, member)


def _suggestion_of(mail: InboundMail, member: Member) -> Route | None:
    if is_suggestion(*member_words(mail)):
        return Route(Action.SUGGESTION, "suggestion d'un membre : pas une demande", member=member)
    return None


def announcements(mail: InboundMail, deps: RouterDeps) -> Route | None:
    """A member's fresh mail saying "plus d'annonces" or "annonces" (issue 17): a profile change (the profile
    workflow asks the address on record to confirm it, as for any change from a mail that proves nothing)."""
    member = _member(deps, mail.from_address)
    if member is None or member.status != "active":
        return None
    wanted = announcements_asked(member_words(mail)[0], own_words(mail))
    if wanted is None:
        return None
    return Route(Action.PROFILE, "le membre " + ("reprend" if wanted else "arrête") + " les annonces du Club",
                 member=member)


def member_intent(mail: InboundMail, deps: RouterDeps) -> Route | None:
    """A member's fresh mail whose subject (or short first line) says "modifier", "résilier", "effacer mes
    données"…: about their membership, not a request for help. Only her own words count (member_words): the
    subject of a mail she forwards ("TR : Demande de résiliation") is her client's, and a forward with her
    question above it is a request."""
    member = _member(deps, mail.from_address)
    if member is None or member.status != "active":
        return None
    subject, text = member_words(mail)
    intent = intent_of(subject, text)
    if intent is not None:
        return Route(Action.PROFILE, f"demande du membre sur son adhésion ({intent.value})", member=member)
    if rights_request(subject, own_words(mail)) is not None:
        return Route(Action.PROFILE, "demande du membre sur ses données (RGPD)", member=member)
    return None


def thanks(mail: InboundMail, deps: RouterDeps) -> Route | None:
    """A member's fresh mail (not a reply) that only says thank you (« Merci ! », « Un grand merci 🙏 », with or
    without a signature): it goes on their latest ticket as a remark, never opens one. Its subject must say no
    more (empty, a thanks, or the title of one of their tickets), and a file sent with it makes it a request, as
    does a postscript or a question below the signature (parsers.notrequests.says_more_below)."""
    member = _member(deps, mail.from_address)
    if member is None or member.status != "active" or mail.in_reply_to or mail.references:
        return None
    if any(a.disposition == "attachment" for a in mail.attachments) or is_forward(mail):
        return None
    own = own_words(mail)
    if not is_bare_thanks(own) or says_more_below(mail.text or "", own):
        return None
    subject = strip_subject_prefixes(mail.subject).strip()
    key = subject_key(subject)
    if subject and not is_bare_thanks(subject) and not (key and any(
            _same_subject(key, title) for title in deps.session.scalars(select(Ticket.subject).where(
                Ticket.member_id == member.id)))):
        return None  # (the title of one of her tickets, read as a person would: a long one is shortened)
    return Route(Action.THANKS, "un remerciement seul : pas une demande", member=member)


def sender(mail: InboundMail, deps: RouterDeps) -> Route:
    member = _member(deps, mail.from_address)
    if member is not None and member.status == "active":
        return Route(Action.NEW_REQUEST, "nouveau mail d'un membre", member=member)
    return _not_a_member(mail, deps, member, None, "expéditeur inconnu ou non actif")


def _not_a_member(mail: InboundMail, deps: RouterDeps, member: Member | None, token: Token | None,
                  why: str) -> Route:
    """Someone who is not an active member: the registration workflow (invitation, form, rights), except a former
    member's question, which Aideur answers through a ticket like any request (issue 12, point 4)."""
    if member is not None and is_former_members_question(mail, member):
        ids = list(mail.in_reply_to) + list(mail.references)
        return Route(Action.NEW_REQUEST, f"{why} ; question d'un ancien membre : une demande", member=member,
                     subject_is_ours=_subject_is_ours(mail, deps, ids))
    return Route(Action.NON_MEMBER, why, member=member, token=token)


RULES: tuple[Rule, ...] = (own_mail, bounce, calendar, robots, verified_token, thread, subject_reference,
                           copy_or_repeat, aideur_without_token, mass_mail, directory, activities_list,
                           documentation, suggestion, announcements, member_intent, thanks, sender)


def _member(deps: RouterDeps, address: str) -> Member | None:
    if not address:
        return None
    address = address.lower()
    if address not in deps.members:
        # Main address or another of the member's (issue 13, point 2): one person whichever they write from.
        deps.members[address] = member_of_address(deps.session, address)
    return deps.members[address]


def _find_token(mail: InboundMail, deps: RouterDeps) -> Token | None:
    # Addresses first (the Reply-To plus address), then the thread headers (providers that drop plus addresses).
    # An envelope-sender token (VERP) only says which of our mails a report is about: it routes nothing.
    return address_token(mail, deps.signer) or deps.signer.find(list(mail.in_reply_to) + list(mail.references),
                                                                thread=True, exclude=(SCOPE_BOUNCE,))


def _ticket_of_token(mail: InboundMail, deps: RouterDeps) -> Ticket | None:
    """The ticket a robot's mail is about: the one of our mail whose envelope sender it came back to (an
    auto-reply goes there too), else the one named by a ticket token."""
    returned = returned_mail(mail, deps.signer, deps.session)
    if returned is not None and returned.ticket_id is not None:
        return deps.session.get(Ticket, returned.ticket_id)
    token = _find_token(mail, deps)
    if token is None or token.scope != SCOPE_TICKET:
        return None
    return deps.session.get(Ticket, token.number)


def returned_mail(mail: InboundMail, signer: TokenSigner, session: Session) -> OutboxMail | None:
    """Our outgoing mail whose envelope sender (VERP) this mail was delivered to, if its token is valid. Only the
    addresses the report was delivered to count (delivery_token): a report's quoted headers name anything."""
    token = delivery_token(mail, signer, scopes=(SCOPE_BOUNCE,))
    return session.get(OutboxMail, token.number) if token is not None else None


def _if_own_ticket(mail: InboundMail, deps: RouterDeps, ticket_id: int | None, how: str) -> Route | None:
    if ticket_id is None:
        return None
    ticket = deps.session.get(Ticket, ticket_id)
    member = _member(deps, mail.from_address)
    if ticket is None or member is None or ticket.member_id != member.id:
        return None  # only the ticket's own member may thread by reference: others start afresh
    return Route(Action.FOLLOW_UP, how, ticket=ticket, member=member)
