"""What Slack's answers mean for an outbox row, and how long to wait before the next attempt."""

import pytest

from service.delivery.retry import classify_answer, parse_retry_after, retry_delay
from service.errors import DeliveryDeferred, DeliveryRejected, OutcomeUnknown, SlackRateLimited


@pytest.mark.parametrize(
    ("attempt", "jitter", "retry_after", "expected"),
    [
        (1, 0.0, None, 1.0),  # half of base 2s with no jitter
        (1, 1.0, None, 2.0),  # all of it with full jitter
        (1, 0.5, None, 1.5),
        (2, 1.0, None, 4.0),
        (3, 1.0, None, 8.0),
        (6, 1.0, None, 64.0),
        (10, 1.0, None, 600.0),  # capped
        (10, 0.0, None, 300.0),  # half the cap at least
        (500, 1.0, None, 600.0),  # no overflow however many attempts
        (0, 1.0, None, 2.0),  # attempt numbers below one count as the first
        (1, -3.0, None, 1.0),  # jitter is clamped into [0, 1]
        (1, 7.0, None, 2.0),
        (3, 0.0, 30.0, 30.0),  # Retry-After is honoured exactly,
        (3, 1.0, 30.0, 30.0),  # without jitter
        (3, 0.5, 0.0, 0.0),
        (3, 0.0, 1e9, 3600.0),  # but never more than an hour
    ],
)
def test_retry_delay(attempt, jitter, retry_after, expected):
    """Exponential from base 2s, capped at 600s, with equal jitter; Retry-After, exactly, wins over back-off."""
    assert retry_delay(attempt, base=2.0, cap=600.0, jitter=jitter, retry_after=retry_after) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("header", "expected"),
    [("30", 30.0), (" 2 ", 2.0), ("1.5", 1.5), (None, 5.0), ("soon", 5.0), ("-4", 5.0), ("nan", 5.0), ("99999", 3600.0)],
)
def test_parse_retry_after(header, expected):
    """Seconds from Retry-After; a missing or garbled header falls back to 5 seconds."""
    assert parse_retry_after(header) == expected


@pytest.mark.parametrize(
    ("status", "error", "retry_after", "kind", "reason", "maybe_delivered"),
    [
        (429, "ratelimited", "30", SlackRateLimited, "rate limited (HTTP 429); retry after 30s", False),
        (200, "ratelimited", None, SlackRateLimited, "rate limited (HTTP 200); retry after ?s", False),
        (500, None, None, OutcomeUnknown, "HTTP 500", True),
        (503, "service_unavailable", None, OutcomeUnknown, "HTTP 503: service_unavailable", True),
        (200, "internal_error", None, OutcomeUnknown, "internal_error", True),
        (200, "fatal_error", None, OutcomeUnknown, "fatal_error", True),
        (200, "invalid_auth", None, DeliveryRejected, "invalid_auth", False),
        (200, "not_authed", None, DeliveryRejected, "not_authed", False),
        (200, "token_revoked", None, DeliveryRejected, "token_revoked", False),
        (200, "account_inactive", None, DeliveryRejected, "account_inactive", False),
        (200, "channel_not_found", None, DeliveryRejected, "channel_not_found", False),
        (200, "not_in_channel", None, DeliveryRejected, "not_in_channel", False),
        (200, "is_archived", None, DeliveryRejected, "is_archived", False),
        (200, "msg_too_long", None, DeliveryRejected, "msg_too_long", False),
        (200, "invalid_blocks", None, DeliveryRejected, "invalid_blocks", False),
        (200, "missing_scope", None, DeliveryRejected, "missing_scope", False),
        (200, None, None, DeliveryRejected, "Slack answered without ok and without an error code", False),
        (404, None, None, DeliveryDeferred, "HTTP 404 without a Slack error code", False),
    ],
)
def test_classify_answer(status, error, retry_after, kind, reason, maybe_delivered):
    """429 waits, 5xx and Slack's own hiccups may have posted, everything else Slack says is final."""
    result = classify_answer(status, error, retry_after)
    assert type(result) is kind
    assert (result.reason, result.maybe_delivered) == (reason, maybe_delivered)
    assert result.retryable is (kind is not DeliveryRejected)


def test_rate_limited_carries_its_wait():
    """The Retry-After value travels with the error to the lane and the row."""
    assert classify_answer(429, "ratelimited", "12").retry_after == 12.0
