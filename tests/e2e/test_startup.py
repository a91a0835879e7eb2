"""What starting a command costs and refuses: heavy libraries load only where used, and a
broken setting or file stops the service before it does anything."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from service.demo.server import Route
from tests.e2e.cli import ROOT, cli_env, reewatch
from tests.sample_feeds import good_feed

HEAVY = ("pandas", "yfinance", "matplotlib", "exchange_calendars")


def loaded(module: str, candidates: tuple[str, ...]) -> list[str]:
    """Which of `candidates` a fresh interpreter holds after importing `module`."""
    probe = f"import json, sys, {module}; print(json.dumps(sorted(m for m in {candidates!r} if m in sys.modules)))"
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("module", ["service.cli", "service.pipeline.scheduler"])
def test_importing_the_command_line_and_the_service_loads_no_heavy_library(module):
    """pandas, yfinance, matplotlib and the exchange calendars wait until a price cycle or a
    digest chart needs them: `reewatch --help` and the service's first poll do without."""
    assert loaded(module, HEAVY) == []


def test_the_command_line_loads_no_event_loop_settings_or_store():
    """Every command pays for importing the command line, `--help` included: asyncio, pydantic,
    SQLAlchemy, YAML and logging load in the commands that use them."""
    assert loaded("service.cli", ("asyncio", "pydantic", "sqlalchemy", "yaml", "logging")) == []


def test_the_service_loads_no_renderer_parser_or_job_scheduler_before_its_first_poll():
    """The scheduler module holds all the service needs up to its first poll: the digest
    renderer (jinja2), the feed parser and its pool (feedparser, ftfy, pebble), the e-mail
    address checker and APScheduler's scheduler (which reads every installed package's entry
    points) wait until a digest, a feed body, a recipient or the first scheduled job needs them."""
    later = ("jinja2", "feedparser", "ftfy", "pebble", "email_validator", "apscheduler.schedulers")
    assert loaded("service.pipeline.scheduler", later) == []


def test_replay_prices_without_a_file_refuse_to_start(tmp_path):
    """PRICE_SOURCE=replay without REEWATCH_PRICE_REPLAY_FILE is a settings error that names the
    variable; nothing is created."""
    env = cli_env(tmp_path)
    del env["REEWATCH_PRICE_REPLAY_FILE"]
    result = reewatch("run", env=env, cwd=tmp_path, timeout=60)
    assert result.returncode == 2
    assert "REEWATCH_PRICE_REPLAY_FILE" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "cli.db").exists()


@pytest.mark.parametrize(
    ("file", "text", "message"),
    [
        ("digests.yaml", "recipients:\n  - address: not-an-address\n    time: '07:00'\n    timezone: UTC\n", "digests.yaml:2:"),
        (
            "calendar.yaml",
            "deadlines:\n  - id: x\n    date: 2030-01-01\n    title: t\n    starts: it\n    source: s\n    moves: {etfs: bullish}\n",
            "calendar.yaml:7:13: unknown watchlist group or ticker 'etfs'",
        ),
    ],
)
def test_a_broken_digests_or_calendar_file_stops_the_service_before_it_polls(tmp_path, feed_server, file, text, message):
    """digests.yaml and calendar.yaml are read by jobs that start after the first poll, but they
    are checked with the rules: a mistake stops `reewatch run` with its place, and no feed is fetched."""
    feed_server.routes["/wire"] = Route(good_feed(count=1))
    env = cli_env(tmp_path)
    (tmp_path / "rules" / "feeds.yaml").write_text(f"- name: wire\n  url: {feed_server.url('/wire')}\n  interval: 1m\n")
    (tmp_path / "rules" / file).write_text(text, encoding="utf-8")
    result = reewatch("run", env=env, cwd=tmp_path, timeout=60)
    assert result.returncode == 1
    assert f"{tmp_path}/rules/{message}" in result.stderr and "Traceback" not in result.stderr
    assert feed_server.requests == []
