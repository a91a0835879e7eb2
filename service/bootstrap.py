"""The composition root: the one place that builds concrete adapters from settings."""

from __future__ import annotations

import asyncio
import contextvars
import os
import random
import socket
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
from rich.console import Console
from sqlalchemy import Engine

from service.config import Settings
from service.config_watch import WatchedConfig
from service.delivery.email import Mailer, OutboxMailer, SmtpMailer, sender_address
from service.delivery.notifier import Notifier
from service.errors import ReewatchError
from service.pipeline.heartbeat import HeldLeases
from service.pipeline.parsing import FeedParserPool
from service.rules import Ruleset, watch_ruleset
from service.sources.fetcher import make_http_client
from service.store.db import make_engine

if TYPE_CHECKING:
    from service.pipeline.digest_data import StoredMarketData
    from service.pipeline.prices import PriceFeed
    from service.sources.prices.source import PriceSource

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
    #: Where alerts go: Slack with a token, the console without.
    notifier: Notifier
    clock: Callable[[], datetime] = utc_now
    rng: random.Random = field(default_factory=random.Random)
    #: Set after committing outbox rows, so the dispatcher claims them at once instead of at its next poll.
    outbox_wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    #: The leases of the work in flight here, renewed by the heartbeat (pipeline/heartbeat.py).
    leases: HeldLeases = field(default_factory=HeldLeases)
    # Database calls are blocking: run them on one thread so the event loop keeps fetching,
    # and so SQLite sees one writer at a time.
    _db_thread: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=1, thread_name_prefix="reewatch-db")
    )

    async def db(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a blocking store function off the event loop (its log lines keep the caller's context)."""
        context = contextvars.copy_context()
        return await asyncio.get_running_loop().run_in_executor(self._db_thread, context.run, fn, *args)

    async def aclose(self) -> None:
        await self.notifier.aclose()
        await self.http.aclose()
        self.parser.close()
        self._db_thread.shutdown(wait=True)
        self.engine.dispose()


def make_parser_pool(settings: Settings) -> FeedParserPool:
    """The worker processes that parse feed bodies, with the configured deadline and memory cap."""
    return FeedParserPool(settings.parse_workers, deadline=settings.parse_deadline, memory_mb=settings.parse_memory_mb)


def make_notifier(settings: Settings, console: Console | None = None) -> Notifier:
    """Slack when a bot token is set; otherwise the console, in the same layout."""
    token = settings.slack_bot_token.get_secret_value().strip() if settings.slack_bot_token else ""
    if not token:
        from service.delivery.console import ConsoleNotifier

        return ConsoleNotifier(console or Console())
    from service.delivery.slack import SlackNotifier

    return SlackNotifier(token=token, base_url=settings.slack_api_url, timeout=settings.slack_timeout)


@asynccontextmanager
async def open_runtime(
    settings: Settings, *, engine: Engine | None = None, notifier: Notifier | None = None
) -> AsyncIterator[Runtime]:
    """Build the runtime. Raises ConfigError first if the rules folder is broken: the service
    does not start without rules."""
    rules = watch_ruleset(settings.rules_dir)
    rules.load_initial()
    runtime = Runtime(
        settings=settings,
        engine=engine or make_engine(settings.database_url),
        http=make_http_client(settings),
        parser=make_parser_pool(settings),
        instance=settings.instance_id or default_instance_id(),
        rules=rules,
        notifier=notifier or make_notifier(settings),
    )
    try:
        yield runtime
    finally:
        await runtime.aclose()


def make_price_source(settings: Settings) -> PriceSource:
    """The price source PRICE_SOURCE names; imported here only, so the CLI stays light without it."""
    if settings.price_source == "replay":
        from service.sources.prices.replay import ReplayPriceSource

        if settings.price_replay_file is None:
            raise ReewatchError("PRICE_SOURCE=replay needs REEWATCH_PRICE_REPLAY_FILE, the CSV file of bars to replay")
        return ReplayPriceSource(settings.price_replay_file)
    from service.sources.prices.yahoo import YahooPriceSource

    return YahooPriceSource(settings.yfinance_cache_dir)


@asynccontextmanager
async def open_price_feed(
    settings: Settings, *, stream_tickers: Sequence[str] = (), source: PriceSource | None = None
) -> AsyncIterator[PriceFeed]:
    """The configured price source (or `source`, already made from the settings), plus Yahoo's
    live stream for `stream_tickers` when enabled."""
    from service.pipeline.prices import PriceFeed

    feed = PriceFeed(source or make_price_source(settings))
    if settings.price_stream and stream_tickers and settings.price_source == "yfinance":
        from service.sources.prices.listings import listings_for
        from service.sources.prices.stream import YahooStream

        listings, _ = listings_for(stream_tickers)
        stream = YahooStream(listings, url=settings.price_stream_url)
        stream.start()
        feed.stream = stream
    try:
        yield feed
    finally:
        if feed.stream is not None:
            await feed.stream.stop()
        await feed.source.aclose()


def make_market_data(runtime: Runtime) -> StoredMarketData:
    """The digest's alerts and prices, read from the store with the rules in force at each read."""
    from service.pipeline.digest_data import StoredMarketData

    return StoredMarketData(lambda: runtime.rules.current, max_alert_age=runtime.settings.alert_age_limit)


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
