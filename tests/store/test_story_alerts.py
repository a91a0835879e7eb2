"""Alerts per story on SQLite and PostgreSQL: one top-level alert per story, later reports edit it and
reply only when they add something, a new story never replies to another, and claims go out in order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service.domain.alerts import UPDATE, Alert
from service.store.db import session
from service.store.outbox import begin_attempt, claim_due_alerts, record_failure, record_sent
from tests.store.outbox import Outbox

T0 = datetime(2025, 10, 9, 14, 5, tzinfo=UTC)
MINUTE = timedelta(minutes=1)

# One story (China puts five more rare earths under licence), as three outlets and the ministry told it.
FIVE_WIRE = (
    "China adds five rare earths to export control list",
    "The commerce ministry added holmium, erbium, thulium, europium and ytterbium to its list of controlled "
    "rare earths, effective November 8.",
)
FIVE_SECTOR = (
    "Beijing expands rare earth export curbs to five more elements",
    "China will require licences for exports of five additional rare earth elements, including holmium and "
    "europium, the commerce ministry said on Thursday.",
)
FIVE_COPY = (
    "China adds five rare earths to export control list - Metals Daily",
    "The commerce ministry added holmium, erbium, thulium, europium and ytterbium to its list of controlled "
    "rare earths, effective November 8, it said.",
)
FIVE_OFFICIAL = (
    "MOFCOM Announcement No. 62 of 2025 on export controls on certain medium and heavy rare earth items",
    "Export controls are implemented on holmium, erbium, thulium, europium, ytterbium and related items.",
)
# Two other stories on the same topic, the same hour.
TECH_BAN = (
    "China bans export of rare earth extraction and refining technology",
    "China's commerce ministry banned exports of technologies used to mine, smelt and separate rare earths and "
    "make magnets, without a licence.",
)


@pytest.fixture
def box(make_settings, database_url):
    outbox = Outbox(make_settings(database_url, slack_default_channel="#rare-earth-alerts"))
    yield outbox
    outbox.close()


def news(rows):
    return [r for r in rows if r.kind == "news"]


def test_a_story_alerts_once_and_its_later_reports_join_it(box):
    """Three outlets' reports of one event: one top-level alert, whose sources grow; no reply that adds nothing."""
    [first] = box.report(*FIVE_WIRE, feed="reuters", now=T0)
    later = box.report(*FIVE_SECTOR, feed="mining-com", kind="sector", now=T0 + 10 * MINUTE)
    copy = box.report(*FIVE_COPY, feed="metals-daily", kind="aggregator", now=T0 + 20 * MINUTE)
    assert first.parent_id is None and news(later) == [] and news(copy) == []
    [story] = box.stories()
    assert story.sources == ["reuters", "mining-com", "metals-daily"] and story.reports == 3
    assert story.state == "alerted" and story.alerted_at == T0
    # Nobody has seen the first alert yet: it is rewritten in place, not edited after posting.
    assert [r.kind for r in box.rows()] == ["news"]
    note = Alert.from_payload(box.row(first.id).payload).story
    assert note is not None and note.sources == ("reuters", "mining-com", "metals-daily")
    assert {box.article(r).story_id for r in (first.article_id,)} == {story.id}


def test_later_reports_each_carry_their_novelty_into_the_score(box):
    """The first report of the story is novelty 100; each later one in the 24 h before decays it."""
    box.report(*FIVE_WIRE, feed="reuters", now=T0)
    box.report(*FIVE_SECTOR, feed="mining-com", kind="sector", now=T0 + MINUTE)
    box.report(*FIVE_COPY, feed="metals-daily", kind="aggregator", now=T0 + 2 * MINUTE)
    articles = [box.article(i) for i in (1, 2, 3)]
    assert [a.novelty for a in articles] == [100, 75, 56]
    # The score is the rules' score scaled by novelty.
    assert articles[1].score < 80 and articles[2].score < articles[1].score


def test_once_posted_a_later_report_edits_the_alert(box):
    """After the first alert went out, a later report queues an update of it, in its thread's place."""
    [first] = box.report(*FIVE_WIRE, feed="reuters", now=T0)
    token = box.lease(first.id)
    with session(box.engine) as s:
        begin_attempt(s, first.id, T0, token=token, lease=timedelta(minutes=2), channel_id=None, thread_ts=None)
        record_sent(s, first.id, T0, token=token, channel_id="C0ALERTS01", ts="1760018700.000100")
    rows = box.report(*FIVE_SECTOR, feed="mining-com", kind="sector", now=T0 + 5 * MINUTE)
    [update] = rows
    assert (update.kind, update.parent_id, update.sort_at) == (UPDATE, first.id, first.sort_at)
    assert Alert.from_payload(update.payload).story.sources == ("reuters", "mining-com")
    # A third report before the update went out replaces its content instead of queueing another.
    assert box.report(*FIVE_COPY, feed="metals-daily", kind="aggregator", now=T0 + 6 * MINUTE) == []
    [update] = [r for r in box.rows() if r.kind == UPDATE]
    assert Alert.from_payload(update.payload).story.sources == ("reuters", "mining-com", "metals-daily")


def test_an_official_confirmation_raises_severity_and_is_broadcast(box):
    """The ministry's own notice of a story first seen in the press replies, broadcast, one step more severe."""
    [first] = box.report(*FIVE_SECTOR, feed="mining-com", kind="sector", now=T0)
    story_severity = box.stories()[0].severity
    rows = box.report(*FIVE_OFFICIAL, feed="mofcom", kind="official", now=T0 + 30 * MINUTE)
    [reply] = news(rows)
    alert = Alert.from_payload(reply.payload)
    assert reply.parent_id == first.id and reply.sort_at == first.sort_at
    assert alert.broadcast and "official source" in alert.adds
    [story] = box.stories()
    assert story.official and story.severity == "critical" and story_severity in ("high", "critical")
    assert alert.story.severity == "critical"
    # A second official report is no confirmation any more: it adds nothing.
    again = box.report(FIVE_OFFICIAL[0] + " (corrected)", FIVE_OFFICIAL[1], feed="mofcom-2", kind="official", now=T0 + 40 * MINUTE)
    assert news(again) == []


def test_a_report_that_adds_tickers_replies_with_them(box):
    """A later report naming a company the story had not shown replies, saying which."""
    [first] = box.report(*FIVE_WIRE, feed="reuters", now=T0)
    shown = set(Alert.from_payload(first.payload).shown)
    title, summary = FIVE_SECTOR
    rows = box.report(title, summary + " Shares of Lynas Rare Earths rose.", feed="mining-com", kind="sector", now=T0 + MINUTE)
    [reply] = news(rows)
    alert = Alert.from_payload(reply.payload)
    assert "LYC.AX" not in shown and "tickers LYC.AX" in alert.adds
    assert not alert.broadcast and reply.parent_id == first.id


def test_a_new_story_on_the_same_topic_is_never_a_reply(box):
    """Another export-control story minutes later is a top-level alert of its own, whatever the throttle."""
    [first] = box.report(*FIVE_WIRE, feed="reuters", now=T0)
    [other] = news(box.report(*TECH_BAN, feed="reuters", now=T0 + 2 * MINUTE))
    assert other.parent_id is None and other.story_id != first.story_id
    assert len(box.stories()) == 2


def test_a_report_that_does_not_alert_still_counts_as_a_source(box):
    """A quiet (backfilled) report of an alerted story adds its source to the alert, and nothing else."""
    [first] = box.report(*FIVE_WIRE, feed="reuters", now=T0)
    assert box.report(*FIVE_SECTOR, feed="mining-com", kind="sector", now=T0 + MINUTE, backfill=True) == []
    assert Alert.from_payload(box.row(first.id).payload).story.sources == ("reuters", "mining-com")
    assert box.article(2).quiet == "backfill"


def test_a_story_first_stored_quietly_alerts_with_its_first_fresh_report(box):
    """Backfilled reports make a quiet story; the first report that may alert is its top-level alert."""
    assert box.report(*FIVE_WIRE, feed="reuters", now=T0, backfill=True) == []
    [story] = box.stories()
    assert (story.state, story.quiet_reason) == ("quiet", "backfill")
    [alert] = news(box.report(*FIVE_SECTOR, feed="mining-com", kind="sector", now=T0 + MINUTE))
    assert alert.parent_id is None
    [story] = box.stories()
    assert story.state == "alerted" and Alert.from_payload(alert.payload).story.sources == ("reuters", "mining-com")


def test_a_failed_first_alert_leaves_the_story_to_alert_again(box):
    """When Slack refused the story's alert for good, the next report is a top-level alert, not a reply to nothing."""
    [first] = box.report(*FIVE_WIRE, feed="reuters", now=T0)
    token = box.lease(first.id)
    with session(box.engine) as s:
        record_failure(s, first.id, "channel_not_found", token=token)
    [again] = news(box.report(*FIVE_SECTOR, feed="mining-com", kind="sector", now=T0 + MINUTE))
    assert again.parent_id is None and again.story_id == first.story_id


def claim(box: Outbox, owner: str = "a", now: datetime = T0 + timedelta(hours=1)):
    with session(box.engine) as s:
        return claim_due_alerts(s, owner, now, timedelta(minutes=2), per_channel=10, limit=100)


def test_top_level_alerts_go_out_in_publication_order_and_replies_right_after_their_parent(box):
    """Stories stored out of order are claimed by publication time; a story's reply follows its parent,
    ahead of later stories."""
    later = box.report(*TECH_BAN, feed="reuters", now=T0 + 3 * MINUTE, published=T0 + 2 * MINUTE)[0]
    earlier = box.report(*FIVE_SECTOR, feed="mining-com", kind="sector", now=T0 + 4 * MINUTE, published=T0)[0]
    [reply] = news(box.report(*FIVE_OFFICIAL, feed="mofcom", kind="official", now=T0 + 5 * MINUTE))
    assert [c.alert.id for c in claim(box)] == [earlier.id, reply.id, later.id]
    # Capped at one row per channel, the claim takes the earliest published, not the first queued.
    with session(box.engine) as s:
        [first] = claim_due_alerts(s, "b", T0 + timedelta(hours=2), timedelta(minutes=2), per_channel=1, limit=100)
    assert first.alert.id == earlier.id


def test_a_reply_is_not_claimed_while_another_instance_holds_its_parent(box):
    """A reply claims with its parent; while someone else is posting the parent, the reply waits."""
    [parent] = box.report(*FIVE_SECTOR, feed="mining-com", kind="sector", now=T0)
    [reply] = news(box.report(*FIVE_OFFICIAL, feed="mofcom", kind="official", now=T0 + MINUTE))
    with session(box.engine) as s:
        held = claim_due_alerts(s, "other", T0 + 2 * MINUTE, timedelta(minutes=2), per_channel=1, limit=1)
    assert [c.alert.id for c in held] == [parent.id]
    assert claim(box, now=T0 + 2 * MINUTE) == []
    with session(box.engine) as s:
        record_sent(s, parent.id, T0 + 2 * MINUTE, token=held[0].lease_token, channel_id="C0ALERTS01", ts="1760018700.000100")
    [claimed] = claim(box, now=T0 + 2 * MINUTE)
    assert claimed.alert.id == reply.id and claimed.thread == ("C0ALERTS01", "1760018700.000100")
