"""The main job in burst mode (`reewatch run --once`): everything due, once, then return."""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass

from service.bootstrap import Runtime, open_runtime
from service.config import Settings
from service.delivery.dispatcher import DeliveryReport, drain_outbox
from service.domain.feeds import FeedSpec
from service.pipeline.heartbeat import keep_alive
from service.pipeline.poll import CycleReport, poll_due_feeds
from service.pipeline.prices import PriceCycleReport, judge_price_rules, run_watchlist_cycle
from service.pipeline.reminders import ReminderReport, load_reminder_calendar, send_due_reminders
from service.sources.feed_config import load_feeds
from service.store import migrate
from service.store.db import session as open_session
from service.store.feeds import SyncReport, sync_feeds
from service.store.leases import release_abandoned_leases

log = logging.getLogger(__name__)


@dataclass
class OnceReport:
    """What one pass of the main job did: the poll cycle, the price cycle, the calendar reminders,
    then the alerts it delivered."""

    cycle: CycleReport
    delivery: DeliveryReport
    #: None when the price cycle itself failed (logged); the delivery still ran.
    prices: PriceCycleReport | None = None
    reminders: ReminderReport | None = None


async def run_once(settings: Settings) -> OnceReport:
    """Migrate, sync feeds.yaml, fetch the watchlists' prices, poll every due feed once, judge
    the price rules, queue the calendar reminders due now, deliver every alert that is due.

    Prices come first so the news alerts queued in this run show the tickers' quotes as of now
    (even on the very first run); the price rules come after the news, so a rule that follows
    news sees this run's stories. Raises ConfigError on a bad file. Delivery also picks up
    alerts an earlier run left pending.
    """
    specs = load_feeds(settings.feeds_file)
    migrate.upgrade(settings.database_url)
    async with open_runtime(settings) as rt:
        deadlines = load_reminder_calendar(settings.calendar_file, rt.rules.current)
        await recover_leases(rt)
        # Beating for the run: its leases are renewed, and a dead instance's work is freed first.
        async with keep_alive(rt):
            await sync_specs(rt, specs)
            prices = await run_prices(rt, judge=False)
            cycle = await poll_due_feeds(rt)
            if prices is not None:
                prices = await judge_prices(rt, prices)
            reminders = await send_due_reminders(rt, deadlines)
            delivery = await drain_outbox(rt)
            return OnceReport(cycle, delivery, prices, reminders)


async def run_prices(rt: Runtime, *, judge: bool = True) -> PriceCycleReport | None:
    """One price cycle for the watchlists; a failure is logged, so the alerts still go out."""
    try:
        return await run_watchlist_cycle(rt, judge=judge)
    except Exception:
        log.exception("price cycle failed; alerts are delivered anyway")
        return None


async def judge_prices(rt: Runtime, report: PriceCycleReport) -> PriceCycleReport:
    """The price rules on the bars a cycle stored; a failure is logged, the news still goes out."""
    try:
        return await judge_price_rules(rt, report)
    except Exception:
        log.exception("judging the price rules failed; alerts are delivered anyway")
        return report


async def sync_specs(rt: Runtime, specs: list[FeedSpec]) -> SyncReport:
    def sync() -> SyncReport:
        with open_session(rt.engine) as session:
            return sync_feeds(session, specs, rt.clock())

    return await rt.db(sync)


async def recover_leases(rt: Runtime) -> int:
    """Free the work a killed earlier process left leased, so it is picked up now, not once its lease runs out."""

    def release() -> int:
        with open_session(rt.engine) as session:
            return release_abandoned_leases(session, instance=rt.instance, host=socket.gethostname(), now=rt.clock())

    freed = await rt.db(release)
    if freed:
        log.warning("took back %d leases left by a process that stopped without releasing them", freed)
    return freed
