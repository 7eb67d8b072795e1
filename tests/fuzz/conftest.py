"""The fuzz budget: a fixed number of examples per target in CI, or a time per target by hand.

    .venv/bin/pytest tests/fuzz                                # CI: ~40 s in all, a new seed each run (printed)
    MAILBOT_FUZZ_SEED=1234 .venv/bin/pytest tests/fuzz          # replay a run
    MAILBOT_FUZZ_SECONDS=600 .venv/bin/pytest tests/fuzz -s     # by hand: each target runs 10 minutes
    MAILBOT_FUZZ_EXAMPLES=5000 .venv/bin/pytest tests/fuzz      # or a bigger fixed budget

The executions of each target are printed at the end of the run. A failing example is shrunk and printed by
Hypothesis, with the seed to replay it.
"""
from __future__ import annotations

import os
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

FUZZ_SECONDS = float(os.environ.get("MAILBOT_FUZZ_SECONDS", "0") or 0)
FUZZ_EXAMPLES = int(os.environ.get("MAILBOT_FUZZ_EXAMPLES", "0") or 0)
FUZZ_SEED = int(os.environ.get("MAILBOT_FUZZ_SEED") or random.SystemRandom().randrange(2**32))
ROUND = 1000  # examples per Hypothesis run in the timed mode


@dataclass
class Tally:
    executions: Counter[str] = field(default_factory=Counter)
    seconds: Counter[str] = field(default_factory=Counter)


TALLY = Tally()


def fuzz(name: str, strategy: st.SearchStrategy[Any], check: Callable[[Any], None], *, examples: int,
         deadline_ms: int) -> None:
    """Run `check` on examples of `strategy`: `examples` of them (CI), or for FUZZ_SECONDS (by hand)."""

    def body(value: Any) -> None:
        TALLY.executions[name] += 1
        check(value)

    started = time.monotonic()
    rounds = 0
    try:
        while True:
            budget = FUZZ_EXAMPLES or (ROUND if FUZZ_SECONDS else examples)
            test = settings(max_examples=budget, deadline=deadline_ms, database=None, print_blob=True,
                            suppress_health_check=list(HealthCheck))(given(strategy)(body))
            seed(FUZZ_SEED + rounds)(test)()
            rounds += 1
            if not FUZZ_SECONDS or time.monotonic() - started > FUZZ_SECONDS:
                break
    finally:
        TALLY.seconds[name] += time.monotonic() - started


@pytest.fixture(scope="session", autouse=True)
def _announce_seed() -> None:
    print(f"\nfuzz seed {FUZZ_SEED} (replay with MAILBOT_FUZZ_SEED={FUZZ_SEED})")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not TALLY.executions:
        return
    total = sum(TALLY.executions.values())
    terminalreporter.section(f"fuzz: {total} executions, seed {FUZZ_SEED}")
    for name, count in sorted(TALLY.executions.items()):
        terminalreporter.write_line(f"{name:32s} {count:8d} executions {TALLY.seconds[name]:7.1f} s")
