"""`reewatch rules check`: every file the service loads, read by the loaders the service uses.

The service reads feeds.yaml, the rules (watchlists, word lists, ignore list, alert rules),
digests.yaml and calendar.yaml; a check that skipped one would say OK for a file that stops the
service at start or is refused at its next reload. Every problem in every file is reported.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from service.digest.calendar import load_calendar, past_calendar_warning
from service.digest.recipients import load_recipients
from service.errors import ConfigError, Problem
from service.rules import Ruleset, load_ruleset
from service.sources.feed_config import load_feeds

T = TypeVar("T")


def check_rules_folder(folder: Path) -> str:
    """A one-line summary of what the folder holds; ConfigError with every problem found."""
    problems: list[Problem] = []

    def load(loader: Callable[[], T]) -> T | None:
        try:
            return loader()
        except ConfigError as exc:
            problems.extend(exc.problems)
            return None

    ruleset: Ruleset | None = load(lambda: load_ruleset(folder))
    feeds_file, digests_file, calendar_file = folder / "feeds.yaml", folder / "digests.yaml", folder / "calendar.yaml"
    feeds = load(lambda: load_feeds(feeds_file)) if feeds_file.exists() else None
    # The digest readers' watchlists are checked against the rules' groups, as the service does.
    groups = ruleset.catalogue.groups if ruleset is not None else None
    readers = load(lambda: load_recipients(digests_file, watchlists=groups)) if digests_file.exists() else None
    # A calendar entry's `moves` name the rules' groups and tickers, as the service checks them.
    targets = {*ruleset.catalogue.groups, *ruleset.catalogue.tickers} if ruleset is not None else None
    deadlines = load(lambda: load_calendar(calendar_file, targets=targets)) if calendar_file.exists() else None
    if problems:
        raise ConfigError(problems)
    assert ruleset is not None
    parts = [
        ruleset.describe(),
        f"{len(feeds)} feeds" if feeds is not None else "no feeds.yaml (the service needs one to poll)",
        f"{len(readers)} digest readers" if readers is not None else "no digests.yaml (no digests are sent)",
        f"{len(deadlines)} calendar deadlines" if deadlines is not None else "no calendar.yaml",
    ]
    return ", ".join(parts)


def calendar_warnings(folder: Path, today: dt.date) -> list[str]:
    """What is legal but likely a mistake in the folder's calendar: only past dates left."""
    calendar_file = folder / "calendar.yaml"
    if not calendar_file.exists():
        return []
    warning = past_calendar_warning(load_calendar(calendar_file), today)
    return [f"{calendar_file}: {warning}"] if warning else []
