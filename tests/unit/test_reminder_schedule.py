"""Calendar reminder maths: when each reminder falls due, which one a look sends, where it goes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from service.alerts.reminders import (
    event_end,
    event_start,
    plan_reminders,
    reminder_channels,
    reminder_rows,
    reminder_slots,
)
from service.digest.calendar import Deadline

UTC = dt.UTC


def entry(day: dt.date, *, zone: str = "UTC", at: dt.time | None = None, **extra) -> Deadline:
    return Deadline(id="ban-ends", date=day, time=at, timezone=zone, title="Ban ends", ends="the ban", source="MOFCOM", **extra)


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


DAY = dt.date(2026, 12, 13)  # a date-only entry in UTC: reminders at 08:00 UTC
SLOTS_UTC = {"7d": utc(2026, 12, 6, 8), "1d": utc(2026, 12, 12, 8), "0d": utc(2026, 12, 13, 8)}


@pytest.mark.parametrize(
    ("now", "send", "skip", "over"),
    [
        (utc(2026, 12, 3, 8), None, [], False),  # 10 days before: nothing yet
        (utc(2026, 12, 6, 7, 59), None, [], False),  # a minute before the 7-day reminder
        (utc(2026, 12, 6, 8), "7d", [], False),  # 7 days before, at 08:00
        (utc(2026, 12, 9, 15), "7d", [], False),  # down since: the 7-day one still goes
        (utc(2026, 12, 12, 8), "1d", ["7d"], False),  # 1 day before: the 7-day one is moot
        (utc(2026, 12, 13, 8), "0d", ["7d", "1d"], False),  # the day itself
        (utc(2026, 12, 13, 23, 59), "0d", ["7d", "1d"], False),  # still the day
        (utc(2026, 12, 14, 0), None, [], True),  # past: nothing any more
        (utc(2027, 1, 5), None, [], True),
    ],
)
def test_which_reminder_a_look_sends(now, send, skip, over):
    """Only the latest due reminder goes, until the date is over; earlier due ones are skipped."""
    plan = plan_reminders(entry(DAY), now)
    assert (plan.send.name if plan.send else None, [s.name for s in plan.skip], plan.over) == (send, skip, over)


def test_date_only_slots_fall_at_eight_on_their_days():
    """7 days before, 1 day before and on the day, each at 08:00 in the entry's zone."""
    assert {s.name: s.due_at for s in reminder_slots(entry(DAY))} == SLOTS_UTC
    assert event_end(entry(DAY)) == utc(2026, 12, 14)


@dataclass(frozen=True)
class Down:
    """The service was down from `stopped` and looked again at `back`."""

    stopped: dt.datetime
    back: dt.datetime
    sends: str | None
    skips: tuple[str, ...]


@pytest.mark.parametrize(
    "down",
    [
        Down(utc(2026, 12, 5), utc(2026, 12, 11), "7d", ()),  # over the 7-day one only: it goes late
        Down(utc(2026, 12, 5), utc(2026, 12, 12, 9), "1d", ("7d",)),  # over two: the latest goes
        Down(utc(2026, 12, 5), utc(2026, 12, 13, 12), "0d", ("7d", "1d")),  # over all three
        Down(utc(2026, 12, 5), utc(2026, 12, 14, 1), None, ()),  # back after the date: nothing
        # The 7-day one was due before it stopped, and nothing later is due yet: the plan names it
        # again, and its key in the outbox keeps it from going twice (tests/store).
        Down(utc(2026, 12, 7), utc(2026, 12, 12, 7), "7d", ()),
    ],
)
def test_a_service_down_across_several_reminders_sends_the_latest_due(down):
    """Coming back, a look sends the most recent due reminder and skips the ones before it."""
    plan = plan_reminders(entry(DAY), down.back)
    assert (plan.send.name if plan.send else None, tuple(s.name for s in plan.skip)) == (down.sends, down.skips)


@pytest.mark.parametrize(
    ("zone", "day", "at", "expected", "end"),
    [
        # Beijing, no daylight saving: 08:00 CST is midnight UTC.
        (
            "Asia/Shanghai",
            dt.date(2026, 12, 20),
            None,
            {"7d": utc(2026, 12, 13, 0), "1d": utc(2026, 12, 19, 0), "0d": utc(2026, 12, 20, 0)},
            utc(2026, 12, 20, 16),
        ),
        # New York across the end of daylight saving (Sunday 2026-11-01): 08:00 EDT then EST.
        (
            "America/New_York",
            dt.date(2026, 11, 3),
            None,
            {"7d": utc(2026, 10, 27, 12), "1d": utc(2026, 11, 2, 13), "0d": utc(2026, 11, 3, 13)},
            utc(2026, 11, 4, 5),
        ),
        # New York across the start of daylight saving (Sunday 2027-03-14): EST then EDT.
        (
            "America/New_York",
            dt.date(2027, 3, 16),
            None,
            {"7d": utc(2027, 3, 9, 13), "1d": utc(2027, 3, 15, 12), "0d": utc(2027, 3, 16, 12)},
            utc(2027, 3, 17, 4),
        ),
        # Brussels, a timed entry at 17:00: the day's reminder still goes at 08:00.
        (
            "Europe/Brussels",
            dt.date(2027, 5, 24),
            dt.time(17, 0),
            {"7d": utc(2027, 5, 17, 6), "1d": utc(2027, 5, 23, 6), "0d": utc(2027, 5, 24, 6)},
            utc(2027, 5, 24, 15),
        ),
        # An entry at 05:00 Beijing time: the day's reminder an hour before it.
        (
            "Asia/Shanghai",
            dt.date(2026, 12, 20),
            dt.time(5, 0),
            {"7d": utc(2026, 12, 13, 0), "1d": utc(2026, 12, 19, 0), "0d": utc(2026, 12, 19, 20)},
            utc(2026, 12, 19, 21),
        ),
        # At 00:30: the day's reminder at local midnight, half an hour ahead.
        ("UTC", DAY, dt.time(0, 30), {"7d": SLOTS_UTC["7d"], "1d": SLOTS_UTC["1d"], "0d": utc(2026, 12, 13, 0)}, utc(2026, 12, 13, 0, 30)),
        # At midnight there is no time left on the day: the 1-day reminder is the last.
        ("UTC", DAY, dt.time(0, 0), {"7d": SLOTS_UTC["7d"], "1d": SLOTS_UTC["1d"]}, utc(2026, 12, 13, 0)),
        # 02:30 on New York's spring-forward day does not exist: read as 03:30 EDT (fold=0).
        (
            "America/New_York",
            dt.date(2027, 3, 14),
            dt.time(2, 30),
            {"7d": utc(2027, 3, 7, 13), "1d": utc(2027, 3, 13, 13), "0d": utc(2027, 3, 14, 6, 30)},
            utc(2027, 3, 14, 7, 30),
        ),
    ],
)
def test_slots_in_time_zones_and_across_daylight_saving(zone, day, at, expected, end):
    """Each reminder is 08:00 local on its day whatever the offset that day; a timed entry's
    day reminder comes at least an hour before it, never before local midnight."""
    deadline = entry(day, zone=zone, at=at)
    assert {s.name: s.due_at for s in reminder_slots(deadline)} == expected
    assert event_end(deadline) == end


def test_a_timed_entry_is_over_at_its_time():
    """A reminder is not sent once the entry's time has come, even on its day."""
    deadline = entry(DAY, zone="Asia/Shanghai", at=dt.time(12, 0))
    assert event_start(deadline) == utc(2026, 12, 13, 4)
    assert plan_reminders(deadline, utc(2026, 12, 13, 3, 59)).send.name == "0d"
    assert plan_reminders(deadline, utc(2026, 12, 13, 4)).over


@dataclass(frozen=True)
class Rule:
    event_types: tuple[str, ...]
    channel: str | None


RULES = [
    Rule(("export_control_new",), "#china-desk"),
    Rule(("truce", "export_control_eased"), None),
    Rule(("truce",), "#macro"),
    Rule(("export_control_new",), "#china-desk"),
    Rule(("tariff_up",), "#macro"),
]


@pytest.mark.parametrize(
    ("extra", "channels"),
    [
        ({}, ["#alerts"]),  # no topic: the default channel
        ({"event_types": ("gov_funding",)}, ["#alerts"]),  # no rule of the topic names a channel
        ({"event_types": ("export_control_new",)}, ["#china-desk"]),  # once, however many rules
        ({"event_types": ("truce",)}, ["#macro"]),  # a rule without a channel adds nothing
        ({"event_types": ("tariff_up", "export_control_new")}, ["#china-desk", "#macro"]),  # rule order
        ({"event_types": ("truce",), "channel": "#calendar"}, ["#calendar"]),  # the entry's own wins
    ],
)
def test_reminders_go_where_news_of_their_topic_goes(extra, channels):
    """An entry's channel, else every channel its topic's rules name, else the default channel."""
    assert reminder_channels(entry(DAY, **extra), RULES, "#alerts") == channels


def test_rows_carry_one_key_per_reminder_and_channel():
    """The pending row and the skipped markers are keyed `reminder:<id>:<slot>:<channel>`."""
    now = utc(2026, 12, 12, 9)
    deadline = entry(DAY, moves={"us_allied_producers": "bullish"})
    rows = reminder_rows(deadline, plan_reminders(deadline, now), ["#a", "#b"], now)
    assert [(r["key"], r["status"]) for r in rows] == [
        ("reminder:ban-ends:1d:#a", "pending"),
        ("reminder:ban-ends:7d:#a", "skipped"),
        ("reminder:ban-ends:1d:#b", "pending"),
        ("reminder:ban-ends:7d:#b", "skipped"),
    ]
    assert {r["throttle_key"] for r in rows} == {"reminder|ban-ends"}
    assert rows[0]["payload"]["days_left"] == 1 and rows[0]["sort_at"] == SLOTS_UTC["1d"]
    assert rows[0]["payload"]["moves"] == [["us_allied_producers", "bullish"]]
