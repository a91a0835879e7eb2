"""An outbox on a real database, with alerts queued as the pipeline will queue them."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlmodel import select

from service.alerts.queue import Enrichment, queue_alerts
from service.config import Settings
from service.domain.feeds import SOURCE_WEIGHTS, Entry
from service.domain.scoring import Assessment, Source
from service.pipeline.stories import tell_stories
from service.rules import Ruleset, load_ruleset
from service.store.db import make_engine, session
from service.store.models import Article, Feed, OutboxAlert, Story
from tests import databases

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
        databases.upgrade(settings.database_url)
        self.engine = make_engine(settings.database_url)
        with session(self.engine) as s:
            feed = Feed(name="wire", url="https://wire.example/feed")
            s.add(feed)
            s.commit()
            self.feed_id = feed.id
        self.feeds = {"wire": self.feed_id}
        self._ruleset: Ruleset | None = None

    @property
    def ruleset(self) -> Ruleset:
        if self._ruleset is None:
            self._ruleset = load_ruleset(self.settings.rules_dir)
        return self._ruleset

    def report(
        self,
        title: str,
        summary: str = "",
        *,
        feed: str = "wire",
        kind: str = "wire",
        verdict: Assessment | None = None,
        published: datetime | None = None,
        now: datetime | None = None,
        link: str | None = None,
        backfill: bool = False,
        followups: bool = False,
    ) -> list[OutboxAlert]:
        """Store one report from `feed` as poll.py does: its story, its novelty, what the desk is
        told. The verdict is the shipped rules' unless given. Returns the rows queued for it."""
        now = now or datetime.now(UTC)
        source = Source(feed, kind=kind, weight=SOURCE_WEIGHTS[kind])
        verdict = verdict or self.ruleset.assess(title, summary, source)
        guid = f"g{next(_GUIDS)}"
        entry = Entry(guid, link, link, title, summary, published or now, "h")
        with session(self.engine) as s:
            if feed not in self.feeds:
                row = Feed(name=feed, url=f"https://{feed}.example/feed", kind=kind)
                s.add(row)
                s.flush()
                self.feeds[feed] = row.id
            article = Article(
                feed_id=self.feeds[feed], guid=guid, title=title, summary=summary, link=link, published=entry.published,
                content_hash="h", fetched_at=now, alert=verdict.alert, event_types=list(verdict.event_types),
                score=verdict.score, severity=verdict.severity, scored_at=now,
            )
            s.add(article)
            s.flush()
            before = {r.id for r in s.exec(select(OutboxAlert))}
            enrichment = Enrichment(followup_minutes=(15, 60)) if followups else Enrichment()
            tell_stories(
                s, self.ruleset, [(article.id, entry, verdict)], source, now=now, backfill=backfill, max_age=None,
                default_channel=self.settings.slack_default_channel, enrichment=enrichment,
            )
            s.commit()
            return list(s.exec(select(OutboxAlert).where(OutboxAlert.id.not_in(before)).order_by(OutboxAlert.id)))

    def stories(self) -> list[Story]:
        with session(self.engine) as s:
            return list(s.exec(select(Story).order_by(Story.id)))

    def article(self, article_id: int) -> Article:
        with session(self.engine) as s:
            return s.get(Article, article_id)

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

    def lease(self, *alert_ids: int, owner: str = "test:000000000000", until: datetime | None = None) -> str:
        """Lease exactly these rows to `owner` (a dispatcher's claim, chosen by hand); returns the token."""
        until = until or datetime.now(UTC) + timedelta(days=365)
        with session(self.engine) as s:
            s.exec(update(OutboxAlert).where(OutboxAlert.id.in_(alert_ids)).values(lease_owner=owner, lease_until=until))
            s.commit()
        return owner

    def close(self) -> None:
        self.engine.dispose()
