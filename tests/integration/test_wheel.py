"""The package as an operator installs it: the sdist built from the repository, the wheel built from that sdist
(what `python -m build` does, and what pip does with an sdist), installed with its runtime dependencies only
(through constraints.txt) in a fresh venv outside the repository, and run from another directory: the database
migrated, a member's request answered end to end on the loopback Dovecot + Postfix, `tickets list`, `report`,
`check` with an operator's template. Nothing of the checkout is reachable from there (no PYTHONPATH, another
working directory): a file the package does not carry fails here."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mailbot.dev.devserver import MailServer
from tests.conftest import make_env
from tests.helpers import AIDEUR, ALICE, BRUNO, CHLOE, CLUB, STRANGER, mailbox, make_mail, settle, smtp_send

pytestmark = [pytest.mark.servers, pytest.mark.slow]  # about a minute: two builds and an install

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_DATA = ("templates", "migrations", "data")


@dataclass(frozen=True)
class Installed:
    venv: Path
    wheel: Path
    sdist: Path
    work: Path  # an empty directory outside the repository: the commands run from here

    def run(self, *args: str, env_file: Path | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        env = {key: value for key, value in _clean_env().items() if not key.startswith("MAILBOT_")}
        options = ["--env-file", str(env_file)] if env_file is not None else []
        done = subprocess.run([str(self.venv / "bin" / "mailbot"), *options, *args], check=False, cwd=self.work, env=env,
                              capture_output=True, text=True, timeout=120)
        if check:
            assert done.returncode == 0, f"mailbot {' '.join(args)} → {done.returncode}\n{done.stdout}\n{done.stderr}"
        return done


def _clean_env() -> dict[str, str]:
    """The environment without the checkout on the path (PYTHONPATH would show pip and Python the repository)."""
    return {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONHOME")}


def _source_copy(destination: Path) -> Path:
    """The repository's files as git knows them (committed or not, ignored ones left out): no .venv, no build/."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination


@pytest.fixture(scope="module")
def installed() -> Iterator[Installed]:
    root = Path(tempfile.mkdtemp(prefix="mailbot-wheel-", dir="/tmp"))
    try:
        source = _source_copy(root / "src")
        dist = root / "dist"
        # `python -m build`: the sdist first, then the wheel built from the unpacked sdist.
        built = subprocess.run([sys.executable, "-m", "build", "--outdir", str(dist), str(source)], check=False,
                               capture_output=True, text=True, timeout=300, env=_clean_env())
        assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
        wheel, = dist.glob("mailbot-*.whl")
        sdist, = dist.glob("mailbot-*.tar.gz")
        venv = root / "venv"
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
        # Runtime dependencies only (no extra), at the versions of the lock: what `make run` installs.
        done = subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
                               "--quiet", "-c", str(ROOT / "constraints.txt"), str(wheel)],
                              check=False, capture_output=True, text=True, timeout=600, cwd=root, env=_clean_env())
        assert done.returncode == 0, done.stderr[-3000:]
        work = root / "elsewhere"
        work.mkdir()
        yield Installed(venv=venv, wheel=wheel, sdist=sdist, work=work)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _package_files() -> set[str]:
    return {str(path.relative_to(ROOT)) for directory in PACKAGE_DATA for path in (ROOT / "mailbot" / directory).rglob("*")
            if path.is_file() and "__pycache__" not in path.parts}


def test_the_wheel_and_the_sdist_carry_the_templates_the_conditions_and_the_migrations(installed: Installed) -> None:
    wanted = _package_files()
    assert "mailbot/templates/emails/digest_hebdo.j2" in wanted and "mailbot/templates/conditions/v4-2018.txt" in wanted
    assert "mailbot/migrations/env.py" in wanted and "mailbot/migrations/script.py.mako" in wanted
    assert len([name for name in wanted if name.startswith("mailbot/migrations/versions/")]) >= 8
    in_wheel = set(zipfile.ZipFile(installed.wheel).namelist())
    assert wanted <= in_wheel, sorted(wanted - in_wheel)
    with tarfile.open(installed.sdist) as sdist:
        in_sdist = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    assert wanted <= in_sdist, sorted(wanted - in_sdist)
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in in_wheel)
    metadata = zipfile.ZipFile(installed.wheel).read(
        next(name for name in in_wheel if name.endswith(".dist-info/METADATA"))).decode()
    assert "License-Expression: MIT" in metadata


def test_the_installed_package_is_the_one_that_runs_without_test_dependencies(installed: Installed) -> None:
    python = str(installed.venv / "bin" / "python")
    env = _clean_env()
    where = subprocess.run([python, "-c", ("import mailbot, mailbot.compose as c, mailbot.db as d; "
                                          "print(mailbot.__file__, c.TEMPLATES_DIR, d.MIGRATIONS_DIR, sep='\\n')")],
                           check=False, cwd=installed.work, env=env, capture_output=True, text=True)
    assert where.returncode == 0, where.stderr
    for path in where.stdout.split():
        assert Path(path).is_relative_to(installed.venv) and Path(path).exists(), path
    for test_only in ("pytest", "hypothesis", "aiosmtpd", "psycopg"):
        missing = subprocess.run([python, "-c", f"import {test_only}"], check=False, cwd=installed.work, env=env,
                                 capture_output=True, text=True)
        assert missing.returncode != 0, f"{test_only} was installed with the runtime dependencies"
    assert installed.run("--version").stdout.strip().startswith("mailbot ")
    # PostgreSQL's driver is the `postgres` extra: without it, a PostgreSQL URL says which extra to install.
    env_file = installed.work / "postgres.env"
    env_file.write_text("MAILBOT_DATABASE_URL=postgresql+psycopg://mailbot@127.0.0.1:5432/mailbot\n"
                        "MAILBOT_CLUB_ADDRESS=aide@club.test\nMAILBOT_AIDEUR_ADDRESSES=aideur@club.test\n"
                        "MAILBOT_SECRET_KEY=wheel-test-0123456789abcdef\n", encoding="utf-8")
    done = installed.run("tickets", "list", env_file=env_file, check=False)
    assert done.returncode == 78, done.stdout + done.stderr
    assert "MAILBOT_DATABASE_URL" in done.stderr and "mailbot[postgres]" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_request_end_to_end_with_the_installed_package(installed: Installed, clean_mail: MailServer) -> None:
    server = clean_mail
    work = installed.work
    templates = work / "modeles"
    templates.mkdir(exist_ok=True)
    # An operator's acknowledgement, with the packaged signature included: it must win over the packaged one.
    (templates / "accuse_reception.j2").write_text(
        "{% block subject %}[{{ ref }}] Bien reçu, merci{% endblock %}\n{% block body %}\nBonjour "
        "{{ member.first_name }},\n\nNous avons bien reçu votre demande ({{ ref }}), réponse avant le "
        "{{ due_date }}.\n\n{% include \"_signature_club.j2\" %}\n{% endblock %}\n", encoding="utf-8")
    database = work / "club.db"
    env = make_env(server, f"sqlite:///{database}", MAILBOT_TEMPLATES_DIR=str(templates))
    env_file = work / "club.env"
    env_file.write_text("".join(f"{key}={value}\n" for key, value in env.items()), encoding="utf-8")

    assert "up to date" in installed.run("db", "upgrade", env_file=env_file).stdout
    assert database.is_file()
    installed.run("members", "add", ALICE, "--first-name", "Alice", "--last-name", "Martin", env_file=env_file)
    smtp_send(server, make_mail(ALICE, "Besoin d'un plombier",
                                "Bonjour,\n\nJe cherche un plombier pour une fuite sous l'évier.\n\nMerci,\nAlice"))
    assert settle(server, CLUB, 1)
    cycle = json.loads(installed.run("run", "--once", "--at", "2026-11-26T10:00", env_file=env_file).stdout)
    assert cycle["processed"] == 1 and cycle["quarantined"] == 0

    ack, = settle(server, ALICE, 1)
    assert "Bien reçu, merci" in ack.subject and "Nous avons bien reçu votre demande" in ack.text
    assert "Club Aide" in ack.text  # the packaged signature, included by the operator's template
    assert len(settle(server, AIDEUR, 1)) == 1  # Aideur's notification (packaged template)
    for nobody in (BRUNO, CHLOE, STRANGER):
        assert mailbox(server, nobody) == []
    assert mailbox(server, CLUB, "mailbot-quarantaine") == []

    tickets = json.loads(installed.run("tickets", "list", "--json", env_file=env_file).stdout)
    assert len(tickets) == 1 and tickets[0]["ref"] in ack.subject
    report = installed.run("report", "--at", "2026-11-27T10:00", env_file=env_file).stdout
    assert "Club Aide" in report or "demande" in report.lower()
    check = installed.run("check", env_file=env_file, check=False)
    assert "accuse_reception.j2" in check.stdout and "remplacé" in check.stdout, check.stdout

    # An override that would not render is named by `mailbot check`, which fails.
    (templates / "cloture.j2").write_text("{% block subject %}Close{% endblock %}{% block body %}{{ inconnue }}"
                                          "{% endblock %}", encoding="utf-8")
    check = installed.run("check", env_file=env_file, check=False)
    assert check.returncode != 0 and "cloture.j2" in check.stdout and "inconnue" in check.stdout, check.stdout
