"""`make demo` runs `reewatch demo`: the whole job on the embedded default, offline."""

from __future__ import annotations

import re
import sqlite3
from email import message_from_bytes, policy
from pathlib import Path

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


def test_demo_ends_by_writing_a_digest_and_printing_where(tmp_path):
    """The demo writes its reader's digest as .eml and .html under var/outbox/ and prints both
    paths; the message has the text, the HTML and the inline chart, and escapes feed text."""
    result = reewatch("demo", env=cli_env(tmp_path), cwd=tmp_path, timeout=180)
    assert result.returncode == 0, result.stderr
    printed = [Path(p) for p in re.findall(r"^\s+(/\S+\.(?:eml|html))$", result.stdout, flags=re.MULTILINE)]
    outbox = (tmp_path / "var" / "outbox").resolve()
    assert [p.suffix for p in printed] == [".eml", ".html"]
    assert all(p.parent == outbox and p.is_file() for p in printed)
    assert printed[0].name.endswith("_desk@reewatch-demo.example.eml")

    message = message_from_bytes(printed[0].read_bytes(), policy=policy.default)
    assert message.get_content_type() == "multipart/alternative"
    text, related = message.get_payload()
    assert (text.get_content_type(), related.get_content_type()) == ("text/plain", "multipart/related")
    html, image = related.get_payload()
    assert (html.get_content_type(), image.get_content_type()) == ("text/html", "image/png")
    assert image.get_content().startswith(b"\x89PNG")
    assert f'src="cid:{image["Content-ID"][1:-1]}"' in html.get_content()
    # The sample feed's headline that tries to ping a Slack channel, escaped in the HTML.
    assert "&lt;!channel&gt; @here BREAKING: China suspends" in html.get_content()
    assert "<!channel>" not in html.get_content()
    assert "<!channel> @here BREAKING: China suspends" in text.get_content()
    # The watchlist shows the sample's prices on the reader's morning, and says which are stale.
    assert re.search(r"^MP +us_allied_producers +\d+\.\d\d USD", text.get_content(), flags=re.MULTILINE)
    assert re.search(r"^ARU\.AX .*\(stale: zero volume for 3 sessions", text.get_content(), flags=re.MULTILINE)
    # The day's price alerts are stories too.
    assert "USAR opened down 6.5% from the previous close" in text.get_content()


def test_demo_can_run_twice(tmp_path):
    """Running the demo again starts from a fresh demo database and ingests the same items."""
    env = cli_env(tmp_path)
    first = reewatch("demo", env=env, cwd=tmp_path, timeout=180)
    second = reewatch("demo", env=env, cwd=tmp_path, timeout=180)
    assert first.returncode == second.returncode == 0
    line = next(l for l in second.stdout.splitlines() if "new articles from 3 feeds" in l)
    assert line == next(l for l in first.stdout.splitlines() if "new articles from 3 feeds" in l)


def test_demo_shows_prices_price_alerts_and_follow_ups(tmp_path):
    """On the sample's day the demo enriches news alerts with prices, raises price alerts (a gap, a
    fall after the truce news) and replies in the alerts' threads 15 minutes later."""
    result = reewatch("demo", env=cli_env(tmp_path, COLUMNS="160"), cwd=tmp_path, timeout=180)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Prices replayed from the synthetic sample as of 2025-11-10 16:05 UTC" in out
    assert "price rule producer-opening-gap fired on USAR: -6.48% at the open" in out
    assert "price rule producers-fall-after-easing fired on MP: -4.55% after 2025-11-10 16:05Z" in out
    assert "HIGH · Opening gap · USAR" in out and "HIGH · Price move after news · MP" in out
    # News alerts show each ticker's price and day's change, or why there is none.
    assert re.search(r"▼ MP bearish +\d[\d,.]* USD · [+-]?\d+\.\d% today", out)
    assert "No price for ARU.AX: stale: zero volume for 3 sessions (since 2025-11-06)" in out
    # Twenty minutes later: the follow-ups of the tickers New York has traded 15 minutes since, in
    # the alerts' threads; none says a market was closed (Sydney's come when Sydney trades).
    assert "⏱ 15 min of trading after the alert" in out and "market closed" not in out
    assert re.search(r"▼ MP bearish · [\d,.]+ → [\d,.]+ USD \(-4\.\d%\) ✓ as expected", out)
    with sqlite3.connect(tmp_path / "var" / "demo.db") as db:
        kinds = dict(db.execute("SELECT kind || ':' || status, count(*) FROM outbox_alerts GROUP BY kind, status"))
        stories = db.execute("SELECT count(*), count(DISTINCT story_id) FROM articles").fetchone()
    # Twelve stories alerted once each; the Pentagon deal's explainer joined its story, no alert of its own.
    assert kinds["price:sent"] == 2 and kinds["news:sent"] == 12 and stories == (25, 24)
    assert kinds["followup:sent"] > 0 and kinds["followup:pending"] > 0  # the later ones are not due yet
