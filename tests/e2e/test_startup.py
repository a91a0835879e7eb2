"""What starting a command costs and refuses: heavy libraries load only where used, and a
replayed price source without its file stops the service before it does anything."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.e2e.cli import ROOT, cli_env, reewatch

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


def test_the_service_loads_no_renderer_or_parser_before_its_first_poll():
    """The scheduler module holds all the service needs up to its first poll: the digest
    renderer (jinja2), the feed parser and its pool (feedparser, ftfy, pebble) and the e-mail
    address checker wait until a digest, a feed body or a recipient needs them (a service whose
    workers parse never loads the parser in its own process)."""
    later = ("jinja2", "feedparser", "ftfy", "pebble", "email_validator")
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
