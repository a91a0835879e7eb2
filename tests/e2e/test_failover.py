"""Two `reewatch run` instances on one PostgreSQL database: one is killed (SIGKILL) in the middle of
a Slack post while it holds feeds and alerts, and the other takes its work over within seconds,
posting each alert exactly once.

Instance alpha starts alone. The local Slack API holds its first chat.postMessage after accepting
the message (a stall), and the loopback feed server holds its fetch of one feed: alpha is killed
with a post in flight, alerts queued behind it and a feed leased. Instance beta, started before
the kill, must poll that feed and deliver those alerts (finding the one already in Slack by its
key) within 30 s of the kill, by the rows' own timestamps, with default heartbeat settings.
"""

from __future__ import annotations

import signal
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from service.demo.server import FeedServer, Route
from service.pipeline.demo import DEMO_FEEDS
from tests.e2e.cli import cli_env
from tests.e2e.cli import start as run_service
from tests.e2e.zygote import Forked
from tests.e2e.test_operations import WIRE_ALERTS, free_port, samples, wait_until
from tests.fakes.slack_api import TEST_TOKEN, Fault, SlackAPI
from tests.sample_feeds import good_feed

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

#: Longer than the whole test: what alpha waits on never answers before it is killed.
HELD = 200.0
#: The takeover must be done this long after the kill (heartbeat timeout 15 s, beat every 5 s).
TAKEOVER_WITHIN = timedelta(seconds=30)


def start(folder: Path, name: str, env: dict[str, str]) -> tuple[Forked, Path]:
    log = folder / f"{name}.log"
    with log.open("w") as sink:
        process = run_service("run", env=env, cwd=folder, stdout=subprocess.DEVNULL, stderr=sink)
    return process, log


def test_a_killed_instances_feeds_and_alerts_are_taken_over_within_seconds(tmp_path, postgres_url):
    """SIGKILL mid-post: the survivor polls the dead instance's feed and sends its alerts within
    30 s of the kill, and every alert reaches Slack exactly once."""
    db = create_engine(postgres_url)
    with FeedServer() as feeds, SlackAPI() as slack:
        feeds.routes["/wire"] = Route((DEMO_FEEDS / "mining-wire.xml").read_bytes())
        slow_body = good_feed(count=2, prefix="slow")
        feeds.routes["/slow"] = Route(slow_body, delay=HELD)
        slack.fault("chat.postMessage", Fault.timeout(HELD))
        common = dict(
            DATABASE_URL=postgres_url,
            SLACK_BOT_TOKEN=TEST_TOKEN,
            SLACK_API_URL=slack.url,
            SLACK_DEFAULT_CHANNEL="#rare-earth-alerts",
            REEWATCH_FOLLOWUP_MINUTES="",
            REEWATCH_TICK_SECONDS="2",
            # The sample feed's items are old: let them alert as if new.
            REEWATCH_MAX_ALERT_AGE="0",
        )
        env_alpha = cli_env(
            tmp_path / "alpha",
            REEWATCH_INSTANCE_ID="alpha",
            # Alpha waits as long as it is held, so it is mid-fetch and mid-post when killed.
            REEWATCH_READ_TIMEOUT="200",
            REEWATCH_FETCH_DEADLINE="240",
            SLACK_TIMEOUT="120",
            **common,
        )
        beta_port = free_port()
        env_beta = cli_env(tmp_path / "beta", REEWATCH_INSTANCE_ID="beta", REEWATCH_HTTP_PORT=str(beta_port), **common)
        for folder in ("alpha", "beta"):
            (tmp_path / folder / "rules" / "feeds.yaml").write_text(
                f"- name: wire\n  url: {feeds.url('/wire')}\n  interval: 1h\n  backfill: alert\n"
                f"- name: slow\n  url: {feeds.url('/slow')}\n  interval: 1h\n",
                encoding="utf-8",
            )
        alpha, alpha_log = start(tmp_path / "alpha", "alpha", env_alpha)
        beta = None
        try:
            # Alpha is mid-post (Slack has its message and has not answered) and mid-fetch.
            wait_until(lambda: slack.stalled and feeds.hits("/slow"), 90, "alpha's post and fetch in flight")
            [in_flight] = slack.stalled
            assert in_flight.method == "chat.postMessage"
            [held_message] = slack.posted()
            beta, beta_log = start(tmp_path / "beta", "beta", env_beta)
            wait_until(lambda: "beta" in instances(db), 90, "beta's first heartbeat")

            held = leased_by(db, "alpha")
            assert held["feeds"] == ["slow"]
            assert held_message.alert_key in held["alerts"] and len(held["alerts"]) >= 2
            assert slack.stalled == [in_flight] and alpha.poll() is None
            alpha.send_signal(signal.SIGKILL)
            alpha.wait(timeout=10)
            killed_at = datetime.now(UTC)
            feeds.routes["/slow"] = Route(slow_body)  # answers beta at once

            wait_until(lambda: all_sent(db, held["alerts"]) and polled_since(db, "slow", killed_at), 90, "beta's takeover")

            rows = sent_rows(db, held["alerts"])
            assert all(sent_at - killed_at <= TAKEOVER_WITHIN for sent_at in rows.values()), rows
            slow = feed_row(db, "slow")
            assert slow["last_polled_at"] - killed_at <= TAKEOVER_WITHIN and slow["lease_owner"] is None
            assert len(feeds.hits("/slow")) == 2  # alpha's, held, and beta's
            # Each alert exactly once in Slack: the one alpha had posted was found, not posted again.
            wait_until(lambda: queued_keys(db) and all_sent(db, queued_keys(db)), 60, "every alert sent")
            posted = [m.alert_key for m in slack.posted()]
            assert sorted(posted) == sorted(set(posted)) == sorted(queued_keys(db))
            assert len([k for k in posted if k.startswith("news:")]) == WIRE_ALERTS
            assert ts_of(db, held_message.alert_key) == held_message.ts
            takeovers = [line for line in beta_log.read_text().splitlines() if "instance alpha" in line and "took over" in line]
            assert takeovers and "WARNING" in takeovers[0], beta_log.read_text()[-3000:]
            seen = samples(httpx.get(f"http://127.0.0.1:{beta_port}/metrics", timeout=10).text)
            assert seen[("reewatch_instance_takeovers_total", ())] == 1
            assert seen[("reewatch_lease_takeovers_total", (("kind", "feed"),))] == 1
            assert seen[("reewatch_lease_takeovers_total", (("kind", "alert"),))] == len(held["alerts"])
        finally:
            if alpha.poll() is None:
                alpha.kill()
                alpha.wait(timeout=10)
            if beta is not None:
                beta.send_signal(signal.SIGTERM)
                beta.wait(timeout=60)
            db.dispose()
    # Stopped cleanly, beta left no heartbeat and no lease behind.
    db = create_engine(postgres_url)
    try:
        assert instances(db) == []
        assert leased_by(db, "beta") == {"feeds": [], "alerts": []}
    finally:
        db.dispose()


def instances(db) -> list[str]:
    with db.connect() as c:
        return list(c.execute(text("SELECT instance_id FROM instance_heartbeats ORDER BY instance_id")).scalars())


def leased_by(db, instance: str) -> dict[str, list[str]]:
    """The feeds (names) and alerts (keys) whose unexpired lease `instance` holds."""
    pattern = instance + ":%"
    with db.connect() as c:
        feeds = c.execute(text("SELECT name FROM feeds WHERE lease_owner LIKE :p ORDER BY name"), {"p": pattern}).scalars()
        alerts = c.execute(text("SELECT key FROM outbox_alerts WHERE lease_owner LIKE :p ORDER BY key"), {"p": pattern}).scalars()
        return {"feeds": list(feeds), "alerts": list(alerts)}


def sent_rows(db, keys: list[str]) -> dict[str, datetime]:
    with db.connect() as c:
        rows = c.execute(
            text("SELECT key, sent_at FROM outbox_alerts WHERE key = ANY(:keys) AND status = 'sent'"), {"keys": keys}
        ).all()
    return {key: sent_at for key, sent_at in rows}


def all_sent(db, keys: list[str]) -> bool:
    return len(sent_rows(db, keys)) == len(keys)


def queued_keys(db) -> list[str]:
    with db.connect() as c:
        return list(c.execute(text("SELECT key FROM outbox_alerts ORDER BY key")).scalars())


def ts_of(db, key: str) -> str | None:
    with db.connect() as c:
        return c.execute(text("SELECT ts FROM outbox_alerts WHERE key = :k"), {"k": key}).scalar_one()


def feed_row(db, name: str) -> dict:
    with db.connect() as c:
        return dict(c.execute(text("SELECT last_polled_at, lease_owner FROM feeds WHERE name = :n"), {"n": name}).mappings().one())


def polled_since(db, name: str, moment: datetime) -> bool:
    polled = feed_row(db, name)["last_polled_at"]
    return polled is not None and polled >= moment
