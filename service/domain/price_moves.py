"""Price moves as pure functions over bars: what price rules test and what alerts report.

Every function takes the instant `at` it is evaluated at and uses only bars final by then
(`bar.end <= at`), so the same code serves live alerts and backtests without look-ahead. A check
says `no_data` when the bars cannot answer: a failed download must never read as "no move".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from service.domain.prices import Bar

Direction = Literal["up", "down", "either"]
Outcome = Literal["moved", "no_move", "no_data"]


@dataclass(frozen=True)
class PriceHistory:
    """One ticker's bars: daily for closes and volumes, intraday (one interval) for the session."""

    ticker: str
    daily: tuple[Bar, ...] = ()
    intraday: tuple[Bar, ...] = ()

    @classmethod
    def of(cls, ticker: str, bars: Sequence[Bar]) -> PriceHistory:
        """Split bars of one ticker into daily and intraday, each sorted by start."""
        daily = tuple(sorted((b for b in bars if b.is_daily), key=lambda b: b.start))
        intraday = tuple(sorted((b for b in bars if not b.is_daily), key=lambda b: b.start))
        return cls(ticker, daily, intraday)


@dataclass(frozen=True)
class PricePoint:
    """A price and the instant it was the latest (the end of the bar it closed)."""

    price: float
    at: datetime
    session: date


@dataclass(frozen=True)
class Move:
    """The change from one price point to a later one."""

    ticker: str
    start: PricePoint
    end: PricePoint

    @property
    def change(self) -> float:
        return self.end.price - self.start.price

    @property
    def change_pct(self) -> float:
        return (self.end.price / self.start.price - 1.0) * 100.0


@dataclass(frozen=True)
class MoveCheck:
    """The answer of one detector: moved, did not move, or cannot tell (and why)."""

    outcome: Outcome
    reason: str
    move: Move | None = None
    #: Volume checks: today's volume over the average; None for price checks.
    ratio: float | None = None

    @property
    def moved(self) -> bool:
        return self.outcome == "moved"


@dataclass(frozen=True)
class DayChange:
    """The last price at an instant and its change from the previous session's close."""

    last: PricePoint
    previous_close: PricePoint

    @property
    def change(self) -> float:
        return self.last.price - self.previous_close.price

    @property
    def change_pct(self) -> float:
        return (self.last.price / self.previous_close.price - 1.0) * 100.0


def last_price(history: PriceHistory, at: datetime) -> PricePoint | None:
    """The latest price known at `at`: the close of the last bar final by then, intraday or daily."""
    latest: Bar | None = None
    for bars in (history.intraday, history.daily):
        bar = _last_final(bars, at)
        if bar is not None and (latest is None or bar.end > latest.end):
            latest = bar
    return None if latest is None else _point(latest)


def day_change(history: PriceHistory, at: datetime) -> DayChange | None:
    """The last price at `at` and its change since the previous session's close, or None."""
    last = last_price(history, at)
    if last is None:
        return None
    close = _close_before(history, last.session, at)
    return None if close is None else DayChange(last, close)


def move_between(history: PriceHistory, start: datetime, end: datetime) -> Move | None:
    """The move from the last price known at `start` to the last price known at `end`."""
    if end < start:
        raise ValueError("end must not be before start")
    first, last = last_price(history, start), last_price(history, end)
    if first is None or last is None:
        return None
    return Move(history.ticker, first, last)


def window_move(
    history: PriceHistory, at: datetime, window: timedelta, min_pct: float, direction: Direction = "either"
) -> MoveCheck:
    """Whether the price moved at least `min_pct`% between `at - window` and `at`."""
    start = at - window
    first = last_price(history, start)
    if first is None:
        return MoveCheck("no_data", f"no price known at {_clock(start)}")
    fresh = [b for b in history.intraday if start < b.end <= at] or [
        b for b in history.daily if start < b.end <= at
    ]
    if not fresh:
        return MoveCheck("no_data", f"no bar ended between {_clock(start)} and {_clock(at)}")
    move = Move(history.ticker, first, _point(max(fresh, key=lambda b: b.end)))
    return _judge(move, min_pct, direction, f"over {_span(window)}")


def move_after(
    history: PriceHistory,
    since: datetime,
    within: timedelta,
    min_pct: float,
    direction: Direction,
    at: datetime,
) -> MoveCheck:
    """Whether, within `within` after `since`, the price reached `min_pct`% away from its level at `since`.

    The building block of combined rules ("a truce event, then MP down 3% within 2 hours"). It
    reports the first bar that crossed. Evaluated before the window is over, `no_move` means
    "not yet"; bars after `at` are never used.
    """
    first = last_price(history, since)
    if first is None:
        return MoveCheck("no_data", f"no price known at {_clock(since)}")
    until = min(since + within, at)
    bars = [b for b in history.intraday if since < b.end <= until] or [
        b for b in history.daily if since < b.end <= until
    ]
    if not bars:
        return MoveCheck("no_data", f"no bar ended between {_clock(since)} and {_clock(until)}")
    where = f"after {_clock(since)}"
    checks = [
        _judge(Move(history.ticker, first, _point(bar)), min_pct, direction, where)
        for bar in sorted(bars, key=lambda b: b.end)
    ]
    return next((check for check in checks if check.moved), checks[-1])


def opening_gap(
    history: PriceHistory, at: datetime, min_pct: float, direction: Direction = "either"
) -> MoveCheck:
    """Whether the latest session known at `at` opened at least `min_pct`% away from the previous close."""
    session_open = _session_open(history, at)
    if session_open is None:
        return MoveCheck("no_data", f"no bar of a session final by {_clock(at)}")
    close = _close_before(history, session_open.session, at)
    if close is None:
        return MoveCheck("no_data", f"no close before the {session_open.session.isoformat()} session")
    return _judge(Move(history.ticker, close, session_open), min_pct, direction, "at the open")


def volume_surge(history: PriceHistory, at: datetime, factor: float, lookback: int = 20) -> MoveCheck:
    """Whether the latest session's volume so far is at least `factor` times its `lookback`-session average."""
    latest = last_price(history, at)
    if latest is None:
        return MoveCheck("no_data", f"no bar final by {_clock(at)}")
    session = latest.session
    intraday = [b for b in history.intraday if b.session == session and b.end <= at]
    daily_today = [b for b in history.daily if b.session == session and b.end <= at]
    volume = daily_today[-1].volume if daily_today else sum(b.volume for b in intraday)
    before = [b for b in history.daily if b.session < session and b.end <= at][-lookback:]
    if len(before) < lookback:
        return MoveCheck("no_data", f"{len(before)} earlier sessions of volume; need {lookback}")
    average = sum(b.volume for b in before) / lookback
    if average <= 0:
        return MoveCheck("no_data", f"zero average volume over {lookback} sessions")
    ratio = volume / average
    verdict: Outcome = "moved" if ratio >= factor else "no_move"
    return MoveCheck(verdict, f"volume {ratio:.1f}x its {lookback}-session average", ratio=ratio)


def _judge(move: Move, min_pct: float, direction: Direction, where: str) -> MoveCheck:
    pct = move.change_pct
    hit = {"up": pct >= min_pct, "down": pct <= -min_pct, "either": abs(pct) >= min_pct}[direction]
    return MoveCheck("moved" if hit else "no_move", f"{pct:+.2f}% {where}", move)


def _last_final(bars: Sequence[Bar], at: datetime) -> Bar | None:
    final = [b for b in bars if b.end <= at]
    return max(final, key=lambda b: b.end) if final else None


def _close_before(history: PriceHistory, session: date, at: datetime) -> PricePoint | None:
    """The close of the last session before `session`: its daily bar, else its last intraday bar."""
    daily = [b for b in history.daily if b.session < session and b.end <= at]
    intraday = [b for b in history.intraday if b.session < session and b.end <= at]
    candidates = [max(bars, key=lambda b: b.end) for bars in (daily, intraday) if bars]
    if not candidates:
        return None
    newest_session = max(b.session for b in candidates)
    # The official daily close wins over the last five minutes' close of the same session.
    best = next(b for b in candidates if b.session == newest_session)
    return _point(best)


def _session_open(history: PriceHistory, at: datetime) -> PricePoint | None:
    latest = last_price(history, at)
    if latest is None:
        return None
    bars = [b for b in history.intraday if b.session == latest.session and b.end <= at]
    if bars:
        first = min(bars, key=lambda b: b.start)
        return PricePoint(first.open, first.start, first.session)
    daily = [b for b in history.daily if b.session == latest.session and b.end <= at]
    if daily:
        return PricePoint(daily[-1].open, daily[-1].start, daily[-1].session)
    return None


def _point(bar: Bar) -> PricePoint:
    return PricePoint(bar.close, bar.end, bar.session)


def _clock(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%MZ")


def _span(window: timedelta) -> str:
    minutes = int(window.total_seconds() // 60)
    if minutes % 1440 == 0:
        return f"{minutes // 1440}d"
    if minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"
