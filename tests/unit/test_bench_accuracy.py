"""bench/corpus_accuracy.py on any labelled corpus (issue 14, point 8): absent categories are reported as absent,
reply figures come by layout and by language, several corpora are reported apart."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import corpus_accuracy

PLAIN = (b"From: Jean <jean@x.example>\r\nTo: aide@club.test\r\nSubject: Question\r\nMessage-ID: <q@x.example>\r\n\r\n"
         b"Bonjour, une question sur la TVA.\r\n")
ABOVE = "Oui, jeudi me va.\n\nLe 3 déc. 2026 à 10:00, Club Aide a écrit :\n> Jeudi vous convient-il ?\n"
INTERLEAVED = ("Le 3 déc. 2026 à 10:00, Club Aide a écrit :\n> Jeudi vous convient-il ?\nOui, jeudi.\n"
               "> Et l'adresse ?\n12 rue des Lilas.\n")


def write_corpus(root: Path) -> Path:
    """A corpus without bounces, auto-replies, attachments or below-the-quote replies: each is absent."""
    (root / "mails").mkdir(parents=True)
    (root / "mails" / "plain.eml").write_bytes(PLAIN)
    (root / "mails" / "above.txt").write_text(ABOVE, encoding="utf-8")
    (root / "mails" / "inter.txt").write_text(INTERLEAVED, encoding="utf-8")
    files = [
        {"file": "mails/plain.eml", "category": "plain", "format": "eml", "is_auto_reply": False, "is_bounce": False},
        {"file": "mails/above.txt", "category": "reply-bodies", "format": "body-only-text", "language": "fr",
         "reply_text": "Oui, jeudi me va."},
        {"file": "mails/inter.txt", "category": "reply-bodies", "format": "body-only-text", "language": "fr",
         "reply_text": "Oui, jeudi.\n12 rue des Lilas."},
    ]
    (root / "manifest.json").write_text(json.dumps({"files": files}), encoding="utf-8")
    return root


def test_a_corpus_missing_categories_is_reported_with_absent_figures(tmp_path: Path, capsys) -> None:
    corpus = write_corpus(tmp_path / "c")
    assert corpus_accuracy.main(["--corpus", str(corpus)]) == 0  # was ZeroDivisionError
    text = capsys.readouterr().out
    assert "bounced_recipient exact set absent" in text
    assert "is_bulk       absent" in text
    assert "has_attachments 1/1 (100%)" not in text  # not labelled here: absent, not made up
    assert "layout below" in text and "absent" in text.split("layout below", 1)[1].split("\n", 1)[0]

    assert corpus_accuracy.main(["--corpus", str(corpus), "--json"]) == 0
    (figures,) = json.loads(capsys.readouterr().out)
    assert figures["bounce"]["tp"] == 0 and figures["bounce"]["recall"] is None
    assert figures["bulk"] is None and figures["bounced_recipient"] is None and figures["attachment_names"] is None
    replies = figures["replies"]
    assert replies["layout above"]["n"] == 1 and replies["layout interleaved"]["n"] == 1
    assert replies["layout below"] == {"exact": None, "kept_no_leak": None, "n": 0}
    assert replies["language fr"]["n"] == 2 and replies["overall"]["n"] == 2


def test_reply_sets_as_json_lists_and_several_corpora(tmp_path: Path, capsys) -> None:
    corpus = write_corpus(tmp_path / "c")
    cases = tmp_path / "set.json"
    cases.write_text(json.dumps([{"id": "a", "layout": "above", "text": ABOVE, "expected": "Oui, jeudi me va."}]),
                     encoding="utf-8")
    assert corpus_accuracy.main(["--corpus", str(corpus), "--corpus", str(cases), "--language", "fr",
                                 "--json"]) == 0
    first, second = json.loads(capsys.readouterr().out)
    assert first["corpus"] == str(corpus) and second["corpus"] == str(cases)
    assert second["mails"] == 0 and second["auto_reply"] is None
    assert second["replies"]["overall"] == {"exact": 1.0, "kept_no_leak": 1.0, "n": 1}
    assert second["replies"]["language fr"]["n"] == 1


@pytest.mark.parametrize("got, ok", [
    ("Oui, jeudi.\n12 rue des Lilas.", True),
    ("Oui, jeudi.", False),  # the author's second answer lost
    ("Oui, jeudi.\n> Et l'adresse ?\n12 rue des Lilas.", False),  # a quote leaked
    ("Le 3 déc. 2026 à 10:00, Club Aide a écrit :\nOui, jeudi.\n12 rue des Lilas.", False),  # the attribution
])
def test_kept_no_leak(got: str, ok: bool) -> None:
    assert corpus_accuracy.kept_no_leak(got, {"reply_text": "Oui, jeudi.\n12 rue des Lilas."}) is ok


def test_layout_is_inferred_when_not_labelled() -> None:
    assert corpus_accuracy.layout_of({"reply_text": "Oui, jeudi me va."}, ABOVE) == "above"
    assert corpus_accuracy.layout_of({"reply_text": "Oui, jeudi.\n12 rue des Lilas."}, INTERLEAVED) == "interleaved"
    below = "Le 3 déc., X a écrit :\n> Jeudi ?\n> Vraiment ?\n\nOui, jeudi."
    assert corpus_accuracy.layout_of({"reply_text": "Oui, jeudi."}, below) == "below"
    outlook = "Oui, jeudi.\n\nDe : Club Aide\nEnvoyé : jeudi\nObjet : RDV\n\nJeudi vous convient-il ?"
    assert corpus_accuracy.layout_of({"reply_text": "Oui, jeudi."}, outlook) == "above"
