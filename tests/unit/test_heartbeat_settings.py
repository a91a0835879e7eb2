"""The heartbeat settings, the lease they imply, and the bookkeeping of leases in flight."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from service.config import Settings
from service.pipeline.heartbeat import HeldLeases
from service.store.instances import lease_holder
from service.store.models import Feed, OutboxAlert


@pytest.mark.parametrize(
    ("heartbeat", "timeout", "lease"),
    [(5, 15, timedelta(seconds=30)), (2, 4, timedelta(seconds=8)), (0.5, 60, timedelta(minutes=2))],
)
def test_leases_last_twice_the_timeout(heartbeat, timeout, lease):
    """A lease outlives two timeouts, so only a process that stopped beating lets it lapse."""
    settings = Settings(_env_file=None, heartbeat_seconds=heartbeat, instance_timeout=timeout)
    assert settings.lease == lease


@pytest.mark.parametrize(("heartbeat", "timeout"), [(5, 9), (10, 15), (5, 5)])
def test_a_timeout_shorter_than_two_heartbeats_is_refused(heartbeat, timeout):
    """One late beat must not get a live instance's work taken over: the error names both settings."""
    with pytest.raises(ValidationError, match="REEWATCH_INSTANCE_TIMEOUT.*REEWATCH_HEARTBEAT_SECONDS"):
        Settings(_env_file=None, heartbeat_seconds=heartbeat, instance_timeout=timeout)


def test_an_instance_id_too_long_for_a_lease_token_is_refused():
    """The id and a 13-character suffix must fit the 100-character lease columns."""
    with pytest.raises(ValidationError, match="REEWATCH_INSTANCE_ID"):
        Settings(_env_file=None, REEWATCH_INSTANCE_ID="x" * 81)


@pytest.mark.parametrize(
    ("token", "holder"),
    [("desk-1:ab12cd34ef56", "desk-1"), ("box:4242:ab12cd34ef56", "box:4242"), ("a:b:c:ab12cd34ef56", "a:b:c")],
)
def test_the_holder_of_a_lease_token(token, holder):
    """A token is `{instance}:{random}`; instance ids may hold colons themselves."""
    assert lease_holder(token) == holder


def test_held_leases_count_rows_in_flight_per_token():
    """A token is renewed while any row under it is in flight, and dropped with its last row."""
    held = HeldLeases()
    held.hold(OutboxAlert, "a:1", rows=2)
    held.hold(Feed, "a:2")
    held.let_go(OutboxAlert, "a:1")
    assert sorted(held.tokens(), key=lambda t: t[1]) == [(OutboxAlert, "a:1"), (Feed, "a:2")]
    held.let_go(OutboxAlert, "a:1")
    with held.holding(Feed, ["a:3"]):
        assert set(held.tokens()) == {(Feed, "a:2"), (Feed, "a:3")}
    assert held.tokens() == [(Feed, "a:2")]
