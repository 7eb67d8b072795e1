"""privacy: what must not reach the network in an appeal (find_leaks), and what erasure removes (scrub)."""
from __future__ import annotations

import unicodedata

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from mailbot import privacy
from mailbot.parsers.dates import fold
from mailbot.privacy import (
    ANY_ADDRESS,
    ANY_EMAIL,
    ANY_PHONE,
    COMPANY,
    COMPANY_NUMBER,
    EMAIL,
    EMAIL_DOMAIN,
    FIRST_NAME,
    IBAN,
    LAST_NAME,
    PHONE,
    POSTAL_ADDRESS,
    REQUESTER_WHATS,
    Identity,
    Leak,
    disguise_note,
    find_identity,
    find_leaks,
    normalise,
    scrub,
)

ALICE = Identity(
    first_name="Alice",
    last_name="Martin",
    company="Boulangerie Martin SARL",
    email="alice.martin@exemple.fr",
    phone="06 12 34 56 78",
    postal_address="12 rue des Lilas, 75011 Paris",
)

SIGNATURE = (
    "Cordialement,\nAlice Martin\nBoulangerie Martin SARL\n12 rue des Lilas, 75011 Paris\n06 12 34 56 78\n"
    "alice.martin@exemple.fr"
)
REQUEST = "Bonjour,\nJe cherche un avocat pour un litige avec mon bailleur.\nMerci d'avance.\n" + SIGNATURE

CLEAN_APPEAL = (
    "Un membre, boulanger à Paris, cherche conseil sur un litige avec son bailleur au sujet d'un loyer de 1 200 € ; "
    "réponse souhaitée avant le 15/12/2026 (CA-2026-0042)"
)


def pairs(text: str, identity: Identity = ALICE) -> list[tuple[str, str]]:
    return [(leak.what, leak.found) for leak in find_leaks(text, identity)]


def whats(text: str, identity: Identity = ALICE) -> set[str]:
    return {leak.what for leak in find_leaks(text, identity)}


# --- The realistic cases -------------------------------------------------------------------------------------------

def test_every_line_of_a_signature_block_is_found() -> None:
    leaks = find_leaks(REQUEST, ALICE)
    lines_found = {leak.line for leak in leaks}
    for line in SIGNATURE.splitlines()[1:]:
        assert line in lines_found, line
    assert {(leak.what, leak.found, leak.line) for leak in leaks} >= {
        (FIRST_NAME, "Alice", "Alice Martin"),
        (LAST_NAME, "Martin", "Alice Martin"),
        (COMPANY, "Boulangerie Martin SARL", "Boulangerie Martin SARL"),
        (POSTAL_ADDRESS, "12 rue des Lilas", "12 rue des Lilas, 75011 Paris"),
        (PHONE, "06 12 34 56 78", "06 12 34 56 78"),
        (EMAIL, "alice.martin@exemple.fr", "alice.martin@exemple.fr"),
    }


def test_leaks_come_in_text_order_without_duplicates() -> None:
    text = "Martin, puis MARTIN, puis Martin encore ; Alice."
    assert pairs(text) == [(LAST_NAME, "Martin"), (LAST_NAME, "MARTIN"), (FIRST_NAME, "Alice")]


def test_the_line_is_the_whole_stripped_line() -> None:
    [leak] = find_leaks("Objet : appel\n   Voir avec Mme Martin demain.  \r\nMerci", ALICE)
    assert leak == Leak(LAST_NAME, "Martin", "Voir avec Mme Martin demain.")


def test_a_clean_appeal_has_no_leak() -> None:
    assert find_leaks(CLEAN_APPEAL, ALICE) == []
    assert scrub(CLEAN_APPEAL, ALICE) == CLEAN_APPEAL


@pytest.mark.parametrize("text", [
    "Réponse avant le 15/12/2026, ou le 2026-12-15 au plus tard, ou le 01.12.2026 14h30.",
    "Rendez-vous à 14h30 ou à 9 h 15.",
    "Le devis est de 12 000 euros, l'acompte de 1 200 € et la remise de 15 %.",
    "Un budget de 123 456 789 € (sic).",
    "Une hausse de +10 000 000 € sur dix ans, puis 732829320 € de dette.",
    "Ticket CA-2026-0042, voir aussi CA-2025-12345.",
    "Le local est dans le 75011, à Paris, rue de la Roquette.",
    "Trois lots : 12, 34 et 56 ; année 2026.",
    "Commande n° 123456788 en attente.",  # nine digits whose Luhn key does not check out
])
def test_numbers_that_are_not_contacts(text: str) -> None:
    assert find_leaks(text, ALICE) == []


# --- Names ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, found", [
    ("DUPONT", "DUPONT"),
    ("dupont", "dupont"),
    ("Du-Pont", "Du-Pont"),
    ("M. Dupont.", "Dupont"),
    ("(dupont)", "dupont"),
])
def test_last_name_in_any_case_and_hyphenation(text: str, found: str) -> None:
    assert pairs(text, Identity(last_name="Dupont")) == [(LAST_NAME, found)]


@pytest.mark.parametrize("text", ["Dupontel", "Dupond", "le chantier du pont", "les ponts", "Dupon t"])
def test_last_name_on_word_boundaries_only(text: str) -> None:
    # "du pont" is a bridge: a space may split a name only where the name itself has one.
    assert find_leaks(text, Identity(last_name="Dupont")) == []


@pytest.mark.parametrize("text", ["Le Goff", "LE GOFF", "le-goff", "Legoff", "goff"])
def test_name_written_in_two_words(text: str) -> None:
    assert whats(text, Identity(last_name="Le Goff")) == {LAST_NAME}


def test_particle_of_a_name_alone_is_not_a_leak() -> None:
    assert find_leaks("Il est le meilleur.", Identity(last_name="Le Goff")) == []


def test_each_half_of_a_compound_last_name_is_a_leak() -> None:
    identity = Identity(last_name="Dupont-Moretti")
    assert pairs("Dupont Moretti", identity) == [(LAST_NAME, "Dupont Moretti")]
    assert pairs("Maître Moretti", identity) == [(LAST_NAME, "Moretti")]
    assert pairs("chez dupont", identity) == [(LAST_NAME, "dupont")]


@pytest.mark.parametrize("text", ["Jean-Pierre", "Jean Pierre", "jean pierre", "JEAN-PIERRE", "Jeanpierre"])
def test_compound_first_name_in_any_spelling(text: str) -> None:
    assert pairs(text, Identity(first_name="Jean-Pierre")) == [(FIRST_NAME, text)]


def test_half_of_a_compound_first_name_is_not_reported() -> None:
    assert find_leaks("Jean est venu avec une pierre.", Identity(first_name="Jean-Pierre")) == []


@pytest.mark.parametrize("text", ["Hélène", "Helene", "HÉLÈNE", "HELENE", "hélene"])
def test_accents_do_not_matter(text: str) -> None:
    assert pairs(text, Identity(first_name="Hélène")) == [(FIRST_NAME, text)]
    assert pairs(fold(text), Identity(first_name="HELENE")) == [(FIRST_NAME, fold(text))]


def test_first_name_alone_is_a_leak() -> None:
    assert pairs("Alice a besoin d'un comptable.") == [(FIRST_NAME, "Alice")]
    assert find_leaks("Alicette et Malice", ALICE) == []


@pytest.mark.parametrize("name, text", [
    ("Pierre", "un mur en pierre"),
    ("Rose", "des roses et une rose"),
    ("Claire", "une réponse claire"),
    ("Marine", "la marine marchande"),
    ("Constance", "avec constance"),
    ("Olive", "huile d'olive"),
])
def test_first_names_that_are_words_are_still_reported(name: str, text: str) -> None:
    # Chosen: refusing an appeal costs one rephrasing, a leak cannot be undone.
    assert whats(text, Identity(first_name=name)) == {FIRST_NAME}


def test_names_of_one_or_two_letters_are_ignored() -> None:
    assert find_leaks("Li et Jo sont là, ba, li.", Identity(first_name="Jo", last_name="Li")) == []
    # Both together are the person, "Nom, Prénom" included (attack review: "Li Wu" reached helpers).
    assert find_leaks("ba, li, jo.", Identity(first_name="Jo", last_name="Li"))


# --- Company -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, found", [
    ("la boulangerie Martin", "boulangerie Martin"),
    ("BOULANGERIE MARTIN SARL", "BOULANGERIE MARTIN SARL"),
    ("boulangerie-martin", "boulangerie-martin"),
    ("SARL Boulangerie Martin", "SARL Boulangerie Martin"),
])
def test_company_name_without_its_legal_form(text: str, found: str) -> None:
    assert (COMPANY, found) in pairs(text)


def test_company_generic_word_alone_is_not_a_leak() -> None:
    assert find_leaks("Une boulangerie du quartier cherche un apprenti.", ALICE) == []
    assert find_leaks("une boulangerie", Identity(company="Boulangerie SARL")) == []


def test_company_distinctive_word_alone_is_a_leak() -> None:
    identity = Identity(company="Plomberie Zanetti & Fils SAS")
    assert pairs("Les Zanetti ont répondu.", identity) == [(COMPANY, "Zanetti")]
    assert find_leaks("Une plomberie, père et fils.", identity) == []


@pytest.mark.parametrize("text", [
    "Plomberie Zanetti & Fils SAS", "plomberie zanetti et fils", "PLOMBERIE ZANETTI ET FILS SAS",
    "Plomberie Zanetti Fils",
])
def test_company_with_ampersand_or_et(text: str) -> None:
    assert pairs(text, Identity(company="Plomberie Zanetti & Fils SAS")) == [(COMPANY, text)]


@pytest.mark.parametrize("text", ["Martin et Cie", "MARTIN & CIE", "martin & cie", "Martin et Cie SARL"])
def test_et_cie_goes_with_the_name(text: str) -> None:
    # Erasing "Martin" but leaving "et Cie" would be a clumsy scrub.
    assert pairs(text, Identity(company="Martin et Cie")) == [(COMPANY, text)]
    assert scrub(f"({text})", Identity(company="Martin & Cie")) == "([effacé])"


def test_short_legal_form_in_lower_case_is_prose() -> None:
    identity = Identity(company="Atelier Kerbrat SA")
    assert pairs("Atelier Kerbrat SA", identity) == [(COMPANY, "Atelier Kerbrat SA")]
    assert pairs("atelier kerbrat sa fille", identity) == [(COMPANY, "atelier kerbrat")]


# --- E-mail --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "alice.martin@exemple.fr",
    "Alice.Martin@Exemple.FR",
    "alice.martin at exemple point fr",
    "alice.martin (at) exemple.fr",
    "alice.martin[at]exemple.fr",
    "alice.martin @ exemple.fr",
    "alice.martin arobase exemple.fr",
    "alice.martin [at] exemple [dot] fr",
])
def test_own_email_in_any_spelling(text: str) -> None:
    assert pairs(f"Écrire à {text}, merci.") == [(EMAIL, text)]
    assert scrub(f"Écrire à {text}, merci.", ALICE) == "Écrire à [effacé], merci."


def test_own_email_local_part_alone() -> None:
    assert (EMAIL, "alice.martin") in pairs("son identifiant est alice.martin.")
    # Too short or generic to point at anyone.
    assert find_leaks("le contact pour les devis", Identity(email="contact@exemple.fr")) == []
    assert find_leaks("Bob et moi", Identity(email="bob@exemple.fr")) == []


def test_own_company_domain_but_not_a_mail_provider() -> None:
    assert pairs("voir boulangerie-lilas.fr", Identity(email="alice@boulangerie-lilas.fr")) == [
        (EMAIL_DOMAIN, "boulangerie-lilas.fr")
    ]
    assert find_leaks("voir gmail.com", Identity(email="alice@gmail.com")) == []


@pytest.mark.parametrize("text", [
    "bob@autre.fr", "Bob.Durand+club@mail.example.com", "bob at autre point fr", "bob(at)autre.fr",
])
def test_any_other_email_address(text: str) -> None:
    assert pairs(f"Contact : {text}") == [(ANY_EMAIL, text)]


def test_names_inside_an_address_are_one_leak() -> None:
    assert pairs("alice.martin@autre.fr") == [(ANY_EMAIL, "alice.martin@autre.fr")]


# --- Phone ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "06 12 34 56 78", "06.12.34.56.78", "06-12-34-56-78", "0612345678", "06/12/34/56/78", "06 - 12 - 34 - 56 - 78",
    "+33 6 12 34 56 78", "+33612345678", "+33 (0)6 12 34 56 78", "(0)6 12-34-56-78", "0033 6 12 34 56 78",
    "+33 06 12 34 56 78", "06\u00a012\u00a034\u00a056\u00a078", "0612 34 56 78", "6 12 34 56 78",
])
def test_own_phone_in_any_format(text: str) -> None:
    assert pairs(f"Tél. {text}.") == [(PHONE, text)]
    assert scrub(f"Tél. {text}.", ALICE) == "Tél. [effacé]."


def test_own_phone_stored_in_international_form() -> None:
    identity = Identity(phone="+33 6 12 34 56 78")
    assert pairs("appeler le 06.12.34.56.78", identity) == [(PHONE, "06.12.34.56.78")]


@pytest.mark.parametrize("text", [
    "01 23 45 67 89", "0987654321", "07.00.11.22.33", "+44 20 7946 0958", "+32 470 12 34 56", "0032 470 12 34 56",
    "+1 (0)555 123 4567", "(01) 23 45 67 89", "(0)1 23 45 67 89", "0 800 12 34 56",
])
def test_any_other_phone_number(text: str) -> None:
    assert pairs(f"Appeler le {text} svp") == [(ANY_PHONE, text)]
    assert scrub(f"Appeler le {text} svp", ALICE) == f"Appeler le {text} svp"


# Letters that look like digits, inside a phone-shaped run (attack round 13, point 5): capital O / small o for 0,
# small L, capital I, dotless ı for 1, and their look-alikes in other scripts (Cyrillic "О", "І", "ӏ", Greek "Ο") and
# in fullwidth. Before, only a lost leading 0 let "O6 12 34 56 78" through as "6 12 34 56 78"; an "l" or "I" for a 1
# hid the number.
@pytest.mark.parametrize("written", [
    "06 I2 34 56 78", "06 l2 34 56 78", "O6 l2 34 56 78", "O6 12 34 56 78", "o6.l2.34.56.78", "06 ı2 34 56 78",
    "\u041e6 12 34 56 78", "06 \u04062 34 56 78", "06 \u04cf2 34 56 78", "\u039f6 \u04062 34 56 78",
    "\uff2f\uff16 \uff4c\uff12 \uff13\uff14 \uff15\uff16 \uff17\uff18", "+33 6 l2 34 56 78", "06_l2_34_56_78",
    "O6l2345678", "06 \u03992 34 56 78", "06 |2 34 56 78", "06 \uff5c2 34 56 78", "06 \u01c02 34 56 78",
])
def test_a_phone_with_letter_look_alikes_of_digits_is_the_requesters(written: str) -> None:
    assert [leak.what for leak in find_leaks(f"Contact : {written} (le soir)", ALICE)] == [PHONE], written
    assert scrub(f"Contact : {written} (le soir)", ALICE) == "Contact : [effacé] (le soir)"


@pytest.mark.parametrize("written", ["Ol 23 45 67 89", "O7 OO 11 22 33", "+44 2O 7946 O958"])
def test_anyones_phone_with_letter_look_alikes_is_a_leak(written: str) -> None:
    assert [leak.what for leak in find_leaks(f"Appeler le {written} svp", ALICE)] == [ANY_PHONE], written


@pytest.mark.parametrize("text", [
    "Il y a 12 ans, le 06 il est venu, lot 34 56 78.",
    "Oil 06 12 34 56 Lol",
    "Loi n° 2012-1234 du 6 oct. il 2014, article l 121-1 et l 122-4.",
    "Réf. IO 12 34 56, vol 78, salle L12.",
    "Il faut 2 ou 3 lo 12 34 56 78 oi.",
    "Le code 0l12 ne sert plus ; le badge I2 non plus.",
    "Horaires : lo 08:30-12:00, li 14:00-18:00, o 9:00.",
    "Total |2 34 56 78|", "Lignes |1 |2 |3 et 06 12|",
])
def test_letters_near_numbers_are_no_phone(text: str) -> None:
    assert [leak for leak in find_leaks(text, ALICE) if leak.what in (PHONE, ANY_PHONE)] == [], text


def test_two_phones_in_a_row() -> None:
    assert pairs("06 12 34 56 78 / 01 23 45 67 89") == [(PHONE, "06 12 34 56 78"), (ANY_PHONE, "01 23 45 67 89")]


# --- SIREN / SIRET / IBAN ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "123 456 789", "123 456 789 00012", "123.456.789", "73282932000074", "732829320",
])
def test_company_numbers(text: str) -> None:
    assert pairs(f"SIREN / SIRET de la société : {text}.") == [(COMPANY_NUMBER, text)]


def test_company_number_in_one_block_needs_its_key_or_a_label() -> None:
    assert find_leaks("Commande 732829321 expédiée.", ALICE) == []          # Luhn key wrong
    assert pairs("SIRET : 73282932100074") == [(COMPANY_NUMBER, "73282932100074")]


def test_iban() -> None:
    assert pairs("Virement sur FR76 3000 6000 0112 3456 7890 189 svp") == [
        (IBAN, "FR76 3000 6000 0112 3456 7890 189")
    ]
    assert find_leaks("Référence FR76 3000 6000 0112 3456 7890 188", ALICE) == []  # check digits wrong


# --- Postal address ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["12 rue des Lilas", "12, rue des lilas", "12 RUE DES LILAS", "12 r. des Lilas",
                                  "rue des Lilas"])
def test_street_is_a_leak(text: str) -> None:
    assert pairs(f"Le local est au {text}.") == [(POSTAL_ADDRESS, text)]


@pytest.mark.parametrize("text", ["Paris", "75011", "75011 Paris", "le 12", "des lilas en fleurs", "rue des Roses"])
def test_city_postal_code_and_other_streets_are_not(text: str) -> None:
    assert find_leaks(text, ALICE) == []


@pytest.mark.parametrize("text", ["12 rue des Roses", "3 impasse des Roses", "8 av. Foch", "12 bis, rue Victor-Hugo",
                                  "1 place Bellecour"])
def test_anyones_street_with_its_number_is_reported_but_not_as_the_requesters(text: str) -> None:
    """"Mon salarié, domicilié 3 impasse des Roses": a third person's address points at them as surely."""
    assert pairs(f"Domicilié au {text}, à Lyon.") == [(ANY_ADDRESS, text)]
    assert find_identity(text, ALICE) == []


@pytest.mark.parametrize("text", ["Il reste 1 place libre.", "2 chemins possibles", "Il a 3 cours de maths.",
                                  "Les 3 rues du quartier", "article 3 rue"])
def test_numbers_before_street_like_words_are_not_addresses(text: str) -> None:
    assert find_leaks(text, ALICE) == []


def test_another_number_in_the_same_street_is_still_the_street() -> None:
    assert pairs("112 rue des Lilas") == [(POSTAL_ADDRESS, "rue des Lilas")]


def test_multi_line_address_with_abbreviations() -> None:
    identity = Identity(
        postal_address="Alice Martin\nRésidence Les Pins\n12 bis, avenue Saint-Exupéry\n69003 Lyon\nFrance"
    )
    for text in ["12 bis av. St Exupéry", "12b avenue saint exupery", "12 BIS AVENUE SAINT-EXUPÉRY",
                 "avenue Saint-Exupéry", "résidence les pins"]:
        assert pairs(text, identity) == [(POSTAL_ADDRESS, text)], text
    for text in ["Lyon", "69003", "France", "Saint-Exupéry", "les pins"]:
        assert find_leaks(text, identity) == [], text


def test_address_on_one_line_without_comma() -> None:
    identity = Identity(postal_address="3 impasse du Moulin 29200 Brest")
    assert pairs("au 3 imp. du Moulin", identity) == [(POSTAL_ADDRESS, "3 imp. du Moulin")]
    assert find_leaks("29200 Brest", identity) == []


# --- scrub ---------------------------------------------------------------------------------------------------------

def test_scrub_the_signature_keeps_the_rest_byte_identical() -> None:
    text = REQUEST.replace("\n", "\r\n") + "\r\nPS : Bob (bob@autre.fr, 01 23 45 67 89) est d'accord.\u00a0"
    assert scrub(text, ALICE) == (
        "Bonjour,\r\nJe cherche un avocat pour un litige avec mon bailleur.\r\nMerci d'avance.\r\nCordialement,\r\n"
        "[effacé] [effacé]\r\n[effacé]\r\n[effacé], 75011 Paris\r\n[effacé]\r\n[effacé]\r\n"
        "PS : Bob (bob@autre.fr, 01 23 45 67 89) est d'accord.\u00a0"
    )


def test_scrub_replacement_and_names_inside_other_addresses() -> None:
    assert scrub("Écrire à alice.martin@autre.fr ou Alice", ALICE, "***") == "Écrire à ***@autre.fr ou ***"


def test_scrub_without_identity_changes_nothing() -> None:
    assert scrub(REQUEST, Identity()) == REQUEST
    assert find_leaks("Alice Martin, Paris", Identity()) == []


# --- Properties ----------------------------------------------------------------------------------------------------

FILLER = [
    "Bonjour à tous,", "Un membre cherche conseil sur un litige avec son bailleur.", "Merci d'avance pour vos retours.",
    "Réponse souhaitée avant le 15/12/2026.", "Le devis s'élève à 1 200 € hors taxes.", "Référence CA-2026-0042.",
    "Le rendez-vous est fixé à 14h30, le 2026-12-15.", "Il s'agit d'un local commercial dans le 75011.",
    "Toute aide sera la bienvenue !", "Le loyer a augmenté de 12 000 euros en trois ans.", "Bien cordialement,",
]
TEMPLATES = ["Contact : {}.", "Vous pouvez voir avec {} directement.", "Signé {}", "({}) nous a écrit.", "{}"]
FILLER_WORDS = {word for sentence in FILLER + TEMPLATES for word in fold(sentence).replace("'", " ").split()} | {
    "efface", "rue", "avenue", "des", "chez", "boulangerie", "atelier", "plomberie", "garage", "studio"}
FILLER_WORDS = {"".join(c for c in word if c.isalpha()) for word in FILLER_WORDS}
LEGAL_FORMS = ["SARL", "SAS", "EURL", "SA", "SASU", "SCI", "EI", "& Cie"]

FIRST_NAMES = ["Hélène", "Jean-Pierre", "François", "Zoé", "Anaïs", "Marie-Ève", "Gaël", "Noël", "Éloïse", "Chloé",
               "Pierre", "Rose", "Claire", "Aimé", "Jérôme", "Maëlle"]
LAST_NAMES = ["Lefèvre", "Dupont-Moretti", "Le Goff", "Müller", "Gauthier", "Bénard", "N'Diaye", "Da Silva",
              "Lemaître", "Château", "Brûlé", "Martin", "Petit"]
letters = st.text(alphabet="abcdefghijklmnopqrstuvwxyzéèêëàâçîïôûü", min_size=3, max_size=12)


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def plain(name: str) -> str:
    return "".join(c for c in fold(name) if c.isalpha())


def ok_word(word: str) -> bool:
    return len(plain(word)) >= 3 and not set(fold(word).replace("-", " ").replace("'", " ").split()) & FILLER_WORDS


names_first = st.one_of(st.sampled_from(FIRST_NAMES), letters.map(str.capitalize)).filter(ok_word)
names_last = st.one_of(st.sampled_from(LAST_NAMES), letters.map(str.capitalize)).filter(ok_word)
# Not a legal form the guard knows ("Boulangerie Earl" is the trade "Boulangerie" of an EARL, as the guard reads it).
company_words = letters.filter(lambda w: len(w) >= 4 and ok_word(w) and w.upper() not in LEGAL_FORMS
                               and w.lower() not in privacy._LEGAL_FORMS)


@st.composite
def phones(draw: st.DrawFn) -> str:
    digits = str(draw(st.integers(1, 9))) + "".join(str(draw(st.integers(0, 9))) for _ in range(8))
    return draw(phone_spellings(digits))


def phone_spellings(digits: str) -> st.SearchStrategy[str]:
    """Spellings of the French number 0 + `digits` (nine digits)."""
    pairs_ = [digits[1:3], digits[3:5], digits[5:7], digits[7:9]]
    return st.sampled_from([
        "0" + digits[0] + " " + " ".join(pairs_),
        "0" + digits[0] + "." + ".".join(pairs_),
        "0" + digits[0] + "-" + "-".join(pairs_),
        "0" + digits,
        "0" + digits[0] + "/" + "/".join(pairs_),
        "+33 " + digits[0] + " " + " ".join(pairs_),
        "+33" + digits,
        "+33 (0)" + digits[0] + " " + " ".join(pairs_),
        "0033 " + digits[0] + " " + " ".join(pairs_),
        "(0)" + digits[0] + " " + "-".join(pairs_),
    ])


@st.composite
def identities(draw: st.DrawFn) -> Identity:
    first, last = draw(names_first), draw(names_last)
    words = draw(st.lists(company_words, min_size=1, max_size=2))
    trade = draw(st.sampled_from(["Boulangerie", "Atelier", "Plomberie", "Garage", "Studio"]))
    legal_form = draw(st.sampled_from([[], *[[form] for form in LEGAL_FORMS]]))
    company = " ".join([trade, *(word.capitalize() for word in words), *legal_form])
    local = draw(st.sampled_from([
        plain(first) + "." + plain(last), plain(first)[0] + plain(last), plain(first) + "_" + plain(last),
    ]))
    domain = draw(st.sampled_from(["exemple.fr", "gmail.com", "orange.fr", plain(words[0]) + ".fr"]))
    phone = draw(phones())
    street = draw(company_words)
    number = draw(st.integers(1, 300))
    suffix = draw(st.sampled_from(["", " bis", " ter"]))
    kind = draw(st.sampled_from(["rue", "avenue", "place", "chemin", "impasse", "boulevard"]))
    article = draw(st.sampled_from(["des", "de la", "du", ""]))
    street_line = " ".join(p for p in [f"{number}{suffix}", kind, article, street.capitalize()] if p)
    separator = draw(st.sampled_from([", ", "\n"]))
    return Identity(first, last, company, f"{local}@{domain}", phone,
                    f"{street_line}{separator}{draw(st.integers(10000, 95999))} Ville")


def spelled(draw: st.DrawFn, words: str) -> str:
    """`words` as a hurried writer may type them: case, accents, hyphens and spaces swapped."""
    text = words
    if draw(st.booleans()):
        text = strip_accents(text)
    text = draw(st.sampled_from([text, text.upper(), text.lower()]))
    swap = draw(st.sampled_from(["", "hyphen", "space"]))
    if swap == "hyphen":
        text = text.replace(" ", "-")
    elif swap == "space":
        text = text.replace("-", " ")
    return text


def obfuscated(draw: st.DrawFn, email: str) -> str:
    local, domain = email.split("@")
    at = draw(st.sampled_from(["@", " at ", " (at) ", "[at]", " @ ", " arobase "]))
    dot = draw(st.sampled_from([".", ".", " point ", " [dot] "])) if at != "@" else "."
    text = local + at + domain.replace(".", dot)
    return draw(st.sampled_from([text, text.upper()]))


def company_core(company: str) -> str:
    """The company name without a trailing legal form, however spelled ("Martin SA", "martin-sa", "MARTIN-&-CIE")."""
    for form in LEGAL_FORMS:
        for separator in (" ", "-"):
            spelled_form = separator + form.replace(" ", separator)
            if company.upper().endswith(spelled_form):
                return company[: -len(spelled_form)]
    return company


@st.composite
def appeals(draw: st.DrawFn) -> tuple[Identity, str, list[tuple[str, str]]]:
    """An identity, a text with some of its parts embedded in filler prose, and the (what, embedded) pairs."""
    identity = draw(identities())
    street_line = identity.postal_address.replace("\n", ", ").split(", ")[0]
    number, _, rest = street_line.partition(" ")
    if rest.split()[0] in {"bis", "ter"}:
        number, rest = number + " " + rest.split()[0], rest.partition(" ")[2]
    street_forms = [street_line, f"{number}, {rest}", rest]
    digits = "".join(c for c in identity.phone if c.isdigit())
    nine = digits[-9:]
    parts = {
        FIRST_NAME: lambda: spelled(draw, identity.first_name),
        LAST_NAME: lambda: spelled(draw, identity.last_name),
        COMPANY: lambda: spelled(draw, draw(st.sampled_from([identity.company, company_core(identity.company)]))),
        EMAIL: lambda: obfuscated(draw, identity.email),
        PHONE: lambda: draw(phone_spellings(nine)),
        POSTAL_ADDRESS: lambda: spelled(draw, draw(st.sampled_from(street_forms))),
    }
    chosen = draw(st.lists(st.sampled_from(sorted(parts)), unique=True, max_size=len(parts)))
    sentences = draw(st.lists(st.sampled_from(FILLER), min_size=1, max_size=4))
    embedded = []
    for what in chosen:
        value = parts[what]()
        embedded.append((what, value))
        sentence = draw(st.sampled_from(TEMPLATES)).format(value)
        sentences.insert(draw(st.integers(0, len(sentences))), sentence)
    joiner = draw(st.sampled_from([" ", "\n", "\n\n"]))
    return identity, joiner.join(sentences), embedded


PROPERTY_SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY_SETTINGS
@given(appeals())
def test_property_every_embedded_part_is_found(case: tuple[Identity, str, list[tuple[str, str]]]) -> None:
    identity, text, embedded = case
    leaks = find_leaks(text, identity)
    for what, value in embedded:
        # A legal form is part of the match when it is one; "sa" in lower case may be "her" and is left out.
        expected = {fold(value), fold(company_core(value))} if what == COMPANY else {fold(value)}
        assert any(leak.what == what and fold(leak.found) in expected for leak in leaks), (what, value, leaks)


@PROPERTY_SETTINGS
@given(appeals())
def test_property_scrub_leaves_nothing_of_the_identity(case: tuple[Identity, str, list[tuple[str, str]]]) -> None:
    identity, text, embedded = case
    scrubbed = scrub(text, identity)
    assert [leak for leak in find_leaks(scrubbed, identity) if leak.what in REQUESTER_WHATS] == []
    assert scrubbed.count("[effacé]") >= len(embedded)


@PROPERTY_SETTINGS
@given(identities(), st.lists(st.sampled_from(FILLER), min_size=1, max_size=6), st.sampled_from([" ", "\n"]))
def test_property_filler_alone_has_no_leak_and_is_not_scrubbed(identity: Identity, sentences: list[str],
                                                               joiner: str) -> None:
    text = joiner.join(sentences)
    assert find_leaks(text, identity) == []
    assert scrub(text, identity) == text


# --- Disguises (issue 11, point 3): the guard sees through them ----------------------------------------------------

# Look-alikes an attacker picks by hand (Cyrillic and Greek), independent of the table mailbot uses.
LOOKALIKES = {
    "a": "а", "c": "с", "e": "е", "o": "оο", "p": "р", "x": "х", "y": "у", "i": "і", "j": "ј", "s": "ѕ", "v": "ν",
    "A": "АΑ", "B": "ВΒ", "C": "С", "E": "ЕΕ", "H": "НΗ", "I": "ІΙ", "K": "КΚ", "M": "МΜ", "N": "Ν", "O": "ОΟ",
    "P": "РΡ", "T": "ТΤ", "X": "ХΧ", "Y": "Υ", "Z": "Ζ",
}
INVISIBLES = ["\u00ad", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u200e", "\u200f", "\u202a", "\u202e"]


def insert_inside(draw: st.DrawFn, text: str, piece: str, times: int = 1) -> str:
    for _ in range(times):
        letters = [i for i in range(1, len(text)) if text[i - 1].isalnum() and text[i].isalnum()]
        if not letters:
            return text
        index = draw(st.sampled_from(letters))
        text = text[:index] + piece + text[index:]
    return text


def fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else "\u3000" if c == " " else c for c in text)


def lookalike(draw: st.DrawFn, text: str) -> str:
    return "".join(draw(st.sampled_from(LOOKALIKES[c])) if c in LOOKALIKES and draw(st.booleans()) else c
                   for c in text)


# Character-level disguises: any of them, any combination, on any part.
CHAR_DISGUISES = ["soft hyphen", "zero-width", "bidi", "NFD", "look-alike", "fullwidth", "upper", "lower"]


def char_disguise(draw: st.DrawFn, text: str, how: str) -> str:
    if how == "soft hyphen":
        return insert_inside(draw, text, "\u00ad", draw(st.integers(1, 3)))
    if how == "zero-width":
        return insert_inside(draw, text, draw(st.sampled_from(INVISIBLES[1:6])), draw(st.integers(1, 3)))
    if how == "bidi":
        return insert_inside(draw, text, draw(st.sampled_from(INVISIBLES[6:])))
    if how == "NFD":
        return unicodedata.normalize("NFD", text)
    if how == "look-alike":
        return lookalike(draw, text)
    if how == "fullwidth":
        return fullwidth(text)
    return text.upper() if how == "upper" else text.lower()


def iban_fr(draw: st.DrawFn) -> str:
    bban = "".join(str(draw(st.integers(0, 9))) for _ in range(23))
    check = 98 - int(bban + "152700") % 97  # "FR" is 15 27, then "00"
    return f"FR{check:02d}{bban}"


def spaced_out(draw: st.DrawFn, word: str) -> str:
    separator = draw(st.sampled_from([" ", "  ", ".", ". ", "-", "_", " - ", "*"]))
    return separator.join(c for c in word if c != " ")


@st.composite
def disguised(draw: st.DrawFn) -> tuple[Identity, str, str, str]:
    """(identity, text with one part of it disguised, which part, how): field disguises, then 0-3 character ones."""
    identity = draw(identities())
    digits = "".join(c for c in identity.phone if c.isdigit())
    nine = digits[-9:]
    pairs_ = ["0" + nine[0], nine[1:3], nine[3:5], nine[5:7], nine[7:9]]
    street_line = identity.postal_address.replace("\n", ", ").split(", ")[0]
    iban = iban_fr(draw)
    local, domain = identity.email.split("@")
    part = draw(st.sampled_from(["first name", "last name", "glued names", "company", "phone", "street", "IBAN",
                                 "email"]))
    if part in ("first name", "last name"):
        name = identity.first_name if part == "first name" else identity.last_name
        how = draw(st.sampled_from(["as is", "spaced-out letters", "digits for letters", "signs for letters"]))
        value = {"as is": name, "spaced-out letters": spaced_out(draw, name),
                 # (the first letter kept: "Aaa" as "444" is a number, not a name)
                 "digits for letters": name[0] + name[1:].translate(str.maketrans("eEoOaAiI", "33004411")),
                 "signs for letters": name[0] + name[1:].translate(str.maketrans("aAiIsStT", "@@!!$$++"))}[how]
    elif part == "glued names":
        first, last = identity.first_name.replace(" ", ""), identity.last_name.replace(" ", "")
        how = draw(st.sampled_from(["first+last", "last+first", "FIRSTLAST", "lastfirst"]))
        value = {"first+last": first + last, "last+first": last + first, "FIRSTLAST": (first + last).upper(),
                 "lastfirst": (last + first).lower()}[how]
    elif part == "company":
        how, value = "as is", identity.company
    elif part == "phone":
        how = draw(st.sampled_from(["double spaces", "underscores", "commas", "comma space", "spaced digits",
                                    "+33", "+33 glued", "0033", "dots and spaces", "newlines"]))
        national = "".join(pairs_)
        value = {"double spaces": "  ".join(pairs_), "underscores": "_".join(pairs_), "commas": ",".join(pairs_),
                 "comma space": ", ".join(pairs_), "spaced digits": " ".join(national),
                 "+33": "+33 " + nine[0] + " " + " ".join(pairs_[1:]), "+33 glued": "+33" + nine,
                 "0033": "0033 " + nine, "dots and spaces": " . ".join(pairs_), "newlines": "\n".join(pairs_)}[how]
    elif part == "street":
        number, _, rest = street_line.partition(" ")
        how = draw(st.sampled_from(["with its number", "comma after the number", "number glued to bis"]))
        value = {"with its number": street_line, "comma after the number": f"{number}, {rest}",
                 "number glued to bis": street_line.replace(" bis", "bis").replace(" ter", "ter")}[how]
    elif part == "IBAN":
        how = draw(st.sampled_from(["dashes", "spaces", "dots", "glued", "lower case with dashes"]))
        groups = [iban[i:i + 4] for i in range(0, len(iban), 4)]
        value = {"dashes": "-".join(groups), "spaces": " ".join(groups), "dots": ".".join(groups), "glued": iban,
                 "lower case with dashes": "-".join(groups).lower()}[how]
    else:
        how = draw(st.sampled_from(["plain", " at ", "[at]", "(at) and (dot)", "spaces around", "spaced letters"]))
        value = {"plain": identity.email, " at ": f"{local} at {domain}", "[at]": f"{local}[at]{domain}",
                 "(at) and (dot)": f"{local} (at) {domain.replace('.', ' (dot) ')}",
                 "spaces around": f"{local} @ {domain.replace('.', ' . ')}",
                 "spaced letters": " ".join(identity.email)}[how]
    chars = draw(st.lists(st.sampled_from(CHAR_DISGUISES), max_size=3, unique=True))
    # Case first: upper-casing a Greek "ν" (which looks like v) gives "Ν", which looks like N.
    chars.sort(key=lambda name: name not in ("upper", "lower"))
    for char_how in chars:
        if part == "IBAN" and char_how in ("lower",):
            continue
        value = char_disguise(draw, value, char_how)
    sentences = draw(st.lists(st.sampled_from(FILLER), min_size=1, max_size=3))
    sentences.insert(draw(st.integers(0, len(sentences))), draw(st.sampled_from(TEMPLATES)).format(value))
    return identity, " ".join(sentences), part, " + ".join([how, *chars])


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(disguised())
def test_property_no_disguise_gets_past_the_guard(case: tuple[Identity, str, str, str]) -> None:
    """Every generated identity part, in every disguise and combination, is reported (the filler is clean: see
    test_property_filler_alone_has_no_leak_and_is_not_scrubbed)."""
    identity, text, part, how = case
    event(part)
    event(f"{part}: {how.split(' + ')[0]}")
    for char_how in how.split(" + ")[1:]:
        event(f"character disguise: {char_how}")
    assert find_leaks(text, identity), (part, how, text)


@pytest.mark.parametrize(("written", "plain"), [
    ("Mar\u00adtin", "martin"), ("Marti\u0301n", "martin"), ("Ｍａｒｔｉｎ", "martin"), ("Маrtіn", "martin"),
    ("Μartin", "martin"), ("M\u200ba\u200drtin", "martin"), ("Lætitia Cœur", "laetitia coeur"),
    ("06  12   34", "06 12 34"), ("06_12_34", "06 12 34"), ("06,12,34", "06 12 34"), ("06, 12, 34", "06 12 34"),
    ("15/12/2026", "15/12/2026"), ("06.12", "06.12"), ("06 - 12", "06 - 12"), ("٠٦١٢", "0612"),
])
def test_normalise(written: str, plain: str) -> None:
    assert normalise(written) == plain


@pytest.mark.parametrize("written", ["Mart1n", "M4RT1N", "Al1c3", "4lice", "Al1ceMart1n", "M@rtin", "Mart!n",
                                     "Mart|n", "Mar+in", "Alic€", "4L1C3", "Al|ce", "m4r71n"])
def test_digits_and_signs_written_for_letters(written: str) -> None:
    assert find_identity(f"Voyez avec {written} demain.", ALICE)


@pytest.mark.parametrize(("identity", "written"), [
    # however many letters the digits stand for, as long as one letter is left beside them
    (Identity(last_name="Aaaaa"), "A4444"), (Identity(last_name="Aaaaa"), "4aa4a"),
    (Identity(last_name="Isaaac"), "I5444c"), (Identity(last_name="Bessette"), "B3553773"),
    (Identity(last_name="Legoff"), "L3g0ff"), (Identity(first_name="Gabriel"), "G48r1el"),
    (Identity(last_name="Sosooo"), "S05000"),
])
def test_a_whole_run_of_digits_beside_a_letter_is_read(identity: Identity, written: str) -> None:
    assert find_identity(f"Contact : {written}. Bonjour à tous,", identity), written


@pytest.mark.parametrize("written", ["Z4N3TT1", "Z@netti", "B0ul4ng3r13 Z4n3tt1"])
def test_the_company_written_with_digits_for_letters(written: str) -> None:
    identity = Identity("Léa", "Noël", "Boulangerie Zanetti")
    assert [leak.what for leak in find_identity(f"Elle travaille chez {written}.", identity)] == [COMPANY]


@pytest.mark.parametrize("text", ["le 1er mars au 3e étage", "à 14h30", "format A4", "75011 Paris", "le 2nd",
                                  "Bonjour ! Merci.", "5$ ou 3 €", "RDV le 10/12/2026 à 9h", "tél. 01 45 20 30 50",
                                  "réf. A2024-0315", "Ticket n° 2026-0042"])
def test_numbers_beside_letters_are_not_names(text: str) -> None:
    assert find_identity(text, Identity("Léa", "Noël", "", "", "", "")) == []
    assert find_identity(text, ALICE) == []


def test_find_identity_reports_only_the_person() -> None:
    text = "Écrire à al\u00adice.martin@exemple.fr ou à bob@ailleurs.fr, 06 99 88 77 66"
    assert [(leak.what, leak.found) for leak in find_identity(text, ALICE)] == [
        (EMAIL, "al\u00adice.martin@exemple.fr")]


def test_the_refusal_says_how_the_name_was_disguised() -> None:
    assert disguise_note("Mar\u00adtin") == "écrit avec des caractères invisibles"
    assert disguise_note("Маrtin") == "écrit avec des caractères d'un autre alphabet"
    assert disguise_note("Marti\u0301n") == "écrit avec des accents décomposés"
    assert disguise_note("Martin") == disguise_note("Hélène") == ""


# Names that are also, or nearly, French words: matched on whole words of the same letters, never inside another
# word or on a word that only looks alike. Decided: "Marie" is not found in "mairie", "Martin" not in "martinet"
# nor "Martinez", "Rose" not in "rosier"; but "Rose" IS found in "rosé" (accents are folded: the guard cannot
# tell the wine from the name) and a first name that is a word is reported (see the policy in mailbot/privacy.py).
# Spaced-out letters are read as one word even inside a longer spaced-out run ("é v a l u e r" holds "Eva"):
# nobody spaces out words in earnest, and requiring the run to end with the name would let "A l i c e d e …" by.
ORDINARY = [
    (Identity("Marie", "Lemaire"), "Il doit passer à la mairie, puis chez le maire, pour un permis de construire."),
    (Identity("Alice", "Martin"), "Un martinet est tombé dans le jardin de M. Martinez ; la malice n'y est pour rien."),
    (Identity("Rose", "Lebrun"), "Un rosier fleurit devant les brunes façades de la rue."),
    (Identity("Léon", "Petitjean"), "Le petit Jean et son camion d'Oléron."),
    (Identity("Anne", "Duval"), "Cette année, la vallée et le val de Loire, à la Saint-Valentin."),
    (Identity("Paul", "Vigne"), "Les vignes de Pauline sont au nord ; l'apport est vigneron."),
    (Identity("Eva", "Roux"), "Il y a à voir : évaluer les roues et le rouge, Ève."),
    (Identity("Noé", "Lamy"), "Mon ami, non, les amis de Noël sont là."),
    (Identity("Ali", "Bensaid"), "Il va à la ligne ; le salarié dit bien ce qu'il a dit."),
]


@pytest.mark.parametrize(("identity", "text"), ORDINARY)
def test_no_false_positive_on_ordinary_words(identity: Identity, text: str) -> None:
    assert find_identity(text, identity) == []


def test_a_real_name_among_ordinary_words_is_still_found() -> None:
    identity = Identity("Marie", "Lemaire")
    assert {leak.found for leak in find_leaks("Passer à la mairie avec M a r i e, puis chez LEMAIRE.", identity)} \
        == {"M a r i e", "LEMAIRE"}


@pytest.mark.parametrize("text", [
    "appelez le zéro six, douze, trente-quatre, cinquante-six, soixante-dix-huit",
    "zero six douze trente quatre cinquante six soixante dix huit",
    "06 douze 34 56 78",
    "six un deux trois quatre cinq six sept huit",
    "0 six 12 34 cinquante-six 78",
])
def test_the_requesters_phone_written_in_words_is_found(text: str) -> None:
    assert PHONE in {leak.what for leak in find_identity(text, ALICE)}
    assert "douze" not in scrub(text, ALICE) and "12" not in scrub(text, ALICE)


def test_numbers_in_words_that_are_not_the_phone_are_left_alone() -> None:
    assert find_leaks("Il a six ans, douze chats et quatre-vingt-dix-neuf problèmes.", ALICE) == []


@pytest.mark.parametrize("text", ["Li Wu", "WU Li", "Mme Wu", "Madame Wu", "M. Wu"])
def test_a_short_name_is_found_whole_or_after_a_title(text: str) -> None:
    assert find_identity(text, Identity(first_name="Li", last_name="Wu"))


def test_a_short_name_alone_or_inside_a_word_is_not_a_leak() -> None:
    assert find_identity("le wu-wei, M. Wuest et Mme Ngono", Identity(first_name="Li", last_name="Wu")) == []
    assert find_identity("M. Ng a appelé", Identity(first_name="Paul", last_name="Ng"))


# --- Disguises a stranger tried (stop 17): each family, not only the example ------------------------------------

@pytest.mark.parametrize("written", [
    "ᴍᴀʀᴛɪɴ", "🅼🅰🆁🆃🅸🅽", "🅜🅐🅡🅣🅘🅝", "Marŧin", "Martɨn", "Maɍtin", "Mɑrƭiɳ", "🇲🇦🇷🇹🇮🇳",  # letters in any dress
    "Mar\u3164tin", "Mar\u2800tin", "Mar\uffa0tin",  # blanks Unicode counts as letters or symbols
    "Mar·tin", "**Mar**tin", "Mar*tin", "Mar•tin", "Mar-\ntin",  # a word cut by inclusive writing, Markdown, a line
    "M4rtin!", "M4rtin75", "2M4rtin", "(M4rt1n)",  # digits for letters beside a sign or a number of its own
])
def test_a_disguised_last_name_is_found(written: str) -> None:
    assert [leak.what for leak in find_identity(f"Demandez à {written} demain.", ALICE)] == [LAST_NAME], written


def test_a_first_name_cut_at_the_end_of_a_line() -> None:
    assert find_identity("Voyez avec Jean-\nPierre, il sait.", Identity(first_name="Jean-Pierre"))


@pytest.mark.parametrize(("identity", "text"), [
    (Identity("Zoé", "Lee"), "Dans le 20e arrondissement, au 13e siècle."),
    (Identity("Tom", "Isa"), "À 70m du port, sur 15a de terrain."),
    (Identity("Léo", "Ier"), "Le 1er et le 10e, à 10h et 15min."),
])
def test_a_number_with_its_unit_or_rank_is_no_name(identity: Identity, text: str) -> None:
    assert find_identity(text, identity) == []


@pytest.mark.parametrize("text", [
    "Permanences les 04/05, 11/05, 18/05 et 25/05.", "Horaires : 08:30-12:00, 14:00-18:00.",
    "Séances le 02/03 - 09/03 - 16/03 18/03.", "Créneaux 09.00 10-30 11.00 12-30",
])
def test_a_list_of_dates_or_times_is_no_phone_number(text: str) -> None:
    assert find_leaks(text, Identity("Léa", "Noël")) == []


@pytest.mark.parametrize("written", ["06 12 34 56 78", "06.12.34.56.78", "06-12-34-56-78", "06/12/34/56/78",
                                     "0612345678", "06 12345678", "+33 6 12 34 56 78", "+33 (0)6 12 34 56 78",
                                     "01 45 20 30 50", "+1 555-123-4567", "0033 1 45 20 30 50"])
def test_a_phone_number_with_one_kind_of_separator_is_still_one(written: str) -> None:
    assert [leak.what for leak in find_leaks(f"Appelez le {written}.", Identity("Léa", "Noël"))] in (
        [ANY_PHONE], [PHONE])


@pytest.mark.parametrize("written", ["06⋅12⋅34⋅56⋅78", "06'12'34'56'78", "06 12 (34) 56 78", "06 12.34 56-78",
                                     "06🙂12🙂34🙂56🙂78", "06 ‧ 12 ‧ 34 ‧ 56 ‧ 78"])
def test_the_requesters_own_number_whatever_stands_between_its_digits(written: str) -> None:
    assert [leak.what for leak in find_identity(f"Appelez le {written}.", ALICE)] == [PHONE], written


@pytest.mark.parametrize(("address", "written"), [
    ("12 rue Jean Jaurès, 75011 Paris", "12 r. J. Jaurès"), ("12 rue Jean Jaurès, 75011 Paris", "12 rue Jaurès"),
    ("5 rue du Docteur Roux, 69003 Lyon", "5, r. du Dr. Roux"),
    ("8 avenue du Général de Gaulle", "8 av. du Gal de Gaulle"),
    ("2 place du Maréchal Foch", "2 pl. du Mal Foch"),
    ("Ferme des Trois Chênes, 12340 Bozouls", "la ferme des Trois Chênes"),
])
def test_the_street_as_people_abbreviate_it(address: str, written: str) -> None:
    identity = Identity("Léa", "Noël", postal_address=address)
    assert [leak.what for leak in find_identity(f"Elle habite {written}, au fond.", identity)] == [POSTAL_ADDRESS]


@pytest.mark.parametrize(("written", "what"), [
    ("@martinphoto", LAST_NAME), ("martinphoto.fr", LAST_NAME), ("#teamalice", FIRST_NAME),
    ("instagram.com/lesgateauxdalice", FIRST_NAME), ("https://www.alicemartin-creations.com", FIRST_NAME),
    ("zanettiparis.fr", COMPANY),
])
def test_a_name_glued_into_a_handle_or_a_web_address(written: str, what: str) -> None:
    identity = Identity("Alice", "Martin", "Plomberie Zanetti")
    assert what in [leak.what for leak in find_identity(f"Voir {written} pour les photos.", identity)]


@pytest.mark.parametrize("text", ["Voir www.club-aide.fr et #entraide, écrire à @bureau.", "Le site impots.gouv.fr."])
def test_web_addresses_without_the_person_are_not_hers(text: str) -> None:
    assert find_identity(text, Identity("Alice", "Martin", "Plomberie Zanetti")) == []


@pytest.mark.parametrize(("identity", "written"), [
    (Identity("Jürgen", "Müller"), "Juergen Mueller"), (Identity("Jurgen", "Mueller"), "Jürgen Müller"),
    (Identity("Léa", "Grønberg"), "Groenberg"), (Identity("Léa", "Åberg"), "Aaberg"),
])
def test_letters_spelled_out_without_their_key(identity: Identity, written: str) -> None:
    assert find_identity(f"Voyez avec {written} demain.", identity)


def test_spelling_back_needs_a_consonant_before_and_a_long_name() -> None:
    assert find_identity("Le nol et le jol.", Identity("Joel", "Noel")) == []


@pytest.mark.parametrize(("email", "written"), [
    ("jp.dupuis@gmail.com", "jp point dupuis arobase gmail point com"),
    ("jp.dupuis@gmail.com", "jp (point) dupuis (at) gmail (point) com"),
    ("marie-claire_l@orange.fr", "marie tiret claire underscore l arobase orange point fr"),
    ("am75@gmail.com", "am75 sur gmail"), ("am75@gmail.com", "am75@gmail"), ("am75@gmail.com", "am75 (gmail)"),
])
def test_the_requesters_address_with_its_own_dots_spelled_or_its_ending_left_out(email: str, written: str) -> None:
    """find_identity is what erasure and audits use: the requester's address must be found, not only "an
    address" (stop 17)."""
    assert [leak.what for leak in find_identity(f"Écrivez-lui : {written}.", Identity(email=email))] == [EMAIL]


@pytest.mark.parametrize(("company", "text"), [
    ("Hôtel de la Poste", "Rendez-vous au bureau de poste."), ("Aux Trois Épis", "Il a trois enfants."),
    ("Boulangerie du Coin", "Au coin de la rue."), ("Café de la Gare", "Départ de la gare de Lyon."),
])
def test_a_common_word_of_a_company_name_alone_is_not_the_company(company: str, text: str) -> None:
    identity = Identity("Léa", "Noël", company)
    assert find_identity(text, identity) == []
    assert [leak.what for leak in find_identity(f"Voyez {company}.", identity)] == [COMPANY]


# --- A profile's free text shown to the other side before both agreed (attack 13, case 12) ----------------------

CHLOE = Identity(first_name="Chloé", last_name="Durand", company="Durand Avocats", email="chloe@membres.test",
                 phone="06 98 76 54 32", postal_address="3 place Bellecour, 69002 Lyon")


@pytest.mark.parametrize(("text", "shown"), [
    ("avocate associée, cabinet Durand Avocats", "avocate associée"),
    ("droit du travail (Me Chloé Durand)", "droit du travail"),
    ("comptable ; tél. 06 98 76 54 32", "comptable"),
    ("plomberie et chauffage — joignable au 0698765432", "plomberie, chauffage"),
    ("c.durand@gmail.com / conseil juridique", "conseil juridique"),
    ("Chloé Durand", ""),
    ("avocate chez DURAND AVOCATS", ""),
    ("droit du travail, droit commercial", "droit du travail, droit commercial"),  # nothing of her: as written
    ("", ""),
])
def test_a_profile_text_keeps_only_what_does_not_name_the_person(text: str, shown: str) -> None:
    """Before: the requester's consent question printed the helper's activity as written ("cabinet Durand
    Avocats"), her identity given before she agreed. Now the pieces that name or reach her are left out."""
    from mailbot.privacy import without_identity
    assert without_identity(text, CHLOE) == shown
    assert not find_leaks(without_identity(text, CHLOE), CHLOE)
