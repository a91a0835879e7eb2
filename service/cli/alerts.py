"""Alerts in the outbox and their delivery: `alerts status`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from service.cli.context import errors_as_messages, load_cli_settings, out, store_session, when

alerts_app = typer.Typer(no_args_is_help=True, help="Alerts in the outbox and their delivery.")


@alerts_app.command("status")
def alerts_status(
    failures: Annotated[int, typer.Option("--failures", min=0, help="How many recent failures to list.")] = 10,
) -> None:
    """Delivery at a glance: alerts by channel and status, the oldest one waiting, the latest failures."""
    from service.alerts.mrkdwn import one_line, truncate
    from service.redaction import scrub
    from service.store.outbox import FAILED, PENDING, SENT, SKIPPED, outbox_status

    settings = load_cli_settings()
    with errors_as_messages(settings), store_session(settings) as session:
        status = outbox_status(session, failures=failures)
    now = datetime.now(UTC)
    if settings.slack_bot_token and settings.slack_bot_token.get_secret_value().strip():
        out.print(Text(f"Delivery: Slack at {settings.slack_api_url}"))
    else:
        out.print("Delivery: console (no SLACK_BOT_TOKEN)")
    table = Table(title="Outbox")
    # Skipped: calendar reminders a later reminder of the same date made moot, never to be sent.
    for column in ("channel", PENDING, SENT, FAILED, SKIPPED):
        table.add_column(column, justify="left" if column == "channel" else "right")
    for channel, counts in status.counts.items():
        failed = counts.get(FAILED, 0)
        table.add_row(
            Text(channel),
            str(counts.get(PENDING, 0)),
            str(counts.get(SENT, 0)),
            f"[red]{failed}[/]" if failed else "0",
            str(counts.get(SKIPPED, 0)),
        )
    totals = status.totals
    table.add_section()
    table.add_row("all", str(totals[PENDING]), str(totals[SENT]), str(totals[FAILED]), str(totals[SKIPPED]), style="bold")
    out.print(table)

    oldest = status.oldest_pending
    if oldest is None:
        out.print("Nothing pending.")
    else:
        line = Text(f"Oldest pending: {oldest.key}, queued {when(oldest.created_at, now)}, ")
        line.append(f"{oldest.attempts} attempts, next try {when(oldest.next_attempt_at, now)}")
        if oldest.parent_id is not None and oldest.attempts == 0:
            line.append(" (a thread reply: waits for the first alert of its thread)")
        if oldest.last_error:
            line.append(f"; last error: {scrub(oldest.last_error)}")
        out.print(line)

    if status.last_failures:
        failed_table = Table(title="Latest failures")
        for column in ("failed", "channel", "headline", "reason"):
            failed_table.add_column(column, overflow="fold")
        for row in status.last_failures:
            headline = one_line(str((row.payload or {}).get("title") or ""))
            failed_table.add_row(
                when(row.last_attempt_at or row.created_at, now),
                Text(row.channel),
                Text(truncate(headline, 80)),
                Text(scrub(row.last_error) or "-", style="red"),
            )
        out.print(failed_table)
