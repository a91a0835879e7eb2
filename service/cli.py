"""The `reewatch` command line: a thin shell over `service.pipeline`."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from service.config import Settings, load_settings
from service.errors import ConfigError, ReewatchError
from service.logs import configure_logging

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    # Rich tracebacks print local variables, which can hold tokens: plain tracebacks only.
    pretty_exceptions_enable=False,
    help="Rare-earth policy news and price alerts.",
)
db_app = typer.Typer(no_args_is_help=True, help="The database schema.")
feeds_app = typer.Typer(no_args_is_help=True, help="The polled feeds.")
prices_app = typer.Typer(no_args_is_help=True, help="Ticker prices: sources, stored bars, health.")
app.add_typer(db_app, name="db")
app.add_typer(feeds_app, name="feeds")
app.add_typer(prices_app, name="prices")

out = Console()
err = Console(stderr=True)


def _settings() -> Settings:
    try:
        settings = load_settings()
    except Exception as exc:  # pydantic's ValidationError names the bad variable
        err.print(f"[red]invalid settings:[/] {exc}")
        raise typer.Exit(2) from None
    secrets = [s.get_secret_value() for s in (settings.slack_bot_token, settings.smtp_password) if s]
    configure_logging(settings.log_level, secrets)
    return settings


@contextmanager
def _errors_as_messages(settings: Settings | None = None) -> Iterator[None]:
    """Turn the errors an operator can fix into a message and exit code 1, not a traceback."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        yield
    except ConfigError as exc:
        for problem in exc.problems:
            err.print(str(problem), style="red", highlight=False, markup=False)
        raise typer.Exit(1) from None
    except SQLAlchemyError as exc:
        where = _safe_database_url(settings.database_url) if settings else "the database"
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        err.print(f"cannot use {where}: {detail}", style="red", highlight=False, markup=False)
        raise typer.Exit(1) from None
    except ReewatchError as exc:
        err.print(str(exc), style="red", highlight=False, markup=False)
        raise typer.Exit(1) from None


def _safe_database_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL is shown by scheme only
        return url.split(":", 1)[0] + " database"


@app.command()
def run(
    once: Annotated[bool, typer.Option("--once", help="Poll every due feed once, then exit.")] = False,
) -> None:
    """Run the service: poll feeds on their intervals until stopped (or once with --once)."""
    settings = _settings()
    with _errors_as_messages(settings):
        if once:
            from service.pipeline.runner import run_once

            _print_cycle(asyncio.run(run_once(settings)))
            return
        from service.pipeline.scheduler import serve

        asyncio.run(serve(settings))


@app.command()
def demo() -> None:
    """Run the main job on the embedded default: sample feeds on loopback, SQLite, console output."""
    from service.pipeline.demo import run_demo

    settings = _settings()
    with _errors_as_messages(settings):
        report = asyncio.run(run_demo(settings))
    out.rule("[bold]reewatch demo")
    out.print(f"Database: {report.database}")
    _print_cycle(report.first, show_articles=True)
    statuses = ", ".join(f"{o.feed}: {o.status.replace('_', ' ')}" for o in report.second.outcomes)
    out.print(f"\nSecond cycle a minute later (conditional GET): {statuses}")


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Apply database migrations (the latest by default)."""
    from service.store import migrate

    settings = _settings()
    with _errors_as_messages(settings):
        migrate.upgrade(settings.database_url, revision)
    out.print(f"database at revision {revision}")


@feeds_app.command("status")
def feeds_status() -> None:
    """Each feed's health: last success, last error, failures in a row, next poll."""
    from service.store import migrate
    from service.store.db import make_engine
    from service.store.db import session as open_session
    from service.store.feeds import feeds_for_status

    settings = _settings()
    with _errors_as_messages(settings):
        migrate.upgrade(settings.database_url)
        engine = make_engine(settings.database_url)
        try:
            with open_session(engine) as session:
                feeds = feeds_for_status(session)
        finally:
            engine.dispose()
    now = datetime.now(UTC)
    table = Table(title="Feeds", show_lines=False)
    for column in ("feed", "last success", "last error", "failures", "next poll"):
        table.add_column(column, overflow="fold")
    for feed in feeds:
        if feed.disabled_reason:
            next_poll = Text(f"disabled: {feed.disabled_reason}", style="red")
        elif not feed.enabled:
            next_poll = "[dim]not in feeds.yaml[/]"
        else:
            next_poll = _when(feed.next_poll_at, now)
        error = Text(f"{_when(feed.last_error_at, now)}: {feed.last_error}" if feed.last_error else "-")
        failures = str(feed.consecutive_failures)
        table.add_row(
            Text(feed.name),
            _when(feed.last_success_at, now),
            error,
            f"[red]{failures}[/]" if feed.consecutive_failures else failures,
            next_poll,
        )
    out.print(table)


@feeds_app.command("enable")
def feeds_enable(name: str) -> None:
    """Re-enable a feed that was disabled (e.g. after HTTP 410) and poll it on the next tick."""
    from service.store import migrate
    from service.store.db import make_engine
    from service.store.db import session as open_session
    from service.store.feeds import enable_feed

    settings = _settings()
    with _errors_as_messages(settings):
        migrate.upgrade(settings.database_url)
        engine = make_engine(settings.database_url)
        try:
            with open_session(engine) as session:
                feed = enable_feed(session, name, datetime.now(UTC))
        finally:
            engine.dispose()
    if feed is None:
        err.print(f"no feed named {name!r}", markup=False)
        raise typer.Exit(1)
    out.print(f"feed {name} enabled; it will be polled on the next tick")


@prices_app.command("status")
def prices_status() -> None:
    """Each ticker: last bar and its age, source, currency and exchange, last error, stale flags."""
    from service.store import migrate
    from service.store.db import make_engine
    from service.store.db import session as open_session
    from service.store.prices import ticker_states_for_status

    settings = _settings()
    with _errors_as_messages(settings):
        migrate.upgrade(settings.database_url)
        engine = make_engine(settings.database_url)
        try:
            with open_session(engine) as session:
                states = ticker_states_for_status(session)
        finally:
            engine.dispose()
    if not states:
        out.print("no ticker prices yet: run `reewatch prices poll TICKER...`")
        return
    now = datetime.now(UTC)
    table = Table(title="Prices", show_lines=False)
    columns = ("ticker", "exchange", "currency", "market", "last bar", "age", "last", "source", "last error", "flags")
    for column in columns:
        table.add_column(column, overflow="fold")
    for state in states:
        table.add_row(*_price_row(state, now))
    out.print(table)


@prices_app.command("poll")
def prices_poll(
    tickers: Annotated[list[str], typer.Argument(help="Yahoo symbols, e.g. MP LYC.AX 600111.SS.")],
    at: Annotated[
        str | None,
        typer.Option("--at", help="Run as of this ISO 8601 instant (with a zone), e.g. to replay a past day."),
    ] = None,
) -> None:
    """Run one price cycle for TICKERS with the configured source (PRICE_SOURCE) and store the bars."""
    from service.pipeline.prices import poll_prices_once

    settings = _settings()
    as_of = _instant(at) if at is not None else None
    with _errors_as_messages(settings):
        report = asyncio.run(poll_prices_once(settings, tickers, at=as_of))
    table = Table(title=f"Price cycle ({report.source})")
    for column in ("ticker", "result", "bars", "notes"):
        table.add_column(column, overflow="fold")
    for o in report.outcomes:
        result = "[red]failed[/]" if o.status == "failed" else o.status
        notes = "; ".join(n for n in (o.error, o.stale and f"stale: {o.stale}", *o.warnings) if n)
        table.add_row(Text(o.ticker), result, str(o.bars), Text(notes))
    out.print(table)
    count = len(report.outcomes)
    tickers = "ticker" if count == 1 else "tickers"
    out.print(f"{report.stored_bars} bars stored for {count} {tickers}, {len(report.failed)} failed")


def _instant(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        err.print(f"--at {text!r} is not an ISO 8601 instant, e.g. 2025-10-10T21:00Z", markup=False)
        raise typer.Exit(2) from None
    if moment.tzinfo is None:
        err.print(f"--at {text!r} needs a time zone, e.g. 2025-10-10T21:00Z", markup=False)
        raise typer.Exit(2)
    return moment.astimezone(UTC)


def _price_row(state, now: datetime) -> list:
    from service.domain import markets

    market = "-"
    last_bar = age = "-"
    flags = Text()
    if state.exchange in markets.EXCHANGES:
        calendar = markets.calendar(state.exchange)
        if calendar.local_day(now) > calendar.last_day:
            flags.append(f"hours estimated: holidays after {calendar.last_day} unpublished", style="yellow")
        session = markets.current_session(state.exchange, now)
        if markets.is_open(state.exchange, now):
            market = "open"
        elif session is not None:
            market = "lunch break"
        else:
            market = "closed"
        if state.last_bar_at is not None and state.last_bar_interval is not None:
            end = markets.bar_end(state.exchange, state.last_bar_interval, state.last_bar_at)
            local = state.last_bar_at.astimezone(markets.exchange(state.exchange).zone)
            shown = f"{local:%Y-%m-%d}" if state.last_bar_interval == "1d" else f"{local:%Y-%m-%d %H:%M} local"
            last_bar = f"{state.last_bar_interval} {shown}"
            age = _when(end, now).removesuffix(" ago") if end <= now else "forming"
    currency = state.currency or "-"
    if state.reporting_currency and state.reporting_currency != state.currency:
        currency += f" (reports {state.reporting_currency})"
    price = f"{state.last_price:,.6g}" if state.last_price is not None else "-"
    error = Text("-")
    if state.consecutive_failures:
        retry = ""
        if state.next_attempt_at is not None and state.next_attempt_at > now:
            retry = f", retry {_when(state.next_attempt_at, now)}"
        elif state.next_attempt_at is not None:
            retry = ", retry due"
        error = Text(
            f"{_when(state.last_error_at, now)}: {state.last_error} "
            f"({state.consecutive_failures} in a row{retry})",
            style="red",
        )
    if state.stale_reason:
        flags.append(("; " if flags else "") + f"stale: {state.stale_reason}", style="red")
    if state.data_warning:
        flags.append(("; " if flags else "") + f"data: {state.data_warning}", style="yellow")
    return [
        Text(state.ticker),
        state.exchange or "unknown",
        currency,
        market,
        last_bar,
        age,
        price,
        state.source or "-",
        error,
        flags if flags else "-",
    ]


def _print_cycle(report, *, show_articles: bool = False) -> None:
    table = Table(title="Poll cycle")
    for column in ("feed", "result", "new", "seen", "dup", "notes"):
        table.add_column(column, overflow="fold")
    for o in report.outcomes:
        result = "[red]failed[/]" if o.status == "failed" else o.status.replace("_", " ")
        notes = o.error or "; ".join(o.warnings) or ""
        table.add_row(Text(o.feed), result, str(o.new), str(o.seen), str(o.duplicates), Text(notes))
    out.print(table)
    out.print(f"{report.new_articles} new articles from {len(report.outcomes)} feeds")
    if show_articles:
        articles = Table(title="Ingested articles")
        articles.add_column("feed")
        articles.add_column("published (UTC)")
        articles.add_column("title", overflow="fold")
        for o in report.outcomes:
            for a in o.articles:
                when = a.published.strftime("%Y-%m-%d %H:%M") if a.published else "-"
                articles.add_row(Text(o.feed), when, Text(a.title))
        out.print(articles)


def _when(moment: datetime | None, now: datetime) -> str:
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


def main() -> None:
    app()


if __name__ == "__main__":
    main()
