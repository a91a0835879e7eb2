"""Run the real `reewatch` command in a subprocess with a clean environment."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.conftest import install_rules
from tests.e2e import zygote

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
    """`python -m service ARGS` with its output captured as text; forked from a process that has
    already imported the command's modules (tests/e2e/zygote.py), so each run skips a second of
    imports."""
    return zygote.run(list(args), env=env, cwd=cwd, timeout=timeout)


def start(*args: str, env: dict[str, str], cwd: Path, stdout=None, stderr=None, text: bool = False) -> zygote.Forked:
    """`subprocess.Popen([python, -m, service, *ARGS], ...)`, forked as `reewatch` runs are."""
    return zygote.spawn(list(args), env=env, cwd=cwd, stdout=stdout, stderr=stderr, text=text)
