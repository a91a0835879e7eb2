"""Feed rows: syncing with feeds.yaml, leasing due feeds, and recording each poll's outcome."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, case, func, or_, update
from sqlmodel import Session, select

from service.domain.feeds import FeedSpec
from service.errors import LeaseLost
from service.store.models import Feed
from service.store.types import UTCDateTime


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)


def sync_feeds(session: Session, specs: Sequence[FeedSpec], now: datetime) -> SyncReport:
    """Make the feeds table match feeds.yaml: add new feeds, apply edits, retire removed ones.

    A changed URL starts afresh (validators, health, a 410 disablement, the backfill of its first
    successful poll), since it is a new source.
    """
    report = SyncReport()
    existing = {feed.name: feed for feed in session.exec(select(Feed))}
    wanted = {spec.name: spec for spec in specs}
    for name, spec in wanted.items():
        url = str(spec.url)
        feed = existing.get(name)
        if feed is None:
            session.add(
                Feed(
                    name=name,
                    url=url,
                    interval_seconds=spec.interval,
                    kind=spec.kind,
                    weight=spec.source_weight,
                    enabled=spec.enabled,
                    backfill=spec.backfill,
                    next_poll_at=now,
                )
            )
            report.added.append(name)
            continue
        before = (feed.url, feed.interval_seconds, feed.kind, feed.weight, feed.enabled, feed.backfill)
        if feed.url != url:
            feed.url = url
            feed.etag = feed.last_modified = feed.body_hash = None
            # Its first successful poll is a first poll: what the new source holds is backfill.
            feed.last_success_at = None
            feed.consecutive_failures = 0
            feed.disabled_reason = None
            feed.next_poll_at = now
        if feed.interval_seconds != spec.interval and feed.consecutive_failures == 0:
            feed.next_poll_at = min(feed.next_poll_at or now, now + timedelta(seconds=spec.interval))
        feed.interval_seconds = spec.interval
        feed.kind = spec.kind
        feed.weight = spec.source_weight
        if spec.enabled and not feed.enabled:
            feed.next_poll_at = now
        feed.enabled = spec.enabled
        feed.backfill = spec.backfill
        if before != (feed.url, feed.interval_seconds, feed.kind, feed.weight, feed.enabled, feed.backfill):
            report.changed.append(name)
    for name, feed in existing.items():
        if name not in wanted and feed.enabled:
            feed.enabled = False
            report.retired.append(name)
    session.commit()
    return report


def claim_due_feeds(
    session: Session, owner: str, now: datetime, lease: timedelta, *, names: Sequence[str] | None = None
) -> list[Feed]:
    """Lease every due feed no other instance holds, and return them.

    The conditional UPDATE is atomic per row on SQLite and PostgreSQL, so two instances never
    poll the same feed at once. A killed instance's leases are freed by the others once its
    heartbeat stops (store/instances.py); a lease without a heartbeat behind it runs out.
    """
    token = f"{owner}:{uuid.uuid4().hex[:12]}"
    due = (
        update(Feed)
        .where(
            Feed.enabled.is_(True),
            Feed.disabled_reason.is_(None),
            or_(Feed.next_poll_at.is_(None), Feed.next_poll_at <= now),
            or_(Feed.lease_until.is_(None), Feed.lease_until < now),
        )
        .values(lease_owner=token, lease_until=now + lease)
    )
    if names is not None:
        due = due.where(Feed.name.in_(list(names)))
    session.exec(due)
    session.commit()
    return list(session.exec(select(Feed).where(Feed.lease_owner == token).order_by(Feed.id)))


def next_due_at(session: Session) -> datetime | None:
    """When the earliest feed falls due that this or another instance could lease: its next poll
    time, or the end of the lease another instance holds on it. None without any feed to poll.

    The same conditions as `claim_due_feeds`, so what this says is due, a claim takes."""
    free_after = case(
        (
            and_(Feed.lease_until.is_not(None), or_(Feed.next_poll_at.is_(None), Feed.lease_until > Feed.next_poll_at)),
            Feed.lease_until,
        ),
        else_=Feed.next_poll_at,
    )
    polled = (Feed.enabled.is_(True), Feed.disabled_reason.is_(None))
    never = session.exec(
        select(Feed.id).where(*polled, Feed.next_poll_at.is_(None), Feed.lease_until.is_(None)).limit(1)
    ).first()
    if never is not None:
        return datetime.min.replace(tzinfo=UTC)  # a feed never scheduled is due at once
    return session.exec(select(func.min(free_after, type_=UTCDateTime)).where(*polled)).one()


def locked_feed(session: Session, feed_id: int, token: str) -> Feed:
    """The feed's row, locked until the caller commits, if the poll holding lease `token` still
    holds it. Raises LeaseLost if another instance took the feed over (this one was frozen or
    cut off for longer than REEWATCH_INSTANCE_TIMEOUT): the poll's result must not be stored."""
    feed = session.get(Feed, feed_id, with_for_update=session.get_bind().dialect.name == "postgresql")
    if feed is None:
        raise LookupError(f"feed {feed_id} vanished while being polled")
    if feed.lease_owner != token:
        raise LeaseLost(f"the poll of feed {feed.name}")
    return feed


def release(feed: Feed) -> None:
    feed.lease_owner = None
    feed.lease_until = None


def feeds_for_status(session: Session) -> list[Feed]:
    return list(session.exec(select(Feed).order_by(Feed.enabled.desc(), Feed.name)))


def enable_feed(session: Session, name: str, now: datetime) -> Feed | None:
    """Clear a disablement (410) and a failure streak so the feed is polled on the next tick."""
    feed = session.exec(select(Feed).where(Feed.name == name)).first()
    if feed is None:
        return None
    feed.disabled_reason = None
    feed.consecutive_failures = 0
    feed.next_poll_at = now
    session.commit()
    return feed


def failing_feeds(session: Session) -> list[Feed]:
    """Feeds still in feeds.yaml whose last poll failed, or that are disabled until someone acts."""
    return list(
        session.exec(
            select(Feed)
            .where(Feed.enabled.is_(True), or_(Feed.consecutive_failures > 0, Feed.disabled_reason.is_not(None)))
            .order_by(Feed.name)
        )
    )
