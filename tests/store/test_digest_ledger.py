"""The digest ledger on SQLite and PostgreSQL: one run per recipient and day, claimed by one."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta


from service.store.db import session
from service.store.digests import (
    EXPIRED,
    claim_run,
    expire_runs,
    get_run,
    open_run,
    record_failure,
    record_sent,
    run_key,
)

DAY = date(2026, 11, 23)
DUE = datetime(2026, 11, 23, 12, 30, tzinfo=UTC)  # 07:30 in New York
EXPIRES = datetime(2026, 11, 24, 5, 0, tzinfo=UTC)  # midnight in New York
KEY = run_key("trader@desk.example", DAY)
LEASE = timedelta(minutes=10)


def open_today(s, message_id: str = "<first@fund.example>") -> None:
    open_run(s, KEY, "trader@desk.example", DAY, due_at=DUE, expires_at=EXPIRES, message_id=message_id, now=DUE)


def test_the_key_names_recipient_and_day():
    """The run key is digest:{recipient}:{date}."""
    assert KEY == "digest:trader@desk.example:2026-11-23"


def test_opening_twice_keeps_the_first_run(engine):
    """A second open (restart, second instance) changes nothing, not even the Message-ID."""
    with session(engine) as s:
        open_today(s)
        open_today(s, message_id="<second@fund.example>")
        run = get_run(s, KEY)
    assert run.message_id == "<first@fund.example>"
    assert (run.status, run.attempts, run.next_attempt_at, run.expires_at) == ("pending", 0, DUE, EXPIRES)


def test_only_one_claim_wins(engine):
    """While one attempt holds the run, nobody else can claim it."""
    with session(engine) as s:
        open_today(s)
        first = claim_run(s, KEY, "a", DUE, LEASE)
        second = claim_run(s, KEY, "b", DUE + timedelta(minutes=1), LEASE)
    assert first is not None and first.attempts == 1 and first.message_id == "<first@fund.example>"
    assert second is None


def test_not_claimable_before_its_time_or_after_its_day(engine):
    """A run is claimed from its due time until its day ends."""
    with session(engine) as s:
        open_today(s)
        assert claim_run(s, KEY, "a", DUE - timedelta(seconds=1), LEASE) is None
        assert claim_run(s, KEY, "a", EXPIRES, LEASE) is None
        assert claim_run(s, KEY, "a", EXPIRES - timedelta(seconds=1), LEASE) is not None


def test_a_sent_run_is_never_claimed_again(engine):
    """Once recorded as sent, neither the scheduler nor an operator's forced send gets it."""
    with session(engine) as s:
        open_today(s)
        claim = claim_run(s, KEY, "a", DUE, LEASE)
        assert record_sent(s, claim, DUE + timedelta(seconds=3), "smtp mail:587")
        assert claim_run(s, KEY, "b", DUE + timedelta(hours=1), LEASE) is None
        assert claim_run(s, KEY, "b", DUE + timedelta(hours=1), LEASE, force=True) is None
        run = get_run(s, KEY)
    assert (run.status, run.sent_at, run.delivered_via, run.lease_owner) == ("sent", DUE + timedelta(seconds=3), "smtp mail:587", None)


def test_a_lease_left_by_a_dead_instance_expires(engine):
    """If an instance dies mid-attempt, another one may try once the lease has run out."""
    with session(engine) as s:
        open_today(s)
        dead = claim_run(s, KEY, "dead", DUE, LEASE)
        assert claim_run(s, KEY, "b", DUE + LEASE - timedelta(seconds=1), LEASE) is None
        taken = claim_run(s, KEY, "b", DUE + LEASE + timedelta(seconds=1), LEASE)
        assert taken is not None and taken.attempts == 2
        # The dead instance's late answer cannot overwrite the new attempt.
        assert record_sent(s, dead, DUE + LEASE, "smtp") is False
        assert record_failure(s, dead, DUE + LEASE, "late", None) is False
        assert get_run(s, KEY).lease_owner == taken.token


def test_a_failure_waits_for_its_retry_time(engine):
    """A failed attempt keeps the run pending with its reason until the next attempt is due."""
    retry_at = DUE + timedelta(minutes=2)
    with session(engine) as s:
        open_today(s)
        claim = claim_run(s, KEY, "a", DUE, LEASE)
        assert record_failure(s, claim, DUE, "cannot reach mail:587: Connection refused", retry_at)
        run = get_run(s, KEY)
        assert (run.status, run.last_error, run.next_attempt_at, run.lease_owner) == (
            "pending", "cannot reach mail:587: Connection refused", retry_at, None,
        )
        assert claim_run(s, KEY, "a", retry_at - timedelta(seconds=1), LEASE) is None
        again = claim_run(s, KEY, "a", retry_at, LEASE)
    assert again is not None and again.attempts == 2


def test_giving_up_marks_failed_and_only_a_forced_send_reopens_it(engine):
    """A run given up on stays failed for the scheduler; an operator's send may try it again."""
    with session(engine) as s:
        open_today(s)
        claim = claim_run(s, KEY, "a", DUE, LEASE)
        record_failure(s, claim, DUE, "message refused: 554 no", None)
        assert get_run(s, KEY).status == "failed"
        assert claim_run(s, KEY, "a", DUE + timedelta(hours=1), LEASE) is None
        forced = claim_run(s, KEY, "operator", DUE + timedelta(days=2), LEASE, force=True)
        assert forced is not None and forced.attempts == 2
        assert get_run(s, KEY).status == "pending"


def test_runs_not_sent_by_the_end_of_their_day_expire(engine):
    """A pending run whose day ended is marked failed, unless an attempt is still under way."""
    with session(engine) as s:
        open_today(s)
        assert expire_runs(s, EXPIRES - timedelta(seconds=1)) == 0
        assert expire_runs(s, EXPIRES) == 1
        run = get_run(s, KEY)
    assert (run.status, run.last_error) == ("failed", EXPIRED)


def test_racing_claims_from_two_connections_give_one_winner(engine):
    """Two instances claiming at the same moment through their own connections: exactly one wins."""
    with session(engine) as s:
        open_today(s)
    barrier = threading.Barrier(8)
    wins: list[object] = []

    def contender(name: str) -> None:
        with session(engine) as s:
            barrier.wait()
            claim = claim_run(s, KEY, name, DUE, LEASE)
            if claim is not None:
                wins.append(claim)

    threads = [threading.Thread(target=contender, args=(f"i{n}",)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(wins) == 1
