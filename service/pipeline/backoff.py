"""When to poll a feed next. Pure functions: no clock, no randomness of their own."""

from __future__ import annotations

from datetime import datetime, timedelta

#: The jittered delay lies within ±25% of the nominal one, so failing feeds do not retry in step.
JITTER_SPREAD = 0.25


def failure_delay(
    interval: float,
    failures: int,
    *,
    max_backoff: float,
    jitter: float,
    retry_after: float | None = None,
) -> float:
    """Seconds to wait after the `failures`-th failure in a row (1 = first failure).

    Exponential from the feed's own interval, capped, with jitter in [0, 1) spreading it.
    A server's Retry-After wins over the back-off, but never makes us poll faster than the
    configured interval.
    """
    if retry_after is not None:
        return max(float(interval), min(retry_after, 86_400.0))
    exponent = max(0, failures - 1)
    nominal = min(float(max_backoff), float(interval) * (2 ** min(exponent, 30)))
    factor = 1 - JITTER_SPREAD + 2 * JITTER_SPREAD * min(max(jitter, 0.0), 1.0)
    return max(float(interval), min(float(max_backoff) * (1 + JITTER_SPREAD), nominal * factor))


def next_poll_after_failure(
    now: datetime,
    interval: float,
    failures: int,
    *,
    max_backoff: float,
    jitter: float,
    retry_after: float | None = None,
) -> datetime:
    delay = failure_delay(interval, failures, max_backoff=max_backoff, jitter=jitter, retry_after=retry_after)
    return now + timedelta(seconds=delay)


#: A successful poll is followed by the next one `interval` plus up to this share of it later...
POLL_JITTER_SHARE = 0.05
#: ...and never more than this: feeds added together drift apart instead of hitting hosts in step.
POLL_JITTER_MAX = 10.0


def next_poll_after_success(started: datetime, finished: datetime, interval: float, *, jitter: float) -> datetime:
    """When to poll a feed again after a poll that began at `started` and ended at `finished`.

    Counted from the start, so the time a poll takes does not stretch the interval; `jitter` in
    [0, 1) adds a bounded delay (POLL_JITTER_SHARE of the interval, at most POLL_JITTER_MAX s).
    A poll that took longer than its interval still leaves the host half an interval of rest.
    """
    spread = min(float(interval) * POLL_JITTER_SHARE, POLL_JITTER_MAX) * min(max(jitter, 0.0), 1.0)
    due = started + timedelta(seconds=interval + spread)
    return max(due, finished + timedelta(seconds=interval / 2))


def rate_limit_pause(strikes: int, *, jitter: float, first: float = 300.0, cap: float = 3600.0) -> float:
    """Seconds to leave a rate-limited price source alone after its `strikes`-th 429 in a row.

    Yahoo limits the client, not a ticker, and says nothing of when it lifts (yfinance keeps no
    Retry-After): start at five minutes, double, stop at an hour.
    """
    return failure_delay(first, strikes, max_backoff=cap, jitter=jitter)
