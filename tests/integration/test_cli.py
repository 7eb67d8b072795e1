"""The operator's commands, run as the operator runs them: `python -m mailbot ...` in a shell."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.helpers import ALICE, CLUB, add_members, append, make_mail, run_cycle


def mailbot(env: dict[str, str], *args: str, cwd: str = "/tmp") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mailbot", *args], env=os.environ | env, capture_output=True,
                          text=True, timeout=120, cwd=cwd, check=False)


def test_tickets_list_and_show_json(clean_mail, env, settings, sessions):
    add_members(sessions)
    append(clean_mail, CLUB, make_mail(ALICE, "Re: Aide juridique", "Bonjour, j'ai besoin d'aide juridique.").as_bytes())
    run_cycle(settings, sessions)

    listed = mailbot(env, "tickets", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    [ticket] = json.loads(listed.stdout)
    assert {"ref", "status", "member_email", "subject", "created_at", "due_at"} <= set(ticket)
    assert ticket["member_email"] == ALICE and ticket["subject"] == "Aide juridique"

    shown = mailbot(env, "tickets", "show", ticket["ref"].lower(), "--json")
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert data["ref"] == ticket["ref"]
    directions = [m["direction"] for m in data["messages"]]
    assert directions == ["in", "out", "out"]
    assert {"direction", "sender", "recipients", "subject", "text", "at"} <= set(data["messages"][0])
    assert data["events"][0]["kind"] == "created"

    human = mailbot(env, "tickets", "show", ticket["ref"])
    assert "j'ai besoin d'aide juridique" in human.stdout
    missing = mailbot(env, "tickets", "show", "CA-1999-0001")
    assert missing.returncode == 1 and "CA-1999-0001" in missing.stderr


def test_members_add_list_import_export_erase(env, tmp_path):
    added = mailbot(env, "members", "add", "Zoe@Membres.test", "--first-name", "Zoé", "--last-name", "Roux",
                    "--skills", "menuiserie", "--visibility", "membres")
    assert added.returncode == 0, added.stderr
    csv_file = tmp_path / "membres.csv"
    csv_file.write_text(
        "courriel;prenom;nom;entreprise;telephone;competences;loisirs;particularites;visibilite\n"
        "marc@membres.test;Marc;Blanc;Blanc SARL;0601020304;plomberie;vélo;;confidentielle\n"
        "pas-une-adresse;X;Y;;;;;;\n"
        "lea@membres.test;Léa;Noir;;;;;;invisible\n"
        "marc@membres.test;Marc;Doublon;;;;;;\n", encoding="utf-8")
    imported = mailbot(env, "members", "import", str(csv_file))
    assert imported.returncode == 1  # some rows were rejected: the operator must see it
    assert "1 added" in imported.stdout and "3 rejected" in imported.stdout
    assert "line 3" in imported.stdout and "pas-une-adresse" in imported.stdout
    assert "line 4" in imported.stdout and "invisible" in imported.stdout
    assert "line 5" in imported.stdout and "deux fois" in imported.stdout
    assert "Import" in imported.stderr and "4/4" in imported.stderr  # the progress bar, on stderr

    listed = json.loads(mailbot(env, "members", "list", "--json").stdout)
    by_email = {m["email"]: m for m in listed}
    assert set(by_email) == {"zoe@membres.test", "marc@membres.test"}
    assert by_email["zoe@membres.test"]["visibility"] == "membres"
    assert by_email["marc@membres.test"]["skills"] == "plomberie"
    assert {"email", "first_name", "last_name", "status", "visibility", "skills"} <= set(by_email["marc@membres.test"])

    exported = json.loads(mailbot(env, "members", "export", "marc@membres.test").stdout)
    assert exported["company"] == "Blanc SARL" and exported["tickets"] == []
    # Issue 17: the announcements and image-rights choices are part of what is held (not given yet: null).
    assert exported["accepts_announcements"] is True and exported["image_rights"] is None
    erased = mailbot(env, "members", "erase", "marc@membres.test")
    assert erased.returncode == 0
    listed = json.loads(mailbot(env, "members", "list", "--json").stdout)
    assert [m["email"] for m in listed] == ["zoe@membres.test"]


def test_check_reports_each_part_and_names_what_is_wrong(env):
    good = mailbot(env, "check")
    assert good.returncode == 0, good.stdout + good.stderr
    assert good.stdout.count("OK") == 6
    [templates] = [line for line in good.stdout.splitlines() if line.split()[1] == "modèles"]
    assert "ceux de mailbot" in templates  # no MAILBOT_TEMPLATES_DIR: the packaged templates
    # Which protections guard Aideur's commands (README, "Who can command"; Security).
    [commands] = [line for line in good.stdout.splitlines() if line.split()[1] == "commandes"]
    assert "vérifié par mailbot (DKIM" in commands and "confirmation par OUI exigée" in commands
    assert "adresse de commande n° 0" in commands and "aide+c0a-…@club.test" in commands
    with_mta = mailbot(env | {"MAILBOT_AUTHSERV_ID": "mx.club.test"}, "check")
    assert "Authentication-Results de mx.club.test" in with_mta.stdout
    bad = mailbot(env | {"MAILBOT_IMAP_PASSWORD": "wrong", "MAILBOT_SMTP_PORT": "1"}, "check")
    assert bad.returncode == 1
    lines = {line.split()[1]: line for line in bad.stdout.splitlines()}
    assert lines["database"].startswith("OK")
    assert lines["IMAP"].startswith("ERREUR") and lines["SMTP"].startswith("ERREUR")


def test_bad_setting_stops_the_start_naming_it(env):
    result = mailbot(env | {"MAILBOT_IMAP_SECURITY": "tls"}, "run", "--once")
    assert result.returncode == 78
    assert "MAILBOT_IMAP_SECURITY" in result.stderr
    result = mailbot({k: v for k, v in env.items() if k != "MAILBOT_SECRET_KEY"} | {"MAILBOT_SECRET_KEY": ""},
                     "run", "--once")
    assert result.returncode == 78 and "MAILBOT_SECRET_KEY" in result.stderr


def test_run_once_at_prints_a_report(clean_mail, env, sessions):
    add_members(sessions)
    append(clean_mail, CLUB, make_mail(ALICE, "Demande", "Texte de la demande.").as_bytes())
    result = mailbot(env, "run", "--once", "--at", "2026-12-24T10:00")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["processed"] == 1 and report["sent"] == 2 and report["deferred"] == 0
    assert report["send_problem"] == "" and report["send_stopped_by"] == "", report
    # The daemon's own peak memory (no helper sending process for one mail): a Python process with its imports.
    assert 30 < report["peak_rss_mb"]["daemon"] < 400 and report["peak_rss_mb"]["sender"] == 0, report
    # And its CPU time (imports and start-up included), none for a helper that did not run.
    assert 0 < report["cpu_seconds"]["daemon"] < 120 and report["cpu_seconds"]["sender"] == 0, report
    ticket = json.loads(mailbot(env, "tickets", "list", "--json").stdout)[0]
    assert ticket["created_at"].startswith("2026-12-24T09:00")  # 10:00 Paris = 09:00 UTC
    assert ticket["due_at"].startswith("2026-12-29T17:00")  # 25 Dec holiday, weekend: Mon 28 +1 = Tue 29


def test_members_import_of_a_large_list_shows_progress_and_indexes_for_matching(env, tmp_path):
    rows = ["email,first_name,last_name,company,phone,skills,activity,postal_address,accepts_appeals"]
    payroll = '"paie, droit social"'  # a quoted field: the comma belongs to the skills
    rows += [f"m{i}@membres.test,Prénom{i},Nom{i},,,{payroll if i % 100 == 0 else 'menuiserie'},"
             f"artisan,{i} rue du Port,{'non' if i == 200 else 'oui'}" for i in range(1, 1001)]
    csv_file = tmp_path / "liste.csv"
    csv_file.write_text("\n".join(rows) + "\n", encoding="utf-8")
    imported = mailbot(env, "members", "import", str(csv_file))
    assert imported.returncode == 0, imported.stderr
    assert "1000 added, 0 updated, 0 rejected" in imported.stdout
    assert "1000/1000" in imported.stderr
    exported = json.loads(mailbot(env, "members", "export", "m200@membres.test").stdout)
    assert exported["activity"] == "artisan" and exported["postal_address"] == "200 rue du Port"
    assert exported["accepts_appeals"] is False and exported["acceptances"] == []

    from mailbot.config import load_settings
    from mailbot.db import make_engine, make_session_factory
    from mailbot.matching import load_synonyms, rank

    settings = load_settings(env, env_file=None)
    engine = make_engine(settings.database_url)
    with make_session_factory(engine)() as session:
        found = rank(session, "Question sur la paie d'un salarié", synonyms=load_synonyms(), limit=20)
    engine.dispose()
    # Every hundredth member knows payroll; m200 refused appeals.
    assert {m.member_id for m in found} and len(found) == 9


def test_members_erase_by_the_operator_scrubs_the_history(clean_mail, env, settings, sessions):
    add_members(sessions)
    append(clean_mail, CLUB, make_mail(ALICE, "Aide", "Bonjour, c'est Alice Martin (Martin Conseil), "
                                                      "joignable au 06 12 34 56 78.").as_bytes())
    run_cycle(settings, sessions)
    erased = mailbot(env, "members", "erase", ALICE)
    assert erased.returncode == 0, erased.stderr
    [ticket] = json.loads(mailbot(env, "tickets", "list", "--json").stdout)
    shown = mailbot(env, "tickets", "show", ticket["ref"], "--json").stdout
    for secret in ("Alice", "Martin", ALICE, "06 12 34 56 78"):
        assert secret not in shown
    assert "membre effacé" in shown
    missing = mailbot(env, "members", "export", ALICE)
    assert missing.returncode != 0 and ALICE in missing.stderr


def test_purge_blanks_old_bodies_and_queues_the_raw_mails(clean_mail, env, settings, sessions):
    add_members(sessions)
    append(clean_mail, CLUB, make_mail(ALICE, "Aide", "Bonjour, une question de TVA.").as_bytes())
    run_cycle(settings, sessions)
    nothing = json.loads(mailbot(env, "purge", "--json").stdout)
    assert nothing[0]["outbox_bodies"] == 0  # everything is younger than MAILBOT_RETENTION_DAYS
    purged = mailbot(env, "purge", "--json", "--at", "2099-01-01T00:00")
    assert purged.returncode == 0, purged.stderr
    [report] = json.loads(purged.stdout)
    # The mails sent lose their stored copy; the ticket is still open, so its own mail is kept (retention.py).
    assert report["outbox_bodies"] >= 2 and report["mailbox_deletions"] == 0
    again = json.loads(mailbot(env, "purge", "--json", "--at", "2099-01-01T00:00").stdout)
    assert again[0]["outbox_bodies"] == 0  # idempotent
