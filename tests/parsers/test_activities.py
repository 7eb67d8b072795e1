"""Reading Aideur's #activite block and members' answers to an activity's mail (issue 17, point 1)."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from mailbot.parsers.activities import Answer, BlockError, answer_of, asks_for_list, parse_block, parse_duration

TODAY = date(2026, 12, 1)
LINES = ["type: conférence", "titre: La facture électronique en 2027", "date: 15/01/2027 14:00", "durée: 1h30",
         "visio: https://visio.exemple.fr/club", "places: 12", "participation: gratuit",
         "inscriptions jusqu'au: 12/01/2027", "compétences: facturation, comptabilité", "promotion: automatique",
         "Une heure et demie pour s'y préparer.", "date: ceci est du texte"]


def test_the_block_is_read_key_by_key_and_the_text_follows():
    block = parse_block(LINES, TODAY)
    assert not isinstance(block, BlockError)
    assert (block.kind, block.title, block.starts, block.duration_minutes) == (
        "conférence", "La facture électronique en 2027", datetime(2027, 1, 15, 14, 0), 90)
    assert block.place == "https://visio.exemple.fr/club" and block.places == 12 and block.fee == "gratuit"
    assert block.until == date(2027, 1, 12) and block.skills == "facturation, comptabilité" and block.auto_promote
    assert block.text == "Une heure et demie pour s'y préparer.\ndate: ceci est du texte"


@pytest.mark.parametrize(("line", "named"), [("places: beaucoup", "places"), ("date: bientôt", "date"),
                                             ("type: pique-nique", "type"), ("date: 15/01/2025 14:00", "passée"),
                                             ("participation: selon", "participation")])
def test_a_wrong_line_is_named(line, named):
    lines = [text for text in LINES if not text.startswith(line.split(":")[0] + ":")] + [line]
    error = parse_block([line, *lines], TODAY)
    assert isinstance(error, BlockError) and error.line == line and named in error.problem


def test_missing_fields_are_listed():
    error = parse_block(["titre: Atelier"], TODAY)
    assert isinstance(error, BlockError) and "date" in error.problem and "places" in error.problem


@pytest.mark.parametrize("text", ["Je m'inscris", "je m’inscris !", "Inscrivez-moi svp", "Je viens", "OK pour moi",
                                  "Oui je participe", "Présente", "oui", "Je prends la place"])
def test_booking_words(text):
    assert answer_of(text + "\n\nAlice") is Answer.BOOK


@pytest.mark.parametrize("text", ["Oui, mais seulement le matin", "je viens si je finis à temps",
                                  "Je m'inscris ? c'est payant ?", "Peut-être", "Bonjour", ""])
def test_conditional_or_unclear_answers_are_asked_again(text):
    assert answer_of(text) is Answer.UNCLEAR


@pytest.mark.parametrize(("text", "answer"), [("Annuler", Answer.CANCEL), ("Je me désiste", Answer.CANCEL),
                                              ("je ne pourrai pas venir", Answer.CANCEL),
                                              ("Plus intéressé", Answer.LEAVE),
                                              ("Je ne suis plus intéressée", Answer.LEAVE),
                                              ("Plus d'annonces", Answer.STOP), ("stop", Answer.STOP),
                                              ("Ne plus recevoir les annonces", Answer.STOP)])
def test_cancel_and_leave(text, answer):
    assert answer_of(text) is answer


def test_the_list_is_asked_by_one_word():
    assert asks_for_list("Activités", "") and asks_for_list("", "formations\n\nChloé")
    assert not asks_for_list("Question sur les activités du club de foot", "Bonjour")


def test_durations():
    assert parse_duration("2 h") == 120 and parse_duration("90 min") == 90 and parse_duration("1h30") == 90


def test_aideur_commands_are_read_with_the_wrong_line_named():
    from mailbot.parsers.commands import parse_aideur_reply

    reply = parse_aideur_reply("#formation\ntitre: X\ndate: 15/01/2027\nlieu: ici\nplaces: beaucoup\n", TODAY)
    [error] = reply.errors
    assert "#formation" in error.problem and "« places: beaucoup »" in error.problem
    reply = parse_aideur_reply("#formation\ntitre: X\ndate: 15/01/2027\nlieu: ici\nplaces: 3\nTexte.\n\n"
                               "Cordialement,\nAideur", TODAY)
    [command] = reply.commands
    block = parse_block(command.text.splitlines(), TODAY)
    assert not isinstance(block, BlockError) and block.kind == "formation" and block.text == "Texte."
    assert not reply.message.strip() and not reply.references
    [command] = parse_aideur_reply("#event cancel ac-2027-003 speaker ill", TODAY).commands
    assert dict(command.fields) == {"action": "annuler", "ref": "AC-2027-003", "reason": "speaker ill"}
    assert parse_aideur_reply("#activite places AC-2027-003", TODAY).errors


# Like a consent, only a plain yes books (stop 17: a stranger's attack booked "Je viens pas").
@pytest.mark.parametrize("text", [
    "Je viens pas", "Oui je viens peut être", "Oui normalement", "Ok merci pour l'info", "Inscription annulée",
    "Oui\nsauf s'il pleut", "Je m'inscris. Par ailleurs, je cherche un avocat.", "Oui, je viendrai si je peux",
    "Oui bonjour, je cherche un avocat pour un litige", "Je m'inscris ? C'est payant ?",
])
def test_only_a_plain_yes_books(text: str) -> None:
    assert answer_of(text) is Answer.UNCLEAR


@pytest.mark.parametrize("text", ["Bonjour,\nJe m'inscris", "Oui, avec plaisir !\nBonne journée\nAlice",
                                  "Bonjour Aideur,\n\nInscrivez-moi svp.\n\nMerci, Alice"])
def test_a_greeting_and_kind_words_around_a_booking(text: str) -> None:
    assert answer_of(text) is Answer.BOOK
