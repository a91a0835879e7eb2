"""What a ticker was worth when an alert was raised: its last price and the day's change, or why
there is no price to show. A stale price is not shown as a price: a suspended name's last close
would read as calm."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from service.domain.markets import completed_sessions, current_session
from service.domain.price_moves import PriceHistory, day_change, last_price
from service.domain.prices import Listing


@dataclass(frozen=True)
class Quote:
    """A ticker's price at an instant, or the reason it has none (`missing`)."""

    ticker: str
    currency: str | None = None
    price: float | None = None
    #: When `price` became the latest: the end of the bar it closed.
    at: datetime | None = None
    #: The exchange-local trading day of that bar.
    session: date | None = None
    #: Change from the previous session's close, in percent; None when no earlier close is stored.
    change_pct: float | None = None
    #: The price is from the session trading at the instant ("today"), not an earlier close.
    live: bool = False
    #: Why there is no price to show ("stale 3 sessions (last price 2025-10-17)"); None when there is.
    missing: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, for the alert payload."""
        if self.missing is not None:
            return {"currency": self.currency, "missing": self.missing}
        return {
            "currency": self.currency,
            "price": self.price,
            "at": self.at.isoformat() if self.at else None,
            "session": self.session.isoformat() if self.session else None,
            "change_pct": self.change_pct,
            "live": self.live,
        }

    @classmethod
    def from_dict(cls, ticker: str, data: Mapping[str, Any]) -> Quote:
        """Read what `to_dict` wrote (ValueError if a field is not what it should be)."""
        missing = data.get("missing")
        if missing is not None or data.get("price") is None:
            return cls(ticker, data.get("currency"), missing=str(missing or "no price"))
        at, session, change = data.get("at"), data.get("session"), data.get("change_pct")
        return cls(
            ticker,
            data.get("currency"),
            price=float(data["price"]),
            at=datetime.fromisoformat(at) if at else None,
            session=date.fromisoformat(session) if session else None,
            change_pct=float(change) if change is not None else None,
            live=bool(data.get("live", False)),
        )


def quote_at(history: PriceHistory, listing: Listing, at: datetime, *, stale_sessions: int) -> Quote:
    """The last price known at `at` and its change since the previous close, unless it is stale.

    Stale: the exchange completed `stale_sessions` sessions after the last stored price, or the
    last `stale_sessions` daily bars traded nothing (suspended or delisted). Only bars final by
    `at` count.
    """
    currency = listing.currency
    point = last_price(history, at)
    if point is None:
        return Quote(listing.ticker, currency, missing="no bars stored")
    completed = [s.day for s in completed_sessions(listing.exchange, at, stale_sessions)]
    missed = [day for day in completed if day > point.session]
    if len(missed) >= stale_sessions:
        return Quote(
            listing.ticker,
            currency,
            missing=f"stale {len(missed)} sessions (last price {point.session.isoformat()})",
        )
    daily = [b for b in history.daily if b.end <= at][-stale_sessions:]
    if len(daily) == stale_sessions and all(b.volume == 0 for b in daily):
        return Quote(
            listing.ticker,
            currency,
            missing=f"stale: zero volume for {stale_sessions} sessions (since {daily[0].session.isoformat()})",
        )
    change = day_change(history, at)
    trading = current_session(listing.exchange, at)
    return Quote(
        listing.ticker,
        currency,
        price=point.price,
        at=point.at,
        session=point.session,
        change_pct=change.change_pct if change is not None else None,
        live=trading is not None and trading.day == point.session,
    )
