"""Bars from a CSV file, replayed as if polled: for the demo, tests and backtests.

Format (one header line, then one bar per line; lines starting with `#` are comments):

    ticker,interval,timestamp,open,high,low,close,volume
    MP,1d,2025-10-09,63.10,66.20,62.85,65.90,21400000
    MP,5m,2025-10-09T09:30:00-04:00,63.10,63.80,62.85,63.55,1450000

`timestamp` is the bar's start, ISO 8601 with a zone; a daily bar may give its session date
alone. The exchange and currency come from the ticker's suffix (see listings.py). At instant `now`
the source hands out only bars final by then, so a backtest never sees the future. A bad line
costs its ticker that line, reported as `file:line: reason`; a bad header makes the whole file
unusable (ReplayFileError).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from service.domain.markets import build_bar, daily_bar_start
from service.domain.prices import DAILY, INTERVALS, Bar, Listing
from service.errors import Problem, ReplayFileError
from service.sources.prices.source import BarRequest, FetchResult

#: The synthetic sample shipped for the demo and tests.
SAMPLE_FILE = Path(__file__).resolve().parents[2] / "demo" / "prices.csv"
COLUMNS = ("ticker", "interval", "timestamp", "open", "high", "low", "close", "volume")
_MISSING = {"", "nan", "NaN", "NAN", "null", "None"}


@dataclass(frozen=True)
class ReplayRow:
    """One line of the file, parsed but not yet placed on an exchange."""

    line: int
    ticker: str
    interval: str
    start: datetime | date
    open: float
    high: float
    low: float
    close: float
    volume: float


@dataclass
class ReplayFile:
    """A parsed replay file: rows per ticker, and the problems of the lines that were skipped."""

    path: Path
    rows: dict[str, list[ReplayRow]] = field(default_factory=dict)
    problems: dict[str, list[str]] = field(default_factory=dict)


def read_replay_file(path: Path) -> ReplayFile:
    """Parse `path`; raises ReplayFileError when the file or its header is unusable."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReplayFileError(Problem(str(path), None, None, f"cannot read the replay file: {exc}")) from None
    parsed = ReplayFile(path)
    content = [
        (number, line)
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not content:
        raise ReplayFileError(Problem(str(path), None, None, "no header line: the file is empty"))
    header_line, header = content[0]
    columns = [c.strip().lower() for c in next(csv.reader([header]))]
    _check_header(path, header_line, columns)
    for number, line in content[1:]:
        record = next(csv.reader([line]))  # line by line, so a stray quote costs one line only
        values = dict(zip(columns, (v.strip() for v in record)))
        ticker = values.get("ticker", "").upper() or "?"
        try:
            row = _row(number, values, len(record), len(columns))
        except ValueError as exc:
            parsed.problems.setdefault(ticker, []).append(f"{path}:{number}: {exc}")
            continue
        parsed.rows.setdefault(row.ticker, []).append(row)
    return parsed


class ReplayPriceSource:
    """Replays a CSV file's bars up to the cycle's `now`."""

    name = "replay"

    def __init__(self, path: Path):
        self.path = path
        self._cached: tuple[tuple[int, int], ReplayFile] | None = None

    async def fetch(self, requests: Sequence[BarRequest], now: datetime) -> FetchResult:
        result = FetchResult()
        try:
            replay = self._file()
        except ReplayFileError as exc:
            for request in requests:
                for ticker in request.tickers:
                    result.fail(ticker, "source_error", f"replay file unusable: {exc}")
            return result
        for request in requests:
            for listing in request.listings:
                self._replay(replay, request, listing, now, result)
        return result

    async def aclose(self) -> None:
        self._cached = None

    def _file(self) -> ReplayFile:
        try:
            stat = self.path.stat()
        except OSError as exc:
            raise ReplayFileError(
                Problem(str(self.path), None, None, f"cannot read the replay file: {exc}")
            ) from None
        key = (stat.st_mtime_ns, stat.st_size)
        if self._cached is None or self._cached[0] != key:
            self._cached = (key, read_replay_file(self.path))
        return self._cached[1]

    def _replay(
        self, replay: ReplayFile, request: BarRequest, listing: Listing, now: datetime, result: FetchResult
    ) -> None:
        ticker = listing.ticker
        for problem in replay.problems.get(ticker, []):
            result.note(ticker, problem)
        rows = replay.rows.get(ticker)
        if rows is None:
            if ticker in replay.problems:
                result.fail(ticker, "bad_data", f"every line for {ticker} in {replay.path} is unreadable")
            else:
                result.fail(ticker, "unknown_ticker", f"{ticker} is not in the replay file {replay.path}")
            return
        bars: list[Bar] = []
        for row in rows:
            if row.interval != request.interval:
                continue
            start = (
                row.start if isinstance(row.start, datetime) else daily_bar_start(listing.exchange, row.start)
            )
            bar = build_bar(
                listing.exchange,
                ticker,
                row.interval,
                start,
                row.open,
                row.high,
                row.low,
                row.close,
                row.volume,
            )
            if bar.start >= request.since and bar.end <= now:
                bars.append(bar)
        result.add_bars(ticker, bars)


def _check_header(path: Path, line: int, columns: list[str]) -> None:
    missing = [c for c in COLUMNS if c not in columns]
    unknown = [c for c in columns if c not in COLUMNS]
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if missing:
        names = ", ".join(repr(c) for c in missing)
        plural = "s" if len(missing) > 1 else ""
        message = f"missing column{plural} {names}; the header must name {','.join(COLUMNS)}"
    elif unknown:
        message = f"unknown column{'s' if len(unknown) > 1 else ''} {', '.join(repr(c) for c in unknown)}"
    elif repeated:
        message = f"column {repeated[0]!r} appears twice"
    else:
        return
    raise ReplayFileError(Problem(str(path), line, None, message))


def _row(line: int, values: dict[str, str], found: int, expected: int) -> ReplayRow:
    if found != expected:
        raise ValueError(f"expected {expected} fields, found {found}")
    ticker = values["ticker"].upper()
    if not ticker:
        raise ValueError("empty ticker")
    interval = values["interval"]
    if interval not in INTERVALS:
        raise ValueError(f"unknown interval {interval!r}; use one of {', '.join(INTERVALS)}")
    start = _timestamp(values["timestamp"], daily=interval == DAILY)
    numbers = {name: _number(name, values[name]) for name in ("open", "high", "low", "close", "volume")}
    return ReplayRow(line, ticker, interval, start, **numbers)


def _timestamp(text: str, *, daily: bool) -> datetime | date:
    if daily and len(text) == 10:
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"timestamp {text!r} is not a date (YYYY-MM-DD)") from None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"timestamp {text!r} is not ISO 8601") from None
    if moment.tzinfo is None:
        raise ValueError(f"timestamp {text!r} has no time zone (add Z or an offset like -04:00)")
    return moment


def _number(name: str, text: str) -> float:
    if text in _MISSING:
        return math.nan  # a gap in the data: the bar check drops the bar and says so
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{name} {text!r} is not a number") from None
