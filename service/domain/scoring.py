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


#: What a frame's instrument is: the kind of policy lever or market fact a clause is about.
INSTRUMENTS: tuple[str, ...] = (
    "export_control",  # export controls, licences, bans, end-user rules
    "tariff",  # tariffs, duties, levies
    "entity_list",  # the Entity List and its affiliates rule, China's unreliable entity and control lists
    "funding",  # equity stakes, loans, grants, price floors, offtakes, stockpiles
    "agreement",  # truces, pauses, frameworks, pacts, deals between governments
    "permit",  # export licences granted (up) or withheld (down): permission, not a requirement
    "supply",  # shipments, production, exports as a flow of material
    "price",  # the price of a material or a share
    "court",  # a ruling or a case
)
#: The instruments a government tightens or eases on its own, the levers of the trade fight:
#: which government moved one, and which way, tells one event from another.
RESTRICTIONS: frozenset[str] = frozenset({"export_control", "tariff", "entity_list"})

#: A frame's polarity: does the clause make its instrument bigger (more controls, higher tariffs,
#: more money, a deal made, more supply, a higher price) or smaller.
POLARITIES: tuple[str, ...] = ("up", "down")


@dataclass(frozen=True)
class Frame:
    """Who does what to which instrument on what, read from one clause of a headline or first
    sentence: "China (actor) suspends (action) its export controls (instrument, down) on gallium
    (object)". Nested verbs are resolved: "extends the suspension of" is down, "lets the pause
    lapse" is up again."""

    actor: str  # a country ("China"), or a company; "" when the clause names none
    action: str  # the verb or verb phrase as the clause has it, lemmatised: "suspend", "extend pause"
    polarity: str  # "up" or "down" (POLARITIES)
    instrument: str  # one of INSTRUMENTS
    object: str  # what it bears on: "gallium, germanium", "rare earths", "MP Materials"; "" if unsaid

    def as_json(self) -> dict[str, str]:
        """The `frame` entries of `scan --format json`: these names are a contract."""
        return {
            "actor": self.actor,
            "action": self.action,
            "polarity": self.polarity,
            "instrument": self.instrument,
            "object": self.object,
        }


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
    #: The event frames read from the headline and first sentence, the one that decided the
    #: event type first; empty when none could be read (the rules' phrases decided alone).
    frames: tuple[Frame, ...] = ()

    @property
    def tickers(self) -> tuple[str, ...]:
        return tuple(sorted(self.impacts))


NOT_RELEVANT = Assessment(event_types=(), score=0, severity=None, alert=False, rules=(), matched=())
