"""`mailbot inspect` (issue 14, point 7): the parsers' verdict on files or stdin, touching nothing."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KEYS = {"file", "kind", "kind_reason", "from_address", "from_name", "subject", "new_text", "signature", "summary",
        "attachments", "bounced_recipients", "error"}

REQUEST = (b"From: Big Bug bb@bug.com\r\nTo: aide@club.test\r\nSubject: =?utf-8?q?Facture_contest=C3=A9e?=\r\n"
           b"Message-ID: <r1@bug.com>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n"
           b"--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBonjour,\r\n\r\nUn client conteste ma facture. "
           b"Pouvez-vous m'aider ?\r\n\r\n-- \r\nBig Bug\r\n06 00 00 00 00\r\n--B\r\nContent-Type: application/pdf\r\n"
           b"Content-Disposition: attachment; filename=\"facture d\xc3\xa9cembre.pdf\"\r\n"
           b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--B--\r\n")
BOUNCE = (b"From: MAILER-DAEMON@mx.example\r\nTo: aide@club.test\r\nSubject: Undelivered Mail Returned to Sender\r\n"
          b"Message-ID: <b1@mx.example>\r\nMIME-Version: 1.0\r\n"
          b"Content-Type: multipart/report; report-type=delivery-status; boundary=R\r\n\r\n--R\r\n"
          b"Content-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n--R\r\n"
          b"Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n\r\n"
          b"Final-Recipient: rfc822; parti@ailleurs.example\r\nAction: failed\r\nStatus: 5.1.1\r\n--R--\r\n")
TWO_SENDERS = b"From: aideur@club.test, intrus@evil.example\r\nTo: aide@club.test\r\nSubject: x\r\n\r\n#clore\r\n"


def run(cwd: Path, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    # No MAILBOT_* setting at all: inspect needs none, and must not create a database or read a mailbox.
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILBOT_")} | {"PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "mailbot", "inspect", *args], cwd=cwd, env=env, input=stdin,
                          capture_output=True, timeout=60, check=False)


def test_json_shape_for_files_and_stdin(tmp_path: Path) -> None:
    (tmp_path / "request.eml").write_bytes(REQUEST)
    (tmp_path / "bounce.eml").write_bytes(BOUNCE)
    (tmp_path / "two.eml").write_bytes(TWO_SENDERS)
    (tmp_path / "junk.eml").write_bytes(b"\x00\x01 not a mail at all\n")
    before = set(tmp_path.iterdir())
    done = run(tmp_path, "request.eml", "bounce.eml", "two.eml", "junk.eml", "-", "--json", stdin=REQUEST)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert [r["file"] for r in results] == ["request.eml", "bounce.eml", "two.eml", "junk.eml", "-"]
    for item in results:
        assert KEYS <= set(item)
    request, bounce, two, junk, stdin = results
    assert request["kind"] == "normal" and request["kind_reason"] == "" and request["error"] == ""
    assert (request["from_address"], request["from_name"]) == ("bb@bug.com", "Big Bug")
    assert request["subject"] == "Facture contestée"
    assert "Un client conteste ma facture" in request["new_text"] and "06 00" not in request["new_text"]
    assert "06 00 00 00 00" in request["signature"]
    assert request["summary"].startswith("Un client conteste ma facture")
    assert request["attachments"] == [{"filename": "facture décembre.pdf", "content_type": "application/pdf",
                                       "size": 9}]
    assert bounce["kind"] == "bounce" and bounce["kind_reason"]
    assert bounce["bounced_recipients"] == ["parti@ailleurs.example"]
    assert two["from_address"] == "" and "plusieurs adresses" in two["sender_problem"]
    assert junk["kind"] == "unreadable" and junk["error"]
    assert stdin == request | {"file": "-"}
    assert set(tmp_path.iterdir()) == before  # no database file, nothing written


def test_readable_form_and_a_missing_file(tmp_path: Path) -> None:
    (tmp_path / "request.eml").write_bytes(REQUEST)
    done = run(tmp_path, "request.eml", "absent.eml")
    text = done.stdout.decode("utf-8")
    assert done.returncode == 1  # a file that cannot be opened is the operator's error
    assert "== request.eml ==" in text and "Expéditeur : Big Bug <bb@bug.com>" in text
    assert "Pièce jointe : facture décembre.pdf" in text
    assert "== absent.eml ==" in text and "fichier illisible" in text
