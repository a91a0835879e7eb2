"""The command line as operators use it: real subprocesses, real loopback feeds, real databases."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from service.demo.server import Route
from tests.e2e.cli import cli_env, reewatch, start
from tests.sample_feeds import good_feed, item, rss


def write_feeds(tmp_path, text: str) -> None:
    (tmp_path / "rules").mkdir(exist_ok=True)
    (tmp_path / "rules" / "feeds.yaml").write_text(text, encoding="utf-8")


def test_run_once_ingests_and_feeds_status_reports(tmp_path, feed_server, database_url):
    """`run --once` polls every due feed and exits 0; `feeds status` shows each feed's health."""
    feed_server.routes["/ok"] = Route(good_feed(count=2))
    feed_server.routes["/down"] = Route(b"no", status=500, content_type="text/plain")
    write_feeds(
        tmp_path,
        f"- name: wire\n  url: {feed_server.url('/ok')}\n  interval: 1m\n"
        f"- name: broken\n  url: {feed_server.url('/down')}\n  interval: 1m\n",
    )
    env = cli_env(tmp_path, DATABASE_URL=database_url)
    result = reewatch("run", "--once", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "2 new articles from 2 feeds" in result.stdout
    assert "HTTP 500 Internal Server Error" in result.stdout
    # Then one price cycle for every watchlist ticker (the shipped sample: months old, so stale).
    assert "prices (replay): 28 tickers" in result.stdout

    status = reewatch("feeds", "status", env=env, cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    rows = {line.split("│")[1].strip(): line for line in status.stdout.splitlines() if line.count("│") >= 5}
    assert "HTTP 500" in rows["broken"] and "│ 1 " in rows["broken"].replace("  ", " ")
    assert "ago" in rows["wire"] and "│ 0 " in rows["wire"].replace("  ", " ")

    again = reewatch("run", "--once", env=env, cwd=tmp_path)
    assert "0 new articles from 0 feeds" in again.stdout  # nothing due a second later


def test_the_first_run_once_shows_prices_in_its_news_alerts(tmp_path, feed_server):
    """`run --once` stores the watchlists' prices before it queues news alerts, so even the very
    first run's alerts carry each ticker's quote instead of "no prices stored yet"."""
    feed_server.routes["/wire"] = Route(
        rss(
            item(
                guid="ban-1",
                title="China bans exports of rare earth magnet technology",
                date=format_datetime(datetime.now(UTC) - timedelta(minutes=5), usegmt=True),
                body="MOFCOM said the export ban covers rare earth magnet and processing technology. "
                "MP Materials shares were active in early trade.",
            )
        )
    )
    # `backfill: alert`: this first poll alerts, as a later one would.
    write_feeds(tmp_path, f"- name: wire\n  url: {feed_server.url('/wire')}\n  interval: 1m\n  kind: wire\n  backfill: alert\n")
    # Daily bars for MP up to yesterday (the shipped sample is too old to fall in the window).
    today = datetime.now(UTC).date()
    days = [today - timedelta(days=n) for n in range(30, 0, -1)]
    bars = [f"MP,1d,{d},24.0,25.5,23.5,25.0,1000000" for d in days if d.weekday() < 5]
    replay = tmp_path / "replay.csv"
    replay.write_text("ticker,interval,timestamp,open,high,low,close,volume\n" + "\n".join(bars) + "\n", encoding="utf-8")
    env = cli_env(tmp_path, REEWATCH_PRICE_REPLAY_FILE=str(replay))
    result = reewatch("run", "--once", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(tmp_path / "cli.db") as db:
        payloads = [json.loads(p) for (p,) in db.execute("SELECT payload FROM outbox_alerts WHERE kind = 'news'")]
    assert payloads, result.stdout
    quotes = payloads[0]["quotes"]
    assert (quotes["MP"]["currency"], quotes["MP"].get("price")) == ("USD", 25.0), quotes["MP"]
    assert not any(q.get("missing") == "no prices stored yet" for q in quotes.values()), quotes


def test_bad_feeds_file_exits_1_with_located_errors(tmp_path):
    """A broken feeds.yaml stops `run` before it starts, naming file, line and column."""
    write_feeds(tmp_path, "- name: a\n  url: https://x.test/f\n  intervall: 5m\n")
    result = reewatch("run", "--once", env=cli_env(tmp_path), cwd=tmp_path)
    assert result.returncode == 1
    assert f"{tmp_path}/rules/feeds.yaml:3:3: unknown key 'intervall'; did you mean 'interval'?" in result.stderr


def test_db_upgrade_creates_the_schema(tmp_path, database_url):
    """`db upgrade` applies the migrations to the configured database."""
    result = reewatch("db", "upgrade", env=cli_env(tmp_path, DATABASE_URL=database_url), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    from sqlalchemy import inspect

    from service.store.db import make_engine

    engine = make_engine(database_url)
    try:
        assert {"feeds", "articles"} <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_scheduler_polls_until_sigterm(tmp_path, feed_server):
    """`reewatch run` polls on its own and stops cleanly on SIGTERM."""
    feed_server.routes["/ok"] = Route(good_feed(count=3))
    write_feeds(tmp_path, f"- name: wire\n  url: {feed_server.url('/ok')}\n  interval: 10s\n")
    env = cli_env(tmp_path, REEWATCH_TICK_SECONDS="0.2")
    process = start("run", env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        count = 0
        while time.monotonic() < deadline and count < 3:
            time.sleep(0.2)
            try:
                with sqlite3.connect(tmp_path / "cli.db") as db:
                    count = db.execute("SELECT count(*) FROM articles").fetchone()[0]
            except sqlite3.OperationalError:
                continue
        assert count == 3
        # The price job follows every watchlist ticker on its own.
        tickers = 0
        while time.monotonic() < deadline and tickers < 28:
            time.sleep(0.2)
            with sqlite3.connect(tmp_path / "cli.db") as db:
                tickers = db.execute("SELECT count(*) FROM ticker_states WHERE last_attempt_at IS NOT NULL").fetchone()[0]
        assert tickers == 28
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "reewatch stopped" in err


def test_python_dash_m_service_is_the_same_cli(tmp_path):
    """`python -m service` is the console script under another name."""
    result = reewatch("--help", env=cli_env(tmp_path), cwd=tmp_path)
    assert result.returncode == 0
    for command in ("run", "demo", "db", "feeds"):
        assert command in result.stdout


@pytest.mark.parametrize("value", ["postgres://nobody:hunter2secret@127.0.0.1:1/x", "sqlite:////proc/reewatch/x.db"])
def test_unusable_database_fails_with_a_message(tmp_path, value):
    """A database that cannot be reached is an error message and exit code, not a hang."""
    result = reewatch("db", "upgrade", env=cli_env(tmp_path, DATABASE_URL=value), cwd=tmp_path, timeout=60)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "cannot" in result.stderr
    assert "hunter2secret" not in result.stderr + result.stdout
