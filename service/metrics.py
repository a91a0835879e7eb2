"""What the service counts for Prometheus (served at /metrics, see service/health.py).

Two kinds of figures:
- this process's work, counted as it happens: polls and failures per feed, articles stored,
  alerts delivered (latency from queueing, and the article's age when its alert went out),
  price source errors;
- the shared database's state, read when /metrics is scraped: alerts by status, the age of the
  oldest pending alert, digest runs by status. Every instance reports the same values for
  these; aggregate them with max(), not sum().

One registry of our own, so tests and several runtimes in one process never collide with the
client library's global one.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics

# The `_created` series (when each counter was made) only double what is scraped.
disable_created_metrics()

REGISTRY = CollectorRegistry(auto_describe=True)

FEED_POLLS = Counter(
    "reewatch_feed_polls",
    "Feed polls by this instance, by feed and result (new, not_modified, unchanged, failed).",
    ["feed", "result"],
    registry=REGISTRY,
)
FEED_FAILURES = Counter(
    "reewatch_feed_poll_failures", "Failed feed polls by this instance, by feed.", ["feed"], registry=REGISTRY
)
ARTICLES = Counter("reewatch_articles_stored", "New articles stored by this instance, by feed.", ["feed"], registry=REGISTRY)
ALERTS_QUEUED = Counter(
    "reewatch_alerts_queued", "Outbox alerts queued by this instance's polls, by feed.", ["feed"], registry=REGISTRY
)
LAST_POLL = Gauge(
    "reewatch_last_poll_timestamp_seconds", "When this instance last finished polling a feed (Unix time).", registry=REGISTRY
)
DELIVERY_LATENCY = Histogram(
    "reewatch_alert_delivery_latency_seconds",
    "From an alert being queued to Slack (or the console) accepting it, by kind (news, price, followup).",
    ["kind"],
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600),
    registry=REGISTRY,
)
ARTICLE_AGE_AT_ALERT = Histogram(
    "reewatch_article_age_at_alert_seconds",
    "From an article's publication (as its feed dates it) to its alert being delivered.",
    buckets=(15, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 24 * 3600),
    registry=REGISTRY,
)
PRICE_SOURCE_ERRORS = Counter(
    "reewatch_price_source_errors",
    "Price source errors seen by this instance, by source and kind (ticker_failed, rate_limited, cycle_failed).",
    ["source", "kind"],
    registry=REGISTRY,
)
DIGESTS_SENT = Counter("reewatch_digests_sent", "Digests this instance sent.", registry=REGISTRY)
INSTANCE_TAKEOVERS = Counter(
    "reewatch_instance_takeovers",
    "Dead instances (heartbeat older than REEWATCH_INSTANCE_TIMEOUT) whose work this instance took over.",
    registry=REGISTRY,
)
LEASE_TAKEOVERS = Counter(
    "reewatch_lease_takeovers",
    "Leases this instance freed from dead instances, by kind (feed, alert, digest).",
    ["kind"],
    registry=REGISTRY,
)

OUTBOX_ALERTS = Gauge(
    "reewatch_outbox_alerts", "Alerts in the outbox by status (database-wide).", ["status"], registry=REGISTRY
)
OUTBOX_OLDEST_PENDING = Gauge(
    "reewatch_outbox_oldest_pending_age_seconds",
    "Age of the oldest pending alert that is due (database-wide; 0 when none is waiting).",
    registry=REGISTRY,
)
DIGEST_RUNS = Gauge("reewatch_digest_runs", "Digest runs by status (database-wide).", ["status"], registry=REGISTRY)


def record_delivery(kind: str, queued_at: datetime, payload: Mapping[str, Any], now: datetime) -> None:
    """An alert reached its channel at `now`: how long it waited, and (for news) how old the
    article was, from the publication time frozen in its payload."""
    DELIVERY_LATENCY.labels(kind).observe(max(0.0, (now - queued_at).total_seconds()))
    published = payload.get("published") if kind == "news" else None
    if isinstance(published, str):
        try:
            moment = datetime.fromisoformat(published)
        except ValueError:
            return
        if moment.tzinfo is not None:
            ARTICLE_AGE_AT_ALERT.observe(max(0.0, (now - moment).total_seconds()))


def set_database_state(
    alerts_by_status: Mapping[str, int], oldest_pending_age: float | None, digests_by_status: Mapping[str, int]
) -> None:
    """The database-wide gauges, as just read (statuses absent from the read are zero)."""
    for status in {"pending", "sent", "failed", *alerts_by_status}:
        OUTBOX_ALERTS.labels(status).set(alerts_by_status.get(status, 0))
    OUTBOX_OLDEST_PENDING.set(oldest_pending_age or 0.0)
    for status in {"pending", "sent", "failed", *digests_by_status}:
        DIGEST_RUNS.labels(status).set(digests_by_status.get(status, 0))
