"""Back-off maths for failing feeds."""

import pytest

from service.pipeline.backoff import failure_delay

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
