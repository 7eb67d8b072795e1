"""Where the outside corpus of real-world mails lives: the `MAILBOT_TEST_CORPUS` setting (CI sets it).

The corpus is not part of this repository (its mails carry their own licences), so the tests that read it skip
with a clear message when the setting is absent or points nowhere; every other test runs on a fresh clone anywhere.
"""
from __future__ import annotations

import os
from pathlib import Path

SETTING = "MAILBOT_TEST_CORPUS"
SKIP_REASON = (f"no mail corpus: set {SETTING} to the directory holding the corpus's manifest.json "
               "(CI sets it) to run this test")


def corpus_path() -> Path | None:
    """The corpus directory named by the setting, or None when it is unset or has no manifest.json."""
    value = os.environ.get(SETTING, "").strip()
    if not value:
        return None
    path = Path(value).expanduser().resolve()
    return path if (path / "manifest.json").is_file() else None


# A path that never exists stands in when the corpus is absent, so `CORPUS / name` stays valid in skipped tests.
CORPUS: Path = corpus_path() or Path("/nonexistent/mailbot-test-corpus")
AVAILABLE: bool = corpus_path() is not None
