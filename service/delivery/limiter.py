"""The per-channel limiter: Slack allows about one message per second per channel, short bursts allowed.

A token bucket in its GCRA form: one number (`due`, the time the bucket would next be empty of
debt) instead of a token count and a refill timer. Pure: the caller passes the time in.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class TokenBucket:
    """`burst` messages at once, then `rate` per second; `pause_until` holds it after a 429."""

    rate: float
    burst: int = 1
    #: Theoretical time at which every reservation so far would have been paid for.
    due: float = float("-inf")
    paused_until: float = float("-inf")

    def __post_init__(self) -> None:
        if self.rate <= 0:
            raise ValueError(f"rate must be positive, not {self.rate}")
        if self.burst < 1:
            raise ValueError(f"burst must be at least 1, not {self.burst}")

    @property
    def interval(self) -> float:
        return 1.0 / self.rate

    def reserve(self, now: float) -> float:
        """Take the next slot and return how many seconds to wait before using it (0 = go now)."""
        due = max(self.due, now)
        allowed_at = max(due - (self.burst - 1) * self.interval, now, self.paused_until)
        self.due = max(due, allowed_at) + self.interval
        return allowed_at - now

    def pause_until(self, moment: float) -> None:
        """Send nothing before `moment`, then one per interval again, without a burst."""
        self.paused_until = max(self.paused_until, moment)
        self.due = max(self.due, moment + (self.burst - 1) * self.interval)
