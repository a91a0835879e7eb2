"""Yahoo Finance's HTTP endpoints as yfinance 1.7.0 calls them, answered offline with `responses`.

yfinance's own request path runs unchanged (`yf.download` -> `Ticker.history` -> requests), so a
change in how we call yfinance, or in how yfinance calls Yahoo, shows up in the tests. Needs
`YF_DISABLE_CURL_CFFI=1` before yfinance is first imported (tests/conftest.py sets it): with
curl_cffi, requests bypass `requests` and `responses` cannot see them.

What yfinance requests, and what the fake answers:

    GET fc.yahoo.com                              the A3 cookie (status ignored by yfinance)
    GET query[12].finance.yahoo.com/v1/test/getcrumb        the crumb
    GET guce.yahoo.com/consent                    cookie for the "csrf" strategy (no form here)
    GET query2.../v8/finance/chart/SYM            bars; also the time-zone lookup (range=1d)
    GET .../v10/finance/quoteSummary/SYM, .../v7/finance/quote, .../fundamentals-timeseries/...
                                                  yfinance's tz fallback when the chart fails

Per symbol the chart answers `ok` (bars), `not_found` (404 with Yahoo's error JSON, also for
symbols never configured), `rate_limited` (429), `server_error` (500), `empty` (200, no bars) or
`connection_error`. A symbol may get a sequence, one per chart request, the last repeating:
yfinance retries every answer >= 400 once, so one failed call uses two.
"""

from __future__ import annotations

import json
import math
import re
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo

import pytest
import requests
import responses


def check_offline_yfinance() -> None:
    """Fail loudly if yfinance was imported with curl_cffi, which `responses` cannot intercept."""
    http = sys.modules.get("yfinance._http")
    if http is None or http.HAS_CURL_CFFI:
        raise RuntimeError("yfinance must be imported after YF_DISABLE_CURL_CFFI=1 (see tests/conftest.py)")


def reset_yfinance_state(symbols: Iterable[str] = ()) -> None:
    """Forget yfinance's process-wide state (cookie, crumb, response cache, tz cache, fallback budget).

    Private names of yfinance 1.7.0: test code only. Without this, one test's 404 or crumb leaks
    into the next through yfinance's singleton and its in-process LRU of responses.
    """
    from yfinance import base, cache
    from yfinance.data import YfData

    YfData.cache_get.cache_clear()
    data = YfData()
    with data._cookie_lock:
        data._crumb = None
        data._cookie = None
        data._cookie_strategy = "basic"
        data._session.cookies.clear()
    cache.get_cookie_cache().store("curlCffi", None)
    tz_cache = cache.get_tz_cache()
    for symbol in symbols:
        tz_cache.store(symbol.upper(), None)
    base._tz_info_fetch_ctr = 0


@dataclass(frozen=True)
class Profile:
    """What Yahoo puts in a chart's `meta` for a symbol."""

    symbol: str
    currency: str
    exchange_name: str
    timezone: str
    regular_open: time
    regular_close: time
    instrument_type: str = "EQUITY"


PROFILES = {
    p.symbol: p
    for p in (
        Profile("MP", "USD", "NYQ", "America/New_York", time(9, 30), time(16)),
        Profile("USAR", "USD", "NCM", "America/New_York", time(9, 30), time(16)),
        Profile("REMX", "USD", "PCX", "America/New_York", time(9, 30), time(16), "ETF"),
        Profile("LYC.AX", "AUD", "ASX", "Australia/Sydney", time(10), time(16)),
        Profile("600111.SS", "CNY", "SHH", "Asia/Shanghai", time(9, 30), time(15)),
        Profile("6680.HK", "HKD", "HKG", "Asia/Hong_Kong", time(9, 30), time(16)),
    )
}


def profile(symbol: str) -> Profile:
    return PROFILES.get(symbol) or Profile(symbol, "USD", "NMS", "America/New_York", time(9, 30), time(16))


@dataclass(frozen=True)
class ChartBar:
    """One bar as Yahoo sends it: start in epoch seconds; None or NaN becomes JSON null."""

    ts: int
    open: float | None
    high: float | None
    low: float | None
    close: float | None
    volume: float | None


def epoch(day: date, at: time, zone: str) -> int:
    return int(datetime.combine(day, at, ZoneInfo(zone)).timestamp())


def daily_bars(
    symbol: str, days: Sequence[date], start: float = 10.0, step: float = 0.1, volume: int = 1_000_000
) -> list[ChartBar]:
    """Daily bars stamped at the session open, as Yahoo does, rising by `step` a day."""
    p = profile(symbol)
    bars = []
    for i, day in enumerate(days):
        price = round(start + i * step, 4)
        bars.append(
            ChartBar(
                epoch(day, p.regular_open, p.timezone),
                price,
                round(price * 1.01, 4),
                round(price * 0.99, 4),
                round(price * 1.005, 4),
                volume + i * 1000,
            )
        )
    return bars


def intraday_bars(
    symbol: str, day: date, closes: Sequence[float], minutes: int = 5, at: time | None = None
) -> list[ChartBar]:
    """Consecutive bars from `at` (default the open) closing at `closes`; each opens at the last close."""
    p = profile(symbol)
    t0 = epoch(day, at or p.regular_open, p.timezone)
    bars, last = [], closes[0]
    for i, close in enumerate(closes):
        bars.append(
            ChartBar(t0 + i * minutes * 60, last, max(last, close), min(last, close), close, 10_000 + i * 10)
        )
        last = close
    return bars


def chart_json(p: Profile, bars: Sequence[ChartBar], interval: str, range_: str | None) -> dict:
    """A chart answer shaped like Yahoo's (only the fields yfinance reads, with their real types).

    Intraday answers carry `tradingPeriods`, which yfinance uses to drop bars outside regular hours
    without a word; an empty answer has `meta` but no `timestamp` and `indicators.quote == [{}]`.
    """
    zone = ZoneInfo(p.timezone)
    bars = sorted(bars, key=lambda b: b.ts)
    ref = bars[-1].ts if bars else int(datetime.now(UTC).timestamp())
    ref_local = datetime.fromtimestamp(ref, zone)

    def period(day: date, start: time, end: time) -> dict:
        # yfinance deletes "timezone" and "gmtoffset" from these with `del`: they must be present.
        local = datetime.combine(day, start, zone)
        return {
            "timezone": local.tzname(),
            "start": epoch(day, start, p.timezone),
            "end": epoch(day, end, p.timezone),
            "gmtoffset": int(local.utcoffset().total_seconds()),
        }

    regular = period(ref_local.date(), p.regular_open, p.regular_close)
    closes = [_null(b.close) for b in bars]
    meta: dict[str, Any] = {
        "currency": p.currency,
        "symbol": p.symbol,
        "exchangeName": p.exchange_name,
        "instrumentType": p.instrument_type,
        "firstTradeDate": 946_684_800,
        "regularMarketTime": ref,
        "hasPrePostMarketData": False,
        "gmtoffset": int(ref_local.utcoffset().total_seconds()),
        "timezone": ref_local.tzname(),
        "exchangeTimezoneName": p.timezone,
        "regularMarketPrice": next((c for c in reversed(closes) if c is not None), None),
        "chartPreviousClose": closes[0] if closes else None,
        "priceHint": 2,
        "currentTradingPeriod": {"pre": dict(regular), "regular": regular, "post": dict(regular)},
        "dataGranularity": interval,
        "range": range_ or "",
        "validRanges": ["1d", "5d", "1mo", "3mo", "6mo", "1y", "2y", "5y", "10y", "ytd", "max"],
    }
    intraday = interval[-1] in "mh"
    if intraday:
        days = sorted({datetime.fromtimestamp(b.ts, zone).date() for b in bars}) or [ref_local.date()]
        meta["tradingPeriods"] = [[period(d, p.regular_open, p.regular_close)] for d in days]
    result: dict[str, Any] = {"meta": meta}
    if not bars:
        result["indicators"] = {"quote": [{}]}
        return {"chart": {"result": [result], "error": None}}
    result["timestamp"] = [b.ts for b in bars]
    quote = {
        name: [_null(getattr(b, name)) for b in bars] for name in ("open", "high", "low", "close", "volume")
    }
    result["indicators"] = {"quote": [quote]}
    if not intraday:
        result["indicators"]["adjclose"] = [{"adjclose": closes}]
    return {"chart": {"result": [result], "error": None}}


def chart_error(code: str, description: str) -> dict:
    return {"chart": {"result": None, "error": {"code": code, "description": description}}}


OK, NOT_FOUND, RATE_LIMITED, SERVER_ERROR, EMPTY, CONNECTION_ERROR = (
    "ok",
    "not_found",
    "rate_limited",
    "server_error",
    "empty",
    "connection_error",
)
BEHAVIOURS = {OK, NOT_FOUND, RATE_LIMITED, SERVER_ERROR, EMPTY, CONNECTION_ERROR}

_Q = r"https://query[12]\.finance\.yahoo\.com"
CHART = re.compile(_Q + r"/v8/finance/chart/(?P<sym>[^/?]+)")
CRUMB = re.compile(_Q + r"/v1/test/getcrumb")
COOKIE = re.compile(r"https://fc\.yahoo\.com/?")
CONSENT = re.compile(r"https://guce\.yahoo\.com/consent")
QUOTE_SUMMARY = re.compile(_Q + r"/v10/finance/quoteSummary/(?P<sym>[^/?]+)")
QUOTE = re.compile(_Q + r"/v7/finance/quote")
TIMESERIES = re.compile(_Q + r"/ws/fundamentals-timeseries/v1/finance/timeseries/")
_JSON = {"Content-Type": "application/json;charset=utf-8"}
_TEXT = {"Content-Type": "text/plain;charset=utf-8"}


@dataclass(frozen=True)
class Call:
    """One request yfinance made."""

    host: str
    path: str
    query: dict[str, str]
    status: int

    @property
    def chart_symbol(self) -> str | None:
        match = re.fullmatch(r"/v8/finance/chart/([^/]+)", self.path)
        return unquote(match.group(1)) if match else None


class FakeYahoo:
    """Answers yfinance's requests from per-symbol bars and behaviours; records every request."""

    def __init__(self, mock: responses.RequestsMock):
        self._mock = mock
        self._bars: dict[tuple[str, str], list[ChartBar]] = {}
        self._behaviours: dict[str, list[str]] = {}
        self._lock = threading.Lock()
        self.calls: list[Call] = []
        #: Called with the symbol on each chart request, in the requesting thread.
        self.on_chart: Callable[[str], None] | None = None

    def ok(self, symbol: str, **bars_by_interval: Sequence[ChartBar]) -> None:
        """`fake.ok("MP", **{"1d": bars, "5m": bars5})`"""
        self.behave(symbol, OK)
        for interval, bars in bars_by_interval.items():
            self._bars[(symbol.upper(), interval)] = list(bars)

    def behave(self, symbol: str, *behaviours: str) -> None:
        if not behaviours or set(behaviours) - BEHAVIOURS:
            raise ValueError(f"behaviours must be among {sorted(BEHAVIOURS)}, got {behaviours}")
        with self._lock:
            self._behaviours[symbol.upper()] = list(behaviours)

    def chart_calls(self, symbol: str | None = None) -> list[Call]:
        with self._lock:
            calls = list(self.calls)
        return [c for c in calls if c.chart_symbol is not None and symbol in (None, c.chart_symbol)]

    def install(self) -> FakeYahoo:
        for pattern, handler in (
            (COOKIE, self._cookie),
            (CRUMB, lambda request: (200, _TEXT, "fakeCrumb.0k")),
            (CONSENT, lambda request: (200, _TEXT, "no consent form")),
            (CHART, self._chart),
            (QUOTE_SUMMARY, self._quote_summary),
            (
                QUOTE,
                lambda request: (200, _JSON, json.dumps({"quoteResponse": {"result": [], "error": None}})),
            ),
            (
                TIMESERIES,
                lambda request: (200, _JSON, json.dumps({"timeseries": {"result": [], "error": None}})),
            ),
        ):
            self._mock.add_callback(responses.GET, pattern, callback=self._recorded(handler))
        return self

    def _recorded(self, handler):
        def callback(request):
            answer = handler(request)
            parts = urlsplit(request.url)
            query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
            status = 0 if isinstance(answer, Exception) else answer[0]
            with self._lock:
                self.calls.append(Call(parts.netloc, parts.path, query, status))
            return answer  # an exception instance makes `responses` raise it

        return callback

    def _cookie(self, request):
        # Yahoo answers 404 but sets A3; yfinance keeps the cookie and later reads its expiry,
        # so it must have one (a session cookie crashes yfinance with TypeError).
        headers = {
            "Content-Type": "text/html",
            "Set-Cookie": "A3=d=AQABBfake&S=AQAAAfake; Max-Age=31557600; "
            "Domain=.yahoo.com; Path=/; Secure; HttpOnly; SameSite=None",
        }
        return 404, headers, "<html><body>Not Found</body></html>"

    def _next_behaviour(self, symbol: str) -> str:
        with self._lock:
            queue = self._behaviours.get(symbol)
            if not queue:
                return NOT_FOUND  # Yahoo's answer for a symbol it does not know
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def _chart(self, request):
        symbol = unquote(CHART.match(request.url).group("sym")).upper()
        if self.on_chart is not None:
            self.on_chart(symbol)
        query = {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}
        behaviour = self._next_behaviour(symbol)
        if behaviour == CONNECTION_ERROR:
            return requests.exceptions.ConnectionError(f"fake connection failure for {request.url}")
        if behaviour == RATE_LIMITED:
            return 429, _TEXT, "Too Many Requests\r\n"
        if behaviour == NOT_FOUND:
            return 404, _JSON, json.dumps(chart_error("Not Found", "No data found, symbol may be delisted"))
        if behaviour == SERVER_ERROR:
            return 500, _JSON, json.dumps(chart_error("Internal Server Error", "Fake internal server error"))
        interval = query.get("interval", "1d")
        bars = [] if behaviour == EMPTY else self._bars.get((symbol, interval), [])
        return 200, _JSON, json.dumps(chart_json(profile(symbol), bars, interval, query.get("range")))

    def _quote_summary(self, request):
        symbol = unquote(QUOTE_SUMMARY.match(request.url).group("sym"))
        error = {"code": "Not Found", "description": f"Quote not found for symbol: {symbol}"}
        return 404, _JSON, json.dumps({"quoteSummary": {"result": None, "error": error}})


@contextmanager
def fake_yahoo() -> Iterator[FakeYahoo]:
    """Stub every Yahoo route with `responses`; any other URL raises ConnectionError."""
    check_offline_yfinance()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield FakeYahoo(mock).install()


def _null(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


_cache_dir: list[str] = []


@pytest.fixture
def cold_yfinance(tmp_path_factory):
    """yfinance with no cookie, crumb or cached time zones, caching in a temp dir; config restored after.

    Import it into a test module to use it (`from tests.fakes.yahoo_http import cold_yfinance`).
    """
    import yfinance as yf

    check_offline_yfinance()
    if not _cache_dir:  # yfinance opens its cache files once per process
        _cache_dir.append(str(tmp_path_factory.mktemp("yfinance")))
        yf.set_tz_cache_location(_cache_dir[0])
    reset_yfinance_state(list(PROFILES) + ["UUUU"])
    saved = yf.config.debug.hide_exceptions
    yield yf
    yf.config.debug.hide_exceptions = saved
