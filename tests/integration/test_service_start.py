"""The running service's start, in order: the first poll cycle first, then the scheduled jobs."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from service.demo.server import Route
from service.pipeline.scheduler import serve
from service.sources.prices.replay import SAMPLE_FILE
from service.store.db import make_engine
from tests.sample_feeds import good_feed


def test_the_end_of_the_first_poll_cycle_is_reported_once_its_articles_are_stored(make_settings, feed_server):
    """`first_cycle_done` is called once, after the first cycle stored what it found (the command
    line resumes Python's cyclic garbage collector there), and not again for later cycles."""
    feed_server.routes["/ok"] = Route(good_feed(count=2))
    settings = make_settings(scheduler_tick_seconds=0.2, price_source="replay", price_replay_file=SAMPLE_FILE)
    (settings.rules_dir / "feeds.yaml").write_text(f"- name: wire\n  url: {feed_server.url('/ok')}\n  interval: 10s\n")
    engine = make_engine(settings.database_url)
    stored_at_call: list[int] = []

    def first_cycle_done() -> None:
        with engine.connect() as connection:
            stored_at_call.append(connection.execute(text("SELECT count(*) FROM articles")).scalar_one())

    async def scenario() -> None:
        stop = asyncio.Event()
        running = asyncio.create_task(serve(settings, stop, first_cycle_done=first_cycle_done))
        try:
            deadline = asyncio.get_running_loop().time() + 30
            while not stored_at_call and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.05)
            # The feed is due again 10 s after its first poll: its second cycle reports nothing.
            deadline = asyncio.get_running_loop().time() + 30
            while len(feed_server.requests) < 2 and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.05)
        finally:
            stop.set()
            await running

    try:
        asyncio.run(scenario())
    finally:
        engine.dispose()
    assert stored_at_call == [2]
    assert len(feed_server.requests) >= 2
