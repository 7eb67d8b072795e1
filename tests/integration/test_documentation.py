"""The club's documentation and members' suggestions by mail (issue 17, points 3 and 4), end to end over the real
servers: documents by number and by word, only to members and only at the address on record, the size limit,
Aideur's #document with its file, suggestions recorded, acknowledged, forwarded and listed in the weekly digest."""
from __future__ import annotations

import dataclasses
from datetime import datetime
from email.message import EmailMessage

import pytest
from sqlalchemy import func, select

from mailbot.models import Document, Suggestion, Ticket
from mailbot.tokens import ROLE_AIDEUR, SCOPE_COMMAND, Token, TokenSigner
from mailbot.workflows.documents import add_document
from tests.helpers import (
    AIDEUR,
    ALICE,
    BRUNO,
    CHLOE,
    CLUB,
    STRANGER,
    add_members,
    mailbox,
    make_mail,
    run_cycle,
    settle,
    smtp_send,
    wait_mail,
)
from tests.integration.aideur_clients import reply_to_notification

GUIDE = b"%PDF-1.4 guide de la facture electronique " + bytes(range(256)) * 4
STATUTS = b"%PDF-1.4 modele de statuts " + bytes(range(256)) * 2


def words(message) -> str:  # type: ignore[no-untyped-def]
    return " ".join(message.text.split())


def library(sessions, settings, *extra: tuple[str, str, str, bytes]) -> dict[str, int]:  # type: ignore
    """Two documents (and `extra`: rubrique, titre, mots-clés, bytes); returns their numbers by title."""
    add_members(sessions)
    docs = [("Comptabilité", "Guide de la facture électronique", "TVA, e-invoicing", GUIDE),
            ("Juridique", "Modèle de statuts de SAS", "création", STATUTS), *extra]
    numbers = {}
    with sessions.begin() as session:
        for rubrique, titre, mots, data in docs:
            doc = add_document(session, data=data, filename=f"{titre[:12].lower().replace(' ', '-')}.pdf",
                               rubrique=rubrique, titre=titre, mots_cles=mots, content_type="application/pdf",
                               added_by="operator", now=datetime(2026, 11, 20, 9, 0), max_bytes=10**7)
            numbers[titre] = doc.id
    return numbers


def attachments(message) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    return {a.filename: a.payload for a in message.attachments}


def test_documents_by_number_and_by_word_only_to_members(clean_mail, settings, sessions):
    numbers = library(sessions, settings)
    guide, statuts = numbers["Guide de la facture électronique"], numbers["Modèle de statuts de SAS"]
    smtp_send(clean_mail, make_mail(ALICE, "Documentation", "Bonjour,\n\nAlice"))
    smtp_send(clean_mail, make_mail(BRUNO, "Bonjour", "Documentation FACTURES\n\nBruno Petit"))
    smtp_send(clean_mail, make_mail(STRANGER, "doc 1", "Bonjour"))
    wait_mail(clean_mail, CLUB, 3)
    report = run_cycle(settings, sessions)
    assert dict(report.actions) == {"documentation": 3}

    [listing] = settle(clean_mail, ALICE, 1)
    text = words(listing)
    assert f"n° {guide} — Guide de la facture électronique" in text and "Comptabilité" in text
    assert f"n° {statuts} — Modèle de statuts de SAS" in text and "Juridique" in text
    assert "« doc" in text and listing.attachments == []

    [sent] = settle(clean_mail, BRUNO, 1)  # by word: plural, capitals and accents aside
    assert list(attachments(sent).values()) == [GUIDE] and "pièce jointe" in words(sent)

    [refusal] = settle(clean_mail, STRANGER, 1)
    assert refusal.attachments == [] and "réservée à ses membres" in words(refusal)
    assert "Guide" not in words(refusal) and "« inscription »" in words(refusal)

    # Alice answers the list with a number: her reply address brings it back to her.
    smtp_send(clean_mail, reply_to_notification(listing, f"doc {statuts}", "thunderbird", sender=ALICE,
                                                name="Alice Martin"))
    wait_mail(clean_mail, CLUB, 1)
    report = run_cycle(settings, sessions)
    assert dict(report.actions) == {"documentation": 1}
    second = settle(clean_mail, ALICE, 2)[1]
    assert list(attachments(second).values()) == [STATUTS]
    smtp_send(clean_mail, reply_to_notification(second, "Merci beaucoup !", "gmail", sender=ALICE,
                                                name="Alice Martin"))
    wait_mail(clean_mail, CLUB, 1)
    assert dict(run_cycle(settings, sessions).actions) == {"ignore": 1}  # a thank-you opens nothing
    with sessions() as session:
        assert session.scalar(select(func.count(Ticket.id))) == 0  # none of it is a request
    assert mailbox(clean_mail, AIDEUR) == []


@pytest.mark.sqlite_only
def test_a_forged_sender_never_gets_a_document(clean_mail, settings, sessions):
    library(sessions, settings)
    message = make_mail(ALICE, "doc 1", "doc 1", Reply_To=STRANGER)
    smtp_send(clean_mail, message.as_bytes(), sender=STRANGER, recipients=[CLUB])
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(settings, sessions)
    [sent] = settle(clean_mail, ALICE, 1)  # the member's own mailbox, never the forger's
    assert list(attachments(sent).values()) == [GUIDE]
    assert mailbox(clean_mail, STRANGER) == []


@pytest.mark.sqlite_only
def test_beyond_the_size_limit_the_member_and_aideur_are_told(clean_mail, settings, sessions):
    big = b"x" * 6000
    numbers = library(sessions, settings, ("Comptabilité", "Grand livre annoté", "facture", big))
    small = dataclasses.replace(settings, doc_max_bytes=5000)
    smtp_send(clean_mail, make_mail(ALICE, "Documentation facture", "Merci"))
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(small, sessions)
    [sent] = settle(clean_mail, ALICE, 1)
    text = words(sent)
    assert list(attachments(sent).values()) == [GUIDE]  # the one that fits
    assert f"n° {numbers['Grand livre annoté']} — Grand livre annoté" in text and "trop lourd" in text
    assert "Aideur en est prévenu" in text
    [note] = settle(clean_mail, AIDEUR, 1)
    assert "Alice Martin" in note.subject and "Grand livre annoté" in words(note) and note.attachments == []


@pytest.mark.sqlite_only
def test_a_word_that_matches_nothing_says_so_with_the_sections(clean_mail, settings, sessions):
    library(sessions, settings)
    smtp_send(clean_mail, make_mail(ALICE, "documentation urbanisme", ""))
    smtp_send(clean_mail, make_mail(BRUNO, "Documentation de mon logiciel introuvable, qui peut m'aider ?",
                                    "Bonjour, je cherche la documentation de mon logiciel de paie."))
    smtp_send(clean_mail, make_mail(CHLOE, "Doc urgente à relire", "Merci de me dire qui peut relire mon bail."))
    with_file = make_mail(CHLOE, "Doc", "Doc ci-jointe pour mon dossier")
    with_file.add_attachment(b"%PDF-1.4 bail", maintype="application", subtype="pdf", filename="bail.pdf")
    smtp_send(clean_mail, with_file)
    wait_mail(clean_mail, CLUB, 4)
    report = run_cycle(settings, sessions)
    # A question, "doc" with words no document answers to, a file sent: requests, not the documentation.
    assert dict(report.actions) == {"documentation": 1, "new-request": 3}
    [answer] = settle(clean_mail, ALICE, 1)
    text = words(answer)
    assert "Aucun document ne correspond à « urbanisme »" in text and "Juridique" in text
    assert answer.attachments == []


def _with_file(subject: str, body: str, to: str, files: list[tuple[str, bytes]]) -> EmailMessage:
    message = make_mail(AIDEUR, subject, body, to=to)
    for name, data in files:
        message.add_attachment(data, maintype="application", subtype="pdf", filename=name)
    return message


@pytest.mark.sqlite_only
def test_aideur_adds_a_document_by_mail_and_errors_get_the_help(clean_mail, settings, sessions):
    add_members(sessions)
    command = TokenSigner(settings.secret_keys).plus_address(CLUB, Token(SCOPE_COMMAND, 0, ROLE_AIDEUR))
    first = _with_file("Nouveau document", "#document\nrubrique: Comptabilité\ntitre: Guide TVA\n"
                       "mots-clés: taxe, déclaration\n\nAideur", command, [("tva.pdf", GUIDE)])
    # His signature's logo, inline: not a second document.
    first.add_attachment(b"\x89PNG\r\n\x1a\nlogo", maintype="image", subtype="png", filename="logo.png",
                         disposition="inline")
    smtp_send(clean_mail, first)
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(settings, sessions)
    [added] = settle(clean_mail, AIDEUR, 1)
    with sessions() as session:
        doc = session.scalars(select(Document)).one()
        assert (doc.rubrique, doc.titre, doc.mots_cles, doc.filename, doc.data, doc.added_by) == (
            "Comptabilité", "Guide TVA", "taxe, déclaration", "tva.pdf", GUIDE, AIDEUR)
    assert f"n° {doc.id}" in added.subject and f"« doc {doc.id} »" in words(added)
    assert mailbox(clean_mail, ALICE) == []  # nothing to members, no OUI asked

    smtp_send(clean_mail, _with_file("Doc", "#doc rubrique: Juridique titre: Statuts", command, []))
    smtp_send(clean_mail, _with_file("Doc", "#document\nrubrique: Juridique", command, [("s.pdf", STATUTS)]))
    smtp_send(clean_mail, _with_file("Doc", "#document\nrubrique: Juridique\ntitre: Statuts", command,
                                     [("a.pdf", STATUTS), ("b.pdf", GUIDE)]))
    wait_mail(clean_mail, CLUB, 3)
    run_cycle(settings, sessions)
    errors = settle(clean_mail, AIDEUR, 4)[1:]
    problems = sorted(words(e) for e in errors)
    assert len(problems) == 3
    assert any("aucun fichier joint" in p.lower() for p in problems)
    assert any("le titre" in p for p in problems)
    assert any("2 fichiers joints" in p for p in problems)
    assert all("#aide" in p or "Commandes" in p for p in problems)
    with sessions() as session:
        assert session.scalar(select(func.count(Document.id))) == 1


@pytest.mark.sqlite_only
def test_suggestions_are_recorded_acknowledged_forwarded_and_in_the_digest(clean_mail, settings, sessions):
    add_members(sessions)
    smtp_send(clean_mail, make_mail(ALICE, "Une idée", "Suggestion : des ateliers le soir, après 18 h, pour ceux "
                                    "qui travaillent.\n\nAlice"))
    smtp_send(clean_mail, make_mail(BRUNO, "Idée de projet", "Idée de projet : je veux créer ma société, qui peut "
                                    "m'aider ?\n\nBruno"))
    wait_mail(clean_mail, CLUB, 2)
    report = run_cycle(settings, sessions)
    assert dict(report.actions) == {"suggestion": 1, "new-request": 1}
    [ack] = settle(clean_mail, ALICE, 1)
    assert ack.subject == "Merci pour votre suggestion" and "ateliers le soir" in words(ack)
    notes = settle(clean_mail, AIDEUR, 2)
    forwarded = next(n for n in notes if "Suggestion" in n.subject)
    assert "Alice Martin" in forwarded.subject and "des ateliers le soir, après 18 h" in words(forwarded)
    with sessions() as session:
        assert [t.member.email for t in session.scalars(select(Ticket))] == [BRUNO]
        assert session.scalar(select(func.count(Suggestion.id))) == 1

    monday = datetime(2026, 11, 30, 8, 30)  # 9 h 30 in Paris, the digest's day and hour
    run_cycle(settings, sessions, at=monday)
    digest = next(m for m in settle(clean_mail, AIDEUR, 3) if "bilan de la semaine" in m.subject)
    text = words(digest)
    assert "Suggestions des membres (1)" in text and "Alice Martin" in text and "ateliers le soir" in text


@pytest.mark.sqlite_only
def test_a_mail_to_the_suggestion_address_is_a_suggestion(clean_mail, settings, sessions):
    add_members(sessions)
    address = "aide+suggestion@club.test"
    with_address = dataclasses.replace(settings, suggestion_address=address)
    smtp_send(clean_mail, make_mail(ALICE, "Les réunions", "Et si les réunions commençaient plus tôt ?", to=address))
    smtp_send(clean_mail, make_mail(STRANGER, "Suggestion : un site", "Bonjour", to=address))
    wait_mail(clean_mail, CLUB, 2)
    report = run_cycle(with_address, sessions)
    assert dict(report.actions) == {"suggestion": 1, "non-member": 1}  # a stranger gets the invitation
    assert settle(clean_mail, ALICE, 1)[0].subject == "Merci pour votre suggestion"
