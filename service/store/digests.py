"""The digest ledger: one row per recipient and day, claimed atomically, so each digest goes
out once whether a restart, a second instance or a retry reaches it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import or_, update
from sqlmodel import Session, select

from service.redaction import scrub
from service.store.models import DigestRun
from service.store.upsert import insert_ignoring_conflicts

PENDING, SENT, FAILED = "pending", "sent", "failed"
#: Not sent, on purpose, and never will be: the service had watched nothing of the day yet.
SKIPPED = "skipped"
EXPIRED = "expired: not delivered before the digest's day ended"


def run_key(recipient_key: str, day: date) -> str:
    return f"digest:{recipient_key}:{day.isoformat()}"


@dataclass(frozen=True)
class Claim:
    """The right to attempt one digest now; only its holder may record the outcome."""

    key: str
    token: str
    message_id: str
    attempts: int


def open_run(
    session: Session,
    key: str,
    recipient: str,
    day: date,
    *,
    due_at: datetime,
    expires_at: datetime,
    message_id: str,
    now: datetime,
) -> None:
    """Create the day's run unless it exists (then nothing changes, whoever created it)."""
    stmt = insert_ignoring_conflicts(session, DigestRun).values(
        key=key,
        recipient=recipient,
        digest_date=day,
        status=PENDING,
        attempts=0,
        next_attempt_at=due_at,
        expires_at=expires_at,
        message_id=message_id,
        created_at=now,
    )
    session.exec(stmt)
    session.commit()


def claim_run(
    session: Session, key: str, owner: str, now: datetime, lease: timedelta, *, force: bool = False
) -> Claim | None:
    """Take the run for one attempt, or None if it is sent, not due, or being tried elsewhere.

    One conditional UPDATE, atomic on SQLite and PostgreSQL: of two instances racing for the
    same run, exactly one sees its row change. An attempt whose instance died is freed by the
    others once its heartbeat stops (store/instances.py), or its short lease runs out. `force` (an operator's explicit send) ignores the retry time and the
    day's end and re-opens a failed or skipped run; it never touches a sent one or one in flight.
    """
    token = f"{owner}:{uuid.uuid4().hex[:12]}"
    free = or_(DigestRun.lease_until.is_(None), DigestRun.lease_until < now)
    if force:
        ready = DigestRun.status.in_([PENDING, FAILED, SKIPPED])
    else:
        ready = (DigestRun.status == PENDING) & (DigestRun.next_attempt_at <= now) & (DigestRun.expires_at > now)
    result = session.exec(
        update(DigestRun)
        .where(DigestRun.key == key, ready, free)
        .values(
            status=PENDING,
            lease_owner=token,
            lease_until=now + lease,
            attempts=DigestRun.attempts + 1,
        )
    )
    session.commit()
    if result.rowcount != 1:
        return None
    run = session.exec(select(DigestRun).where(DigestRun.key == key)).one()
    return Claim(key, token, run.message_id, run.attempts)


def renew_claim(session: Session, claim: Claim, now: datetime, lease: timedelta) -> bool:
    """Extend the claim's lease from `now`, right before the digest is handed over; False if
    another instance took the run over (then this attempt must not send it)."""
    result = session.exec(
        update(DigestRun)
        .where(DigestRun.key == claim.key, DigestRun.lease_owner == claim.token)
        .values(lease_until=now + lease)
    )
    session.commit()
    return result.rowcount == 1


def record_sent(session: Session, claim: Claim, now: datetime, via: str) -> bool:
    """Mark the run sent; False if the claim had lapsed and another instance took the run over."""
    result = session.exec(
        update(DigestRun)
        .where(DigestRun.key == claim.key, DigestRun.lease_owner == claim.token)
        .values(status=SENT, sent_at=now, delivered_via=via, lease_owner=None, lease_until=None)
    )
    session.commit()
    return result.rowcount == 1


def record_skipped(session: Session, claim: Claim, now: datetime, reason: str) -> bool:
    """Close the run without sending it (nothing was watched in its window), saying why."""
    result = session.exec(
        update(DigestRun)
        .where(DigestRun.key == claim.key, DigestRun.lease_owner == claim.token)
        .values(status=SKIPPED, last_error=reason, last_error_at=now, lease_owner=None, lease_until=None)
    )
    session.commit()
    return result.rowcount == 1


def record_failure(
    session: Session, claim: Claim, now: datetime, reason: str, next_attempt_at: datetime | None
) -> bool:
    """Keep the run pending until `next_attempt_at`, or mark it failed when that is None."""
    values: dict = {"last_error": scrub(reason), "last_error_at": now, "lease_owner": None, "lease_until": None}
    if next_attempt_at is None:
        values["status"] = FAILED
    else:
        values["next_attempt_at"] = next_attempt_at
    result = session.exec(
        update(DigestRun).where(DigestRun.key == claim.key, DigestRun.lease_owner == claim.token).values(**values)
    )
    session.commit()
    return result.rowcount == 1


def expire_runs(session: Session, now: datetime) -> int:
    """Mark failed every pending run whose day has ended, so none lingers as if it might still go."""
    result = session.exec(
        update(DigestRun)
        .where(
            DigestRun.status == PENDING,
            DigestRun.expires_at <= now,
            or_(DigestRun.lease_until.is_(None), DigestRun.lease_until < now),
        )
        .values(status=FAILED, last_error=EXPIRED, last_error_at=now, lease_owner=None, lease_until=None)
    )
    session.commit()
    return result.rowcount


def get_run(session: Session, key: str) -> DigestRun | None:
    return session.exec(select(DigestRun).where(DigestRun.key == key)).first()


def runs_for_status(session: Session, limit: int = 50) -> list[DigestRun]:
    return list(session.exec(select(DigestRun).order_by(DigestRun.digest_date.desc(), DigestRun.recipient).limit(limit)))
