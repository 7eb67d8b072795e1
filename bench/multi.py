"""Several daemons on one PostgreSQL database and one mailbox: throughput with 1, 2 and 4 daemons.

    .venv/bin/python bench/multi.py                      # N=1000, 1 2 4 daemons (about 5 minutes on 2 cores)
    .venv/bin/python bench/multi.py --n 300 --daemons 1 2  # quicker

For each number of daemons K, on one loopback Dovecot + Postfix (bench/intake.py's server and generated mails):
  1. setup, not timed: mailboxes wiped, the N mails of bench/mailgen.py APPENDed to the club INBOX, a fresh
     PostgreSQL database (`mailbot db upgrade`, the 50 members imported), Postfix's queue empty;
  2. K `mailbot run` processes started at once (IDLE; each starts its helper sending process, N > 100);
  3. the database is polled every 100 ms: the time when the N mails are recorded (intake), and when the 2N mails
     decided are sent (complete: acknowledgements and Aideur's notifications); rate = N / complete time, start-up
     included; the ratio is that rate over the rate of one daemon in the same run;
  4. SIGTERM to all, then checks: N tickets, N inbound records, 2N outbox rows all `sent`, none sent twice (no
     `interrupted_sends`), the INBOX empty and N mails in the processed folder.

Results go to bench/results/multi-<timestamp>.json and a table is printed.
"""
from __future__ import annotations

import argparse
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import sqlalchemy
from imap_tools import MailBoxUnencrypted

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))  # `python bench/multi.py` from the repo root

from bench import common
from bench.common import excerpt, fresh_postgres, log
from bench.intake import (
    CLUB_ADDRESS,
    PASSWORD,
    append_all,
    mailbot_command,
    prepare_postgres,
    start_server,
    wait_for_delivery,
)
from bench.mailgen import generate
from mailbot.dev.devserver import MailServer

POSTGRES_DATABASE = "mailbot_bench_multi"
POLL = 0.1
PROCESSED_FOLDER = "mailbot-traites"


@dataclass
class MultiResult:
    daemons: int
    n: int
    intake_seconds: float  # until the N mails are recorded
    complete_seconds: float  # until the 2N mails decided are sent
    rate: float  # N / complete_seconds
    intake_rate: float
    ratio: float  # rate / rate with one daemon
    cpu_seconds: float  # the K daemons and their helper processes
    load_before: float  # 1-minute load average when the K daemons started
    exit_codes: list[int | None]
    checks: dict[str, object]
    valid: bool
    problems: list[str] = field(default_factory=list)


# --- PostgreSQL -------------------------------------------------------------------------------------------------


class Counts:
    """Polls the database the daemons write to (one connection, autocommit)."""

    def __init__(self, url: str) -> None:
        self.engine = sqlalchemy.create_engine(url, isolation_level="AUTOCOMMIT")

    def read(self) -> dict[str, int]:
        with self.engine.connect() as connection:
            row = connection.exec_driver_sql(
                "SELECT (SELECT count(*) FROM inbound_mails), (SELECT count(*) FROM tickets),"
                " (SELECT count(*) FROM outbox), (SELECT count(*) FROM outbox WHERE status = 'sent'),"
                " (SELECT coalesce(sum(interrupted_sends), 0) FROM outbox)").one()
        return dict(zip(("inbound", "tickets", "outbox", "sent", "interrupted"), map(int, row), strict=False))

    def close(self) -> None:
        self.engine.dispose()


# --- daemons ----------------------------------------------------------------------------------------------------


def start_daemons(count: int, env: dict[str, str], run_dir: Path) -> list[subprocess.Popen[bytes]]:
    processes = []
    for number in range(count):
        log_file = (run_dir / f"daemon-{number}.log").open("wb")
        processes.append(subprocess.Popen(mailbot_command("run"), env=env, cwd=run_dir, stdout=log_file,
                                          stderr=log_file))
        log_file.close()  # the child has its own copy
    return processes


def stop_daemons(processes: list[subprocess.Popen[bytes]], timeout: float = 30.0) -> tuple[list[int | None], float]:
    """SIGTERM all, wait; (exit codes, CPU seconds of the daemons and their waited-for children)."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    codes: list[int | None] = []
    cpu = 0.0
    deadline = time.monotonic() + timeout
    for process in processes:
        while process.returncode is None and time.monotonic() < deadline:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                process.returncode = os.waitstatus_to_exitcode(status)
                cpu += usage.ru_utime + usage.ru_stime
            else:
                time.sleep(0.05)
        if process.returncode is None:
            process.send_signal(signal.SIGABRT)  # PYTHONFAULTHANDLER: its threads' stacks go to its log
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            codes.append(None)
        else:
            codes.append(process.returncode)
    return codes, cpu


def folder_count(server: MailServer, folder: str) -> int:
    with MailBoxUnencrypted(server.imap_host, server.imap_port).login(CLUB_ADDRESS, PASSWORD,
                                                                        initial_folder=None) as box:
        return int(box.folder.status(folder, ["MESSAGES"])["MESSAGES"]) if box.folder.exists(folder) else 0


# --- one K ------------------------------------------------------------------------------------------------------


def bench_daemons(server: MailServer, work: Path, n: int, daemons: int, seed: int, timeout: float) -> MultiResult:
    server.wipe_mailboxes()
    log(f"{daemons} daemon(s): appending {n} mails, fresh PostgreSQL database")
    append_all(server, generate(n, seed=seed))
    run_dir = work / f"multi-{daemons}"
    # INFO: each mail handled is a line of its daemon's journal, so the bench tells how the work was shared.
    env = prepare_postgres(server, run_dir, fresh_postgres(POSTGRES_DATABASE)) | {"MAILBOT_LOG_LEVEL": "INFO"}
    log(f"  Postfix queue empty after {wait_for_delivery(server):.1f} s; starting {daemons} daemon(s)")
    counts = Counts(env["MAILBOT_DATABASE_URL"])
    load = os.getloadavg()[0]
    start = time.perf_counter()
    processes = start_daemons(daemons, env, run_dir)
    intake = complete = float("nan")
    problems: list[str] = []
    try:
        while True:
            now = counts.read()
            elapsed = time.perf_counter() - start
            if now["inbound"] >= n and math.isnan(intake):
                intake = elapsed
            if now["inbound"] >= n and now["sent"] >= 2 * n:
                complete = elapsed
                break
            if elapsed > timeout:
                problems.append(f"not done after {timeout:.0f} s: {now}")
                break
            if any(process.poll() is not None for process in processes):
                problems.append("a daemon exited during the run")
                break
            time.sleep(POLL)
    finally:
        codes, cpu = stop_daemons(processes)
    final = counts.read()
    counts.close()
    checks: dict[str, object] = {**final, "inbox": folder_count(server, "INBOX"),
                                 "processed_folder": folder_count(server, PROCESSED_FOLDER)}
    expected = {"inbound": n, "tickets": n, "outbox": 2 * n, "sent": 2 * n, "interrupted": 0, "inbox": 0,
                "processed_folder": n}
    problems += [f"{key}: {checks[key]}, expected {value}" for key, value in expected.items() if checks[key] != value]
    if any(code != 0 for code in codes):
        problems.append(f"exit codes {codes}")
    each = [(run_dir / f"daemon-{k}.log").read_text(errors="replace") for k in range(daemons)]
    logs = "\n".join(each)
    checks["conflicts_retried"] = logs.count("conflict with a concurrent transaction")  # lost races, run again
    checks["mails_per_daemon"] = [text.count(" mail(s) queued") for text in each]  # who did the work
    # Rounds a daemon ended with mail left waiting for another daemon's (coordination.WaitingOrder).
    checks["rounds_left_waiting"] = logs.count("wait for earlier mail another daemon holds")
    if problems:
        problems.append(excerpt(logs))
    rate = n / complete if not math.isnan(complete) else float("nan")
    log(f"  intake {intake:.1f} s, complete {complete:.1f} s = {rate:.1f} mails/s, CPU {cpu:.0f} s, "
        f"load before {load:.1f}; {'ok' if not problems else 'PROBLEMS: ' + problems[0]}")
    return MultiResult(daemons=daemons, n=n, intake_seconds=round(intake, 2), complete_seconds=round(complete, 2),
                       rate=round(rate, 1), intake_rate=round(n / intake, 1) if not math.isnan(intake) else float("nan"),
                       ratio=float("nan"), cpu_seconds=round(cpu, 1), load_before=round(load, 2), exit_codes=codes,
                       checks=checks, valid=not problems, problems=problems)


# --- report -----------------------------------------------------------------------------------------------------


def summary(results: list[MultiResult]) -> str:
    head = ("| daemons | N | intake s | complete s | mails/s | ratio to 1 daemon | CPU s | mails per daemon | "
            "load before | valid |")
    lines = ["", head, "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        shares = "/".join(str(count) for count in r.checks.get("mails_per_daemon") or [])  # type: ignore[attr-defined]
        lines.append(f"| {r.daemons} | {r.n:,} | {r.intake_seconds:.1f} | {r.complete_seconds:.1f} | {r.rate:.1f} | "
                     f"{r.ratio:.2f} | {r.cpu_seconds:.0f} | {shares} | {r.load_before:.1f} | "
                     f"{'yes' if r.valid else 'NO: ' + r.problems[0]} |")
    return "\n".join(lines)


def write_results(results: list[MultiResult], args: argparse.Namespace) -> Path:
    headline = [common.figure(f"multi N={r.n:,}, {r.daemons} daemon(s): mails/s (ratio to 1)",
                              f"{r.rate:.1f} ({r.ratio:.2f})", "2 daemons >= 1.00" if r.daemons == 2 else "",
                              (r.ratio >= 1.0) if r.daemons == 2 else r.valid) for r in results]
    return common.write_results("multi", args, {
        "results": [asdict(r) for r in results],
        "valid": all(r.valid for r in results),
    }, headline=headline)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = common.make_parser(__doc__)
    parser.add_argument("--n", type=int, default=1000, help="mails waiting (default 1000)")
    parser.add_argument("--daemons", type=int, nargs="+", default=[1, 2, 4], help="daemon counts (default 1 2 4)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds allowed per run")
    parser.add_argument("--quick", action="store_true", help="N=200 with 1 and 2 daemons: a smoke test")
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.daemons = 200, [1, 2]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-multi-", dir="/tmp"))
    work.chmod(0o755)  # Dovecot (vmail) and Postfix must reach the server directory inside
    server = start_server(work)
    results: list[MultiResult] = []
    try:
        for daemons in args.daemons:
            results.append(bench_daemons(server, work, args.n, daemons, args.seed, args.timeout))
    finally:
        server.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    one = next((r.rate for r in results if r.daemons == 1), float("nan"))
    for r in results:
        r.ratio = round(r.rate / one, 2) if not math.isnan(one) and one else float("nan")
    path = write_results(results, args)
    print(summary(results))
    print(f"\nresults: {path}" + (f" (work dir {work})" if args.keep else ""))
    return 0 if all(r.valid for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
