"""The card every alert layout is drawn from: which tickers a trader sees first."""

from __future__ import annotations

import pytest

from service.alerts.card import alert_card
from tests.unit.test_alert_payload import an_alert


@pytest.mark.parametrize(
    ("impacts", "relevance", "expected"),
    [
        # Named companies first, most relevant first.
        ({"MP": "bullish", "USAR": "bullish", "F": "bearish"}, {"USAR": 90, "MP": 40}, ["USAR", "MP", "F"]),
        # Then the moved tickers in watchlist order, the neutral ones last.
        (
            {"600111.SS": "neutral", "MP": "bullish", "LYC.AX": "bullish", "F": "bearish", "REMX": "neutral"},
            {},
            ["MP", "LYC.AX", "F", "600111.SS", "REMX"],
        ),
        ({"GM": "bullish", "MP": "neutral"}, {"MP": 80}, ["MP", "GM"]),
    ],
)
def test_tickers_named_first_then_moved_then_neutral(impacts, relevance, expected):
    """A trader reads the named companies first, then what moves, in the watchlist's order."""
    card = alert_card(an_alert(impacts=impacts, relevance=relevance))
    assert [line.ticker for line in card.tickers] == expected


def test_the_deciding_frame_leads_the_why_so_a_cut_list_keeps_it():
    """The frame line comes first among the matched phrases, however many precede it."""
    from service.alerts.message import why_it_fired

    phrases = tuple(f"phrase number {n}" for n in range(200))
    card = alert_card(an_alert(matched=(*phrases, "frame: China suspends export_control (down) on gallium")))
    assert card.matched[0] == "frame: China suspends export_control (down) on gallium"
    assert "frame: China suspends" in why_it_fired(card)
