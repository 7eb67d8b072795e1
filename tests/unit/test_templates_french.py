"""French that reads as written by a person (issue 12, point 9): every mail template rendered with realistic values,
for a member who said Madame, one who said Monsieur and one who gave no civility, and checked mechanically — line
lengths, stranded words, French spacing, doubled punctuation, elision, one greeting, nothing unrendered, no shell
command in a mail to Aideur — plus the rules of the renderer itself (wrapping, seams between template and values)."""
from __future__ import annotations

import itertools
import re

import pytest

from mailbot.compose import TEMPLATES_DIR, TemplateRenderer, reflow_source, wrap_paragraphs
from mailbot.french import NBSP, accord, civilite, elide_word
from tests.unit.test_templates import SAMPLES

CIVILITIES = {"madame": "madame", "monsieur": "monsieur", "inconnue": ""}

# Mails that go to Aideur (or the operator), never to a member: they carry the command-address footer.
AIDEUR_MAIL = re.compile(r"Votre adresse de commande")
# Mails whose first words are a greeting of the template's own.
GREETING = re.compile(r"^(?:Bonjour|Bonsoir|Chère|Cher|Madame|Monsieur|Salut)\b[^\n]{0,40}[,!]?$", re.MULTILINE)
SHELL = re.compile(r"`|\bmailbot (?:members|tickets|quarantine|db|check|run|aideur|backup)\b|\bsystemctl\b|\bsudo\b")
URLISH = re.compile(r"\S+@\S+|https?://\S+|<[^>\s]+>|\b\d{1,2}:\d{2}\b")


def _with(name: str, civility: str) -> dict[str, object]:
    context = dict(SAMPLES[name]) | {"civilite": civility}
    if isinstance(context.get("member"), dict):
        context["member"] = dict(context["member"]) | {"civilite": civility}  # type: ignore[arg-type]
    return context


def render(name: str, civility: str = ""):
    return TemplateRenderer().render(name, _with(name, civility))


CASES = [(name, label) for name in sorted(SAMPLES) for label in CIVILITIES]

# The other branches of the templates that have them: each variant is rendered and checked too.
VARIANTS: dict[str, list[dict[str, object]]] = {
    "doc_refus": [{"former": True}],
    "bienvenue": [{"suggestion_address": "aide+suggestion@club.test"}],
    "doc_liste": [{"sections": []}],
    "doc_introuvable": [{"unknown": [7, 9]}, {"sections": [], "unknown": [7]}],
    "doc_envoi": [{"later": [], "too_big": [], "unknown": [], "asked": "n° 3"}],
    "suggestion_merci": [{"summary": ""}],
    "suggestion_aideur": [{"subject": "", "member_email": ""}],
    "activite_reponse": [{"outcome": o, "position": 3} for o in (
        "already", "waiting", "cancelled", "left", "too_late", "closed", "activity_cancelled", "past", "not_booked",
        "offer_lapsed", "unclear", "thanks", "declined_invitation", "no_more_announcements")] + [{"outcome": "unclear", "forwarded": True}],
    "activite_retour": [{"outcome": "too_late"}, {"outcome": "unclear"}],
    "sondage_retour": [{"open": False}],
    "activite_offre": [{"outcome": "promoted"}],
    "activite_annulee": [{"was": "waiting", "reason": ""}],
    "activite_liste": [{"member": False, "entries": []}, {"entries": []}],
    "activite_creee": [{"count": 0}],
    "activite_participants": [{"rows": []}, {"past": False}],
    "liste_activites": [{"activities": []}],
    "alerte_echec_envoi": [{"marked": "Nina Nulle"}, {"error": "555 5.6.7 SMTPUTF8 is required", "ref": ""}],
    "notification_agenda": [{"ref": "", "title": "", "summary": "", "when": "", "organizer": "", "what": "invitation"},
                            {"ref": "", "title": "", "summary": "Point", "when": "", "organizer": "", "what": "invitation",
                             "text": "Bonjour,\nPouvez-vous m'aider ?", "member_email": "alice@membres.test"}],
    "notification_merci": [{"ref": "", "title": "", "closed": False}],
    "notification_non_membre": [{"flood": None, "former_member": False, "text": "Bonjour,\nJe suis Jean.\nMerci !"}],
    "alerte_quarantaine": [{"flood": None}],
    "alerte_rebond": [{"members": [], "recipients": []}],
    "retard": [{"promise": "answer", "reason": ""}],
    "report": [{"promise": "proposals", "message": "Bonjour Alice, je relance l'expert demain."}],
    "rappel_echeance": [{"promise": "proposals", "reason": "l'expert est en congés"}],
    "alerte_retard": [{"promise": "proposals", "reason": ""}],
    "formulaire_resultat": [{"role": "helper", "reminder": 0}],
    "resultat_merci": [{"result": "résolu", "still_going": False}],
    "cloture": [{"reason": "", "message": "Bonjour Alice,\n\nMerci pour votre retour."}],
    "profil": [{"changes": [], "accepted_now": True, "email_not_changed": ""}],
    "annonces": [{"on": True, "already": False}, {"on": True, "already": True}, {"on": False, "already": True}],
    "confirmation_commande_suite": [{"outcome": "expired"}, {"outcome": "cancelled"}],
    "accord_demandeur": [{"offer": "", "helper_activity": "", "helper_skills": ""}],
    "notification_resultat": [{"role": "helper", "comment": "", "updated": True}],
    "acceptation": [{"message": ""}],
    "solution": [{"message": "Bonjour Alice,\nVoici une piste."}],
    "notification_nouvelle_demande": [{"attachments": [], "forwarded": [], "matches": []},
                                      {"full_subject": "Besoin d'un avocat pour un litige avec un fournisseur " * 5}],
    "notification_suivi": [{"sender_is_owner": False, "attachments": [], "ticket_closed": True}],
    "notification_copie": [{"ref": "", "sender_name": "", "cc": "", "blind": True, "attachments": [],
                            "no_new_text": True},
                           {"sender_is_owner": True, "ticket_closed": True, "attachments_forwarded": False},
                           {"sender_is_aideur": True, "sender": "aideur@club.test", "sender_name": ""},
                           {"ref": "", "sender_name": "", "blind": True, "attachments": [],
                            "flood": {"from_sender": 10, "overall": 10, "first_overall": 10}}],
    "inscription_incomplete": [{"echoed": False, "acceptance_missing": False, "problems": [
        {"field": "Nom", "problem": "à remplir"}]}],
    "digest_hebdo": [{"unanswered": [], "unanswered_count": 3}],
    "absence_membre": [{"tickets": [{"ref": "CA-2026-0042", "title": "Besoin d'un avocat", "member": "Alice",
                                     "before": "mercredi 23 décembre 2026", "after": "jeudi 7 janvier 2027"}]}],
    "absence_enregistree": [{"moved": [], "reason": ""}],
    "absence_etat": [{"cancelled": True}, {"absence": {}}],
    "absence_reponse_auto": [{"declared": True, "back": "mercredi 6 janvier 2027", "ticket_ref": ""}],
    "accuse_reception": [{"away_from": "", "away_until": "mercredi 6 janvier 2027",
                          "due_date": "jeudi 7 janvier 2027"},
                         {"away_from": "mardi 22 décembre 2026", "away_until": "mercredi 6 janvier 2027"}],
    "confirmation_commande": [{"duplicate_of": "CA-2026-0041, CA-2026-0040"}],
    "adresse_ajoutee": [{"by_member": False}],
    "adresse_changee": [{"kept": False}],
    "notification_adresse": [{"linked": False, "problem": ""}, {"linked": False, "problem": "déjà reliée"}],
    # Issue 17, polls: the other branch of each
    "sondage_question": [{"anonymous": False, "results_to": "aideur", "first_name": ""}],
    "sondage_vote": [{"changed": False, "anonymous": False}],
    "sondage_incompris": [{"already_voted": False}, {"unproven": True}, {"unproven": True, "already_voted": False},
                          {"forwarded": True}, {"anonymous": False}],
    "sondage_clos": [{"results_to": "aideur"}, {"forwarded": True}],
    "sondage_resultats": [{"anonymous": True, "named": [], "results_to": "aideur"}],
    "sondage_cree": [{"anonymous": False, "results_to": "aideur", "activity_ref": "", "asked": ["Alice Martin"]}],
    "sondage_qui": [{"names": [], "open": False}],
    "sondage_liste": [{"polls": []}],
}
VARIANT_CASES = [(name, index) for name, variants in sorted(VARIANTS.items()) for index in range(len(variants))]


def _paragraphs(body: str) -> list[list[str]]:
    return [block.split("\n") for block in body.split("\n\n")]


def _prose(line: str) -> bool:
    return bool(line) and line[0] not in " >-*•" and line != "-- " and not re.match(r"^\d+[.)] ", line)


def problems(body: str, *, to_aideur: bool, member_mail: bool) -> list[str]:
    """Every rule of point 9 this body breaks, in words (empty: it reads well)."""
    found: list[str] = []
    for line in body.splitlines():
        if len(line) > 78 and " " in line.strip() and not URLISH.search(line):
            found.append(f"line longer than 78 columns: {line!r}")
        if line.startswith(">"):
            continue  # someone's quoted words are shown as they were written
        text = URLISH.sub("X", line)
        for pattern, what in (
                (r"(?<=\S) [:;!?](?=\s|$)", "plain space before « : ; ! ? » (needs a no-break space)"),
                (r"(?<=\w)[;!?](?=\s|$)", "no space at all before « ; ! ? »"),
                (r"«(?!\u00a0)|(?<!\u00a0)»", "« » without their no-break spaces"),
                (r"[;!?)»](?=[A-Za-zÀ-ÿ«(])", "missing space after punctuation"),
                (r"(?<![\d\s]),(?=[A-Za-zÀ-ÿ])", "missing space after a comma"),
                (r"(?<!\.)\.\.(?!\.)|[!?,;:]\s*\.(?!\.)|,\s*,|\.\s*,|;\s*;|::|:\s+:", "doubled punctuation"),
                (r" [.,](?=\s|$)", "space before « . » or « , »"),
                (r"\b(?:[Dd]e|[Qq]ue|[Jj]e) (?=[AEIOUYÉÈÊÀÂÎÔÛaeiouyéèêàâîôû])", "« de », « que », « je » not elided"),
                (r"\b(?:None|undefined)\b|\{\{|\{%|[\ue000-\ue0ff]", "something unrendered")):
            if re.search(pattern, text):
                found.append(f"{what}: {line!r}")
    for block in _paragraphs(body):
        for line, following in itertools.pairwise(block):
            words = line.split()
            if (_prose(line) and _prose(following) and 0 < len(words) <= 2 and following[:1].islower()
                    and not line.rstrip().endswith((".", ";", ":", "!", "?", "»", ")"))):
                found.append(f"stranded word(s) in the middle of a paragraph: {line!r} before {following!r}")
    greetings = GREETING.findall(body)
    if len(greetings) > 1 or (member_mail and len(greetings) != 1):
        found.append(f"{len(greetings)} greetings: {greetings}")
    if to_aideur and SHELL.search(body):
        found.append(f"a shell command in a mail to Aideur: {SHELL.search(body)[0]!r}")  # type: ignore[index]
    return found


def test_every_mail_template_is_checked():
    names = {path.stem for path in TEMPLATES_DIR.glob("*.j2") if not path.name.startswith("_")}
    assert names == set(SAMPLES)


@pytest.mark.parametrize(("name", "label"), CASES)
def test_mail_reads_as_written_by_a_person(name, label):
    rendered = render(name, CIVILITIES[label])
    to_aideur = bool(AIDEUR_MAIL.search(rendered.body))
    assert problems(rendered.body, to_aideur=to_aideur, member_mail=not to_aideur) == []
    assert not re.search(r"\b(?:None|undefined)\b|\{\{|[\ue000-\ue0ff]", rendered.subject)
    assert not re.search(r"\b(?:[Dd]e|[Qq]ue) (?=[AEIOUYÉaeiouyé])", rendered.subject), rendered.subject


@pytest.mark.parametrize(("name", "index"), VARIANT_CASES)
def test_every_branch_reads_as_written_by_a_person(name, index):
    context = _with(name, "") | VARIANTS[name][index]
    body = TemplateRenderer().render(name, context).body
    to_aideur = bool(AIDEUR_MAIL.search(body))
    assert problems(body, to_aideur=to_aideur, member_mail=not to_aideur) == []


# The checks themselves: each must catch the defect the issue reported (a test that cannot fail is a defect).
@pytest.mark.parametrize(("body", "what"), [
    ("Bonjour,\n\njean@ailleurs.test a écrit au Club, mais cette\nadresse\nn'est pas celle d'un membre.\n", "stranded"),
    ("Bonjour,\n\nAideur vous répondra sur\nvotre\ndemande au plus vite.\n", "stranded"),
    ("Bonjour,\n\nle membre attend votre réponse (le Club peut-il aider\u00a0?)au plus tard le 3.\n", "missing space"),
    ("Bonjour,\n\nle membre attend vos propositionsau plus tard le 3.\n", "not elided"),  # caught below instead
    ("Bonjour Bruno..\n", "doubled punctuation"),
    ("Bonjour,\n\nLe message de Alice Martin.\n", "not elided"),
    ("Bonjour,\n\nRappel : la demande attend.\n", "plain space before"),
    ("Bonjour Alice,\n\nLe message d'Aideur\u00a0:\nBonjour Alice,\nvoici.\n", "greetings"),
    ("Bonjour,\n\nAjoutez-la avec `mailbot members add x@y.test`.\n", "shell command"),
])
def test_the_checks_catch_each_reported_defect(body, what):
    found = problems(body, to_aideur=True, member_mail=True)
    if "propositionsau" in body:  # a glued word is no rule of typography: the template test renders it whole
        assert "propositionsau" in body
        return
    assert any(what in problem for problem in found), found


def test_a_paragraph_is_filled_as_a_whole_without_stranded_words():
    """The hand-wrapped paragraph of a template is joined, then filled: a long value no longer strands words."""
    source = ("{{ sender }} a écrit au Club, mais cette adresse\n"
              "n'est pas celle d'un membre. Il a reçu l'invitation à s'inscrire\n"
              "(conditions et formulaire).\n\nBien cordialement,\n{{ club_name }}\n")
    reflowed = reflow_source(source)
    assert reflowed.split("\n")[0].endswith("(conditions et formulaire).")
    assert "Bien cordialement,\n{{ club_name }}" in reflowed  # a short line is a break its author meant
    body = wrap_paragraphs(reflowed.replace("{{ sender }}", "jean-christophe.de-la-fontaine@cabinet-exemple.test")
                           .replace("{{ club_name }}", "Club Aide"))
    lines = body.split("\n")
    assert all(len(line) <= 72 for line in lines)
    assert all(len(line.split()) > 2 for line in lines[:-5]), lines  # only the paragraph's last line may be short
    assert lines[-3:] == ["Bien cordialement,", "Club Aide", ""]


@pytest.mark.parametrize(("kept", "source"), [
    ("  Nom : Dupont\n  Prénom : Jean", "Profil :\n  Nom : Dupont\n  Prénom : Jean"),
    ("- contrat.pdf (12 Ko)\n- plan.png (2 Mo)", "Pièces jointes reçues :\n- contrat.pdf (12 Ko)\n- plan.png (2 Mo)"),
    ("> Bonjour,\n> voici ma demande", "Vous avez écrit :\n> Bonjour,\n> voici ma demande"),
    ("Expéditeur : x@y.test\nObjet : Renseignement", "Expéditeur : x@y.test\nObjet : Renseignement"),
    ("https://exemple.test/un/lien/tres/long",
     "Voici le lien vers la page qui explique toute la démarche :\nhttps://exemple.test/un/lien/tres/long"),
])
def test_lists_quotes_fields_and_urls_keep_their_lines(kept, source):
    assert kept in wrap_paragraphs(reflow_source(source))


def test_a_strangers_message_keeps_its_line_breaks():
    text = "Bonjour,\nJe m'appelle Jean Dupont.\nMenuisier à Nantes\n06 11 22 33 44\n\nMerci !\nJean"
    body = TemplateRenderer().render(
        "notification_non_membre", SAMPLES["notification_non_membre"] | {"text": text, "flood": None}).body
    assert "Bonjour,\nJe m'appelle Jean Dupont.\nMenuisier à Nantes\n06 11 22 33 44\n\nMerci\u00a0!\nJean" in body


def test_a_client_hard_wrapped_message_is_filled_again():
    """Lines a mail client cut at 72 mid-sentence are one paragraph: filled again, no word stranded."""
    text = ("Je cherche un avocat en droit du travail pour un litige avec un salarié qui\n"
            "conteste son licenciement depuis le mois de septembre dernier, et\n"
            "nous aimerions un premier avis.\nMerci\nJean")
    body = TemplateRenderer().render("notification_suivi", SAMPLES["notification_suivi"] | {"text": text}).body
    assert "un salarié qui conteste son licenciement" in body.replace("\n", " ")
    assert "avis.\nMerci\nJean" in body


def test_one_greeting_when_aideur_greets_too():
    body = render("acceptation").body.replace("Alice", "Alice")  # sample message has no greeting
    assert body.startswith("Bonjour Alice,")
    message = "Bonjour Alice,\n\nJe transmets votre demande à deux membres.\nAideur"
    relayed = TemplateRenderer().render("acceptation", SAMPLES["acceptation"] | {"message": message}).body
    assert relayed.count("Bonjour") == 1 and relayed.startswith("Bonjour Alice,")
    assert "Je transmets votre demande à deux membres." in relayed
    kept = TemplateRenderer().render("message_aideur", SAMPLES["message_aideur"] | {
        "message": "Madame Martin vous propose un rendez-vous, mardi."}).body
    assert "Madame Martin vous propose un rendez-vous, mardi." in kept  # a sentence, not a greeting
    inline = TemplateRenderer().render("message_aideur", SAMPLES["message_aideur"] | {
        "message": "Bonjour Alice, voici le nom d'un expert-comptable."}).body
    assert inline.startswith("Bonjour Alice,\n\nVoici le nom d'un expert-comptable.")


def test_elision_and_full_stops_at_the_seams():
    subject = TemplateRenderer().render("notification_reponse", SAMPLES["notification_reponse"] | {
        "name": "Alice Martin"}).subject
    assert "d'Alice Martin" in subject and "de Alice" not in subject
    subject = TemplateRenderer().render("notification_reponse", SAMPLES["notification_reponse"] | {
        "name": "Hélène Roy"}).subject
    assert "d'Hélène Roy" in subject
    body = TemplateRenderer().render("appel", SAMPLES["appel"] | {"reason": "paie, salaires."}).body
    assert "salaires." in body and "salaires.." not in body
    assert elide_word("de", "Alice") == "d'Alice" and elide_word("de", "Bruno") == "de Bruno"
    assert elide_word("que", "Yves") == "qu'Yves"
    assert elide_word("de", "Yannick") == "de Yannick" and elide_word("de", "Hervé") == "d'Hervé"
    assert elide_word("de", "alice@membres.test") == "de alice@membres.test"  # an address is spelt out


@pytest.mark.parametrize(("word", "civility", "expected"), [
    ("inscrit", "madame", "inscrite"), ("inscrit", "monsieur", "inscrit"), ("inscrit", "", "inscrit"),
    ("prévenu", "Madame", "prévenue"), ("seul", None, "seul"), ("informée", "monsieur", "informée"),
])
def test_accord(word, civility, expected):
    assert accord(word, civility) == expected
    assert accord("il", "madame", "elle") == "elle"
    assert civilite(" Madame ") == "madame" and civilite("Mme X") == ""


@pytest.mark.parametrize(("civility", "expected", "absent"), [
    ("madame", "Jean Dupont <jean@ailleurs.test> s'est inscrite", "s'est inscrit "),
    ("monsieur", "Jean Dupont <jean@ailleurs.test> s'est inscrit par mail", "inscrite"),
    ("", "Jean Dupont <jean@ailleurs.test>", "s'est inscrit"),
])
def test_new_member_notice_agrees_with_the_civility(civility, expected, absent):
    body = render("notification_nouveau_membre", civility).body.replace("\n", " ")
    assert expected in body and absent not in body
    if civility == "madame":
        assert "qu'elle l'a écrite" in body


@pytest.mark.parametrize("civility", ["madame", "monsieur", ""])
def test_late_notice_to_aideur_never_misagrees(civility):
    body = render("alerte_retard", civility).body.replace("\n", " ")
    assert "a été prévenu " not in body or civility == "monsieur"
    if civility == "madame":
        assert "Alice Martin a été prévenue" in body
    if not civility:
        assert "Nous avons prévenu Alice Martin" in body


def test_no_break_spaces_in_body_but_plain_subject():
    rendered = render("accuse_reception")
    assert f"réponse{NBSP}:" not in rendered.subject and " : " in rendered.subject
    assert f"RÉSOLU{NBSP}:" in rendered.body


def test_the_conditions_are_the_clubs_text_corrected_and_promise_nothing_mailbot_lacks():
    """The invitation quotes the club's conditions: typos of the 2018 text corrected, no site, chat or coded
    member zones (mailbot provides none), the rules and the announced activities, polls and documentation kept."""
    from mailbot.config import DEFAULT_CONDITIONS_FILE

    text = DEFAULT_CONDITIONS_FILE.read_text(encoding="utf-8")
    folded = " ".join(text.split()).lower()
    for promise in ("site", "tchat", "chat", "forum", "vidéo", "code", "codée", "zones"):
        assert not re.search(rf"\b{promise}s?\b", folded), promise
    for typo in ("concept est non", "seront gratuits", "sera respectée", "contre-partie", "téléphone ,",
                 "de son côté le membre a solutionné son problème de son côté", "a l'inscription", "..."):
        assert typo not in folded, typo
    for rule in ("anonymat du demandeur sera respecté", "qu'avec l'accord de chacun",
                 "premier entretien est toujours gratuit", "formulaire de résultat", "plusieurs devis", "formations", "sondages", "documentation",
                 "en cas de retard, le membre en sera informé et en connaîtra les raisons"):
        assert rule in folded, rule
    body = TemplateRenderer().render("invitation", SAMPLES["invitation"] | {"conditions": text}).body
    assert problems(body, to_aideur=False, member_mail=True) == []
    assert f"une «{NBSP}machine{NBSP}» qui sait tout" in body


def test_excerpt_keeps_the_writers_lines():
    from mailbot.compose import excerpt

    assert excerpt("Bonjour,  \n\n\n\nJean Dupont\n06 11 22 33 44\n", 100) == "Bonjour,\n\nJean Dupont\n06 11 22 33 44"
    cut = excerpt("Un mot\n" * 50, 40)
    assert len(cut) <= 40 and cut.endswith("…") and "\n" in cut


@pytest.mark.parametrize(("promise", "expected"), [
    ("answer", f"votre réponse (le Club peut-il aider{NBSP}?) au plus tard le"),
    ("proposals", "le membre attend vos propositions au plus tard le"),
])
def test_the_reminder_keeps_its_spaces_around_a_branch(promise, expected):
    """The issue's « aider ?)au plus tard » and « vos propositionsau plus tard »: a line ending in {% endif %} lost
    its line break; joined as a paragraph, the words keep their space."""
    body = TemplateRenderer().render("rappel_echeance", SAMPLES["rappel_echeance"] | {"promise": promise}).body
    assert expected in " ".join(body.split(" ")).replace("\n", " ")


def test_marks_typed_by_a_sender_change_nothing():
    text = "Bonjour\ue002 de \ue002Alice\ue003.\ue001\nMerci"
    body = TemplateRenderer().render("notification_suivi", SAMPLES["notification_suivi"] | {"text": text}).body
    assert "Bonjour de Alice.\nMerci" in body and not re.search("[\ue000-\ue0ff]", body)


def test_a_form_line_is_never_wrapped_whatever_its_length():
    """The form reader reads a reply line by line: a long profile line cut in two would be read back as a change
    (« Coordonnées dans l'annuaire … : e-mail, » then « téléphone »)."""
    from mailbot.compose import wrap_paragraphs

    long_lines = ["  Coordonnées dans l'annuaire (e-mail, téléphone ou aucune) : e-mail, téléphone",
                  ("Adresse postale : Résidence des Tilleuls, bâtiment B, escalier 4, 12 allée des Acacias, 33000 "
                   "Bordeaux")]
    for line in long_lines:
        assert wrap_paragraphs(line) == line


def test_spaced_punctuation_is_found_where_its_regex_matches():
    """typography finds « : ; ! ? » with str.find (the regex engine's scan of a long request was slow): the marks it
    keeps are exactly those _SPACED_PUNCTUATION matches, whatever follows them (\\s is every Unicode space)."""
    from mailbot import french

    followers = ["", " ", "\t", "\n", "\r", "\x0b", "\x1c", "\x85", NBSP, "\u202f", "\u2028", "\u3000", "»", ")", "]",
                 ".", ",", french.HARD_BREAK, "a", ":", "?", "«", "-", "\ue002"]
    samples = [f"Note{mark}{after}" for mark in ":;!?" for after in followers]
    samples += ["", "?!", "a ;: b", "Heure : 10:30 ; lieu ? salle !\n", "x ?\ny !", ":" * 5]
    for sample in samples:
        assert french._spaced_punctuation(sample) == [m.start() for m in french._SPACED_PUNCTUATION.finditer(sample)]
