"""Heartbeats of running instances, and the takeover of the work of one that stopped beating.

Each instance upserts its row every REEWATCH_HEARTBEAT_SECONDS and, in the same breath, renews
the leases of the work it has in flight (leases last twice REEWATCH_INSTANCE_TIMEOUT, so only
a process that stopped beating lets them lapse). An instance whose beat is older than
REEWATCH_INSTANCE_TIMEOUT is dead, or frozen: any other instance frees its leases at once
and deletes its row, and whoever claims next does the work.

A lease whose holder has no row at all is left to run out: it belongs to a process that keeps
no heartbeat (an older version during an upgrade) or to one that stopped cleanly (it freed its
leases as it left). Its lease is short, so that wait is short too.

A frozen instance that wakes up finds its leases gone: every step that ends a piece of work
(store a poll, record a post, record a digest) checks that its lease token still holds the row,
and gives the work up otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlmodel import Session, select

from service.store.models import DigestRun, Feed, InstanceHeartbeat, OutboxAlert
from service.store.upsert import insert_updating_conflicts

#: What each leased table holds, as logs and metrics name it.
KINDS: dict[type, str] = {Feed: "feed", OutboxAlert: "alert", DigestRun: "digest"}


def lease_holder(token: str) -> str:
    """The instance a lease token `{instance}:{random}` belongs to."""
    return token.rsplit(":", 1)[0]


@dataclass(frozen=True)
class Takeover:
    """The work freed from one dead instance."""

    instance: str
    host: str
    pid: int
    beat_at: datetime
    #: Leases freed by kind ("feed", "alert", "digest"); kinds with none are left out.
    freed: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.freed.values())


def beat(session: Session, *, instance: str, host: str, pid: int, started_at: datetime, now: datetime) -> None:
    """Record that `instance` is alive at `now` (a new row, or its row brought up to date); commits."""
    stmt = insert_updating_conflicts(session, InstanceHeartbeat, ["instance_id"], ["host", "pid", "started_at", "beat_at"])
    session.exec(stmt.values(instance_id=instance, host=host, pid=pid, started_at=started_at, beat_at=now))
    session.commit()


def renew_leases(session: Session, tokens: Iterable[tuple[type, str]], now: datetime, lease: timedelta) -> int:
    """Extend every row still held under these (table, lease token) pairs to `now + lease`;
    returns how many rows. A row another instance took over is not touched. Commits."""
    renewed = 0
    by_model: dict[type, list[str]] = {}
    for model, token in tokens:
        by_model.setdefault(model, []).append(token)
    for model, held in by_model.items():
        result = session.exec(
            update(model)
            .where(model.lease_owner.in_(sorted(set(held))), model.lease_until.is_not(None))
            .values(lease_until=now + lease)
        )
        renewed += result.rowcount
    session.commit()
    return renewed


def take_over_dead(session: Session, now: datetime, timeout: timedelta, *, survivor: str) -> list[Takeover]:
    """Free the leases of every instance (other than `survivor`) whose last beat is older than
    `timeout`, and delete its row; commits. Of several survivors doing this at once, the one
    whose delete removed the row reports the takeover; the others find nothing left to free."""
    cutoff = now - timeout
    dead = session.exec(
        select(InstanceHeartbeat).where(InstanceHeartbeat.beat_at < cutoff, InstanceHeartbeat.instance_id != survivor)
    ).all()
    takeovers = []
    for row in dead:
        gone = session.exec(
            delete(InstanceHeartbeat).where(
                InstanceHeartbeat.instance_id == row.instance_id, InstanceHeartbeat.beat_at < cutoff
            )
        )
        if gone.rowcount != 1:
            continue  # it beat again meanwhile, or another survivor took it over
        freed = {KINDS[model]: n for model in KINDS if (n := _free_leases_of(session, model, row.instance_id))}
        takeovers.append(Takeover(row.instance_id, row.host, row.pid, row.beat_at, freed))
    session.commit()
    return takeovers


def leave(session: Session, instance: str) -> int:
    """A clean stop: free every lease `instance` still holds and delete its row; commits.
    Returns how many leases were freed."""
    freed = sum(_free_leases_of(session, model, instance) for model in KINDS)
    session.exec(delete(InstanceHeartbeat).where(InstanceHeartbeat.instance_id == instance))
    session.commit()
    return freed


def instances(session: Session) -> list[InstanceHeartbeat]:
    """Every instance with a heartbeat row, the most recently started first."""
    return list(session.exec(select(InstanceHeartbeat).order_by(InstanceHeartbeat.started_at.desc())))


def _free_leases_of(session: Session, model: type, instance: str) -> int:
    owners = session.exec(select(model.lease_owner).where(model.lease_owner.is_not(None)).distinct()).all()
    theirs = [owner for owner in owners if lease_holder(owner) == instance]
    if not theirs:
        return 0
    result = session.exec(update(model).where(model.lease_owner.in_(theirs)).values(lease_owner=None, lease_until=None))
    return result.rowcount
