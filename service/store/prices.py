"""Price bars and ticker states: upserting bars, keeping each ticker's health, reading history."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlmodel import Session, select

from service.domain.markets import build_bar
from service.domain.price_moves import PriceHistory
from service.domain.prices import DAILY, Bar, Listing
from service.store.models import PriceBar, TickerState
from service.store.upsert import insert_updating_conflicts

_BAR_VALUES = ("open", "high", "low", "close", "volume", "source", "fetched_at")


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
