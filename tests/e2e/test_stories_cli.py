"""`reewatch stories`: the stories of the period as the desk was told them, as a table and as JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from service.config import Settings
from tests.e2e.cli import cli_env, reewatch
from tests.store.outbox import Outbox
from tests.store.test_story_alerts import FIVE_OFFICIAL, FIVE_SECTOR, TECH_BAN


def test_stories_lists_each_story_with_its_sources_severity_and_state(tmp_path):
    """Two stories, one told by the press and confirmed by the ministry; an old one out of the window."""
    env = cli_env(tmp_path)
    box = Outbox(Settings(_env_file=None, database_url=env["DATABASE_URL"], rules_dir=tmp_path / "rules"))
    now = datetime.now(UTC)
    try:
        box.report(*FIVE_SECTOR, feed="mining-com", kind="sector", now=now - timedelta(hours=2))
        box.report(*FIVE_OFFICIAL, feed="mofcom", kind="official", now=now - timedelta(hours=1))
        box.report(*TECH_BAN, feed="reuters", now=now - timedelta(minutes=30), backfill=True)
        box.report("China adds gallium to its export control list", "The ministry said so.", feed="reuters",
                   now=now - timedelta(days=3))
    finally:
        box.close()
    result = reewatch("stories", "--format", "json", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    stories = [json.loads(line) for line in result.stdout.splitlines()]
    assert [s["title"] for s in stories] == [TECH_BAN[0], FIVE_OFFICIAL[0]]  # newest first; the lead is official
    ban, five = stories
    assert (ban["state"], ban["quiet_reason"], ban["sources"]) == ("quiet", "backfill", ["reuters"])
    assert (five["state"], five["severity"], five["official"]) == ("alerted", "critical", True)
    assert five["sources"] == ["mining-com", "mofcom"] and len(five["reports"]) == 2
    assert {r["source"]: r["kind"] for r in five["reports"]} == {"mining-com": "sector", "mofcom": "official"}
    table = reewatch("stories", "--since", "7d", env=env, cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    assert "2: mining-com, mofcom" in table.stdout and "quiet (backfill)" in table.stdout and "alerted" in table.stdout
    assert "gallium" in table.stdout  # three days back is inside a week
    bad = reewatch("stories", "--since", "soon", env=env, cwd=tmp_path)
    assert bad.returncode == 2 and "--since" in bad.stderr
