"""/healthz, /readyz and /metrics over HTTP, for orchestrators and Prometheus.

Served on REEWATCH_HTTP_HOST:REEWATCH_HTTP_PORT (127.0.0.1 unless told otherwise; no server
without a port) from the service's own event loop, so an answer also shows the loop is not stuck.

/healthz  200 while the process runs its loop and the feed poller has not died; 503 otherwise.
          For a liveness probe: a 503 means restart it.
/readyz   200 when the database answers, the rules are loaded, the poller looked at the schedule
          recently, no feed is long overdue (on any instance) and the price source started; 503
          with the failing checks otherwise, and while the service starts. Either way a JSON
          body gives each check and the age of the last poll (this instance's and any one's).
/metrics  Prometheus' text format (service/metrics.py), with the database-wide gauges read at
          each scrape.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from service import metrics
from service.config import Settings
from service.errors import ReewatchError

if TYPE_CHECKING:
    from apscheduler.schedulers.base import BaseScheduler

    from service.bootstrap import Runtime
    from service.pipeline.scheduler import FeedPoller

log = logging.getLogger(__name__)

#: A database check slower than this counts as a failure.
DATABASE_TIMEOUT = 5.0
#: A feed due this long ago that nobody polls means polling is stuck everywhere.
OVERDUE_AFTER = 120.0
#: The poller looks at the schedule at least every tick; this long without a look is a hang.
LOOP_STALE_AFTER = 60.0


@dataclass(frozen=True)
class ReadinessFacts:
    """What /readyz judges, gathered at one moment."""

    now: datetime
    tick: float
    database_error: str | None
    rules_loaded: bool
    rules_reload_error: str | None
    #: Seconds since the feed poller last looked at the schedule; None if it has not started.
    poller_idle: float | None
    poller_running: bool
    scheduler_running: bool
    last_poll: datetime | None
    any_last_poll: datetime | None
    next_due: datetime | None
    price_error: str | None


def _age(now: datetime, moment: datetime | None) -> float | None:
    return None if moment is None else round((now - moment).total_seconds(), 3)


def judge_readiness(facts: ReadinessFacts) -> tuple[bool, dict[str, Any]]:
    """Ready or not, and every check with what it saw."""
    stale_after = max(LOOP_STALE_AFTER, 5 * facts.tick)
    overdue = None if facts.next_due is None else (facts.now - facts.next_due).total_seconds()
    checks: dict[str, dict[str, Any]] = {
        "database": {"ok": facts.database_error is None, "error": facts.database_error},
        "rules": {"ok": facts.rules_loaded, "reload_error": facts.rules_reload_error},
        "scheduler": {
            "ok": facts.poller_running
            and facts.scheduler_running
            and facts.poller_idle is not None
            and facts.poller_idle <= stale_after,
            "seconds_since_last_look": None if facts.poller_idle is None else round(facts.poller_idle, 3),
            "jobs_running": facts.scheduler_running,
        },
        "polling": {
            # Unknown while the database cannot be read: the database check says why.
            "ok": facts.database_error is not None or overdue is None or overdue <= OVERDUE_AFTER,
            "last_poll_age_seconds": _age(facts.now, facts.last_poll),
            "any_instance_last_poll_age_seconds": _age(facts.now, facts.any_last_poll),
            "overdue_seconds": round(overdue, 3) if overdue is not None and overdue > 0 else 0,
        },
        "prices": {"ok": facts.price_error is None, "error": facts.price_error},
    }
    return all(check["ok"] for check in checks.values()), checks


class ServiceProbe:
    """The running service's parts, as far as they have started, for the endpoints to look at."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.rt: Runtime | None = None
        self.poller: FeedPoller | None = None
        self.polling: asyncio.Task | None = None
        self.scheduler: BaseScheduler | None = None
        #: Why the price source could not start, if it could not.
        self.price_error: str | None = None

    def attach(self, rt: Runtime, poller: FeedPoller, polling: asyncio.Task) -> None:
        """The polling has started; `scheduler` is set when the scheduled jobs start, after the first poll."""
        self.rt, self.poller, self.polling = rt, poller, polling

    def alive(self) -> tuple[bool, dict[str, Any]]:
        if self.polling is not None and self.polling.done():
            return False, {"status": "the feed poller stopped", "error": _task_error(self.polling)}
        return True, {"status": "ok"}

    async def readiness(self) -> tuple[bool, dict[str, Any]]:
        if self.rt is None or self.poller is None:
            return False, {"status": "starting"}
        rt, poller = self.rt, self.poller
        from service.store.db import session as open_session
        from service.store.health import polling_state

        def read():
            with open_session(rt.engine) as session:
                return polling_state(session)

        state, error = None, None
        try:
            state = await asyncio.wait_for(asyncio.to_thread(read), timeout=DATABASE_TIMEOUT)
        except TimeoutError:
            error = f"no answer within {DATABASE_TIMEOUT:g}s"
        except Exception as exc:  # any failure to read is the answer
            error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
        reload_error = rt.rules.last_error
        facts = ReadinessFacts(
            now=rt.clock(),
            tick=rt.settings.scheduler_tick_seconds,
            database_error=error,
            rules_loaded=rt.rules.current is not None,
            rules_reload_error=str(reload_error).splitlines()[0] if reload_error else None,
            poller_idle=None if poller.alive_at is None else time.monotonic() - poller.alive_at,
            poller_running=self.polling is not None and not self.polling.done(),
            scheduler_running=self.scheduler is not None and self.scheduler.running,
            last_poll=poller.last_polled_at,
            any_last_poll=state.last_polled_at if state else None,
            next_due=state.next_due_at if state else None,
            price_error=self.price_error,
        )
        ready, checks = judge_readiness(facts)
        return ready, {"status": "ready" if ready else "not ready", "instance": rt.instance, "checks": checks}

    async def metrics(self) -> bytes:
        from prometheus_client import generate_latest

        if self.rt is not None:
            rt = self.rt
            from service.store.db import session as open_session
            from service.store.health import queue_state

            def read():
                with open_session(rt.engine) as session:
                    return queue_state(session, rt.clock())

            try:
                state = await asyncio.wait_for(asyncio.to_thread(read), timeout=DATABASE_TIMEOUT)
                metrics.set_database_state(state.alerts_by_status, state.oldest_pending_age, state.digests_by_status)
            except Exception:  # the process's own counters are still worth serving
                log.warning("could not read the outbox and digest state for /metrics", exc_info=True)
        return generate_latest(metrics.REGISTRY)


def _task_error(task: asyncio.Task) -> str | None:
    if task.cancelled():
        return "cancelled"
    error = task.exception()
    return None if error is None else f"{type(error).__name__}: {error}"


@asynccontextmanager
async def open_health_server(settings: Settings, probe: ServiceProbe) -> AsyncIterator[None]:
    """Serve the endpoints while the block runs; nothing without REEWATCH_HTTP_PORT."""
    if settings.http_port is None:
        yield
        return
    from aiohttp import web
    from prometheus_client import CONTENT_TYPE_LATEST

    def answer(ok: bool, body: dict[str, Any]) -> web.Response:
        return web.Response(
            status=200 if ok else 503, text=json.dumps(body, indent=2) + "\n", content_type="application/json"
        )

    async def healthz(_request: web.Request) -> web.Response:
        return answer(*probe.alive())

    async def readyz(_request: web.Request) -> web.Response:
        return answer(*await probe.readiness())

    async def metrics_page(_request: web.Request) -> web.Response:
        body = await probe.metrics()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_page)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    host, port = settings.http_host, settings.http_port
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await runner.cleanup()
        raise ReewatchError(f"cannot listen on {host}:{port} for /healthz, /readyz and /metrics: {exc.strerror or exc}") from None
    log.info("health and metrics on http://%s:%d/ (/healthz, /readyz, /metrics)", host, port)
    try:
        yield
    finally:
        await runner.cleanup()
