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
from service.delivery.email import Mailer, OutboxMailer, SmtpMailer, sender_address
from service.pipeline.parsing import FeedParserPool
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
    runtime = Runtime(
        settings=settings,
        engine=engine or make_engine(settings.database_url),
        http=make_http_client(settings),
        parser=FeedParserPool(settings.parse_workers),
        instance=settings.instance_id or default_instance_id(),
    )
    try:
        yield runtime
    finally:
        await runtime.aclose()


def make_mailer(settings: Settings) -> Mailer:
    """SMTP when SMTP_HOST is set; otherwise .eml and .html files under var/outbox/."""
    if not settings.smtp_host:
        return OutboxMailer(settings.outbox_dir)
    return SmtpMailer(
        host=settings.smtp_host,
        port=settings.smtp_port,
        envelope_from=sender_address(settings.digest_from).addr_spec,
        user=settings.smtp_user or None,
        password=settings.smtp_password,
        starttls=settings.smtp_starttls,
        timeout=settings.smtp_timeout,
    )
