import pytest

from mailbot.config import ConfigError, load_settings

BASE = {
    "MAILBOT_CLUB_ADDRESS": "aide@club.test",
    "MAILBOT_AIDEUR_ADDRESSES": "aideur@club.test, Second@Club.test",
    "MAILBOT_SECRET_KEY": "0123456789abcdef0123",
}


def load(**changes: str):
    env = dict(BASE)
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return load_settings(env, env_file=None)


def test_defaults():
    settings = load()
    assert settings.database_url == "sqlite:///mailbot.db"
    assert settings.imap is None and settings.smtp is None
    assert settings.aideur_addresses == ("aideur@club.test", "second@club.test")
    assert settings.is_aideur("SECOND@club.test")
    assert str(settings.timezone) == "Europe/Paris"
    assert settings.imap_folder == "INBOX"


@pytest.mark.parametrize("changes, setting", [
    ({"MAILBOT_SECRET_KEY": None}, "MAILBOT_SECRET_KEY"),
    ({"MAILBOT_SECRET_KEY": "short"}, "MAILBOT_SECRET_KEY"),
    ({"MAILBOT_CLUB_ADDRESS": "pas-une-adresse"}, "MAILBOT_CLUB_ADDRESS"),
    ({"MAILBOT_CLUB_ADDRESS": None}, "MAILBOT_CLUB_ADDRESS"),
    ({"MAILBOT_AIDEUR_ADDRESSES": "aideur@club.test, oops"}, "MAILBOT_AIDEUR_ADDRESSES"),
    ({"MAILBOT_AIDEUR_ADDRESSES": "aide@club.test"}, "MAILBOT_AIDEUR_ADDRESSES"),
    ({"MAILBOT_TIMEZONE": "Europe/Pariss"}, "MAILBOT_TIMEZONE"),
    ({"MAILBOT_IMAP_HOST": "imap.example.org", "MAILBOT_IMAP_PORT": "abc", "MAILBOT_IMAP_USER": "u",
      "MAILBOT_IMAP_PASSWORD": "p"}, "MAILBOT_IMAP_PORT"),
    ({"MAILBOT_IMAP_HOST": "imap.example.org", "MAILBOT_IMAP_SECURITY": "tls"}, "MAILBOT_IMAP_SECURITY"),
    ({"MAILBOT_IMAP_HOST": "imap.example.org"}, "MAILBOT_IMAP_USER"),
    ({"MAILBOT_IMAP_HOST": "imap.example.org", "MAILBOT_IMAP_USER": "u"}, "MAILBOT_IMAP_PASSWORD"),
    ({"MAILBOT_IMAP_USER": "u"}, "MAILBOT_IMAP_HOST"),
    ({"MAILBOT_ANSWER_BUSINESS_DAYS": "-1"}, "MAILBOT_ANSWER_BUSINESS_DAYS"),
    ({"MAILBOT_IMAP_IDLE": "peut-être"}, "MAILBOT_IMAP_IDLE"),
])
def test_bad_settings_name_the_setting(changes, setting):
    with pytest.raises(ConfigError) as error:
        load(**changes)
    assert error.value.setting == setting
    assert str(error.value).startswith(setting)


def test_server_ports_default_by_security():
    settings = load(MAILBOT_IMAP_HOST="imap.example.org", MAILBOT_IMAP_USER="u", MAILBOT_IMAP_PASSWORD="p",
                    MAILBOT_SMTP_HOST="smtp.example.org", MAILBOT_SMTP_SECURITY="starttls")
    assert settings.imap.port == 993 and settings.imap.security == "ssl"
    assert settings.smtp.port == 587


def test_env_file_is_read_and_environment_wins(tmp_path, monkeypatch):
    env_file = tmp_path / ".env"
    env_file.write_text("MAILBOT_CLUB_ADDRESS=aide@club.test\nMAILBOT_AIDEUR_ADDRESSES=a@club.test\n"
                        "MAILBOT_SECRET_KEY=from-the-file-0123456789\nMAILBOT_CLUB_NAME=Club du fichier\n")
    for key in list(BASE) + ["MAILBOT_CLUB_NAME"]:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("MAILBOT_CLUB_NAME", "Club de l'environnement")
    settings = load_settings(env_file=env_file)
    assert settings.club_name == "Club de l'environnement"
    assert settings.secret_keys == (b"from-the-file-0123456789",)
