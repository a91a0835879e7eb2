"""Exchange hours, holidays, half days and lunch breaks, as pure functions of an instant.

Sessions come from exchange-calendars, read once per exchange into plain Python (dates to aware
UTC datetimes), so every question here is a dictionary lookup: no pandas at query time, and the
same answer for the same instant on every machine. Exchange-local dates label sessions: none of
our exchanges trades across midnight.

Building an exchange's sessions takes exchange-calendars (and pandas) a second or more; with
`keep_calendars_in(folder)` they are kept there as JSON once built, and every process started
the same day reads them back in milliseconds. A kept file says which calendar, library version,
first day and build date it holds, and is rebuilt when any of them differs or it cannot be read.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from service.domain.prices import DAILY, INTRADAY_INTERVALS, Bar

#: How far back sessions are loaded: enough for backtests over the period the desk studies.
HISTORY_START = date(2018, 1, 1)
#: Longest run of closed days we expect (China's Spring Festival and Golden Week are ~9 days).
LONGEST_CLOSURE_DAYS = 40
#: The layout of a kept calendar file; a file of another layout is rebuilt.
CALENDAR_FILE_FORMAT = 1

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Exchange:
    """Where a ticker trades: our short code, its time zone and its exchange-calendars calendar."""

    code: str
    name: str
    timezone: str
    calendar: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


EXCHANGES: dict[str, Exchange] = {
    exchange.code: exchange
    for exchange in (
        # NYSE, Nasdaq and NYSE Arca share hours, holidays and half days.
        Exchange("US", "NYSE / Nasdaq", "America/New_York", "XNYS"),
        Exchange("TSX", "Toronto Stock Exchange", "America/Toronto", "XTSE"),
        Exchange("ASX", "Australian Securities Exchange", "Australia/Sydney", "XASX"),
        Exchange("HKEX", "Hong Kong Exchanges", "Asia/Hong_Kong", "XHKG"),
        Exchange("SSE", "Shanghai Stock Exchange", "Asia/Shanghai", "XSHG"),
        # exchange-calendars has no Shenzhen calendar; Shenzhen keeps Shanghai's holidays and
        # hours (9:30-11:30, 13:00-15:00), set by the same State Council notice each year.
        Exchange("SZSE", "Shenzhen Stock Exchange", "Asia/Shanghai", "XSHG"),
    )
}


@dataclass(frozen=True, slots=True)
class Session:
    """One trading day: open and close in UTC, and the lunch break where there is one."""

    day: date
    open: datetime
    close: datetime
    break_start: datetime | None = None
    break_end: datetime | None = None
    #: True past the end of the calendar's published holidays: weekdays at regular hours.
    estimated: bool = False

    def is_open_at(self, at: datetime) -> bool:
        if not self.open <= at < self.close:
            return False
        if self.break_start is not None and self.break_end is not None:
            return not self.break_start <= at < self.break_end
        return True

    @property
    def trading_spans(self) -> tuple[tuple[datetime, datetime], ...]:
        """(start, end) of each stretch of trading: one, or two around a lunch break."""
        if self.break_start is not None and self.break_end is not None:
            return ((self.open, self.break_start), (self.break_end, self.close))
        return ((self.open, self.close),)


@dataclass(frozen=True)
class _RegularHours:
    open: time
    close: time
    break_start: time | None
    break_end: time | None
    weekdays: frozenset[int]


class MarketCalendar:
    """One exchange's sessions, known ones from exchange-calendars and estimated ones after."""

    def __init__(self, exchange: Exchange, sessions: dict[date, Session], regular: _RegularHours):
        self.exchange = exchange
        self._sessions = sessions
        self._regular = regular
        self.first_day = min(sessions)
        self.last_day = max(sessions)

    def session_on(self, day: date) -> Session | None:
        if self.first_day <= day <= self.last_day:
            return self._sessions.get(day)
        return self._estimated(day)

    def local_day(self, at: datetime) -> date:
        return at.astimezone(self.exchange.zone).date()

    def _estimated(self, day: date) -> Session | None:
        hours = self._regular
        if day.weekday() not in hours.weekdays:
            return None
        zone = self.exchange.zone

        def at(moment: time | None) -> datetime | None:
            return None if moment is None else datetime.combine(day, moment, zone).astimezone(UTC)

        return Session(
            day, at(hours.open), at(hours.close), at(hours.break_start), at(hours.break_end), estimated=True
        )


_calendars: dict[str, MarketCalendar] = {}
#: Sessions and regular hours by exchange-calendars calendar (Shanghai and Shenzhen share one).
_sources: dict[str, tuple[dict[date, Session], _RegularHours]] = {}
_calendars_lock = threading.Lock()
#: Where built calendars are kept for later processes; None keeps them in memory only.
_kept_in: Path | None = None


def keep_calendars_in(folder: Path | None) -> None:
    """Keep every calendar built from now on in `folder`, and read calendars from there (None: don't)."""
    global _kept_in
    _kept_in = folder


def exchange(code: str) -> Exchange:
    """The exchange with our short code `code` (KeyError names the known ones)."""
    try:
        return EXCHANGES[code]
    except KeyError:
        raise KeyError(f"unknown exchange {code!r}; known: {', '.join(EXCHANGES)}") from None


def calendar(code: str) -> MarketCalendar:
    """The calendar of exchange `code`, built on first use and then shared."""
    with _calendars_lock:
        found = _calendars.get(code)
        if found is None:
            wanted = exchange(code)
            # Exchanges on one exchange-calendars calendar (Shanghai and Shenzhen) share its
            # sessions: thousands of them per calendar, read once.
            twin = next((c for c in _calendars.values() if c.exchange.calendar == wanted.calendar), None)
            if twin is None:
                found = _load_calendar(wanted)
            else:
                found = MarketCalendar(wanted, twin._sessions, twin._regular)
            _calendars[code] = found
        return found


def session_on(code: str, day: date) -> Session | None:
    """The session on exchange-local date `day`, or None on weekends and holidays."""
    return calendar(code).session_on(day)


def is_open(code: str, at: datetime) -> bool:
    """Whether exchange `code` is trading at instant `at` (closed at lunch, on holidays, after a half day)."""
    cal = calendar(code)
    session = cal.session_on(cal.local_day(_aware(at)))
    return session is not None and session.is_open_at(at)


def current_session(code: str, at: datetime) -> Session | None:
    """The session whose open..close span contains `at` (lunch break included), or None."""
    cal = calendar(code)
    session = cal.session_on(cal.local_day(_aware(at)))
    return session if session is not None and session.open <= at < session.close else None


def traded_between(code: str, start: datetime, end: datetime) -> bool:
    """Whether exchange `code` was trading at any instant after `start` and up to `end` (lunch is not trading)."""
    if end <= start:
        return False
    cal = calendar(code)
    day, last = cal.local_day(_aware(start)), cal.local_day(_aware(end))
    while day <= last:
        session = cal.session_on(day)
        if session is not None and any(open_ < end and close > start for open_, close in session.trading_spans):
            return True
        day += timedelta(days=1)
    return False


def last_completed_session(code: str, at: datetime) -> Session:
    """The latest session that had closed by `at`."""
    cal = calendar(code)
    day = cal.local_day(_aware(at))
    for back in range(LONGEST_CLOSURE_DAYS):
        session = cal.session_on(day - timedelta(days=back))
        if session is not None and session.close <= at:
            return session
    raise LookupError(f"{code}: no session closed in the {LONGEST_CLOSURE_DAYS} days before {at.isoformat()}")


def previous_close(code: str, at: datetime) -> datetime:
    """The close of the latest session that had closed by `at` (yesterday's while trading today)."""
    return last_completed_session(code, at).close


def completed_sessions(code: str, at: datetime, count: int) -> list[Session]:
    """The last `count` sessions that had closed by `at`, oldest first."""
    cal = calendar(code)
    found: list[Session] = []
    day = last_completed_session(code, at).day
    misses = 0
    while len(found) < count and misses < LONGEST_CLOSURE_DAYS:
        session = cal.session_on(day)
        if session is not None:
            found.append(session)
            misses = 0
        else:
            misses += 1
        day -= timedelta(days=1)
    return found[::-1]


def after_trading(code: str, start: datetime, minutes: float) -> datetime:
    """The instant at which exchange `code` has traded `minutes` minutes since `start`.

    Closed hours, lunch breaks, weekends and holidays do not count: news at 20:00 New York
    time is 15 minutes old for the US market at 09:45 the next trading morning. Raises
    LookupError when the calendar has no trading in sight (LONGEST_CLOSURE_DAYS).
    """
    cal = calendar(code)
    start = _aware(start)
    left = timedelta(minutes=minutes)
    day = cal.local_day(start)
    closed_days = 0
    while closed_days < LONGEST_CLOSURE_DAYS:
        session = cal.session_on(day)
        closed_days = closed_days + 1 if session is None else 0
        for open_, close in session.trading_spans if session is not None else ():
            begin = max(open_, start)
            if close <= begin:
                continue
            if close - begin >= left:
                return begin + left
            left -= close - begin
        day += timedelta(days=1)
    raise LookupError(f"{code}: no trading in the {LONGEST_CLOSURE_DAYS} days after {start.isoformat()}")


def daily_bar_start(code: str, day: date) -> datetime:
    """Where a daily bar is stamped: exchange-local midnight of its session, in UTC (as Yahoo does)."""
    return datetime.combine(day, time(0), exchange(code).zone).astimezone(UTC)


def build_bar(
    code: str,
    ticker: str,
    interval: str,
    start: datetime,
    open: float,
    high: float,
    low: float,
    close: float,
    volume: float,
) -> Bar:
    """A bar of a ticker on exchange `code`, with its end and session day from the calendar.

    A daily bar is final at the session's close; an intraday bar at its start plus its length, or
    at the close when the session ends sooner (a half day, the last hourly bar).
    """
    start = _aware(start).astimezone(UTC)
    return Bar(
        ticker,
        interval,
        start,
        bar_end(code, interval, start),
        calendar(code).local_day(start),
        open,
        high,
        low,
        close,
        volume,
    )


def bar_end(code: str, interval: str, start: datetime) -> datetime:
    """When a bar that starts at `start` is final (see build_bar)."""
    cal = calendar(code)
    day = cal.local_day(_aware(start))
    session = cal.session_on(day)
    if interval == DAILY:
        if session is not None:
            return session.close
        # A bar on a day the calendar calls closed: trust the data; it is final by midnight.
        return datetime.combine(day + timedelta(days=1), time(0), cal.exchange.zone).astimezone(UTC)
    try:
        end = start + INTRADAY_INTERVALS[interval]
    except KeyError:
        raise ValueError(f"unknown bar interval {interval!r}") from None
    if session is not None and start < session.close < end:
        return session.close
    return end


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError(f"naive datetime {at!r}: market hours need an instant (attach a time zone)")
    return at


def _load_calendar(exchange: Exchange) -> MarketCalendar:
    found = _sources.get(exchange.calendar)
    if found is None:
        found = _sources[exchange.calendar] = _kept_or_built(exchange.calendar)
    sessions, regular = found
    return MarketCalendar(exchange, sessions, regular)


def _kept_or_built(name: str) -> tuple[dict[date, Session], _RegularHours]:
    folder = _kept_in
    if folder is None:
        return _build_calendar(name)
    path = folder / f"{name}.json"
    # The library's default end is a year from today, so a file serves the day it was built.
    key = {
        "format": CALENDAR_FILE_FORMAT,
        "calendar": name,
        "library": _library_version(),
        "start": HISTORY_START.isoformat(),
        "built_on": date.today().isoformat(),
    }
    try:
        kept = _read_kept(path, key)
    except (OSError, ValueError, TypeError, KeyError, IndexError) as exc:
        if not isinstance(exc, FileNotFoundError):
            log.info("rebuilding the %s calendar: %s cannot be used (%s)", name, path, exc)
        kept = None
    if kept is not None:
        return kept
    built = _build_calendar(name)
    try:
        _write_kept(path, key, *built)
    except OSError as exc:
        log.warning("could not keep the %s calendar in %s: %s", name, path, exc)
    return built


def _build_calendar(name: str) -> tuple[dict[date, Session], _RegularHours]:
    import exchange_calendars

    # The default end is a year from today, or earlier where holidays are only published a year
    # at a time (Shanghai's end with the current year): later days are estimated, and say so.
    source = exchange_calendars.get_calendar(name, start=HISTORY_START)
    sessions: dict[date, Session] = {}
    for label, opens, break_start, break_end, closes in source.schedule.itertuples(name=None):
        day = label.date()
        sessions[day] = Session(
            day, _utc(opens), _utc(closes), _utc_or_none(break_start), _utc_or_none(break_end)
        )
    regular = _RegularHours(
        open=source.open_times[-1][1],
        close=source.close_times[-1][1],
        break_start=source.break_start_times[-1][1] if source.break_start_times else None,
        break_end=source.break_end_times[-1][1] if source.break_end_times else None,
        weekdays=frozenset(i for i, flag in enumerate(source.weekmask) if flag == "1"),
    )
    return sessions, regular


def _library_version() -> str:
    from importlib.metadata import version

    return version("exchange_calendars")


def _read_kept(path: Path, key: dict) -> tuple[dict[date, Session], _RegularHours] | None:
    """The calendar kept at `path`, or None when it was kept for another `key` (an older day)."""
    with path.open(encoding="utf-8") as handle:
        kept = json.load(handle)
    if kept["key"] != key:
        return None

    def instant(seconds: int | None) -> datetime | None:
        return None if seconds is None else datetime.fromtimestamp(int(seconds), UTC)

    def clock(text: str | None) -> time | None:
        return None if text is None else time.fromisoformat(text)

    sessions: dict[date, Session] = {}
    for ordinal, opens, closes, break_start, break_end in kept["sessions"]:
        day = date.fromordinal(int(ordinal))
        sessions[day] = Session(day, instant(opens), instant(closes), instant(break_start), instant(break_end))
    hours = kept["regular"]
    regular = _RegularHours(
        open=clock(hours["open"]),
        close=clock(hours["close"]),
        break_start=clock(hours["break_start"]),
        break_end=clock(hours["break_end"]),
        weekdays=frozenset(int(day) for day in hours["weekdays"]),
    )
    if not sessions or regular.open is None or regular.close is None:
        raise ValueError("no sessions or no regular hours")
    return sessions, regular


def _write_kept(path: Path, key: dict, sessions: dict[date, Session], regular: _RegularHours) -> None:
    """Write the calendar beside `path` and move it in place: a reader sees a whole file or none."""

    def seconds(moment: datetime | None) -> int | None:
        return None if moment is None else int(moment.timestamp())

    def clock(moment: time | None) -> str | None:
        return None if moment is None else moment.isoformat()

    kept = {
        "key": key,
        "sessions": [
            [s.day.toordinal(), seconds(s.open), seconds(s.close), seconds(s.break_start), seconds(s.break_end)]
            for s in sessions.values()
        ],
        "regular": {
            "open": clock(regular.open),
            "close": clock(regular.close),
            "break_start": clock(regular.break_start),
            "break_end": clock(regular.break_end),
            "weekdays": sorted(regular.weekdays),
        },
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(kept, out, separators=(",", ":"))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _utc(moment) -> datetime:
    return moment.to_pydatetime().astimezone(UTC)


def _utc_or_none(moment) -> datetime | None:
    return None if moment is None or moment != moment else _utc(moment)  # NaT != NaT
