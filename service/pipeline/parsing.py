"""Where feed parsing runs: in worker processes, each parse under a deadline and a memory cap.

feedparser is pure Python and dominates CPU time, and a feed body is hostile: whatever it holds,
one parse must neither stall the service nor take the machine's memory. So every parse runs in
a worker process (pebble's pool): a parse past its deadline has its worker ended, a worker past
its memory cap ends itself, and a worker that dies (the kernel's OOM killer, SIGKILL)
costs that one feed one failure; pebble starts a replacement and the other parses carry on.
Workers start from a fresh interpreter (forkserver), never a fork of a process that already
runs threads, and hold only what parsing needs. `REEWATCH_PARSE_WORKERS=0` parses inline,
without deadline or cap (debugging).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import resource
import signal
from concurrent.futures import CancelledError
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from typing import TYPE_CHECKING

from service.errors import ParseError
from service.sources.parser import ParsedFeed, parse_feed

if TYPE_CHECKING:
    from pebble import ProcessPool

log = logging.getLogger(__name__)

#: A worker that runs out of memory exits with this code, so its death can be told apart.
OUT_OF_MEMORY_EXIT = 86
DEFAULT_DEADLINE = 30.0
DEFAULT_MEMORY_MB = 200
#: What the forkserver loads once for every worker it forks: the parser and the libraries it
#: loads on first use (so each worker's memory cap counts from a process that holds them).
WORKER_PRELOAD = ["service.sources.parser", "feedparser", "ftfy"]


def default_workers() -> int:
    """One per CPU but one, and at least one (every parse runs in a worker): the main process
    scores and stores what the workers parse, and a worker that would share its core costs its
    memory for nothing."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cpus - 1, 8))


class ParseFailed(ParseError):
    """The parser process could not finish this body: too slow, too big, or it died."""


class FeedParserPool:
    """Parses feed bodies in worker processes, one deadline and one memory cap per parse."""

    def __init__(
        self,
        workers: int | None = None,
        *,
        deadline: float = DEFAULT_DEADLINE,
        memory_mb: int = DEFAULT_MEMORY_MB,
    ):
        self.workers = default_workers() if workers is None else workers
        self.deadline = deadline
        self.memory_mb = memory_mb
        self._pool: ProcessPool | None = None

    async def parse(
        self, body: bytes, *, url: str, content_type: str | None, now: datetime, batch_size: int = 1
    ) -> ParsedFeed:
        """Parse one body. Raises EmptyBody or NotAFeed like parse_feed, or ParseFailed when the
        worker had to be ended; `batch_size` is how many bodies this cycle parses (unused now
        that every parse has its own worker, kept for callers)."""
        if self.workers <= 0:
            return parse_feed(body, url=url, content_type=content_type, now=now)
        from pebble import ProcessExpired

        future = self._schedule(body, url, content_type, now)
        try:
            try:
                return await asyncio.wrap_future(future)
            except BrokenProcessPool:
                # A worker died before it took its task, and pebble gave up on the whole pool
                # (every task in flight was aborted): build a new one and try once more.
                log.warning("the feed parser pool broke; starting a new one")
                self._discard()
                future = self._schedule(body, url, content_type, now)
                return await asyncio.wrap_future(future)
        except BrokenProcessPool:
            raise ParseFailed("the parser processes kept dying while this feed was parsed") from None
        except TimeoutError:
            raise ParseFailed(
                f"parsing took longer than the {self.deadline:g}s deadline; the parser process was ended"
            ) from None
        except ProcessExpired as exc:
            raise ParseFailed(self._death(exc.exitcode)) from None
        except (CancelledError, asyncio.CancelledError):
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                future.cancel()  # this poll was cancelled (the service stops): free the worker too
                raise
            raise ParseFailed("the parse was cancelled: the parser pool was shut down") from None

    def _schedule(self, body: bytes, url: str, content_type: str | None, now: datetime):
        pool = self._executor()
        try:
            return pool.schedule(_parse_in_worker, args=(body, url, content_type, now), timeout=self.deadline)
        except RuntimeError:
            # The pool itself broke (its manager stopped): build a new one and go on.
            log.warning("the feed parser pool stopped working; starting a new one")
            self._discard()
            return self._executor().schedule(
                _parse_in_worker, args=(body, url, content_type, now), timeout=self.deadline
            )

    def _death(self, exitcode: int | None) -> str:
        if exitcode == OUT_OF_MEMORY_EXIT:
            return f"parsing needed more than {self.memory_mb} MB; the parser process was ended"
        if exitcode == 1:
            # Python's own exit after an uncaught error outside the parse: in a worker that
            # only receives bodies and sends entries, running out of memory.
            return f"the parser process failed while handling this feed (it may have needed more than {self.memory_mb} MB)"
        if exitcode is not None and exitcode < 0:
            try:
                name = signal.Signals(-exitcode).name
            except ValueError:
                name = f"signal {-exitcode}"
            hint = " (the system may have run out of memory)" if name == "SIGKILL" else ""
            return f"the parser process was killed by {name} while reading this feed{hint}"
        return f"the parser process died (exit code {exitcode}) while reading this feed"

    def _executor(self) -> ProcessPool:
        # pebble loads with the first body to parse, once the first poll's fetches are out.
        from pebble import ProcessPool

        if self._pool is None or not self._pool.active:
            self._discard()
            context = multiprocessing.get_context("forkserver")
            # The forkserver imports what a worker runs, once: this module, the parser and the
            # libraries the parser loads on first use; each worker forked from it shares those
            # pages. Nothing else of the service is loaded there: keep these imports free of
            # pydantic, SQLAlchemy and NumPy, which would cost every worker and the forkserver again.
            context.set_forkserver_preload([__name__, *WORKER_PRELOAD])
            self._pool = ProcessPool(
                max_workers=self.workers,
                initializer=_limit_worker_memory,
                initargs=(self.memory_mb,),
                context=context,
            )
        return self._pool

    def _discard(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.stop()
            _join(pool)

    def close(self) -> None:
        """Let parses in flight finish (each is bounded by the deadline), then end the workers."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()
            if not _join(pool, timeout=self.deadline + 5):
                pool.stop()
                _join(pool)


def _join(pool: ProcessPool, timeout: float = 10) -> bool:
    try:
        pool.join(timeout=timeout)
    except TimeoutError:
        log.warning("feed parser workers did not stop within %gs", timeout)
        return False
    return True


def _limit_worker_memory(memory_mb: int) -> None:
    """In each worker: cap its address space at what it holds now plus `memory_mb`, so a
    runaway parse fails instead of the host. Relative, because what a worker holds before its
    first parse depends on the command that started it."""
    limit = _address_space() + memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _address_space() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * resource.getpagesize()


def _parse_in_worker(body: bytes, url: str, content_type: str | None, now: datetime) -> ParsedFeed:
    try:
        return parse_feed(body, url=url, content_type=content_type, now=now)
    except MemoryError:
        # Leave at once: a worker that hit its cap is in no state to take the next feed.
        os._exit(OUT_OF_MEMORY_EXIT)
