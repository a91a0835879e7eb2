"""The daily digest e-mails (`digest preview`, `digest send`, `digest status`) and the policy
calendar they count down to, with its Slack reminders (`digest calendar`)."""

from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from service.cli.context import errors_as_messages, load_cli_settings, out, store_session, when

digest_app = typer.Typer(no_args_is_help=True, help="The daily digest e-mails.")


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
    import asyncio

    from service.errors import ReewatchError
    from service.pipeline.digest import preview_digest
    from service.store import migrate

    settings = load_cli_settings()
    with errors_as_messages(settings):

        async def render():
            async with _digest_runtime(settings) as (rt, setup):
                chosen = _chosen_recipients(setup.recipients, recipient)[0]
                now = datetime.now(UTC)
                when = _digest_day(day, chosen, now)
                migrate.upgrade(settings.database_url)
                return chosen, when, await preview_digest(rt, setup, chosen, when, now=now)

        chosen, when, html = asyncio.run(render())
        try:
            out_file.parent.mkdir(parents=True, exist_ok=True)
            out_file.write_text(html, encoding="utf-8")
        except OSError as exc:
            raise ReewatchError(f"cannot write {out_file}: {exc.strerror}") from None
    out.print(f"digest for {chosen.address} on {when} written to {out_file}", markup=False, highlight=False)


@digest_app.command("send")
def digest_send(day: DateOption = None, recipient: RecipientOption = None) -> None:
    """Send the digests due now, or each recipient's digest for --date; never one already sent."""
    import asyncio

    from service.pipeline.digest import send_digest, send_due_digests
    from service.pipeline.heartbeat import keep_alive
    from service.store import migrate

    settings = load_cli_settings()
    with errors_as_messages(settings):

        async def send():
            async with _digest_runtime(settings) as (rt, setup):
                chosen = _chosen_recipients(setup.recipients, recipient)
                now = datetime.now(UTC)
                days = {r.key: _digest_day(day, r, now) for r in chosen} if day else {}
                migrate.upgrade(settings.database_url)
                # Beating as a running instance does: the claim on each digest is renewed while a
                # slow mail server takes it, so no instance takes the send over and mails it again.
                async with keep_alive(rt):
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
    from service.redaction import scrub
    from service.store.digests import runs_for_status

    settings = load_cli_settings()
    with errors_as_messages(settings), store_session(settings) as session:
        runs = runs_for_status(session)
    now = datetime.now(UTC)
    table = Table(title="Digest runs")
    for column in ("day", "recipient", "status", "attempts", "when", "detail"):
        table.add_column(column, overflow="fold")
    for run in runs:
        if run.status == "sent":
            status, moment, detail = "[green]sent[/]", when(run.sent_at, now), run.delivered_via or ""
        elif run.status == "failed":
            status, moment, detail = "[red]failed[/]", when(run.last_error_at, now), scrub(run.last_error)
        elif run.status == "skipped":
            status, moment, detail = "[dim]skipped[/]", when(run.last_error_at, now), scrub(run.last_error)
        else:
            status, moment, detail = "[yellow]pending[/]", when(run.next_attempt_at, now), scrub(run.last_error)
        table.add_row(str(run.digest_date), Text(run.recipient), status, str(run.attempts), moment, Text(detail))
    out.print(table)


@digest_app.command("calendar")
def digest_calendar(
    past: Annotated[bool, typer.Option("--past", help="Also list the dates that have passed.")] = False,
) -> None:
    """The dates of calendar.yaml still ahead: days left, where their Slack reminders go, and
    each reminder's state (upcoming, due, sent, pending, failed, skipped, missed)."""
    from service.alerts.reminders import reminder_channels
    from service.pipeline.reminders import calendar_status, load_reminder_calendar
    from service.rules import load_ruleset

    settings = load_cli_settings()
    with errors_as_messages(settings):
        ruleset = load_ruleset(settings.rules_dir)
        deadlines = load_reminder_calendar(settings.calendar_file, ruleset)
        now = datetime.now(UTC)
        with store_session(settings) as session:
            entries = calendar_status(session, deadlines, now, past=past)
    if not deadlines:
        out.print(f"no calendar entries in {settings.calendar_file}", markup=False, highlight=False)
        return
    table = Table(title=f"Calendar ({settings.calendar_file})")
    for column in ("date", "days", "id", "title", "reminders to", "7d", "1d", "0d"):
        table.add_column(column, overflow="fold")
    for entry in entries:
        deadline = entry.deadline
        day = f"{deadline.date}" + (f" {deadline.time:%H:%M}" if deadline.time else "") + f" {deadline.timezone}"
        cells = {state.slot.name: _slot_cell(state, now) for state in entry.slots}
        channels = ", ".join(reminder_channels(deadline, ruleset.rules, settings.slack_default_channel))
        table.add_row(
            Text(day), str(entry.days_left), Text(deadline.id), Text(deadline.title), Text(channels),
            *(cells.get(name, Text("-", style="dim")) for name in ("7d", "1d", "0d")),
        )
    out.print(table)
    if not entries:
        out.print("every date in the calendar has passed; add the next ones (see docs/digest.md)", markup=False)


_SLOT_STYLES = {"sent": "green", "pending": "yellow", "due": "yellow", "failed": "red", "missed": "red", "skipped": "dim"}


def _slot_cell(state, now: datetime) -> Text:
    from service.redaction import scrub

    text = Text(state.state, style=_SLOT_STYLES.get(state.state, ""))
    if state.state == "upcoming":
        text.append(f" {when(state.slot.due_at, now)}")
    elif state.detail:
        text.append(f" ({scrub(state.detail)})")
    return text


@asynccontextmanager
async def _digest_runtime(settings):
    """The runtime, and the digest set-up checked against its rules and reading the store."""
    from service.bootstrap import make_market_data, open_runtime
    from service.pipeline.digest import load_digest_setup

    async with open_runtime(settings) as rt:
        yield rt, load_digest_setup(settings, make_market_data(rt), ruleset=rt.rules.current)


def _chosen_recipients(recipients, address: str | None) -> list:
    from service.errors import ReewatchError

    if not recipients:
        raise ReewatchError("digests.yaml lists no recipients")
    if address is None:
        return list(recipients)
    wanted = [r for r in recipients if r.key == address.strip().lower()]
    if not wanted:
        known = ", ".join(r.address for r in recipients)
        raise ReewatchError(f"no recipient {address!r} in digests.yaml (known: {known})")
    return wanted


def _digest_day(value: str | None, recipient, now: datetime) -> date:
    from service.errors import ReewatchError

    if value is None or value.strip().lower() == "today":
        return now.astimezone(recipient.zone).date()
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ReewatchError(f"--date must be YYYY-MM-DD or 'today', not {value!r}") from None
