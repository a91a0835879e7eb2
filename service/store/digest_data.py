"""What a digest reads from the store: the alerts raised in its window and the tickers' states.

Bars are read with `service.store.prices.load_bars`, as the detectors read them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, select

from service.store.models import Article, Feed, OutboxAlert, TickerState

#: Outbox kinds that are price alerts (issue 5); news alerts are read from their articles.
PRICE_ALERT_KINDS: tuple[str, ...] = ("price",)


def alerted_articles(session: Session, start: datetime, end: datetime) -> list[tuple[Article, Feed]]:
    """Articles whose verdict alerted, scored in [start, end), with their feed, oldest first.

    The scored time is when reewatch saw the article: a feed's own published time can be late,
    early or missing, and must not move an alert out of the digest that should carry it.
    """
    query = (
        select(Article, Feed)
        .join(Feed, Feed.id == Article.feed_id)
        .where(Article.alert.is_(True), Article.scored_at >= start, Article.scored_at < end)
        .order_by(Article.scored_at, Article.id)
    )
    return [(article, feed) for article, feed in session.exec(query)]


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
