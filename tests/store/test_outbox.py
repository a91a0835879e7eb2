"""The outbox on SQLite and PostgreSQL: queueing, leasing, recording. (Threads per story are in
test_story_alerts.py.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from service.alerts.queue import Enrichment, queue_alerts, routed_channels
from service.domain.alerts import Alert
from service.domain.feeds import Entry
from service.domain.scoring import Source
from service.pipeline.stories import tell_stories
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
from tests.store.test_story_alerts import FIVE_OFFICIAL, FIVE_SECTOR, TECH_BAN, news

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
    assert rows[0].next_attempt_at == T0 and rows[0].throttle_key is None
    # Rows go out in publication order: the article's, not when it was queued.
    assert rows[0].sort_at == datetime(2025, 10, 9, 14, 3, tzinfo=UTC)


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
    token = box.lease(later.id, sent.id, failed.id)
    with session(box.engine) as s:
        record_retry(s, later.id, token=token, next_at=T0 + timedelta(minutes=1), reason="HTTP 500", outcome_unknown=True)
        record_sent(s, sent.id, T0, token=token, channel_id="C1", ts="1.000001")
        record_failure(s, failed.id, "channel_not_found", token=token)
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


def test_a_reply_is_claimed_behind_its_parent_and_carries_its_thread_once_it_is_sent(box):
    """A thread reply is claimed right behind its pending parent (no thread yet); once the parent is
    sent, the reply claims with the parent's ts."""
    [parent] = box.report(*FIVE_SECTOR, feed="mining-com", kind="sector", now=T0)
    [reply] = news(box.report(*FIVE_OFFICIAL, feed="mofcom", kind="official", now=T0))
    first = claim(box, now=T0 + timedelta(minutes=1))
    assert [c.alert.id for c in first] == [parent.id, reply.id] and first[1].thread is None
    token = first[0].lease_token
    with session(box.engine) as s:
        release_alerts(s, [reply.id], T0, token=token)
        waiting = record_sent(s, parent.id, T0, token=token, channel_id="C0ALERTS01", ts="1760018700.000100")
    assert waiting == 1
    claimed = claim(box, "b", now=T0 + timedelta(minutes=1))
    assert [c.alert.id for c in claimed] == [reply.id]
    assert claimed[0].thread == ("C0ALERTS01", "1760018700.000100")


def test_a_reply_whose_parent_failed_goes_top_level(box):
    """With the parent failed, the reply is claimable and carries no thread."""
    [parent] = box.report(*FIVE_SECTOR, feed="mining-com", kind="sector", now=T0)
    [reply] = news(box.report(*FIVE_OFFICIAL, feed="mofcom", kind="official", now=T0))
    token = box.lease(parent.id)
    with session(box.engine) as s:
        record_failure(s, parent.id, "invalid_blocks", token=token)
    claimed = claim(box, now=T0 + timedelta(minutes=1))
    assert [c.alert.id for c in claimed] == [reply.id] and claimed[0].thread is None


def test_next_due_at_is_the_earliest_claimable_row(box):
    """The dispatcher sleeps until the earliest due row outside busy channels."""
    a = box.queue(verdict=assessment(channels=("#desk",)), now=T0)[0]
    b = box.queue(verdict=assessment(channels=("#risk",)), now=T0)[0]
    token = box.lease(a.id, b.id)
    with session(box.engine) as s:
        record_retry(s, a.id, token=token, next_at=T0 + timedelta(seconds=30), reason="x", outcome_unknown=False)
        record_retry(s, b.id, token=token, next_at=T0 + timedelta(seconds=60), reason="x", outcome_unknown=False)
        assert next_due_at(s, T0) == T0 + timedelta(seconds=30)
        assert next_due_at(s, T0, ["#desk"]) == T0 + timedelta(seconds=60)
        assert next_due_at(s, T0, ["#desk", "#risk"]) is None


def test_an_attempt_is_noted_before_posting_and_cleared_by_its_outcome(box):
    """begin_attempt sets outcome_unknown (a crash leaves it set); sent and failed clear it."""
    a, b = (box.queue(verdict=assessment(rules=(f"r{i}",)), now=T0)[0] for i in range(2))
    token = box.lease(a.id, b.id)
    with session(box.engine) as s:
        assert begin_attempt(s, a.id, T0, token=token, lease=LEASE, channel_id="C0ALERTS01", thread_ts=None)
        assert begin_attempt(s, b.id, T0, token=token, lease=LEASE, channel_id=None, thread_ts="1.000001")
    noted = box.row(a.id)
    assert (noted.attempts, noted.outcome_unknown, noted.last_attempt_at, noted.channel_id) == (1, True, T0, "C0ALERTS01")
    assert box.row(b.id).thread_ts == "1.000001"
    with session(box.engine) as s:
        record_sent(s, a.id, T0 + timedelta(seconds=1), token=token, channel_id="C0ALERTS01", ts="1760018700.000200")
        record_failure(s, b.id, "not_in_channel", token=token)
    sent, failed = box.row(a.id), box.row(b.id)
    assert (sent.status, sent.ts, sent.sent_at, sent.outcome_unknown, sent.lease_owner) == (
        "sent", "1760018700.000200", T0 + timedelta(seconds=1), False, None
    )
    assert (failed.status, failed.last_error, failed.outcome_unknown) == ("failed", "not_in_channel", False)


def test_released_rows_return_unattempted(box):
    """Rows handed back from a paused channel keep their attempt count and come due again later."""
    row = box.queue(now=T0)[0]
    [claimed] = claim(box)
    with session(box.engine) as s:
        release_alerts(s, [row.id], T0 + timedelta(seconds=30), token=claimed.lease_token)
    released = box.row(row.id)
    assert (released.lease_owner, released.attempts, released.next_attempt_at) == (None, 0, T0 + timedelta(seconds=30))


def test_known_channel_id_comes_from_earlier_sent_rows(box):
    """A routed channel name maps to the id Slack reported for an earlier post to it."""
    row = box.queue(now=T0)[0]
    token = box.lease(row.id)
    with session(box.engine) as s:
        assert known_channel_id(s, "#rare-earth-alerts") is None
        record_sent(s, row.id, T0, token=token, channel_id="C0ALERTS01", ts="1.000001")
        assert known_channel_id(s, "#rare-earth-alerts") == "C0ALERTS01"


def test_status_counts_oldest_pending_and_last_failures(box):
    """Counts per channel and status, the oldest pending row, the latest failures first."""
    desk = [box.queue(verdict=assessment(channels=("#desk",), rules=(f"r{i}",)), now=T0 + timedelta(minutes=i))[0] for i in range(3)]
    risk = box.queue(verdict=assessment(channels=("#risk",)), now=T0 - timedelta(minutes=5))[0]
    token = box.lease(*(row.id for row in desk))
    with session(box.engine) as s:
        record_sent(s, desk[0].id, T0, token=token, channel_id="C1", ts="1.1")
        begin_attempt(s, desk[1].id, T0 + timedelta(minutes=2), token=token, lease=LEASE, channel_id=None, thread_ts=None)
        record_failure(s, desk[1].id, "channel_not_found", token=token)
        begin_attempt(s, desk[2].id, T0 + timedelta(minutes=3), token=token, lease=LEASE, channel_id=None, thread_ts=None)
        record_failure(s, desk[2].id, "not_in_channel", token=token)
        status = outbox_status(s)
    assert status.counts == {"#desk": {"sent": 1, "failed": 2}, "#risk": {"pending": 1}}
    assert status.totals == {"pending": 1, "sent": 1, "failed": 2, "skipped": 0}
    assert status.oldest_pending.id == risk.id
    assert [f.last_error for f in status.last_failures] == ["not_in_channel", "channel_not_found"]


def test_deleting_an_article_deletes_its_alerts(box):
    """An alert exists only while its article does."""
    row = box.queue(now=T0)[0]
    with session(box.engine) as s:
        s.delete(s.get(Article, row.article_id))
        s.commit()
        assert list(s.exec(select(OutboxAlert))) == []


def test_one_batch_tells_each_story_once_and_follows_earlier_stories(box):
    """In one cycle's batch, the first report of a new story is its alert and a copy of it joins it;
    a report of a story alerted in an earlier cycle replies there if it adds something; a story of
    its own stands alone."""
    [earlier] = box.report(*FIVE_SECTOR, feed="mining-com", kind="sector", now=T0)
    texts = [TECH_BAN, (TECH_BAN[0] + " - Daily", TECH_BAN[1]), FIVE_OFFICIAL]
    source = Source("mofcom", kind="official", weight=1.0)
    with session(box.engine) as s:
        stored = []
        for n, (title, summary) in enumerate(texts):
            article = Article(feed_id=box.feed_id, guid=f"batch-{n}", title=title, summary=summary, content_hash="h")
            s.add(article)
            s.flush()
            entry = Entry(f"batch-{n}", None, None, title, summary, T0 + timedelta(minutes=n + 1), "h")
            stored.append((article.id, entry, box.ruleset.assess(title, summary, source)))
        tell_stories(
            s, box.ruleset, stored, source, now=T0 + timedelta(minutes=5), backfill=False, max_age=None,
            default_channel="#rare-earth-alerts", enrichment=Enrichment(),
        )
        s.commit()
    by_article = {r.article_id: r for r in box.rows() if r.kind == "news"}
    ban, copy, official = (by_article.get(article_id) for article_id, _, _ in stored)
    assert ban is not None and ban.parent_id is None
    assert copy is None  # same story, same batch: it edits the alert it joined, adds no message
    assert official is not None and official.parent_id == earlier.id
