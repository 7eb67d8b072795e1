"""read_consent: the answer to "may we give your details to …?", where an unclear answer must never count as yes."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailbot.parsers.consent import ConsentAnswer, ConsentReading, qualifier_of, read_consent

YES, NO, UNCLEAR, RESTRICTED = ConsentAnswer.YES, ConsentAnswer.NO, ConsentAnswer.UNCLEAR, ConsentAnswer.RESTRICTED

# Our question as the templates word it (accord_demandeur.j2 / accord_intervenant.j2), quoted by the reply.
QUESTION = ("Pour que vous puissiez vous parler, nous aimerions lui transmettre vos\n"
            "coordonnées (nom, téléphone, e-mail) et vous transmettre les siennes.\n"
            "Êtes-vous d'accord ? Répondez simplement à ce mail par OUI ou par NON.\n"
            "Rien ne sera transmis sans l'accord écrit de chacun de vous deux.")
QUOTED = "\n".join("> " + line for line in QUESTION.splitlines())
ATTRIBUTION = "Le lun. 14 déc. 2026 à 09:12, Club Aide <club@example.org> a écrit :"
OUTLOOK = ("De : Club Aide <club@example.org>\nEnvoyé : lundi 14 décembre 2026 09:12\nÀ : Jean Dupont\n"
           "Objet : [CA-2026-0042] Un membre peut vous aider : êtes-vous d'accord ?\n\n" + QUESTION)
SIGNATURE = "-- \nJean Dupont\n06 12 34 56 78"

ANSWERS: list[tuple[str, ConsentAnswer]] = [
    # Plain yes, in the words members use.
    ("oui", YES),
    ("Oui", YES),
    ("OUI", YES),
    ("Oui, d'accord", YES),
    ("j'accepte", YES),
    ("J\u2019accepte volontiers", YES),
    ("J accepte", YES),
    ("ok pour moi", YES),
    ("OK", YES),
    ("d'accord", YES),
    ("D'accord !", YES),
    ("bien sûr", YES),
    ("bien sur", YES),
    ("Avec plaisir !", YES),
    ("volontiers", YES),
    ("pas de problème", YES),
    ("Pas de probleme", YES),
    ("aucun problème", YES),
    ("Aucun problème pour moi, il peut me contacter.", YES),
    ("c'est d'accord", YES),
    ("je suis d'accord", YES),
    ("Je suis d’accord pour que vous transmettiez mes coordonnées à cette personne.", YES),
    ("oui bien sûr, transmettez", YES),
    ("yes", YES),
    ("Oui, merci !", YES),
    ("oui !!!", YES),
    ("Oui 👍", YES),
    ("Pas de soucis 😊", YES),
    ("pas de souci", YES),
    ("je n'ai pas d'objection", YES),
    ("Je n'ai aucune objection.", YES),
    ("sans objection", YES),
    ("Je n'y vois pas d'inconvénient", YES),
    ("Ça ne me pose aucun souci", YES),
    ("Oui, sans problème", YES),
    ("Mais oui, bien sûr !", YES),
    ("Finalement, oui", YES),
    ("Oui oui", YES),
    ("Oui je veux bien", YES),
    ("Ça me va", YES),
    ("Aucun souci, vous pouvez lui transmettre mes coordonnées.", YES),
    ("oui, pas de souci, voici mon numéro : 06 12 34 56 78", YES),
    # Greetings, thanks and signatures around the yes.
    ("Bonjour,\n\nOui, d'accord.\n\nCordialement,\nJean", YES),
    ("Bonjour Aideur,\noui", YES),
    ("Bonsoir Madame, j'accepte", YES),
    ("Bonjour oui", YES),
    ("Bonjour,\nJe vous remercie pour votre message.\nOui, je suis d'accord.", YES),
    ("Merci pour votre message. Oui, c'est d'accord.", YES),
    ("Oui\n" + SIGNATURE, YES),
    ("Oui\nCordialement\nJean Dupont\nTél. 06 12 34 56 78", YES),
    ("Oui\n\n" + QUOTED, YES),
    ("Oui, d'accord.\n\n" + ATTRIBUTION + "\n" + QUOTED, YES),
    ("Oui\n\n" + OUTLOOK, YES),
    ("Oui\n\nEnvoyé de mon iPhone\n\n" + QUOTED, YES),
    (ATTRIBUTION + "\n" + QUOTED + "\n\nOui, avec plaisir.", YES),  # bottom-posted
    # Plain no.
    ("non", NO),
    ("Non.", NO),
    ("NON MERCI", NO),
    ("non merci", NO),
    ("je préfère pas", NO),
    ("je prefere ne pas", NO),
    ("je préfère ne pas", NO),
    ("pas pour l'instant", NO),
    ("Pas pour le moment, merci.", NO),
    ("je refuse", NO),
    ("je ne suis pas d'accord", NO),
    ("pas d'accord", NO),
    ("non, désolé", NO),
    ("finalement non", NO),
    ("Finalement, non.", NO),
    ("je retire mon accord", NO),
    ("je ne souhaite pas", NO),
    ("Je ne souhaite pas que mes coordonnées soient transmises.", NO),
    ("pas question", NO),
    ("Hors de question !", NO),
    ("Non, je préfère garder mes coordonnées pour moi.", NO),
    ("C'est gentil, mais non.", NO),
    ("Après réflexion, je refuse.", NO),
    ("Non 🙁", NO),
    ("non non", NO),
    ("Bonjour,\nNon merci.\nCordialement", NO),
    ("Non\n" + SIGNATURE, NO),
    ("Non merci\n\n" + QUOTED, NO),
    (ATTRIBUTION + "\n" + QUOTED + "\n\nNon merci", NO),
    # Questions, hedges, conditions, contradictions: ask again.
    ("C'est qui ?", UNCLEAR),
    ("oui mais c'est qui ?", UNCLEAR),
    ("Oui ?", UNCLEAR),
    ("Pourquoi ?", UNCLEAR),
    ("Qui est-ce ?", UNCLEAR),
    ("Oui. C'est pour quel sujet ?", UNCLEAR),
    ("peut-être", UNCLEAR),
    ("Peut etre", UNCLEAR),
    ("je ne sais pas", UNCLEAR),
    ("Je sais pas trop", UNCLEAR),
    ("oui mais pas tout de suite ?", UNCLEAR),
    ("Pas tout de suite", UNCLEAR),
    ("à voir", UNCLEAR),
    ("ça dépend", UNCLEAR),
    ("pourquoi pas", UNCLEAR),
    ("Je pense que oui", UNCLEAR),
    ("Je ne suis pas contre", UNCLEAR),
    ("oui… enfin non", UNCLEAR),
    ("oui... enfin non", UNCLEAR),
    ("Non... enfin oui", UNCLEAR),
    ("Oui/non", UNCLEAR),
    ("Non, pas de problème", UNCLEAR),  # "no" or "no problem"? Not a guess to make with someone's details
    ("oui si c'est gratuit", UNCLEAR),
    ("Oui s'il est d'accord lui aussi", UNCLEAR),
    ("Oui, mais seulement par mail", RESTRICTED),  # a restricted yes: confirmed before anything is shared
    ("Oui, sauf mon téléphone", RESTRICTED),  # a restricted yes: confirmed before anything is shared
    ("Oui, sans mon téléphone", RESTRICTED),  # a restricted yes: confirmed before anything is shared
    ("Oui, ne donnez pas mon adresse", RESTRICTED),  # a restricted yes: confirmed before anything is shared
    ("Oui.\nMais ne donnez pas mon adresse.", RESTRICTED),  # a restricted yes: confirmed before anything is shared
    ("problème : je ne suis pas dispo", UNCLEAR),
    ("Oui, je n'ai pas le temps de l'appeler cette semaine", UNCLEAR),
    ("Je vous rappelle demain", UNCLEAR),
    ("Merci pour l'info, je regarde ça ce soir", UNCLEAR),
    ("Non je n'ai pas encore reçu le devis", UNCLEAR),
    ("Merci !", UNCLEAR),
    ("👍", UNCLEAR),
    ("", UNCLEAR),
    ("   \n\n", UNCLEAR),
    ("Bonjour,", UNCLEAR),
    ("Bonjour,\n" + SIGNATURE, UNCLEAR),
]


def test_the_table_is_large_and_covers_each_answer() -> None:
    assert len(ANSWERS) >= 40
    assert {answer for _, answer in ANSWERS} == {YES, NO, UNCLEAR, RESTRICTED}


@pytest.mark.parametrize(("text", "expected"), ANSWERS, ids=[repr(text)[:60] for text, _ in ANSWERS])
def test_answers(text: str, expected: ConsentAnswer) -> None:
    assert read_consent(text).answer is expected


# --- our own question never answers -------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    QUOTED,
    ATTRIBUTION + "\n" + QUOTED,
    "\n\n" + ATTRIBUTION + "\n" + QUOTED + "\n",
    OUTLOOK,
    "> Acceptez-vous que nous transmettions vos coordonnées ? Répondez oui ou non",
    "Répondez simplement à ce mail par OUI ou par NON.",  # pasted back without ">"
    "Bonjour,\n\n" + QUOTED + "\n\n" + SIGNATURE,
])
def test_a_reply_holding_only_our_question_is_not_an_answer(text: str) -> None:
    assert read_consent(text) == ConsentReading(UNCLEAR, "")


# --- the evidence line ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "line"), [
    ("Bonjour,\n\nOui, d'accord.\n\nCordialement,\nJean", "Oui, d'accord."),
    ("Bonsoir Madame, j'accepte\n" + SIGNATURE, "Bonsoir Madame, j'accepte"),
    ("  Non merci  \n\n" + QUOTED, "Non merci"),
    ("Bonjour,\nC'est qui ?", "C'est qui ?"),
    ("Bonjour\u00a0!\n\toui\u00a0!", "oui\u00a0!"),  # odd spaces kept: the evidence is what they typed
    ("Merci !", ""),  # nothing usable: only thanks
    ("Bonjour,\n\nCordialement", ""),
    ("", ""),
])
def test_the_line_is_kept_as_written(text: str, line: str) -> None:
    assert read_consent(text).line == line


def test_a_decision_keeps_the_line_it_was_read_from_not_a_later_one() -> None:
    reading = read_consent("Bonjour Aideur,\n\nPas de problème.\nMon portable : 06 98 76 54 32.")
    assert reading == ConsentReading(YES, "Pas de problème.")


# --- properties ----------------------------------------------------------------------------------------------------

REALISTIC_LINES = [text for text, _ in ANSWERS if "\n" not in text and text.strip()] + [
    "Bonjour,", "Bonjour Aideur,", "Cordialement,", "Jean Dupont", "06 12 34 56 78", "Merci beaucoup.",
    "> Répondez oui ou non", "> Êtes-vous d'accord ?", "Bien à vous", "-- ",
]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(REALISTIC_LINES), max_size=6),
       st.sampled_from(["Je ne sais pas.", "Peut-être.", "C'est qui ?", "Pourquoi moi ?", "À voir…"]))
def test_a_doubt_first_is_never_a_yes(lines: list[str], doubt: str) -> None:
    """Whatever follows, a reply that opens with a doubt or a question does not give consent."""
    assert read_consent(doubt + "\n" + "\n".join(lines)).answer is not YES


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(ANSWERS), st.text(max_size=200))
def test_quoted_lines_never_change_the_answer(case: tuple[str, ConsentAnswer], quoted: str) -> None:
    """Anything quoted below the reply, even "oui" or "non", is ignored: only the person's words count."""
    text, expected = case
    block = "\n".join("> " + line for line in (quoted.splitlines() or [""]))
    assert read_consent(text + "\n\n" + block).answer is expected


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(ANSWERS), st.lists(st.sampled_from(["oui", "non", "Oui, d'accord", "Je refuse",
                                                           "peut-être", "Jean Dupont", "06 12 34 56 78", "?"]),
                                          min_size=1, max_size=4))
def test_nothing_under_a_signature_line_counts(case: tuple[str, ConsentAnswer], tail: list[str]) -> None:
    text, expected = case
    if "\n-- \n" in text or text.rstrip().endswith("--"):
        return
    assert read_consent(text + "\n-- \n" + "\n".join(tail)).answer is expected


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([(text, answer) for text, answer in ANSWERS if answer is not UNCLEAR]),
       st.lists(st.booleans(), min_size=1, max_size=300))
def test_capitals_do_not_matter(case: tuple[str, ConsentAnswer], upper: list[bool]) -> None:
    text, expected = case
    mixed = "".join(char.upper() if upper[index % len(upper)] else char.lower() for index, char in enumerate(text))
    assert read_consent(mixed).answer is expected


@settings(max_examples=100, deadline=None)
@given(st.sampled_from([text for text, answer in ANSWERS if answer is NO and "\n" not in text]),
       st.sampled_from([", merci.", "\nMerci et bonne journée.", "\nCordialement,\nMarie Martin",
                        "\nBien à vous", "\n" + SIGNATURE, "\n\n" + QUOTED]))
def test_a_no_with_a_polite_ending_stays_no(text: str, ending: str) -> None:
    assert read_consent(text + ending).answer is NO


@settings(max_examples=100, deadline=None)
@given(st.sampled_from([text for text, answer in ANSWERS if answer is YES and "\n" not in text]),
       st.sampled_from([" ?", "\nC'est qui ?", "\nmais pas tout de suite", "\nenfin non", "\nPeut-être.",
                        ", si c'est gratuit", "\nJe ne sais pas."]))
def test_a_yes_followed_by_a_doubt_is_not_a_yes(text: str, doubt: str) -> None:
    assert read_consent(text + doubt).answer is not YES


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_reads_without_error_and_the_line_is_the_persons_own(text: str) -> None:
    reading = read_consent(text)
    assert reading.answer in (YES, NO, UNCLEAR, RESTRICTED)
    assert reading.line == "" or all(part in text for part in reading.line.split(" / "))
    if reading.answer is not UNCLEAR:
        assert reading.line


# Qualified yeses in words no earlier list held (attack review of issue 11): each is asked again, never a yes.
QUALIFIED_VARIANTS = [
    "Yes, provided that he is discreet.", "Yes, in case he needs it.", "Yes, assuming he is a member.",
    "Yes, on condition that he calls after 6pm.", "Yes, subject to my partner's approval.", "Yes, I guess.",
    "Yes, probably.", "Yes, sort of.", "Yes, for the time being.", "Yes, next week.",
    "Oui, j'accepte, sous conditions.", "Oui, sous certaines conditions.", "Oui, moyennant finance",
    "Oui, en cas de besoin.", "Oui, au cas où.", "Oui, au besoin.", "Oui, le cas échéant.",
    "ok, quitte à le regretter", "Oui, globalement.", "Oui, en gros.", "Oui, presque.", "Oui, lundi.",
    "Oui, dès lundi.", "Oui, dans un premier temps", "Oui, pour commencer.", "Oui, pour une fois.",
    "Oui, exceptionnellement.", "Oui, à titre exceptionnel.", "Oui, à contrecœur.", "Oui, à reculons.",
    "Oui, faute de mieux.", "Oui, par écrit.", "Oui. Quoique.", "Oui, encore que.", "Oui, admettons.",
    "Yes, as long as it is by email.", "Oui, à la fin du mois.", "Oui, en janvier.", "Oui, après les vacances.",
    "Oui, à vos risques", "Oui, tant pis",
]


@pytest.mark.parametrize("text", QUALIFIED_VARIANTS)
def test_a_yes_qualified_in_other_words_is_not_a_yes(text: str) -> None:
    assert read_consent(text).answer is UNCLEAR


# --- qualifier_of: the words around a decisive answer read elsewhere (attack 13) -------------------------------

@pytest.mark.parametrize(("text", "why"), [
    ("Enfin presque.", "condition"), ("Sauf la facture.", "condition"), ("À suivre", "différé"),
    ("Pour l'instant.", "différé"), ("Je plaisante.", "plaisanterie"), ("Non finalement.", "contradiction"),
    ("Pas sûr ?", "question"), ("Du moins je crois.", "doute"), ("Sur le papier.", "condition"),
    ("Merci !\n\nMarie\nPS : à moitié", "condition"),
])
def test_what_qualifies_a_decisive_answer_is_named(text: str, why: str) -> None:
    assert qualifier_of(text) == why


@pytest.mark.parametrize("text", [
    "", "Merci beaucoup pour votre aide !", "Bonne journée.\n\nCordialement,\nMarie Dupont\n06 12 34 56 78",
    "Merci à Jean, il a été formidable.", "C'est en ligne depuis lundi.",
    "Merci\n\n> Le 26/11/2026, Club Aide a écrit :\n> sauf avis contraire, à suivre",
])
def test_thanks_praise_a_signature_and_the_quote_qualify_nothing(text: str) -> None:
    assert qualifier_of(text) == ""


@pytest.mark.parametrize("answer", ["Oui. À suivre", "Oui, en quelque sorte", "Oui, plus ou moins"])
def test_the_new_words_of_attack_13_qualify_a_consent_too(answer: str) -> None:
    assert read_consent(answer).answer is UNCLEAR
