"""The main job in burst mode (`reewatch run --once`): everything due, once, then return."""

from __future__ import annotations

from service.bootstrap import Runtime, open_runtime
from service.config import Settings
from service.domain.feeds import FeedSpec
from service.pipeline.poll import CycleReport, poll_due_feeds
from service.sources.feed_config import load_feeds
from service.store import migrate
from service.store.db import session as open_session
from service.store.feeds import SyncReport, sync_feeds


async def run_once(settings: Settings) -> CycleReport:
    """Migrate, sync feeds.yaml, poll every due feed once. Raises ConfigError on a bad file."""
    specs = load_feeds(settings.feeds_file)
    migrate.upgrade(settings.database_url)
    async with open_runtime(settings) as rt:
        await sync_specs(rt, specs)
        return await poll_due_feeds(rt)


async def sync_specs(rt: Runtime, specs: list[FeedSpec]) -> SyncReport:
    def sync() -> SyncReport:
        with open_session(rt.engine) as session:
            return sync_feeds(session, specs, rt.clock())

    return await rt.db(sync)
