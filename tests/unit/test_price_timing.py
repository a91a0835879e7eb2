"""When the price cycle asks for what: back-off, Yahoo ranges, reconnect delays, the fetch plan."""

from datetime import UTC, datetime, timedelta

import pytest

from service.pipeline.backoff import rate_limit_pause
from service.pipeline.prices import plan_fetches
from service.sources.prices.listings import listing_for
from service.sources.prices.stream import reconnect_delay
from service.sources.prices.yahoo import classify_failure, yahoo_period
from service.store.models import TickerState


@pytest.mark.parametrize(
    ("strikes", "jitter", "expected"),
    [
        (1, 0.5, 300),  # five minutes after the first 429
        (2, 0.5, 600),
        (3, 0.5, 1200),
        (4, 0.5, 2400),
        (5, 0.5, 3600),  # capped at an hour
        (50, 0.5, 3600),
        (3, 0.0, 900),  # jitter spreads +-25%
        (3, 1.0, 1500),
        (1, 0.0, 300),  # never shorter than the first pause
    ],
)
def test_rate_limit_pause(strikes, jitter, expected):
    """A rate-limited source pauses from five minutes, doubling per 429 in a row, up to an hour."""
    assert rate_limit_pause(strikes, jitter=jitter) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("attempt", "jitter", "expected"),
    [
        (1, 1.0, 1.0),
        (1, 0.0, 0.5),  # never less than half
        (2, 1.0, 2.0),
        (4, 1.0, 8.0),
        (7, 1.0, 60.0),  # capped
        (7, 0.0, 30.0),
        (1000, 0.5, 45.0),  # huge attempt counts do not overflow
        (0, 1.0, 1.0),
    ],
)
def test_reconnect_delay(attempt, jitter, expected):
    """Stream reconnects double from one second up to a minute, jittered within the upper half."""
    assert reconnect_delay(attempt, first=1.0, cap=60.0, jitter=jitter) == pytest.approx(expected)


NOW = datetime(2025, 10, 9, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("interval", "since", "expected"),
    [
        ("5m", NOW - timedelta(hours=2), "1d"),
        ("5m", NOW - timedelta(days=3), "5d"),
        ("5m", NOW - timedelta(days=50), "1mo"),  # Yahoo serves 5m bars for 60 days: "3mo" is refused
        ("1m", NOW - timedelta(days=20), "5d"),
        ("60m", NOW - timedelta(days=300), "1y"),
        ("1d", NOW - timedelta(days=7), "5d"),
        ("1d", NOW - timedelta(days=8), "1mo"),
        ("1d", NOW - timedelta(days=85), "3mo"),
        ("1d", NOW - timedelta(days=400), "2y"),
        ("1d", NOW - timedelta(days=9000), "10y"),
        ("1d", NOW + timedelta(days=1), "1d"),
    ],
)
def test_yahoo_period(interval, since, expected):
    """The shortest Yahoo range covering the wanted bars, within what Yahoo serves per interval."""
    assert yahoo_period(interval, since, NOW) == expected


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def state(ticker: str, **fields) -> TickerState:
    return TickerState(ticker=ticker, **fields)


LISTINGS = [listing_for(t) for t in ("MP", "LYC.AX", "600111.SS")]
CHECKED_TODAY = {  # daily bars fetched after every exchange's 2025-10-09 close
    t: state(t, daily_checked_at=utc("2025-10-09 21:00")) for t in ("MP", "LYC.AX", "600111.SS")
}


def planned(plan):
    return {r.interval: sorted(r.tickers) for r in plan.requests}


@pytest.mark.parametrize(
    ("now", "states", "streamed", "expected"),
    [
        # New tickers at 15:00 UTC: New York trades, so MP gets 5m bars; all get daily history.
        ("2025-10-09 15:00", {}, (), {"5m": ["MP"], "1d": ["600111.SS", "LYC.AX", "MP"]}),
        # Daily bars already fetched today: only intraday for the open exchange.
        ("2025-10-09 15:00", CHECKED_TODAY, (), {"5m": ["MP"]}),
        # 02:00 UTC: Sydney and Shanghai trade (October 10 there); yesterday's daily bars are in.
        ("2025-10-10 02:00", CHECKED_TODAY, (), {"5m": ["600111.SS", "LYC.AX"]}),
        # Shanghai's lunch break still counts as its session: bars keep coming after 13:00.
        ("2025-10-10 04:00", CHECKED_TODAY, (), {"5m": ["600111.SS", "LYC.AX"]}),
        # Ten minutes after New York's close its last bars still come in; Asia's daily bars of
        # October 10 are due since their closes hours ago.
        ("2025-10-10 20:10", CHECKED_TODAY, (), {"5m": ["MP"], "1d": ["600111.SS", "LYC.AX"]}),
        # Half an hour after New York's close: MP's daily bar for October 10 is due too.
        ("2025-10-10 20:30", CHECKED_TODAY, (), {"1d": ["600111.SS", "LYC.AX", "MP"]}),
        # Saturday: nothing trades and the daily bars are up to date.
        (
            "2025-10-11 12:00",
            {t: state(t, daily_checked_at=utc("2025-10-10 21:00")) for t in CHECKED_TODAY},
            (),
            {},
        ),
        # The live stream delivers MP: no 5m polling for it while it is up.
        ("2025-10-09 15:00", CHECKED_TODAY, ("MP",), {}),
    ],
)
def test_plan_fetches(now, states, streamed, expected):
    """Intraday bars while an exchange trades (and just after), daily bars once per session."""
    plan = plan_fetches(LISTINGS, states, utc(now), streamed=frozenset(streamed))
    assert planned(plan) == expected
    assert plan.waiting == {}


def test_plan_new_ticker_asks_for_enough_daily_history():
    """A new ticker's daily history reaches back far enough for 20-session volume averages."""
    plan = plan_fetches(LISTINGS[:1], {}, utc("2025-10-09 15:00"))
    daily = next(r for r in plan.requests if r.interval == "1d")
    assert daily.since <= utc("2025-10-09 15:00") - timedelta(days=80)


def test_plan_backing_off_ticker_waits_and_says_until_when():
    """A ticker in back-off after failures is not requested; the plan says when it will be."""
    failing = state("MP", next_attempt_at=utc("2025-10-09 15:10"), consecutive_failures=3)
    plan = plan_fetches(LISTINGS[:2], {**CHECKED_TODAY, "MP": failing}, utc("2025-10-09 15:00"))
    assert planned(plan) == {}
    assert plan.waiting == {"MP": "retrying at 2025-10-09 15:10 UTC after 3 failures"}
    later = plan_fetches(LISTINGS[:1], {"MP": failing}, utc("2025-10-09 15:10"))
    assert "5m" in planned(later)


@pytest.mark.parametrize(
    ("reason", "kind", "text"),
    [
        (None, "no_data", "no 1d bars from Yahoo, and yfinance logged no reason"),
        (
            "YFRateLimitError('Too Many Requests. Rate limited. Try after a while.')",
            "rate_limited",
            "Yahoo rate limit (HTTP 429): YFRateLimitError('Too Many Requests. Rate limited. Try after a while.')",
        ),
        (
            "DNSError('Failed to perform, curl: (6) Could not resolve host: query2.finance.yahoo.com.')",
            "source_error",
            "cannot reach Yahoo: DNSError('Failed to perform, curl: (6) Could not resolve host: "
            "query2.finance.yahoo.com.')",
        ),
        (
            "possibly delisted; no price data found  (period=5d)",
            "no_data",
            "no 1d bars from Yahoo: possibly delisted; no price data found (period=5d) "
            "(yfinance also says this when the network fails)",
        ),
        (
            "No data found, symbol may be delisted",
            "no_data",
            "no 1d bars from Yahoo: No data found, symbol may be delisted",
        ),
    ],
)
def test_classify_yfinance_failure(reason, kind, text):
    """yfinance's logged reason decides whether a ticker is rate-limited, unreachable or without data."""
    failure = classify_failure("MP", "1d", reason)
    assert (failure.kind, failure.reason) == (kind, text)
