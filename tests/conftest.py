"""Shared fixtures: real databases (SQLite and PostgreSQL), a loopback feed server, settings."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from service.config import Settings
from service.demo.server import FeedServer
from service.store.db import make_engine
from tests import databases

# --- Prices: yfinance must be imported offline-capable, once, before any test runs. ---
# yfinance picks curl_cffi or `requests` at import; `responses` (tests/fakes/yahoo_http.py) only
# sees `requests`. Importing it here, outside any test, also keeps its import-time
# warnings.filterwarnings("default", module="^yfinance") from overriding pyproject's filters.
os.environ["YF_DISABLE_CURL_CFFI"] = "1"
import yfinance  # noqa: E402,F401

# --- end prices ---

#: Settings the shell may hold that would change what a test runs against (a DATABASE_URL, a
#: real Slack token, PRICE_SOURCE=replay); the test database's own address is kept.
_SERVICE_ENVIRONMENT = ("REEWATCH_", "PRICE_SOURCE", "DATABASE_URL", "SLACK_", "SMTP_")
_KEPT = {"REEWATCH_TEST_POSTGRES_URL"}


@pytest.fixture(autouse=True)
def _service_environment_cleared(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts without the operator's settings in the environment."""
    for name in list(os.environ):
        if name.startswith(_SERVICE_ENVIRONMENT) and name not in _KEPT:
            monkeypatch.delenv(name)


ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SHIPPED_RULES = ROOT / "rules"


def install_rules(folder: Path) -> Path:
    """Copy the shipped watchlists, word lists and alert rules (not feeds.yaml) into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("watchlists.yaml", "terms.yaml", "ignore.yaml"):
        shutil.copy(SHIPPED_RULES / name, folder / name)
    shutil.copytree(SHIPPED_RULES / "alerts", folder / "alerts", dirs_exist_ok=True)
    return folder
POSTGRES_ADMIN_URL = os.environ.get(
    "REEWATCH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _postgres_unreachable_reason() -> str | None:
    try:
        engine = create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # any failure to connect means: skip, or fail in CI
        return f"PostgreSQL at {POSTGRES_ADMIN_URL} is unreachable: {type(exc).__name__}: {exc}"
    return None


_PG_REASON: list[str | None] = []


def postgres_reason() -> str | None:
    if not _PG_REASON:
        _PG_REASON.append(_postgres_unreachable_reason())
    return _PG_REASON[0]


def _require_postgres() -> None:
    reason = postgres_reason()
    if reason is None:
        return
    if os.environ.get("REQUIRE_POSTGRES") == "1":
        pytest.fail(f"REQUIRE_POSTGRES=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session", autouse=True)
def _test_databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """This process's reusable test databases (tests/databases.py): the PostgreSQL ones are
    made by the first test that needs them, the SQLite template by the first migration."""
    databases.SQLITE.append(databases.SQLiteTemplate(tmp_path_factory.mktemp("sqlite-template")))
    yield
    databases.SQLITE.clear()
    while databases.POSTGRES:
        databases.POSTGRES.pop().close()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """An empty PostgreSQL database for one test: no other test uses it at the same time, and
    no other test sees what this one left in it (tests/databases.py)."""
    _require_postgres()
    if not databases.POSTGRES:
        databases.POSTGRES.append(databases.PostgresDatabases(POSTGRES_ADMIN_URL))
    pool = databases.POSTGRES[0]
    url = pool.acquire(migrated=False)
    try:
        yield url
    finally:
        pool.release(url)


@pytest.fixture
def engine(database_url):
    """An engine on a migrated, empty database (SQLite and PostgreSQL in turn)."""
    # Running the migrations costs 0.1 to 0.2 s; a copy of a migrated database gives the same.
    databases.upgrade(database_url)
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'reewatch.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each store test runs on SQLite and on PostgreSQL, each time on an empty database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'reewatch.db'}"
    else:
        yield request.getfixturevalue("postgres_url")


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    with FeedServer() as server:
        yield server


@pytest.fixture
def make_settings(tmp_path: Path):
    """Settings for a test: its own rules (a copy of the shipped ones) and var folders, short
    timeouts, no .env file."""
    install_rules(tmp_path / "rules")

    def make(database_url: str | None = None, **overrides) -> Settings:
        values = {
            "database_url": database_url or f"sqlite:///{tmp_path / 'reewatch.db'}",
            "rules_dir": tmp_path / "rules",
            "var_dir": tmp_path / "var",
            "connect_timeout": 2.0,
            "read_timeout": 2.0,
            "instance_id": "test",
            "parse_workers": 0,
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)

    return make


@pytest.fixture
def shared_corpora() -> Path:
    """../shared/corpora when the shared folder is present; the test is skipped otherwise."""
    path = SHARED / "corpora"
    if not path.is_dir():
        pytest.skip(f"{path} is not present (the shared corpora live beside the repository)")
    return path
