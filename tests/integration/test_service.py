"""`mailbot run` as systemd runs it: sd_notify (READY, WATCHDOG, STATUS, STOPPING), the journal's log lines (one
per mail, nothing personal), and the unit's seccomp sandbox (MemoryDenyWriteExecute, SystemCallFilter,
RestrictAddressFamilies) applied for real with libseccomp, over the loopback Dovecot + Postfix.

A real AF_UNIX datagram socket plays systemd's NOTIFY_SOCKET; nothing is mocked.
"""
from __future__ import annotations

import ctypes.util
import errno
import itertools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Self

import pytest

from mailbot.logs import mail_tag, short_error
from tests.conftest import make_env
from tests.helpers import AIDEUR, ALICE, CLUB, STRANGER, add_members, append, mailbox, make_mail, smtp_send
from tests.integration.daemon_process import real_clock_env, wait_until

UNIT = Path(__file__).resolve().parents[2] / "systemd" / "mailbot.service"
SYSTEMD_VARIABLES = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM", "INVOCATION_ID",
                     "LISTEN_FDS", "LISTEN_PID")


@dataclass(frozen=True)
class Note:
    at: float  # time.monotonic() when received
    fields: dict[str, str]


class NotifySocket:
    """What systemd listens on: a datagram socket; a thread records every message with its arrival time."""

    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="mailbot-notify-", dir="/tmp"))
        self.path = self.directory / "notify"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(self.path))
        self.sock.settimeout(0.2)
        self.notes: list[Note] = []
        self._lock = threading.Lock()
        self._closing = False
        self._thread = threading.Thread(target=self._receive, daemon=True)
        self._thread.start()

    def _receive(self) -> None:
        while not self._closing:
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            fields = dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line)
            with self._lock:
                self.notes.append(Note(time.monotonic(), fields))

    def snapshot(self) -> list[Note]:
        with self._lock:
            return list(self.notes)

    def with_field(self, name: str, value: str | None = None, since: float = 0.0) -> list[Note]:
        return [note for note in self.snapshot() if note.at >= since and name in note.fields
                and (value is None or note.fields[name] == value)]

    def statuses(self, since: float = 0.0) -> list[str]:
        return [note.fields["STATUS"] for note in self.with_field("STATUS", since=since)]

    def wait_status(self, predicate: Callable[[str], bool], since: float, timeout: float) -> bool:
        return wait_until(lambda: any(predicate(text) for text in self.statuses(since)), timeout, 0.05)

    def watchdog_gaps(self, start: float, end: float) -> list[float]:
        """Seconds between consecutive WATCHDOG=1 in [start, end], the edges of the window included."""
        times = [start] + [note.at for note in self.with_field("WATCHDOG", "1") if start <= note.at <= end] + [end]
        return [later - earlier for earlier, later in itertools.pairwise(times)]

    def close(self) -> None:
        self._closing = True
        self._thread.join(2)
        self.sock.close()
        shutil.rmtree(self.directory, ignore_errors=True)


@pytest.fixture
def notify_socket() -> Iterator[NotifySocket]:
    listener = NotifySocket()
    yield listener
    listener.close()


class Service:
    """`python -m mailbot run` started as systemd would start it (its environment), stderr kept in a file."""

    def __init__(self, env: dict[str, str], argv: list[str] | None = None, *, journal: bool = False) -> None:
        self.stderr = Path(tempfile.mkstemp(prefix="mailbot-service-", suffix=".log", dir="/tmp")[1])
        base = {key: value for key, value in os.environ.items() if key not in SYSTEMD_VARIABLES}
        self.argv = argv or [sys.executable, "-m", "mailbot", "run"]
        # On the real clock (systemd's service): no weekly digest the test could meet (daemon_process.py).
        self.env = real_clock_env(base | {"MAILBOT_LOG_LEVEL": "INFO", "PYTHONFAULTHANDLER": "1"} | env,
                                  tuple(self.argv))
        if journal:  # what systemd does when stderr is the journal: JOURNAL_STREAM names that stream
            st = self.stderr.stat()
            self.env["JOURNAL_STREAM"] = f"{st.st_dev}:{st.st_ino}"
        self.process: subprocess.Popen[bytes] | None = None
        self._final: str | None = None

    def __enter__(self) -> Self:
        with self.stderr.open("ab") as err:
            # cwd: an empty directory, so no stray .env is read
            self.process = subprocess.Popen(self.argv, env=self.env, stdin=subprocess.DEVNULL,
                                            stdout=subprocess.DEVNULL, stderr=err, cwd=tempfile.gettempdir())
        return self

    def terminate(self, timeout: float = 20.0) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            # Still there: SIGABRT makes faulthandler (PYTHONFAULTHANDLER) print where every thread is stuck.
            self.process.send_signal(signal.SIGABRT)
            self.process.wait(10)
            raise AssertionError(f"no clean stop within {timeout:.0f} s after SIGTERM:\n{self.output()}") from None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def output(self) -> str:
        """What the daemon wrote on stderr (still readable after the `with` block)."""
        return self._final if self._final is not None else self.stderr.read_text(errors="replace")

    def __exit__(self, *exc: object) -> None:
        if self.alive():
            assert self.process is not None
            self.process.kill()
            self.process.wait(10)
        self._final = self.output()
        self.stderr.unlink(missing_ok=True)


# --- sd_notify ----------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_ready_watchdog_status_and_clean_stop(clean_mail, sqlite_url, sessions_for, notify_socket):
    add_members(sessions_for(sqlite_url))
    # WatchdogSec=2s: a WATCHDOG=1 is due every second. The poll interval is longer, so the daemon waits in IDLE
    # across several watchdog periods: the feeding must come from inside the wait, not from new cycles.
    env = make_env(clean_mail, sqlite_url, NOTIFY_SOCKET=str(notify_socket.path), WATCHDOG_USEC="2000000",
                   MAILBOT_POLL_SECONDS="5")
    with Service(env) as service:
        assert wait_until(lambda: notify_socket.with_field("READY", "1"), 30), service.output()
        ready_at = notify_socket.with_field("READY", "1")[0].at

        # 1. idle: fed at least every second, and says so
        assert notify_socket.wait_status(lambda s: s.startswith("en attente de courrier"), ready_at, 10)
        idle_from = time.monotonic()
        time.sleep(4.5)
        gaps = notify_socket.watchdog_gaps(idle_from, time.monotonic())
        assert max(gaps) <= 1.0, gaps
        assert "en attente de courrier (traités : 0, envoyés : 0)" in notify_socket.statuses(), \
            notify_socket.statuses()

        # 2. a mail: handled, and counted in the status
        mark = time.monotonic()
        smtp_send(clean_mail, make_mail(ALICE, "Question de TVA", "Bonjour, une question sur la TVA."))
        assert wait_until(lambda: len(mailbox(clean_mail, ALICE)) == 1, 30), service.output()
        assert notify_socket.wait_status(lambda s: s == "en attente de courrier (traités : 1, envoyés : 2)", mark,
                                         10), notify_socket.statuses(mark)
        assert "traitement de 1 courrier(s)" in notify_socket.statuses(mark)

        # 3. IMAP down: the daemon says so and retries; it is alive, so the watchdog is still fed
        outage = time.monotonic()
        clean_mail.stop_imap()
        try:
            assert notify_socket.wait_status(lambda s: s.startswith("IMAP indisponible, nouvel essai dans "),
                                             outage, 20), notify_socket.statuses(outage)
            assert "IMAP indisponible, nouvel essai dans 1 s" in notify_socket.statuses(outage)
            time.sleep(4)
            gaps = notify_socket.watchdog_gaps(outage, time.monotonic())
            assert max(gaps) <= 1.0, gaps
            assert service.alive(), service.output()
        finally:
            clean_mail.start_imap()
        back = time.monotonic()
        assert notify_socket.wait_status(lambda s: s.startswith("en attente de courrier"), back, 60), \
            notify_socket.statuses(outage)
        assert len(notify_socket.with_field("READY", "1")) == 1  # READY once, not after each reconnection

        # 4. SIGTERM: STOPPING=1, then a clean exit
        stop = time.monotonic()
        assert service.terminate() == 0, service.output()
        stopping = notify_socket.with_field("STOPPING", "1", since=stop)
        assert stopping and stopping[0].fields.get("STATUS", "").startswith("arrêt"), notify_socket.snapshot()[-5:]
        assert "mailbot stopped" in service.output()
        # from READY to STOPPING, never a silence that would have made systemd kill the daemon (2 s)
        assert max(notify_socket.watchdog_gaps(ready_at, stopping[0].at)) < 2.0


def test_ready_even_when_imap_is_down_at_start(clean_mail, sqlite_url, notify_socket):
    """A mail server outage is no failed start: READY=1 comes, with the retry status, and the watchdog is fed."""
    clean_mail.stop_imap()
    try:
        env = make_env(clean_mail, sqlite_url, NOTIFY_SOCKET=str(notify_socket.path), WATCHDOG_USEC="2000000")
        with Service(env) as service:
            assert wait_until(lambda: notify_socket.with_field("READY", "1"), 30), service.output()
            assert notify_socket.wait_status(lambda s: s.startswith("IMAP indisponible"), 0, 10)
            time.sleep(2.5)
            assert len(notify_socket.with_field("WATCHDOG", "1")) >= 2
            assert service.terminate() == 0, service.output()
            assert notify_socket.with_field("STOPPING", "1")
    finally:
        clean_mail.start_imap()


def test_without_notify_socket_nothing_changes(clean_mail, sqlite_url):
    """Outside systemd (a terminal, `make run`): no socket, no watchdog, same daemon; timestamps in the log."""
    with Service(make_env(clean_mail, sqlite_url)) as service:
        smtp_send(clean_mail, make_mail(STRANGER, "Bonjour", "Je voudrais rejoindre le club."))
        assert wait_until(lambda: len(mailbox(clean_mail, STRANGER)) == 1, 30), service.output()
        assert service.terminate() == 0, service.output()
    lines = [line for line in service.output().splitlines() if " mailbot." in line]
    assert lines and all(re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (INFO|WARNING) mailbot\.", line)
                         for line in lines), lines


# --- the journal --------------------------------------------------------------------------------------------------
def test_one_line_per_mail_and_nothing_personal(clean_mail, sqlite_url, sessions_for):
    add_members(sessions_for(sqlite_url))
    request = make_mail(ALICE, "Licenciement de Jean Dupont", "Bonjour,\n\nMon salarié Jean Dupont conteste son "
                        "licenciement, phrase-témoin-7f3a. Qui peut m'aider ?\n\nAlice Martin\nMartin Conseil")
    stranger = make_mail(STRANGER, "Inscription de Zoé Lefèvre", "Bonjour, je suis Zoé Lefèvre, phrase-témoin-9c2e.")
    # A mail the parser refuses (no sender, no body): quarantined, and its subject must not reach the log either.
    broken = (b"To: aide@club.test\r\nSubject: Dossier confidentiel Lefebvre\r\n"
              b"Message-ID: <broken-1@ailleurs.test>\r\n\r\n")

    env = make_env(clean_mail, sqlite_url)
    with Service(env, journal=True) as service:
        smtp_send(clean_mail, request)
        smtp_send(clean_mail, stranger)
        append(clean_mail, CLUB, broken)
        # the request: ack + notification; the stranger: invitation + notification; the broken mail: an alert
        assert wait_until(lambda: len(mailbox(clean_mail, ALICE)) == 1 and len(mailbox(clean_mail, STRANGER)) == 1
                          and len(mailbox(clean_mail, AIDEUR)) == 3 and not mailbox(clean_mail, CLUB), 40), \
            service.output()
        assert service.terminate() == 0, service.output()
    output = service.output()
    lines = output.splitlines()

    # journald adds the time: none here, and each line carries its priority for `journalctl -p`
    ours = [line for line in lines if " mailbot." in line]
    assert ours and all(re.match(r"<[2-7]>(CRITICAL|ERROR|WARNING|INFO) mailbot\.[a-z_.]+: ", line)
                        for line in ours), output
    # (alembic's lines come from the migration `mailbot run` does before the daemon sets its log format up; they
    # lose their timestamp too once `mailbot.cli.main` configures logging with `mailbot.logs.setup`.)
    assert not [line for line in lines if re.search(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d", line)
                and " alembic." not in line], output

    # one line per mail: its tag, the decision, the ticket, how many mails were queued for it
    request_tag, stranger_tag = mail_tag(request["Message-ID"]), mail_tag(stranger["Message-ID"])
    [line] = [line for line in lines if request_tag in line]
    assert re.fullmatch(rf"<6>INFO mailbot\.pipeline: mail {request_tag}: new-request, ticket CA-\d{{4}}-\d{{4}}, "
                        r"2 mail\(s\) queued", line), line
    [line] = [line for line in lines if stranger_tag in line]
    assert re.fullmatch(rf"<6>INFO mailbot\.pipeline: mail {stranger_tag}: non-member, 2 mail\(s\) queued", line), line
    [line] = [line for line in lines if " quarantined (" in line]
    assert re.fullmatch(r"<4>WARNING mailbot\.pipeline: mail uid \d+ m-[0-9a-f]{10} quarantined \(mail illisible\)",
                        line), line
    # and what went out, per cycle
    # (the scheduler's tick sends what is queued too: a mail goes out with the cycle or with the tick, once)
    sent = [int(match.group(1)) for match in re.finditer(r"(?:cycle: \d+ mail\(s\) handled \(\d+ quarantined\),|"
                                                         r"scheduled jobs: [^;\n]*;) sent: (\d+)", output)]
    assert sum(sent) == 5, output

    # nothing personal at INFO: no address, no name, no subject, no body
    assert "@" not in output, output
    for secret in ("Alice", "Martin", "Jean Dupont", "Licenciement", "phrase-témoin", "Zoé", "Lefèvre",
                   "Inscription", "Dossier confidentiel", "Lefebvre", "alice", "inconnu", "membres.test"):
        assert secret not in output, secret


def test_error_texts_lose_their_sql_parameters():
    from sqlalchemy.exc import OperationalError

    from mailbot.pipeline import TransientError

    driver = Exception("database is locked")
    wrapped = OperationalError("INSERT INTO inbound_mail (from_address) VALUES (?)", ("alice@membres.test",), driver)
    assert "alice@membres.test" in str(wrapped)
    try:
        try:
            raise wrapped
        except OperationalError as error:
            raise TransientError(str(error)) from error
    except TransientError as transient:
        assert short_error(transient) == "Exception: database is locked"
    assert short_error(ConnectionRefusedError(111, "Connection refused")) == \
        "ConnectionRefusedError: [Errno 111] Connection refused"


# --- the unit's sandbox -------------------------------------------------------------------------------------------
# systemd turns MemoryDenyWriteExecute=, SystemCallFilter=, RestrictAddressFamilies= and SystemCallArchitectures=
# into seccomp filters. The launcher below builds the same filters from the unit file with libseccomp (ctypes,
# as systemd does through the C library), then execs the daemon: what the daemon runs (Python, lxml, PyStemmer,
# psycopg/libpq/OpenSSL, SQLite) must live with them. A system call outside the allow list fails with EPERM, as
# with the unit's SystemCallErrorNumber=EPERM (not a kill: SQLite, run as root here, fchowns its WAL file to the
# database's owner and ignores a refusal; as the unprivileged `mailbot` user it does not even try).
SANDBOX_LAUNCHER = r"""
import ctypes, json, os, sys
config = json.loads(sys.argv[1])
lib = ctypes.CDLL(config["libseccomp"], use_errno=True)
lib.seccomp_init.restype = ctypes.c_void_p
lib.seccomp_init.argtypes = [ctypes.c_uint32]
lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
class Cmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int), ("a", ctypes.c_uint64), ("b", ctypes.c_uint64)]
lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint,
                                       ctypes.POINTER(Cmp)]
lib.seccomp_load.argtypes = [ctypes.c_void_p]
ALLOW = 0x7FFF0000
NE, EQ, GT, MASKED_EQ = 1, 4, 6, 7
def errno(number): return 0x00050000 | (number & 0xFFFF)
def filter_(default, rules):
    ctx = lib.seccomp_init(default)
    assert ctx, "seccomp_init"
    for action, name, conditions in rules:
        number = lib.seccomp_syscall_resolve_name(name.encode())
        if number < 0:
            continue  # not a system call of this architecture
        array = (Cmp * max(len(conditions), 1))(*[Cmp(*c) for c in conditions])
        rc = lib.seccomp_rule_add_array(ctx, action, number, len(conditions), array)
        assert rc == 0, (name, rc)
    assert lib.seccomp_load(ctx) == 0, "seccomp_load"
if config["mdwe"]:
    PROT_WRITE, PROT_EXEC, SHM_EXEC = 0x2, 0x4, 0o100000
    filter_(ALLOW, [(errno(1), "mmap", [(2, MASKED_EQ, PROT_WRITE | PROT_EXEC, PROT_WRITE | PROT_EXEC)]),
                    (errno(1), "mmap2", [(2, MASKED_EQ, PROT_WRITE | PROT_EXEC, PROT_WRITE | PROT_EXEC)]),
                    (errno(1), "mprotect", [(2, MASKED_EQ, PROT_EXEC, PROT_EXEC)]),
                    (errno(1), "pkey_mprotect", [(2, MASKED_EQ, PROT_EXEC, PROT_EXEC)]),
                    (errno(1), "shmat", [(2, MASKED_EQ, SHM_EXEC, SHM_EXEC)])])
if config["families"]:
    denied = [f for f in range(0, 64) if f not in config["families"]]
    filter_(ALLOW, [(errno(97), "socket", [(0, EQ, family, 0)]) for family in denied]
            + [(errno(97), "socket", [(0, GT, 63, 0)])])  # EAFNOSUPPORT, as systemd answers
if config["allow"]:  # last, as systemd does: loading a filter is itself a system call outside the list
    filter_(errno(config["errno"]), [(ALLOW, name, []) for name in config["allow"]])
os.execv(sys.executable, [sys.executable] + config["argv"])
"""


def _unit_settings() -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.startswith(("#", ";")):
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def _syscall_groups() -> dict[str, list[str]]:
    out = subprocess.run(["systemd-analyze", "syscall-filter", "--no-pager"], capture_output=True, text=True,
                         check=True).stdout
    groups: dict[str, list[str]] = {}
    current: list[str] = []
    for line in out.splitlines():
        if line.startswith("@"):
            current = groups.setdefault(line.strip(), [])
        elif line.strip() and not line.strip().startswith("#") and line.startswith(" "):
            current.append(line.strip())
    return groups


def _expand(items: list[str], groups: dict[str, list[str]]) -> set[str]:
    names: set[str] = set()
    for item in items:
        names |= _expand(groups[item], groups) if item.startswith("@") else {item}
    return names


def sandbox_config(argv: list[str]) -> dict[str, object]:
    """The unit's seccomp settings, as the launcher's JSON argument."""
    unit = _unit_settings()
    groups = _syscall_groups()
    allow: set[str] = set()
    for value in unit.get("SystemCallFilter", []):
        if value.startswith("~"):
            allow -= _expand(value[1:].split(), groups)  # after an allow list, "~…" removes from it
        else:
            allow |= _expand(value.split(), groups) | _expand(["@default"], groups)
    families = [int(getattr(socket, name)) for value in unit.get("RestrictAddressFamilies", [])
                for name in value.split()]
    library = ctypes.util.find_library("seccomp")
    refusal = getattr(errno, unit.get("SystemCallErrorNumber", ["EPERM"])[-1])
    return {"libseccomp": library, "allow": sorted(allow), "families": families, "argv": argv, "errno": refusal,
            "mdwe": unit.get("MemoryDenyWriteExecute", ["no"])[-1] in ("yes", "true", "1")}


def _sandbox_available() -> str:
    if shutil.which("systemd-analyze") is None:
        return "systemd-analyze is not installed"
    if ctypes.util.find_library("seccomp") is None:
        return "libseccomp is not installed"
    return ""


needs_sandbox = pytest.mark.skipif(bool(_sandbox_available()), reason=_sandbox_available() or "available")


def _sandboxed(argv: list[str]) -> list[str]:
    return [sys.executable, "-c", SANDBOX_LAUNCHER, json.dumps(sandbox_config(argv))]


@needs_sandbox
def test_the_sandbox_bites():
    """The launcher really applies the unit's filters (or the next test would prove nothing)."""
    config = sandbox_config([])
    assert config["mdwe"] and set(config["families"]) == {socket.AF_UNIX, socket.AF_INET, socket.AF_INET6}
    assert "setuid" not in config["allow"] and "openat" in config["allow"]  # ~@privileged removed it
    probe = ("import mmap, socket, errno\n"
             "try:\n    mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)\n"
             "except PermissionError:\n    print('mdwe')\n"
             "try:\n    socket.socket(socket.AF_NETLINK, socket.SOCK_RAW)\n"
             "except OSError as e:\n    print('families' if e.errno == errno.EAFNOSUPPORT else e)\n"
             "socket.socket(socket.AF_INET6, socket.SOCK_STREAM).close()\n"
             "mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE).close()\n"
             "print('ok', flush=True)\n"
             "import os\n"
             "try:\n    os.setuid(os.getuid())\n"  # @privileged, taken out of the allow list
             "except PermissionError:\n    print('allow-list')\n")
    result = subprocess.run(_sandboxed(["-c", probe]), capture_output=True, text=True, timeout=60, check=False)
    assert result.stdout.split() == ["mdwe", "families", "ok", "allow-list"], result.stdout + result.stderr
    assert result.returncode == 0, result.stderr


@needs_sandbox
def test_the_daemon_lives_in_the_units_sandbox(clean_mail, database_url, sessions_for, notify_socket):
    """SQLite and PostgreSQL (psycopg, libpq, OpenSSL), an HTML mail (lxml), matching (PyStemmer), sending: all
    under MemoryDenyWriteExecute, the system call allow list and the address families of the unit."""
    add_members(sessions_for(database_url))
    request = EmailMessage()
    request["From"], request["To"], request["Subject"] = ALICE, CLUB, "Besoin d'un comptable"
    request["Message-ID"] = "<sandbox-1@membres.test>"
    request.set_content("Bonjour, je cherche un conseil en comptabilité et fiscalité.")
    request.add_alternative("<html><body><p>Bonjour,</p><p>je cherche un <b>conseil</b> en comptabilité et "
                            "fiscalité.</p><blockquote>ancien</blockquote></body></html>", subtype="html")
    env = make_env(clean_mail, database_url, NOTIFY_SOCKET=str(notify_socket.path), WATCHDOG_USEC="10000000")
    with Service(env, _sandboxed(["-m", "mailbot", "run"])) as service:
        assert wait_until(lambda: notify_socket.with_field("READY", "1"), 30), service.output()
        smtp_send(clean_mail, request)
        assert wait_until(lambda: len(mailbox(clean_mail, ALICE)) == 1 and len(mailbox(clean_mail, AIDEUR)) == 1,
                          30), service.output()
        assert service.alive(), service.output()
        assert service.terminate() == 0, service.output()
    [notification] = mailbox(clean_mail, AIDEUR)
    assert "conseil en comptabilité" in notification.text and "Martin" in notification.text  # the match, by skill
    assert "Traceback" not in service.output(), service.output()
