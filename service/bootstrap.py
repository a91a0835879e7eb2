"""The composition root: the one place that builds concrete adapters from settings."""

from __future__ import annotations

import asyncio
import os
import random
import socket
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
from sqlalchemy import Engine

from service.config import Settings
from service.config_watch import WatchedConfig
from service.pipeline.parsing import FeedParserPool
from service.rules import Ruleset, watch_ruleset
from service.sources.fetcher import make_http_client
from service.store.db import make_engine

T = TypeVar("T")


def default_instance_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    """Everything a pipeline step needs, built once per process."""

    settings: Settings
    engine: Engine
    http: httpx.AsyncClient
    parser: FeedParserPool
    instance: str
    #: The alert rules and watchlists, reloaded on change (the last good version kept).
    rules: WatchedConfig[Ruleset]
    clock: Callable[[], datetime] = utc_now
    rng: random.Random = field(default_factory=random.Random)
    # Database calls are blocking: run them on one thread so the event loop keeps fetching,
    # and so SQLite sees one writer at a time.
    _db_thread: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=1, thread_name_prefix="reewatch-db")
    )

    async def db(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a blocking store function off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self._db_thread, fn, *args)

    async def aclose(self) -> None:
        await self.http.aclose()
        self.parser.close()
        self._db_thread.shutdown(wait=True)
        self.engine.dispose()


@asynccontextmanager
async def open_runtime(settings: Settings, *, engine: Engine | None = None) -> AsyncIterator[Runtime]:
    """Build the runtime. Raises ConfigError first if the rules folder is broken: the service
    does not start without rules."""
    rules = watch_ruleset(settings.rules_dir)
    rules.load_initial()
    workers = settings.parse_workers if settings.parse_workers > 0 else None
    runtime = Runtime(
        settings=settings,
        engine=engine or make_engine(settings.database_url),
        http=make_http_client(settings),
        parser=FeedParserPool(workers),
        instance=settings.instance_id or default_instance_id(),
        rules=rules,
    )
    try:
        yield runtime
    finally:
        await runtime.aclose()
