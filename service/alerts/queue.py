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
from service.store.outbox import PENDING, add_alerts, thread_parent
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
    """Queue the article's alert for each routed channel; nothing when the rules did not alert.

    A repeat of the same top rule and tickers within the rule's throttle window becomes a reply
    in the first alert's thread (posted once that alert has its ts). Runs in the caller's
    transaction and never commits. Queuing the same article twice adds nothing. Returns the
    alert rows (not their follow-ups).
    """
    if not assessment.alert:
        return []
    shown = shown_tickers(assessment.impacts, assessment.relevance)
    quotes = load_quotes(
        session, shown, now, stale_sessions=enrichment.stale_sessions, intraday=enrichment.intraday
    )
    alert = Alert(
        article_id=article_id,
        title=title,
        link=link,
        source=source,
        published=published,
        assessment=assessment,
        quotes=quotes,
    )
    payload = alert.to_payload()
    throttle_key = alert.throttle_key
    rows = []
    for channel in routed_channels(assessment, default_channel):
        parent = None
        if throttle_key and assessment.throttle_seconds > 0:
            parent = thread_parent(session, throttle_key, channel, now - timedelta(seconds=assessment.throttle_seconds))
        rows.append(
            {
                "key": alert_key(NEWS, article_id, channel),
                "kind": NEWS,
                "article_id": article_id,
                "channel": channel,
                "throttle_key": throttle_key,
                "parent_id": parent.id if parent is not None else None,
                "payload": payload,
                "status": PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "outcome_unknown": False,
                "created_at": now,
            }
        )
    queued = add_alerts(session, rows)
    if shown and enrichment.followup_minutes:
        tickers = tuple((ticker, assessment.impacts[ticker]) for ticker in shown)
        add_alerts(session, _follow_ups(queued, article_id, title, tickers, enrichment.followup_minutes, now))
    return queued


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
