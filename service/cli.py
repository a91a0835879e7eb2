"""The `reewatch` command line: a thin shell over `service.pipeline`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from enum import Enum
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
rules_app = typer.Typer(no_args_is_help=True, help="The alert rules and watchlists.")
app.add_typer(db_app, name="db")
app.add_typer(feeds_app, name="feeds")
app.add_typer(rules_app, name="rules")

SEVERITY_STYLES = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan", None: "dim"}
ARROWS = {"bullish": "\u25b2", "bearish": "\u25bc", "neutral": "\u00b7"}


class ScanFormat(str, Enum):
    table = "table"
    json = "json"


class SourceKindOption(str, Enum):
    official = "official"
    wire = "wire"
    sector = "sector"
    aggregator = "aggregator"
    blog = "blog"

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
        # One problem a line, never wrapped: editors jump to file:line:column.
        for problem in exc.problems:
            err.print(str(problem), style="red", highlight=False, markup=False, soft_wrap=True)
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


@rules_app.command("check")
def rules_check(
    directory: Annotated[
        Path | None, typer.Argument(help="The rules folder (default: REEWATCH_RULES_DIR, ./rules).")
    ] = None,
) -> None:
    """Check the rules folder with the service's own loader; list every problem, exit 1 if any."""
    from service.rules import load_ruleset

    settings = _settings()
    folder = directory or settings.rules_dir
    with _errors_as_messages(settings):
        ruleset = load_ruleset(folder)
    out.print(Text(f"{folder}: OK, {ruleset.describe()}"), soft_wrap=True)


@app.command()
def scan(
    source: Annotated[str, typer.Argument(help="A feed URL or a local feed file.")],
    rules: Annotated[Path | None, typer.Option("--rules", help="The rules folder (default: the service's).")] = None,
    output: Annotated[ScanFormat, typer.Option("--format", help="table for people, json for one object a line.")] = (
        ScanFormat.table
    ),
    kind: Annotated[
        SourceKindOption | None,
        typer.Option("--kind", help="Score as this kind of source (default: as feeds.yaml says, else sector)."),
    ] = None,
) -> None:
    """Dry run: fetch and score one feed with the loaded rules; nothing is stored."""
    from service.pipeline.scan import scan_source
    from service.rules import load_ruleset

    settings = _settings()
    with _errors_as_messages(settings):
        ruleset = load_ruleset(rules or settings.rules_dir)
        report = asyncio.run(scan_source(settings, source, ruleset, kind=kind.value if kind else None))
    for warning in report.warnings:
        err.print(Text(f"warning: {warning}", style="yellow"))
    if output is ScanFormat.json:
        for scanned in report.entries:
            # ensure_ascii keeps every line plain ASCII: feed text cannot smuggle control characters.
            print(json.dumps(scanned.as_json(), ensure_ascii=True))
        return
    _print_scan_table(report)


def _print_scan_table(report) -> None:
    ordered = sorted(report.entries, key=lambda s: (not s.verdict.alert, -s.verdict.score))
    table = Table(title=Text(f"{report.source.name} ({report.source.kind}): {len(ordered)} entries"))
    for column in ("alert", "score", "severity", "event types", "tickers", "title", "rules"):
        table.add_column(column, overflow="fold")
    for scanned in ordered:
        verdict = scanned.verdict
        style = SEVERITY_STYLES.get(verdict.severity, "")
        table.add_row(
            Text("ALERT" if verdict.alert else "", style="bold"),
            Text(str(verdict.score)),
            Text(verdict.severity or "-"),
            Text(", ".join(verdict.event_types) or "-"),
            Text(_top_tickers(verdict.impacts, verdict.relevance)),
            Text(scanned.entry.title),
            Text(", ".join(verdict.rules) or "-"),
            style=style,
        )
    out.print(table)


def _top_tickers(impacts: Mapping[str, str], relevance: Mapping[str, int], limit: int = 4) -> str:
    """The tickers the article names first, then the rest of the impacted ones: "MP\u25b2 USAR\u25b2 +22"."""
    names = sorted(relevance, key=lambda t: (-relevance[t], t))
    names += [t for t in impacts if t not in relevance and impacts[t] != "neutral"]
    names += [t for t in impacts if t not in relevance and impacts[t] == "neutral"]
    shown = [f"{t}{ARROWS.get(impacts.get(t, ''), '')}" for t in names[:limit]]
    if len(names) > limit:
        shown.append(f"+{len(names) - limit}")
    return " ".join(shown) or "-"


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
        articles = Table(title="Ingested articles, scored (alerts first)")
        for column in ("feed", "published (UTC)", "score", "event types", "tickers", "title"):
            articles.add_column(column, overflow="fold")
        rows = [(o.feed, a) for o in report.outcomes for a in o.articles]
        rows.sort(key=lambda row: (not (row[1].verdict and row[1].verdict.alert), -(row[1].verdict.score if row[1].verdict else 0)))
        for feed, a in rows:
            when = a.published.strftime("%Y-%m-%d %H:%M") if a.published else "-"
            verdict = a.verdict
            score = Text(f"{verdict.score}{' ALERT' if verdict.alert else ''}" if verdict else "-")
            articles.add_row(
                Text(feed),
                when,
                score,
                Text(", ".join(verdict.event_types) if verdict and verdict.event_types else "-"),
                Text(_top_tickers(verdict.impacts, verdict.relevance) if verdict else "-"),
                Text(a.title),
                style=SEVERITY_STYLES.get(verdict.severity if verdict and verdict.alert else None, ""),
            )
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
