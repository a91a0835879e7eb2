"""Run the real `reewatch` command in a subprocess with a clean environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import install_rules

ROOT = Path(__file__).resolve().parents[2]


def cli_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a CLI run; its rules folder starts as a copy of the shipped rules, and
    prices come from the shipped replay sample, so no run reaches Yahoo."""
    install_rules(tmp_path / "rules")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("REEWATCH_", "SLACK_", "SMTP_", "DATABASE_URL", "PRICE_SOURCE"))
    }
    env.update(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
            "REEWATCH_RULES_DIR": str(tmp_path / "rules"),
            "REEWATCH_VAR_DIR": str(tmp_path / "var"),
            "REEWATCH_CONNECT_TIMEOUT": "2",
            "REEWATCH_READ_TIMEOUT": "2",
            "PRICE_SOURCE": "replay",
            "REEWATCH_PRICE_REPLAY_FILE": str(ROOT / "service" / "demo" / "prices.csv"),
            "PYTHONUNBUFFERED": "1",
            "COLUMNS": "200",
        }
    )
    env.update(extra)
    return env


def reewatch(*args: str, env: dict[str, str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "service", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
