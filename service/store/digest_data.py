"""What a digest reads from the store: the alerts raised in its window and the tickers' states.

Bars are read with `service.store.prices.load_bars`, as the detectors read them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, or_, true
from sqlmodel import Session, select

from service.store.models import Article, Feed, OutboxAlert, TickerState

#: Outbox kinds that are price alerts (issue 5); news alerts are read from their articles.
PRICE_ALERT_KINDS: tuple[str, ...] = ("price",)


def alerted_articles(
    session: Session, start: datetime, end: datetime, *, published_since: datetime | None = None
) -> list[tuple[Article, Feed]]:
    """Articles whose verdict alerted, scored in [start, end), with their feed, oldest first; and
    with them every other report of their stories scored in the window.

    The scored time is when reewatch saw the article: a feed's own published time can be late,
    early or missing, and must not move an alert out of the digest that should carry it. With
    `published_since`, reports published before it are left out (a feed's history stored on its
    first poll belongs to no day's news).
    """
    recent = or_(Article.published.is_(None), Article.published >= published_since) if published_since else true()
    in_window = (Article.scored_at >= start, Article.scored_at < end, recent)
    query = (
        select(Article, Feed)
        .join(Feed, Feed.id == Article.feed_id)
        .where(Article.alert.is_(True), *in_window)
        .order_by(Article.scored_at, Article.id)
    )
    found = [(article, feed) for article, feed in session.exec(query)]
    stories = sorted({article.story_id for article, _ in found if article.story_id is not None})
    if stories:
        seen = {article.id for article, _ in found}
        mates = session.exec(
            select(Article, Feed)
            .join(Feed, Feed.id == Article.feed_id)
            .where(Article.story_id.in_(stories), *in_window)
            .order_by(Article.scored_at, Article.id)
        )
        found += [(article, feed) for article, feed in mates if article.id not in seen]
        found.sort(key=lambda pair: (pair[0].scored_at, pair[0].id))
    return found


def watching_since(session: Session) -> datetime | None:
    """When reewatch started watching: the first feed it was given. None before any."""
    return session.exec(select(func.min(Feed.created_at))).one()


def articles_seen(session: Session, start: datetime, end: datetime) -> int:
    """How many articles reewatch stored in [start, end)."""
    return int(
        session.exec(
            select(func.count()).select_from(Article).where(Article.fetched_at >= start, Article.fetched_at < end)
        ).one()
    )


def queued_price_alerts(
    session: Session, start: datetime, end: datetime, kinds: Sequence[str] = PRICE_ALERT_KINDS
) -> list[OutboxAlert]:
    """Outbox rows of price alerts queued in [start, end), oldest first; one per channel routed."""
    query = (
        select(OutboxAlert)
        .where(OutboxAlert.kind.in_(list(kinds)), OutboxAlert.created_at >= start, OutboxAlert.created_at < end)
        .order_by(OutboxAlert.created_at, OutboxAlert.id)
    )
    return list(session.exec(query))


def ticker_states(session: Session, tickers: Sequence[str]) -> dict[str, TickerState]:
    """The stored state (currency, health, staleness) of each of `tickers` that has one."""
    if not tickers:
        return {}
    return {s.ticker: s for s in session.exec(select(TickerState).where(TickerState.ticker.in_(list(tickers))))}
