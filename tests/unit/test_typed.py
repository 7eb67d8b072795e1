"""The package says it is typed (PEP 561), and the wheel carries the marker."""
import tomllib
from pathlib import Path

import mailbot

ROOT = Path(__file__).resolve().parents[2]


def test_the_package_has_its_py_typed_marker():
    assert (Path(mailbot.__file__).parent / "py.typed").is_file()


def test_the_marker_is_package_data():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "py.typed" in config["tool"]["setuptools"]["package-data"]["mailbot"]


def test_lint_tools_are_pinned_and_configured():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    lint = config["project"]["optional-dependencies"]["lint"]
    assert {spec.split("==")[0] for spec in lint} >= {"ruff", "mypy"}
    assert all("==" in spec for spec in lint), lint
    assert config["tool"]["mypy"]["disallow_untyped_defs"] is True
