"""Running the service: `run`, `run --once`, `demo`, `db upgrade`."""

from __future__ import annotations

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
    import asyncio
    import gc

    settings = load_cli_settings()
    with errors_as_messages(settings):
        if once:
            from service.pipeline.runner import run_once

            report = asyncio.run(run_once(settings))
            print_cycle(report.cycle)
            print_prices(report.prices)
            print_delivery(report.delivery, settings)
            return
        # Starting builds most of what the service will hold (modules, models, rules): Python's
        # cyclic collector would walk that growing heap hundreds of times meanwhile, for garbage
        # that can as well be collected later. It is paused until the first poll cycle is done.
        gc.disable()
        try:
            from service.pipeline.scheduler import serve

            asyncio.run(serve(settings, first_cycle_done=gc.enable))
        finally:
            gc.enable()



def demo() -> None:
    """Run the main job on the embedded default: sample feeds on loopback, SQLite, console output."""
    import asyncio
    import logging

    from service.pipeline.demo import Delivered, DigestWritten, Ingested, PricesReplayed, Revisited, run_demo

    settings = load_cli_settings()
    if "log_level" not in settings.model_fields_set:
        # The demo's output is the tables and alerts; routine INFO lines would bury them.
        logging.getLogger().setLevel(logging.WARNING)

    async def show() -> None:
        replays = 0
        async for stage in run_demo(settings):
            if isinstance(stage, PricesReplayed):
                replays += 1
                if replays == 1:
                    out.rule("[bold]reewatch demo")
                    print_replay(stage, show_quotes=True)
                else:
                    out.rule(f"[bold]{stage.at:%H:%M} UTC: prices again, and the 15-minute follow-ups")
                    print_replay(stage)
            elif isinstance(stage, Ingested):
                out.print(f"Database: {stage.database}")
                print_cycle(stage.cycle, show_articles=True)
            elif isinstance(stage, Revisited):
                statuses = ", ".join(f"{o.feed}: {o.status.replace('_', ' ')}" for o in stage.cycle.outcomes)
                out.print(f"\nSecond cycle a minute later (conditional GET): {statuses}")
                out.rule("[bold]Alerts, as they would reach Slack")
            elif isinstance(stage, Delivered):
                out.print(f"{stage.report.sent} alerts delivered to the console (set SLACK_BOT_TOKEN for Slack)")
            elif isinstance(stage, DigestWritten):
                print_demo_digest(stage)

    with errors_as_messages(settings):
        asyncio.run(show())


def print_demo_digest(stage) -> None:
    """Where the demo's digest went, and the prices it shows."""
    out.rule(f"[bold]{stage.prices.at:%Y-%m-%d %H:%M} UTC: the reader's morning digest, as it would be e-mailed")
    print_replay(stage.prices)
    outcome = stage.outcome
    if not stage.files:
        out.print(Text(f"Digest for {outcome.recipient} on {outcome.day}: {outcome.status} ({outcome.detail})"), style="red")
        return
    out.print(Text(f"Digest for {outcome.recipient} on {outcome.day} (no SMTP_HOST, so written to files):"))
    for path in stage.files:
        out.print(Text(f"  {path.resolve()}"), soft_wrap=True)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Apply database migrations (the latest by default)."""
    from service.store import migrate

    settings = load_cli_settings()
    with errors_as_messages(settings):
        migrate.upgrade(settings.database_url, revision)
    out.print(f"database at revision {revision}")


def print_delivery(report, settings) -> None:
    """One line on what the dispatcher did."""
    where = "Slack" if settings.slack_bot_token and settings.slack_bot_token.get_secret_value().strip() else "the console"
    line = f"{report.sent} alerts delivered to {where}"
    if report.failed:
        line += f", {report.failed} failed (see `reewatch alerts status`)"
    if report.retried:
        line += f", {report.retried} to retry"
    out.print(line)


def print_replay(stage, *, show_quotes: bool = False) -> None:
    """A demo price cycle: one row per ticker with its quote, then the price rules that fired."""
    from service.cli.prices import quote_cells

    report = stage.report
    out.print(f"Prices replayed from the synthetic sample as of {stage.at:%Y-%m-%d %H:%M} UTC")
    if show_quotes:
        table = Table(title="Price cycle (replay)")
        for column in ("ticker", "result", "bars", "last", "day", "notes"):
            table.add_column(column, overflow="fold")
        for o in report.outcomes:
            result = "[red]failed[/]" if o.status == "failed" else o.status
            notes = "; ".join(n for n in (o.error, o.stale and f"stale: {o.stale}", *o.warnings) if n)
            table.add_row(Text(o.ticker), result, str(o.bars), *quote_cells(stage.quotes.get(o.ticker)), Text(notes))
        out.print(table)
    print_prices(report)
    for fired in report.fired:
        news = "" if fired.queued else " (already alerted this session)"
        out.print(Text(f"  price rule {fired.rule} fired on {fired.ticker}: {fired.reason}{news}"))


def print_prices(report) -> None:
    """One line on the price cycle: tickers, bars, failures, price alerts (None: it failed, see the log)."""
    if report is None:
        out.print("[red]price cycle failed[/] (see the log); `reewatch prices status` shows each ticker")
        return
    alerts = f"{report.price_alerts} price alert{'' if report.price_alerts == 1 else 's'} queued"
    line = (
        f"prices ({report.source}): {len(report.outcomes)} tickers, {report.stored_bars} bars stored, "
        f"{len(report.failed)} failed, {alerts}"
    )
    out.print(Text(line))


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
    out.print(
        f"{report.new_articles} new articles from {len(report.outcomes)} feeds, {report.queued_alerts} alerts queued"
    )
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
