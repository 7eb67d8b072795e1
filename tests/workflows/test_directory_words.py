"""When a mail asks for the members' directory (mailbot.workflows.directory.asked_for): table-driven."""
from __future__ import annotations

import pytest

from mailbot.workflows.directory import asked_for


@pytest.mark.parametrize(("subject", "text", "skill"), [
    ("Annuaire", "Bonjour,\nMerci", ""),
    ("annuaire", "", ""),
    ("ANNUAIRE DES MEMBRES", "", ""),
    ("Question", "annuaire comptabilité\n\nAlice", "comptabilité"),
    ("", "Annuaire : paie", "paie"),
    ("", "L'annuaire", ""),
    ("Re: annuaire droit social", "", "droit social"),
])
def test_the_directory_is_asked_for(subject: str, text: str, skill: str) -> None:
    assert asked_for(subject, text) == skill


@pytest.mark.parametrize(("subject", "text"), [
    ("Annuaire de la mairie : où le trouver ?", ""),
    ("Question", "Je cherche l'annuaire des entreprises du bâtiment de la région pour prospecter, qui l'a ?"),
    ("Demande", "Bonjour,\nOù trouver un annuaire des notaires ?"),
    ("Mon profil", "modifier"),
])
def test_a_request_that_mentions_a_directory_is_not_the_directory(subject: str, text: str) -> None:
    assert asked_for(subject, text) is None


@pytest.mark.parametrize(("written", "stored"), [
    ("e-mail", "e-mail"), ("Courriel et téléphone", "e-mail, téléphone"), ("tel", "téléphone"),
    ("mon portable", "téléphone"), ("aucune", "aucune"), ("Rien.", "aucune"),
    ("tout sauf le téléphone", None), ("pas le mail", None), ("oui", None),
])
def test_the_contact_fields_a_member_shows_in_the_directory(written: str, stored: str | None) -> None:
    from mailbot.parsers.registration import directory_contacts, parse_form

    assert directory_contacts(written) == stored
    form = parse_form(f"Coordonnées dans l'annuaire : {written}", f"Coordonnées dans l'annuaire : {written}")
    assert form.values.get("directory_contacts") == stored
