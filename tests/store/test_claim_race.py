"""Two dispatchers racing for one outbox row on PostgreSQL: the claim re-checks the lease on the row.

The claim picks due rows in a subquery, then leases them with an UPDATE. Between the two,
another dispatcher may lease a row and commit; PostgreSQL then re-evaluates the UPDATE's
conditions on the new row version, and only the conditions written on the row itself are
checked again. The race is forced: a second session holds the row, leases it, and commits only
once the claim is waiting for it. (SQLite runs one writer at a time: its claim sees the other
lease from the start, so the race cannot happen there.)
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, text

from service.store.db import make_engine, session
from service.store.outbox import claim_due_alerts
from tests.store.outbox import Outbox

T0 = datetime(2025, 10, 9, 14, 5, tzinfo=UTC)
LEASE = timedelta(minutes=2)


def test_a_row_leased_while_the_claim_waits_for_it_is_not_claimed_twice(make_settings, postgres_url):
    """The other dispatcher's lease, committed while our claim waited on the row, stands."""
    box = Outbox(make_settings(postgres_url))
    other = make_engine(postgres_url)
    watcher = create_engine(box.engine.url, isolation_level="AUTOCOMMIT")
    try:
        row = box.queue(now=T0)[0]
        claimed: list = []
        with other.connect() as holder:
            holder.execute(text("SELECT id FROM outbox_alerts WHERE id = :id FOR UPDATE"), {"id": row.id})
            holder.execute(
                text("UPDATE outbox_alerts SET lease_owner = 'other:1', lease_until = :until WHERE id = :id"),
                {"id": row.id, "until": T0 + LEASE},
            )

            def claim() -> None:
                with session(box.engine) as s:
                    claimed.extend(claim_due_alerts(s, "ours", T0, LEASE, per_channel=5, limit=100))

            claimer = threading.Thread(target=claim)
            claimer.start()
            _wait_until_blocked(watcher)
            holder.commit()
            claimer.join(timeout=60)
        assert not claimer.is_alive()
        assert claimed == []
        assert box.row(row.id).lease_owner == "other:1"
    finally:
        watcher.dispose()
        other.dispose()
        box.close()


def _wait_until_blocked(watcher, within: float = 30) -> None:
    """Until some session of this database waits for a row lock: our claim, on the held row."""
    deadline = time.monotonic() + within
    with watcher.connect() as connection:
        while time.monotonic() < deadline:
            waiting = connection.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")
            ).scalar_one()
            if waiting:
                return
            time.sleep(0.02)
    raise AssertionError("the claim never waited for the held row")
