"""Log lines an operator can read in `journalctl`, and that never carry a member's data.

Rules for every log call in mailbot: at INFO and WARNING, a mail is named by its UID and `mail_tag()` (a short
hash of its Message-ID), a ticket by its reference, a queued mail by its outbox id; never an address, a name, a
subject or a body. DEBUG may say more. Error texts that can quote data (SQL parameters, SMTP replies) go through
`short_error()`.

Under systemd (stderr is the journal: JOURNAL_STREAM names it) the lines carry no timestamp — journald adds its
own — and start with the sd-daemon priority prefix (`<3>` for errors…), so `journalctl -p warning` works.
"""
from __future__ import annotations

import hashlib
import logging
import os
import re
import sys
from typing import IO

TERMINAL_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
JOURNAL_FORMAT = "%(levelname)s %(name)s: %(message)s"

_PRIORITIES = ((logging.CRITICAL, 2), (logging.ERROR, 3), (logging.WARNING, 4), (logging.INFO, 6))


class JournalFormatter(logging.Formatter):
    """No timestamp, and each line (a traceback's too) prefixed with its syslog priority for journald."""

    def __init__(self) -> None:
        super().__init__(JOURNAL_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        priority = next((value for level, value in _PRIORITIES if record.levelno >= level), 7)
        return "\n".join(f"<{priority}>{line}" for line in super().format(record).splitlines() or [""])


def to_journal(stream: IO[str] | None = None) -> bool:
    """True when `stream` (stderr by default) is connected to the journal: JOURNAL_STREAM is "device:inode" of
    the stream systemd gave us (systemd.exec(5)), so a redirection by a child or a shell does not count."""
    stream = stream if stream is not None else sys.stderr
    device, _, inode = os.environ.get("JOURNAL_STREAM", "").partition(":")
    if not (device.isdigit() and inode.isdigit()):
        return False
    try:
        st = os.fstat(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return False
    return (st.st_dev, st.st_ino) == (int(device), int(inode))


def formatter(stream: IO[str] | None = None) -> logging.Formatter:
    return JournalFormatter() if to_journal(stream) else logging.Formatter(TERMINAL_FORMAT)


def setup(level: str | int = "INFO", stream: IO[str] | None = None) -> None:
    """Configure the root logger for mailbot (what `logging.basicConfig` did, with the journal switch)."""
    stream = stream if stream is not None else sys.stderr
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter(stream))
    handler.addFilter(MaskingFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    quiet_libraries()


def set_level(level: str | int) -> None:
    """The level once the settings are read (MAILBOT_LOG_LEVEL, already checked by mailbot.config)."""
    logging.getLogger().setLevel(level.upper() if isinstance(level, str) else level)
    if logging.getLogger().getEffectiveLevel() <= logging.DEBUG:
        logging.getLogger("apscheduler").setLevel(logging.NOTSET)
    quiet_libraries()


def adapt_to_journal() -> None:
    """Switch the handlers already writing to stderr to the journal format when stderr is the journal."""
    if not to_journal(sys.stderr):
        return
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler) and getattr(handler, "stream", None) is sys.stderr:
            handler.setFormatter(JournalFormatter())


def quiet_libraries() -> None:
    """APScheduler says "Running job …" at INFO at every tick: only its warnings, unless mailbot runs at DEBUG."""
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        logging.getLogger("apscheduler").setLevel(logging.WARNING)


def mail_tag(message_id: str) -> str:
    """A mail's name in the logs: 10 hex digits of the SHA-256 of its Message-ID (which can hold an address).
    The same Message-ID always gives the same tag, so a mail can be followed across lines and restarts."""
    return "m-" + hashlib.sha256(message_id.strip().strip("<>").encode("utf-8", "replace")).hexdigest()[:10]


def short_error(error: BaseException, limit: int = 200) -> str:
    """The kind of an error and the first line of its own text, without what SQLAlchemy appends ([SQL: …]
    [parameters: …], which hold addresses and subjects). For a wrapped error, the database driver's message."""
    cause: BaseException = error
    seen = 0
    while cause.__cause__ is not None and seen < 5:  # TransientError → OperationalError → driver error
        cause, seen = cause.__cause__, seen + 1
    original = getattr(cause, "orig", None)
    if isinstance(original, BaseException):
        cause = original
    text = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
    if len(text) > limit:
        text = text[:limit] + "…"
    return f"{type(cause).__name__}: {text}" if text else type(cause).__name__


# --- masking: no address, local part or display name in the journal at INFO and above -----------------------------
#
# The rule above is for mailbot's own calls; libraries (aiosmtplib, imaplib, SQLAlchemy, APScheduler) and error texts
# quote whatever they were given. So every record at INFO or above is masked when it is created, whoever logs it:
# the one place that sees every message and its arguments is the record factory (a Filter on a handler misses the
# handlers others add, such as pytest's; one on a logger misses its children's records).

MASK_ADDRESS = "<adresse>"
MASK_NAME = "<nom>"
MASK_ENCODED = "<texte codé>"

# RFC 2047 encoded words: only headers hold them (names, subjects).
_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")
# A local part: quoted ("jean dupont"), or a run of anything but separators, backslash escapes allowed, any script
# (RFC 6531: josé.garcía); then the domain: a literal [127.0.0.1] or labels of letters of any script, digits, dashes.
_LOCAL = r"(?:\"(?:[^\"\\\r\n]|\\.)*\"|(?:\\+.|[^\s<>()\[\]{},;:\"'`@\\])+)"
_DOMAIN = r"(?:\[[^\]\s]*\]|[\w-]+(?:\.[\w-]+)*)"
_ADDRESS = re.compile(rf"(<)?{_LOCAL}\s*(?:@|%40|＠)\s*{_DOMAIN}(?(1)>|)")
_BRACKETED = "\x00a\x00"  # an address that was in angle brackets: a display name may stand before it
_BARE = "\x00b\x00"
# A display name before an address in brackets: quoted, after a header name, or one to four words that open a
# list item ("Jean Dupont <j@x>, Marie <m@x>"). A bare address has no display name ("mailbox of j@x full").
_QUOTED_NAME = re.compile(r"(\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')(\s*,?\s*['\"]?)(" + _BRACKETED + "|" + _BARE + ")")
_HEADER_NAME = re.compile(r"(?i)\b((?:from|to|cc|bcc|reply-to|sender|de|à|a|pour|expéditeur|destinataire)\s*:\s*)"
                          r"([^<>\n:\x00]+?)(\s*)" + _BRACKETED)
_LEADING_NAME = re.compile(r"(^|[,;:(\['\"]\s*)((?:[^\W\d_][\w.'’-]*[ \t]+){1,4})" + _BRACKETED)


def mask(text: str) -> str:
    """`text` with every e-mail address (quoted or internationalised local parts, IDN domains), every display name
    next to one and every RFC 2047 encoded word replaced by a placeholder: what the journal may keep."""
    if not text:
        return text
    text = _ENCODED_WORD.sub(MASK_ENCODED, text)
    if "@" not in text and "%40" not in text and "＠" not in text:
        return text
    text = _ADDRESS.sub(lambda m: _BRACKETED if m.group(1) else _BARE, text)
    text = _QUOTED_NAME.sub(lambda m: MASK_NAME + m.group(2) + m.group(3), text)
    text = _HEADER_NAME.sub(lambda m: m.group(1) + MASK_NAME + m.group(3) + _BRACKETED, text)
    text = _LEADING_NAME.sub(lambda m: m.group(1) + MASK_NAME + " " + _BRACKETED, text)
    return text.replace(_BRACKETED, MASK_ADDRESS).replace(_BARE, MASK_ADDRESS)


def mask_record(record: logging.LogRecord) -> logging.LogRecord:
    """Mask a record's message (its arguments merged in, so `%r` of a tuple is masked too) and its traceback."""
    if record.levelno < logging.INFO or getattr(record, "_mailbot_masked", False):
        return record
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a malformed call: mask its parts, leave the error to logging
        message = " ".join([str(record.msg), *(str(arg) for arg in (record.args or ()))])
    masked = mask(message)
    if masked != message or record.args:
        record.msg, record.args = masked, None
    if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
        record.exc_text = mask(logging.Formatter().formatException(record.exc_info))
    record._mailbot_masked = True
    return record


class MaskingFilter(logging.Filter):
    """The same masking as a Filter, for handlers (setup() puts one on its own): it never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        mask_record(record)
        return True


def install_masking() -> None:
    """Wrap the log record factory once (idempotent): every record at INFO and above is masked when made."""
    current = logging.getLogRecordFactory()
    if getattr(current, "_mailbot_masking", False):
        return

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        return mask_record(current(*args, **kwargs))

    factory._mailbot_masking = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


install_masking()
