"""Alert latency of the running service: from an item appearing in a feed to its Slack message.

    .venv/bin/python benchmarks/latency.py [--interval 15] [--items 40] [--max-gap 12] [--seed 7]

Starts the real `reewatch run` (a subprocess, SQLite, the shipped rules, default settings
otherwise) against a loopback feed polled every `--interval` seconds and the local Slack Web
API (tests/fakes/slack_api.py, in this process). Alerting items then appear in the feed one at
a time, at random moments (gaps drawn uniformly from 0.5 s to `--max-gap` s), so they fall at
every phase of the polling interval. The items are reports of distinct events from the labelled
corpus that a desk wants alerted, each dated the moment it appears (the service does not alert
on old news, and a report of an event already alerted joins that alert's story instead of
posting a new one). Each item's latency runs from the moment the feed starts
serving it to the moment the Slack stand-in accepts its chat.postMessage.

Printed as JSON: the interval, p50 / p95 / max latency, the same figures for ideal polling
(exactly every interval, zero processing: uniform on [0, interval]) as the baseline, the gaps
between the service's polls of the feed, and whether p95 <= interval + 2 s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from service.demo.server import FeedServer, Route  # noqa: E402
from tests.fakes.slack_api import TEST_TOKEN, SlackAPI  # noqa: E402

HEAD = '<?xml version="1.0"?><rss version="2.0"><channel><title>Latency wire</title>'


#: Reports the shipped rules alert on: the labelled corpus's wire and sector items that a desk
#: wants, each a different event, so that each gets an alert of its own (a report that joins an
#: earlier item's story edits that alert instead of posting).
CORPUS = ROOT / "tests" / "corpus" / "training" / "seed.yaml"


def reports(count: int, rng: random.Random) -> list[tuple[str, str]]:
    """`count` (headline, summary) pairs, one per event, in a seeded random order."""
    import yaml

    wanted = [i for i in yaml.safe_load(CORPUS.read_text(encoding="utf-8")) if i["alert"] is True and i["source"] in ("wire", "sector")]
    rng.shuffle(wanted)
    picked: list[tuple[str, str]] = []
    seen_days: set = set()
    for entry in wanted:
        # Reports of one event share its day; one report per day keeps the events apart.
        day = entry["published"].date()
        if day not in seen_days:
            seen_days.add(day)
            picked.append((entry["title"], entry["summary"].split(". ")[0] + "."))
    if len(picked) < count:
        raise SystemExit(f"the corpus has {len(picked)} distinct events; ask for at most that many items")
    return picked[:count]


def item(n: int, report: tuple[str, str]) -> str:
    """Item `n`: a report told apart by its number, and dated the moment it appears, as a new
    item is (older news does not alert)."""
    title, summary = report
    return (
        f"<item><guid>latency-{n}</guid><title>{escape(title)} (item {n:03d})</title>"
        f"<link>https://wire.latency.example/2025/{n}</link><pubDate>{format_datetime(datetime.now(UTC), usegmt=True)}</pubDate>"
        f"<description>{escape(summary)}</description></item>"
    )


def item_token(n: int) -> str:
    """What item `n`'s alert carries that no other does."""
    return f"item {n:03d}"


def joined_stories(database: Path, tokens: set[str]) -> set[str]:
    """The items among `tokens` that the service stored as later reports of an earlier item's
    story: they are not lost, and get no alert of their own (the story's alert stands for them)."""
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT id, title, story_id FROM articles ORDER BY id").fetchall()
    first_of_story: dict[int, int] = {}
    joined = set()
    for article_id, title, story in rows:
        if story is None:
            continue
        first = first_of_story.setdefault(story, article_id)
        if first != article_id:
            joined.update(token for token in tokens if token in title)
    return joined


def body(items: list[str]) -> bytes:
    return (HEAD + "".join(items) + "</channel></rss>").encode()


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def pick(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)

    return {"p50": pick(0.5), "p95": pick(0.95), "max": round(ordered[-1], 2)}


def environment(folder: Path, feed_url: str, slack_url: str, interval: int) -> dict[str, str]:
    rules = folder / "rules"
    shutil.copytree(ROOT / "rules", rules)
    (rules / "feeds.yaml").write_text(f"- name: wire\n  url: {feed_url}\n  interval: {interval}s\n  kind: wire\n")
    (rules / "digests.yaml").unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REEWATCH_", "SLACK_", "SMTP_", "DATABASE_URL", "PRICE_"))}
    env.update(
        DATABASE_URL=f"sqlite:///{folder / 'latency.db'}",
        REEWATCH_RULES_DIR=str(rules),
        REEWATCH_VAR_DIR=str(folder / "var"),
        PRICE_SOURCE="replay",
        REEWATCH_PRICE_REPLAY_FILE=str(ROOT / "service" / "demo" / "prices.csv"),
        REEWATCH_FOLLOWUP_MINUTES="",
        SLACK_BOT_TOKEN=TEST_TOKEN,
        SLACK_API_URL=slack_url,
        SLACK_DEFAULT_CHANNEL="#rare-earth-alerts",
    )
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interval", type=int, default=15, help="the feed's polling interval, seconds (at least 10)")
    parser.add_argument("--items", type=int, default=40)
    parser.add_argument("--max-gap", type=float, default=12.0, help="longest pause between two items, seconds")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp, SlackAPI() as slack, FeedServer() as feeds:
        folder = Path(tmp)
        shown: list[str] = []
        feeds.routes["/wire"] = Route(body(shown))
        env = environment(folder, feeds.url("/wire"), slack.url, args.interval)
        with (folder / "service.log").open("w") as log:
            service = subprocess.Popen([sys.executable, "-m", "service", "run"], env=env, cwd=folder, stderr=log, stdout=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while not feeds.hits("/wire") and time.monotonic() < deadline:
                time.sleep(0.05)
            if not feeds.hits("/wire"):
                raise RuntimeError(f"the service never polled its feed:\n{(folder / 'service.log').read_text()}")
            appeared: dict[str, float] = {}
            events = reports(args.items, rng)
            for n in range(args.items):
                time.sleep(rng.uniform(0.5, args.max_gap))
                shown.append(item(n, events[n]))
                feeds.routes["/wire"] = Route(body(shown))
                appeared[item_token(n)] = time.monotonic()
            deadline = time.monotonic() + 3 * args.interval + 30
            received: dict[str, float] = {}
            while len(received) < len(appeared) and time.monotonic() < deadline:
                for message in slack.posted():
                    for token in appeared:
                        if token not in received and token in (message.text or ""):
                            received[token] = message.received
                time.sleep(0.1)
        finally:
            service.send_signal(signal.SIGTERM)
            service.wait(timeout=60)
        polls = [hit.at for hit in feeds.hits("/wire")]
        joined = joined_stories(folder / "latency.db", set(appeared) - set(received))
    missing = sorted(set(appeared) - set(received) - joined)
    latencies = [received[token] - appeared[token] for token in received]
    gaps = [later - earlier for earlier, later in zip(polls, polls[1:])]
    measured = percentiles(latencies) if latencies else {}
    result = {
        "interval_seconds": args.interval,
        "items": args.items,
        "alerts_received": len(received),
        # Reports of an event already alerted: stored in its story, so no alert of their own.
        "joined_an_earlier_story": sorted(joined),
        "missing": missing,
        "latency_seconds": measured,
        "baseline_ideal_polling_seconds": {
            "p50": args.interval * 0.5,
            "p95": round(args.interval * 0.95, 2),
            "max": float(args.interval),
        },
        "poll_gaps_seconds": {
            "count": len(gaps),
            "median": round(statistics.median(gaps), 2) if gaps else None,
            "min": round(min(gaps), 2) if gaps else None,
            "max": round(max(gaps), 2) if gaps else None,
        },
        "target_p95_seconds": args.interval + 2,
        "target_met": bool(latencies) and not missing and measured["p95"] <= args.interval + 2,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
