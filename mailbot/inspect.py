"""`mailbot inspect`: what mailbot makes of a mail, for the operator who wonders why it was handled as it was.

Pure: it reads the files (or standard input) and runs the parsers; no settings, no database, no mailbox.
"""
from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO

from mailbot.parsers import ParseError, parse_mail

UNREADABLE = "unreadable"


def inspect_bytes(raw: bytes, name: str) -> dict[str, Any]:
    """One mail's verdict as a JSON-ready dict (the keys README.md documents for `mailbot inspect --json`, `sender_problem` included)."""
    result: dict[str, Any] = {
        "file": name, "kind": UNREADABLE, "kind_reason": "", "from_address": "", "from_name": "", "subject": "",
        "new_text": "", "signature": "", "summary": "", "attachments": [], "bounced_recipients": [],
        "sender_problem": "", "error": "",
    }
    try:
        mail = parse_mail(raw)
    except ParseError as error:
        result["error"] = str(error)
        result["kind_reason"] = "le mail ne peut pas être lu ; le daemon le mettrait en quarantaine"
        return result
    # Imported here: the summary rule belongs to the ticket workflow (what Aideur and the member read).
    from mailbot.workflows.tickets import summary_of

    result.update({
        "kind": mail.kind.value,
        "kind_reason": mail.kind_reason,
        "from_address": mail.from_address,
        "from_name": mail.from_name,
        "subject": mail.subject,
        "new_text": mail.new_text,
        "signature": mail.signature,
        "summary": summary_of(mail),
        "attachments": [{"filename": a.filename, "content_type": a.content_type, "size": a.size}
                        for a in mail.attachments],
        "bounced_recipients": list(mail.bounced_recipients),
        "sender_problem": mail.sender_problem,
    })
    return result


def inspect_paths(paths: Iterable[str], stdin: BinaryIO | None = None) -> list[dict[str, Any]]:
    """Each path in order; "-" is standard input. A file that cannot be opened is an unreadable entry."""
    results: list[dict[str, Any]] = []
    for path in paths:
        try:
            raw = (stdin or sys.stdin.buffer).read() if path == "-" else Path(path).read_bytes()
        except OSError as error:
            entry = inspect_bytes(b"", path)
            entry["error"] = f"fichier illisible : {error.strerror or error}"
            entry["kind_reason"] = ""
            results.append(entry)
            continue
        results.append(inspect_bytes(raw, path))
    return results


def to_json(results: list[dict[str, Any]]) -> str:
    return json.dumps(results, ensure_ascii=False, indent=2)


def to_text(results: list[dict[str, Any]]) -> str:
    """The readable form: one block per file, French labels like the rest of the operator's commands."""
    blocks: list[str] = []
    for item in results:
        lines = [f"== {item['file']} =="]
        if item["error"]:
            lines.append(f"Illisible : {item['error']}")
            blocks.append("\n".join(lines))
            continue
        kind = item["kind"] + (f" ({item['kind_reason']})" if item["kind_reason"] else "")
        sender = item["from_address"] or "(aucune adresse)"
        if item["from_name"]:
            sender = f"{item['from_name']} <{sender}>"
        lines += [f"Genre : {kind}", f"Expéditeur : {sender}"]
        if item["sender_problem"]:
            lines.append(f"Problème d'expéditeur : {item['sender_problem']} (mis en quarantaine s'il n'est pas "
                         "automatique)")
        lines += [f"Objet : {item['subject']}", f"Résumé : {item['summary']}"]
        if item["bounced_recipients"]:
            lines.append("Destinataires en échec : " + ", ".join(item["bounced_recipients"]))
        for att in item["attachments"]:
            lines.append(f"Pièce jointe : {att['filename']} ({att['content_type']}, {att['size']} octets)")
        lines.append("Texte nouveau :")
        lines += ["  " + line for line in (item["new_text"] or "(vide)").split("\n")]
        if item["signature"]:
            lines.append("Signature :")
            lines += ["  " + line for line in item["signature"].split("\n")]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
