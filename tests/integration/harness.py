"""Drive the real ingestion path against loopback servers and a real database."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlmodel import select

from service.bootstrap import open_runtime
from service.config import Settings
from service.domain.feeds import FeedSpec
from service.pipeline.poll import CycleReport, poll_due_feeds
from service.pipeline.runner import sync_specs
from service.store.db import make_engine, session
from service.store.models import Article, Feed
from tests import databases


class Ingestion:
    """A database plus the pipeline; `cycle()` runs one poll cycle at a chosen time."""

    def __init__(self, settings: Settings, specs: list[FeedSpec]):
        self.settings = settings
        self.specs = specs
        databases.upgrade(settings.database_url)
        self.engine = make_engine(settings.database_url)
        self.synced = False

    def cycle(self, at: datetime | None = None) -> CycleReport:
        return asyncio.run(self._cycle(at))

    async def _cycle(self, at: datetime | None) -> CycleReport:
        async with open_runtime(self.settings, engine=make_engine(self.settings.database_url)) as rt:
            if at is not None:
                rt.clock = lambda: at
            if not self.synced:
                await sync_specs(rt, self.specs)
                self.synced = True
            return await poll_due_feeds(rt)

    def feed(self, name: str) -> Feed:
        with session(self.engine) as s:
            return s.exec(select(Feed).where(Feed.name == name)).one()

    def articles(self, name: str | None = None) -> list[Article]:
        with session(self.engine) as s:
            query = select(Article).order_by(Article.id)
            if name is not None:
                query = query.join(Feed, Feed.id == Article.feed_id).where(Feed.name == name)
            return list(s.exec(query))

    def close(self) -> None:
        self.engine.dispose()


def later(moment: datetime, seconds: float) -> datetime:
    return moment + timedelta(seconds=seconds)
