"""The synthetic price sample moved onto the latest sessions, so the demo's digest has prices.

The sample's bars end in October 2025, and a digest shows the days before it is sent. The demo
therefore replays the sample's daily bars up to its news day (2025-10-09 China's wider controls,
2025-10-10 the tariff threat) as the most recent completed sessions of each ticker's exchange,
session for session, so weekends and holidays fall where the real calendar has them. The
prices stay invented, and the file written says so in its first line.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from service.domain.markets import completed_sessions
from service.domain.prices import DAILY
from service.sources.prices.listings import listing_for
from service.sources.prices.replay import COLUMNS, SAMPLE_FILE, read_replay_file

#: The sample's last news day: its sessions up to this one become the latest sessions.
NEWS_DAY = date(2025, 10, 10)
#: Sessions replayed per ticker: enough for the 5-day change and the chart, with room to spare.
SESSIONS = 20

HEADER = f"""\
# SYNTHETIC DATA, written by `reewatch demo`: the invented daily bars of {SAMPLE_FILE.name} up to
# {NEWS_DAY.isoformat()}, moved onto the latest completed sessions of each exchange. Not market prices.
"""


def write_recent_sample(path: Path, now: datetime, sample: Path = SAMPLE_FILE) -> list[str]:
    """Write the moved sample to `path` (replay CSV format); return its tickers."""
    replay = read_replay_file(sample)
    lines = [HEADER + ",".join(COLUMNS)]
    tickers = []
    for ticker, rows in replay.rows.items():
        # Daily rows of the sample carry their session date (a datetime would be a bar start).
        daily = sorted(
            (r for r in rows if r.interval == DAILY and type(r.start) is date and r.start <= NEWS_DAY),
            key=lambda r: r.start,
        )[-SESSIONS:]
        if not daily:
            continue
        sessions = completed_sessions(listing_for(ticker).exchange, now, len(daily))
        for row, session in zip(daily[-len(sessions):], sessions):
            lines.append(
                f"{ticker},{DAILY},{session.day.isoformat()},{row.open:.2f},{row.high:.2f},{row.low:.2f},"
                f"{row.close:.2f},{int(row.volume)}"
            )
        tickers.append(ticker)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tickers
