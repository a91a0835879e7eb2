"""Yahoo symbols placed on exchanges by suffix, with their trading and reporting currencies."""

import re

import pytest

from service.domain.prices import Listing
from service.sources.prices.listings import UnknownListing, listing_for, listings_for


@pytest.mark.parametrize(
    ("ticker", "expected"),
    [
        ("MP", Listing("MP", "US", "USD")),
        ("remx", Listing("REMX", "US", "USD")),
        ("NEO.TO", Listing("NEO.TO", "TSX", "CAD")),
        ("LYC.AX", Listing("LYC.AX", "ASX", "AUD")),
        ("6680.HK", Listing("6680.HK", "HKEX", "HKD", reporting_currency="CNY")),
        ("600111.SS", Listing("600111.SS", "SSE", "CNY")),
        ("300748.SZ", Listing("300748.SZ", "SZSE", "CNY")),
        ("BRK-B", Listing("BRK-B", "US", "USD")),
    ],
)
def test_listing_for(ticker, expected):
    """The suffix decides the exchange and currency; 6680.HK reports in CNY."""
    assert listing_for(ticker) == expected


@pytest.mark.parametrize(
    ("ticker", "message"),
    [
        ("VOD.L", "unknown exchange suffix '.L' in VOD.L; known: .TO, .AX, .HK, .SS, .SZ or none for US"),
        ("", "'' is not a Yahoo symbol"),
        ("MP LYC", "'MP LYC' is not a Yahoo symbol"),
        ("^GSPC", "'^GSPC' is not a Yahoo symbol"),
    ],
)
def test_unknown_listings_say_why(ticker, message):
    """A symbol we cannot place is refused with the reason."""
    with pytest.raises(UnknownListing, match="^" + re.escape(message)):
        listing_for(ticker)


def test_listings_for_keeps_the_good_and_reports_the_bad():
    """One unplaceable ticker is reported by name while the others are listed once each."""
    listings, problems = listings_for(["MP", "VOD.L", "mp", "LYC.AX"])
    assert [listing.ticker for listing in listings] == ["MP", "LYC.AX"]
    assert list(problems) == ["VOD.L"]
