"""MAILBOT_TEMPLATES_DIR: the operator's file wins, the packaged template is the fallback (also when the operator's
file fails), and `mailbot check` names every override and fails on one that would not render."""
from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from mailbot import checks
from mailbot.compose import TEMPLATES_DIR, TemplateRenderer, override_files, override_problems
from mailbot.config import ConfigError, load_settings
from tests.helpers import CLOCK
from tests.unit.test_templates import SAMPLES

ENV = {"MAILBOT_CLUB_ADDRESS": "aide@club.test", "MAILBOT_AIDEUR_ADDRESSES": "aideur@club.test",
       "MAILBOT_SECRET_KEY": "overrides-test-0123456789"}
SUBJECT_BODY = "{% block subject %}Bien reçu : {{ ref }}{% endblock %}\n{% block body %}\nBonjour {{ member.first_name }},\n" \
               "Notre texte à nous.\n{% include \"_signature_club.j2\" %}\n{% endblock %}\n"


def write(directory: Path, name: str, text: str | bytes) -> Path:
    path = directory / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_the_templates_live_in_the_package() -> None:
    import mailbot

    package = Path(mailbot.__file__).resolve().parent
    assert TEMPLATES_DIR == package / "templates" / "emails"
    assert (TEMPLATES_DIR / "accuse_reception.j2").is_file()
    # nothing is looked up beside a checkout any more
    for path in package.rglob("*.py"):
        assert "parent.parent" not in path.read_text(encoding="utf-8"), path


def test_a_copy_of_every_packaged_template_is_a_valid_override_and_renders_the_same(tmp_path: Path) -> None:
    for path in TEMPLATES_DIR.glob("*.j2"):
        shutil.copy(path, tmp_path)
    assert override_problems(tmp_path) == {}
    packaged, overridden = TemplateRenderer(), TemplateRenderer(overrides=tmp_path)
    for name, context in SAMPLES.items():
        assert overridden.render(name, context) == packaged.render(name, context), name


def test_the_operators_file_wins_and_the_others_stay_packaged(tmp_path: Path) -> None:
    write(tmp_path, "accuse_reception.j2", SUBJECT_BODY)
    renderer = TemplateRenderer(overrides=tmp_path)
    ack = renderer.render("accuse_reception", SAMPLES["accuse_reception"])
    assert ack.subject == "Bien reçu : CA-2026-0042"
    assert "Notre texte à nous." in ack.body and "Bonjour Alice," in ack.body
    assert renderer.render("cloture", SAMPLES["cloture"]) == TemplateRenderer().render("cloture", SAMPLES["cloture"])


def test_an_overridden_partial_is_the_one_every_template_includes(tmp_path: Path) -> None:
    write(tmp_path, "_signature_club.j2", "-- \nL'équipe du {{ club_name }}, permanence le mardi\n")
    assert override_problems(tmp_path) == {}
    renderer = TemplateRenderer(overrides=tmp_path)
    for name in ("accuse_reception", "accord_demandeur"):
        assert "permanence le mardi" in renderer.render(name, SAMPLES[name]).body


@pytest.mark.parametrize("text", [
    "{% block subject %}x{% endblock %}{% block body %}{{ prenom_du_membre }}{% endblock %}",  # not given
    "{% block subject %}x{% endblock %}{% block body %}{% if %}{% endblock %}",  # syntax
    "{% block subject %}x{% endblock %}{% block body %}{{ 1 // 0 }}{% endblock %}",  # fails when rendered
    "Bonjour, pas de blocs",  # no subject, no body
])
def test_an_override_that_fails_costs_nobody_a_mail(tmp_path: Path, text: str,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    write(tmp_path, "accuse_reception.j2", text)
    with caplog.at_level(logging.ERROR, logger="mailbot.compose"):
        ack = TemplateRenderer(overrides=tmp_path).render("accuse_reception", SAMPLES["accuse_reception"])
    assert ack == TemplateRenderer().render("accuse_reception", SAMPLES["accuse_reception"])
    assert "accuse_reception.j2" in caplog.text and "mailbot check" in caplog.text


def test_without_overrides_a_template_error_is_still_raised(tmp_path: Path) -> None:
    write(tmp_path, "essai.j2", "{% block subject %}x{% endblock %}{% block body %}{{ absent }}{% endblock %}")
    with pytest.raises(Exception, match="absent"):
        TemplateRenderer(tmp_path).render("essai", {})


@pytest.mark.parametrize(("name", "text", "words"), [
    ("accuse_reception.j2", "{% block subject %}x{% endblock %}{% block body %}{{ prenom_du_membre }}{% endblock %}",
     "prenom_du_membre"),
    ("accuse_reception.j2", "{% block subject %}x{% endblock %}\n{% block body %}\n{% if ref %}\n{% endblock %}",
     "ligne"),
    ("accuse_reception.j2", "{% block subject %}x{% endblock %}{% block body %}{{ ref|majuscules }}{% endblock %}",
     "majuscules"),
    ("accuse_reception.j2", "{% block subject %}x{% endblock %}{% block body %}{{ 10 / 0 }}{% endblock %}",
     "rendu"),
    ("accuse_reception.j2", "{% block body %}Bonjour{% endblock %}", "subject"),
    ("accuse_reception.j2", "Bonjour {{ ref }}", "subject, body"),
    ("accuse_reception.j2", "{% block subject %}Reçu{% endblock %}{% block body %}é{% endblock %}".encode("latin-1"),
     "UTF-8"),
    ("accuse-reception.j2", "{% block subject %}x{% endblock %}{% block body %}y{% endblock %}", "jamais utilisé"),
    ("Accuse_Reception.j2", "{% block subject %}x{% endblock %}{% block body %}y{% endblock %}", "jamais utilisé"),
])
def test_check_names_an_override_that_would_not_render(tmp_path: Path, name: str, text: str | bytes,
                                                        words: str) -> None:
    write(tmp_path, name, text)
    problems = override_problems(tmp_path)
    assert list(problems) == [name]
    assert words in problems[name]
    settings = load_settings(ENV | {"MAILBOT_TEMPLATES_DIR": str(tmp_path)}, env_file=None)
    with pytest.raises(checks.TemplateOverrideError) as raised:
        checks.check_templates(settings)
    assert name in str(raised.value)
    assert checks.explain(raised.value, None, "modèles") == str(raised.value)  # said plainly, no class name


def test_a_broken_partial_is_named_with_every_template_that_includes_it(tmp_path: Path) -> None:
    write(tmp_path, "_signature_club.j2", "-- \n{{ club_name|inconnu }}\n")
    problems = override_problems(tmp_path)
    assert "_signature_club.j2" in problems and "accuse_reception.j2" not in problems  # only the operator's files
    write(tmp_path, "accuse_reception.j2", SUBJECT_BODY)
    assert "inconnu" in override_problems(tmp_path)["accuse_reception.j2"]


def test_a_variable_the_template_gets_through_its_partial_is_allowed(tmp_path: Path) -> None:
    write(tmp_path, "accuse_reception.j2", SUBJECT_BODY.replace("Notre texte", "{{ club_name }} : notre texte"))
    assert override_problems(tmp_path) == {}


def test_check_lists_the_overrides(tmp_path: Path) -> None:
    settings = load_settings(ENV, env_file=None)
    assert "MAILBOT_TEMPLATES_DIR" in checks.check_templates(settings)
    settings = load_settings(ENV | {"MAILBOT_TEMPLATES_DIR": str(tmp_path)}, env_file=None)
    assert "aucun" in checks.check_templates(settings)
    write(tmp_path, "accuse_reception.j2", SUBJECT_BODY)
    write(tmp_path, "_signature_club.j2", "-- \n{{ club_name }}\n")
    write(tmp_path, "notes.txt", "pas un modèle")
    line = checks.check_templates(settings)
    assert "2 remplacé(s)" in line and "accuse_reception.j2" in line and "_signature_club.j2" in line
    assert [path.name for path in override_files(tmp_path)] == ["_signature_club.j2", "accuse_reception.j2"]


def test_the_setting_must_be_a_directory(tmp_path: Path) -> None:
    for value in (str(tmp_path / "absent"), str(write(tmp_path, "fichier.j2", "x"))):
        with pytest.raises(ConfigError) as raised:
            load_settings(ENV | {"MAILBOT_TEMPLATES_DIR": value}, env_file=None)
        assert raised.value.setting == "MAILBOT_TEMPLATES_DIR"
    assert load_settings(ENV | {"MAILBOT_TEMPLATES_DIR": str(tmp_path)}, env_file=None).templates_dir == tmp_path


def test_the_daemons_outbox_renders_with_the_overrides(tmp_path: Path, sqlite_url: str) -> None:
    from mailbot.daemon import Daemon
    from mailbot.db import make_engine, make_session_factory

    settings = load_settings(ENV | {"MAILBOT_TEMPLATES_DIR": str(tmp_path), "MAILBOT_DATABASE_URL": sqlite_url,
                                    "MAILBOT_IMAP_HOST": "127.0.0.1", "MAILBOT_IMAP_USER": "aide@club.test",
                                    "MAILBOT_IMAP_PASSWORD": "x", "MAILBOT_SMTP_HOST": "127.0.0.1"}, env_file=None)
    write(tmp_path, "accuse_reception.j2", SUBJECT_BODY)
    engine = make_engine(sqlite_url)
    try:
        daemon = Daemon(settings, make_session_factory(engine), clock=lambda: CLOCK)
        for renderer in (daemon.outbox.renderer, daemon.dispatcher.outbox.renderer):
            assert "Notre texte à nous." in renderer.render("accuse_reception", SAMPLES["accuse_reception"]).body
    finally:
        engine.dispose()


def test_the_daemon_the_cli_and_the_guard_render_with_the_overrides() -> None:
    # Every renderer built from the settings (not TemplateRenderer()): what the guard checks is what is sent.
    root = Path(__file__).resolve().parents[2] / "mailbot"
    for module in ("daemon.py", "dispatch.py", "cli.py"):
        source = (root / module).read_text(encoding="utf-8")
        assert "TemplateRenderer()" not in source and "TemplateRenderer.for_settings(settings)" in source, module
    assert "_renderer(settings.templates_dir)" in (root / "guard.py").read_text(encoding="utf-8")
