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


# --- TLS, OAuth2, DKIM, Authentication-Results, retention ----------------------------------------------------------

IMAP = {"MAILBOT_IMAP_HOST": "imap.example.org", "MAILBOT_IMAP_USER": "aide@club.test"}
OAUTH = {"MAILBOT_OAUTH2_TOKEN_URL": "https://login.example.org/token", "MAILBOT_OAUTH2_CLIENT_ID": "mailbot",
         "MAILBOT_OAUTH2_CLIENT_SECRET": "s3cret", "MAILBOT_OAUTH2_REFRESH_TOKEN": "refresh-me"}


def _ca_file(tmp_path) -> str:
    """A real CA certificate (the TLS tests make their own chain; here one self-signed cert is enough)."""
    from tests.integration.test_tls import make_ca

    path = tmp_path / "ca.pem"
    path.write_bytes(make_ca()[1])
    return str(path)


def test_tls_verifies_certificates_and_host_names_by_default():
    import ssl

    settings = load(**IMAP, MAILBOT_IMAP_PASSWORD="p", MAILBOT_SMTP_HOST="smtp.example.org")
    for server in (settings.imap, settings.smtp):
        context = server.ssl_context()
        assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
        assert server.ca_file is None and server.auth == "password"
    plain = load(**IMAP, MAILBOT_IMAP_PASSWORD="p", MAILBOT_IMAP_SECURITY="none", MAILBOT_ALLOW_CLEARTEXT="true")
    assert plain.imap.ssl_context() is None


def test_a_private_ca_is_trusted_per_server_or_for_both(tmp_path):
    ca = _ca_file(tmp_path)
    both = load(**IMAP, MAILBOT_IMAP_PASSWORD="p", MAILBOT_SMTP_HOST="smtp.example.org", MAILBOT_CA_FILE=ca)
    assert str(both.imap.ca_file) == ca and str(both.smtp.ca_file) == ca
    assert both.imap.ssl_context().cert_store_stats()["x509_ca"] == 1  # that CA, not the system's
    only_imap = load(**IMAP, MAILBOT_IMAP_PASSWORD="p", MAILBOT_SMTP_HOST="smtp.example.org", MAILBOT_IMAP_CA_FILE=ca)
    assert only_imap.imap.ca_file is not None and only_imap.smtp.ca_file is None


def test_passwords_and_secrets_stay_out_of_reprs():
    settings = load(**IMAP, MAILBOT_IMAP_PASSWORD="hunter2-imap", MAILBOT_SMTP_HOST="smtp.example.org",
                    MAILBOT_SMTP_AUTH="xoauth2", MAILBOT_SMTP_USER="aide@club.test", **OAUTH)
    text = repr(settings)
    for secret in ("hunter2-imap", "s3cret", "refresh-me", BASE["MAILBOT_SECRET_KEY"]):
        assert secret not in text


def test_xoauth2_needs_no_password_and_shares_one_client():
    settings = load(**IMAP, MAILBOT_IMAP_AUTH="xoauth2", MAILBOT_SMTP_HOST="smtp.example.org",
                    MAILBOT_SMTP_USER="aide@club.test", MAILBOT_SMTP_AUTH="XOAUTH2", **OAUTH)
    assert settings.imap.auth == settings.smtp.auth == "xoauth2"
    assert settings.imap.password == "" and settings.imap.oauth2 == settings.smtp.oauth2
    assert settings.imap.oauth2.token_url == "https://login.example.org/token"
    local = load(**IMAP, MAILBOT_IMAP_AUTH="xoauth2", **dict(OAUTH, MAILBOT_OAUTH2_TOKEN_URL="http://127.0.0.1:8080/t"))
    assert local.imap.oauth2.token_url.startswith("http://")


def test_authserv_id_and_retention():
    settings = load()
    assert settings.authserv_id == "" and settings.retention_days == 365 and settings.dkim is None
    settings = load(MAILBOT_AUTHSERV_ID="MX.Club.fr", MAILBOT_RETENTION_DAYS="0")
    assert settings.authserv_id == "mx.club.fr" and settings.retention_days == 0


@pytest.mark.parametrize("changes, setting", [
    ({**IMAP, "MAILBOT_IMAP_PASSWORD": "p", "MAILBOT_IMAP_AUTH": "kerberos"}, "MAILBOT_IMAP_AUTH"),
    ({**IMAP, "MAILBOT_IMAP_AUTH": "xoauth2"}, "MAILBOT_OAUTH2_TOKEN_URL"),
    ({**IMAP, "MAILBOT_IMAP_AUTH": "xoauth2", "MAILBOT_IMAP_SECURITY": "none", **OAUTH}, "MAILBOT_IMAP_SECURITY"),
    ({"MAILBOT_SMTP_HOST": "smtp.example.org", "MAILBOT_SMTP_AUTH": "xoauth2", **OAUTH}, "MAILBOT_SMTP_USER"),
    ({**IMAP, "MAILBOT_IMAP_PASSWORD": "p", **OAUTH}, "MAILBOT_OAUTH2_TOKEN_URL"),  # set, but used by nobody
    ({**IMAP, "MAILBOT_IMAP_AUTH": "xoauth2", **dict(OAUTH, MAILBOT_OAUTH2_TOKEN_URL="http://login.example.org/t")},
     "MAILBOT_OAUTH2_TOKEN_URL"),  # a refresh token in clear over the network
    ({**IMAP, "MAILBOT_IMAP_AUTH": "xoauth2", **dict(OAUTH, MAILBOT_OAUTH2_TOKEN_URL="login.example.org")},
     "MAILBOT_OAUTH2_TOKEN_URL"),
    ({**IMAP, "MAILBOT_IMAP_AUTH": "xoauth2", **dict(OAUTH, MAILBOT_OAUTH2_CLIENT_ID="")}, "MAILBOT_OAUTH2_CLIENT_ID"),
    ({**IMAP, "MAILBOT_IMAP_AUTH": "xoauth2", **dict(OAUTH, MAILBOT_OAUTH2_REFRESH_TOKEN="")},
     "MAILBOT_OAUTH2_REFRESH_TOKEN"),
    ({"MAILBOT_OAUTH2_CLIENT_ID": "x"}, "MAILBOT_OAUTH2_TOKEN_URL"),
    ({**IMAP, "MAILBOT_IMAP_PASSWORD": "p", "MAILBOT_CA_FILE": "/nonexistent/ca.pem"}, "MAILBOT_CA_FILE"),
    ({**IMAP, "MAILBOT_IMAP_PASSWORD": "p", "MAILBOT_IMAP_CA_FILE": "/etc/hostname"}, "MAILBOT_IMAP_CA_FILE"),
    ({"MAILBOT_SMTP_CA_FILE": "/etc/hostname"}, "MAILBOT_SMTP_HOST"),
    ({"MAILBOT_DKIM_SELECTOR": "mailbot"}, "MAILBOT_DKIM_KEY_FILE"),
    ({"MAILBOT_DKIM_KEY_FILE": "/etc/hostname"}, "MAILBOT_DKIM_SELECTOR"),
    ({"MAILBOT_DKIM_DOMAIN": "club.test"}, "MAILBOT_DKIM_SELECTOR"),
    ({"MAILBOT_DKIM_SELECTOR": "mail bot", "MAILBOT_DKIM_KEY_FILE": "/etc/hostname"}, "MAILBOT_DKIM_SELECTOR"),
    ({"MAILBOT_DKIM_SELECTOR": "mailbot", "MAILBOT_DKIM_KEY_FILE": "/etc/hostname"}, "MAILBOT_DKIM_KEY_FILE"),
    ({"MAILBOT_AUTHSERV_ID": "mx.club.fr; dmarc=pass"}, "MAILBOT_AUTHSERV_ID"),
    ({"MAILBOT_RETENTION_DAYS": "-1"}, "MAILBOT_RETENTION_DAYS"),
    ({"MAILBOT_RETENTION_DAYS": "un an"}, "MAILBOT_RETENTION_DAYS"),
])
def test_bad_security_settings_name_the_setting(changes, setting):
    with pytest.raises(ConfigError) as error:
        load(**changes)
    assert error.value.setting == setting
    assert str(error.value).startswith(setting)


def test_dkim_domain_must_align_with_the_club_address(tmp_path):
    from tests.unit.test_dkim import rsa_key, write_key

    key = str(write_key(tmp_path / "dkim.pem", rsa_key()))
    assert load(MAILBOT_DKIM_SELECTOR="s", MAILBOT_DKIM_KEY_FILE=key).dkim.domain == "club.test"
    with pytest.raises(ConfigError) as error:
        load(MAILBOT_DKIM_SELECTOR="s", MAILBOT_DKIM_KEY_FILE=key, MAILBOT_DKIM_DOMAIN="autre.example")
    assert error.value.setting == "MAILBOT_DKIM_DOMAIN"


# --- one loader, no silent surprises (issue 15, point 4) -----------------------------------------------------------


@pytest.mark.parametrize("name, meant", [
    ("MAILBOT_IMAP_HOTS", "MAILBOT_IMAP_HOST"),
    ("MAILBOT_SMTP_PASWORD", "MAILBOT_SMTP_PASSWORD"),
    ("MAILBOT_LOGLEVEL", "MAILBOT_LOG_LEVEL"),
    ("MAILBOT_RETENTION_DAY", "MAILBOT_RETENTION_DAYS"),
    ("mailbot_club_name", "MAILBOT_CLUB_NAME"),
    ("MAILBOT_DIGEST_JOUR", "MAILBOT_DIGEST_HOUR"),
    ("MAILBOT_ALLOW_CLEAR_TEXT", "MAILBOT_ALLOW_CLEARTEXT"),
])
def test_an_unknown_mailbot_name_is_refused_with_the_closest_setting(name, meant):
    with pytest.raises(ConfigError) as error:
        load(**{name: "1"})
    assert error.value.setting == name
    assert f"did you mean {meant}?" in str(error.value)


def test_a_misspelt_required_setting_is_reported_as_the_misspelling():
    """MAILBOT_SECRET_KEYS set, MAILBOT_SECRET_KEY missing: the cause, not the consequence, comes first."""
    with pytest.raises(ConfigError) as error:
        load(MAILBOT_SECRET_KEY=None, MAILBOT_SECRET_KEYS="0123456789abcdef0123")
    assert error.value.setting == "MAILBOT_SECRET_KEYS" and "MAILBOT_SECRET_KEY?" in str(error.value)


def test_a_name_far_from_every_setting_still_names_the_readme():
    with pytest.raises(ConfigError, match="MAILBOT_ZZZ: is not a mailbot setting.*README"):
        load(MAILBOT_ZZZ="1")


def test_names_of_the_tests_and_benches_and_of_the_rest_of_the_environment_are_left_alone():
    settings = load(MAILBOT_TEST_CORPUS="/x", MAILBOT_FAULT_SEED="3", MAILBOT_BENCH_POSTGRES_URL="x",
                    MAILBOT_FUZZ_SECONDS="1", MAILBOT_CRASH_SEED="2", PATH="/bin", HOME="/root", SHELL="/bin/sh")
    assert settings.club_address == "aide@club.test"


def _file(tmp_path, text: str):
    path = tmp_path / "mailbot.env"
    path.write_text(text, encoding="utf-8")
    return path


def _clean_environment(monkeypatch) -> None:
    import os

    for key in list(os.environ):
        if key.upper().startswith("MAILBOT"):
            monkeypatch.delenv(key)


BASE_FILE = "".join(f"{key}={value}\n" for key, value in BASE.items())


@pytest.mark.parametrize("line, setting, meant", [
    ("IMAP_HOST=imap.example.org", "IMAP_HOST", "MAILBOT_IMAP_HOST"),
    ("MAILBOT-SMTP-HOST=smtp.example.org", "MAILBOT-SMTP-HOST", "MAILBOT_SMTP_HOST"),
    ("MAILBOT_DATABASE=sqlite:///x.db", "MAILBOT_DATABASE", "MAILBOT_DATABASE_URL"),
    ("MAILBT_CLUB_NAME=Club", "MAILBT_CLUB_NAME", "MAILBOT_CLUB_NAME"),
])
def test_in_the_settings_file_a_name_close_to_a_setting_is_refused(tmp_path, monkeypatch, line, setting, meant):
    _clean_environment(monkeypatch)
    with pytest.raises(ConfigError) as error:
        load_settings(env_file=_file(tmp_path, BASE_FILE + line + "\n"), env_file_required=True)
    assert error.value.setting == setting and meant in str(error.value) and "settings file" in str(error.value)


def test_in_the_settings_file_names_of_other_programs_are_left_alone(tmp_path, monkeypatch):
    """systemd reads the same file (EnvironmentFile=): TZ, LANG or PYTHON* there are not mistakes."""
    _clean_environment(monkeypatch)
    extra = "TZ=Europe/Paris\nLANG=fr_FR.UTF-8\nPYTHONDONTWRITEBYTECODE=1\nPGSSLMODE=require\nHOSTNAME=club\n"
    assert load_settings(env_file=_file(tmp_path, BASE_FILE + extra)).club_address == "aide@club.test"


def test_a_settings_file_line_that_cannot_be_read_is_named(tmp_path, monkeypatch):
    _clean_environment(monkeypatch)
    path = _file(tmp_path, BASE_FILE + "MAILBOT_CLUB_NAME='Club du Nord\nMAILBOT_IMAP_IDLE=false\n")
    with pytest.raises(ConfigError) as error:
        load_settings(env_file=path, env_file_required=True)
    assert error.value.setting == f"{path}, line 4"


def test_a_named_settings_file_must_exist_the_default_may_not(tmp_path, monkeypatch):
    _clean_environment(monkeypatch)
    for key, value in BASE.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError) as error:
        load_settings(env_file=tmp_path / "absent.env", env_file_required=True)
    assert error.value.setting == "--env-file" and "absent.env" in str(error.value)
    with pytest.raises(ConfigError, match="directory"):
        load_settings(env_file=tmp_path, env_file_required=True)
    assert load_settings(env_file=tmp_path / ".env").club_address == "aide@club.test"


def test_the_log_level_comes_from_the_settings_file_and_is_checked(tmp_path, monkeypatch):
    _clean_environment(monkeypatch)
    settings = load_settings(env_file=_file(tmp_path, BASE_FILE + "MAILBOT_LOG_LEVEL=debug\n"))
    assert settings.log_level == "DEBUG"
    assert load(MAILBOT_LOG_LEVEL="warn").log_level == "WARNING"
    assert load().log_level == "INFO"
    for bad in ("bavard", "10", "INFOS"):
        with pytest.raises(ConfigError) as error:
            load(MAILBOT_LOG_LEVEL=bad)
        assert error.value.setting == "MAILBOT_LOG_LEVEL" and repr(bad) in str(error.value)


REMOTE = {"MAILBOT_IMAP_HOST": "mail.example.org", "MAILBOT_IMAP_USER": "aide@club.test",
          "MAILBOT_IMAP_PASSWORD": "secret", "MAILBOT_IMAP_SECURITY": "none"}


@pytest.mark.parametrize("host", ["mail.example.org", "192.168.1.10", "10.0.0.1", "2001:db8::1", "localhost.evil.org",
                                  "127.0.0.1.nip.io", "0.0.0.0"])
def test_a_password_in_clear_to_another_host_is_refused(host):
    with pytest.raises(ConfigError) as error:
        load(**REMOTE | {"MAILBOT_IMAP_HOST": host})
    assert error.value.setting == "MAILBOT_IMAP_SECURITY" and "MAILBOT_ALLOW_CLEARTEXT" in str(error.value)
    with pytest.raises(ConfigError) as error:
        load(MAILBOT_SMTP_HOST=host, MAILBOT_SMTP_USER="aide@club.test", MAILBOT_SMTP_PASSWORD="secret",
             MAILBOT_SMTP_SECURITY="NONE")
    assert error.value.setting == "MAILBOT_SMTP_SECURITY"


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "localhost", "LOCALHOST.", "::1", "[::1]",
                                  "::ffff:127.0.0.1"])
def test_a_password_in_clear_stays_allowed_on_this_machine(host):
    assert load(**REMOTE | {"MAILBOT_IMAP_HOST": host}).imap.security == "none"


def test_a_password_in_clear_to_another_host_only_when_explicitly_allowed():
    assert load(**REMOTE, MAILBOT_ALLOW_CLEARTEXT="true").imap.host == "mail.example.org"
    with pytest.raises(ConfigError) as error:
        load(**REMOTE, MAILBOT_ALLOW_CLEARTEXT="false")
    assert error.value.setting == "MAILBOT_IMAP_SECURITY"
    with pytest.raises(ConfigError) as error:
        load(**REMOTE, MAILBOT_ALLOW_CLEARTEXT="peut-être")
    assert error.value.setting == "MAILBOT_ALLOW_CLEARTEXT"
    # No password, nothing secret in clear: a relay on port 25 without login stays possible.
    assert load(MAILBOT_SMTP_HOST="relay.example.org", MAILBOT_SMTP_SECURITY="none").smtp.port == 25
    # TLS, with or without STARTTLS, is never in question.
    assert load(**REMOTE | {"MAILBOT_IMAP_SECURITY": "starttls"}).imap.security == "starttls"


def test_the_clubs_own_domain_is_the_club_but_not_aideur_nor_a_public_provider():
    assert load().club_addresses == ("aide@club.test", "@club.test", "!aideur@club.test", "!second@club.test")
    gmail = load(MAILBOT_CLUB_ADDRESS="club.aide@gmail.com", MAILBOT_CLUB_ALIASES="contact@club.test")
    assert gmail.club_addresses == ("club.aide@gmail.com", "contact@club.test")


def test_an_idn_address_is_recognised_whichever_form_was_configured():
    """Incoming mail is compared with IDN domains in their Unicode form: an Aideur address configured in punycode
    (as providers print it) is still his (stop 17: his commands were taken for a stranger's)."""
    settings = load_settings(BASE | {"MAILBOT_AIDEUR_ADDRESSES": "Jo@XN--EXEMPLE-T-I4AB.fr, aideur@club.test"},
                             env_file=None)
    assert settings.is_aideur("jo@exemple-été.fr")
    assert settings.is_aideur("aideur@club.test")
