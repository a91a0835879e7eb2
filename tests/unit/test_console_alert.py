"""An alert on the terminal: the Slack message's layout, with feed text kept as text."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from rich.console import Console

from service.alerts.console import render_console
from service.domain.alerts import Alert
from service.domain.scoring import Assessment, Source


def printed(alert: Alert, **kwargs) -> str:
    buffer = io.StringIO()
    Console(file=buffer, width=120, force_terminal=False, color_system=None).print(render_console(alert, **kwargs))
    return buffer.getvalue()


def an_alert(title: str = "China adds five rare earths to export controls", source: str = "Mining Wire") -> Alert:
    return Alert(
        article_id=1,
        title=title,
        link="https://wire.example/a",
        source=Source(source),
        published=datetime(2025, 10, 9, 14, 3, tzinfo=UTC),
        assessment=Assessment(
            event_types=("export_control_new",),
            score=92,
            severity="critical",
            alert=True,
            rules=("china_export_controls",),
            matched=("export licence",),
            impacts={"MP": "bullish", "F": "bearish"},
            relevance={"MP": 100, "F": 45},
        ),
    )


def test_the_console_shows_the_same_parts_in_the_same_order():
    """Header, headline, link, tickers, why, source and time, channel: as in Slack."""
    text = printed(an_alert(), channel="#rare-earth-alerts")
    order = [
        "🔴 CRITICAL · Export control (new)",
        "China adds five rare earths to export controls",
        "https://wire.example/a",
        "▲ MP bullish · 100",
        "▼ F bearish · 45",
        "Why: china_export_controls",
        "Matched: “export licence”",
        "Mining Wire · 2025-10-09 14:03 UTC · score 92 · novelty 100",
        "#rare-earth-alerts",
    ]
    positions = [text.index(part) for part in order]
    assert positions == sorted(positions)


def test_feed_text_is_not_rich_markup():
    """Square brackets in a headline print as typed instead of styling the terminal."""
    text = printed(an_alert(title="[bold red]Fake[/] headline [link=http://evil]x[/link]"), channel="#a")
    assert "[bold red]Fake[/] headline [link=http://evil]x[/link]" in text


def test_terminal_escape_sequences_in_feed_text_never_reach_the_terminal():
    """Control characters are dropped, so a headline cannot clear the screen or retitle the window."""
    text = printed(an_alert(title="Clear\x1b[2J screen\x1b]0;owned\x07", source="Wire\x1b[31m"), channel="#a")
    assert "\x1b" not in text and "\x07" not in text
    assert "Clear [2J screen ]0;owned" in text


def test_a_thread_reply_names_the_thread():
    """A throttled repeat says it belongs in the first alert's thread."""
    text = printed(an_alert(), channel="#desk", reply=True)
    assert "Follow-up · CRITICAL" in text and "thread reply in #desk" in text
