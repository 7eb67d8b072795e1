"""Registration by mail, end to end over the real servers: the invitation, forms answered as real clients would,
incomplete answers, and the acceptance kept as evidence."""
from __future__ import annotations

import hashlib
import imaplib
from datetime import datetime

import pytest
from sqlalchemy import select

from mailbot.models import Acceptance, InboundMail, Member, MemberTerm
from mailbot.tokens import TokenSigner
from tests.helpers import AIDEUR, CLUB, PASSWORD, STRANGER, mailbox, make_mail, run_cycle, settle, smtp_send, wait_mail
from tests.integration.aideur_clients import reply_to_notification

NOW = datetime(2026, 11, 26, 10, 0)
FILLED = """Nom : Lefèvre
Prénom : Hélène
Entreprise : Lefèvre Traductions
Activité : traductrice technique
Adresse postale : 8 allée des Tilleuls
33000 Bordeaux
Téléphone : 06 55 44 33 22
Compétences : traduction allemand anglais, rédaction technique
Loisirs : voile
Particularités : a vécu à Berlin
Visibilité : membres"""
ACCEPT = "J'accepte les conditions V4/2018"


def deliver(server, settings, sessions, message, count: int = 1):  # type: ignore[no-untyped-def]
    smtp_send(server, message)
    wait_mail(server, CLUB, count)
    return run_cycle(settings, sessions, at=NOW)


def invitation(server, settings, sessions):  # type: ignore[no-untyped-def]
    deliver(server, settings, sessions, make_mail(f"Hélène Lefèvre <{STRANGER}>", "Renseignement",
                                                  "Bonjour, comment fonctionne votre club ?"))
    [mail] = wait_mail(server, STRANGER, 1)
    return mail


def member(sessions) -> Member | None:  # type: ignore[no-untyped-def]
    with sessions() as session:
        found = session.scalar(select(Member).where(Member.email == STRANGER))
        if found is not None:
            session.expunge(found)
        return found


def test_newcomer_gets_the_invitation_with_conditions_and_form(clean_mail, settings, sessions):
    mail = invitation(clean_mail, settings, sessions)
    assert mail.from_ == CLUB and "inscription" in mail.subject
    # The reply address is bound to the newcomer's own address (issue 11, point 1): not one shared by everyone.
    assert mail.reply_to[0].startswith("aide+r") and not mail.reply_to[0].startswith("aide+r0m-")
    assert mail.reply_to[0] == TokenSigner(settings.secret_keys).plus_address(
        CLUB, TokenSigner(settings.secret_keys).address_token(STRANGER))
    text = mail.text
    assert text.startswith("Bonjour,") and "Hélène" not in text and "Renseignement" not in text
    assert "Conditions de la prestation (V4/2018)" in text and "Valable à dater du 22/10/2018" in text
    assert "le premier entretien est toujours gratuit" in " ".join(text.lower().split())
    for label in ("Nom :", "Prénom :", "Entreprise :", "Activité :", "Adresse postale :", "Téléphone :",
                  f"Courriel : {STRANGER}", "Compétences :", "Visibilité (confidentielle ou membres) :",
                  "Acceptation des conditions :"):
        assert label in text
    assert "J'accepte les conditions V4/2018" in text
    [note] = settle(clean_mail, AIDEUR, 1)
    assert "non-membre" in note.subject and "invitation" in note.text
    assert member(sessions) is None


@pytest.mark.parametrize("client", ["thunderbird", "outlook", "gmail"])
def test_form_answered_above_the_quote_registers_the_member(clean_mail, settings, sessions, client):
    mail = invitation(clean_mail, settings, sessions)
    reply = reply_to_notification(mail, f"Bonjour,\n\n{FILLED}\nAcceptation des conditions : {ACCEPT}\n\nMerci",
                                  client, sender=STRANGER, name="Hélène Lefèvre")
    report = deliver(clean_mail, settings, sessions, reply)
    assert dict(report.actions) == {"non-member": 1}
    found = member(sessions)
    assert found is not None and found.status == "active"
    assert (found.last_name, found.first_name, found.company) == ("Lefèvre", "Hélène", "Lefèvre Traductions")
    assert found.activity == "traductrice technique" and "Bordeaux" in found.postal_address
    assert found.phone == "06 55 44 33 22" and found.visibility == "membres" and found.accepts_appeals
    assert "allemand" in found.skills and found.conditions_version == "V4/2018"
    with sessions() as session:
        [acceptance] = session.scalars(select(Acceptance)).all()
        inbound = session.scalar(select(InboundMail).where(InboundMail.message_id == acceptance.message_id))
        assert acceptance.conditions_version == "V4/2018" and ACCEPT in acceptance.line
        assert inbound is not None and acceptance.raw_sha256 == inbound.raw_sha256
        assert session.scalar(select(MemberTerm.term).where(MemberTerm.member_id == found.id)) is not None
    welcome = settle(clean_mail, STRANGER, 2)[1]
    assert "Bienvenue" in welcome.subject
    assert "Entreprise : Lefèvre Traductions" in welcome.text and "Visibilité (confidentielle ou membres) : " \
           "membres" in welcome.text
    assert "demander de l'aide" in welcome.text
    notes = settle(clean_mail, AIDEUR, 2)
    assert notes[1].subject == "Nouveau membre : Hélène Lefèvre" and ACCEPT in " ".join(notes[1].text.split())


def test_form_filled_inline_in_the_quote(clean_mail, settings, sessions):
    mail = invitation(clean_mail, settings, sessions)
    answers = dict(line.split(" : ", 1) for line in FILLED.replace("\n33000 Bordeaux", ", 33000 Bordeaux")
                   .splitlines())
    answers["Visibilité (confidentielle ou membres)"] = "confidentielle"
    answers["Acceptation des conditions"] = "j'accepte"
    lines = []
    for line in mail.text.splitlines():
        label = line.split(" :", 1)[0]
        if line.endswith(":") and label in answers:
            line = f"{line} {answers[label]}"
        lines.append("> " + line)
    reply = make_mail(STRANGER, "Re: " + mail.subject, "Voici.\n\nLe 26/11/2026, Club Aide a écrit :\n" +
                      "\n".join(lines), to=mail.reply_to[0], In_Reply_To=mail.headers["message-id"][0])
    deliver(clean_mail, settings, sessions, reply)
    found = member(sessions)
    assert found is not None and found.visibility == "confidentielle" and found.first_name == "Hélène"
    assert "33000 Bordeaux" in found.postal_address


def test_missing_fields_get_a_reply_naming_them_and_nothing_is_registered(clean_mail, settings, sessions):
    mail = invitation(clean_mail, settings, sessions)
    partial = "Nom : Lefèvre\nPrénom : Hélène\nTéléphone : 12\nVisibilité : peut-être"
    deliver(clean_mail, settings, sessions, reply_to_notification(mail, partial, "thunderbird", sender=STRANGER,
                                                                  name="Hélène Lefèvre"))
    assert member(sessions) is None
    answer = settle(clean_mail, STRANGER, 2)[1]
    assert "il manque" in answer.subject
    for missing in ("Entreprise : à remplir", "Activité : à remplir", "Adresse postale : à remplir",
                    "Téléphone :", "Visibilité :", "Acceptation des conditions :"):
        assert f"- {missing}" in answer.text
    assert "Nom : Lefèvre" in answer.text and "Rien n'a été enregistré" in answer.text
    assert len(settle(clean_mail, AIDEUR, 1)) == 1  # Aideur is not bothered with half-filled forms

    # She completes the form by replying to that answer: now she is a member.
    deliver(clean_mail, settings, sessions, reply_to_notification(
        answer, FILLED + "\n\nJe valide et accepte les conditions de la prestation.", "gmail", sender=STRANGER))
    found = member(sessions)
    assert found is not None and found.phone == "06 55 44 33 22"


def test_no_acceptance_means_no_membership(clean_mail, settings, sessions):
    mail = invitation(clean_mail, settings, sessions)
    deliver(clean_mail, settings, sessions, reply_to_notification(mail, FILLED, "outlook", sender=STRANGER))
    assert member(sessions) is None
    answer = settle(clean_mail, STRANGER, 2)[1]
    words = " ".join(answer.text.split())  # paragraphs are filled: a phrase may run over two lines
    assert "Acceptation des conditions" in words and "J'accepte les conditions V4/2018" in words
    with sessions() as session:
        assert session.scalars(select(Acceptance)).all() == []


def test_refusing_the_conditions_is_answered_kindly(clean_mail, settings, sessions):
    mail = invitation(clean_mail, settings, sessions)
    deliver(clean_mail, settings, sessions, reply_to_notification(
        mail, FILLED + "\n\nJe n'accepte pas les conditions.", "thunderbird", sender=STRANGER))
    assert member(sessions) is None
    answer = settle(clean_mail, STRANGER, 2)[1]
    assert "n'acceptez pas les conditions" in answer.text


def test_a_fresh_mail_with_the_form_registers_after_confirmation(clean_mail, settings, sessions):
    """Someone who copied the form from the website and writes a new mail, without any token: a `From:` proves
    nothing, so the address is asked first (double opt-in); her OUI through that question registers her."""
    deliver(clean_mail, settings, sessions, make_mail(STRANGER, "Inscription", FILLED + "\n\nLu et approuvé."))
    assert member(sessions) is None
    with sessions() as session:
        assert session.scalars(select(Acceptance)).all() == []
    [question] = settle(clean_mail, STRANGER, 1)
    assert "merci de confirmer" in question.subject and question.reply_to[0].startswith("aide+v")
    assert "Lefèvre" not in question.text  # nothing of the form is repeated to an address that may not have sent it
    deliver(clean_mail, settings, sessions, reply_to_notification(question, "Oui", "thunderbird", sender=STRANGER))
    found = member(sessions)
    assert found is not None and found.last_name == "Lefèvre" and found.status == "active"
    assert "Bienvenue" in settle(clean_mail, STRANGER, 2)[1].subject
    with sessions() as session:
        [acceptance] = session.scalars(select(Acceptance)).all()
        first = session.scalar(select(InboundMail).where(InboundMail.subject == "Inscription"))
        assert acceptance.message_id == first.message_id and "Lu et approuvé" in acceptance.line


def test_an_acceptance_taken_back_on_the_next_line_is_not_confirmed(clean_mail, settings, sessions):
    """Attack 13: the filled form, "J'accepte les conditions V4/2018" and on the next line "Non finalement, je dois
    d'abord les relire." got "… merci de confirmer" — the acceptance was taken as given, and her OUI to that question
    would have registered her with an acceptance she withdrew. She is told the acceptance is missing instead."""
    body = FILLED + "\n\n" + ACCEPT + "\nNon finalement, je dois d'abord les relire."
    deliver(clean_mail, settings, sessions, make_mail(f"Hélène Lefèvre <{STRANGER}>", "Inscription", body))
    [answer] = wait_mail(clean_mail, STRANGER, 1)
    assert "merci de confirmer" not in answer.subject, answer.subject
    assert "Acceptation des conditions" in " ".join(answer.text.split())
    assert member(sessions) is None
    with sessions() as session:
        assert session.scalars(select(Acceptance)).all() == []


def test_invitation_and_answers_are_never_doubled_on_replay(clean_mail, settings, sessions):
    invitation(clean_mail, settings, sessions)
    run_cycle(settings, sessions, at=NOW)
    assert len(settle(clean_mail, STRANGER, 1)) == 1
    assert len(mailbox(clean_mail, AIDEUR)) == 1


def test_acceptance_hash_is_the_hash_of_the_mail_as_stored(clean_mail, settings, sessions):
    """The evidence names the very bytes in the club's mailbox: anyone can re-check it later."""
    mail = invitation(clean_mail, settings, sessions)
    deliver(clean_mail, settings, sessions, make_mail(STRANGER, "Re: Inscription", FILLED + "\n\n" + ACCEPT,
                                                      to=mail.reply_to[0]))
    with sessions() as session:
        acceptance = session.scalars(select(Acceptance)).one()
    connection = imaplib.IMAP4(clean_mail.imap_host, clean_mail.imap_port)
    try:
        connection.login(CLUB, PASSWORD)
        connection.select(settings.processed_folder, readonly=True)
        _, data = connection.uid("FETCH", "1:*", "(BODY.PEEK[])")
        raw = next(item[1] for item in data if isinstance(item, tuple) and b"Re: Inscription" in item[1])
    finally:
        connection.logout()
    assert acceptance.raw_sha256 == hashlib.sha256(raw).hexdigest()
    assert acceptance.message_id in raw.decode("ascii", "replace")
