"""Calendar reminders end to end: the scheduler's sweep on the runtime's clock, the real outbox
and dispatcher, and the local Slack API. Several instances and restarts look at the calendar
over two weeks; each due reminder reaches Slack once, its calendar text escaped."""

from __future__ import annotations

import asyncio
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlmodel import select

from service.bootstrap import open_runtime
from service.delivery.dispatcher import drain_outbox
from service.pipeline.reminders import serve_reminders
from service.store.db import make_engine, session
from service.store.models import OutboxAlert
from tests import databases
from tests.fakes.slack_api import TEST_TOKEN, Fault, SlackAPI

UTC = dt.UTC

CALENDAR = """\
deadlines:
  - id: ban-ends
    date: 2026-12-13
    title: "Ban <!channel> ends & <@U0BOSS> <https://evil.example|click here>"
    ends: "The suspension <!here> of the ban"
    source: MOFCOM <b>announcement</b> No. 70
    link: "https://mofcom.example/notice?a=1&b=2|evil"
    event_types: [export_control_eased]
    moves:
      us_allied_producers: bearish
      downstream_users: bullish
  - id: beijing-deadline
    date: 2026-12-12
    timezone: Asia/Shanghai
    channel: "#desk"
    title: Licence window closes
    starts: New licence rules
    source: MOFCOM
"""


@pytest.fixture
def slack():
    with SlackAPI() as api:
        yield api


@pytest.fixture
def settings(make_settings, database_url, slack):
    settings = make_settings(
        database_url,
        slack_bot_token=TEST_TOKEN,
        slack_api_url=slack.url,
        slack_timeout=5.0,
        slack_channel_rate=50.0,
        slack_channel_burst=5,
        slack_retry_base=0.05,
        slack_retry_max=0.5,
    )
    settings.calendar_file.write_text(CALENDAR, encoding="utf-8")
    databases.upgrade(database_url)
    return settings


def instance_looks(settings, name: str, now: dt.datetime, *, patience: float = 5.0):
    """One process (`name`) started at `now`: its reminder sweep runs once, as the scheduler
    runs it at start, then its dispatcher delivers what is due. Returns the sweep's job."""

    async def go():
        async with open_runtime(settings.model_copy(update={"instance_id": name})) as rt:
            rt.clock = lambda: now
            scheduler = AsyncIOScheduler(timezone=UTC)
            job = serve_reminders(scheduler, rt)
            assert job.id == "calendar-reminders" and job.next_run_time is not None
            await job.func()
            await drain_outbox(rt, patience=patience)

    asyncio.run(go())


def posted_keys(slack: SlackAPI) -> list[tuple[str, str | None]]:
    return [(slack.channels[m.channel].name, m.alert_key) for m in slack.posted()]


def test_every_due_reminder_reaches_slack_once_across_instances_and_restarts(settings, slack):
    """Two instances at each look, restarts between looks, a service down over two reminders of
    the Beijing entry: one message per due reminder, the superseded one skipped."""
    looks = [
        dt.datetime(2026, 12, 6, 8, 5, tzinfo=UTC),  # both 7-day reminders are due
        dt.datetime(2026, 12, 6, 9, 0, tzinfo=UTC),
        # Down until the 12th, 09:00 UTC: Beijing's 1-day reminder (11th, 00:00 UTC) was missed
        # and its day's reminder (12th, 00:00 UTC) is due; ban-ends' 1-day one is due.
        dt.datetime(2026, 12, 12, 9, 0, tzinfo=UTC),
        dt.datetime(2026, 12, 12, 9, 1, tzinfo=UTC),
        dt.datetime(2026, 12, 13, 8, 0, tzinfo=UTC),  # ban-ends' day; Beijing's is over
        dt.datetime(2026, 12, 14, 8, 0, tzinfo=UTC),  # both over
    ]
    for index, now in enumerate(looks):
        instance_looks(settings, f"a-{index}", now)
        instance_looks(settings, f"b-{index}", now)
    assert sorted(posted_keys(slack)) == sorted(
        [
            ("rare-earth-alerts", "reminder:ban-ends:7d:#rare-earth-alerts"),
            ("rare-earth-alerts", "reminder:ban-ends:1d:#rare-earth-alerts"),
            ("rare-earth-alerts", "reminder:ban-ends:0d:#rare-earth-alerts"),
            ("desk", "reminder:beijing-deadline:7d:#desk"),
            ("desk", "reminder:beijing-deadline:0d:#desk"),
        ]
    )
    engine = make_engine(settings.database_url)
    try:
        with session(engine) as s:
            skipped = list(s.exec(select(OutboxAlert).where(OutboxAlert.status == "skipped")))
        assert [row.key for row in skipped] == ["reminder:beijing-deadline:1d:#desk"]
    finally:
        engine.dispose()
    [seven] = [m for m in slack.posted() if m.alert_key == "reminder:ban-ends:7d:#rare-earth-alerts"]
    assert seven.text.startswith("Reminder, in 7 days (Sun 13 Dec 2026 (UTC)): ")
    [beijing] = [m for m in slack.posted() if m.alert_key == "reminder:beijing-deadline:0d:#desk"]
    assert "Today" in beijing.blocks[0]["text"]["text"] and "(Asia/Shanghai)" in beijing.text


def test_calendar_text_is_escaped_like_feed_text(settings, slack):
    """Mentions, links and markup written in the calendar reach Slack inert, and the entry's own
    link cannot be split into a fake label."""
    instance_looks(settings, "one", dt.datetime(2026, 12, 6, 8, 5, tzinfo=UTC))
    [message] = [m for m in slack.posted() if m.alert_key == "reminder:ban-ends:7d:#rare-earth-alerts"]
    everything = message.text + repr(message.blocks)
    for raw in ("<!channel>", "<!here>", "<@U0BOSS>", "<https://evil.example|", "<b>"):
        assert raw not in everything
    assert "&lt;!channel&gt; ends &amp; &lt;@U0BOSS&gt;" in everything
    assert "<https://mofcom.example/notice?a=1&amp;b=2%7Cevil|" in repr(message.blocks)
    assert "&lt;!here&gt;" in repr(message.blocks) and "MOFCOM &lt;b&gt;announcement&lt;/b&gt;" in repr(message.blocks)
    assert "▼ *us_allied_producers* bearish" in repr(message.blocks)


def test_a_reminder_posted_by_a_process_that_died_is_not_posted_again(settings, slack):
    """The first process's post reaches Slack but the answer is lost (it died mid-post): the next
    process finds the message by its key in the channel instead of posting it twice.

    Slack stamps messages with the real time and the lookup searches from when the row was
    queued, so this test's clock is the real one. The entry is dated tomorrow in a zone where it
    is now about noon: its 1-day reminder is due, and no other falls due in the next hours."""
    now = dt.datetime.now(UTC)
    offset = (12 - now.hour + 12) % 24 - 12  # hours east of UTC where it is 12:xx now
    zone = f"Etc/GMT{-offset:+d}"
    tomorrow = now.astimezone(ZoneInfo(zone)).date() + dt.timedelta(days=1)
    settings.calendar_file.write_text(
        f"deadlines:\n  - id: tomorrow\n    date: {tomorrow.isoformat()}\n    timezone: {zone}\n"
        "    title: Rule takes effect\n    starts: the rule\n    source: MOFCOM\n",
        encoding="utf-8",
    )
    key = "reminder:tomorrow:1d:#rare-earth-alerts"
    slack.fault("chat.postMessage", Fault.dropped(after_accepting=True))
    # Its retry would come only after it is gone: the process ends with the outcome unknown.
    dying = settings.model_copy(update={"slack_retry_base": 60.0, "slack_retry_max": 120.0})
    instance_looks(dying, "dies", now, patience=0.0)
    assert [m.alert_key for m in slack.posted()] == [key]  # in the channel, though the process never heard
    engine = make_engine(settings.database_url)
    try:
        assert _row(engine, key)[:2] == ("pending", True)
        instance_looks(settings, "restarted", now + dt.timedelta(minutes=5))
        assert _row(engine, key) == ("sent", False, slack.posted()[0].ts)
    finally:
        engine.dispose()
    assert [m.alert_key for m in slack.posted()] == [key]
    assert len(slack.calls_to("chat.postMessage")) == 1


def _row(engine, key: str) -> tuple[str, bool, str | None]:
    with session(engine) as s:
        row = s.exec(select(OutboxAlert).where(OutboxAlert.key == key)).one()
    return row.status, row.outcome_unknown, row.ts
