"""Back-off maths for failing feeds."""

from datetime import UTC, datetime, timedelta

import pytest

from service.pipeline.backoff import failure_delay, next_poll_after_success

HOUR = 3600.0


@pytest.mark.parametrize(
    ("interval", "failures", "jitter", "retry_after", "expected"),
    [
        (60, 1, 0.5, None, 60),  # first failure: retry after one interval
        (60, 2, 0.5, None, 120),
        (60, 3, 0.5, None, 240),
        (60, 4, 0.5, None, 480),
        (60, 20, 0.5, None, 6 * HOUR),  # capped at max_backoff
        (60, 3, 0.0, None, 180),  # jitter low end: 75%
        (60, 3, 1.0, None, 300),  # jitter high end: 125%
        (60, 1, 0.0, None, 60),  # never faster than the configured interval
        (300, 1, 0.5, 3600, 3600),  # Retry-After wins over back-off
        (300, 5, 0.5, 30, 300),  # ...but never makes us poll faster than the interval
        (60, 1, 0.5, 10 * 86400, 86400),  # absurd Retry-After is capped at a day
        (60, 1000, 0.5, None, 6 * HOUR),  # huge failure counts do not overflow
    ],
)
def test_failure_delay(interval, failures, jitter, retry_after, expected):
    """Failing feeds back off exponentially from their interval, with jitter and a cap."""
    delay = failure_delay(interval, failures, max_backoff=6 * HOUR, jitter=jitter, retry_after=retry_after)
    assert delay == pytest.approx(expected)


T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("interval", "took", "jitter", "expected_after_start"),
    [
        (15, 0.4, 0.0, 15.0),  # counted from the poll's start: its duration does not stretch the interval
        (15, 0.4, 1.0, 15.75),  # jitter adds at most 5% of the interval
        (15, 0.4, 0.5, 15.375),
        (3600, 2.0, 1.0, 3610.0),  # ...and never more than 10 s
        (3600, 2.0, 0.0, 3600.0),
        (15, 20.0, 0.0, 27.5),  # a poll slower than its interval leaves half an interval of rest
        (15, 0.4, 7.0, 15.75),  # jitter outside [0, 1] is clamped
        (15, 0.4, -1.0, 15.0),
    ],
)
def test_next_poll_after_success(interval, took, jitter, expected_after_start):
    """A healthy feed is due one interval after its last poll began, plus a bounded jitter."""
    due = next_poll_after_success(T0, T0 + timedelta(seconds=took), interval, jitter=jitter)
    assert (due - T0).total_seconds() == pytest.approx(expected_after_start)
