"""An alert on the terminal, in the layout of its Slack message (used when no Slack token is set).

Feed text goes into `rich.text.Text`, never into markup, so `[bold]` in a headline stays text;
control characters were dropped when the card was built, so no escape sequence reaches the terminal.
"""

from __future__ import annotations

from rich.console import Group
from rich.panel import Panel
from rich.text import Text

from service.alerts.card import AlertCard, alert_card
from service.alerts.mrkdwn import link_target, truncate
from service.alerts.message import HEADLINE_CHARS, MAX_FIELDS
from service.domain.alerts import Alert

_SEVERITY_STYLES = {"critical": "bold red", "high": "bold dark_orange", "medium": "bold yellow", "low": "bold blue"}
_DIRECTION_STYLES = {"bullish": "green", "bearish": "red", "neutral": "dim"}


def render_console(alert: Alert, *, channel: str, reply: bool = False) -> Panel:
    """A rich panel with the same parts, in the same order, as the Slack message."""
    card = alert_card(alert, reply=reply)
    lines: list[Text] = [Text(truncate(card.headline, HEADLINE_CHARS), style="bold")]
    if link_target(card.link):
        lines.append(Text(card.link or "", style="underline"))
    if card.tickers:
        lines.append(_tickers(card))
    if card.rules:
        lines.append(Text.assemble(("Why: ", "bold"), ", ".join(card.rules)))
    if card.matched:
        lines.append(Text.assemble(("Matched: ", "bold"), " · ".join(f"“{m}”" for m in card.matched)))
    published = card.published.strftime("%Y-%m-%d %H:%M UTC") if card.published else "published time unknown"
    lines.append(Text(f"{card.source} · {published} · score {card.score} · novelty {card.novelty}", style="dim"))
    return Panel(
        Group(*lines),
        title=Text(card.title, style=_SEVERITY_STYLES.get(card.severity.lower(), "bold")),
        title_align="left",
        subtitle=Text(("thread reply in " if reply else "") + channel, style="dim"),
        subtitle_align="right",
    )


def _tickers(card: AlertCard) -> Text:
    text = Text()
    for index, line in enumerate(card.tickers[:MAX_FIELDS]):
        if index:
            text.append("   ")
        text.append(f"{line.arrow} {line.ticker}", style=_DIRECTION_STYLES.get(line.direction, ""))
        text.append(f" {line.direction}")
        if line.relevance is not None:
            text.append(f" · {line.relevance}", style="dim")
    if len(card.tickers) > MAX_FIELDS:
        text.append(f"   +{len(card.tickers) - MAX_FIELDS} more", style="dim")
    return text
