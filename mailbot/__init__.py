"""mailbot: the mail daemon of Club Aide."""

__version__ = "0.1.0"

# Every log record at INFO and above is masked (addresses, display names) from the first import on: see logs.py.
from mailbot import logs as _logs  # noqa: F401
