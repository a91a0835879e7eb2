"""The real dispatcher against the local Slack API, on SQLite and PostgreSQL: each alert once, whatever Slack does."""

from __future__ import annotations

import asyncio
import io
import logging
import socket
from datetime import UTC, datetime, timedelta

import pytest
from rich.console import Console

from service.bootstrap import make_notifier, open_runtime
from service.delivery.console import ConsoleNotifier
from service.delivery.dispatcher import drain_outbox, serve_outbox
from service.delivery.notifier import Delivery
from service.delivery.slack import SlackNotifier
from service.domain.alerts import Alert
from service.domain.scoring import Source
from service.store.db import make_engine, session
from service.store.outbox import begin_attempt, claim_due_alerts, record_retry
from tests.delivery.harness import DeliveringOutbox, assessment
from tests.fakes.slack_api import TEST_TOKEN, Fault
from tests.store.test_story_alerts import FIVE_OFFICIAL, FIVE_SECTOR, FIVE_WIRE, TECH_BAN, news

HOSTILE = "<!channel> <!here> <!everyone> <@U123> <http://evil|bank.com> & more"


def distinct(i: int, **overrides):
    """An alerting verdict with its own top rule."""
    return assessment(rules=(f"rule_{i}",), **overrides)


def keys(messages) -> list[str]:
    return [m.alert_key for m in messages]


def test_each_alert_is_posted_once_and_recorded_with_its_ts(outbox, slack):
    """Every queued alert reaches Slack once, with its outbox key in the message metadata, and is marked sent."""
    rows = [outbox.queue(f"Story {i}", verdict=distinct(i))[0] for i in range(3)]
    report = outbox.drain()
    posted = slack.posted()
    assert keys(posted) == [r.key for r in rows]
    assert all(m.metadata["event_type"] == "reewatch_alert" and m.channel == "C0ALERTS01" for m in posted)
    for row, message in zip(outbox.rows(), posted):
        assert (row.status, row.ts, row.channel_id, row.attempts, row.outcome_unknown) == ("sent", message.ts, "C0ALERTS01", 1, False)
        assert row.sent_at is not None
    assert (report.sent, report.failed, report.retried) == (3, 0, 0)

    assert outbox.drain(patience=0).sent == 0  # a second run finds nothing to send
    assert len(slack.posted()) == 3


def test_the_message_slack_receives_is_the_rendered_alert(outbox, slack):
    """Blocks and fallback text arrive as rendered: header, linked headline, tickers, one line on the
    prices it lacks, why, context."""
    outbox.queue("China adds five rare earths to export controls", link="https://wire.example/a")
    outbox.drain()
    message = slack.posted()[0]
    assert [b["type"] for b in message.blocks] == ["header", "section", "section", "context", "section", "context"]
    assert message.blocks[3]["elements"][0]["text"] == "No prices: no prices stored yet"
    assert message.blocks[1]["text"]["text"] == "*<https://wire.example/a|China adds five rare earths to export controls>*"
    assert message.text.startswith("🔴 CRITICAL · Export control (new): China adds five rare earths")
    assert message.thread_ts is None


def test_hostile_feed_text_arrives_inert(outbox, slack):
    """Mentions and disguised links in a headline, link or source reach Slack escaped, never live."""
    outbox.queue(HOSTILE, link="http://evil.example>|<!channel>bank.com")
    outbox.drain()
    message = slack.posted()[0]
    everything = message.text + repr(message.blocks)
    for live in ("<!channel>", "<!here>", "<!everyone>", "<@U123>", "<http://evil|"):
        assert live not in everything
    assert "&lt;!channel&gt; &lt;!here&gt; &lt;!everyone&gt; &lt;@U123&gt; &lt;http://evil|bank.com&gt; &amp; more" in message.text
    assert message.blocks[1]["text"]["text"].startswith("*<http://evil.example%3E%7C%3C!channel%3Ebank.com|&lt;!channel&gt;")


def test_an_alert_with_extreme_content_is_accepted_by_slacks_limits(outbox, slack):
    """A huge headline, hundreds of tickers and phrases still make a message Slack accepts."""
    outbox.queue(
        "Export & import <curbs> " * 3000,
        link="https://wire.example/" + "p" * 1900,
        verdict=assessment(
            matched=tuple("phrase & <more> " * 200 for _ in range(300)),
            rules=tuple(f"rule_{i}_" + "r" * 300 for i in range(200)),
            impacts={f"T{i}": "bearish" for i in range(300)},
            relevance={},
        ),
    )
    report = outbox.drain()
    assert report.sent == 1
    assert [c.error for c in slack.calls_to("chat.postMessage")] == [None]


def test_a_429_waits_for_retry_after_then_posts_once(outbox, slack):
    """Rate limited: the row waits Retry-After (no history lookup: Slack did not take it), then posts once."""
    slack.fault("chat.postMessage", Fault.rate_limited(retry_after=1))
    row = outbox.queue()[0]
    report = outbox.drain()
    posts = slack.calls_to("chat.postMessage")
    assert [c.status for c in posts] == [429, 200]
    assert posts[1].at - posts[0].at >= 1.0
    assert slack.calls_to("conversations.history") == []
    assert keys(slack.posted()) == [row.key]
    assert (report.rate_limited, report.sent) == (1, 1)
    assert outbox.row(row.id).last_error.startswith("rate limited (HTTP 429); retry after 1s")


def test_a_429_holds_the_whole_channel(outbox, slack):
    """After a 429 no other alert is posted to that channel before Retry-After has passed."""
    slack.fault("chat.postMessage", Fault.rate_limited(retry_after=1))
    rows = [outbox.queue(f"Story {i}", verdict=distinct(i))[0] for i in range(3)]
    outbox.drain()
    posts = slack.calls_to("chat.postMessage")
    assert posts[0].status == 429
    assert all(later.at - posts[0].at >= 1.0 for later in posts[1:])
    assert keys(slack.posted()) == [r.key for r in rows]  # and in the order they were queued


def test_a_server_error_is_retried_after_looking_for_the_message(outbox, slack):
    """A 500 may hide a posted message: the channel is searched by key, then the alert is posted once."""
    slack.fault("chat.postMessage", Fault.server_error(500))
    row = outbox.queue()[0]
    report = outbox.drain()
    methods = [(c.method, c.status) for c in slack.calls]
    assert methods == [
        ("chat.postMessage", 500),
        ("conversations.list", 200),  # "#rare-earth-alerts" has no known id yet
        ("conversations.history", 200),
        ("chat.postMessage", 200),
    ]
    assert keys(slack.posted()) == [row.key]
    assert (report.retried, report.sent, report.found) == (1, 1, 0)
    assert outbox.row(row.id).attempts == 2


def test_a_timeout_after_slack_accepted_is_found_and_not_posted_again(slack_settings, slack):
    """Slack took the message but answered too late: the retry finds it by key and records its ts.

    Under a 0.5 s client timeout a slow machine may time out a lookup too: only what must hold
    whatever the timing is asserted (one post, found, recorded), never how many tries it took."""
    slack.fault("chat.postMessage", Fault.timeout(2.0))
    box = DeliveringOutbox(slack_settings(slack_timeout=0.5))
    try:
        row = box.queue()[0]
        report = box.drain()
        assert len(slack.calls_to("chat.postMessage")) == 1
        assert keys(slack.posted()) == [row.key]
        sent = box.row(row.id)
        assert (sent.status, sent.ts) == ("sent", slack.posted()[0].ts) and sent.attempts >= 1
        assert sent.last_error == "no answer from Slack within 0.5s"
        assert (report.found, report.sent) == (1, 1)
    finally:
        box.close()


def test_a_dropped_connection_before_slack_accepted_is_posted_again_once(outbox, slack):
    """The connection died before Slack took the message: the lookup finds nothing, so it is posted once."""
    slack.fault("chat.postMessage", Fault.dropped())
    row = outbox.queue()[0]
    report = outbox.drain()
    assert [c.status for c in slack.calls_to("chat.postMessage")] == [0, 200]
    assert len(slack.calls_to("conversations.history")) == 1
    assert keys(slack.posted()) == [row.key]
    assert (report.found, report.sent) == (0, 1)


def test_a_dropped_connection_after_slack_accepted_is_found(outbox, slack):
    """The connection died after Slack took the message: it is found by key and not posted again."""
    slack.fault("chat.postMessage", Fault.dropped(after_accepting=True))
    row = outbox.queue()[0]
    report = outbox.drain()
    assert len(slack.calls_to("chat.postMessage")) == 1
    assert keys(slack.posted()) == [row.key]
    assert outbox.row(row.id).ts == slack.posted()[0].ts
    assert report.found == 1


def test_slack_unreachable_keeps_the_alert_pending(slack_settings, slack):
    """Connection refused: nothing was sent, so the row stays pending with the reason, for a later run."""
    # The port stays bound, never listening, for the whole test: connections to it are refused,
    # and no other process (a parallel test's server) can take it up meanwhile, as it could a
    # port merely closed.
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    closed_port = probe.getsockname()[1]
    # A back-off far past `patience`, so the run ends after one attempt however slow the machine
    # (the cap too: the suite's settings cap every back-off at half a second).
    box = DeliveringOutbox(
        slack_settings(
            slack_api_url=f"http://127.0.0.1:{closed_port}/api/", slack_retry_base=60.0, slack_retry_max=600.0
        )
    )
    try:
        row = box.queue()[0]
        report = box.drain(patience=0)
        pending = box.row(row.id)
        assert (pending.status, pending.outcome_unknown, pending.attempts) == ("pending", False, 1)
        assert pending.last_error.startswith("cannot connect to Slack")
        assert pending.next_attempt_at > pending.last_attempt_at
        assert report.retried == 1
    finally:
        box.close()
        probe.close()


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("wrong token", "invalid_auth"),
        ("unknown channel", "channel_not_found"),
        ("bot not invited", "not_in_channel"),
        ("message refused", "msg_too_long"),
    ],
)
def test_permanent_errors_fail_the_row_with_the_reason_logged_once(slack_settings, slack, caplog, case, reason):
    """invalid_auth, channel_not_found, not_in_channel, msg_too_long: failed, logged once, never retried."""
    caplog.set_level(logging.DEBUG)
    token = "xoxb-9999-8888-WRONGtokenNOTtoLOG" if case == "wrong token" else TEST_TOKEN
    channel = {"unknown channel": "#nowhere", "bot not invited": "#quiet"}.get(case, "#rare-earth-alerts")
    slack.add_channel("quiet", member=False)
    if case == "message refused":
        slack.fault("chat.postMessage", Fault.slack_error("msg_too_long"))
    box = DeliveringOutbox(slack_settings(slack_bot_token=token, slack_default_channel=channel))
    try:
        row = box.queue()[0]
        report = box.drain()
        failed = box.row(row.id)
        assert (failed.status, failed.last_error, failed.attempts) == ("failed", reason, 1)
        assert report.failed == 1 and slack.posted() == []
        assert len(slack.calls_to("chat.postMessage")) == 1
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert [r.getMessage() for r in errors] == [f"alert {row.key} to {channel} failed for good: {reason}"]

        box.drain(patience=0)  # a later run leaves a failed row alone
        assert len(slack.calls_to("chat.postMessage")) == 1
        logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
        assert token not in logged
    finally:
        box.close()


def test_a_later_report_edits_the_story_alert_and_an_official_one_replies_broadcast(outbox, slack):
    """The story's first report is posted; a later one edits it ("2 sources"); the ministry's own
    notice replies in its thread, broadcast to the channel, after the parent, ahead of later stories."""
    [first] = outbox.report(*FIVE_SECTOR, feed="mining-com", kind="sector")
    outbox.drain()
    outbox.report(*FIVE_WIRE, feed="reuters")
    [confirmation] = news(outbox.report(*FIVE_OFFICIAL, feed="mofcom", kind="official"))
    [other] = outbox.report(*TECH_BAN, feed="reuters")
    outbox.drain()
    parent, reply, later = slack.posted()
    assert (parent.alert_key, reply.alert_key, later.alert_key) == (first.key, confirmation.key, other.key)
    assert parent.thread_ts is None and later.thread_ts is None
    assert reply.thread_ts == parent.ts and reply.broadcast and reply.channel == parent.channel
    assert reply.blocks[0]["text"]["text"].startswith("🔴 CRITICAL · Export control (new) · adds official source")
    # The parent was edited in place: its final text names the story's three sources.
    assert parent.edits >= 1 and "3 sources: mining-com, reuters, mofcom" in parent.blocks[1]["text"]["text"]
    assert parent.blocks[0]["text"]["text"].startswith("🔴 CRITICAL")
    assert [r.status for r in outbox.rows()] == ["sent"] * len(outbox.rows())


def test_a_reply_queued_with_its_parent_goes_out_right_after_it(outbox, slack):
    """A story's alert and its reply queued in one go, with a later story between them in the
    queue: the reply follows its parent in the thread, before the later story's alert."""
    now = datetime.now(UTC)
    [first] = outbox.report(*FIVE_SECTOR, feed="mining-com", kind="sector", published=now - timedelta(minutes=9))
    [other] = outbox.report(*TECH_BAN, feed="reuters", published=now - timedelta(minutes=5))
    [reply] = news(outbox.report(*FIVE_OFFICIAL, feed="mofcom", kind="official", published=now - timedelta(minutes=1)))
    outbox.drain()
    assert keys(slack.posted()) == [first.key, reply.key, other.key]
    parent, answer, later = slack.posted()
    assert answer.thread_ts == parent.ts and later.thread_ts is None


def test_an_edit_of_a_story_alert_that_failed_is_not_attempted(outbox, slack):
    """An update queued while the story's alert was still being retried fails with the alert's
    reason once Slack refuses the alert for good; nothing is edited."""
    [first] = outbox.report(*FIVE_SECTOR, feed="mining-com", kind="sector")
    with session(outbox.engine) as s:  # its first attempt met a 5xx; it waits for its retry
        [claimed] = claim_due_alerts(s, "earlier", datetime.now(UTC), timedelta(minutes=2), per_channel=5, limit=10)
        token = claimed.lease_token
        begin_attempt(s, first.id, datetime.now(UTC), token=token, lease=timedelta(minutes=2), channel_id=None, thread_ts=None)
        record_retry(s, first.id, token=token, next_at=datetime.now(UTC), reason="HTTP 500", outcome_unknown=False)
    [update] = outbox.report(*FIVE_WIRE, feed="reuters")
    slack.fault("chat.postMessage", Fault.slack_error("channel_not_found"))
    outbox.drain()
    assert slack.updates == [] and slack.posted() == []
    assert (outbox.row(first.id).status, outbox.row(first.id).last_error) == ("failed", "channel_not_found")
    assert (update.kind, outbox.row(update.id).status) == ("update", "failed")
    assert outbox.row(update.id).last_error == "its alert failed: channel_not_found"


def test_a_reply_whose_outcome_is_unknown_is_looked_for_in_its_thread(slack_settings, slack):
    """Replies are not in channel history: a timed-out reply is found with conversations.replies."""
    slack.fault("chat.postMessage", Fault.ok(), Fault.timeout(2.0))
    box = DeliveringOutbox(slack_settings(slack_timeout=0.5))
    try:
        [first] = box.report(*FIVE_SECTOR, feed="mining-com", kind="sector")
        [reply] = news(box.report(*FIVE_OFFICIAL, feed="mofcom", kind="official"))
        report = box.drain()
        # How many lookups a slow machine needs under the short timeout is not the point.
        assert slack.calls_to("conversations.replies") and slack.calls_to("conversations.history") == []
        assert keys(slack.posted()) == [first.key, reply.key]
        assert report.found == 1
    finally:
        box.close()


def test_an_edit_whose_outcome_is_unknown_is_simply_made_again(slack_settings, slack):
    """An edit carries the whole message: after a timeout it is made again, never looked for."""
    box = DeliveringOutbox(slack_settings(slack_timeout=0.5))
    try:
        [first] = box.report(*FIVE_SECTOR, feed="mining-com", kind="sector")
        box.drain()
        slack.fault("chat.update", Fault.timeout(2.0))
        [update] = box.report(*FIVE_WIRE, feed="reuters")
        report = box.drain()
        # How many attempts a slow machine needs under the short timeout is not the point.
        assert update.kind == "update" and len(slack.calls_to("chat.update")) >= 2 and report.retried >= 1
        assert slack.calls_to("conversations.history") == [] and slack.calls_to("conversations.replies") == []
        assert box.row(update.id).status == "sent"
        [parent] = slack.posted()
        assert parent.alert_key == first.key and "2 sources" in parent.blocks[1]["text"]["text"]
    finally:
        box.close()


def test_the_limiter_drains_a_burst_without_a_429(slack_settings, slack):
    """A burst to two channels goes out at the pace Slack allows: no 429, steady spacing after the burst."""
    slack.rate, slack.burst = 10.0, 5  # Slack's limit, scaled up tenfold to keep the test short
    box = DeliveringOutbox(slack_settings(slack_channel_rate=10.0, slack_channel_burst=3))
    try:
        for i in range(12):
            box.queue(f"Story {i}", verdict=distinct(i, channels=("#rare-earth-alerts",)))
            box.queue(f"Story {i}", verdict=distinct(i, channels=("#desk",)))
        report = box.drain()
        assert report.sent == 24 and report.rate_limited == 0
        assert [c.status for c in slack.calls_to("chat.postMessage")] == [200] * 24
        for channel in ("C0ALERTS01", "C0DESK0001"):
            times = [m.received for m in slack.posted(channel)]
            # Twelve messages, three at once then one per 0.1s: at least 0.9s from first to last
            # (less a margin for the first message's own latency).
            assert times[-1] - times[0] >= 0.9 - 0.1
    finally:
        box.close()


def test_without_the_limiter_the_same_burst_meets_429s_and_still_arrives_once_in_order(slack_settings, slack):
    """The server does enforce the limit: unpaced, the burst is rate limited; retries deliver each once, in order."""
    slack.rate, slack.burst = 2.0, 2  # strict enough that even a loaded machine posts faster
    box = DeliveringOutbox(slack_settings(slack_channel_rate=100.0, slack_channel_burst=50))
    try:
        rows = [box.queue(f"Story {i}", verdict=distinct(i))[0] for i in range(6)]
        report = box.drain()
        assert 429 in [c.status for c in slack.calls_to("chat.postMessage")]
        assert keys(slack.posted()) == [r.key for r in rows]
        assert report.rate_limited >= 1
    finally:
        box.close()


def test_two_dispatchers_draining_one_outbox_post_each_alert_once(outbox, slack, slack_settings):
    """Leases keep two instances from posting the same row, on either database."""
    for i in range(16):
        outbox.queue(f"Story {i}", verdict=distinct(i, channels=(f"#c{i % 4}",)))
    for i in range(4):
        slack.add_channel(f"c{i}")

    async def both():
        async def one(instance: str):
            settings = slack_settings(instance_id=instance)
            async with open_runtime(settings, engine=make_engine(settings.database_url)) as rt:
                return await drain_outbox(rt, patience=2)

        return await asyncio.gather(one("first"), one("second"))

    reports = asyncio.run(both())
    assert sum(r.sent for r in reports) == 16
    assert sorted(keys(slack.posted())) == sorted(r.key for r in outbox.rows())
    assert {r.status for r in outbox.rows()} == {"sent"}


def test_a_row_left_mid_attempt_by_a_killed_process_is_not_posted_twice(outbox, slack):
    """A process killed after posting but before recording: the next run finds the message by key."""
    row = outbox.queue()[0]
    died_at = datetime.now(UTC) - timedelta(minutes=10)  # its lease has long expired
    with session(outbox.engine) as s:
        token = outbox.lease(row.id, owner="killed:0123456789ab", until=died_at + timedelta(minutes=2))
        begin_attempt(s, row.id, died_at, token=token, lease=timedelta(minutes=2), channel_id=None, thread_ts=None)

    async def post_as_the_dead_process():
        notifier = SlackNotifier(token=TEST_TOKEN, base_url=slack.url, timeout=2)
        try:
            alert = Alert.from_payload(row.payload)
            await notifier.post(Delivery(row.key, alert, row.channel, None, None, row.created_at))
        finally:
            await notifier.aclose()

    asyncio.run(post_as_the_dead_process())
    report = outbox.drain()
    assert keys(slack.posted()) == [row.key] and report.found == 1
    assert outbox.row(row.id).ts == slack.posted()[0].ts


def test_a_row_left_mid_attempt_before_posting_is_posted_once(outbox, slack):
    """A process killed after noting the attempt but before posting: the lookup finds nothing, one post follows."""
    row = outbox.queue()[0]
    died_at = datetime.now(UTC) - timedelta(minutes=10)
    with session(outbox.engine) as s:
        token = outbox.lease(row.id, owner="killed:0123456789ab", until=died_at + timedelta(minutes=2))
        begin_attempt(s, row.id, died_at, token=token, lease=timedelta(minutes=2), channel_id=None, thread_ts=None)
    report = outbox.drain()
    assert keys(slack.posted()) == [row.key]
    assert (report.found, report.sent) == (0, 1)
    assert outbox.row(row.id).attempts == 2


def test_serve_outbox_posts_as_soon_as_it_is_woken_and_stops_on_request(outbox, slack, slack_settings):
    """`reewatch run` mode: an idle dispatcher posts a new alert at once when woken, not at its next poll."""
    settings = slack_settings(scheduler_tick_seconds=30)  # the idle poll: far longer than the test

    async def scenario():
        async with open_runtime(settings, engine=make_engine(settings.database_url)) as rt:
            stop = asyncio.Event()
            task = asyncio.create_task(serve_outbox(rt, stop))
            await asyncio.sleep(0.3)  # idle now, waiting for work
            row = await rt.db(lambda: outbox.queue("Breaking")[0])
            rt.outbox_wakeup.set()
            woken = asyncio.get_running_loop().time()
            while not slack.posted():
                assert asyncio.get_running_loop().time() - woken < 30, "never posted after the wake-up"
                await asyncio.sleep(0.01)
            latency = asyncio.get_running_loop().time() - woken
            stop.set()
            report = await asyncio.wait_for(task, timeout=5)
            return row, latency, report

    row, latency, report = asyncio.run(scenario())
    assert keys(slack.posted()) == [row.key]
    assert latency < 1.0
    assert report.sent == 1


def test_without_a_token_alerts_print_to_the_console_and_are_marked_sent(make_settings, database_url):
    """No SLACK_BOT_TOKEN: the console shows each alert in the Slack layout; rows are sent to "console"."""
    settings = make_settings(database_url, slack_bot_token=None)
    buffer = io.StringIO()
    notifier = make_notifier(settings, Console(file=buffer, width=120, color_system=None))
    assert isinstance(notifier, ConsoleNotifier)
    box = DeliveringOutbox(settings)
    try:
        [first] = box.queue("[bold]China[/bold] curbs <!channel> exports")
        [parent] = box.report(*FIVE_SECTOR, feed="mining-com", kind="sector")
        box.report(*FIVE_OFFICIAL, feed="mofcom", kind="official")
        report = box.drain(notifier=notifier)
        output = buffer.getvalue()
        assert report.sent == 3
        assert "[bold]China[/bold] curbs <!channel> exports" in output  # text, not markup
        assert "thread reply in #rare-earth-alerts" in output
        rows = box.rows()
        assert [(r.status, r.channel_id) for r in rows] == [("sent", "console")] * 3
        assert rows[2].thread_ts == rows[1].ts and rows[1].id == parent.id and rows[0].id == first.id
    finally:
        box.close()


@pytest.mark.parametrize(("token", "kind"), [(None, ConsoleNotifier), ("   ", ConsoleNotifier), (TEST_TOKEN, SlackNotifier)])
def test_the_notifier_follows_the_token(make_settings, token, kind):
    """Slack with a bot token, the console without one (or with a blank one)."""
    assert type(make_notifier(make_settings(slack_bot_token=token))) is kind


def test_an_unreadable_payload_fails_its_row_without_stopping_the_others(outbox, slack):
    """A row whose payload cannot be read fails with the reason; the next row is still posted."""
    bad, good = (outbox.queue(f"Story {i}", verdict=distinct(i))[0] for i in range(2))
    with session(outbox.engine) as s:
        from service.store.models import OutboxAlert

        s.get(OutboxAlert, bad.id).payload = {"v": 99}
        s.commit()
    outbox.drain()
    assert outbox.row(bad.id).status == "failed"
    assert outbox.row(bad.id).last_error == "unreadable alert payload: unknown alert payload version 99"
    assert keys(slack.posted()) == [good.key]


def test_source_text_is_kept_out_of_the_context_markup(outbox, slack):
    """The source name from a feed is escaped like the headline."""
    outbox.queue("t", link=None, source=Source(HOSTILE))
    outbox.drain()
    context = slack.posted()[0].blocks[-1]["elements"][0]["text"]
    assert context.startswith("&lt;!channel&gt; &lt;!here&gt;")


def test_serve_outbox_outlives_a_database_outage(outbox, slack, slack_settings, caplog):
    """The long-running dispatcher logs a database failure and carries on once the database is back."""
    from sqlalchemy import text

    settings = slack_settings(scheduler_tick_seconds=0.1)

    async def scenario():
        async with open_runtime(settings, engine=make_engine(settings.database_url)) as rt:
            with outbox.engine.begin() as connection:
                connection.execute(text("ALTER TABLE outbox_alerts RENAME TO outbox_alerts_away"))
            stop = asyncio.Event()
            task = asyncio.create_task(serve_outbox(rt, stop))
            # Until the dispatcher has met the outage, however slow the machine.
            deadline = asyncio.get_running_loop().time() + 30
            while not any(r.getMessage().startswith("cannot read the outbox") for r in caplog.records):
                assert asyncio.get_running_loop().time() < deadline, "the dispatcher never met the outage"
                await asyncio.sleep(0.02)
            with outbox.engine.begin() as connection:
                connection.execute(text("ALTER TABLE outbox_alerts_away RENAME TO outbox_alerts"))
            row = outbox.queue()[0]
            rt.outbox_wakeup.set()
            deadline = asyncio.get_running_loop().time() + 10
            while not slack.posted() and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.02)
            stop.set()
            await asyncio.wait_for(task, timeout=5)
            return row

    row = asyncio.run(scenario())
    assert keys(slack.posted()) == [row.key]
    assert any(r.getMessage().startswith("cannot read the outbox") for r in caplog.records)
