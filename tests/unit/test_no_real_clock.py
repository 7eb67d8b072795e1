"""No test may depend on the date it runs on: every in-process daemon cycle of the suite runs at an explicit instant."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests import helpers

TESTS = Path(__file__).resolve().parent.parent


def test_run_cycle_refuses_the_real_clock() -> None:
    with pytest.raises(TypeError):
        helpers.run_cycle(None, None, at=None)  # type: ignore[arg-type]


def test_every_in_process_daemon_of_the_tests_is_given_a_clock() -> None:
    """A `Daemon(...)` built by a test without `clock=` would decide deadlines at the real clock."""
    offenders = []
    for path in TESTS.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                if name == "Daemon" and not any(keyword.arg == "clock" for keyword in node.keywords):
                    offenders.append(f"{path.relative_to(TESTS)}:{node.lineno}")
    assert not offenders, f"Daemon built at the real clock: {offenders}"
