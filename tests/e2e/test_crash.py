"""Kill `reewatch run` with SIGKILL at random moments: every alert still reaches Slack exactly once.

Each trial starts the real service as a subprocess against loopback feeds (the demo's sample
feeds, scored by the shipped rules) and a local Slack Web API that takes a while to answer, and
kills it at a seeded moment after its first post reached Slack, so every kill lands while it is
delivering: mid-post, between a post and its record, mid-claim. The kill is checked to have
landed then (a kill before the first post would test nothing). The service is then restarted
and left to finish; Slack must hold each expected alert once.
"""

from __future__ import annotations

import random
import shutil
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from service.demo.server import FeedServer
from service.pipeline.demo import DEMO_FEEDS
from tests.e2e.cli import ROOT, cli_env, reewatch, start
from tests.e2e.zygote import Forked
from tests.fakes.slack_api import TEST_TOKEN, Fault, SlackAPI

TRIALS = 20
#: Slack accepts each post, then answers this much later: the window in which a kill leaves
#: the outcome unknown to us but the message already in the channel.
SLACK_LATENCY = 0.15


def start_service(env: dict[str, str], cwd: Path, log: Path) -> Forked:
    with log.open("w") as sink:
        return start("run", env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=sink)


def queued(folder: Path) -> dict[str, str]:
    """Outbox key -> headline of every news alert the run queued (read from its SQLite file).

    Their follow-ups are queued too, but fall due 15 minutes later, after the trial has ended.
    """
    with sqlite3.connect(folder / "cli.db") as db:
        return dict(
            db.execute(
                "SELECT o.key, a.title FROM outbox_alerts o JOIN articles a ON a.id = o.article_id WHERE o.kind = 'news'"
            )
        )


def posted_keys(slack: SlackAPI) -> Counter:
    """How many times each alert key reached Slack (the key travels in the message metadata)."""
    return Counter(m.alert_key for m in slack.posted())


def wait_until(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


@pytest.fixture(scope="module")
def feeds():
    with FeedServer() as server:
        urls = server.serve_directory(DEMO_FEEDS)
        yield urls


def prepare(tmp_path: Path, feeds: dict[str, str], slack: SlackAPI) -> dict[str, str]:
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    # The shipped calendar's reminders would fall due on some days and not others: this trial
    # counts news alerts only.
    (rules / "calendar.yaml").unlink()
    kinds = {"bis-rules": "official", "mining-wire": "sector", "markets-aggregator": "aggregator"}
    (rules / "feeds.yaml").write_text(
        # The sample is months of news: it alerts as if new, whatever its age.
        "".join(
            f"- name: {name}\n  url: {url}\n  interval: 1h\n  kind: {kinds[name]}\n  backfill: alert\n"
            for name, url in feeds.items()
        ),
        encoding="utf-8",
    )
    slack.fault("chat.postMessage", *[Fault.timeout(SLACK_LATENCY)] * 1000)
    return cli_env(
        tmp_path,
        SLACK_BOT_TOKEN=TEST_TOKEN,
        SLACK_API_URL=slack.url,
        SLACK_DEFAULT_CHANNEL="#rare-earth-alerts",
        SLACK_CHANNEL_RATE="20",
        SLACK_CHANNEL_BURST="5",
        SLACK_TIMEOUT="5",
        REEWATCH_TICK_SECONDS="0.2",
        REEWATCH_MAX_ALERT_AGE="0",
    )


@pytest.fixture(scope="module")
def expected(feeds, tmp_path_factory) -> Counter:
    """The headlines an uninterrupted run alerts on, each with its number of alerts."""
    tmp_path = tmp_path_factory.mktemp("reference")
    with SlackAPI() as slack:
        env = prepare(tmp_path, feeds, slack)
        result = reewatch("run", "--once", env=env, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        keys = posted_keys(slack)
    alerts = queued(tmp_path)
    assert len(alerts) >= 8 and keys == Counter(alerts.keys())
    return Counter(alerts.values())


@pytest.mark.slow
@pytest.mark.parametrize("trial", range(TRIALS))
def test_sigkill_loses_and_doubles_no_alert(trial, feeds, expected, tmp_path):
    """Whenever the process dies, a restart delivers every alert, and none twice."""
    # Into the posting: the first alerts take SLACK_LATENCY each to be answered.
    kill_after = random.Random(1000 + trial).uniform(0.0, 1.0)
    with SlackAPI() as slack:
        env = prepare(tmp_path, feeds, slack)
        first = start_service(env, tmp_path, tmp_path / "first.log")
        started = wait_until(lambda: slack.calls_to("chat.postMessage") or first.poll() is not None, timeout=120)
        assert started and first.poll() is None, (tmp_path / "first.log").read_text()
        time.sleep(kill_after)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        posts_before_kill = len(slack.calls_to("chat.postMessage"))
        before_restart = len(slack.posted())
        # The kill landed after the service had started posting, never before.
        assert first.returncode == -signal.SIGKILL and posts_before_kill >= 1

        log = tmp_path / "second.log"
        second = start_service(env, tmp_path, log)
        try:
            assert wait_until(lambda: "polling;" in log.read_text(), timeout=60), log.read_text()
            done = wait_until(lambda: sum(posted_keys(slack).values()) >= sum(expected.values()), timeout=120)
        finally:
            # A stopping service finishes the posts in flight first: once it has exited, any
            # duplicate it sent is in the channel.
            second.send_signal(signal.SIGTERM)
            second.wait(timeout=60)
        assert second.returncode == 0, log.read_text()
        keys = posted_keys(slack)

    when = f"killed {kill_after:.2f}s into posting with {before_restart} posted"
    alerts = queued(tmp_path)
    assert done, f"{when}; never posted: {set(alerts) - set(keys)}"
    assert Counter(alerts.values()) == expected, when  # the same alerts as an uninterrupted run
    assert keys == Counter(alerts.keys()), when  # each queued alert posted, and once
