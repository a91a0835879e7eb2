"""Raising alerts: one outbox row per routed channel, in the transaction that stores what raised it.

Writing the rows with the article (not posting from the poll) is what makes an alert survive a
crash: it exists if and only if its article does, and the dispatcher delivers it later. A news
alert carries its tickers' prices as stored at that moment, and brings its follow-ups along:
rows due 15 and 60 minutes later (by default) that reply in its thread with the moves since.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from service.alerts.card import shown_tickers
from service.domain.alerts import FOLLOWUP, NEWS, PRICE, Alert, FollowUp, PriceAlert
from service.domain.scoring import Assessment, Direction, Source
from service.store.models import OutboxAlert
from service.store.outbox import PENDING, add_alerts, thread_parent, thread_parents
from service.store.prices import load_quotes

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


def routed_channels(assessment: Assessment, default_channel: str) -> list[str]:
    """The channels the alerting rules name, in order and once each, or the default channel."""
    channels = [c.strip()[:MAX_CHANNEL] for c in assessment.channels if c and c.strip()]
    return list(dict.fromkeys(channels)) or [default_channel[:MAX_CHANNEL]]


@dataclass(frozen=True)
class NewsAlert:
    """A stored article whose verdict may alert: what queueing needs to know about it."""

    article_id: int
    title: str
    link: str | None
    source: Source
    published: datetime | None
    assessment: Assessment


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
    """Queue one article's alert for each routed channel; nothing when the rules did not alert.

    See `queue_news_alerts`, which this calls with one article.
    """
    news = NewsAlert(article_id, title, link, source, published, assessment)
    return queue_news_alerts(session, [news], default_channel=default_channel, now=now, enrichment=enrichment)


def queue_news_alerts(
    session: Session,
    news: Sequence[NewsAlert],
    *,
    default_channel: str,
    now: datetime,
    enrichment: Enrichment = Enrichment(),
) -> list[OutboxAlert]:
    """Queue the alerts of a batch of articles (oldest first), one row per routed channel.

    A repeat of the same top rule and tickers within the rule's throttle window becomes a reply
    in the first alert's thread (posted once that alert has its ts), whether the first came in an
    earlier cycle or earlier in this batch. Each alert carries its shown tickers' prices as
    stored now, and brings its follow-ups. Runs in the caller's transaction and never commits;
    queueing the same article twice adds nothing. The whole batch costs a handful of queries,
    not a few per alert. Returns the alert rows (not their follow-ups).
    """
    alerting = [item for item in news if item.assessment.alert]
    if not alerting:
        return []
    shown = {item.article_id: shown_tickers(item.assessment.impacts, item.assessment.relevance) for item in alerting}
    every_ticker = list(dict.fromkeys(t for tickers in shown.values() for t in tickers))
    quotes = load_quotes(
        session, every_ticker, now, stale_sessions=enrichment.stale_sessions, intraday=enrichment.intraday
    )
    planned: list[tuple[dict[str, Any], tuple[str, str] | None]] = []
    cutoffs: dict[tuple[str, str], datetime] = {}
    for item in alerting:
        alert = Alert(
            article_id=item.article_id,
            title=item.title,
            link=item.link,
            source=item.source,
            published=item.published,
            assessment=item.assessment,
            quotes={t: quotes[t] for t in shown[item.article_id]},
        )
        payload = alert.to_payload()
        throttle_key = alert.throttle_key
        threaded = bool(throttle_key) and item.assessment.throttle_seconds > 0
        for channel in routed_channels(item.assessment, default_channel):
            row = {
                "key": alert_key(NEWS, item.article_id, channel),
                "kind": NEWS,
                "article_id": item.article_id,
                "channel": channel,
                "throttle_key": throttle_key,
                "parent_id": None,
                "payload": payload,
                "status": PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "outcome_unknown": False,
                "created_at": now,
            }
            thread = (throttle_key, channel) if threaded else None
            if thread is not None:
                cutoffs[thread] = now - timedelta(seconds=item.assessment.throttle_seconds)
            planned.append((row, thread))
    parents = thread_parents(session, cutoffs)
    # Rows whose thread has no parent yet: the first of each thread in this batch heads it, and
    # goes in first so the rest of the batch can reply to it.
    heads: list[dict[str, Any]] = []
    replies: list[tuple[dict[str, Any], tuple[str, str]]] = []
    heading: set[tuple[str, str]] = set()
    for row, thread in planned:
        if thread is None:
            heads.append(row)
        elif thread in parents:
            row["parent_id"] = parents[thread]
            heads.append(row)
        elif thread in heading:
            replies.append((row, thread))
        else:
            heading.add(thread)
            heads.append(row)
    queued = add_alerts(session, heads)
    started = {(a.throttle_key, a.channel): a.id for a in queued if a.parent_id is None and a.throttle_key}
    for row, thread in replies:
        row["parent_id"] = started.get(thread) or parents.get(thread)
    queued += add_alerts(session, [row for row, _ in replies])
    if enrichment.followup_minutes:
        by_article = {item.article_id: item for item in alerting}
        follow_ups = []
        for alert_row in queued:
            item = by_article[alert_row.article_id]
            tickers = tuple((t, item.assessment.impacts[t]) for t in shown[item.article_id])
            if tickers:
                follow_ups += _follow_ups([alert_row], item.article_id, item.title, tickers, enrichment.followup_minutes, now)
        add_alerts(session, follow_ups)
    return sorted(queued, key=lambda a: a.id)


def _follow_ups(
    alerts: Sequence[OutboxAlert],
    article_id: int,
    title: str,
    tickers: tuple[tuple[str, Direction], ...],
    minutes: Sequence[int],
    now: datetime,
) -> list[dict[str, Any]]:
    """Follow-up rows for each top-level alert: a repeat's story is followed up in the first alert's thread."""
    rows = []
    for alert in alerts:
        if alert.parent_id is not None:
            continue
        for delay in minutes:
            follow_up = FollowUp(article_id=article_id, title=title, alert_at=now, minutes=delay, tickers=tickers)
            rows.append(
                {
                    "key": alert_key(FOLLOWUP, f"{article_id}+{delay}m", alert.channel),
                    "kind": FOLLOWUP,
                    "article_id": article_id,
                    "channel": alert.channel,
                    "throttle_key": None,
                    "parent_id": alert.id,
                    "payload": follow_up.to_payload(),
                    "status": PENDING,
                    "attempts": 0,
                    "next_attempt_at": follow_up.due_at,
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
                "outcome_unknown": False,
                "created_at": now,
            }
        ],
    )
