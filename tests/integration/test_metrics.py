"""Observability (issue 15, point 7): a real daemon process serving Prometheus metrics and /healthz, scraped while it
runs; the setting validated (exit 78 naming it); off when unset."""
from __future__ import annotations

import re
import socket
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

import pytest

from mailbot.config import ConfigError, load_settings
from tests.conftest import make_env
from tests.helpers import ALICE, CLUB, add_members, append, make_mail, settle, smtp_send
from tests.integration.daemon_process import DaemonProcess, wait_until

pytestmark = pytest.mark.servers

AT = "2026-11-26T10:00"  # the daemon's clock: never the real one


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError:
        return 0, ""


def value(text: str, name: str, labels: str = "") -> float | None:
    match = re.search(rf"^{re.escape(name)}{re.escape(labels)} (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else None


def test_the_running_daemon_serves_metrics_and_health(clean_mail, sqlite_url, sessions_for):  # type: ignore[no-untyped-def]
    add_members(sessions_for(sqlite_url))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = make_env(clean_mail, sqlite_url, MAILBOT_METRICS_ADDRESS=f"127.0.0.1:{port}")
    with DaemonProcess(env, "run", "--at", AT) as daemon:
        assert wait_until(lambda: get(f"{base}/healthz")[0] == 200, 30), daemon.output()
        status, text = get(f"{base}/metrics")
        assert status == 200 and value(text, "mailbot_imap_connected") == 1.0
        assert value(text, "mailbot_outbox_pending") == 0.0
        assert value(text, "mailbot_quarantine_mails") == 0.0
        assert (value(text, "mailbot_last_successful_cycle_timestamp_seconds") or 0) > 0

        smtp_send(clean_mail, make_mail(ALICE, "Besoin d'un plombier", "Bonjour,\n\nMon évier fuit.\n\nAlice"))
        append(clean_mail, CLUB, b"\x00\x01\x02 not a mail at all \xff\xfe")
        assert len(settle(clean_mail, ALICE, 1)) == 1  # the acknowledgement went out

        def scraped() -> str:
            return get(f"{base}/metrics")[1]

        assert wait_until(lambda: value(scraped(), "mailbot_quarantine_mails") == 1.0, 30), scraped()
        text = scraped()
        assert value(text, "mailbot_mails_total", '{outcome="new-request"}') == 1.0
        assert value(text, "mailbot_mails_total", '{outcome="quarantined"}') == 1.0
        assert (value(text, "mailbot_sends_total", '{result="sent"}') or 0) >= 1
        assert value(text, "mailbot_outbox_oldest_pending_age_seconds") is not None
        assert get(f"{base}/healthz")[0] == 200
        assert daemon.terminate() == 0
    assert get(f"{base}/healthz")[0] == 0  # gone with the daemon


def test_without_the_setting_nothing_listens(clean_mail, sqlite_url):  # type: ignore[no-untyped-def]
    settings = load_settings(make_env(clean_mail, sqlite_url), env_file=None)
    assert settings.metrics_address is None


@pytest.mark.parametrize("bad", ["9464", "127.0.0.1", "127.0.0.1:port", "127.0.0.1:0x10", ":9464",
                                 "127.0.0.1:70000", "a b:9464", "http://127.0.0.1:9464"])
def test_a_bad_address_is_refused_naming_the_setting(clean_mail, sqlite_url, bad):  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError) as error:
        load_settings(make_env(clean_mail, sqlite_url, MAILBOT_METRICS_ADDRESS=bad), env_file=None)
    assert error.value.setting == "MAILBOT_METRICS_ADDRESS"


@pytest.mark.parametrize("address,expected", [("127.0.0.1:9464", ("127.0.0.1", 9464)),
                                              ("[::1]:9464", ("::1", 9464)), ("localhost:1", ("localhost", 1))])
def test_good_addresses(clean_mail, sqlite_url, address, expected):  # type: ignore[no-untyped-def]
    settings = load_settings(make_env(clean_mail, sqlite_url, MAILBOT_METRICS_ADDRESS=address), env_file=None)
    assert settings.metrics_address == expected


def test_bad_value_or_taken_port_exits_78(clean_mail, sqlite_url):  # type: ignore[no-untyped-def]
    def run(address: str) -> subprocess.CompletedProcess[str]:
        env = DaemonProcess(make_env(clean_mail, sqlite_url, MAILBOT_METRICS_ADDRESS=address)).env
        return subprocess.run([sys.executable, "-m", "mailbot", "run", "--at", AT], env=env, capture_output=True,
                              text=True, timeout=60, cwd=tempfile.gettempdir(), check=False)

    result = run("not-an-address")
    assert result.returncode == 78 and "MAILBOT_METRICS_ADDRESS" in result.stderr
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = run(f"127.0.0.1:{taken.getsockname()[1]}")
    assert result.returncode == 78 and "MAILBOT_METRICS_ADDRESS" in result.stderr, result.stderr
