"""Stories in the database: placing each new report in its story, and reading stories back.

Placing runs in the transaction that stores the reports, so an article never exists without its
story. Candidates come from the story index (`story_keys`): the rows sharing one of the new
report's LSH bands or event keys, published within the story span of it. The lookup reads an
index range per key, whatever the number of stored reports; `service.events.stories` decides.

Two instances storing reports of one story at once must not both start it: on PostgreSQL,
placing takes a transaction-scoped advisory lock, held until the storing transaction commits
(one feed's batch: milliseconds). SQLite has one writer at a time anyway.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, bindparam, insert, text, update
from sqlmodel import Session, select

from service.domain.feeds import SOURCE_WEIGHTS
from service.domain.scoring import SEVERITIES
from service.events.novelty import novelty
from service.events.signature import EventSignature
from service.events.sketch import Sketch
from service.events.stories import SPAN, Candidate, Match, Told, best_match
from service.store.models import Article, Feed, Story, StoryKey

#: The advisory lock that serialises story placement across instances (PostgreSQL).
PLACEMENT_LOCK = 0x7265_6577_6174_6368  # "reewatch"
#: A feed's clock may run a little fast; beyond this, its publication time is not believed.
FUTURE_SLACK = timedelta(hours=1)
#: At most this many stored reports are compared with a new one (the nearest in time first):
#: bounds the work when a very common key (a routine filing) collects many rows in the span.
MAX_CANDIDATES = 200


def report_time(published: datetime | None, seen: datetime) -> datetime:
    """When a report came out: its publication time, unless it has none or lies in the future."""
    if published is None or published > seen + FUTURE_SLACK:
        return seen
    return published


@dataclass(frozen=True)
class NewReport:
    """A report just stored, as placing needs it."""

    article_id: int
    title: str
    #: The feed's name and kind ("official", "wire", ...).
    source: str
    kind: str
    told: Told
    #: The rules' severity when a rule fired, else None.
    severity: str | None = None


@dataclass(frozen=True)
class Before:
    """The story as it stood before a report joined it: what the report is judged against."""

    reports: int
    sources: tuple[str, ...]
    severity: str | None
    official: bool
    state: str


@dataclass
class Placement:
    """Where a report went: its story (the row, updated), how it joined, its novelty."""

    article_id: int
    story: Story
    #: None when the report started the story.
    match: Match | None
    novelty: int
    before: Before = field(default_factory=lambda: Before(0, (), None, False, "no alert"))

    @property
    def new(self) -> bool:
        return self.match is None


def place_reports(session: Session, reports: Sequence[NewReport]) -> dict[int, Placement]:
    """Put each report in its story (a new one when none matches), oldest first, so a later
    report in the same batch can join an earlier one; index it; return where each went.

    Runs in the caller's transaction and never commits.
    """
    if not reports:
        return {}
    if session.get_bind().dialect.name == "postgresql":
        session.exec(text("SELECT pg_advisory_xact_lock(:key)").bindparams(key=PLACEMENT_LOCK))  # type: ignore[call-overload]
    placements: dict[int, Placement] = {}
    for report in sorted(reports, key=lambda r: (r.told.at, r.article_id)):
        told = report.told
        signature_keys = told.signature.index_keys()
        keys = told.sketch.bands() + signature_keys
        candidates = story_candidates(session, keys, told.at, exclude=report.article_id)
        match = best_match(told, candidates)
        story = session.get(Story, match.story_id) if match is not None else None
        if story is None:
            story = Story(
                title=report.title,
                first_seen=told.at,
                last_seen=told.at,
                event_type=told.signature.event_types[0] if told.signature.judged else None,
                sources=[],
                tickers=[],
            )
            session.add(story)
            session.flush()
            earlier: list[datetime] = []
        else:
            earlier = _report_times(session, story.id)
        before = Before(story.reports, tuple(story.sources), story.severity, story.official, story.state)
        _merge(story, report)
        rows = [{"key": key, "article_id": report.article_id, "story_id": story.id, "at": told.at} for key in dict.fromkeys(keys)]
        if rows:
            session.exec(insert(StoryKey), params=rows)  # type: ignore[call-overload]
        session.exec(
            update(Article)  # type: ignore[call-overload]
            .where(Article.id == report.article_id)
            .values(story_id=story.id, sketch=told.sketch.values or None, signature=told.signature.to_json())
        )
        placements[report.article_id] = Placement(report.article_id, story, match, novelty(told.at, earlier), before)
    session.flush()
    return placements


#: Candidates already read, per engine: a stored report's sketch, signature and story never
#: change, and each is a candidate for every report published near it.
_known: WeakKeyDictionary[Engine, OrderedDict[int, Candidate]] = WeakKeyDictionary()
KNOWN_REPORTS = 20_000

_CANDIDATES = (
    select(StoryKey.article_id, StoryKey.story_id, StoryKey.at)
    .where(StoryKey.key.in_(bindparam("keys", expanding=True)), StoryKey.at >= bindparam("lo"), StoryKey.at <= bindparam("hi"))  # type: ignore[attr-defined]
    .distinct()
)
_DETAILS = (
    select(Article.id, Article.sketch, Article.signature, Article.canonical_link, Feed.kind)
    .join(Feed, Feed.id == Article.feed_id)
    .where(Article.id.in_(bindparam("ids", expanding=True)))  # type: ignore[union-attr]
)


def story_candidates(session: Session, keys: Sequence[int], at: datetime, *, exclude: int | None = None) -> list[Candidate]:
    """Stored reports sharing any of `keys` and published within SPAN of `at`, nearest first."""
    if not keys:
        return []
    found = session.exec(_CANDIDATES, params={"keys": sorted(set(keys)), "lo": at - SPAN, "hi": at + SPAN}).all()  # type: ignore[call-overload]
    nearest: dict[int, tuple[int, datetime]] = {}
    for article_id, story_id, moment in found:
        if article_id != exclude:
            nearest[article_id] = (story_id, moment)
    chosen = sorted(nearest, key=lambda a: abs(nearest[a][1] - at))[:MAX_CANDIDATES]
    if not chosen:
        return []
    known = _known_for(session)
    unread = [article_id for article_id in chosen if article_id not in known]
    if unread:
        for article_id, values, signature, link, kind in session.exec(_DETAILS, params={"ids": unread}):  # type: ignore[call-overload]
            story_id, moment = nearest[article_id]
            told = Told(moment, Sketch(bytes(values or b"")), EventSignature.from_json(signature), link, kind == "official")
            known[article_id] = Candidate(article_id, story_id, told)
        while len(known) > KNOWN_REPORTS:
            known.popitem(last=False)
    return [known[article_id] for article_id in chosen if article_id in known]


def _known_for(session: Session) -> OrderedDict[int, Candidate]:
    engine = session.get_bind()
    known = _known.get(engine)  # type: ignore[arg-type]
    if known is None:
        known = _known[engine] = OrderedDict()  # type: ignore[index]
    return known


def _report_times(session: Session, story_id: int) -> list[datetime]:
    rows = session.exec(select(Article.published, Article.fetched_at).where(Article.story_id == story_id)).all()
    return [report_time(published, fetched) for published, fetched in rows]


def _merge(story: Story, report: NewReport) -> None:
    """What a new report changes in its story's own record (not in what the desk was told)."""
    at = report.told.at
    story.first_seen = min(story.first_seen, at)
    story.last_seen = max(story.last_seen, at)
    story.reports += 1
    if report.source not in story.sources:
        story.sources = [*story.sources, report.source]
    if report.kind == "official":
        story.official = True
    if story.event_type is None and report.told.signature.judged:
        story.event_type = report.told.signature.event_types[0]
    if report.severity is not None and (story.severity is None or _rank(report.severity) > _rank(story.severity)):
        story.severity = report.severity


def _rank(severity: str | None) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else -1


def raised(severity: str | None) -> str:
    """One step more urgent (an official confirmation of a press story), at most critical."""
    rank = _rank(severity)
    return SEVERITIES[min(rank + 1, len(SEVERITIES) - 1)] if rank >= 0 else SEVERITIES[1]


def more_severe(a: str | None, b: str | None) -> bool:
    """Whether severity `a` is more urgent than `b`."""
    return _rank(a) > _rank(b)


@dataclass(frozen=True)
class StoryReport:
    """One report of a story, as `reewatch stories` and the digest list them."""

    article_id: int
    title: str
    link: str | None
    source: str
    kind: str
    published: datetime
    score: int | None
    severity: str | None
    alert: bool
    quiet: str | None


@dataclass(frozen=True)
class StoryListing:
    story: Story
    reports: tuple[StoryReport, ...]

    @property
    def lead(self) -> StoryReport:
        """The official report when there is one, else the highest scored, else the first."""
        return min(self.reports, key=lead_order)


def lead_order(report: StoryReport) -> tuple:
    return (report.kind != "official", -(report.score or 0), -SOURCE_WEIGHTS.get(report.kind, 0), report.published, report.article_id)


def recent_stories(session: Session, since: datetime, *, judged_only: bool = True, limit: int = 500) -> list[StoryListing]:
    """Stories with a report published since `since`, newest first, each with its reports.

    `judged_only` leaves out stories no rule fired on (every stored article has a story).
    """
    query = select(Story).where(Story.last_seen >= since)
    if judged_only:
        query = query.where(Story.event_type.is_not(None))  # type: ignore[union-attr]
    stories = list(session.exec(query.order_by(Story.last_seen.desc(), Story.id.desc()).limit(limit)))  # type: ignore[union-attr]
    if not stories:
        return []
    reports: dict[int, list[StoryReport]] = {s.id: [] for s in stories}  # type: ignore[misc]
    rows = session.exec(
        select(Article, Feed.name, Feed.kind)
        .join(Feed, Feed.id == Article.feed_id)
        .where(Article.story_id.in_(list(reports)))  # type: ignore[union-attr]
        .order_by(Article.id)
    )
    for article, feed_name, kind in rows:
        reports[article.story_id].append(  # type: ignore[index]
            StoryReport(
                article.id,  # type: ignore[arg-type]
                article.title,
                article.link,
                feed_name,
                kind,
                report_time(article.published, article.fetched_at),
                article.score,
                article.severity,
                bool(article.alert),
                article.quiet,
            )
        )
    return [StoryListing(s, tuple(sorted(reports[s.id], key=lambda r: (r.published, r.article_id)))) for s in stories]  # type: ignore[index]
