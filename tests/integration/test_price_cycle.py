"""The price cycle end to end on real databases: bad input per ticker, back-off, pauses, the stream."""

import asyncio
import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlmodel import func, select

from service.bootstrap import open_runtime
from service.domain.markets import session_on
from service.pipeline.prices import PriceFeed, follow_on_stream, run_price_cycle
from service.pipeline.scheduler import add_price_job
from service.sources.prices.listings import listing_for
from service.sources.prices.replay import ReplayPriceSource
from service.sources.prices.stream import YahooStream
from service.sources.prices.yahoo import YahooPriceSource
from service.store import migrate
from service.store.db import make_engine, session
from service.store.models import PriceBar, TickerState
from tests.fakes.yahoo_http import RATE_LIMITED, cold_yfinance, daily_bars, fake_yahoo  # noqa: F401
from tests.fakes.yahoo_stream import FakeYahooStreamer

NOW = datetime(2025, 10, 9, 15, 0, tzinfo=UTC)  # Thursday: New York trading since 13:30 UTC; Asia closed
HEADER = "ticker,interval,timestamp,open,high,low,close,volume\n"


def sessions_before(exchange: str, day: date, count: int) -> list[date]:
    found = []
    while len(found) < count:
        day -= timedelta(days=1)
        if session_on(exchange, day) is not None:
            found.append(day)
    return found[::-1]


def daily_lines(
    ticker: str, exchange: str, count: int = 25, volume: int = 1_000_000, zero_last: int = 0
) -> list[str]:
    days = sessions_before(exchange, NOW.date(), count)
    lines = []
    for i, day in enumerate(days):
        v = 0 if i >= count - zero_last else volume
        lines.append(f"{ticker},1d,{day.isoformat()},10,10.5,9.5,{10 + i * 0.01:.2f},{v}")
    return lines


def intraday_lines(ticker: str, count: int = 18) -> list[str]:
    start = datetime(2025, 10, 9, 13, 30, tzinfo=UTC)
    return [
        f"{ticker},5m,{(start + timedelta(minutes=5 * i)).isoformat()},20,20.5,19.5,{20 + i * 0.05:.2f},5000"
        for i in range(count)
    ]


def write_replay(tmp_path) -> str:
    usar = intraday_lines("USAR")
    usar[3] = usar[3].replace(",20.15,5000", ",,5000")  # a NaN close
    usar.append(usar[5])  # a duplicated timestamp
    usar[6], usar[7] = usar[7], usar[6]  # out of order
    lines = [
        *daily_lines("MP", "US"),
        *intraday_lines("MP"),
        *daily_lines("USAR", "US"),
        *usar,
        *daily_lines("NB", "US", zero_last=3),  # suspended: flat bars with zero volume
        *daily_lines("LYC.AX", "ASX"),
        "CRML,1d,2025-10-08,10,11,9",  # every line of CRML is broken
        "CRML,1d,yesterday,10,11,9,10,100",
    ]
    path = tmp_path / "replay.csv"
    path.write_text("# test prices\n" + HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def cycle(settings, feed, tickers, now):
    async def go():
        async with open_runtime(settings) as rt:
            rt.clock = lambda: now
            rt.rng = random.Random(7)
            return await run_price_cycle(rt, feed, tickers)

    return asyncio.run(go())


def stored(database_url):
    engine = make_engine(database_url)
    try:
        with session(engine) as s:
            counts = dict(s.exec(select(PriceBar.ticker, func.count()).group_by(PriceBar.ticker)).all())
            states = {state.ticker: state for state in s.exec(select(TickerState))}
        return counts, states
    finally:
        engine.dispose()


TICKERS = ["MP", "USAR", "NB", "LYC.AX", "UUUU", "VOD.L", "CRML"]


def test_each_bad_input_is_reported_by_ticker_while_the_others_work(tmp_path, make_settings, database_url):
    """Unknown, suspended, NaN, duplicated, out-of-order and unreadable input each get a reason by ticker."""
    path = write_replay(tmp_path)
    settings = make_settings(database_url, price_source="replay", price_replay_file=path)
    migrate.upgrade(database_url)
    report = cycle(settings, PriceFeed(ReplayPriceSource(path)), TICKERS, NOW)

    by_ticker = {o.ticker: o for o in report.outcomes}
    assert {t: o.status for t, o in by_ticker.items()} == {
        "MP": "ok",
        "USAR": "ok",
        "NB": "ok",
        "LYC.AX": "ok",
        "UUUU": "failed",
        "VOD.L": "failed",
        "CRML": "failed",
    }
    assert by_ticker["MP"].bars == 25 + 18 and by_ticker["MP"].warnings == []
    assert by_ticker["LYC.AX"].bars == 25  # Sydney is closed at 15:00 UTC: daily bars only
    assert by_ticker["USAR"].warnings == [
        "dropped 1 bar with missing prices: 2025-10-09 13:45Z (close)",
        "5m bars arrived out of order; sorted by time",
        "1 duplicated timestamp; kept the last bar of each",
    ]
    assert by_ticker["USAR"].bars == 25 + 17
    assert by_ticker["NB"].stale.startswith("zero volume for 3 sessions (since 2025-10-06)")
    assert by_ticker["UUUU"].error == f"UUUU is not in the replay file {path}"
    assert by_ticker["VOD.L"].error.startswith("unknown exchange suffix '.L' in VOD.L")
    assert by_ticker["CRML"].error == f"every line for CRML in {path} is unreadable"
    assert by_ticker["CRML"].warnings[0].startswith(f"{path}:")

    counts, states = stored(database_url)
    assert counts == {"MP": 43, "USAR": 42, "NB": 25, "LYC.AX": 25}
    assert (states["LYC.AX"].exchange, states["LYC.AX"].currency) == ("ASX", "AUD")
    assert states["MP"].last_bar_interval == "5m" and states["MP"].last_price == pytest.approx(20.85)
    assert states["MP"].daily_checked_at == NOW and states["MP"].consecutive_failures == 0
    assert states["NB"].stale_reason == "zero volume for 3 sessions (since 2025-10-06)"
    assert states["USAR"].data_warning.startswith("dropped 1 bar with missing prices")
    assert states["VOD.L"].exchange is None and states["VOD.L"].consecutive_failures == 1
    assert states["UUUU"].last_error == f"UUUU is not in the replay file {path}"
    assert states["UUUU"].next_attempt_at > NOW


def test_failing_tickers_back_off_and_redelivered_bars_update(tmp_path, make_settings, database_url):
    """A failed ticker waits for its back-off; re-delivered bars replace the stored ones, not duplicate them."""
    path = write_replay(tmp_path)
    settings = make_settings(database_url, price_source="replay", price_replay_file=path)
    migrate.upgrade(database_url)
    feed = PriceFeed(ReplayPriceSource(path))
    cycle(settings, feed, ["MP", "UUUU"], NOW)

    path.write_text(
        path.read_text().replace(
            "MP,5m,2025-10-09T13:30:00+00:00,20,20.5,19.5,20.00,5000",
            "MP,5m,2025-10-09T13:30:00+00:00,20,20.5,19.5,20.01,7000",
        )
    )
    report = cycle(settings, feed, ["MP", "UUUU"], NOW + timedelta(minutes=1))
    assert report.outcome("UUUU").status == "waiting"
    assert report.outcome("UUUU").error.startswith("retrying at 2025-10-09 15:0")
    assert report.outcome("MP").status == "ok" and report.outcome("MP").bars == 18  # today's 5m bars again

    counts, states = stored(database_url)
    assert counts["MP"] == 43
    engine = make_engine(database_url)
    with session(engine) as s:
        first = s.exec(
            select(PriceBar)
            .where(PriceBar.ticker == "MP", PriceBar.interval == "5m")
            .order_by(PriceBar.timestamp)
        ).first()
    engine.dispose()
    assert (first.close, first.volume) == (20.01, 7000)
    assert states["UUUU"].consecutive_failures == 1


def test_an_unusable_replay_file_fails_every_ticker_with_its_location(tmp_path, make_settings, sqlite_url):
    """A replay file missing a column fails each ticker with file:line, and nothing else breaks."""
    path = tmp_path / "replay.csv"
    path.write_text("# comment\nticker,interval,timestamp,open,high,low,close\nMP,1d,2025-10-08,1,1,1,1\n")
    settings = make_settings(sqlite_url, price_source="replay", price_replay_file=path)
    migrate.upgrade(sqlite_url)
    report = cycle(settings, PriceFeed(ReplayPriceSource(path)), ["MP", "LYC.AX"], NOW)
    assert [o.status for o in report.outcomes] == ["failed", "failed"]
    assert report.outcome("MP").error == (
        f"replay file unusable: {path}:2: missing column 'volume'; "
        "the header must name ticker,interval,timestamp,open,high,low,close,volume"
    )


def test_rate_limit_pauses_the_whole_source(tmp_path, make_settings, sqlite_url, cold_yfinance):  # noqa: F811
    """After a 429 the cycle pauses Yahoo for every ticker and sends nothing until the pause ends."""
    settings = make_settings(sqlite_url)
    migrate.upgrade(sqlite_url)
    days = sessions_before("US", NOW.date(), 5)
    with fake_yahoo() as yahoo:
        yahoo.behave("MP", RATE_LIMITED)
        yahoo.ok("USAR", **{"1d": daily_bars("USAR", days)})
        feed = PriceFeed(YahooPriceSource())
        first = cycle(
            settings, feed, ["MP", "USAR"], datetime(2025, 10, 11, 12, tzinfo=UTC)
        )  # Saturday: daily only
        assert first.rate_limited is True
        assert first.outcome("MP").status == "failed"
        assert first.outcome("MP").error.startswith("Yahoo rate limit (HTTP 429)")
        assert first.outcome("USAR").status == "ok"
        paused_until = feed.paused_until
        assert paused_until is not None

        yahoo.calls.clear()
        second = cycle(settings, feed, ["MP", "USAR"], datetime(2025, 10, 11, 12, 1, tzinfo=UTC))
        assert [o.status for o in second.outcomes] == ["waiting", "waiting"]
        assert "paused after a rate limit" in second.outcome("MP").error
        assert yahoo.calls == []

        yahoo.ok("MP", **{"1d": daily_bars("MP", days)})
        third = cycle(settings, feed, ["MP", "USAR"], paused_until + timedelta(seconds=1))
        assert third.outcome("MP").status == "ok"
        asyncio.run(feed.source.aclose())
    _, states = stored(sqlite_url)
    assert states["MP"].consecutive_failures == 0 and states["MP"].last_error.startswith("Yahoo rate limit")


def test_polling_covers_the_stream_while_it_is_down(tmp_path, make_settings, sqlite_url):
    """While the stream delivers MP its bars are stored and MP is not polled; a silent ticker and,
    after a drop, MP too are polled again."""
    path = write_replay(tmp_path)
    settings = make_settings(sqlite_url, price_source="replay", price_replay_file=path)
    migrate.upgrade(sqlite_url)

    async def scenario():
        async with FakeYahooStreamer() as server, open_runtime(settings) as rt:
            rt.clock = lambda: NOW
            stream = YahooStream([listing_for("MP"), listing_for("USAR")], url=server.url, first_delay=5.0)
            feed = PriceFeed(ReplayPriceSource(path), stream=stream)
            with session(rt.engine) as s:  # daily bars are up to date: only intraday matters here
                for ticker in ("MP", "USAR"):
                    s.add(TickerState(ticker=ticker, exchange="US", currency="USD", daily_checked_at=NOW))
                s.commit()
            async with stream:
                await server.wait_for_subscribers(["MP", "USAR"])
                tick_at = int((NOW - timedelta(minutes=3)).timestamp() * 1000)
                await server.send_tick(id="MP", price=21.5, time=tick_at, day_volume=100)
                while not stream.bars._building:
                    await asyncio.sleep(0.01)
                live = await run_price_cycle(rt, feed, ["MP", "USAR"])
                await server.drop_all(abrupt=True)
                while stream.is_live:
                    await asyncio.sleep(0.01)
                down = await run_price_cycle(rt, feed, ["MP", "USAR"])
            return live, down

    live, down = asyncio.run(asyncio.wait_for(scenario(), 20))
    assert live.stream_live is True
    assert live.outcome("MP").bars == 1  # the stream's minute bar only
    assert live.outcome("USAR").bars == 17  # subscribed but silent: still polled
    assert down.stream_live is False and down.outcome("MP").bars == 18
    engine = make_engine(sqlite_url)
    with session(engine) as s:
        sources = set(s.exec(select(PriceBar.ticker, PriceBar.interval, PriceBar.source).distinct()).all())
    engine.dispose()
    assert ("MP", "1m", "stream") in sources and ("MP", "5m", "replay") in sources
    assert ("USAR", "5m", "replay") in sources


def test_the_scheduler_job_runs_the_cycle(tmp_path, make_settings, sqlite_url):
    """The scheduler job runs the price cycle on its own and stores bars."""
    path = write_replay(tmp_path)
    settings = make_settings(sqlite_url, price_source="replay", price_replay_file=path)
    migrate.upgrade(sqlite_url)

    async def scenario():
        async with open_runtime(settings) as rt:
            rt.clock = lambda: NOW
            scheduler = AsyncIOScheduler(timezone=UTC)
            job = add_price_job(scheduler, rt, PriceFeed(ReplayPriceSource(path)), lambda: ["MP"])
            scheduler.start()
            try:
                for _ in range(500):
                    counts, _ = stored(sqlite_url)
                    if counts.get("MP"):
                        return job.id, counts
                    await asyncio.sleep(0.02)
            finally:
                scheduler.shutdown(wait=False)
        return None

    job_id, counts = asyncio.run(scenario())
    assert job_id == "poll-prices" and counts == {"MP": 43}


def test_an_unplaceable_ticker_backs_off_too(tmp_path, make_settings, sqlite_url):
    """A ticker with an unknown suffix fails once, then waits for its back-off like any other."""
    path = write_replay(tmp_path)
    settings = make_settings(sqlite_url, price_source="replay", price_replay_file=path)
    migrate.upgrade(sqlite_url)
    feed = PriceFeed(ReplayPriceSource(path))
    assert cycle(settings, feed, ["VOD.L"], NOW).outcome("VOD.L").status == "failed"
    again = cycle(settings, feed, ["VOD.L"], NOW + timedelta(seconds=30))
    assert again.outcome("VOD.L").status == "waiting"
    assert again.outcome("VOD.L").error.startswith("unknown exchange suffix")
    _, states = stored(sqlite_url)
    assert states["VOD.L"].consecutive_failures == 1


def test_the_live_stream_follows_the_watchlists():
    """Tickers added to the watchlists are subscribed on the live connection, removed ones dropped, unknown ones skipped."""

    async def scenario():
        async with FakeYahooStreamer() as server:
            stream = YahooStream([listing_for("MP")], url=server.url)
            feed = PriceFeed(ReplayPriceSource(Path("unused.csv")), stream=stream)
            async with stream:
                await server.wait_for_subscribers(["MP"])
                await follow_on_stream(feed, ["MP", "USAR", "VOD.L"])
                await server.wait_for_subscribers(["MP", "USAR"])
                await follow_on_stream(feed, ["USAR"])
                await server.wait_until(lambda s: any(subs == {"USAR"} for subs in s._subscribers.values()))
                return stream.tickers, server.received

    tickers, received = asyncio.run(asyncio.wait_for(scenario(), 20))
    assert tickers == ["USAR"]
    assert {"unsubscribe": ["MP"]} in received and not any("VOD.L" in str(m) for m in received)
