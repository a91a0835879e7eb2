"""How the market answered an alert: each ticker's move since the alert, and whether it went the way
the rule expected. When there is no move to report (the market was closed, bars are missing) the
reaction says so instead of showing 0%."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from service.domain.price_moves import PriceHistory, last_price
from service.domain.scoring import Direction

Verdict = Literal["as_expected", "against", "flat", "no_expectation"]
#: Moves smaller than this (in percent) are flat: neither side can claim them.
FLAT_PCT = 0.05


@dataclass(frozen=True)
class Reaction:
    """One ticker's move from the alert to a later instant, judged against the alert's direction."""

    ticker: str
    direction: Direction
    currency: str | None = None
    start: float | None = None
    end: float | None = None
    #: When `end` became the latest price.
    end_at: datetime | None = None
    change_pct: float | None = None
    verdict: Verdict | None = None
    #: Why there are no numbers ("market closed since the alert"); None when there are.
    note: str | None = None


def expectation(direction: Direction, change_pct: float) -> Verdict:
    """Bullish wants up, bearish wants down; neutral expects nothing; a flat move proves nothing."""
    if direction == "neutral":
        return "no_expectation"
    if abs(change_pct) < FLAT_PCT:
        return "flat"
    went_up = change_pct > 0
    return "as_expected" if went_up == (direction == "bullish") else "against"


def reaction_since(
    history: PriceHistory,
    *,
    direction: Direction,
    currency: str | None,
    alert_at: datetime,
    until: datetime,
    traded: bool,
) -> Reaction:
    """The move from the last price known at `alert_at` to the last known at `until`.

    `traded` says whether the ticker's exchange was trading at any moment in between: if not,
    there can be no move and the reaction says the market was closed.
    """
    ticker = history.ticker
    start = last_price(history, alert_at)
    if not traded:
        return Reaction(ticker, direction, currency, note="market closed since the alert")
    if start is None:
        return Reaction(ticker, direction, currency, note="no price at the time of the alert")
    end = last_price(history, until)
    if end is None or end.at <= alert_at:
        return Reaction(ticker, direction, currency, note="no bars since the alert although the market was open")
    change = (end.price / start.price - 1.0) * 100.0
    return Reaction(
        ticker,
        direction,
        currency,
        start=start.price,
        end=end.price,
        end_at=end.at,
        change_pct=change,
        verdict=expectation(direction, change),
    )
