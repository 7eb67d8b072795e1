"""Whom a mail was written to (issue 13, point 1: copies are not requests), read from real header bytes: the club in
To, in Cc only, blind-copied, or nobody named; display names, case, plus tags, folded headers; and the subject as
a person compares two of them (point 7: a reminder with the same subject is the same request)."""
from __future__ import annotations

import pytest

from mailbot.parsers import parse_mail
from mailbot.parsers.recipients import (
    Addressing,
    addressing,
    is_club_address,
    is_copy,
    is_reply_all,
    others,
    subject_key,
)

CLUBS = ("aide@club.test",)


def mail(headers: bytes, *, sender: bytes = b"David Roux <david@membres.test>") -> bytes:
    return (b"From: " + sender + b"\r\n" + headers + b"Subject: Devis\r\nMessage-ID: <m1@membres.test>\r\n"
            b"Date: Thu, 03 Dec 2026 10:00:00 +0100\r\n\r\nBonjour.\r\n")


@pytest.mark.parametrize("address, expected", [
    ("aide@club.test", True),
    ("AIDE@Club.Test", True),
    ("aide+t42m-abcdef@club.test", True),  # a reply address
    ("Aide+c0a-0123@CLUB.test", True),  # the command address
    ("aide@club.test.evil.example", False),
    ("aideur@club.test", False),
    ("aide@autre.test", False),
    ("xaide@club.test", False),
    ("", False),
    ("aide", False),
])
def test_club_address_in_any_case_and_with_any_tag(address, expected):
    assert is_club_address(address, CLUBS) is expected


@pytest.mark.parametrize("headers, expected", [
    (b"To: aide@club.test\r\n", Addressing.TO),
    (b"To: \"Club Aide\" <AIDE@CLUB.TEST>\r\n", Addressing.TO),
    # written to the club and to five others: still written to the club
    (b"To: a@x.test, b@x.test, aide@club.test, c@x.test, d@x.test, e@x.test\r\n", Addressing.TO),
    (b"To: aide@club.test\r\nCc: alice@membres.test\r\n", Addressing.TO),
    (b"To: alice@membres.test\r\nCc: aide@club.test\r\n", Addressing.CC),
    (b"To: aideur@club.test\r\nCc: \"Le Club\" <aide@club.test>\r\n", Addressing.CC),  # Aideur in To
    (b"To: alice@membres.test\r\nCc: bruno@membres.test,\r\n  \"Club, Aide\"\r\n  <Aide+info@Club.test>\r\n",
     Addressing.CC),  # folded Cc, comma in a display name, tag and case
    (b"To: alice@membres.test\r\n", Addressing.BLIND),  # the club in Bcc
    (b"Delivered-To: aide@club.test\r\nX-Original-To: aide@club.test\r\nTo: alice@membres.test\r\n",
     Addressing.BLIND),  # delivered to the club, not written to it
    (b"To: alice@membres.test\r\nReply-To: aide@club.test\r\n", Addressing.BLIND),  # Reply-To is not a recipient
    (b"To: undisclosed-recipients:;\r\n", Addressing.NONE),
    (b"", Addressing.NONE),
])
def test_addressing(headers, expected):
    parsed = parse_mail(mail(headers))
    assert addressing(parsed, CLUBS) is expected
    assert is_copy(parsed, CLUBS) is (expected in (Addressing.CC, Addressing.BLIND))


def test_others_are_the_people_besides_the_club_and_the_sender():
    parsed = parse_mail(mail(b"To: Alice <ALICE@membres.test>, aide@club.test\r\nCc: david@membres.test, "
                             b"alice@membres.test, aide+t1m-x@club.test\r\n"))
    assert others(parsed, CLUBS) == ("alice@membres.test",)


def test_reply_all_needs_a_thread_and_other_people():
    threaded = b"In-Reply-To: <a1@membres.test>\r\nReferences: <a1@membres.test>\r\n"
    assert is_reply_all(parse_mail(mail(b"To: alice@membres.test, aide@club.test\r\n" + threaded)), CLUBS)
    assert not is_reply_all(parse_mail(mail(b"To: aide@club.test\r\n" + threaded)), CLUBS)  # only to the club
    assert not is_reply_all(parse_mail(mail(b"To: alice@membres.test, aide@club.test\r\n")), CLUBS)  # no thread


@pytest.mark.parametrize("subject", [
    "Devis toiture", "RE: Devis toiture", "RE: RE: Devis toiture", "TR : Re: devis TOITURE", "Fwd: Devis toiture",
    "Relance : Devis toiture", "2e relance - Devis toiture", "RE: Relance : [CA-2026-0001] Devis toiture",
    "[EXTERNE] Re: Devis toiture !", "  devis   toiture ", "Dévis toiture", "Rappel : devis toiture...",
])
def test_subject_key_reads_as_a_person(subject):
    assert subject_key(subject) == subject_key("Devis toiture") == "devis toiture"


@pytest.mark.parametrize("subject", ["Devis toiture 2", "Devis", "Toiture"])
def test_subject_key_tells_other_subjects_apart(subject):
    assert subject_key(subject) != subject_key("Devis toiture")


@pytest.mark.parametrize("subject", ["", "RE:", "Question", "Re: Bonjour !", "Demande", "(sans objet)", "[CA] "])
def test_subjects_that_say_nothing_match_nothing(subject):
    assert subject_key(subject) == ""


def test_an_alias_of_the_club_counts_as_the_club():
    clubs = ("aide@club.test", "contact@club.test")
    parsed = parse_mail(mail(b"To: \"Contact\" <CONTACT+x@club.test>\r\n"))
    assert addressing(parsed, clubs) is Addressing.TO and addressing(parsed, CLUBS) is Addressing.BLIND


# Attack (issue 13, point 7): a reminder says so before or after the subject, in its own words.
@pytest.mark.parametrize("subject", [
    "Devis toiture (relance)", "Devis toiture - relance", "Devis toiture (2e relance)", "Devis toiture – rappel",
    "Nouvelle relance : Devis toiture", "Relance n°2 : Devis toiture", "Devis toiture - URGENT",
    "Devis toiture (urgent)", "Devis toiture [relance]", "Dernière relance - Devis toiture",
    "Suite à ma demande : Devis toiture", "RE: Devis toiture (relance) !",
])
def test_a_reminders_words_around_the_subject_are_not_the_subject(subject: str) -> None:
    assert subject_key(subject) == subject_key("Devis toiture") == "devis toiture"


@pytest.mark.parametrize("subject", ["Relance de mes clients impayés", "Rappel des cotisations URSSAF",
                                     "Devis toiture urgent ou pas", "Suite de ma formation"])
def test_a_subject_about_reminders_keeps_its_words(subject: str) -> None:
    assert subject_key(subject) not in ("", "devis toiture") and len(subject_key(subject).split()) >= 3


OWN_DOMAIN = ("aide@club.test", "@club.test", "!aideur@club.test")


@pytest.mark.parametrize("headers, clubs, expected", [
    # A public address of the club's own domain forwarded to its mailbox (contact@ → aide@), unset in
    # MAILBOT_CLUB_ALIASES: still written to the club, never taken for a blind copy.
    (b"To: Club Aide <contact@club.test>\r\n", OWN_DOMAIN, Addressing.TO),
    (b"To: alice@membres.test\r\nCc: bureau@CLUB.test\r\n", OWN_DOMAIN, Addressing.CC),
    # Aideur at the club's domain is a person: the club only in Cc of a mail to him is a copy.
    (b"To: alice@membres.test, Aideur <aideur@club.test>\r\nCc: aide@club.test\r\n", OWN_DOMAIN, Addressing.CC),
    # A club whose address is at a public provider: another address there is somebody else.
    (b"To: alice.martin@gmail.com\r\n", ("club.aide@gmail.com",), Addressing.BLIND),
    (b"To: Club.Aide@gmail.com\r\n", ("club.aide@gmail.com",), Addressing.TO),
])
def test_an_address_of_the_clubs_own_domain_is_the_club(headers, clubs, expected):
    """`clubs` as config.Settings.club_addresses gives them (see test_config)."""
    parsed = parse_mail(mail(headers))
    assert addressing(parsed, clubs) is expected
    assert set(others(parsed, clubs)) <= {"alice.martin@gmail.com", "alice@membres.test", "aideur@club.test"}
