"""Price bars and ticker states on SQLite and PostgreSQL: upsert, UTC, listings, history."""

from datetime import UTC, date, datetime, timedelta, timezone

from sqlmodel import select

from service.domain.markets import build_bar, daily_bar_start
from service.sources.prices.listings import listing_for
from service.store.db import session
from service.store.models import PriceBar, TickerState
from service.store.prices import load_history, load_recent_history, sync_ticker_states, upsert_bars

NOW = datetime(2025, 10, 9, 15, 0, tzinfo=UTC)
T0 = datetime(2025, 10, 9, 13, 30, tzinfo=UTC)


def five_minute(ticker: str, minute: int, close: float, volume: float = 1000):
    return build_bar("US", ticker, "5m", T0 + timedelta(minutes=minute), close, close, close, close, volume)


def rows(engine, ticker: str = "MP") -> list[PriceBar]:
    with session(engine) as s:
        return list(s.exec(select(PriceBar).where(PriceBar.ticker == ticker).order_by(PriceBar.timestamp)))


def test_a_redelivered_bar_updates_the_stored_one(engine):
    """Upserting a bar with the same ticker, interval and start replaces its values and source."""
    with session(engine) as s:
        assert upsert_bars(s, [five_minute("MP", 0, 10.0), five_minute("MP", 5, 10.5)], "yfinance", NOW) == 2
        s.commit()
    with session(engine) as s:
        upsert_bars(s, [five_minute("MP", 5, 10.7, volume=2500)], "stream", NOW + timedelta(minutes=1))
        s.commit()
    stored = rows(engine)
    assert [(r.close, r.volume, r.source) for r in stored] == [
        (10.0, 1000, "yfinance"),
        (10.7, 2500, "stream"),
    ]
    assert stored[1].fetched_at == NOW + timedelta(minutes=1)


def test_duplicates_in_one_batch_are_stored_once(engine):
    """Two bars with the same key in one batch do not trip PostgreSQL's ON CONFLICT: the last one wins."""
    with session(engine) as s:
        upsert_bars(s, [five_minute("MP", 0, 10.0), five_minute("MP", 0, 10.2)], "replay", NOW)
        s.commit()
    assert [r.close for r in rows(engine)] == [10.2]


def test_same_start_in_another_interval_or_ticker_is_another_bar(engine):
    """Uniqueness is per ticker, interval and start."""
    daily = build_bar("US", "MP", "1d", T0, 10, 10, 10, 10, 5)
    with session(engine) as s:
        upsert_bars(s, [five_minute("MP", 0, 10.0), five_minute("USAR", 0, 5.0), daily], "replay", NOW)
        s.commit()
    assert len(rows(engine)) == 2 and len(rows(engine, "USAR")) == 1


def test_bar_times_come_back_as_aware_utc(engine):
    """A bar stamped in Sydney time comes back as the same instant in UTC."""
    sydney = datetime(2025, 10, 10, 10, 0, tzinfo=timezone(timedelta(hours=11)))
    bar = build_bar("ASX", "LYC.AX", "5m", sydney, 16, 16, 16, 16, 100)
    with session(engine) as s:
        upsert_bars(s, [bar], "replay", NOW)
        s.commit()
    (stored,) = rows(engine, "LYC.AX")
    assert stored.timestamp == datetime(2025, 10, 9, 23, 0, tzinfo=UTC)


def test_ticker_states_keep_the_listing(engine):
    """Each ticker gets one state row with its exchange and currencies; an unplaceable one has none."""
    listings = [listing_for("6680.HK"), listing_for("MP")]
    with session(engine) as s:
        sync_ticker_states(s, listings, {"VOD.L": "unknown exchange suffix"}, "yfinance")
        s.commit()
    with session(engine) as s:
        sync_ticker_states(s, listings, {}, "yfinance")  # again: no duplicates
        s.commit()
        states = {st.ticker: st for st in s.exec(select(TickerState))}
    assert set(states) == {"6680.HK", "MP", "VOD.L"}
    assert (states["6680.HK"].exchange, states["6680.HK"].currency, states["6680.HK"].reporting_currency) == (
        "HKEX",
        "HKD",
        "CNY",
    )
    assert states["VOD.L"].exchange is None and states["MP"].source == "yfinance"


def test_load_history_rebuilds_domain_bars(engine):
    """Stored bars come back as domain bars with their session day and end, split daily and intraday."""
    lynas = listing_for("LYC.AX")
    daily = build_bar("ASX", "LYC.AX", "1d", daily_bar_start("ASX", date(2025, 10, 10)), 16, 17, 15, 16.5, 10)
    intraday = build_bar(
        "ASX", "LYC.AX", "5m", datetime(2025, 10, 9, 23, 0, tzinfo=UTC), 16, 16.2, 15.9, 16.1, 3
    )
    with session(engine) as s:
        upsert_bars(s, [daily, intraday], "replay", NOW)
        s.commit()
        history = load_history(s, lynas, datetime(2025, 10, 1, tzinfo=UTC))
    assert history.daily == (daily,) and history.intraday == (intraday,)
    assert history.daily[0].session == date(2025, 10, 10)


def test_recent_history_lets_stream_bars_take_over_after_the_last_polled_bar(engine):
    """Rules see polled bars, then the stream's minute bars after the last of them: never both for one minute."""
    listing = listing_for("MP")
    minute = [build_bar("US", "MP", "1m", T0 + timedelta(minutes=m), 11.0, 11.0, 11.0, 11.0, 100) for m in range(20, 40)]
    with session(engine) as s:
        upsert_bars(s, [five_minute("MP", m, 10.0) for m in (0, 5, 10, 15, 20)], "yfinance", NOW)
        upsert_bars(s, minute, "stream", NOW)
        s.commit()
        history = load_recent_history(s, listing, T0 + timedelta(minutes=32))
    intervals = [(b.interval, b.start.strftime("%H:%M")) for b in history.intraday]
    assert intervals[:5] == [("5m", "13:30"), ("5m", "13:35"), ("5m", "13:40"), ("5m", "13:45"), ("5m", "13:50")]
    assert intervals[5:] == [("1m", f"13:{m}") for m in range(55, 60)] + [("1m", f"14:0{m}") for m in range(3)]
