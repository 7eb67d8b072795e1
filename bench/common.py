"""What every bench shares: its command-line basics, its log, and its result file.

    parser = common.make_parser(__doc__)            # --keep and --results-dir come with it
    ...
    path = common.write_results("intake", args, {"sizes": [...], "valid": ...},
                                headline=[common.figure("N=1,000 ratio", 0.42, ">= 0.5", ok=False)])

Every result file is `<results dir>/<bench>-<timestamp>.json` with the same frame: date, machine (cores, platform,
Python, load average when the bench ended), the arguments, the code under test (where mailbot was imported from,
its commit), the bench's own figures, `valid`, and a `headline`: the few figures `bench/all.py` (`make bench`)
puts in its summary table.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from mailbot.calendar import WEEKDAYS

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"


def no_digest_day() -> str:
    """A weekly-digest day three days from today (Paris). A new installation sends its first digest only on that
    very day, so a bench daemon on the real clock never adds one to what it measures (on a Monday after 8:00, the
    default day, it did: 2N + 1 mails sent, and the run was counted invalid). Tests' daemons use it too."""
    return WEEKDAYS[(datetime.now(ZoneInfo("Europe/Paris")).weekday() + 3) % 7]


@dataclass(frozen=True)
class Figure:
    """One line of the summary table: what was measured, its value (with its unit), the target, whether met
    (None: no target)."""

    name: str
    value: str
    target: str = ""
    ok: bool | None = None


def figure(name: str, value: object, target: str = "", ok: bool | None = None) -> Figure:
    return Figure(name, f"{value:.3g}" if isinstance(value, float) else str(value), target, ok)


def make_parser(doc: str | None, *, keep: str = "keep the work directory (mailboxes, databases, logs)"
                ) -> argparse.ArgumentParser:
    """The bench's parser with the options they all have: --keep and --results-dir."""
    parser = argparse.ArgumentParser(description=(doc or "").strip().splitlines()[0] if doc else None)
    parser.add_argument("--keep", action="store_true", help=keep)
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR,
                        help=f"where the JSON record goes (default {RESULTS_DIR})")
    return parser


def log(text: str) -> None:
    """Progress goes to stderr; stdout keeps the summary."""
    print(text, file=sys.stderr, flush=True)


def mailbot_source() -> str:
    """Where the child processes import mailbot from (PYTHONPATH may point at a snapshot of the code)."""
    code = "import mailbot, os; print(os.path.dirname(os.path.dirname(mailbot.__file__)))"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/",
                          check=False).stdout.strip()


def git_state(directory: str) -> str:
    """`<commit>` or `<commit>+dirty` of the code under test, "" when it is not a git checkout."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", directory, *args], capture_output=True, text=True,
                              check=False).stdout.strip()
    commit = git("rev-parse", "--short", "HEAD")
    return commit + ("+dirty" if commit and git("status", "--porcelain", "mailbot") else "")


def machine() -> dict[str, object]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
            "load_average": [round(x, 2) for x in load]}


def write_results(bench: str, args: argparse.Namespace, figures: dict[str, object], *,
                  headline: list[Figure] | None = None) -> Path:
    """`<results dir>/<bench>-<timestamp>.json`: the common frame, then the bench's `figures` (which should
    hold "valid"). Returns the path."""
    source = mailbot_source()
    out_dir = Path(getattr(args, "results_dir", RESULTS_DIR))
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{bench}-{datetime.now().strftime('%Y%m%d-%H%M%S')}.json"
    document: dict[str, object] = {
        "bench": bench,
        "date": datetime.now().isoformat(timespec="seconds"),
        "machine": machine(),
        "arguments": {key: str(value) if isinstance(value, Path) else value for key, value in vars(args).items()},
        "mailbot_source": source,
        "mailbot_git": git_state(source),
        **figures,
        "headline": [asdict(f) for f in headline or []],
    }
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n")
    return path


def excerpt(text: str, size: int = 1500) -> str:
    """The beginning (the first error) and the end (the fatal one) of a long log."""
    return text if len(text) <= 2 * size else f"{text[:size]}\n[...]\n{text[-size:]}"


# --- PostgreSQL (intake --database postgresql, multi, latency, matching) -------------------------------------------
POSTGRES_ADMIN_URL = os.environ.get("MAILBOT_BENCH_POSTGRES_URL",
                                    "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def fresh_postgres(name: str) -> str:
    """Drop and create the database `name` on the server of MAILBOT_BENCH_POSTGRES_URL; its URL."""
    import sqlalchemy  # here: the benches that never touch PostgreSQL need not import it

    admin = sqlalchemy.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        admin.dispose()
    return sqlalchemy.make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)

