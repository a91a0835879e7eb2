"""How much an article matters, 0-100. Pure arithmetic, kept apart so it can be read and tested.

A fired rule's score starts from its severity and is scaled by three factors:

- watchlist relevance: how prominently the article names a watchlist company (0-100, see
  `entities.relevance`): a sector-wide story with no company loses 15%, a headline company none;
- source weight: official sources (1.0) count fully, aggregators (0.6) lose 16%, blogs (0.5) 20%;
- novelty: the first story about an event is 100; repeats decay (the story issue fills it in).

An article no rule fires on still gets a small score from its watchlist relevance alone, always
below any alert threshold a rule can sensibly set, so digests can rank company mentions.
"""

from __future__ import annotations

from service.domain.scoring import SEVERITIES

SEVERITY_POINTS: dict[str, int] = {"low": 40, "medium": 60, "high": 80, "critical": 95}
SEVERITY_RANK: dict[str, int] = {name: rank for rank, name in enumerate(SEVERITIES)}
#: The most an article that fired no rule can score.
UNMATCHED_CEILING = 20


def rule_score(severity: str, relevance: int, source_weight: float, novelty: int = 100) -> int:
    """The score an article earns from one fired rule."""
    relevance_factor = 0.85 + 0.15 * _clamp(relevance, 0, 100) / 100
    source_factor = 0.6 + 0.4 * _clamp(source_weight, 0.0, 1.0)
    value = SEVERITY_POINTS[severity] * relevance_factor * source_factor * _clamp(novelty, 0, 100) / 100
    return int(round(_clamp(value, 0, 100)))


def unmatched_score(relevance: int, source_weight: float, novelty: int = 100) -> int:
    """The score of an article no rule fired on: its watchlist relevance, scaled well down."""
    value = UNMATCHED_CEILING * _clamp(relevance, 0, 100) / 100 * (0.6 + 0.4 * _clamp(source_weight, 0.0, 1.0))
    return int(round(value * _clamp(novelty, 0, 100) / 100))


def _clamp(value, low, high):
    return max(low, min(high, value))
