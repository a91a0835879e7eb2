"""rules/calendar.yaml: policy deadlines, and which ones each digest shows and calls out."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from service.digest.calendar import Deadline, load_calendar, past_calendar_warning, upcoming_deadlines
from service.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_calendar_holds_sourced_dates_still_ahead():
    """The calendar in the repository loads against the shipped rules, every entry says where it
    comes from (with a link), and its dates lie after the day it was last updated."""
    from service.pipeline.reminders import calendar_targets
    from service.rules import load_ruleset

    deadlines = load_calendar(ROOT / "rules" / "calendar.yaml", targets=calendar_targets(load_ruleset(ROOT / "rules")))
    assert {d.id for d in deadlines} == {
        "g20-miami-2026",
        "dfars-magnets-mine-to-magnet-2027",
        "eu-crma-list-review-2027",
        "ustr-301-chinese-chips-2027",
    }
    assert min(d.date for d in deadlines) > dt.date(2026, 12, 3)
    assert [d.date for d in deadlines] == sorted(d.date for d in deadlines)
    assert all(d.source and d.link and d.link.startswith("https://") for d in deadlines)


ENTRY = "id: ban-ends\n    date: 2026-11-27\n    title: t\n    ends: e\n    source: s\n"


@pytest.mark.parametrize(
    ("entry", "line", "column", "message"),
    [
        ("id: x\n    date: 2026-11-27\n    title: t\n    source: s\n", 2, 5, "say what `ends` or `starts` on that date"),
        ("id: x\n    date: 2026-11-27 10:00:00\n    title: t\n    ends: e\n    source: s\n", 3, 5, "without a time"),
        ("id: x\n    date: 2026-02-30\n    title: t\n    ends: e\n    source: s\n", 3, 11, "'2026-02-30' is not a valid date"),
        (ENTRY + "    remind_days: [-1]\n", 7, 5, "between 0 and 366"),
        ("id: x\n    date: 2026-11-27\n    title: t\n    ends: e\n    sources: s\n", 6, 5, "unknown key 'sources'; did you mean 'source'?"),
        ("date: 2026-11-27\n    title: t\n    ends: e\n    source: s\n", 2, 5, "missing required key 'id'"),
        ("id: Ban_Ends\n    date: 2026-11-27\n    title: t\n    ends: e\n    source: s\n", 2, 5, "id must be lowercase letters and digits joined by dashes"),
        (ENTRY + "    timezone: Asia/Shangai\n", 7, 5, "unknown time zone 'Asia/Shangai'; did you mean 'Asia/Shanghai'?"),
        (ENTRY + "    time: 18:30\n", 7, 5, 'write the time in quotes, like "18:30"'),
        (ENTRY + "    event_types: [truse]\n", 7, 19, "unknown event type 'truse'; did you mean 'truce'?"),
        (ENTRY + "    moves: {MP: up}\n", 7, 13, "Input should be 'bullish', 'bearish' or 'neutral'"),
        (ENTRY + "    link: javascript:alert(1)\n", 7, 5, "link must be an http(s) address"),
        (ENTRY + "    channel: '#bad channel'\n", 7, 5, "channel must be a Slack channel name"),
    ],
)
def test_bad_entries_are_located(tmp_path, entry, line, column, message):
    """A bad entry is reported at its file, line and column with a reason."""
    path = tmp_path / "calendar.yaml"
    path.write_text("deadlines:\n  - " + entry, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_calendar(path)
    assert any(
        message in p.message and (p.file, p.line, p.column) == (str(path), line, column) for p in caught.value.problems
    ), caught.value.problems


def test_the_same_deadline_twice_is_refused(tmp_path):
    """Two entries with one date and title (in any case) would show twice: refused."""
    entry = "  - id: {i}\n    date: 2026-11-27\n    title: {t}\n    ends: e\n    source: s\n"
    path = tmp_path / "calendar.yaml"
    path.write_text("deadlines:\n" + entry.format(i="a", t="Ban ends") + entry.format(i="b", t="ban ENDS"), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_calendar(path)
    assert "listed twice (first at line 2)" in str(caught.value)


def test_an_id_used_twice_is_refused_where_it_repeats(tmp_path):
    """Reminders are keyed by id: a second entry with the same id is an error at its `id:`."""
    entry = "  - id: ban-ends\n    date: 2026-11-{d}\n    title: Ban {d}\n    ends: e\n    source: s\n"
    path = tmp_path / "calendar.yaml"
    path.write_text("deadlines:\n" + entry.format(d=27) + entry.format(d=28), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_calendar(path)
    [problem] = caught.value.problems
    assert (problem.line, problem.column) == (7, 5)
    assert problem.message == "id 'ban-ends' is used twice (first at line 2); each entry needs its own"


def test_moves_must_name_the_rules_groups_or_tickers(tmp_path):
    """With the rules' names at hand, a group or ticker they lack is located, with a suggestion."""
    path = tmp_path / "calendar.yaml"
    path.write_text("deadlines:\n  - " + ENTRY + "    moves:\n      etfs: bullish\n      MP: bearish\n", encoding="utf-8")
    assert load_calendar(path)[0].moves == {"etfs": "bullish", "MP": "bearish"}  # no names given: no check
    with pytest.raises(ConfigError) as caught:
        load_calendar(path, targets={"etf", "MP"})
    [problem] = caught.value.problems
    assert (problem.line, problem.column, problem.message) == (8, 7, "unknown watchlist group or ticker 'etfs'; did you mean 'etf'?")


@pytest.mark.parametrize(
    ("dates", "today", "warned"),
    [
        ([], dt.date(2026, 12, 3), False),
        ([dt.date(2026, 11, 10), dt.date(2026, 11, 27)], dt.date(2026, 12, 3), True),
        ([dt.date(2026, 11, 27), dt.date(2026, 12, 3)], dt.date(2026, 12, 3), False),  # today still counts
        ([dt.date(2026, 11, 27), dt.date(2027, 1, 1)], dt.date(2026, 12, 3), False),
    ],
)
def test_a_calendar_with_only_past_dates_is_warned_about(dates, today, warned):
    """`rules check` warns when every date is past: nothing would be reminded any more."""
    deadlines = [Deadline(id=f"d{i}", date=d, title=f"t{i}", ends="e", source="s") for i, d in enumerate(dates)]
    warning = past_calendar_warning(deadlines, today)
    assert (warning is not None) == warned
    if warned:
        assert "the latest is 2026-11-27" in warning


NOV27 = Deadline(id="ga-ge-sb", date=dt.date(2026, 11, 27), title="Ga/Ge/Sb suspension ends", ends="x", source="MOFCOM")
NOV10 = Deadline(id="oct-9", date=dt.date(2026, 11, 10), title="Oct-9 suspension ends", ends="x", source="MOFCOM", remind_days=(7,))


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
    sunday_deadline = Deadline(id="sunday", date=dt.date(2026, 11, 29), title="t", ends="x", source="s", remind_days=(7,))
    # Seven days before is Sunday 2026-11-22: no digest that day.
    [monday] = upcoming_deadlines([sunday_deadline], dt.date(2026, 11, 23), dt.date(2026, 11, 20))
    assert (monday.days_left, monday.reminder) == (6, True)
    [tuesday] = upcoming_deadlines([sunday_deadline], dt.date(2026, 11, 24), dt.date(2026, 11, 23))
    assert tuesday.reminder is False


def test_several_deadlines_are_sorted_soonest_first():
    """The digest lists the nearest deadline first."""
    shown = upcoming_deadlines([NOV27, NOV10], dt.date(2026, 11, 5), dt.date(2026, 11, 4))
    assert [u.deadline.date for u in shown] == [dt.date(2026, 11, 10), dt.date(2026, 11, 27)]
