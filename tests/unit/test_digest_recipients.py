"""rules/digests.yaml: recipients are checked when loaded, and every mistake is located."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from service.digest.recipients import load_recipients, parse_weekdays
from service.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]

GOOD = """\
recipients:
  - address: Trader@Desk.Example
    name: Jane Trader
    time: "07:30"
    timezone: America/New_York
    watchlists: [us_allied_producers, etf]
    min_score: 40
  - address: risk@desk.example
    time: "18:05"
    timezone: Europe/London
    weekdays: daily
"""


def write(tmp_path: Path, text: str, name: str = "digests.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_file_loads_with_defaults(tmp_path):
    """Addresses are normalised, times parsed, weekdays default to Monday-Friday."""
    first, second = load_recipients(write(tmp_path, GOOD))
    assert first.address == "Trader@desk.example"
    assert first.key == "trader@desk.example"
    assert first.time == dt.time(7, 30)
    assert first.watchlists == ("us_allied_producers", "etf")
    assert first.weekdays == frozenset(range(5))
    assert first.cron_weekdays == "mon,tue,wed,thu,fri"
    assert second.weekdays == frozenset(range(7))
    assert second.min_score == 0 and second.watchlists == ()


def test_the_shipped_example_file_loads():
    """rules/digests.yaml in the repository is valid."""
    recipients = load_recipients(ROOT / "rules" / "digests.yaml")
    assert len(recipients) >= 2


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("address", "not-an-address", "'not-an-address' is not a valid e-mail address"),
        ("address", "desk@", "is not a valid e-mail address"),
        ("time", "18:05", 'write the time in quotes, like "18:05" (unquoted, YAML reads 18:05 as the number 1085)'),
        ("time", '"7.30"', "time must be HH:MM on a 24-hour clock"),
        ("time", '"24:00"', "time must be HH:MM on a 24-hour clock"),
        ("timezone", "Europe/Londn", "unknown time zone 'Europe/Londn'; did you mean 'Europe/London'?"),
        ("timezone", "Mars/Olympus", "unknown time zone 'Mars/Olympus' (use an IANA name"),
        ("weekdays", "[1, 2, 3]", "weekdays must be day names"),
        ("weekdays", "fri-mon", "runs backwards"),
        ("weekdays", "mon-fry", "weekdays must be day names"),
        ("min_score", "101", "less than or equal to 100"),
        ("name", '"two\\nlines"', "name must be one line of text"),
    ],
)
def test_bad_values_are_reported_where_they_are(tmp_path, field, value, message):
    """Each bad value is reported with file:line:column and a reason a person can act on."""
    lines = {
        "address": "desk@fund.example",
        "time": '"07:30"',
        "timezone": "America/New_York",
    }
    lines[field] = value
    body = "recipients:\n  - " + "\n    ".join(f"{k}: {v}" for k, v in lines.items()) + "\n"
    path = write(tmp_path, body)
    with pytest.raises(ConfigError) as caught:
        load_recipients(path)
    [problem] = caught.value.problems
    assert message in problem.message
    expected_line = 2 + list(lines).index(field)
    assert (problem.file, problem.line) == (str(path), expected_line)


def test_unknown_keys_get_a_suggestion(tmp_path):
    """A misspelt key is named with its place and the key that was probably meant."""
    path = write(tmp_path, 'recipients:\n  - address: a@fund.example\n    time: "07:30"\n    timezone: UTC\n    min_scor: 3\n')
    with pytest.raises(ConfigError) as caught:
        load_recipients(path)
    assert str(caught.value) == f"{path}:5:5: unknown key 'min_scor'; did you mean 'min_score'?"


def test_missing_keys_and_all_problems_at_once(tmp_path):
    """Every problem in the file is reported in one go."""
    path = write(tmp_path, "recipients:\n  - address: a@fund.example\n  - address: nope\n    time: '07:00'\n    timezone: UTC\n")
    with pytest.raises(ConfigError) as caught:
        load_recipients(path)
    messages = [p.message for p in caught.value.problems]
    assert "missing required key 'time'" in messages
    assert "missing required key 'timezone'" in messages
    assert any("'nope' is not a valid e-mail address" in m for m in messages)


def test_the_same_address_twice_is_refused(tmp_path):
    """One digest per address and day: an address listed twice (in any case) is an error."""
    body = GOOD + '  - address: TRADER@desk.example\n    time: "09:00"\n    timezone: UTC\n'
    path = write(tmp_path, body)
    with pytest.raises(ConfigError) as caught:
        load_recipients(path)
    [problem] = caught.value.problems
    assert problem.line == 12
    assert "is listed twice (first at line 2)" in problem.message


def test_watchlists_are_checked_when_the_names_are_known(tmp_path):
    """With the watchlist names known, an unknown group is located and a close name suggested."""
    path = write(tmp_path, GOOD)
    with pytest.raises(ConfigError) as caught:
        load_recipients(path, watchlists={"us_allied_producers", "etfs"})
    [problem] = caught.value.problems
    assert (problem.line, problem.column) == (6, 39)
    assert problem.message == "unknown watchlist 'etf'; did you mean 'etfs'?"
    assert load_recipients(path, watchlists={"us_allied_producers", "etf"})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("mon-fri", {0, 1, 2, 3, 4}),
        ("daily", set(range(7))),
        ("weekends", {5, 6}),
        ("mon,wed,fri", {0, 2, 4}),
        (["Mon", "sun"], {0, 6}),
        ("mon-wed, fri", {0, 1, 2, 4}),
    ],
)
def test_parse_weekdays(value, expected):
    """Day names, ranges and aliases become Python weekdays, Monday = 0."""
    assert parse_weekdays(value) == frozenset(expected)
