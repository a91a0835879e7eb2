"""Running the service: `run`, `run --once`, `demo`, `db upgrade`."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from service.cli.context import errors_as_messages, load_cli_settings, out
from service.cli.rules import SEVERITY_STYLES, top_tickers


db_app = typer.Typer(no_args_is_help=True, help="The database schema.")



def run(
    once: Annotated[bool, typer.Option("--once", help="Poll every due feed once, then exit.")] = False,
) -> None:
    """Run the service: poll feeds on their intervals until stopped (or once with --once)."""
    settings = load_cli_settings()
    with errors_as_messages(settings):
        if once:
            from service.pipeline.runner import run_once

            print_cycle(asyncio.run(run_once(settings)))
            return
        from service.pipeline.scheduler import serve

        asyncio.run(serve(settings))



def demo() -> None:
    """Run the main job on the embedded default: sample feeds on loopback, SQLite, console output."""
    from service.pipeline.demo import run_demo

    settings = load_cli_settings()
    with errors_as_messages(settings):
        report = asyncio.run(run_demo(settings))
    out.rule("[bold]reewatch demo")
    out.print(f"Database: {report.database}")
    print_cycle(report.first, show_articles=True)
    statuses = ", ".join(f"{o.feed}: {o.status.replace('_', ' ')}" for o in report.second.outcomes)
    out.print(f"\nSecond cycle a minute later (conditional GET): {statuses}")


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Apply database migrations (the latest by default)."""
    from service.store import migrate

    settings = load_cli_settings()
    with errors_as_messages(settings):
        migrate.upgrade(settings.database_url, revision)
    out.print(f"database at revision {revision}")


def print_cycle(report, *, show_articles: bool = False) -> None:
    """The outcome of a poll cycle, one row per feed (and, for the demo, what it stored)."""
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
                Text(top_tickers(verdict.impacts, verdict.relevance) if verdict else "-"),
                Text(a.title),
                style=SEVERITY_STYLES.get(verdict.severity if verdict and verdict.alert else None, ""),
            )
        out.print(articles)
