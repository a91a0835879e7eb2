"""Where feed parsing runs: inline for a few feeds, in worker processes for a big cycle.

feedparser is pure Python and dominates CPU time, so a cycle with many changed feeds parses them
on every core. Workers start from a fresh interpreter (forkserver), never a fork of a process
that already runs threads.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime

from service.sources.parser import ParsedFeed, parse_feed

#: Fewer bodies than this in a cycle are parsed inline: starting workers would cost more.
POOL_THRESHOLD = 8


def default_workers() -> int:
    """One per CPU but one: the main process scores and stores what the workers parse, and a
    worker it would have to share a core with costs its memory for nothing."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return min(cpus - 1, 8) if cpus > 1 else 0


class FeedParserPool:
    """Parses feed bodies, in worker processes when the cycle is big enough to pay for them."""

    def __init__(self, workers: int | None = None):
        self.workers = default_workers() if workers is None else workers
        self._pool: ProcessPoolExecutor | None = None

    async def parse(
        self, body: bytes, *, url: str, content_type: str | None, now: datetime, batch_size: int = 1
    ) -> ParsedFeed:
        if self.workers <= 0 or batch_size < POOL_THRESHOLD:
            return parse_feed(body, url=url, content_type=content_type, now=now)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor(), _parse_in_worker, body, url, content_type, now
        )

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["service.sources.parser"])
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context)
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _parse_in_worker(body: bytes, url: str, content_type: str | None, now: datetime) -> ParsedFeed:
    return parse_feed(body, url=url, content_type=content_type, now=now)
