"""One story, however many outlets carried it.

Two reports are the same story when they point at the same canonical link, or when their
headline and summary share most of their word pairs (Broder's resemblance: the Jaccard index of
word shingles, which MinHash estimates; computed exactly here, since a digest compares one day
of alerts). A 64-bit SimHash with Hamming distance <= 3 was measured first and dropped: it suits
full pages, but on a headline and a two-line summary one edited word moves it by 3 to 10 bits.

That finds reprints and light rewrites (a syndicated wire story, a Google News copy with the
outlet's name appended). Outlets that write the same event up in their own words share few word
pairs (under 5% for the three seed write-ups of the 2025 Busan truce), so scored reports are also
compared as events: close in time, of one kind, naming the same companies, countries, agencies
and elements (`same_event`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

#: Shingle length in words; pairs keep a one-word edit in a short summary from mattering much.
SHINGLE_WORDS = 2
#: Resemblance at or above which two reports are one story.
SAME_STORY = 0.5

#: Outlets write an event up over a day or two; a like report further apart is a new event (a
#: second truce, a control renewed), as novelty chains start over after a gap (DOMAIN.md).
EVENT_SPAN = timedelta(hours=48)
#: Share of the smaller report's named entities that the other report must name too.
SHARED_ENTITIES = 0.5
#: Relevance at which a company is what a report is about, not a passing mention (DOMAIN.md).
PROMINENT = 75

_WORD = re.compile(r"\w+")


class Report(Protocol):
    """What story grouping reads from an article, alert or anything else an outlet published."""

    @property
    def canonical_link(self) -> str | None: ...

    @property
    def title(self) -> str: ...

    @property
    def summary(self) -> str: ...


R = TypeVar("R", bound=Report)


def shingles(text: str, size: int = SHINGLE_WORDS) -> frozenset[tuple[str, ...]]:
    """The set of runs of `size` consecutive words, case-folded (the whole text if shorter)."""
    words = _WORD.findall(unicodedata.normalize("NFKC", text).casefold())
    if len(words) <= size:
        return frozenset({tuple(words)}) if words else frozenset()
    return frozenset(tuple(words[i : i + size]) for i in range(len(words) - size + 1))


def resemblance(a: frozenset, b: frozenset) -> float:
    """|a & b| / |a | b|: 1.0 for the same text, 0.0 for nothing shared (or nothing at all)."""
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


@dataclass(frozen=True)
class Event:
    """What event-level grouping reads from a scored report: what happened, to whom, and when."""

    #: The verdict's event types, the primary (strongest rule's) first.
    event_types: tuple[str, ...]
    #: Everything the report names, as "kind:name": "ticker:MP", "country:China", "element:gallium".
    entities: frozenset[str]
    at: datetime
    #: The entities the report is about (a company in its headline); a subset of `entities`.
    prominent: frozenset[str] = frozenset()


#: Event types that one event is told as: a truce is also told as its tariff cuts or the controls
#: it pauses, a court's ruling on tariffs as the tariffs' fate.
KINDRED: dict[str, frozenset[str]] = {
    "truce": frozenset({"tariff_down", "export_control_eased", "entity_list"}),
    "tariff_down": frozenset({"truce", "legal"}),
    "export_control_eased": frozenset({"truce"}),
    "legal": frozenset({"tariff_down", "tariff_up"}),
    "tariff_up": frozenset({"legal"}),
    "gov_funding": frozenset({"corporate", "partnership"}),
    "corporate": frozenset({"gov_funding"}),
    "partnership": frozenset({"gov_funding"}),
}


def _kin(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Whether one report's main event type is among, or kindred to, the other's types."""
    for first, other in ((a[0], b), (b[0], a)):
        if first in other or not KINDRED.get(first, frozenset()).isdisjoint(other):
            return True
    return False


def same_event(a: Event, b: Event) -> bool:
    """Whether two scored reports tell one event.

    They must be at most EVENT_SPAN apart; the primary event type of one must be among, or
    kindred to (KINDRED), the other's types (a truce write-up and an "export curbs paused"
    write-up of that truce); they must not be
    about different companies; and at least SHARED_ENTITIES of the smaller report's entities must
    be named by the other. Reports that name nothing cannot be told apart and never match.
    """
    if not a.event_types or not b.event_types or abs(a.at - b.at) > EVENT_SPAN:
        return False
    if not _kin(a.event_types, b.event_types):
        return False
    if a.prominent and b.prominent and a.prominent.isdisjoint(b.prominent):
        return False
    shared = len(a.entities & b.entities)
    return shared > 0 and shared >= SHARED_ENTITIES * min(len(a.entities), len(b.entities))


def group_stories(reports: Sequence[R], event_of: Callable[[R], Event | None] | None = None) -> list[list[R]]:
    """Group reports of the same story; groups and their members keep the input order.

    With `event_of`, reports whose events are the same (`same_event`) are one story too; the
    grouping is transitive, so three write-ups join when each matches one of the others.
    """
    parent = list(range(len(reports)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def join(i: int, j: int) -> None:
        a, b = root(i), root(j)
        if a != b:
            parent[max(a, b)] = min(a, b)

    first_with_link: dict[str, int] = {}
    for index, report in enumerate(reports):
        if report.canonical_link:
            join(first_with_link.setdefault(report.canonical_link, index), index)
    texts = [shingles(f"{report.title}\n{report.summary}") for report in reports]
    for i in range(len(reports)):
        for j in range(i + 1, len(reports)):
            if root(i) != root(j) and resemblance(texts[i], texts[j]) >= SAME_STORY:
                join(i, j)
    if event_of is not None:
        events = [event_of(report) for report in reports]
        for i in range(len(reports)):
            for j in range(i + 1, len(reports)):
                a, b = events[i], events[j]
                if a is not None and b is not None and root(i) != root(j) and same_event(a, b):
                    join(i, j)
    groups: dict[int, list[R]] = {}
    for index, report in enumerate(reports):
        groups.setdefault(root(index), []).append(report)
    return list(groups.values())
