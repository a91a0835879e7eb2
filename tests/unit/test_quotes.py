"""A news alert's price snapshot: the last price and the day's change, or why there is none."""

from datetime import UTC, date, datetime

import pytest

from service.domain.prices import Listing
from service.domain.price_moves import PriceHistory
from service.domain.quotes import Quote, quote_at
from tests.unit.test_price_moves import at, daily, five_minute

MP = Listing("MP", "US", "USD")
# Closes 98, 99, 100 on 2025-10-06..08; on 2025-10-09 5-minute closes 104, 105, 103 from the 13:30 open.
TODAY = PriceHistory.of("MP", [*daily([98.0, 99.0, 100.0]), *five_minute([104.0, 105.0, 103.0], first_open=104.0)])
QUIET = PriceHistory.of("MP", daily([100.0] * 5, volumes=[1000, 1000, 0, 0, 0]))


@pytest.mark.parametrize(
    ("history", "when", "expected"),
    [
        # Trading: the last final bar against yesterday's close, "today".
        (TODAY, at(12), Quote("MP", "USD", 105.0, at(10), date(2025, 10, 9), 5.0, live=True)),
        # Before the first bar is final: yesterday's close, which is not today's price.
        (TODAY, at(2), Quote("MP", "USD", 100.0, datetime(2025, 10, 8, 20, tzinfo=UTC), date(2025, 10, 8), 1.0101, live=False)),
        # After the close: the session's last price, no longer live.
        (TODAY, datetime(2025, 10, 9, 21, tzinfo=UTC), Quote("MP", "USD", 103.0, at(15), date(2025, 10, 9), 3.0, live=False)),
        # Two sessions without bars: still shown (one more would make it stale).
        (TODAY, datetime(2025, 10, 14, 15, tzinfo=UTC), Quote("MP", "USD", 103.0, at(15), date(2025, 10, 9), 3.0, live=False)),
        # Three completed sessions since the last price: stale, and no price is shown.
        (TODAY, datetime(2025, 10, 15, 15, tzinfo=UTC), Quote("MP", "USD", missing="stale 3 sessions (last price 2025-10-09)")),
        # Suspended: flat bars with zero volume.
        (QUIET, at(-60), Quote("MP", "USD", missing="stale: zero volume for 3 sessions (since 2025-10-06)")),
        # Nothing stored at all, or nothing final yet.
        (PriceHistory("MP"), at(10), Quote("MP", "USD", missing="no bars stored")),
        (TODAY, datetime(2025, 10, 1, tzinfo=UTC), Quote("MP", "USD", missing="no bars stored")),
        # Today's bars but no earlier close: the price, and the change unknown.
        (PriceHistory.of("MP", five_minute([104.0, 105.0])), at(10), Quote("MP", "USD", 105.0, at(10), date(2025, 10, 9), None, live=True)),
    ],
)
def test_quote_at(history, when, expected):
    """Only bars final by the alert count; stale or missing prices say why instead of showing a number."""
    quote = quote_at(history, MP, when, stale_sessions=3)
    if expected.change_pct is not None:
        assert quote.change_pct == pytest.approx(expected.change_pct, abs=1e-4)
        quote = Quote(**{**quote.__dict__, "change_pct": expected.change_pct})
    assert quote == expected


@pytest.mark.parametrize(
    "quote",
    [
        Quote("MP", "USD", 105.0, at(10), date(2025, 10, 9), 5.0, live=True),
        Quote("6680.HK", "HKD", 40.5, at(10), date(2025, 10, 9), None),
        Quote("NB", "USD", missing="stale: zero volume for 3 sessions (since 2025-10-06)"),
    ],
)
def test_a_quote_survives_the_payload(quote):
    """What the outbox stores reads back as the same quote."""
    assert Quote.from_dict(quote.ticker, quote.to_dict()) == quote
