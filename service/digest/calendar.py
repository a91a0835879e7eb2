"""`rules/calendar.yaml`: policy deadlines a desk watches, and which ones a digest shows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from service.errors import ConfigError, Problem
from service.yamlfile import read_yaml, validate

#: Days before a deadline when the digest calls it out, unless an entry says otherwise.
DEFAULT_REMIND_DAYS: tuple[int, ...] = (30, 7, 1)


class Deadline(BaseModel):
    """One dated policy event: a suspension that ends, a rule that takes effect."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    date: dt.date
    title: str = Field(min_length=1, max_length=200)
    ends: str | None = Field(None, min_length=1, description="what stops applying on that date")
    starts: str | None = Field(None, min_length=1, description="what starts applying on that date")
    source: str = Field(min_length=1, description="who said so, so a reader can check")
    #: The digest lists the deadline from the largest of these days before it, and flags it on each.
    remind_days: tuple[int, ...] = DEFAULT_REMIND_DAYS

    @field_validator("date", mode="before")
    @classmethod
    def _date(cls, value: object) -> object:
        if isinstance(value, dt.datetime):
            raise ValueError("date must be a day like 2026-11-27, without a time")
        return value

    @field_validator("remind_days")
    @classmethod
    def _remind_days(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(day < 0 or day > 366 for day in value):
            raise ValueError("remind_days are days before the deadline, between 0 and 366")
        return tuple(sorted(set(value), reverse=True))

    @model_validator(mode="after")
    def _says_what_changes(self) -> Deadline:
        if self.ends is None and self.starts is None:
            raise ValueError("say what `ends` or `starts` on that date (or both)")
        return self


class CalendarFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    deadlines: list[Deadline]


def load_calendar(path: Path) -> list[Deadline]:
    """Read and check a calendar file, sorted by date; ConfigError lists every located problem."""
    doc = read_yaml(path)
    if doc.data is None:
        raise ConfigError([Problem(str(path), None, None, "the file is empty; write `deadlines:` and a list")])
    if not isinstance(doc.data, dict):
        raise ConfigError([doc.problem((), "expected a mapping with a `deadlines:` list")])
    deadlines: list[Deadline] = validate(doc, CalendarFile).deadlines
    problems: list[Problem] = []
    seen: dict[tuple[dt.date, str], int] = {}
    for index, deadline in enumerate(deadlines):
        key = (deadline.date, deadline.title.casefold())
        if key in seen:
            problems.append(
                doc.problem(("deadlines", index), f"{deadline.title!r} on {deadline.date} is listed twice (first at line {seen[key]})")
            )
        seen.setdefault(key, doc.where(("deadlines", index))[0] or 0)
    if problems:
        raise ConfigError(problems)
    return sorted(deadlines, key=lambda d: (d.date, d.title))


@dataclass(frozen=True)
class UpcomingDeadline:
    """A deadline as one digest shows it."""

    deadline: Deadline
    days_left: int
    #: True when a reminder day fell since the previous digest: the digest calls it out.
    reminder: bool


def upcoming_deadlines(
    deadlines: list[Deadline], day: dt.date, previous_day: dt.date | None = None
) -> list[UpcomingDeadline]:
    """The deadlines a digest for `day` lists: from the largest reminder day before each, to the day itself.

    A reminder that fell on a day without a digest (a weekend) is flagged in the next one:
    every reminder day after `previous_day` (the previous digest's day) and up to `day` counts.
    """
    previous_day = previous_day or day - dt.timedelta(days=1)
    shown: list[UpcomingDeadline] = []
    for deadline in deadlines:
        days_left = (deadline.date - day).days
        horizon = max(deadline.remind_days, default=0)
        if not 0 <= days_left <= horizon:
            continue
        reminder = days_left == 0 or any(
            previous_day < deadline.date - dt.timedelta(days=r) <= day for r in deadline.remind_days
        )
        shown.append(UpcomingDeadline(deadline, days_left, reminder))
    return sorted(shown, key=lambda u: (u.days_left, u.deadline.title))
