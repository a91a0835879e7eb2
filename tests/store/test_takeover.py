"""Heartbeats and takeover on SQLite and PostgreSQL: a dead instance's feeds, alerts and digest
runs are freed at once, a live or renewing instance keeps its own, and a frozen instance that
wakes up after the takeover can neither post nor record anything."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from service.domain.feeds import FeedSpec
from service.errors import LeaseLost
from service.store.db import make_engine, session
from service.store.digests import Claim, claim_run, open_run, record_sent as digest_sent, renew_claim, run_key
from service.store.feeds import claim_due_feeds, locked_feed, sync_feeds
from service.store.instances import beat, instances, leave, renew_leases, take_over_dead
from service.store.models import DigestRun, Feed, InstanceHeartbeat, OutboxAlert
from service.store.outbox import begin_attempt, claim_due_alerts, record_retry, record_sent
from tests.store.outbox import Outbox

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)
TIMEOUT = timedelta(seconds=15)
DAY = date(2026, 12, 3)
KEY = run_key("trader@desk.example", DAY)


@dataclass
class Held:
    """What one instance claimed: a feed, an alert, a digest run."""

    feed: Feed
    alert_token: str
    alert_id: int
    digest: Claim


@pytest.fixture
def box(make_settings, database_url):
    outbox = Outbox(make_settings(database_url, slack_default_channel="#rare-earth-alerts"))
    with session(outbox.engine) as s:
        sync_feeds(s, [FeedSpec(name=n, url=f"https://x.test/{n}") for n in ("a", "b")], T0)
        open_run(
            s, KEY, "trader@desk.example", DAY, due_at=T0, expires_at=T0 + timedelta(days=1), message_id="<m@x>", now=T0
        )
    yield outbox
    outbox.close()


def alive(box: Outbox, instance: str, at: datetime) -> None:
    with session(box.engine) as s:
        beat(s, instance=instance, host="box", pid=1, started_at=T0, now=at)


def claim_everything(box: Outbox, instance: str, at: datetime, feed: str = "a") -> Held:
    """`instance` leases one feed, the queued alert and the day's digest run."""
    with session(box.engine) as s:
        [leased] = claim_due_feeds(s, instance, at, LEASE, names=[feed])
        [alert] = claim_due_alerts(s, instance, at, LEASE, per_channel=5, limit=10)
        digest = claim_run(s, KEY, instance, at, LEASE)
    assert digest is not None
    return Held(leased, alert.lease_token, alert.alert.id, digest)


def claim_by(box: Outbox, instance: str, at: datetime) -> tuple[list[str], list[int], bool]:
    """What `instance` can claim at `at`: feed names, alert ids, whether the digest run."""
    with session(box.engine) as s:
        feeds = [f.name for f in claim_due_feeds(s, instance, at, LEASE)]
        alerts = [c.alert.id for c in claim_due_alerts(s, instance, at, LEASE, per_channel=5, limit=10)]
        digest = claim_run(s, KEY, instance, at, LEASE) is not None
    return feeds, alerts, digest


def test_a_dead_instances_leases_are_taken_over_at_once(box):
    """Its beat older than the timeout, the dead instance's unexpired leases are freed and claimable."""
    box.queue(now=T0)
    alive(box, "dead", T0)
    held = claim_everything(box, "dead", T0)
    at = T0 + TIMEOUT + timedelta(seconds=1)  # well inside the 30 s leases
    alive(box, "live", at)
    assert claim_by(box, "live", at) == (["b"], [], False)  # only what nobody held
    with session(box.engine) as s:
        [takeover] = take_over_dead(s, at, TIMEOUT, survivor="live")
    assert (takeover.instance, takeover.beat_at, takeover.freed) == ("dead", T0, {"feed": 1, "alert": 1, "digest": 1})
    assert claim_by(box, "live", at) == (["a"], [held.alert_id], True)
    with session(box.engine) as s:
        assert [i.instance_id for i in instances(s)] == ["live"]
        assert take_over_dead(s, at, TIMEOUT, survivor="live") == []  # reported once


def test_a_live_instances_leases_are_left_alone(box):
    """An instance that beat within the timeout keeps its work, however long it has held it."""
    box.queue(now=T0)
    alive(box, "busy", T0)
    claim_everything(box, "busy", T0)
    at = T0 + TIMEOUT - timedelta(seconds=1)
    with session(box.engine) as s:
        assert take_over_dead(s, at, TIMEOUT, survivor="other") == []
    assert claim_by(box, "other", at) == (["b"], [], False)


def test_a_lease_without_a_heartbeat_runs_out_instead(box):
    """A holder with no heartbeat row (an older version, a stopped process) keeps its lease until it ends."""
    box.queue(now=T0)
    claim_everything(box, "silent", T0)
    at = T0 + TIMEOUT + timedelta(seconds=1)
    with session(box.engine) as s:
        assert take_over_dead(s, at, TIMEOUT, survivor="live") == []
    assert claim_by(box, "live", at)[1:] == ([], False)
    after = T0 + LEASE + timedelta(seconds=1)
    feeds, alerts, digest = claim_by(box, "live", after)
    assert "a" in feeds and len(alerts) == 1 and digest


def test_a_renewed_lease_outlasts_its_first_term(box):
    """Renewed by the heartbeat, a lease is not claimable past its first end; its unrenewed twin is."""
    alive(box, "a", T0)
    with session(box.engine) as s:
        [renewed] = claim_due_feeds(s, "a", T0, LEASE, names=["a"])
        [lapsed] = claim_due_feeds(s, "a", T0, LEASE, names=["b"])
    renew_at = T0 + LEASE - timedelta(seconds=5)
    alive(box, "a", renew_at)
    with session(box.engine) as s:
        assert renew_leases(s, [(Feed, renewed.lease_owner)], renew_at, LEASE) == 1
    at = T0 + LEASE + timedelta(seconds=1)
    with session(box.engine) as s:
        assert take_over_dead(s, at, TIMEOUT, survivor="b") == []
        assert [f.name for f in claim_due_feeds(s, "b", at, LEASE)] == ["b"]
        assert s.get(Feed, renewed.id).lease_owner == renewed.lease_owner


def test_a_frozen_instance_that_wakes_up_after_the_takeover_is_fenced(box):
    """Interleaved by hand in two sessions: the stale owner's post, records and renewals all fail
    once the survivor holds the work; the survivor's go through."""
    box.queue(now=T0)
    alive(box, "frozen", T0)
    stale = claim_everything(box, "frozen", T0)
    at = T0 + TIMEOUT + timedelta(seconds=2)
    stale_engine = make_engine(str(box.engine.url.render_as_string(hide_password=False)))
    try:
        with session(box.engine) as survivor, session(stale_engine) as frozen:
            assert take_over_dead(survivor, at, TIMEOUT, survivor="live")
            [feed] = claim_due_feeds(survivor, "live", at, LEASE, names=["a"])
            [alert] = claim_due_alerts(survivor, "live", at, LEASE, per_channel=5, limit=10)
            digest = claim_run(survivor, KEY, "live", at, LEASE)
            # The frozen instance wakes up, every step it takes is refused.
            with pytest.raises(LeaseLost):
                locked_feed(frozen, stale.feed.id, stale.feed.lease_owner)
            frozen.rollback()
            assert not begin_attempt(
                frozen, stale.alert_id, at, token=stale.alert_token, lease=LEASE, channel_id=None, thread_ts=None
            )
            assert record_sent(frozen, stale.alert_id, at, token=stale.alert_token, channel_id="C1", ts="1.1") is None
            assert not record_retry(frozen, stale.alert_id, token=stale.alert_token, next_at=at, reason="x", outcome_unknown=True)
            assert not renew_claim(frozen, stale.digest, at, LEASE)
            assert not digest_sent(frozen, stale.digest, at, "smtp")
            renewals = [(Feed, stale.feed.lease_owner), (OutboxAlert, stale.alert_token), (DigestRun, stale.digest.token)]
            assert renew_leases(frozen, renewals, at, LEASE) == 0
            # The survivor's work stands untouched, and completes.
            assert locked_feed(survivor, feed.id, feed.lease_owner).id == feed.id
            survivor.commit()
            assert begin_attempt(survivor, alert.alert.id, at, token=alert.lease_token, lease=LEASE, channel_id=None, thread_ts=None)
            assert record_sent(survivor, alert.alert.id, at, token=alert.lease_token, channel_id="C1", ts="2.2") == 0
            assert digest is not None and digest_sent(survivor, digest, at, "smtp")
        row = box.row(stale.alert_id)
        assert (row.status, row.ts, row.attempts) == ("sent", "2.2", 1)
    finally:
        stale_engine.dispose()


def test_a_clean_stop_frees_its_leases_and_removes_its_row(box):
    """`leave` hands every lease back and deletes the heartbeat; other instances' rows stay."""
    box.queue(now=T0)
    alive(box, "stopping", T0)
    alive(box, "other", T0)
    claim_everything(box, "stopping", T0)
    with session(box.engine) as s:
        assert leave(s, "stopping") == 3
        assert [i.instance_id for i in s.exec(select(InstanceHeartbeat))] == ["other"]
    feeds, alerts, digest = claim_by(box, "other", T0)
    assert sorted(feeds) == ["a", "b"] and len(alerts) == 1 and digest


def test_a_takeover_spares_instances_whose_ids_only_share_a_prefix(box):
    """Holder names are matched exactly: 'desk' dying frees nothing of 'desk:2'."""
    alive(box, "desk", T0)
    alive(box, "desk:2", T0 + TIMEOUT)
    with session(box.engine) as s:
        claim_due_feeds(s, "desk", T0, LEASE, names=["a"])
        claim_due_feeds(s, "desk:2", T0, LEASE, names=["b"])
        [takeover] = take_over_dead(s, T0 + TIMEOUT + timedelta(seconds=1), TIMEOUT, survivor="live")
        owners = {f.name: f.lease_owner for f in s.exec(select(Feed))}
    assert (takeover.instance, takeover.freed) == ("desk", {"feed": 1})
    assert owners["a"] is None and owners["b"].startswith("desk:2:")
