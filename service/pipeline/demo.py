"""`make demo`: the main job on the embedded default, with no internet and no set-up.

Starts a loopback HTTP server with the sample feeds shipped in the package, points the real
ingestion path at it with a fresh SQLite file, runs one cycle (fetch, parse, score, queue
alerts), a second to show that unchanged feeds cost a 304 and no parsing, then delivers the
queued alerts to the console in the layout Slack would show, and writes the daily digest of a
demo reader to files under var/outbox/. Each stage is yielded as it completes, so the command
line can show it before the next one starts.

Prices come from the synthetic sample (`service/demo/prices.csv`), so the demo runs on a clock
set to the sample's day, 2025-11-10 16:05 UTC: a price cycle first (bars, price rules), then the
feeds (alerts show the prices stored at that moment), twenty minutes later a second price
cycle and the 15-minute follow-ups in the alerts' threads, and at last the reader's next
morning: one more price cycle (the day's closes) and the digest that carries the day.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from service.bootstrap import Runtime, make_market_data, open_runtime
from service.config import Settings
from service.delivery.dispatcher import DeliveryReport, drain_outbox
from service.demo.server import FeedServer
from service.domain.feeds import FeedSpec
from service.digest.schedule import next_send
from service.domain.quotes import Quote
from service.pipeline.digest import DigestOutcome, load_digest_setup, send_digest
from service.pipeline.poll import CycleReport, poll_due_feeds
from service.pipeline.prices import PriceCycleReport, run_watchlist_cycle, watchlist_tickers
from service.pipeline.runner import sync_specs
from service.store import migrate
from service.store.db import session as open_session
from service.store.prices import load_quotes

DEMO_FEEDS = Path(__file__).resolve().parents[1] / "demo" / "feeds"
#: The demo's digest reader: every day, an .example address, files instead of mail.
DEMO_DIGESTS = Path(__file__).resolve().parents[1] / "demo" / "digests.yaml"
#: The synthetic price sample the demo replays.
DEMO_PRICES = Path(__file__).resolve().parents[1] / "demo" / "prices.csv"
#: The kind of source each sample feed imitates (it sets the source's weight in scoring).
DEMO_KINDS = {"bis-rules": "official", "mining-wire": "sector", "markets-aggregator": "aggregator"}
#: The demo's clock: the sample's last news day, New York trading, five minutes after the BIS notice.
DEMO_START = datetime(2025, 11, 10, 16, 5, tzinfo=UTC)
#: When the demo looks again: after the 15-minute follow-ups fall due.
DEMO_LATER = timedelta(minutes=20)


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
class PricesReplayed:
    """A price cycle on the synthetic sample at `at`: bars stored, rules judged, each ticker's quote."""

    at: datetime
    report: PriceCycleReport
    quotes: dict[str, Quote] = field(default_factory=dict)


@dataclass
class DigestWritten:
    """The demo reader's next-morning digest, written to var/outbox/ as .eml and .html."""

    prices: PricesReplayed
    outcome: DigestOutcome
    files: list[Path]


DemoStage = PricesReplayed | Ingested | Revisited | Delivered | DigestWritten


def demo_settings(base: Settings) -> Settings:
    """The embedded default: its own SQLite file under var/, replayed prices, console alerts, files for mail."""
    database = base.var_dir / "demo.db"
    # Never post the demo's alerts to a real workspace or mail server, whatever .env says.
    return base.model_copy(
        update={
            "database_url": f"sqlite:///{database}",
            "instance_id": "demo",
            "price_source": "replay",
            "price_replay_file": DEMO_PRICES,
            "slack_bot_token": None,
            "smtp_host": None,
            "max_alert_age": "0",
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
            # The sample is months of news shown as if it were new: it alerts, whatever its age.
            FeedSpec(name=name, url=url, interval=60, kind=DEMO_KINDS.get(name, "sector"), backfill="alert")
            for name, url in urls.items()
        ]
        async with open_runtime(settings) as rt:
            rt.clock = lambda: DEMO_START
            await sync_specs(rt, specs)
            yield await replay_prices(rt)
            yield Ingested(database, await poll_due_feeds(rt))
            # A minute later (and the polls' jitter, at most 5%) every feed is due again; the
            # server answers 304 to our validators.
            start = rt.clock()
            rt.clock = lambda: start + timedelta(seconds=64)
            yield Revisited(await poll_due_feeds(rt))
            yield Delivered(await drain_outbox(rt, patience=0))
            rt.clock = lambda: start + DEMO_LATER
            yield await replay_prices(rt)
            yield Delivered(await drain_outbox(rt, patience=0))
            yield await write_demo_digest(rt, settings)


async def write_demo_digest(rt: Runtime, settings: Settings) -> DigestWritten:
    """Move the clock to the demo reader's next digest time, store the prices known by then,
    and write that digest: the one that carries what the demo ingested."""
    setup = load_digest_setup(settings, make_market_data(rt), ruleset=rt.rules.current, digests_file=DEMO_DIGESTS)
    [recipient] = setup.recipients
    day, send_at = next_send(recipient, rt.clock())
    rt.clock = lambda: send_at
    prices = await replay_prices(rt)
    outcome = await send_digest(rt, setup, recipient, day, now=send_at, force=True)
    eml = Path(outcome.detail)
    files = [eml, eml.with_suffix(".html")] if outcome.status == "sent" else []
    return DigestWritten(prices, outcome, files)


async def replay_prices(rt: Runtime) -> PricesReplayed:
    """One price cycle for the watchlists at the runtime's clock, and the quotes it leaves."""
    report = await run_watchlist_cycle(rt)
    at = rt.clock()

    def quotes() -> dict[str, Quote]:
        with open_session(rt.engine) as session:
            return load_quotes(
                session,
                watchlist_tickers(rt),
                at,
                stale_sessions=rt.settings.price_stale_sessions,
                intraday=rt.settings.price_intraday_interval,
            )

    return PricesReplayed(at, report, await rt.db(quotes))
