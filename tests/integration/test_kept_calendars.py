"""Exchange calendars kept on disk: a later process reads them instead of rebuilding them, and a
file of another day or a damaged one is rebuilt. Each step runs in a fresh interpreter, as each
`reewatch` command does."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, timedelta

from tests.e2e.cli import ROOT

# HKEX: lunch breaks and a typhoon-free Christmas week make the answers easy to tell apart.
PROBE = """
import json, sys
from datetime import date
from pathlib import Path
from service.domain import markets

markets.keep_calendars_in(Path(sys.argv[1]))
calendar = markets.calendar("HKEX")
days = [date(2025, 12, 24), date(2025, 12, 25), date(2025, 12, 29)]
sessions = {
    str(day): None if (s := calendar.session_on(day)) is None
    else [s.open.isoformat(), s.close.isoformat(), s.break_start and s.break_start.isoformat(), s.estimated]
    for day in days
}
print(json.dumps({
    "sessions": sessions,
    "days": [str(calendar.first_day), str(calendar.last_day)],
    "built": "exchange_calendars" in sys.modules,
}))
"""


def probe(folder) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(folder)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_kept_calendar_is_read_back_without_rebuilding_it(tmp_path):
    """The first process builds the calendar with exchange-calendars and keeps it; the next one
    gives the same sessions (half day, holiday, lunch break) without loading the library."""
    first = probe(tmp_path)
    assert first["built"] is True
    assert (tmp_path / "XHKG.json").is_file()
    assert first["sessions"]["2025-12-25"] is None  # Christmas
    assert first["sessions"]["2025-12-24"][1] == "2025-12-24T04:00:00+00:00"  # half day: closes at noon
    second = probe(tmp_path)
    assert second["built"] is False
    assert second["sessions"] == first["sessions"] and second["days"] == first["days"]


def test_a_calendar_kept_on_another_day_is_rebuilt(tmp_path):
    """exchange-calendars ends its sessions a year from the day it builds them: a file built on
    an earlier day is built again, and kept with today's date."""
    first = probe(tmp_path)
    kept = json.loads((tmp_path / "XHKG.json").read_text())
    kept["key"]["built_on"] = (date.today() - timedelta(days=1)).isoformat()
    (tmp_path / "XHKG.json").write_text(json.dumps(kept))
    again = probe(tmp_path)
    assert again["built"] is True
    assert again["sessions"] == first["sessions"]
    assert json.loads((tmp_path / "XHKG.json").read_text())["key"]["built_on"] == date.today().isoformat()


def test_a_damaged_calendar_file_is_rebuilt(tmp_path):
    """A truncated or altered file is never trusted: the calendar is built again and the file replaced."""
    first = probe(tmp_path)
    text = (tmp_path / "XHKG.json").read_text()
    (tmp_path / "XHKG.json").write_text(text[: len(text) // 2])
    again = probe(tmp_path)
    assert again["built"] is True and again["sessions"] == first["sessions"]
    kept = json.loads((tmp_path / "XHKG.json").read_text())
    kept["sessions"] = [["not a day", 1, 2, None, None]]
    (tmp_path / "XHKG.json").write_text(json.dumps(kept))
    third = probe(tmp_path)
    assert third["built"] is True and third["sessions"] == first["sessions"]
    assert probe(tmp_path)["built"] is False
