"""The shape of the rule files traders edit: watchlists.yaml, terms.yaml and alerts/*.yaml.

Checked strictly by `service.yamlfile`: an unknown key is an error with a did-you-mean
suggestion, and every problem carries file:line:column (and the rule id inside alert files).
The conditions under a rule's `match:` are checked by `service.rules.conditions`, which knows
the phrases, word lists and entities they name.
"""

from __future__ import annotations

import difflib
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from service.domain.feeds import parse_interval
from service.domain.scoring import EVENT_TYPES, SEVERITIES, Direction

NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
RULE_ID_PATTERN = r"^[a-z0-9][a-z0-9_.-]*$"
DEFAULT_THROTTLE_SECONDS = 1800
#: Price alerts on one ticker within this long of the first share its thread (a busy session).
DEFAULT_PRICE_THROTTLE_SECONDS = 4 * 3600
DEFAULT_MIN_SCORE = 50
RULE_KINDS = ("news", "price")
#: Price moves a rule may ask for, in percent: anything from a tick to a ten-bagger.
MAX_MOVE_PCT = 1000.0


def suggest(value: str, choices: list[str] | tuple[str, ...]) -> str:
    """'; did you mean X?' for a near miss among `choices`, else the list of choices."""
    close = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f"; expected one of: {', '.join(choices)}"


def _event_type(value: str) -> str:
    if value not in EVENT_TYPES:
        raise ValueError(f"unknown event type {value!r}{suggest(value, EVENT_TYPES)}")
    return value


def _severity(value: str) -> str:
    if value not in SEVERITIES:
        raise ValueError(f"unknown severity {value!r}{suggest(value, SEVERITIES)}")
    return value


def _phrase(value: str) -> str:
    if not value.strip():
        raise ValueError("a phrase must not be empty")
    return value


def _named(value: Any) -> Any:
    # `- gallium` is shorthand for `- name: gallium`.
    return {"name": value} if isinstance(value, str) else value


def _throttle(value: Any) -> int:
    return parse_interval(value)


def _percent(value: Any) -> float:
    """`5%`, `5 %`, `5` or `2.5` -> 5.0 / 2.5: a move in percent."""
    number = _number_with_unit(value, "%", "a percentage like 5% or 2.5")
    if not 0 < number <= MAX_MOVE_PCT:
        raise ValueError(f"a move must be more than 0% and at most {MAX_MOVE_PCT:g}%, not {value!r}")
    return number


def _factor(value: Any) -> float:
    """`3x`, `3` or `2.5` -> 3.0 / 2.5: a multiple of the average volume."""
    number = _number_with_unit(value, "x", "a multiple like 3x or 2.5")
    if not 1 <= number <= 100:
        raise ValueError(f"a volume multiple must be from 1x to 100x, not {value!r}")
    return number


def _number_with_unit(value: Any, unit: str, expected: str) -> float:
    if isinstance(value, bool):
        raise ValueError(f"expected {expected}, not {value!r}")
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip().lower()
    if text.endswith(unit):
        text = text[: -len(unit)].strip()
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"expected {expected}, not {value!r}") from None


def _window(value: Any) -> int:
    return parse_interval(value)


EventTypeId = Annotated[str, AfterValidator(_event_type)]
Severity = Annotated[str, AfterValidator(_severity)]
PhraseText = Annotated[str, AfterValidator(_phrase)]
Name = Annotated[str, Field(pattern=NAME_PATTERN, max_length=60)]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TickerSpec(StrictModel):
    """One watchlist company: its Yahoo symbol, its name, and other ways news refers to it."""

    symbol: str = Field(pattern=r"^[A-Z0-9][A-Z0-9.^=-]*$", max_length=20)
    name: PhraseText
    aliases: list[PhraseText] = []
    #: Names that also mean something else ("Mountain Pass" is a highway too): they count only
    #: when the article also uses a word from the watchlist's `context` list.
    ambiguous: list[PhraseText] = []
    #: The company's SEC Central Index Key, so its 8-K filings are known for its own.
    cik: str | None = Field(None, pattern=r"^\d{1,10}$")
    #: Phrases in which a name of the company means something else: in "UK MP" or "Labour MP",
    #: "MP" is a member of parliament. A mention inside one of them does not count.
    not_in: list[PhraseText] = []


class GroupSpec(StrictModel):
    description: str = ""
    tickers: list[TickerSpec] = Field(min_length=1)


class NamedEntitySpec(StrictModel):
    """An element, country or agency, with the other names news uses for it."""

    name: PhraseText
    aliases: list[PhraseText] = []
    ambiguous: list[PhraseText] = []


NamedEntity = Annotated[NamedEntitySpec, BeforeValidator(_named)]

#: What a frame's instrument can be (service.domain.scoring.INSTRUMENTS), as programmes name it.
PROGRAMME_INSTRUMENTS = ("funding", "agreement", "export_control", "tariff", "entity_list")


class AgencySpec(NamedEntitySpec):
    """A government body, court or official news speaks of: "MOFCOM" acts for China."""

    #: The country it acts for (a name from `countries`): frames read "MOFCOM suspends ..." as China acting.
    country: str | None = None
    #: A court's rulings are `legal` events; a government's actions are policy.
    role: Literal["government", "court"] = "government"


Agency = Annotated[AgencySpec, BeforeValidator(_named)]


class ProgrammeSpec(NamedEntitySpec):
    """A named policy programme ("Critical Raw Materials Act"): naming it says who acts and how."""

    country: str
    instrument: Literal["funding", "agreement", "export_control", "tariff", "entity_list"]
    #: `any` for a programme that also serves other sectors (the Defense Production Act buys
    #: baby formula too): it still says who acts and how, but counts as the desk's subject only
    #: beside a mineral, magnet, technology or company. `minerals` (the default): naming it is enough.
    scope: Literal["minerals", "any"] = "minerals"


class WatchlistFile(StrictModel):
    """rules/watchlists.yaml."""

    context: list[PhraseText] = Field(min_length=1)
    groups: dict[Name, GroupSpec] = Field(min_length=1)
    elements: dict[Name, list[NamedEntity]] = {}
    countries: list[NamedEntity] = []
    agencies: list[Agency] = []
    #: Named groups of the things policy acts on besides elements and companies ("magnets",
    #: "processing technology", "other goods"): what `frame: {object: ...}` conditions name.
    objects: dict[Name, list[PhraseText]] = {}
    programmes: list[ProgrammeSpec] = []
    default_impact: dict[EventTypeId, dict[str, Direction]] = {}


class TermsFile(StrictModel):
    """rules/terms.yaml: named word lists that rules use as "@name"."""

    terms: dict[Name, list[PhraseText]] = Field(min_length=1)

    @field_validator("terms")
    @classmethod
    def _not_empty(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for name, phrases in value.items():
            if not phrases:
                raise ValueError(f"word list {name!r} is empty; give it at least one phrase")
        return value


class RuleSpec(StrictModel):
    """One alert rule as written in rules/alerts/*.yaml."""

    id: str = Field(pattern=RULE_ID_PATTERN, max_length=80)
    description: str = Field(min_length=1)
    #: News rules read articles. The prices feature adds `kind: price` rules in the same files.
    kind: Literal["news"] = "news"
    match: Any = Field(...)
    event_types: list[EventTypeId] = Field(min_length=1)
    severity: Severity
    #: Direction per watchlist group, per ticker, or for `mentioned` (the tickers the article
    #: names). Left out: the default impact of the rule's event types (watchlists.yaml).
    impact: dict[str, Direction] | None = None
    min_score: int = Field(DEFAULT_MIN_SCORE, ge=0, le=100)
    channel: str | None = Field(None, pattern=r"^[#@]?[A-Za-z0-9][\w.-]*$", max_length=80)
    throttle: Annotated[int, BeforeValidator(_throttle)] = DEFAULT_THROTTLE_SECONDS
    enabled: bool = True

    @field_validator("event_types")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        repeated = sorted({v for v in value if value.count(v) > 1})
        if repeated:
            raise ValueError(f"event type listed twice: {', '.join(repeated)}")
        return value


class AlertsFile(StrictModel):
    """One file in rules/alerts/."""

    rules: list[RuleSpec] = Field(min_length=1)


Percent = Annotated[float, BeforeValidator(_percent)]
Factor = Annotated[float, BeforeValidator(_factor)]
Window = Annotated[int, BeforeValidator(_window)]
MOVE_DIRECTIONS = ("up", "down", "either")


def _move_direction(value: str) -> str:
    if value not in MOVE_DIRECTIONS:
        raise ValueError(f"unknown direction {value!r}{suggest(value, MOVE_DIRECTIONS)}")
    return value


MoveDirection = Annotated[str, AfterValidator(_move_direction)]


class MoveSpec(StrictModel):
    """`move: {at_least: 5%, within: 1h, direction: down}`."""

    at_least: Percent
    #: Required, except in a rule with `after_news`, whose `within` is the window.
    within: Window | None = None
    direction: MoveDirection = "either"


class GapSpec(StrictModel):
    """`gap: {at_least: 4%, direction: up}`: the session's first price against the previous close."""

    at_least: Percent
    direction: MoveDirection = "either"


class VolumeSpec(StrictModel):
    """`volume: {at_least: 3x}`: the session's volume so far against its average over `lookback` sessions."""

    at_least: Factor
    #: At most 50: the price cycle keeps about 58 sessions of daily history (85 days).
    lookback: int = Field(20, ge=5, le=50)


class AfterNewsSpec(StrictModel):
    """`after_news: {event_types: [truce], within: 2h}`: only after such a news alert, and only this long."""

    event_types: list[EventTypeId] = Field(min_length=1)
    within: Window


class PriceRuleSpec(StrictModel):
    """One price rule as written in rules/alerts/*.yaml (`kind: price`)."""

    id: str = Field(pattern=RULE_ID_PATTERN, max_length=80)
    description: str = Field(min_length=1)
    kind: Literal["price"]
    #: Watchlist groups and tickers; every ticker of a group is watched.
    tickers: list[str] = Field(min_length=1)
    move: MoveSpec | None = None
    gap: GapSpec | None = None
    volume: VolumeSpec | None = None
    after_news: AfterNewsSpec | None = None
    severity: Severity
    channel: str | None = Field(None, pattern=r"^[#@]?[A-Za-z0-9][\w.-]*$", max_length=80)
    throttle: Annotated[int, BeforeValidator(_throttle)] = DEFAULT_PRICE_THROTTLE_SECONDS
    enabled: bool = True
