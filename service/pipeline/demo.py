"""`make demo`: the main job on the embedded default, with no internet and no set-up.

Starts a loopback HTTP server with the sample feeds shipped in the package, points the real
ingestion path at it with a fresh SQLite file, runs one cycle, then a second to show that
unchanged feeds cost a 304 and no parsing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from service.bootstrap import open_runtime
from service.config import Settings
from service.demo.server import FeedServer
from service.domain.feeds import FeedSpec
from service.pipeline.poll import CycleReport, poll_due_feeds
from service.pipeline.runner import sync_specs
from service.store import migrate

DEMO_FEEDS = Path(__file__).resolve().parents[1] / "demo" / "feeds"
#: The kind of source each sample feed imitates (it sets the source's weight in scoring).
DEMO_KINDS = {"bis-rules": "official", "mining-wire": "sector", "markets-aggregator": "aggregator"}


@dataclass
class DemoReport:
    database: Path
    first: CycleReport
    second: CycleReport


def demo_settings(base: Settings) -> Settings:
    """The embedded default: its own SQLite file under var/, replayed prices, console alerts, files for mail."""
    database = base.var_dir / "demo.db"
    return base.model_copy(
        update={"database_url": f"sqlite:///{database}", "instance_id": "demo", "price_source": "replay"}
    )


async def run_demo(base: Settings) -> DemoReport:
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
            first = await poll_due_feeds(rt)
            # A minute later every feed is due again; the server answers 304 to our validators.
            start = rt.clock()
            rt.clock = lambda: start + timedelta(seconds=61)
            second = await poll_due_feeds(rt)
    return DemoReport(database, first, second)
