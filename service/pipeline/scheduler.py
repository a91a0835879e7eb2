"""`reewatch run`: the long-running service. A thin shell over the same steps as `run --once`."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from apscheduler.job import Job
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from service.bootstrap import Runtime, open_price_feed, open_runtime
from service.config import Settings
from service.config_watch import WatchedConfig
from service.delivery.dispatcher import serve_outbox
from service.pipeline.digest import serve_digests
from service.pipeline.poll import poll_due_feeds
from service.pipeline.prices import PriceFeed, follow_on_stream, run_price_cycle, watchlist_tickers
from service.pipeline.runner import recover_leases, sync_specs
from service.sources.feed_config import load_feeds
from service.store import migrate

log = logging.getLogger(__name__)

#: How long a stopping service waits for polls in flight before cancelling them.
STOP_GRACE_SECONDS = 30


async def serve(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run until SIGINT/SIGTERM (or `stop` is set): poll each feed on its own interval, and the
    watchlists' prices every REEWATCH_PRICE_POLL_SECONDS (plus Yahoo's live stream when enabled)."""
    stop = stop or asyncio.Event()
    feeds = WatchedConfig("feeds.yaml", lambda: [settings.feeds_file], lambda: load_feeds(settings.feeds_file))
    feeds.load_initial()
    migrate.upgrade(settings.database_url)
    async with (
        open_runtime(settings) as rt,
        open_price_feed(settings, stream_tickers=watchlist_tickers(rt)) as prices,
    ):
        await recover_leases(rt)
        await sync_specs(rt, feeds.current)
        in_flight: set[asyncio.Task] = set()

        async def tick() -> None:
            # Edited files are reloaded by a task of their own, off the event loop: a huge or
            # hostile edit never holds up a tick. A broken edit is logged and the last good
            # version stays in force.
            reload = asyncio.create_task(_reload(rt, feeds))
            in_flight.add(reload)
            reload.add_done_callback(in_flight.discard)
            # Each cycle runs as its own task so a slow feed never delays the next tick;
            # leases keep a feed from being polled twice at once.
            task = asyncio.create_task(_cycle(rt))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)

        scheduler = AsyncIOScheduler(timezone=UTC)
        scheduler.add_job(
            tick,
            IntervalTrigger(seconds=settings.scheduler_tick_seconds, timezone=UTC),
            id="poll-feeds",
            next_run_time=rt.clock(),
            max_instances=1,
            coalesce=True,
            misfire_grace_time=max(30, int(settings.scheduler_tick_seconds * 2)),
        )
        # One job per recipient at their time in their zone, a sweep for retries and catch-up.
        serve_digests(scheduler, rt)
        # The watchlists' tickers, re-read at each run: the tick above reloads the rules.
        add_price_job(scheduler, rt, prices, lambda: watchlist_tickers(rt), in_flight=in_flight)
        _install_signal_handlers(stop)
        scheduler.start()
        # Alerts are delivered by their own task: polling queues rows and wakes it; it also
        # delivers whatever a killed or earlier process left pending.
        delivery = asyncio.create_task(serve_outbox(rt, stop), name="deliver-alerts")
        log.info("reewatch %s polling; tick every %ss", rt.instance, settings.scheduler_tick_seconds)
        try:
            await stop.wait()
        finally:
            scheduler.shutdown(wait=False)
            await _drain(in_flight)
            await _stop_delivery(delivery)
            log.info("reewatch stopped")


async def _reload(rt: Runtime, feeds: WatchedConfig) -> None:
    try:
        if await feeds.reload():
            await sync_specs(rt, feeds.current)
        await rt.rules.reload()
    except Exception:
        log.exception("reloading the configuration failed; the next tick will try again")


async def _cycle(rt: Runtime) -> None:
    try:
        report = await poll_due_feeds(rt)
    except Exception:
        log.exception("poll cycle failed; the next tick will try again")
        return
    if report.outcomes:
        log.info(
            "polled %d feeds: %d new articles, %d failed",
            len(report.outcomes),
            report.new_articles,
            len(report.failed),
        )


def add_price_job(
    scheduler: AsyncIOScheduler,
    rt: Runtime,
    feed: PriceFeed,
    tickers: Callable[[], Sequence[str]],
    *,
    in_flight: set[asyncio.Task] | None = None,
) -> Job:
    """Run the price cycle every REEWATCH_PRICE_POLL_SECONDS; `tickers` is read at each run, and
    the live stream (if any) follows it. A run in progress is kept in `in_flight`, so a stopping
    service lets it finish before closing the database."""

    async def cycle() -> None:
        task = asyncio.current_task()
        if in_flight is not None and task is not None:
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
        try:
            watched = tickers()
            await follow_on_stream(feed, watched)
            report = await run_price_cycle(rt, feed, watched)
        except Exception:
            log.exception("price cycle failed; the next run will try again")
            return
        if report.failed:
            log.warning(
                "prices: %d bars stored, %d tickers failed: %s",
                report.stored_bars,
                len(report.failed),
                ", ".join(o.ticker for o in report.failed),
            )
        if report.price_alerts:
            log.info("prices: %d price alerts queued", report.price_alerts)

    seconds = rt.settings.price_poll_seconds
    return scheduler.add_job(
        cycle,
        IntervalTrigger(seconds=seconds, timezone=UTC),
        id="poll-prices",
        # The scheduler runs on the wall clock, whatever clock the runtime's cycles use.
        next_run_time=datetime.now(UTC),
        max_instances=1,
        coalesce=True,
        misfire_grace_time=max(30, seconds // 2),
    )


async def _stop_delivery(delivery: asyncio.Task) -> None:
    """Let the dispatcher hand back its queue and finish posts in flight (it watches `stop`)."""
    try:
        await asyncio.wait_for(delivery, timeout=STOP_GRACE_SECONDS)
    except TimeoutError:
        log.warning("alert delivery did not stop in %ss; pending alerts go out on the next start", STOP_GRACE_SECONDS)
    except Exception:
        log.exception("alert delivery stopped with an error; pending alerts go out on the next start")


async def _drain(tasks: set[asyncio.Task]) -> None:
    if not tasks:
        return
    done, pending = await asyncio.wait(set(tasks), timeout=STOP_GRACE_SECONDS)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending, timeout=5)


def _install_signal_handlers(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # not the main thread, or not Unix
            pass
