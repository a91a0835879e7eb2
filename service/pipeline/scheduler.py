"""`reewatch run`: the long-running service. A thin shell over the same steps as `run --once`.

Feeds are polled by `FeedPoller`: it sleeps until the earliest feed falls due (as the database
says, so several instances share one schedule), leases what is due and polls it as a task of its
own, then sleeps again. Each feed's next poll is its interval after its last poll began, plus a
bounded jitter (pipeline/backoff.py). REEWATCH_TICK_SECONDS bounds every sleep, so edits to
feeds.yaml and the rules, and work another process changed, are seen within a tick.

Prices, digests, calendar reminders and retention run on APScheduler's clock; the outbox has its
own task. Start-up is ordered for the first poll: the settings, feeds.yaml, the rules, digests.yaml,
calendar.yaml and the database are checked first (any of them broken stops the start), then the
feeds are polled, and only once the first poll cycle is done do the scheduled jobs load their code
and start: the digests' renderer, the price source's libraries and the exchange calendars are
not what the first poll waits for.
"""

from __future__ import annotations

import asyncio
import logging
import math
import signal
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from service import metrics
from service.bootstrap import Runtime, make_price_source, open_price_feed, open_runtime
from service.config import Settings
from service.config_watch import WatchedConfig
from service.delivery.dispatcher import first_of, serve_outbox
from service.domain.feeds import FeedSpec
from service.health import ServiceProbe, open_health_server
from service.pipeline.digest import watch_digest_setup
from service.pipeline.heartbeat import keep_alive
from service.pipeline.poll import CycleReport, FeedOutcome, claim_feeds, poll_feeds
from service.pipeline.reminders import watch_calendar
from service.pipeline.runner import recover_leases, sync_specs
from service.sources.feed_config import load_feeds
from service.store import migrate
from service.store.db import session as open_session
from service.store.feeds import next_due_at

if TYPE_CHECKING:
    from apscheduler.job import Job
    from apscheduler.schedulers.base import BaseScheduler

    from service.pipeline.prices import PriceFeed

log = logging.getLogger(__name__)

#: How long a stopping service waits for polls in flight before cancelling them.
STOP_GRACE_SECONDS = 30
#: After a feed's poll ends, the poller looks at the schedule again this much later (one look
#: for a burst of polls ending together). A poll's next due time is at least half the shortest
#: interval (10 s) away, so this always sees it in time.
RESCAN_AFTER_POLL = 1.0
#: The shortest time between two looks at the schedule. Feeds falling due within it are leased
#: together, so a thousand feeds with their own due times cost a few database round trips a
#: second, not one per feed; a feed waits at most this long past its due time.
MIN_SCAN_GAP = 0.25
#: The longest the scheduled jobs wait for the first poll cycle before starting anyway.
FIRST_CYCLE_WAIT = 30.0


class FeedPoller:
    """Polls each feed at its own due time; see the module's docstring."""

    def __init__(self, rt: Runtime, feeds: WatchedConfig[list[FeedSpec]]):
        self.rt = rt
        self.feeds = feeds
        self.tick = rt.settings.scheduler_tick_seconds
        #: REEWATCH_FETCH_CONCURRENCY across every cycle in flight, not per cycle.
        self.limit = asyncio.Semaphore(rt.settings.fetch_concurrency)
        self.in_flight: set[asyncio.Task] = set()
        self.wakeup = asyncio.Event()
        #: Set once the first cycle has ended, or at the first look if nothing was due.
        self.first_cycle_done = asyncio.Event()
        #: time.monotonic() of the loop's last look at the schedule (for /readyz).
        self.alive_at: float | None = None
        #: When this instance last finished polling a feed.
        self.last_polled_at: datetime | None = None
        self._rescan_at = math.inf
        self._config_checked_at = -math.inf
        #: The schedule's earliest due time at the last look (None: look again).
        self._next_due: datetime | None = None
        self._reloading: asyncio.Task | None = None

    async def run(self, stop: asyncio.Event) -> None:
        """Poll due feeds until `stop` is set; polls in flight are left to the caller (`drain`)."""
        while not stop.is_set():
            self.alive_at = time.monotonic()
            try:
                wait = await self._scan()
            except Exception:
                log.exception("could not look for due feeds; trying again in %ss", self.tick)
                self._next_due = None
                wait = self.tick
            await self._sleep(max(time.monotonic() + wait, self.alive_at + MIN_SCAN_GAP), stop)

    async def drain(self) -> None:
        """Let polls and a reload in flight finish (STOP_GRACE_SECONDS at most), then cancel the rest."""
        await _drain(self.in_flight | ({self._reloading} if self._reloading else set()))

    async def _scan(self) -> float:
        """Take in edits, lease and start every due feed; return the seconds until the next one
        falls due (at most a tick)."""
        self._rescan_at = math.inf  # polls ending from here on ask for a look of their own
        if time.monotonic() - self._config_checked_at >= self.tick and (self._reloading is None or self._reloading.done()):
            self._config_checked_at = time.monotonic()
            # Edited files are reloaded by a task of their own, off the event loop: a huge or
            # hostile edit never holds up polling. A broken edit is logged and the last good
            # version stays in force.
            self._reloading = asyncio.create_task(self._reload(), name="reload-config")
        # Woken for a feed that is due: lease at once. Otherwise (a tick, a poll that ended) look
        # at the schedule first, since another instance or an edit may have changed it.
        due = self._next_due
        if due is None or due > self.rt.clock():
            due = await self.rt.db(_next_due, self.rt)
        if due is not None and due <= self.rt.clock():
            claimed = await claim_feeds(self.rt)
            if claimed:
                self._start(claimed)
            due = await self.rt.db(_next_due, self.rt)
        self._next_due = due
        if not self.in_flight:
            self.first_cycle_done.set()
        if due is None:
            return self.tick
        return min(self.tick, (due - self.rt.clock()).total_seconds())

    async def _reload(self) -> None:
        try:
            if await self.feeds.reload():
                await sync_specs(self.rt, self.feeds.current)
                self._next_due = None  # added or re-enabled feeds are due at once
                self.wakeup.set()
            await self.rt.rules.reload()
        except Exception:
            log.exception("reloading the configuration failed; the next tick will try again")

    async def _sleep(self, deadline: float, stop: asyncio.Event) -> None:
        while not stop.is_set():
            remaining = min(deadline, self._rescan_at) - time.monotonic()
            if remaining <= 0:
                return
            self.wakeup.clear()
            await first_of(self.wakeup, stop, timeout=remaining)

    def look_again(self) -> None:
        """Read the schedule now: feeds may have become free (another instance's leases ended)."""
        self._next_due = None
        self.wakeup.set()

    def _start(self, feeds) -> None:
        task = asyncio.create_task(self._cycle(feeds), name=f"poll:{len(feeds)} feeds")
        self.in_flight.add(task)
        task.add_done_callback(self._cycle_done)

    def _cycle_done(self, task: asyncio.Task) -> None:
        self.in_flight.discard(task)
        self.first_cycle_done.set()

    async def _cycle(self, feeds) -> None:
        try:
            report = await poll_feeds(self.rt, feeds, limit=self.limit, on_polled=self._polled)
        except Exception:
            log.exception("poll cycle failed; its feeds are polled again when their leases end")
            return
        _log_cycle(report)

    def _polled(self, outcome: FeedOutcome) -> None:
        metrics.FEED_POLLS.labels(outcome.feed, outcome.status).inc()
        if outcome.status == "failed":
            metrics.FEED_FAILURES.labels(outcome.feed).inc()
        if outcome.new:
            metrics.ARTICLES.labels(outcome.feed).inc(outcome.new)
        if outcome.alerts:
            metrics.ALERTS_QUEUED.labels(outcome.feed).inc(outcome.alerts)
        self.last_polled_at = self.rt.clock()
        metrics.LAST_POLL.set(time.time())
        self._rescan_at = min(self._rescan_at, time.monotonic() + RESCAN_AFTER_POLL)
        self.wakeup.set()


def _next_due(rt: Runtime) -> datetime | None:
    with open_session(rt.engine) as session:
        return next_due_at(session)


def _log_cycle(report: CycleReport) -> None:
    changed = [o for o in report.outcomes if o.status in ("new", "failed")]
    if changed:
        log.info(
            "polled %d feeds: %d new articles, %d failed",
            len(report.outcomes),
            report.new_articles,
            len(report.failed),
        )


async def serve(
    settings: Settings, stop: asyncio.Event | None = None, *, first_cycle_done: Callable[[], None] | None = None
) -> None:
    """Run until SIGINT/SIGTERM (or `stop` is set): poll each feed at its own due time, deliver
    alerts, send digests and calendar reminders, fetch prices every REEWATCH_PRICE_POLL_SECONDS, delete what is older
    than REEWATCH_RETENTION_DAYS, and answer /healthz, /readyz and /metrics if a port is set.
    `first_cycle_done` is called when the first poll cycle ends (or FIRST_CYCLE_WAIT passes)."""
    stop = stop or asyncio.Event()
    _install_signal_handlers(stop)
    probe = ServiceProbe(settings)
    # Listening first: /healthz answers (and /readyz says "starting") while migrations run.
    async with open_health_server(settings, probe):
        feeds = WatchedConfig("feeds.yaml", lambda: [settings.feeds_file], lambda: load_feeds(settings.feeds_file))
        feeds.load_initial()
        migrate.upgrade(settings.database_url)
        async with open_runtime(settings) as rt:
            jobs = ScheduledJobs(rt, probe)
            await recover_leases(rt)
            await sync_specs(rt, feeds.current)
            poller = FeedPoller(rt, feeds)
            # Beating before the first claim: the others see this instance before it holds anything.
            async with keep_alive(rt, on_takeover=lambda _: _resume_taken_over_work(rt, poller, jobs)):
                polling = asyncio.create_task(poller.run(stop), name="poll-feeds")
                # Alerts are delivered by their own task: polling queues rows and wakes it; it also
                # delivers whatever a killed or earlier process left pending.
                delivery = asyncio.create_task(serve_outbox(rt, stop), name="deliver-alerts")
                scheduled = asyncio.create_task(jobs.run(poller, stop, first_cycle_done), name="scheduled-jobs")
                probe.attach(rt, poller, polling)
                log.info("reewatch %s polling; looking for edits every %ss", rt.instance, settings.scheduler_tick_seconds)
                try:
                    await stop.wait()
                finally:
                    jobs.shutdown()
                    await _stop_task(polling)
                    await poller.drain()
                    await _stop_task(scheduled, timeout=STOP_GRACE_SECONDS)
                    await _stop_delivery(delivery)
            log.info("reewatch stopped")


class ScheduledJobs:
    """The jobs on APScheduler's clock: digests, calendar reminders, retention and prices.

    Their files are read when this is made, so a broken digests.yaml or calendar.yaml stops the
    start as broken rules do; the jobs themselves (and the scheduler, and the code they run)
    start once the first poll cycle is done.
    """

    def __init__(self, rt: Runtime, probe: ServiceProbe):
        self.rt = rt
        self.probe = probe
        self.digests = watch_digest_setup(rt)
        self.digests.load_initial()
        self.calendar = watch_calendar(rt)
        self.calendar.load_initial()
        #: None until the jobs start.
        self.scheduler: BaseScheduler | None = None

    async def run(self, poller: FeedPoller, stop: asyncio.Event, first_cycle_done: Callable[[], None] | None) -> None:
        """Once the first poll cycle is done: schedule the digests, the reminders and retention,
        then run the price job until `stop`."""
        await first_of(poller.first_cycle_done, stop, timeout=FIRST_CYCLE_WAIT)
        if first_cycle_done is not None:
            first_cycle_done()
        if stop.is_set():
            return
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        from service.pipeline.digest import serve_digests
        from service.pipeline.reminders import serve_reminders
        from service.pipeline.retention import add_retention_job

        scheduler = AsyncIOScheduler(timezone=UTC)
        # One job per recipient at their time in their zone, a sweep for retries and catch-up.
        serve_digests(scheduler, self.rt, self.digests)
        # Calendar reminders to Slack: a look every minute (and now, for what fell due meanwhile).
        serve_reminders(scheduler, self.rt, self.calendar)
        add_retention_job(scheduler, self.rt)
        scheduler.start()
        self.scheduler = self.probe.scheduler = scheduler
        await _serve_prices(self.rt, scheduler, self.probe, stop)

    def sweep_digests_now(self) -> None:
        """Look for digests to send or retry now, not at the next sweep."""
        sweep = self.scheduler.get_job("digest-sweep") if self.scheduler is not None and self.scheduler.running else None
        if sweep is not None:
            sweep.modify(next_run_time=datetime.now(UTC))

    def shutdown(self) -> None:
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)


def _resume_taken_over_work(rt: Runtime, poller: FeedPoller, jobs: ScheduledJobs) -> None:
    """A dead instance's work was just freed: look for it now, not at the next tick or sweep."""
    poller.look_again()
    rt.outbox_wakeup.set()
    jobs.sweep_digests_now()


async def _serve_prices(rt: Runtime, scheduler: BaseScheduler, probe: ServiceProbe, stop: asyncio.Event) -> None:
    """Open the price source and run the price job until `stop`."""
    from service.pipeline.prices import watchlist_tickers

    tickers = watchlist_tickers(rt)
    try:
        # The source's libraries (pandas, yfinance) and the exchange calendars take seconds to
        # load: in a thread, so polls and deliveries go on meanwhile.
        source = await asyncio.to_thread(make_price_source, rt.settings)
        await asyncio.to_thread(_load_calendars, tickers)
    except Exception as exc:
        log.exception("the price source cannot start; no prices are fetched until the service restarts")
        probe.price_error = f"{type(exc).__name__}: {exc}"
        return
    in_flight: set[asyncio.Task] = set()
    async with open_price_feed(rt.settings, stream_tickers=tickers, source=source) as feed:
        job = add_price_job(scheduler, rt, feed, lambda: watchlist_tickers(rt), in_flight=in_flight)
        try:
            await stop.wait()
        finally:
            if scheduler.running:
                job.remove()
            await _drain(in_flight)


def _load_calendars(tickers: Sequence[str]) -> None:
    from service.domain.markets import calendar
    from service.sources.prices.listings import listings_for

    listings, _ = listings_for(tickers)
    for code in sorted({listing.exchange for listing in listings}):
        calendar(code)


def add_price_job(
    scheduler: BaseScheduler,
    rt: Runtime,
    feed: PriceFeed,
    tickers: Callable[[], Sequence[str]],
    *,
    in_flight: set[asyncio.Task] | None = None,
) -> Job:
    """Run the price cycle every REEWATCH_PRICE_POLL_SECONDS; `tickers` is read at each run, and
    the live stream (if any) follows it. A run in progress is kept in `in_flight`, so a stopping
    service lets it finish before closing the database."""
    from apscheduler.triggers.interval import IntervalTrigger

    from service.pipeline.prices import follow_on_stream, run_price_cycle

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
            metrics.PRICE_SOURCE_ERRORS.labels(feed.source.name, "cycle_failed").inc()
            log.exception("price cycle failed; the next run will try again")
            return
        if report.failed:
            metrics.PRICE_SOURCE_ERRORS.labels(report.source, "ticker_failed").inc(len(report.failed))
            log.warning(
                "prices: %d bars stored, %d tickers failed: %s",
                report.stored_bars,
                len(report.failed),
                ", ".join(o.ticker for o in report.failed),
            )
        if report.rate_limited:
            metrics.PRICE_SOURCE_ERRORS.labels(report.source, "rate_limited").inc()
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


async def _stop_task(task: asyncio.Task, timeout: float = 5.0) -> None:
    """Wait for a task watching `stop` to end; cancel it past `timeout`."""
    try:
        await asyncio.wait_for(task, timeout=timeout)
    except TimeoutError:
        log.warning("%s did not stop in %ss", task.get_name(), timeout)
    except Exception:
        log.exception("%s stopped with an error", task.get_name())


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
