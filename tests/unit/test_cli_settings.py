"""The operator's commands with wrong settings or an unready database: one line naming what is wrong, exit 78
(EX_CONFIG), never a traceback (issue 15, point 4). Run as the operator runs them, in a clean environment."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mailbot.db import upgrade

ROOT = Path(__file__).resolve().parents[2]
BASE = {"MAILBOT_CLUB_ADDRESS": "aide@club.test", "MAILBOT_AIDEUR_ADDRESSES": "aideur@club.test",
        "MAILBOT_SECRET_KEY": "0123456789abcdef0123"}


def mailbot(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {key: value for key, value in os.environ.items() if not key.upper().startswith("MAILBOT")}
    return subprocess.run([sys.executable, "-m", "mailbot", *args], check=False, env=clean | {"PYTHONPATH": str(ROOT)} | env,
                          capture_output=True, text=True, timeout=120, cwd=cwd)


def refused(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 78, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    for word in words:
        assert word in result.stdout + result.stderr


@pytest.mark.parametrize("command", [["check"], ["run", "--once"], ["members", "add", "x@y.test"],
                                     ["backup", "/tmp/nowhere.db"]])
def test_a_bad_club_address_exits_78_for_every_command(tmp_path, command):
    refused(mailbot(tmp_path, BASE | {"MAILBOT_CLUB_ADDRESS": "aide@club"}, *command), "MAILBOT_CLUB_ADDRESS")


def test_the_log_level_is_a_setting_like_the_others(tmp_path):
    refused(mailbot(tmp_path, BASE | {"MAILBOT_LOG_LEVEL": "bavard"}, "tickets", "list"), "MAILBOT_LOG_LEVEL")
    (tmp_path / "mailbot.env").write_text("".join(f"{k}={v}\n" for k, v in BASE.items()) + "MAILBOT_LOG_LEVEL=bavard\n")
    refused(mailbot(tmp_path, {}, "--env-file", "mailbot.env", "tickets", "list"), "MAILBOT_LOG_LEVEL")


def test_a_missing_env_file_and_a_misspelt_name_are_errors(tmp_path):
    refused(mailbot(tmp_path, BASE, "--env-file", "/etc/mailbot/absent.env", "tickets", "list"),
            "--env-file", "absent.env")
    refused(mailbot(tmp_path, BASE | {"MAILBOT_IMAP_HOTS": "imap.club.test"}, "check"),
            "MAILBOT_IMAP_HOTS", "MAILBOT_IMAP_HOST")


def test_check_json_says_which_setting(tmp_path):
    result = mailbot(tmp_path, BASE | {"MAILBOT_SMTP_HOST": "smtp.example.org", "MAILBOT_SMTP_USER": "aide@club.test",
                                      "MAILBOT_SMTP_PASSWORD": "pw", "MAILBOT_SMTP_SECURITY": "none"},
                     "check", "--json")
    assert result.returncode == 78, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert report["checks"] == [{"name": "configuration", "ok": False, "setting": "MAILBOT_SMTP_SECURITY",
                                 "detail": report["checks"][0]["detail"]}]
    assert "MAILBOT_ALLOW_CLEARTEXT" in report["checks"][0]["detail"]


def test_check_json_lists_every_check(tmp_path):
    url = f"sqlite:///{tmp_path / 'mailbot.db'}"
    upgrade(url)
    result = mailbot(tmp_path, BASE | {"MAILBOT_DATABASE_URL": url}, "check", "--json")
    report = json.loads(result.stdout)
    checks = {item["name"]: item for item in report["checks"]}
    assert checks["configuration"]["ok"] and checks["database"]["ok"], report
    assert not checks["IMAP"]["ok"] and "MAILBOT_IMAP_HOST" in checks["IMAP"]["detail"]
    assert report["ok"] is False and result.returncode == 1


@pytest.mark.parametrize("command", [["tickets", "list"], ["members", "export", "a@b.test"], ["report"]])
def test_commands_on_a_database_not_migrated_say_what_to_run(tmp_path, command):
    database = tmp_path / "mailbot.db"
    env = BASE | {"MAILBOT_DATABASE_URL": f"sqlite:///{database}"}
    refused(mailbot(tmp_path, env, *command), "mailbot db upgrade")
    assert not database.exists()  # a wrong path does not leave an empty database behind
    database.touch()  # an empty file: SQLite opens it, no table
    refused(mailbot(tmp_path, env, *command), "mailbot db upgrade")
    result = mailbot(tmp_path, env, "check")
    assert result.returncode == 1 and "mailbot db upgrade" in result.stdout


def test_a_database_with_an_older_schema_says_upgrade(tmp_path):
    from alembic import command as alembic

    from mailbot.db import alembic_config

    url = f"sqlite:///{tmp_path / 'old.db'}"
    alembic.upgrade(alembic_config(url), "0001")
    refused(mailbot(tmp_path, BASE | {"MAILBOT_DATABASE_URL": url}, "tickets", "list"), "0001", "mailbot db upgrade")
