"""What a bar must be to be stored, and when a ticker's prices stop being current."""

import math
from datetime import UTC, date, datetime, timedelta

import pytest

from service.domain.markets import build_bar, daily_bar_start
from service.domain.prices import check_bars, stale_reason

NOW = datetime(2025, 10, 9, 16, 0, tzinfo=UTC)
T0 = datetime(2025, 10, 9, 13, 30, tzinfo=UTC)
NAN = math.nan


def bar(
    minute: int,
    close: float = 10.0,
    *,
    open_: float = 10.0,
    high: float = 11.0,
    low: float = 9.0,
    volume: float = 100,
):
    return build_bar("US", "MP", "5m", T0 + timedelta(minutes=minute), open_, high, low, close, volume)


def day(session: date, volume: float = 1000, close: float = 10.0):
    return build_bar("US", "MP", "1d", daily_bar_start("US", session), close, close, close, close, volume)


@pytest.mark.parametrize(
    ("bars", "kept", "problem"),
    [
        ([bar(0), bar(5)], [0, 5], None),
        ([bar(0), bar(5, close=NAN)], [0], "dropped 1 bar with missing prices: 2025-10-09 13:35Z (close)"),
        (
            [bar(0, open_=NAN, high=NAN), bar(5)],
            [5],
            "dropped 1 bar with missing prices: 2025-10-09 13:30Z (open, high)",
        ),
        (
            [bar(0, close=-1.0), bar(5)],
            [5],
            "dropped 1 bar with zero, negative or inverted prices: 2025-10-09 13:30Z",
        ),
        ([bar(0, high=8.0), bar(5)], [5], "dropped 1 bar with zero, negative or inverted prices"),
        ([bar(0), bar(300)], [0], "dropped 1 bar stamped in the future: 2025-10-09 18:30Z"),
        ([bar(0, volume=NAN)], [0], "1 bar without a usable volume, stored as 0"),
        ([bar(10), bar(0), bar(5)], [0, 5, 10], "5m bars arrived out of order; sorted by time"),
        (
            [bar(0), bar(5, close=10.5), bar(5, close=10.7)],
            [0, 5],
            "1 duplicated timestamp; kept the last bar of each",
        ),
    ],
)
def test_check_bars(bars, kept, problem):
    """Unusable bars are dropped and named, the rest sorted and deduplicated."""
    checked = check_bars(bars, NOW)
    assert [int((b.start - T0).total_seconds() // 60) for b in checked.bars] == kept
    if problem is None:
        assert checked.problems == []
    else:
        assert any(p.startswith(problem) for p in checked.problems), checked.problems


def test_duplicates_keep_the_last_delivery():
    """When a timestamp repeats, the later delivery wins (a source's correction)."""
    checked = check_bars([bar(5, close=10.5), bar(5, close=10.7)], NOW)
    assert [b.close for b in checked.bars] == [10.7]


def test_many_bad_bars_are_summarised():
    """A long list of bad bars is reported as a count with the first few stamps."""
    checked = check_bars([bar(m, close=NAN) for m in range(0, 30, 5)], NOW)
    assert checked.bars == []
    assert checked.problems == [
        "dropped 6 bars with missing prices: 2025-10-09 13:30Z (close), 2025-10-09 13:35Z (close), "
        "2025-10-09 13:40Z (close) and 3 more"
    ]


SESSIONS = [date(2025, 10, 6), date(2025, 10, 7), date(2025, 10, 8)]


@pytest.mark.parametrize(
    ("bars", "expected"),
    [
        ([day(d) for d in SESSIONS], None),
        ([day(d, volume=0) for d in SESSIONS], "zero volume for 3 sessions (since 2025-10-06)"),
        ([day(SESSIONS[0]), day(SESSIONS[1], volume=0), day(SESSIONS[2], volume=0)], None),
        ([day(date(2025, 10, 3))], "no bars for 3 sessions (last bar 2025-10-03)"),
        ([], "no bars for 3 sessions (no daily bars stored)"),
        ([day(SESSIONS[0]), day(SESSIONS[1])], None),  # one missing session is not yet stale
        # Today's bar still forming with zero volume does not count.
        (
            [
                day(SESSIONS[0]),
                day(SESSIONS[1], volume=0),
                day(SESSIONS[2], volume=0),
                day(date(2025, 10, 9), volume=0),
            ],
            None,
        ),
    ],
)
def test_stale_reason(bars, expected):
    """A ticker without trading for 3 sessions (zero volume, or no bars) is stale, and says why."""
    assert stale_reason(bars, SESSIONS, sessions=3) == expected


def test_daily_and_intraday_bars_together_are_not_out_of_order():
    """A delivery of intraday bars then daily history is in order within each interval."""
    checked = check_bars([bar(0), bar(5), day(date(2025, 10, 7)), day(date(2025, 10, 8))], NOW)
    assert checked.problems == []
    assert len(checked.bars) == 4
