"""What /readyz calls ready: each check, on facts gathered at one moment."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from service.health import ReadinessFacts, judge_readiness

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
HEALTHY = ReadinessFacts(
    now=NOW,
    tick=5.0,
    database_error=None,
    rules_loaded=True,
    rules_reload_error=None,
    poller_idle=1.0,
    poller_running=True,
    scheduler_running=True,
    last_poll=NOW - timedelta(seconds=12),
    any_last_poll=NOW - timedelta(seconds=3),
    next_due=NOW + timedelta(seconds=8),
    price_error=None,
)


@pytest.mark.parametrize(
    ("change", "failing"),
    [
        ({}, set()),
        ({"database_error": "OperationalError: connection refused"}, {"database"}),
        # While the database cannot be read, the schedule is unknown: only the database fails.
        ({"database_error": "no answer within 5s", "next_due": None}, {"database"}),
        ({"rules_loaded": False}, {"rules"}),
        # A broken edit keeps the last good rules in force: still ready, and it says why.
        ({"rules_reload_error": "rules/alerts/x.yaml:3:1: unknown key"}, set()),
        ({"poller_running": False}, {"scheduler"}),
        ({"scheduler_running": False}, {"scheduler"}),
        ({"poller_idle": None}, {"scheduler"}),
        ({"poller_idle": 59.0}, set()),
        ({"poller_idle": 61.0}, {"scheduler"}),
        ({"tick": 30.0, "poller_idle": 140.0}, set()),  # a long tick: five ticks of silence allowed
        ({"next_due": NOW - timedelta(seconds=100)}, set()),  # due a little while ago: being polled
        ({"next_due": NOW - timedelta(seconds=121)}, {"polling"}),  # overdue everywhere: stuck
        ({"next_due": None, "last_poll": None, "any_last_poll": None}, set()),  # no feeds at all
        ({"price_error": "ReplayFileError: cannot read"}, {"prices"}),
    ],
)
def test_readiness_checks(change, failing):
    """Ready exactly when no check fails; each failing check is named."""
    ready, checks = judge_readiness(replace(HEALTHY, **change))
    assert {name for name, check in checks.items() if not check["ok"]} == failing
    assert ready is (not failing)


def test_readiness_reports_the_ages_of_the_last_polls():
    """The body carries this instance's last poll age, any instance's, and how overdue feeds are."""
    _, checks = judge_readiness(replace(HEALTHY, next_due=NOW - timedelta(seconds=30)))
    assert checks["polling"] == {
        "ok": True,
        "last_poll_age_seconds": 12.0,
        "any_instance_last_poll_age_seconds": 3.0,
        "overdue_seconds": 30.0,
    }
