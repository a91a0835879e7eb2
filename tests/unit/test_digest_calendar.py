"""rules/calendar.yaml: policy deadlines, and which ones each digest shows and calls out."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from service.digest.calendar import Deadline, load_calendar, upcoming_deadlines
from service.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_calendar_holds_the_real_deadlines():
    """The calendar in the repository loads and carries the 2026-11-10 and 2026-11-27 dates."""
    deadlines = load_calendar(ROOT / "rules" / "calendar.yaml")
    assert {d.date for d in deadlines} == {dt.date(2026, 11, 10), dt.date(2026, 11, 27)}
    assert [d.date for d in deadlines] == sorted(d.date for d in deadlines)
    assert all(d.source for d in deadlines)


@pytest.mark.parametrize(
    ("entry", "line", "message"),
    [
        ("date: 2026-11-27\n    title: t\n    source: s\n", 2, "say what `ends` or `starts` on that date"),
        ("date: 2026-11-27 10:00:00\n    title: t\n    ends: e\n    source: s\n", 2, "without a time"),
        ("date: 2026-02-30\n    title: t\n    ends: e\n    source: s\n", 2, "'2026-02-30' is not a valid date"),
        ("date: 2026-11-27\n    title: t\n    ends: e\n    source: s\n    remind_days: [-1]\n", 6, "between 0 and 366"),
        ("date: 2026-11-27\n    title: t\n    ends: e\n    sources: s\n", 5, "unknown key 'sources'; did you mean 'source'?"),
    ],
)
def test_bad_entries_are_located(tmp_path, entry, line, message):
    """A bad deadline is reported with its line and a reason."""
    path = tmp_path / "calendar.yaml"
    path.write_text("deadlines:\n  - " + entry, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_calendar(path)
    assert any(message in p.message and p.line == line for p in caught.value.problems), caught.value.problems


def test_the_same_deadline_twice_is_refused(tmp_path):
    """Two entries with one date and title (in any case) would show twice: refused."""
    entry = "  - date: 2026-11-27\n    title: {t}\n    ends: e\n    source: s\n"
    path = tmp_path / "calendar.yaml"
    path.write_text("deadlines:\n" + entry.format(t="Ban ends") + entry.format(t="ban ENDS"), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_calendar(path)
    assert "listed twice (first at line 2)" in str(caught.value)


NOV27 = Deadline(date=dt.date(2026, 11, 27), title="Ga/Ge/Sb suspension ends", ends="x", source="MOFCOM")
NOV10 = Deadline(date=dt.date(2026, 11, 10), title="Oct-9 suspension ends", ends="x", source="MOFCOM", remind_days=(7,))


@pytest.mark.parametrize(
    ("day", "previous", "expected"),
    [
        (dt.date(2026, 10, 27), None, []),  # 31 days before: not yet
        (dt.date(2026, 10, 28), None, [("Ga/Ge/Sb suspension ends", 30, True)]),  # a reminder day
        (dt.date(2026, 10, 29), None, [("Ga/Ge/Sb suspension ends", 29, False)]),
        # Thursday 2026-11-19 is 8 days before; Friday is 7 and Monday 2026-11-23 is 4.
        (dt.date(2026, 11, 20), dt.date(2026, 11, 19), [("Ga/Ge/Sb suspension ends", 7, True)]),
        (dt.date(2026, 11, 23), dt.date(2026, 11, 20), [("Ga/Ge/Sb suspension ends", 4, False)]),
        # Reminder on Thursday 26th (1 day) and the day itself (Friday 27th).
        (dt.date(2026, 11, 26), dt.date(2026, 11, 25), [("Ga/Ge/Sb suspension ends", 1, True)]),
        (dt.date(2026, 11, 27), dt.date(2026, 11, 26), [("Ga/Ge/Sb suspension ends", 0, True)]),
        (dt.date(2026, 11, 28), dt.date(2026, 11, 27), []),  # past: gone
    ],
)
def test_upcoming_deadlines(day, previous, expected):
    """A deadline shows from its largest reminder day to its date, flagged on reminder days."""
    shown = upcoming_deadlines([NOV27], day, previous)
    assert [(u.deadline.title, u.days_left, u.reminder) for u in shown] == expected


def test_a_weekend_reminder_is_called_out_on_monday():
    """A reminder that fell on a Saturday shows in Monday's digest, whose previous digest was Friday."""
    sunday_deadline = Deadline(date=dt.date(2026, 11, 29), title="t", ends="x", source="s", remind_days=(7,))
    # Seven days before is Sunday 2026-11-22: no digest that day.
    [monday] = upcoming_deadlines([sunday_deadline], dt.date(2026, 11, 23), dt.date(2026, 11, 20))
    assert (monday.days_left, monday.reminder) == (6, True)
    [tuesday] = upcoming_deadlines([sunday_deadline], dt.date(2026, 11, 24), dt.date(2026, 11, 23))
    assert tuesday.reminder is False


def test_several_deadlines_are_sorted_soonest_first():
    """The digest lists the nearest deadline first."""
    shown = upcoming_deadlines([NOV27, NOV10], dt.date(2026, 11, 5), dt.date(2026, 11, 4))
    assert [u.deadline.date for u in shown] == [dt.date(2026, 11, 10), dt.date(2026, 11, 27)]
