"""The loopback mail server and the demo live in `mailbot.dev`, apart from the daemon (issue 15, point 9): no module
of the daemon imports them, and `python -m mailbot.dev.devserver` is the documented way to run the server alone."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "mailbot"


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, absolute or relative, plus the dotted names it hands to a lazy loader."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base]) if base else ".".join(parent)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("mailbot."):
            names.add(node.value)
    return names


def test_the_dev_tools_are_in_their_own_subpackage() -> None:
    assert (PACKAGE / "dev" / "devserver.py").is_file()
    assert (PACKAGE / "dev" / "demo.py").is_file()
    assert not (PACKAGE / "devserver.py").exists()
    assert not (PACKAGE / "demo.py").exists()


def test_no_daemon_module_imports_the_dev_tools() -> None:
    """Only the CLI's `mailbot demo` command reaches into mailbot.dev (lazily, when that command is run)."""
    offenders = {}
    for path in PACKAGE.rglob("*.py"):
        if path.is_relative_to(PACKAGE / "dev") or path == PACKAGE / "cli.py":
            continue
        found = {name for name in imported_modules(path)
                 if name == "mailbot.dev" or name.startswith("mailbot.dev.") or name.split(".")[-1] in
                 ("devserver", "demo")}
        if found:
            offenders[str(path.relative_to(ROOT))] = sorted(found)
    assert offenders == {}
    cli = imported_modules(PACKAGE / "cli.py")
    assert {name for name in cli if "dev" in name.split(".")} <= {"mailbot.dev.demo"}


def test_the_loopback_server_runs_as_a_module() -> None:
    result = subprocess.run([sys.executable, "-m", "mailbot.dev.devserver", "--help"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert "python -m mailbot.dev.devserver" in result.stdout


def test_the_demo_command_loads_from_the_dev_package(tmp_path: Path) -> None:
    """`mailbot demo read` runs mailbot.dev.demo's handler: with no demo running it says how to start one."""
    result = subprocess.run([sys.executable, "-m", "mailbot", "demo", "--root", str(tmp_path / "demo"), "read",
                             "alice@membres.test"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert "the demo is not running" in result.stderr, result.stderr
