"""registration: the filled-in profile form and the acceptance of the conditions, short requests (join, profile,
end, erase), confirmations, and helpers' answers to an appeal."""
from __future__ import annotations

import pytest

from mailbot.parsers.registration import (
    FIELD_LABELS,
    REQUIRED,
    FormReply,
    HelperAnswer,
    Intent,
    confirmation_of,
    helper_answer,
    intent_of,
    parse_form,
)

# --- mails as members send them ---------------------------------------------------------------------------------

INSTRUCTIONS = (
    "Bonjour,\n"
    "\n"
    "Vous êtes invitée à rejoindre le Club Aide, le réseau d'entraide entre professionnels.\n"
    "Les conditions du Club (version V4/2018) sont jointes à ce message.\n"
    "\n"
    "Pour accepter les conditions, écrivez « J'accepte les conditions V4/2018 » sur la ligne\n"
    "Acceptation des conditions, ou en haut de votre réponse.\n"
    "Je n'accepte pas les réponses incomplètes : remplissez chaque ligne.\n"
)
CLUB_SIGNATURE = "\n-- \nClub Aide\nTél : 01 40 00 00 00\nCourriel : contact@club-aide.fr\n"


def form(**values: str) -> str:
    """The form as mailbot prints it, with the given values (the invitation: all empty but Courriel and Appels)."""
    defaults = {"email": "alice@example.fr", "accepts_appeals": "oui"}
    lines = []
    for key, label in FIELD_LABELS.items():
        value = values.get(key, defaults.get(key, ""))
        lines.append(f"{label} : {value}".rstrip() if value else f"{label} :")
    return "\n".join(lines) + "\n"


INVITATION = INSTRUCTIONS + "\n" + form() + CLUB_SIGNATURE


def quoted(text: str, marker: str = "> ") -> str:
    return "\n".join(f"{marker}{line}" if line else marker.rstrip() for line in text.split("\n"))


ATTRIBUTION = "Le mar. 10 mars 2026 à 10:04, Club Aide <club@club-aide.fr> a écrit :\n"
OUTLOOK_HEADER = (
    "De : Club Aide <club@club-aide.fr>\n"
    "Envoyé : mardi 10 mars 2026 10:04\n"
    "À : Alice Martin <alice@example.fr>\n"
    "Objet : Invitation au Club Aide\n"
)

ALICE = {
    "last_name": "Martin",
    "first_name": "Alice",
    "company": "Cabinet Martin Conseil",
    "activity": "Expert-comptable",
    "postal_address": "12 rue des Lilas, 75011 Paris",
    "phone": "+33 6 12 34 56 78",
    "email": "alice@example.fr",
    "skills": "comptabilité, fiscalité des TPE, paie",
    "hobbies": "randonnée, piano",
    "particulars": "parle anglais et allemand",
    "visibility": "membres",
    "accepts_appeals": "oui",
}
FILLED = form(**ALICE, acceptance="J'accepte les conditions V4/2018")


def reply_above_quote(new_text: str, original: str = INVITATION) -> tuple[str, str]:
    return new_text + "\n\n" + ATTRIBUTION + quoted(original), new_text


# --- parse_form: where the form is ------------------------------------------------------------------------------

def test_form_filled_above_the_quote() -> None:
    reply = parse_form(*reply_above_quote("Bonjour,\n\n" + FILLED + "\nMerci,\nAlice"))
    assert dict(reply.values) == ALICE
    assert reply.unreadable == {}
    assert reply.acceptance == "Acceptation des conditions : J'accepte les conditions V4/2018"
    assert reply.refused is False
    assert reply.missing() == ()


def test_form_filled_inline_in_a_quoted_form() -> None:
    text = "Voici mes réponses dans le formulaire.\n\n" + ATTRIBUTION + quoted(INSTRUCTIONS + "\n" + FILLED
                                                                              + CLUB_SIGNATURE)
    reply = parse_form(text, "Voici mes réponses dans le formulaire.")
    assert dict(reply.values) == ALICE
    assert reply.acceptance == "Acceptation des conditions : J'accepte les conditions V4/2018"
    assert reply.missing() == ()


def test_form_filled_inline_in_an_outlook_quote() -> None:
    new_text = "Bonjour, voici le formulaire rempli ci-dessous."
    text = new_text + "\n\n" + OUTLOOK_HEADER + "\n" + INSTRUCTIONS + "\n" + FILLED + CLUB_SIGNATURE
    reply = parse_form(text, new_text)
    assert dict(reply.values) == ALICE
    assert reply.acceptance == "Acceptation des conditions : J'accepte les conditions V4/2018"


def test_deeper_quote_markers_and_no_space_after_them() -> None:
    text = quoted(quoted(FILLED, ">"), ">")
    reply = parse_form(text, "")
    assert reply.values["last_name"] == "Martin"
    assert reply.values["postal_address"] == "12 rue des Lilas, 75011 Paris"


def test_the_club_signature_in_the_quote_is_not_read() -> None:
    # The invitation's signature has a phone line and a Courriel line: they are the club's, not the newcomer's.
    reply = parse_form(*reply_above_quote("Nom : Martin\nPrénom : Alice"))
    assert "phone" not in reply.values
    assert reply.values["email"] == "alice@example.fr"  # prefilled in the quoted invitation
    assert "phone" in reply.missing()


def test_a_signature_phone_does_not_beat_the_form_filled_inline() -> None:
    top = ("Voici mes informations.\n\nCordialement,\nAlice Martin\nTél : 01 23 45 67 89\n"
           "Mail : contact@martin-conseil.fr")
    text = top + "\n\n" + OUTLOOK_HEADER + "\n" + FILLED
    reply = parse_form(text, "Voici mes informations.")
    assert reply.values["phone"] == "+33 6 12 34 56 78"
    assert reply.values["email"] == "alice@example.fr"


# --- parse_form: shapes of a line --------------------------------------------------------------------------------

SHAPES = [
    "Nom : Dupont", "Nom: Dupont", "Nom :Dupont", "NOM : Dupont", "nom : Dupont", "Nom = Dupont",
    "**Nom** : Dupont", "**Nom :** Dupont", "**Nom** : **Dupont**", "__Nom__ : Dupont", "- Nom : Dupont",
    "* Nom : Dupont", "• Nom : Dupont", "-Nom : Dupont", "  Nom : Dupont", "Nom\u00a0: Dupont", "Nom\u202f: Dupont",
    "Nom\uff1a Dupont", "Nom\t: Dupont", "Nom : Dupont\u200b", "> Nom : Dupont", ">> Nom : Dupont", ">Nom : Dupont",
    "> > Nom : Dupont", "Nom de famille : Dupont", "Nom : Dupont ;",
]


@pytest.mark.parametrize("line", SHAPES)
def test_line_shapes(line: str) -> None:
    assert parse_form(line, "").values.get("last_name") == "Dupont"


LABELS = [
    ("Prénom : Jean", "first_name", "Jean"),
    ("Prenom : Jean", "first_name", "Jean"),
    ("PRÉNOM : Jean", "first_name", "Jean"),
    ("Entreprise : Boulangerie Dupont", "company", "Boulangerie Dupont"),
    ("Société : Dupont SARL", "company", "Dupont SARL"),
    ("Societe : Dupont SARL", "company", "Dupont SARL"),
    ("Raison sociale : Dupont SARL", "company", "Dupont SARL"),
    ("Structure : Association Les Amis", "company", "Association Les Amis"),
    ("Activité : boulanger", "activity", "boulanger"),
    ("Activite : boulanger", "activity", "boulanger"),
    ("Métier : boulanger", "activity", "boulanger"),
    ("Profession : boulanger", "activity", "boulanger"),
    ("Adresse : 3 place du Marché, 69002 Lyon", "postal_address", "3 place du Marché, 69002 Lyon"),
    ("Adresse postale : 3 place du Marché, 69002 Lyon", "postal_address", "3 place du Marché, 69002 Lyon"),
    ("Telephone : 06.12.34.56.78", "phone", "06.12.34.56.78"),
    ("Tél : 0612345678", "phone", "0612345678"),
    ("Tél. : 01 23 45 67 89", "phone", "01 23 45 67 89"),
    ("Tel : 01 23 45 67 89", "phone", "01 23 45 67 89"),
    ("Portable : 06 12 34 56 78", "phone", "06 12 34 56 78"),
    ("Mobile : +33 6 12 34 56 78", "phone", "+33 6 12 34 56 78"),
    ("Courriel : jean.dupont@orange.fr", "email", "jean.dupont@orange.fr"),
    ("E-mail : jean.dupont@orange.fr", "email", "jean.dupont@orange.fr"),
    ("Email : jean.dupont@orange.fr", "email", "jean.dupont@orange.fr"),
    ("Mail : jean.dupont@orange.fr", "email", "jean.dupont@orange.fr"),
    ("Adresse e-mail : jean.dupont@orange.fr", "email", "jean.dupont@orange.fr"),
    ("Adresse mail : jean.dupont@orange.fr", "email", "jean.dupont@orange.fr"),
    ("Courriel : Jean.Dupont@Orange.FR", "email", "jean.dupont@orange.fr"),
    ("Courriel : jean.dupont@orange.fr <mailto:jean.dupont@orange.fr>", "email", "jean.dupont@orange.fr"),
    ("Compétences : pâtisserie", "skills", "pâtisserie"),
    ("Competences : pâtisserie", "skills", "pâtisserie"),
    ("Savoir-faire : pâtisserie", "skills", "pâtisserie"),
    ("Loisirs : vélo", "hobbies", "vélo"),
    ("Hobbies : vélo", "hobbies", "vélo"),
    ("Centres d'intérêt : vélo", "hobbies", "vélo"),
    ("Centres d\u2019intérêt : vélo", "hobbies", "vélo"),
    ("Particularités : malentendant", "particulars", "malentendant"),
    ("Particularites : malentendant", "particulars", "malentendant"),
    ("Visibilité (confidentielle ou membres) : confidentielle", "visibility", "confidentielle"),
    ("Visibilité : membres", "visibility", "membres"),
    ("Visibilite : membres", "visibility", "membres"),
    ("Confidentialité : confidentielle", "visibility", "confidentielle"),
    ("Appels du réseau (oui ou non) : non", "accepts_appeals", "non"),
    ("Appels du reseau : non", "accepts_appeals", "non"),
    ("Appels : non", "accepts_appeals", "non"),
]


@pytest.mark.parametrize(("line", "key", "value"), LABELS, ids=[label[0] for label in LABELS])
def test_labels_and_synonyms(line: str, key: str, value: str) -> None:
    assert dict(parse_form(line, line).values) == {key: value}


def test_adresse_alone_is_postal_and_adresse_email_is_email() -> None:
    reply = parse_form("Adresse : 5 avenue Foch, 13001 Marseille\nAdresse e-mail : paul@laposte.net", "")
    assert reply.values["postal_address"] == "5 avenue Foch, 13001 Marseille"
    assert reply.values["email"] == "paul@laposte.net"


def test_nom_de_l_entreprise_is_the_company_not_the_name() -> None:
    reply = parse_form("Nom de l'entreprise : Dupont Frères\nNom : Dupont", "")
    assert reply.values["company"] == "Dupont Frères"
    assert reply.values["last_name"] == "Dupont"


def test_fields_in_another_order_without_accents() -> None:
    new_text = (
        "Telephone : 06 98 76 54 32\n"
        "Competences : droit du travail\n"
        "Prenom : Sophie\n"
        "Societe : Lefèvre Avocats\n"
        "Nom : Lefèvre\n"
        "Activite : avocate\n"
        "Visibilite : confidentiel\n"
        "Adresse : 8 cours Mirabeau, 13100 Aix-en-Provence\n"
    )
    reply = parse_form(*reply_above_quote(new_text))
    assert dict(reply.values) == {
        "last_name": "Lefèvre", "first_name": "Sophie", "company": "Lefèvre Avocats", "activity": "avocate",
        "postal_address": "8 cours Mirabeau, 13100 Aix-en-Provence", "phone": "06 98 76 54 32",
        "email": "alice@example.fr", "skills": "droit du travail", "visibility": "confidentielle",
        "accepts_appeals": "oui",
    }
    assert reply.missing() == ()


# --- parse_form: values over several lines -----------------------------------------------------------------------

def test_multi_line_address() -> None:
    text = "Nom : Martin\nAdresse postale : 12 rue des Lilas\nBâtiment B\n75011 Paris\nTéléphone : 0612345678"
    reply = parse_form(text, "")
    assert reply.values["postal_address"] == "12 rue des Lilas, Bâtiment B, 75011 Paris"
    assert reply.values["phone"] == "0612345678"


def test_address_starting_on_the_line_below_its_label() -> None:
    reply = parse_form("Adresse postale :\n12 rue des Lilas,\n75011 Paris\n\nMerci", "")
    assert reply.values["postal_address"] == "12 rue des Lilas, 75011 Paris"


def test_continuation_stops_at_an_empty_line_a_sign_off_and_the_acceptance_sentence() -> None:
    reply = parse_form("Adresse : 3 rue Nationale\n59000 Lille\n\nJe reste disponible.", "")
    assert reply.values["postal_address"] == "3 rue Nationale, 59000 Lille"
    reply = parse_form("Loisirs : tennis\nCordialement,\nPaul", "")
    assert reply.values["hobbies"] == "tennis"
    reply = parse_form("Particularités : aucune\nJ'accepte les conditions V4/2018", "")
    assert reply.values["particulars"] == ""
    reply = parse_form("Compétences : paie\n-- \nPaul Durand\nTél : 01 23 45 67 89", "")
    assert reply.values["skills"] == "paie"
    assert "phone" not in reply.values


def test_skills_one_a_line_and_a_wrapped_sentence() -> None:
    assert parse_form("Compétences :\n- comptabilité\n- fiscalité", "").values["skills"] == "comptabilité, fiscalité"
    assert parse_form("Compétences : Comptabilité\nFiscalité", "").values["skills"] == "Comptabilité, Fiscalité"
    wrapped = "Particularités : je parle anglais et\nallemand couramment"
    assert parse_form(wrapped, "").values["particulars"] == "je parle anglais et allemand couramment"


def test_only_free_text_fields_continue() -> None:
    reply = parse_form("Nom : Martin\nAlice", "")
    assert reply.values["last_name"] == "Martin"


# --- parse_form: missing and unreadable fields -------------------------------------------------------------------

def test_missing_names_the_required_fields_left_empty() -> None:
    new_text = form(last_name="Martin", first_name="Alice", activity="graphiste")
    reply = parse_form(*reply_above_quote(new_text))
    assert reply.missing() == ("company", "postal_address", "phone", "visibility")
    assert reply.missing(("phone", "email")) == ("phone",)


def test_the_empty_invitation_is_all_missing() -> None:
    reply = parse_form(*reply_above_quote("Bonjour, je suis intéressée !"))
    assert reply.missing() == REQUIRED
    assert dict(reply.values) == {"email": "alice@example.fr", "accepts_appeals": "oui"}
    assert reply.acceptance is None


UNREADABLE = [
    ("Téléphone : 12", "phone", "« 12 » n'est pas un numéro de téléphone complet"),
    ("Téléphone : 06 12 34 56", "phone", "« 06 12 34 56 »"),
    ("Téléphone : 06 12 34 56 78 90 12 34", "phone", "numéro de téléphone"),
    ("Téléphone : le soir", "phone", "« le soir »"),
    ("Courriel : jean.dupont@", "email", "« jean.dupont@ » n'est pas une adresse e-mail"),
    ("Courriel : jean.dupont at orange.fr", "email", "adresse e-mail"),
    ("Courriel : jean@orange", "email", "adresse e-mail"),
    ("Courriel : jean@orange.fr, paul@free.fr", "email", "adresse e-mail"),
    ("Visibilité : peut-être", "visibility", "« confidentielle »"),
    ("Visibilité (confidentielle ou membres) : confidentielle ou membres", "visibility", "« membres »"),
    ("Visibilité : pas visible", "visibility", "« pas visible »"),
    ("Appels du réseau (oui ou non) : ça dépend", "accepts_appeals", "« oui »"),
    ("Appels du réseau : oui et non", "accepts_appeals", "« non »"),
]


@pytest.mark.parametrize(("line", "key", "problem"), UNREADABLE, ids=[case[0] for case in UNREADABLE])
def test_unreadable_values_are_explained(line: str, key: str, problem: str) -> None:
    reply = parse_form(line, line)
    assert key not in reply.values
    assert problem in reply.unreadable[key]
    assert key not in reply.missing((key,))


PHONES = ["+33 6 12 34 56 78", "06.12.34.56.78", "0612345678", "01 23 45 67 89", "+33 (0)6 12 34 56 78",
          "06-12-34-56-78", "+41 22 123 45 67", "01 23 45 67 89 / 06 12 34 56 78", "06 12 34 56 78 (portable)"]


@pytest.mark.parametrize("phone", PHONES)
def test_phone_formats(phone: str) -> None:
    reply = parse_form(f"Téléphone : {phone}", "")
    assert reply.values.get("phone") == phone, reply.unreadable


VISIBILITY = [
    ("confidentielle", "confidentielle"), ("Confidentiel", "confidentielle"), ("aideur", "confidentielle"),
    ("Aideur seulement", "confidentielle"), ("privée", "confidentielle"), ("privé", "confidentielle"),
    ("secret", "confidentielle"), ("membres", "membres"), ("Membre", "membres"), ("visible", "membres"),
    ("public", "membres"), ("partagée", "membres"), ("oui", "membres"), ("Visible par les membres", "membres"),
]


@pytest.mark.parametrize(("value", "expected"), VISIBILITY)
def test_visibility_values(value: str, expected: str) -> None:
    assert parse_form(f"Visibilité : {value}", "").values["visibility"] == expected


APPEALS = [("oui", "oui"), ("Oui", "oui"), ("yes", "oui"), ("volontiers", "oui"), ("d'accord", "oui"),
           ("Oui, volontiers", "oui"), ("non", "non"), ("Non merci", "non"), ("no", "non"), ("jamais", "non"),
           ("pas d'accord", "non")]


@pytest.mark.parametrize(("value", "expected"), APPEALS)
def test_appeals_values(value: str, expected: str) -> None:
    assert parse_form(f"Appels du réseau (oui ou non) : {value}", "").values["accepts_appeals"] == expected


@pytest.mark.parametrize("placeholder", ["-", "néant", "Néant", "aucun", "aucune", "Aucune particularité", "rien",
                                         "/", "RAS", "pas de loisirs"])
def test_placeholders_in_optional_fields_are_answered_as_nothing(placeholder: str) -> None:
    text = f"Loisirs : {placeholder}\nParticularités : {placeholder}\nCompétences : {placeholder}"
    reply = parse_form(text, text)
    assert dict(reply.values) == {"hobbies": "", "particulars": "", "skills": ""}
    assert reply.unreadable == {}


@pytest.mark.parametrize("company", ["néant", "Aucune", "Indépendant", "indépendante", "auto-entrepreneur"])
def test_a_professional_without_a_company_says_so(company: str) -> None:
    reply = parse_form(f"Entreprise : {company}", "")
    assert reply.values["company"] == company
    assert "company" not in reply.missing()


@pytest.mark.parametrize("line", ["Nom : -", "Nom : néant", "Prénom : /", "Entreprise : -", "Téléphone : -",
                                  "Visibilité : -", "Activité : aucune", "Nom : ....", "Nom : ______"])
def test_placeholders_in_required_fields_are_missing(line: str) -> None:
    reply = parse_form(line, line)
    assert reply.values == {}
    assert reply.unreadable == {}
    assert len(reply.missing()) == len(REQUIRED)


def test_an_empty_label_fills_nothing() -> None:
    reply = parse_form("Nom :\nPrénom : \nEntreprise :   \nTéléphone : 06 12 34 56 78", "")
    assert dict(reply.values) == {"phone": "06 12 34 56 78"}


# --- parse_form: profile updates ---------------------------------------------------------------------------------

PROFILE = form(**{**ALICE, "phone": "01 23 45 67 89"})
PROFILE_MAIL = "Bonjour Alice,\n\nVoici votre profil au Club Aide. Corrigez les lignes à changer et répondez.\n\n" \
    + PROFILE + CLUB_SIGNATURE


def test_profile_update_written_above_the_quote_wins_over_the_quoted_value() -> None:
    new_text = "Bonjour,\n\nTéléphone : 06 11 22 33 44\n\nMerci"
    reply = parse_form(*reply_above_quote(new_text, PROFILE_MAIL))
    assert reply.values["phone"] == "06 11 22 33 44"
    assert reply.values["last_name"] == "Martin"  # the rest is read from the quoted profile
    assert reply.values["postal_address"] == "12 rue des Lilas, 75011 Paris"


def test_profile_update_changed_inline_below_the_quoted_line() -> None:
    lines = quoted(PROFILE_MAIL).split("\n")
    at = next(index for index, line in enumerate(lines) if line.startswith("> Téléphone"))
    lines.insert(at + 1, "Téléphone : 06 11 22 33 44")
    text = ATTRIBUTION + "\n".join(lines)
    reply = parse_form(text, "Téléphone : 06 11 22 33 44")
    assert reply.values["phone"] == "06 11 22 33 44"
    reply = parse_form(text, "")  # even when split_reply did not keep the interleaved line
    assert reply.values["phone"] == "06 11 22 33 44"


def test_profile_update_changed_in_place_in_an_outlook_quote() -> None:
    edited = PROFILE_MAIL.replace("Loisirs : randonnée, piano", "Loisirs : voile")
    reply = parse_form("Voilà, j'ai changé mes loisirs.\n\n" + OUTLOOK_HEADER + "\n" + edited,
                       "Voilà, j'ai changé mes loisirs.")
    assert reply.values["hobbies"] == "voile"
    assert reply.values["phone"] == "01 23 45 67 89"


def test_an_unreadable_new_value_is_not_replaced_by_the_quoted_old_one() -> None:
    reply = parse_form(*reply_above_quote("Téléphone : 06 11 22", PROFILE_MAIL))
    assert "phone" not in reply.values
    assert "« 06 11 22 »" in reply.unreadable["phone"]


def test_an_empty_new_label_keeps_the_quoted_value() -> None:
    reply = parse_form(*reply_above_quote("Téléphone :\nLoisirs : aucun", PROFILE_MAIL))
    assert reply.values["phone"] == "01 23 45 67 89"
    assert reply.values["hobbies"] == ""  # cleared on purpose


def test_the_least_quoted_value_wins() -> None:
    text = "Nom : Durand\n" + quoted("Nom : Martin\n" + quoted("Nom : Petit"))
    assert parse_form(text, "").values["last_name"] == "Durand"
    assert parse_form(quoted("Nom : Martin\n" + quoted("Nom : Petit")), "").values["last_name"] == "Martin"


# --- parse_form: acceptance --------------------------------------------------------------------------------------

FIELD_YES = ["J'accepte", "j'accepte les conditions", "J'accepte les conditions V4/2018", "oui", "Oui",
             "accepté", "Acceptée", "lu et approuvé", "Lu et approuvé", "bon pour accord", "d'accord", "OK",
             "je valide", "validé", "« J'accepte les conditions V4/2018 »", "J\u2019accepte"]


@pytest.mark.parametrize("value", FIELD_YES)
def test_acceptance_in_the_field(value: str) -> None:
    line = f"Acceptation des conditions : {value}"
    reply = parse_form(*reply_above_quote(line))
    assert reply.acceptance == line
    assert reply.refused is False


@pytest.mark.parametrize("value", ["J'accepte les conditions V4/2018", "oui"])
def test_acceptance_in_the_field_filled_in_the_quote(value: str) -> None:
    text = "Voici.\n\n" + ATTRIBUTION + quoted(INVITATION.replace("Acceptation des conditions :",
                                                                 f"Acceptation des conditions : {value}"))
    assert parse_form(text, "Voici.").acceptance == f"Acceptation des conditions : {value}"


SENTENCES = [
    "J'accepte les conditions V4/2018",
    "J'accepte les conditions V4/2018.",
    "j'accepte les conditions de la prestation",
    "Je valide et accepte les conditions",
    "Conditions acceptées",
    "conditions lues et acceptées",
    "Lu et approuvé",
    "Bon pour accord",
    "Je suis d'accord avec les conditions",
    "J'ai lu et j'accepte les conditions du Club.",
    "I accept the conditions",
    "J\u2019accepte les conditions",
    "J'accepte.",
    "Merci pour l'invitation, j'accepte les conditions avec plaisir !",
]


@pytest.mark.parametrize("sentence", SENTENCES)
def test_acceptance_in_a_sentence_of_the_new_text(sentence: str) -> None:
    new_text = f"Bonjour,\n\n{sentence}\n\n" + form(**ALICE)
    reply = parse_form(*reply_above_quote(new_text))
    assert reply.acceptance == sentence
    assert reply.refused is False


NOT_ACCEPTANCE = [
    "oui",
    "Oui !",
    "Merci, je réponds au plus vite.",
    "Pour accepter les conditions, écrivez « J'accepte les conditions V4/2018 » sur la ligne",  # pasted back
    "J'accepte que mon profil soit visible",  # not the conditions
    "Les conditions me semblent longues",
    "J'accepte votre invitation mais je voudrais lire les conditions",
]


@pytest.mark.parametrize("new_text", NOT_ACCEPTANCE)
def test_no_acceptance(new_text: str) -> None:
    reply = parse_form(*reply_above_quote(new_text))
    assert reply.acceptance is None
    assert reply.refused is False


def test_the_quoted_instructions_never_count_as_acceptance() -> None:
    # The instructions contain "J'accepte les conditions V4/2018" and "Je n'accepte pas": neither counts.
    for text, new_text in (reply_above_quote("Nom : Martin"),
                           ("Nom : Martin\n\n" + OUTLOOK_HEADER + "\n" + INVITATION, "Nom : Martin")):
        reply = parse_form(text, new_text)
        assert reply.acceptance is None
        assert reply.refused is False


def test_an_acceptance_sentence_only_in_the_quote_is_not_an_acceptance() -> None:
    older = "J'accepte les conditions V4/2018\n"
    text = "Nom : Martin\n\n" + ATTRIBUTION + quoted(older + "\n" + INVITATION)
    assert parse_form(text, "Nom : Martin").acceptance is None


REFUSALS = [
    ("Je n'accepte pas les conditions.", ""),
    ("Je n'accepte pas.", ""),
    ("je refuse les conditions", ""),
    ("Je refuse.", ""),
    ("Pas d'accord.", ""),
    ("Je ne suis pas d'accord avec les conditions V4/2018", ""),
    ("Je n\u2019accepte pas les conditions", ""),
    ("Merci, mais je refuse les conditions de la prestation", ""),
    ("", "non"),
    ("", "Non"),
    ("", "je refuse"),
    ("", "je n'accepte pas"),
    ("", "pas d'accord"),
    ("J'accepte les conditions.\nEn fait non, je n'accepte pas.", ""),
]


@pytest.mark.parametrize(("sentence", "field_value"), REFUSALS)
def test_refusal(sentence: str, field_value: str) -> None:
    new_text = sentence + "\n\n" + form(**ALICE, acceptance=field_value)
    reply = parse_form(*reply_above_quote(new_text))
    assert reply.refused is True
    assert reply.acceptance is None


def test_a_refusal_of_something_else_is_not_a_refusal_of_the_conditions() -> None:
    new_text = "J'accepte les conditions V4/2018.\nPar contre, pas d'accord pour recevoir les appels le week-end."
    reply = parse_form(*reply_above_quote(new_text))
    assert reply.refused is False
    # Not an acceptance either (attack 13): a "par contre" on the line below qualifies the acceptance as surely as
    # on its own line, and the acceptance is legal evidence — she is asked again, nothing is refused.
    assert reply.acceptance is None
    reply = parse_form(*reply_above_quote("Je refuse que mon adresse soit communiquée aux autres membres."))
    assert reply.refused is False


def test_an_unclear_acceptance_field_typed_here_is_explained() -> None:
    reply = parse_form(*reply_above_quote("Acceptation des conditions : je verrai"))
    assert reply.acceptance is None
    assert "« je verrai »" in reply.unreadable["acceptance"]
    assert "acceptance" not in reply.values
    # An unclear value in the quote may be our own wording: nothing to explain to the member.
    text = "Bonjour\n\n" + ATTRIBUTION + quoted("Conditions : voir la pièce jointe\n" + form())
    assert "acceptance" not in parse_form(text, "Bonjour").unreadable


def test_an_acceptance_typed_here_beats_a_quoted_old_refusal() -> None:
    old = "Acceptation des conditions : non"
    text = "J'accepte les conditions V4/2018\n\n" + ATTRIBUTION + quoted(old)
    reply = parse_form(text, "J'accepte les conditions V4/2018")
    assert reply.acceptance == "J'accepte les conditions V4/2018"
    assert reply.refused is False


def test_form_reply_missing_uses_values_and_unreadable() -> None:
    reply = FormReply({"last_name": "Martin"}, {"phone": "…"}, None, False)
    assert reply.missing() == ("first_name", "company", "activity", "postal_address", "visibility")


def test_field_labels_are_the_printed_form() -> None:
    assert list(FIELD_LABELS) == ["civility", "last_name", "first_name", "company", "activity", "postal_address",
                                  "phone", "email", "skills", "hobbies", "particulars", "visibility",
                                  "directory_contacts", "accepts_appeals", "accepts_announcements", "image_rights",
                                  "acceptance"]
    # What mailbot prints must read back as what it printed.
    reply = parse_form(FILLED, FILLED)
    assert dict(reply.values) == ALICE


# --- intent_of ---------------------------------------------------------------------------------------------------

INTENTS = [
    ("Inscription", "", Intent.JOIN),
    ("Re: Inscription", "", Intent.JOIN),
    ("Je veux m'inscrire", "", Intent.JOIN),
    ("m'inscrire", "", Intent.JOIN),
    ("Adhésion", "", Intent.JOIN),
    ("ADHESION !", "", Intent.JOIN),
    ("Devenir membre", "", Intent.JOIN),
    ("Rejoindre le club", "", Intent.JOIN),
    ("Demande d'adhésion au Club Aide", "", Intent.JOIN),
    ("Modifier", "", Intent.PROFILE),
    ("Modification", "", Intent.PROFILE),
    ("Mon profil", "", Intent.PROFILE),
    ("profil", "", Intent.PROFILE),
    ("TR: Modifier mon profil", "", Intent.PROFILE),
    ("Mise à jour du profil", "", Intent.PROFILE),
    ("Mes informations", "", Intent.PROFILE),
    ("Changer mes coordonnées", "", Intent.PROFILE),
    ("Résilier", "", Intent.END),
    ("RE : Résiliation", "", Intent.END),
    ("Me désinscrire", "", Intent.END),
    ("Désinscription", "", Intent.END),
    ("Quitter le club", "", Intent.END),
    ("je quitte le club", "", Intent.END),
    ("Démission", "", Intent.END),
    ("Question", "Je démissionne.", Intent.END),
    ("Démission du conseil d'administration : quelles règles ?", "", None),
    ("Je quitte mon emploi", "", None),
    ("Fin d'adhésion", "", Intent.END),
    ("Mettre fin à mon adhésion", "", Intent.END),
    ("Résilier mon adhésion", "", Intent.END),
    ("Effacer mes données", "", Intent.ERASE),
    ("Supprimer mes données", "", Intent.ERASE),
    ("Effacement", "", Intent.ERASE),
    ("Suppression de mes données personnelles", "", Intent.ERASE),
    ("Droit à l'oubli", "", Intent.ERASE),
    ("RGPD effacement", "", Intent.ERASE),
    ("Fwd: effacer mes donnees", "", Intent.ERASE),
    ("Résiliation et effacement de mes données", "", Intent.ERASE),
    ("Résiliation", "Et effacez mes données", Intent.ERASE),
    ("", "Inscription", Intent.JOIN),
    ("", "Bonjour,\n\nJe veux m'inscrire.\n\nMerci", Intent.JOIN),
    ("Bonjour", "Modifier mon profil svp", Intent.PROFILE),
    ("Question", "Bonjour Madame,\nRésiliation\nCordialement", Intent.END),
    ("", "Effacer mes données, merci.", Intent.ERASE),
]


@pytest.mark.parametrize(("subject", "new_text", "intent"), INTENTS, ids=[f"{s}|{t}" for s, t, _ in INTENTS])
def test_intent(subject: str, new_text: str, intent: Intent) -> None:
    assert intent_of(subject, new_text) is intent


NO_INTENT = [
    ("Comment modifier les statuts de ma SARL ?", ""),
    ("Résiliation d'un bail commercial : quel préavis ?", ""),
    ("Mon client veut effacer les données de son site", ""),
    ("Inscription au registre du commerce", ""),
    ("Profil LinkedIn à refaire", ""),
    ("Modification du contrat de travail d'un salarié", ""),
    ("Suppression de poste : procédure de licenciement", ""),
    ("Adhésion à une mutuelle d'entreprise", ""),
    ("Rejoindre un réseau de franchise ?", ""),
    ("Changer de banque professionnelle", ""),
    ("Quitter mon bail avant la fin", ""),
    ("Désinscription d'un salarié de la mutuelle", ""),
    ("Droit à l'oubli pour un ancien client", ""),
    ("Mise à jour du logiciel de paie", ""),
    ("Question RGPD sur les données clients", ""),
    ("RGPD", ""),
    ("Demande d'aide : résiliation de contrat fournisseur", ""),
    ("Besoin d'un conseil", "Comment résilier un contrat d'assurance professionnelle ?"),
    ("Besoin d'un conseil", "Bonjour,\nJe dois modifier les statuts de ma société et je ne sais pas par où commencer."),
    ("", ""),
    ("Re: Re:", "Oui"),
]


@pytest.mark.parametrize(("subject", "new_text"), NO_INTENT, ids=[f"{s}|{t}" for s, t in NO_INTENT])
def test_no_intent_on_real_requests(subject: str, new_text: str) -> None:
    assert intent_of(subject, new_text) is None


def test_only_a_short_first_line_states_the_intent() -> None:
    long_line = "Je souhaiterais vraiment beaucoup m'inscrire au club"  # 8 words
    assert intent_of("", long_line) is None
    assert intent_of("", "Je souhaite m'inscrire au club") is Intent.JOIN
    assert intent_of("", "Bonjour,\nUne question de droit\nInscription") is None  # only the first line counts


# --- confirmation_of ---------------------------------------------------------------------------------------------

CONFIRMED = ["oui", "Oui", "OUI !", "oui je confirme", "Oui, je confirme.", "je confirme", "Je vous confirme",
             "confirmé", "Confirme", "c'est confirmé", "C\u2019est confirmé !", "d'accord", "D'accord.", "ok",
             "OK", "yes", "Oui, merci", "Oui merci beaucoup", "Bonjour,\n\nOui, je confirme.\n\nCordialement",
             "Bonjour Madame,\nOui", "Bonjour, oui je confirme", "Je confirme la résiliation de mon adhésion"]


@pytest.mark.parametrize("text", CONFIRMED)
def test_confirmed(text: str) -> None:
    assert confirmation_of(text) is True


CANCELLED = ["non", "Non", "NON.", "non merci", "Non, merci", "j'annule", "J\u2019annule", "annuler", "Annulez",
             "finalement non", "Finalement, non", "je ne confirme pas", "Je ne confirme pas.", "Non, je reste",
             "Non je reste membre", "pas d'accord", "Bonjour,\nNon merci, je reste au club.\nBonne journée"]


@pytest.mark.parametrize("text", CANCELLED)
def test_cancelled(text: str) -> None:
    assert confirmation_of(text) is False


UNCLEAR = ["", "Bonjour,", "Je ne sais pas", "Pourquoi ?", "Oui mais pas tout de suite", "Oui ?",
           "Non, je confirme", "Oui, enfin non", "Peut-être", "Oui, sauf si je peux garder mon profil",
           "Pouvez-vous me rappeler ?", "Merci", "Je vous confirme que mon adresse a changé depuis"]


@pytest.mark.parametrize("text", UNCLEAR)
def test_unclear_confirmation(text: str) -> None:
    assert confirmation_of(text) is None


# --- helper_answer -----------------------------------------------------------------------------------------------

DECLINES = [
    "non merci",
    "Non, merci",
    "Non merci, bon courage !",
    "Non.",
    "pas disponible",
    "Je ne suis pas disponible en ce moment.",
    "Je ne suis malheureusement pas disponible",
    "je ne peux pas",
    "Désolé, je ne pourrai pas.",
    "impossible pour moi",
    "Impossible pour moi ce mois-ci, désolée.",
    "pas le temps",
    "Je n'ai pas le temps en ce moment",
    "pas mon domaine",
    "Ce n'est pas mon domaine, désolé.",
    "je passe mon tour",
    "Je passe.",
    "désolé, non",
    "Désolée non",
    "no thanks",
    "Sorry, I can't help",
    "Bonjour,\n\nNon merci.\n\nCordialement,\nPierre",
    "Pas disponible cette fois, volontiers une autre fois",
    "Je n'y connais rien, désolé",
    "Malheureusement non",
    "Hélas, non.",
    "Pas cette fois",
    "Je ne pense pas pouvoir aider",
    "Je ne vais pas pouvoir",
    "Je suis débordée, désolée",
    "Je peux pas",
    "Je regrette mais je ne peux pas",
]


@pytest.mark.parametrize("text", DECLINES)
def test_helper_declines(text: str) -> None:
    assert helper_answer(text) is HelperAnswer.DECLINE


OFFERS = [
    "je peux aider",
    "Je peux aider.",
    "Je ne peux pas me déplacer mais je peux aider par téléphone",
    "Désolé du retard, je peux aider",
    "pas disponible cette semaine mais volontiers la semaine prochaine",
    "Volontiers !",
    "Avec plaisir, appelez-moi au 06 12 34 56 78",
    "Je ne suis pas disponible lundi, mais je suis disponible mardi.",
    "Je connais bien ce sujet, j'ai eu le même problème l'an dernier.",
    "Je ne peux pas m'en occuper moi-même, mais je connais quelqu'un : je vous mets en contact.",
    "Non seulement je peux aider, mais j'ai un modèle de contrat.",
    "Oui",
    "J'ai fait ça pour trois clients.",
    "Pas mon domaine exact, mais je peux donner un premier avis",
    "I can help with this",
    "Non, mais je peux vous orienter vers un confrère",
    "Je pourrais aider, mais pas avant mars",
    "Pas cette fois-ci, mais la prochaine fois avec plaisir",
    "Je ne suis pas sûr de pouvoir aider, à voir ensemble",
    "Bonjour,\nJe suis intéressé, contactez-moi.",
    "",
]


@pytest.mark.parametrize("text", OFFERS)
def test_helper_offers(text: str) -> None:
    assert helper_answer(text) is HelperAnswer.OFFER


def test_quoted_appeal_text_does_not_decide() -> None:
    assert helper_answer("Je peux aider\n> Non merci de répondre avant vendredi") is HelperAnswer.OFFER
    assert helper_answer("Non merci\n> Je peux aider ? Répondez « je peux aider »") is HelperAnswer.DECLINE


def test_address_split_by_outlook_paragraphs_keeps_its_postcode_line():
    """Outlook's HTML puts each typed line in its own paragraph: the text has a blank line inside the address."""
    text = "Nom : Lefèvre\n\nAdresse postale : 8 allée des Tilleuls\n\n33000 Bordeaux\n\nTéléphone : 06 55 44 33 22"
    form = parse_form(text, text)
    assert form.values["postal_address"] == "8 allée des Tilleuls, 33000 Bordeaux"
    assert form.values["phone"] == "06 55 44 33 22"
    # but an unrelated line after a blank line is not swallowed
    text = "Adresse postale : 8 allée des Tilleuls\n\nMerci beaucoup"
    assert parse_form(text, text).values["postal_address"] == "8 allée des Tilleuls"


# Civility (issue 12): optional, read in any usual spelling, so that the mails can agree ("inscrite", "prévenu").
@pytest.mark.parametrize(("line", "expected"), [
    ("Civilité : Madame", "madame"), ("Civilité : Mme", "madame"), ("civilite: mme.", "madame"),
    ("Civilité : Mademoiselle", "madame"), ("Civilité (Madame, Monsieur, ou rien) : Monsieur", "monsieur"),
    ("Civilité : M.", "monsieur"), ("Civilité : Mr", "monsieur"), ("> Civilité : monsieur", "monsieur"),
    ("Civilité : rien", ""), ("Civilité : je préfère ne pas le dire", ""), ("Civilité : -", ""),
    ("Civilité : néant", ""),
])
def test_civility_is_read(line: str, expected: str) -> None:
    reply = parse_form(line, line)
    assert reply.values.get("civility") == expected and not reply.unreadable


@pytest.mark.parametrize("line", ["Civilité :", "> Civilité (Madame, Monsieur, ou rien) :",
                                  "Civilité (Madame, Monsieur, ou rien) : Madame, Monsieur, ou rien"])
def test_civility_left_as_printed_is_not_an_answer(line: str) -> None:
    reply = parse_form(line, line)
    assert "civility" not in reply.values and not reply.unreadable


def test_civility_not_understood_is_explained() -> None:
    reply = parse_form("Civilité : Docteur", "Civilité : Docteur")
    assert "civility" not in reply.values
    assert "Madame" in reply.unreadable["civility"] and "Docteur" in reply.unreadable["civility"]
    assert "civility" not in REQUIRED


# The acceptance is legal evidence, read like a consent (stop 17: a stranger's attack): the field, or the sentence
# from its words that accept onward, must be a plain yes. A condition, a doubt, a question, a delay is no acceptance.
@pytest.mark.parametrize("value", [
    "oui sous réserve de lecture par mon avocat", "oui ?", "OK si c'est gratuit", "oui... enfin je crois",
    "Oui peut-être", "oui, après relecture par mon associé", "J'accepte, mais pas l'article 4", "oui lol",
    "ok, je vous redis demain",
])
def test_a_qualified_yes_in_the_field_is_no_acceptance(value: str) -> None:
    line = f"Acceptation des conditions : {value}"
    reply = parse_form(*reply_above_quote(line))
    assert reply.acceptance is None


@pytest.mark.parametrize("sentence", [
    "Si j'accepte les conditions, que se passe-t-il ?", "Je ne sais pas si j'accepte les conditions",
    "J'accepte les conditions sauf l'article 4", "J'accepte les conditions sous réserve de les relire",
    "J'accepte les conditions, enfin je crois", "J'accepte les conditions quand mon associé les aura lues",
])
def test_a_qualified_sentence_is_no_acceptance(sentence: str) -> None:
    reply = parse_form(*reply_above_quote(f"Bonjour,\n\n{sentence}\n\n" + form(**ALICE)))
    assert reply.acceptance is None


# --- The form in decomposed Unicode (attack round 13, point 11) ----------------------------------------------------
# Every text the parsers read is composed (NFC): mime.body_text composes the mail's body once for every reader, and
# parse_form composes what it is given directly.

def _nfd(text: str) -> str:
    import unicodedata
    return unicodedata.normalize("NFD", text)


def test_a_registration_form_in_nfd_reads_like_the_same_form_in_nfc() -> None:
    """A newcomer's filled form arrives decomposed ("Pre\\u0301nom", "Te\\u0301le\\u0301phone"), as text pasted from
    some macOS/iOS apps is. Before: every label with an accent was missed (no first name, activity, phone, skills,
    visibility), the phone and skills glued into the postal address, and nothing reported unreadable."""
    from tests.integration.test_registration import ACCEPT, FILLED

    text = FILLED.replace("membres", "confidentielle") + "\n\n" + ACCEPT
    nfc = parse_form(text, text)
    nfd = parse_form(_nfd(text), _nfd(text))
    assert nfc.values["visibility"] == "confidentielle"
    assert nfd == nfc


@pytest.mark.parametrize("label", ["Prénom", "Téléphone", "Activité", "Compétences", "Visibilité"])
def test_one_decomposed_label_in_a_composed_form_is_read(label: str) -> None:
    """Only one label decomposed (a line pasted from another app): before, its value was lost or glued above."""
    from tests.integration.test_registration import ACCEPT, FILLED

    text = FILLED + "\n\n" + ACCEPT
    mixed = text.replace(label, _nfd(label))
    assert parse_form(mixed, mixed) == parse_form(text, text)


def test_a_decomposed_form_in_a_mail_is_read_and_its_text_is_composed() -> None:
    """Through parse_mail: the body (quoted-printable, NFD) is composed once; the form and every other reader see the
    same text as for the composed mail."""
    from email.message import EmailMessage

    from mailbot.parsers import parse_mail
    from tests.integration.test_registration import ACCEPT, FILLED

    def mail(body: str, subject: str) -> bytes:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "h@exemple.fr", "aide@club.test", subject
        message["Message-ID"] = "<nfd@exemple.fr>"
        message.set_content(body, cte="quoted-printable")
        return message.as_bytes()

    text = FILLED + "\n\n" + ACCEPT
    composed = parse_mail(mail(text, "Inscription à votre club"))
    decomposed = parse_mail(mail(_nfd(text), _nfd("Inscription à votre club")))
    assert decomposed.text == composed.text and decomposed.new_text == composed.new_text
    assert decomposed.subject == composed.subject == "Inscription à votre club"
    assert parse_form(decomposed.text, decomposed.new_text) == parse_form(text, text)
# --- attack 13: the lines she writes under the acceptance are read with it --------------------------------------

@pytest.mark.parametrize("after", [
    # the attacker's
    "Non finalement.", "Sauf l'article 4.", "Je plaisante.", "Mais je dois d'abord en parler à mon associé.",
    # the same cases in other words
    "Enfin, je crois.", "En fait non.", "Pour l'instant.", "PS : je relis l'article 4 demain",
    "Cordialement,\nAlice Martin\nPS : sous réserve de relecture",
])
def test_an_acceptance_taken_back_on_a_line_below_is_not_an_acceptance(after: str) -> None:
    """Attack 13: "J'accepte les conditions." then, on the next line, "Non finalement." / "Sauf l'article 4." /
    "Je plaisante." was recorded as the acceptance — registration._acceptance read each line alone. The lines she
    wrote under it outside the form (a PS under her signature too) are now read with it, as a consent's are."""
    text = "J'accepte les conditions.\n" + after
    reply = parse_form(text, text)
    assert reply.acceptance is None, (text, reply.acceptance)


@pytest.mark.parametrize("after", ["Cordialement,\nAlice Martin", "Merci !\n\nAlice Martin\n06 12 34 56 78",
                                   "Bonne journée", ""])
def test_a_closing_and_a_signature_under_the_acceptance_leave_it_whole(after: str) -> None:
    text = "J'accepte les conditions V4/2018.\n" + after
    assert parse_form(text, text).acceptance == "J'accepte les conditions V4/2018."


def test_the_form_below_the_acceptance_is_not_read_as_her_words_about_it() -> None:
    # The form's values (an address over two lines, skills) are answers to the form, not words about the acceptance.
    new_text = "J'accepte les conditions V4/2018\n\n" + form(**ALICE)
    assert parse_form(*reply_above_quote(new_text)).acceptance == "J'accepte les conditions V4/2018"
# --- a "no" to an appeal that says more (attack 13, case 14) ----------------------------------------------------

SAYS_MORE = [
    ("Non, désolé, ce n'est pas mon domaine. Par contre, mon local a été cambriolé cette nuit : j'ai besoin d'un "
     "serrurier en urgence, pouvez-vous m'aider ?"),
    "Non merci. Au fait, connaissez-vous un bon expert-comptable à Lyon ?",
    "Pas disponible. En revanche je cherche moi-même un avocat en droit commercial.",
    "Je ne peux pas cette semaine, sauf si c'est urgent.",
    "Non merci, pas le temps. Une question : ma cotisation est-elle à jour",
    "Impossible pour moi ce mois-ci, mais recontactez-moi en mars.",
]


@pytest.mark.parametrize("text", DECLINES)
def test_a_bare_no_says_nothing_more(text: str) -> None:
    from mailbot.parsers.registration import decline_says_more
    assert decline_says_more(text) is False


@pytest.mark.parametrize("text", SAYS_MORE)
def test_a_no_with_a_question_a_request_or_a_condition_says_more(text: str) -> None:
    """Before: such a "no" was read DECLINE and nothing else (workflows/appeals.helper_reply notified nobody):
    the helper's own request or question was lost. Now it is still a decline, but one that says more."""
    from mailbot.parsers.registration import decline_says_more
    assert helper_answer(text) is HelperAnswer.DECLINE
    assert decline_says_more(text) is True
