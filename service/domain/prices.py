"""Prices as every stage sees them: listings, bars, live ticks, and the checks a bar must pass."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

#: Bar lengths we store. Yahoo's names; "1d" is one exchange session.
INTRADAY_INTERVALS: dict[str, timedelta] = {
    "1m": timedelta(minutes=1),
    "2m": timedelta(minutes=2),
    "5m": timedelta(minutes=5),
    "15m": timedelta(minutes=15),
    "30m": timedelta(minutes=30),
    "60m": timedelta(minutes=60),
}
DAILY = "1d"
INTERVALS = (*INTRADAY_INTERVALS, DAILY)


@dataclass(frozen=True)
class Listing:
    """A ticker as Yahoo spells it, where it trades and in which currency."""

    ticker: str
    exchange: str
    currency: str
    #: The currency of the issuer's filings when it differs (6680.HK trades in HKD, reports in CNY).
    reporting_currency: str | None = None


@dataclass(frozen=True)
class Bar:
    """One OHLCV bar of one ticker. Times are aware UTC.

    `end` is when the bar's prices were final (for a daily bar, the session's close) and `session`
    the exchange-local trading day it belongs to: detectors use them to never look ahead.
    """

    ticker: str
    interval: str
    start: datetime
    end: datetime
    session: date
    open: float
    high: float
    low: float
    close: float
    volume: float

    @property
    def is_daily(self) -> bool:
        return self.interval == DAILY


@dataclass(frozen=True)
class Tick:
    """One live quote from a stream."""

    ticker: str
    price: float
    at: datetime
    #: Shares traded so far in the session, when the stream says.
    day_volume: int | None = None


@dataclass
class CheckedBars:
    """Bars fit to store, and what was wrong with the ones that were not."""

    bars: list[Bar] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def check_bars(bars: Sequence[Bar], now: datetime) -> CheckedBars:
    """Drop bars no detector should see (NaN, non-positive or inverted prices, future); sort; dedupe.

    Each kind of problem becomes one readable line, so `prices status` can say what a source sent.
    """
    checked = CheckedBars()
    missing: list[str] = []
    invalid: list[str] = []
    future: list[str] = []
    no_volume = 0
    kept: list[Bar] = []
    for bar in bars:
        prices = {"open": bar.open, "high": bar.high, "low": bar.low, "close": bar.close}
        gaps = [name for name, value in prices.items() if not _finite(value)]
        if gaps:
            missing.append(f"{_stamp(bar)} ({', '.join(gaps)})")
            continue
        if min(prices.values()) <= 0 or bar.high < bar.low:
            invalid.append(_stamp(bar))
            continue
        if bar.start > now:
            future.append(_stamp(bar))
            continue
        if not _finite(bar.volume) or bar.volume < 0:
            no_volume += 1
            bar = replace(bar, volume=0)
        kept.append(bar)
    if missing:
        checked.problems.append(
            f"dropped {_count(len(missing), 'bar')} with missing prices: {_first(missing)}"
        )
    if invalid:
        checked.problems.append(
            f"dropped {_count(len(invalid), 'bar')} with zero, negative or inverted prices: {_first(invalid)}"
        )
    if future:
        checked.problems.append(
            f"dropped {_count(len(future), 'bar')} stamped in the future: {_first(future)}"
        )
    if no_volume:
        checked.problems.append(f"{_count(no_volume, 'bar')} without a usable volume, stored as 0")

    for interval in dict.fromkeys(b.interval for b in kept):
        series = [b for b in kept if b.interval == interval]
        if any(later.start < earlier.start for earlier, later in zip(series, series[1:])):
            checked.problems.append(f"{interval} bars arrived out of order; sorted by time")
    by_start: dict[tuple[str, datetime], Bar] = {}
    for bar in kept:
        by_start[(bar.interval, bar.start)] = bar  # the last delivery of a timestamp wins
    repeated = len(kept) - len(by_start)
    if repeated:
        checked.problems.append(f"{_count(repeated, 'duplicated timestamp')}; kept the last bar of each")
    checked.bars = sorted(by_start.values(), key=lambda b: (b.interval, b.start))
    return checked


def stale_reason(daily: Sequence[Bar], expected_sessions: Sequence[date], *, sessions: int = 3) -> str | None:
    """Why a ticker's prices cannot be trusted as current, or None.

    `daily` are its latest daily bars and `expected_sessions` the exchange's completed sessions,
    oldest first. A suspended or delisted name typically keeps getting flat bars with zero volume,
    or no bars at all; either way no move will show, and the desk must know that is not calm.
    """
    if sessions < 1:
        raise ValueError("sessions must be at least 1")
    if expected_sessions:
        # A session still trading has a partial bar; judge completed sessions only.
        daily = [b for b in daily if b.session <= expected_sessions[-1]]
    completed = sorted(daily, key=lambda b: b.session)
    last = completed[-1].session if completed else None
    missed = [s for s in expected_sessions if last is None or s > last]
    if len(missed) >= sessions:
        since = f"last bar {last.isoformat()}" if last else "no daily bars stored"
        return f"no bars for {len(missed)} sessions ({since})"
    recent = completed[-sessions:]
    if len(recent) == sessions and all(b.volume == 0 for b in recent):
        return f"zero volume for {sessions} sessions (since {recent[0].session.isoformat()})"
    return None


def _finite(value: float) -> bool:
    return value is not None and not math.isnan(value) and not math.isinf(value)


def _stamp(bar: Bar) -> str:
    if bar.is_daily:
        return bar.session.isoformat()
    return bar.start.strftime("%Y-%m-%d %H:%MZ")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _first(stamps: list[str]) -> str:
    more = f" and {len(stamps) - 3} more" if len(stamps) > 3 else ""
    return ", ".join(stamps[:3]) + more
