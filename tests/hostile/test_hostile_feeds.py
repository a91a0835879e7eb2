"""Feeds an attacker serves from a loopback host, through the real pipeline, on SQLite and PostgreSQL.

Each test is one way a hostile feed used to hurt the service: an entity bomb behind 9 KB of
comments, a parser worker killed mid-parse, a body that parses for too long, a NUL or a lone
surrogate in a stored field, an item the database refuses anyway. Memory is bounded by the
worker's own limit and measured on the worker itself (its peak resident memory), never by time.
"""

from __future__ import annotations

import asyncio
import os
import signal
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlmodel import select

from service.bootstrap import open_runtime
from service.demo.server import Route
from service.domain.feeds import FeedSpec
from service.pipeline.poll import poll_due_feeds
from service.pipeline.runner import sync_specs
from service.store.db import make_engine, session
from service.store.models import Article, Feed
from tests import databases
from tests.hostile.feeds import entity_bomb, poisoned_feed
from tests.hostile.workers import cpu_seconds, parser_workers, peak_memory_mb
from tests.sample_feeds import good_feed, item, rss

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
#: What "parsing stays under 200 MB" means for one worker.
MEMORY_BOUND_MB = 200


def spec(name: str, url: str) -> FeedSpec:
    return FeedSpec(name=name, url=url, interval=60)


def slow_feed(prefix: str = "slow", entries: int = 14_000) -> bytes:
    """A legitimate but large feed (about 4.5 MB, under the body cap) that takes seconds to parse."""
    return rss(*(item(guid=f"{prefix}-{i}", title=f"{prefix} story {i} " * 4, link=f"https://slow.test/{prefix}/{i}") for i in range(entries)))


def feeds(engine) -> dict[str, Feed]:
    with session(engine) as s:
        return {f.name: f for f in s.exec(select(Feed))}


def articles(engine, feed_name: str) -> list[Article]:
    with session(engine) as s:
        query = select(Article).join(Feed, Feed.id == Article.feed_id).where(Feed.name == feed_name).order_by(Article.id)
        return list(s.exec(query))


class Service:
    """One runtime (one parser pool) kept across cycles, as `reewatch run` keeps it."""

    def __init__(self, settings, specs):
        self.settings = settings
        self.specs = specs
        databases.upgrade(settings.database_url)
        self.engine = make_engine(settings.database_url)

    async def run(self, scenario):
        async with open_runtime(self.settings, engine=make_engine(self.settings.database_url)) as rt:
            rt.clock = lambda: T0
            await sync_specs(rt, self.specs)
            return await scenario(rt)

    def close(self) -> None:
        self.engine.dispose()


@pytest.fixture
def service(make_settings):
    created: list[Service] = []

    def make(database_url, specs, **overrides) -> Service:
        made = Service(make_settings(database_url, **overrides), specs)
        created.append(made)
        return made

    yield make
    for made in created:
        made.close()


@pytest.mark.parametrize(("references", "size_kb"), [(10_000, 90), (60_000, 240), (1_600_000, 4_860)])
def test_entity_bombs_stay_small_in_a_capped_worker(feed_server, service, database_url, references, size_kb):
    """The 90 KB and 240 KB bombs (1.5 GB and 3.1 GB before), and one as big as the body cap
    allows, parse in a worker capped at 200 MB: the good entries are stored, the entity is never
    expanded, and the worker's own peak memory stays under 200 MB."""
    bomb = entity_bomb(references=references)
    assert abs(len(bomb) / 1000 - size_kb) < 10 and len(bomb) < 5_000_000
    feed_server.routes["/bomb"] = Route(bomb)
    feed_server.routes["/good"] = Route(good_feed("good"))
    svc = service(
        database_url,
        [spec("bomb", feed_server.url("/bomb")), spec("good", feed_server.url("/good"))],
        parse_workers=1,
        parse_memory_mb=MEMORY_BOUND_MB,
    )

    async def scenario(rt):
        report = await poll_due_feeds(rt)
        (worker,) = parser_workers()
        return report, peak_memory_mb(worker)

    report, peak_mb = asyncio.run(svc.run(scenario))
    outcomes = {o.feed: o for o in report.outcomes}
    assert outcomes["bomb"].status == "new" and outcomes["good"].status == "new"
    stored = articles(svc.engine, "bomb")
    assert [(a.guid, a.title) for a in stored] == [("bomb-1", "Bomb"), ("bomb-2", "Good neighbour")]
    assert "DOCTYPE declared its own entities" in feeds(svc.engine)["bomb"].last_warning
    assert peak_mb < MEMORY_BOUND_MB


def test_a_killed_worker_costs_one_feed_one_failure(feed_server, service, database_url):
    """SIGKILL the worker mid-parse (as the OOM killer would): that feed records one failure, the
    others in the cycle are stored, and the next big cycle parses every feed on a new worker."""
    specs = [spec("slow", feed_server.url("/slow"))]
    feed_server.routes["/slow"] = Route(slow_feed())
    for n in range(9):
        feed_server.routes[f"/f{n}"] = Route(good_feed(f"f{n}", count=2))
        specs.append(spec(f"f{n}", feed_server.url(f"/f{n}")))
    svc = service(database_url, specs, parse_workers=1)

    async def scenario(rt):
        cycle = asyncio.create_task(poll_due_feeds(rt))
        victim = await _busy_worker(cycle)
        os.kill(victim, signal.SIGKILL)
        first = await cycle
        # The next cycle: every feed changed, all of them parsed again.
        for n in range(9):
            feed_server.routes[f"/f{n}"] = Route(good_feed(f"f{n}-next", count=2))
        feed_server.routes["/slow"] = Route(good_feed("slow-next", count=2))
        rt.clock = lambda: T0 + timedelta(days=1)
        second = await poll_due_feeds(rt)
        return first, second, victim

    first, second, victim = asyncio.run(svc.run(scenario))
    failed = {o.feed: o.error for o in first.failed}
    assert list(failed) == ["slow"], failed
    assert "killed by SIGKILL" in failed["slow"]
    assert sum(o.new for o in first.outcomes) == 18
    assert feeds(svc.engine)["slow"].consecutive_failures == 0  # recovered in the second cycle
    assert not second.failed and len(second.outcomes) == 10 and second.new_articles == 20
    assert victim not in parser_workers()


async def _busy_worker(cycle: asyncio.Task, *, cpu: float = 0.8, within: float = 120) -> int:
    """The worker once it has spent `cpu` seconds on parsing: only the slow feed takes that
    long, so a kill now lands in the middle of its parse."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        assert not cycle.done(), "the cycle ended before the slow parse could be interrupted"
        for pid in parser_workers():
            if cpu_seconds(pid) >= cpu:
                return pid
        await asyncio.sleep(0.05)
    raise AssertionError("no parser worker got busy")


def test_a_parse_past_its_deadline_is_ended(feed_server, service, database_url):
    """A body that parses longer than REEWATCH_PARSE_DEADLINE fails its feed with that reason;
    the feed's failure is counted and the other feeds of the cycle are stored."""
    feed_server.routes["/slow"] = Route(slow_feed())
    feed_server.routes["/good"] = Route(good_feed("good"))
    svc = service(
        database_url,
        [spec("slow", feed_server.url("/slow")), spec("good", feed_server.url("/good"))],
        parse_workers=1,
        parse_deadline=0.5,
    )

    async def scenario(rt):
        return await poll_due_feeds(rt)

    report = asyncio.run(svc.run(scenario))
    assert {o.feed: o.error for o in report.failed} == {
        "slow": "parsing took longer than the 0.5s deadline; the parser process was ended"
    }
    stored = feeds(svc.engine)
    assert stored["slow"].consecutive_failures == 1 and "deadline" in stored["slow"].last_error
    assert len(articles(svc.engine, "good")) == 3


def test_a_parse_past_the_memory_cap_ends_its_worker_only(feed_server, service, database_url):
    """A worker that needs more than REEWATCH_PARSE_MEMORY_MB ends itself: that feed fails with
    the reason, and the next cycle parses on a fresh worker."""
    feed_server.routes["/big"] = Route(slow_feed("big"))
    svc = service(database_url, [spec("big", feed_server.url("/big"))], parse_workers=1, parse_memory_mb=16)

    async def scenario(rt):
        first = await poll_due_feeds(rt)
        feed_server.routes["/big"] = Route(good_feed("small"))
        rt.clock = lambda: T0 + timedelta(days=1)
        return first, await poll_due_feeds(rt)

    first, second = asyncio.run(svc.run(scenario))
    assert [o.error for o in first.failed] == ["parsing needed more than 16 MB; the parser process was ended"]
    assert second.new_articles == 3 and not second.failed


def test_nul_and_lone_surrogates_never_reach_the_database(feed_server, service, database_url):
    """A NUL in a guid, link, title or feed title and lone surrogate references (which failed the
    feed's transaction on PostgreSQL on every poll) are cleaned; every item is stored."""
    feed_server.routes["/poison"] = Route(poisoned_feed())
    svc = service(database_url, [spec("poison", feed_server.url("/poison"))])

    async def scenario(rt):
        return await poll_due_feeds(rt)

    report = asyncio.run(svc.run(scenario))
    assert not report.failed and report.new_articles == 3
    stored = articles(svc.engine, "poison")
    assert [a.guid for a in stored] == ["nul--guid", "surrogate-\ufffd-guid", "clean-1"]
    assert stored[0].title == "Gallium curbs" and stored[0].link == "https://poison.test/ab"
    assert stored[1].title == "Lone \ufffd surrogate"
    feed = feeds(svc.engine)["poison"]
    assert feed.title == "Poisoned feed \ufffd" and feed.consecutive_failures == 0


REFUSE = {
    "sqlite": (
        "CREATE TRIGGER refuse_poison BEFORE INSERT ON articles WHEN NEW.title LIKE '%refused by the database%' "
        "BEGIN SELECT RAISE(ABORT, 'this database refuses the item'); END",
    ),
    "postgresql": (
        "CREATE FUNCTION refuse_poison() RETURNS trigger AS $$ BEGIN "
        "IF NEW.title LIKE '%refused by the database%' THEN RAISE EXCEPTION 'this database refuses the item'; END IF; "
        "RETURN NEW; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER refuse_poison BEFORE INSERT ON articles FOR EACH ROW EXECUTE FUNCTION refuse_poison()",
    ),
}


def test_an_item_the_database_refuses_is_set_aside_not_the_feed(feed_server, service, database_url, caplog):
    """When the database refuses one item for a reason no cleaning foresaw (here a trigger), that
    item is set aside with the reason logged; the feed's other items are stored and it stays healthy."""
    body = rss(
        item(guid="a", title="Gallium export curbs", link="https://refuse.test/a"),
        item(guid="b", title="This one is refused by the database", link="https://refuse.test/b"),
        item(guid="c", title="Germanium licences", link="https://refuse.test/c"),
    )
    feed_server.routes["/f"] = Route(body)
    svc = service(database_url, [spec("f", feed_server.url("/f"))])
    with svc.engine.begin() as connection:
        for statement in REFUSE[svc.engine.dialect.name]:
            connection.execute(text(statement))

    async def scenario(rt):
        return await poll_due_feeds(rt)

    with caplog.at_level("WARNING"):
        report = asyncio.run(svc.run(scenario))
    (outcome,) = report.outcomes
    assert outcome.status == "new" and outcome.new == 2
    assert [a.guid for a in articles(svc.engine, "f")] == ["a", "c"]
    feed = feeds(svc.engine)["f"]
    assert feed.consecutive_failures == 0 and feed.last_error is None
    assert "1 entries could not be stored and were set aside" in feed.last_warning
    assert "this database refuses the item" in feed.last_warning
    # The database's words, never its statement or the item's values.
    assert "INSERT INTO" not in feed.last_warning and "[SQL" not in feed.last_warning
    assert "entry 'b' set aside, the database refused it" in caplog.text
    # Read again at the next poll, so the refused item is retried rather than forgotten.
    assert feed.body_hash is None and feed.etag is None
