"""A channel's pace as a GCRA token bucket: `burst` posts at once, then one per interval.

One number, `due` (when every slot handed out so far would have been paid for), instead of a
token count and a refill timer. Pure: the caller passes the time in, as seconds or datetimes.
"""

from __future__ import annotations


def next_slot(due, now, paused_until, *, interval, burst: int):
    """(when the next post may go, the new `due`) for a bucket at `due`, asked at `now`.

    Works on any time type with ordering and `+ interval` (seconds as floats, or datetimes with a
    timedelta interval); `paused_until` may be None."""
    due = max(due, now)
    allowed_at = max(due - (burst - 1) * interval, now)
    if paused_until is not None:
        allowed_at = max(allowed_at, paused_until)
    return allowed_at, max(due, allowed_at) + interval


def due_after_pause(due, moment, *, interval, burst: int):
    """The bucket's `due` once it is held until `moment`: then one per interval, without a burst."""
    return max(due, moment + (burst - 1) * interval)


def check_pace(rate: float, burst: int) -> None:
    """A rate of zero or a burst below one would stall a channel for ever."""
    if rate <= 0:
        raise ValueError(f"rate must be positive, not {rate}")
    if burst < 1:
        raise ValueError(f"burst must be at least 1, not {burst}")
