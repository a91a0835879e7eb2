"""An outbox on a real database, with alerts queued as the pipeline will queue them."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from sqlmodel import select

from service.alerts.queue import queue_alerts
from service.config import Settings
from service.domain.scoring import Assessment, Source
from service.store import migrate
from service.store.db import make_engine, session
from service.store.models import Article, Feed, OutboxAlert

_GUIDS = itertools.count(1)


def assessment(**overrides) -> Assessment:
    """An alerting verdict like the rules engine's, for an export-control story."""
    values = dict(
        event_types=("export_control_new",),
        score=88,
        severity="critical",
        alert=True,
        rules=("china_export_controls",),
        matched=("export control", "rare earth"),
        impacts={"MP": "bullish", "USAR": "bullish", "F": "bearish"},
        relevance={"MP": 100, "USAR": 80, "F": 40},
    )
    values.update(overrides)
    return Assessment(**values)


class Outbox:
    """A migrated database to queue alerts into and drain them from."""

    def __init__(self, settings: Settings):
        self.settings = settings
        migrate.upgrade(settings.database_url)
        self.engine = make_engine(settings.database_url)
        with session(self.engine) as s:
            feed = Feed(name="wire", url="https://wire.example/feed")
            s.add(feed)
            s.commit()
            self.feed_id = feed.id

    def queue(
        self,
        title: str = "China tightens rare-earth export licences",
        *,
        link: str | None = "https://wire.example/a",
        verdict: Assessment | None = None,
        source: Source | None = None,
        now: datetime | None = None,
    ) -> list[OutboxAlert]:
        """Store an article and queue its alerts in one transaction, as poll.py will."""
        now = now or datetime.now(UTC)
        with session(self.engine) as s:
            article = Article(feed_id=self.feed_id, guid=f"g{next(_GUIDS)}", title=title, link=link, content_hash="h")
            s.add(article)
            s.flush()
            rows = queue_alerts(
                s,
                article_id=article.id,
                title=title,
                link=link,
                source=source or Source("Mining Wire", kind="sector"),
                published=datetime(2025, 10, 9, 14, 3, tzinfo=UTC),
                assessment=verdict or assessment(),
                default_channel=self.settings.slack_default_channel,
                now=now,
            )
            s.commit()
            return rows

    def rows(self) -> list[OutboxAlert]:
        with session(self.engine) as s:
            return list(s.exec(select(OutboxAlert).order_by(OutboxAlert.id)))

    def row(self, alert_id: int) -> OutboxAlert:
        with session(self.engine) as s:
            return s.get(OutboxAlert, alert_id)

    def close(self) -> None:
        self.engine.dispose()
