"""Run the real daemon as a child process, as the operator would, so that tests can kill it."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Self

from bench.common import no_digest_day


def real_clock_env(env: dict[str, str], args: tuple[str, ...]) -> dict[str, str]:
    """The environment of a daemon run with `args`: on the real clock (no --at, as a test needs for retries and
    backoff), a weekly-digest day the test cannot meet (a Monday after 8:00 added a mail to Aideur), unless the
    test chose one."""
    if "--at" in args:
        return env
    return {"MAILBOT_DIGEST_DAY": no_digest_day()} | env


class DaemonProcess:
    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.env = os.environ | env | {"MAILBOT_LOG_LEVEL": "WARNING"}
        self.args = args or ("run",)
        self.log = Path(tempfile.mkstemp(prefix="mailbot-daemon-", suffix=".log", dir="/tmp")[1])
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            # cwd: an empty directory, so no stray .env is read
            self.process = subprocess.Popen([sys.executable, "-m", "mailbot", *self.args],
                                            env=real_clock_env(self.env, self.args),
                                            stdout=log, stderr=log, cwd=tempfile.gettempdir())

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def terminate(self, timeout: float = 15.0) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def run_once(self, timeout: float = 300.0) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([sys.executable, "-m", "mailbot", "run", "--once"],
                              env=real_clock_env(self.env, ("run", "--once")), capture_output=True,
                              timeout=timeout, cwd=tempfile.gettempdir(), check=False)

    def run_once_at(self, at: str, timeout: float = 120.0) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([sys.executable, "-m", "mailbot", "run", "--once", "--at", at], env=self.env,
                              capture_output=True, timeout=timeout, cwd=tempfile.gettempdir(), check=False)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-5000:]

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.alive():
            self.kill()
        self.log.unlink(missing_ok=True)


def wait_until(predicate, timeout: float, interval: float = 0.1) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
