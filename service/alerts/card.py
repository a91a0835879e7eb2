"""What an alert shows, whatever the surface: Slack's Block Kit and the console read the same card."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from service.alerts.mrkdwn import one_line
from service.domain.alerts import Alert

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


@dataclass(frozen=True)
class TickerLine:
    ticker: str
    direction: str
    relevance: int | None

    @property
    def arrow(self) -> str:
        return ARROWS.get(self.direction, ARROWS["neutral"])


@dataclass(frozen=True)
class AlertCard:
    """The alert's parts, cleaned to one line each but not yet escaped for any surface."""

    severity: str
    events: str
    headline: str
    link: str | None
    tickers: tuple[TickerLine, ...]
    rules: tuple[str, ...]
    matched: tuple[str, ...]
    source: str
    published: datetime | None
    score: int
    novelty: int
    reply: bool

    @property
    def mark(self) -> str:
        return SEVERITY_MARKS.get(self.severity.lower(), "⚪")

    @property
    def title(self) -> str:
        """`🔴 CRITICAL · Export control (new)`; a threaded repeat says so."""
        prefix = "Follow-up · " if self.reply else ""
        return f"{self.mark} {prefix}{self.severity.upper()} · {self.events}"


def alert_card(alert: Alert, *, reply: bool = False) -> AlertCard:
    """The card for `alert`; `reply` marks a repeat posted in the first alert's thread."""
    a = alert.assessment
    # The companies the article names first (most relevant first), then the moved ones, then
    # the neutral ones, each in watchlist order (the order `impacts` keeps).
    order = {ticker: index for index, ticker in enumerate(a.impacts)}
    tickers = sorted(
        (TickerLine(one_line(t), d, a.relevance.get(t)) for t, d in a.impacts.items()),
        key=lambda line: (-(line.relevance or 0), line.direction == "neutral", order[line.ticker]),
    )
    events = ", ".join(EVENT_LABELS.get(e, one_line(e).replace("_", " ")) for e in a.event_types)
    return AlertCard(
        severity=one_line(a.severity or "info"),
        events=events or "News",
        headline=one_line(alert.title) or "(untitled)",
        link=alert.link,
        tickers=tuple(tickers),
        rules=tuple(one_line(r) for r in a.rules),
        matched=tuple(m for m in (one_line(m) for m in a.matched) if m),
        source=one_line(alert.source.name) or "unknown source",
        published=alert.published,
        score=a.score,
        novelty=a.novelty,
        reply=reply,
    )
