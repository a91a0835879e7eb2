"""An alert as a Slack message: Block Kit for people, a plain `text` fallback for notifications.

Block Kit limits (per message: 50 blocks; header 150 characters; section text 3,000; at most 10
fields of 2,000; context at most 10 elements; about 12,000 characters in all) are met by
construction: every piece has its own budget below, and feed text is cut with an ellipsis.
Price alerts, follow-ups and calendar reminders are drawn from their own cards under the same
budgets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from service.alerts.card import (
    AlertCard,
    ReactionLine,
    TickerLine,
    alert_card,
    follow_up_card,
    price_card,
    reminder_card,
)
from service.alerts.mrkdwn import escape, escape_within, link, truncate
from service.domain.alerts import Alert, FollowUp, Notice, PriceAlert, Reminder

HEADER_LIMIT = 150
SECTION_TEXT_LIMIT = 3000
MAX_FIELDS = 10
#: Our own budgets, well inside Slack's, so a whole message stays under about 6,000 characters.
HEADLINE_CHARS = 400
TICKER_CHARS = 40
SOURCES_LIMIT = 400
WHY_LIMIT = 1500
CONTEXT_ITEM_LIMIT = 300
TEXT_LIMIT = 1000
PRICE_LIMIT = 120
REACTION_LIMIT = 160
#: A calendar entry's `ends` / `starts` text, each.
CHANGE_LIMIT = 1200

#: The Slack message metadata event type that carries the outbox key.
METADATA_EVENT_TYPE = "reewatch_alert"


@dataclass(frozen=True)
class SlackMessage:
    """What `chat.postMessage` gets: fallback `text` and `blocks`."""

    text: str
    blocks: list[dict[str, Any]]


def render_notice(notice: Notice, *, reply: bool = False) -> SlackMessage:
    """The Slack message for whatever the outbox holds: a news alert, a price alert, a follow-up
    or a calendar reminder."""
    if isinstance(notice, PriceAlert):
        return render_price_alert(notice, reply=reply)
    if isinstance(notice, FollowUp):
        return render_follow_up(notice)
    if isinstance(notice, Reminder):
        return render_reminder(notice)
    return render_alert(notice, reply=reply)


def render_alert(alert: Alert, *, reply: bool = False) -> SlackMessage:
    """The Block Kit message for `alert`; every string from the feed escaped, every field in bounds."""
    card = alert_card(alert, reply=reply)
    headline = f"*{link(card.link, truncate(card.headline, HEADLINE_CHARS), limit=SECTION_TEXT_LIMIT - SOURCES_LIMIT - 4)}*"
    if card.sources:
        headline += "\n" + escape_within(card.sources, SOURCES_LIMIT)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": escape_within(card.title, HEADER_LIMIT)}},
        _section(headline),
    ]
    if card.tickers:
        blocks.append({"type": "section", "fields": [_mrkdwn(text) for text in ticker_fields(card)]})
    if card.prices_note:
        blocks.append({"type": "context", "elements": [_mrkdwn(escape_within(card.prices_note, CONTEXT_ITEM_LIMIT))]})
    why = why_it_fired(card)
    if why:
        blocks.append(_section(why))
    blocks.append({"type": "context", "elements": [_mrkdwn(text) for text in context_items(card)]})
    return SlackMessage(text=fallback_text(card), blocks=blocks)


def ticker_fields(card: AlertCard) -> list[str]:
    """One field per named ticker, most relevant first: `▲ *MP* bullish · relevance 100`, then its
    price when the alert was raised (`63.55 USD · +5.2% today`); then `+N more` for the rest."""
    lines = list(card.tickers)[: MAX_FIELDS - 1]
    fields = []
    for line in lines:
        relevance = f" · relevance {line.relevance}" if line.relevance is not None else ""
        ticker = escape_within(line.ticker, TICKER_CHARS)
        price = f"\n{escape_within(line.price, PRICE_LIMIT)}" if line.price is not None else ""
        fields.append(f"{line.arrow} *{ticker}* {escape(line.direction)}{relevance}{price}")
    more = card.more + len(card.tickers) - len(lines)
    if more:
        fields.append(f"+{more} more")
    return fields


def why_it_fired(card: AlertCard) -> str:
    """`*Why:* rule ids · *Matched:* “phrases”`, as many as fit; empty when there is nothing to say."""
    parts = []
    if card.rules:
        rules = [f"`{rule.replace('`', '')}`" for rule in card.rules]
        parts.append("*Why:* " + _as_many_as_fit(rules, WHY_LIMIT // 2))
    if card.matched:
        phrases = [f"“{phrase}”" for phrase in card.matched]
        parts.append("*Matched:* " + _as_many_as_fit(phrases, WHY_LIMIT // 2))
    return "\n".join(parts)


def context_items(card: AlertCard) -> list[str]:
    """Source, published time (each reader's local time), score and novelty."""
    return [
        escape_within(card.source, CONTEXT_ITEM_LIMIT),
        slack_date(card.published),
        f"score {card.score} · novelty {card.novelty}",
    ]


def slack_date(moment: datetime | None) -> str:
    """`<!date^UNIX^{date_short_pretty} {time}|2025-10-09 14:03 UTC>`: Slack shows it in local time."""
    if moment is None:
        return "published time unknown"
    moment = moment.astimezone(UTC)
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def fallback_text(card: AlertCard) -> str:
    """The one-line `text` that notifications and screen readers show."""
    shown = card.tickers
    if any(line.price is not None for line in shown):
        tickers = ", ".join(_ticker_with_price(line) for line in shown)
    else:
        tickers = " ".join(f"{line.ticker} {line.arrow}" for line in shown)
    if card.more:
        tickers += f" +{card.more} more"
    summary = f"{card.title}: {card.headline}"
    if tickers:
        summary += f" ({tickers})"
    source = card.sources or card.source
    return escape_within(f"{summary} · {source}", TEXT_LIMIT)


def _ticker_with_price(line: TickerLine) -> str:
    return f"{line.ticker} {line.arrow} {line.price}" if line.price is not None else f"{line.ticker} {line.arrow}"


def render_price_alert(alert: PriceAlert, *, reply: bool = False) -> SlackMessage:
    """A price rule's alert: the move in the header and headline, the prices, the news it followed."""
    card = price_card(alert, reply=reply)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": escape_within(card.title, HEADER_LIMIT)}},
        _section(f"*{escape_within(card.headline, HEADLINE_CHARS)}*\n{escape_within(card.detail, HEADLINE_CHARS)}"),
    ]
    if card.price is not None:
        blocks.append(_section(f"*Now:* {escape_within(card.price, PRICE_LIMIT)}"))
    if card.news_title is not None:
        events = f" ({escape_within(card.news_events or '', CONTEXT_ITEM_LIMIT)})" if card.news_events else ""
        news = link(card.news_link, truncate(card.news_title, HEADLINE_CHARS), limit=SECTION_TEXT_LIMIT // 2)
        blocks.append(_section(f"*After:* {news}{events}"))
    blocks.append(
        {
            "type": "context",
            "elements": [
                _mrkdwn(f"*Why:* `{card.rule.replace('`', '')}` · {escape_within(card.description, CONTEXT_ITEM_LIMIT)}"),
                _mrkdwn(slack_date(card.raised_at)),
            ],
        }
    )
    text = f"{card.title}: {card.headline}"
    if card.news_title is not None:
        text += f" · after “{card.news_title}”"
    return SlackMessage(text=escape_within(text, TEXT_LIMIT), blocks=blocks)


def render_follow_up(follow_up: FollowUp) -> SlackMessage:
    """A thread reply: per ticker the move since the alert and whether it went the rule's way."""
    card = follow_up_card(follow_up)
    lines = [reaction_line(line) for line in card.lines[:MAX_FIELDS]] or ["no tickers to follow"]
    if len(card.lines) > MAX_FIELDS:
        lines.append(f"+{len(card.lines) - MAX_FIELDS} more")
    blocks: list[dict[str, Any]] = [
        _section(f"*{escape_within(card.title, HEADER_LIMIT)}*\n" + "\n".join(lines)),
        {
            "type": "context",
            "elements": [
                _mrkdwn(escape_within(card.headline, CONTEXT_ITEM_LIMIT)),
                _mrkdwn(f"prices up to {slack_date(card.until)}"),
            ],
        },
    ]
    summary = ", ".join(
        f"{line.ticker} {line.text} {line.verdict}" if line.verdict else f"{line.ticker}: {line.text}"
        for line in card.lines[:MAX_FIELDS]
    )
    return SlackMessage(text=escape_within(f"{card.title}: {summary} · {card.headline}", TEXT_LIMIT), blocks=blocks)


def reaction_line(line: ReactionLine) -> str:
    """`▼ *MP* bearish · 63.55 → 60.63 USD (-4.6%) ✓ as expected`, or `*LYC.AX*: market closed since the alert`."""
    ticker = escape_within(line.ticker, TICKER_CHARS)
    if line.verdict is None:
        return f"*{ticker}*: {escape_within(line.text, REACTION_LIMIT)}"
    return f"{line.arrow} *{ticker}* {escape(line.direction)} · {escape_within(line.text, REACTION_LIMIT)} {line.verdict}"


def render_reminder(reminder: Reminder) -> SlackMessage:
    """A calendar date coming up: the countdown and title, when (with its zone), what ends or
    starts, what it may move, and the source. The calendar's text is escaped like feed text."""
    card = reminder_card(reminder)
    header = f"📅 {card.countdown}: {card.title}"
    lines = [f"*{link(card.link, truncate(card.title, HEADLINE_CHARS), limit=SECTION_TEXT_LIMIT // 2)}*"]
    lines.append(f"*When:* {escape_within(card.when, CONTEXT_ITEM_LIMIT)} · {card.countdown.lower()}")
    if card.ends:
        lines.append(f"*Ends:* {escape_within(card.ends, CHANGE_LIMIT)}")
    if card.starts:
        lines.append(f"*Starts:* {escape_within(card.starts, CHANGE_LIMIT)}")
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": escape_within(header, HEADER_LIMIT)}},
        _section("\n".join(lines)),
    ]
    if card.moves:
        shown = card.moves[: MAX_FIELDS - 1] if len(card.moves) > MAX_FIELDS else card.moves
        fields = [f"{m.arrow} *{escape_within(m.name, TICKER_CHARS)}* {escape(m.direction)}" for m in shown]
        if len(shown) < len(card.moves):
            fields.append(f"+{len(card.moves) - len(shown)} more")
        blocks.append({"type": "section", "text": _mrkdwn("*May move:*"), "fields": [_mrkdwn(f) for f in fields]})
    blocks.append(
        {
            "type": "context",
            "elements": [
                _mrkdwn("Source: " + escape_within(card.source, CONTEXT_ITEM_LIMIT)),
                _mrkdwn(escape_within(card.note, CONTEXT_ITEM_LIMIT)),
            ],
        }
    )
    text = f"Reminder, {card.countdown.lower()} ({card.when}): {card.title}"
    return SlackMessage(text=escape_within(text, TEXT_LIMIT), blocks=blocks)


def _as_many_as_fit(items: list[str], limit: int) -> str:
    """Items escaped and joined with ` · `, ending with `+N more` once the next would not fit."""
    shown: list[str] = []
    used = 0
    for index, item in enumerate(items):
        piece = escape_within(item, limit // 2)
        more = f" +{len(items) - index} more"
        if used + len(piece) + 3 + len(more) > limit:
            return " · ".join(shown) + more
        shown.append(piece)
        used += len(piece) + 3
    return " · ".join(shown)


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": _mrkdwn(text)}


def _mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}
