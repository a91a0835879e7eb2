"""Price rules after the price cycle, on SQLite and PostgreSQL: one alert per move, combined rules,
prices on news alerts, and every bad input reported by ticker while the others keep working."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from service.alerts.queue import Enrichment, queue_alerts
from service.domain.markets import after_trading
from service.bootstrap import open_runtime
from service.domain.alerts import PriceAlert
from service.domain.scoring import Assessment, Source
from service.pipeline.prices import PriceFeed, run_price_cycle
from service.sources.prices.replay import ReplayPriceSource
from service.sources.prices.yahoo import YahooPriceSource
from service.store import migrate
from service.store.db import make_engine, session
from service.store.models import Article, Feed, OutboxAlert, TickerState
from service.store.prices import load_quotes
from tests import databases
from tests.fakes.yahoo_http import EMPTY, cold_yfinance, fake_yahoo  # noqa: F401  (cold_yfinance: fixture)
from tests.fakes.yahoo_http import daily_bars as yahoo_daily
from tests.fakes.yahoo_http import intraday_bars as yahoo_intraday
from tests.integration.test_price_cycle import HEADER, sessions_before
from tests.rulesets import write_rules

DAY = datetime(2025, 10, 9, tzinfo=UTC)  # a Thursday: New York trades 13:30-20:00 UTC, Sydney is shut
OPEN = DAY.replace(hour=13, minute=30)

WATCHLISTS = """\
context: [rare earth]
groups:
  producers:
    tickers:
      - {symbol: MP, name: MP Materials}
      - {symbol: USAR, name: USA Rare Earth}
      - {symbol: NB, name: NioCorp}
      - {symbol: UUUU, name: Energy Fuels}
      - {symbol: LYC.AX, name: Lynas}
      - {symbol: VOD.L, name: Vodafone}
  users:
    tickers:
      - {symbol: F, name: Ford}
default_impact:
  truce: {producers: bearish, users: bullish}
"""

NEWS_RULE = """\
rules:
  - id: truce-news
    description: A truce.
    match: {any: [truce]}
    event_types: [truce]
    severity: high
"""

PRICE_RULES = """\
rules:
  - id: swing
    kind: price
    description: A producer moved 5% or more within an hour.
    tickers: [producers]
    move: {at_least: 5%, within: 1h}
    severity: high
  - id: fall-after-truce
    kind: price
    description: After a truce, a producer fell 3% or more within 2 hours.
    tickers: [producers]
    after_news: {event_types: [truce], within: 2h}
    move: {at_least: 3%, direction: down}
    severity: high
"""

TICKERS = ["MP", "USAR", "NB", "UUUU", "LYC.AX", "VOD.L", "F"]


def daily(ticker: str, exchange: str = "US", close: float = 20.0, volumes=None) -> list[str]:
    days = sessions_before(exchange, DAY.date(), 25)
    volumes = volumes or [1_000_000] * len(days)
    return [f"{ticker},1d,{d.isoformat()},{close},{close},{close},{close},{v}" for d, v in zip(days, volumes)]


def five_minute(ticker: str, closes: list[float]) -> list[str]:
    """5-minute bars from the open, each opening at the previous close (the first at 20)."""
    lines, previous = [], 20.0
    for i, close in enumerate(closes):
        start = OPEN + timedelta(minutes=5 * i)
        low, high = min(previous, close), max(previous, close)
        lines.append(f"{ticker},5m,{start.isoformat()},{previous},{high},{low},{close},5000")
        previous = close
    return lines


#: Flat at 20 until 14:00, then 21.2 (+6%) from the 14:00 bar on: "swing" fires at 14:05.
JUMP = [20.0] * 6 + [21.2] * 30
#: Flat at 20 until 14:05, then 19.2 (-4%): "fall-after-truce" fires after a 14:05 truce alert.
FALL = [20.0] * 7 + [19.2] * 30


def write_replay(tmp_path, mp=JUMP) -> str:
    usar = five_minute("USAR", JUMP)
    usar[2] = usar[2].replace(",20.0,5000", ",,5000")  # a NaN close
    usar.append(usar[4])  # a duplicated timestamp
    usar[5], usar[6] = usar[6], usar[5]  # out of order
    lines = [
        *daily("MP"),
        *five_minute("MP", mp),
        *daily("USAR"),
        *usar,
        *daily("NB", volumes=[1_000_000] * 22 + [0, 0, 0]),  # suspended: zero volume for 3 sessions
        *daily("LYC.AX", "ASX", close=15.0),
        *daily("F", close=11.0),  # daily bars only: nothing since this morning's open
    ]
    path = tmp_path / "replay.csv"
    path.write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def prices(tmp_path, make_settings, database_url):
    """Settings with the test's watchlists and rules, a replay file, and the migrated database."""
    rules = write_rules(tmp_path / "price-rules", {"news.yaml": NEWS_RULE, "prices.yaml": PRICE_RULES}, watchlists=WATCHLISTS)

    def make(mp=JUMP, **overrides):
        path = write_replay(tmp_path, mp)
        settings = make_settings(database_url, price_source="replay", price_replay_file=path, rules_dir=rules, **overrides)
        databases.upgrade(database_url)
        return settings

    return make


def cycle(settings, now, tickers=TICKERS):
    async def go():
        async with open_runtime(settings) as rt:
            rt.clock = lambda: now
            rt.rng = random.Random(3)
            if settings.price_source == "replay":
                source = ReplayPriceSource(settings.price_replay_file)
            else:
                source = YahooPriceSource()  # its cache stays where the cold_yfinance fixture put it
            report = await run_price_cycle(rt, PriceFeed(source), tickers)
            return report, rt.outbox_wakeup.is_set()

    return asyncio.run(go())


def rows(settings, kind=None):
    engine = make_engine(settings.database_url)
    try:
        with session(engine) as s:
            query = select(OutboxAlert).order_by(OutboxAlert.id)
            if kind is not None:
                query = query.where(OutboxAlert.kind == kind)
            return list(s.exec(query))
    finally:
        engine.dispose()


def states(settings):
    engine = make_engine(settings.database_url)
    try:
        with session(engine) as s:
            return {state.ticker: state for state in s.exec(select(TickerState))}
    finally:
        engine.dispose()


def add_news(settings, fetched_at: datetime, event_types=("truce",), title="US and China agree a truce") -> int:
    """An article that raised a news alert at `fetched_at`, as the poll would have stored it."""
    engine = make_engine(settings.database_url)
    try:
        with session(engine) as s:
            feed = s.exec(select(Feed).where(Feed.name == "wire")).first() or Feed(name="wire", url="https://wire.example/f")
            s.add(feed)
            s.flush()
            article = Article(
                feed_id=feed.id, guid=title, title=title, link="https://wire.example/truce", content_hash="h",
                fetched_at=fetched_at, alert=True, event_types=list(event_types),
            )
            s.add(article)
            s.commit()
            return article.id
    finally:
        engine.dispose()


def test_a_replayed_move_alerts_once_however_often_the_cycle_runs(prices):
    """The cycle judges the rules on what it stored: MP's and USAR's moves alert once each, run after run."""
    settings = prices()
    first, woke = cycle(settings, OPEN + timedelta(minutes=50))
    again, woke_again = cycle(settings, OPEN + timedelta(minutes=52))

    assert [(f.ticker, f.rule, f.queued) for f in first.fired] == [("MP", "swing", True), ("USAR", "swing", True)]
    assert [(f.ticker, f.rule, f.queued) for f in again.fired] == [("MP", "swing", False), ("USAR", "swing", False)]
    assert woke and not woke_again  # the dispatcher is woken for new rows only
    alerts = rows(settings, "price")
    assert [a.key for a in alerts] == [
        "price:swing:MP:2025-10-09:#rare-earth-alerts",
        "price:swing:USAR:2025-10-09:#rare-earth-alerts",
    ]
    mp = PriceAlert.from_payload(alerts[0].payload)
    assert (mp.check, mp.reason, mp.start_price, mp.end_price) == ("move", "+6.00% over 1h", 20.0, 21.2)
    assert (mp.quote.price, mp.quote.currency, round(mp.quote.change_pct, 2), mp.quote.live) == (21.2, "USD", 6.0, True)
    # Price alerts on one ticker share a thread; each ticker starts its own.
    assert alerts[0].throttle_key == "price|MP" and alerts[0].parent_id is None and alerts[1].parent_id is None


def test_bad_input_is_reported_by_ticker_and_never_reads_as_calm(prices):
    """NaN, duplicated and unordered bars cost USAR nothing but a warning; a suspended, a missing and
    an unknown ticker are each reported with their reason; a shut market is not a problem."""
    settings = prices()
    report, _ = cycle(settings, OPEN + timedelta(minutes=50))
    by_ticker = {o.ticker: o for o in report.outcomes}
    assert by_ticker["USAR"].warnings == [
        "dropped 1 bar with missing prices: 2025-10-09 13:40Z (close)",
        "5m bars arrived out of order; sorted by time",
        "1 duplicated timestamp; kept the last bar of each",
    ]
    assert by_ticker["UUUU"].status == "failed" and by_ticker["VOD.L"].status == "failed"
    found = states(settings)
    assert found["MP"].rules_firing == "swing (+6.00% over 1h)" and found["MP"].rules_blocked is None
    assert found["USAR"].rules_firing == "swing (+6.00% over 1h)"
    assert found["NB"].rules_blocked == "all 2 rules: stale: zero volume for 3 sessions (since 2025-10-06)"
    assert found["UUUU"].rules_blocked == "all 2 rules: stale: no bars for 3 sessions (no daily bars stored)"
    assert found["NB"].rules_firing is None and found["UUUU"].rules_firing is None
    assert found["LYC.AX"].rules_blocked is None and found["LYC.AX"].rules_checked_at is not None  # Sydney is shut
    assert found["VOD.L"].rules_checked_at is None and found["VOD.L"].last_error.startswith("unknown exchange suffix")
    assert found["F"].rules_checked_at is None  # no price rule watches it
    assert {a.payload["ticker"] for a in rows(settings, "price")} == {"MP", "USAR"}


def test_a_rule_whose_bars_stop_coming_says_it_cannot_judge(prices):
    """Later in the session with no new bars (the source failing), the move rule is blocked with the gap named."""
    settings = prices()
    cycle(settings, OPEN + timedelta(minutes=50))
    settings.price_replay_file.write_text(HEADER, encoding="utf-8")  # the source fails from now on
    report, _ = cycle(settings, OPEN + timedelta(hours=3))
    assert report.outcome("MP").status == "failed"
    assert states(settings)["MP"].rules_blocked == (
        "swing: no bar ended between 2025-10-09 15:30Z and 2025-10-09 16:30Z"
    )


@pytest.mark.parametrize(
    ("news_at", "expected"),
    [
        (OPEN + timedelta(minutes=35), [("MP", "fall-after-truce")]),  # 14:05: the fall at 14:10 is within 2h
        (OPEN - timedelta(minutes=70), []),  # 12:20: the window ended at 14:20; the fall came too late
        (OPEN - timedelta(hours=3), []),  # long before: not a recent alert any more
    ],
)
def test_a_combined_rule_needs_the_news_then_the_move(prices, news_at, expected):
    """A truce alert, then MP down 4% within 2 hours: one alert naming the news; outside the window, none."""
    settings = prices(mp=FALL)
    article = add_news(settings, news_at)
    report, _ = cycle(settings, OPEN + timedelta(minutes=70))
    assert [(f.ticker, f.rule) for f in report.fired if f.rule == "fall-after-truce"] == expected
    alerts = [PriceAlert.from_payload(a.payload) for a in rows(settings, "price") if a.payload["rule_id"] == "fall-after-truce"]
    assert len(alerts) == len(expected)
    if expected:
        (alert,) = alerts
        assert alert.news.article_id == article and alert.news.title == "US and China agree a truce"
        assert (alert.start_price, alert.end_price, alert.reason) == (20.0, 19.2, "-4.00% after 2025-10-09 14:05Z")


def test_a_news_alert_carries_its_tickers_prices_as_stored(prices):
    """Queued after the cycle, the alert's payload holds each shown ticker's price and day's change, or why none."""
    settings = prices()
    cycle(settings, OPEN + timedelta(minutes=50))
    alert_at = OPEN + timedelta(minutes=51)
    article = add_news(settings, alert_at)
    verdict = Assessment(
        event_types=("truce",), score=80, severity="high", alert=True, rules=("truce-news",), matched=("truce",),
        impacts={t: "bearish" for t in ("MP", "NB", "UUUU", "LYC.AX", "VOD.L")} | {"F": "bullish", "GM": "bullish"},
    )
    engine = make_engine(settings.database_url)
    with session(engine) as s:
        queue_alerts(
            s, article_id=article, title="Truce", link=None, source=Source("wire"), published=None, assessment=verdict,
            default_channel="#desk", now=alert_at, enrichment=Enrichment(followup_minutes=(15, 60)),
        )
        s.commit()
    engine.dispose()
    (news,) = rows(settings, "news")
    quotes = news.payload["quotes"]
    assert news.payload["v"] == 3
    assert quotes["MP"] == {
        "currency": "USD", "price": 21.2, "at": "2025-10-09T14:20:00+00:00", "session": "2025-10-09",
        "change_pct": pytest.approx(6.0), "live": True,
    }
    assert quotes["LYC.AX"]["price"] == 15.0 and quotes["LYC.AX"]["live"] is False  # Sydney's last close
    assert quotes["F"]["price"] == 11.0 and quotes["F"]["session"] == "2025-10-08"  # no bar yet today
    assert quotes["NB"] == {"currency": "USD", "missing": "stale: zero volume for 3 sessions (since 2025-10-06)"}
    assert quotes["UUUU"] == {"currency": "USD", "missing": "no bars stored"}
    assert quotes["VOD.L"]["missing"].startswith("unknown exchange suffix '.L'")
    # Six tickers are named, GM (seventh in watchlist order, named by nobody) is counted.
    assert news.payload["shown"] == ["MP", "NB", "UUUU", "LYC.AX", "VOD.L", "F"] and news.payload["more"] == 1
    assert "GM" not in quotes
    # Follow-ups once each ticker's market has traded 15 and 60 minutes: New York now, Sydney at
    # its next session; none for a ticker on an exchange we do not know.
    follow_ups = rows(settings, "followup")
    due = sorted((f.next_attempt_at, f.payload["minutes"], sorted(t for t, _ in f.payload["tickers"])) for f in follow_ups)
    us = ["F", "MP", "NB", "UUUU"]
    assert due == sorted([
        (alert_at + timedelta(minutes=15), 15, us),
        (alert_at + timedelta(minutes=60), 60, us),
        (after_trading("ASX", alert_at, 15), 15, ["LYC.AX"]),
        (after_trading("ASX", alert_at, 60), 60, ["LYC.AX"]),
    ])
    assert all(f.parent_id == news.id for f in follow_ups)


def test_a_move_polled_from_yahoo_fires_and_a_ticker_without_data_cannot_judge(tmp_path, make_settings, database_url, cold_yfinance):  # noqa: F811
    """Through yfinance's own HTTP path (offline): MP's jump alerts; USAR, for which Yahoo has nothing, never reads as calm."""
    rules = write_rules(tmp_path / "price-rules", {"news.yaml": NEWS_RULE, "prices.yaml": PRICE_RULES}, watchlists=WATCHLISTS)
    settings = make_settings(database_url, rules_dir=rules)
    migrate.upgrade(database_url)
    friday = date(2026, 3, 6)  # New York opened at 14:30 UTC (EST)
    days = sessions_before("US", friday, 25)
    with fake_yahoo() as yahoo:
        yahoo.ok("MP", **{"1d": yahoo_daily("MP", days, 20.0, step=0.0), "5m": yahoo_intraday("MP", friday, [20.1] * 6 + [21.5] * 6)})
        yahoo.behave("USAR", EMPTY)
        report, _ = cycle(settings, datetime(2026, 3, 6, 15, 30, tzinfo=UTC), ["MP", "USAR"])
    assert [(f.ticker, f.rule, f.queued) for f in report.fired] == [("MP", "swing", True)]
    assert report.outcome("USAR").status == "failed" and "no price data" in report.outcome("USAR").error
    found = states(settings)
    assert found["USAR"].rules_firing is None and found["USAR"].rules_blocked.startswith("all 2 rules: stale: no bars for")
    (alert,) = [PriceAlert.from_payload(a.payload) for a in rows(settings, "price")]
    assert (alert.start_price, alert.end_price, alert.quote.currency) == (20.1, 21.5, "USD")


def test_an_unusable_replay_file_blocks_every_rule_and_every_price(prices):
    """A CSV missing a column fails each ticker with file:line; no rule fires on nothing, and alerts say there is no price."""
    settings = prices()
    settings.price_replay_file.write_text(HEADER.replace(",volume", "") + "MP,1d,2025-10-08,1,1,1,1\n", encoding="utf-8")
    report, _ = cycle(settings, OPEN + timedelta(minutes=50))
    assert {o.status for o in report.outcomes} == {"failed"} and report.fired == []
    assert report.outcome("MP").error.endswith(":1: missing column 'volume'; the header must name ticker,interval,timestamp,open,high,low,close,volume")
    found = states(settings)
    assert found["MP"].rules_blocked == "all 2 rules: stale: no bars for 3 sessions (no daily bars stored)"
    engine = make_engine(settings.database_url)
    try:
        with session(engine) as s:
            quotes = load_quotes(s, ["MP", "LYC.AX"], OPEN + timedelta(minutes=51), stale_sessions=3)
    finally:
        engine.dispose()
    assert [q.missing for q in quotes.values()] == ["no bars stored", "no bars stored"]
