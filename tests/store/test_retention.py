"""Retention on SQLite and PostgreSQL: old articles and bars go, in small batches; what an alert
needs, the alerts themselves and digest runs stay; instances running it at once never wait on
each other's rows."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlmodel import select

from service.bootstrap import open_runtime
from service.pipeline.retention import PRICE_HISTORY_DAYS, delete_expired
from service.store.db import session
from service.store.models import Article, DigestRun, Feed, OutboxAlert, PriceBar
from service.store.retention import delete_old_articles, delete_old_price_bars

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
CUTOFF = NOW - timedelta(days=180)


def seed(engine, *, old: int, recent: int, alerted_old: int = 0) -> dict[str, list[int]]:
    """A feed with `old` articles fetched before the cutoff, `recent` after, and `alerted_old`
    old ones that have an outbox alert; returns the ids of each kind."""
    ids: dict[str, list[int]] = {"old": [], "recent": [], "alerted": []}
    with session(engine) as s:
        feed = Feed(name="wire", url="https://wire.example.test/rss")
        s.add(feed)
        s.flush()
        for kind, count, fetched in (
            ("old", old, CUTOFF - timedelta(days=1)),
            ("recent", recent, CUTOFF + timedelta(days=1)),
            ("alerted", alerted_old, CUTOFF - timedelta(days=30)),
        ):
            for n in range(count):
                article = Article(
                    feed_id=feed.id, guid=f"{kind}-{n}", title=f"{kind} {n}", fetched_at=fetched, content_hash=f"{kind}{n}"
                )
                s.add(article)
                s.flush()
                ids[kind].append(article.id)
                if kind == "alerted":
                    s.add(OutboxAlert(key=f"news:{article.id}:#desk", article_id=article.id, channel="#desk", status="sent"))
        s.add(
            DigestRun(
                key="digest:reader@example.test:2025-01-02",
                recipient="reader@example.test",
                digest_date=date(2025, 1, 2),
                status="sent",
                next_attempt_at=CUTOFF - timedelta(days=300),
                expires_at=CUTOFF - timedelta(days=299),
                message_id="<d@example.test>",
            )
        )
        s.commit()
    return ids


def bars(engine, starts: list[datetime]) -> None:
    with session(engine) as s:
        for n, start in enumerate(starts):
            s.add(PriceBar(ticker="MP", interval="1d", timestamp=start, open=1, high=1, low=1, close=1, volume=n, source="replay"))
        s.commit()


def article_ids(engine) -> set[int]:
    with session(engine) as s:
        return set(s.exec(select(Article.id)))


def test_old_articles_go_in_batches_and_alerted_ones_stay(engine):
    """Each call deletes at most one batch; articles with alerts, the alerts and digest runs stay."""
    ids = seed(engine, old=5, recent=3, alerted_old=2)
    deleted = []
    with session(engine) as s:
        while True:
            count = delete_old_articles(s, CUTOFF, batch=2)
            deleted.append(count)
            if count < 2:
                break
    assert deleted == [2, 2, 1]
    assert article_ids(engine) == set(ids["recent"]) | set(ids["alerted"])
    with session(engine) as s:
        assert {a.article_id for a in s.exec(select(OutboxAlert))} == set(ids["alerted"])
        assert len(s.exec(select(DigestRun)).all()) == 1


def test_old_price_bars_go_in_batches(engine):
    bars(engine, [CUTOFF - timedelta(days=d) for d in (1, 2, 3)] + [CUTOFF + timedelta(days=1)])
    with session(engine) as s:
        assert [delete_old_price_bars(s, CUTOFF, batch=2) for _ in range(3)] == [2, 1, 0]
        assert [b.timestamp for b in s.exec(select(PriceBar))] == [CUTOFF + timedelta(days=1)]


def test_delete_expired_applies_the_setting_and_keeps_the_price_history(make_settings, database_url, engine):
    """REEWATCH_RETENTION_DAYS=30 deletes articles older than 30 days, but bars only past the
    price rules' history; 0 deletes nothing."""
    ids = seed(engine, old=0, recent=0)
    with session(engine) as s:
        feed_id = s.exec(select(Feed.id)).one()
        for n, age in enumerate((10, 40, 200)):
            s.add(Article(feed_id=feed_id, guid=f"a{n}", title="t", fetched_at=NOW - timedelta(days=age), content_hash=f"h{n}"))
        s.commit()
    bars(engine, [NOW - timedelta(days=d) for d in (10, 40, PRICE_HISTORY_DAYS + 5)])

    async def run(days: int):
        async with open_runtime(make_settings(database_url, retention_days=days)) as rt:
            rt.clock = lambda: NOW
            return await delete_expired(rt, batch=1)

    assert (asyncio.run(run(0)).articles, asyncio.run(run(0)).price_bars) == (0, 0)
    report = asyncio.run(run(30))
    assert (report.articles, report.price_bars) == (2, 1)
    with session(engine) as s:
        assert [a.guid for a in s.exec(select(Article))] == ["a0"]
        assert sorted((NOW - b.timestamp).days for b in s.exec(select(PriceBar))) == [10, 40]
    assert ids["alerted"] == []


@pytest.mark.postgres
def test_instances_deleting_at_once_skip_each_others_rows(postgres_url):
    """A row another instance holds is skipped, not waited for, and deleted once it is free."""
    from service.store import migrate
    from service.store.db import make_engine

    migrate.upgrade(postgres_url)
    engine = make_engine(postgres_url)
    try:
        ids = seed(engine, old=3, recent=0)
        held = min(ids["old"])
        with engine.connect() as other:
            with other.begin():
                other.execute(text("SET LOCAL lock_timeout = '5s'"))
                other.execute(text("SELECT id FROM articles WHERE id = :id FOR UPDATE"), {"id": held})
                with session(engine) as s:
                    s.exec(text("SET lock_timeout = '2s'"))
                    assert delete_old_articles(s, CUTOFF, batch=10) == 2
                assert article_ids(engine) == {held}
        with session(engine) as s:
            assert delete_old_articles(s, CUTOFF, batch=10) == 1
        assert article_ids(engine) == set()
    finally:
        engine.dispose()
