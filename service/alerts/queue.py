"""Raising alerts: one outbox row per routed channel, in the transaction that stores the article.

Writing the rows with the article (not posting from the poll) is what makes an alert survive a
crash: it exists if and only if its article does, and the dispatcher delivers it later.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from service.domain.alerts import Alert
from service.domain.scoring import Assessment, Source
from service.store.models import OutboxAlert
from service.store.outbox import PENDING, add_alerts, thread_parent


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
) -> list[OutboxAlert]:
    """Queue the article's alert for each routed channel; nothing when the rules did not alert.

    A repeat of the same top rule and tickers within the rule's throttle window becomes a reply
    in the first alert's thread (posted once that alert has its ts). Runs in the caller's
    transaction and never commits. Queuing the same article twice adds nothing.
    """
    if not assessment.alert:
        return []
    alert = Alert(article_id=article_id, title=title, link=link, source=source, published=published, assessment=assessment)
    payload = alert.to_payload()
    throttle_key = alert.throttle_key
    rows = []
    for channel in routed_channels(assessment, default_channel):
        parent = None
        if throttle_key and assessment.throttle_seconds > 0:
            parent = thread_parent(session, throttle_key, channel, now - timedelta(seconds=assessment.throttle_seconds))
        rows.append(
            {
                "key": alert_key("news", article_id, channel),
                "kind": "news",
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
    return add_alerts(session, rows)
