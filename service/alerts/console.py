"""An alert on the terminal, in the layout of its Slack message (used when no Slack token is set).

Feed text goes into `rich.text.Text`, never into markup, so `[bold]` in a headline stays text;
control characters were dropped when the card was built, so no escape sequence reaches the terminal.
"""

from __future__ import annotations

from rich.columns import Columns
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.text import Text

from service.alerts.card import AlertCard, alert_card, follow_up_card, price_card, reminder_card
from service.alerts.mrkdwn import link_target, truncate
from service.alerts.message import HEADLINE_CHARS, MAX_FIELDS
from service.domain.alerts import Alert, FollowUp, Notice, PriceAlert, Reminder

_SEVERITY_STYLES = {"critical": "bold red", "high": "bold dark_orange", "medium": "bold yellow", "low": "bold blue"}
_DIRECTION_STYLES = {"bullish": "green", "bearish": "red", "neutral": "dim"}


def render_console_notice(notice: Notice, *, channel: str, reply: bool = False, update: bool = False) -> Panel:
    """The panel for whatever the outbox holds: a news alert, a price alert, a follow-up or a
    calendar reminder."""
    if isinstance(notice, PriceAlert):
        return render_console_price_alert(notice, channel=channel, reply=reply)
    if isinstance(notice, FollowUp):
        return render_console_follow_up(notice, channel=channel, reply=reply)
    if isinstance(notice, Reminder):
        return render_console_reminder(notice, channel=channel)
    return render_console(notice, channel=channel, reply=reply, update=update)


def render_console(alert: Alert, *, channel: str, reply: bool = False, update: bool = False) -> Panel:
    """A rich panel with the same parts, in the same order, as the Slack message; `update` marks
    the story's first alert printed again with what it has become (Slack edits it in place)."""
    card = alert_card(alert, reply=reply)
    lines: list[RenderableType] = [Text(truncate(card.headline, HEADLINE_CHARS), style="bold")]
    if link_target(card.link):
        lines.append(Text(card.link or "", style="underline"))
    if card.sources:
        lines.append(Text(card.sources, style="dim"))
    if card.tickers:
        lines.append(_tickers(card))
    if card.prices_note:
        lines.append(Text(card.prices_note, style="yellow"))
    if card.rules:
        lines.append(Text.assemble(("Why: ", "bold"), ", ".join(card.rules)))
    if card.matched:
        lines.append(Text.assemble(("Matched: ", "bold"), " · ".join(f"“{m}”" for m in card.matched)))
    published = card.published.strftime("%Y-%m-%d %H:%M UTC") if card.published else "published time unknown"
    lines.append(Text(f"{card.source} · {published} · score {card.score} · novelty {card.novelty}", style="dim"))
    if update:
        return _panel(lines, f"{card.title} (updated)", card.severity, channel, False, note="update of the alert in ")
    return _panel(lines, card.title, card.severity, channel, reply)


def _tickers(card: AlertCard) -> RenderableType:
    if any(line.price is not None for line in card.tickers):
        return _tickers_with_prices(card)
    text = Text()
    for index, line in enumerate(card.tickers):
        if index:
            text.append("   ")
        text.append(f"{line.arrow} {line.ticker}", style=_DIRECTION_STYLES.get(line.direction, ""))
        text.append(f" {line.direction}")
        if line.relevance is not None:
            text.append(f" · {line.relevance}", style="dim")
    if card.more:
        text.append(f"   +{card.more} more", style="dim")
    return text


def _tickers_with_prices(card: AlertCard) -> Columns:
    """One cell per ticker, `▲ MP bullish · 100  63.55 USD · +5.2% today`, as many a row as fit."""
    cells = []
    for line in card.tickers:
        cell = Text()
        cell.append(f"{line.arrow} {line.ticker}", style=_DIRECTION_STYLES.get(line.direction, ""))
        cell.append(f" {line.direction}")
        if line.relevance is not None:
            cell.append(f" · {line.relevance}", style="dim")
        if line.price is not None:
            cell.append(f"  {line.price}")
        cells.append(cell)
    if card.more:
        cells.append(Text(f"+{card.more} more", style="dim"))
    return Columns(cells, padding=(0, 3))


def render_console_price_alert(alert: PriceAlert, *, channel: str, reply: bool = False) -> Panel:
    """A price rule's alert, in the layout of its Slack message."""
    card = price_card(alert, reply=reply)
    lines: list[RenderableType] = [Text(card.headline, style="bold"), Text(card.detail)]
    if card.price is not None:
        lines.append(Text.assemble(("Now: ", "bold"), card.price))
    if card.news_title is not None:
        events = f" ({card.news_events})" if card.news_events else ""
        lines.append(Text.assemble(("After: ", "bold"), truncate(card.news_title, HEADLINE_CHARS), events))
    lines.append(Text.assemble(("Why: ", "bold"), f"{card.rule} · {card.description}"))
    lines.append(Text(card.raised_at.strftime("%Y-%m-%d %H:%M UTC"), style="dim"))
    return _panel(lines, card.title, card.severity, channel, reply)


def _panel(
    lines: list[RenderableType], title: str, severity: str, channel: str, reply: bool, *, note: str | None = None
) -> Panel:
    """An alert as the console shows it: titled in its severity's colour, its channel below."""
    return Panel(
        Group(*lines),
        title=Text(title, style=_SEVERITY_STYLES.get(severity.lower(), "bold")),
        title_align="left",
        subtitle=Text((note if note is not None else "thread reply in " if reply else "") + channel, style="dim"),
        subtitle_align="right",
    )


_VERDICT_STYLES = {"✓": "green", "✗": "red"}


def render_console_follow_up(follow_up: FollowUp, *, channel: str, reply: bool = True) -> Panel:
    """A follow-up: one line per ticker with its move since the alert and the verdict."""
    card = follow_up_card(follow_up)
    lines: list[RenderableType] = [Text(truncate(card.headline, HEADLINE_CHARS), style="dim")]
    for line in card.lines[:MAX_FIELDS]:
        if line.verdict is None:
            lines.append(Text.assemble((line.ticker, "bold"), f": {line.text}"))
            continue
        lines.append(
            Text.assemble(
                (f"{line.arrow} {line.ticker}", _DIRECTION_STYLES.get(line.direction, "")),
                f" {line.direction} · {line.text} ",
                (line.verdict, _VERDICT_STYLES.get(line.verdict[:1], "dim")),
            )
        )
    if len(card.lines) > MAX_FIELDS:
        lines.append(Text(f"+{len(card.lines) - MAX_FIELDS} more", style="dim"))
    lines.append(Text(f"prices up to {card.until:%Y-%m-%d %H:%M} UTC", style="dim"))
    return Panel(
        Group(*lines),
        title=Text(card.title, style="bold"),
        title_align="left",
        subtitle=Text(("thread reply in " if reply else "") + channel, style="dim"),
        subtitle_align="right",
    )


def render_console_reminder(reminder: Reminder, *, channel: str) -> Panel:
    """A calendar reminder, in the layout of its Slack message."""
    card = reminder_card(reminder)
    lines: list[RenderableType] = [Text(truncate(card.title, HEADLINE_CHARS), style="bold")]
    if link_target(card.link):
        lines.append(Text(card.link or "", style="underline"))
    lines.append(Text.assemble(("When: ", "bold"), f"{card.when} · {card.countdown.lower()}"))
    if card.ends:
        lines.append(Text.assemble(("Ends: ", "bold"), card.ends))
    if card.starts:
        lines.append(Text.assemble(("Starts: ", "bold"), card.starts))
    if card.moves:
        moves = Text("May move: ", style="bold")
        for index, move in enumerate(card.moves):
            moves.append(("  " if index else "") + f"{move.arrow} {move.name} {move.direction}", _DIRECTION_STYLES.get(move.direction, ""))
        lines.append(moves)
    lines.append(Text(f"Source: {card.source} · {card.note}", style="dim"))
    return Panel(
        Group(*lines),
        title=Text(f"📅 {card.countdown}", style="bold"),
        title_align="left",
        subtitle=Text(channel, style="dim"),
        subtitle_align="right",
    )
