"""Polling Yahoo through yfinance: one batched `yf.download` per bar interval per cycle.

yfinance has no batch endpoint: `download` still sends one chart request per ticker (plus a
time-zone lookup per ticker on a cold cache), one after another with `threads=False`. Batching
is about our side: one call, one frame, one error summary per cycle. What yfinance 1.7.0 does
that shapes this module (pinned by tests/integration/test_yahoo_source.py):

- `download` never raises for a ticker. A failed ticker keeps its six columns, all NaN; when
  every ticker fails the frame is empty (0 rows). The only record of why is an ERROR line on the
  "yfinance" logger, `['A', 'B']: <reason>`, so we listen to that logger around the call.
- HTTP 429 shows up there as `YFRateLimitError(...)`. Yahoo limits the client, not the ticker:
  the caller pauses the whole source.
- With its default settings a network failure reads "possibly delisted; no price data found", the
  same words as a real delisting: the reason says so, and neither becomes "no move".
- Ticker column order is random (it comes from a set): always select by name.
- Daily rows are tz-naive session dates; intraday rows are aware, in one exchange's zone.
- yfinance blocks (requests or curl_cffi), so calls run on one worker thread of ours, which also
  keeps the logger capture to our own call.
"""

from __future__ import annotations

import ast
import asyncio
import logging
import re
import threading
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import yfinance as yf

from service.domain.markets import build_bar, daily_bar_start
from service.domain.prices import DAILY, Bar, Listing
from service.sources.prices.source import BarRequest, FetchResult, TickerFailure

log = logging.getLogger(__name__)

# pandas 3.1 deprecates `inplace=`, which yfinance 1.7 uses on every fetch, and yfinance's import
# turns its own DeprecationWarnings on: every process would print pandas' advice to stderr.
# Nothing for an operator to do; ignore exactly that message from yfinance's modules.
warnings.filterwarnings(
    "ignore",
    message=r"The inplace keyword in DataFrame\.\w+ is deprecated",
    category=DeprecationWarning,
    module=r"yfinance\.",
)

#: Yahoo's ranges, with the calendar days each is sure to cover ("5d" is five sessions).
PERIODS: tuple[tuple[str, int], ...] = (
    ("1d", 1),
    ("5d", 7),
    ("1mo", 28),
    ("3mo", 89),
    ("6mo", 181),
    ("1y", 365),
    ("2y", 730),
    ("5y", 1826),
    ("10y", 3652),
)
#: The longest range Yahoo serves per intraday interval (it refuses longer ones).
INTRADAY_LIMITS = {"1m": "5d", "2m": "1mo", "5m": "1mo", "15m": "1mo", "30m": "1mo", "60m": "1y"}

_SUMMARY = re.compile(r"^(?P<tickers>\[[^\]]*\]): (?P<reason>.*)$", re.DOTALL)
_SAME_AS_DELISTED = "possibly delisted; no price data found"
#: How yfinance's reasons name transport failures (curl_cffi in production, requests in tests).
_NETWORK = ("DNSError", "ConnectionError", "Timeout", "Could not resolve host", "curl: (")


class YahooPriceSource:
    """Bars from Yahoo Finance through yfinance, run off the event loop."""

    name = "yfinance"

    def __init__(self, cache_dir: Path | None = None, *, timeout: float = 10.0):
        if cache_dir is not None:
            # yfinance keeps symbol time zones and its cookie in SQLite files; the default folder
            # may not be writable in a container. The setting is process-wide and must precede use.
            cache_dir.mkdir(parents=True, exist_ok=True)
            yf.set_tz_cache_location(str(cache_dir))
        self.timeout = timeout
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reewatch-yfinance")

    async def fetch(self, requests: Sequence[BarRequest], now: datetime) -> FetchResult:
        result = FetchResult()
        loop = asyncio.get_running_loop()
        for index, request in enumerate(requests):
            part = await loop.run_in_executor(self._thread, download_bars, request, now, self.timeout)
            result.merge(part)
            if part.rate_limited:
                # The remaining batches would only earn more 429s and a longer ban.
                for later in requests[index + 1 :]:
                    for ticker in later.tickers:
                        result.fail(ticker, "rate_limited", "not requested: Yahoo rate-limited this cycle")
                break
        return result

    async def aclose(self) -> None:
        self._thread.shutdown(wait=True)


def download_bars(request: BarRequest, now: datetime, timeout: float = 10.0) -> FetchResult:
    """One `yf.download` for every ticker of `request`; each ticker gets bars or a reason."""
    result = FetchResult()
    daily = request.interval == DAILY
    with yfinance_errors() as reasons:
        try:
            frame = yf.download(
                tickers=request.tickers,
                period=yahoo_period(request.interval, request.since, now),
                interval=request.interval,
                group_by="ticker",
                auto_adjust=False,  # the traded prices: intraday bars are never adjusted either
                actions=False,
                threads=False,
                progress=False,
                ignore_tz=daily,
                multi_level_index=True,
                prepost=False,
                repair=False,
                keepna=False,
                timeout=timeout,
            )
        except Exception as exc:  # yfinance bugs and pandas changes land here, not per ticker
            log.exception("yf.download failed as a whole")
            for ticker in request.tickers:
                result.fail(ticker, "source_error", f"yfinance raised {type(exc).__name__}: {exc}")
            return result
    frames = frames_by_ticker(frame)
    for listing in request.listings:
        rows = frames.get(listing.ticker)
        if rows is None or rows.empty:
            failure = classify_failure(listing.ticker, request.interval, reasons.get(listing.ticker))
            result.fail(failure.ticker, failure.kind, failure.reason)
            result.rate_limited = result.rate_limited or failure.kind == "rate_limited"
            continue
        try:
            result.add_bars(listing.ticker, bars_from_frame(listing, request.interval, rows))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            result.fail(
                listing.ticker, "bad_data", f"unreadable {request.interval} rows from yfinance: {exc}"
            )
    return result


def yahoo_period(interval: str, since: datetime, now: datetime) -> str:
    """The shortest Yahoo range that covers `since`..`now`, within what Yahoo serves for `interval`."""
    days = max(0.0, (now - since) / timedelta(days=1))
    chosen = PERIODS[-1][0]
    for period, covers in PERIODS:
        if days <= covers:
            chosen = period
            break
    limit = INTRADAY_LIMITS.get(interval)
    if limit is not None and _period_days(chosen) > _period_days(limit):
        chosen = limit
    return chosen


def frames_by_ticker(frame: pd.DataFrame | None) -> dict[str, pd.DataFrame]:
    """One frame per ticker, without the all-NaN rows that exist only because another ticker has them."""
    if frame is None or not isinstance(frame.columns, pd.MultiIndex) or "Ticker" not in frame.columns.names:
        return {}
    return {
        str(ticker): frame[ticker].dropna(how="all")
        for ticker in frame.columns.get_level_values("Ticker").unique()
    }


def bars_from_frame(listing: Listing, interval: str, rows: pd.DataFrame) -> list[Bar]:
    """Bars from one ticker's rows; daily rows are session dates, intraday rows aware instants."""
    columns = rows[["Open", "High", "Low", "Close", "Volume"]]
    bars = []
    for stamp, open_, high, low, close, volume in columns.itertuples(name=None):
        if interval == DAILY:
            start = daily_bar_start(listing.exchange, stamp.date())
        elif stamp.tzinfo is None:
            raise ValueError(f"intraday row {stamp} has no time zone")
        else:
            start = stamp.to_pydatetime().astimezone(UTC)
        bars.append(
            build_bar(
                listing.exchange,
                listing.ticker,
                interval,
                start,
                float(open_),
                float(high),
                float(low),
                float(close),
                float(volume),
            )
        )
    return bars


@contextmanager
def yfinance_errors() -> Iterator[dict[str, str]]:
    """Collect, per ticker, the failure reasons yfinance logs during the block (this thread only)."""
    reasons: dict[str, str] = {}
    handler = _FailureSummary(threading.get_ident(), reasons)
    logger = logging.getLogger("yfinance")
    logger.addHandler(handler)
    try:
        yield reasons
    finally:
        logger.removeHandler(handler)


class _FailureSummary(logging.Handler):
    """Reads the `['A', 'B']: reason` lines `yf.download` logs at the end of a call."""

    def __init__(self, thread: int, reasons: dict[str, str]):
        super().__init__(logging.ERROR)
        self.thread = thread
        self.reasons = reasons

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread != self.thread:
            return
        match = _SUMMARY.match(record.getMessage())
        if match is None:
            return
        try:
            tickers = ast.literal_eval(match.group("tickers"))
        except (ValueError, SyntaxError):
            return
        for ticker in tickers:
            self.reasons.setdefault(str(ticker).upper(), match.group("reason").strip())


def classify_failure(ticker: str, interval: str, reason: str | None) -> TickerFailure:
    """What a ticker's missing rows mean, from the reason yfinance logged for it (if any)."""
    if reason is None:
        return TickerFailure(
            ticker, "no_data", f"no {interval} bars from Yahoo, and yfinance logged no reason"
        )
    reason = " ".join(reason.split())
    if "YFRateLimitError" in reason or "Rate limited" in reason:
        return TickerFailure(ticker, "rate_limited", f"Yahoo rate limit (HTTP 429): {reason}")
    if any(marker in reason for marker in _NETWORK):
        return TickerFailure(ticker, "source_error", f"cannot reach Yahoo: {reason}")
    if _SAME_AS_DELISTED in reason:
        return TickerFailure(
            ticker,
            "no_data",
            f"no {interval} bars from Yahoo: {reason} (yfinance also says this when the network fails)",
        )
    return TickerFailure(ticker, "no_data", f"no {interval} bars from Yahoo: {reason}")


def _period_days(period: str) -> int:
    return dict(PERIODS)[period]
