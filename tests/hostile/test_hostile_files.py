"""Rule files written to hurt: an alias bomb, 50,000 nested lists, a 20 MB file, a broken
digests.yaml. `rules check` names each at file:line:column; the running service keeps polling
while it refuses them."""

from __future__ import annotations

import signal
import subprocess
import time

import pytest
from sqlmodel import select

from service.demo.server import Route
from service.store import migrate
from service.store.db import make_engine
from service.store.db import session as open_session
from service.store.models import Article
from tests.e2e.cli import cli_env, reewatch, start
from tests.sample_feeds import item, rss
from tests.unit.test_yaml_limits import alias_bomb

HUGE = "rules:\n" + "  - id: padding-rule-that-repeats\n" * 700_000  # about 20 MB

HOSTILE_FILES = {
    "alias bomb": ("alerts/bomb.yaml", alias_bomb(), "alerts/bomb.yaml:6:15: aliases expand more than 250,000 values"),
    "deep nesting": (
        "alerts/deep.yaml",
        "rules:\n  - id: deep\n    match:\n      any: " + "[" * 50_000 + "x" + "]" * 50_000 + "\n",
        "alerts/deep.yaml:4:72: nested more than 64 levels deep",
    ),
    "20 MB file": ("alerts/huge.yaml", HUGE, "alerts/huge.yaml:61682:26: the file is larger than 2 MB"),
    "broken digests.yaml": (
        "digests.yaml",
        "recipients:\n  - address: desk@fund.example\n    time: '25:00'\n    timezone: UTC\n",
        "digests.yaml:3:5: recipients.0.time: time must be HH:MM",
    ),
    "broken calendar.yaml": ("calendar.yaml", "deadlines:\n  - date: 2026-02-30\n    title: x\n", "calendar.yaml:2:11:"),
    "broken feeds.yaml": ("feeds.yaml", "- name: a\n  url: https://x.test/\n  intervall: 5m\n", "feeds.yaml:3:3: unknown key 'intervall'"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_FILES))
def test_rules_check_names_the_place_of_every_hostile_file(tmp_path, case):
    """Each is one located line and exit 1: no traceback, no MemoryError, no OK."""
    name, text, expected = HOSTILE_FILES[case]
    env = cli_env(tmp_path)
    (tmp_path / "rules" / name).write_text(text, encoding="utf-8")
    result = reewatch("rules", "check", env=env, cwd=tmp_path)
    assert result.returncode == 1, result.stdout
    assert f"{tmp_path}/rules/{expected}" in result.stderr.replace("\n", "")
    assert "Traceback" not in result.stderr and "OK" not in result.stdout


def articles(database_url: str) -> list[str]:
    engine = make_engine(database_url)
    try:
        with open_session(engine) as session:
            return [a.guid for a in session.exec(select(Article))]
    finally:
        engine.dispose()


def wait_for(predicate, what: str, within: float = 90) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"never happened: {what}")


def test_hostile_edits_to_a_running_service_are_refused_and_polling_goes_on(tmp_path, feed_server, database_url):
    """An alias bomb and a 20 MB file written while `reewatch run` runs are refused with their
    place in the log; the next poll of the feed still happens and stores the new item."""
    migrate.upgrade(database_url)
    feed_server.routes["/f"] = Route(rss(item(guid="first", title="First report", link="https://f.test/1")))
    env = cli_env(tmp_path, DATABASE_URL=database_url, REEWATCH_TICK_SECONDS="0.2")
    (tmp_path / "rules" / "feeds.yaml").write_text(f"- name: f\n  url: {feed_server.url('/f')}\n  interval: 10s\n", encoding="utf-8")
    log = tmp_path / "run.log"
    with log.open("w") as sink:
        service = start("run", env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=sink)
    try:
        wait_for(lambda: articles(database_url) == ["first"], "the first poll")
        (tmp_path / "rules" / "alerts" / "bomb.yaml").write_text(alias_bomb(), encoding="utf-8")
        (tmp_path / "rules" / "alerts" / "huge.yaml").write_text(HUGE, encoding="utf-8")
        wait_for(lambda: "aliases expand more than" in log.read_text(), "the bomb refused")
        feed_server.routes["/f"] = Route(
            rss(item(guid="first", title="First report", link="https://f.test/1"), item(guid="second", title="Later", link="https://f.test/2"))
        )
        wait_for(lambda: "second" in articles(database_url), "the next poll after the hostile edits")
    finally:
        service.send_signal(signal.SIGTERM)
        service.wait(timeout=60)
    text = log.read_text()
    assert service.returncode == 0, text
    assert f"{tmp_path}/rules/alerts/bomb.yaml:6:15: aliases expand more than" in text
    assert f"{tmp_path}/rules/alerts/huge.yaml:61682:26: the file is larger than 2 MB" in text
    assert "keeping the last good version" in text and "MemoryError" not in text and "RecursionError" not in text
