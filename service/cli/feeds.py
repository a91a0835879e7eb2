"""The polled feeds: `feeds status`, `feeds enable`."""

from __future__ import annotations

from datetime import UTC, datetime

import typer
from rich.table import Table
from rich.text import Text

from service.cli.context import err, errors_as_messages, load_cli_settings, out, store_session, when

feeds_app = typer.Typer(no_args_is_help=True, help="The polled feeds.")


@feeds_app.command("status")
def feeds_status() -> None:
    """Each feed's health: last success, last error, failures in a row, next poll."""
    from service.redaction import scrub
    from service.store.feeds import feeds_for_status

    settings = load_cli_settings()
    with errors_as_messages(settings), store_session(settings) as session:
        feeds = feeds_for_status(session)
    now = datetime.now(UTC)
    table = Table(title="Feeds", show_lines=False)
    for column in ("feed", "last success", "last error", "failures", "next poll"):
        table.add_column(column, overflow="fold")
    for feed in feeds:
        if feed.disabled_reason:
            next_poll = Text(f"disabled: {scrub(feed.disabled_reason)}", style="red")
        elif not feed.enabled:
            next_poll = "[dim]not in feeds.yaml[/]"
        else:
            next_poll = when(feed.next_poll_at, now)
        error = Text(f"{when(feed.last_error_at, now)}: {scrub(feed.last_error)}" if feed.last_error else "-")
        failures = str(feed.consecutive_failures)
        table.add_row(
            Text(feed.name),
            when(feed.last_success_at, now),
            error,
            f"[red]{failures}[/]" if feed.consecutive_failures else failures,
            next_poll,
        )
    out.print(table)


@feeds_app.command("enable")
def feeds_enable(name: str) -> None:
    """Re-enable a feed that was disabled (e.g. after HTTP 410) and poll it on the next tick."""
    from service.store.feeds import enable_feed

    settings = load_cli_settings()
    with errors_as_messages(settings), store_session(settings) as session:
        feed = enable_feed(session, name, datetime.now(UTC))
    if feed is None:
        err.print(f"no feed named {name!r}", markup=False)
        raise typer.Exit(1)
    out.print(f"feed {name} enabled; it will be polled on the next tick")
