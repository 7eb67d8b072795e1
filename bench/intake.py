"""Intake benchmark: how fast mailbot turns waiting mail into tickets, against the raw libraries, on a loopback
Dovecot + Postfix (mailbot.dev.devserver.MailServer).

    .venv/bin/python bench/intake.py --quick                      # smoke test, N=200, < 1 minute
    .venv/bin/python bench/intake.py --n 1000 10000 --huge 20     # the full run (the huge mails go with the largest N)

For each N, on one fresh mail server:
  (a) baseline: the N mails are APPENDed to the club INBOX (not timed); imap-tools fetches them all
      (bulk=200, touching .subject/.text) and aiosmtplib sends 2N small mails on one connection; N / (fetch + send).
      Measured --baseline-runs times (default 3) back to back, the median taken: on this 2-core machine one
      measure varied from 115 to 203 mails/s within minutes (Postfix's delivery of the sends competes for the cores).
  (b) mailbot: `mailbot run --once` on that same INBOX, with a fresh SQLite database and the members imported
      beforehand; N / wall time, peak RSS of the child, then a check that N tickets and 2N sent mails exist.
Then (c) IDLE latency: the daemon (`mailbot run`) waits on an empty INBOX; 20 times a member sends a request over SMTP
and polls their mailbox until the acknowledgement ("[CA-...") arrives. Finally SIGTERM, which must exit 0 within 10 s.

Results go to bench/results/intake-<timestamp>.json and a summary is printed.
"""
from __future__ import annotations

import argparse
import asyncio
import csv
import email.header
import email.utils
import imaplib
import json
import os
import shutil
import signal
import smtplib
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import aiosmtplib
from imap_tools import MailBoxUnencrypted

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))  # `python bench/intake.py` from the repo root

from bench import common
from bench.common import excerpt, log
from bench.mailgen import CLUB_ADDRESS, generate, members, small_mails
from mailbot.dev.devserver import MailServer

MAILBOT = Path(sys.executable).with_name("mailbot")
AIDEUR_ADDRESS = "aideur@club.test"
PASSWORD = "bench-password"
MEMBER_COUNT = 50
IDLE_ROUNDS = 20
POLL_INTERVAL = 0.02
TARGET_RATIO = 0.5
TARGET_RSS_MB = 150
TARGET_IDLE_MEDIAN = 2.0


@dataclass
class SizeResult:
    n: int
    huge: int
    database: str  # "sqlite" or "postgresql"
    mails: int  # n + huge
    megabytes: float
    append_seconds: float
    fetch_seconds: float
    send_seconds: float
    baseline_rate: float  # the median of baseline_rates
    baseline_rates: list[float]
    mailbot_seconds: float
    mailbot_cpu_seconds: float
    mailbot_rate: float
    ratio: float
    mailbot_peak_rss_mb: float
    mailbot_exit_code: int
    mailbot_report: dict[str, object]
    tickets: int
    sent: int
    outbox_by_status: dict[str, int]
    valid: bool
    problems: list[str] = field(default_factory=list)


@dataclass
class IdleResult:
    latencies: list[float]
    median: float
    max: float
    missed: int
    exit_code: int | None
    stop_seconds: float
    clean_stop: bool


# --- mail server ------------------------------------------------------------------------------------------------


def start_server(work: Path) -> MailServer:
    server = MailServer(work / "srv")
    for address in [CLUB_ADDRESS, AIDEUR_ADDRESS, *[m.address for m in members(MEMBER_COUNT)]]:
        server.add_user(address, PASSWORD)
    server.start()
    return server


def wait_for_delivery(server: MailServer, timeout: float = 600.0) -> float:
    """Wait until Postfix has delivered everything (so it does not compete for the 2 cores). Returns the wait."""
    start = time.monotonic()
    while server.queued(deferred=True) and time.monotonic() - start < timeout:
        time.sleep(0.2)
    return time.monotonic() - start


def append_all(server: MailServer, mails: Iterable[bytes]) -> tuple[int, int]:
    """APPEND the mails to the club INBOX; returns (count, bytes)."""
    count = size = 0
    with MailBoxUnencrypted(server.imap_host, server.imap_port).login(CLUB_ADDRESS, PASSWORD) as box:
        for raw in mails:
            box.append(raw, "INBOX")
            count += 1
            size += len(raw)
    return count, size


# --- (a) the raw baseline ---------------------------------------------------------------------------------------


def fetch_all(server: MailServer) -> int:
    """imap-tools fetch of the whole club INBOX, reading what a consumer reads. Returns the count."""
    count = 0
    with MailBoxUnencrypted(server.imap_host, server.imap_port).login(CLUB_ADDRESS, PASSWORD) as box:
        for message in box.fetch(mark_seen=False, bulk=200):
            if message.subject is not None and message.text is not None:
                count += 1
    return count


async def send_all(server: MailServer, count: int) -> None:
    """`count` small mails on one reused aiosmtplib connection, to members and Aideur in turn."""
    templates = small_mails(20)
    recipients = [AIDEUR_ADDRESS, *[m.address for m in members(MEMBER_COUNT)]]
    smtp = aiosmtplib.SMTP(hostname=server.smtp_host, port=server.smtp_port, timeout=60)
    await smtp.connect()
    try:
        for i in range(count):
            await smtp.sendmail(CLUB_ADDRESS, [recipients[i % len(recipients)]], templates[i % len(templates)])
    finally:
        await smtp.quit()


def run_baseline(server: MailServer, mails: int) -> tuple[float, float]:
    """(fetch seconds, send seconds) for `mails` mails in: fetch them all, send two per mail."""
    start = time.perf_counter()
    fetched = fetch_all(server)
    fetch_seconds = time.perf_counter() - start
    if fetched != mails:
        raise RuntimeError(f"baseline fetched {fetched} mails, expected {mails}")
    start = time.perf_counter()
    asyncio.run(send_all(server, 2 * mails))
    return fetch_seconds, time.perf_counter() - start


# --- (b) mailbot ------------------------------------------------------------------------------------------------


def mailbot_env(server: MailServer, db_path: Path) -> dict[str, str]:
    return os.environ | {
        "MAILBOT_DATABASE_URL": f"sqlite:///{db_path}",
        "MAILBOT_IMAP_HOST": server.imap_host, "MAILBOT_IMAP_PORT": str(server.imap_port),
        "MAILBOT_IMAP_USER": CLUB_ADDRESS, "MAILBOT_IMAP_PASSWORD": PASSWORD, "MAILBOT_IMAP_SECURITY": "none",
        "MAILBOT_SMTP_HOST": server.smtp_host, "MAILBOT_SMTP_PORT": str(server.smtp_port),
        "MAILBOT_SMTP_SECURITY": "none",
        "MAILBOT_CLUB_ADDRESS": CLUB_ADDRESS, "MAILBOT_AIDEUR_ADDRESSES": AIDEUR_ADDRESS,
        "MAILBOT_SECRET_KEY": "bench-secret-key-0123456789",
        "MAILBOT_RATE_LIMIT_PER_HOUR": "1000000",
        "MAILBOT_LOG_LEVEL": "WARNING",
        "MAILBOT_POLL_SECONDS": "60",
        "MAILBOT_DIGEST_DAY": common.no_digest_day(),
    }


def mailbot_command(*args: str) -> list[str]:
    return [str(MAILBOT), "--env-file", "/dev/null", *args]


def prepare_database(server: MailServer, work: Path) -> tuple[Path, dict[str, str]]:
    """A fresh SQLite database with the schema and the members (not timed)."""
    db_path = work / "mailbot.db"
    env = mailbot_env(server, db_path)
    csv_path = work / "members.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["email", "first_name", "last_name", "company", "phone", "skills"])
        for m in members(MEMBER_COUNT):
            writer.writerow([m.address, m.first_name, m.last_name, m.company, "0612345678", "comptabilité, droit"])
    for args in (("db", "upgrade"), ("members", "import", str(csv_path))):
        subprocess.run(mailbot_command(*args), env=env, cwd=work, check=True, capture_output=True)
    return db_path, env


def prepare_postgres(server: MailServer, run_dir: Path, url: str) -> dict[str, str]:
    """prepare_database's work (members CSV, settings) on PostgreSQL: schema and members. Not timed."""
    run_dir.mkdir(parents=True, exist_ok=True)
    prepare_database(server, run_dir)  # writes members.csv (and a SQLite file that is not used)
    env = mailbot_env(server, run_dir / "unused.db") | {"MAILBOT_DATABASE_URL": url, "PYTHONFAULTHANDLER": "1"}
    for args in (("db", "upgrade"), ("members", "import", str(run_dir / "members.csv"))):
        subprocess.run(mailbot_command(*args), env=env, cwd=run_dir, check=True, capture_output=True)
    return env


def run_mailbot_once(env: dict[str, str], work: Path) -> tuple[float, float, float, int, dict[str, object]]:
    """`mailbot run --once` as a child: (wall seconds, cpu seconds, ru_maxrss MB, exit code, its JSON report).

    os.wait4 gives the rusage of that one child (and of its helper, which it waits for). Its ru_maxrss is not the
    child's peak: Linux records the parent's size at exec in it; the report's `peak_rss_mb` is (VmHWM)."""
    stdout_path, stderr_path = work / "run-once.out", work / "run-once.err"
    with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
        start = time.perf_counter()
        process = subprocess.Popen(mailbot_command("run", "--once"), env=env, cwd=work,
                                   stdout=stdout, stderr=stderr)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    report = last_json_line(stdout_path.read_text(errors="replace"))
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, process.returncode, report


def last_json_line(text: str) -> dict[str, object]:
    for line in reversed(text.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    return {}


def database_counts(url: str) -> tuple[int, dict[str, int]]:
    """(tickets, outbox rows by status) in the database at `url` (SQLite or PostgreSQL)."""
    import sqlalchemy  # the mailbot package's dependency; imported here, as the bench's own code needs it only here

    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as db:
            tickets = db.exec_driver_sql("SELECT count(*) FROM tickets").scalar_one()
            by_status = {status: count for status, count in
                         db.exec_driver_sql("SELECT status, count(*) FROM outbox GROUP BY status")}
    finally:
        engine.dispose()
    return int(tickets), by_status


# --- one N ------------------------------------------------------------------------------------------------------


def bench_size(server: MailServer, work: Path, n: int, huge: int, seed: int,
               database: str = "sqlite", baseline_runs: int = 3) -> SizeResult:
    server.wipe_mailboxes()
    mails = n + huge
    log(f"N={n} (+{huge} huge): generating and appending {mails} mails")
    start = time.perf_counter()
    appended, size = append_all(server, generate(n, seed=seed, huge=huge))
    append_seconds = time.perf_counter() - start
    log(f"  appended {appended} mails, {size / 1e6:.0f} MB, in {append_seconds:.1f} s; baseline...")

    runs = []
    for _ in range(max(baseline_runs, 1)):
        fetch_seconds, send_seconds = run_baseline(server, mails)
        runs.append((mails / (fetch_seconds + send_seconds), fetch_seconds, send_seconds))
        log(f"  baseline: fetch {fetch_seconds:.1f} s + send {send_seconds:.1f} s = {runs[-1][0]:.0f} mails/s; "
            f"waiting for Postfix to deliver ({wait_for_delivery(server):.1f} s)")
    baseline_rate, fetch_seconds, send_seconds = sorted(runs)[len(runs) // 2]  # the median run

    run_dir = work / f"mailbot-{n}-{database}"
    run_dir.mkdir()
    if database == "postgresql":
        env = prepare_postgres(server, run_dir, common.fresh_postgres("mailbot_bench_intake"))
    else:
        _, env = prepare_database(server, run_dir)
    log(f"  mailbot run --once ({database})...")
    wall, cpu, _, code, report = run_mailbot_once(env, run_dir)
    # The processes' own peaks (VmHWM), from mailbot's report: wait4's ru_maxrss counts this bench's own size at
    # the child's exec (the bench held 10 MB mails from the baseline's fetch: 191 MB reported for a 118 MB peak).
    peaks = report.get("peak_rss_mb") or {}
    rss = max(float(v) for v in peaks.values()) if isinstance(peaks, dict) and peaks else 0.0
    mailbot_rate = mails / wall
    log(f"  mailbot: {wall:.1f} s = {mailbot_rate:.0f} mails/s, peak RSS {rss:.0f} MB, exit {code}; "
        f"Postfix delivery {wait_for_delivery(server):.1f} s")

    tickets, by_status = database_counts(env["MAILBOT_DATABASE_URL"])
    sent = by_status.get("sent", 0)
    problems = []
    if code != 0:
        problems.append(f"mailbot exited {code}: {excerpt((run_dir / 'run-once.err').read_text(errors='replace'))}")
    if tickets != mails:
        problems.append(f"{tickets} tickets, expected {mails}")
    if sent != 2 * mails:
        problems.append(f"{sent} mails sent, expected {2 * mails} (outbox: {by_status})")
    return SizeResult(
        n=n, huge=huge, database=database, mails=mails, megabytes=round(size / 1e6, 1), append_seconds=round(append_seconds, 2),
        fetch_seconds=round(fetch_seconds, 2), send_seconds=round(send_seconds, 2),
        baseline_rate=round(baseline_rate, 1), baseline_rates=[round(run[0], 1) for run in runs],
        mailbot_seconds=round(wall, 2), mailbot_cpu_seconds=round(cpu, 2),
        mailbot_rate=round(mailbot_rate, 1), ratio=round(mailbot_rate / baseline_rate, 3),
        mailbot_peak_rss_mb=round(rss, 1), mailbot_exit_code=code, mailbot_report=report, tickets=tickets,
        sent=sent, outbox_by_status=by_status, valid=not problems, problems=problems)


# --- (c) IDLE latency -------------------------------------------------------------------------------------------


def request_mail(index: int, sender: str) -> tuple[str, bytes]:
    """(Message-ID, raw) of one small request."""
    message_id = f"<idle-{index}-{time.time_ns()}@membres.test>"
    raw = (f"From: {sender}\r\nTo: {CLUB_ADDRESS}\r\nSubject: Demande urgente {index}\r\n"
           f"Message-ID: {message_id}\r\nDate: {email.utils.formatdate(localtime=True)}\r\n"
           "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
           f"Bonjour,\r\n\r\nNotre serveur ne démarre plus depuis ce matin (demande {index}).\r\n\r\nMerci,\r\n"
           "Amélie\r\n").encode()
    return message_id, raw


def acknowledged(imap: imaplib.IMAP4, message_id: str) -> bool:
    """Whether the member's INBOX holds the acknowledgement of this request ("[CA-..." replying to it)."""
    imap.noop()
    _, data = imap.uid("SEARCH", None, "HEADER", "In-Reply-To", f'"{message_id}"')
    uids = data[0].split() if data and data[0] else []
    for uid in uids:
        _, fetched = imap.uid("FETCH", uid, "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        header = fetched[0][1].decode("ascii", "replace") if fetched and isinstance(fetched[0], tuple) else ""
        subject = str(email.header.make_header(email.header.decode_header(header.partition(":")[2].strip())))
        if subject.startswith("[CA-"):
            return True
    return False


def one_latency(server: MailServer, imap: imaplib.IMAP4, index: int, sender: str, timeout: float) -> float | None:
    message_id, raw = request_mail(index, sender)
    with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as smtp:
        start = time.perf_counter()
        smtp.sendmail(sender, [CLUB_ADDRESS], raw)
    while time.perf_counter() - start < timeout:
        if acknowledged(imap, message_id):
            return time.perf_counter() - start
        time.sleep(POLL_INTERVAL)
    return None


def bench_idle(server: MailServer, work: Path, rounds: int = IDLE_ROUNDS, timeout: float = 30.0) -> IdleResult:
    server.wipe_mailboxes()
    run_dir = work / "mailbot-idle"
    run_dir.mkdir()
    _, env = prepare_database(server, run_dir)
    sender = members(MEMBER_COUNT)[0].address
    log(f"IDLE latency: {rounds} requests to the running daemon")
    with (run_dir / "daemon.err").open("wb") as stderr:
        daemon = subprocess.Popen(mailbot_command("run"), env=env, cwd=run_dir, stdout=stderr, stderr=stderr)
        latencies: list[float] = []
        missed = 0
        try:
            time.sleep(2.0)  # let it connect and enter IDLE
            imap = imaplib.IMAP4(server.imap_host, server.imap_port, timeout=10)
            imap.login(sender, PASSWORD)
            imap.select("INBOX")
            for index in range(rounds):
                latency = one_latency(server, imap, index, sender, timeout)
                if latency is None:
                    missed += 1
                else:
                    latencies.append(latency)
                time.sleep(0.2)
            imap.logout()
        finally:
            stop_start = time.perf_counter()
            daemon.send_signal(signal.SIGTERM)
            try:
                code: int | None = daemon.wait(timeout=10)
            except subprocess.TimeoutExpired:
                code = None
                daemon.kill()
                daemon.wait()
            stop_seconds = time.perf_counter() - stop_start
    log(f"  median {statistics.median(latencies) if latencies else float('nan'):.3f} s, missed {missed}, "
        f"stopped with {code} in {stop_seconds:.2f} s")
    return IdleResult(latencies=[round(x, 4) for x in latencies],
                      median=round(statistics.median(latencies), 4) if latencies else float("nan"),
                      max=round(max(latencies), 4) if latencies else float("nan"), missed=missed,
                      exit_code=code, stop_seconds=round(stop_seconds, 2), clean_stop=code == 0)


# --- report -----------------------------------------------------------------------------------------------------


def summary(sizes: list[SizeResult], idle: IdleResult | None) -> str:
    head = ("| N | database | baseline mails/s (median of runs) | mailbot mails/s | ratio (target >= 0.5) | "
            "CPU ms per mail: daemon + sender | mailbot peak RSS MB | valid |")
    lines = ["", head, "|---|---|---|---|---|---|---|---|"]
    for r in sizes:
        label = f"{r.n:,}" + (f" + {r.huge} x 10 MB" if r.huge else "")
        runs = "/".join(f"{rate:.0f}" for rate in r.baseline_rates)
        cpu = r.mailbot_report.get("cpu_seconds") or {}
        per_mail = " + ".join(f"{1000 * float(cpu.get(who, 0)) / r.mails:.1f}" for who in ("daemon", "sender"))
        lines.append(f"| {label} | {r.database} | {r.baseline_rate:.0f} ({runs}) | {r.mailbot_rate:.0f} | {r.ratio:.2f} | "
                     f"{per_mail if cpu else '-'} | {r.mailbot_peak_rss_mb:.0f} | "
                     f"{'yes' if r.valid else 'NO: ' + '; '.join(r.problems)} |")
    if idle is not None:
        lines.append("")
        lines.append(f"IDLE latency over {len(idle.latencies)} requests: median {idle.median:.3f} s "
                     f"(target < {TARGET_IDLE_MEDIAN} s), max {idle.max:.3f} s, missed {idle.missed}; "
                     f"SIGTERM -> exit {idle.exit_code} in {idle.stop_seconds:.2f} s")
    return "\n".join(lines)


def write_results(sizes: list[SizeResult], idle: IdleResult | None, args: argparse.Namespace) -> Path:
    def name(r: SizeResult) -> str:
        return f"intake N={r.n:,}{' PostgreSQL' if r.database == 'postgresql' else ''}"

    headline = [common.figure(f"{name(r)}{f' +{r.huge} huge' if r.huge else ''}: mails/s (baseline)",
                              f"{r.mailbot_rate:.0f} ({r.baseline_rate:.0f})") for r in sizes]
    headline += [common.figure(f"{name(r)} ratio", r.ratio, f">= {TARGET_RATIO}", r.ratio >= TARGET_RATIO)
                 for r in sizes]
    headline += [common.figure(f"{name(r)} peak RSS MB", round(r.mailbot_peak_rss_mb), f"< {TARGET_RSS_MB}",
                               r.mailbot_peak_rss_mb < TARGET_RSS_MB) for r in sizes if r.huge]
    if idle is not None:
        headline.append(common.figure("IDLE latency median s", idle.median, f"< {TARGET_IDLE_MEDIAN}",
                                      idle.median < TARGET_IDLE_MEDIAN))
    return common.write_results("intake", args, {
        "sizes": [asdict(r) for r in sizes],
        "idle": asdict(idle) if idle else None,
        "valid": all(r.valid for r in sizes) and (idle is None or (idle.missed == 0 and idle.clean_stop)),
    }, headline=headline)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = common.make_parser(__doc__)
    parser.add_argument("--n", type=int, nargs="+", default=[1000, 10000], help="batch sizes (default 1000 10000)")
    parser.add_argument("--huge", type=int, default=0, help="10 MB mails added to the largest N (e.g. 20)")
    parser.add_argument("--quick", action="store_true", help="N=200 only, no huge mails: a smoke test")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), nargs="+", default=["sqlite"],
                        help="mailbot's database, each in turn for every N (PostgreSQL: MAILBOT_BENCH_POSTGRES_URL, "
                             "default postgresql+psycopg://postgres@127.0.0.1:5432/postgres; a database "
                             "mailbot_bench_intake is dropped and created)")
    parser.add_argument("--no-idle", action="store_true", help="skip the IDLE latency part")
    parser.add_argument("--baseline-runs", type=int, default=3,
                        help="baseline measures per N and database, the median is used (default 3)")
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.huge = [200], 0
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-", dir="/tmp"))
    work.chmod(0o755)  # Dovecot (vmail) and Postfix must reach the server directory inside
    server = start_server(work)
    sizes: list[SizeResult] = []
    idle = None
    try:
        largest = max(args.n)
        for n in args.n:
            for database in args.database:
                sizes.append(bench_size(server, work, n, args.huge if n == largest else 0, args.seed, database,
                                        args.baseline_runs))
        if not args.no_idle:
            idle = bench_idle(server, work)
    finally:
        server.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    path = write_results(sizes, idle, args)
    print(summary(sizes, idle))
    print(f"\nresults: {path}" + (f" (work dir {work})" if args.keep else ""))
    return 0 if all(r.valid for r in sizes) else 1


if __name__ == "__main__":
    sys.exit(main())
