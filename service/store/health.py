"""Read-only queries for /readyz and /metrics: is the database there, and how do the work queues stand."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, text
from sqlmodel import Session, select

from service.store.feeds import next_due_at
from service.store.models import DigestRun, Feed, OutboxAlert
from service.store.types import UTCDateTime


@dataclass(frozen=True)
class PollingState:
    """The feeds' schedule as the database has it, whichever instance polls."""

    #: When any instance last polled a feed; None before the first poll.
    last_polled_at: datetime | None
    #: When the earliest feed nobody holds falls due; None without feeds to poll.
    next_due_at: datetime | None


@dataclass(frozen=True)
class QueueState:
    alerts_by_status: dict[str, int] = field(default_factory=dict)
    #: Seconds the oldest due, pending alert has waited since it was queued; None when none waits.
    oldest_pending_age: float | None = None
    digests_by_status: dict[str, int] = field(default_factory=dict)


def polling_state(session: Session) -> PollingState:
    """Check the connection and read the feeds' schedule."""
    session.exec(text("SELECT 1"))
    last = session.exec(select(func.max(Feed.last_polled_at, type_=UTCDateTime))).one()
    return PollingState(last, next_due_at(session))


def queue_state(session: Session, now: datetime) -> QueueState:
    alerts = dict(session.exec(select(OutboxAlert.status, func.count()).group_by(OutboxAlert.status)).all())
    oldest = session.exec(
        select(func.min(OutboxAlert.created_at, type_=UTCDateTime)).where(
            OutboxAlert.status == "pending", OutboxAlert.next_attempt_at <= now
        )
    ).one()
    digests = dict(session.exec(select(DigestRun.status, func.count()).group_by(DigestRun.status)).all())
    age = max(0.0, (now - oldest).total_seconds()) if oldest is not None else None
    return QueueState(alerts, age, digests)
