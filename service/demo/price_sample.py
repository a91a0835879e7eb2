"""Writes service/demo/prices.csv: synthetic bars for the watchlist tickers around the demo's news dates.

The prices are invented (a seeded random walk per ticker with scripted jumps); only the direction
and rough size of the big moves follow what the demo's sample news describes. Sessions, holidays
and lunch breaks come from the real exchange calendars. Run `python -m service.demo.price_sample`.

`make demo` replays them as of 2025-11-10 16:05 UTC (New York trading since 14:30, the BIS notice
out at 16:00): USAR gapped down at the open, MP falls at 16:10. ARU.AX is in a trading halt (zero
volume since 2025-11-06) and 6680.HK is left out, so the demo shows a stale and a missing ticker.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from service.domain.markets import Session, exchange, session_on
from service.sources.prices.listings import listing_for

OUTPUT = Path(__file__).resolve().parent / "prices.csv"
SEED = 20251009
INTERVAL = timedelta(minutes=5)

HEADER = """\
# reewatch price replay sample. SYNTHETIC DATA: invented for the demo and tests; these are not
# real market prices or volumes. Only the direction and rough size of the big moves follow the
# 2025 news told by the demo's sample feeds (2025-07-10 Pentagon stake in MP Materials;
# 2025-10-09 China's wider rare-earth controls; 2025-10-10 the 100% tariff threat; 2025-11-07 and
# 2025-11-10 the suspensions of export rules). ARU.AX trades nothing from 2025-11-06 (a made-up
# trading halt) and 6680.HK is absent on purpose: the demo shows a stale and a missing ticker.
# Regenerate with `python -m service.demo.price_sample` (seeded, so the output is stable).
# ticker: Yahoo symbol; interval: 1d or 5m; timestamp: the bar's start, ISO 8601 with its UTC
# offset, or the session date for daily bars; then open, high, low, close, volume.
"""


@dataclass(frozen=True)
class Profile:
    """A ticker's invented level, volatility and volume in each window."""

    ticker: str
    july_price: float
    october_price: float
    daily_vol: float
    volume: int


PROFILES = (
    Profile("MP", 30.0, 70.0, 0.03, 6_000_000),
    Profile("USAR", 12.0, 25.0, 0.045, 3_000_000),
    Profile("LYC.AX", 9.0, 16.0, 0.025, 8_000_000),
    Profile("600111.SS", 30.0, 50.0, 0.02, 90_000_000),
    Profile("REMX", 45.0, 70.0, 0.012, 400_000),
    Profile("F", 11.0, 11.5, 0.012, 60_000_000),
    # The rest of the watchlists, so every alert's tickers have prices (6680.HK excepted).
    Profile("UUUU", 5.5, 15.0, 0.035, 9_000_000),
    Profile("NB", 2.5, 9.0, 0.04, 4_000_000),
    Profile("CRML", 4.0, 12.0, 0.045, 5_000_000),
    Profile("METC", 10.0, 30.0, 0.035, 2_000_000),
    Profile("ARU.AX", 0.14, 0.25, 0.035, 30_000_000),
    Profile("ILU.AX", 5.0, 6.5, 0.02, 3_000_000),
    Profile("ASM.AX", 0.5, 1.0, 0.035, 2_000_000),
    Profile("NTU.AX", 0.03, 0.04, 0.035, 40_000_000),
    Profile("NEO.TO", 9.0, 18.0, 0.03, 300_000),
    Profile("600392.SS", 14.0, 30.0, 0.02, 60_000_000),
    Profile("000831.SZ", 30.0, 45.0, 0.02, 40_000_000),
    Profile("300748.SZ", 18.0, 35.0, 0.025, 50_000_000),
    Profile("UAMY", 2.5, 7.0, 0.045, 5_000_000),
    Profile("PPTA", 13.0, 20.0, 0.035, 2_000_000),
    Profile("AXTI", 2.0, 5.0, 0.04, 1_500_000),
    Profile("ALM.TO", 2.5, 6.0, 0.03, 1_000_000),
    Profile("SYR.AX", 0.25, 0.4, 0.035, 10_000_000),
    Profile("GM", 48.0, 55.0, 0.015, 9_000_000),
    Profile("TSLA", 300.0, 430.0, 0.025, 90_000_000),
    Profile("LMT", 460.0, 480.0, 0.01, 1_200_000),
    Profile("RTX", 145.0, 160.0, 0.01, 4_000_000),
)

#: (ticker, session) -> (gap at the open, move from the open to the close, volume multiple,
#: UTC time of the jump inside the session or None to spread the move over the day).
SCRIPT: dict[tuple[str, date], tuple[float, float, float, time | None]] = {
    ("MP", date(2025, 7, 10)): (0.40, 0.075, 9.0, None),
    ("USAR", date(2025, 7, 10)): (0.15, 0.06, 5.0, None),
    ("REMX", date(2025, 7, 10)): (0.02, 0.015, 2.5, None),
    ("F", date(2025, 7, 10)): (0.0, -0.004, 1.0, None),
    ("LYC.AX", date(2025, 7, 11)): (0.08, 0.02, 3.0, None),
    ("600111.SS", date(2025, 7, 11)): (0.02, 0.02, 1.8, None),
    ("600111.SS", date(2025, 10, 9)): (0.015, 0.072, 4.0, time(6, 15)),
    ("MP", date(2025, 10, 9)): (0.05, 0.02, 3.0, None),
    ("USAR", date(2025, 10, 9)): (0.06, 0.03, 3.5, None),
    ("REMX", date(2025, 10, 9)): (0.015, 0.01, 2.0, None),
    ("F", date(2025, 10, 9)): (-0.005, -0.01, 1.3, None),
    ("LYC.AX", date(2025, 10, 10)): (0.07, 0.02, 4.0, None),
    ("600111.SS", date(2025, 10, 10)): (0.01, 0.02, 2.5, None),
    ("F", date(2025, 10, 10)): (0.0, -0.035, 2.0, time(15, 0)),
    ("REMX", date(2025, 10, 10)): (0.0, -0.02, 1.6, time(15, 0)),
    ("MP", date(2025, 10, 10)): (0.01, 0.03, 2.0, time(15, 0)),
    ("USAR", date(2025, 10, 10)): (0.01, 0.04, 2.2, time(15, 0)),
    ("MP", date(2025, 10, 13)): (0.15, 0.06, 5.0, None),
    ("USAR", date(2025, 10, 13)): (0.14, 0.07, 5.0, None),
    # China suspends its October rules (2025-11-07, before New York opens): US names give way.
    ("MP", date(2025, 11, 7)): (-0.05, -0.02, 2.5, None),
    ("USAR", date(2025, 11, 7)): (-0.06, -0.02, 2.5, None),
    # The demo's day: USAR gaps down at the open; MP slides at 16:10 UTC, after the BIS notice.
    ("USAR", date(2025, 11, 10)): (-0.065, 0.005, 2.0, None),
    ("MP", date(2025, 11, 10)): (0.004, -0.045, 1.2, time(16, 10)),
}

#: Daily bars over two windows: enough sessions for 20-session volume averages.
WINDOWS = (
    (date(2025, 6, 2), date(2025, 7, 18), "july_price"),
    (date(2025, 9, 1), date(2025, 11, 14), "october_price"),
)
DEMO_DAY = date(2025, 11, 10)
#: 5-minute bars on the news days, per exchange, for the tickers the demo started with.
INTRADAY_DAYS = {
    "US": {date(2025, 7, 10), date(2025, 10, 9), date(2025, 10, 10), DEMO_DAY},
    "ASX": {date(2025, 10, 9), date(2025, 10, 10)},
    "SSE": {date(2025, 10, 9), date(2025, 10, 10)},
}
FIRST_TICKERS = ("MP", "USAR", "LYC.AX", "600111.SS", "REMX", "F")
#: The other tickers get 5-minute bars on the demo's day only, if they trade in North America.
DEMO_DAY_INTRADAY = {"US": {DEMO_DAY}, "TSX": {DEMO_DAY}}
#: Too far down the cards to need intraday bars.
DAILY_ONLY = {"GM", "TSLA", "LMT", "RTX"}
#: A made-up trading halt: flat bars with zero volume from this session on.
HALTED = {"ARU.AX": date(2025, 11, 6)}


def intraday_days(ticker: str, exchange_code: str) -> set[date]:
    """The sessions a ticker gets 5-minute bars for."""
    if ticker in FIRST_TICKERS:
        return INTRADAY_DAYS.get(exchange_code, set())
    if ticker in DAILY_ONLY:
        return set()
    return DEMO_DAY_INTRADAY.get(exchange_code, set())


def generate() -> list[str]:
    """The CSV lines, header first."""
    lines = [",".join(("ticker", "interval", "timestamp", "open", "high", "low", "close", "volume"))]
    for profile in PROFILES:
        # One random stream per ticker: adding a ticker leaves the others' prices as they were.
        rng = random.Random(f"{SEED}:{profile.ticker}")
        listing = listing_for(profile.ticker)
        zone = exchange(listing.exchange).zone
        digits = 3 if listing.exchange == "ASX" else 2
        for first, last, level in WINDOWS:
            close = getattr(profile, level)
            sessions = (
                session_on(listing.exchange, first + timedelta(days=n))
                for n in range((last - first).days + 1)
            )
            for session in filter(None, sessions):
                quiet = (rng.gauss(0, profile.daily_vol / 3), rng.gauss(0, profile.daily_vol), 1.0, None)
                gap, drift, surge, jump_at = SCRIPT.get((profile.ticker, session.day), quiet)
                volume = int(profile.volume * surge * rng.uniform(0.7, 1.3))
                halted = HALTED.get(profile.ticker)
                if halted is not None and session.day >= halted:
                    lines.append(_line(profile.ticker, "1d", session.day.isoformat(), close, close, close, close, 0, digits))
                    continue
                open_ = close * (1 + gap)
                target = open_ * (1 + drift)
                if session.day in intraday_days(profile.ticker, listing.exchange):
                    bars = _intraday(rng, session, open_, target, volume, profile.daily_vol, jump_at)
                    for start, o, h, low, c, v in bars:
                        lines.append(
                            _line(
                                profile.ticker,
                                "5m",
                                start.astimezone(zone).isoformat(),
                                o,
                                h,
                                low,
                                c,
                                v,
                                digits,
                            )
                        )
                    # The day's bar agrees with its 5-minute bars, as Yahoo's do.
                    high, low, close = max(b[2] for b in bars), min(b[3] for b in bars), bars[-1][4]
                    volume = sum(b[5] for b in bars)
                else:
                    close = target
                    spread = abs(rng.gauss(0, profile.daily_vol / 2))
                    high, low = max(open_, close) * (1 + spread), min(open_, close) * (1 - spread)
                lines.append(
                    _line(
                        profile.ticker, "1d", session.day.isoformat(), open_, high, low, close, volume, digits
                    )
                )
    return lines


def _intraday(rng, session: Session, open_: float, target: float, volume: int, daily_vol: float, jump_at):
    """5-minute bars from open to close: a bridge to `target`, or a flat path and a jump at `jump_at`."""
    starts = []
    moment = session.open
    while moment < session.close:
        in_break = session.break_start is not None and session.break_start <= moment < session.break_end
        if not in_break:
            starts.append(moment)
        moment += INTERVAL
    n = len(starts)
    noise = daily_vol / (n**0.5) / 2
    jump_index = None
    if jump_at is not None:
        jump_moment = datetime.combine(session.day, jump_at, UTC)
        jump_index = next((i for i, s in enumerate(starts) if s >= jump_moment), n - 1)
    weights = [1.6 if i < n // 8 or i > n * 7 // 8 else 0.8 for i in range(n)]  # busy open and close
    scale = volume / sum(weights)
    bars = []
    price = open_
    for i, start in enumerate(starts):
        if jump_index is None:
            level = open_ + (target - open_) * (i + 1) / n
        else:
            level = open_ if i < jump_index else target
        close = level * (1 + rng.gauss(0, noise))
        if i == n - 1:
            close = target
        high = max(price, close) * (1 + abs(rng.gauss(0, noise)))
        low = min(price, close) * (1 - abs(rng.gauss(0, noise)))
        bars.append((start, price, high, low, close, int(weights[i] * scale * rng.uniform(0.6, 1.4))))
        price = close
    return bars


def _line(ticker: str, interval: str, stamp: str, o, h, low, c, v, digits: int) -> str:
    prices = ",".join(f"{x:.{digits}f}" for x in (o, h, low, c))
    return f"{ticker},{interval},{stamp},{prices},{int(v)}"


def main() -> None:
    OUTPUT.write_text(HEADER + "\n".join(generate()) + "\n", encoding="utf-8")
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
