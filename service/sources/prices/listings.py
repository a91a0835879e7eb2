"""Which exchange and currency a Yahoo symbol trades on, read from its suffix.

Phase A takes the ticker list as a parameter; the watchlists will supply it. The suffix decides
the exchange (and so the hours, holidays and time zone) and the trading currency.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from service.domain.prices import Listing

#: Yahoo suffix -> (our exchange code, trading currency). No suffix means a US listing.
SUFFIXES: dict[str, tuple[str, str]] = {
    "": ("US", "USD"),
    ".TO": ("TSX", "CAD"),
    ".AX": ("ASX", "AUD"),
    ".HK": ("HKEX", "HKD"),
    ".SS": ("SSE", "CNY"),
    ".SZ": ("SZSE", "CNY"),
}

#: Issuers whose filings use another currency than their quotes.
REPORTING_CURRENCIES: dict[str, str] = {
    "6680.HK": "CNY",  # JL Mag's H shares trade in HKD; the company reports in CNY
}

_SYMBOL = re.compile(r"^(?P<root>[A-Z0-9][A-Z0-9-]{0,11})(?P<suffix>\.[A-Z]{1,3})?$")


class UnknownListing(ValueError):
    """A ticker we cannot place on an exchange."""


def listing_for(ticker: str) -> Listing:
    """The listing of a Yahoo symbol such as "MP", "LYC.AX" or "600111.SS"."""
    symbol = ticker.strip().upper()
    match = _SYMBOL.match(symbol)
    if not match:
        raise UnknownListing(
            f"{ticker!r} is not a Yahoo symbol (letters, digits, '-', then a suffix like .AX)"
        )
    suffix = match.group("suffix") or ""
    if suffix not in SUFFIXES:
        known = ", ".join(s for s in SUFFIXES if s)
        raise UnknownListing(f"unknown exchange suffix {suffix!r} in {symbol}; known: {known} or none for US")
    exchange, currency = SUFFIXES[suffix]
    return Listing(symbol, exchange, currency, REPORTING_CURRENCIES.get(symbol))


def listings_for(tickers: Iterable[str]) -> tuple[list[Listing], dict[str, str]]:
    """Listings for the tickers we can place, and the reason for each we cannot (by ticker)."""
    listings: dict[str, Listing] = {}
    problems: dict[str, str] = {}
    for ticker in tickers:
        try:
            listing = listing_for(ticker)
        except UnknownListing as exc:
            problems[ticker.strip()] = str(exc)
            continue
        listings.setdefault(listing.ticker, listing)
    return list(listings.values()), problems
