"""Retention: articles and price bars older than REEWATCH_RETENTION_DAYS are deleted.

Alerts (the outbox), digest runs and the articles alerts refer to are kept: they are the record
of what the desk was told. Price bars are kept at least PRICE_HISTORY_DAYS whatever the setting,
since the price rules read that much daily history. Deletion runs in small batches, each its own
transaction on the database thread, so polls and deliveries interleave with it; several
instances may run it at once (store/retention.py).
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from apscheduler.triggers.interval import IntervalTrigger

from service.bootstrap import Runtime
from service.store.db import session as open_session
from service.store.retention import delete_old_articles, delete_old_price_bars

if TYPE_CHECKING:
    from apscheduler.schedulers.base import BaseScheduler

log = logging.getLogger(__name__)

#: Rows deleted per transaction.
BATCH = 500
#: The price rules read this much daily history (pipeline/prices.py fetches 85 days for a new ticker).
PRICE_HISTORY_DAYS = 90
#: How often the service looks for expired rows, and how long after start it first does.
EVERY = timedelta(hours=1)
FIRST_AFTER = timedelta(minutes=2)


@dataclass
class RetentionReport:
    articles: int = 0
    price_bars: int = 0


def article_cutoff(now: datetime, days: int) -> datetime | None:
    """Articles fetched before this are deleted; None keeps them all (days = 0)."""
    return None if days <= 0 else now - timedelta(days=days)


def price_bar_cutoff(now: datetime, days: int) -> datetime | None:
    """Bars starting before this are deleted; never fewer than PRICE_HISTORY_DAYS are kept."""
    return None if days <= 0 else now - timedelta(days=max(days, PRICE_HISTORY_DAYS))


async def delete_expired(rt: Runtime, *, batch: int = BATCH) -> RetentionReport:
    """Delete every expired article and price bar, one batch per transaction."""
    report = RetentionReport()
    now = rt.clock()
    days = rt.settings.retention_days
    cutoff = article_cutoff(now, days)
    if cutoff is not None:
        report.articles = await _in_batches(rt, delete_old_articles, cutoff, batch)
    cutoff = price_bar_cutoff(now, days)
    if cutoff is not None:
        report.price_bars = await _in_batches(rt, delete_old_price_bars, cutoff, batch)
    if report.articles or report.price_bars:
        log.info(
            "retention (%d days): deleted %d articles and %d price bars", days, report.articles, report.price_bars
        )
    return report


async def _in_batches(rt: Runtime, deleting, cutoff: datetime, batch: int) -> int:
    def one() -> int:
        with open_session(rt.engine) as session:
            return deleting(session, cutoff, batch)

    total = 0
    while True:
        deleted = await rt.db(one)
        total += deleted
        if deleted < batch:
            return total


def add_retention_job(scheduler: BaseScheduler, rt: Runtime) -> None:
    """Delete expired rows every hour, starting a couple of minutes after start (spread a little,
    so instances started together do not all begin at once); nothing with retention off."""
    if rt.settings.retention_days <= 0:
        return

    async def run() -> None:
        try:
            await delete_expired(rt)
        except Exception:
            log.exception("retention failed; it runs again in %s", EVERY)

    first = datetime.now(UTC) + FIRST_AFTER + timedelta(seconds=random.uniform(0, 60))
    scheduler.add_job(
        run,
        IntervalTrigger(seconds=EVERY.total_seconds(), timezone=UTC),
        id="retention",
        name="delete articles and price bars past REEWATCH_RETENTION_DAYS",
        next_run_time=first,
        max_instances=1,
        coalesce=True,
        misfire_grace_time=int(EVERY.total_seconds()),
    )
