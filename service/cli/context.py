"""What every command shares: settings, consoles, the error boundary and store access."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING

import typer
from rich.console import Console

# Settings (pydantic), the store (SQLAlchemy), logging and our errors are imported by the
# commands that use them: `reewatch --help` needs none of them.
if TYPE_CHECKING:
    from sqlmodel import Session

    from service.config import Settings

out = Console()
err = Console(stderr=True)


def load_cli_settings() -> Settings:
    """Settings for a command, with logging set up to scrub the secrets they hold."""
    from service.config import load_settings
    from service.domain.markets import keep_calendars_in
    from service.logs import configure_logging

    try:
        settings = load_settings()
    except Exception as exc:  # pydantic's ValidationError names the bad variable
        err.print(f"invalid settings: {exc}", style="red", markup=False, highlight=False)
        raise typer.Exit(2) from None
    secrets = [s.get_secret_value() for s in (settings.slack_bot_token, settings.smtp_password) if s]
    configure_logging(settings.log_level, secrets, fmt=settings.log_format)
    # Exchange calendars take seconds to build: each is kept under var/ for the day's other commands.
    keep_calendars_in(settings.exchange_calendars_dir)
    return settings


@contextmanager
def errors_as_messages(settings: Settings | None = None) -> Iterator[None]:
    """Turn the errors an operator can fix into a message and exit code 1, not a traceback."""
    from sqlalchemy.exc import SQLAlchemyError

    from service.errors import ConfigError, ReewatchError
    from service.redaction import scrub

    try:
        yield
    except ConfigError as exc:
        # One problem a line, never wrapped: editors jump to file:line:column.
        for problem in exc.problems:
            err.print(str(problem), style="red", highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(1) from None
    except SQLAlchemyError as exc:
        where = safe_database_url(settings.database_url) if settings else "the database"
        detail = scrub(str(getattr(exc, "orig", None) or exc).strip().splitlines()[0])
        err.print(f"cannot use {where}: {detail}", style="red", highlight=False, markup=False)
        raise typer.Exit(1) from None
    except ReewatchError as exc:
        err.print(str(exc), style="red", highlight=False, markup=False)
        raise typer.Exit(1) from None


@contextmanager
def store_session(settings: Settings) -> Iterator[Session]:
    """A session on the migrated database, for commands that read or fix state."""
    from service.store import migrate
    from service.store.db import make_engine
    from service.store.db import session as open_session

    migrate.upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with open_session(engine) as session:
            yield session
    finally:
        engine.dispose()


def safe_database_url(url: str) -> str:
    """The URL with its password hidden, for messages."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL is shown by scheme only
        return url.split(":", 1)[0] + " database"


def when(moment: datetime | None, now: datetime) -> str:
    """'5m ago' or 'in 2h': how far `moment` is from `now`, for tables."""
    if moment is None:
        return "-"
    seconds = (moment - now).total_seconds()
    span = abs(seconds)
    if span < 90:
        text = f"{span:.0f}s"
    elif span < 5400:
        text = f"{span / 60:.0f}m"
    elif span < 172800:
        text = f"{span / 3600:.0f}h"
    else:
        text = f"{span / 86400:.0f}d"
    return f"in {text}" if seconds > 0 else f"{text} ago"
