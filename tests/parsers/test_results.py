"""parse_result: the simplified result form, filled in by reply in any reasonable shape."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailbot.parsers.html import html_to_text
from mailbot.parsers.results import RESULT_LABELS, RESULT_QUESTION, RESULTS, ResultReply, parse_result

FORM = ("Résultat (résolu / en partie / non résolu / en cours) :\n"
        "Satisfaction (de 1 à 5) :\n"
        "Commentaire (facultatif) :")
# Our form mail as formulaire_resultat.j2 words it: its example "résolu, 5/5" must never be read.
FORM_MAIL = ("Bonjour Marie,\n\nAprès la solution proposée pour votre demande « TVA intracommunautaire »,\n"
             "dites-nous en deux mots où vous en êtes. Pas besoin de parler\n"
             "de prix ni de durée : le formulaire est volontairement simple.\n\n"
             "Répondez à ce mail en remplissant les lignes ci-dessous (ou en\n"
             "une phrase, par exemple « résolu, 5/5 ») :\n\n" + FORM + "\n\n"
             "Merci : ce retour est l'un des engagements des membres, et il aide le\n"
             "Club à savoir ce qui marche.\n\n-- \nClub Aide")
ATTRIBUTION = "Le lun. 14 déc. 2026 à 09:12, Club Aide <club@example.org> a écrit :"
OUTLOOK_HEADERS = ("De : Club Aide <club@example.org>\nEnvoyé : lundi 14 décembre 2026 09:12\nÀ : Marie Martin\n"
                   "Objet : [CA-2026-0042] quel résultat pour votre demande ?\n\n")


def quoted(body: str = FORM_MAIL) -> str:
    return ATTRIBUTION + "\n" + "\n".join(("> " + line).rstrip() for line in body.splitlines())


def filled(result: str = "", satisfaction: str = "", comment: str = "") -> str:
    """Our form mail with values typed after the labels, as people fill it inline."""
    return (FORM_MAIL
            .replace("en cours) :", f"en cours) : {result}".rstrip())
            .replace("(de 1 à 5) :", f"(de 1 à 5) : {satisfaction}".rstrip())
            .replace("(facultatif) :", f"(facultatif) : {comment}".rstrip()))


def top_posted(new: str) -> tuple[str, str]:
    """(whole body, what the person wrote) for a reply written above our quoted form mail."""
    return new + "\n\n" + quoted(), new


@dataclass(frozen=True)
class Case:
    name: str
    text: str
    new_text: str
    result: str | None
    satisfaction: int | None = None
    comment: str = ""
    problems: bool = False


def case(name: str, new: str, result: str | None, satisfaction: int | None = None, comment: str = "",
         problems: bool = False) -> Case:
    text, new_text = top_posted(new)
    return Case(name, text, new_text, result, satisfaction, comment, problems)


CASES: list[Case] = [
    # Sentences.
    case("resolved thanks", "résolu, merci !", "resolu"),
    case("resolved caps", "RÉSOLU", "resolu"),
    case("resolved no accent", "resolu", "resolu"),
    case("resolved and rating", "Résolu 4/5", "resolu", 4),
    case("rating alone", "4/5", None, 4),
    case("stars in words", "5 étoiles", None, 5),
    case("star characters", "★★★★☆", None, 4),
    case("emoji stars", "Résolu !!! ⭐️⭐️⭐️⭐️⭐️", "resolu", 5),
    case("note", "note : 4", None, 4),
    case("satisfaction n sur 5", "satisfaction 3 sur 5", None, 3),
    case("bare number beside result", "Résolu 4", "resolu", 4),
    case("bare number on its own line", "Résolu\n4", "resolu", 4),
    case("comma without space", "Résolu,5/5", "resolu", 5),
    case("not resolved", "pas résolu", "non_resolu"),
    case("non resolu", "non résolu hélas", "non_resolu"),
    case("not resolved, long negation", "Le problème n'a toujours pas été réglé.", "non_resolu"),
    case("nothing resolved", "rien n'a été résolu", "non_resolu"),
    case("partly", "en partie seulement", "en_partie"),
    case("partially", "partiellement", "en_partie"),
    case("resolved in part", "résolu en partie, 3 étoiles", "en_partie", 3),
    case("ongoing", "toujours en cours", "en_cours"),
    case("progressing", "ça avance", "en_cours"),
    case("not yet", "Ce n'est pas encore résolu, on attend le devis.", "en_cours",
         comment="Ce n'est pas encore résolu, on attend le devis."),
    case("not resolved but ongoing", "Pas résolu, toujours en cours", "en_cours"),
    case("settled and happy: no number invented", "c'est réglé, très satisfait", "resolu",
         comment="c'est réglé, très satisfait"),
    case("thanks to someone", "problème réglé grâce à Jean, merci", "resolu",
         comment="problème réglé grâce à Jean, merci"),
    case("unhappy in words", "pas du tout satisfait", None, comment="pas du tout satisfait"),
    case("a greeting is not part of the comment", "Bonjour Aideur, c'est réglé grâce à Paul",
         "resolu", comment="c'est réglé grâce à Paul"),
    case("dates, references and phones are not ratings",
         "Résolu le 12/12, référence CA-2026-0042, tél. 06 12 34 56 78", "resolu",
         comment="Résolu le 12/12, référence CA-2026-0042, tél. 06 12 34 56 78"),
    case("a date that looks like a rating", "Résolu le 4/5", "resolu"),
    case("a delay is not a rating", "Résolu en 3 jours, merci", "resolu", comment="Résolu en 3 jours, merci"),
    case("an amount is not a rating", "Résolu, 0 €", "resolu"),
    case("our scale written out", "Résolu, 5 sur une échelle de 1 à 5", "resolu", 5),
    case("out of range", "7/5", None, problems=True),
    case("zero", "0", None, problems=True),
    case("another scale", "Résolu, 8/10", "resolu", problems=True),
    case("half points", "Résolu 4,5/5", "resolu", problems=True),
    case("two ratings", "Résolu. 4/5. Mais 5 étoiles pour Jean", "resolu",
         comment="Résolu. 4/5. Mais 5 étoiles pour Jean", problems=True),
    case("contradiction", "résolu... enfin non résolu", None, problems=True),
    case("thanks only", "Merci beaucoup !", None),
    # Signatures and greetings.
    case("signature", "Résolu 5/5\n\n-- \nMarie Martin\nCabinet Martin\n06 12 34 56 78", "resolu", 5),
    case("greeting and sign-off", "Bonjour,\n\nRésolu, 5/5.\n\nCordialement,\nMarie Martin\n06 12 34 56 78",
         "resolu", 5),
    case("thanks and a name", "Résolu.\nMerci,\nJean Dupont", "resolu"),
    # The form filled above the quote.
    case("form filled", "Résultat : résolu\nSatisfaction : 4\nCommentaire : Jean a été parfait",
         "resolu", 4, "Jean a été parfait"),
    case("form without accents, hints kept",
         "Resultat (resolu / en partie / non resolu / en cours) : en cours\nSatisfaction (de 1 a 5) : 3",
         "en_cours", 3),
    case("no space before the colon", "Résultat: Résolu\nSatisfaction: 5", "resolu", 5),
    case("scale without parentheses", "Résultat : en partie\nSatisfaction de 1 à 5 : 4", "en_partie", 4),
    case("equals sign, capitals", "RÉSULTAT = NON RÉSOLU", "non_resolu"),
    case("bulleted", "- Résultat : en partie\n- Satisfaction : 4/5", "en_partie", 4),
    case("bold labels from HTML", "**Résultat** : résolu\n**Satisfaction (de 1 à 5)** : 5\n"
                                  "**Commentaire** : _Très bonne mise en relation_",
         "resolu", 5, "Très bonne mise en relation"),
    case("bold value", "*Résultat :* **en partie**", "en_partie"),
    case("number word", "Résultat : résolu\nSatisfaction : quatre", "resolu", 4),
    case("rating and words in the field", "Résultat : résolu\nSatisfaction : 4/5 – très bien", "resolu", 4),
    case("yes in the result field", "Résultat : oui", "resolu"),
    case("hint cut down to the choice", "Résultat (résolu) :\nSatisfaction (de 1 à 5) : 5", "resolu", 5),
    case("comment over two lines", "Résultat : résolu\nCommentaire : Paul a tout repris\net le client a payé.",
         "resolu", comment="Paul a tout repris\net le client a payé."),
    case("comment below an empty comment label", "Résultat : résolu\nCommentaire (facultatif) :\nMerci à Paul.",
         "resolu", comment="Merci à Paul."),
    case("unreadable satisfaction", "Résultat : résolu\nSatisfaction : super", "resolu", problems=True),
    case("satisfaction out of range in the field", "Résultat : résolu\nSatisfaction : 6", "resolu", problems=True),
    case("unreadable result", "Résultat : bof\nSatisfaction : 2", None, 2, problems=True),
    case("placeholders", "Résultat : en cours\nSatisfaction : -\nCommentaire : RAS", "en_cours"),
    case("our choices pasted as the value", "Résultat : résolu / en partie / non résolu / en cours", None),
]


def test_the_table_is_large() -> None:
    assert len(CASES) >= 40
    assert {item.result for item in CASES} == {*RESULTS, None}


@pytest.mark.parametrize("item", CASES, ids=[item.name for item in CASES])
def test_shapes(item: Case) -> None:
    reply = parse_result(item.text, item.new_text)
    assert (reply.result, reply.satisfaction, reply.comment) == (item.result, item.satisfaction, item.comment)
    assert bool(reply.problems) is item.problems, reply.problems


# --- inline in the quote -------------------------------------------------------------------------------------------

def test_form_filled_inline_in_a_quote() -> None:
    text = quoted(filled("en partie", "3", "Le devis était clair")).replace(
        "> Commentaire (facultatif) : Le devis était clair",
        "> Commentaire (facultatif) : Le devis était clair\n> mais un peu cher.")
    for new_text in ("", text):  # the workflow passes the whole body when nothing was written above
        assert parse_result(text, new_text) == ResultReply("en_partie", 3, "Le devis était clair\nmais un peu cher.")


def test_form_filled_inline_in_an_outlook_quote_without_markers() -> None:
    text = "\n\n" + OUTLOOK_HEADERS + filled("non résolu", "2")
    assert parse_result(text, "") == ResultReply("non_resolu", 2)
    assert parse_result(text, text) == ResultReply("non_resolu", 2)


def test_answer_above_an_outlook_quote() -> None:
    text = "Résolu, merci\n\n" + OUTLOOK_HEADERS + FORM_MAIL
    assert parse_result(text, "Résolu, merci") == ResultReply("resolu")
    assert parse_result(text, text) == ResultReply("resolu")


def test_what_the_person_writes_now_beats_the_quoted_form() -> None:
    text = "Finalement c'est résolu, 5/5.\n\n" + quoted(filled("en cours", "3"))
    assert parse_result(text, "Finalement c'est résolu, 5/5.") == ResultReply("resolu", 5)


def test_html_mail_converted_to_text() -> None:
    html = ("<div>R&eacute;solu, merci<br></div><blockquote><p><b>R&eacute;sultat</b> (r&eacute;solu / en partie"
            " / non r&eacute;solu / en cours) :</p><p><b>Satisfaction</b> (de 1 &agrave; 5) : 4</p>"
            "<p>Commentaire (facultatif) :</p></blockquote>")
    text = html_to_text(html)
    assert parse_result(text, "Résolu, merci") == ResultReply("resolu", 4)


def test_quoted_words_of_ours_are_never_fields() -> None:
    # "Note :" is a satisfaction label only when the person types it, not in our quoted text.
    text = "Résolu\n\n" + OUTLOOK_HEADERS + "Note : ce formulaire est simplifié.\n\n" + FORM
    assert parse_result(text, "Résolu") == ResultReply("resolu")


# --- the bare quoted form: nothing written, nothing to explain ------------------------------------------------------

@pytest.mark.parametrize("text", [
    quoted(),
    quoted(FORM),
    "\n".join("> " + line for line in FORM.splitlines()),
    "\n\n" + OUTLOOK_HEADERS + FORM_MAIL,
    "Bonjour,\n\n" + quoted(),
    "Merci\n\n-- \nMarie Martin\n06 12 34 56 78\n\n" + quoted(),
])
def test_the_bare_quoted_form_answers_nothing(text: str) -> None:
    for new_text in ("", text):
        assert parse_result(text, new_text) == ResultReply(None, None, "", ())


def test_our_example_pasted_without_quote_is_not_an_answer() -> None:
    text = "Répondez à ce mail en remplissant les lignes ci-dessous (ou en\nune phrase, par exemple « résolu, 5/5 ») :"
    assert parse_result(text, text) == ResultReply()


# --- the questions put back to the person ---------------------------------------------------------------------------

def test_problems_are_short_french_questions() -> None:
    text, new = top_posted("Résultat : bof\nSatisfaction : super")
    assert parse_result(text, new).problems == (
        "Le résultat (« bof ») : résolu, en partie, non résolu ou en cours ?",
        "La satisfaction (« super ») : une note de 1 à 5 ?",
    )
    text, new = top_posted("7/5")
    assert parse_result(text, new).problems == ("La satisfaction (« 7/5 ») : une note de 1 à 5 ?",)
    text, new = top_posted("Résolu. Enfin, toujours en cours.")
    assert parse_result(text, new).problems == (RESULT_QUESTION,)


def test_a_missing_satisfaction_is_not_a_problem() -> None:
    text, new = top_posted("Résolu")
    assert parse_result(text, new) == ResultReply("resolu", None, "", ())


# --- properties -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("key", RESULTS)
@pytest.mark.parametrize("shape", ["{}", "{}.", "{} !", "C'est {}.", "Résultat : {}", "{}, merci"])
def test_each_label_reads_as_its_result(key: str, shape: str) -> None:
    written = shape.format(RESULT_LABELS[key])
    assert parse_result(written, written).result == key
    plain = written.replace("é", "e").upper()
    assert parse_result(plain, plain).result == key


NEGATIONS = ["pas", "non", "toujours pas", "pas du tout", "ce n'est pas", "ce n'est toujours pas", "ça n'a pas été",
             "le problème n'est pas", "rien n'est"]


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(NEGATIONS), st.sampled_from(["résolu", "réglé", "resolu", "regle", "résolue", "réglés"]),
       st.sampled_from(["", ".", ", hélas", " !", " 2/5"]))
def test_a_negated_resolution_is_never_resolved(negation: str, word: str, ending: str) -> None:
    written = f"{negation} {word}{ending}"
    assert parse_result(written, written).result == "non_resolu"


DATES_AND_NUMBERS = st.one_of(
    st.builds(lambda d, m: f"le {d}/{m}", st.integers(1, 31), st.integers(1, 12)),
    st.builds(lambda d, m, y: f"{d}/{m}/{y}", st.integers(1, 31), st.integers(1, 12), st.integers(2020, 2030)),
    st.builds(lambda d, m: f"du {d}/{m} au {m}/{d}", st.integers(1, 12), st.integers(1, 12)),
    st.builds(lambda y, n: f"CA-{y}-{n:04d}", st.integers(2020, 2030), st.integers(1, 9999)),
    st.builds(lambda d: "0" + d[0] + " " + " ".join(d[i:i + 2] for i in range(1, 9, 2)),  # 06 12 34 56 78
              st.text("0123456789", min_size=9, max_size=9)),
    st.builds(lambda n: f"{n} €", st.integers(0, 5000)),
)


@settings(max_examples=300, deadline=None)
@given(DATES_AND_NUMBERS, st.sampled_from(["Résolu, {}", "Résolu {}", "Rendez-vous {} : en cours", "{}",
                                           "Commentaire : facture {}", "réf. {} résolue"]))
def test_dates_references_and_phone_numbers_are_never_ratings(number: str, shape: str) -> None:
    written = shape.format(number)
    text = written + "\n\n" + quoted()
    reply = parse_result(text, written)
    assert reply.satisfaction is None
    assert reply.problems == ()


ANSWER_PIECES = ["résolu", "en partie", "non résolu", "toujours en cours", "4/5", "3 sur 5", "★★★★★", "note : 2",
                 "merci", "Jean a été top", "Bonjour,", "c'est réglé", "très satisfait", "Résultat : en partie",
                 "Satisfaction : 4", "Commentaire : rapide et efficace", "7/5", "Cordialement"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(ANSWER_PIECES), min_size=1, max_size=4))
def test_the_quoted_empty_form_never_changes_the_reading(pieces: list[str]) -> None:
    written = "\n".join(pieces)
    assert parse_result(written + "\n\n" + quoted(), written) == parse_result(written, written)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300), st.text(max_size=300))
def test_any_text_gives_a_well_formed_reply(text: str, new_text: str) -> None:
    reply = parse_result(text, new_text)
    assert reply.result is None or reply.result in RESULTS
    assert reply.satisfaction is None or 1 <= reply.satisfaction <= 5
    assert all(problem.strip() for problem in reply.problems)


# --- issue 12: what members and helpers really answer (outcomes told as what happened, ongoing talk) -------------
OUTCOMES: list[tuple[str, str | None, int | None]] = [
    # (what the person wrote above the quoted form, result, satisfaction)
    ("projet lancé, très content, 5/5", "resolu", 5),
    ("Projet lancé grâce à Bruno ! 5/5", "resolu", 5),
    ("Le projet est lancé ! Très satisfait, 5/5", "resolu", 5),
    ("Le site est en ligne depuis lundi, 5/5", "resolu", 5),
    ("c'est fait, 4/5", "resolu", 4),
    ("C'est réglé.", "resolu", None),
    ("ça a bien marché, merci", "resolu", None),
    ("projet abouti", "resolu", None),
    ("mission accomplie 5/5", "resolu", 5),
    ("Le contrat est signé, 4/5", "resolu", 4),
    ("J'ai trouvé un comptable grâce à vous.", "resolu", None),
    ("en cours", "en_cours", None),
    ("En cours, 3/5 pour l'instant", "en_cours", 3),
    ("pas encore", "en_cours", None),
    ("Pas encore, on doit se rappeler.", "en_cours", None),
    ("pas encore eu le temps de l'appeler", "en_cours", None),
    ("toujours en discussion", "en_cours", None),
    ("Toujours en discussion avec lui, 4/5", "en_cours", 4),
    ("Nous sommes en contact, ça suit son cours.", "en_cours", None),
    ("On en discute encore.", "en_cours", None),
    ("On se voit la semaine prochaine.", "en_cours", None),
    ("Rien pour l'instant.", "en_cours", None),
    ("le projet n'est pas encore lancé", "en_cours", None),
    ("Le contrat n'est pas encore signé.", "en_cours", None),
    ("On n'a pas trouvé de solution.", "non_resolu", None),
    ("Ça n'a pas marché, 2/5", "non_resolu", 2),
    ("Résolu en partie, 3/5", "en_partie", 3),
]


@pytest.mark.parametrize(("new", "result", "satisfaction"), OUTCOMES, ids=[new for new, _, _ in OUTCOMES])
def test_outcomes_told_in_ordinary_words(new: str, result: str | None, satisfaction: int | None) -> None:
    text, new_text = top_posted(new)
    reply = parse_result(text, new_text)
    assert (reply.result, reply.satisfaction) == (result, satisfaction)
    assert not reply.problems


# A "résolu" is read with what surrounds it in its sentence (stop 17: a stranger's attack looked only at the three
# words before it).
@pytest.mark.parametrize(("text", "result"), [
    ("Je ne pense pas que ce soit résolu", "non_resolu"), ("Je ne crois pas que tout soit réglé", "non_resolu"),
    ("Loin d'être résolu", "non_resolu"), ("Presque résolu", "en_partie"), ("Quasiment réglé", "en_partie"),
    ("Résolu à 50 %", "en_partie"), ("Bientôt résolu", "en_cours"), ("Sur le point d'être réglé", "en_cours"),
    ("C'est résolu, merci beaucoup !", "resolu"), ("Résolu à 15h ce matin", "resolu"),
])
def test_what_surrounds_resolu_in_its_sentence(text: str, result: str) -> None:
    assert parse_result(text, text).result == result


# --- attack 13: a "résolu" doubted, limited or taken back is asked again ----------------------------------------

_Q_RESULT = "> Résultat (résolu / en partie / non résolu / en cours) :\n"
_Q_RATING = "> Satisfaction (de 1 à 5) :\n"


@pytest.mark.parametrize("text", [
    # the attacker's
    _Q_RESULT + "résolu ? pas sûr\n" + _Q_RATING + "3",
    "Résultat : résolu\nSatisfaction : 4\nEnfin non, pas résolu",
    _Q_RESULT + "Résolu. Enfin presque.\n" + _Q_RATING + "3",
    # the same cases in other words
    "Résultat : résolu pour l'instant", "Résultat : résolu\nJe plaisante.", "Résolu.\nEnfin, je crois.",
    _Q_RESULT + "Résolu\nProvisoirement\n" + _Q_RATING + "4", "Résultat : résolu, sauf la facture",
    "Résultat : résolu\nEn fait non.",
])
def test_a_resolu_doubted_limited_or_taken_back_is_asked_again(text: str) -> None:
    """Attack 13: "résolu ? pas sûr", "Résolu. Enfin presque." or a field "résolu" followed by "Enfin non, pas
    résolu" were read "resolu" — the field's value won and nothing else she wrote was read. "Résolu" closes the
    matter, so what she wrote about the result is read as a consent is (consent.qualifier_of), and another result
    beside it is two results: the result is None and the reply asks again."""
    reply = parse_result(text, text)
    assert reply.result is None and reply.problems, (text, reply)


@pytest.mark.parametrize(("text", "satisfaction"), [
    ("Résultat : résolu\nCommentaire : le plombier est venu mardi, mais en retard.", None),
    ("Résolu, merci beaucoup !\n\nMarie Dupont\n06 12 34 56 78", None),
    ("Résultat : résolu\nSatisfaction : 5\nJ'ai trouvé un comptable grâce à vous.", 5),
])
def test_a_comment_thanks_and_a_signature_leave_resolu_whole(text: str, satisfaction: int | None) -> None:
    reply = parse_result(text, text)
    assert (reply.result, reply.satisfaction) == ("resolu", satisfaction), reply
