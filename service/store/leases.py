"""Leases left behind by a process that died: freed when the service starts again.

Feeds, outbox alerts and digest runs are leased for one attempt with a token
`{instance}:{random}`, where the instance is `host:pid` unless REEWATCH_INSTANCE_ID names it.
A restarted service frees, at start, the leases of its own earlier life (same instance name)
and those of dead processes on its own host, without waiting for anything. Instances on other
hosts are judged by their heartbeats instead (store/instances.py): their leases are freed once
their beat is older than REEWATCH_INSTANCE_TIMEOUT, which is what keeps two live instances from
doing the same work while a dead one's work resumes within seconds.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, select

from service.store.models import DigestRun, Feed, OutboxAlert

LEASED = (Feed, OutboxAlert, DigestRun)
_HOST_PID = re.compile(r"^(?P<host>.+):(?P<pid>\d+)$")


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


def abandoned(owner: str, *, instance: str, host: str, alive: Callable[[int], bool]) -> bool:
    """Whether the lease token `owner` belongs to an earlier life of this instance or a dead process here."""
    holder = owner.rsplit(":", 1)[0]
    if holder == instance:
        return True
    match = _HOST_PID.match(holder)
    return bool(match and match["host"] == host and not alive(int(match["pid"])))


def release_abandoned_leases(
    session: Session, *, instance: str, host: str, now: datetime, alive: Callable[[int], bool] = pid_alive
) -> int:
    """Free every unexpired lease held by an earlier life of `instance` or a dead process on `host`."""
    released = 0
    for model in LEASED:
        owners = set(
            session.exec(select(model.lease_owner).where(model.lease_owner.is_not(None), model.lease_until > now))
        )
        stale = [o for o in owners if abandoned(o, instance=instance, host=host, alive=alive)]
        if stale:
            result = session.exec(
                update(model).where(model.lease_owner.in_(stale)).values(lease_owner=None, lease_until=None)
            )
            released += result.rowcount
    session.commit()
    return released
