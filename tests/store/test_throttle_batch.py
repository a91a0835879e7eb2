"""One batch, two stories, two rules with different throttle windows: each story keeps its own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service.alerts.queue import NewsAlert, queue_news_alerts
from service.domain.scoring import Source
from service.store.db import session
from service.store.models import Article
from tests.store.outbox import Outbox, assessment

T0 = datetime(2025, 10, 9, 14, 5, tzinfo=UTC)
SHORT = assessment(rules=("short_window",), throttle_seconds=30 * 60)
LONG = assessment(rules=("long_window",), throttle_seconds=2 * 3600)


@pytest.fixture
def box(make_settings, database_url):
    outbox = Outbox(make_settings(database_url, slack_default_channel="#rare-earth-alerts"))
    yield outbox
    outbox.close()


def queue_batch(box: Outbox, stories: list[tuple[str, object]], now: datetime):
    """Store the articles and queue their alerts in one call, as one poll of one feed does."""
    with session(box.engine) as s:
        news = []
        for index, (title, verdict) in enumerate(stories):
            article = Article(feed_id=box.feed_id, guid=f"batch-{index}-{title}", title=title, content_hash="h")
            s.add(article)
            s.flush()
            news.append(NewsAlert(article.id, title, None, Source("Wire", kind="wire"), now, verdict))
        rows = queue_news_alerts(s, news, default_channel="#rare-earth-alerts", now=now)
        s.commit()
    return {row.throttle_key.split("|")[0]: row for row in rows}


def test_each_story_in_a_batch_is_throttled_by_its_own_rules_window(box):
    """An hour after both first alerts: the 30-minute story starts a new thread, the 2-hour story
    replies in its first alert's thread, though both arrive in the same batch."""
    short_first = box.queue("Short story, first", verdict=SHORT, now=T0)[0]
    long_first = box.queue("Long story, first", verdict=LONG, now=T0)[0]
    rows = queue_batch(box, [("Short story, again", SHORT), ("Long story, again", LONG)], T0 + timedelta(hours=1))
    assert rows["short_window"].parent_id is None, "past its 30-minute window: a new top-level alert"
    assert rows["long_window"].parent_id == long_first.id, "inside its 2-hour window: a reply"
    assert short_first.parent_id is None


def test_the_order_of_the_batch_does_not_change_the_windows(box):
    """The same, with the long-window story first in the batch."""
    box.queue("Short story, first", verdict=SHORT, now=T0)
    long_first = box.queue("Long story, first", verdict=LONG, now=T0)[0]
    rows = queue_batch(box, [("Long story, again", LONG), ("Short story, again", SHORT)], T0 + timedelta(hours=1))
    assert rows["short_window"].parent_id is None
    assert rows["long_window"].parent_id == long_first.id
