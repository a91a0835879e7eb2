"""Outbox rows: queued in the caller's transaction, leased by a dispatcher, recorded after each attempt.

Every function takes the caller's session. `add_alerts` and `thread_parent` never commit: they
run inside the transaction that stores the article. The dispatcher's functions (claim, begin,
record, release) each commit their own short transaction, and each acts only while the caller's
lease token still holds the row: an instance that froze past its heartbeat timeout, whose rows
another instance took over, must not post them or record their outcome.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, or_, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from service.redaction import scrub
from service.store.models import OutboxAlert
from service.store.upsert import insert_ignoring_conflicts

PENDING, SENT, FAILED = "pending", "sent", "failed"
#: A row never to be sent: a calendar reminder that a later reminder of the same date superseded.
SKIPPED = "skipped"


@dataclass(frozen=True)
class Claimed:
    """A leased row, with its thread's parent when it is a reply."""

    alert: OutboxAlert
    parent: OutboxAlert | None = None
    lease_token: str = ""

    @property
    def thread(self) -> tuple[str, str] | None:
        """(channel id, ts) of the sent parent to reply under; None posts a top-level message."""
        if self.parent is not None and self.parent.status == SENT and self.parent.ts and self.parent.channel_id:
            return self.parent.channel_id, self.parent.ts
        return None


def parent_of(session: Session, alert: OutboxAlert) -> OutboxAlert | None:
    """The row `alert` replies to, as it stands now."""
    return session.get(OutboxAlert, alert.parent_id) if alert.parent_id is not None else None


def thread_parent(session: Session, throttle_key: str, channel: str, since: datetime) -> OutboxAlert | None:
    """The first top-level alert with this key in this channel since `since`, unless it failed."""
    return session.exec(
        select(OutboxAlert)
        .where(
            OutboxAlert.throttle_key == throttle_key,
            OutboxAlert.channel == channel,
            OutboxAlert.created_at >= since,
            OutboxAlert.parent_id.is_(None),
            OutboxAlert.status != FAILED,
        )
        .order_by(OutboxAlert.created_at, OutboxAlert.id)
        .limit(1)
    ).first()


def thread_parents(session: Session, threads: dict[tuple[str, str], datetime]) -> dict[tuple[str, str], int]:
    """For many (throttle key, channel) threads at once: the id of each one's first top-level
    alert since its own cut-off, unless it failed. Threads without one are left out."""
    if not threads:
        return {}
    keys = sorted({key for key, _ in threads})
    channels = sorted({channel for _, channel in threads})
    rows = session.exec(
        select(OutboxAlert.id, OutboxAlert.throttle_key, OutboxAlert.channel, OutboxAlert.created_at)
        .where(
            OutboxAlert.throttle_key.in_(keys),
            OutboxAlert.channel.in_(channels),
            OutboxAlert.created_at >= min(threads.values()),
            OutboxAlert.parent_id.is_(None),
            OutboxAlert.status != FAILED,
        )
        .order_by(OutboxAlert.created_at, OutboxAlert.id)
    ).all()
    found: dict[tuple[str, str], int] = {}
    for alert_id, key, channel, created_at in rows:
        thread = (key, channel)
        if thread in threads and thread not in found and created_at >= threads[thread]:
            found[thread] = alert_id
    return found


def add_alerts(session: Session, rows: Sequence[dict[str, Any]]) -> list[OutboxAlert]:
    """Insert outbox rows, skipping keys already queued; returns the rows inserted. No commit."""
    if not rows:
        return []
    inserted = session.exec(insert_ignoring_conflicts(session, OutboxAlert).returning(OutboxAlert.id), params=list(rows)).all()
    ids = [row.id for row in inserted]
    if not ids:
        return []
    return list(session.exec(select(OutboxAlert).where(OutboxAlert.id.in_(ids)).order_by(OutboxAlert.id)))


def queued_keys(session: Session, keys: Iterable[str]) -> set[str]:
    """Which of `keys` are in the outbox already, whatever their status."""
    wanted = sorted(set(keys))
    if not wanted:
        return set()
    return set(session.exec(select(OutboxAlert.key).where(OutboxAlert.key.in_(wanted))))


def skip_unsent(session: Session, *, key_prefixes: Iterable[str] = (), threads: Iterable[str] = (), now: datetime, reason: str) -> int:
    """Mark rows never attempted and held by nobody as skipped, so they are never sent: those
    whose key starts with one of `key_prefixes`, and every row of the `threads` (throttle keys).
    Returns how many; no commit.

    A row already attempted, or leased by a dispatcher, is left to finish: its post may be on
    its way. The conditions are checked on the row itself, so a dispatcher's claim and this
    update never both take the same row.
    """
    prefixes, thread_keys = sorted(set(key_prefixes)), sorted(set(threads))
    which = [OutboxAlert.key.startswith(prefix, autoescape=True) for prefix in prefixes]
    if thread_keys:
        which.append(OutboxAlert.throttle_key.in_(thread_keys))
    if not which:
        return 0
    result = session.exec(
        update(OutboxAlert)
        .where(
            or_(*which),
            OutboxAlert.status == PENDING,
            OutboxAlert.attempts == 0,
            or_(OutboxAlert.lease_until.is_(None), OutboxAlert.lease_until < now),
        )
        .values(status=SKIPPED, last_error=reason, lease_owner=None, lease_until=None)
    )
    return int(result.rowcount or 0)


def rows_of_threads(session: Session, threads: Iterable[str]) -> list[OutboxAlert]:
    """Every row of the given throttle keys, oldest first (a calendar entry's reminders)."""
    wanted = sorted(set(threads))
    if not wanted:
        return []
    return list(session.exec(select(OutboxAlert).where(OutboxAlert.throttle_key.in_(wanted)).order_by(OutboxAlert.id)))


def _claimable(row, now: datetime, busy_channels: Iterable[str]):
    """Pending, not leased by anyone alive, not in a busy channel, and its parent (if any) is
    done or can be claimed with it: a reply is claimed right behind its parent, so it follows
    it in the channel's lane instead of waiting behind later alerts."""
    parent = aliased(OutboxAlert, name="parent")
    conditions = [
        row.status == PENDING,
        or_(row.lease_until.is_(None), row.lease_until < now),
        or_(
            row.parent_id.is_(None),
            exists(
                select(parent.id).where(
                    parent.id == row.parent_id,
                    or_(
                        parent.status != PENDING,
                        and_(
                            parent.next_attempt_at <= now,
                            or_(parent.lease_until.is_(None), parent.lease_until < now),
                        ),
                    ),
                )
            ),
        ),
    ]
    busy = sorted(set(busy_channels))
    if busy:
        conditions.append(row.channel.not_in(busy))
    return conditions


def claim_due_alerts(
    session: Session,
    owner: str,
    now: datetime,
    lease: timedelta,
    *,
    per_channel: int,
    limit: int,
    busy_channels: Iterable[str] = (),
) -> list[Claimed]:
    """Lease due rows no other instance holds, at most `per_channel` per channel, in the order
    they go out: by `sort_at` (a news alert's publication time, its thread's rows right after
    it), then as queued.

    The conditional UPDATE is atomic per row on SQLite and PostgreSQL, so two dispatchers never
    hold the same row. A killed instance's leases are freed by the others once its heartbeat
    stops (store/instances.py); a lease without a heartbeat behind it runs out. Capping rows per
    channel keeps the lease longer than the time the channel's limiter needs to send them.
    """
    token = f"{owner}:{uuid.uuid4().hex[:12]}"
    busy_channels = list(busy_channels)
    candidate = aliased(OutboxAlert, name="candidate")
    ranked = (
        select(
            candidate.id,
            func.row_number()
            .over(partition_by=candidate.channel, order_by=(candidate.sort_at, candidate.id))
            .label("rank"),
        )
        .where(candidate.next_attempt_at <= now, *_claimable(candidate, now, busy_channels))
        .subquery("ranked")
    )
    chosen = select(ranked.c.id).where(ranked.c.rank <= per_channel).order_by(ranked.c.id).limit(limit)
    session.exec(
        update(OutboxAlert)
        .where(
            OutboxAlert.id.in_(chosen),
            # Checked again on the row itself: another dispatcher may have leased it meanwhile.
            OutboxAlert.status == PENDING,
            or_(OutboxAlert.lease_until.is_(None), OutboxAlert.lease_until < now),
        )
        .values(lease_owner=token, lease_until=now + lease)
    )
    session.commit()
    alerts = list(
        session.exec(
            select(OutboxAlert).where(OutboxAlert.lease_owner == token).order_by(OutboxAlert.sort_at, OutboxAlert.id)
        )
    )
    parent_ids = {a.parent_id for a in alerts if a.parent_id is not None}
    parents = {p.id: p for p in session.exec(select(OutboxAlert).where(OutboxAlert.id.in_(parent_ids)))} if parent_ids else {}
    return [Claimed(a, parents.get(a.parent_id) if a.parent_id else None, token) for a in alerts]


def next_due_at(session: Session, now: datetime, busy_channels: Iterable[str] = ()) -> datetime | None:
    """When the earliest row a dispatcher could claim (outside busy channels) falls due."""
    row = aliased(OutboxAlert, name="row")
    return session.exec(select(func.min(row.next_attempt_at)).where(*_claimable(row, now, busy_channels))).one()


def _held(alert_id: int, token: str):
    return (OutboxAlert.id == alert_id, OutboxAlert.lease_owner == token)


def begin_attempt(
    session: Session,
    alert_id: int,
    now: datetime,
    *,
    token: str,
    lease: timedelta,
    channel_id: str | None,
    thread_ts: str | None,
) -> bool:
    """Note an attempt before posting, and renew the lease for it: if the process dies now, the
    next one will look first. False (nothing noted) if the lease is no longer `token`'s: then
    do not post."""
    result = session.exec(
        update(OutboxAlert)
        .where(*_held(alert_id, token))
        .values(
            attempts=OutboxAlert.attempts + 1,
            last_attempt_at=now,
            outcome_unknown=True,
            channel_id=channel_id,
            thread_ts=thread_ts,
            lease_until=now + lease,
        )
    )
    session.commit()
    return result.rowcount == 1


def record_sent(session: Session, alert_id: int, now: datetime, *, token: str, channel_id: str, ts: str) -> int | None:
    """Mark the row sent with Slack's ts; returns how many replies were waiting for it, or None
    if the lease is no longer `token`'s (the new holder finds the message by its key)."""
    result = session.exec(
        update(OutboxAlert)
        .where(*_held(alert_id, token))
        .values(
            status=SENT,
            sent_at=now,
            channel_id=channel_id,
            ts=ts,
            outcome_unknown=False,
            lease_owner=None,
            lease_until=None,
        )
    )
    if result.rowcount != 1:
        session.commit()
        return None
    waiting = session.exec(
        select(func.count()).select_from(OutboxAlert).where(OutboxAlert.parent_id == alert_id, OutboxAlert.status == PENDING)
    ).one()
    session.commit()
    return int(waiting)


def record_retry(
    session: Session, alert_id: int, *, token: str, next_at: datetime, reason: str, outcome_unknown: bool
) -> bool:
    """Put the row back for another attempt at `next_at`, keeping the reason for `alerts status`.
    False if the lease is no longer `token`'s."""
    result = session.exec(
        update(OutboxAlert)
        .where(*_held(alert_id, token))
        .values(
            next_attempt_at=next_at,
            last_error=scrub(reason),
            outcome_unknown=outcome_unknown,
            lease_owner=None,
            lease_until=None,
        )
    )
    session.commit()
    return result.rowcount == 1


def record_failure(session: Session, alert_id: int, reason: str, *, token: str) -> bool:
    """Give up on the row: a person must fix the cause (token, channel, membership). False if
    the lease is no longer `token`'s."""
    result = session.exec(
        update(OutboxAlert)
        .where(*_held(alert_id, token))
        .values(status=FAILED, last_error=scrub(reason), outcome_unknown=False, lease_owner=None, lease_until=None)
    )
    session.commit()
    return result.rowcount == 1


def release_alerts(session: Session, alert_ids: Sequence[int], next_at: datetime, *, token: str) -> int:
    """Hand leased rows back unattempted (their channel is paused), due again at `next_at`.
    Rows whose lease is no longer `token`'s are left to their new holder; returns how many."""
    if not alert_ids:
        return 0
    result = session.exec(
        update(OutboxAlert)
        .where(OutboxAlert.id.in_(list(alert_ids)), OutboxAlert.status == PENDING, OutboxAlert.lease_owner == token)
        .values(next_attempt_at=next_at, lease_owner=None, lease_until=None)
    )
    session.commit()
    return result.rowcount


def known_channel_id(session: Session, channel: str) -> str | None:
    """The Slack id a routed channel name resolved to on an earlier successful post."""
    return session.exec(
        select(OutboxAlert.channel_id)
        .where(OutboxAlert.channel == channel, OutboxAlert.status == SENT, OutboxAlert.channel_id.is_not(None))
        .order_by(OutboxAlert.id.desc())
        .limit(1)
    ).first()


@dataclass
class OutboxStatus:
    """What `reewatch alerts status` shows."""

    #: {channel: {status: count}}
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    oldest_pending: OutboxAlert | None = None
    last_failures: list[OutboxAlert] = field(default_factory=list)

    @property
    def totals(self) -> dict[str, int]:
        totals = {PENDING: 0, SENT: 0, FAILED: 0, SKIPPED: 0}
        for by_status in self.counts.values():
            for status, count in by_status.items():
                totals[status] = totals.get(status, 0) + count
        return totals


def outbox_status(session: Session, *, failures: int = 10) -> OutboxStatus:
    """Counts by channel and status, the oldest pending row, and the latest failures."""
    status = OutboxStatus()
    rows = session.exec(
        select(OutboxAlert.channel, OutboxAlert.status, func.count())
        .group_by(OutboxAlert.channel, OutboxAlert.status)
        .order_by(OutboxAlert.channel)
    )
    for channel, state, count in rows:
        status.counts.setdefault(channel, {})[state] = int(count)
    status.oldest_pending = session.exec(
        select(OutboxAlert).where(OutboxAlert.status == PENDING).order_by(OutboxAlert.created_at, OutboxAlert.id).limit(1)
    ).first()
    status.last_failures = list(
        session.exec(
            select(OutboxAlert)
            .where(OutboxAlert.status == FAILED)
            .order_by(func.coalesce(OutboxAlert.last_attempt_at, OutboxAlert.created_at).desc(), OutboxAlert.id.desc())
            .limit(failures)
        )
    )
    return status
