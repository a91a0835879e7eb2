"""Alerts and prices stored the way the service stores them, for digest tests that read the store."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping

from sqlmodel import Session

from service.domain.feeds import SOURCE_WEIGHTS, Entry
from service.domain.markets import build_bar, daily_bar_start
from service.domain.prices import DAILY
from service.domain.scoring import Assessment, Source
from service.rules import Ruleset
from service.sources.prices.listings import listing_for
from service.store.articles import insert_articles
from service.store.models import Feed
from service.store.prices import sync_ticker_states, upsert_bars

#: One event told by two outlets in their own words (the May 2025 Geneva truce), and a reprint.
GENEVA = (
    "US and China agree 90-day tariff truce after Geneva talks",
    "Washington will cut its tariffs on Chinese goods to 30% and Beijing will lower its duties on US goods "
    "to 10% for 90 days. China also said it would suspend the countermeasures it took since April 2, "
    "including export controls on rare earths.",
)
GENEVA_RETOLD = (
    "Rare earth curbs to ease as Washington and Beijing pause their tariff war",
    "China will suspend the countermeasures it imposed since April, including rare earth export controls, "
    "as both sides cut tariffs for 90 days under the deal struck in Geneva.",
)
FUNDING = (
    "Pentagon to become MP Materials' largest shareholder in $400 million deal",
    "The Department of Defense will buy preferred stock in MP Materials and set a price floor for NdPr, "
    "with a loan for heavy rare earth separation at Mountain Pass.",
)
HOSTILE = (
    "<!channel> <script>alert(1)</script> China bans rare earth magnet exports",
    "Beijing's commerce ministry added rare earth magnets to its export control list. <b>@here</b>",
)


def add_feed(session: Session, name: str, kind: str = "sector") -> Feed:
    feed = Feed(name=name, url=f"https://{name}.example/rss", kind=kind, weight=SOURCE_WEIGHTS[kind])
    session.add(feed)
    session.flush()
    return feed


def store_article(
    session: Session,
    ruleset: Ruleset,
    feed: Feed,
    title: str,
    summary: str,
    *,
    fetched_at: dt.datetime,
    published: dt.datetime | None = None,
    link: str | None = None,
) -> Assessment:
    """Score an item with `ruleset` and store it with its verdict, as a poll would."""
    verdict = ruleset.assess(title, summary, Source(name=feed.name, kind=feed.kind, weight=feed.weight))
    guid = hashlib.sha256(f"{feed.name}\n{title}".encode()).hexdigest()[:16]
    entry = Entry(
        guid=guid,
        link=link,
        canonical_link=link,
        title=title,
        summary=summary,
        published=published,
        content_hash=hashlib.sha256(f"{title}\n{summary}".encode()).hexdigest(),
    )
    assert feed.id is not None
    insert_articles(session, feed.id, [entry], fetched_at, {guid: verdict})
    return verdict


def store_daily_closes(session: Session, ticker: str, closes: Mapping[dt.date, float], now: dt.datetime) -> None:
    """Daily bars with these closes (and the ticker's state, as a price cycle leaves it)."""
    listing = listing_for(ticker)
    sync_ticker_states(session, [listing], {}, "replay")
    bars = [
        build_bar(listing.exchange, ticker, DAILY, daily_bar_start(listing.exchange, day), c, c, c, c, 1_000_000)
        for day, c in closes.items()
    ]
    upsert_bars(session, bars, "replay", now)


def store_intraday_closes(session: Session, ticker: str, closes: Mapping[dt.datetime, float], now: dt.datetime) -> None:
    """5-minute bars starting at the given instants, with these closes."""
    listing = listing_for(ticker)
    sync_ticker_states(session, [listing], {}, "replay")
    bars = [build_bar(listing.exchange, ticker, "5m", start, c, c, c, c, 10_000) for start, c in closes.items()]
    upsert_bars(session, bars, "replay", now)
