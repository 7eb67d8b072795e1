"""French that reads as written by a person (issue 12, point 9), end to end over the loopback servers: what the
stranger, the new member, the requester and Aideur really receive."""
from __future__ import annotations

import re

import pytest

from mailbot.members import erase_member, export_member
from tests.helpers import AIDEUR, ALICE, CLUB, STRANGER, make_mail, run_cycle, settle, smtp_send, wait_mail
from tests.integration.test_membership import deliver, register, reply
from tests.integration.test_registration import ACCEPT, FILLED, member
from tests.integration.test_triage import THURSDAY, answer, member_mails, open_ticket
from tests.unit.test_templates_french import problems

# Wording and routing: the queries are the ones every other test runs on both databases (tests/conftest.py).
pytestmark = pytest.mark.sqlite_only

LONG_ADDRESS = "jean-christophe.de-la-fontaine@cabinet-exemple.test"


def test_a_strangers_notice_keeps_his_lines_and_gives_aideur_no_shell_command(clean_mail, settings, sessions):
    text = ("Bonjour,\n\nJe suis menuisier à Nantes.\nUn ami m'a parlé du Club.\n"
            "Mon numéro : 06 11 22 33 44\n\nMerci !\nJean")
    smtp_send(clean_mail, make_mail(f"Jean Dupont <{STRANGER}>", "Renseignement", text))
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(settings, sessions, at=THURSDAY)
    [note] = settle(clean_mail, AIDEUR, 1)
    body = note.typeset_text.replace("\r\n", "\n")
    # His message as he wrote it, line by line (French spacing added, nothing joined).
    assert ("Bonjour,\n\nJe suis menuisier à Nantes.\nUn ami m'a parlé du Club.\nMon numéro\u00a0: 06 11 22 33 44"
            "\n\nMerci\u00a0!\nJean") in body
    assert "mailbot members" not in body and "`" not in body
    assert problems(body, to_aideur=True, member_mail=False) == []


def test_the_issue_stranded_words_are_gone_with_a_long_address(clean_mail, settings, sessions):
    """« cette\\nadresse\\nn'est pas »: a long sender address no longer leaves words alone on their lines."""
    smtp_send(clean_mail, make_mail(f"Jean-Christophe <{LONG_ADDRESS}>", "Question", "Bonjour, une question."))
    wait_mail(clean_mail, CLUB, 1)
    run_cycle(settings, sessions, at=THURSDAY)
    # (His invitation to an address no server holds bounces: Aideur hears of that too.)
    [note] = [m for m in wait_mail(clean_mail, AIDEUR, 1) if "non-membre" in m.subject]
    body = note.typeset_text.replace("\r\n", "\n")
    assert "cette adresse n'est pas celle d'un membre" in " ".join(body.split())
    assert problems(body, to_aideur=True, member_mail=False) == []
    assert not re.search(r"\n\S+\n", body.split("-----")[0]), body  # no line of one word before the message


def register_as(server, settings, sessions, form: str):  # type: ignore[no-untyped-def]
    """Hélène's registration (form, then her OUI to the confirmation): the welcome mail."""
    deliver(server, settings, sessions, make_mail(f"Hélène Lefèvre <{STRANGER}>", "Inscription", form + "\n\n" + ACCEPT))
    [question] = wait_mail(server, STRANGER, 1)
    reply(server, settings, sessions, question, "Oui")
    return wait_mail(server, STRANGER, 2)[-1]


def test_a_member_who_says_madame_is_agreed_with(clean_mail, settings, sessions):
    welcome = register_as(clean_mail, settings, sessions,
                          FILLED.replace("Nom : Lefèvre", "Civilité : Mme\nNom : Lefèvre"))
    assert "Bienvenue" in welcome.subject
    assert member(sessions).civility == "madame"  # type: ignore[union-attr]
    assert "Civilité (Madame, Monsieur, ou rien) : Madame" in welcome.text
    notices = [m for m in settle(clean_mail, AIDEUR, 1) if "Nouveau membre" in m.subject]
    [notice] = notices
    text = " ".join(notice.text.split())
    assert f"Hélène Lefèvre <{STRANGER}> s'est inscrite par mail" in text
    assert "telle qu'elle l'a écrite" in text and "s'est inscrit " not in text
    # She can change it by mail, like any answer of her profile; it is in her data export, and erased with her.
    reply(clean_mail, settings, sessions, welcome, "Civilité : rien")
    assert member(sessions).civility is None  # type: ignore[union-attr]
    reply(clean_mail, settings, sessions, welcome, "Civilité : Madame")
    with sessions() as session:
        assert export_member(session, STRANGER)["civility"] == "madame"
        erased = erase_member(session, STRANGER, now=THURSDAY)
        assert erased.civility is None


def test_a_member_who_gives_no_civility_gets_words_that_need_no_agreement(clean_mail, settings, sessions):
    register(clean_mail, settings, sessions)
    assert member(sessions).civility is None  # type: ignore[union-attr]
    [notice] = [m for m in settle(clean_mail, AIDEUR, 1) if "Nouveau membre" in m.subject]
    text = " ".join(notice.text.split())
    assert f"Nouvelle inscription par mail : Hélène Lefèvre <{STRANGER}>" in text
    assert "inscrit" not in text.replace("inscription", "")


def test_a_relayed_message_that_greets_gives_one_greeting(clean_mail, settings, sessions):
    note = open_ticket(clean_mail, settings, sessions)
    answer(clean_mail, settings, sessions, note, "Bonjour Alice,\n\nAvez-vous déjà saisi les prud'hommes ?\n\nAideur")
    [mail] = member_mails(clean_mail)
    body = mail.typeset_text.replace("\r\n", "\n")
    assert body.count("Bonjour") == 1 and body.startswith("Bonjour Alice,\n\nAvez-vous déjà saisi les prud'hommes\u00a0?")
    assert problems(body, to_aideur=False, member_mail=True) == []
    assert ALICE in mail.to
