"""What an alert shows, whatever the surface: Slack's Block Kit and the console read the same card.

Four cards: a news alert (with each shown ticker's price), a price alert (a price rule fired),
a follow-up (a thread reply on the moves since a news alert), and a calendar reminder."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from service.alerts.mrkdwn import one_line
from service.domain.alerts import Alert, FollowUp, PriceAlert, Reminder
from service.domain.quotes import Quote
from service.domain.scoring import Direction

ARROWS = {"bullish": "▲", "bearish": "▼", "neutral": "●"}
SEVERITY_MARKS = {"critical": "🔴", "high": "🟠", "medium": "🟡", "low": "🔵"}

#: Readable names for the default taxonomy (DOMAIN.md); other ids are shown as written.
EVENT_LABELS = {
    "export_control_new": "Export control (new)",
    "export_control_eased": "Export control eased",
    "truce": "Truce",
    "tariff_up": "Tariff up",
    "tariff_down": "Tariff down",
    "entity_list": "Entity list",
    "gov_funding": "Government funding",
    "supply_disruption": "Supply disruption",
    "partnership": "Partnership",
    "corporate": "Corporate",
    "legal": "Legal",
    "price_move": "Price move",
}


#: Tickers a news alert names at most; the rest are counted ("+N more").
SHOWN_TICKERS = 6


@dataclass(frozen=True)
class TickerLine:
    ticker: str
    direction: str
    relevance: int | None
    #: The price when the alert was raised; None in alerts queued before prices were recorded.
    quote: Quote | None = None

    @property
    def arrow(self) -> str:
        return ARROWS.get(self.direction, ARROWS["neutral"])

    @property
    def price(self) -> str | None:
        """`63.55 USD · +5.2% today`, or None when there is no price to show (see `missing`)."""
        return quote_text(self.quote) if self.quote is not None and not self.missing else None

    @property
    def missing(self) -> str | None:
        """Why the ticker has no price, when a quote was recorded without one."""
        if self.quote is None or (self.quote.missing is None and self.quote.price is not None):
            return None
        return one_line(self.quote.missing or "none recorded")


@dataclass(frozen=True)
class AlertCard:
    """The alert's parts, cleaned to one line each but not yet escaped for any surface."""

    severity: str
    events: str
    headline: str
    link: str | None
    #: The tickers the alert names (at most SHOWN_TICKERS), most relevant first.
    tickers: tuple[TickerLine, ...]
    rules: tuple[str, ...]
    matched: tuple[str, ...]
    source: str
    published: datetime | None
    score: int
    novelty: int
    reply: bool
    #: Tickers the rules move beyond those named.
    more: int = 0
    #: `3 sources: reuters, mining-com, federal-register-bis` once a story has several.
    sources: str | None = None
    #: One line for the prices the alert could not show: `No prices: no prices stored yet`.
    prices_note: str | None = None
    #: What a later report adds to its story (a thread reply).
    adds: tuple[str, ...] = ()

    @property
    def mark(self) -> str:
        return SEVERITY_MARKS.get(self.severity.lower(), "⚪")

    @property
    def title(self) -> str:
        """`🔴 CRITICAL · Export control (new)`; a story's reply says what it adds."""
        if self.reply and self.adds:
            return f"{self.mark} {self.severity.upper()} · {self.events} · adds {', '.join(self.adds)}"
        prefix = "Follow-up · " if self.reply else ""
        return f"{self.mark} {prefix}{self.severity.upper()} · {self.events}"


def ticker_order(impacts: Mapping[str, Direction], relevance: Mapping[str, int]) -> list[str]:
    """The order of alerts queued before they named their tickers: the companies the article
    names first (most relevant first), then the moved ones, then the neutral ones, each in
    watchlist order (`impacts`' order)."""
    order = {ticker: index for index, ticker in enumerate(impacts)}
    return sorted(
        impacts, key=lambda t: (-(relevance.get(t) or 0), impacts[t] == "neutral", order[t])
    )


def pick_tickers(
    impacts: Mapping[str, Direction],
    relevance: Mapping[str, int],
    *,
    rule_tickers: Sequence[str] | None = None,
    limit: int = SHOWN_TICKERS,
) -> tuple[list[str], int]:
    """The tickers an alert names, and how many more it leaves out.

    First the companies the article names (most relevant first), then `rule_tickers`: the
    tickers the alerting rules name themselves and their groups, or, for a rule that names
    none, its event types' default groups. Without `rule_tickers`, every ticker the verdict
    moves. Group members the rules expect nothing of (neutral) are left out unless named.
    """
    named = sorted((t for t in relevance if t in impacts), key=lambda t: (-relevance[t], t))
    pool = list(impacts) if rule_tickers is None else [t for t in rule_tickers if t in impacts]
    rest = [t for t in pool if t not in relevance and impacts[t] != "neutral"]
    ordered = list(dict.fromkeys(named + rest))
    return ordered[:limit], max(0, len(ordered) - limit)


def alert_card(alert: Alert, *, reply: bool = False) -> AlertCard:
    """The card for `alert`; `reply` marks a report posted in its story's thread."""
    a = alert.assessment
    if alert.shown is not None:
        shown, more = [t for t in alert.shown if t in a.impacts], alert.more
    else:
        ordered = ticker_order(a.impacts, a.relevance)
        shown, more = ordered[:SHOWN_TICKERS], max(0, len(ordered) - SHOWN_TICKERS)
    tickers = [TickerLine(one_line(t), a.impacts[t], a.relevance.get(t), alert.quotes.get(t)) for t in shown]
    events = ", ".join(EVENT_LABELS.get(e, one_line(e).replace("_", " ")) for e in a.event_types)
    severity = a.severity or "info"
    story = alert.story
    if story is not None and story.severity and _more_urgent(story.severity, severity):
        severity = story.severity
    sources = None
    if story is not None and len(story.sources) > 1:
        sources = one_line(f"{len(story.sources)} sources: " + ", ".join(story.sources))
    return AlertCard(
        severity=one_line(severity),
        events=events or "News",
        headline=one_line(alert.title) or "(untitled)",
        link=alert.link,
        tickers=tuple(tickers),
        rules=tuple(one_line(r) for r in a.rules),
        # The frame that decided ("frame: China suspends export_control (down) on gallium") is the
        # best one-line why: first, so it survives when the list is cut to fit.
        matched=tuple(sorted((m for m in (one_line(m) for m in a.matched) if m), key=lambda m: not m.startswith("frame:"))),
        source=one_line(alert.source.name) or "unknown source",
        published=alert.published,
        score=a.score,
        novelty=a.novelty,
        reply=reply,
        more=more,
        sources=sources,
        prices_note=prices_note(tickers),
        adds=tuple(one_line(x) for x in alert.adds),
    )


def prices_note(lines: Sequence[TickerLine]) -> str | None:
    """One line for the named tickers without a price: `No prices: no prices stored yet`, or
    `No price for LYC.AX, ARU.AX: stale 3 sessions ...` when others have one. None if all do."""
    missing = [line for line in lines if line.missing is not None]
    if not missing:
        return None
    reasons = list(dict.fromkeys(line.missing for line in missing))
    why = reasons[0] if len(reasons) == 1 else "; ".join(f"{line.ticker}: {line.missing}" for line in missing)
    if len(missing) == len(lines):
        return f"No prices: {why}"
    names = ", ".join(line.ticker for line in missing)
    return f"No price for {names}: {why}" if len(reasons) == 1 else f"No price for {why}"


def _more_urgent(a: str, b: str) -> bool:
    order = list(SEVERITY_MARKS)[::-1]  # low, medium, high, critical
    return (order.index(a) if a in order else -1) > (order.index(b) if b in order else -1)


def price_text(price: float) -> str:
    """Enough digits to see a move: 63.55, 1,234.50, 0.145."""
    if price >= 1:
        return f"{price:,.2f}"
    return f"{price:.3g}"


def quote_text(quote: Quote) -> str:
    """`63.55 USD · +5.2% today`, `16.20 AUD · +1.2% on Nov 10`, or `no price: stale 3 sessions ...`."""
    if quote.missing is not None or quote.price is None:
        return one_line(f"no price: {quote.missing or 'none recorded'}")
    text = price_text(quote.price)
    if quote.currency:
        text += f" {one_line(quote.currency)}"
    if quote.change_pct is None:
        return text + " · day's change unknown"
    when = "today" if quote.live or quote.session is None else f"on {quote.session:%b} {quote.session.day}"
    return f"{text} · {percent_text(quote.change_pct)} {when}"


def percent_text(pct: float) -> str:
    """`+5.2%`, `-0.3%`, and `0.0%` for anything that rounds to nothing (never `-0.0%`)."""
    rounded = round(pct, 1)
    return "0.0%" if rounded == 0 else f"{rounded:+.1f}%"


CHECK_LABELS = {"move": "Price move", "gap": "Opening gap", "volume": "Volume surge"}
VERDICT_LABELS = {
    "as_expected": "✓ as expected",
    "against": "✗ against the call",
    "flat": "– flat",
    "no_expectation": "no call (neutral)",
}


@dataclass(frozen=True)
class PriceCard:
    """A price alert's parts, cleaned to one line each but not yet escaped for any surface."""

    severity: str
    title: str
    #: `MP down 4.6% within 20 min of the news`.
    headline: str
    #: `63.55 → 60.63 USD, 16:05 → 16:25 UTC`, or the detector's words for a volume surge.
    detail: str
    #: The ticker's price as the alert was raised.
    price: str | None
    news_title: str | None
    news_link: str | None
    news_events: str | None
    rule: str
    description: str
    raised_at: datetime

    @property
    def mark(self) -> str:
        return SEVERITY_MARKS.get(self.severity.lower(), "⚪")


def price_card(alert: PriceAlert, *, reply: bool = False) -> PriceCard:
    """The card for a price rule's alert; `reply` marks one posted in the ticker's price thread."""
    ticker = one_line(alert.ticker)
    label = "Price move after news" if alert.news is not None else CHECK_LABELS.get(alert.check, "Price")
    prefix = "Follow-up · " if reply else ""
    severity = one_line(alert.severity) or "medium"
    mark = SEVERITY_MARKS.get(severity.lower(), "⚪")
    currency = alert.quote.currency if alert.quote is not None and alert.quote.currency else ""
    news = alert.news
    return PriceCard(
        severity=severity,
        title=f"{mark} {prefix}{severity.upper()} · {label} · {ticker}",
        headline=_price_headline(alert, ticker),
        detail=_price_detail(alert, one_line(currency)),
        price=quote_text(alert.quote) if alert.quote is not None else None,
        news_title=one_line(news.title) or "(untitled)" if news is not None else None,
        news_link=news.link if news is not None else None,
        news_events=", ".join(EVENT_LABELS.get(e, one_line(e).replace("_", " ")) for e in news.event_types)
        if news is not None
        else None,
        rule=one_line(alert.rule_id),
        description=one_line(alert.description),
        raised_at=alert.raised_at,
    )


def _price_headline(alert: PriceAlert, ticker: str) -> str:
    pct = alert.change_pct
    if alert.check == "volume" or pct is None:
        return f"{ticker}: {one_line(alert.reason)}"
    way = "up" if pct > 0 else "down"
    if alert.check == "gap":
        return f"{ticker} opened {way} {abs(pct):.1f}% from the previous close"
    if alert.news is not None and alert.end_at is not None:
        return f"{ticker} {way} {abs(pct):.1f}% within {_minutes(alert.end_at - alert.news.at)} of the news"
    window = f" within {_minutes(timedelta(seconds=alert.window_seconds))}" if alert.window_seconds else ""
    return f"{ticker} {way} {abs(pct):.1f}%{window}"


def _price_detail(alert: PriceAlert, currency: str) -> str:
    if alert.start_price is None or alert.end_price is None:
        return one_line(alert.reason)
    unit = f" {currency}" if currency else ""
    if alert.check == "gap":
        return f"previous close {price_text(alert.start_price)} → open {price_text(alert.end_price)}{unit}"
    prices = f"{price_text(alert.start_price)} → {price_text(alert.end_price)}{unit}"
    if alert.start_at is None or alert.end_at is None:
        return prices
    return f"{prices}, {alert.start_at:%H:%M} → {alert.end_at:%H:%M} UTC"


def _minutes(span: timedelta) -> str:
    minutes = max(int(span.total_seconds() // 60), 0)
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h{rest:02d}" if rest else f"{hours}h"
    return f"{hours // 24} days"


@dataclass(frozen=True)
class ReactionLine:
    ticker: str
    direction: str
    #: `63.55 → 60.63 USD (-4.6%) ✓ as expected`, or `market closed since the alert`.
    text: str
    verdict: str | None

    @property
    def arrow(self) -> str:
        return ARROWS.get(self.direction, ARROWS["neutral"])


@dataclass(frozen=True)
class FollowUpCard:
    """A follow-up's parts: how long after which alert, and one line per ticker."""

    title: str
    headline: str
    until: datetime
    lines: tuple[ReactionLine, ...]


def follow_up_card(follow_up: FollowUp) -> FollowUpCard:
    """The card for a follow-up whose reactions were measured."""
    lines = []
    for reaction in follow_up.reactions:
        if reaction.note is not None or reaction.change_pct is None:
            lines.append(ReactionLine(one_line(reaction.ticker), reaction.direction, one_line(reaction.note or "no move known"), None))
            continue
        currency = f" {one_line(reaction.currency)}" if reaction.currency else ""
        text = (
            f"{price_text(reaction.start or 0)} → {price_text(reaction.end or 0)}{currency} "
            f"({percent_text(reaction.change_pct)})"
        )
        verdict = VERDICT_LABELS.get(reaction.verdict or "", None)
        lines.append(ReactionLine(one_line(reaction.ticker), reaction.direction, text, verdict))
    span = _minutes(timedelta(minutes=follow_up.minutes))
    return FollowUpCard(
        title=f"⏱ {span} of trading after the alert" if follow_up.in_trading_time else f"⏱ {span} after the alert",
        headline=one_line(follow_up.title) or "(untitled)",
        until=follow_up.due_at,
        lines=tuple(lines),
    )


@dataclass(frozen=True)
class MoveLine:
    """What a calendar date may move: a watchlist group or ticker and the expected direction."""

    name: str
    direction: str

    @property
    def arrow(self) -> str:
        return ARROWS.get(self.direction, ARROWS["neutral"])


@dataclass(frozen=True)
class ReminderCard:
    """A calendar reminder's parts, each cleaned to one line but not yet escaped for any surface."""

    #: "In 7 days", "Tomorrow", "Today".
    countdown: str
    title: str
    link: str | None
    #: "Thu 10 Dec 2026 (Asia/Shanghai)", with the local time when the calendar gives one.
    when: str
    ends: str | None
    starts: str | None
    moves: tuple[MoveLine, ...]
    source: str
    #: "reminder 7 days before · g20-miami-2026".
    note: str


def countdown(days_left: int) -> str:
    """How far off a date is, as a reminder's header says it."""
    if days_left <= 0:
        return "Today"
    if days_left == 1:
        return "Tomorrow"
    return f"In {days_left} days"


_SLOT_NOTES = {"7d": "reminder 7 days before", "1d": "reminder 1 day before", "0d": "reminder on the day"}


def reminder_card(reminder: Reminder) -> ReminderCard:
    """The parts of a calendar reminder, from the calendar's own words."""
    when = f"{reminder.date:%a %d %b %Y}"
    if reminder.time is not None:
        when += f" {reminder.time:%H:%M}"
    when += f" ({reminder.timezone})"
    return ReminderCard(
        countdown=countdown(reminder.days_left),
        title=one_line(reminder.title),
        link=reminder.link,
        when=when,
        ends=one_line(reminder.ends) if reminder.ends else None,
        starts=one_line(reminder.starts) if reminder.starts else None,
        moves=tuple(MoveLine(one_line(name), direction) for name, direction in reminder.moves),
        source=one_line(reminder.source),
        note=f"{_SLOT_NOTES.get(reminder.slot, 'reminder')} · {one_line(reminder.deadline_id)}",
    )
