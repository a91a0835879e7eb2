"""What an answer from Slack means for the row, and when to try again. Pure functions."""

from __future__ import annotations

from service.errors import DeliveryDeferred, DeliveryError, DeliveryRejected, OutcomeUnknown, SlackRateLimited

#: Slack error codes that describe a hiccup on Slack's side. Slack warns that part of the
#: operation may have succeeded before such an error, so they count as an unknown outcome.
TRANSIENT_ERRORS = frozenset({"internal_error", "fatal_error", "service_unavailable", "request_timeout"})

#: When Slack sends 429 without a usable Retry-After.
DEFAULT_RETRY_AFTER = 5.0
#: Retry-After is honoured up to this many seconds; past it we still wait, but no longer.
MAX_RETRY_AFTER = 3600.0


def retry_delay(attempt: int, *, base: float, cap: float, jitter: float, retry_after: float | None = None) -> float:
    """Seconds before the next attempt after `attempt` failed attempts (1 = the first failed).

    Exponential from `base`, capped at `cap`, with "equal jitter": a `jitter` in [0, 1) picks a
    point between half the nominal delay and all of it. A server's Retry-After is honoured
    exactly, without jitter: the rows of a held channel must come due together to keep their
    order, and the channel's limiter spaces them anyway.
    """
    jitter = min(max(jitter, 0.0), 1.0)
    if retry_after is not None:
        return min(max(retry_after, 0.0), MAX_RETRY_AFTER)
    exponent = min(max(attempt - 1, 0), 30)
    nominal = min(cap, base * 2**exponent)
    return nominal / 2 + nominal / 2 * jitter


def parse_retry_after(value: str | None) -> float:
    """Retry-After in seconds (Slack sends whole seconds); the default when absent or garbled."""
    if value is None:
        return DEFAULT_RETRY_AFTER
    try:
        seconds = float(value.strip())
    except ValueError:
        return DEFAULT_RETRY_AFTER
    if seconds != seconds or seconds < 0:  # NaN or negative
        return DEFAULT_RETRY_AFTER
    return min(seconds, MAX_RETRY_AFTER)


def classify_answer(status: int, error: str | None, retry_after: str | None = None) -> DeliveryError:
    """The error for an HTTP status and Slack `error` code that were not a success."""
    if status == 429 or error == "ratelimited":
        return SlackRateLimited(f"rate limited (HTTP {status}); retry after {retry_after or '?'}s", parse_retry_after(retry_after))
    if status >= 500:
        return OutcomeUnknown(f"HTTP {status}" + (f": {error}" if error else ""))
    if error in TRANSIENT_ERRORS:
        return OutcomeUnknown(error)
    if error:
        return DeliveryRejected(error)
    if status == 200:
        return DeliveryRejected("Slack answered without ok and without an error code")
    return DeliveryDeferred(f"HTTP {status} without a Slack error code")
