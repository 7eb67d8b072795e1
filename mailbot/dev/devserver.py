"""A throw-away mail server on loopback: Dovecot (IMAP + LMTP) behind Postfix (SMTP -> LMTP).

Used by the test suite (fixtures) and by demo mode (`make run` with no mailbox configured). Everything lives under
one directory; both daemons are started from their own config there, as root, without systemd.

Pitfall numbers in comments ("pitfall 7") refer to docs/devserver.md, "Pitfalls".

    with MailServer(Path(tempfile.mkdtemp(dir="/tmp"))) as server:
        server.add_user("aide@club.test", "pw")
        # SMTP to server.smtp_host:server.smtp_port, IMAP (no TLS) to server.imap_host:server.imap_port

Stdlib only, and nothing from the rest of mailbot, so it can run before the daemon's own dependencies are installed.
"""
from __future__ import annotations

import argparse
import atexit
import grp
import hashlib
import imaplib
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

LOOPBACK = "127.0.0.1"
INSTALL_HINT = "install with: apt-get install dovecot-imapd dovecot-lmtpd postfix"
DEMO_ACCOUNTS = {  # used by the CLI when no user is given
    "aide@club.test": "aide",
    "aideur@club.test": "aideur",
    "membre1@membres.test": "membre1",
    "membre2@membres.test": "membre2",
}

_SBIN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_POSTFIX_DAEMON_DIR = "/usr/lib/postfix/sbin"
_POSTFIX_META_DIR = "/etc/postfix"
_MAX_ROOT_LEN = 64  # pitfall 8: unix socket paths are limited to 107 bytes
_CONFIG_AGE = 10  # pitfall 7: config files are backdated by this many seconds
_START_TIMEOUT = 15.0
_STOP_TIMEOUT = 15.0
_ADDRESS_RE = re.compile(r"^[a-z0-9._-]+@[a-z0-9.-]+\.[a-z0-9-]+$")
_handed_out_ports: set[int] = set()


class MailServerError(RuntimeError):
    """The loopback mail server could not be set up, started or stopped."""


# --- small helpers ------------------------------------------------------------------------------------------------


def binary(name: str) -> str:
    """The full path of a server binary, or a clear error saying what to install."""
    found = shutil.which(name, path=_SBIN_PATH)
    if found is None:
        raise MailServerError(f"{name} not found; {INSTALL_HINT}")
    return found


def free_port() -> int:
    """A loopback TCP port nobody listens on now and that this process has not handed out before."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((LOOPBACK, 0))
            port = sock.getsockname()[1]
        if port not in _handed_out_ports:
            _handed_out_ports.add(port)
            return port


def listening(port: int) -> bool:
    """Whether something listens on 127.0.0.1:`port`, seen in /proc/net/tcp rather than by connecting: a probe
    connection reaching Dovecot's imap-login as it starts up keeps that process alive 5 s after SIGTERM."""
    wanted = f"0100007F:{port:04X}"
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == wanted and fields[3] == "0A":  # local address, state LISTEN
            return True
    return False


def port_open(port: int, host: str = LOOPBACK) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def ensure_vmail_user() -> tuple[int, int]:
    """(uid, gid) of the system user `vmail`, created if missing: Dovecot refuses to handle mail as root (pitfall 1)."""
    try:
        entry = pwd.getpwnam("vmail")
    except KeyError:
        command = [binary("useradd"), "--system", "--user-group", "--home-dir", "/nonexistent", "--no-create-home",
                   "--shell", "/usr/sbin/nologin", "vmail"]
        # Not check=True: a parallel test process may have created it in the meantime; the lookup below decides.
        subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, check=False)
        entry = pwd.getpwnam("vmail")
    return entry.pw_uid, entry.pw_gid


def write_if_changed(path: Path, text: str, mode: int = 0o644) -> bool:
    """Write `text` unless the file already holds it; backdate the file (pitfall 7). True when written."""
    try:
        if path.read_text() == text:
            return False
    except FileNotFoundError:
        pass
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.chmod(mode)
    backdate(tmp)
    # rename, so a reader (Dovecot's passwd-file) never sees half a file and notices the new inode
    tmp.replace(path)
    return True


def backdate(path: Path, mtime: float | None = None) -> None:
    """Postfix waits up to 2 s for a config file modified in the current second to settle (pitfall 7)."""
    when = time.time() - _CONFIG_AGE if mtime is None else mtime
    os.utime(path, (when, when))


def check_traversable(directory: Path) -> None:
    """vmail (Dovecot's mail processes) and postfix (its lmtp client) must reach files under `directory` (pitfall 3)."""
    for parent in [directory, *directory.parents]:
        if not parent.stat().st_mode & 0o001:
            raise MailServerError(
                f"{parent} is not traversable by other users, so vmail and postfix cannot reach {directory}; "
                f"use a directory made with tempfile.mkdtemp(dir='/tmp') (pytest's tmp_path does not work)")


def session_members(sid: int) -> list[int]:
    """Live (non-zombie) processes of a session. A zombie master is reaped late by PID 1 here: gone (pitfall 14)."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # the command name, in parentheses, may contain spaces: split after the last ')'
        fields = stat[stat.rindex(")") + 2:].split()
        state, session = fields[0], int(fields[3])
        if session == sid and state != "Z":
            members.append(int(entry))
    return members


def session_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat[stat.rindex(")") + 2:].split()[3])


def read_pid(pid_file: Path, expected_comm: str) -> int | None:
    """The pid in `pid_file` if that process is alive and is the expected master (pids get reused)."""
    try:
        pid = int(pid_file.read_text().strip())
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, ValueError):
        return None
    return pid if comm == expected_comm and state != "Z" else None


def list_folders(imap: imaplib.IMAP4) -> list[str]:
    """Folder names as the server sent them (quoted when needed), ready to pass back to SELECT or DELETE."""
    _status, lines = imap.list()
    folders = []
    for line in lines:
        if isinstance(line, bytes):  # a name sent as a literal arrives as a tuple: never from these servers' names
            # (\HasNoChildren) "." "Sent Items"  ->  flags, delimiter, name
            folders.append(line.decode().split(") ", 1)[1].split(" ", 1)[1])
    return folders


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# --- the server ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Daemon:
    name: str  # "dovecot" or "postfix"
    comm: str  # the master's process name in /proc
    pid_file: Path
    port: int
    command: list[str]


class MailServer:
    """Dovecot + Postfix on 127.0.0.1 serving the virtual mailboxes added with `add_user`."""

    def __init__(self, root: Path, *, domain: str = "club.test", imap_port: int | None = None,
                 smtp_port: int | None = None) -> None:
        self.root = Path(root).absolute()
        self.domain = domain.lower()
        self.imap_host = LOOPBACK
        self.smtp_host = LOOPBACK
        self.imap_port = imap_port or free_port()
        self.smtp_port = smtp_port or free_port()
        self._short = self._socket_root()
        self._users: dict[str, str] = self._read_users()
        self._map_mtimes: dict[str, int] = {}  # see _write_map
        self._dovecot = _Daemon("dovecot", "dovecot", self.run_dir / "master.pid", self.imap_port,
                                [binary("dovecot"), "-c", str(self.dovecot_conf)])
        self._postfix = _Daemon("postfix", "master", self.spool_dir / "pid" / "master.pid", self.smtp_port,
                                [binary("postfix"), "-c", str(self.postfix_etc), "start"])
        binary("postmap")  # fail now, not at the first add_user, when Postfix is only half installed

    # paths: sockets live under `_short` (pitfall 8), everything else under root

    def _socket_root(self) -> Path:
        if len(str(self.root)) <= _MAX_ROOT_LEN:
            return self.root
        digest = hashlib.sha1(str(self.root).encode()).hexdigest()[:12]
        return Path(f"/run/mailserver-{digest}")

    @property
    def run_dir(self) -> Path:  # Dovecot's base_dir: its sockets (lmtp, auth...) and master.pid
        return self._short / "run"

    @property
    def spool_dir(self) -> Path:  # Postfix's queue_directory: its sockets and master.pid; not under etc (pitfall 5)
        return self._short / ("spool" if self._short != self.root else "postfix/spool")

    @property
    def postfix_etc(self) -> Path:
        return self.root / "postfix" / "etc"

    @property
    def dovecot_conf(self) -> Path:
        return self.root / "dovecot.conf"

    @property
    def users_dir(self) -> Path:  # one Dovecot passwd-file per user, see _write_users
        return self.root / "users"

    @property
    def mail_dir(self) -> Path:  # DIR/mail/<domain>/<user>/Maildir
        return self.root / "mail"

    @property
    def log_dir(self) -> Path:  # dovecot.log, postfix.log, startup.log
        return self.root / "log"

    @property
    def users(self) -> dict[str, str]:
        return dict(self._users)

    @property
    def domains(self) -> list[str]:
        return sorted({self.domain} | {address.split("@")[1] for address in self._users})

    # users

    def add_user(self, address: str, password: str) -> None:
        """Add (or change the password of) a mailbox; `user+anything@domain` is delivered to it too."""
        address = address.lower() if "@" in address else f"{address.lower()}@{self.domain}"
        if not _ADDRESS_RE.match(address) or any(c in password for c in ":\n\r"):
            raise ValueError(f"unsupported address or password for the test server: {address!r}")
        new_domain = address.split("@")[1] not in self.domains
        new_password = self._users.get(address, password) != password
        self._users[address] = password
        self._prepare()
        if new_domain and self._running(self._postfix):
            # trivial-rewrite is persistent and keeps its view of the domains; the user map alone is re-read
            self._postfix_command("reload")
        if new_password and self._running(self._dovecot):
            # Dovecot stats a passwd-file at most once a second: wait until it will see the new password
            time.sleep(1.05 - time.time() % 1)

    def _read_users(self) -> dict[str, str]:
        """Users already in DIR/users/ (a demo restarted on the same directory keeps its accounts)."""
        users = {}
        for path in sorted(self.users_dir.glob("*@*")):
            address, _, rest = path.read_text().partition(":")
            if rest.startswith("{PLAIN}"):
                users[address] = rest[len("{PLAIN}"):].split(":")[0]
        return users

    def _write_users(self) -> None:
        """One passwd-file per user: Dovecot re-reads a changed passwd-file at most once a second (its
        passwd_file_sync), so a user appended to a shared file could be unknown for up to a second; a new
        file is read at once. Readable by Dovecot's auth process, which runs as `dovecot`."""
        dovecot_gid = grp.getgrnam("dovecot").gr_gid
        self.users_dir.mkdir(mode=0o750, exist_ok=True)
        os.chown(self.users_dir, 0, dovecot_gid)
        for address, password in self._users.items():
            path = self.users_dir / address
            old_mtime = path.stat().st_mtime if path.exists() else 0
            if write_if_changed(path, f"{address}:{{PLAIN}}{password}::::::\n", mode=0o640):
                os.chown(path, 0, dovecot_gid)
                # a new mtime second, so Dovecot notices a same-length password change
                backdate(path, max(time.time(), old_mtime + 1))

    # lifecycle

    def start(self) -> None:
        """Start both daemons (in parallel) and wait until both ports accept connections."""
        self._start([self._dovecot, self._postfix])

    def stop(self) -> None:
        """Stop both daemons and wait until every process of theirs is gone. Idempotent."""
        self._stop([self._dovecot, self._postfix])
        if self._short != self.root:
            shutil.rmtree(self._short, ignore_errors=True)
        atexit.unregister(self.stop)

    def start_imap(self) -> None:
        self._start([self._dovecot])
        if self._running(self._postfix):
            # mail that arrived while Dovecot was down waits in Postfix's queue: deliver it now
            self._run([binary("postqueue"), "-c", str(self.postfix_etc), "-f"])

    def stop_imap(self) -> None:
        """Stop Dovecot (IMAP and LMTP): Postfix keeps accepting mail and queues it until `start_imap`."""
        self._stop([self._dovecot])

    def start_smtp(self) -> None:
        self._start([self._postfix])

    def stop_smtp(self) -> None:
        self._stop([self._postfix])

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()

    def queued(self, *, deferred: bool = False) -> int:
        """Mails Postfix has taken and not delivered yet: its maildrop, incoming and active queues, and the
        deferred one (mails waiting for a retry) when asked."""
        queues = ("maildrop", "incoming", "active", *(("deferred",) if deferred else ()))
        return sum(len(files) for queue in queues for _, _, files in os.walk(self.spool_dir / queue))

    def wipe_mailboxes(self) -> None:
        """Delete every message of every user, and every folder but INBOX (a fast reset between tests).

        Done over IMAP rather than with rm -rf, so open sessions (a running daemon's IDLE) stay valid and just
        see EXPUNGEs; and not with doveadm, which cannot list users kept in one passwd-file each."""
        for address, password in self._users.items():
            with imaplib.IMAP4(self.imap_host, self.imap_port, timeout=10) as imap:
                imap.login(address, password)
                folders = list_folders(imap)
                for folder in sorted(folders, key=len, reverse=True):  # children before their parents
                    if folder.strip('"').upper() != "INBOX":
                        imap.delete(folder)
                _, [exists] = imap.select("INBOX")
                if int(exists or 0) > 0:  # "1:*" is a BAD command on an empty mailbox
                    imap.store("1:*", "+FLAGS.SILENT", r"(\Deleted)")
                    imap.expunge()
                imap.logout()

    def _start(self, daemons: list[_Daemon]) -> None:
        self._prepare()
        starting = [d for d in daemons if not self._running(d)]
        launchers = [(d, self._launch(d)) for d in starting]  # in parallel: each takes ~0.35 s
        failed = [d.name for d, launcher in launchers if launcher.wait(timeout=_START_TIMEOUT) != 0]
        try:
            if failed:
                raise MailServerError(f"{' and '.join(failed)} failed to start:\n{self._logs()}")
            for daemon in starting:
                self._wait_for_port(daemon)
        except MailServerError:
            self._stop(starting)  # the one that did start would be an orphan: nobody calls stop() after this
            raise
        # no orphans when a test run or the demo ends without stopping us
        atexit.unregister(self.stop)
        atexit.register(self.stop)

    def _launch(self, daemon: _Daemon) -> subprocess.Popen[bytes]:
        # Dovecot keeps whatever fds it inherits, so a pipe here would hang the caller until stop (pitfall 4):
        # stdio goes to a file, every other fd is closed, and a new session lets stop() find all its processes.
        with open(self.log_dir / "startup.log", "ab") as log:
            return subprocess.Popen(daemon.command, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                    close_fds=True, start_new_session=True, env=self._env())

    def _wait_for_port(self, daemon: _Daemon) -> None:
        deadline = time.monotonic() + _START_TIMEOUT
        while not listening(daemon.port):
            if time.monotonic() > deadline:
                raise MailServerError(f"{daemon.name} does not listen on {daemon.port}:\n{self._logs()}")
            time.sleep(0.02)

    def _stop(self, daemons: list[_Daemon]) -> None:
        """SIGTERM all masters at once (each takes 1-2.5 s to wind down), then wait for their sessions (pitfall 14).

        Dovecot's master exits without its imap processes that still serve a client (a daemon's IDLE): left
        alone they notice ten seconds later. So once the masters are gone, the rest of their session gets a
        SIGTERM too (imap answers "BYE Server shutting down" and exits at once)."""
        masters = {pid: session_of(pid) or pid for d in daemons if (pid := self._running(d)) is not None}
        for pid in masters:
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + _STOP_TIMEOUT
        self._wait_until_gone(masters.values(), deadline, lambda pids: bool(set(pids) & set(masters)))
        self._signal_sessions(masters.values(), signal.SIGTERM)
        self._wait_until_gone(masters.values(), deadline, bool)

    def _wait_until_gone(self, sessions: Iterable[int], deadline: float,
                         still_there: Callable[[list[int]], bool]) -> None:
        """Wait while `still_there(live members of the sessions)`; past the deadline, SIGKILL them and complain."""
        while still_there([pid for sid in sessions for pid in session_members(sid)]):
            if time.monotonic() > deadline:
                self._signal_sessions(sessions, signal.SIGKILL)
                raise MailServerError(f"mail server did not stop in {_STOP_TIMEOUT:.0f} s; killed:\n{self._logs()}")
            time.sleep(0.05)

    @staticmethod
    def _signal_sessions(sessions: Iterable[int], signum: int) -> None:
        for sid in sessions:
            for pid in session_members(sid):
                try:
                    os.kill(pid, signum)
                except ProcessLookupError:
                    pass  # exited in the meantime

    def _running(self, daemon: _Daemon) -> int | None:
        return read_pid(daemon.pid_file, daemon.comm)

    # configuration

    def _prepare(self) -> None:
        """Create the directories and (re)write config, users and maps; cheap when nothing changed."""
        self._make_dirs()
        write_if_changed(self.dovecot_conf, self._dovecot_config())
        self._write_users()
        write_if_changed(self.postfix_etc / "main.cf", self._postfix_main())
        write_if_changed(self.postfix_etc / "master.cf", self._postfix_master())
        # pitfall 11: postmap -c needs main.cf in place, hence after it
        self._write_map("vdomains", "".join(f"{domain} OK\n" for domain in self.domains))
        self._write_map("vmailbox", "".join(f"{address} OK\n" for address in sorted(self._users)))

    def _make_dirs(self) -> None:
        vmail_uid, vmail_gid = ensure_vmail_user()
        postfix_user = pwd.getpwnam("postfix")
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)
        check_traversable(self.root)
        for directory in (self.log_dir, self.postfix_etc, self.root / "state", self.run_dir, self.spool_dir):
            directory.mkdir(parents=True, exist_ok=True)
        if self._short != self.root:
            self._short.chmod(0o755)
            self._symlink(self.root / "run", self.run_dir)  # for humans: everything is reachable from root
            self._symlink(self.root / "postfix" / "spool", self.spool_dir)
        self.mail_dir.mkdir(exist_ok=True)
        os.chown(self.mail_dir, vmail_uid, vmail_gid)
        data = self.root / "postfix" / "data"
        data.mkdir(exist_ok=True)
        os.chown(data, postfix_user.pw_uid, postfix_user.pw_gid)  # else master.lock: permission denied (pitfall 5)

    @staticmethod
    def _symlink(link: Path, target: Path) -> None:
        if not link.is_symlink():
            link.symlink_to(target)

    def _write_map(self, name: str, text: str) -> None:
        source = self.postfix_etc / name
        if not write_if_changed(source, text) and source.with_suffix(".db").exists():
            return
        self._run([binary("postmap"), "-c", str(self.postfix_etc), f"hash:{source}"])
        # Running smtpd processes reopen a map whose .db mtime (in whole seconds) changed; two updates in one
        # second would look unchanged. So give every version its own second, still in the past (pitfall 7),
        # and keep the source older than the .db (else Postfix warns that the database is out of date).
        db = source.with_suffix(".db")
        mtime = max(int(time.time()) - _CONFIG_AGE, self._map_mtimes.get(name, 0) + 1)
        self._map_mtimes[name] = mtime
        backdate(source, mtime - 1)
        backdate(db, mtime)

    def _dovecot_config(self) -> str:
        vmail_uid, vmail_gid = ensure_vmail_user()
        users = f"{self.users_dir}/%u"  # one file per user, see _write_users
        return f"""\
# Generated by mailbot.dev.devserver; rewritten at start.
base_dir = {self.run_dir}
state_dir = {self.root}/state
log_path = {self.log_dir}/dovecot.log
# names the processes "dovecot-mailbot-<imap port>/...", to tell instances apart in ps
instance_name = mailbot-{self.imap_port}
protocols = imap lmtp
listen = {LOOPBACK}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_verbose = yes
# Dovecot refuses uid 0 for mail (pitfall 1)
first_valid_uid = {vmail_uid}
last_valid_uid = {vmail_uid}
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {users}
}}
# lines must end in "::::::" and uid/gid/home come from here, else "missing userdb info" (pitfall 2)
userdb {{
  driver = passwd-file
  args = username_format=%u {users}
  override_fields = uid={vmail_uid} gid={vmail_gid} home={self.mail_dir}/%d/%n
}}
# a daemon and the test readers share accounts: the default of 10 is easy to hit (pitfall 13)
protocol imap {{
  mail_max_userip_connections = 200
}}
# Delivered-To: carries the RCPT TO address, plus part included
protocol lmtp {{
  lmtp_hdr_delivery_address = final
}}
service imap-login {{
  inet_listener imap {{
    address = {LOOPBACK}
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service lmtp {{
  unix_listener lmtp {{
    mode = 0666
  }}
}}
"""

    def _postfix_main(self) -> str:
        etc = self.postfix_etc
        return f"""\
# Generated by mailbot.dev.devserver. Accepts from loopback without auth, delivers only to the virtual mailboxes.
compatibility_level = 3.6
queue_directory = {self.spool_dir}
data_directory = {self.root}/postfix/data
meta_directory = {_POSTFIX_META_DIR}
daemon_directory = {_POSTFIX_DAEMON_DIR}
myhostname = mail.{self.domain}
mydomain = {self.domain}
mydestination =
inet_interfaces = {LOOPBACK}
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_peername_lookup = no
# recipients outside the served domains are refused at SMTP time: nothing ever leaves the machine
smtpd_relay_restrictions = reject_unauth_destination
# a test server refuses at once, without tarpitting a client that made errors (hundreds of refused strangers)
smtpd_error_sleep_time = 0s
smtpd_soft_error_limit = 100000
smtpd_hard_error_limit = 100000
relay_domains =
alias_maps =
alias_database =
recipient_delimiter = +
virtual_mailbox_domains = hash:{etc}/vdomains
virtual_mailbox_maps = hash:{etc}/vmailbox
# explicit, else it defaults to $virtual_alias_maps (pitfall 9)
virtual_alias_domains =
virtual_alias_maps =
virtual_transport = lmtp:unix:{self.run_dir}/lmtp
local_transport = error:local delivery disabled
default_transport = error:outbound delivery disabled
relay_transport = error:outbound delivery disabled
message_size_limit = 52428800
# mail queued while Dovecot was stopped is retried within seconds, not minutes
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 5s
# no syslog here (pitfall 6)
maillog_file = {self.log_dir}/postfix.log
maillog_file_prefixes = /var, /dev/stdout, {self.root}
biff = no
# deliver what the client sent: no Message-Id/Date/From added, no header addresses rewritten for 127.0.0.1
local_header_rewrite_clients =
"""

    def _postfix_master(self) -> str:
        # Debian's stock master.cf chroots smtpd and lmtp into the system spool: no chroot anywhere (pitfall 5).
        services = [
            f"{LOOPBACK}:{self.smtp_port} inet n - n - - smtpd",
            "pickup unix n - n 60 1 pickup",
            "cleanup unix n - n - 0 cleanup",
            "qmgr unix n - n 300 1 qmgr",
            "rewrite unix - - n - - trivial-rewrite",
            "bounce unix - - n - 0 bounce",
            "defer unix - - n - 0 bounce",
            "trace unix - - n - 0 bounce",
            "verify unix - - n - 1 verify",
            "flush unix n - n 1000? 0 flush",
            "proxymap unix - - n - - proxymap",
            "proxywrite unix - - n - 1 proxymap",
            "showq unix n - n - - showq",
            "error unix - - n - - error",
            "retry unix - - n - - error",
            "discard unix - - n - - discard",
            "lmtp unix - - n - - lmtp",
            "anvil unix - - n - 1 anvil",
            "scache unix - - n - 1 scache",
            "postlog unix-dgram n - n - 1 postlogd",
        ]
        return "# Generated by mailbot.dev.devserver.\n" + "".join(line + "\n" for line in services)

    # subprocesses

    def _postfix_command(self, action: str) -> None:
        self._run([binary("postfix"), "-c", str(self.postfix_etc), action])

    def _run(self, command: list[str]) -> str:
        """A short command (not a daemon launcher: see `_launch`); its output, or an error carrying it."""
        result = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=self._env(), check=False)
        if result.returncode != 0:
            raise MailServerError(f"{' '.join(command)} failed: {result.stdout}{result.stderr}")
        return result.stdout

    @staticmethod
    def _env() -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "MAIL_CONFIG"}
        env["PATH"] = _SBIN_PATH
        return env

    def _logs(self) -> str:
        return "\n".join(f"--- {name}\n{tail(self.log_dir / name)}"
                         for name in ("startup.log", "dovecot.log", "postfix.log"))


# --- command line -------------------------------------------------------------------------------------------------


def _parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m mailbot.dev.devserver",
                                     description="Run a throw-away Dovecot + Postfix on loopback until SIGTERM/SIGINT.")
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("start", help="start, print the ports as JSON, run until SIGTERM/SIGINT")
    start.add_argument("dir", nargs="?", type=Path, help="state directory (default: a new one under /tmp)")
    start.add_argument("--root", type=Path, help="same as DIR")
    start.add_argument("--domain", default="club.test")
    start.add_argument("--imap-port", type=int)
    start.add_argument("--smtp-port", type=int)
    start.add_argument("--user", action="append", default=[], metavar="ADDRESS:PASSWORD")
    start.add_argument("--users-file", type=Path, help="lines 'ADDRESS PASSWORD' or 'ADDRESS:PASSWORD'; # comments")
    return parser.parse_args(argv)


def _cli_users(args: argparse.Namespace) -> dict[str, str]:
    lines = list(args.user)
    if args.users_file:
        lines += [line for line in args.users_file.read_text().splitlines() if line.strip()
                  and not line.lstrip().startswith("#")]
    users = {}
    for line in lines:
        address, _, password = line.strip().replace(":", " ", 1).partition(" ")
        users[address] = password.strip()
    return users


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(sys.argv[1:] if argv is None else argv)
    given_root = args.root or args.dir
    # not under a 0700 directory such as pytest's tmp_path (pitfall 3)
    root = given_root or Path(tempfile.mkdtemp(prefix="mailbot-devserver-", dir="/tmp"))
    server = MailServer(root, domain=args.domain, imap_port=args.imap_port, smtp_port=args.smtp_port)
    users = _cli_users(args) or ({} if server.users else DEMO_ACCOUNTS)
    for address, password in users.items():
        server.add_user(address, password)
    stop_requested = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop_requested.set())
    server.start()
    try:
        print(json.dumps({"root": str(server.root), "imap_host": server.imap_host, "imap_port": server.imap_port,
                          "smtp_host": server.smtp_host, "smtp_port": server.smtp_port, "users": server.users}),
              flush=True)
        while not stop_requested.wait(1.0):
            pass
    finally:
        server.stop()
        if given_root is None:
            shutil.rmtree(root)  # a throw-away directory of our own: a demo starts afresh each time
    return 0


if __name__ == "__main__":
    sys.exit(main())
