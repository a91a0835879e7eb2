"""Live ticks read from Yahoo's decoded messages and folded into one-minute bars."""

from datetime import UTC, datetime, timedelta

import pytest

from service.domain.prices import Tick
from service.sources.prices.listings import listing_for
from service.sources.prices.stream import MinuteBars, tick_from_message

MP = listing_for("MP")
T0 = datetime(2025, 10, 9, 14, 0, tzinfo=UTC)  # New York is trading


def ms(moment: datetime) -> str:
    return str(int(moment.timestamp() * 1000))


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            {"id": "MP", "price": 61.37, "time": ms(T0), "day_volume": "3456789"},
            Tick("MP", 61.37, T0, 3_456_789),
        ),
        ({"id": "lyc.ax", "price": 7.5, "time": ms(T0)}, Tick("LYC.AX", 7.5, T0, None)),
        ({"price": 61.0, "time": ms(T0)}, None),  # no symbol
        ({"id": "MP", "time": ms(T0)}, None),  # price 0 is omitted by protobuf: no price
        ({"id": "MP", "price": 61.0}, None),  # no time
        ({"id": "MP", "price": 61.0, "time": "soon"}, None),
        ({"error": "bad base64", "raw_base64": "abc"}, None),
    ],
)
def test_tick_from_message(message, expected):
    """A decoded PricingData dict becomes a tick only with a symbol, a price and a time."""
    assert tick_from_message(message) == expected


def tick(seconds: float, price: float, day_volume: int | None = None, ticker: str = "MP") -> Tick:
    return Tick(ticker, price, T0 + timedelta(seconds=seconds), day_volume)


def test_ticks_fold_into_minute_bars():
    """Each minute's ticks give one OHLC bar; its volume is the growth of the day volume."""
    bars = MinuteBars()
    for t in (
        tick(1, 60.0, 1000),
        tick(20, 61.5, 1500),
        tick(40, 59.5, 1800),
        tick(59, 60.5, 2000),
        tick(61, 62.0, 2600),
    ):
        bars.add(MP, t)
    (first,) = bars.take(T0 + timedelta(seconds=61))  # the second minute is still forming
    assert (first.start, first.end, first.interval) == (T0, T0 + timedelta(minutes=1), "1m")
    assert (first.open, first.high, first.low, first.close, first.volume) == (60.0, 61.5, 59.5, 60.5, 1000)
    (second,) = bars.take(T0 + timedelta(minutes=2))
    assert (second.open, second.close, second.volume) == (62.0, 62.0, 600)
    assert bars.take(T0 + timedelta(minutes=5)) == []  # handed out once


def test_ticks_outside_the_session_and_late_ticks_are_ignored():
    """Pre-market ticks and ticks for a minute already handed on make no bar."""
    bars = MinuteBars()
    bars.add(MP, Tick("MP", 60.0, datetime(2025, 10, 9, 12, 0, tzinfo=UTC)))  # 08:00 New York
    bars.add(MP, tick(70, 61.0))
    bars.add(MP, tick(10, 59.0))  # late: its minute is before the one being built
    assert [b.close for b in bars.take(T0 + timedelta(minutes=3))] == [61.0]
    assert bars.ignored == 2


def test_a_day_volume_reset_counts_as_a_new_session():
    """A day volume lower than the last one starts a new count instead of a negative volume."""
    bars = MinuteBars()
    bars.add(MP, tick(1, 60.0, 5000))
    bars.add(MP, tick(2, 60.0, 100))
    bars.add(MP, tick(3, 60.0, 400))
    assert [b.volume for b in bars.take(T0 + timedelta(minutes=1))] == [300]
