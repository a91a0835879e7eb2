"""`rules/digests.yaml`: who receives a digest, when, in which time zone, about what."""

from __future__ import annotations

import datetime as dt
import difflib
import re
import zoneinfo
from collections.abc import Collection
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from service.errors import ConfigError, Problem
from service.yamlfile import read_yaml, validate

WEEKDAY_NAMES: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: A desk reads the digest on trading days; news from the weekend lands in Monday's digest,
#: whose window starts at Friday's send time.
DEFAULT_WEEKDAYS: frozenset[int] = frozenset(range(5))
_ALIASES = {"daily": "mon-sun", "weekdays": "mon-fri", "weekends": "sat-sun"}
_TIME = re.compile(r"^\s*([01]?\d|2[0-3]):([0-5]\d)\s*$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def parse_weekdays(value: Any) -> frozenset[int]:
    """'mon-fri', 'daily', 'mon,wed,fri' or a list of day names -> Python weekdays (Monday = 0)."""
    if isinstance(value, str):
        parts = [p.strip().lower() for p in value.split(",")]
    elif isinstance(value, list | tuple):
        parts = [str(p).strip().lower() for p in value]
        if any(isinstance(p, bool | int) for p in value):
            raise ValueError(_weekday_hint("numbers"))
    else:
        raise ValueError(_weekday_hint(repr(value)))
    days: set[int] = set()
    for part in parts:
        part = _ALIASES.get(part, part)
        first, _, last = part.partition("-")
        if first not in WEEKDAY_NAMES or (last and last not in WEEKDAY_NAMES):
            raise ValueError(_weekday_hint(repr(part)))
        start = WEEKDAY_NAMES.index(first)
        stop = WEEKDAY_NAMES.index(last) if last else start
        if stop < start:
            raise ValueError(f"weekday range {part!r} runs backwards; write it from Monday on, e.g. 'mon-fri'")
        days.update(range(start, stop + 1))
    if not days:
        raise ValueError("name at least one weekday")
    return frozenset(days)


def _weekday_hint(found: str) -> str:
    # Numbers are refused: 0 is Sunday in crontab but Monday in APScheduler and Python.
    return f"weekdays must be day names like 'mon-fri', 'daily' or [mon, wed, fri], not {found}"


@cache
def _zone_names() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


def clock_time(value: object) -> dt.time:
    """A quoted "HH:MM" (24-hour) as a time; an unquoted one, which YAML reads as a number, is
    refused with the fix."""
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads an unquoted 18:05 as the base-60 number 1085.
        hours, minutes = divmod(value, 60)
        written = f"{hours}:{minutes:02d}"
        raise ValueError(f'write the time in quotes, like "{written}" (unquoted, YAML reads {written} as the number {value})')
    match = _TIME.match(value) if isinstance(value, str) else None
    if not match:
        raise ValueError(f'time must be HH:MM on a 24-hour clock, like "07:30", not {value!r}')
    return dt.time(int(match.group(1)), int(match.group(2)))


def zone_name(value: str) -> str:
    """`value` if it names an IANA time zone; else ValueError with the nearest name."""
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        close = difflib.get_close_matches(value, _zone_names(), n=1, cutoff=0.7)
        hint = f"; did you mean {close[0]!r}?" if close else " (use an IANA name like 'Europe/London')"
        raise ValueError(f"unknown time zone {value!r}{hint}") from None
    return value


class Recipient(BaseModel):
    """One reader of the daily digest."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    address: str
    name: str | None = Field(None, max_length=100)
    time: dt.time = Field(description="local send time, e.g. '07:30'")
    timezone: str = Field(description="IANA zone, e.g. 'America/New_York'")
    #: Watchlist groups whose tickers the digest shows; empty means every group.
    watchlists: tuple[str, ...] = ()
    min_score: int = Field(0, ge=0, le=100)
    weekdays: frozenset[int] = DEFAULT_WEEKDAYS

    @field_validator("address", mode="before")
    @classmethod
    def _address(cls, value: object) -> str:
        if not isinstance(value, str):
            raise ValueError(f"address must be an e-mail address, not {value!r}")
        # Loaded with the first address: a service without digests.yaml never needs it.
        from email_validator import EmailNotValidError, validate_email

        try:
            # No DNS lookups: loading a file must not depend on the network.
            return validate_email(value.strip(), check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise ValueError(f"{value!r} is not a valid e-mail address: {exc}") from None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if _CONTROL.search(value):
            raise ValueError("name must be one line of text")
        return value.strip() or None

    @field_validator("time", mode="before")
    @classmethod
    def _time(cls, value: object) -> dt.time:
        return clock_time(value)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return zone_name(value)

    @field_validator("watchlists", mode="before")
    @classmethod
    def _watchlists(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @field_validator("weekdays", mode="before")
    @classmethod
    def _weekdays(cls, value: object) -> frozenset[int]:
        return parse_weekdays(value)

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @property
    def key(self) -> str:
        """The recipient's part of a digest run's key: the address, case folded."""
        return self.address.lower()

    @property
    def cron_weekdays(self) -> str:
        """The weekdays for APScheduler's `day_of_week`, by name (numbers there are a trap)."""
        return ",".join(WEEKDAY_NAMES[d] for d in sorted(self.weekdays))


class DigestsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    recipients: list[Recipient]


def load_recipients(path: Path, *, watchlists: Collection[str] | None = None) -> list[Recipient]:
    """Read and check a digests file; raise ConfigError listing every problem with its place.

    `watchlists` holds the watchlist group names of the loaded rules; None skips that check.
    """
    doc = read_yaml(path)
    if doc.data is None:
        raise ConfigError([Problem(str(path), None, None, "the file is empty; write `recipients:` and a list")])
    if not isinstance(doc.data, dict):
        raise ConfigError([doc.problem((), "expected a mapping with a `recipients:` list")])
    recipients: list[Recipient] = validate(doc, DigestsFile).recipients
    problems: list[Problem] = []
    first: dict[str, int] = {}
    for index, recipient in enumerate(recipients):
        line = doc.where(("recipients", index))[0] or 0
        if recipient.key in first:
            problems.append(
                doc.problem(
                    ("recipients", index, "address"),
                    f"{recipient.address} is listed twice (first at line {first[recipient.key]}); "
                    "one digest per address and day",
                )
            )
        first.setdefault(recipient.key, line)
        if watchlists is not None:
            for position, group in enumerate(recipient.watchlists):
                if group not in watchlists:
                    close = difflib.get_close_matches(group, list(watchlists), n=1, cutoff=0.6)
                    hint = f"; did you mean {close[0]!r}?" if close else ""
                    problems.append(
                        doc.problem(("recipients", index, "watchlists", position), f"unknown watchlist {group!r}{hint}")
                    )
    if problems:
        raise ConfigError(problems)
    return recipients
