"""Hand-built alerts and prices for digest tests, and a market-data port that serves them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from service.digest.content import DailyClose, DigestAlert, PricePoint, TickerMove
from service.digest.recipients import Recipient
from service.digest.schedule import Window
from service.domain.scoring import Assessment

UTC = dt.UTC
HOSTILE = "<script>alert(1)</script> <!channel> MP Materials & Lynas <b>soar</b>"


def recipient(**changes) -> Recipient:
    values = {
        "address": "trader@desk.example",
        "name": "Jane Trader",
        "time": "07:30",
        "timezone": "America/New_York",
        "min_score": 30,
    }
    values.update(changes)
    return Recipient(**values)


def alert(
    title: str,
    *,
    score: int,
    event: str,
    at: dt.datetime,
    source: str = "mining-wire",
    link: str | None = None,
    summary: str = "",
    impacts: Mapping[str, str] | None = None,
) -> DigestAlert:
    return DigestAlert(
        title=title,
        summary=summary,
        link=link,
        canonical_link=link,
        source=source,
        published=at - dt.timedelta(minutes=5),
        raised_at=at,
        assessment=Assessment(
            event_types=(event,),
            score=score,
            severity="high" if score >= 70 else "medium",
            alert=True,
            rules=("r1",),
            matched=("rare earth",),
            impacts=dict(impacts or {}),
        ),
    )


def day_of_alerts(end: dt.datetime) -> list[DigestAlert]:
    """A morning's alerts: one story told by two feeds, a hostile headline, a low score."""
    hour = dt.timedelta(hours=1)
    pause = "China suspends rare earth export curbs for a year"
    summary = "The commerce ministry said the October measures are paused until November 2026."
    return [
        alert(pause, score=88, event="export_control_eased", at=end - 5 * hour, source="bis-rules",
              link="https://news.example/pause", summary=summary, impacts={"MP": "bearish", "GM": "bullish"}),
        alert(pause + " - Markets Aggregator", score=70, event="truce", at=end - 4 * hour,
              source="markets-aggregator", link="https://agg.example/x", summary=summary, impacts={"MP": "bearish"}),
        alert(HOSTILE, score=75, event="gov_funding", at=end - 3 * hour, source="mining-wire",
              link="javascript:alert(document.cookie)", summary="Pentagon <img src=x onerror=alert(2)> stake",
              impacts={"MP": "bullish", "LYC.AX": "bullish"}),
        alert("Section 232 probe into processed critical minerals", score=65, event="tariff_up",
              at=end - 2 * hour, source="whitehouse", link="https://wh.example/232"),
        alert("Magnet school wins robotics prize", score=10, event="corporate", at=end - hour),
    ]


def closes(ticker: str, start: float, step: float, end_day: dt.date, sessions: int = 6) -> list[DailyClose]:
    days = []
    day = end_day
    while len(days) < sessions:
        if day.weekday() < 5:
            days.append(day)
        day -= dt.timedelta(days=1)
    return [DailyClose(d, start + step * i) for i, d in enumerate(reversed(days))]


def ticker_moves(end_day: dt.date) -> list[TickerMove]:
    return [
        TickerMove.from_closes("MP", "us_allied_producers", closes("MP", 60.0, -1.5, end_day), currency="USD"),
        TickerMove.from_closes("LYC.AX", "us_allied_producers", closes("LYC", 14.0, 0.3, end_day), currency="AUD"),
        TickerMove("ARU.AX", "us_allied_producers", "AUD", None, None, None, None, note="no bar since 2026-11-18"),
    ]


def price_series(end: dt.datetime) -> dict[str, list[PricePoint]]:
    points = {}
    for ticker, start, step in (("MP", 60.0, -0.4), ("LYC.AX", 14.0, 0.05)):
        points[ticker] = [PricePoint(end - dt.timedelta(hours=6 * (20 - i)), start + step * i) for i in range(21)]
    return points


class HandBuiltMarket:
    """The market-data port serving fixed alerts and prices (the real queries are phase B)."""

    def __init__(self, now: dt.datetime, *, fail: str | None = None):
        self.now = now
        self.fail = fail
        self.windows: list[Window] = []

    def followed_tickers(self, watchlists: Sequence[str]) -> Mapping[str, str]:
        return {"MP": "us_allied_producers", "LYC.AX": "us_allied_producers", "ARU.AX": "us_allied_producers"}

    def alerts(self, session, window: Window) -> Sequence[DigestAlert]:
        self.windows.append(window)
        if self.fail == "alerts":
            raise ConnectionError("alert store unreachable")
        return day_of_alerts(window.end)

    def prices(self, session, tickers, since, until):
        if self.fail == "prices":
            raise TimeoutError("price store timed out")
        return ticker_moves(until.date()), price_series(until)
