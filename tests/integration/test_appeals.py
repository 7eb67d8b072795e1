"""Anonymised appeals end to end over the real servers: who is asked, what they receive, their offers and
"non merci", the leak check, and the end of the need."""
from __future__ import annotations

from sqlalchemy import select

from mailbot.models import Appeal, Member, Solicitation, Ticket
from tests.helpers import AIDEUR, ALICE, BRUNO, CHLOE, CLUB, mailbox, run_cycle, settle, smtp_send, wait_mail
from tests.integration.aideur_clients import reply_to_notification
from tests.integration.test_triage import THURSDAY, answer, open_ticket

REQUEST = ("Bonjour, un salarié conteste son licenciement et menace d'aller aux prud'hommes. Qui connaît bien le "
           "droit du travail ?\n\nAlice Martin\nMartin Conseil\n06 12 34 56 78")
APPEAL = ("#appel compétences: droit du travail, maçonnerie ; membres: 2\n"
          "Un membre, dirigeant d'une petite société de conseil, cherche un avis sur un licenciement contesté "
          "devant les prud'hommes.")
IDENTITY = ("Alice", "Martin", "Martin Conseil", ALICE, "06 12 34 56 78", "alice@", "12 34 56 78")


def appeal(server, settings, sessions, text=APPEAL):  # type: ignore[no-untyped-def]
    note = open_ticket(server, settings, sessions, subject="Licenciement contesté", text=REQUEST)
    answer(server, settings, sessions, note, text, "thunderbird")
    return note


def solicitations(sessions) -> list[Solicitation]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        rows = session.scalars(select(Solicitation).order_by(Solicitation.id)).all()
        session.expunge_all()
        return list(rows)


def member_id(sessions, address: str) -> int:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return session.scalar(select(Member.id).where(Member.email == address))


def helper_answers(server, settings, sessions, helper: str, text: str, client: str = "gmail"):  # type: ignore
    [appeal_mail] = [m for m in mailbox(server, helper) if "Appel du réseau" in m.subject]
    smtp_send(server, reply_to_notification(appeal_mail, text, client, sender=helper, name="Membre"))
    wait_mail(server, CLUB, 1)
    return run_cycle(settings, sessions, at=THURSDAY)


def test_new_ticket_notification_lists_the_best_matching_members(clean_mail, settings, sessions):
    note = open_ticket(clean_mail, settings, sessions, subject="Licenciement contesté", text=REQUEST)
    assert "Membres qui pourraient aider" in note.text
    listed = note.text.split("Membres qui pourraient aider", 1)[1].split("\r\n\r\n", 1)[0]
    assert "Chloé Durand" in listed and "droit" in listed
    assert "Alice Martin" not in listed  # never the requester herself


def test_appeal_reaches_matching_members_without_the_requester_identity(clean_mail, settings, sessions):
    appeal(clean_mail, settings, sessions)
    for helper in (CHLOE, BRUNO):
        [mail] = settle(clean_mail, helper, 1)
        assert mail.from_ == CLUB and "Appel du réseau" in mail.subject
        assert mail.reply_to[0].startswith("aide+a") and "licenciement contesté" in mail.text
        for part in IDENTITY:
            assert part.lower() not in (mail.text + mail.subject + str(mail.headers)).lower()
        other = {CHLOE: ("Bruno", "Petit", BRUNO), BRUNO: ("Chloé", "Durand", CHLOE)}[helper]
        assert not any(part in mail.text + str(mail.headers) for part in other)  # nor the other helpers'
    confirmation = settle(clean_mail, AIDEUR, 2)[1]
    assert "Appel envoyé à 2 membres" in confirmation.subject
    assert "Chloé Durand" in confirmation.text and "Bruno Petit" in confirmation.text
    assert len(settle(clean_mail, ALICE, 1)) == 1  # the requester got her acknowledgement only
    assert [s.status for s in solicitations(sessions)] == ["asked", "asked"]


def test_appeal_with_the_requester_identity_is_refused_and_nothing_is_sent(clean_mail, settings, sessions):
    appeal(clean_mail, settings, sessions, "#appel\nAlice Martin (Martin Conseil, 06 12 34 56 78) cherche un "
                                           "avocat ; écrivez-lui à alice@membres.test.")
    error = settle(clean_mail, AIDEUR, 2)[1]
    assert "Commande non exécutée" in error.subject
    flat = " ".join(error.text.split())
    for what in ("le nom du demandeur", "l'entreprise du demandeur", "le téléphone du demandeur",
                 "l'adresse e-mail du demandeur"):
        assert what in flat
    for helper in (BRUNO, CHLOE):
        assert mailbox(clean_mail, helper) == []
    assert solicitations(sessions) == []
    assert len(settle(clean_mail, ALICE, 1)) == 1


def test_any_phone_number_or_address_in_an_appeal_is_refused(clean_mail, settings, sessions):
    appeal(clean_mail, settings, sessions, "#appel compétences: droit du travail\nAppelez le 01 45 67 89 10 ou "
                                           "écrivez à contact@cabinet.test pour aider un membre.")
    flat = " ".join(settle(clean_mail, AIDEUR, 2)[1].text.split())
    assert "un numéro de téléphone" in flat and "une adresse e-mail" in flat
    assert mailbox(clean_mail, CHLOE) == []


def test_offer_is_forwarded_to_aideur_with_the_helper_identity(clean_mail, settings, sessions):
    appeal(clean_mail, settings, sessions)
    report = helper_answers(clean_mail, settings, sessions, CHLOE, "Bonjour,\nJe peux aider : je suis juriste en "
                                                                    "droit social, disponible jeudi.")
    assert dict(report.actions) == {"helper-reply": 1}
    offer = settle(clean_mail, AIDEUR, 3)[2]
    assert offer.subject == "[CA-2026-0001] Offre n° 1 : Chloé Durand"
    assert CHLOE in offer.text and "juriste en droit social" in offer.text and "#relier 1" in offer.text
    thanks = settle(clean_mail, CHLOE, 2)[1]
    assert "Merci" in thanks.subject and "transmise à Aideur" in thanks.text
    by_member = {s.member_id: s for s in solicitations(sessions)}
    chloe, bruno = by_member[member_id(sessions, CHLOE)], by_member[member_id(sessions, BRUNO)]
    assert (chloe.status, chloe.offer_number, bruno.status) == ("offered", 1, "asked")
    assert "juriste" in chloe.answer
    assert len(settle(clean_mail, ALICE, 1)) == 1  # the requester learns nothing of the helper


def test_non_merci_is_recorded_and_never_asked_again_for_this_ticket(clean_mail, settings, sessions):
    note = appeal(clean_mail, settings, sessions)
    helper_answers(clean_mail, settings, sessions, BRUNO, "Non merci, ce n'est pas mon domaine.", "outlook")
    assert "C'est noté" in settle(clean_mail, BRUNO, 2)[1].subject
    answer(clean_mail, settings, sessions, note, APPEAL.replace("membres: 2", "membres: 3"), "thunderbird")
    assert len(settle(clean_mail, BRUNO, 2)) == 2  # no second appeal for Bruno
    assert len(settle(clean_mail, CHLOE, 2)) == 2  # Chloé, silent so far, gets the new appeal
    statuses = [(s.member_id, s.status) for s in solicitations(sessions)]
    assert statuses.count((member_id(sessions, BRUNO), "declined")) == 1
    assert [status for who, status in statuses if who == member_id(sessions, CHLOE)] == ["asked", "asked"]


def test_everyone_asked_is_told_when_the_ticket_closes(clean_mail, settings, sessions):
    note = appeal(clean_mail, settings, sessions)
    helper_answers(clean_mail, settings, sessions, CHLOE, "Je peux aider.")
    answer(clean_mail, settings, sessions, note, "#clore résolu par un avocat du réseau", "outlook")
    for helper, count in ((CHLOE, 3), (BRUNO, 2)):
        over = settle(clean_mail, helper, count)[-1]
        assert "besoin est terminé" in over.subject and "CA-2026-0001" in over.text
    assert all(s.told_over_at is not None for s in solicitations(sessions))


def test_helpers_are_told_when_the_member_withdraws(clean_mail, settings, sessions):
    appeal(clean_mail, settings, sessions)
    [ack] = mailbox(clean_mail, ALICE)
    smtp_send(clean_mail, reply_to_notification(ack, "RÉSOLU, merci !", "thunderbird", sender=ALICE, name="Alice"))
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(settings, sessions, at=THURSDAY)
    for helper in (CHLOE, BRUNO):
        assert "besoin est terminé" in settle(clean_mail, helper, 2)[-1].subject
    with sessions() as session:
        assert session.scalars(select(Ticket)).one().status == "withdrawn"


def test_a_late_answer_after_closing_is_thanked_not_forwarded(clean_mail, settings, sessions):
    note = appeal(clean_mail, settings, sessions)
    answer(clean_mail, settings, sessions, note, "#clore", "thunderbird")
    helper_answers(clean_mail, settings, sessions, BRUNO, "Je peux aider !")
    assert "besoin est terminé" in settle(clean_mail, BRUNO, 3)[-1].subject
    assert not any("Offre" in m.subject for m in mailbox(clean_mail, AIDEUR))


# --- issue 12 ------------------------------------------------------------------------------------------------------

def quoted(mail) -> str:  # type: ignore[no-untyped-def]
    """The appeal text as the helper reads it: the quoted lines of the appeal mail."""
    return "\n".join(line[1:].strip() for line in mail.text.replace("\r\n", "\n").split("\n") if line.startswith(">"))


def test_aideurs_greeting_and_sign_off_stay_out_of_the_appeal(clean_mail, settings, sessions):
    appeal(clean_mail, settings, sessions, "#appel compétences: droit du travail ; membres: 1\nBonjour à tous,\n\n"
                                           "Un membre cherche un avis sur un licenciement contesté devant les "
                                           "prud'hommes.\n\nBien à vous,\nAideur")
    [mail] = settle(clean_mail, CHLOE, 1)
    assert quoted(mail).startswith("Un membre cherche un avis") and quoted(mail).endswith("prud'hommes.")
    assert "Bonjour à tous" not in mail.text and "Bien à vous" not in mail.text
    assert mail.text.count("Bonjour") == 1  # the appeal's own greeting, once
    with sessions() as session:
        [appeal_row] = session.scalars(select(Appeal)).all()
        assert appeal_row.text.startswith("Un membre") and appeal_row.text.endswith("prud'hommes.")


def test_an_appeal_of_courtesy_only_is_refused_saying_so(clean_mail, settings, sessions):
    appeal(clean_mail, settings, sessions, "#appel compétences: droit du travail\nBonjour à tous,\nMerci,\nAideur")
    flat = " ".join(settle(clean_mail, AIDEUR, 2)[1].text.split())
    assert "ne contient qu'une formule de politesse" in flat
    assert mailbox(clean_mail, CHLOE) == []


def test_a_refusal_names_the_word_found_and_its_line(clean_mail, settings, sessions):
    appeal(clean_mail, settings, sessions, "#appel compétences: droit du travail\nBonjour,\nUn membre cherche un "
                                           "avis sur un licenciement.\nSon cabinet, Martin Conseil, est à Nantes.\n"
                                           "Merci,\nAideur")
    error = settle(clean_mail, AIDEUR, 2)[1]
    flat = " ".join(error.text.split())
    assert "l'entreprise du demandeur : « Martin Conseil », ligne 3 sous #appel : « Son cabinet, Martin " \
           "Conseil, est à Nantes. »" in flat
    assert "le nom du demandeur" not in flat  # "Martin" inside the company is the company, said once
    assert mailbox(clean_mail, CHLOE) == []


def test_fewer_members_than_asked_aideur_is_told_how_many_and_why(clean_mail, settings, sessions):
    from tests.helpers import add_members

    add_members(sessions)
    with sessions.begin() as session:
        session.scalars(select(Member).where(Member.email == BRUNO)).one().accepts_appeals = False
    appeal(clean_mail, settings, sessions, "#appel compétences: droit du travail, maçonnerie ; membres: 3\n"
                                           "Un membre cherche un avis sur un licenciement contesté.")
    assert len(settle(clean_mail, CHLOE, 1)) == 1 and mailbox(clean_mail, BRUNO) == []
    sent = settle(clean_mail, AIDEUR, 2)[1]
    assert "Appel envoyé à 1 membre" in sent.subject
    flat = " ".join(sent.text.split())
    assert ("1 membre sur 3 demandés : 1 membre qui correspondrait a choisi de ne pas recevoir les appels du "
            "réseau ; aucun autre membre n'a de compétence proche de « droit du travail, maçonnerie ».") in flat


def test_nobody_to_ask_names_why(clean_mail, settings, sessions):
    from tests.helpers import add_members

    add_members(sessions)
    with sessions.begin() as session:
        session.scalars(select(Member).where(Member.email == CHLOE)).one().accepts_appeals = False
    appeal(clean_mail, settings, sessions, "#appel compétences: droit du travail\nUn membre cherche un avis.")
    flat = " ".join(settle(clean_mail, AIDEUR, 2)[1].text.split())
    assert "Aucun membre disponible ne peut recevoir cet appel (compétences « droit du travail ») : 1 membre qui " \
           "correspondrait " \
           "a choisi de ne pas recevoir les appels du réseau" in flat
    assert mailbox(clean_mail, CHLOE) == []


def test_a_signed_offer_reaches_the_requesters_consent_question_whole(clean_mail, settings, sessions):
    appeal(clean_mail, settings, sessions)
    settle(clean_mail, CHLOE, 1)  # Postfix delivers asynchronously: her appeal first
    helper_answers(clean_mail, settings, sessions, CHLOE, "Bonjour,\n\nJe peux aider : je suis juriste en droit "
                                                          "social, j'ai traité une dizaine de cas de ce genre.\n"
                                                          "Disponible jeudi par téléphone.\n\nBien à vous,\n"
                                                          "Chloé Durand\nDurand Juris", "thunderbird")
    offer = settle(clean_mail, AIDEUR, 3)[2]
    assert "Chloé Durand" in offer.text  # Aideur sees the whole mail
    answer(clean_mail, settings, sessions, offer, "#relier 1", "thunderbird")
    question = next(m for m in settle(clean_mail, ALICE, 2) if "accord" in (m.subject + m.text).lower()
                    and m is not mailbox(clean_mail, ALICE)[0])
    flat = " ".join(quoted(question).split())
    assert "je suis juriste en droit social, j'ai traité une dizaine de cas de ce genre. Disponible jeudi par " \
           "téléphone." in flat
    assert "Durand" not in question.text and "Bien à vous" not in question.text
    [chloe] = [s for s in solicitations(sessions) if s.member_id == member_id(sessions, CHLOE)]
    assert chloe.answer.endswith("Disponible jeudi par téléphone.")


# --- attack 13, case 14: a "no" that says more -------------------------------------------------------------------

OWN_REQUEST = ("Non, désolé, ce n'est pas mon domaine. Par contre, mon local a été cambriolé cette nuit : j'ai "
               "besoin d'un serrurier en urgence, pouvez-vous m'aider ?")


def test_a_request_written_in_a_reply_to_an_appeal_reaches_aideur(clean_mail, settings, sessions):
    """Bruno answers someone else's appeal "Non, désolé… Par contre … j'ai besoin d'un serrurier en urgence,
    pouvez-vous m'aider ?". Before: read as a decline, stored on Alice's ticket, Bruno thanked, Aideur never told
    (appeals.helper_reply's decline branch notified nobody). Now Aideur gets Bruno's words (with how to open him a
    request), Bruno is told they were passed on, and nothing of Alice reaches Bruno."""
    appeal(clean_mail, settings, sessions)
    before = len(wait_mail(clean_mail, AIDEUR, 1))
    helper_answers(clean_mail, settings, sessions, BRUNO, OWN_REQUEST, "gmail")
    notes = settle(clean_mail, AIDEUR, before + 1)[before:]
    [told] = [m for m in notes if "serrurier" in m.text]
    assert f"#ouvrir {BRUNO}" in told.text
    [thanks] = settle(clean_mail, BRUNO, 2)[1:]
    assert "C'est noté" in thanks.subject and "transmis à Aideur" in thanks.text
    for mail in mailbox(clean_mail, BRUNO):
        text = mail.text + mail.subject + mail.html
        assert not any(piece in text for piece in IDENTITY), text
    assert [s.status for s in solicitations(sessions) if s.member_id == member_id(sessions, BRUNO)] == ["declined"]


def test_a_bare_no_to_an_appeal_still_bothers_nobody(clean_mail, settings, sessions):
    """The other side: "Non merci, ce n'est pas mon domaine, bon courage" says nothing more: no notification."""
    appeal(clean_mail, settings, sessions)
    before = len(wait_mail(clean_mail, AIDEUR, 1))
    helper_answers(clean_mail, settings, sessions, BRUNO, "Non merci, ce n'est pas mon domaine, bon courage !")
    assert len(settle(clean_mail, AIDEUR, before)) == before
    [thanks] = settle(clean_mail, BRUNO, 2)[1:]
    assert "transmis à Aideur" not in thanks.text


def test_a_question_in_a_late_answer_after_closing_reaches_aideur(clean_mail, settings, sessions):
    """Variant: the ticket is closed when Bruno answers "Trop tard pour moi, mais auriez-vous un contact de
    comptable ?" — before, only "le besoin est terminé" came back and his question was lost."""
    note = appeal(clean_mail, settings, sessions)
    answer(clean_mail, settings, sessions, note, "#clore", "thunderbird")
    before = len(settle(clean_mail, AIDEUR, 1))
    helper_answers(clean_mail, settings, sessions, BRUNO, "Trop tard pour moi, mais auriez-vous un contact de "
                                                          "comptable à Lyon ?")
    late = settle(clean_mail, BRUNO, 3)[-1]
    assert "besoin est terminé" in late.subject and "transmis à Aideur" in late.text
    assert any("comptable à Lyon" in m.text for m in settle(clean_mail, AIDEUR, before + 1)[before:])
