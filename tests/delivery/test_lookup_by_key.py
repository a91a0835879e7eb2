"""A retry looks for its own message among many: an earlier alert's message is never taken for it."""

from __future__ import annotations

from tests.delivery.harness import assessment
from tests.fakes.slack_api import Fault


def distinct(i: int):
    return assessment(rules=(f"rule_{i}",))


def test_a_retry_is_never_taken_for_an_earlier_alerts_message(outbox, slack):
    """Three alerts are already in the channel; a fourth whose post was dropped before Slack took
    it looks, finds none of them carrying its key, and is posted once as its own message."""
    earlier = [outbox.queue(f"Story {i}", verdict=distinct(i))[0] for i in range(3)]
    outbox.drain()
    assert len(slack.posted()) == 3
    slack.fault("chat.postMessage", Fault.dropped())
    row = outbox.queue("A later story", verdict=distinct(9))[0]
    report = outbox.drain()
    assert slack.calls_to("conversations.history"), "the retry looked in the channel first"
    assert [m.alert_key for m in slack.posted()] == [r.key for r in earlier] + [row.key]
    sent = outbox.row(row.id)
    assert sent.status == "sent" and sent.ts == slack.posted()[-1].ts
    assert sent.ts not in {m.ts for m in slack.posted()[:3]}
    assert report.found == 0


def test_a_retried_reply_is_never_taken_for_another_reply_in_its_thread(outbox, slack):
    """The same inside a thread: replies already there do not stand in for a dropped one."""
    first = outbox.queue("First report")[0]
    replies = [outbox.queue(f"Outlet {i}")[0] for i in range(2)]
    outbox.drain()
    assert [m.alert_key for m in slack.posted()] == [first.key] + [r.key for r in replies]
    slack.fault("chat.postMessage", Fault.dropped())
    late = outbox.queue("Outlet, late")[0]
    outbox.drain()
    assert late.parent_id == first.id
    assert [m.alert_key for m in slack.posted()][-1] == late.key
    assert outbox.row(late.id).ts == slack.posted()[-1].ts
