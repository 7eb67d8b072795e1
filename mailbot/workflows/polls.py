"""Polls by mail (issue 17, point 2): Aideur's `#sondage`, the members' answers, the reminder and the results.

Anonymity is real in storage, not only on screen. For an anonymous poll:

* who was asked and whether they voted is in `poll_participants` (poll, member, has_voted): never the choice, and
  no time of voting;
* what was chosen is in `poll_ballots` (key, poll, choice): no member id, no time, no sequential id. The key is
  HMAC-SHA256(secret key, "ballot:<poll id>:<member id>") — the voter's own ballot can be found again, so that
  "the last vote counts" holds, but the key cannot be turned back into a member without the secret key. On SQLite
  the table has no rowid (ordered by that random-looking key), so not even the storage order follows the votes.

The trade-off (README, "Polls"): whoever holds both the database and MAILBOT_SECRET_KEY can recompute each member's
key and so learn their ballot; the database alone (a backup, an export, `mailbot polls show`) tells nothing. Logs
name no choice. PostgreSQL keeps a changed row's new version at the end of the table's heap, in write order: the
key and the choice are all a row holds, so that order can only be joined with other records by time (the mail
log's hour of a member's reply), which an operator with that log and the database could try; the secret key
still hides whose row is whose.

Named polls (`anonyme: non`) keep (poll, member, choice) in `poll_votes`: Aideur sees who voted what.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select

from mailbot.calendar import end_of_business_day, french_datetime, is_business_day, local_date
from mailbot.models import Member, Poll, PollBallot, PollChoice, PollParticipant, PollVote
from mailbot.parsers import InboundMail
from mailbot.parsers.polls import PollBlock, read_answer
from mailbot.parsers.rules import is_courtesy_only
from mailbot.tokens import ROLE_MEMBER, SCOPE_POLL, Token
from mailbot.workflows.aideur import notify_aideurs
from mailbot.workflows.announcements import audience
from mailbot.workflows.base import Outgoing, WorkflowContext
from mailbot.workflows.profiles import own_words

PREFIX = "SO"


class PollError(ValueError):
    """Why a poll command cannot be done (French, for Aideur)."""


# --- Aideur: creating, listing, asking who has not voted -----------------------------------------------------
def next_ref(ctx: WorkflowContext) -> str:
    """SO-YYYY-NNN, numbered per year of the club's calendar."""
    year = local_date(ctx.now, ctx.settings.timezone).year
    refs = ctx.session.scalars(select(Poll.ref).where(Poll.ref.like(f"{PREFIX}-{year}-%")))
    last = max((int(ref.rsplit("-", 1)[1]) for ref in refs), default=0)
    return f"{PREFIX}-{year}-{last + 1:03d}"


def closing_instant(ctx: WorkflowContext, block: PollBlock) -> datetime:
    """The deadline as naive UTC: the time written, else the end of that business day (18:00, club time)."""
    if block.at is None:
        return end_of_business_day(block.until, ctx.settings.timezone)
    local = datetime.combine(block.until, block.at, tzinfo=ctx.settings.timezone)
    return local.astimezone(UTC).replace(tzinfo=None)


def create(ctx: WorkflowContext, block: PollBlock, *, actor: str, key: str) -> Poll:
    """Record the poll, ask each member of the audience (their own reply address), tell Aideur its reference."""
    poll = Poll(ref=next_ref(ctx), question=block.question, closes_at=closing_instant(ctx, block),
                anonymous=block.anonymous, results_to=block.results_to, skills=block.skills, status="open",
                activity_ref=block.activity_ref, created_at=ctx.now, created_by=actor)
    ctx.session.add(poll)
    ctx.session.flush()
    for position, label in enumerate(block.choices, start=1):
        ctx.session.add(PollChoice(poll_id=poll.id, position=position, label=label))
    members = audience(ctx.session, block.skills)
    for member in members:
        participant = PollParticipant(poll_id=poll.id, member_id=member.id, has_voted=False)
        ctx.session.add(participant)
        ctx.session.flush()
        _to_member(ctx, poll, participant, member, "sondage_question", {}, key=f"sondage:{poll.ref}:{member.id}",
                   announcement=True)
    ctx.session.flush()
    ctx.session.refresh(poll)
    notify_aideurs(ctx, None, "sondage_cree", _poll_context(ctx, poll) | {
        "asked": [m.display_name for m in members]}, key=f"sondage_cree:{key}")
    return poll


def find(ctx: WorkflowContext, ref: str) -> Poll | None:
    return ctx.session.scalar(select(Poll).where(Poll.ref == ref.strip().upper()))


def list_polls(ctx: WorkflowContext, *, actor: str, key: str) -> None:
    """`#sondages`: every poll, newest first, with its participation (never who chose what)."""
    polls = ctx.session.scalars(select(Poll).order_by(Poll.id.desc())).all()
    rows = [_poll_context(ctx, poll) for poll in polls]
    notify_aideurs(ctx, None, "sondage_liste", {"club_name": ctx.settings.club_name, "polls": rows},
                   key=f"sondages:{key}", only=actor)


def who_has_not_voted(ctx: WorkflowContext, poll: Poll, *, actor: str, key: str) -> None:
    """`#sondage qui SO-…`: the names of those asked who have not voted yet. Never a choice."""
    missing = ctx.session.scalars(select(PollParticipant).where(
        PollParticipant.poll_id == poll.id, PollParticipant.has_voted.is_(False)).order_by(PollParticipant.id))
    names = sorted(p.member.display_name for p in missing)
    notify_aideurs(ctx, None, "sondage_qui", _poll_context(ctx, poll) | {"names": names},
                   key=f"sondage_qui:{key}", only=actor)


# --- members' answers ------------------------------------------------------------------------------------------
def poll_reply(ctx: WorkflowContext, mail: InboundMail, participant_id: int, *, proven: bool = True) -> str:
    """A member's answer through their poll reply address (the router checked the sender is that member).
    Returns what was done, for the record (never the choice of an anonymous poll).

    Not `proven` (the token only in References, the From: the member's): nothing is counted, and the member is
    told, at the address on record, to answer the poll's own mail."""
    participant = ctx.session.get(PollParticipant, participant_id)
    if participant is None:
        return "sondage inconnu"
    poll = ctx.session.get(Poll, participant.poll_id)
    member = participant.member
    assert poll is not None
    key = f"{poll.ref}:{mail.message_id}"
    if poll.status != "open" or ctx.now >= poll.closes_at:
        said = own_words(mail)
        forwarded = _pass_on(ctx, poll, member, said, key) if not is_courtesy_only(said) and \
            read_answer(said, [c.label for c in poll.choices]).choice is None else False
        _to_member(ctx, poll, participant, member, "sondage_clos", {"forwarded": forwarded},
                   key=f"sondage_clos:{key}")
        return "vote arrivé après la clôture : non compté" + (", message transmis à Aideur" if forwarded else "")
    if not proven:
        _to_member(ctx, poll, participant, member, "sondage_incompris", {"already_voted": participant.has_voted,
                                                                         "unproven": True},
                   key=f"sondage_incompris:{key}")
        return "réponse sans l'adresse de réponse du sondage : pas comptée, le membre est prévenu"
    said = own_words(mail)
    answer = read_answer(said, [c.label for c in poll.choices])
    if answer.choice is None and is_courtesy_only(said):
        return "remerciement seul : pas de réponse"  # "Merci !" to a confirmation needs no question back
    if answer.choice is None:
        forwarded = _pass_on(ctx, poll, member, said, key)
        _to_member(ctx, poll, participant, member, "sondage_incompris", {"already_voted": participant.has_voted,
                                                                         "forwarded": forwarded},
                   key=f"sondage_incompris:{key}")
        return "réponse peu claire : la question est renvoyée" + (", message transmis à Aideur" if forwarded else "")
    choice = poll.choices[answer.choice - 1]
    changed = participant.has_voted
    record_vote(ctx, poll, participant, choice)
    _to_member(ctx, poll, participant, member, "sondage_vote", {
        "changed": changed, "choice": {"number": choice.position, "label": choice.label}},
        key=f"sondage_vote:{key}", scrub=poll.anonymous)
    return "vote modifié" if changed else "vote enregistré"


def _pass_on(ctx: WorkflowContext, poll: Poll, member: Member, said: str, key: str) -> bool:
    """A member's words that are no vote (a question, a remark, another subject) reach Aideur: nothing a member
    writes to the club is lost. Not for an anonymous poll, where the words may tell the vote: the member is told
    to write to Aideur apart. Returns whether they were passed on."""
    if poll.anonymous or not said.strip():
        return False
    notify_aideurs(ctx, None, "sondage_retour", _poll_context(ctx, poll) | {
        "member": member.display_name, "email": member.email or "", "text": said[:4000]},
        key=f"sondage_retour:{key}")
    return True


def record_vote(ctx: WorkflowContext, poll: Poll, participant: PollParticipant, choice: PollChoice) -> None:
    """Store one member's vote, replacing theirs if any (the last one counts)."""
    if poll.anonymous:
        keys = ctx.signer.ballot_keys(poll.id, participant.member_id)
        if len(keys) > 1:  # a ballot stored under a key since rotated out is this voter's too
            ctx.session.execute(delete(PollBallot).where(PollBallot.key.in_(keys[1:])))
        ballot = ctx.session.get(PollBallot, keys[0])
        if ballot is None:
            ctx.session.add(PollBallot(key=keys[0], poll_id=poll.id, choice_id=choice.id))
        else:
            ballot.choice_id = choice.id
    else:
        vote = ctx.session.scalar(select(PollVote).where(PollVote.poll_id == poll.id,
                                                         PollVote.member_id == participant.member_id))
        if vote is None:
            ctx.session.add(PollVote(poll_id=poll.id, member_id=participant.member_id, choice_id=choice.id,
                                     at=ctx.now))
        else:
            vote.choice_id, vote.at = choice.id, ctx.now
    participant.has_voted = True


# --- the scheduler: one reminder, then the results -------------------------------------------------------------
def reminder_at(poll: Poll, ctx: WorkflowContext) -> datetime:
    """One business day before the deadline, at the same hour (club time)."""
    zone = ctx.settings.timezone
    local = poll.closes_at.replace(tzinfo=UTC).astimezone(zone)
    day = local.date() - timedelta(days=1)
    while not is_business_day(day):
        day -= timedelta(days=1)
    return local.replace(year=day.year, month=day.month, day=day.day).astimezone(UTC).replace(tzinfo=None)


def run_due(ctx: WorkflowContext) -> int:
    """Close the polls whose deadline passed (results to Aideur, and to the members when `résultats: membres`);
    remind, once, those who have not voted a business day before. Returns the number of polls acted on."""
    done = 0
    for poll in ctx.session.scalars(select(Poll).where(Poll.status == "open").order_by(Poll.id)).all():
        if ctx.now >= poll.closes_at:
            _close(ctx, poll)
            done += 1
        elif poll.reminded_at is None and ctx.now >= (due := reminder_at(poll, ctx)) and poll.created_at < due:
            poll.reminded_at = ctx.now
            for participant in _participants(ctx, poll, voted=False):
                _to_member(ctx, poll, participant, participant.member, "sondage_rappel", {},
                           key=f"sondage_rappel:{poll.ref}:{participant.member_id}", announcement=True)
            done += 1
    return done


def _close(ctx: WorkflowContext, poll: Poll) -> None:
    poll.status, poll.closed_at = "closed", ctx.now
    results = results_of(ctx, poll)
    named = _named_votes(ctx, poll) if not poll.anonymous else []
    notify_aideurs(ctx, None, "sondage_resultats", _poll_context(ctx, poll) | results | {"named": named},
                   key=f"sondage_resultats:{poll.ref}")
    if poll.results_to == "membres":
        for participant in _participants(ctx, poll):
            _to_member(ctx, poll, participant, participant.member, "sondage_resultats_membres", results,
                       key=f"sondage_resultats_membres:{poll.ref}:{participant.member_id}", announcement=True)


def _participants(ctx: WorkflowContext, poll: Poll, *, voted: bool | None = None) -> list[PollParticipant]:
    """Those asked who can still be written to: active, with an address, still accepting announcements (a
    member who wrote "plus d'annonces" since gets no reminder nor results)."""
    query = select(PollParticipant).where(PollParticipant.poll_id == poll.id).order_by(PollParticipant.id)
    if voted is not None:
        query = query.where(PollParticipant.has_voted.is_(voted))
    return [p for p in ctx.session.scalars(query)
            if p.member.status == "active" and p.member.email and p.member.accepts_announcements]


def counts(session: Any, poll: Poll) -> dict[int, int]:
    """Votes per choice id (ballots for an anonymous poll, votes for a named one)."""
    table: Any = PollBallot if poll.anonymous else PollVote
    rows = session.execute(select(table.choice_id, func.count()).where(table.poll_id == poll.id)
                           .group_by(table.choice_id)).all()
    return {choice_id: number for choice_id, number in rows}


def voters(session: Any, poll: Poll) -> int:
    return session.scalar(select(func.count()).select_from(PollParticipant).where(
        PollParticipant.poll_id == poll.id, PollParticipant.has_voted.is_(True))) or 0


def results_of(ctx: WorkflowContext, poll: Poll) -> dict[str, Any]:
    votes = counts(ctx.session, poll)
    total = sum(votes.values())
    rows = [{"number": c.position, "label": c.label, "votes": votes.get(c.id, 0),
             "percent": round(100 * votes.get(c.id, 0) / total) if total else 0} for c in poll.choices]
    return {"results": rows, "total": total}


def _named_votes(ctx: WorkflowContext, poll: Poll) -> list[dict[str, str]]:
    labels = {c.id: c.label for c in poll.choices}
    votes = ctx.session.scalars(select(PollVote).where(PollVote.poll_id == poll.id))
    return sorted(({"name": v.member.display_name, "choice": labels.get(v.choice_id, "")} for v in votes),
                  key=lambda row: row["name"])


# --- shared --------------------------------------------------------------------------------------------------
def _poll_context(ctx: WorkflowContext, poll: Poll) -> dict[str, Any]:
    asked = ctx.session.scalar(select(func.count()).select_from(PollParticipant)
                               .where(PollParticipant.poll_id == poll.id)) or 0
    return {"club_name": ctx.settings.club_name, "poll_ref": poll.ref, "question": poll.question,
            "choices": [{"number": c.position, "label": c.label} for c in poll.choices],
            "closes": french_datetime(poll.closes_at, ctx.settings.timezone), "anonymous": poll.anonymous,
            "results_to": poll.results_to, "asked": asked, "voted": voters(ctx.session, poll),
            "open": poll.status == "open", "activity_ref": poll.activity_ref}


def _to_member(ctx: WorkflowContext, poll: Poll, participant: PollParticipant, member: Member, template: str,
               extra: dict[str, Any], *, key: str, announcement: bool = False, scrub: bool = False) -> None:
    """A mail about the poll to one member, with their own reply address (scope o: this member, this poll).
    `scrub`: the stored copy is blanked once sent (an anonymous poll's vote confirmation names the choice)."""
    if not member.email:
        return
    context = _poll_context(ctx, poll) | {"first_name": member.first_name} | extra
    ctx.send(Outgoing(template=template, to=member.email, context=context, idempotency_key=key,
                      token=Token(SCOPE_POLL, participant.id, ROLE_MEMBER),
                      auto_submitted="auto-generated" if announcement else "auto-replied",
                      rate_limited=not announcement, scrub_after_send=scrub))
