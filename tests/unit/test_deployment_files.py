"""docker-compose.yml and .env.example: valid, complete, and naming only real settings.

No container engine runs here, so the compose file is checked against the Compose
Specification's JSON schema as vendored by check-jsonschema."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from service.config import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
SETTINGS = {field.validation_alias for field in Settings.model_fields.values()}


def check_compose(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_compose_file_follows_the_compose_specification():
    result = check_compose(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_catches_a_misspelt_key(tmp_path):
    """The check used above does reject a broken file (a misspelt healthcheck key)."""
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(COMPOSE.read_text().replace("    healthcheck:\n      test:", "    healthcheck:\n      tset:", 1))
    result = check_compose(broken)
    assert result.returncode == 1
    assert "tset" in result.stdout


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_compose_runs_the_app_on_a_healthy_postgres_with_mailpit_for_digests(compose):
    services = compose["services"]
    assert services["postgres"]["healthcheck"]["test"]
    app = services["reewatch"]
    assert app["depends_on"]["postgres"] == {"condition": "service_healthy"}
    assert app["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert services["migrate"]["depends_on"]["postgres"] == {"condition": "service_healthy"}
    assert services["mailpit"]["image"].startswith("axllent/mailpit")
    env = app["environment"]
    assert env["SMTP_HOST"] == "${SMTP_HOST:-mailpit}" and env["SMTP_PORT"] == "${SMTP_PORT:-1025}"
    assert env["DATABASE_URL"].startswith("postgresql://") and "@postgres:5432/" in env["DATABASE_URL"]
    # The health check asks the app's own /healthz on the port it is told to serve.
    assert f":{env['REEWATCH_HTTP_PORT']}/healthz" in " ".join(app["healthcheck"]["test"])


def test_compose_sets_only_settings_that_exist(compose):
    """A misspelt variable would be ignored silently by the service: every one must be a setting."""
    env = compose["services"]["reewatch"]["environment"]
    assert set(env) - SETTINGS == set()


def test_env_example_names_every_setting_and_only_those():
    named = set(re.findall(r"^#?\s?([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), flags=re.M))
    assert SETTINGS - named == set(), "settings missing from .env.example"
    assert named - SETTINGS == {"POSTGRES_PASSWORD"}  # docker-compose.yml's own
