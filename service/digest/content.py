"""What a digest says, as plain data: built by `build_digest`, drawn by `render`.

The alert and price parts arrive through `DigestAlert`, `TickerMove` and `PricePoint`, which
the alert store and the price store fill. Alerts come as stories: each story once, led by its
official report when it has one, with every other report of it listed under the lead, so no
alerted report disappears into a story without a trace. A part whose source failed is an
`Unavailable` with the reason, and the digest says so: an empty section must mean calm, never
"we could not look".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field

from service.digest.calendar import UpcomingDeadline
from service.digest.recipients import Recipient
from service.digest.schedule import Window
from service.domain.scoring import EVENT_TYPES, Assessment
from service.events.signature import signature_of
from service.events.sketch import sketch
from service.events.stories import Told, group_stories

#: Headings for the event taxonomy's ids (DOMAIN.md), in the words a desk uses.
EVENT_LABELS: dict[str, str] = {
    "export_control_new": "New export controls",
    "export_control_eased": "Export controls eased",
    "truce": "Truce and de-escalation",
    "tariff_up": "Tariffs up",
    "tariff_down": "Tariffs down",
    "entity_list": "Entity lists",
    "gov_funding": "Government funding",
    "supply_disruption": "Supply disruptions",
    "partnership": "Partnerships",
    "corporate": "Company news",
    "legal": "Courts and legal",
    "price_move": "Price moves",
}
OTHER_EVENTS = "other"


@dataclass(frozen=True)
class Unavailable:
    """A part of the digest whose source could not be read, and why."""

    reason: str


@dataclass(frozen=True)
class DigestAlert:
    """One report in the digest's window, with its verdict: an alert, or another report of an
    alerted story."""

    title: str
    summary: str
    link: str | None
    canonical_link: str | None
    source: str  # the feed's name
    published: dt.datetime | None  # aware UTC
    raised_at: dt.datetime  # aware UTC: where the chart puts its marker
    assessment: Assessment
    #: Countries, agencies and elements the verdict matched, as "kind:name" (see Ruleset.named_in).
    named: frozenset[str] = frozenset()
    #: The stored story it belongs to; None for price alerts and articles stored before stories.
    story_id: int | None = None
    #: The feed's kind ("official", "wire", ...); "prices" for a price alert.
    kind: str = "sector"
    #: Whether the rules judged it worth an alert (False: another report of an alerted story).
    alerted: bool = True
    #: Why an alert-worthy report did not reach Slack ("backfill", "too old"), if it did not.
    quiet: str | None = None

    @property
    def score(self) -> int:
        return self.assessment.score

    @property
    def told(self) -> Told:
        """The report as story grouping compares it (for reports stored without a story)."""
        return Told(
            # When the outlet published it, which is closest to when the event happened.
            at=self.published or self.raised_at,
            sketch=sketch(f"{self.title}\n{self.summary}"),
            signature=signature_of(self.assessment, self.named),
            canonical_link=self.canonical_link,
        )

    @property
    def event_type(self) -> str:
        """The alert's main event type: the first the rules named."""
        return self.assessment.event_types[0] if self.assessment.event_types else OTHER_EVENTS


@dataclass(frozen=True)
class DailyClose:
    day: dt.date
    close: float


@dataclass(frozen=True)
class TickerMove:
    """One row of the watchlist table."""

    ticker: str
    group: str  # the watchlist group it belongs to
    currency: str | None
    last_close: float | None
    last_close_on: dt.date | None
    change_1d: float | None  # a fraction: -0.074 is -7.4%
    change_5d: float | None
    #: Why numbers are missing or old ("no bar since 2026-11-18"), shown instead of silence.
    note: str | None = None

    @classmethod
    def from_closes(
        cls, ticker: str, group: str, closes: Sequence[DailyClose], *, currency: str | None = None
    ) -> TickerMove:
        """A row from daily closes (any order): the last close and its change over 1 and 5 sessions."""
        ordered = sorted((c for c in closes if c.close == c.close and c.close > 0), key=lambda c: c.day)
        if not ordered:
            return cls(ticker, group, currency, None, None, None, None, note="no prices")
        last = ordered[-1]

        def change(sessions: int) -> float | None:
            if len(ordered) <= sessions:
                return None
            return last.close / ordered[-1 - sessions].close - 1

        return cls(ticker, group, currency, last.close, last.day, change(1), change(5))


@dataclass(frozen=True)
class PricePoint:
    at: dt.datetime  # aware UTC
    close: float


@dataclass(frozen=True)
class FailingFeed:
    """A feed that is failing or disabled, so its silence is not read as calm."""

    name: str
    consecutive_failures: int
    last_error: str | None
    last_success_at: dt.datetime | None
    disabled_reason: str | None


@dataclass(frozen=True)
class Story:
    """One story: its lead report and every report of it in the window, the lead first.

    The lead is the official report when there is one, else the highest scored alert, else the
    earliest: the desk reads the agency's own words before the press's account of them.
    """

    lead: DigestAlert
    alerts: tuple[DigestAlert, ...]

    @property
    def others(self) -> tuple[DigestAlert, ...]:
        """The reports listed under the lead."""
        return self.alerts[1:]

    @property
    def score(self) -> int:
        """The story's best alert score: what it is ranked by."""
        return max((a.score for a in self.alerts if a.alerted), default=self.lead.score)

    @property
    def sources(self) -> tuple[str, ...]:
        """The distinct feeds that carried the story, the lead's first."""
        return tuple(dict.fromkeys(a.source for a in self.alerts))


@dataclass(frozen=True)
class EventSection:
    event_type: str
    label: str
    stories: tuple[Story, ...]

    @property
    def top_score(self) -> int:
        return self.stories[0].score


@dataclass(frozen=True)
class Digest:
    """Everything one recipient's digest for one day says."""

    recipient: Recipient
    day: dt.date
    window: Window
    sections: tuple[EventSection, ...] | Unavailable
    tickers: tuple[TickerMove, ...] | Unavailable
    series: Mapping[str, tuple[PricePoint, ...]]
    markers: Mapping[str, tuple[dt.datetime, ...]]  # ticker -> when alerts about it were raised
    deadlines: tuple[UpcomingDeadline, ...]
    failing_feeds: tuple[FailingFeed, ...]
    alert_count: int = 0
    generated_at: dt.datetime | None = field(default=None, compare=False)
    #: The tickers the recipient follows; None when they follow everything.
    followed: frozenset[str] | None = None
    #: When reewatch started watching, if that was inside the window: the digest covers only
    #: the time since.
    watching_since: dt.datetime | None = None

    @property
    def story_count(self) -> int:
        return 0 if isinstance(self.sections, Unavailable) else sum(len(s.stories) for s in self.sections)


def build_digest(
    recipient: Recipient,
    day: dt.date,
    window: Window,
    *,
    alerts: Sequence[DigestAlert] | Unavailable,
    tickers: Sequence[TickerMove] | Unavailable,
    series: Mapping[str, Sequence[PricePoint]],
    deadlines: Sequence[UpcomingDeadline],
    failing_feeds: Sequence[FailingFeed],
    followed_tickers: Collection[str] | None = None,
    generated_at: dt.datetime | None = None,
    watching_since: dt.datetime | None = None,
) -> Digest:
    """Assemble a digest: the recipient's alerts as ranked stories by event type, and the rest.

    Stories whose best alert is below the recipient's minimum score, or whose alerts are about
    tickers none of which the recipient follows, are left out; stories that name no ticker stay
    (a new rule on processed minerals matters to every desk). A story kept is shown whole: every
    report of it in the window. `followed_tickers` None means no ticker filter.
    `watching_since` is when reewatch started watching; the digest says so when that is inside
    the window.
    """
    markers: dict[str, list[dt.datetime]] = {}
    kept: list[DigestAlert] = []
    if isinstance(alerts, Unavailable):
        sections: tuple[EventSection, ...] | Unavailable = alerts
    else:
        followed = None if followed_tickers is None else frozenset(followed_tickers)
        in_window = [a for a in alerts if a.raised_at in window]

        def wanted(story: Story) -> bool:
            alerted = [a for a in story.alerts if a.alerted]
            if not alerted or max(a.score for a in alerted) < recipient.min_score:
                return False
            tickers = {t for a in alerted for t in a.assessment.tickers}
            return followed is None or not tickers or bool(followed & tickers)

        sections = rank_sections(in_window, keep=wanted)
        for section in sections:
            for story in section.stories:
                kept += [a for a in story.alerts if a.alerted]
        for alert in kept:
            for ticker in alert.assessment.tickers:
                markers.setdefault(ticker, []).append(alert.raised_at)
    shown_series = {t: tuple(sorted(points, key=lambda p: p.at)) for t, points in series.items() if points}
    return Digest(
        recipient=recipient,
        day=day,
        window=window,
        sections=sections,
        tickers=tickers if isinstance(tickers, Unavailable) else tuple(tickers),
        series=shown_series,
        markers={t: tuple(sorted(times)) for t, times in markers.items() if t in shown_series},
        deadlines=tuple(deadlines),
        failing_feeds=tuple(sorted(failing_feeds, key=lambda f: (f.disabled_reason is None, f.name))),
        alert_count=len(kept),
        generated_at=generated_at,
        followed=None if followed_tickers is None else frozenset(followed_tickers),
        watching_since=watching_since if watching_since is not None and watching_since > window.start else None,
    )


#: At most this many tickers are listed under a story; the rest are counted.
TICKERS_SHOWN = 6


def tickers_at_stake(
    assessment: Assessment, followed: Collection[str] | None, limit: int = TICKERS_SHOWN
) -> tuple[list[tuple[str, str]], int]:
    """The (ticker, direction) pairs worth a line under a story, and how many more there are.

    The companies the article names come first, most relevant first; then the tickers the rule
    moves, in watchlist order. Tickers the reader does not follow, and group-wide "neutral"
    entries, are left out: they are noise in a morning read.
    """
    relevance = assessment.relevance
    order = {ticker: index for index, ticker in enumerate(assessment.impacts)}
    candidates = [
        (ticker, direction)
        for ticker, direction in assessment.impacts.items()
        if (followed is None or ticker in followed) and (direction != "neutral" or ticker in relevance)
    ]
    candidates.sort(key=lambda pair: (-relevance.get(pair[0], 0), order[pair[0]]))
    return candidates[:limit], max(0, len(candidates) - limit)


def rank_sections(
    alerts: Sequence[DigestAlert], *, keep: Callable[[Story], bool] | None = None
) -> tuple[EventSection, ...]:
    """Reports as stories, each once, under its lead's event type; best story and section first.

    Reports stored with a story are grouped by it; the rest (price alerts, articles stored
    before stories) by link, text and event (`events.stories.group_stories`), so two outlets
    whose reports of one story the rules typed differently still make one story. A story with
    no alerted report is dropped, and so is one `keep` refuses.
    """
    by_story: dict[int, list[DigestAlert]] = {}
    loose: list[DigestAlert] = []
    for alert in alerts:
        if alert.story_id is not None:
            by_story.setdefault(alert.story_id, []).append(alert)
        else:
            loose.append(alert)
    groups = list(by_story.values()) + group_stories(loose, lambda a: a.told)
    by_type: dict[str, list[Story]] = {}
    for group in groups:
        if not any(a.alerted for a in group):
            continue
        ordered = sorted(group, key=_lead_first)
        story = Story(ordered[0], tuple(ordered))
        if keep is not None and not keep(story):
            continue
        by_type.setdefault(story.lead.event_type, []).append(story)
    sections = []
    for event_type, stories in by_type.items():
        stories.sort(key=lambda s: (-s.score, _lead_first(s.lead)))
        label = EVENT_LABELS.get(event_type, "Other alerts" if event_type == OTHER_EVENTS else event_type)
        sections.append(EventSection(event_type, label, tuple(stories)))
    order = {event_type: i for i, event_type in enumerate(EVENT_TYPES)}
    sections.sort(key=lambda s: (-s.top_score, order.get(s.event_type, len(order))))
    return tuple(sections)


def _lead_first(alert: DigestAlert) -> tuple:
    # The official report leads; then alerts before other reports, the highest score first;
    # on a tie the earliest, since it broke the news.
    published = alert.published or alert.raised_at
    return (alert.kind != "official", not alert.alerted, -alert.score, published, alert.title)
