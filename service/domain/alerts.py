"""What the outbox keeps, frozen when it was raised: a news alert (the article, the rules' verdict
and the tickers' prices), a price alert (a price rule fired), and a follow-up (a thread reply,
later, on how the tickers moved since a news alert)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from service.domain.quotes import Quote
from service.domain.reactions import Reaction
from service.domain.scoring import DIRECTIONS, Assessment, Direction, Source

#: Bumped when the payload's shape changes, so old rows can still be read.
#: 2 added `quotes`: each shown ticker's price when the alert was raised.
PAYLOAD_VERSION = 2
READABLE_VERSIONS = (1, 2)
#: The outbox column's width; longer keys keep a readable head and end in a digest of the whole.
MAX_THROTTLE_KEY = 300


@dataclass(frozen=True)
class Alert:
    """What a trader is told about one article; everything a renderer needs, nothing it must look up."""

    article_id: int | None
    title: str
    link: str | None
    source: Source
    published: datetime | None
    assessment: Assessment
    #: The shown tickers' prices when the alert was raised; empty in payloads older than version 2.
    quotes: Mapping[str, Quote] = field(default_factory=dict)

    @property
    def throttle_key(self) -> str | None:
        """Top rule id and the tickers at stake: repeats with the same key share a Slack thread.

        The tickers are the companies the article names when it names any: two stories of one
        rule about different companies are different stories. Otherwise the impacted ones.
        """
        if not self.assessment.rules:
            return None
        tickers = sorted(self.assessment.relevance) or list(self.assessment.tickers)
        key = f"{self.assessment.rules[0]}|{','.join(tickers)}"
        if len(key) <= MAX_THROTTLE_KEY:
            return key
        digest = hashlib.sha256(key.encode()).hexdigest()
        return f"{key[: MAX_THROTTLE_KEY - len(digest) - 1]}#{digest}"

    def to_payload(self) -> dict[str, Any]:
        """A JSON-ready dict for the outbox row."""
        a = self.assessment
        return {
            "v": PAYLOAD_VERSION,
            "article_id": self.article_id,
            "title": self.title,
            "link": self.link,
            "source": {"name": self.source.name, "kind": self.source.kind, "weight": self.source.weight},
            "published": self.published.astimezone(UTC).isoformat() if self.published else None,
            "assessment": {
                "event_types": list(a.event_types),
                "score": a.score,
                "severity": a.severity,
                "alert": a.alert,
                "rules": list(a.rules),
                "matched": list(a.matched),
                "impacts": dict(a.impacts),
                "relevance": dict(a.relevance),
                "channels": list(a.channels),
                "throttle_seconds": a.throttle_seconds,
                "novelty": a.novelty,
            },
            "quotes": {ticker: quote.to_dict() for ticker, quote in self.quotes.items()},
        }

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> Alert:
        """Read a payload written by `to_payload` (ValueError if it is not one)."""
        if data.get("v") not in READABLE_VERSIONS:
            raise ValueError(f"unknown alert payload version {data.get('v')!r}")
        a = data["assessment"]
        impacts = {str(t): d for t, d in dict(a.get("impacts") or {}).items()}
        for ticker, direction in impacts.items():
            if direction not in DIRECTIONS:
                raise ValueError(f"ticker {ticker}: unknown direction {direction!r}")
        published = data.get("published")
        source = data.get("source") or {}
        return cls(
            article_id=data.get("article_id"),
            title=str(data.get("title") or ""),
            link=data.get("link"),
            source=Source(
                name=str(source.get("name") or "unknown source"),
                kind=str(source.get("kind") or "sector"),
                weight=float(source.get("weight", 0.8)),
            ),
            published=datetime.fromisoformat(published).astimezone(UTC) if published else None,
            assessment=Assessment(
                event_types=tuple(a.get("event_types") or ()),
                score=int(a.get("score") or 0),
                severity=a.get("severity"),
                alert=bool(a.get("alert", True)),
                rules=tuple(a.get("rules") or ()),
                matched=tuple(a.get("matched") or ()),
                impacts=impacts,
                relevance={str(t): int(r) for t, r in dict(a.get("relevance") or {}).items()},
                channels=tuple(a.get("channels") or ()),
                throttle_seconds=int(a.get("throttle_seconds", 1800)),
                novelty=int(a.get("novelty", 100)),
            ),
            quotes={str(t): Quote.from_dict(str(t), q) for t, q in dict(data.get("quotes") or {}).items()},
        )


@dataclass(frozen=True)
class NewsRef:
    """The news alert a combined price rule reacted to."""

    article_id: int
    title: str
    link: str | None
    event_types: tuple[str, ...]
    #: When the news alert was raised: the move is measured from here.
    at: datetime


@dataclass(frozen=True)
class PriceAlert:
    """What a trader is told when a price rule fires on a ticker."""

    rule_id: str
    description: str
    severity: str
    #: "move", "gap" or "volume".
    check: str
    ticker: str
    #: The exchange-local trading day it fired on: a rule alerts once per ticker and session.
    session: date
    #: The detector's own words, e.g. "-4.61% after 2025-11-10 16:05Z".
    reason: str
    raised_at: datetime
    change_pct: float | None = None
    start_price: float | None = None
    start_at: datetime | None = None
    end_price: float | None = None
    end_at: datetime | None = None
    #: Volume rules: the session's volume so far over its average.
    ratio: float | None = None
    #: Move rules: the window; combined rules: the time allowed after the news.
    window_seconds: int | None = None
    quote: Quote | None = None
    news: NewsRef | None = None

    def to_payload(self) -> dict[str, Any]:
        """A JSON-ready dict for the outbox row."""
        news = self.news
        return {
            "v": 1,
            "rule_id": self.rule_id,
            "description": self.description,
            "severity": self.severity,
            "check": self.check,
            "ticker": self.ticker,
            "session": self.session.isoformat(),
            "reason": self.reason,
            "raised_at": _iso(self.raised_at),
            "change_pct": self.change_pct,
            "start_price": self.start_price,
            "start_at": _iso(self.start_at),
            "end_price": self.end_price,
            "end_at": _iso(self.end_at),
            "ratio": self.ratio,
            "window_seconds": self.window_seconds,
            "quote": self.quote.to_dict() if self.quote is not None else None,
            "news": None
            if news is None
            else {
                "article_id": news.article_id,
                "title": news.title,
                "link": news.link,
                "event_types": list(news.event_types),
                "at": _iso(news.at),
            },
        }

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> PriceAlert:
        """Read a payload written by `to_payload` (ValueError if it is not one)."""
        if data.get("v") != 1:
            raise ValueError(f"unknown price alert payload version {data.get('v')!r}")
        ticker = str(data["ticker"])
        news = data.get("news")
        quote = data.get("quote")
        return cls(
            rule_id=str(data["rule_id"]),
            description=str(data.get("description") or ""),
            severity=str(data.get("severity") or "medium"),
            check=str(data["check"]),
            ticker=ticker,
            session=date.fromisoformat(data["session"]),
            reason=str(data.get("reason") or ""),
            raised_at=_instant(data["raised_at"]),
            change_pct=_number(data.get("change_pct")),
            start_price=_number(data.get("start_price")),
            start_at=_instant_or_none(data.get("start_at")),
            end_price=_number(data.get("end_price")),
            end_at=_instant_or_none(data.get("end_at")),
            ratio=_number(data.get("ratio")),
            window_seconds=int(data["window_seconds"]) if data.get("window_seconds") is not None else None,
            quote=Quote.from_dict(ticker, quote) if quote is not None else None,
            news=None
            if news is None
            else NewsRef(
                article_id=int(news["article_id"]),
                title=str(news.get("title") or ""),
                link=news.get("link"),
                event_types=tuple(news.get("event_types") or ()),
                at=_instant(news["at"]),
            ),
        )


@dataclass(frozen=True)
class FollowUp:
    """A thread reply, `minutes` after a news alert, on how the alert's tickers moved since."""

    article_id: int | None
    title: str
    alert_at: datetime
    minutes: int
    #: The tickers the alert showed, with the direction the rules expected, in the alert's order.
    tickers: tuple[tuple[str, Direction], ...]
    #: Worked out from the bars when the reply is due; never stored.
    reactions: tuple[Reaction, ...] = ()

    @property
    def due_at(self) -> datetime:
        return self.alert_at + timedelta(minutes=self.minutes)

    def to_payload(self) -> dict[str, Any]:
        """A JSON-ready dict for the outbox row: what to measure, not the numbers."""
        return {
            "v": 1,
            "article_id": self.article_id,
            "title": self.title,
            "alert_at": _iso(self.alert_at),
            "minutes": self.minutes,
            "tickers": [[ticker, direction] for ticker, direction in self.tickers],
        }

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> FollowUp:
        """Read a payload written by `to_payload` (ValueError if it is not one)."""
        if data.get("v") != 1:
            raise ValueError(f"unknown follow-up payload version {data.get('v')!r}")
        tickers = []
        for ticker, direction in data.get("tickers") or ():
            if direction not in DIRECTIONS:
                raise ValueError(f"ticker {ticker}: unknown direction {direction!r}")
            tickers.append((str(ticker), direction))
        return cls(
            article_id=data.get("article_id"),
            title=str(data.get("title") or ""),
            alert_at=_instant(data["alert_at"]),
            minutes=int(data["minutes"]),
            tickers=tuple(tickers),
        )


#: Everything the dispatcher delivers.
Notice = Alert | PriceAlert | FollowUp
NEWS, PRICE, FOLLOWUP = "news", "price", "followup"


def notice_from_row(kind: str, payload: Mapping[str, Any]) -> Notice:
    """The notice an outbox row of `kind` holds (ValueError if the kind or payload is unknown)."""
    if kind == NEWS:
        return Alert.from_payload(payload)
    if kind == PRICE:
        return PriceAlert.from_payload(payload)
    if kind == FOLLOWUP:
        return FollowUp.from_payload(payload)
    raise ValueError(f"unknown outbox kind {kind!r}")


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment is not None else None


def _instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"time {text!r} has no zone")
    return moment.astimezone(UTC)


def _instant_or_none(text: str | None) -> datetime | None:
    return _instant(text) if text else None


def _number(value: Any) -> float | None:
    return float(value) if value is not None else None
