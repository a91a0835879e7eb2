"""`reewatch prices poll` and `reewatch prices status` as operators run them, on the shipped sample."""

from __future__ import annotations

import sqlite3

from tests.e2e.cli import cli_env, reewatch

HEADER = "ticker,interval,timestamp,open,high,low,close,volume\n"


def rows(stdout: str) -> dict[str, str]:
    return {line.split("│")[1].strip(): line for line in stdout.splitlines() if line.count("│") >= 5}


def test_poll_then_status_on_the_replay_sample(tmp_path, database_url):
    """Polling the synthetic sample stores bars; `prices status` shows bar, age, source and errors per ticker."""
    env = cli_env(tmp_path, DATABASE_URL=database_url, PRICE_SOURCE="replay", COLUMNS="400")
    poll = reewatch(
        "prices",
        "poll",
        "--at",
        "2025-10-10T19:00:00Z",
        "MP",
        "LYC.AX",
        "6680.HK",
        "VOD.L",
        env=env,
        cwd=tmp_path,
    )
    assert poll.returncode == 0, poll.stderr
    polled = rows(poll.stdout)
    assert "ok" in polled["MP"] and "ok" in polled["LYC.AX"]
    assert "6680.HK is not in the replay file" in polled["6680.HK"]
    assert "unknown exchange suffix '.L'" in polled["VOD.L"]
    assert "2 failed" in poll.stdout

    status = reewatch("prices", "status", env=env, cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    shown = rows(status.stdout)
    assert set(shown) >= {"MP", "LYC.AX", "6680.HK", "VOD.L"}
    assert "5m 2025-10-10 14:55 local" in shown["MP"] and "replay" in shown["MP"] and "USD" in shown["MP"]
    assert "1d 2025-10-10" in shown["LYC.AX"] and "AUD" in shown["LYC.AX"] and "ASX" in shown["LYC.AX"]
    assert "HKD (reports CNY)" in shown["6680.HK"]
    assert "not in the replay file" in shown["6680.HK"] and "1 in a row" in shown["6680.HK"]
    assert "unknown" in shown["VOD.L"]


def test_status_flags_a_suspended_ticker(tmp_path):
    """A ticker with zero volume for three sessions is shown as stale, with the reason."""
    lines = [f"NB,1d,2025-10-0{d},5,5,5,5,{0 if d >= 6 else 1000}" for d in (1, 2, 3, 6, 7, 8)]
    replay = tmp_path / "replay.csv"
    replay.write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    env = cli_env(tmp_path, PRICE_SOURCE="replay", REEWATCH_PRICE_REPLAY_FILE=str(replay), COLUMNS="400")
    assert (
        reewatch("prices", "poll", "--at", "2025-10-09T12:00:00Z", "NB", env=env, cwd=tmp_path).returncode
        == 0
    )
    status = reewatch("prices", "status", env=env, cwd=tmp_path)
    assert status.returncode == 0
    assert "stale: zero volume for 3 sessions (since 2025-10-06)" in status.stdout.replace("\n", " ").replace(
        "│", " "
    )


def test_status_before_any_poll_and_a_bad_instant(tmp_path):
    """`prices status` on an empty database says so and exits 0; a naive --at is refused with exit 2."""
    env = cli_env(tmp_path, PRICE_SOURCE="replay")
    status = reewatch("prices", "status", env=env, cwd=tmp_path)
    assert status.returncode == 0 and "no ticker prices yet" in status.stdout
    bad = reewatch("prices", "poll", "--at", "2025-10-10T19:00", "MP", env=env, cwd=tmp_path)
    assert bad.returncode == 2 and "needs a time zone" in bad.stderr


def test_status_shows_the_price_rules_firing_and_those_that_cannot_judge(tmp_path):
    """On the sample's demo day USAR's gap fires the shipped gap rule; a halted ticker's rules say why they cannot judge."""
    env = cli_env(tmp_path, PRICE_SOURCE="replay", COLUMNS="600")
    poll = reewatch("prices", "poll", "--at", "2025-11-10T16:05:00Z", "USAR", "ARU.AX", env=env, cwd=tmp_path)
    assert poll.returncode == 0, poll.stderr
    assert "price rule producer-opening-gap fired on USAR: -6.48% at the open (not queued: --at is a dry run)" in poll.stdout
    shown = rows(reewatch("prices", "status", env=env, cwd=tmp_path).stdout)
    assert "firing: producer-opening-gap (-6.48% at the open)" in shown["USAR"]
    assert "cannot judge: all 5 rules: stale: zero volume for 3 sessions (since 2025-11-06)" in shown["ARU.AX"]
    with sqlite3.connect(tmp_path / "cli.db") as db:  # a backtest never sends last year's moves
        assert db.execute("SELECT count(*) FROM outbox_alerts").fetchone() == (0,)
