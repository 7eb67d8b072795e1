"""What an operator watches from outside: Prometheus metrics and a health check, over HTTP.

Served by the daemon when MAILBOT_METRICS_ADDRESS is set (off otherwise), from a thread of its own:

- `/metrics`: mails handled by outcome, sends by result (counters since the start), the outbox's depth and the age
  of its oldest pending mail, the quarantine folder's size, the last successful cycle, IMAP connected or not;
- `/healthz`: 200 when the last cycle (or the last mail handled in a long one) is recent and the database answers,
  503 otherwise, with one line saying why.

The registry is the daemon's own (no global state: two daemons in one test process do not mix their figures). The
database is read at scrape time through a raw connection: a plain SELECT, never SQLite's BEGIN IMMEDIATE, so a
scrape never waits behind the daemon's writes.
"""
from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import CollectorRegistry, Counter, Gauge, make_wsgi_app
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import ThreadingWSGIServer
from prometheus_client.registry import Collector
from sqlalchemy import Engine

from mailbot.config import ConfigError

log = logging.getLogger(__name__)

SETTING = "MAILBOT_METRICS_ADDRESS"
PENDING = "SELECT count(*), min(created_at) FROM outbox WHERE status = 'pending'"


class Metrics:
    """The daemon's figures; the daemon calls the `observe_*` methods, the HTTP thread reads."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime], *, stale_after: float) -> None:
        self.engine = engine
        self.stale_after = stale_after  # seconds without a cycle or a mail handled before /healthz says 503
        self.registry = CollectorRegistry(auto_describe=True)
        self.mails = Counter("mailbot_mails", "Mails handled, by outcome (the pipeline's action).", ["outcome"],
                             registry=self.registry)
        self.sends = Counter("mailbot_sends", "Outgoing mails, by result of the attempt (sent, deferred: to be "
                             "retried, failed: refused for good).", ["result"], registry=self.registry)
        self.quarantine = Gauge("mailbot_quarantine_mails", "Mails in the quarantine folder (at the last cycle).",
                                registry=self.registry)
        self.last_cycle = Gauge("mailbot_last_successful_cycle_timestamp_seconds",
                                "When the last cycle ended without error (Unix time).", registry=self.registry)
        self.imap_connected = Gauge("mailbot_imap_connected", "1 while the daemon is connected to the IMAP server.",
                                    registry=self.registry)
        self.registry.register(_OutboxCollector(engine, clock))
        self._progress_at: float | None = None  # time.monotonic() of the last cycle ended or mail handled
        self._server: ThreadingWSGIServer | None = None

    # --- fed by the daemon --------------------------------------------------------------------------------------
    def observe_mail(self, outcome: str) -> None:
        self.mails.labels(outcome=outcome).inc()
        self._progress_at = time.monotonic()  # a long backlog cycle is alive while mails go through

    def observe_sends(self, *, sent: int = 0, deferred: int = 0, failed: int = 0) -> None:
        for result, count in (("sent", sent), ("deferred", deferred), ("failed", failed)):
            if count:
                self.sends.labels(result=result).inc(count)

    def observe_cycle(self, quarantine_size: int | None) -> None:
        if quarantine_size is not None:
            self.quarantine.set(quarantine_size)
        self.last_cycle.set(time.time())
        self._progress_at = time.monotonic()

    def observe_connected(self, connected: bool) -> None:
        self.imap_connected.set(1 if connected else 0)

    # --- read by the HTTP thread --------------------------------------------------------------------------------
    def health(self) -> tuple[bool, str]:
        """(healthy, why) for /healthz."""
        if self._progress_at is None:
            return False, "no cycle has completed yet"
        age = time.monotonic() - self._progress_at
        if age > self.stale_after:
            return False, f"last successful cycle {age:.0f} s ago (more than {self.stale_after:.0f} s)"
        try:
            _query(self.engine, "SELECT 1")
        except Exception as error:  # noqa: BLE001 - any failure of the database is the answer, not a crash
            return False, f"database unavailable: {type(error).__name__}"
        return True, f"ok: last successful cycle {age:.0f} s ago, database answers"

    def wsgi_app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz":
            healthy, why = self.health()
            start_response("200 OK" if healthy else "503 Service Unavailable",
                           [("Content-Type", "text/plain; charset=utf-8")])
            return [why.encode() + b"\n"]
        return make_wsgi_app(self.registry)(environ, start_response)

    # --- the server ---------------------------------------------------------------------------------------------
    def serve(self, address: tuple[str, int]) -> tuple[str, int]:
        """Listen on `address` from a daemon thread; returns the address bound (port 0: the one chosen). A port
        that cannot be bound is a configuration error naming the setting."""
        host, port = address
        server_class = _IPv6Server if ":" in host else ThreadingWSGIServer
        try:
            server = make_server(host, port, self.wsgi_app, server_class, handler_class=_QuietHandler)
        except OSError as error:
            raise ConfigError(SETTING, f"cannot listen on {host}:{port}: {error.strerror or error}") from None
        self._server = server
        threading.Thread(target=server.serve_forever, name="mailbot-metrics", daemon=True).start()
        bound = server.server_address
        log.info("metrics and /healthz served on %s:%s", host, bound[1])
        return host, int(bound[1])

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


class _OutboxCollector(Collector):
    """The outbox's pending mails, counted when scraped (not only at cycle ends: a stuck outbox shows growing)."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.clock = clock

    def describe(self) -> list[Metric]:
        return []  # collected at scrape time only: never at registration (that would query the database)

    def collect(self) -> Iterator[Metric]:
        try:
            count, oldest = _query(self.engine, PENDING)
        except Exception:  # noqa: BLE001 - the scrape still serves the other figures; /healthz says 503
            log.warning("metrics: the outbox could not be read")
            return
        depth = GaugeMetricFamily("mailbot_outbox_pending", "Outgoing mails waiting to be sent.")
        depth.add_metric([], float(count or 0))
        yield depth
        age = GaugeMetricFamily("mailbot_outbox_oldest_pending_age_seconds",
                                "Age of the oldest outgoing mail waiting (0 when none).")
        if isinstance(oldest, str):  # SQLite hands the stored text back through a raw connection
            oldest = datetime.fromisoformat(oldest)
        age.add_metric([], max(0.0, (self.clock() - oldest).total_seconds()) if oldest else 0.0)
        yield age


def _query(engine: Engine, sql: str) -> tuple[Any, ...]:
    """One row, through a raw DBAPI connection (no SQLAlchemy "begin" event: SQLite's BEGIN IMMEDIATE is not run)."""
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute(sql)
        row = cursor.fetchone()
        connection.rollback()
        return tuple(row) if row is not None else ()
    finally:
        connection.close()


class _IPv6Server(ThreadingWSGIServer):
    address_family = socket.AF_INET6


class _QuietHandler(WSGIRequestHandler):
    """No line on stderr per scrape."""

    def log_message(self, format: str, *args: Any) -> None:
        pass
