"""When a digest that failed to go out is tried again, and when it is given up."""

import datetime as dt

import pytest

from service.pipeline.digest import MAX_PERMANENT_ATTEMPTS, digest_message_id, next_attempt_after_failure

NOW = dt.datetime(2026, 11, 23, 12, 30, tzinfo=dt.UTC)
END_OF_DAY = dt.datetime(2026, 11, 24, 5, 0, tzinfo=dt.UTC)
M = dt.timedelta(minutes=1)


@pytest.mark.parametrize(
    ("attempts", "temporary", "jitter", "expires_at", "expected"),
    [
        (1, True, 0.5, END_OF_DAY, NOW + M),  # first failure: a minute
        (2, True, 0.5, END_OF_DAY, NOW + 2 * M),
        (3, True, 0.5, END_OF_DAY, NOW + 4 * M),
        (10, True, 0.5, END_OF_DAY, NOW + 30 * M),  # capped at half an hour
        (3, True, 0.0, END_OF_DAY, NOW + 3 * M),  # jitter spreads instances: 75%..125%
        (3, True, 1.0, END_OF_DAY, NOW + 5 * M),
        (1, True, 0.5, NOW + 30 * dt.timedelta(seconds=1), None),  # the day ends first: give up
        (1, False, 0.5, END_OF_DAY, NOW + M),  # a 5xx is tried again...
        (MAX_PERMANENT_ATTEMPTS - 1, False, 0.5, END_OF_DAY, NOW + 2 * M),
        (MAX_PERMANENT_ATTEMPTS, False, 0.5, END_OF_DAY, None),  # ...but only a few times
        (MAX_PERMANENT_ATTEMPTS, True, 0.5, END_OF_DAY, NOW + 4 * M),  # 4xx keeps going
    ],
)
def test_next_attempt_after_failure(attempts, temporary, jitter, expires_at, expected):
    """Temporary failures back off until the day ends; permanent ones stop after a few tries."""
    assert next_attempt_after_failure(NOW, attempts, temporary=temporary, expires_at=expires_at, jitter=jitter) == expected


def test_message_ids_fit_on_one_header_line_and_differ():
    """A digest's Message-ID names its day and the sender's domain, is unique, and is never folded."""
    from email.headerregistry import Address

    sender = Address("reewatch", addr_spec="reewatch@metals-desk.yourfund.example")
    first, second = (digest_message_id(dt.date(2026, 11, 23), sender) for _ in range(2))
    assert first != second
    assert first.startswith("<digest.20261123.") and first.endswith("@metals-desk.yourfund.example>")
    assert len("Message-ID: " + first) <= 78
