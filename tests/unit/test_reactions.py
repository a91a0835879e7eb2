"""A follow-up's numbers: the move since the alert, judged against the rule's direction."""

from datetime import UTC, datetime

import pytest

from service.domain.price_moves import PriceHistory
from service.domain.reactions import Reaction, expectation, reaction_since
from tests.unit.test_price_moves import at, daily, five_minute

# Yesterday closed at 100; today's 5-minute closes: 104, 105, 103, 101, 99, 98 from the 13:30 open.
TODAY = PriceHistory.of(
    "MP", [*daily([98.0, 99.0, 100.0]), *five_minute([104.0, 105.0, 103.0, 101.0, 99.0, 98.0], first_open=104.0)]
)


@pytest.mark.parametrize(
    ("direction", "change", "expected"),
    [
        ("bullish", 2.0, "as_expected"),
        ("bullish", -2.0, "against"),
        ("bearish", -2.0, "as_expected"),
        ("bearish", 0.3, "against"),
        ("bearish", 0.04, "flat"),
        ("bullish", -0.049, "flat"),
        ("neutral", 5.0, "no_expectation"),
        ("neutral", 0.0, "no_expectation"),
    ],
)
def test_expectation(direction, change, expected):
    """Bullish wants up, bearish down; a move under 0.05% proves nothing; neutral expects nothing."""
    assert expectation(direction, change) == expected


@pytest.mark.parametrize(
    ("direction", "alert_at", "until", "traded", "expected"),
    [
        # 105 at the alert (13:40 bar), 99 fifteen minutes later: down 5.71%, what a bearish call wanted.
        ("bearish", at(11), at(26), True, Reaction("MP", "bearish", "USD", 105.0, 99.0, at(25), -5.714, "as_expected")),
        ("bullish", at(11), at(26), True, Reaction("MP", "bullish", "USD", 105.0, 99.0, at(25), -5.714, "against")),
        # The market was shut the whole time: said plainly, no 0%.
        ("bullish", at(11), at(26), False, Reaction("MP", "bullish", "USD", note="market closed since the alert")),
        # Open, but no bar since the alert (a feed outage): missing data, not calm.
        ("bullish", at(31), at(46), True, Reaction("MP", "bullish", "USD", note="no bars since the alert although the market was open")),
        # No price at the alert at all.
        ("bullish", datetime(2025, 10, 1, tzinfo=UTC), at(26), True, Reaction("MP", "bullish", "USD", note="no price at the time of the alert")),
    ],
)
def test_reaction_since(direction, alert_at, until, traded, expected):
    """The move from the last price at the alert to the last price at the due time, or why there is none."""
    reaction = reaction_since(TODAY, direction=direction, currency="USD", alert_at=alert_at, until=until, traded=traded)
    if expected.change_pct is not None:
        assert reaction.change_pct == pytest.approx(expected.change_pct, abs=1e-3)
        reaction = Reaction(**{**reaction.__dict__, "change_pct": expected.change_pct})
    assert reaction == expected


def test_a_reaction_never_uses_bars_after_its_due_time():
    """Bars that end after the due time are ignored, however late the follow-up is worked out."""
    reaction = reaction_since(TODAY, direction="bearish", currency="USD", alert_at=at(11), until=at(16), traded=True)
    assert (reaction.start, reaction.end) == (105.0, 103.0)
