"""Stories end to end on loopback: feeds served by the feed server, scored by the shipped rules,
grouped into stories, delivered to the local Slack Web API, on SQLite and PostgreSQL.

One alert per story however many outlets tell it, a separate alert for each different story on
the same topic the same hour, later reports editing or replying, nothing lost or doubled; and a
feed added with a year of history alerts nothing until something new is published.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from sqlmodel import select

from service.bootstrap import open_runtime
from service.delivery.dispatcher import drain_outbox
from service.demo.server import FeedServer, Route
from service.domain.feeds import FeedSpec
from service.pipeline.poll import poll_due_feeds
from service.pipeline.runner import sync_specs
from service.store.db import make_engine, session
from service.store.models import Article, OutboxAlert, Story
from tests import databases
from tests.fakes.slack_api import TEST_TOKEN, SlackAPI
from tests.sample_feeds import item, rss
from tests.store.test_story_alerts import FIVE_OFFICIAL, FIVE_SECTOR, FIVE_WIRE, TECH_BAN

MINUTE = timedelta(minutes=1)

PENTAGON = (
    "Pentagon to take $400 million stake in MP Materials",
    "The Defense Department will buy $400 million of preferred stock in MP Materials and guarantee a "
    "$110 per kilogram floor price for NdPr, making it the largest shareholder in the magnet maker.",
)
PENTAGON_COPY = (
    "Pentagon to take $400 million stake in MP Materials - Metals Daily",
    "The Defense Department will buy $400 million of preferred stock in MP Materials and guarantee a "
    "$110 per kilogram floor price for NdPr, making it the largest shareholder in the magnet maker, it said.",
)
PENTAGON_AGAIN = (
    "Pentagon to take $400 million stake in MP Materials | Markets",
    "The Defense Department will buy $400 million of preferred stock in MP Materials and guarantee a "
    "$110 per kilogram floor price for NdPr, making it the largest shareholder in the magnet maker.",
)
FORD = (
    "Ford idles Chicago Explorer plant for a week over rare earth magnet shortage",
    "Ford stopped production of the Explorer in Chicago for a week because it could not get enough rare "
    "earth magnets after China's export licensing slowed shipments, the carmaker said.",
)
FORD_RETOLD = (
    "Magnet shortage forces Ford to halt Explorer production in Chicago",
    "The carmaker halted its Explorer line in Chicago for a week as the rare earth magnet shortage caused by "
    "China's licensing regime hit its suppliers, Ford said on Wednesday.",
)
SHIPMENTS = (
    "China halts rare earth shipments to US defence contractors",
    "Beijing ordered exporters to stop shipping rare earth magnets to US military end users, according to a "
    "notice from the commerce ministry.",
)
BIS_RULE = (
    "Additions to the Entity List",
    "The Bureau of Industry and Security amends the Export Administration Regulations by adding entities "
    "under {n} destinations to the Entity List for acting contrary to US national security interests.",
)


class Desk:
    """The service's poll cycles and deliveries at chosen times, with feeds whose items a test sets."""

    def __init__(self, settings, server: FeedServer, feeds: dict[str, str]):
        self.settings = settings
        self.server = server
        self.specs = [
            FeedSpec(name=name, url=server.url(f"/{name}"), interval=60, kind=kind) for name, kind in feeds.items()
        ]
        self.items: dict[str, list[str]] = {name: [] for name in feeds}
        self.serve()
        databases.upgrade(settings.database_url)
        self.engine = make_engine(settings.database_url)
        self.synced = False

    def publish(self, feed: str, title: str, summary: str, at: datetime, guid: str | None = None) -> None:
        guid = guid or f"{feed}-{len(self.items[feed])}"
        link = f"https://{feed}.example/{guid}"
        self.items[feed].insert(0, item(guid=guid, title=title, link=link, date=format_datetime(at, usegmt=True), body=summary))
        self.serve()

    def serve(self) -> None:
        for name, items in self.items.items():
            self.server.routes[f"/{name}"] = Route(rss(*items, title=name))

    def cycle(self, at: datetime) -> None:
        """Poll every due feed at `at`, then deliver everything due."""

        async def run() -> None:
            async with open_runtime(self.settings, engine=make_engine(self.settings.database_url)) as rt:
                rt.clock = lambda: at
                if not self.synced:
                    await sync_specs(rt, self.specs)
                    self.synced = True
                await poll_due_feeds(rt)
                await drain_outbox(rt, patience=2)

        asyncio.run(run())

    def rows(self) -> list[OutboxAlert]:
        with session(self.engine) as s:
            return list(s.exec(select(OutboxAlert).order_by(OutboxAlert.id)))

    def articles(self) -> list[Article]:
        with session(self.engine) as s:
            return list(s.exec(select(Article).order_by(Article.id)))

    def stories(self) -> list[Story]:
        with session(self.engine) as s:
            return list(s.exec(select(Story).order_by(Story.id)))

    def close(self) -> None:
        self.engine.dispose()


@pytest.fixture
def slack():
    with SlackAPI() as api:
        yield api


@pytest.fixture
def desk(make_settings, database_url, slack):
    settings = make_settings(
        database_url,
        slack_bot_token=TEST_TOKEN,
        slack_api_url=slack.url,
        slack_channel_rate=50.0,
        slack_channel_burst=10,
        slack_timeout=2.0,
        followup_minutes="",
    )
    feeds = {
        "reuters": "wire",
        "mining-com": "sector",
        "metals-daily": "aggregator",
        "google-news": "aggregator",
        "mofcom": "official",
    }
    with FeedServer() as server:
        made = Desk(settings, server, feeds)
        yield made
        made.close()


def headline(message) -> str:
    return message.blocks[1]["text"]["text"]


def sources(message) -> tuple[int, set[str]]:
    """The "3 sources: reuters, mining-com, mofcom" line of a story's alert, as (count, names)."""
    match = re.search(r"(\d+) sources: ([\w, -]+)", headline(message))
    assert match, headline(message)
    return int(match.group(1)), {name.strip() for name in match.group(2).split(",")}


def test_each_story_alerts_once_and_later_reports_edit_or_reply(desk, slack):
    """Three stories told by two outlets each, and two other export-control stories the same hour:
    exactly five top-level alerts. Later reports edit their story's alert; the ministry's notice
    replies in its thread, broadcast; a copy edits only. Nothing is lost or posted twice."""
    start = datetime.now(UTC).replace(microsecond=0)
    desk.cycle(start)  # the first poll of each feed: empty feeds, nothing to backfill
    t = start + 10 * MINUTE
    desk.publish("reuters", *FIVE_WIRE, t - 9 * MINUTE)
    desk.publish("mining-com", *FIVE_SECTOR, t - 8 * MINUTE)
    desk.publish("metals-daily", *TECH_BAN, t - 7 * MINUTE)
    desk.publish("google-news", *SHIPMENTS, t - 6 * MINUTE)
    desk.publish("reuters", *PENTAGON, t - 5 * MINUTE)
    desk.publish("metals-daily", *PENTAGON_COPY, t - 4 * MINUTE)
    desk.publish("mining-com", *FORD, t - 3 * MINUTE)
    desk.publish("google-news", *FORD_RETOLD, t - 2 * MINUTE)
    desk.cycle(t)

    top = slack.top_level()
    assert len(top) == 5 and slack.replies_to(top[0]) == []
    titles = [headline(m) for m in top]
    # One alert per story, in publication order across the feeds. The feeds of one cycle are
    # polled at once, so a story's alert is led by whichever of its reports was stored first.
    stories_told = (
        (FIVE_WIRE, FIVE_SECTOR), (TECH_BAN,), (SHIPMENTS,), (PENTAGON, PENTAGON_COPY), (FORD, FORD_RETOLD),
    )
    assert all(
        any(report[0] in title for report in reports) for reports, title in zip(stories_told, titles, strict=True)
    ), titles
    five = top[0]
    assert sources(five) == (2, {"reuters", "mining-com"})  # queued after the second report: no edit needed
    assert slack.updates == []

    later = t + 10 * MINUTE
    desk.publish("mofcom", *FIVE_OFFICIAL, later - 5 * MINUTE)
    desk.publish("google-news", *PENTAGON_AGAIN, later - 4 * MINUTE)
    desk.cycle(later)

    assert len(slack.top_level()) == 5
    [confirmation] = slack.replies_to(five)
    assert confirmation.broadcast and "adds official source" in confirmation.blocks[0]["text"]["text"]
    five_now = next(m for m in slack.posted() if m.ts == five.ts)
    assert five_now.edits == 1 and sources(five_now) == (3, {"reuters", "mining-com", "mofcom"})
    assert five_now.blocks[0]["text"]["text"].startswith("🔴 CRITICAL")
    pentagon = next(m for m in slack.posted() if m.ts == top[3].ts)
    assert pentagon.edits == 1 and sources(pentagon) == (3, {"reuters", "metals-daily", "google-news"})
    assert slack.replies_to(pentagon) == []

    # Nothing lost, nothing doubled: every message once, every row sent, every report in a story.
    assert all(count == 1 for count in Counter(m.alert_key for m in slack.posted()).values())
    assert {(r.kind, r.status) for r in desk.rows()} <= {("news", "sent"), ("update", "sent")}
    articles = desk.articles()
    assert len(articles) == 10 and all(a.story_id is not None for a in articles)
    stories = {s.id: s for s in desk.stories()}
    assert len(stories) == 5 and sorted(s.reports for s in stories.values()) == [1, 1, 2, 3, 3]
    assert all(s.state == "alerted" for s in stories.values())


def test_a_feed_added_with_a_year_of_history_alerts_nothing_until_something_new(desk, slack):
    """The first poll of a feed holding a year of rules stores them quietly (they still make stories);
    an item published after that poll alerts."""
    start = datetime.now(UTC).replace(microsecond=0)
    for month in range(12, 0, -1):
        title, summary = BIS_RULE
        desk.publish("mofcom", f"{title} ({month} months ago)", summary.format(n=month + 2), start - timedelta(days=30 * month))
    desk.publish("mofcom", *FIVE_OFFICIAL, start - 2 * MINUTE)  # even this morning's, on the first poll
    desk.cycle(start)
    assert slack.posted() == [] and desk.rows() == []
    stored = desk.articles()
    assert len(stored) == 13 and all(a.story_id is not None for a in stored)
    quiet = [a for a in stored if a.alert]
    assert quiet and {a.quiet for a in quiet} == {"backfill"}

    desk.publish("mofcom", *TECH_BAN, start + 3 * MINUTE)
    desk.cycle(start + 5 * MINUTE)
    [message] = slack.posted()
    assert TECH_BAN[0] in headline(message)


def test_an_old_item_arriving_late_never_alerts(desk, slack):
    """After the first poll, an item published more than REEWATCH_MAX_ALERT_AGE ago is stored, not alerted."""
    start = datetime.now(UTC).replace(microsecond=0)
    desk.cycle(start)
    desk.publish("reuters", *FIVE_WIRE, start - timedelta(days=3))
    desk.publish("reuters", *TECH_BAN, start + MINUTE)
    desk.cycle(start + 2 * MINUTE)
    [message] = slack.posted()
    assert TECH_BAN[0] in headline(message)
    old = next(a for a in desk.articles() if a.title == FIVE_WIRE[0])
    assert old.alert and old.quiet == "too old"
