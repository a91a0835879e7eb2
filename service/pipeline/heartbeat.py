"""This instance's heartbeat: proof of life for the others, renewal of its leases, and the
takeover of work left by instances that stopped beating (store/instances.py says why).

`keep_alive(rt)` beats once before returning (so nothing is claimed by an instance the others
cannot see), then every REEWATCH_HEARTBEAT_SECONDS until the block ends, when the instance
frees what it still holds and removes its row. The beat runs on a thread of its own: a long
transaction on the runtime's database thread must not make a live instance look dead.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from service import metrics
from service.store.db import session as open_session
from service.store.instances import Takeover, beat, leave, renew_leases, take_over_dead

if TYPE_CHECKING:
    from service.bootstrap import Runtime

log = logging.getLogger(__name__)


class HeldLeases:
    """The leases this process has work in flight under: (table, lease token) -> rows in flight.

    Whatever claims work says `hold` and, as each row's work ends, `let_go`; the heartbeat renews
    exactly these, so a lease nobody works on any more (a forgotten row, a bug) still runs out."""

    def __init__(self) -> None:
        self._held: Counter[tuple[type, str]] = Counter()

    def hold(self, model: type, token: str, rows: int = 1) -> None:
        if rows > 0:
            self._held[(model, token)] += rows

    def let_go(self, model: type, token: str, rows: int = 1) -> None:
        key = (model, token)
        self._held[key] -= rows
        if self._held[key] <= 0:
            del self._held[key]

    def tokens(self) -> list[tuple[type, str]]:
        return list(self._held)

    def holding(self, model: type, tokens: Iterable[str]) -> _Holding:
        """`with leases.holding(Feed, tokens):` holds one row per token for the block."""
        return _Holding(self, model, list(tokens))


class _Holding:
    def __init__(self, leases: HeldLeases, model: type, tokens: list[str]):
        self.leases, self.model, self.tokens = leases, model, tokens

    def __enter__(self) -> None:
        for token in self.tokens:
            self.leases.hold(self.model, token)

    def __exit__(self, *exc) -> None:
        for token in self.tokens:
            self.leases.let_go(self.model, token)


class Heartbeat:
    """Beats for `rt.instance`; see the module's docstring."""

    def __init__(self, rt: Runtime, on_takeover: Callable[[list[Takeover]], None] | None = None):
        self.rt = rt
        self.on_takeover = on_takeover
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.started_at = rt.clock()
        self.every = rt.settings.heartbeat_seconds
        self.timeout = timedelta(seconds=rt.settings.instance_timeout)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reewatch-heartbeat")

    async def beat(self) -> list[Takeover]:
        """One beat: the row, the renewals, the takeovers (logged, counted, announced)."""
        now = self.rt.clock()
        # Read on the event loop, which is where work holds and lets go of leases.
        held = self.rt.leases.tokens()
        takeovers = await asyncio.get_running_loop().run_in_executor(self._thread, self._beat, now, held)
        for takeover in takeovers:
            what = ", ".join(f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in sorted(takeover.freed.items()))
            log.warning(
                "instance %s (%s pid %d) last beat %.0fs ago: took over its work (%s)",
                takeover.instance,
                takeover.host,
                takeover.pid,
                (now - takeover.beat_at).total_seconds(),
                what or "nothing was leased",
            )
            for kind, n in takeover.freed.items():
                metrics.LEASE_TAKEOVERS.labels(kind).inc(n)
            metrics.INSTANCE_TAKEOVERS.inc()
        if takeovers and self.on_takeover is not None:
            self.on_takeover(takeovers)
        return takeovers

    async def run(self) -> None:
        """Beat until cancelled; a failed beat is logged and the next one tries again."""
        while True:
            await asyncio.sleep(self.every)
            try:
                await self.beat()
            except Exception:
                log.exception("heartbeat failed; trying again in %ss", self.every)

    async def leave(self) -> None:
        """Free what this instance still holds and remove its row (a clean stop)."""
        try:
            freed = await asyncio.get_running_loop().run_in_executor(self._thread, self._leave)
        except Exception:
            log.exception("could not remove this instance's heartbeat; others take its work over after %ss", self.timeout.total_seconds())
        else:
            if freed:
                log.info("freed %d leases still held at stop", freed)
        finally:
            self._thread.shutdown(wait=True)

    def _beat(self, now: datetime, held: list[tuple[type, str]]) -> list[Takeover]:
        with open_session(self.rt.engine) as session:
            beat(session, instance=self.rt.instance, host=self.host, pid=self.pid, started_at=self.started_at, now=now)
            renew_leases(session, held, now, self.rt.settings.lease)
            return take_over_dead(session, now, self.timeout, survivor=self.rt.instance)

    def _leave(self) -> int:
        with open_session(self.rt.engine) as session:
            return leave(session, self.rt.instance)


@asynccontextmanager
async def keep_alive(
    rt: Runtime, *, on_takeover: Callable[[list[Takeover]], None] | None = None
) -> AsyncIterator[Heartbeat]:
    """Beat for the block's duration (the first beat before it starts); leave cleanly at its end."""
    heart = Heartbeat(rt, on_takeover)
    await heart.beat()
    task = asyncio.create_task(heart.run(), name="heartbeat")
    try:
        yield heart
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await heart.leave()
