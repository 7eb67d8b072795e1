"""Reading polls (mailbot.parsers.polls): Aideur's #sondage block, and members' answers as people write them."""
from __future__ import annotations

from datetime import date, time

import pytest

from mailbot.parsers.polls import PollBlock, PollBlockError, read_answer, read_block
from mailbot.tokens import TokenSigner

DAYS = ["le mardi après-midi", "le jeudi après-midi", "le samedi matin"]
TODAY = date(2026, 11, 26)


@pytest.mark.parametrize(("text", "expected"), [
    ("2", 2), ("choix 2", 2), ("le 2", 2), ("2)", 2), ("2.", 2), ("n° 3", 3), ("Option 1 svp", 1),
    ("Je vote 3, merci !", 3), ("plutôt le jeudi", 2), ("Bonjour,\n\nSamedi matin pour moi.\n\nJean", 3),
    ("MARDI", 1), ("le 2\n\n> 1. le mardi après-midi\n> 3. le samedi matin", 2),
])
def test_a_clear_answer_names_one_choice(text, expected):
    assert read_answer(text, DAYS).choice == expected


@pytest.mark.parametrize("text", [
    "1 ou 2", "oui mais…", "Oui", "je ne sais pas", "les deux me vont", "4", "peut-être le jeudi", "",
    "mardi ou jeudi", "aucun", "12",
])
def test_an_unclear_answer_names_none(text):
    assert read_answer(text, DAYS).choice is None


def test_numbers_of_a_choice_are_its_words():
    dates = ["le 15 janvier", "le 22 janvier", "le 29 janvier"]
    assert read_answer("le 22 janvier", dates).choice == 2
    assert read_answer("1", dates).choice == 1
    assert read_answer("15 ou 22", dates).choice is None


def test_a_block_is_read_with_its_options():
    block = read_block(["question: Quel jour ?", "1: mardi", "2) jeudi", "3 - samedi", "jusqu'au: 15/01/2027 12:00",
                        "anonyme: non", "Résultats : membres", "compétences: comptabilité",
                        "activité: ac-2027-003", "", "Aideur"], TODAY)
    assert block == PollBlock(question="Quel jour ?", choices=("mardi", "jeudi", "samedi"), until=date(2027, 1, 15),
                              at=time(12, 0), anonymous=False, results_to="membres", skills="comptabilité",
                              activity_ref="AC-2027-003")
    default = read_block(["question: Quel jour ?", "1: mardi", "2: jeudi", "jusqu'au: 15/01/2027"], TODAY)
    assert isinstance(default, PollBlock) and default.anonymous and default.results_to == "aideur"


@pytest.mark.parametrize(("lines", "line", "words"), [
    (["question: Q ?", "1: a", "2: b", "jusqu'au: bientôt"], "jusqu'au: bientôt", "date de fin"),
    (["question: Q ?", "1: a", "2: b", "jusqu'au: 15/01/2027", "anonyme: peut-être"], "anonyme: peut-être", "oui"),
    (["question: Q ?", "1: a", "2: b", "jusqu'au: 15/01/2027", "résultats: le bureau"], "résultats: le bureau",
     "membres"),
    (["question: Q ?", "1: a", "2: b", "jusqu'au: 15/01/2027", "couleur: bleu"], "couleur: bleu", "clés"),
    (["question: Q ?", "1: a", "jusqu'au: 15/01/2027"], "", "deux choix"),
    (["1: a", "2: b", "jusqu'au: 15/01/2027"], "", "question"),
    (["question: Q ?", "1: a", "3: b", "jusqu'au: 15/01/2027"], "", "sans trou"),
    (["question: Q ?", "1: a", "2: b", "jusqu'au: 01/11/2026"], "jusqu'au: 01/11/2026", "passée"),
])
def test_a_wrong_block_names_its_line(lines, line, words):
    error = read_block(lines, TODAY)
    assert isinstance(error, PollBlockError) and error.line == line and words in error.problem


def test_ballot_keys_differ_per_voter_and_poll_and_need_the_secret():
    signer = TokenSigner([b"secret-one"])
    key = signer.ballot_keys(1, 7)[0]
    assert key != signer.ballot_keys(1, 8)[0] != signer.ballot_keys(2, 7)[0]
    assert TokenSigner([b"secret-two"]).ballot_keys(1, 7)[0] != key
    assert "7" not in key.split("-") and len(key) == 64
    # After a key rotation the old key still finds the ballot (so a change of vote replaces it).
    assert TokenSigner([b"secret-two", b"secret-one"]).ballot_keys(1, 7)[1] == key


# A choice named to be excluded is no vote for it (stop 17: "Pas le mardi" counted as a vote for mardi).
@pytest.mark.parametrize("text", ["Pas le mardi", "Tout sauf le 2", "Je préfère éviter le mardi",
                                  "Je ne peux pas le jeudi", "Surtout pas samedi", "Mardi impossible pour moi",
                                  "Hormis le samedi", "Le jeudi est exclu"])
def test_an_excluded_choice_is_no_vote(text: str) -> None:
    assert read_answer(text, DAYS).choice is None
