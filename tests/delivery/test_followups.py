"""Follow-ups through the real dispatcher, on SQLite and PostgreSQL: due once each ticker's own market
has traded 15 and 60 minutes since the alert, posted once as replies in the alert's thread (one per
follow-up time and market), with the moves since the alert and the verdicts."""

from __future__ import annotations

import asyncio
import io
import random
from datetime import timedelta

from rich.console import Console
from sqlmodel import select

from service.alerts.queue import Enrichment, queue_alerts
from service.bootstrap import open_runtime
from service.domain.markets import after_trading
from service.delivery.console import ConsoleNotifier
from service.domain.scoring import Source
from service.pipeline.prices import PriceFeed, run_price_cycle
from service.sources.prices.replay import ReplayPriceSource
from service.store.db import session
from service.store.models import Article, OutboxAlert
from tests.delivery.harness import DeliveringOutbox, assessment
from tests.fakes.slack_api import Fault
from tests.integration.test_price_alerts import FALL, NEWS_RULE, OPEN, TICKERS, WATCHLISTS, write_replay
from tests.rulesets import write_rules

ALERT_AT = OPEN + timedelta(minutes=36)  # 14:06: the last bar known ends at 14:05, at 20.0


def prepared(tmp_path, slack_settings, **overrides) -> DeliveringOutbox:
    """An outbox whose database holds MP falling 4% at 14:10, and a news alert raised at 14:06.

    The rules have no price rules: the only rows are the alert and its follow-ups.
    """
    path = write_replay(tmp_path, mp=FALL)
    rules = write_rules(tmp_path / "news-rules", {"news.yaml": NEWS_RULE}, watchlists=WATCHLISTS)
    box = DeliveringOutbox(slack_settings(price_source="replay", price_replay_file=path, rules_dir=rules, **overrides))

    async def cycle(now):
        async with open_runtime(box.settings) as rt:
            rt.clock = lambda: now
            rt.rng = random.Random(5)
            await run_price_cycle(rt, PriceFeed(ReplayPriceSource(path)), TICKERS)

    asyncio.run(cycle(ALERT_AT))
    verdict = assessment(
        impacts={"MP": "bearish", "F": "bullish", "LYC.AX": "bearish", "UUUU": "bearish", "GM": "neutral"},
        relevance={"MP": 100},
    )
    with session(box.engine) as s:
        article = Article(feed_id=box.feed_id, guid="truce", title="US and China agree a truce", content_hash="h")
        s.add(article)
        s.flush()
        queue_alerts(
            s, article_id=article.id, title=article.title, link="https://wire.example/truce", source=Source("Wire"),
            published=None, assessment=verdict, default_channel=box.settings.slack_default_channel, now=ALERT_AT,
            enrichment=Enrichment.from_settings(box.settings),
        )
        s.commit()
    # An hour later the price cycle has stored the bars the follow-ups read.
    asyncio.run(cycle(ALERT_AT + timedelta(minutes=64)))
    return box


def test_follow_ups_reply_in_the_alerts_thread_with_the_moves_since(tmp_path, slack_settings, slack):
    """Once New York has traded 15 and 60 minutes, one reply each under the alert for the US
    tickers: MP's fall confirms the bearish call, missing bars are said plainly, nothing is posted
    twice. Lynas trades in Sydney: its replies wait for its own session, never "market closed"."""
    box = prepared(tmp_path, slack_settings)
    try:
        report = box.drain()
        assert box.drain(patience=0).sent == 0
        rows = box.rows()
    finally:
        box.close()
    alert, *replies = slack.posted()
    assert report.sent == 5 and len(replies) == 4
    assert [r.thread_ts for r in replies] == [alert.ts] * 4
    assert alert.blocks[2]["fields"][0]["text"] == "▼ *MP* bearish · relevance 100\n20.00 USD · 0.0% today"
    fifteen, sixty, sydney_fifteen, sydney_sixty = (r.blocks[0]["text"]["text"].split("\n") for r in replies)
    assert fifteen == [
        "*⏱ 15 min of trading after the alert*",
        "▼ *MP* bearish · 20.00 → 19.20 USD (-4.0%) ✓ as expected",
        "*F*: no bars since the alert although the market was open",
        "*UUUU*: no price at the time of the alert",
    ]
    assert sixty[0] == "*⏱ 1h of trading after the alert*" and sixty[1] == fifteen[1]
    # Lynas trades in Sydney: its replies come once Sydney has traded that long, alone.
    assert sydney_fifteen[0] == fifteen[0] and sydney_sixty[0] == sixty[0]
    assert [line.split("*")[1] for line in sydney_fifteen[1:] + sydney_sixty[1:]] == ["LYC.AX", "LYC.AX"]
    assert not any("market closed" in r.text for r in replies)
    assert "prices up to <!date^" in replies[0].blocks[1]["elements"][1]["text"]
    assert replies[0].text.startswith("⏱ 15 min of trading after the alert: MP 20.00 → 19.20 USD (-4.0%) ✓ as expected")
    news, *follow_ups = rows
    assert (news.kind, news.status) == ("news", "sent")
    due = sorted((f.next_attempt_at, f.payload["tickers"][0][0], f.ts) for f in follow_ups)
    assert due == [
        (ALERT_AT + timedelta(minutes=15), "MP", replies[0].ts),
        (ALERT_AT + timedelta(minutes=60), "MP", replies[1].ts),
        (after_trading("ASX", ALERT_AT, 15), "LYC.AX", replies[2].ts),
        (after_trading("ASX", ALERT_AT, 60), "LYC.AX", replies[3].ts),
    ]
    assert all((f.kind, f.status, f.parent_id) == ("followup", "sent", news.id) for f in follow_ups)


def test_follow_ups_wait_until_they_are_due(tmp_path, slack_settings, slack):
    """Delivered before they are due (the alert is fresh), only the alert goes out; the replies stay pending."""
    box = prepared(tmp_path, slack_settings)
    try:
        with session(box.engine) as s:  # as if the alert had been raised a minute ago
            for row in s.exec(select(OutboxAlert).where(OutboxAlert.kind == "followup")):
                row.next_attempt_at = row.next_attempt_at.replace(year=2999)
            s.commit()
        report = box.drain(patience=0)
        pending = [r.status for r in box.rows() if r.kind == "followup"]
    finally:
        box.close()
    assert report.sent == 1 and len(slack.posted()) == 1 and pending == ["pending"] * 4


def test_no_follow_ups_when_turned_off(tmp_path, slack_settings, slack):
    """REEWATCH_FOLLOWUP_MINUTES blank: the alert alone is queued."""
    box = prepared(tmp_path, slack_settings, followup_minutes="")
    try:
        assert [r.kind for r in box.rows()] == ["news"]
    finally:
        box.close()


def test_the_console_prints_follow_ups_too(tmp_path, slack_settings, slack):
    """Without Slack, the replies print after their alert, marked as thread replies."""
    box = prepared(tmp_path, slack_settings)
    buffer = io.StringIO()
    try:
        report = box.drain(notifier=ConsoleNotifier(Console(file=buffer, width=160, color_system=None)))
    finally:
        box.close()
    printed = buffer.getvalue()
    assert report.sent == 5 and slack.posted() == []
    first, fifteen, sixty = (printed.index(s) for s in ("US and China agree a truce", "⏱ 15 min of trading", "⏱ 1h of trading"))
    assert first < fifteen < sixty
    assert "market closed" not in printed
    assert "▼ MP bearish · 20.00 → 19.20 USD (-4.0%) ✓ as expected" in printed
    assert printed.count("thread reply in #rare-earth-alerts") == 4


def test_a_follow_up_of_a_failed_alert_is_not_posted(tmp_path, slack_settings, slack):
    """When Slack refuses the alert for good, its follow-ups fail with that reason instead of posting alone."""
    box = prepared(tmp_path, slack_settings)
    slack.fault("chat.postMessage", Fault.slack_error("channel_not_found"))
    try:
        report = box.drain()
        rows = box.rows()
    finally:
        box.close()
    assert slack.posted() == [] and report.failed == 5
    assert [(r.kind, r.status, r.last_error) for r in rows] == [("news", "failed", "channel_not_found")] + [
        ("followup", "failed", "its alert failed: channel_not_found")
    ] * 4
