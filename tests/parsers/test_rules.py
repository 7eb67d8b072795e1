"""One place for shared text rules (issue 14, point 6): no parser keeps its own list or its own fold, and mime.py
no longer imports parse.py."""
from __future__ import annotations

import ast
import re
from pathlib import Path

from mailbot.parsers import rules

PACKAGE = Path(__file__).resolve().parents[2] / "mailbot"


def test_fold_and_sign_offs_are_defined_once() -> None:
    for path in PACKAGE.rglob("*.py"):
        if path.name == "rules.py":
            continue
        source = path.read_text(encoding="utf-8")
        assert not re.search(r"^def fold\(", source, re.MULTILINE), f"{path} defines its own fold"
        assert not re.search(r"cordialement\|", source), f"{path} keeps its own list of sign-offs"


def test_mime_does_not_import_parse() -> None:
    tree = ast.parse((PACKAGE / "parsers" / "mime.py").read_text(encoding="utf-8"))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert "parse" not in imported and "mailbot.parsers.parse" not in imported


def test_shared_rules() -> None:
    assert rules.fold("Été – l’hiver") == "ete - l'hiver"
    assert rules.fold_words("Œnologie") == "oenologie"
    assert rules.words("L'Œnologie, c'est 2 fois mieux") == ["l", "oenologie", "c", "est", "fois", "mieux"]
    assert rules.SIGN_OFF.match(rules.fold("Bien cordialement,"))
    assert rules.REFERENCE.search("Re: [CA-2026-0042] Demande").group(1) == "CA-2026-0042"
    assert rules.REFERENCE_TYPED.search("ca_2026_0042")
    assert rules.is_courtesy_only("Bonjour Madame,\n\nMerci !\nJean Martin")
    assert not rules.is_courtesy_only("Bonjour, je peux aider jeudi.")
