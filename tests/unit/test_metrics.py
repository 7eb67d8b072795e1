"""/healthz says 503 when it should: no cycle yet, the last one too old, the database not answering."""
from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

from sqlalchemy import create_engine

from mailbot.metrics import Metrics

AT = datetime(2026, 11, 26, 10, 0)


def call(metrics: Metrics, path: str) -> tuple[str, bytes]:
    seen: list[str] = []
    body = b"".join(metrics.wsgi_app({"PATH_INFO": path, "REQUEST_METHOD": "GET", "QUERY_STRING": ""},
                                     lambda status, headers: seen.append(status)))
    return seen[0], body


def test_health_follows_the_cycles_and_the_database(tmp_path: Path) -> None:
    metrics = Metrics(create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}"), lambda: AT, stale_after=60)
    assert call(metrics, "/healthz")[0].startswith("503")  # no cycle yet
    metrics.observe_cycle(0)
    status, body = call(metrics, "/healthz")
    assert status.startswith("200"), body
    metrics._progress_at = time.monotonic() - 61  # the last cycle, a minute ago
    status, body = call(metrics, "/healthz")
    assert status.startswith("503") and b"last successful cycle" in body
    metrics.observe_mail("new-request")  # a long cycle that progresses is alive
    assert call(metrics, "/healthz")[0].startswith("200")


def test_health_is_503_when_the_database_does_not_answer(tmp_path: Path) -> None:
    metrics = Metrics(create_engine(f"sqlite:///{tmp_path / 'missing' / 'db.sqlite'}"), lambda: AT, stale_after=60)
    metrics.observe_cycle(0)
    status, body = call(metrics, "/healthz")
    assert status.startswith("503") and b"database unavailable" in body
    status, body = call(metrics, "/metrics")  # the other figures are still served
    assert status.startswith("200") and b"mailbot_last_successful_cycle_timestamp_seconds" in body
    assert b"mailbot_outbox_pending" not in body
