"""The outbox on SQLite and PostgreSQL: queueing, throttling into threads, leasing, recording."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from service.alerts.queue import NewsAlert, queue_alerts, queue_news_alerts, routed_channels
from service.domain.alerts import Alert
from service.domain.scoring import Source
from service.store.db import session
from service.store.models import Article, OutboxAlert
from service.store.outbox import (
    begin_attempt,
    claim_due_alerts,
    known_channel_id,
    next_due_at,
    outbox_status,
    record_failure,
    record_retry,
    record_sent,
    release_alerts,
)
from tests.store.outbox import Outbox, assessment

T0 = datetime(2025, 10, 9, 14, 5, tzinfo=UTC)
LEASE = timedelta(minutes=2)


@pytest.fixture
def box(make_settings, database_url):
    outbox = Outbox(make_settings(database_url, slack_default_channel="#rare-earth-alerts"))
    yield outbox
    outbox.close()


def claim(box: Outbox, owner: str = "a", now: datetime = T0, **kwargs):
    kwargs.setdefault("per_channel", 5)
    kwargs.setdefault("limit", 100)
    with session(box.engine) as s:
        return claim_due_alerts(s, owner, now, LEASE, **kwargs)


def test_one_row_per_routed_channel_with_the_alert_frozen_in_its_payload(box):
    """An alert routed to two channels becomes two pending rows, each holding the whole alert."""
    rows = box.queue("Beijing adds holmium to export list", verdict=assessment(channels=("#desk", "#risk")), now=T0)
    assert [(r.channel, r.status, r.key) for r in rows] == [
        ("#desk", "pending", f"news:{rows[0].article_id}:#desk"),
        ("#risk", "pending", f"news:{rows[0].article_id}:#risk"),
    ]
    alert = Alert.from_payload(rows[0].payload)
    assert alert.title == "Beijing adds holmium to export list"
    assert alert.assessment.impacts == {"MP": "bullish", "USAR": "bullish", "F": "bearish"}
    assert rows[0].next_attempt_at == T0 and rows[0].throttle_key == "china_export_controls|F,MP,USAR"


def test_default_channel_when_the_rules_name_none(box):
    """Without channels in the assessment the alert goes to the default channel."""
    rows = box.queue(now=T0)
    assert [r.channel for r in rows] == ["#rare-earth-alerts"]


@pytest.mark.parametrize(
    ("channels", "expected"),
    [
        ((), ["#default"]),
        (("#a",), ["#a"]),
        (("#a", "#b", "#a"), ["#a", "#b"]),
        ((" #a ", "", "  "), ["#a"]),
        (("#" + "x" * 150,), ["#" + "x" * 99]),
    ],
)
def test_routed_channels(channels, expected):
    """Channels are taken in order, once each, blanks ignored, cut to the column, the default only when none remain."""
    assert routed_channels(assessment(channels=channels), "#default") == expected


def test_an_assessment_that_does_not_alert_queues_nothing(box):
    """Only alerting verdicts reach the outbox."""
    assert box.queue(verdict=assessment(alert=False), now=T0) == []
    assert box.rows() == []


def test_queueing_the_same_article_twice_adds_nothing(box):
    """The idempotency key makes a second queueing of one article a no-op, inside the same transaction."""
    first = box.queue(now=T0)[0]
    with session(box.engine) as s:
        article = s.get(Article, first.article_id)
        again = queue_alerts(
            s,
            article_id=article.id,
            title=article.title,
            link=article.link,
            source=Source("Mining Wire"),
            published=None,
            assessment=assessment(),
            default_channel="#rare-earth-alerts",
            now=T0,
        )
        s.commit()
    assert again == []
    assert len(box.rows()) == 1


def test_queueing_does_not_commit(box):
    """Rolled back with its article, an alert leaves no row: it exists only if its article does."""
    with session(box.engine) as s:
        article = Article(feed_id=box.feed_id, guid="rolled-back", title="t", content_hash="h")
        s.add(article)
        s.flush()
        queue_alerts(
            s,
            article_id=article.id,
            title="t",
            link=None,
            source=Source("Mining Wire"),
            published=None,
            assessment=assessment(),
            default_channel="#rare-earth-alerts",
            now=T0,
        )
        s.rollback()
    assert box.rows() == []


def test_a_repeat_inside_the_throttle_window_replies_in_the_first_alerts_thread(box):
    """Same top rule and tickers within throttle_seconds: the repeat's parent is the first alert."""
    first = box.queue("First report", now=T0)[0]
    second = box.queue("Second outlet", now=T0 + timedelta(minutes=10))[0]
    third = box.queue("Third outlet", now=T0 + timedelta(minutes=29))[0]
    assert first.parent_id is None
    assert second.parent_id == first.id and third.parent_id == first.id


@pytest.mark.parametrize(
    ("later", "overrides", "threaded"),
    [
        (timedelta(minutes=31), {}, False),  # the window is measured from the first alert
        (timedelta(minutes=5), {"rules": ("another_rule",)}, False),
        (timedelta(minutes=5), {"impacts": {"MP": "bullish"}, "relevance": {"MP": 100}}, False),
        (timedelta(minutes=5), {"throttle_seconds": 0}, False),
        (timedelta(minutes=5), {"rules": ("china_export_controls", "other")}, True),  # top rule decides
        (timedelta(minutes=50), {"throttle_seconds": 3600}, True),  # the rule's own window
    ],
)
def test_throttle_key_and_window(box, later, overrides, threaded):
    """Only the same top rule and ticker set, inside the rule's window, makes a thread reply."""
    first = box.queue("First", now=T0)[0]
    repeat = box.queue("Repeat", verdict=assessment(**overrides), now=T0 + later)[0]
    assert (repeat.parent_id == first.id) is threaded


def test_throttle_is_per_channel(box):
    """A repeat routed to another channel starts its own top-level alert there."""
    box.queue("First", verdict=assessment(channels=("#desk",)), now=T0)
    repeat = box.queue("Repeat", verdict=assessment(channels=("#risk",)), now=T0 + timedelta(minutes=1))[0]
    assert repeat.parent_id is None


def test_a_failed_first_alert_does_not_start_a_thread(box):
    """When the first alert failed for good, a repeat is posted top-level instead of under nothing."""
    first = box.queue("First", now=T0)[0]
    with session(box.engine) as s:
        record_failure(s, first.id, "msg_too_long")
    repeat = box.queue("Repeat", now=T0 + timedelta(minutes=1))[0]
    assert repeat.parent_id is None


def test_a_row_is_leased_by_one_dispatcher_only(box):
    """Two dispatchers claiming at once never hold the same row; the lease expires for the next."""
    box.queue(now=T0)
    mine, theirs = claim(box, "a"), claim(box, "b")
    assert len(mine) == 1 and theirs == []
    assert mine[0].alert.lease_owner.startswith("a:")
    assert [c.alert.id for c in claim(box, "b", now=T0 + LEASE + timedelta(seconds=1))] == [mine[0].alert.id]


def test_only_due_pending_rows_are_claimed(box):
    """Rows due later, sent or failed stay where they are."""
    later, sent, failed, due = (box.queue(verdict=assessment(rules=(f"r{i}",)), now=T0)[0] for i in range(4))
    with session(box.engine) as s:
        record_retry(s, later.id, next_at=T0 + timedelta(minutes=1), reason="HTTP 500", outcome_unknown=True)
        record_sent(s, sent.id, T0, channel_id="C1", ts="1.000001")
        record_failure(s, failed.id, "channel_not_found")
    assert [c.alert.id for c in claim(box)] == [due.id]
    assert [c.alert.id for c in claim(box, now=T0 + timedelta(minutes=2))] == [later.id]


def test_claims_are_capped_per_channel_and_skip_busy_channels(box):
    """At most `per_channel` rows per channel, oldest first; a busy channel gets none."""
    desk = [box.queue(verdict=assessment(channels=("#desk",), rules=(f"r{i}",)), now=T0)[0] for i in range(4)]
    risk = [box.queue(verdict=assessment(channels=("#risk",), rules=(f"r{i}",)), now=T0)[0] for i in range(2)]
    claimed = claim(box, per_channel=2, busy_channels=["#risk"])
    assert [c.alert.id for c in claimed] == [desk[0].id, desk[1].id]
    claimed = claim(box, "b", per_channel=2)
    assert [c.alert.id for c in claimed] == [desk[2].id, desk[3].id, risk[0].id, risk[1].id]


def test_a_reply_waits_until_its_parent_is_sent_then_carries_its_thread(box):
    """A thread reply is not claimable while its parent is pending; then it claims with the parent's ts."""
    parent = box.queue("First", now=T0)[0]
    reply = box.queue("Repeat", now=T0 + timedelta(minutes=1))[0]
    first = claim(box, now=T0 + timedelta(minutes=1))
    assert [c.alert.id for c in first] == [parent.id]
    with session(box.engine) as s:
        assert next_due_at(s, T0 + timedelta(minutes=1)) is None  # the reply waits for nothing due
        waiting = record_sent(s, parent.id, T0, channel_id="C0ALERTS01", ts="1760018700.000100")
    assert waiting == 1
    claimed = claim(box, now=T0 + timedelta(minutes=1))
    assert [c.alert.id for c in claimed] == [reply.id]
    assert claimed[0].thread == ("C0ALERTS01", "1760018700.000100")


def test_a_reply_whose_parent_failed_goes_top_level(box):
    """With the parent failed, the reply is claimable and carries no thread."""
    parent = box.queue("First", now=T0)[0]
    reply = box.queue("Repeat", now=T0 + timedelta(minutes=1))[0]
    claim(box)
    with session(box.engine) as s:
        record_failure(s, parent.id, "invalid_blocks")
    claimed = claim(box, now=T0 + timedelta(minutes=1))
    assert [c.alert.id for c in claimed] == [reply.id] and claimed[0].thread is None


def test_next_due_at_is_the_earliest_claimable_row(box):
    """The dispatcher sleeps until the earliest due row outside busy channels."""
    a = box.queue(verdict=assessment(channels=("#desk",)), now=T0)[0]
    b = box.queue(verdict=assessment(channels=("#risk",)), now=T0)[0]
    with session(box.engine) as s:
        record_retry(s, a.id, next_at=T0 + timedelta(seconds=30), reason="x", outcome_unknown=False)
        record_retry(s, b.id, next_at=T0 + timedelta(seconds=60), reason="x", outcome_unknown=False)
        assert next_due_at(s, T0) == T0 + timedelta(seconds=30)
        assert next_due_at(s, T0, ["#desk"]) == T0 + timedelta(seconds=60)
        assert next_due_at(s, T0, ["#desk", "#risk"]) is None


def test_an_attempt_is_noted_before_posting_and_cleared_by_its_outcome(box):
    """begin_attempt sets outcome_unknown (a crash leaves it set); sent and failed clear it."""
    a, b = (box.queue(verdict=assessment(rules=(f"r{i}",)), now=T0)[0] for i in range(2))
    with session(box.engine) as s:
        begin_attempt(s, a.id, T0, channel_id="C0ALERTS01", thread_ts=None)
        begin_attempt(s, b.id, T0, channel_id=None, thread_ts="1.000001")
    noted = box.row(a.id)
    assert (noted.attempts, noted.outcome_unknown, noted.last_attempt_at, noted.channel_id) == (1, True, T0, "C0ALERTS01")
    assert box.row(b.id).thread_ts == "1.000001"
    with session(box.engine) as s:
        record_sent(s, a.id, T0 + timedelta(seconds=1), channel_id="C0ALERTS01", ts="1760018700.000200")
        record_failure(s, b.id, "not_in_channel")
    sent, failed = box.row(a.id), box.row(b.id)
    assert (sent.status, sent.ts, sent.sent_at, sent.outcome_unknown, sent.lease_owner) == (
        "sent", "1760018700.000200", T0 + timedelta(seconds=1), False, None
    )
    assert (failed.status, failed.last_error, failed.outcome_unknown) == ("failed", "not_in_channel", False)


def test_released_rows_return_unattempted(box):
    """Rows handed back from a paused channel keep their attempt count and come due again later."""
    row = box.queue(now=T0)[0]
    claim(box)
    with session(box.engine) as s:
        release_alerts(s, [row.id], T0 + timedelta(seconds=30))
    released = box.row(row.id)
    assert (released.lease_owner, released.attempts, released.next_attempt_at) == (None, 0, T0 + timedelta(seconds=30))


def test_known_channel_id_comes_from_earlier_sent_rows(box):
    """A routed channel name maps to the id Slack reported for an earlier post to it."""
    row = box.queue(now=T0)[0]
    with session(box.engine) as s:
        assert known_channel_id(s, "#rare-earth-alerts") is None
        record_sent(s, row.id, T0, channel_id="C0ALERTS01", ts="1.000001")
        assert known_channel_id(s, "#rare-earth-alerts") == "C0ALERTS01"


def test_status_counts_oldest_pending_and_last_failures(box):
    """Counts per channel and status, the oldest pending row, the latest failures first."""
    desk = [box.queue(verdict=assessment(channels=("#desk",), rules=(f"r{i}",)), now=T0 + timedelta(minutes=i))[0] for i in range(3)]
    risk = box.queue(verdict=assessment(channels=("#risk",)), now=T0 - timedelta(minutes=5))[0]
    with session(box.engine) as s:
        record_sent(s, desk[0].id, T0, channel_id="C1", ts="1.1")
        begin_attempt(s, desk[1].id, T0 + timedelta(minutes=2), channel_id=None, thread_ts=None)
        record_failure(s, desk[1].id, "channel_not_found")
        begin_attempt(s, desk[2].id, T0 + timedelta(minutes=3), channel_id=None, thread_ts=None)
        record_failure(s, desk[2].id, "not_in_channel")
        status = outbox_status(s)
    assert status.counts == {"#desk": {"sent": 1, "failed": 2}, "#risk": {"pending": 1}}
    assert status.totals == {"pending": 1, "sent": 1, "failed": 2}
    assert status.oldest_pending.id == risk.id
    assert [f.last_error for f in status.last_failures] == ["not_in_channel", "channel_not_found"]


def test_deleting_an_article_deletes_its_alerts(box):
    """An alert exists only while its article does."""
    row = box.queue(now=T0)[0]
    with session(box.engine) as s:
        s.delete(s.get(Article, row.article_id))
        s.commit()
        assert list(s.exec(select(OutboxAlert))) == []


def test_one_batch_threads_its_own_repeats_and_follows_earlier_threads(box):
    """In one cycle's batch, the first report of a story heads its thread and the later ones reply;
    a story already threaded by an earlier cycle keeps its parent; other stories stand alone."""
    earlier = box.queue("Earlier cycle", verdict=assessment(rules=("truce_deal",), relevance={"MP": 90}), now=T0)[0]
    with session(box.engine) as s:
        articles = []
        for n in range(4):
            article = Article(feed_id=box.feed_id, guid=f"batch-{n}", title=f"t{n}", content_hash="h")
            s.add(article)
            articles.append(article)
        s.flush()
        verdicts = [
            assessment(),  # a new story: heads its thread
            assessment(),  # the same story from another outlet: replies
            assessment(rules=("truce_deal",), relevance={"MP": 90}),  # the earlier cycle's story
            assessment(rules=("another_rule",)),  # a different story
        ]
        news = [
            NewsAlert(a.id, a.title, None, Source("wire"), None, verdict)
            for a, verdict in zip(articles, verdicts, strict=True)
        ]
        queued = queue_news_alerts(s, news, default_channel="#rare-earth-alerts", now=T0 + timedelta(minutes=3))
        s.commit()
    parent_of = {row.article_id: row.parent_id for row in queued}
    head = next(row.id for row in queued if row.article_id == articles[0].id)
    assert parent_of == {
        articles[0].id: None,
        articles[1].id: head,
        articles[2].id: earlier.id,
        articles[3].id: None,
    }
