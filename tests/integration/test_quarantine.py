"""Quarantine you can act on (issue 15, point 6): `mailbot quarantine list` and `replay`, end to end on the loopback
servers. A mail quarantined by a failure, the cause fixed, the mail replayed: processed once (one ticket, one
acknowledgement), whatever the replays and daemons racing it; the quarantine empty after."""
from __future__ import annotations

import io
import json
import threading
from contextlib import redirect_stdout
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from mailbot import cli
from mailbot.models import InboundMail, Ticket
from mailbot.parsers import ParseError
from mailbot.quarantine import REPLAYED, list_quarantine, replay
from mailbot.workflows import requests
from tests.helpers import (
    AIDEUR,
    ALICE,
    BRUNO,
    CLOCK,
    CLUB,
    add_members,
    mailbox,
    make_mail,
    run_cycle,
    settle,
    smtp_send,
)

pytestmark = pytest.mark.servers

QUARANTINE = "mailbot-quarantaine"
PROCESSED = "mailbot-traites"


def broken_workflow(*args: object, **kwargs: object) -> None:
    raise RuntimeError("panne simulée")


def unreadable(raw: bytes, **_: object) -> None:  # parse_mail's stand-in (it takes `loaded=` too)
    raise ParseError("simulé : en-têtes illisibles")


# Two causes: a crash in a workflow (the quarantine record carries the mail's own Message-ID: without its release
# the replay would be a duplicate of it), and a mail the parser refused (recorded under a derived identifier).
CAUSES = {"internal-error": ("mailbot.workflows.requests.new_request", broken_workflow, "erreur interne"),
          "unreadable": ("mailbot.pipeline.parse_mail", unreadable, "mail illisible")}


def quarantine_one(server, settings, sessions, monkeypatch, cause: str, sender: str = ALICE) -> str:  # type: ignore[no-untyped-def]
    """Alice's request, quarantined by `cause`; the cause then fixed. Returns its Message-ID."""
    target, replacement, _ = CAUSES[cause]
    message = make_mail(sender, "Besoin d'un plombier", "Bonjour,\n\nMon évier fuit, qui peut m'aider ?\n\nAlice")
    smtp_send(server, message)
    settle(server, CLUB, 1)
    with monkeypatch.context() as patch:
        patch.setattr(target, replacement)
        report = run_cycle(settings, sessions, at=CLOCK)
    assert report.quarantined == 1 and report.processed == 0
    return str(message["Message-ID"]).strip("<>")


def tickets(sessions) -> int:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Ticket)) or 0)


def cli_json(monkeypatch, env: dict[str, str], *argv: str) -> object:  # type: ignore[no-untyped-def]
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    out = io.StringIO()
    with redirect_stdout(out):
        code = cli.main(["--env-file", "/dev/null", *argv])
    assert code == 0, out.getvalue()
    return json.loads(out.getvalue())


@pytest.mark.parametrize("cause", sorted(CAUSES))
def test_a_quarantined_mail_is_listed_then_replayed_and_processed_once(
        clean_mail, env, settings, sessions, monkeypatch, cause):  # type: ignore[no-untyped-def]
    add_members(sessions)
    message_id = quarantine_one(clean_mail, settings, sessions, monkeypatch, cause)
    aideur_before = len(settle(clean_mail, AIDEUR, 1))  # the quarantine notice

    listed = cli_json(monkeypatch, env, "quarantine", "list", "--json")
    assert isinstance(listed, list) and len(listed) == 1
    entry = listed[0]
    assert set(entry) == {"uid", "date", "sender", "subject", "reason"}
    assert entry["sender"] == ALICE and entry["subject"] == "Besoin d'un plombier"
    assert entry["reason"].startswith(CAUSES[cause][2]) and entry["date"].startswith("2026-11-26")

    result = cli_json(monkeypatch, env, "quarantine", "replay", str(entry["uid"]), "--json")
    assert result == {"replayed": [entry["uid"]], "busy": [], "missing": []}
    assert len(mailbox(clean_mail, CLUB, QUARANTINE)) == 0 and len(mailbox(clean_mail, CLUB)) == 1
    assert replay(settings, sessions, [entry["uid"]]).missing == [entry["uid"]]  # a second replay: nothing to do

    later = CLOCK + timedelta(minutes=5)
    report = run_cycle(settings, sessions, at=later)
    assert report.processed == 1 and report.quarantined == 0, dict(report.actions)
    assert dict(report.actions) == {"new-request": 1}  # not "duplicate" of its own quarantine record
    assert run_cycle(settings, sessions, at=later).processed == 0

    assert tickets(sessions) == 1
    assert len(settle(clean_mail, ALICE, 1)) == 1  # one acknowledgement
    assert list_quarantine(settings, sessions) == []
    assert mailbox(clean_mail, CLUB) == [] and len(mailbox(clean_mail, CLUB, PROCESSED)) == 1
    with sessions() as session:
        outcomes = sorted(session.scalars(select(InboundMail.outcome)).all())
        carried = session.scalars(select(InboundMail).where(InboundMail.message_id == message_id)).all()
    assert outcomes == sorted(["new-request", REPLAYED])
    assert cause == "unreadable" or [record.outcome for record in carried] == ["new-request"]
    assert len(mailbox(clean_mail, AIDEUR)) >= aideur_before  # Aideur's notice of the new ticket, if any, only


def test_racing_replays_and_daemons_process_the_mail_once(clean_mail, settings, sessions, monkeypatch):  # type: ignore[no-untyped-def]
    add_members(sessions)
    quarantine_one(clean_mail, settings, sessions, monkeypatch, "internal-error")
    quarantine_one(clean_mail, settings, sessions, monkeypatch, "internal-error", sender=BRUNO)
    assert len(list_quarantine(settings, sessions)) == 2

    results: list[object] = []
    errors: list[BaseException] = []

    def worker(job):  # type: ignore[no-untyped-def]
        try:
            results.append(job())
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    later = CLOCK + timedelta(minutes=5)
    jobs = [lambda: replay(settings, sessions, None), lambda: replay(settings, sessions, None),
            lambda: run_cycle(settings, sessions, at=later)]
    threads = [threading.Thread(target=worker, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    replays = [r for r in results if hasattr(r, "replayed")]
    moved = sorted(uid for r in replays for uid in r.replayed)  # type: ignore[attr-defined]
    assert len(moved) == 2 and len(set(moved)) == 2  # each mail moved back by one of the two replays
    run_cycle(settings, sessions, at=later)
    run_cycle(settings, sessions, at=later)

    assert tickets(sessions) == 2
    assert len(settle(clean_mail, ALICE, 1)) == 1 and len(settle(clean_mail, BRUNO, 1)) == 1
    assert list_quarantine(settings, sessions) == []
    assert mailbox(clean_mail, CLUB) == [] and len(mailbox(clean_mail, CLUB, PROCESSED)) == 2


def test_replay_needs_uids_or_all(clean_mail, env, monkeypatch, capsys):  # type: ignore[no-untyped-def]
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as stop:
        cli.main(["--env-file", "/dev/null", "quarantine", "replay"])
    assert stop.value.code == 2 and "--all" in capsys.readouterr().err
    assert cli.main(["--env-file", "/dev/null", "quarantine", "replay", "4242"]) == 1  # not in quarantine
    assert requests.new_request is not broken_workflow
