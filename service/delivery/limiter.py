"""The per-channel limiter: Slack allows about one message per second per channel, short bursts allowed.

A token bucket in its GCRA form: one number (`due`, the time the bucket would next be empty of
debt) instead of a token count and a refill timer. The rule itself is domain/pace.py, pure: the
`TokenBucket` here keeps `due` in memory, the shared pace (store/pace.py) keeps it in the
database so every instance posting to a channel draws from the same bucket.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.domain.pace import check_pace, due_after_pause, next_slot

@dataclass
class TokenBucket:
    """`burst` messages at once, then `rate` per second; `pause_until` holds it after a 429."""

    rate: float
    burst: int = 1
    #: Theoretical time at which every reservation so far would have been paid for.
    due: float = float("-inf")
    paused_until: float = float("-inf")

    def __post_init__(self) -> None:
        check_pace(self.rate, self.burst)

    @property
    def interval(self) -> float:
        return 1.0 / self.rate

    def reserve(self, now: float) -> float:
        """Take the next slot and return how many seconds to wait before using it (0 = go now)."""
        allowed_at, self.due = next_slot(self.due, now, self.paused_until, interval=self.interval, burst=self.burst)
        return allowed_at - now

    def pause_until(self, moment: float) -> None:
        """Send nothing before `moment`, then one per interval again, without a burst."""
        self.paused_until = max(self.paused_until, moment)
        self.due = due_after_pause(self.due, moment, interval=self.interval, burst=self.burst)
