"""The version lives in one place (mailbot.__version__) and `mailbot --version` prints it."""
from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version

import mailbot


def test_mailbot_version_prints_the_package_version() -> None:
    done = subprocess.run([sys.executable, "-m", "mailbot", "--version"], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0
    assert done.stdout.strip() == f"mailbot {mailbot.__version__}"


def test_installed_metadata_carries_the_same_version() -> None:
    assert version("mailbot") == mailbot.__version__
