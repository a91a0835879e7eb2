"""Entity-bomb feeds: parse time and peak memory, before and after the hardened parser. Prints JSON.

"Before" is the pre-pass the service used to run (a regex that removed a DOCTYPE's internal
subset only when it sat in the first 8 KB), then feedparser, exactly as the service called it;
"after" is the service's parser now, in a worker of the service's own pool. Each parse runs in
a fresh process and reports that process's peak resident memory, so one case cannot inflate
another. The "before" processes get an address-space cap and a deadline of their own, so a
bomb cannot take the machine: a case that hits either is reported as such.

    .venv/bin/python benchmarks/hostile.py [--skip-before]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import multiprocessing
import os
import re
import resource
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from service.pipeline.parsing import FeedParserPool  # noqa: E402
from tests.hostile.feeds import entity_bomb  # noqa: E402

CASES = {
    "bomb_90kb": dict(references=10_000),
    "bomb_240kb": dict(references=60_000),
    "bomb_at_the_body_cap": dict(references=1_600_000),  # 4.9 MB: the most the fetcher lets through
}
BEFORE_MEMORY_CAP_MB = 6_000
BEFORE_DEADLINE_S = 300.0
_OLD_SUBSET = re.compile(rb"<!DOCTYPE([^\[>]*)\[.*?\]\s*>", re.S | re.I)


def _old_parse(body: bytes, out) -> None:
    """The service's parse before hardening, in a child process capped at BEFORE_MEMORY_CAP_MB."""
    import feedparser

    cap = BEFORE_MEMORY_CAP_MB * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    started = time.perf_counter()
    try:
        head = body[:8192]
        if b"<!doctype" in head.lower():
            body = _OLD_SUBSET.sub(rb"<!DOCTYPE\1>", body, count=1)
        parsed = feedparser.parse(
            io.BytesIO(body), response_headers={"content-type": "application/rss+xml"}, sanitize_html=False, resolve_relative_uris=False
        )
        outcome = {"entries": len(parsed.entries), "longest_title": max((len(e.get("title", "")) for e in parsed.entries), default=0)}
    except MemoryError:
        outcome = {"error": f"ran out of its {BEFORE_MEMORY_CAP_MB} MB cap"}
    outcome["parse_s"] = round(time.perf_counter() - started, 3)
    outcome["peak_memory_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    out.send(outcome)


def before(body: bytes) -> dict:
    ctx = multiprocessing.get_context("spawn")
    reader, writer = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_old_parse, args=(body, writer))
    child.start()
    if reader.poll(BEFORE_DEADLINE_S):
        result = reader.recv()
    else:
        child.kill()
        result = {"error": f"still parsing after {BEFORE_DEADLINE_S:g}s; stopped"}
    child.join()
    return result


def after(body: bytes) -> dict:
    """The service's parser in a fresh worker of its own pool; the worker's peak read from /proc."""

    async def run() -> dict:
        pool = FeedParserPool(1)
        try:
            started = time.perf_counter()
            parsed = await pool.parse(body, url="https://bomb.test/", content_type="application/rss+xml", now=datetime.now(UTC))
            elapsed = time.perf_counter() - started
            return {
                "entries": len(parsed.entries),
                "longest_title": max((len(e.title) for e in parsed.entries), default=0),
                "parse_s_with_worker_start": round(elapsed, 3),
                "parse_s": round(await _warm_parse(pool, body), 3),
                "peak_memory_mb": round(max(_peak_mb(pid) for pid in _grandchildren()), 1),
            }
        finally:
            pool.close()

    return asyncio.run(run())


async def _warm_parse(pool: FeedParserPool, body: bytes) -> float:
    started = time.perf_counter()
    await pool.parse(body, url="https://bomb.test/", content_type="application/rss+xml", now=datetime.now(UTC))
    return time.perf_counter() - started


def _grandchildren() -> list[int]:
    """The pool's workers: children of our forkserver child."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])
    children = {pid for pid, parent in parents.items() if parent == os.getpid()}
    return [pid for pid, parent in parents.items() if parent in children]


def _peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    options = argparse.ArgumentParser()
    options.add_argument("--skip-before", action="store_true", help="only the hardened parser (the old one takes minutes)")
    args = options.parse_args()
    results = {}
    for name, shape in CASES.items():
        body = entity_bomb(**shape)
        case = {"body_kb": round(len(body) / 1000, 1), "after": after(body)}
        if not args.skip_before and name != "bomb_at_the_body_cap":
            case["before"] = before(body)
        results[name] = case
    print(
        json.dumps(
            {
                "cases": results,
                "bound_peak_memory_mb": 200,
                "cpus": os.cpu_count(),
                "load_average": os.getloadavg()[0],
                "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
