"""Feeds as operators declare them, and entries as the pipeline hands them on.

`Entry` is defined in service.domain.entries, which parse workers import without pydantic; it is
named here too, beside the feeds it comes from.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator

from service.domain.entries import Entry as Entry

SourceKind = Literal["official", "wire", "sector", "aggregator", "blog"]
#: What a feed's first successful poll does with the items it finds.
Backfill = Literal["quiet", "alert"]

#: How much a source's word counts when scoring: an agency's own notice beats an aggregator.
SOURCE_WEIGHTS: dict[str, float] = {
    "official": 1.0,
    "wire": 0.9,
    "sector": 0.8,
    "aggregator": 0.6,
    "blog": 0.5,
}

_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MIN_INTERVAL_SECONDS = 10
MAX_INTERVAL_SECONDS = 7 * 86400


def parse_interval(value: str | int | float) -> int:
    """'60s', '5m', '1h', '1d' or a number of seconds -> whole seconds (ValueError if not)."""
    if isinstance(value, bool):
        raise ValueError(f"interval must be like '60s' or '5m', not {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _INTERVAL.match(str(value))
        if not match:
            raise ValueError(f"interval must be like '60s', '5m', '1h' or '1d', not {value!r}")
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2) or "s"]
    if not MIN_INTERVAL_SECONDS <= seconds <= MAX_INTERVAL_SECONDS:
        raise ValueError(
            f"interval {value!r} is outside {MIN_INTERVAL_SECONDS}s..{MAX_INTERVAL_SECONDS // 86400}d"
        )
    return int(seconds)


class FeedSpec(BaseModel):
    """One entry of `rules/feeds.yaml`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=100)
    url: HttpUrl
    interval: int = Field(300, description="seconds between polls")
    kind: SourceKind = "sector"
    weight: float | None = Field(None, ge=0, le=1)
    enabled: bool = True
    #: "quiet": the first successful poll stores what the feed already holds (its history)
    #: without alerting; "alert": it alerts on those items like on any later one.
    backfill: Backfill = "quiet"

    @field_validator("interval", mode="before")
    @classmethod
    def _interval(cls, value: object) -> int:
        return parse_interval(value)  # type: ignore[arg-type]

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if value != value.strip():
            raise ValueError("name must not start or end with spaces")
        return value

    @property
    def source_weight(self) -> float:
        return self.weight if self.weight is not None else SOURCE_WEIGHTS[self.kind]
