"""Which mails ask for the documentation, which are suggestions, and how #document reads its lines (issue 17,
points 3 and 4): pure logic, no database."""
from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from mailbot.commands import REGISTRY
from mailbot.commands.document import read_fields
from mailbot.parsers.commands import Command, CommandError, parse_aideur_reply
from mailbot.workflows.documents import DocRequest, _fit, asked_for
from mailbot.workflows.suggestions import is_suggestion


@pytest.mark.parametrize(("subject", "text", "expected"), [
    ("Documentation", "", DocRequest()),
    ("", "documentation\n\nAlice", DocRequest()),
    ("Re: la documentation", "", DocRequest()),
    ("", "Documentation, merci", DocRequest()),
    ("", "Documentation du Club Aide svp", DocRequest()),
    ("doc 4", "", DocRequest(numbers=(4,))),
    ("", "Doc n° 4", DocRequest(numbers=(4,))),
    ("", "doc 2 et 5", DocRequest(numbers=(2, 5))),
    ("", "docs 2, 5, 2", DocRequest(numbers=(2, 5))),
    ("", "Documentation : facture électronique", DocRequest(words="facture electronique")),
    ("Bonjour", "DOCUMENTATION FACTURES", DocRequest(words="factures")),
    ("", "doc statuts", DocRequest(words="statuts", short=True)),
])
def test_what_asks_for_the_documentation(subject, text, expected):
    assert asked_for(subject, text) == expected


@pytest.mark.parametrize(("subject", "text"), [
    ("Documentation de mon logiciel introuvable, qui peut m'aider ?", ""),
    ("Question", "La documentation de mon logiciel de paie est en anglais et je ne comprends rien du tout ici"),
    ("Document à signer", ""),
    ("Doctorat en droit", ""),
    ("", "Documents comptables de fin d'année"),
    ("Besoin d'aide", "Bonjour, je cherche un comptable."),
])
def test_what_does_not(subject, text):
    assert asked_for(subject, text) is None


@pytest.mark.parametrize(("subject", "text"), [
    ("Suggestion", "Des ateliers le soir."),
    ("Une idée", "Suggestion : des ateliers le soir"),
    ("", "Idée : un annuaire papier"),
    ("", "Idée pour le club : un pot de fin d'année"),
    ("", "Une petite suggestion : des visios"),
    ("Re: Suggestion d'amélioration", ""),
    ("", "Suggestion pour les réunions du jeudi"),
    ("", "Suggestion de formation : Excel avancé"),
    ("Idée", "Bonjour"),
    ("", "IDÉE - un forum des membres"),
    ("", "Suggestion : pourquoi ne pas organiser des ateliers le soir ?"),  # the label says it
])
def test_suggestions(subject, text):
    assert is_suggestion(subject, text)


@pytest.mark.parametrize(("subject", "text"), [
    ("Idée de projet", "Idée de projet : je veux créer ma société, qui peut m'aider ?"),
    ("Suggestion de comptable à Lyon ?", ""),
    ("Besoin", "J'ai une idée de création d'entreprise et besoin de conseils"),
    ("Idées de cadeaux clients", "Bonjour, auriez-vous des contacts ?"),
    ("Devis", "Bonjour, une suggestion serait la bienvenue pour mon devis."),
])
def test_not_suggestions(subject, text):
    assert not is_suggestion(subject, text)


def test_document_fields_on_one_line_or_below():
    assert read_fields("rubrique: Comptabilité titre: Guide de la TVA") == {
        "rubrique": "Comptabilité", "titre": "Guide de la TVA"}
    assert read_fields("\nRubrique : Juridique\nTitre = Statuts, modèle\nMots-clés: SAS, création") == {
        "rubrique": "Juridique", "titre": "Statuts, modèle", "mots-cles": "SAS, création"}


def test_document_command_is_quiet_and_needs_its_title():
    command = REGISTRY["document"]
    assert command.quiet and not command.needs_ticket
    reply = parse_aideur_reply("#doc\nrubrique: Juridique\ntitre: Statuts\n\nAideur", date(2026, 11, 26))
    assert [c.name for c in reply.commands] == ["document"] and not reply.errors
    assert isinstance(reply.commands[0], Command) and reply.commands[0].fields["titre"] == "Statuts"
    missing = parse_aideur_reply("#document rubrique: Juridique", date(2026, 11, 26))
    assert missing.errors and isinstance(missing.errors[0], CommandError) and "le titre" in missing.errors[0].problem


def test_what_fits_in_one_mail():
    docs = [SimpleNamespace(id=n, size=size) for n, size in ((1, 3000), (2, 9000), (3, 1500), (4, 1000))]
    attached, too_big, later = _fit(docs, 5000)  # type: ignore[arg-type]
    assert [d.id for d in attached] == [1, 3] and [d.id for d in too_big] == [2] and [d.id for d in later] == [4]
