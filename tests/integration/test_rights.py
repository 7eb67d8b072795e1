"""Issue 12, point 4: rights by mail for everyone the club holds data on, over the real servers.

Members, former members and people who are no members (a registration never confirmed, an invitation sent) can ask
for a copy of their data ("mes données") or its erasure, in their own words, always with the same round trip: a
question with a one-use reply address sent to the address on record, and nothing done on a From: alone. A former
member's question reaches Aideur as a ticket; a resigning member's reason reaches Aideur."""
from __future__ import annotations

import json

from sqlalchemy import select

from mailbot.models import InboundMail, Member, PendingChange, Ticket
from tests.helpers import AIDEUR, ALICE, BRUNO, CLUB, STRANGER, add_members, mailbox, make_mail, settle
from tests.integration.aideur_clients import reply_to_notification
from tests.security.test_proof_of_address import FORM, deliver

FAREWELL = "Votre adhésion au Club Aide est terminée"


def alice(sessions) -> Member | None:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return session.scalar(select(Member).where(Member.email == ALICE))


def answer(server, settings, sessions, mail, text, sender=ALICE, client="gmail"):  # type: ignore[no-untyped-def]
    return deliver(server, settings, sessions, reply_to_notification(mail, text, client, sender=sender))


def resign(server, settings, sessions, subject: str, text: str):  # type: ignore[no-untyped-def]
    """Alice resigns and confirms; returns the farewell mail."""
    add_members(sessions)
    deliver(server, settings, sessions, make_mail(ALICE, subject, text))
    [question] = settle(server, ALICE, 1)
    assert "merci de confirmer" in question.subject
    answer(server, settings, sessions, question, "Oui, je confirme.")
    farewell = settle(server, ALICE, 2)[1]
    assert farewell.subject == FAREWELL
    return farewell


def exported(mail) -> dict:  # type: ignore[no-untyped-def,type-arg]
    [attached] = [a for a in mail.attachments if a.filename == "mes-donnees.json"]
    return json.loads(attached.payload.decode("utf-8"))


def nothing_of_alice(mails, name: str = "06 12 34 56 78") -> bool:  # type: ignore[no-untyped-def]
    """Whatever Bruno got (his "Oui" through someone else's reply address is his own new request): no attachment,
    nothing of the person's data."""
    return all(not m.attachments and name not in m.text for m in mails)


def test_a_resigning_members_reason_reaches_aideur(clean_mail, settings, sessions):
    resign(clean_mail, settings, sessions, "Démission",
           "Bonjour,\n\nJe cesse mon activité à la fin de l'année et pars à la retraite.\n\nAlice")
    [note] = [m for m in mailbox(clean_mail, AIDEUR) if "Fin d'adhésion" in m.subject]
    assert "pars à la retraite" in " ".join(note.text.replace(">", " ").split())
    with sessions() as session:  # the words were kept only until the confirmation: blanked now
        assert [(p.kind, p.status, p.values) for p in session.scalars(select(PendingChange))] == [
            ("resilier", "applied", "")]


def test_a_resignation_without_reason_says_so(clean_mail, settings, sessions):
    resign(clean_mail, settings, sessions, "Résilier", "")
    [note] = [m for m in mailbox(clean_mail, AIDEUR) if "Fin d'adhésion" in m.subject]
    assert "Aucun motif n'a été donné" in note.text


def test_a_former_member_erases_her_data_by_answering_the_farewell_in_her_own_words(clean_mail, settings,
                                                                                    sessions):
    farewell = resign(clean_mail, settings, sessions, "Résilier", "")
    assert "effacer mes données" in farewell.text and "mes données" in farewell.text
    answer(clean_mail, settings, sessions, farewell, "Oui, merci d'effacer mes données s'il vous plaît.")
    question = settle(clean_mail, ALICE, 3)[2]
    assert question.subject == "Effacement de vos données : merci de confirmer", question.subject
    assert alice(sessions).status == "ended"
    answer(clean_mail, settings, sessions, question, "Oui", sender=BRUNO)  # her reply address, someone else
    assert alice(sessions).status == "ended"
    answer(clean_mail, settings, sessions, question, "OUI")
    assert alice(sessions) is None
    assert settle(clean_mail, ALICE, 4)[3].subject == "Vos données ont été effacées"


def test_a_member_gets_a_copy_of_her_data_after_confirming(clean_mail, settings, sessions):
    add_members(sessions)
    deliver(clean_mail, settings, sessions, make_mail(ALICE, "Mes données", "Bonjour, je voudrais recevoir mes "
                                                                            "données personnelles."))
    [question] = settle(clean_mail, ALICE, 1)
    assert question.subject == "Copie de vos données : merci de confirmer"
    assert not any(a.filename for a in question.attachments)
    answer(clean_mail, settings, sessions, question, "Oui")
    copy = settle(clean_mail, ALICE, 2)[1]
    assert copy.subject == "Vos données au Club Aide"
    assert "Téléphone : 06 12 34 56 78" in copy.text
    held = exported(copy)
    assert held["email"] == ALICE and held["phone"] == "06 12 34 56 78" and held["status"] == "active"
    assert any(m["subject"] == "Mes données" for m in held["mails_received"])
    assert alice(sessions).status == "active"


def test_a_forged_request_for_her_data_sends_nothing_to_the_forger(clean_mail, settings, sessions):
    """Bruno writes with Alice's From: and a Reply-To of his own, then answers the question he never received,
    citing its Message-ID, to the plain address: Alice alone is asked, and nothing is sent to anyone."""
    add_members(sessions)
    deliver(clean_mail, settings, sessions, make_mail(ALICE, "Mes données", "", Reply_To=BRUNO))
    [question] = settle(clean_mail, ALICE, 1)
    deliver(clean_mail, settings, sessions, make_mail(ALICE, "Re: " + question.subject, "Oui", Reply_To=BRUNO,
                                                      In_Reply_To=question.headers["message-id"][0]))
    answer(clean_mail, settings, sessions, question, "Oui", sender=BRUNO)
    assert nothing_of_alice(mailbox(clean_mail, BRUNO))
    assert all("mes-donnees.json" not in [a.filename for a in m.attachments] for m in settle(clean_mail, ALICE, 1))


def test_a_former_member_gets_a_copy_of_her_data(clean_mail, settings, sessions):
    farewell = resign(clean_mail, settings, sessions, "Résilier", "")
    answer(clean_mail, settings, sessions, farewell, "mes données", client="outlook")
    question = settle(clean_mail, ALICE, 3)[2]
    assert question.subject == "Copie de vos données : merci de confirmer"
    answer(clean_mail, settings, sessions, question, "oui")
    held = exported(settle(clean_mail, ALICE, 4)[3])
    assert held["status"] == "ended" and held["first_name"] == "Alice"


def test_a_former_members_question_reaches_aideur_as_a_ticket(clean_mail, settings, sessions):
    farewell = resign(clean_mail, settings, sessions, "Résilier", "")
    report = answer(clean_mail, settings, sessions, farewell,
                    "Bonjour, pourquoi ai-je encore reçu un appel du réseau hier ? Merci de vérifier.")
    assert dict(report.actions) == {"new-request": 1}
    with sessions() as session:
        [ticket] = session.scalars(select(Ticket)).all()
        assert ticket.subject.startswith("Bonjour, pourquoi ai-je encore reçu") or "appel" in ticket.subject
    assert "Demande bien reçue" in settle(clean_mail, ALICE, 3)[2].subject
    assert any("Nouvelle demande" in m.subject for m in mailbox(clean_mail, AIDEUR))
    # and a way back in is still the invitation
    deliver(clean_mail, settings, sessions, make_mail(ALICE, "Inscription", "Je souhaite revenir au Club."))
    assert "inscription" in settle(clean_mail, ALICE, 4)[3].subject


def test_a_non_member_gets_a_copy_then_erases_what_the_club_holds(clean_mail, settings, sessions):
    """Hélène sent a form by fresh mail and never confirmed it: the club holds her mail and her form."""
    deliver(clean_mail, settings, sessions, make_mail(STRANGER, "Inscription", FORM))
    deliver(clean_mail, settings, sessions, make_mail(STRANGER, "RGPD", "Bonjour, pouvez-vous m'envoyer mes "
                                                                      "données ? Merci."))
    question = settle(clean_mail, STRANGER, 2)[1]
    assert question.subject == "Copie de vos données : merci de confirmer"
    answer(clean_mail, settings, sessions, question, "Oui", sender=BRUNO)  # not the address asked: nothing
    assert nothing_of_alice(mailbox(clean_mail, BRUNO), "Lefèvre") and len(settle(clean_mail, STRANGER, 2)) == 2
    answer(clean_mail, settings, sessions, question, "Oui", sender=STRANGER)
    copy = settle(clean_mail, STRANGER, 3)[2]
    held = exported(copy)
    assert held["status"] == "non-membre" and held["email"] == STRANGER
    assert held["confirmations_asked"][0]["values"]["last_name"] == "Lefèvre"
    deliver(clean_mail, settings, sessions, make_mail(STRANGER, "Re: Vos données", "Effacer mes données"))
    question = settle(clean_mail, STRANGER, 4)[3]
    assert question.subject == "Effacement de vos données : merci de confirmer"
    answer(clean_mail, settings, sessions, question, "Oui", sender=STRANGER)
    assert settle(clean_mail, STRANGER, 5)[4].subject == "Vos données ont été effacées"
    with sessions() as session:
        assert session.scalars(select(PendingChange)).all() == []
        senders = set(session.scalars(select(InboundMail.from_address)))
        assert STRANGER not in senders and CLUB not in senders
    assert any("Effacement des données" in m.subject for m in mailbox(clean_mail, AIDEUR))
