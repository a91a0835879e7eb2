"""REEWATCH_FOLLOWUP_MINUTES: when the thread replies on the market's reaction fall due."""

import pytest
from pydantic import ValidationError

from service.config import Settings, parse_followup_minutes


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15,60", (15, 60)),
        (" 60 , 15 ", (15, 60)),
        ("30", (30,)),
        ("15,15,5", (5, 15)),
        ("", ()),
        (",", ()),
        ("1440", (1440,)),
    ],
)
def test_followup_minutes(text, expected):
    """Whole minutes, sorted, each once; blank turns follow-ups off."""
    assert parse_followup_minutes(text) == expected


@pytest.mark.parametrize("text", ["0", "1441", "15m", "-5", "1.5", "15;60"])
def test_bad_followup_minutes_are_refused(text):
    """Anything but whole minutes from 1 to a day is a settings error that names the bad part."""
    with pytest.raises(ValidationError, match="follow-up delays are whole minutes"):
        Settings(_env_file=None, followup_minutes=text)


def test_the_default_is_15_and_60_minutes(monkeypatch):
    """Without the variable, follow-ups come 15 and 60 minutes after each news alert; the variable overrides."""
    monkeypatch.delenv("REEWATCH_FOLLOWUP_MINUTES", raising=False)
    assert Settings(_env_file=None).followup_delays == (15, 60)
    monkeypatch.setenv("REEWATCH_FOLLOWUP_MINUTES", "5,30")
    assert Settings(_env_file=None).followup_delays == (5, 30)
