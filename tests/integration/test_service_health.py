"""The running service's own view of its health, over real HTTP: /readyz turns 503 when the
database cannot be read and back to 200 when it can; /healthz is not about the database."""

from __future__ import annotations

import asyncio
import logging
import socket

import httpx
import pytest
from sqlalchemy import text

from service.bootstrap import open_runtime
from service.demo.server import Route
from service.logs import ContextFilter, log_context
from service.pipeline.scheduler import serve
from service.sources.prices.replay import SAMPLE_FILE
from service.store.db import make_engine
from tests.sample_feeds import good_feed


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def wait_for_status(client: httpx.AsyncClient, path: str, status: int, timeout: float = 30) -> httpx.Response:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            response = await client.get(path)
            if response.status_code == status:
                return response
        except httpx.TransportError:
            response = None
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{path} never answered {status}: {response and response.text}")
        await asyncio.sleep(0.05)


def test_readyz_follows_the_database(make_settings, database_url, feed_server):
    """With the feeds table gone (renamed by another connection) /readyz is 503 and says the
    database check failed; /healthz stays 200; once the table is back, /readyz is 200 again."""
    feed_server.routes["/ok"] = Route(good_feed(count=2))
    settings = make_settings(
        database_url, http_port=free_port(), scheduler_tick_seconds=0.2, price_source="replay", price_replay_file=SAMPLE_FILE
    )
    (settings.rules_dir / "feeds.yaml").write_text(f"- name: wire\n  url: {feed_server.url('/ok')}\n  interval: 1h\n")

    async def scenario() -> None:
        stop = asyncio.Event()
        running = asyncio.create_task(serve(settings, stop))
        engine = make_engine(settings.database_url)
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.http_port}", timeout=10) as client:
                ready = await wait_for_status(client, "/readyz", 200)
                assert ready.json()["checks"]["database"] == {"ok": True, "error": None}
                with engine.begin() as connection:
                    connection.execute(text("ALTER TABLE feeds RENAME TO feeds_away"))
                broken = await wait_for_status(client, "/readyz", 503)
                checks = broken.json()["checks"]
                assert checks["database"]["ok"] is False and "feeds" in checks["database"]["error"]
                assert (await client.get("/healthz")).status_code == 200
                with engine.begin() as connection:
                    connection.execute(text("ALTER TABLE feeds_away RENAME TO feeds"))
                await wait_for_status(client, "/readyz", 200)
        finally:
            stop.set()
            await running
            engine.dispose()

    asyncio.run(scenario())


def test_a_taken_port_is_a_clear_error(make_settings, sqlite_url):
    """The service refuses to start when its HTTP port is taken, and says which one."""
    from service.errors import ReewatchError

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = make_settings(sqlite_url, http_port=port)
        with pytest.raises(ReewatchError, match=f"cannot listen on 127.0.0.1:{port}"):
            asyncio.run(serve(settings, asyncio.Event()))


def test_database_work_logs_with_the_callers_context(make_settings, sqlite_url, caplog):
    """A line logged on the database thread carries the ids of the task that asked for the work."""
    caplog.handler.addFilter(ContextFilter())

    def store() -> None:
        logging.getLogger("service.test").info("stored on the database thread")

    async def scenario() -> None:
        async with open_runtime(make_settings(sqlite_url)) as rt:
            with log_context(feed="wire", article_id=12):
                await rt.db(store)

    with caplog.at_level("INFO", logger="service.test"):
        asyncio.run(scenario())
    (record,) = [r for r in caplog.records if r.name == "service.test"]
    assert (record.feed, record.article_id) == ("wire", 12)
