"""What the rules conclude about an article: the contract between rules, alerts and digests."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Direction = Literal["bullish", "bearish", "neutral"]
DIRECTIONS: tuple[Direction, ...] = ("bullish", "bearish", "neutral")

#: Severities from least to most urgent; a rule names one, an assessment keeps the highest.
SEVERITIES: tuple[str, ...] = ("low", "medium", "high", "critical")

#: The default event taxonomy (DOMAIN.md). The ids are part of the interface.
EVENT_TYPES: tuple[str, ...] = (
    "export_control_new",
    "export_control_eased",
    "truce",
    "tariff_up",
    "tariff_down",
    "entity_list",
    "gov_funding",
    "supply_disruption",
    "partnership",
    "corporate",
    "legal",
    "price_move",
)


@dataclass(frozen=True)
class Source:
    """Where an article came from, as scoring needs it."""

    name: str
    kind: str = "sector"
    weight: float = 0.8


@dataclass(frozen=True)
class Assessment:
    """The rules' verdict on one article."""

    event_types: tuple[str, ...]
    score: int  # 0-100
    severity: str | None  # the highest severity among the rules that fired; None if none fired
    alert: bool  # would this interrupt a trader under the loaded rules
    rules: tuple[str, ...]  # ids of the rules that fired, strongest first
    matched: tuple[str, ...]  # the phrases and terms that matched, so a trader can see why
    impacts: Mapping[str, Direction] = field(default_factory=dict)  # ticker -> direction
    relevance: Mapping[str, int] = field(default_factory=dict)  # ticker -> 0-100
    #: Slack channels the alerting rules route to; empty means the default channel.
    channels: tuple[str, ...] = ()
    #: Repeats of the same rule and tickers inside this window go to the first alert's thread.
    throttle_seconds: int = 1800
    novelty: int = 100

    @property
    def tickers(self) -> tuple[str, ...]:
        return tuple(sorted(self.impacts))


NOT_RELEVANT = Assessment(event_types=(), score=0, severity=None, alert=False, rules=(), matched=())
