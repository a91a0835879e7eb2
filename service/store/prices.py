"""Price bars and ticker states: upserting bars, keeping each ticker's health, reading history."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from sqlmodel import Session, select

from service.domain.alerts import FollowUp
from service.domain.markets import build_bar, traded_between
from service.domain.price_moves import PriceHistory
from service.domain.prices import DAILY, Bar, Listing
from service.domain.quotes import Quote, quote_at
from service.domain.reactions import Reaction, reaction_since
from service.store.models import PriceBar, TickerState
from service.store.upsert import insert_updating_conflicts

log = logging.getLogger(__name__)

_BAR_VALUES = ("open", "high", "low", "close", "volume", "source", "fetched_at")
#: Daily bars loaded for rules and quotes: up to 50 sessions of volume, with room for long closures.
DAILY_LOOKBACK = timedelta(days=85)
#: Intraday bars loaded beyond a rule's own window: a weekend and a holiday.
INTRADAY_MARGIN = timedelta(days=4)
#: The live stream's bars: they fill in after the last polled bar (see load_recent_history).
STREAM_INTERVAL = "1m"


def upsert_bars(session: Session, bars: Sequence[Bar], source: str, now: datetime) -> int:
    """Store bars; a bar already stored (ticker, interval, start) takes the new values. Returns the count."""
    rows: dict[tuple[str, str, datetime], dict] = {}
    for bar in bars:
        rows[(bar.ticker, bar.interval, bar.start)] = {
            "ticker": bar.ticker,
            "interval": bar.interval,
            "timestamp": bar.start,
            "open": bar.open,
            "high": bar.high,
            "low": bar.low,
            "close": bar.close,
            "volume": int(round(bar.volume)),
            "source": source,
            "fetched_at": now,
        }
    if not rows:
        return 0
    stmt = insert_updating_conflicts(session, PriceBar, ("ticker", "interval", "timestamp"), _BAR_VALUES)
    session.exec(stmt, params=list(rows.values()))
    return len(rows)


def sync_ticker_states(
    session: Session, listings: Sequence[Listing], unplaced: Mapping[str, str], source: str
) -> dict[str, TickerState]:
    """Rows for every ticker of this cycle, created when new, with the listing's current facts."""
    wanted = [listing.ticker for listing in listings] + list(unplaced)
    states = {s.ticker: s for s in session.exec(select(TickerState).where(TickerState.ticker.in_(wanted)))}
    for listing in listings:
        state = states.get(listing.ticker) or TickerState(ticker=listing.ticker)
        state.exchange = listing.exchange
        state.currency = listing.currency
        state.reporting_currency = listing.reporting_currency
        state.source = state.source or source
        states[listing.ticker] = state
        session.add(state)
    for ticker in unplaced:
        state = states.get(ticker) or TickerState(ticker=ticker)
        state.exchange = state.currency = state.reporting_currency = None
        states[ticker] = state
        session.add(state)
    session.flush()
    return states


def ticker_states_for_status(session: Session) -> list[TickerState]:
    return list(session.exec(select(TickerState).order_by(TickerState.ticker)))


def load_bars(
    session: Session,
    listing: Listing,
    since: datetime,
    until: datetime | None = None,
    intervals: Sequence[str] | None = None,
) -> list[Bar]:
    """Stored bars of one ticker starting in [since, until], as domain bars, oldest first."""
    query = select(PriceBar).where(PriceBar.ticker == listing.ticker, PriceBar.timestamp >= since)
    if until is not None:
        query = query.where(PriceBar.timestamp <= until)
    if intervals is not None:
        query = query.where(PriceBar.interval.in_(list(intervals)))
    rows = session.exec(query.order_by(PriceBar.timestamp))
    return [
        build_bar(
            listing.exchange,
            row.ticker,
            row.interval,
            row.timestamp,
            row.open,
            row.high,
            row.low,
            row.close,
            row.volume,
        )
        for row in rows
    ]


def load_history(
    session: Session, listing: Listing, since: datetime, until: datetime | None = None, intraday: str = "5m"
) -> PriceHistory:
    """Daily bars and one intraday interval of a ticker, for detectors and enrichment."""
    return PriceHistory.of(
        listing.ticker, load_bars(session, listing, since, until, intervals=(DAILY, intraday))
    )


def load_recent_history(
    session: Session, listing: Listing, at: datetime, *, intraday: str = "5m", span: timedelta = timedelta(0)
) -> PriceHistory:
    """What price rules and quotes read at `at`: 60 days of daily bars and the recent intraday ones.

    Intraday bars go back `span` (a rule's window) plus a long weekend. Where polling stopped
    because the live stream delivered the ticker, the stream's minute bars take over after the
    last polled bar: never both for the same minutes, so volumes are not counted twice.
    """
    daily = load_bars(session, listing, at - DAILY_LOOKBACK, at, intervals=(DAILY,))
    since = at - span - INTRADAY_MARGIN
    polled = load_bars(session, listing, since, at, intervals=(intraday,))
    streamed: list[Bar] = []
    if intraday != STREAM_INTERVAL:
        after = max((b.end for b in polled), default=since)
        streamed = [b for b in load_bars(session, listing, after, at, intervals=(STREAM_INTERVAL,)) if b.start >= after]
    return PriceHistory.of(listing.ticker, [*daily, *polled, *streamed])


def listing_of(state: TickerState | None) -> Listing | None:
    """The listing the price cycle stored for a ticker, or None if it could not place it."""
    if state is None or state.exchange is None:
        return None
    return Listing(state.ticker, state.exchange, state.currency or "", state.reporting_currency)


def load_quotes(
    session: Session, tickers: Sequence[str], at: datetime, *, stale_sessions: int, intraday: str = "5m"
) -> dict[str, Quote]:
    """Each ticker's quote at `at` from stored bars only (no look-ahead), or why it has none."""
    states = _states(session, tickers)
    quotes: dict[str, Quote] = {}
    for ticker in tickers:
        state = states.get(ticker)
        listing = listing_of(state)
        if listing is None:
            why = "no prices stored yet" if state is None else (state.last_error or "unknown listing")
            quotes[ticker] = Quote(ticker, missing=why)
            continue
        try:
            history = load_recent_history(session, listing, at, intraday=intraday)
            quotes[ticker] = quote_at(history, listing, at, stale_sessions=stale_sessions)
        except (LookupError, ValueError) as exc:  # a calendar or bar we cannot read must not cost the alert
            log.exception("no quote for %s at %s", ticker, at.isoformat())
            quotes[ticker] = Quote(ticker, listing.currency, missing=f"price unavailable ({exc})")
    return quotes


def load_reactions(session: Session, follow_up: FollowUp, now: datetime, *, intraday: str = "5m") -> FollowUp:
    """The follow-up with each ticker's move from the alert to its due time (or `now`, if sooner)."""
    until = min(follow_up.due_at, now)
    states = _states(session, [ticker for ticker, _ in follow_up.tickers])
    reactions: list[Reaction] = []
    for ticker, direction in follow_up.tickers:
        listing = listing_of(states.get(ticker))
        if listing is None:
            reactions.append(Reaction(ticker, direction, note="no prices stored for this ticker"))
            continue
        history = load_recent_history(session, listing, until, intraday=intraday, span=until - follow_up.alert_at)
        traded = traded_between(listing.exchange, follow_up.alert_at, until)
        reactions.append(
            reaction_since(
                history,
                direction=direction,
                currency=listing.currency,
                alert_at=follow_up.alert_at,
                until=until,
                traded=traded,
            )
        )
    return replace(follow_up, reactions=tuple(reactions))


def _states(session: Session, tickers: Sequence[str]) -> dict[str, TickerState]:
    if not tickers:
        return {}
    return {s.ticker: s for s in session.exec(select(TickerState).where(TickerState.ticker.in_(list(tickers))))}
