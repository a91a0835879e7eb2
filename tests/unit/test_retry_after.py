"""Retry-After in both of its forms."""

from datetime import UTC, datetime

import pytest

from service.sources.fetcher import parse_retry_after

NOW = datetime(2026, 11, 21, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (" 5 ", 5.0),
        ("0", 0.0),
        ("Sat, 21 Nov 2026 12:10:00 GMT", 600.0),
        ("Sat, 21 Nov 2026 11:00:00 GMT", 0.0),  # in the past: retry now
        ("999999", 86400.0),  # capped at a day
        ("soon", None),
        ("-5", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(value, expected):
    """Delta-seconds and HTTP-dates both become seconds from now; nonsense is ignored."""
    assert parse_retry_after(value, NOW) == expected
