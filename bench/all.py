"""Every bench in turn, then one short summary table (`make bench`).

    .venv/bin/python bench/all.py                 # the quick variants (about 5 minutes on the dev machine)
    .venv/bin/python bench/all.py --full          # the documented runs (intake --n 1000 10000 --huge 20, ...)
    .venv/bin/python bench/all.py --only intake matching

Each bench runs as its own process (its own mail server, databases) and writes its record as usual into
bench/results/ (bench/common.py); the table takes each record's `headline` figures. The machine's load average
is printed with each bench: on a shared machine the rates follow it more than the code.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))  # `python bench/all.py` from the repo root

from bench import common

# name: (quick arguments, full arguments)
BENCHES: dict[str, tuple[list[str], list[str]]] = {
    "intake": (["--quick"], ["--n", "1000", "10000", "--huge", "20"]),
    "matching": (["--quick"], ["--postgres"]),
    "multi": (["--quick"], []),
    "latency": (["--quick"], []),
}


def run(name: str, arguments: list[str], scratch: Path) -> tuple[int, float, dict[str, object] | None]:
    """(exit code, seconds, the record it wrote) of one bench."""
    out = scratch / name
    start = time.perf_counter()
    code = subprocess.call([sys.executable, str(BENCH_DIR / f"{name}.py"), *arguments, "--results-dir", str(out)],
                           cwd=BENCH_DIR.parent)
    seconds = time.perf_counter() - start
    records = sorted(out.glob(f"{name}-*.json"))
    if not records:
        return code, seconds, None
    final = common.RESULTS_DIR / records[-1].name  # kept with the others
    common.RESULTS_DIR.mkdir(exist_ok=True)
    final.write_bytes(records[-1].read_bytes())
    return code, seconds, json.loads(records[-1].read_text())


def table(rows: list[tuple[str, int, float, dict[str, object] | None]]) -> str:
    lines = ["", "| bench | figure | value | target | met |", "|---|---|---|---|---|"]
    for name, code, seconds, record in rows:
        if record is None:
            lines.append(f"| {name} | (no record: exit {code}) | | | NO |")
            continue
        load = record.get("machine", {}).get("load_average", [float("nan")])[0]  # type: ignore[union-attr]
        lines.append(f"| {name} | valid run, {seconds:.0f} s, load {load} | "
                     f"{'yes' if record.get('valid') else 'NO'} | | |")
        for item in record.get("headline", []):  # type: ignore[union-attr]
            met = "" if item["ok"] is None else ("yes" if item["ok"] else "NO")
            lines.append(f"| {name} | {item['name']} | {item['value']} | {item['target']} | {met} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = common.make_parser(__doc__)
    parser.add_argument("--full", action="store_true", help="the documented runs instead of the quick ones")
    parser.add_argument("--only", nargs="+", choices=sorted(BENCHES), default=list(BENCHES))
    args = parser.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="bench-all-", dir="/tmp"))
    rows = []
    for name in args.only:
        arguments = BENCHES[name][1 if args.full else 0] + (["--keep"] if args.keep else [])
        common.log(f"== {name} {' '.join(arguments)} (load average {os.getloadavg()[0]:.1f})")
        rows.append((name, *run(name, arguments, scratch)))
    print(table(rows))
    return 0 if all(code == 0 for _, code, _, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
