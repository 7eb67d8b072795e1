"""What the fault-injection tests share: a seed, a scale, mail put in and read out fast, and the one check every
case ends with: nothing lost, nothing doubled, the daemon alive, a clear log line.

    MAILBOT_FAULT_SEED=1234 .venv/bin/pytest tests/faults      # replay the random moments of a run
    MAILBOT_FAULT_SCALE=5 .venv/bin/pytest tests/faults -s     # five times the mails and the faults, by hand
"""
from __future__ import annotations

import email.parser
import imaplib
import os
import random
import re
import signal
import smtplib
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from mailbot.dev.devserver import MailServer, read_pid, session_members, session_of
from mailbot.models import InboundMail, OutboxMail
from tests.helpers import CLUB, PASSWORD, append, make_mail
from tests.integration.daemon_process import DaemonProcess, wait_until

PROCESSED = "mailbot-traites"
QUARANTINE = "mailbot-quarantaine"
SCALE = float(os.environ.get("MAILBOT_FAULT_SCALE", "1") or 1)


def fault_seed() -> int:
    seed = int(os.environ.get("MAILBOT_FAULT_SEED") or random.SystemRandom().randrange(2**31))
    print(f"\nfault seed {seed} (replay with MAILBOT_FAULT_SEED={seed})")
    return seed


def scaled(number: int) -> int:
    return max(1, round(number * SCALE))


# --- mail in ------------------------------------------------------------------------------------------------------

def imap_login(server: MailServer, address: str) -> imaplib.IMAP4:
    imap = imaplib.IMAP4(server.imap_host, server.imap_port, timeout=120)
    imap.login(address, PASSWORD)
    return imap


def append_many(server: MailServer, address: str, raws: Iterable[bytes], folder: str = "INBOX") -> int:
    """IMAP APPEND over one connection (a login per mail would cost more than the mail)."""
    count = 0
    imap = imap_login(server, address)
    try:
        for raw in raws:
            status, data = imap.append(folder, "", None, raw)
            assert status == "OK", data
            count += 1
    finally:
        imap.logout()
    return count


def drop_in_maildir(server: MailServer, address: str, raws: Iterable[bytes]) -> int:
    """Deliver as a local delivery agent does, straight into the Maildir (tmp/, then new/): thousands of mails in
    a second, and bytes that IMAP APPEND would refuse. Dovecot gives them UIDs in name order at its next look."""
    local, domain = address.split("@")
    maildir = server.mail_dir / domain / local / "Maildir"
    if not (maildir / "new").is_dir():  # a mailbox never opened yet: let Dovecot create it
        folder_size(server, address, "INBOX")
    owner = maildir.stat()
    count = 0
    now = int(time.time())
    for count, raw in enumerate(raws, 1):
        name = f"{now}.M{count:07d}P{os.getpid()}Q{uuid.uuid4().hex[:8]}.faults"
        tmp, new = maildir / "tmp" / name, maildir / "new" / name
        tmp.write_bytes(raw)
        os.chown(tmp, owner.st_uid, owner.st_gid)
        tmp.rename(new)
    return count


def request(sender: str, subject: str, text: str = "") -> tuple[str, bytes]:
    mail = make_mail(sender, subject, text or f"Bonjour,\n\n{subject}.\n\nMerci.")
    return mail["Message-ID"].strip("<>"), mail.as_bytes()


# --- mail out -----------------------------------------------------------------------------------------------------

_HEADER_PARSER = email.parser.BytesHeaderParser()


def headers(server: MailServer, address: str, folder: str = "INBOX") -> list[dict[str, str]]:
    """Message-ID and In-Reply-To of every mail in a folder, without fetching bodies (thousands of mails)."""
    imap = imap_login(server, address)
    try:
        status, _ = imap.select(f'"{folder}"', readonly=True)
        if status != "OK":
            return []
        status, data = imap.uid("FETCH", "1:*", "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID IN-REPLY-TO)])")
        if status != "OK":
            return []
        found = []
        for item in data:
            if isinstance(item, tuple):
                parsed = _HEADER_PARSER.parsebytes(item[1])
                found.append({name.lower(): " ".join(str(value).split()).strip("<> ")
                              for name, value in parsed.items()})
        return found
    finally:
        imap.logout()


def message_ids(server: MailServer, address: str, folder: str = "INBOX") -> Counter[str]:
    return Counter(h.get("message-id", "") for h in headers(server, address, folder))


def folder_size(server: MailServer, address: str, folder: str) -> int:
    imap = imap_login(server, address)
    try:
        status, data = imap.select(f'"{folder}"', readonly=True)
        return int(data[0]) if status == "OK" else 0
    finally:
        imap.logout()


# --- servers and processes ----------------------------------------------------------------------------------------

def kill_server(server: MailServer, which: str) -> None:
    """SIGKILL every process of Dovecot ("imap") or Postfix ("smtp"): no clean shutdown, like a crash."""
    daemon = server._dovecot if which == "imap" else server._postfix  # test-only access
    pid = read_pid(daemon.pid_file, daemon.comm)
    assert pid is not None, f"{which} server is not running"
    sid = session_of(pid) or pid

    def killed() -> bool:
        # Again at each look: a child the master forks between the listing and its own SIGKILL (a new smtpd, a
        # cleanup; the window widens on a loaded machine) outlives a single round — the likely cause of one
        # "smtp server survived SIGKILL" in a full run under load (not reproduced alone).
        alive = session_members(sid)
        for member in alive:
            try:
                os.kill(member, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return not alive

    assert wait_until(killed, 15), f"{which} server survived SIGKILL"
    # The killed master may linger as a zombie until init reaps it, and Dovecot refuses to start while the pid in
    # its pid file answers kill(pid, 0): the file goes, as after a reboot.
    daemon.pid_file.unlink(missing_ok=True)
    if which == "imap":
        # A Dovecot killed while updating a Maildir leaves its dotlocks (dovecot-uidlist.lock…), which the next
        # one waits up to two minutes to call stale: with no Dovecot running, they are stale now.
        for lock in server.mail_dir.rglob("*.lock"):
            lock.unlink(missing_ok=True)


def healthy(server: MailServer) -> None:
    """After killing servers: both answer again (restarted from scratch if not), so the tests after this one run
    on a sound mail server."""
    def answers() -> bool:
        try:
            folder_size(server, CLUB, "INBOX")
            with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=5) as smtp:
                return smtp.noop()[0] == 250
        except (OSError, imaplib.IMAP4.error, smtplib.SMTPException):
            return False

    if not answers():
        server.stop()
        server.start()
        assert answers(), "the mail server does not answer after a restart"


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2:].split()[1]) == pid:
                found.append(int(entry))
    return found


def peak_rss_mb(pid: int) -> float:
    """The high-water mark of a live process's resident memory (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


class FaultDaemon(DaemonProcess):
    """`mailbot run` as a child process; its stderr is kept in MAILBOT_FAULT_KEEP_LOGS=DIR when set."""

    def __init__(self, env: dict[str, str], name: str, *, level: str = "WARNING") -> None:
        super().__init__(env)
        self.env["MAILBOT_LOG_LEVEL"] = level
        self.env["PYTHONFAULTHANDLER"] = "1"  # SIGABRT dumps every thread's stack: see `stacks`
        self.name = name

    def stacks(self) -> str:
        """Where each thread of a live but stuck daemon is (it dies of it): for the failure message."""
        assert self.process is not None
        self.process.send_signal(signal.SIGABRT)
        self.process.wait(10)
        return self.log.read_text(errors="replace").rsplit("Fatal Python error", 1)[-1][-6000:]

    def __exit__(self, *exc: object) -> None:
        directory = os.environ.get("MAILBOT_FAULT_KEEP_LOGS")
        if directory and self.log.exists():
            Path(directory).mkdir(parents=True, exist_ok=True)
            (Path(directory) / f"{self.name}.log").write_bytes(self.log.read_bytes())
        super().__exit__(*exc)


def log_text(daemon: DaemonProcess) -> str:
    return daemon.log.read_text(errors="replace")


def assert_logged(daemon: DaemonProcess, pattern: str) -> str:
    """A readable line naming the fault: returned, so the test can print it."""
    found = re.search(f"^.*(?:{pattern}).*$", log_text(daemon), re.MULTILINE | re.IGNORECASE)
    assert found, f"no log line matching {pattern!r} in:\n{daemon.output()}"
    return found.group(0)


def assert_alive(daemon: DaemonProcess, server: MailServer, sessions: sessionmaker[Session], sender: str,
                 timeout: float = 60.0) -> str:
    """The running daemon still handles a new mail after the fault: its Message-ID (to count it in the totals)."""
    assert daemon.alive(), f"the daemon died:\n{daemon.output()}"
    message_id, raw = request(sender, f"Toujours là ? {uuid.uuid4().hex[:8]}")
    append(server, CLUB, raw)

    def answered() -> bool:
        return any(h.get("in-reply-to") == message_id for h in headers(server, sender))

    assert wait_until(answered, timeout, 0.3), f"no answer to a new mail after the fault:\n{daemon.output()}"
    assert daemon.alive(), daemon.output()
    return message_id


# --- the check every case ends with -------------------------------------------------------------------------------

@dataclass
class Ledger:
    mails: int = 0  # mails that were in the inbox
    processed: int = 0
    quarantined: int = 0
    outbox: int = 0
    sent: int = 0
    failed: int = 0
    interrupted: int = 0  # outbox rows with interrupted_sends > 0
    resent_copies: int = 0  # copies handed to SMTP beyond the first (the at-least-once edge)
    redelivered: int = 0  # copies in a mailbox beyond those handed to SMTP (the mail server's own retries)
    folder_duplicates: int = 0  # a mail twice in the processed/quarantine folders
    unlogged: int = 0  # sent mails missing from Postfix's log (lost with a killed Postfix)

    def line(self) -> str:
        return (f"{self.mails} mails: {self.processed} processed, {self.quarantined} quarantined; {self.outbox} sent "
                f"mails queued, {self.sent} sent, {self.failed} failed and reported; {self.interrupted} interrupted "
                f"sends, {self.resent_copies} resent copies at the SMTP boundary, {self.redelivered} redelivered by "
                f"the mail server, {self.folder_duplicates} folder duplicates"
                + (f", {self.unlogged} missing from Postfix's log" if self.unlogged else ""))


def settle(server: MailServer, sessions: sessionmaker[Session], *, timeout: float = 120.0,
           deferred_ok: bool = False) -> None:
    """Wait until the inbox is empty and every outbox row is sent (or failed for good); with `deferred_ok`, rows
    waiting for their retry time (after a failed SMTP transaction: 30 s, then doubling) may remain."""
    def done() -> bool:
        with sessions() as session:
            query = select(func.count(OutboxMail.id)).where(OutboxMail.status.in_(("pending", "sending")))
            if deferred_ok:
                query = query.where(OutboxMail.attempts == 0)
            open_rows = session.scalar(query)
        return open_rows == 0 and folder_size(server, CLUB, "INBOX") == 0

    if not wait_until(done, timeout, 0.5):
        with sessions() as session:
            rows = session.execute(select(OutboxMail.id, OutboxMail.status, OutboxMail.attempts,
                                          OutboxMail.next_attempt_at, OutboxMail.last_error)
                                   .where(OutboxMail.status.in_(("pending", "sending")))).all()
        raise AssertionError(f"the daemon did not finish: {folder_size(server, CLUB, 'INBOX')} mails in the inbox, "
                             f"{len(rows)} in the outbox, e.g. {[tuple(row) for row in rows[:3]]}")


def retry_deferred(daemon: DaemonProcess, sessions: sessionmaker[Session]) -> int:
    """Send what waits for its retry time now, with `mailbot run --once --at` that time (the project's own way to
    replay the clock), instead of sleeping through the backoff. Returns how many rows were waiting."""
    with sessions() as session:
        waiting = session.execute(select(OutboxMail.next_attempt_at).where(OutboxMail.status == "pending")).all()
    if not waiting:
        return 0
    latest = max(row.next_attempt_at for row in waiting) + timedelta(seconds=1)
    result = daemon.run_once_at(latest.replace(tzinfo=UTC).isoformat())
    assert result.returncode == 0, result.stderr.decode(errors="replace")[-3000:]
    return len(waiting)


def smtp_accepted(server: MailServer) -> Counter[str]:
    """How many times Postfix accepted each Message-ID (its cleanup log line): the SMTP boundary."""
    log = server.log_dir / "postfix.log"
    text = log.read_text(errors="replace") if log.exists() else ""
    return Counter(re.findall(r"postfix/cleanup\[\d+\]: \w+: message-id=<([^>\s]*)>", text))


def check_exactly_once(server: MailServer, sessions: sessionmaker[Session], expected: Iterable[str], *,
                       mails: int | None = None, allow_folder_duplicates: bool = False,
                       extra_resends: int = 0, allow_redelivery: bool = False, smtp_killed: bool = False,
                       timeout: float = 90.0) -> Ledger:
    """Nothing lost, nothing doubled, at every boundary:

    - inbox: empty; each mail once in the processed or quarantine folder (the expected Message-IDs, and `mails`
      in all when some have none);
    - database: one inbound record per mail;
    - outbox: every row sent, or failed for good with Aideur told;
    - SMTP boundary (Postfix's log): every sent row accepted, a second time only for a row whose send was cut by a
      crash of mailbot (`interrupted_sends`, same Message-ID: the documented at-least-once edge), plus
      `extra_resends` when the SMTP server itself was killed mid-transaction;
    - recipients: every sent mail delivered, as many times as accepted (more only with `allow_redelivery`: the
      mail server's own retry after its delivery agent was killed).

    With `smtp_killed`, Postfix's log may miss the lines of its last moments (its log daemon died with it): a mail
    delivered but not in the log counts as accepted as many times as it was delivered.
    """
    expected = list(expected)
    total = mails if mails is not None else len(expected)
    ledger = Ledger(mails=total)
    assert folder_size(server, CLUB, "INBOX") == 0, "mail left in the inbox"

    in_folders = message_ids(server, CLUB, PROCESSED) + message_ids(server, CLUB, QUARANTINE)
    ledger.folder_duplicates = sum(count - 1 for count in in_folders.values() if count > 1)
    missing = [mid for mid in expected if in_folders[mid] == 0]
    assert not missing, f"{len(missing)} mails vanished from the mailbox, e.g. {missing[:3]}"
    assert sum(in_folders.values()) - ledger.folder_duplicates == total, (
        f"{sum(in_folders.values())} mails in the folders ({ledger.folder_duplicates} twice) for {total} mails")
    if not allow_folder_duplicates:
        assert ledger.folder_duplicates == 0, f"mails moved twice: {[m for m, c in in_folders.items() if c > 1][:5]}"

    with sessions() as session:
        records = Counter(session.scalars(select(InboundMail.message_id)))
        outcomes = Counter(session.scalars(select(InboundMail.outcome)))
        rows = session.execute(select(OutboxMail.message_id, OutboxMail.recipient, OutboxMail.status,
                                      OutboxMail.interrupted_sends, OutboxMail.kind, OutboxMail.last_error)).all()
    assert sum(records.values()) == total, f"{sum(records.values())} inbound records for {total} mails"
    not_recorded = [mid for mid in expected if records[mid] != 1]
    assert not not_recorded, f"mails without exactly one inbound record: {not_recorded[:3]}"
    ledger.quarantined = outcomes.get("quarantined", 0)
    ledger.processed = total - ledger.quarantined

    ledger.outbox = len(rows)
    unsent = [row for row in rows if row.status in ("pending", "sending")]
    assert not unsent, f"{len(unsent)} mails never sent, e.g. {unsent[:2]}"
    failed = [row for row in rows if row.status == "failed"]
    alerts = sum(1 for row in rows if row.kind == "alerte_echec_envoi")
    ledger.failed = len(failed)
    assert alerts >= len([row for row in failed if row.kind != "alerte_echec_envoi"]), "a failed send not reported"
    sent = [row for row in rows if row.status == "sent"]
    ledger.sent = len(sent)
    ledger.interrupted = sum(1 for row in rows if row.interrupted_sends > 0)

    recipients = sorted({row.recipient for row in sent})

    def delivered() -> dict[str, Counter[str]]:
        return {address: message_ids(server, address) for address in recipients}

    def all_there() -> bool:
        boxes = delivered()
        return all(boxes[row.recipient][row.message_id] >= 1 for row in sent)

    wait_until(all_there, timeout, 1.0)  # Postfix delivers asynchronously
    time.sleep(1.0)  # and a moment more, to catch a late extra copy
    boxes = delivered()
    lost = [row for row in sent if boxes[row.recipient][row.message_id] == 0]
    assert not lost, f"{len(lost)} mails recorded as sent never arrived, e.g. {lost[:2]}"

    accepted = smtp_accepted(server)
    not_accepted = [row.message_id for row in sent if accepted[row.message_id] == 0]
    assert smtp_killed or not not_accepted, f"delivered but not in Postfix's log: {not_accepted[:3]}"
    for row in sent:
        if accepted[row.message_id] == 0:
            accepted[row.message_id] = boxes[row.recipient][row.message_id]
    ledger.unlogged = len(not_accepted)
    resent = {row.message_id: accepted[row.message_id] - 1 for row in sent if accepted[row.message_id] > 1}
    ledger.resent_copies = sum(resent.values())
    interrupted = {row.message_id: row.interrupted_sends for row in sent}
    unexplained = {mid: copies - interrupted[mid] for mid, copies in resent.items() if copies > interrupted[mid]}
    assert sum(unexplained.values()) <= extra_resends, (
        f"handed to SMTP twice without an interrupted send: {list(unexplained.items())[:5]}")

    redelivered = {row.message_id: boxes[row.recipient][row.message_id] - accepted[row.message_id] for row in sent
                   if boxes[row.recipient][row.message_id] > accepted[row.message_id]}
    ledger.redelivered = sum(redelivered.values())
    assert allow_redelivery or not redelivered, f"more copies delivered than accepted: {list(redelivered.items())[:5]}"
    return ledger
