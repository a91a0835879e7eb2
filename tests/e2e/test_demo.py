"""`make demo` runs `reewatch demo`: the whole job on the embedded default, offline."""

from __future__ import annotations

import sqlite3

from tests.e2e.cli import cli_env, reewatch


def test_demo_ingests_the_sample_feeds_into_sqlite(tmp_path):
    """The demo serves its sample feeds on loopback, stores them in SQLite and exits 0."""
    result = reewatch("demo", env=cli_env(tmp_path), cwd=tmp_path, timeout=180)
    assert result.returncode == 0, result.stderr
    assert "new articles from 3 feeds" in result.stdout
    database = tmp_path / "var" / "demo.db"
    with sqlite3.connect(database) as db:
        titles = [row[0] for row in db.execute("SELECT title FROM articles")]
        feeds = dict(db.execute("SELECT name, last_status FROM feeds"))
    assert len(titles) >= 20
    # The Ford story appears in two sample feeds with different tracking parameters: stored once.
    assert sum("Ford" in t and "Explorer" in t for t in titles) == 1
    # Feed text that tries to ping a Slack channel is stored as text, repaired of its mojibake.
    assert any(t.startswith("<!channel>") for t in titles)
    assert not any("\u0e42" in t for t in titles)
    # The second cycle sent validators and got 304s.
    assert set(feeds.values()) == {304}
    assert "not modified" in result.stdout


def test_demo_can_run_twice(tmp_path):
    """Running the demo again starts from a fresh demo database and ingests the same items."""
    env = cli_env(tmp_path)
    first = reewatch("demo", env=env, cwd=tmp_path, timeout=180)
    second = reewatch("demo", env=env, cwd=tmp_path, timeout=180)
    assert first.returncode == second.returncode == 0
    line = next(l for l in second.stdout.splitlines() if "new articles from 3 feeds" in l)
    assert line == next(l for l in first.stdout.splitlines() if "new articles from 3 feeds" in l)
