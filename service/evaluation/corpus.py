"""A desk's labelled history: what each item should have done, read strictly from YAML.

    - id: fr-2025-19284
      published: 2025-09-30T14:00:00Z
      source: official                 # the feed's kind: official | wire | sector | aggregator | blog
      feed: federal-register-bis       # the feed's name (rules can test it with `feed:`)
      link: https://www.federalregister.gov/documents/2025/09/30/2025-19284/...   # optional
      title: "Expansion of End-User Controls To Cover Affiliates of Certain Listed Entities"
      summary: >-
        In this interim final rule, BIS extends the Entity List's restrictions to ...
      alert: yes                       # yes | no | either (a desk might want it or not)
      types: [entity_list]             # the acceptable event types; for alert yes or either
      direction: {MP: bullish, F: bearish}   # optional: tickers (or watchlist groups) whose way is clear
      story: affiliates-rule-2025-09-29     # optional: reports of one event share it
      note: why these labels           # optional

Every problem is reported with file:line:column, all at once (the same loader as the rules).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from service.domain.feeds import SourceKind
from service.domain.scoring import Direction
from service.errors import ConfigError, Problem
from service.rules.schema import EventTypeId, StrictModel
from service.yamlfile import read_yaml, validate

Label = Literal["yes", "no", "either"]


def _label(value: Any) -> Any:
    # YAML 1.1 reads a bare yes/no as a boolean: take either spelling.
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return value


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("give the time zone, e.g. 2025-10-09T08:30:00Z or +08:00")
    return value


class LabelledItem(StrictModel):
    """One labelled item: an article as a feed carried it, and what the rules should make of it."""

    id: str = Field(min_length=1, max_length=120)
    published: datetime
    source: SourceKind
    feed: str = Field("", max_length=200)
    link: str | None = Field(None, max_length=2048)
    title: str = Field(min_length=1)
    summary: str = ""
    alert: Annotated[Label, BeforeValidator(_label)]
    types: list[EventTypeId] = []
    direction: dict[str, Direction] = {}
    story: str | None = Field(None, min_length=1, max_length=200)
    note: str = ""

    @field_validator("published")
    @classmethod
    def _zoned(cls, value: datetime) -> datetime:
        return _aware(value)

    @field_validator("id", "story", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        # `id: 2025-10-09` or `story: 12` are meant as names, not a date or a number.
        return str(value) if isinstance(value, int | float) or hasattr(value, "isoformat") else value

    @model_validator(mode="after")
    def _consistent(self) -> LabelledItem:
        if self.alert == "no":
            if self.types:
                raise ValueError("an item labelled `alert: no` takes no `types` (what it is does not matter)")
            if self.direction:
                raise ValueError("an item labelled `alert: no` takes no `direction`")
        elif not self.types:
            raise ValueError(f"an item labelled `alert: {self.alert}` needs `types`: the event types a desk would accept")
        return self

    @property
    def wanted(self) -> bool | None:
        """True or False for a firm label, None for `either`."""
        return None if self.alert == "either" else self.alert == "yes"


def load_corpus(path: Path, *, tickers: dict[str, list[str]] | None = None) -> list[LabelledItem]:
    """Read one labelled file. With `tickers` (watchlist group -> its tickers), every key of a
    `direction` must be one of them or a group. Raises ConfigError listing every problem."""
    doc = read_yaml(Path(path))
    if not isinstance(doc.data, list):
        raise ConfigError([doc.problem((), "expected a list of labelled items (`- id: ...`)")])
    items: list[LabelledItem] = []
    problems: list[Problem] = []
    first_line: dict[str, int] = {}
    known = None if tickers is None else set(tickers) | {t for members in tickers.values() for t in members}
    for index, raw in enumerate(doc.data):
        # Checked on the raw item too, so one run reports a repeated id or an unknown ticker
        # beside the item's other mistakes.
        if isinstance(raw, dict):
            item_id = raw.get("id")
            if isinstance(item_id, str | int):
                line = doc.where((index, "id"))[0] or 0
                if str(item_id) in first_line:
                    problems.append(doc.problem((index, "id"), f"id {str(item_id)!r} is used twice "
                                                f"(first at line {first_line[str(item_id)]})"))
                first_line.setdefault(str(item_id), line)
            direction = raw.get("direction")
            if known is not None and isinstance(direction, dict):
                for name in direction:
                    if name not in known:
                        problems.append(doc.problem((index, "direction", name),
                                                    f"{name!r} is neither a watchlist ticker nor a group"))
        try:
            items.append(validate(doc, LabelledItem, data=raw, base_loc=(index,)))
        except ConfigError as exc:
            problems.extend(_without_index(problem) for problem in exc.problems)
    if problems:
        raise ConfigError(sorted(problems, key=lambda p: (p.line or 0, p.column or 0)))
    return items


def _without_index(problem: Problem) -> Problem:
    """'3.alert: ...' -> 'alert: ...': the line already says which item."""
    head, _, rest = problem.message.partition(".")
    if head.isdigit() and rest:
        return Problem(problem.file, problem.line, problem.column, rest, problem.rule_id)
    if head.split(":", 1)[0].isdigit():
        return Problem(problem.file, problem.line, problem.column, problem.message.split(":", 1)[1].strip(), problem.rule_id)
    return problem


def expected_directions(item: LabelledItem, groups: dict[str, list[str]]) -> dict[str, str]:
    """Ticker -> the labelled direction; a group's label applies to each of its tickers, and a
    ticker's own label wins over its group's."""
    out: dict[str, str] = {}
    for name, direction in item.direction.items():
        for ticker in groups.get(name, ()):
            out.setdefault(ticker, direction)
    for name, direction in item.direction.items():
        if name not in groups:
            out[name] = direction
    return out
