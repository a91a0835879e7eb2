"""Raising alerts: outbox rows per routed channel, in the transaction that stores what raised them.

Writing the rows with the article (not posting from the poll) is what makes an alert survive a
crash: it exists if and only if its article does, and the dispatcher delivers it later.

News is delivered per story (`service.events.stories`):

- a story's first alert-worthy report is a top-level alert in each channel its rules route to;
- a later report edits that alert (an "update" row: `chat.update`, "3 sources: ..."), and replies
  in its thread only when it adds something: an official source, a higher severity, tickers the
  story had not shown. An official confirmation of a story first seen in the press raises the
  story's severity a step, and its reply is broadcast to the channel too;
- a new story is always a top-level alert of its own, whatever a rule's throttle says.

A news alert names at most six tickers (`card.pick_tickers`) with their prices as stored at that
moment, and brings its follow-ups along: rows due once each ticker's own market has traded 15
and 60 minutes (by default) since the alert, one per such instant, covering the tickers that
trade together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import update
from sqlmodel import Session, select

from service.alerts.card import pick_tickers
from service.domain.alerts import FOLLOWUP, NEWS, PRICE, UPDATE, Alert, FollowUp, PriceAlert, StoryNote
from service.domain.markets import after_trading
from service.domain.scoring import Assessment, Direction, Source
from service.sources.prices.listings import UnknownListing, listing_for
from service.store.models import OutboxAlert, Story
from service.store.outbox import FAILED, PENDING, add_alerts, thread_parent
from service.store.prices import load_quotes
from service.store.stories import Placement, more_severe, raised, report_time

if TYPE_CHECKING:
    from service.config import Settings


@dataclass(frozen=True)
class Enrichment:
    """What a news alert adds about prices: quotes now, and follow-ups after `followup_minutes`."""

    stale_sessions: int = 3
    intraday: str = "5m"
    followup_minutes: Sequence[int] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> Enrichment:
        return cls(settings.price_stale_sessions, settings.price_intraday_interval, settings.followup_delays)


def alert_key(kind: str, subject: int | str, channel: str) -> str:
    """The idempotency key of one alert in one channel; it also goes into the Slack message."""
    return f"{kind}:{subject}:{channel}"


#: The outbox column's width. Slack names are at most 80 characters: a longer one is a typo in a
#: rule, and is cut rather than failing the article's transaction; Slack then answers
#: channel_not_found and the row shows it in `reewatch alerts status`.
MAX_CHANNEL = 100
#: What a later report can add to its story, as its reply's title says it.
OFFICIAL_SOURCE = "official source"


def routed_channels(assessment: Assessment, default_channel: str) -> list[str]:
    """The channels the alerting rules name, in order and once each, or the default channel."""
    channels = [c.strip()[:MAX_CHANNEL] for c in assessment.channels if c and c.strip()]
    return list(dict.fromkeys(channels)) or [default_channel[:MAX_CHANNEL]]


@dataclass(frozen=True)
class NewsAlert:
    """A stored article and its verdict (novelty applied): what queueing needs to know about it."""

    article_id: int
    title: str
    link: str | None
    source: Source
    published: datetime | None
    assessment: Assessment
    #: Where the report went among the stories; None makes it a story of its own.
    placement: Placement | None = None
    #: Why an alert-worthy report is stored without alerting ("backfill", "too old"); its story
    #: still counts it as a source.
    quiet: str | None = None

    @property
    def alerting(self) -> bool:
        return self.assessment.alert and self.quiet is None


#: Chooses the tickers an alert names: (named, how many more). See `card.pick_tickers`.
TickerChoice = Callable[[Assessment], tuple[list[str], int]]


class _RulesLike(Protocol):
    rules: list[Any]


def every_ticker(assessment: Assessment) -> tuple[list[str], int]:
    """Without the rules at hand: the named companies, then every ticker the verdict moves."""
    return pick_tickers(assessment.impacts, assessment.relevance)


def rule_tickers(ruleset: _RulesLike) -> TickerChoice:
    """The tickers an alert names under `ruleset`: the companies the article names, the tickers
    every fired rule names itself, then the strongest rule's own groups (for a rule that names
    none, its event types' default groups). Another rule's defaults never crowd them out."""
    by_id = {rule.id: rule for rule in ruleset.rules}

    def choose(assessment: Assessment) -> tuple[list[str], int]:
        fired = [by_id[r] for r in assessment.rules if r in by_id]
        if not fired:
            return every_ticker(assessment)
        order = list(assessment.impacts)
        explicit = [t for t in order if any(t in rule.named_tickers for rule in fired)]
        own = [t for t in order if t in fired[0].fixed_impact]
        return pick_tickers(assessment.impacts, assessment.relevance, rule_tickers=explicit + own)

    return choose


def queue_alerts(
    session: Session,
    *,
    article_id: int,
    title: str,
    link: str | None,
    source: Source,
    published: datetime | None,
    assessment: Assessment,
    default_channel: str,
    now: datetime,
    enrichment: Enrichment = Enrichment(),
) -> list[OutboxAlert]:
    """Queue one article's alert, as a story of its own, for each routed channel; nothing when
    the rules did not alert. See `queue_news_alerts`."""
    news = NewsAlert(article_id, title, link, source, published, assessment)
    return queue_news_alerts(session, [news], default_channel=default_channel, now=now, enrichment=enrichment)


def queue_news_alerts(
    session: Session,
    news: Sequence[NewsAlert],
    *,
    default_channel: str,
    now: datetime,
    enrichment: Enrichment = Enrichment(),
    tickers: TickerChoice = every_ticker,
) -> list[OutboxAlert]:
    """Queue what a batch of stored reports tells the desk, oldest first (see the module doc).

    Runs in the caller's transaction and never commits; queueing the same article twice adds
    nothing. Updates the reports' stories with what the desk has been shown. Returns the rows
    queued for the reports themselves (top-level alerts and replies; not updates or follow-ups).
    """
    ordered = sorted(news, key=lambda n: (report_time(n.published, now), n.article_id))
    picks = {n.article_id: tickers(n.assessment) for n in ordered if n.alerting}
    every = list(dict.fromkeys(t for shown, _ in picks.values() for t in shown))
    quotes = (
        load_quotes(session, every, now, stale_sessions=enrichment.stale_sessions, intraday=enrichment.intraday)
        if every
        else {}
    )
    stories = {n.placement.story.id for n in ordered if n.placement is not None}
    parents = story_parents(session, stories)
    queued: list[OutboxAlert] = []
    follow_ups: list[dict[str, Any]] = []
    for item in ordered:
        story = item.placement.story if item.placement is not None else None
        if not item.alerting:
            if story is not None:
                if item.assessment.alert and story.state != "alerted":
                    story.state, story.quiet_reason = "quiet", item.quiet
                if item.placement is not None and len(story.sources) != len(item.placement.before.sources):
                    _update_parents(session, story, parents, skip=(), now=now)
            continue
        shown, more = picks[item.article_id]
        alert = Alert(
            article_id=item.article_id,
            title=item.title,
            link=item.link,
            source=item.source,
            published=item.published,
            assessment=item.assessment,
            quotes={t: quotes[t] for t in shown if t in quotes},
            shown=tuple(shown),
            more=more,
        )
        adds, confirmation = _what_it_adds(item, shown, story)
        if story is not None and confirmation:
            story.severity = _most_severe(item.assessment.severity, raised(item.placement.before.severity))  # type: ignore[union-attr]
        created: list[str] = []
        for channel in routed_channels(item.assessment, default_channel):
            parent = parents.get((story.id, channel)) if story is not None else None
            if parent is None:
                row = _news_row(alert, story, channel, now, sort_at=report_time(item.published, now))
                [inserted] = add_alerts(session, [row]) or [None]
                if inserted is None:
                    continue  # queued before (the same article twice)
                queued.append(inserted)
                created.append(channel)
                if story is not None:
                    parents[(story.id, channel)] = inserted
                shown_moves = tuple((t, item.assessment.impacts[t]) for t in shown)
                follow_ups += _follow_ups(inserted, item, shown_moves, enrichment.followup_minutes, now)
            elif adds:
                reply = replace(alert, adds=tuple(adds), broadcast=confirmation, story=_note(story))
                row = _news_row(reply, story, channel, now, sort_at=parent.sort_at, parent=parent)
                queued += add_alerts(session, [row])
        if story is not None and item.placement is not None:
            if created and story.state != "alerted":
                story.state, story.quiet_reason, story.alerted_at = "alerted", None, now
            story.tickers = list(dict.fromkeys([*story.tickers, *shown]))
            before = item.placement.before
            if len(story.sources) != len(before.sources) or story.severity != before.severity:
                _update_parents(session, story, parents, skip=created, now=now)
    add_alerts(session, follow_ups)
    return sorted(queued, key=lambda a: a.id)


def story_parents(session: Session, story_ids: Iterable[int]) -> dict[tuple[int, str], OutboxAlert]:
    """Each story's first top-level alert per channel, unless it failed."""
    ids = sorted(set(story_ids))
    if not ids:
        return {}
    rows = session.exec(
        select(OutboxAlert)
        .where(
            OutboxAlert.story_id.in_(ids),  # type: ignore[union-attr]
            OutboxAlert.kind == NEWS,
            OutboxAlert.parent_id.is_(None),  # type: ignore[union-attr]
            OutboxAlert.status != FAILED,
        )
        .order_by(OutboxAlert.id)
    )
    found: dict[tuple[int, str], OutboxAlert] = {}
    for row in rows:
        found.setdefault((row.story_id, row.channel), row)  # type: ignore[arg-type]
    return found


def _what_it_adds(item: NewsAlert, shown: Sequence[str], story: Story | None) -> tuple[list[str], bool]:
    """What a later report adds to what its story showed, and whether it is an official
    confirmation of a story first seen in the press."""
    if story is None or item.placement is None or story.state != "alerted":
        return [], False
    before = item.placement.before
    adds = []
    confirmation = item.source.kind == "official" and not before.official
    if confirmation:
        adds.append(OFFICIAL_SOURCE)
    if more_severe(item.assessment.severity, before.severity):
        adds.append(f"severity {item.assessment.severity}")
    new_tickers = [t for t in shown if t not in story.tickers]
    if new_tickers:
        adds.append("tickers " + ", ".join(new_tickers))
    return adds, confirmation


def _note(story: Story | None) -> StoryNote | None:
    if story is None:
        return None
    return StoryNote(story.id, tuple(story.sources), story.reports, story.severity)  # type: ignore[arg-type]


def _most_severe(a: str | None, b: str | None) -> str | None:
    return a if more_severe(a, b) else b


def _news_row(
    alert: Alert,
    story: Story | None,
    channel: str,
    now: datetime,
    *,
    sort_at: datetime,
    parent: OutboxAlert | None = None,
) -> dict[str, Any]:
    if parent is None and story is not None:
        alert = replace(alert, story=_note(story))
    subject = alert.article_id if parent is None else f"{alert.article_id}>{parent.id}"
    return {
        "key": alert_key(NEWS, subject, channel),
        "kind": NEWS,
        "article_id": alert.article_id,
        "channel": channel,
        "throttle_key": None,
        "story_id": story.id if story is not None else None,
        "parent_id": parent.id if parent is not None else None,
        "payload": alert.to_payload(),
        "status": PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "sort_at": sort_at,
        "outcome_unknown": False,
        "created_at": now,
    }


def _update_parents(
    session: Session,
    story: Story,
    parents: dict[tuple[int, str], OutboxAlert],
    *,
    skip: Sequence[str],
    now: datetime,
) -> None:
    """Bring each of the story's top-level alerts up to date with its sources and severity.

    A parent not yet attempted is rewritten in place (nobody has seen it); otherwise an update
    row edits the posted message. Updates not yet attempted for the same message are replaced
    by the newest, so a busy story costs one edit, not one per report.
    """
    note = _note(story)
    for (story_id, channel), parent in parents.items():
        if story_id != story.id or channel in skip:
            continue
        try:
            alert = Alert.from_payload(parent.payload)
        except (KeyError, TypeError, ValueError):
            continue  # an unreadable parent fails on its own; nothing to edit
        payload = replace(alert, story=note).to_payload()
        unseen = session.exec(
            update(OutboxAlert)  # type: ignore[call-overload]
            .where(
                OutboxAlert.id == parent.id,
                OutboxAlert.status == PENDING,
                OutboxAlert.attempts == 0,
                OutboxAlert.lease_owner.is_(None),  # type: ignore[union-attr]
            )
            .values(payload=payload)
        )
        if unseen.rowcount:
            parent.payload = payload
            continue
        replaced = session.exec(
            update(OutboxAlert)  # type: ignore[call-overload]
            .where(
                OutboxAlert.parent_id == parent.id,
                OutboxAlert.kind == UPDATE,
                OutboxAlert.status == PENDING,
                OutboxAlert.attempts == 0,
                OutboxAlert.lease_owner.is_(None),  # type: ignore[union-attr]
            )
            .values(payload=payload)
        )
        if replaced.rowcount:
            continue
        add_alerts(
            session,
            [
                {
                    "key": alert_key(UPDATE, f"{parent.id}#{story.reports}", channel),
                    "kind": UPDATE,
                    "article_id": parent.article_id,
                    "channel": channel,
                    "throttle_key": None,
                    "story_id": story.id,
                    "parent_id": parent.id,
                    "payload": payload,
                    "status": PENDING,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "sort_at": parent.sort_at,
                    "outcome_unknown": False,
                    "created_at": now,
                }
            ],
        )


def follow_up_times(tickers: Sequence[tuple[str, Direction]], minutes: int, alert_at: datetime) -> dict[datetime, list[tuple[str, Direction]]]:
    """The tickers grouped by when their own market has traded `minutes` minutes since the alert.

    Tickers whose exchange is unknown, or has no trading in sight, get no follow-up.
    """
    groups: dict[datetime, list[tuple[str, Direction]]] = {}
    for ticker, direction in tickers:
        try:
            due = after_trading(listing_for(ticker).exchange, alert_at, minutes)
        except (UnknownListing, LookupError, KeyError):
            continue
        groups.setdefault(due, []).append((ticker, direction))
    return dict(sorted(groups.items()))


def _follow_ups(
    alert: OutboxAlert,
    item: NewsAlert,
    tickers: tuple[tuple[str, Direction], ...],
    minutes: Sequence[int],
    now: datetime,
) -> list[dict[str, Any]]:
    """Follow-up rows for a story's top-level alert: one per follow-up time and trading instant."""
    rows = []
    for delay in minutes:
        for due, group in follow_up_times(tickers, delay, now).items():
            follow_up = FollowUp(
                article_id=item.article_id, title=item.title, alert_at=now, minutes=delay, tickers=tuple(group), due=due
            )
            rows.append(
                {
                    "key": alert_key(FOLLOWUP, f"{item.article_id}+{delay}m@{int(due.timestamp())}", alert.channel),
                    "kind": FOLLOWUP,
                    "article_id": item.article_id,
                    "channel": alert.channel,
                    "throttle_key": None,
                    "story_id": alert.story_id,
                    "parent_id": alert.id,
                    "payload": follow_up.to_payload(),
                    "status": PENDING,
                    "attempts": 0,
                    "next_attempt_at": due,
                    "sort_at": due,
                    "outcome_unknown": False,
                    "created_at": now,
                }
            )
    return rows


def queue_price_alert(
    session: Session, alert: PriceAlert, *, channel: str, throttle_seconds: int, now: datetime
) -> list[OutboxAlert]:
    """Queue a price rule's alert, once per rule, ticker and session; no commit.

    Price alerts on one ticker within the rule's throttle window of the first share its thread.
    Returns the row, or nothing when this rule already alerted on this ticker in this session.
    """
    channel = channel[:MAX_CHANNEL]
    throttle_key = f"price|{alert.ticker}"
    parent = None
    if throttle_seconds > 0:
        parent = thread_parent(session, throttle_key, channel, now - timedelta(seconds=throttle_seconds))
    return add_alerts(
        session,
        [
            {
                "key": alert_key(PRICE, f"{alert.rule_id}:{alert.ticker}:{alert.session.isoformat()}", channel),
                "kind": PRICE,
                "article_id": None,
                "channel": channel,
                "throttle_key": throttle_key,
                "parent_id": parent.id if parent is not None else None,
                "payload": alert.to_payload(),
                "status": PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "sort_at": parent.sort_at if parent is not None else now,
                "outcome_unknown": False,
                "created_at": now,
            }
        ],
    )
