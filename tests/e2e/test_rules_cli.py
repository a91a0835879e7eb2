"""`reewatch rules check` and `reewatch scan` as operators run them: real subprocesses."""

from __future__ import annotations

import json

from service.demo.server import Route
from tests.e2e.cli import ROOT, cli_env, reewatch
from tests.sample_feeds import item, rss

DEMO_FEED = ROOT / "service" / "demo" / "feeds" / "mining-wire.xml"
CONTRACT = {"guid", "link", "title", "published", "event_types", "score", "severity", "alert", "rules", "matched",
            "impacts", "relevance", "frame"}


def test_rules_check_passes_on_the_shipped_rules(tmp_path):
    """A clean folder exits 0 with a one-line summary."""
    result = reewatch("rules", "check", str(ROOT / "rules"), env=cli_env(tmp_path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1 and ": OK, " in lines[0] and " rules in " in lines[0]


def test_rules_check_defaults_to_the_service_rules_folder(tmp_path):
    """Without a folder argument it checks REEWATCH_RULES_DIR, as the service would load it."""
    env = cli_env(tmp_path)
    (tmp_path / "rules" / "alerts" / "extra.yaml").write_text(
        "rules:\n  - id: extra\n    description: d\n    match: {any: ['@nope']}\n    event_types: [truce]\n"
        "    severity: hgih\n",
        encoding="utf-8",
    )
    result = reewatch("rules", "check", env=env, cwd=tmp_path)
    assert result.returncode == 1
    where = f"{tmp_path}/rules/alerts/extra.yaml"
    assert f"{where}:4:19: [rule extra] unknown word list '@nope'" in result.stderr
    assert f"{where}:6:5: [rule extra] rules.0.severity: unknown severity 'hgih'; did you mean 'high'?" in result.stderr
    assert "Traceback" not in result.stderr


def test_rules_check_reports_price_rule_mistakes(tmp_path):
    """Price rules are checked by the same command: located, with the rule id and a suggestion."""
    env = cli_env(tmp_path)
    (tmp_path / "rules" / "alerts" / "desk-prices.yaml").write_text(
        "rules:\n  - id: mp-drop\n    kind: price\n    description: d\n    tickers: [MPP]\n"
        "    move: {at_least: 3%, direction: dwn}\n    after_news: {event_types: [truce], within: 2h}\n    severity: high\n",
        encoding="utf-8",
    )
    result = reewatch("rules", "check", env=env, cwd=tmp_path)
    assert result.returncode == 1
    where = f"{tmp_path}/rules/alerts/desk-prices.yaml"
    assert f"{where}:5:15: [rule mp-drop] unknown watchlist group or ticker 'MPP'; did you mean 'MP'?" in result.stderr
    assert f"{where}:6:26: [rule mp-drop] rules.0.move.direction: unknown direction 'dwn'; did you mean 'down'?" in result.stderr


def test_rules_check_reports_an_empty_folder(tmp_path):
    """A folder with no rules is an error, not a silent success."""
    folder = tmp_path / "empty"
    folder.mkdir()
    result = reewatch("rules", "check", str(folder), env=cli_env(tmp_path), cwd=tmp_path)
    assert result.returncode == 1
    assert f"{folder}/watchlists.yaml: cannot read" in result.stderr
    assert "no alert rules" in result.stderr


def test_scan_local_file_as_json(tmp_path):
    """Each entry is one JSON line with the contract's fields; the rules' verdicts are in it."""
    result = reewatch("scan", str(DEMO_FEED), "--format", "json", env=cli_env(tmp_path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 10
    assert all(CONTRACT <= set(line) for line in lines)
    by_title = {line["title"]: line for line in lines}
    curbs = by_title["China extends rare earth controls to foreign-made goods with trace Chinese content"]
    assert curbs["alert"] is True and curbs["event_types"] == ["export_control_new"]
    # The frame that decided: China extends (up) export controls on rare earths.
    assert curbs["frame"][0] == {
        "actor": "China", "action": "extends", "polarity": "up", "instrument": "export_control", "object": "rare earth",
    }
    assert any(m.startswith("frame: China extends export_control (up)") for m in curbs["matched"])
    assert curbs["severity"] == "critical" and curbs["impacts"]["MP"] == "bullish" and curbs["impacts"]["F"] == "bearish"
    assert curbs["published"] == "2025-10-09T06:15:00+00:00"
    stake = by_title["Pentagon to become MP Materials\u2019 largest shareholder in $400 million deal"]
    assert stake["relevance"]["MP"] == 100 and "gov_funding" in stake["event_types"]
    gold = by_title["Gold tops $4,000 an ounce for the first time as central banks keep buying"]
    assert (gold["alert"], gold["rules"], gold["impacts"]) == (False, [], {})
    assert not (tmp_path / "cli.db").exists()  # a dry run writes nothing


def test_scan_url_from_a_loopback_server(tmp_path, feed_server):
    """A URL is fetched with the service's fetcher; the kind in feeds.yaml sets the source weight."""
    feed_server.routes["/f"] = Route(
        rss(item(guid="a", title="China bans gallium and germanium exports to the US", link="https://x.test/a",
                 body="The commerce ministry said export licences will not be granted."))
    )
    env = cli_env(tmp_path)
    url = feed_server.url("/f")
    (tmp_path / "rules" / "feeds.yaml").write_text(f"- name: ministry\n  url: {url}\n  kind: official\n", encoding="utf-8")
    official = json.loads(reewatch("scan", url, "--format", "json", env=env, cwd=tmp_path).stdout)
    blog = json.loads(reewatch("scan", url, "--format", "json", "--kind", "blog", env=env, cwd=tmp_path).stdout)
    assert official["alert"] and official["event_types"] == ["export_control_new"]
    assert official["score"] > blog["score"]
    assert len(feed_server.hits("/f")) == 2


def test_scan_table_shows_hostile_text_as_text(tmp_path, feed_server):
    """Feed text full of rich markup is printed literally; alert rows come first."""
    hostile = "[bold red]China bans gallium exports[/] [link=http://evil.test]click[/link]"
    feed_server.routes["/f"] = Route(
        rss(
            item(guid="calm", title="Gold tops $4,000", link="https://x.test/g", body="Central banks buy."),
            item(guid="hot", title=hostile, link="https://x.test/h", body="Beijing confirmed the new export ban."),
        )
    )
    result = reewatch("scan", feed_server.url("/f"), env=cli_env(tmp_path, COLUMNS="250"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "[bold red]China bans gallium exports[/]" in result.stdout
    assert "[link=http://evil.test]click[/link]" in result.stdout
    assert result.stdout.index("ALERT") < result.stdout.index("Gold tops")


def test_scan_failures_are_messages(tmp_path, feed_server):
    """An unreachable URL or a missing file is a one-line error and exit 1."""
    feed_server.routes["/gone"] = Route(b"", status=410, content_type="text/plain")
    env = cli_env(tmp_path)
    for source, message in (
        (feed_server.url("/gone"), "HTTP 410 Gone"),
        (str(tmp_path / "nope.xml"), "cannot read"),
    ):
        result = reewatch("scan", source, env=env, cwd=tmp_path)
        assert result.returncode == 1
        assert message in result.stderr and "Traceback" not in result.stderr


def test_running_service_keeps_the_last_good_rules(tmp_path, feed_server):
    """A broken rules edit while `reewatch run` is up is logged with its place; the service goes on
    scoring new articles with the rules it had."""
    import signal
    import sqlite3
    import subprocess
    import sys
    import time

    first = item(guid="one", title="China bans gallium exports to the US", link="https://x.test/1",
                 body="The commerce ministry announced the ban.")
    second = item(guid="two", title="China bans germanium exports to the US", link="https://x.test/2",
                  body="The commerce ministry announced a second ban.")
    feed_server.routes["/f"] = Route(rss(first))
    env = cli_env(tmp_path, REEWATCH_TICK_SECONDS="0.2")
    (tmp_path / "rules" / "feeds.yaml").write_text(
        f"- name: ministry\n  url: {feed_server.url('/f')}\n  interval: 10s\n  kind: official\n", encoding="utf-8"
    )
    log = (tmp_path / "service.log").open("w")
    process = subprocess.Popen([sys.executable, "-m", "service", "run"], env=env, cwd=tmp_path, stdout=log, stderr=log)

    def stored() -> dict[str, tuple]:
        try:
            with sqlite3.connect(tmp_path / "cli.db") as db:
                return {row[0]: row[1:] for row in db.execute("SELECT guid, alert, rules FROM articles")}
        except sqlite3.OperationalError:
            return {}

    def wait_for(check, seconds: float = 30):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if check():
                return True
            time.sleep(0.2)
        return False

    try:
        assert wait_for(lambda: "one" in stored())
        broken = tmp_path / "rules" / "alerts" / "broken.yaml"
        broken.write_text("rules:\n  - id: broken\n    descripton: typo\n", encoding="utf-8")
        assert wait_for(lambda: "keeping the last good version" in (tmp_path / "service.log").read_text())
        feed_server.routes["/f"] = Route(rss(first, second))
        assert wait_for(lambda: "two" in stored())
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        log.close()
    text = (tmp_path / "service.log").read_text()
    assert f"{broken}:3:5: [rule broken] unknown key 'descripton'; did you mean 'description'?" in text
    alert, rules = stored()["two"]
    assert alert == 1 and "export-controls-new-headline" in rules


def test_rules_check_warns_when_every_calendar_date_is_past(tmp_path):
    """A calendar with nothing ahead is legal but reminds nobody: OK, with a warning that says so."""
    env = cli_env(tmp_path)
    (tmp_path / "rules" / "calendar.yaml").write_text(
        "deadlines:\n  - id: old\n    date: 2020-01-01\n    title: Old rule\n    starts: it\n    source: s\n",
        encoding="utf-8",
    )
    result = reewatch("rules", "check", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "1 calendar deadlines" in result.stdout
    assert "warning: " in result.stderr and "every date in the calendar is past (the latest is 2020-01-01)" in result.stderr


def test_rules_check_locates_a_calendar_mistake(tmp_path):
    """A calendar entry naming a group the watchlists lack fails the check at its place."""
    env = cli_env(tmp_path)
    (tmp_path / "rules" / "calendar.yaml").write_text(
        "deadlines:\n  - id: x\n    date: 2030-01-01\n    title: t\n    starts: it\n    source: s\n"
        "    moves: {etfs: bullish}\n",
        encoding="utf-8",
    )
    result = reewatch("rules", "check", env=env, cwd=tmp_path)
    assert result.returncode == 1
    assert f"{tmp_path}/rules/calendar.yaml:7:13: unknown watchlist group or ticker 'etfs'; did you mean 'etf'?" in result.stderr
