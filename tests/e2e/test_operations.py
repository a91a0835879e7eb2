"""`reewatch run` as operators watch it: its polling schedule, /healthz, /readyz and /metrics
over real HTTP, and its JSON log lines. One service runs for the whole module, against loopback
feeds (one alerting, one quiet on a 10 s interval, one failing) and the local Slack Web API."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from service.demo.server import FeedServer, Route
from service.pipeline.demo import DEMO_FEEDS
from tests.e2e.cli import cli_env, start
from tests.e2e.zygote import Forked
from tests.fakes.slack_api import TEST_TOKEN, SlackAPI
from tests.sample_feeds import good_feed

# One service serves the whole module: keep its tests on one worker.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("operations")]

#: The alerting sample feed: how many alerts the shipped rules raise on it (one per story).
WIRE_ALERTS = 7


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@dataclass
class Running:
    process: Forked
    base: str
    port: int
    feeds: FeedServer
    slack: SlackAPI
    log: Path

    def get(self, path: str) -> httpx.Response:
        return httpx.get(self.base + path, timeout=10)


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    folder = tmp_path_factory.mktemp("operations")
    with FeedServer() as feeds, SlackAPI() as slack:
        feeds.routes["/wire"] = Route((DEMO_FEEDS / "mining-wire.xml").read_bytes())
        feeds.routes["/quiet"] = Route(good_feed(count=2))
        feeds.routes["/down"] = Route(b"no", status=500, content_type="text/plain")
        port = free_port()
        env = cli_env(
            folder,
            SLACK_BOT_TOKEN=TEST_TOKEN,
            SLACK_API_URL=slack.url,
            SLACK_DEFAULT_CHANNEL="#rare-earth-alerts",
            REEWATCH_FOLLOWUP_MINUTES="",
            REEWATCH_HTTP_PORT=str(port),
            LOG_FORMAT="json",
            # An hour: only the feeds' own due times can wake the poller during this module.
            REEWATCH_TICK_SECONDS="3600",
            # The sample feed's items are old: let them alert as if new.
            REEWATCH_MAX_ALERT_AGE="0",
        )
        (folder / "rules" / "feeds.yaml").write_text(
            f"- name: wire\n  url: {feeds.url('/wire')}\n  interval: 1h\n  backfill: alert\n"
            f"- name: quiet\n  url: {feeds.url('/quiet')}\n  interval: 10s\n"
            f"- name: down\n  url: {feeds.url('/down')}\n  interval: 1h\n",
            encoding="utf-8",
        )
        log = folder / "service.log"
        with log.open("w") as sink:
            process = start("run", env=env, cwd=folder, stdout=subprocess.DEVNULL, stderr=sink)
        running = Running(process, f"http://127.0.0.1:{port}", port, feeds, slack, log)
        try:
            wait_until(lambda: len(slack.posted()) >= WIRE_ALERTS, 90, "the wire's alerts in Slack")
            yield running
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)


def test_each_feed_is_polled_at_its_own_due_time(service):
    """With an hour-long tick, the 10 s feed is still polled again on time; the hourly ones are not."""
    wait_until(lambda: len(service.feeds.hits("/quiet")) >= 2, 40, "the 10 s feed's second poll")
    first, second = service.feeds.hits("/quiet")[:2]
    assert second.headers.get("if-none-match") == service.feeds.routes["/quiet"].etag  # a conditional re-poll
    assert len(service.feeds.hits("/wire")) == 1
    assert len(service.feeds.hits("/down")) == 1  # failing, it backs off from an hour


def test_healthz_and_readyz_answer_over_http(service):
    """/healthz says the process is alive; /readyz that every check passes, with the last poll's age."""
    health = service.get("/healthz")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    ready = service.get("/readyz")
    assert ready.status_code == 200, ready.text
    body = ready.json()
    assert body["status"] == "ready"
    assert {name for name, check in body["checks"].items() if check["ok"]} == {
        "database",
        "rules",
        "scheduler",
        "polling",
        "prices",
    }
    assert 0 <= body["checks"]["polling"]["last_poll_age_seconds"] < 3600
    assert 0 <= body["checks"]["polling"]["any_instance_last_poll_age_seconds"] < 3600


def samples(text: str) -> dict[tuple[str, tuple], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_metrics_count_polls_articles_alerts_and_deliveries(service):
    """/metrics, in Prometheus' format, counts each feed's polls and failures, the articles,
    the alerts by status and how long deliveries took."""
    response = service.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    seen = samples(response.text)
    assert seen[("reewatch_feed_polls_total", (("feed", "wire"), ("result", "new")))] == 1
    assert seen[("reewatch_feed_polls_total", (("feed", "down"), ("result", "failed")))] == 1
    assert seen[("reewatch_feed_poll_failures_total", (("feed", "down"),))] == 1
    assert seen[("reewatch_articles_stored_total", (("feed", "wire"),))] == 10
    assert seen[("reewatch_articles_stored_total", (("feed", "quiet"),))] == 2
    assert seen[("reewatch_alerts_queued_total", (("feed", "wire"),))] == WIRE_ALERTS
    sent = len(service.slack.posted())
    assert seen[("reewatch_outbox_alerts", (("status", "sent"),))] == sent
    assert seen[("reewatch_outbox_alerts", (("status", "failed"),))] == 0
    assert seen[("reewatch_alert_delivery_latency_seconds_count", (("kind", "news"),))] == sent
    # The sample's items were published in 2025: every one of them is days old at its alert.
    assert seen[("reewatch_article_age_at_alert_seconds_count", ())] == sent
    assert seen[("reewatch_article_age_at_alert_seconds_bucket", (("le", "86400.0"),))] == 0
    assert ("reewatch_outbox_oldest_pending_age_seconds", ()) in seen
    assert ("reewatch_digest_runs", (("status", "sent"),)) in seen
    assert seen[("reewatch_last_poll_timestamp_seconds", ())] > 0


def test_log_lines_are_json_with_the_ids_of_what_they_concern(service):
    """LOG_FORMAT=json: one object a line; alert lines carry alert and article ids as fields,
    a failing feed's line its feed; APScheduler's job chatter stays out; the token never shows."""
    wait_until(lambda: "sent to" in service.log.read_text(), 10, "a delivery line")
    lines = [json.loads(line) for line in service.log.read_text().splitlines() if line.strip()]
    assert lines and all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    sent = [line for line in lines if line["logger"] == "service.delivery.dispatcher" and " sent to " in line["message"]]
    assert sent and all(isinstance(line["alert_id"], int) and isinstance(line["article_id"], int) for line in sent)
    assert all(line["message"].startswith(f"alert news:{line['article_id']}:") for line in sent)
    failed = [line for line in lines if "feed down failed" in line["message"]]
    assert failed and failed[0]["feed"] == "down" and isinstance(failed[0]["feed_id"], int)
    assert not [line for line in lines if line["logger"].startswith("apscheduler")]
    assert TEST_TOKEN not in service.log.read_text()


def test_the_http_port_listens_on_loopback_only_by_default(service):
    """Unless REEWATCH_HTTP_HOST says otherwise, the endpoints are bound to 127.0.0.1."""
    listening = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        path = Path(table)
        if not path.exists():
            continue
        for row in path.read_text().splitlines()[1:]:
            fields = row.split()
            address, port = fields[1].split(":")
            if int(port, 16) == service.port and fields[3] == "0A":  # LISTEN
                listening.append(address)
    if not listening:
        pytest.skip("/proc/net/tcp is not readable here")
    assert listening == ["0100007F"]  # 127.0.0.1, little-endian hex
