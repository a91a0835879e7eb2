"""The yfinance source against Yahoo's HTTP API answered offline: yfinance's own request path runs."""

import asyncio
import logging
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
import yfinance as yf

from service.sources.prices.listings import listing_for
from service.sources.prices.source import BarRequest
from service.sources.prices.yahoo import YahooPriceSource, download_bars
from tests.fakes.yahoo_http import (
    EMPTY,
    NOT_FOUND,
    RATE_LIMITED,
    SERVER_ERROR,
    cold_yfinance,  # noqa: F401  (fixture)
    daily_bars,
    fake_yahoo,
    intraday_bars,
    reset_yfinance_state,
)

pytestmark = pytest.mark.usefixtures("cold_yfinance")

TICKERS = ["MP", "LYC.AX", "600111.SS"]
DAYS = [date(2026, 3, d) for d in (2, 3, 4, 5, 6)]  # Monday to Friday, a normal week everywhere
NOW = datetime(2026, 3, 6, 15, 0, tzinfo=UTC)  # Friday, New York trading (EST: opened 14:30 UTC)
START = {"MP": 60.0, "LYC.AX": 7.5, "600111.SS": 40.0}


@pytest.fixture
def yahoo():
    with fake_yahoo() as fake:
        for ticker in TICKERS:
            fake.ok(ticker, **{"1d": daily_bars(ticker, DAYS, START[ticker])})
        yield fake


def request(interval="1d", tickers=TICKERS, since=NOW - timedelta(days=6)) -> BarRequest:
    return BarRequest(interval, since, tuple(listing_for(t) for t in tickers))


def test_all_tickers_fine(yahoo):
    """One download gives every ticker its daily bars, each on its own exchange's session dates."""
    result = download_bars(request(), NOW)
    assert result.failures == {} and result.rate_limited is False
    for ticker in TICKERS:
        bars = result.bars[ticker]
        assert [b.session for b in bars] == DAYS
        assert [b.close for b in bars] == pytest.approx(
            [round(START[ticker] + i * 0.1, 4) * 1.005 for i in range(5)]
        )
        assert [b.volume for b in bars] == [1_000_000 + i * 1000 for i in range(5)]
    lynas = result.bars["LYC.AX"][0]
    assert lynas.start == datetime(2026, 3, 1, 13, 0, tzinfo=UTC)  # Sydney midnight (AEDT)
    assert lynas.end == datetime(2026, 3, 2, 5, 0, tzinfo=UTC)  # 16:00 Sydney


def test_what_goes_over_the_wire(yahoo):
    """yfinance sends one chart request per ticker (after a tz lookup when cold): the batch is ours."""
    download_bars(request(), NOW)
    assert {c.chart_symbol for c in yahoo.chart_calls()} == set(TICKERS)
    real = [c for c in yahoo.chart_calls("MP") if c.query.get("range") != "1d"]
    assert len(real) == 1
    assert real[0].query == {
        "range": "5d",
        "interval": "1d",
        "includePrePost": "False",
        "events": "div,splits,capitalGains",
        "crumb": "fakeCrumb.0k",
    }
    yahoo.calls.clear()
    download_bars(request(), NOW)  # warm: crumb and time zones cached
    assert sorted(c.chart_symbol for c in yahoo.calls) == sorted(TICKERS)


def test_intraday_bars_come_back_in_utc(yahoo):
    """5-minute bars of an open exchange are stored as UTC instants, whatever zone yfinance used."""
    yahoo.ok("MP", **{"5m": intraday_bars("MP", DAYS[-1], [60.0, 60.5, 61.0, 60.8])})
    result = download_bars(request("5m", ["MP"], since=datetime(2026, 3, 6, 14, 30, tzinfo=UTC)), NOW)
    starts = [b.start for b in result.bars["MP"]]
    assert starts == [datetime(2026, 3, 6, 14, 30, tzinfo=UTC) + timedelta(minutes=5 * i) for i in range(4)]
    assert [b.close for b in result.bars["MP"]] == [60.0, 60.5, 61.0, 60.8]
    assert yahoo.chart_calls("MP")[-1].query["range"] == "1d"


def test_one_ticker_missing(yahoo):
    """A 404 ticker fails with Yahoo's reason while the others get their bars."""
    yahoo.behave("LYC.AX", NOT_FOUND)
    result = download_bars(request(), NOW)
    assert set(result.bars) == {"MP", "600111.SS"}
    failure = result.failures["LYC.AX"]
    assert failure.kind == "no_data"
    assert failure.reason == "no 1d bars from Yahoo: No data found, symbol may be delisted"


def test_every_ticker_failing_gives_the_empty_frame(yahoo):
    """When every ticker fails yfinance returns an empty frame and raises nothing: each fails, with a reason."""
    for ticker, behaviour in zip(TICKERS, (NOT_FOUND, SERVER_ERROR, EMPTY)):
        yahoo.behave(ticker, behaviour)
    frame = yf.download(
        TICKERS, period="5d", group_by="ticker", progress=False, threads=False, auto_adjust=False
    )
    assert frame.shape == (0, 18)  # the shape that must never read as "no move"
    reset_yfinance_state(TICKERS)
    result = download_bars(request(), NOW)
    assert result.bars == {}
    assert {t: f.kind for t, f in result.failures.items()} == dict.fromkeys(TICKERS, "no_data")
    assert result.failures["LYC.AX"].reason == "no 1d bars from Yahoo: Fake internal server error"
    assert result.failures["600111.SS"].reason == (
        "no 1d bars from Yahoo: possibly delisted; no price data found (period=5d) "
        "(yfinance also says this when the network fails)"
    )


def test_rate_limit_marks_the_whole_source(yahoo):
    """HTTP 429 reaches us only as YFRateLimitError text in yfinance's log; it flags the source."""
    yahoo.behave("MP", RATE_LIMITED)
    result = download_bars(request(), NOW)
    assert result.rate_limited is True
    assert result.failures["MP"].kind == "rate_limited"
    assert result.failures["MP"].reason == (
        "Yahoo rate limit (HTTP 429): YFRateLimitError('Too Many Requests. Rate limited. Try after a while.')"
    )
    assert set(result.bars) == {"LYC.AX", "600111.SS"}


def test_after_a_rate_limit_the_cycle_sends_nothing_more(yahoo):
    """Once Yahoo answers 429, the source skips its remaining batches instead of earning more."""
    yahoo.behave("MP", RATE_LIMITED)
    source = YahooPriceSource()
    later = BarRequest("5m", NOW - timedelta(hours=1), (listing_for("LYC.AX"),))
    result = asyncio.run(source.fetch([request("1d", ["MP"]), later], NOW))
    asyncio.run(source.aclose())
    assert result.rate_limited is True
    assert result.failures["LYC.AX"].reason == "not requested: Yahoo rate-limited this cycle"
    assert yahoo.chart_calls("LYC.AX") == []


def test_null_prices_arrive_as_nan_for_the_bar_check(yahoo):
    """A bar Yahoo sends with a null close comes through as NaN, for the check to drop and report."""
    bars = daily_bars("MP", DAYS, 60.0)
    bars[2] = bars[2].__class__(bars[2].ts, bars[2].open, bars[2].high, bars[2].low, None, bars[2].volume)
    yahoo.ok("MP", **{"1d": bars})
    result = download_bars(request("1d", ["MP"]), NOW)
    closes = [b.close for b in result.bars["MP"]]
    assert len(closes) == 5 and closes[2] != closes[2]


def test_the_reasons_come_only_from_our_own_call(yahoo):
    """A failure yfinance logs in another thread during our call does not become our ticker's reason."""

    def log_elsewhere(symbol: str) -> None:
        other = threading.Thread(
            target=logging.getLogger("yfinance").error, args=("['LYC.AX']: someone else's failure",)
        )
        other.start()
        other.join()

    yahoo.behave("LYC.AX", NOT_FOUND)
    yahoo.on_chart = log_elsewhere
    result = download_bars(request(), NOW)
    assert result.failures["LYC.AX"].reason == "no 1d bars from Yahoo: No data found, symbol may be delisted"
