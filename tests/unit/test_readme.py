"""Every setting mailbot reads is documented: in README.md's Settings table, and in both example settings files an
operator starts from (`.env.example`, `systemd/mailbot.env.example`)."""
from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import pytest

from mailbot.config import KNOWN_SETTINGS, load_settings

ROOT = Path(__file__).resolve().parents[2]
NAME = re.compile(r"MAILBOT_[A-Z0-9_]*[A-Z0-9]")


class Recording(Mapping[str, str]):
    """An environment that remembers every name looked up (names built at run time: MAILBOT_{IMAP,SMTP}_…)."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values, self.asked = values, set()

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        return self.values[key]

    def get(self, key, default=None):  # type: ignore[no-untyped-def,override]
        self.asked.add(key)
        return self.values.get(key, default)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)


def settings_read() -> set[str]:
    """Every name the loader reads, knows or documents (KNOWN_SETTINGS included)."""
    return settings_read_by_the_code() | KNOWN_SETTINGS


def settings_read_by_the_code() -> set[str]:
    """The names written in mailbot/config.py, those it asks for at run time, and those other modules read from the
    environment themselves (MAILBOT_LOG_LEVEL)."""
    names = set(NAME.findall((ROOT / "mailbot" / "config.py").read_text()))
    env = Recording({"MAILBOT_CLUB_ADDRESS": "aide@club.test", "MAILBOT_AIDEUR_ADDRESSES": "aideur@club.test",
                     "MAILBOT_SECRET_KEY": "readme-test-0123456789", "MAILBOT_IMAP_HOST": "imap.club.test",
                     "MAILBOT_IMAP_USER": "aide@club.test", "MAILBOT_IMAP_PASSWORD": "x",
                     "MAILBOT_SMTP_HOST": "smtp.club.test"})
    load_settings(env, env_file=None)
    names |= {name for name in env.asked if name.startswith("MAILBOT_")}
    for path in (ROOT / "mailbot").rglob("*.py"):
        names |= set(re.findall(r"(?:environ(?:\.get)?[(\[]|getenv\()\s*[\"'](MAILBOT_[A-Z0-9_]+)", path.read_text()))
    return names


def test_every_setting_read_is_known_to_the_loader():
    """A name the loader reads but does not list would be refused as a misspelling when it is set while unread
    (e.g. MAILBOT_IMAP_SECURITY without MAILBOT_IMAP_HOST): every name read or written in mailbot/config.py is in
    KNOWN_SETTINGS."""
    assert settings_read_by_the_code() - KNOWN_SETTINGS == set()


def test_no_module_reads_a_setting_around_the_loader():
    """Every setting comes through mailbot.config (the .env file, --env-file and the environment alike): a module
    reading os.environ itself would ignore the settings file, as MAILBOT_LOG_LEVEL once did."""
    readers = [path.name for path in (ROOT / "mailbot").rglob("*.py") if path.name != "config.py"
               and re.search(r"(?:environ(?:\.get)?[(\[]|getenv\()\s*[\"']MAILBOT_", path.read_text())]
    assert readers == []


def test_the_settings_are_found():
    names = settings_read()
    # built from a prefix at run time, so only the recording environment finds them
    assert {"MAILBOT_IMAP_PORT", "MAILBOT_SMTP_SECURITY", "MAILBOT_IMAP_CA_FILE", "MAILBOT_SMTP_PASSWORD"} <= names
    assert {"MAILBOT_RETENTION_DAYS", "MAILBOT_AUTHSERV_ID", "MAILBOT_LOG_LEVEL", "MAILBOT_OAUTH2_SCOPE"} <= names
    assert len(names) >= 50


@pytest.mark.parametrize("document", ["README.md", ".env.example", "systemd/mailbot.env.example"])
def test_every_setting_is_documented(document):
    text = (ROOT / document).read_text()
    documented = set(re.findall(r"(?<![A-Z0-9_])MAILBOT_[A-Z0-9_]*[A-Z0-9](?![A-Z0-9_])", text))
    missing = sorted(settings_read() - documented)
    assert not missing, f"{document} does not mention: {', '.join(missing)}"


@pytest.mark.parametrize("document", [".env.example", "systemd/mailbot.env.example"])
def test_the_example_settings_files_pass_the_loader_s_name_check(document):
    """Every name an example sets, or shows commented out, is one the loader knows: uncommenting a line never
    brings a "not a mailbot setting" error."""
    from mailbot.config import check_names, read_env_file

    path = ROOT / document
    values = read_env_file(path, required=True)
    check_names(values, values)
    commented = set(re.findall(r"^#\s*(MAILBOT_[A-Z0-9_]+)=", path.read_text(), re.MULTILINE))
    assert commented and commented <= KNOWN_SETTINGS, commented - KNOWN_SETTINGS
