"""When digests are due: local send times across daylight-saving changes, weekdays, windows."""

from __future__ import annotations

import datetime as dt

import pytest

from service.digest.recipients import Recipient
from service.digest.schedule import (
    Window,
    deliverable_until,
    digest_trigger,
    due_day,
    next_send,
    send_instant,
    window_for,
)

UTC = dt.UTC


def recipient(time: str = "07:30", zone: str = "America/New_York", weekdays: object = "mon-fri") -> Recipient:
    return Recipient(address="desk@fund.example", time=time, timezone=zone, weekdays=weekdays)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("time", "zone", "day", "expected"),
    [
        ("07:30", "America/New_York", dt.date(2026, 3, 6), utc(2026, 3, 6, 12, 30)),  # EST, UTC-5
        ("07:30", "America/New_York", dt.date(2026, 3, 9), utc(2026, 3, 9, 11, 30)),  # EDT, UTC-4
        # Spring forward: 02:00 jumps to 03:00 on 2026-03-08; 02:30 does not exist and becomes 03:30 EDT.
        ("02:30", "America/New_York", dt.date(2026, 3, 8), utc(2026, 3, 8, 7, 30)),
        ("03:30", "America/New_York", dt.date(2026, 3, 8), utc(2026, 3, 8, 7, 30)),
        ("01:59", "America/New_York", dt.date(2026, 3, 8), utc(2026, 3, 8, 6, 59)),
        # Fall back: 01:00-02:00 happens twice on 2026-11-01; 01:30 means the first (EDT) one.
        ("01:30", "America/New_York", dt.date(2026, 11, 1), utc(2026, 11, 1, 5, 30)),
        ("02:30", "America/New_York", dt.date(2026, 11, 1), utc(2026, 11, 1, 7, 30)),
        # London springs forward at 01:00 UTC on 2026-03-29: 01:30 local does not exist.
        ("01:30", "Europe/London", dt.date(2026, 3, 29), utc(2026, 3, 29, 1, 30)),
        ("07:30", "Europe/London", dt.date(2026, 3, 29), utc(2026, 3, 29, 6, 30)),
        ("07:30", "Europe/London", dt.date(2026, 10, 25), utc(2026, 10, 25, 7, 30)),
        # Sydney's seasons are the other way round: AEDT (UTC+11) ends on 2026-04-05.
        ("08:00", "Australia/Sydney", dt.date(2026, 4, 3), utc(2026, 4, 2, 21, 0)),
        ("08:00", "Australia/Sydney", dt.date(2026, 4, 6), utc(2026, 4, 5, 22, 0)),
        ("02:30", "Australia/Sydney", dt.date(2026, 10, 4), utc(2026, 10, 3, 16, 30)),  # gap: 03:30 AEDT
        # Shanghai has no daylight saving; Kolkata is off by half an hour.
        ("09:00", "Asia/Shanghai", dt.date(2026, 7, 1), utc(2026, 7, 1, 1, 0)),
        ("09:00", "Asia/Kolkata", dt.date(2026, 7, 1), utc(2026, 7, 1, 3, 30)),
    ],
)
def test_send_instant(time, zone, day, expected):
    """A local send time becomes one UTC instant, also when the clock jumps that day."""
    assert send_instant(recipient(time, zone), day) == expected


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (utc(2026, 11, 20, 12, 29), None),  # Friday, a minute before 07:30 EST
        (utc(2026, 11, 20, 12, 30), dt.date(2026, 11, 20)),  # on the dot
        (utc(2026, 11, 21, 4, 59), dt.date(2026, 11, 20)),  # 23:59 Friday in New York: still Friday's
        (utc(2026, 11, 21, 5, 0), None),  # Saturday in New York: no digest at the weekend
        (utc(2026, 11, 21, 15, 0), None),
        (utc(2026, 11, 23, 12, 29), None),  # Monday before its time
        (utc(2026, 11, 23, 12, 30), dt.date(2026, 11, 23)),
        (utc(2026, 11, 23, 2, 0), None),  # already Monday in UTC, but Sunday night in New York
    ],
)
def test_due_day(now, expected):
    """A digest is due from its time until the recipient's day ends, on their weekdays only."""
    assert due_day(recipient(), now) == expected


def test_due_day_on_the_spring_forward_day():
    """A 02:30 digest on the day 02:30 does not exist is due from 03:30 EDT, not before."""
    r = recipient("02:30", weekdays="daily")
    assert due_day(r, utc(2026, 3, 8, 7, 0)) is None  # 03:00 EDT
    assert due_day(r, utc(2026, 3, 8, 7, 29)) is None
    assert due_day(r, utc(2026, 3, 8, 7, 30)) == dt.date(2026, 3, 8)  # 03:30 EDT


@pytest.mark.parametrize(
    ("day", "start", "end", "hours"),
    [
        # Monday's digest covers the weekend, from Friday's send time.
        (dt.date(2026, 11, 23), utc(2026, 11, 20, 12, 30), utc(2026, 11, 23, 12, 30), 72),
        (dt.date(2026, 11, 24), utc(2026, 11, 23, 12, 30), utc(2026, 11, 24, 12, 30), 24),
        # The week the clocks go back: Friday 07:30 EDT to Monday 07:30 EST is 73 hours.
        (dt.date(2026, 11, 2), utc(2026, 10, 30, 11, 30), utc(2026, 11, 2, 12, 30), 73),
        # And forward: Friday 07:30 EST to Monday 07:30 EDT is 71 hours.
        (dt.date(2026, 3, 9), utc(2026, 3, 6, 12, 30), utc(2026, 3, 9, 11, 30), 71),
    ],
)
def test_window_for(day, start, end, hours):
    """Each digest covers the time since the previous one, so nothing falls between two digests."""
    window = window_for(recipient(), day)
    assert window == Window(start, end)
    assert (window.end - window.start) == dt.timedelta(hours=hours)


@pytest.mark.parametrize(
    ("weekdays", "after", "expected_day"),
    [
        ("mon-fri", utc(2026, 11, 20, 12, 30), dt.date(2026, 11, 23)),  # Friday's sent: next is Monday
        ("mon-fri", utc(2026, 11, 20, 12, 29), dt.date(2026, 11, 20)),
        ("daily", utc(2026, 11, 20, 12, 30), dt.date(2026, 11, 21)),
        (["wed"], utc(2026, 11, 19, 0, 0), dt.date(2026, 11, 25)),
        ("sat-sun", utc(2026, 11, 23, 0, 0), dt.date(2026, 11, 28)),
    ],
)
def test_next_send(weekdays, after, expected_day):
    """The next digest is the first send time strictly after the given instant."""
    day, instant = next_send(recipient(weekdays=weekdays), after)
    assert day == expected_day
    assert instant == send_instant(recipient(weekdays=weekdays), expected_day)


def test_deliverable_until_is_the_end_of_the_local_day():
    """A digest can go out until midnight in the recipient's zone, 23 or 25 hours on DST days."""
    assert deliverable_until(recipient(), dt.date(2026, 11, 20)) == utc(2026, 11, 21, 5, 0)
    assert deliverable_until(recipient(), dt.date(2026, 3, 7)) == utc(2026, 3, 8, 5, 0)
    assert deliverable_until(recipient(), dt.date(2026, 3, 8)) == utc(2026, 3, 9, 4, 0)


def _fires(trigger, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    fires, previous, now = [], None, start
    while True:
        fire = trigger.get_next_fire_time(previous, now)
        if fire is None or fire > end:
            return [f.astimezone(UTC) for f in fires]
        fires.append(fire)
        previous = now = fire


def _slots(r: Recipient, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    slots, moment = [], start - dt.timedelta(microseconds=1)
    while True:
        _, instant = next_send(r, moment)
        if instant > end:
            return slots
        slots.append(instant)
        moment = instant


def test_trigger_skips_the_weekend_unlike_a_numeric_crontab():
    """The trigger fires Monday to Friday; crontab's 1-5 in APScheduler would mean Tuesday to Saturday."""
    r = recipient("07:30")
    fires = _fires(digest_trigger(r), utc(2026, 11, 16), utc(2026, 11, 23))
    assert [f.astimezone(r.zone).strftime("%a") for f in fires] == ["Mon", "Tue", "Wed", "Thu", "Fri"]


@pytest.mark.parametrize(
    ("time", "zone", "start", "end"),
    [
        ("07:30", "America/New_York", utc(2026, 3, 1), utc(2026, 3, 20)),
        ("02:30", "America/New_York", utc(2026, 3, 1), utc(2026, 3, 20)),  # the gap day
        ("07:30", "America/New_York", utc(2026, 10, 25), utc(2026, 11, 10)),
        ("08:00", "Australia/Sydney", utc(2026, 3, 30), utc(2026, 4, 15)),
        ("02:30", "Australia/Sydney", utc(2026, 9, 28), utc(2026, 10, 10)),
        ("01:30", "Europe/London", utc(2026, 3, 23), utc(2026, 4, 3)),
    ],
)
def test_trigger_fires_when_the_pure_schedule_says(time, zone, start, end):
    """Across a daylight-saving change, APScheduler's trigger fires at exactly the computed instants."""
    r = recipient(time, zone, weekdays="daily")
    assert _fires(digest_trigger(r), start, end) == _slots(r, start, end)


def test_trigger_fires_twice_in_the_fall_back_hour_and_both_fires_are_the_same_digest():
    """APScheduler fires 01:30 twice when it occurs twice; both mean one day's digest, sent once."""
    r = recipient("01:30", weekdays="daily")
    start, end = utc(2026, 10, 30), utc(2026, 11, 3)
    fires = _fires(digest_trigger(r), start, end)
    slots = _slots(r, start, end)
    extra = [f for f in fires if f not in slots]
    assert extra == [utc(2026, 11, 1, 6, 30)]  # 01:30 EST, an hour after 01:30 EDT
    assert due_day(r, extra[0]) == due_day(r, utc(2026, 11, 1, 5, 30)) == dt.date(2026, 11, 1)
    assert sorted(set(fires) - set(extra)) == slots
