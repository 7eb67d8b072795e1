"""Aideur's commands are one object each, one module each (issue 12, point 10), and the sheet lists exactly them."""
from __future__ import annotations

import pkgutil
from datetime import date

import pytest

import mailbot.commands
from mailbot.commands import REGISTRY
from mailbot.commands.base import AideurCommand
from mailbot.compose import TemplateRenderer
from mailbot.parsers.commands import COMMANDS, parse_aideur_reply

NOTICE = {"club_name": "Club Aide", "command_address": "aide+c0a-x@club.test"}


def test_every_module_is_one_registered_command() -> None:
    modules = {m.name for m in pkgutil.iter_modules(mailbot.commands.__path__)} - {"base"}
    assert modules == set(REGISTRY)
    assert all(isinstance(command, AideurCommand) and command.name == name for name, command in REGISTRY.items())
    assert {"rouvrir", "ouvrir"} <= set(REGISTRY) and dict(COMMANDS)["rouvrir"] == "reopen"


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_each_word_of_a_command_reads_as_it(name: str) -> None:
    command = REGISTRY[name]
    for word in {name, command.alias, *command.near_forms}:
        reply = parse_aideur_reply(f"#{word}", date(2026, 12, 10))
        assert [c.name for c in reply.commands] + [e.line for e in reply.errors] in ([name], [f"#{word}"])
        for error in reply.errors:  # a missing argument, never an unknown word
            assert "n'est pas une commande connue" not in error.problem


def test_the_sheet_lists_every_command_and_alias() -> None:
    sheet = TemplateRenderer().render("aide", NOTICE).body.replace("\u00a0", " ")  # French spacing
    english = sheet[sheet.index("En anglais :"):].split("\n\n")[0]
    for name, command in REGISTRY.items():
        assert f"  #{name}" in sheet, name
        if command.alias != name:
            assert f"#{command.alias}" in english.split(), command.alias
    assert "bientôt" not in sheet


def test_unknown_word_lists_the_commands() -> None:
    [error] = parse_aideur_reply("#reouvrire", date(2026, 12, 10)).errors
    assert "#rouvrir (#reopen)" in error.problem and "#ouvrir (#open)" in error.problem
