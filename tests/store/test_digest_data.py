"""The digest's market data read from the store, on SQLite and PostgreSQL: the day's alerts, the
stories they make, the watchlist table and the chart series."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlmodel import select

from service.bootstrap import make_market_data, open_runtime
from service.delivery.email import OutboxMailer, sender_address
from service.digest.content import Unavailable
from service.digest.schedule import Window
from service.domain.alerts import PriceAlert
from service.domain.scoring import Source
from service.pipeline.digest import DigestSetup, gather_digest
from service.pipeline.digest_data import StoredMarketData
from service.rules import load_ruleset
from service.store.db import session as open_session
from service.store.models import OutboxAlert, TickerState
from tests.conftest import SHIPPED_RULES
from tests.digest_data import recipient
from tests.digest_store import (
    FUNDING,
    GENEVA,
    GENEVA_RETOLD,
    HOSTILE,
    add_feed,
    store_article,
    store_daily_closes,
    store_intraday_closes,
)

UTC = dt.UTC
START = dt.datetime(2026, 11, 18, 12, 30, tzinfo=UTC)  # Wednesday 07:30 in New York
END = dt.datetime(2026, 11, 19, 12, 30, tzinfo=UTC)  # Thursday 07:30 in New York
WINDOW = Window(START, END)


@pytest.fixture(scope="module")
def ruleset():
    return load_ruleset(SHIPPED_RULES)


@pytest.fixture
def market(ruleset):
    return StoredMarketData(lambda: ruleset)


def test_the_alerts_are_those_scored_in_the_window(engine, market, ruleset):
    """Alerting articles scored in [start, end) count, whatever their feed says they were published."""
    hour = dt.timedelta(hours=1)
    with open_session(engine) as s:
        wire, blog = add_feed(s, "wire", "wire"), add_feed(s, "blog", "blog")
        # Published a week ago, seen today: today's alert.
        store_article(s, ruleset, wire, *GENEVA, fetched_at=START + hour, published=START - dt.timedelta(days=7))
        # Published today but seen before the window opened: yesterday's digest had it.
        store_article(s, ruleset, wire, *FUNDING, fetched_at=START - hour, published=START + hour)
        # Seen exactly at the start (in) and exactly at the end (the next digest's).
        store_article(s, ruleset, blog, *GENEVA_RETOLD, fetched_at=START)
        store_article(s, ruleset, blog, *HOSTILE, fetched_at=END)
        # Scored in the window but not an alert.
        quiet = store_article(s, ruleset, wire, "Magnet school wins robotics prize", "Pupils built a robot.", fetched_at=START + hour)
        s.commit()
    assert not quiet.alert
    with open_session(engine) as s:
        alerts = market.alerts(s, WINDOW)
    assert [(a.title, a.source, a.raised_at) for a in alerts] == [
        (GENEVA_RETOLD[0], "blog", START),
        (GENEVA[0], "wire", START + hour),
    ]
    geneva = alerts[1]
    assert geneva.published == START - dt.timedelta(days=7)
    # The headline's frame decides: the two governments agree a truce.
    assert geneva.assessment.event_types == ("truce",)
    assert geneva.score == ruleset.assess(*GENEVA, Source("wire", "wire", 0.9)).score
    assert geneva.named == {"country:China", "country:United States"}


def price_alert(key: str, channel: str, created_at: dt.datetime, payload: dict) -> OutboxAlert:
    return OutboxAlert(key=f"{key}:{channel}", kind=key.split(":")[0], channel=channel, payload=payload, created_at=created_at)


def test_price_alerts_from_the_outbox_appear_once_each(engine, market):
    """A price alert routed to two channels is one alert; news rows and unreadable payloads are not."""
    at = START + dt.timedelta(hours=2)
    move = PriceAlert(
        rule_id="mp-drop",
        description="MP falls fast",
        severity="high",
        check="move",
        ticker="MP",
        session=at.date(),
        reason="-6.10% within 1h",
        raised_at=at,
        change_pct=-6.1,
        start_price=60.0,
        start_at=at - dt.timedelta(hours=1),
        end_price=56.34,
        end_at=at,
        window_seconds=3600,
    ).to_payload()
    with open_session(engine) as s:
        s.add(price_alert("price:mp-drop:1", "#alerts", at, move))
        s.add(price_alert("price:mp-drop:1", "#prices", at, move))
        s.add(price_alert("price:usar-gap:2", "#alerts", at, {"v": 99, "title": "from a newer version"}))
        s.add(price_alert("price:mp-drop:0", "#alerts", START - dt.timedelta(minutes=1), move))
        s.commit()
    with open_session(engine) as s:
        alerts = market.alerts(s, WINDOW)
    assert [(a.title, a.source, a.raised_at, a.event_type, a.assessment.tickers) for a in alerts] == [
        ("MP down 6.1% within 1h", "prices", at, "price_move", ("MP",))
    ]
    (drop,) = alerts
    assert drop.assessment.impacts == {"MP": "bearish"} and drop.assessment.severity == "high"
    assert drop.summary == f"60.00 → 56.34, {at - dt.timedelta(hours=1):%H:%M} → {at:%H:%M} UTC"


def test_stored_alerts_become_ranked_stories_with_their_sources(engine, database_url, make_settings, ruleset):
    """Two outlets' write-ups of one event and a reprint are one story of three sources, ranked by score."""
    hour = dt.timedelta(hours=1)
    with open_session(engine) as s:
        wire, mining, aggregator = add_feed(s, "wire", "wire"), add_feed(s, "mining"), add_feed(s, "aggregator", "aggregator")
        store_article(s, ruleset, wire, *GENEVA, fetched_at=START + hour, published=START + hour, link="https://wire.example/geneva")
        store_article(s, ruleset, mining, *GENEVA_RETOLD, fetched_at=START + 2 * hour, published=START + 2 * hour)
        # The aggregator's copy of the wire story: same text, the outlet's name appended.
        store_article(s, ruleset, aggregator, GENEVA[0] + " - Wire", GENEVA[1], fetched_at=START + 3 * hour)
        store_article(s, ruleset, mining, *FUNDING, fetched_at=START + 4 * hour)
        store_article(s, ruleset, aggregator, *HOSTILE, fetched_at=START + 5 * hour)
        s.commit()
    settings = make_settings(database_url)
    reader = recipient(min_score=0, timezone="America/New_York", time="07:30")

    async def gather():
        async with open_runtime(settings) as rt:
            mailer, sender = OutboxMailer(settings.outbox_dir), sender_address(settings.digest_from)
            setup = DigestSetup([reader], [], mailer, sender, make_market_data(rt))
            return await gather_digest(rt, setup, reader, END.date(), now=END + hour)

    digest = asyncio.run(gather())
    assert not isinstance(digest.sections, Unavailable)
    shown = [(section.event_type, [(st.lead.title, st.sources) for st in section.stories]) for section in digest.sections]
    assert shown == [
        ("gov_funding", [(FUNDING[0], ("mining",))]),
        ("export_control_new", [(HOSTILE[0], ("aggregator",))]),
        ("truce", [(GENEVA[0], ("wire", "mining", "aggregator"))]),
    ]
    assert (digest.alert_count, digest.story_count) == (5, 3)


def test_the_watchlist_table_from_known_bars(engine, market):
    """Last close and 1- and 5-session changes come from daily bars; missing or old data says why."""
    until = END  # Thursday 07:30 in New York: Wednesday's close is the last
    sessions = [dt.date(2026, 11, d) for d in (10, 11, 12, 13, 16, 17, 18)]
    with open_session(engine) as s:
        store_daily_closes(s, "MP", dict(zip(sessions, (10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.5))), until)
        store_daily_closes(s, "USAR", dict(zip(sessions[:4], (5.0, 5.5, 6.0, 6.5))), until)
        store_daily_closes(s, "LYC.AX", {dt.date(2026, 11, 18): 14.2, dt.date(2026, 11, 19): 14.4}, until)
        lynas = s.exec(select(TickerState).where(TickerState.ticker == "LYC.AX")).one()
        lynas.stale_reason = "zero volume for 3 sessions (since 2026-11-17)"
        lynas.currency = "USD"  # whatever the suffix suggests, the stored listing's currency is shown
        s.add(
            TickerState(
                ticker="UUUU", exchange="US", currency="USD", consecutive_failures=3, last_error="HTTP 404: no such symbol"
            )
        )
        s.commit()
    followed = {"MP": "us_allied_producers", "USAR": "us_allied_producers", "LYC.AX": "us_allied_producers",
                "UUUU": "us_allied_producers", "NB": "us_allied_producers"}
    with open_session(engine) as s:
        rows, _ = market.prices(s, followed, until - dt.timedelta(days=5), until)
    by_ticker = {row.ticker: row for row in rows}
    assert [row.ticker for row in rows] == list(followed)
    mp = by_ticker["MP"]
    assert (mp.last_close, mp.last_close_on, mp.currency, mp.note) == (16.5, dt.date(2026, 11, 18), "USD", None)
    assert mp.change_1d == pytest.approx(16.5 / 15.0 - 1)
    assert mp.change_5d == pytest.approx(16.5 / 11.0 - 1)
    usar = by_ticker["USAR"]
    assert (usar.last_close, usar.change_1d, usar.change_5d) == (6.5, pytest.approx(6.5 / 6.0 - 1), None)
    assert usar.note == "last close 2026-11-13; no bar for 3 later sessions"
    lynas = by_ticker["LYC.AX"]
    assert (lynas.last_close, lynas.currency) == (14.4, "USD")
    assert lynas.note == "stale: zero volume for 3 sessions (since 2026-11-17)"
    assert (by_ticker["UUUU"].last_close, by_ticker["UUUU"].note) == (None, "no prices: HTTP 404: no such symbol")
    assert (by_ticker["NB"].last_close, by_ticker["NB"].note) == (None, "no prices stored yet")


def test_the_chart_series(engine, market):
    """Daily closes of the window (from the close before it), or intraday bars when no daily bar
    ended in it; nothing that was not final by the digest's time."""
    until = END
    since = until - dt.timedelta(days=5)  # Saturday 12:30 UTC
    sessions = [dt.date(2026, 11, d) for d in (12, 13, 16, 17, 18, 19)]
    open_ny = dt.datetime(2026, 11, 18, 14, 30, tzinfo=UTC)
    with open_session(engine) as s:
        store_daily_closes(s, "MP", dict(zip(sessions, (12.0, 13.0, 14.0, 15.0, 16.0, 99.0))), until)
        store_intraday_closes(s, "CRML", {open_ny + dt.timedelta(minutes=5 * i): 8.0 + i for i in range(4)}, until)
        s.commit()
    with open_session(engine) as s:
        followed = dict.fromkeys(("MP", "CRML", "NB"), "us_allied_producers")
        _, series = market.prices(s, followed, since, until)
    close = dt.time(21, 0)  # 16:00 in New York, in UTC
    assert [(p.at, p.close) for p in series["MP"]] == [
        (dt.datetime.combine(dt.date(2026, 11, d), close, UTC), c) for d, c in ((13, 13.0), (16, 14.0), (17, 15.0), (18, 16.0))
    ]
    assert [(p.at, p.close) for p in series["CRML"]] == [
        (open_ny + dt.timedelta(minutes=5 * (i + 1)), 8.0 + i) for i in range(4)
    ]
    assert "NB" not in series


def test_followed_tickers_come_from_the_rules_watchlists(ruleset):
    """Named groups give their tickers in watchlist order; none named means every group."""
    market = StoredMarketData(lambda: ruleset)
    followed = market.followed_tickers(["etf", "downstream_users"])
    assert followed == {"REMX": "etf", "F": "downstream_users", "GM": "downstream_users", "TSLA": "downstream_users",
                        "LMT": "downstream_users", "RTX": "downstream_users"}
    everything = market.followed_tickers([])
    assert len(everything) == len(ruleset.catalogue.tickers) and everything["600111.SS"] == "china_producers"
    with pytest.raises(LookupError, match="'etfs' is not in watchlists.yaml"):
        market.followed_tickers(["etfs"])
