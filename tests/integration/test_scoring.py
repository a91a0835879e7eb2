"""Every new article is scored by the rules and stored with its verdict, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from service.demo.server import Route
from service.domain.feeds import FeedSpec
from tests.sample_feeds import item, rss
from tests.integration.harness import Ingestion

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)

CURBS = item(
    guid="curbs",
    title="China bans gallium and germanium exports to the US",
    link="https://example.test/curbs",
    body="MP Materials (MP) and Lynas shares rose. The commerce ministry said the ban applies at once.",
)
GOLD = item(guid="gold", title="Gold tops $4,000 an ounce", link="https://example.test/gold", body="Central banks buy.")


@pytest.fixture
def ingestion(make_settings):
    created: list[Ingestion] = []

    def make(specs, database_url=None) -> Ingestion:
        run = Ingestion(make_settings(database_url), specs)
        created.append(run)
        return run

    yield make
    for run in created:
        run.close()


def test_new_articles_are_stored_with_their_verdict(feed_server, ingestion, database_url):
    """Event types, score, severity, alert, impacts, relevance, rules, matched and novelty are stored."""
    feed_server.routes["/rss"] = Route(rss(CURBS, GOLD))
    run = ingestion([FeedSpec(name="ministry", url=feed_server.url("/rss"), kind="official")], database_url)
    outcome = run.cycle(T0).outcomes[0]
    stored = {a.guid: a for a in run.articles()}

    curbs = stored["curbs"]
    assert curbs.event_types == ["export_control_new"]
    assert (curbs.alert, curbs.severity, curbs.score, curbs.novelty) == (True, "critical", 89, 100)
    assert curbs.impacts["MP"] == "bullish" and curbs.impacts["F"] == "bearish" and len(curbs.impacts) == 28
    assert curbs.relevance == {"MP": 55, "LYC.AX": 55}
    assert curbs.rules[0].startswith("export-controls-new") and "bans ~ exports" in curbs.matched
    assert curbs.scored_at == T0

    gold = stored["gold"]
    assert (gold.alert, gold.event_types, gold.rules, gold.score, gold.impacts) == (False, [], [], 0, {})
    assert gold.scored_at == T0

    verdicts = {a.title: a.verdict for a in outcome.articles}
    assert verdicts["China bans gallium and germanium exports to the US"].alert is True


def test_the_feed_kind_weighs_in_the_score(feed_server, ingestion):
    """The same story scores higher from an official source than from an aggregator."""
    feed_server.routes["/a"] = Route(rss(CURBS))
    feed_server.routes["/b"] = Route(rss(CURBS.replace("https://example.test/curbs", "https://example.test/other")))
    run = ingestion([
        FeedSpec(name="ministry", url=feed_server.url("/a"), kind="official"),
        FeedSpec(name="aggregator", url=feed_server.url("/b"), kind="aggregator"),
    ])
    run.cycle(T0)
    scores = {a.feed_id: a.score for a in run.articles()}
    official, aggregator = run.feed("ministry").id, run.feed("aggregator").id
    assert scores[official] == 89 and scores[aggregator] == 74
