"""Leases of a dead process are taken back at start; those of live processes are left alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from service.domain.feeds import FeedSpec
from service.store import migrate
from service.store.db import make_engine, session
from service.store.feeds import claim_due_feeds, sync_feeds
from service.store.leases import abandoned, release_abandoned_leases
from service.store.models import Feed

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
ALIVE = {100, 200}


@pytest.mark.parametrize(
    ("owner", "instance", "expected"),
    [
        ("desk-1:ab12cd34ef56", "desk-1", True),  # this instance's earlier life
        ("desk-2:ab12cd34ef56", "desk-1", False),  # another named instance
        ("box:999:ab12cd34ef56", "box:300", True),  # a dead process on this host
        ("box:100:ab12cd34ef56", "box:300", False),  # a live process on this host
        ("other:999:ab12cd34ef56", "box:300", False),  # another host: its lease must expire
        ("box:300:ab12cd34ef56", "box:300", True),  # same host and pid: a restart in a container
        ("garbage", "box:300", False),
    ],
)
def test_abandoned(owner, instance, expected):
    """Only leases provably left by no live process are taken back early."""
    assert abandoned(owner, instance=instance, host="box", alive=ALIVE.__contains__) is expected


def test_release_frees_dead_leases_only(database_url):
    """A restarted service can poll at once the feeds a killed process had leased."""
    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with session(engine) as s:
            sync_feeds(s, [FeedSpec(name=n, url=f"https://x.test/{n}") for n in ("a", "b", "c")], NOW)
            claim_due_feeds(s, "box:999", NOW, timedelta(minutes=5), names=["a"])
            claim_due_feeds(s, "box:100", NOW, timedelta(minutes=5), names=["b"])
            claim_due_feeds(s, "far:999", NOW, timedelta(minutes=5), names=["c"])
            freed = release_abandoned_leases(s, instance="box:300", host="box", now=NOW, alive=ALIVE.__contains__)
            leased = {f.name: f.lease_owner is not None for f in s.exec(select(Feed))}
        assert freed == 1
        assert leased == {"a": False, "b": True, "c": True}
    finally:
        engine.dispose()
