"""Price-move detectors and enrichment maths over bars, never looking past the evaluation instant."""

from datetime import UTC, date, datetime, timedelta

import pytest

from service.domain.markets import build_bar, daily_bar_start, session_on
from service.domain.price_moves import (
    PriceHistory,
    day_change,
    last_price,
    move_after,
    move_between,
    opening_gap,
    volume_surge,
    window_move,
)

OPEN = datetime(2025, 10, 9, 13, 30, tzinfo=UTC)  # NYSE open on 2025-10-09 (09:30 New York)


def at(minutes: float) -> datetime:
    """An instant `minutes` after the 2025-10-09 open."""
    return OPEN + timedelta(minutes=minutes)


def us_sessions(last: date, count: int) -> list[date]:
    days, day = [], last
    while len(days) < count:
        if session_on("US", day) is not None:
            days.append(day)
        day -= timedelta(days=1)
    return days[::-1]


def daily(closes, volumes=None, last=date(2025, 10, 8), opens=None):
    """Daily MP bars for the sessions up to `last`, closing at `closes`."""
    days = us_sessions(last, len(closes))
    volumes = volumes or [1_000_000] * len(closes)
    opens = opens or closes
    return [
        build_bar("US", "MP", "1d", daily_bar_start("US", d), o, max(o, c), min(o, c), c, v)
        for d, o, c, v in zip(days, opens, closes, volumes)
    ]


def five_minute(closes, first_open=None, start=OPEN, volume=10_000):
    """5-minute MP bars from `start`, each opening at the previous close."""
    bars, previous = [], first_open if first_open is not None else closes[0]
    for i, close in enumerate(closes):
        begin = start + timedelta(minutes=5 * i)
        bars.append(
            build_bar(
                "US", "MP", "5m", begin, previous, max(previous, close), min(previous, close), close, volume
            )
        )
        previous = close
    return bars


def history(daily_bars=(), intraday_bars=()):
    return PriceHistory.of("MP", [*daily_bars, *intraday_bars])


# Yesterday closed at 100; today opens at 104 and trades 104, 105, 103, 101, 99, 98 (5-minute closes).
TODAY = history(
    daily([98.0, 99.0, 100.0]), five_minute([104.0, 105.0, 103.0, 101.0, 99.0, 98.0], first_open=104.0)
)


@pytest.mark.parametrize(
    ("when", "expected_price", "expected_end"),
    [
        (at(-60), 100.0, datetime(2025, 10, 8, 20, 0, tzinfo=UTC)),  # before the open: yesterday's close
        (at(4), 100.0, datetime(2025, 10, 8, 20, 0, tzinfo=UTC)),  # the first bar is not final until 13:35
        (at(5), 104.0, at(5)),
        (at(12), 105.0, at(10)),
        (at(60), 98.0, at(30)),
    ],
)
def test_last_price_uses_only_final_bars(when, expected_price, expected_end):
    """The last price at an instant is the close of the last bar final by then: no look-ahead."""
    point = last_price(TODAY, when)
    assert (point.price, point.at) == (expected_price, expected_end)


def test_last_price_without_bars_is_none():
    """With no bar final by the instant there is no price, rather than a guess."""
    assert last_price(TODAY, datetime(2025, 10, 1, tzinfo=UTC)) is None
    assert last_price(history(), at(10)) is None


@pytest.mark.parametrize(
    ("when", "last", "previous", "pct"),
    [
        (at(10), 105.0, 100.0, 5.0),
        (at(30), 98.0, 100.0, -2.0),
        (at(-60), 100.0, 99.0, 1.0101),  # before today's open: yesterday against the day before
    ],
)
def test_day_change(when, last, previous, pct):
    """The day's change compares the last price with the previous session's close."""
    change = day_change(TODAY, when)
    assert (change.last.price, change.previous_close.price) == (last, previous)
    assert change.change_pct == pytest.approx(pct, abs=1e-4)


def test_day_change_prefers_the_official_close_over_the_last_bar():
    """The previous close is the daily bar's close when both it and intraday bars exist."""
    yesterday = five_minute([100.5], start=datetime(2025, 10, 8, 19, 55, tzinfo=UTC))
    mixed = history(daily([99.0, 100.0]), [*yesterday, *five_minute([104.0], first_open=104.0)])
    assert day_change(mixed, at(5)).previous_close.price == 100.0


def test_day_change_without_a_previous_close_is_none():
    """Without any earlier session there is no day's change to report."""
    assert day_change(history((), five_minute([104.0, 105.0])), at(10)) is None


@pytest.mark.parametrize(
    ("start", "end", "from_price", "to_price", "pct"),
    [
        (at(5), at(20), 104.0, 101.0, -2.8846),
        (at(-30), at(10), 100.0, 105.0, 5.0),
        (at(7), at(9), 104.0, 104.0, 0.0),  # no new bar in between: no move
    ],
)
def test_move_between(start, end, from_price, to_price, pct):
    """The move between two instants uses the price known at each, nothing later."""
    move = move_between(TODAY, start, end)
    assert (move.start.price, move.end.price) == (from_price, to_price)
    assert move.change_pct == pytest.approx(pct, abs=1e-4)


def test_move_between_needs_both_prices():
    """Without a price at the first instant there is no move to report."""
    assert move_between(history((), five_minute([104.0, 105.0])), at(-10), at(10)) is None
    with pytest.raises(ValueError):
        move_between(TODAY, at(10), at(5))


@pytest.mark.parametrize(
    ("when", "window", "min_pct", "direction", "outcome", "pct"),
    [
        (at(10), timedelta(minutes=30), 3.0, "either", "moved", 5.0),  # 100 -> 105 across the open
        (at(10), timedelta(minutes=30), 3.0, "down", "no_move", 5.0),
        (at(10), timedelta(minutes=30), 5.0, "up", "moved", 5.0),
        (at(10), timedelta(minutes=30), 5.01, "up", "no_move", 5.0),
        (at(30), timedelta(minutes=15), 6.0, "down", "no_move", -4.8544),  # 103 (13:45) -> 98 (14:00)
        (at(30), timedelta(minutes=15), 4.5, "down", "moved", -4.8544),
        (at(30), timedelta(minutes=20), 6.0, "either", "moved", -6.6667),  # 105 (13:40) -> 98
        (at(30), timedelta(minutes=30), 3.0, "either", "no_move", -2.0),  # yesterday's 100 -> 98
    ],
)
def test_window_move(when, window, min_pct, direction, outcome, pct):
    """A move of at least X% over a window compares the price at the window's start with the latest."""
    check = window_move(TODAY, when, window, min_pct, direction)
    assert check.outcome == outcome
    assert check.move.change_pct == pytest.approx(pct, abs=1e-4)


@pytest.mark.parametrize(
    ("bars", "when", "reason"),
    [
        (history(), at(10), "no price known"),
        (TODAY, at(90), "no bar ended between"),  # the feed stopped: not calm, unknown
        (history(daily([100.0])), at(10), "no bar ended between"),
    ],
)
def test_window_move_without_bars_says_no_data(bars, when, reason):
    """Missing bars give `no_data`, never `no_move`: a failed download must not look calm."""
    check = window_move(bars, when, timedelta(minutes=30), 1.0)
    assert check.outcome == "no_data"
    assert reason in check.reason


@pytest.mark.parametrize(
    ("since", "within", "when", "min_pct", "direction", "outcome", "crossed_at"),
    [
        # "MP down at least 3% within 2 hours after 13:40": 105 at 13:40 -> 101 at 13:50 is -3.8%.
        (at(10), timedelta(hours=2), at(120), 3.0, "down", "moved", at(20)),
        # Evaluated at 13:48 the crossing bar is not final yet: not yet moved.
        (at(10), timedelta(hours=2), at(18), 3.0, "down", "no_move", None),
        # Within only 5 minutes it never reached -3%.
        (at(10), timedelta(minutes=5), at(120), 3.0, "down", "no_move", None),
        (at(10), timedelta(hours=2), at(120), 3.0, "up", "no_move", None),
        (at(10), timedelta(hours=2), at(120), 6.0, "down", "moved", at(30)),
    ],
)
def test_move_after(since, within, when, min_pct, direction, outcome, crossed_at):
    """The combined-rule building block finds the first bar that crossed after the event, if any."""
    check = move_after(TODAY, since, within, min_pct, direction, when)
    assert check.outcome == outcome
    if crossed_at is not None:
        assert check.move.end.at == crossed_at


def test_move_after_without_bars_after_the_event_says_no_data():
    """No bar after the event instant means the answer is unknown, not "no move"."""
    check = move_after(TODAY, at(60), timedelta(hours=2), 3.0, "down", at(120))
    assert check.outcome == "no_data"


@pytest.mark.parametrize(
    ("bars", "when", "min_pct", "direction", "outcome", "pct"),
    [
        (TODAY, at(5), 3.0, "up", "moved", 4.0),
        (TODAY, at(5), 3.0, "down", "no_move", 4.0),
        (TODAY, at(5), 4.5, "either", "no_move", 4.0),
        # Only daily bars: the gap is known once today's daily bar is final, at the close.
        (
            history(daily([100.0, 97.0], opens=[100.0, 95.0], last=date(2025, 10, 9))),
            at(400),
            4.0,
            "down",
            "moved",
            -5.0,
        ),
    ],
)
def test_opening_gap(bars, when, min_pct, direction, outcome, pct):
    """A gap compares the session's first price with the previous session's close."""
    check = opening_gap(bars, when, min_pct, direction)
    assert check.outcome == outcome
    assert check.move.change_pct == pytest.approx(pct, abs=1e-4)


def test_opening_gap_before_the_first_bar_is_final_is_yesterdays():
    """At 09:32 today's first bar is not final: the latest known session is yesterday's."""
    check = opening_gap(TODAY, at(2), 3.0)
    assert check.move.end.session == date(2025, 10, 8)


def test_opening_gap_without_a_previous_close_says_no_data():
    """Without the previous close the gap is unknown."""
    assert opening_gap(history((), five_minute([104.0])), at(5), 1.0).outcome == "no_data"


AVERAGE = daily([100.0] * 20, volumes=[1_000_000] * 20)


@pytest.mark.parametrize(
    ("intraday_volume", "bars_today", "when", "factor", "outcome", "ratio"),
    [
        (100_000, 30, at(200), 3.0, "moved", 3.0),  # 3,000,000 by mid-afternoon
        (100_000, 30, at(200), 3.5, "no_move", 3.0),
        (100_000, 30, at(60), 3.0, "no_move", 1.2),  # only the first 12 bars are final by 10:30
    ],
)
def test_volume_surge(intraday_volume, bars_today, when, factor, outcome, ratio):
    """Volume so far today against the 20-session average, counting only final bars."""
    bars = history(AVERAGE, five_minute([100.0] * bars_today, volume=intraday_volume))
    check = volume_surge(bars, when, factor)
    assert (check.outcome, check.ratio) == (outcome, pytest.approx(ratio))


def test_volume_surge_uses_the_daily_bar_once_final():
    """After the close the session's own daily volume is compared with the earlier sessions."""
    sessions = daily([100.0] * 21, volumes=[1_000_000] * 20 + [5_000_000], last=date(2025, 10, 9))
    check = volume_surge(history(sessions), at(400), 5.0)
    assert (check.outcome, check.ratio) == ("moved", pytest.approx(5.0))


@pytest.mark.parametrize(
    ("daily_bars", "reason"),
    [
        (daily([100.0] * 7), "7 earlier sessions of volume; need 20"),
        (daily([100.0] * 20, volumes=[0] * 20), "zero average volume over 20 sessions"),
    ],
)
def test_volume_surge_without_enough_history_says_no_data(daily_bars, reason):
    """Too little history, or none with volume, cannot show a surge: it says why."""
    check = volume_surge(history(daily_bars, five_minute([100.0] * 5)), at(30), 2.0)
    assert (check.outcome, check.reason) == ("no_data", reason)
