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
digest_app = typer.Typer(no_args_is_help=True, help="The daily digest e-mails.")
app.add_typer(db_app, name="db")
app.add_typer(feeds_app, name="feeds")
app.add_typer(digest_app, name="digest")

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


DateOption = Annotated[
    str | None, typer.Option("--date", help="The digest's day, YYYY-MM-DD or 'today' (in each recipient's zone).")
]
RecipientOption = Annotated[str | None, typer.Option("--recipient", help="Only this recipient's address.")]


@digest_app.command("preview")
def digest_preview(
    out_file: Annotated[Path, typer.Option("--out", help="Where to write the HTML.", dir_okay=False)],
    day: DateOption = None,
    recipient: RecipientOption = None,
) -> None:
    """Write a recipient's digest as HTML (chart inlined) without sending it or recording a run."""
    from service.bootstrap import open_runtime
    from service.pipeline.digest import load_digest_setup, preview_digest
    from service.store import migrate

    settings = _settings()
    with _errors_as_messages(settings):
        setup = load_digest_setup(settings)
        chosen = _chosen_recipients(setup.recipients, recipient)[0]
        now = datetime.now(UTC)
        when = _digest_day(day, chosen, now)
        migrate.upgrade(settings.database_url)

        async def render() -> str:
            async with open_runtime(settings) as rt:
                return await preview_digest(rt, setup, chosen, when, now=now)

        html = asyncio.run(render())
        try:
            out_file.parent.mkdir(parents=True, exist_ok=True)
            out_file.write_text(html, encoding="utf-8")
        except OSError as exc:
            raise ReewatchError(f"cannot write {out_file}: {exc.strerror}") from None
    out.print(f"digest for {chosen.address} on {when} written to {out_file}", markup=False, highlight=False)


@digest_app.command("send")
def digest_send(day: DateOption = None, recipient: RecipientOption = None) -> None:
    """Send the digests due now, or each recipient's digest for --date; never one already sent."""
    from service.bootstrap import open_runtime
    from service.pipeline.digest import load_digest_setup, send_digest, send_due_digests
    from service.store import migrate

    settings = _settings()
    with _errors_as_messages(settings):
        setup = load_digest_setup(settings)
        chosen = _chosen_recipients(setup.recipients, recipient)
        now = datetime.now(UTC)
        days = {r.key: _digest_day(day, r, now) for r in chosen} if day else {}
        migrate.upgrade(settings.database_url)

        async def send():
            async with open_runtime(settings) as rt:
                if not day:
                    return await send_due_digests(rt, setup, now=now, only={r.key for r in chosen})
                return [await send_digest(rt, setup, r, days[r.key], now=now, force=True) for r in chosen]

        outcomes = asyncio.run(send())
    styles = {"sent": "green", "already_sent": "dim", "retrying": "yellow", "waiting": "yellow", "failed": "red"}
    for o in outcomes:
        line = Text(f"{o.recipient} {o.day or ''}: ")
        line.append(o.status.replace("_", " "), style=styles.get(o.status, ""))
        if o.detail:
            line.append(f" ({o.detail})")
        out.print(line)
    if any(o.status in ("failed", "retrying") for o in outcomes):
        raise typer.Exit(1)


@digest_app.command("status")
def digest_status() -> None:
    """The latest digest runs: sent, waiting to retry, or failed, and why."""
    from service.store import migrate
    from service.store.db import make_engine
    from service.store.db import session as open_session
    from service.store.digests import runs_for_status

    settings = _settings()
    with _errors_as_messages(settings):
        migrate.upgrade(settings.database_url)
        engine = make_engine(settings.database_url)
        try:
            with open_session(engine) as session:
                runs = runs_for_status(session)
        finally:
            engine.dispose()
    now = datetime.now(UTC)
    table = Table(title="Digest runs")
    for column in ("day", "recipient", "status", "attempts", "when", "detail"):
        table.add_column(column, overflow="fold")
    for run in runs:
        if run.status == "sent":
            status, when, detail = "[green]sent[/]", _when(run.sent_at, now), run.delivered_via or ""
        elif run.status == "failed":
            status, when, detail = "[red]failed[/]", _when(run.last_error_at, now), run.last_error or ""
        else:
            status, when, detail = "[yellow]pending[/]", _when(run.next_attempt_at, now), run.last_error or ""
        table.add_row(str(run.digest_date), Text(run.recipient), status, str(run.attempts), when, Text(detail))
    out.print(table)


def _chosen_recipients(recipients, address: str | None) -> list:
    if not recipients:
        raise ReewatchError("digests.yaml lists no recipients")
    if address is None:
        return list(recipients)
    wanted = [r for r in recipients if r.key == address.strip().lower()]
    if not wanted:
        known = ", ".join(r.address for r in recipients)
        raise ReewatchError(f"no recipient {address!r} in digests.yaml (known: {known})")
    return wanted


def _digest_day(value: str | None, recipient, now: datetime):
    from datetime import date

    if value is None or value.strip().lower() == "today":
        return now.astimezone(recipient.zone).date()
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ReewatchError(f"--date must be YYYY-MM-DD or 'today', not {value!r}") from None


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
