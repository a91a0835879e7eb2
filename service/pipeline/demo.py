"""`make demo`: the main job on the embedded default, with no internet and no set-up.

Starts a loopback HTTP server with the sample feeds shipped in the package, points the real
ingestion path at it with a fresh SQLite file, runs one cycle (fetch, parse, score, queue
alerts), a second to show that unchanged feeds cost a 304 and no parsing, then delivers the
queued alerts to the console in the layout Slack would show, and writes the daily digest of a
demo reader to files under var/outbox/. Each stage is yielded as it completes, so the command
line can show it before the next one starts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from service.bootstrap import Runtime, make_market_data, open_runtime
from service.config import Settings
from service.delivery.dispatcher import DeliveryReport, drain_outbox
from service.demo.recent_prices import write_recent_sample
from service.demo.server import FeedServer
from service.digest.schedule import next_send
from service.domain.feeds import FeedSpec
from service.pipeline.digest import DigestOutcome, load_digest_setup, send_digest
from service.pipeline.poll import CycleReport, poll_due_feeds
from service.pipeline.prices import PriceCycleReport, PriceFeed, run_price_cycle
from service.pipeline.runner import sync_specs
from service.sources.prices.replay import ReplayPriceSource
from service.store import migrate

DEMO_FEEDS = Path(__file__).resolve().parents[1] / "demo" / "feeds"
#: The demo's digest reader: every day, an .example address, files instead of mail.
DEMO_DIGESTS = Path(__file__).resolve().parents[1] / "demo" / "digests.yaml"
#: The kind of source each sample feed imitates (it sets the source's weight in scoring).
DEMO_KINDS = {"bis-rules": "official", "mining-wire": "sector", "markets-aggregator": "aggregator"}


@dataclass
class Ingested:
    """The first cycle: every sample item fetched, parsed, scored and stored."""

    database: Path
    cycle: CycleReport


@dataclass
class Revisited:
    """The second cycle, a minute later: the server answers 304 to our validators."""

    cycle: CycleReport


@dataclass
class Delivered:
    """The queued alerts, delivered (printed on the console as they go)."""

    report: DeliveryReport


@dataclass
class DigestWritten:
    """The demo reader's digest, written to var/outbox/ as .eml and .html (no mail is sent)."""

    prices: PriceCycleReport
    outcome: DigestOutcome
    files: list[Path]


DemoStage = Ingested | Revisited | Delivered | DigestWritten


def demo_settings(base: Settings) -> Settings:
    """The embedded default: its own SQLite file under var/, replayed prices, console alerts, files for mail."""
    database = base.var_dir / "demo.db"
    # Never post the demo's alerts to a real workspace or mail server, whatever .env says.
    return base.model_copy(
        update={
            "database_url": f"sqlite:///{database}",
            "instance_id": "demo",
            "price_source": "replay",
            "slack_bot_token": None,
            "smtp_host": None,
        }
    )


async def run_demo(base: Settings) -> AsyncIterator[DemoStage]:
    """Run the demo's stages in order, yielding each one's outcome as it completes."""
    settings = demo_settings(base)
    database = Path(settings.database_url.removeprefix("sqlite:///"))
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    migrate.upgrade(settings.database_url)
    with FeedServer() as server:
        urls = server.serve_directory(DEMO_FEEDS)
        specs = [
            FeedSpec(name=name, url=url, interval=60, kind=DEMO_KINDS.get(name, "sector"))
            for name, url in urls.items()
        ]
        async with open_runtime(settings) as rt:
            await sync_specs(rt, specs)
            yield Ingested(database, await poll_due_feeds(rt))
            # A minute later every feed is due again; the server answers 304 to our validators.
            start = rt.clock()
            rt.clock = lambda: start + timedelta(seconds=61)
            yield Revisited(await poll_due_feeds(rt))
            yield Delivered(await drain_outbox(rt, patience=0))
            yield await write_demo_digest(rt, settings, ingested_at=start)


async def write_demo_digest(rt: Runtime, settings: Settings, *, ingested_at: datetime) -> DigestWritten:
    """Store the (moved) sample prices of the reader's tickers, then write their next digest,
    the one that carries what the demo ingested."""
    market = make_market_data(rt)
    setup = load_digest_setup(settings, market, ruleset=rt.rules.current, digests_file=DEMO_DIGESTS)
    [recipient] = setup.recipients
    sample = settings.var_dir / "demo-prices.csv"
    write_recent_sample(sample, rt.clock())
    tickers = list(market.followed_tickers(recipient.watchlists))
    prices = await run_price_cycle(rt, PriceFeed(ReplayPriceSource(sample)), tickers)
    day, _ = next_send(recipient, ingested_at)
    outcome = await send_digest(rt, setup, recipient, day, now=rt.clock(), force=True)
    eml = Path(outcome.detail)
    files = [eml, eml.with_suffix(".html")] if outcome.status == "sent" else []
    return DigestWritten(prices, outcome, files)
