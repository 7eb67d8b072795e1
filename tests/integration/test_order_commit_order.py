"""Order across daemons (issue 16, point 1): a choice between tickets, or a count, that followed the order the
mails were committed in (ticket ids, the rows the database returns first, every sender's records counted
together), which several daemons do not keep for unrelated mails: read from the mail itself, or counted among the
mails whose order is kept (eleventh attack).

Each test runs twice: `held=False` is one daemon (arrival order); `held=True` holds the inbox's first mail by another
daemon's claim for one cycle (tests.helpers.cycle_while_held), then handles it. The outcome must be the same.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from mailbot.models import InboundMail, OutboxMail
from tests.helpers import (
    ALICE,
    BRUNO,
    CLUB,
    add_members,
    make_mail,
    plain_text,
    run_held_or_in_order,
)

POSTGRES_ONLY = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def _outcomes(sessions) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return dict(session.execute(select(InboundMail.message_id, InboundMail.outcome)).all())


def _bodies(sessions, kind: str) -> list[str]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return [plain_text(body) for body in session.scalars(select(OutboxMail.body).where(OutboxMail.kind == kind))]


def _ticket_member(sessions, message_id: str) -> int | None:  # type: ignore[no-untyped-def]
    """The member whose ticket the mail with this Message-ID was recorded on (None: on no ticket)."""
    from mailbot.models import Ticket

    with sessions() as session:
        return session.scalar(select(Ticket.member_id).join(InboundMail, InboundMail.ticket_id == Ticket.id)
                              .where(InboundMail.message_id == message_id))


@POSTGRES_ONLY
@pytest.mark.parametrize("held", [False, True], ids=["one-daemon", "member-copy-held"])
def test_a_members_copy_is_counted_among_her_own_not_among_strangers_copies(clean_mail, settings, sessions, held):
    """Alice (a member) writes to Bruno with the club in Cc (UID n: a copy threading with no ticket, « Copie pour
    information » to Aideur, outcome "copy"); then ten strangers each copy the club on a mail of theirs (n+1..n+10).
    Aideur hears of strangers' copies one by one only while fewer than FIRST_OVERALL (10) copies arrived in the hour
    from ALL senders together (workflows.copies -> notices.flood_notice counts every "copy" record, the member's
    too). One daemon: Alice's copy is the 1st, strangers 1..9 are the 2nd..10th (notified), stranger 10 is the 11th
    (grouped): 10 « Copie pour information » notices. Held (before): Alice's copy is not a stranger's mail nor
    shares a key with theirs (coordination.WaitingOrder: STRANGER orders strangers among themselves only), so the ten
    strangers' copies took counts 1..10 and all were notified: 11 notices. Now the bound counts a mail among those
    whose order is kept with it (notices.flood_notice): 11 notices either way."""
    add_members(sessions)
    member_copy = make_mail(ALICE, "Dîner du réseau", "Bonjour Bruno,\n\nOn se voit au dîner du réseau jeudi ?\n\n"
                            "Alice\n", to=BRUNO, Cc=CLUB, message_id="<diner@membres.test>")
    strangers = [make_mail(f"inconnu{n:02d}@ailleurs{n:02d}.test", f"Salon professionnel {n}",
                           f"Bonjour,\n\nJe vous transmets le programme du salon ({n}).\n",
                           to=f"contact{n:02d}@partenaire{n:02d}.test", Cc=CLUB,
                           message_id=f"<salon-{n}@ailleurs.test>") for n in range(1, 11)]
    run_held_or_in_order(clean_mail, settings, sessions,
                         [member_copy.as_bytes(), *(m.as_bytes() for m in strangers)], held=held)
    outcomes = _outcomes(sessions)
    assert outcomes["diner@membres.test"] == "copy", outcomes
    assert all(outcomes[f"salon-{n}@ailleurs.test"] == "copy" for n in range(1, 11)), outcomes
    told = _bodies(sessions, "notification_copie")
    # Alice's copy counts among her own mails, the strangers' among strangers': the ten strangers are the hour's
    # first ten strangers' copies, each told, whichever daemon committed Alice's first.
    assert len(told) == 11, len(told)
    assert len([body for body in told if "inconnu10@ailleurs10.test" in body]) == 1, told


@POSTGRES_ONLY
@pytest.mark.parametrize("held", [False, True], ids=["one-daemon", "first-request-held"])
def test_a_copy_citing_two_threads_goes_on_the_same_ticket_whatever_the_commit_order(clean_mail, settings,
                                                                                      sessions, held):
    """Alice's request <compta> (UID n) and Bruno's unrelated request <chantier> (n+1): two tickets. Then a stranger
    (a consultant both wrote to) copies the club on a mail whose References cite both requests (n+2: To a
    colleague, Cc the club: a copy). router._thread_ticket puts it on "the latest ticket of the thread": max() of the
    tickets' ids. One daemon: Alice's ticket is numbered first, Bruno's is the latest: the copy goes on Bruno's
    ticket. Held (before): Alice's and Bruno's requests share no key, so Bruno's was committed first and got the
    lower id; the copy (which rightly waits for both) then went on Alice's ticket — another member's ticket. Now:
    the ticket of the nearest mail cited (the last of References here): Bruno's, either way."""
    add_members(sessions)
    alice = make_mail(ALICE, "Bilan comptable", "Bonjour,\n\nJe cherche un conseil pour mon bilan comptable.\n\n"
                      "Alice\n", message_id="<compta@membres.test>")
    bruno = make_mail(BRUNO, "Chantier à Lyon", "Bonjour,\n\nJe cherche un sous-traitant pour un chantier à "
                      "Lyon.\n\nBruno\n", message_id="<chantier@membres.test>")
    copy = make_mail("consultant@cabinet.test", "Vos deux demandes", "Bonjour,\n\nJe transmets à mon associé vos "
                     "deux demandes.\n\nLe consultant\n", to="associe@cabinet.test", Cc=CLUB,
                     message_id="<consultant@cabinet.test>",
                     References="<compta@membres.test> <chantier@membres.test>")
    run_held_or_in_order(clean_mail, settings, sessions, [alice.as_bytes(), bruno.as_bytes(), copy.as_bytes()],
                         held=held)
    assert _outcomes(sessions)["consultant@cabinet.test"] == "copy"
    owner = _ticket_member(sessions, "chantier@membres.test")  # the nearest cited mail's (References' last): Bruno's
    assert owner is not None and _ticket_member(sessions, "consultant@cabinet.test") == owner


@POSTGRES_ONLY
@pytest.mark.parametrize("held", [False, True], ids=["one-daemon", "first-request-held"])
def test_a_reply_all_without_thread_headers_picks_the_same_namesake_ticket_whatever_the_commit_order(
        clean_mail, settings, sessions, held):
    """Alice (UID n) and Bruno (n+1) each ask the club about the same event, same subject « Salon des artisans »:
    two open tickets, unrelated mails. Then a stranger, the organiser, writes to both with the club in Cc (n+2:
    « RE: Salon des artisans », no thread headers: a copy). router.copy_or_repeat puts a copy on the open ticket
    of one of its people with that subject: _same_subject_ticket takes "the latest" (ORDER BY Ticket.id DESC). One
    daemon (before): Bruno's ticket (committed second). Held: Bruno's request committed first (lower id) and the
    copy went on Alice's ticket. Now: the ticket of the first person the mail names (its sender, then To and Cc as
    written) who has one of that subject: Alice's, either way."""
    add_members(sessions)
    alice = make_mail(ALICE, "Salon des artisans", "Bonjour,\n\nQuelqu'un tient-il un stand au salon des "
                      "artisans ?\n\nAlice\n", message_id="<salon-a@membres.test>")
    bruno = make_mail(BRUNO, "Salon des artisans", "Bonjour,\n\nJe voudrais partager un stand au salon des "
                      "artisans.\n\nBruno\n", message_id="<salon-b@membres.test>")
    organiser = make_mail("orga@salon.test", "RE: Salon des artisans", "Bonjour,\n\nIl reste deux stands au "
                          "salon.\n\nL'organisateur\n", to=f"{ALICE}, {BRUNO}", Cc=CLUB,
                          message_id="<orga@salon.test>")
    run_held_or_in_order(clean_mail, settings, sessions,
                         [alice.as_bytes(), bruno.as_bytes(), organiser.as_bytes()], held=held)
    assert _outcomes(sessions)["orga@salon.test"] == "copy"
    owner = _ticket_member(sessions, "salon-a@membres.test")  # the first person named with that ticket: Alice
    assert owner is not None and _ticket_member(sessions, "orga@salon.test") == owner


@POSTGRES_ONLY
@pytest.mark.parametrize("held", [False, True], ids=["one-daemon", "first-request-held"])
def test_a_members_reply_citing_her_request_and_anothers_stays_a_follow_up_whatever_the_commit_order(
        clean_mail, settings, sessions, held):
    """Alice's request <a-compta> (UID n) and Bruno's unrelated request <b-chantier> (n+1): two tickets. Then Alice
    writes again (n+2), In-Reply-To her request, References citing Bruno's request too (she was told of it and
    answers both threads). router.thread reads `SELECT ticket_id ... WHERE message_id IN (...)` with no ORDER BY
    (session.scalar: the first row the database returns, its storage order: the commit order). One daemon: her own
    request's row comes first: a follow-up on her ticket. Held: Bruno's request was committed first, its row came
    first, `_if_own_ticket` refused it (not hers) and the thread rule gave up; the mail cites mails of ours, so no
    same-subject match either: a second ticket for Alice (a reply opened a ticket). Now: her own ticket among the
    cited mails', the nearest citation first: a follow-up either way."""
    add_members(sessions)
    alice = make_mail(ALICE, "Bilan comptable", "Bonjour,\n\nJe cherche un conseil pour mon bilan comptable.\n\n"
                      "Alice\n", message_id="<a-compta@membres.test>")
    bruno = make_mail(BRUNO, "Chantier à Lyon", "Bonjour,\n\nJe cherche un sous-traitant pour un chantier à "
                      "Lyon.\n\nBruno\n", message_id="<b-chantier@membres.test>")
    again = make_mail(ALICE, "Re: Bilan comptable", "Bonjour,\n\nJ'ajoute que le bilan est à rendre fin mars.\n\n"
                      "Alice\n", message_id="<a-suite@membres.test>", In_Reply_To="<a-compta@membres.test>",
                      References="<b-chantier@membres.test> <a-compta@membres.test>")
    run_held_or_in_order(clean_mail, settings, sessions, [alice.as_bytes(), bruno.as_bytes(), again.as_bytes()],
                         held=held)
    outcomes = _outcomes(sessions)
    assert outcomes["a-suite@membres.test"] == "follow-up", outcomes  # as one daemon decides
