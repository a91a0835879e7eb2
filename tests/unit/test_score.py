"""Scoring arithmetic: severity, relevance, source weight and novelty, and ticker relevance."""

import pytest

from service.rules.entities import code_is_ambiguous, relevance, ticker_codes
from service.rules.score import rule_score, unmatched_score


@pytest.mark.parametrize(
    ("severity", "relevance_", "weight", "novelty", "expected"),
    [
        ("critical", 0, 1.0, 100, 81),
        ("critical", 100, 1.0, 100, 95),
        ("critical", 0, 0.6, 100, 68),
        ("high", 0, 1.0, 100, 68),
        ("high", 0, 0.5, 100, 54),
        ("medium", 100, 0.6, 100, 50),
        ("medium", 0, 0.8, 100, 47),
        ("low", 0, 1.0, 100, 34),
        ("critical", 100, 1.0, 56, 53),
        ("critical", 100, 1.0, 0, 0),
        ("critical", 250, 7.0, 100, 95),
    ],
)
def test_rule_score(severity, relevance_, weight, novelty, expected):
    """Severity sets the scale; missing relevance, weaker sources and repeats lower it; inputs are clamped."""
    assert rule_score(severity, relevance_, weight, novelty) == expected


@pytest.mark.parametrize(
    ("relevance_", "weight", "expected"), [(0, 1.0, 0), (100, 1.0, 20), (100, 0.6, 17), (45, 0.9, 9)]
)
def test_unmatched_score_stays_low(relevance_, weight, expected):
    """An article no rule fired on scores at most 20, from the companies it names."""
    assert unmatched_score(relevance_, weight) == expected


@pytest.mark.parametrize(
    ("segment", "count", "expected"),
    [(0, 1, 100), (0, 5, 100), (1, 1, 55), (1, 3, 75), (1, 9, 85), (2, 1, 30), (2, 3, 50), (2, 20, 70)],
)
def test_relevance(segment, count, expected):
    """Headline 100; first sentence 55 and up to 85; body 30 and up to 70; repeats add 10 each."""
    assert relevance(segment, count) == expected


@pytest.mark.parametrize(
    ("symbol", "codes"),
    [("MP", ["MP"]), ("LYC.AX", ["LYC.AX", "LYC"]), ("600111.SS", ["600111.SS", "600111"]), ("F", ["F"])],
)
def test_ticker_codes(symbol, codes):
    """Exchange suffixes are dropped for the code news prints."""
    assert ticker_codes(symbol) == codes


@pytest.mark.parametrize(
    ("code", "ambiguous"),
    [("MP", True), ("GM", True), ("F", True), ("USAR", False), ("LYC", False), ("6680", True), ("600111", False),
     ("LYC.AX", False)],
)
def test_short_codes_need_context(code, ambiguous):
    """Two-letter codes and short numbers are words or figures too."""
    assert code_is_ambiguous(code) is ambiguous
