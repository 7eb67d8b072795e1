"""Aideur runs the club from his mail client: each command end to end, over the real servers."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from mailbot.models import Event, Ticket
from tests.helpers import (
    AIDEUR,
    ALICE,
    BRUNO,
    CLUB,
    add_members,
    mailbox,
    make_mail,
    run_cycle,
    settle,
    smtp_send,
    wait_mail,
)
from tests.integration.aideur_clients import confirm_command, confirmation_requests, reply_to_notification

THURSDAY = datetime(2026, 11, 26, 10, 0)  # 11:00 in Paris; the answer is due Monday 30 November


def open_ticket(server, settings, sessions, subject="Litige salarié", text="Je cherche un avocat en droit du "
                "travail pour un litige avec un salarié."):  # type: ignore[no-untyped-def]
    add_members(sessions)
    smtp_send(server, make_mail(ALICE, subject, text))
    wait_mail(server, CLUB, 1)
    run_cycle(settings, sessions, at=THURSDAY)
    [note] = wait_mail(server, AIDEUR, 1)
    wait_mail(server, ALICE, 1)
    return note


def answer(server, settings, sessions, note, body, client="thunderbird", **kwargs):  # type: ignore[no-untyped-def]
    smtp_send(server, reply_to_notification(note, body, client, **kwargs))
    wait_mail(server, CLUB, 1)
    return run_cycle(settings, sessions, at=THURSDAY)


def member_answers(server, settings, sessions, text: str):  # type: ignore[no-untyped-def]
    """Alice answers her acknowledgement through its reply address (the ticket's token); one cycle on Thursday."""
    [ack] = mailbox(server, ALICE)
    smtp_send(server, make_mail(ALICE, "Re: " + ack.subject, text, to=ack.reply_to[0]))
    wait_mail(server, CLUB, 1)
    return run_cycle(settings, sessions, at=THURSDAY)


def ticket(sessions) -> Ticket:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return session.scalars(select(Ticket)).one()


def member_mails(server, expected: int = 1) -> list:  # type: ignore[no-untyped-def, type-arg]
    """What Alice received after her acknowledgement (waits for `expected`, then checks nothing more came)."""
    return settle(server, ALICE, 1 + expected)[1:]


def answer_and_form(server) -> tuple:  # type: ignore[no-untyped-def, type-arg]
    """The two mails one command sends Alice: its answer and the result form. Postfix delivers mails queued in the
    same second in any order, so they are told apart by subject, never by position."""
    mails = member_mails(server, 2)
    [form] = [m for m in mails if "quel résultat" in m.subject]
    [mail] = [m for m in mails if "quel résultat" not in m.subject]
    return mail, form


def assert_clean(text: str) -> None:
    """What the member reads: Aideur's words, never his quoted history or his signature."""
    assert "06 99 88 77 66" not in text and "a écrit" not in text and "Envoyé :" not in text
    assert "Nouvelle demande" not in text and "<p" not in text


@pytest.mark.parametrize("client", ["thunderbird", "outlook", "gmail"])
def test_plain_reply_is_relayed_to_the_member(clean_mail, settings, sessions, client):
    note = open_ticket(clean_mail, settings, sessions)
    report = answer(clean_mail, settings, sessions, note,
                    "Bonjour Alice,\n\nAvez-vous déjà saisi les prud'hommes ?", client)
    assert dict(report.actions) == {"aideur-reply": 1}
    [mail] = member_mails(clean_mail)
    assert mail.from_ == CLUB and mail.subject == "[CA-2026-0001] Litige salarié"
    assert "Avez-vous déjà saisi les prud'hommes ?" in mail.text
    assert_clean(mail.text)
    assert mail.reply_to[0].startswith("aide+t1m-")
    assert len(settle(clean_mail, AIDEUR, 1)) == 1  # nothing unusual: no confirmation to Aideur


@pytest.mark.parametrize("client", ["thunderbird", "outlook", "gmail"])
def test_accept_with_date_and_message(clean_mail, settings, sessions, client):
    note = open_ticket(clean_mail, settings, sessions)
    answer(clean_mail, settings, sessions, note, "#Accepter 15/12\nNous cherchons un avocat dans le réseau.", client)
    [mail] = member_mails(clean_mail)
    assert "prend en charge" in mail.subject
    assert "mardi 15 décembre 2026" in mail.text and "Nous cherchons un avocat dans le réseau." in mail.text
    assert "#" not in mail.text
    assert_clean(mail.text)
    t = ticket(sessions)
    assert t.status == "accepted" and t.promise == "proposals" and t.due_at == datetime(2026, 12, 15, 17, 0)


def test_decline_with_reason(clean_mail, settings, sessions):
    note = open_ticket(clean_mail, settings, sessions)
    answer(clean_mail, settings, sessions, note, "#refuser\nCette question relève d'un notaire : personne dans "
                                                 "le réseau ne peut y répondre.", "outlook")
    [mail] = member_mails(clean_mail)
    assert "désolés" in mail.text and "relève d'un notaire" in mail.text
    assert_clean(mail.text)
    t = ticket(sessions)
    assert t.status == "declined" and t.closed_at is not None


def test_postpone_tells_date_and_reason(clean_mail, settings, sessions):
    note = open_ticket(clean_mail, settings, sessions)
    answer(clean_mail, settings, sessions, note, "#reporter 10 décembre l'avocate du réseau est en congés", "gmail")
    [mail] = member_mails(clean_mail)
    assert "jeudi 10 décembre 2026" in mail.text and "l'avocate du réseau est en congés" in mail.text
    t = ticket(sessions)
    assert t.status == "new" and t.delay_reason == "l'avocate du réseau est en congés"


def test_solution_is_relayed_as_free_proposal(clean_mail, settings, sessions):
    note = open_ticket(clean_mail, settings, sessions)
    answer(clean_mail, settings, sessions, note, "#solution\nLe guide du ministère du travail explique la "
                                                 "procédure : travail-emploi.gouv.fr", "thunderbird")
    [mail] = member_mails(clean_mail)  # the solution; its result form goes MAILBOT_RESULT_FORM_DAYS later
    assert "travail-emploi.gouv.fr" in mail.text and "gratuite" in mail.text
    assert ticket(sessions).status == "proposed" and ticket(sessions).due_at is None


def test_quote_shows_both_prices_and_the_saving(clean_mail, settings, sessions):
    note = open_ticket(clean_mail, settings, sessions)
    answer(clean_mail, settings, sessions, note, "#devis\nprestataire: Durand Avocats\nobjet: consultation et "
                                                 "conseil\ntarif habituel: 300 €\ntarif club: 200 €", "outlook")
    [mail] = member_mails(clean_mail)
    text = " ".join(mail.text.split())
    assert "Durand Avocats" in text and "300" in text and "200" in text
    assert "Votre économie : 100 €" in text and "33 %" in text
    assert "premier entretien est toujours gratuit" in text and "d'autres devis" in text


def test_close_and_note(clean_mail, settings, sessions):
    note = open_ticket(clean_mail, settings, sessions)
    answer(clean_mail, settings, sessions, note, "#note appelé Alice, elle a trouvé par elle-même\n#clore",
           "thunderbird")
    mail, form = answer_and_form(clean_mail)  # the closing mail and the result form
    assert "close" in mail.subject and "appelé Alice" not in mail.text + form.text  # the note is never sent
    with sessions() as session:
        t = session.scalars(select(Ticket)).one()
        assert t.status == "closed"
        kinds = [e.kind for e in t.events]
        assert "command:note" in kinds and "command:clore" in kinds


@pytest.mark.parametrize("line", ["#clo\u0302turer", "#c\u00adl\u043ere"], ids=["nfd", "soft-hyphen-cyrillic"])
def test_a_disguised_cloturer_closes_and_is_not_mailed_to_the_member(clean_mail, settings, sessions, line):
    """Attack round 13: Aideur answers "#clôturer" decomposed (NFD, from Thunderbird on macOS), or "#clore" with a
    soft hyphen and a Cyrillic "о". Before: the ticket stayed open and Alice received the command line as Aideur's
    message. Now: the ticket is closed as with the plain spelling, and Alice never reads the line."""
    note = open_ticket(clean_mail, settings, sessions)
    answer(clean_mail, settings, sessions, note, line, "thunderbird")
    mail, form = answer_and_form(clean_mail)  # the closing mail and the result form
    assert "#" not in mail.text and "#" not in form.text
    assert ticket(sessions).status == "closed" and ticket(sessions).closed_at is not None


def test_help_and_open_tickets_by_return_mail(clean_mail, settings, sessions):
    note = open_ticket(clean_mail, settings, sessions)
    answer(clean_mail, settings, sessions, note, "#aide\n#tickets", "gmail")
    notes = settle(clean_mail, AIDEUR, 3)
    subjects = [n.subject for n in notes]
    assert "Aide : les commandes de mailbot" in subjects
    [listing] = [n for n in notes if n.subject.startswith("Demandes ouvertes")]
    assert "CA-2026-0001" in listing.text and "lundi 30 novembre 2026" in listing.text
    assert member_mails(clean_mail, 0) == []


@pytest.mark.parametrize("body, expected", [
    ("#inconnu fais quelque chose", "inconnu"),
    ("#accepter 01/01/2020", "passée"),
    ("#refuser", "motif"),
    ("#reporter 15/12", "motif"),
    ("#accepter la semaine des quatre jeudis", "date"),
    ("#relier 1", "Aucune offre n° 1"),
    ("#appel compétences: plomberie\nUn membre cherche un plombier.", "Aucun membre disponible"),
    ("#appel\nAlice Martin cherche un avocat.", "le nom du demandeur"),
    ("Bonjour Alice\n#accepter 15/12\n#refuser hors champ", "Une seule"),
])
def test_malformed_command_gets_error_and_changes_nothing(clean_mail, settings, sessions, body, expected):
    note = open_ticket(clean_mail, settings, sessions)
    before = ticket(sessions)
    answer(clean_mail, settings, sessions, note, body, "thunderbird")
    notes = settle(clean_mail, AIDEUR, 2)
    [error] = [n for n in notes if "non exécutée" in n.subject]
    assert expected in " ".join(error.text.split())
    assert "> " + body.splitlines()[1 if expected == "Une seule" else 0][:10] in error.text
    assert "#accepter 15/12" in error.text  # the help is shown
    after = ticket(sessions)
    assert (after.status, after.due_at, after.closed_at) == (before.status, before.due_at, before.closed_at)
    assert member_mails(clean_mail, 0) == []


def test_accept_on_a_closed_ticket_is_refused(clean_mail, settings, sessions):
    note = open_ticket(clean_mail, settings, sessions)
    answer(clean_mail, settings, sessions, note, "#clore", "thunderbird")
    answer(clean_mail, settings, sessions, note, "#accepter 15/12", "thunderbird")
    [error] = [n for n in settle(clean_mail, AIDEUR, 2) if "non exécutée" in n.subject]
    assert "déjà close" in error.text
    assert len(member_mails(clean_mail, 2)) == 2  # only the closing mail and its result form


def test_forged_aideur_through_member_token_drives_nothing(clean_mail, settings, sessions):
    note = open_ticket(clean_mail, settings, sessions)
    [ack] = mailbox(clean_mail, ALICE)
    # Someone holding Alice's reply address writes with Aideur's From.
    answer(clean_mail, settings, sessions, note, "#refuser hors champ", "thunderbird", to=ack.reply_to[0])
    assert ticket(sessions).status == "new"
    notes = settle(clean_mail, AIDEUR, 3)
    assert any("adresse du membre" in n.subject for n in notes)
    assert member_mails(clean_mail, 0) == []


def test_member_writing_a_command_drives_nothing(clean_mail, settings, sessions):
    open_ticket(clean_mail, settings, sessions)
    assert dict(member_answers(clean_mail, settings, sessions, "#refuser\n#clore").actions) == {"follow-up": 1}
    assert ticket(sessions).status == "new"


def test_aideur_token_of_one_ticket_does_not_command_another(clean_mail, settings, sessions):
    note = open_ticket(clean_mail, settings, sessions)
    smtp_send(clean_mail, make_mail(BRUNO, "Maçonnerie", "Besoin d'un maçon."))
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(settings, sessions, at=THURSDAY)
    # Replying to ticket 1's notification, naming ticket 2: the commands apply to ticket 1, never to 2.
    answer(clean_mail, settings, sessions, note, "CA-2026-0002\n#clore", "thunderbird")
    with sessions() as session:
        statuses = dict(session.execute(select(Ticket.ref, Ticket.status)).all())
    assert statuses == {"CA-2026-0001": "closed", "CA-2026-0002": "new"}


def test_command_address_takes_fresh_mail_with_a_reference(clean_mail, settings, sessions):
    note = open_ticket(clean_mail, settings, sessions)
    command_address = next(line.strip() for line in note.text.splitlines() if line.strip().startswith("aide+c0a-"))
    smtp_send(clean_mail, make_mail(AIDEUR, "CA-2026-0001", "#accepter lundi prochain", to=command_address))
    smtp_send(clean_mail, make_mail(AIDEUR, "#tickets", "", to=command_address))
    wait_mail(clean_mail, CLUB, 2)
    report = run_cycle(settings, sessions, at=THURSDAY)
    assert dict(report.actions) == {"aideur-command": 2}
    notes = settle(clean_mail, AIDEUR, 3)
    assert any(n.subject.startswith("Demandes ouvertes") for n in notes)  # #tickets sends nothing to a member
    # #accepter would write to the member: through the command address it waits for Aideur's OUI.
    assert ticket(sessions).status == "new"
    [request] = confirmation_requests(clean_mail)
    assert "#accepter lundi prochain" in request.text and ALICE in request.text
    assert dict(confirm_command(clean_mail, settings, sessions, THURSDAY).actions) == {"aideur-command": 1}
    assert ticket(sessions).status == "accepted"
    assert ticket(sessions).due_at == datetime(2026, 11, 30, 17, 0)  # Monday 30 November
    [accepted] = member_mails(clean_mail)
    assert "lundi 30 novembre" in accepted.text
    # The same fresh mail to the plain club address commands nothing.
    smtp_send(clean_mail, make_mail(AIDEUR, "CA-2026-0001", "#clore"))
    wait_mail(clean_mail, CLUB, 1)
    assert dict(run_cycle(settings, sessions, at=THURSDAY).actions) == {"aideur-unrouted": 1}
    assert ticket(sessions).status == "accepted"


@pytest.mark.parametrize("words", ["résolu", "RESOLU merci", "Plus besoin, merci !", ("Vous pouvez annuler ma "
                                   "demande."), "C'est réglé, merci beaucoup"])
def test_member_withdraws_in_plain_french(clean_mail, settings, sessions, words):
    open_ticket(clean_mail, settings, sessions)
    member_answers(clean_mail, settings, sessions, f"{words}\n\nLe 26/11/2026, Club Aide a écrit :\n"
                   "> Nous avons bien reçu votre demande.")
    t = ticket(sessions)
    assert t.status == "withdrawn" and t.closed_at is not None and t.due_at is None
    [thanks] = member_mails(clean_mail)
    assert "Merci de nous" in thanks.text
    assert any("retirée" in n.subject for n in settle(clean_mail, AIDEUR, 2))


def test_resolu_inside_a_sentence_is_not_a_withdrawal(clean_mail, settings, sessions):
    open_ticket(clean_mail, settings, sessions)
    member_answers(clean_mail, settings, sessions, "Le problème de TVA est résolu mais j'ai une "
                   "autre question sur la paie.")
    assert ticket(sessions).status == "new"
    with sessions() as session:
        assert session.scalar(select(func.count(Event.id)).where(Event.kind == "follow-up")) == 1


@pytest.mark.parametrize("words", ["Résolu. Enfin presque.", "Plus besoin. Pour l'instant.", "Résolu\nÀ suivre"])
def test_a_qualified_resolu_closes_nothing(clean_mail, settings, sessions, words):
    """Attack 13: "Résolu. Enfin presque." through her reply address withdrew the ticket (closed, helpers told to
    stop) — only the first sentence was read. It stays open and reaches Aideur as her follow-up."""
    open_ticket(clean_mail, settings, sessions)
    member_answers(clean_mail, settings, sessions, f"{words}\n\nLe 26/11/2026, Club Aide a écrit :\n"
                   "> Nous avons bien reçu votre demande.")
    assert ticket(sessions).status != "withdrawn" and ticket(sessions).closed_at is None
    with sessions() as session:
        assert session.scalar(select(func.count(Event.id)).where(Event.kind == "follow-up")) == 1


@pytest.mark.parametrize("how", ["subject", "in-reply-to"])
def test_a_forged_resolu_without_the_reply_address_withdraws_nothing(clean_mail, settings, sessions, how):
    """Attack review of issue 11: a stranger forges Alice's From: to the plain club address, citing her ticket by
    its reference in the subject or by the acknowledgement's Message-ID, and writes "RÉSOLU". The reference and the
    Message-ID are no proof: the ticket stays open and Aideur is told (he can close it himself)."""
    open_ticket(clean_mail, settings, sessions)
    [ack] = mailbox(clean_mail, ALICE)
    headers = {"In_Reply_To": ack.headers["message-id"][0]} if how == "in-reply-to" else {}
    smtp_send(clean_mail, make_mail(ALICE, "Re: " + ack.subject, "RÉSOLU, merci", to=CLUB, **headers))
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(settings, sessions, at=THURSDAY)
    assert ticket(sessions).status == "new"
    # No "thank you for telling us" to Alice: only the question whether it was really her (her address on record).
    alice = settle(clean_mail, ALICE, 2)
    assert not any("retirée" in mail.subject for mail in alice)
    assert "Clore votre demande" in alice[-1].subject
    assert any("RÉSOLU" in n.text for n in settle(clean_mail, AIDEUR, 2)[1:])
