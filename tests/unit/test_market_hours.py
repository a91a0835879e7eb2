"""Exchange hours as pure functions: weekends, holidays, half days, lunch breaks, daylight saving."""

from datetime import UTC, date, datetime, timedelta

import pytest

from service.domain import markets


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("exchange", "instant", "expected"),
    [
        # NYSE regular day (EDT): 13:30-20:00 UTC.
        ("US", "2025-10-09 13:29", False),
        ("US", "2025-10-09 13:30", True),
        ("US", "2025-10-09 19:59", True),
        ("US", "2025-10-09 20:00", False),
        # Weekend.
        ("US", "2025-10-11 15:00", False),
        ("ASX", "2025-10-11 01:00", False),
        # Holidays: Thanksgiving; China's National Day week; Good Friday in Sydney.
        ("US", "2026-11-26 15:00", False),
        ("SSE", "2025-10-08 02:00", False),
        ("SSE", "2025-10-09 02:00", True),
        ("ASX", "2026-04-03 01:00", False),
        # Half day after Thanksgiving: closes 13:00 New York = 18:00 UTC.
        ("US", "2026-11-27 17:59", True),
        ("US", "2026-11-27 18:00", False),
        # TSX is shut on Canadian Thanksgiving while NYSE trades.
        ("TSX", "2025-10-13 15:00", False),
        ("US", "2025-10-13 15:00", True),
        # Shanghai and Shenzhen lunch: 11:30-13:00 local = 03:30-05:00 UTC.
        ("SSE", "2025-10-10 03:29", True),
        ("SSE", "2025-10-10 03:30", False),
        ("SSE", "2025-10-10 04:59", False),
        ("SSE", "2025-10-10 05:00", True),
        ("SZSE", "2025-10-10 04:00", False),
        ("SZSE", "2025-10-10 06:59", True),
        ("SZSE", "2025-10-10 07:00", False),
        # HKEX lunch: 12:00-13:00 local = 04:00-05:00 UTC; a half day on Christmas Eve.
        ("HKEX", "2025-10-09 03:59", True),
        ("HKEX", "2025-10-09 04:30", False),
        ("HKEX", "2025-10-09 05:00", True),
        ("HKEX", "2025-12-24 04:30", False),
        # US daylight saving: 09:30 New York is 14:30 UTC before 2026-03-08, 13:30 after.
        ("US", "2026-03-06 14:00", False),
        ("US", "2026-03-06 14:30", True),
        ("US", "2026-03-09 13:30", True),
        ("US", "2026-11-02 13:30", False),
        ("US", "2026-11-02 14:30", True),
        # Sydney daylight saving: 10:00 is 23:00 UTC the day before in summer (AEDT), 00:00 in winter.
        ("ASX", "2026-04-01 23:00", True),
        ("ASX", "2026-04-06 23:30", False),
        ("ASX", "2026-04-07 00:00", True),
        ("ASX", "2026-10-02 00:00", True),
        ("ASX", "2026-10-04 23:00", True),
        ("ASX", "2026-10-04 22:59", False),
    ],
)
def test_is_open(exchange, instant, expected):
    """Whether an exchange trades at an instant follows its hours, holidays, lunch and half days."""
    assert markets.is_open(exchange, utc(instant)) is expected


@pytest.mark.parametrize(
    ("exchange", "day", "opens", "closes", "lunch"),
    [
        ("US", "2026-11-27", "2026-11-27 14:30", "2026-11-27 18:00", None),
        ("US", "2026-03-06", "2026-03-06 14:30", "2026-03-06 21:00", None),
        ("US", "2026-03-09", "2026-03-09 13:30", "2026-03-09 20:00", None),
        ("TSX", "2026-11-27", "2026-11-27 14:30", "2026-11-27 21:00", None),
        ("ASX", "2026-04-02", "2026-04-01 23:00", "2026-04-02 05:00", None),
        ("ASX", "2026-04-07", "2026-04-07 00:00", "2026-04-07 06:00", None),
        ("ASX", "2025-12-24", "2025-12-23 23:00", "2025-12-24 03:10", None),
        (
            "HKEX",
            "2025-10-09",
            "2025-10-09 01:30",
            "2025-10-09 08:00",
            ("2025-10-09 04:00", "2025-10-09 05:00"),
        ),
        (
            "SSE",
            "2025-10-09",
            "2025-10-09 01:30",
            "2025-10-09 07:00",
            ("2025-10-09 03:30", "2025-10-09 05:00"),
        ),
    ],
)
def test_session_times_in_utc(exchange, day, opens, closes, lunch):
    """A session's open, close and lunch break come out as UTC instants for the local date."""
    session = markets.session_on(exchange, date.fromisoformat(day))
    assert session is not None
    assert (session.open, session.close) == (utc(opens), utc(closes))
    expected_lunch = (utc(lunch[0]), utc(lunch[1])) if lunch else (None, None)
    assert (session.break_start, session.break_end) == expected_lunch
    assert session.estimated is False


@pytest.mark.parametrize(
    ("exchange", "day"),
    [
        ("US", "2025-10-11"),
        ("US", "2026-11-26"),
        ("SSE", "2025-10-01"),
        ("HKEX", "2025-10-29"),
        ("ASX", "2026-04-06"),
    ],
)
def test_no_session_on_weekends_and_holidays(exchange, day):
    """Weekends and holidays have no session."""
    assert markets.session_on(exchange, date.fromisoformat(day)) is None


@pytest.mark.parametrize(
    ("exchange", "instant", "expected"),
    [
        # While trading, the previous close is yesterday's.
        ("US", "2026-11-27 15:00", "2026-11-25 21:00"),
        # After the close, it is today's (a half day here).
        ("US", "2026-11-27 18:00", "2026-11-27 18:00"),
        # Monday before the open: Friday's close.
        ("US", "2025-10-13 12:00", "2025-10-10 20:00"),
        # In Shanghai's lunch break the morning does not count as a close.
        ("SSE", "2025-10-10 04:00", "2025-10-09 07:00"),
        # After Golden Week: the close before the holiday.
        ("SSE", "2025-10-09 01:00", "2025-09-30 07:00"),
        # Sydney, across the April daylight-saving change.
        ("ASX", "2026-04-07 01:00", "2026-04-02 05:00"),
    ],
)
def test_previous_close(exchange, instant, expected):
    """The previous close is the close of the latest session that had ended by the instant."""
    assert markets.previous_close(exchange, utc(instant)) == utc(expected)


def test_completed_sessions_skip_holidays():
    """The last sessions before an instant skip Shanghai's National Day week."""
    sessions = markets.completed_sessions("SSE", utc("2025-10-10 08:00"), 3)
    assert [s.day for s in sessions] == [date(2025, 9, 30), date(2025, 10, 9), date(2025, 10, 10)]


def test_days_past_the_published_calendar_are_estimated():
    """Past Shanghai's published holidays, weekdays get regular hours and say they are estimated."""
    last = markets.calendar("SSE").last_day
    monday = last + timedelta(days=7 - last.weekday())
    session = markets.session_on("SSE", monday)
    assert session is not None and session.estimated is True
    assert session.open.astimezone(markets.exchange("SSE").zone).time().isoformat() == "09:30:00"
    assert session.break_start is not None
    assert markets.session_on("SSE", monday + timedelta(days=5)) is None  # Saturday


@pytest.mark.parametrize(
    ("exchange", "interval", "start", "end", "session"),
    [
        ("US", "5m", "2025-10-09 13:30", "2025-10-09 13:35", "2025-10-09"),
        ("US", "60m", "2026-11-27 17:30", "2026-11-27 18:00", "2026-11-27"),  # cut at the half-day close
        (
            "US",
            "1d",
            "2025-10-09 04:00",
            "2025-10-09 20:00",
            "2025-10-09",
        ),  # a daily bar is final at the close
        (
            "ASX",
            "1d",
            "2025-10-09 13:00",
            "2025-10-10 05:00",
            "2025-10-10",
        ),  # Sydney midnight is UTC's afternoon
        ("SSE", "5m", "2025-10-09 06:15", "2025-10-09 06:20", "2025-10-09"),
    ],
)
def test_bar_end_and_session(exchange, interval, start, end, session):
    """A bar knows when it was final and which local trading day it belongs to."""
    bar = markets.build_bar(exchange, "X", interval, utc(start), 1, 1, 1, 1, 0)
    assert (bar.end, bar.session) == (utc(end), date.fromisoformat(session))


def test_daily_bar_start_is_local_midnight():
    """Daily bars are stamped at exchange-local midnight, as Yahoo stamps them."""
    assert markets.daily_bar_start("ASX", date(2025, 10, 10)) == utc("2025-10-09 13:00")
    assert markets.daily_bar_start("US", date(2025, 10, 10)) == utc("2025-10-10 04:00")


def test_naive_instants_are_refused():
    """A naive datetime is a bug: market hours refuse to guess its zone."""
    with pytest.raises(ValueError, match="naive datetime"):
        markets.is_open("US", datetime(2025, 10, 9, 15, 0))


def test_unknown_exchange_names_the_known_ones():
    """Asking for an exchange we do not know lists the ones we do."""
    with pytest.raises(KeyError, match="known: US, TSX"):
        markets.is_open("LSE", utc("2025-10-09 10:00"))


@pytest.mark.parametrize(
    ("exchange", "start", "end", "expected"),
    [
        # Inside New York's session, and across its open and close.
        ("US", "2025-10-09 15:00", "2025-10-09 15:15", True),
        ("US", "2025-10-09 13:00", "2025-10-09 13:31", True),
        ("US", "2025-10-09 19:59", "2025-10-10 01:00", True),
        # After the close, overnight, and a weekend: nothing traded.
        ("US", "2025-10-09 20:00", "2025-10-10 13:30", False),
        ("US", "2025-10-10 20:00", "2025-10-13 13:00", False),
        # Sydney is shut while New York trades.
        ("ASX", "2025-11-10 16:05", "2025-11-10 17:05", False),
        # Shanghai's lunch break is not trading; its afternoon is.
        ("SSE", "2025-10-10 03:30", "2025-10-10 05:00", False),
        ("SSE", "2025-10-10 03:30", "2025-10-10 05:01", True),
        # A window that ends where it starts holds no instant.
        ("US", "2025-10-09 15:00", "2025-10-09 15:00", False),
    ],
)
def test_traded_between(exchange, start, end, expected):
    """Whether an exchange traded at any moment of a window: what follow-ups and combined rules ask."""
    assert markets.traded_between(exchange, utc(start), utc(end)) is expected
