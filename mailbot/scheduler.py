"""Scheduled jobs: each one is a workflow call with the clock injected, run in its own transaction.

`mailbot run` runs them from APScheduler every MAILBOT_JOBS_SECONDS; `mailbot run --once --at T` runs them once
with the clock at T, so tests and operators can replay time. Jobs only decide (outbox rows); the sender sends.

Once, with several daemons on one database: each job's transaction first takes the job's lock (a PostgreSQL
transaction-level advisory lock, see coordination.py). A daemon that finds it taken skips that job for this tick:
the process holding it is doing everything due, and whatever falls due in between is done at the next tick. A
job that runs after another has committed sees its events (reminders recorded, counters advanced) and does not
repeat them. On SQLite, BEGIN IMMEDIATE runs the jobs' transactions one after the other, with the same effect.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.orm import Session, sessionmaker

from mailbot import retention
from mailbot.config import Settings
from mailbot.coordination import try_job_lock
from mailbot.outbox import Outbox
from mailbot.tokens import TokenSigner
from mailbot.workflows import activities, consents, deadlines, digest, polls, results
from mailbot.workflows.base import WorkflowContext

log = logging.getLogger(__name__)

Job = Callable[[WorkflowContext], int]
JOBS: tuple[tuple[str, Job], ...] = (("deadlines", deadlines.run_due), ("consents", consents.run_due),
                                     ("result-forms", results.run_due), ("digest", digest.weekly_digest),
                                     ("retention", retention.run_due),  # MAILBOT_RETENTION_DAYS; `mailbot purge` too
                                     ("polls", polls.run_due),  # issue 17: a poll's reminder, then its results
                                     ("activities", activities.run_due))  # issue 17: offers, reminders, closing


def run_jobs(sessions: sessionmaker[Session], settings: Settings, signer: TokenSigner, outbox: Outbox,
             now: datetime) -> dict[str, int]:
    """Run every job due at `now`; returns what each did (0 for a job another process was running)."""
    done: dict[str, int] = {}
    for name, job in JOBS:
        with sessions.begin() as session:
            if not try_job_lock(session, name):
                log.info("job %s is running in another process: skipped this time", name)
                done[name] = 0
                continue
            ctx = WorkflowContext(session=session, settings=settings, signer=signer, now=now)
            done[name] = job(ctx)
            outbox.store_all(ctx)
    return done


def start_background(every_seconds: int, tick: Callable[[], None]) -> BackgroundScheduler:
    """APScheduler calls `tick` (run the jobs, then send) every `every_seconds`, never twice at once."""
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(tick, "interval", seconds=every_seconds, max_instances=1, coalesce=True, id="jobs",
                      next_run_time=datetime.now())
    scheduler.start()
    return scheduler
