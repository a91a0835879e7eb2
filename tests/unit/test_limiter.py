"""The per-channel token bucket: a short burst, then a steady pace; held after a 429."""

import pytest

from service.delivery.limiter import TokenBucket


@pytest.mark.parametrize(
    ("rate", "burst", "requests", "waits"),
    [
        # One per second, bursts of three: three go at once, then one per second.
        (1.0, 3, [0, 0, 0, 0, 0], [0, 0, 0, 1, 2]),
        # Spaced requests never wait.
        (1.0, 3, [0, 1, 2, 3, 4], [0, 0, 0, 0, 0]),
        # An idle bucket refills to its burst, never beyond.
        (1.0, 3, [0, 0, 0, 10, 10, 10, 10], [0, 0, 0, 0, 0, 0, 1]),
        # Partly refilled after half a second of a 2/s bucket with burst 1.
        (2.0, 1, [0, 0.25, 0.25], [0, 0.25, 0.75]),
        # Burst of one: strictly one per interval.
        (1.0, 1, [0, 0, 0], [0, 1, 2]),
        # A backlog keeps its place: later requests queue behind it.
        (1.0, 2, [0, 0, 0, 0.5, 5], [0, 0, 1, 1.5, 0]),
    ],
)
def test_reserve(rate, burst, requests, waits):
    """Each request gets the wait that keeps the channel within `burst` at once and `rate` per second."""
    bucket = TokenBucket(rate, burst)
    assert [pytest.approx(bucket.reserve(now)) for now in requests] == waits


def test_a_500_alert_burst_drains_at_the_rate():
    """500 alerts at once: the last waits (500 - burst) intervals, none waits less than its share."""
    bucket = TokenBucket(1.0, 3)
    waits = [bucket.reserve(0.0) for _ in range(500)]
    assert waits[:3] == [0, 0, 0]
    assert waits[-1] == pytest.approx(497)
    assert all(later - earlier == pytest.approx(1) for earlier, later in zip(waits[3:], waits[4:]))


@pytest.mark.parametrize(
    ("pause_at", "until", "requests", "waits"),
    [
        # Held until 10, then one per second without a burst.
        (0, 10, [0, 0, 0], [10, 11, 12]),
        # After the pause has passed, requests resume one per second.
        (0, 10, [10, 10, 20, 20, 20, 20], [0, 1, 0, 0, 0, 1]),
        # A shorter pause never shortens a longer one.
        (0, 10, [0], [10]),
    ],
)
def test_pause_until(pause_at, until, requests, waits):
    """After a 429 the channel sends nothing until Retry-After has passed, then paces itself again."""
    bucket = TokenBucket(1.0, 3)
    bucket.pause_until(pause_at + until)
    bucket.pause_until(pause_at + 2)
    assert [pytest.approx(bucket.reserve(now)) for now in requests] == waits


@pytest.mark.parametrize(("rate", "burst"), [(0, 3), (-1, 3), (1, 0)])
def test_nonsense_settings_are_refused(rate, burst):
    """A rate of zero or a burst below one would stall a channel for ever."""
    with pytest.raises(ValueError):
        TokenBucket(rate, burst)
