"""Every real-world mail of the outside corpus (MAILBOT_TEST_CORPUS) through the daemon: no crash, nothing left behind, robots unanswered,
the unreadable quarantined with a reason and Aideur told."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from mailbot.models import InboundMail, OutboxMail
from tests.helpers import AIDEUR, CLUB, append, mailbox, run_cycle, settle

pytestmark = [pytest.mark.slow]


def _corpus(corpus_dir):  # type: ignore[no-untyped-def]
    manifest = json.loads((corpus_dir / "manifest.json").read_text())
    return [entry for entry in manifest["files"] if entry["format"] == "eml"]


def test_whole_corpus_goes_through(clean_mail, settings, sessions, corpus_dir):
    entries = _corpus(corpus_dir)
    for entry in entries:
        append(clean_mail, CLUB, (corpus_dir / entry["file"]).read_bytes())

    report = run_cycle(settings, sessions)
    assert report.processed + report.quarantined == len(entries)
    assert mailbox(clean_mail, CLUB) == []  # nothing stuck in the inbox
    kept = len(mailbox(clean_mail, CLUB, settings.processed_folder)) + \
        len(mailbox(clean_mail, CLUB, settings.quarantine_folder))
    assert kept == len(entries)

    with sessions() as session:
        records = session.scalars(select(InboundMail)).all()
        answered = {row.idempotency_key.split(":", 1)[1] for row in session.scalars(
            select(OutboxMail).where(OutboxMail.kind.in_(["invitation", "accuse_reception"])))}
        by_subject = {}
        for record in records:
            by_subject.setdefault(record.subject, []).append(record)
        # Robots never get an answer: every auto-reply and bounce of the corpus was recognised as such.
        robots = [r for r in records if r.kind in ("auto-reply", "bounce", "bulk")]
        assert robots, "no robot recognised at all"
        assert not {r.message_id for r in robots} & answered
        labelled_robots = sum(1 for e in entries if e["is_auto_reply"] or e["is_bounce"])
        assert len(robots) >= labelled_robots * 0.95
        quarantined = [r for r in records if r.outcome == "quarantined"]
        assert all(r.reason for r in quarantined)

    # the mail without any header is quarantined, and Aideur was told why
    assert any("illisible" in r.reason for r in quarantined)
    notes = mailbox(clean_mail, AIDEUR)
    assert any("Mail illisible mis de côté" in n.subject for n in notes)


def test_unreadable_mail_does_not_hold_up_the_next(clean_mail, settings, sessions, corpus_dir):
    from tests.helpers import ALICE, add_members, make_mail

    add_members(sessions)
    append(clean_mail, CLUB, make_mail(ALICE, "Première", "Première demande.").as_bytes())
    append(clean_mail, CLUB, (corpus_dir / "malformed" / "rt-no-headers-at-all.eml").read_bytes())
    append(clean_mail, CLUB, b"\x00\x01\x02 not a mail at all \xff\xfe")
    append(clean_mail, CLUB, make_mail(ALICE, "Troisième", "Troisième demande.").as_bytes())
    report = run_cycle(settings, sessions)
    assert report.processed == 2 and report.quarantined == 2
    assert len(mailbox(clean_mail, CLUB, settings.quarantine_folder)) == 2
    acks = settle(clean_mail, ALICE, 2)
    assert [a.subject.split("] ", 1)[1] for a in acks] == ["Demande bien reçue : Première",
                                                          "Demande bien reçue : Troisième"]
    alerts = [n for n in settle(clean_mail, AIDEUR, 4) if "illisible" in n.subject]
    assert len(alerts) == 2
    assert "mailbot-quarantaine" in alerts[0].text and "Raison" in alerts[0].text


def test_a_failing_quarantine_notice_still_quarantines(clean_mail, settings, sessions, corpus_dir, monkeypatch):
    """Fault injection: even the notice to Aideur fails (a broken template); the mail is still set aside."""
    from mailbot.workflows import notices
    from tests.helpers import ALICE, add_members, make_mail

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("template cassé")

    monkeypatch.setattr(notices, "quarantined", broken)
    add_members(sessions)
    append(clean_mail, CLUB, b"garbage without any header\r\n")
    append(clean_mail, CLUB, make_mail(ALICE, "Après", "Demande après le mail illisible.").as_bytes())
    report = run_cycle(settings, sessions)
    assert report.quarantined == 1 and report.processed == 1
    assert len(mailbox(clean_mail, CLUB, settings.quarantine_folder)) == 1
    assert mailbox(clean_mail, CLUB) == []
