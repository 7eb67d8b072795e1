"""`mailbot docs add|list|remove` and the suggestions' count in `mailbot report`, run as the operator runs them."""
from __future__ import annotations

import json
from datetime import datetime

import pytest
from sqlalchemy import select

from mailbot.members import erase_member, export_member
from mailbot.models import Document, Member, Suggestion
from tests.helpers import ALICE, add_members
from tests.integration.test_cli import mailbot

# The queries are the ones the end-to-end tests run on both databases; each subprocess costs a second or two.
pytestmark = pytest.mark.sqlite_only


def test_docs_add_list_remove(env, settings, sessions, tmp_path):
    guide = tmp_path / "guide-facture.pdf"
    guide.write_bytes(b"%PDF-1.4 guide " * 100)
    added = mailbot(env, "docs", "add", str(guide), "--rubrique", "Comptabilité", "--titre",
                    "Guide de la facture électronique", "--mots-cles", "TVA; facture", "--json")
    assert added.returncode == 0, added.stderr
    row = json.loads(added.stdout)
    assert (row["rubrique"], row["titre"], row["mots_cles"], row["filename"], row["size"]) == (
        "Comptabilité", "Guide de la facture électronique", "TVA, facture", "guide-facture.pdf", 1500)
    assert row["content_type"] == "application/pdf" and len(row["sha256"]) == 64

    empty = tmp_path / "vide.pdf"
    empty.write_bytes(b"")
    refused = mailbot(env, "docs", "add", str(empty), "--rubrique", "Juridique", "--titre", "Vide")
    assert refused.returncode == 1 and "vide" in refused.stderr
    big = tmp_path / "gros.pdf"
    big.write_bytes(b"x" * 3000)
    too_big = mailbot(env | {"MAILBOT_DOC_MAX_BYTES": "2048"}, "docs", "add", str(big), "--rubrique", "Juridique",
                      "--titre", "Gros")
    assert too_big.returncode == 1 and "MAILBOT_DOC_MAX_BYTES" in too_big.stderr

    listed = mailbot(env, "docs", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    [doc] = json.loads(listed.stdout)
    assert set(doc) == {"id", "rubrique", "titre", "mots_cles", "filename", "content_type", "size", "sha256",
                        "added_at", "added_by"} and doc["id"] == row["id"]
    assert "Guide de la facture électronique" in mailbot(env, "docs", "list").stdout
    with sessions() as session:
        assert session.scalars(select(Document)).one().data == guide.read_bytes()

    removed = mailbot(env, "docs", "remove", str(row["id"]))
    assert removed.returncode == 0 and "Guide" in removed.stdout
    assert json.loads(mailbot(env, "docs", "list", "--json").stdout) == []
    missing = mailbot(env, "docs", "remove", str(row["id"]))
    assert missing.returncode == 1


def test_report_counts_suggestions_and_erasure_takes_them(env, settings, sessions):
    add_members(sessions)
    with sessions.begin() as session:
        alice = session.scalars(select(Member).where(Member.email == ALICE)).one()
        session.add(Suggestion(member_id=alice.id, message_id="<s1@membres.test>", received_at=datetime(2026, 11, 24),
                               subject="Suggestion", text="Des ateliers le soir."))
    report = mailbot(env, "report", "--json", "--at", "2026-11-26T11:00")
    assert report.returncode == 0, report.stderr
    assert json.loads(report.stdout)["suggestions"] == 1
    text = mailbot(env, "report", "--at", "2026-11-26T11:00").stdout
    assert "Suggestions des membres (1)" in text and "Des ateliers le soir." in text
    with sessions.begin() as session:
        assert export_member(session, ALICE)["suggestions"][0]["text"] == "Des ateliers le soir."
        erase_member(session, ALICE)
    with sessions() as session:
        assert session.scalars(select(Suggestion)).all() == []
