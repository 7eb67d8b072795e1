"""Latency from delivery to acknowledgement under load: 1, 10 and 50 incoming mails per second.

    .venv/bin/python bench/latency.py                        # 1 daemon, PostgreSQL, 15 s at each rate (~2 min)
    .venv/bin/python bench/latency.py --daemons 2 --rates 10 50 --seconds 10

bench/intake.py measures the latency of one request at a time to an idle daemon; this one keeps mail coming. On one
loopback Dovecot + Postfix (bench/intake.py's server, members and request mails), a fresh PostgreSQL database
(bench/multi.py's preparation) and K `mailbot run` daemons idling on IMAP IDLE, for each rate R:

  1. a sender hands R requests a second to Postfix over one SMTP connection, for S seconds, on a fixed schedule
     (open loop: a late send does not delay the next ones), from 5 members in turn; each request's clock starts
     when `sendmail` is called, as in intake.py;
  2. a watcher holds one IMAP connection per member and looks every 20 ms (NOOP; new UIDs: their In-Reply-To and
     Subject) for the acknowledgement — a reply to that Message-ID whose subject starts with "[CA-";
  3. after the S seconds, it waits for the last acknowledgements (up to 180 s), then for the outbox to be empty
     before the next rate.

Latency = acknowledgement seen in the member's INBOX - `sendmail` called: Postfix, Dovecot's delivery, IDLE's
wake-up, mailbot's transaction, its SMTP hand-over, Postfix and Dovecot again. Median, p95 and max per rate, the
rate achieved, and the backlog (requests sent but not yet acknowledged, at its largest).

Results go to bench/results/latency-<timestamp>.json and a table is printed.
"""
from __future__ import annotations

import argparse
import email.header
import email.parser
import imaplib
import os
import shutil
import smtplib
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))  # `python bench/latency.py` from the repo root

from bench import common
from bench.common import fresh_postgres
from bench.intake import (
    CLUB_ADDRESS,
    MEMBER_COUNT,
    PASSWORD,
    POLL_INTERVAL,
    excerpt,
    log,
    members,
    prepare_postgres,
    request_mail,
    start_server,
)
from bench.multi import Counts, start_daemons, stop_daemons
from mailbot.dev.devserver import MailServer

SENDERS = 5
ACK_TIMEOUT = 180.0


@dataclass
class RateResult:
    rate: float  # asked, mails/s
    seconds: float
    sent: int
    achieved_rate: float
    acknowledged: int
    missed: int
    median: float
    p95: float
    max: float
    first_tenth_median: float  # latency of the first 10 % sent, then of the last 10 %: a backlog shows
    last_tenth_median: float
    backlog_max: int
    load_before: float
    latencies: list[float] = field(default_factory=list)


class AckWatcher(threading.Thread):
    """One IMAP connection per member; records when each acknowledgement ("[CA-…" replying to a Message-ID)
    appears in the member's INBOX."""

    def __init__(self, server: MailServer, addresses: list[str]) -> None:
        super().__init__(daemon=True)
        self.seen: dict[str, float] = {}
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self.boxes = []
        for address in addresses:
            imap = imaplib.IMAP4(server.imap_host, server.imap_port, timeout=30)
            imap.login(address, PASSWORD)
            imap.select("INBOX")
            self.boxes.append([imap, self._last_uid(imap)])

    @staticmethod
    def _last_uid(imap: imaplib.IMAP4) -> int:
        _, data = imap.uid("SEARCH", None, "ALL")
        uids = data[0].split() if data and data[0] else []
        return int(uids[-1]) if uids else 0

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                for box in self.boxes:
                    self._look(box)
                self.stop.wait(POLL_INTERVAL)
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            self.error = error

    def _look(self, box: list) -> None:  # type: ignore[type-arg]
        imap, last = box
        imap.noop()
        imap.untagged_responses.clear()  # EXISTS/RECENT pile up otherwise; the search below is what counts
        _, data = imap.uid("SEARCH", None, f"UID {last + 1}:*")
        uids = [int(u) for u in (data[0].split() if data and data[0] else []) if int(u) > last]
        if not uids:
            return
        _, fetched = imap.uid("FETCH", ",".join(map(str, uids)),
                              "(UID BODY.PEEK[HEADER.FIELDS (IN-REPLY-TO SUBJECT)])")
        now = time.perf_counter()
        for item in fetched:
            if not isinstance(item, tuple):
                continue
            headers = email.parser.BytesHeaderParser().parsebytes(item[1])
            subject = str(email.header.make_header(email.header.decode_header(headers.get("Subject", ""))))
            if subject.startswith("[CA-"):
                with self.lock:
                    self.seen.setdefault(str(headers.get("In-Reply-To", "")).strip(), now)
        box[1] = max(uids)

    def acknowledged(self, message_ids: list[str]) -> int:
        with self.lock:
            return sum(1 for message_id in message_ids if message_id in self.seen)

    def close(self) -> None:
        self.stop.set()
        self.join(10)
        for imap, _ in self.boxes:
            try:
                imap.logout()
            except (OSError, imaplib.IMAP4.error):
                pass


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))] if ordered else float("nan")


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def bench_rate(server: MailServer, watcher: AckWatcher, counts: Counts, rate: float, seconds: float,
               senders: list[str], first_index: int) -> RateResult:
    total = max(1, round(rate * seconds))
    log(f"{rate:g} mails/s for {seconds:g} s: {total} requests")
    load = os.getloadavg()[0]
    sent_at: dict[str, float] = {}
    order: list[str] = []
    backlog_max = 0
    with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=30) as smtp:
        start = time.perf_counter()
        for number in range(total):
            delay = start + number / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            sender = senders[number % len(senders)]
            message_id, raw = request_mail(first_index + number, sender)
            sent_at[message_id] = time.perf_counter()
            order.append(message_id)
            smtp.sendmail(sender, [CLUB_ADDRESS], raw)
            if number % max(1, int(rate)) == 0:
                backlog_max = max(backlog_max, len(order) - watcher.acknowledged(order))
        elapsed = time.perf_counter() - start
    deadline = time.perf_counter() + ACK_TIMEOUT
    while watcher.acknowledged(order) < total and time.perf_counter() < deadline:
        backlog_max = max(backlog_max, total - watcher.acknowledged(order))
        if watcher.error:
            raise watcher.error
        time.sleep(0.2)
    with watcher.lock:
        latencies = [watcher.seen[m] - sent_at[m] for m in order if m in watcher.seen]
        tenth = max(1, total // 10)
        first = [watcher.seen[m] - sent_at[m] for m in order[:tenth] if m in watcher.seen]
        last = [watcher.seen[m] - sent_at[m] for m in order[-tenth:] if m in watcher.seen]
    while counts.read()["sent"] < counts.read()["outbox"] and time.perf_counter() < deadline:
        time.sleep(0.2)  # Aideur's notifications too: the next rate starts on an empty outbox
    result = RateResult(rate=rate, seconds=seconds, sent=total, achieved_rate=round(total / elapsed, 1) if elapsed
                        else float("nan"), acknowledged=len(latencies), missed=total - len(latencies),
                        median=round(median(latencies), 3), p95=round(percentile(latencies, 0.95), 3),
                        max=round(max(latencies), 3) if latencies else float("nan"),
                        first_tenth_median=round(median(first), 3), last_tenth_median=round(median(last), 3),
                        backlog_max=backlog_max, load_before=round(load, 2),
                        latencies=[round(x, 4) for x in latencies])
    log(f"  achieved {result.achieved_rate} mails/s; median {result.median:.3f} s, p95 {result.p95:.3f} s, "
        f"max {result.max:.3f} s, missed {result.missed}, backlog up to {backlog_max}")
    time.sleep(2.0)
    return result


def summary(results: list[RateResult], daemons: int) -> str:
    lines = ["", f"{daemons} daemon(s) on PostgreSQL, IMAP IDLE",
             ("| mails/s asked | achieved | requests | median s | p95 s | max s | first 10 % median s | "
             "last 10 % median s | backlog max | missed |"),
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r.rate:g} | {r.achieved_rate:g} | {r.sent} | {r.median:.2f} | {r.p95:.2f} | {r.max:.2f} | "
                     f"{r.first_tenth_median:.2f} | {r.last_tenth_median:.2f} | {r.backlog_max} | {r.missed} |")
    return "\n".join(lines)


def write_results(results: list[RateResult], args: argparse.Namespace, exit_codes: list[int | None]) -> Path:
    headline = [common.figure(f"latency {args.daemons} daemon(s) at {r.rate:g}/s: median / p95 s",
                              f"{r.median:.2f} / {r.p95:.2f}", "", r.missed == 0) for r in results]
    return common.write_results("latency", args, {
        "rates": [asdict(r) for r in results],
        "exit_codes": exit_codes,
        "valid": all(r.missed == 0 for r in results) and all(code == 0 for code in exit_codes),
    }, headline=headline)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = common.make_parser(__doc__)
    parser.add_argument("--rates", type=float, nargs="+", default=[1, 10, 50], help="mails/s (default 1 10 50)")
    parser.add_argument("--seconds", type=float, default=15.0, help="seconds at each rate (default 15)")
    parser.add_argument("--daemons", type=int, default=1, help="daemons on the same mailbox and database")
    parser.add_argument("--quick", action="store_true", help="1 and 10 mails/s for 5 s each: a smoke test")
    args = parser.parse_args(argv)
    if args.quick:
        args.rates, args.seconds = [1, 10], 5.0
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-latency-", dir="/tmp"))
    work.chmod(0o755)  # Dovecot (vmail) and Postfix must reach the server directory inside
    server = start_server(work)
    results: list[RateResult] = []
    codes: list[int | None] = []
    try:
        run_dir = work / "latency"
        env = prepare_postgres(server, run_dir, fresh_postgres("mailbot_bench_latency"))
        senders = [member.address for member in members(MEMBER_COUNT)[:SENDERS]]
        counts = Counts(env["MAILBOT_DATABASE_URL"])
        daemons = start_daemons(args.daemons, env, run_dir)
        watcher = AckWatcher(server, senders)
        watcher.start()
        try:
            time.sleep(3.0)  # let them connect and enter IDLE
            index = 0
            for rate in args.rates:
                results.append(bench_rate(server, watcher, counts, rate, args.seconds, senders, index))
                index += results[-1].sent
        finally:
            watcher.close()
            codes, _ = stop_daemons(daemons)
            counts.close()
            if any(code != 0 for code in codes):
                logs = "\n".join((run_dir / f"daemon-{k}.log").read_text(errors="replace")
                                 for k in range(args.daemons))
                log(f"daemon exit codes {codes}:\n{excerpt(logs)}")
    finally:
        server.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    path = write_results(results, args, codes)
    print(summary(results, args.daemons))
    print(f"\nresults: {path}" + (f" (work dir {work})" if args.keep else ""))
    return 0 if all(r.missed == 0 for r in results) and all(code == 0 for code in codes) else 1


if __name__ == "__main__":
    sys.exit(main())
