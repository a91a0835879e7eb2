"""`reewatch alerts status` as operators run it: a real subprocess over a real outbox."""

from __future__ import annotations

from datetime import UTC, datetime

from service.store.db import session
from service.store.outbox import skip_unsent
from tests.delivery.harness import DeliveringOutbox, assessment
from tests.e2e.cli import cli_env, reewatch
from tests.fakes.slack_api import TEST_TOKEN, Fault, SlackAPI


def test_alerts_status_shows_counts_the_oldest_pending_and_failures_without_the_token(tmp_path, make_settings, database_url):
    """Counts per channel, the oldest pending alert, the failures with Slack's reasons; exit 0, no token."""
    with SlackAPI() as slack:
        slack.add_channel("quiet", member=False)
        settings = make_settings(
            database_url,
            slack_bot_token=TEST_TOKEN,
            slack_api_url=slack.url,
            # Loopback answers within this on the slowest machine: no call here may time out.
            slack_timeout=5.0,
            slack_channel_rate=50.0,
            slack_retry_base=60.0,  # the 503's retry stays pending for this test
        )
        box = DeliveringOutbox(settings)
        try:
            box.queue("Sent fine", verdict=assessment(rules=("a",)))
            box.drain(patience=0)
            slack.fault("chat.postMessage", Fault.server_error(503))
            box.queue("Waits after a 503", verdict=assessment(rules=("b",)))
            box.drain(patience=0)
            box.queue("[bold]Beijing[/bold] <!channel> curbs", verdict=assessment(rules=("c",), channels=("#quiet",)))
            box.queue("Nowhere to go", verdict=assessment(rules=("d",), channels=("#gone",)))
            box.drain(patience=0)
            # A row made moot before anyone tried it, as a superseded calendar reminder is.
            [moot] = box.queue("Made moot", verdict=assessment(rules=("e",)))
            with session(box.engine) as s:
                assert skip_unsent(s, key_prefixes=[moot.key], now=datetime.now(UTC), reason="superseded") == 1
                s.commit()
        finally:
            box.close()
        env = cli_env(tmp_path, DATABASE_URL=database_url, SLACK_BOT_TOKEN=TEST_TOKEN, SLACK_API_URL=slack.url)
        result = reewatch("alerts", "status", env=env, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert f"Delivery: Slack at {slack.url}" in text
    rows = {line.split("│")[1].strip(): [cell.strip() for cell in line.split("│")[2:6]] for line in text.splitlines() if line.count("│") == 6}
    # pending, sent, failed, skipped
    assert rows["#rare-earth-alerts"] == ["1", "1", "0", "1"]
    assert rows["#quiet"] == ["0", "0", "1", "0"] and rows["#gone"] == ["0", "0", "1", "0"]
    assert rows["all"] == ["1", "1", "2", "1"]
    assert "Oldest pending: news:2:#rare-earth-alerts" in text and "last error: HTTP 503" in text
    assert "not_in_channel" in text and "channel_not_found" in text
    assert "[bold]Beijing[/bold] <!channel> curbs" in text  # feed text printed as text
    assert TEST_TOKEN not in text + result.stderr


def test_alerts_status_on_an_empty_outbox(tmp_path):
    """A fresh database: zero counts, nothing pending, the console named as the destination."""
    result = reewatch("alerts", "status", env=cli_env(tmp_path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Delivery: console (no SLACK_BOT_TOKEN)" in result.stdout
    assert "Nothing pending." in result.stdout
