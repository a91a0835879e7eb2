"""What the outbox keeps, frozen when it was raised: a news alert (the article, the rules' verdict,
the tickers it shows and their prices, the story it tells), a price alert (a price rule fired),
a follow-up (a thread reply, later, on how the tickers moved since a news alert), and a calendar
reminder (a policy date coming up)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from service.domain.quotes import Quote
from service.domain.reactions import Reaction
from service.domain.scoring import DIRECTIONS, Assessment, Direction, Source

#: Bumped when the payload's shape changes, so old rows can still be read.
#: 2 added `quotes`: each shown ticker's price when the alert was raised.
#: 3 added `shown` and `more` (the tickers the message names), `story` (the story's sources so
#: far), `adds` (what a later report adds to its story) and `broadcast`.
PAYLOAD_VERSION = 3
READABLE_VERSIONS = (1, 2, 3)


@dataclass(frozen=True)
class StoryNote:
    """The story an alert tells, as its message shows it: who carried it, how urgent it is now."""

    id: int
    #: The feeds that carried it so far, first first.
    sources: tuple[str, ...] = ()
    reports: int = 1
    #: The story's severity when it is above the report's own (an official confirmation).
    severity: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "sources": list(self.sources), "reports": self.reports, "severity": self.severity}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StoryNote:
        return cls(
            id=int(data["id"]),
            sources=tuple(str(s) for s in data.get("sources") or ()),
            reports=int(data.get("reports") or 1),
            severity=data.get("severity"),
        )


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
    #: The tickers the message names, in order; None in payloads older than version 3 (then the
    #: message picks from the impacts itself).
    shown: tuple[str, ...] | None = None
    #: How many more tickers the rules move than the message names.
    more: int = 0
    story: StoryNote | None = None
    #: For a later report replying in its story's thread: what it adds ("official source",
    #: "severity critical", "tickers UUUU"). Empty for a story's first alert.
    adds: tuple[str, ...] = ()
    #: Post a thread reply to the channel too (an official confirmation of a press story).
    broadcast: bool = False

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
            "shown": list(self.shown) if self.shown is not None else None,
            "more": self.more,
            "story": self.story.to_dict() if self.story is not None else None,
            "adds": list(self.adds),
            "broadcast": self.broadcast,
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
        shown = data.get("shown")
        story = data.get("story")
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
            shown=tuple(str(t) for t in shown) if shown is not None else None,
            more=int(data.get("more") or 0),
            story=StoryNote.from_dict(story) if story else None,
            adds=tuple(str(x) for x in data.get("adds") or ()),
            broadcast=bool(data.get("broadcast", False)),
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
    """A thread reply on how a news alert's tickers moved since, once their market has traded
    `minutes` minutes after the alert (one reply per such instant: tickers that trade together
    share it)."""

    article_id: int | None
    title: str
    alert_at: datetime
    minutes: int
    #: The tickers it covers, with the direction the rules expected, in the alert's order.
    tickers: tuple[tuple[str, Direction], ...]
    #: Worked out from the bars when the reply is due; never stored.
    reactions: tuple[Reaction, ...] = ()
    #: When the tickers' market had traded `minutes` minutes since the alert; None in payloads
    #: of version 1, which counted wall-clock minutes.
    due: datetime | None = None

    @property
    def due_at(self) -> datetime:
        return self.due if self.due is not None else self.alert_at + timedelta(minutes=self.minutes)

    @property
    def in_trading_time(self) -> bool:
        return self.due is not None

    def to_payload(self) -> dict[str, Any]:
        """A JSON-ready dict for the outbox row: what to measure, not the numbers."""
        return {
            "v": 2,
            "article_id": self.article_id,
            "title": self.title,
            "alert_at": _iso(self.alert_at),
            "minutes": self.minutes,
            "due": _iso(self.due),
            "tickers": [[ticker, direction] for ticker, direction in self.tickers],
        }

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> FollowUp:
        """Read a payload written by `to_payload` (ValueError if it is not one)."""
        if data.get("v") not in (1, 2):
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
            due=_instant_or_none(data.get("due")),
        )


@dataclass(frozen=True)
class Reminder:
    """A calendar date coming up (rules/calendar.yaml), as its reminder tells it: the entry's own
    words, and how many days were left when the reminder fell due."""

    deadline_id: str
    #: Which reminder: "7d", "1d" or "0d" (days before the date).
    slot: str
    title: str
    date: date
    #: The local time of the event, when the calendar gives one.
    time: time | None
    #: The IANA zone `date` and `time` are in.
    timezone: str
    days_left: int
    ends: str | None = None
    starts: str | None = None
    source: str = ""
    link: str | None = None
    #: (watchlist group or ticker, direction) as the calendar lists them.
    moves: tuple[tuple[str, Direction], ...] = ()
    event_types: tuple[str, ...] = ()

    def to_payload(self) -> dict[str, Any]:
        """A JSON-ready dict for the outbox row."""
        return {
            "v": 1,
            "deadline_id": self.deadline_id,
            "slot": self.slot,
            "title": self.title,
            "date": self.date.isoformat(),
            "time": self.time.strftime("%H:%M") if self.time is not None else None,
            "timezone": self.timezone,
            "days_left": self.days_left,
            "ends": self.ends,
            "starts": self.starts,
            "source": self.source,
            "link": self.link,
            "moves": [[name, direction] for name, direction in self.moves],
            "event_types": list(self.event_types),
        }

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> Reminder:
        """Read a payload written by `to_payload` (ValueError if it is not one)."""
        if data.get("v") != 1:
            raise ValueError(f"unknown reminder payload version {data.get('v')!r}")
        moves = []
        for name, direction in data.get("moves") or ():
            if direction not in DIRECTIONS:
                raise ValueError(f"{name}: unknown direction {direction!r}")
            moves.append((str(name), direction))
        at = data.get("time")
        return cls(
            deadline_id=str(data["deadline_id"]),
            slot=str(data["slot"]),
            title=str(data.get("title") or ""),
            date=date.fromisoformat(data["date"]),
            time=time.fromisoformat(at) if at else None,
            timezone=str(data.get("timezone") or "UTC"),
            days_left=int(data["days_left"]),
            ends=data.get("ends"),
            starts=data.get("starts"),
            source=str(data.get("source") or ""),
            link=data.get("link"),
            moves=tuple(moves),
            event_types=tuple(str(e) for e in data.get("event_types") or ()),
        )


#: Everything the dispatcher delivers.
Notice = Alert | PriceAlert | FollowUp | Reminder
#: Outbox kinds. An "update" row holds the story's first alert as it should now read (its
#: sources, its severity): the dispatcher edits that message in place.
NEWS, UPDATE, PRICE, FOLLOWUP, REMINDER = "news", "update", "price", "followup", "reminder"


def notice_from_row(kind: str, payload: Mapping[str, Any]) -> Notice:
    """The notice an outbox row of `kind` holds (ValueError if the kind or payload is unknown)."""
    if kind in (NEWS, UPDATE):
        return Alert.from_payload(payload)
    if kind == PRICE:
        return PriceAlert.from_payload(payload)
    if kind == FOLLOWUP:
        return FollowUp.from_payload(payload)
    if kind == REMINDER:
        return Reminder.from_payload(payload)
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
