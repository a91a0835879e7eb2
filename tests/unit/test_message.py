"""The Slack message for an alert: what it shows, that feed text stays inert, that it fits Block Kit."""

from __future__ import annotations

from dataclasses import replace

import json
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from service.alerts.message import render_alert, slack_date
from service.domain.alerts import Alert
from service.domain.scoring import Assessment, Source

PUBLISHED = datetime(2025, 10, 9, 14, 3, tzinfo=UTC)
HOSTILE = "<!channel> <!here> <!everyone> <@U123> <http://evil|bank.com> & <#C999>"
# What we write ourselves: links to http(s) URLs with a label, and Slack date tokens.
OUR_ANGLE_BRACKETS = re.compile(r"<(?:https?://[^|<>\s]+\|[^<>]*|!date\^\d+\^\{date_short_pretty\} \{time\}\|[^<>]*)>")


def alert(**changes) -> Alert:
    verdict = dict(
        event_types=("export_control_new", "tariff_up"),
        score=92,
        severity="critical",
        alert=True,
        rules=("china_export_controls", "us_tariff_threat"),
        matched=("export licence", "rare earth"),
        impacts={"MP": "bullish", "F": "bearish", "REMX": "neutral"},
        relevance={"MP": 100, "F": 45, "REMX": 70},
    )
    verdict.update(changes.pop("assessment", {}))
    values = dict(
        article_id=7,
        title="China adds five rare earths to export controls",
        link="https://wire.example/china-controls",
        source=Source("Mining Wire"),
        published=PUBLISHED,
        assessment=Assessment(**verdict),
    )
    values.update(changes)
    return Alert(**values)


def texts(blocks: list[dict]) -> list[str]:
    """Every text string a message's blocks carry."""
    found = []
    for block in blocks:
        if "text" in block:
            found.append(block["text"]["text"])
        found += [f["text"] for f in block.get("fields", [])]
        found += [e["text"] for e in block.get("elements", [])]
    return found


def test_the_header_shows_severity_and_event_types_at_a_glance():
    """The header block reads like `🔴 CRITICAL · Export control (new), Tariff up`."""
    header = render_alert(alert()).blocks[0]
    assert header == {"type": "header", "text": {"type": "plain_text", "text": "🔴 CRITICAL · Export control (new), Tariff up"}}


def test_the_headline_links_to_the_article():
    """The second block is the headline in bold, linked to the article."""
    assert render_alert(alert()).blocks[1]["text"] == {
        "type": "mrkdwn",
        "text": "*<https://wire.example/china-controls|China adds five rare earths to export controls>*",
    }


def test_tickers_show_arrows_and_relevance_most_relevant_first():
    """One field per ticker: ▲ bullish, ▼ bearish, ● neutral, with relevance, sorted by relevance."""
    fields = render_alert(alert()).blocks[2]["fields"]
    assert [f["text"] for f in fields] == [
        "▲ *MP* bullish · relevance 100",
        "● *REMX* neutral · relevance 70",
        "▼ *F* bearish · relevance 45",
    ]


def test_an_alert_names_six_tickers_then_counts_the_rest():
    """At most six tickers by name, most relevant first, then `+N more` for the rest."""
    impacts = {f"T{i:02d}": "bullish" for i in range(14)}
    relevance = {f"T{i:02d}": 100 - i for i in range(14)}
    message = render_alert(alert(assessment={"impacts": impacts, "relevance": relevance}))
    fields = [f["text"] for f in message.blocks[2]["fields"]]
    assert fields == [f"▲ *T{i:02d}* bullish · relevance {100 - i}" for i in range(6)] + ["+8 more"]
    assert "+8 more" in message.text and "T06" not in message.text


def test_the_tickers_an_alert_was_queued_with_are_the_ones_it_names():
    """A payload that names its tickers shows those, in that order, and its own count of the rest."""
    named = replace(alert(), shown=("F", "MP"), more=19)
    fields = [f["text"] for f in render_alert(named).blocks[2]["fields"]]
    assert [f.split()[1] for f in fields[:2]] == ["*F*", "*MP*"] and fields[2] == "+19 more"


def test_why_it_fired_names_rules_and_matched_phrases():
    """The rule ids and the matched phrases say why the alert fired."""
    why = render_alert(alert()).blocks[3]["text"]["text"]
    assert why == "*Why:* `china_export_controls` · `us_tariff_threat`\n*Matched:* “export licence” · “rare earth”"


def test_source_and_published_time_use_slack_date_formatting():
    """The context shows the source, the time in each reader's zone, score and novelty."""
    context = render_alert(alert()).blocks[-1]
    assert [e["text"] for e in context["elements"]] == [
        "Mining Wire",
        "<!date^1760018580^{date_short_pretty} {time}|2025-10-09 14:03 UTC>",
        "score 92 · novelty 100",
    ]


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (PUBLISHED, "<!date^1760018580^{date_short_pretty} {time}|2025-10-09 14:03 UTC>"),
        (datetime(2025, 10, 9, 22, 3, tzinfo=timezone(timedelta(hours=8))), "<!date^1760018580^{date_short_pretty} {time}|2025-10-09 14:03 UTC>"),
        (datetime(1970, 1, 1, tzinfo=UTC), "<!date^0^{date_short_pretty} {time}|1970-01-01 00:00 UTC>"),
        (None, "published time unknown"),
    ],
)
def test_slack_date(moment, expected):
    """A UTC fallback for clients that cannot format dates, whatever zone the time came in."""
    assert slack_date(moment) == expected


def test_the_fallback_text_summarises_the_alert_escaped():
    """The top-level `text` (notifications, screen readers) carries severity, headline, tickers and source."""
    message = render_alert(alert(title="Curbs on Nd & Pr <magnets>"))
    assert message.text == (
        "🔴 CRITICAL · Export control (new), Tariff up: Curbs on Nd &amp; Pr &lt;magnets&gt; "
        "(MP ▲ REMX ● F ▼) · Mining Wire"
    )


def test_a_thread_reply_says_it_follows_up():
    """A throttled repeat posted in the first alert's thread is marked as a follow-up."""
    assert render_alert(alert(), reply=True).blocks[0]["text"]["text"].startswith("🔴 Follow-up · CRITICAL")


def test_an_alert_without_tickers_rules_or_time_still_renders():
    """Optional parts are left out rather than shown empty."""
    message = render_alert(
        alert(published=None, link=None, title="", assessment={"impacts": {}, "relevance": {}, "rules": (), "matched": (), "severity": None})
    )
    assert [b["type"] for b in message.blocks] == ["header", "section", "context"]
    assert message.blocks[1]["text"]["text"] == "*(untitled)*"
    assert message.blocks[0]["text"]["text"] == "⚪ INFO · Export control (new), Tariff up"


@pytest.mark.parametrize(
    "field",
    ["title", "source", "matched", "rules", "ticker", "link"],
)
def test_hostile_feed_text_reaches_slack_inert(field):
    """Mentions, broadcasts and disguised links in any feed field are escaped, never live."""
    changes: dict = {}
    if field == "title":
        changes["title"] = HOSTILE
    elif field == "source":
        changes["source"] = Source(HOSTILE)
    elif field == "matched":
        changes["assessment"] = {"matched": (HOSTILE,)}
    elif field == "rules":
        changes["assessment"] = {"rules": (HOSTILE,)}
    elif field == "ticker":
        changes["assessment"] = {"impacts": {HOSTILE: "bullish"}, "relevance": {HOSTILE: 90}}
    elif field == "link":
        changes["link"] = "http://evil.example>|<!channel>bank.com"
    message = render_alert(alert(**changes))
    for text in [message.text, *texts(message.blocks)]:
        for live in ("<!channel>", "<!here>", "<!everyone>", "<@U123>", "<http://evil|", "<#C999>"):
            assert live not in text
        # Every remaining angle bracket belongs to a link or a date we wrote ourselves.
        assert "<" not in OUR_ANGLE_BRACKETS.sub("", text) and ">" not in OUR_ANGLE_BRACKETS.sub("", text)


def test_a_link_cannot_break_out_of_its_brackets():
    """`|` and `>` in a feed's URL are percent-encoded, so no text after them can pose as the label."""
    headline = render_alert(alert(link="http://evil.example>|<!channel>bank.com")).blocks[1]["text"]["text"]
    assert headline.startswith("*<http://evil.example%3E%7C%3C!channel%3E")
    assert headline.count("|") == 1 and headline.count("<") == 1


def test_extreme_input_stays_within_block_kit_limits():
    """Huge headlines and lists are cut with an ellipsis so every Block Kit limit holds."""
    huge = alert(
        title="Export & import <curbs> " * 2000,
        link="https://wire.example/" + "p" * 1900,
        source=Source("S&P " * 1000),
        assessment={
            "event_types": tuple(f"event_type_{i}" for i in range(40)),
            "severity": "critical" * 30,
            "rules": tuple(f"rule_{i}_" + "r" * 200 for i in range(300)),
            "matched": tuple("phrase & <more> " * 100 for _ in range(500)),
            "impacts": {f"TICK{i}" + "X" * 100: "bearish" for i in range(200)},
            "relevance": {},
        },
    )
    message = render_alert(huge)
    blocks = message.blocks
    assert len(blocks) <= 50
    header = blocks[0]["text"]["text"]
    assert len(header) <= 150 and header.endswith("…")
    for block in blocks[1:]:
        if "text" in block:
            assert len(block["text"]["text"]) <= 3000
        assert len(block.get("fields", [])) <= 10
        assert all(len(f["text"]) <= 2000 for f in block.get("fields", []))
        assert len(block.get("elements", [])) <= 10
    assert sum(len(t) for t in texts(blocks)) < 8000
    assert len(json.dumps(blocks, ensure_ascii=False)) < 12000
    assert len(message.text) <= 1000
    assert "…" in blocks[1]["text"]["text"] and "+" in blocks[3]["text"]["text"]
