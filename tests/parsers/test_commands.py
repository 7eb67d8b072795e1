"""parse_aideur_reply: command lines of docs/rules.md §2, the message relayed to the member, errors."""
from __future__ import annotations

from datetime import date

import pytest

from mailbot.parsers.commands import COMMANDS, AideurReply, Command, parse_aideur_reply, parse_price

TODAY = date(2026, 12, 10)  # a Thursday


def parse(text: str) -> AideurReply:
    return parse_aideur_reply(text, TODAY)


def only(text: str) -> Command:
    reply = parse(text)
    assert reply.errors == (), reply.errors
    assert len(reply.commands) == 1, reply.commands
    return reply.commands[0]


# (line as typed, canonical name): French words, English aliases, near-forms, case, accents, odd prefixes
WORDS = [
    ("#accepter 15/12", "accepter"), ("#accept 15/12", "accepter"), ("#Accepte 15/12", "accepter"),
    ("#ACCEPTÉ 15/12", "accepter"), ("#refuser hors champ", "refuser"), ("#decline out of scope", "refuser"),
    ("#refuse hors champ", "refuser"), ("#REFUSER hors champ", "refuser"),
    ("#reporter 15/12 absent", "reporter"), ("#postpone 15/12 absent", "reporter"),
    ("#reporte lundi absent", "reporter"), ("#appel texte", "appel"), ("#appeal texte", "appel"),
    ("#solution texte", "solution"), ("#Solution texte", "solution"), ("#relier 3", "relier"),
    ("#connect 3", "relier"), ("#clore", "clore"), ("#close", "clore"), ("#clos", "clore"), ("#clôturer", "clore"),
    ("#cloturer", "clore"), ("#fermer", "clore"), ("#note texte", "note"), ("#NOTE texte", "note"),
    ("#aide", "aide"), ("#help", "aide"), ("#Aide", "aide"), ("#tickets", "tickets"), ("#list", "tickets"),
    ("#liste", "tickets"),
    ("# accepter 15/12", "accepter"), ("＃accepter 15/12", "accepter"), ("- #note texte", "note"),
    ("* #note texte", "note"), ("• #note texte", "note"), ("   #note texte", "note"), ("**#clore**", "clore"),
    ("#accepter: 15/12", "accepter"), ("#accepter\u00a015/12", "accepter"), ("\u200b#aide", "aide"),
]


@pytest.mark.parametrize(("line", "name"), WORDS, ids=[w[0] for w in WORDS])
def test_command_words(line: str, name: str) -> None:
    assert only(line).name == name


def test_all_canonical_and_aliases_are_known() -> None:
    for name, alias in COMMANDS.items():
        for word in {name, alias}:
            reply = parse(f"#{word}")
            assert all(error.problem.find(f"« #{word} » n'est pas") < 0 for error in reply.errors), word


# Lines that are message text, never commands nor errors.
PLAIN = [
    "#1 priorité pour ce dossier",
    "voir #2 ci-dessous",
    "# Titre de section",
    "#",
    "# 3",
    "Merci de me dire #accepter si d'accord",   # not at the start of the line
    "#note-de-frais à joindre",                  # a hashtag, not #note
]


@pytest.mark.parametrize("line", PLAIN)
def test_plain_lines_are_message(line: str) -> None:
    reply = parse(line)
    assert reply.commands == () and reply.errors == ()
    assert reply.message == line


def test_quoted_lines_are_history() -> None:
    reply = parse("Bonjour,\n> #refuser ancien motif\n>#clore")
    assert reply.commands == () and reply.errors == ()


def test_unknown_word_is_an_error_naming_it_and_listing_commands() -> None:
    reply = parse("Bonjour\n#urgent merci\n#accepter 15/12")
    assert [c.name for c in reply.commands] == ["accepter"]
    assert len(reply.errors) == 1
    error = reply.errors[0]
    assert error.line == "#urgent merci"
    assert "#urgent" in error.problem and "#accepter" in error.problem and "#tickets" in error.problem
    assert reply.message == ""  # a greeting alone is not worth a mail to the member


def test_accepter_reads_the_date() -> None:
    command = only("#accepter 15/12")
    assert command.when == date(2026, 12, 15) and command.argument == "15/12" and command.text == ""
    assert only("#accepter dans 5 jours ouvrés").when == date(2026, 12, 17)
    assert only("#accept next monday").when == date(2026, 12, 14)


@pytest.mark.parametrize(("text", "quoted"), [
    ("#accepter", None),
    ("#accepter bientôt", "bientôt"),
    ("#accepter 31/02", "31/02"),
    ("#reporter quand il pourra, il est malade", "quand il pourra, il"),
    ("#reporter", None),
])
def test_date_errors(text: str, quoted: str | None) -> None:
    reply = parse(text)
    assert reply.commands == ()
    assert len(reply.errors) == 1
    problem = reply.errors[0].problem
    assert problem.startswith(("la date", "la commande"))
    if quoted:
        assert f"« {quoted} »" in problem and "15/12" in problem


def test_reporter_date_then_reason_over_lines() -> None:
    command = only("#reporter lundi prochain : le prestataire est malade,\nil revient mardi.\n\n")
    assert command.when == date(2026, 12, 14)
    assert command.text == "le prestataire est malade,\nil revient mardi."


def test_reporter_date_on_next_line() -> None:
    command = only("#reporter\n15/12\nle prestataire est malade")
    assert (command.when, command.text) == (date(2026, 12, 15), "le prestataire est malade")


def test_reporter_needs_reason() -> None:
    reply = parse("#reporter 15/12")
    assert reply.commands == () and "motif" in reply.errors[0].problem


@pytest.mark.parametrize("name", ["refuser", "solution", "note", "appel"])
def test_text_commands_need_text(name: str) -> None:
    reply = parse(f"Bonjour\n#{name}\n\n#aide")
    assert [c.name for c in reply.commands] == ["aide"]
    assert len(reply.errors) == 1 and f"#{name}" in reply.errors[0].problem


def test_refuser_error_says_how_to_fix() -> None:
    problem = parse("#refuser").errors[0].problem
    assert "motif" in problem and "« #refuser hors du champ du Club »" in problem


def test_text_command_takes_following_lines_up_to_next_command() -> None:
    reply = parse(
        "Bonjour Madame,\n\n#refuser Votre demande sort du champ du Club :\nil s'agit d'un litige privé.\n\n"
        "#note appelé le 9/12\n#clore hors champ\nBien à vous"
    )
    assert reply.errors == ()
    refuser, note, clore = reply.commands
    assert refuser.text == "Votre demande sort du champ du Club :\nil s'agit d'un litige privé."
    assert note.text == "appelé le 9/12"
    assert (clore.name, clore.argument, clore.text) == ("clore", "hors champ", "")
    assert reply.message == "Bonjour Madame,\n\nBien à vous"


def test_message_around_line_commands_keeps_structure() -> None:
    reply = parse("\n\nBonjour Madame,\n\nBonne nouvelle : le Club prend votre demande.\n#accepter 18/12\n\n"
                  "Vous recevrez des propositions d'ici là.\n\nAideur\n\n")
    assert [c.name for c in reply.commands] == ["accepter"]
    assert reply.message == ("Bonjour Madame,\n\nBonne nouvelle : le Club prend votre demande.\n\n"
                             "Vous recevrez des propositions d'ici là.\n\nAideur")


def test_phone_typed_lowercase_without_accents() -> None:
    reply = parse("ok je prends\n#accepter vendredi\n#note a rappeler lundi pour le devis")
    assert [c.name for c in reply.commands] == ["accepter", "note"]
    assert reply.commands[0].when == date(2026, 12, 11)
    assert reply.message == "ok je prends"


def test_outlook_html_converted_spacing() -> None:
    text = ("Bonjour,\u00a0\r\n\r\n\r\n\r\n**#reporter**\u00a0 15\u00a0décembre\u00a0:\u00a0le cabinet est fermé"
            "\r\n\r\n\r\n\u00a0\r\n#devis\r\nPrestataire\u00a0: Cabinet Martin\r\n\r\n"
            "Objet : bilan\r\nTarif habituel : 1\u202f200,00\u00a0€\r\nTarif club : 900\u00a0€\r\n")
    reply = parse(text)
    assert reply.errors == ()
    reporter = reply.commands[0]
    assert reporter.when == date(2026, 12, 15) and reporter.text == "le cabinet est fermé"
    # #reporter's text stops at the #devis line; the "clé : valeur" lines below #devis are its fields
    devis = reply.commands[1]
    assert devis.fields["tarif_habituel"] == "1200.00" and devis.fields["tarif_club"] == "900.00"
    assert reply.message == ""  # a greeting alone is not worth a mail to the member


@pytest.mark.parametrize("text", [
    "#devis prestataire: Cabinet Martin ; objet: bilan 2026 ; tarif habituel: 1 200,50 € ; tarif club: 900 € HT",
    "#devis prestataire: Cabinet Martin, objet: bilan 2026, tarif habituel: 1 200,50 €, tarif club: 900 € HT",
    "#quote Prestataire : Cabinet Martin\nObjet : bilan 2026\nPrix habituel : 1200,50 EUR\nPrix club : 900 € HT",
    "#devis\n- prestataire: Cabinet Martin\n- objet: bilan 2026\n- tarif_habituel: 1.200,50€\n- tarif_club: 900 € HT",
    "#devis prestataire: Cabinet Martin\nobjet: bilan 2026\n\nusual price: 1200.50\nclub price: 900 € HT",
])
def test_devis_fields(text: str) -> None:
    command = only(text)
    assert command.fields["prestataire"] == "Cabinet Martin"
    assert command.fields["objet"] == "bilan 2026"
    assert command.fields["tarif_habituel"] == "1200.50"
    assert command.fields["tarif_club"] == "900.00"
    assert command.fields["tarif_club_texte"] in {"900 € HT"}
    assert command.fields["tarif_habituel_texte"] in {"1 200,50 €", "1200,50 EUR", "1.200,50€", "1200.50"}


def test_devis_stops_at_plain_text_which_is_message() -> None:
    reply = parse("#devis prestataire: X ; objet: Y\ntarif habituel: 400 €\ntarif club: 300 €\n\n"
                  "Voici le devis demandé.")
    assert reply.errors == () and reply.commands[0].fields["tarif_club"] == "300.00"
    assert reply.message == "Voici le devis demandé."


@pytest.mark.parametrize(("text", "words"), [
    ("#devis prestataire: X ; objet: Y ; tarif habituel: 400 €", ["tarif club"]),
    ("#devis", ["prestataire", "objet", "tarif habituel", "tarif club"]),
    ("#devis prestataire: X ; objet: Y ; tarif habituel: sur devis ; tarif club: 300", ["sur devis"]),
])
def test_devis_errors(text: str, words: list[str]) -> None:
    reply = parse(text)
    assert reply.commands == () and len(reply.errors) == 1
    for word in words:
        assert word in reply.errors[0].problem


@pytest.mark.parametrize(("text", "amount"), [
    ("1 200 €", "1200.00"), ("1200,50 EUR", "1200.50"), ("1.200€", "1200.00"), ("300 euros HT", "300.00"),
    ("1.200,50 €", "1200.50"), ("1,200.50", "1200.50"), ("99,9", "99.90"), ("1\u202f200", "1200.00"),
    ("1,2 k€", "1200.00"), ("gratuit", "0.00"), ("0 €", "0.00"), ("1 200 000 €", "1200000.00"),
    ("€ 450", "450.00"), ("sur devis", None), ("", None),
])
def test_parse_price(text: str, amount: str | None) -> None:
    assert parse_price(text) == amount


def test_appel_fields_then_text() -> None:
    command = only("#appel compétences: paie, droit social ; membres: 5\nQui peut aider une PME\nsur la paie ?")
    assert dict(command.fields) == {"competences": "paie, droit social", "membres": "5"}
    assert command.text == "Qui peut aider une PME\nsur la paie ?"
    command = only("#appel\nCompetences : comptabilité\nMembres : 3\n\nUn membre cherche un comptable.")
    assert dict(command.fields) == {"competences": "comptabilité", "membres": "3"}
    assert command.text == "Un membre cherche un comptable."
    command = only("#appel Un membre cherche un comptable.")
    assert dict(command.fields) == {} and command.text == "Un membre cherche un comptable."


def test_appel_errors() -> None:
    assert "nombre" in parse("#appel membres: beaucoup\ntexte").errors[0].problem
    assert "texte" in parse("#appel compétences: paie").errors[0].problem


@pytest.mark.parametrize(("argument", "fields"), [
    ("3", {"offre": "3"}), ("offre 3", {"offre": "3"}), ("n°12", {"offre": "12"}), ("#4", {"offre": "4"}),
    ("Jean.Dupont@Exemple.fr", {"email": "jean.dupont@exemple.fr"}),
    ("<jean@exemple.fr>", {"email": "jean@exemple.fr"}),
])
def test_relier(argument: str, fields: dict[str, str]) -> None:
    assert dict(only(f"#relier {argument}").fields) == fields


@pytest.mark.parametrize("text", ["#relier", "#relier Jean Dupont"])
def test_relier_errors(text: str) -> None:
    reply = parse(text)
    assert reply.commands == () and "#relier 3" in reply.errors[0].problem


def test_several_commands_and_errors_in_one_reply() -> None:
    reply = parse(
        "Bonjour,\n#accepter 31/02\n#note à suivre\n#blabla\n#refuser\n#tickets\n#clore"
    )
    assert [c.name for c in reply.commands] == ["note", "tickets", "clore"]
    assert [e.line for e in reply.errors] == ["#accepter 31/02", "#blabla", "#refuser"]
    assert reply.message == ""  # a greeting alone is not worth a mail to the member


def test_references_anywhere_upper_cased_in_order_once() -> None:
    reply = parse("Suite à ca-2026-0042 et CA\u20112026\u20110007,\n#note voir CA-2026-0042\n> CA-2025-1234")
    assert reply.references == ("CA-2026-0042", "CA-2026-0007", "CA-2025-1234")
    assert parse("ABCDEFG-2026-0042 CA-26-0042 CA-2026-0042X").references == ()


def test_no_command_reply_is_all_message() -> None:
    reply = parse("Bonjour Madame,\n\nJe regarde votre demande.\n\nAideur")
    assert reply == AideurReply((), "Bonjour Madame,\n\nJe regarde votre demande.\n\nAideur", (), ())


@pytest.mark.parametrize("text", ["#relier 1\n\nCordialement,", "#clore\nMerci, bonne journée !\nAideur",
                                  "Bonjour,\n#tickets\nBien à vous"])
def test_a_message_of_greetings_only_is_not_relayed(text):
    reply = parse_aideur_reply(text, date(2026, 11, 26))
    assert reply.commands and reply.message == ""


def test_a_real_message_keeps_its_sign_off():
    reply = parse_aideur_reply("#accepter 15/12\nJe cherche dans le réseau.\nCordialement,", date(2026, 11, 26))
    assert reply.message == "Je cherche dans le réseau.\nCordialement,"


# --- Disguised command words (attack round 13, point 10) -----------------------------------------------------------
# A line that starts with "#" and letters in any Unicode form is the command it spells once normalised (NFC/NFKC,
# format characters removed, look-alike letters of other scripts read as Latin), or an error for Aideur: never
# text relayed to the member.

DISGUISED = [
    ("#clo\u0302turer", "clore"),            # NFD: o + COMBINING CIRCUMFLEX (macOS pasteboards, some clients)
    ("#re\u0301ouvrir", "rouvrir"),          # NFD "#réouvrir"
    ("#RE\u0301OUVRIR", "rouvrir"),          # NFD, capitals
    ("#c\u00adlore", "clore"),               # soft hyphen pasted from Word
    ("#cl\u043ere", "clore"),                # Cyrillic о
    ("#\u0441lore", "clore"),                # Cyrillic с
    ("#cl\u03bfre", "clore"),                # Greek ο
    ("#\u0421LORE", "clore"),                # Cyrillic capital С
    ("#\uff43\uff4c\uff4f\uff52\uff45", "clore"),  # fullwidth letters
    ("#\U0001d41c\U0001d425\U0001d428\U0001d42b\U0001d41e", "clore"),  # mathematical bold
    ("#cl\u200dore", "clore"),               # zero-width joiner
    ("#clo\u2060re", "clore"),               # word joiner
    ("\ufeff#clore", "clore"),               # BOM before the "#"
    ("#\u200eclore", "clore"),               # left-to-right mark
    ("\u2067#clore\u2069", "clore"),         # bidi isolate around the line
    ("#c\u00adl\u043e\u0302turer", "clore"),  # all at once
    ("\ufe5fclore", "clore"),                # small number sign (NFKC "#")
    ("#accepte\u0301 15/12", "accepter"),    # NFD with an argument
]


@pytest.mark.parametrize(("line", "name"), DISGUISED, ids=[ascii(d[0]) for d in DISGUISED])
def test_a_disguised_command_word_is_the_command_it_spells(line: str, name: str) -> None:
    """Before: no command, no error, and the line was the message relayed to the member (no NFC, soft hyphen and bidi
    marks kept, _COMMAND_LINE's [a-z]+ stopped at a combining mark or a letter of another script)."""
    assert [c.name for c in parse(line + "\n\nBonne journée").commands] == [name]
    reply = parse(line + "\n\nBonne journée")
    assert reply.errors == () and "#" not in reply.message and "\ufe5f" not in reply.message


@pytest.mark.parametrize("line", [
    "#urge\u0301nt merci",               # NFD unknown word
    "#\u0440\u0440\u0438\u0432\u0435\u0442",  # a Cyrillic word: not a command, but command-shaped
    "#clo\u0302tu\u0301r",               # near a command, but misspelt ("clotur")
    "#\u00e9tat du dossier",
    "#sou\u00adhait",
])
def test_a_disguised_unknown_word_is_an_error_not_text(line: str) -> None:
    """Before: the NFD / soft-hyphened / non-Latin "#mot" was relayed to the member as Aideur's message."""
    reply = parse(line + "\n\nBonne journée")
    assert reply.commands == () and len(reply.errors) == 1, reply
    assert "#" not in reply.message and "n'est pas une commande connue" in reply.errors[0].problem


def test_the_nfc_and_nfd_spellings_read_alike() -> None:
    """The NFC "#clôturer" was a command already; its NFD twin is the same command, with the same argument."""
    import unicodedata
    text = "#reporter lundi Aideur est absent à Noël\n#note élément à vérifier\nÀ bientôt, Hélène"
    assert parse(unicodedata.normalize("NFD", text)) == parse(text)


def test_disguised_command_lines_end_the_text_of_the_command_above() -> None:
    """A disguised "#clore" under "#note" is a command of its own, not the end of the note's text."""
    reply = parse("#note à voir\n#cl\u043ere")
    assert [c.name for c in reply.commands] == ["note", "clore"]
    assert reply.commands[0].text == "à voir"
