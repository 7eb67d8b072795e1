from __future__ import annotations

import json

import pytest

from tests.corpus import CORPUS


def manifest() -> list[dict]:
    path = CORPUS / "manifest.json"
    if not path.exists():
        return []
    return json.loads(path.read_text(encoding="utf-8"))["files"]


def collapse(text: str | None) -> str:
    return " ".join((text or "").split())


@pytest.fixture(scope="session")
def parsed_corpus() -> dict:
    from mailbot.parsers import ParseError, parse_mail

    out = {}
    for entry in manifest():
        if entry["format"] != "eml":
            continue
        try:
            out[entry["file"]] = parse_mail((CORPUS / entry["file"]).read_bytes())
        except ParseError as exc:
            out[entry["file"]] = exc
    return out
