"""Store behaviour on SQLite and PostgreSQL: idempotent ingestion, dedup, UTC, leases, sync."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlmodel import select

from service.domain.feeds import Entry, FeedSpec
from service.store.articles import insert_articles, unseen_entries
from service.store.db import session
from service.store.feeds import claim_due_feeds, enable_feed, sync_feeds
from service.store.models import Article, Feed

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def spec(name: str, url: str | None = None, interval: str = "5m", **extra) -> FeedSpec:
    return FeedSpec(name=name, url=url or f"https://feeds.example.test/{name}", interval=interval, **extra)


def entry(guid: str, link: str | None = None, title: str = "t") -> Entry:
    return Entry(
        guid=guid,
        link=link,
        canonical_link=link,
        title=title,
        summary="s",
        published=NOW - timedelta(hours=1),
        content_hash=guid,
    )


def add_feeds(engine, *names: str) -> dict[str, int]:
    with session(engine) as s:
        sync_feeds(s, [spec(n) for n in names], NOW)
        return {f.name: f.id for f in s.exec(select(Feed))}


def test_reingesting_the_same_entries_stores_nothing_new(engine):
    """Inserting the same entries twice yields them once (unique feed+guid)."""
    ids = add_feeds(engine, "a")
    entries = [entry("g1", "https://x.test/1"), entry("g2", "https://x.test/2")]
    with session(engine) as s:
        assert len(insert_articles(s, ids["a"], entries, NOW)) == 2
        s.commit()
    with session(engine) as s:
        assert insert_articles(s, ids["a"], entries, NOW) == []
        s.commit()
        fresh, seen, elsewhere = unseen_entries(s, ids["a"], entries)
        assert (fresh, seen, elsewhere) == ([], 2, 0)
        assert len(s.exec(select(Article)).all()) == 2


def test_the_same_link_from_two_feeds_is_stored_once(engine):
    """Cross-feed dedup by canonical link: the second feed's copy is a duplicate."""
    ids = add_feeds(engine, "a", "b")
    with session(engine) as s:
        insert_articles(s, ids["a"], [entry("a-1", "https://x.test/story")], NOW)
        s.commit()
    with session(engine) as s:
        fresh, seen, elsewhere = unseen_entries(s, ids["b"], [entry("b-9", "https://x.test/story"), entry("b-10")])
        assert [e.guid for e in fresh] == ["b-10"]
        assert (seen, elsewhere) == (0, 1)
        # Even a writer that skipped the check cannot store the duplicate.
        inserted = insert_articles(s, ids["b"], [entry("b-9", "https://x.test/story"), entry("b-10")], NOW)
        assert [e.guid for _, e in inserted] == ["b-10"]
        s.commit()


def test_items_of_one_listing_page_are_each_stored(engine):
    """A link shared by different articles is no article's key: each is stored, none dropped."""
    ids = add_feeds(engine, "a", "b")
    page = "https://x.test/news"
    with session(engine) as s:
        insert_articles(s, ids["a"], [entry("a-1", page, title="China curbs gallium exports")], NOW)
        s.commit()
    batch = [
        entry("b-1", page, title="Ministry suspends antimony export ban"),
        entry("b-2", page, title="Notice on tungsten export licences"),
        entry("b-3", page, title="China curbs gallium exports - Wire"),  # feed a's article again
    ]
    with session(engine) as s:
        fresh, seen, elsewhere = unseen_entries(s, ids["b"], batch)
        assert [(e.guid, e.canonical_link) for e in fresh] == [("b-1", None), ("b-2", None)]
        assert (seen, elsewhere) == (0, 1)
        assert [e.guid for _, e in insert_articles(s, ids["b"], fresh, NOW)] == ["b-1", "b-2"]
        s.commit()
        stored = {a.guid: a.canonical_link for a in s.exec(select(Article))}
    assert stored == {"a-1": page, "b-1": None, "b-2": None}


def test_a_listing_page_item_stored_meanwhile_by_another_writer_does_not_drop_ours(engine):
    """Between the check and the insert another writer stores a different article under the
    link: the entry is stored without the link as its key; the same article is still refused."""
    ids = add_feeds(engine, "a", "b")
    page = "https://x.test/press"
    ours = [entry("b-1", page, title="Ministry suspends antimony export ban")]
    with session(engine) as s:
        fresh, _, _ = unseen_entries(s, ids["b"], ours)
        assert [e.canonical_link for e in fresh] == [page]  # nothing holds the link yet
        with session(engine) as other:
            insert_articles(other, ids["a"], [entry("a-1", page, title="China curbs gallium exports")], NOW)
            other.commit()
        inserted = insert_articles(s, ids["b"], fresh, NOW)
        assert [(e.guid, e.canonical_link) for _, e in inserted] == [("b-1", None)]
        copy = [entry("b-2", page, title="China curbs gallium exports")]
        assert insert_articles(s, ids["b"], copy, NOW) == []
        s.commit()


def test_same_guid_in_two_feeds_is_two_articles(engine):
    """Guids are unique per feed only: two feeds may both use guid '1'."""
    ids = add_feeds(engine, "a", "b")
    with session(engine) as s:
        insert_articles(s, ids["a"], [entry("1")], NOW)
        insert_articles(s, ids["b"], [entry("1")], NOW)
        s.commit()
        assert len(s.exec(select(Article)).all()) == 2


def test_datetimes_come_back_as_aware_utc(engine):
    """A time stored from +02:00 comes back as the same instant in UTC, not naive."""
    ids = add_feeds(engine, "a")
    plus_two = datetime(2025, 10, 9, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    with session(engine) as s:
        e = entry("g")
        insert_articles(s, ids["a"], [Entry(**{**e.__dict__, "published": plus_two})], NOW)
        s.commit()
    with session(engine) as s:
        article = s.exec(select(Article)).one()
        assert article.published == datetime(2025, 10, 9, 12, 0, tzinfo=UTC)
        assert article.published.tzinfo is not None


def test_naive_datetimes_are_refused(engine):
    """Writing a naive datetime is a bug: it is refused rather than stored ambiguously."""
    ids = add_feeds(engine, "a")
    with session(engine) as s:
        e = entry("g")
        with pytest.raises(Exception, match="naive datetime"):
            insert_articles(s, ids["a"], [Entry(**{**e.__dict__, "published": datetime(2025, 1, 1)})], NOW)


def test_only_one_instance_leases_a_due_feed(engine):
    """Two instances claiming at once never both get the same feed; expired leases free it."""
    add_feeds(engine, "a", "b")
    with session(engine) as s1, session(engine) as s2:
        first = claim_due_feeds(s1, "one", NOW, timedelta(minutes=5))
        second = claim_due_feeds(s2, "two", NOW, timedelta(minutes=5))
    assert sorted(f.name for f in first) == ["a", "b"]
    assert second == []
    with session(engine) as s:
        later = claim_due_feeds(s, "two", NOW + timedelta(minutes=6), timedelta(minutes=5))
    assert sorted(f.name for f in later) == ["a", "b"]


def test_feeds_not_yet_due_or_disabled_are_not_claimed(engine):
    """Only enabled, undisabled feeds whose next poll has come are leased."""
    add_feeds(engine, "due", "later", "gone")
    with session(engine) as s:
        feeds = {f.name: f for f in s.exec(select(Feed))}
        feeds["later"].next_poll_at = NOW + timedelta(minutes=1)
        feeds["gone"].disabled_reason = "HTTP 410 Gone"
        s.commit()
        assert [f.name for f in claim_due_feeds(s, "me", NOW, timedelta(minutes=5))] == ["due"]
        enable_feed(s, "gone", NOW)
        assert [f.name for f in claim_due_feeds(s, "me", NOW, timedelta(minutes=5))] == ["gone"]


def test_sync_adds_changes_and_retires_feeds(engine):
    """feeds.yaml is the list: new feeds appear, edits apply, removed feeds stop being polled."""
    with session(engine) as s:
        report = sync_feeds(s, [spec("a"), spec("b")], NOW)
        assert sorted(report.added) == ["a", "b"]
        feed_a = s.exec(select(Feed).where(Feed.name == "a")).one()
        feed_a.etag, feed_a.consecutive_failures, feed_a.disabled_reason = '"x"', 3, "HTTP 410 Gone"
        s.commit()
        report = sync_feeds(s, [spec("a", url="https://moved.example.test/a", kind="official")], NOW)
        assert report.changed == ["a"] and report.retired == ["b"]
        feeds = {f.name: f for f in s.exec(select(Feed))}
        # A new URL is a new source: old validators, failures and a 410 no longer apply.
        assert feeds["a"].url == "https://moved.example.test/a"
        assert (feeds["a"].etag, feeds["a"].consecutive_failures, feeds["a"].disabled_reason) == (None, 0, None)
        assert feeds["a"].weight == 1.0
        assert feeds["b"].enabled is False
        assert claim_due_feeds(s, "me", NOW, timedelta(minutes=5))[0].name == "a"
        report = sync_feeds(s, [spec("a", url="https://moved.example.test/a", kind="official")], NOW)
        assert (report.added, report.changed, report.retired) == ([], [], [])
