"""A poll that outlasts its lease keeps its feed: the heartbeat renews the lease of work in flight,
and renews nothing once the work is done. Real runtime, real loopback server, both databases."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from service.bootstrap import open_runtime
from service.demo.server import Route
from service.domain.feeds import FeedSpec
from service.pipeline.heartbeat import keep_alive
from service.pipeline.poll import claim_feeds, poll_feeds
from service.pipeline.runner import sync_specs
from service.store import migrate
from service.store.db import make_engine, session
from service.store.feeds import claim_due_feeds
from service.store.models import Feed
from tests.sample_feeds import good_feed


def test_a_poll_longer_than_its_lease_is_not_taken_over(feed_server, make_settings, database_url):
    """With 2 s leases renewed every 0.5 s, a fetch held for 5 s keeps its feed: another instance
    asking after the first lease ended gets nothing, and the poll's result is stored."""
    settings = make_settings(database_url, heartbeat_seconds=0.5, instance_timeout=1.0, read_timeout=20.0)
    lease = settings.lease
    feed_server.routes["/held"] = Route(good_feed(count=2, prefix="held"), delay=lease.total_seconds() + 3)
    migrate.upgrade(database_url)
    other = make_engine(database_url)

    async def scenario():
        async with open_runtime(settings) as rt:
            await sync_specs(rt, [FeedSpec(name="held", url=feed_server.url("/held"), interval=60)])
            async with keep_alive(rt):
                [feed] = await claim_feeds(rt)
                first_end = feed.lease_until
                polling = asyncio.create_task(poll_feeds(rt, [feed]))
                while rt.clock() < first_end + timedelta(seconds=1):
                    await asyncio.sleep(0.1)
                with session(other) as s:
                    taken = claim_due_feeds(s, "other", rt.clock(), lease)
                    row = s.get(Feed, feed.id)
                in_flight = not polling.done()
                report = await polling
                return taken, row, first_end, in_flight, report

    try:
        taken, row, first_end, in_flight, report = asyncio.run(scenario())
    finally:
        other.dispose()
    assert in_flight  # asked mid-fetch, past the lease's first end
    assert taken == []
    assert row.lease_until > first_end and row.lease_owner.startswith("test:")  # renewed, still ours
    [outcome] = report.outcomes
    assert (outcome.status, outcome.new) == ("new", 2)
