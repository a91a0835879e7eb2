"""Ingestion benchmark: 200 feeds x 50 entries on a loopback server. Prints JSON.

Compares, in the same run, our first cycle with the time feedparser alone takes to parse the
same bytes (with its default options), and times a second cycle where every feed answers 304
Not Modified. The first cycle is the whole job for new items: fetch, parse, normalise, score
every entry with the shipped rules, store the articles and queue the alerts (with their price
snapshot and follow-ups). The entries read like a sector feed: one policy story in ten, which
the rules alert on. It runs twice, parsing inline and in worker processes, on a fresh SQLite
file each time; the server runs in its own process.

    .venv/bin/python benchmarks/ingest.py [--feeds 200] [--entries 50]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from service.bootstrap import open_runtime  # noqa: E402
from service.config import Settings  # noqa: E402
from service.domain.feeds import FeedSpec  # noqa: E402
from service.pipeline.poll import poll_due_feeds  # noqa: E402
from service.pipeline.runner import sync_specs  # noqa: E402
from service.store import migrate  # noqa: E402

from benchmarks.loopback import serve_forever  # noqa: E402

#: What a sector feed carries: mostly general mining and markets news, one policy story in ten
#: that the shipped rules alert on (real feeds such as mining.com run well below that).
TOPICS = [
    ("China adds {n} rare earths to export licensing list", "MOFCOM said licences are needed for dysprosium and terbium, effective at once."),
    ("Gold miners extend rally as bullion holds near record, session {n}", "Producers in Nevada and Ontario led gains as central banks kept buying."),
    ("Copper smelter fees fall to multi-year low in round {n}", "Chinese smelters agreed lower treatment charges with Chilean suppliers."),
    ("Lithium prices slip on slower electric-vehicle sales, week {n}", "Spodumene cargoes were offered below last month's level in Western Australia."),
    ("Iron ore steady as port stocks build, day {n}", "Dalian futures were little changed; steel margins stayed thin in the north."),
    ("Coal exporters face lower Asian demand in quarter {n}", "Newcastle benchmark prices eased as Japanese utilities restocked early."),
    ("Nickel producer trims guidance after mill outage {n}", "The company said repairs would take about three weeks at its Sulawesi plant."),
    ("Silver demand from solar makers climbs, survey {n}", "Panel makers used more silver paste despite efforts to thrift."),
    ("Uranium explorer raises funds for drilling season {n}", "The placement was priced at a small discount to the last close."),
    ("Zinc miners weigh restarts as prices recover, note {n}", "Analysts said idle capacity in Europe could return within a year."),
]


def feed_body(feed: int, entries: int) -> bytes:
    items = []
    for n in range(entries):
        title, lede = TOPICS[n % len(TOPICS)]
        items.append(
            f"<item><title>{title.format(n=n)} &#8212; feed {feed}</title>"
            f"<link>https://news{feed}.example.test/2025/10/{n}?utm_source=rss&amp;utm_medium=feed</link>"
            f'<guid isPermaLink="false">feed{feed}-item{n}</guid>'
            f"<pubDate>Thu, 09 Oct 2025 {n % 24:02d}:{n % 60:02d}:00 GMT</pubDate>"
            f"<description>&lt;p&gt;{lede} &lt;b&gt;Analysts&lt;/b&gt; at a broker said the move"
            f" &amp;amp; its timing matter for the sector&#8217;s shares. "
            f'&lt;a href="/more/{n}"&gt;Read more&lt;/a&gt;&lt;/p&gt;</description></item>'
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Bench feed {feed}</title><link>https://news{feed}.example.test/</link>"
        + "".join(items)
        + "</channel></rss>"
    ).encode()


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


async def cycles(settings: Settings, specs: list[FeedSpec]) -> dict:
    migrate.upgrade(settings.database_url)
    start_cpu = cpu_seconds()
    async with open_runtime(settings) as rt:
        await sync_specs(rt, specs)
        t0 = time.perf_counter()
        first = await poll_due_feeds(rt)
        first_wall = time.perf_counter() - t0
        now = rt.clock()
        rt.clock = lambda: now + timedelta(seconds=61)
        t1 = time.perf_counter()
        second = await poll_due_feeds(rt)
        second_wall = time.perf_counter() - t1
    return {
        "first_cycle_wall_s": round(first_wall, 3),
        "first_and_second_cycle_cpu_s": round(cpu_seconds() - start_cpu, 3),
        "new_articles": first.new_articles,
        "alerts_queued": first.queued_alerts,
        "failed_feeds": len(first.failed),
        "second_cycle_wall_s": round(second_wall, 3),
        "second_cycle_statuses": sorted({o.status for o in second.outcomes}),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--entries", type=int, default=50)
    args = parser.parse_args()

    bodies = [feed_body(i, args.entries) for i in range(args.feeds)]
    t0, c0 = time.perf_counter(), time.process_time()
    for i, body in enumerate(bodies):
        feedparser.parse(io.BytesIO(body), response_headers={"content-location": f"http://x/feed/{i}"})
    feedparser_wall, feedparser_cpu = time.perf_counter() - t0, time.process_time() - c0

    ctx = multiprocessing.get_context("spawn")
    port_queue, stop_event = ctx.Queue(), ctx.Event()
    routes = {f"/feed/{i}": body for i, body in enumerate(bodies)}
    # The server runs in its own process so it shares neither our GIL nor our CPU clock.
    server = ctx.Process(target=serve_forever, args=(routes, port_queue, stop_event), daemon=True)
    server.start()
    port = port_queue.get(timeout=30)
    results = {}
    try:
        specs = [FeedSpec(name=f"f{i}", url=f"http://127.0.0.1:{port}/feed/{i}", interval=60) for i in range(args.feeds)]
        for label, workers in (("inline_parse", 0), ("worker_processes", None)):
            with tempfile.TemporaryDirectory() as tmp:
                settings = Settings(
                    _env_file=None, database_url=f"sqlite:///{tmp}/bench.db", parse_workers=workers
                )
                results[label] = asyncio.run(cycles(settings, specs))
    finally:
        stop_event.set()
        server.join(timeout=10)

    entries = args.feeds * args.entries
    best = min(results.values(), key=lambda r: r["first_cycle_wall_s"])
    print(
        json.dumps(
            {
                "feeds": args.feeds,
                "entries": entries,
                "body_bytes": sum(len(b) for b in bodies),
                "feedparser_alone_parse_s": round(feedparser_wall, 3),
                "feedparser_alone_cpu_s": round(feedparser_cpu, 3),
                "cycles": results,
                "entries_per_s": round(entries / best["first_cycle_wall_s"], 1),
                "first_cycle_vs_feedparser": round(best["first_cycle_wall_s"] / feedparser_wall, 3),
                "target_first_cycle_vs_feedparser": 1.5,
                "all_304_cycle_wall_s": best["second_cycle_wall_s"],
                "target_all_304_cycle_wall_s": 0.5,
                "cpus": os.cpu_count(),
                "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
