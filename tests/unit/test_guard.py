"""mailbot.guard: the anonymity check on a mail as its reader sees it (subject, sender's name, text, HTML)."""
from __future__ import annotations

import pytest

from mailbot.compose import Rendered
from mailbot.guard import mail_leaks, readable_parts
from mailbot.privacy import ANY_EMAIL, FIRST_NAME, LAST_NAME, Identity

REQUESTER = Identity("Alice", "Martin", "Martin Conseil", "alice@exemple.fr", "06 12 34 56 78")


def whats(rendered: Rendered, **kwargs) -> set[str]:  # type: ignore[no-untyped-def]
    return {leak.what for leak in mail_leaks(readable_parts(rendered, sender_name="Club Aide"), REQUESTER, **kwargs)}


def test_every_part_a_person_reads_is_checked() -> None:
    assert whats(Rendered("Appel : Mme Mar\u00adtin", "Bonjour,")) == {LAST_NAME}
    assert whats(Rendered("Appel", "Bonjour,", "<p>Voir <b>Mar</b>tin</p>")) == {LAST_NAME}
    assert whats(Rendered("Appel", "Bonjour,", "<p>&#77;artin</p>")) == {LAST_NAME}  # an HTML entity
    assert whats(Rendered("Appel", "Bonjour,")) == set()


def test_the_recipients_own_data_is_not_a_leak_but_aideurs_text_is_checked_strictly() -> None:
    alice_helper = Identity("Alice", "Durand", email="alice.durand@membres.test")
    mail = Rendered("Appel", "Bonjour Alice,\n\nUn membre cherche un avocat.\n")
    assert whats(mail, recipient=alice_helper) == set()
    assert FIRST_NAME in whats(mail)  # to anyone else, "Alice" would be the requester's first name (and e-mail)
    assert whats(Rendered("Appel", "Bonjour Alice,\n\n> Alice cherche un avocat.\n"), recipient=alice_helper,
                 written="Alice cherche un avocat.") >= {FIRST_NAME}


def test_the_clubs_own_addresses_are_not_leaks() -> None:
    mail = Rendered("Appel", "Répondez à aide+a1-xyz@club.test ; ou écrivez à bob@ailleurs.fr")
    assert {leak.found for leak in mail_leaks([mail.body], REQUESTER, own_domain="club.test")} == {"bob@ailleurs.fr"}
    assert whats(mail, own_domain="club.test") == {ANY_EMAIL}


def test_a_recipient_whose_name_merely_contains_the_requesters_is_no_excuse() -> None:
    """A helper called Martine Leroy knows her own name, not the requester's "Martin": whole words only."""
    martine = Identity("Martine", "Leroy", email="martine.leroy@membres.test")
    assert LAST_NAME in whats(Rendered("Appel", "Bonjour Martine,\n\nM. Martin cherche un avocat.\n"),
                              recipient=martine)
    assert whats(Rendered("Appel", "Bonjour Martine,\n\nUn membre cherche un avocat.\n"), recipient=martine) == set()


@pytest.mark.parametrize("written", ["H&eacute;l&egrave;ne", "&#72;&#233;l&#232;ne", "&#x48;&#xe9;l&#xe8;ne",
                                     "H=C3=A9l=C3=A8ne", "HÃ©lÃ¨ne"])
def test_a_name_left_in_an_encoding_is_read_as_a_reader_reads_it(written: str) -> None:
    """Pasted from a web page or a raw mail: a reader still makes out the name through the entities, the
    quoted-printable or the UTF-8 read as Latin-1."""
    leaks = mail_leaks([f"Bonjour, voyez {written} demain."], Identity(first_name="Hélène", last_name="Dupré"))
    assert [leak.what for leak in leaks] == [FIRST_NAME]


def test_encodings_without_the_person_are_no_leak() -> None:
    assert mail_leaks(["Pain &amp; croissants, =3D 12 =E2=82=AC, café Ã  volonté."],
                      Identity(first_name="Hélène", last_name="Dupré")) == []
