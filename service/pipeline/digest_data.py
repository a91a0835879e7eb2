"""The digest's market data (`MarketData`) read from the store, with the loaded rules' watchlists.

Alerts are the articles whose verdict alerted, plus price alerts from the outbox; prices are the
daily bars in `price_bars` and the health kept in `ticker_states`. Whatever is missing or old is
said per ticker, so an empty cell never reads as "no move".
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from sqlmodel import Session

from service.digest.content import DailyClose, DigestAlert, PricePoint, TickerMove
from service.digest.schedule import Window
from service.alerts.card import price_card
from service.domain.alerts import PriceAlert
from service.domain.markets import completed_sessions
from service.domain.prices import DAILY, INTRADAY_INTERVALS, Bar
from service.domain.scoring import Assessment
from service.rules import Ruleset
from service.rules.score import SEVERITY_POINTS
from service.sources.prices.listings import UnknownListing, listing_for
from service.store.digest_data import alerted_articles, queued_price_alerts, ticker_states
from service.store.models import Article, Feed, OutboxAlert, TickerState
from service.store.prices import load_bars

log = logging.getLogger(__name__)

#: Daily bars read for the table: six closes (for the 5-day change) across the longest closures
#: the followed exchanges have (Golden Week in Shanghai: 9 days).
TABLE_LOOKBACK = dt.timedelta(days=30)
#: A session's daily bar is fetched once its close has settled; until then it is not missing.
DAILY_SETTLE = dt.timedelta(minutes=20)
#: Sessions checked for a missing daily bar after the last one stored.
RECENT_SESSIONS = 5


class StoredMarketData:
    """`MarketData` over the store; `rules` returns the ruleset in force (it may be reloaded).

    `max_alert_age` (REEWATCH_MAX_ALERT_AGE) bounds how long before a window a report may have
    been published to be in it: a feed's history, stored when it was added, is no day's news.
    """

    def __init__(self, rules: Callable[[], Ruleset], *, max_alert_age: dt.timedelta | None = None):
        self._rules = rules
        self._max_age = max_alert_age

    def followed_tickers(self, watchlists: Sequence[str]) -> Mapping[str, str]:
        """Ticker -> group for the named watchlist groups (every group when none is named)."""
        groups = self._rules().catalogue.groups
        unknown = [name for name in watchlists if name not in groups]
        if unknown:
            raise LookupError(f"watchlist group {', '.join(map(repr, unknown))} is not in watchlists.yaml any more")
        followed: dict[str, str] = {}
        for group in watchlists or groups:
            for ticker in groups[group]:
                followed.setdefault(ticker, group)
        return followed

    def alerts(self, session: Session, window: Window) -> Sequence[DigestAlert]:
        """News alerts scored in `window` with the other reports of their stories, then price
        alerts queued in it."""
        ruleset = self._rules()
        since = window.start - self._max_age if self._max_age is not None else None
        rows = alerted_articles(session, window.start, window.end, published_since=since)
        news = [_news_alert(article, feed, ruleset) for article, feed in rows]
        return news + _price_alerts(queued_price_alerts(session, window.start, window.end))

    def prices(
        self, session: Session, tickers: Mapping[str, str], since: dt.datetime, until: dt.datetime
    ) -> tuple[Sequence[TickerMove], Mapping[str, Sequence[PricePoint]]]:
        """The watchlist rows as of `until`, and each ticker's closes from `since` to `until`."""
        states = ticker_states(session, list(tickers))
        rows: list[TickerMove] = []
        series: dict[str, list[PricePoint]] = {}
        for ticker, group in tickers.items():
            state = states.get(ticker)
            try:
                listing = listing_for(ticker)
            except UnknownListing as exc:
                rows.append(TickerMove(ticker, group, None, None, None, None, None, note=str(exc)))
                continue
            lookback = min(since, until - TABLE_LOOKBACK)
            daily = [b for b in load_bars(session, listing, lookback, until, intervals=(DAILY,)) if b.end <= until]
            currency = (state.currency if state is not None else None) or listing.currency
            closes = [DailyClose(bar.session, bar.close) for bar in daily]
            row = TickerMove.from_closes(ticker, group, closes, currency=currency)
            notes = _notes(daily, listing.exchange, state, until)
            rows.append(replace(row, note="; ".join(notes) if notes else None))
            points = chart_points(daily, since)
            if not points:
                intraday = load_bars(session, listing, since, until, intervals=tuple(INTRADAY_INTERVALS))
                points = chart_points([b for b in intraday if b.end <= until], since)
            if points:
                series[ticker] = points
        return rows, series


def chart_points(bars: Sequence[Bar], since: dt.datetime) -> list[PricePoint]:
    """Closes to draw from `since` on: daily ones (from the last close before `since`, so the
    line starts at the window's level), or the densest intraday interval when no daily bar ended
    in the window."""
    daily = sorted((b for b in bars if b.interval == DAILY), key=lambda b: b.end)
    inside = [b for b in daily if b.end >= since]
    if inside:
        before = [b for b in daily if b.end < since][-1:]
        return [PricePoint(b.end, b.close) for b in before + inside]
    intraday: dict[str, list[Bar]] = {}
    for bar in bars:
        if bar.interval in INTRADAY_INTERVALS and bar.end >= since:
            intraday.setdefault(bar.interval, []).append(bar)
    if not intraday:
        return []
    densest = max(intraday.values(), key=len)
    return [PricePoint(b.end, b.close) for b in sorted(densest, key=lambda b: b.end)]


def _notes(daily: Sequence[Bar], exchange: str, state: TickerState | None, until: dt.datetime) -> list[str]:
    """Why a row's numbers are missing or old, in the words a trader needs: the cause first."""
    failing = state.last_error if state is not None and state.consecutive_failures and state.last_error else None
    last = max((bar.session for bar in daily), default=None)
    if last is None:
        if failing:
            return [f"no prices: {failing}"]
        return ["no prices stored yet" if state is None else "no daily prices stored"]
    notes: list[str] = []
    if state is not None and state.stale_reason:
        notes.append(f"stale: {state.stale_reason}")
    else:
        expected = completed_sessions(exchange, until - DAILY_SETTLE, RECENT_SESSIONS)
        missing = [s.day for s in expected if s.day > last]
        if missing:
            plural = "s" if len(missing) != 1 else ""
            notes.append(f"last close {last.isoformat()}; no bar for {len(missing)} later session{plural}")
    if failing:
        notes.append(f"price source failing: {failing}")
    return notes


def _news_alert(article: Article, feed: Feed, ruleset: Ruleset) -> DigestAlert:
    matched = tuple(article.matched or ())
    assessment = Assessment(
        event_types=tuple(article.event_types or ()),
        score=article.score or 0,
        severity=article.severity,
        alert=bool(article.alert),
        rules=tuple(article.rules or ()),
        matched=matched,
        impacts=dict(article.impacts or {}),
        relevance=dict(article.relevance or {}),
        novelty=article.novelty if article.novelty is not None else 100,
    )
    return DigestAlert(
        title=article.title,
        summary=article.summary,
        link=article.link,
        canonical_link=article.canonical_link,
        source=feed.name,
        published=article.published,
        # Scored with the article, in the same transaction: when reewatch raised the alert.
        raised_at=article.scored_at or article.fetched_at,
        assessment=assessment,
        named=ruleset.named_in(matched),
        story_id=article.story_id,
        kind=feed.kind,
        alerted=bool(article.alert),
        quiet=article.quiet,
    )


def _price_alerts(rows: Sequence[OutboxAlert]) -> list[DigestAlert]:
    """One alert per price alert, however many channels it was routed to."""
    alerts: list[DigestAlert] = []
    seen: set[str] = set()
    for row in rows:
        # The key is "{kind}:{subject}:{channel}": drop the channel to find the alert itself.
        subject = row.key.removesuffix(f":{row.channel}")
        if subject in seen:
            continue
        seen.add(subject)
        try:
            alert = PriceAlert.from_payload(row.payload)
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("price alert %s cannot be read for the digest (%s); left out", row.key, exc)
            continue
        alerts.append(price_digest_alert(alert, raised_at=row.created_at))
    return alerts


def price_digest_alert(alert: PriceAlert, *, raised_at: dt.datetime) -> DigestAlert:
    """A price rule's alert as a digest story: its headline, the move's direction, its rule."""
    card = price_card(alert)
    news = alert.news
    pct = alert.change_pct
    direction = "neutral" if pct is None or pct == 0 else ("bullish" if pct > 0 else "bearish")
    summary = card.detail + (f". After: {news.title}" if news is not None else "")
    return DigestAlert(
        title=card.headline,
        summary=summary,
        link=news.link if news is not None else None,
        # Price alerts are told apart by their event (type, tickers, time), never by a link.
        canonical_link=None,
        source="prices",
        kind="prices",
        published=alert.raised_at,
        raised_at=raised_at,
        assessment=Assessment(
            event_types=("price_move",),
            score=SEVERITY_POINTS.get(alert.severity, SEVERITY_POINTS["medium"]),
            severity=alert.severity,
            alert=True,
            rules=(alert.rule_id,),
            matched=(alert.reason,),
            impacts={alert.ticker: direction},
            relevance={alert.ticker: 100},
        ),
    )
