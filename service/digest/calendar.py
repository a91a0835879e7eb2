"""`rules/calendar.yaml`: policy deadlines a desk watches, which ones a digest shows, and what
a Slack reminder of one needs to know (its zone, its topic, what it may move)."""

from __future__ import annotations

import datetime as dt
import difflib
import re
import zoneinfo
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from service.digest.recipients import clock_time, zone_name
from service.domain.scoring import EVENT_TYPES, Direction
from service.errors import ConfigError, Problem
from service.yamlfile import read_yaml, validate

#: Days before a deadline when the digest calls it out, unless an entry says otherwise.
DEFAULT_REMIND_DAYS: tuple[int, ...] = (30, 7, 1)
#: An entry's id: what its Slack reminders are keyed by, so it must not change once shipped.
DEADLINE_ID_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
#: Slack channel names as the alert rules write them.
CHANNEL_PATTERN = r"^[#@]?[A-Za-z0-9][\w.-]*$"


def _event_type(value: str) -> str:
    if value not in EVENT_TYPES:
        close = difflib.get_close_matches(value, EVENT_TYPES, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else f"; expected one of: {', '.join(EVENT_TYPES)}"
        raise ValueError(f"unknown event type {value!r}{hint}")
    return value


def _web_link(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in value.strip()):
        raise ValueError(f"link must be an http(s) address, not {value!r}")
    return value.strip()


EventType = Annotated[str, AfterValidator(_event_type)]


class Deadline(BaseModel):
    """One dated policy event: a suspension that ends, a rule that takes effect."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Short and stable ("g20-miami-2026"): the Slack reminders of the entry are keyed by it.
    id: str = Field(max_length=60)
    date: dt.date
    #: The local time it happens, when the source gives one; without, the whole day counts.
    time: dt.time | None = None
    #: The zone `date` and `time` are read in (where the authority sits): an IANA name.
    timezone: str = "UTC"
    title: str = Field(min_length=1, max_length=200)
    ends: str | None = Field(None, min_length=1, description="what stops applying on that date")
    starts: str | None = Field(None, min_length=1, description="what starts applying on that date")
    source: str = Field(min_length=1, description="who said so, so a reader can check")
    link: Annotated[str, AfterValidator(_web_link)] | None = Field(None, max_length=2000)
    #: The topic, in the rules' taxonomy: reminders go where news of these event types goes.
    event_types: tuple[EventType, ...] = ()
    #: Send the reminders to this channel, whatever the topic routes to.
    channel: str | None = Field(None, max_length=80)
    #: Watchlist groups or tickers the date may move, and which way.
    moves: dict[str, Direction] = Field(default_factory=dict)
    #: The digest lists the deadline from the largest of these days before it, and flags it on each.
    remind_days: tuple[int, ...] = DEFAULT_REMIND_DAYS

    @field_validator("date", mode="before")
    @classmethod
    def _date(cls, value: object) -> object:
        if isinstance(value, dt.datetime):
            raise ValueError("date must be a day like 2026-11-27, without a time (a time goes in `time:`)")
        return value

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not re.match(DEADLINE_ID_PATTERN, value):
            raise ValueError(f"id must be lowercase letters and digits joined by dashes, like 'g20-miami-2026', not {value!r}")
        return value

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: str | None) -> str | None:
        if value is not None and not re.match(CHANNEL_PATTERN, value):
            raise ValueError(f"channel must be a Slack channel name like '#rare-earth-alerts' or an id, not {value!r}")
        return value

    @field_validator("time", mode="before")
    @classmethod
    def _time(cls, value: object) -> dt.time | None:
        if value is None or isinstance(value, dt.time):
            return value
        return clock_time(value)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return zone_name(value)

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

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


def load_calendar(path: Path, *, targets: Collection[str] | None = None) -> list[Deadline]:
    """Read and check a calendar file, sorted by date; ConfigError lists every located problem.

    `targets` holds the watchlist groups and tickers of the loaded rules, which `moves` may name;
    None skips that check.
    """
    doc = read_yaml(path)
    if doc.data is None:
        raise ConfigError([Problem(str(path), None, None, "the file is empty; write `deadlines:` and a list")])
    if not isinstance(doc.data, dict):
        raise ConfigError([doc.problem((), "expected a mapping with a `deadlines:` list")])
    deadlines: list[Deadline] = validate(doc, CalendarFile).deadlines
    problems: list[Problem] = []
    seen: dict[tuple[dt.date, str], int] = {}
    ids: dict[str, int] = {}
    for index, deadline in enumerate(deadlines):
        key = (deadline.date, deadline.title.casefold())
        if key in seen:
            problems.append(
                doc.problem(("deadlines", index), f"{deadline.title!r} on {deadline.date} is listed twice (first at line {seen[key]})")
            )
        seen.setdefault(key, doc.where(("deadlines", index))[0] or 0)
        if deadline.id in ids:
            problems.append(
                doc.problem(("deadlines", index, "id"), f"id {deadline.id!r} is used twice (first at line {ids[deadline.id]}); each entry needs its own")
            )
        ids.setdefault(deadline.id, doc.where(("deadlines", index, "id"))[0] or 0)
        if targets is not None:
            for name in deadline.moves:
                if name not in targets:
                    close = difflib.get_close_matches(name, list(targets), n=1, cutoff=0.6)
                    hint = f"; did you mean {close[0]!r}?" if close else " (name a group or ticker of watchlists.yaml)"
                    problems.append(doc.problem(("deadlines", index, "moves", name), f"unknown watchlist group or ticker {name!r}{hint}"))
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


def past_calendar_warning(deadlines: list[Deadline], today: dt.date) -> str | None:
    """A warning when the calendar holds nothing to come: every date is before `today`."""
    if not deadlines or any(d.date >= today for d in deadlines):
        return None
    latest = max(d.date for d in deadlines)
    return f"every date in the calendar is past (the latest is {latest}); add the next dates, or nothing is reminded"
