"""Ticker prices: `prices status`, `prices poll`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from service.cli.context import err, errors_as_messages, load_cli_settings, out, store_session, when

if TYPE_CHECKING:
    from service.domain.quotes import Quote

prices_app = typer.Typer(no_args_is_help=True, help="Ticker prices: sources, stored bars, health.")


@prices_app.command("status")
def prices_status() -> None:
    """Each ticker: last bar and its age, source, currency and exchange, last error, stale flags,
    and its price rules: which fired at their last check, and which could not judge and why."""
    from service.store.prices import ticker_states_for_status

    settings = load_cli_settings()
    with errors_as_messages(settings), store_session(settings) as session:
        states = ticker_states_for_status(session)
    if not states:
        out.print("no ticker prices yet: run `reewatch prices poll TICKER...`")
        return
    now = datetime.now(UTC)
    table = Table(title="Prices", show_lines=False)
    columns = (
        "ticker", "exchange", "currency", "market", "last bar", "age", "last", "source", "last error", "flags",
        "price rules",
    )
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
    """Run one price cycle for TICKERS with the configured source (PRICE_SOURCE) and store the bars;
    judge the price rules and queue their alerts (with --at: judge only)."""
    import asyncio

    from service.pipeline.prices import poll_prices_once

    settings = load_cli_settings()
    as_of = _instant(at) if at is not None else None
    with errors_as_messages(settings):
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
    for fired in report.fired:
        if as_of is not None:
            news = "not queued: --at is a dry run"
        else:
            news = "queued" if fired.queued else "already alerted this session"
        out.print(Text(f"price rule {fired.rule} fired on {fired.ticker}: {fired.reason} ({news})"))


def quote_cells(quote: Quote | None) -> list[Text]:
    """`63.55 USD` and `+5.2% today` for a table, or `-` and why there is no price."""
    if quote is None:
        return [Text("-"), Text("-")]
    if quote.price is None:
        return [Text("-"), Text(f"no price: {quote.missing}", style="yellow")]
    from service.alerts.card import percent_text, price_text

    last = Text(f"{price_text(quote.price)} {quote.currency or ''}".strip())
    if quote.change_pct is None:
        return [last, Text("-")]
    when = "today" if quote.live or quote.session is None else f"on {quote.session:%b} {quote.session.day}"
    style = "green" if quote.change_pct > 0 else "red" if quote.change_pct < 0 else ""
    return [last, Text(f"{percent_text(quote.change_pct)} {when}", style=style)]


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
    from service.redaction import scrub

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
            age = when(end, now).removesuffix(" ago") if end <= now else "forming"
    currency = state.currency or "-"
    if state.reporting_currency and state.reporting_currency != state.currency:
        currency += f" (reports {state.reporting_currency})"
    price = f"{state.last_price:,.6g}" if state.last_price is not None else "-"
    error = Text("-")
    if state.consecutive_failures:
        retry = ""
        if state.next_attempt_at is not None and state.next_attempt_at > now:
            retry = f", retry {when(state.next_attempt_at, now)}"
        elif state.next_attempt_at is not None:
            retry = ", retry due"
        error = Text(
            f"{when(state.last_error_at, now)}: {scrub(state.last_error)} "
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
        _rules_cell(state, now),
    ]


def _rules_cell(state, now: datetime) -> Text:
    """`firing: rule (reason)` and `cannot judge: rule: reason`, as of the last check; `-` before any."""
    if state.rules_checked_at is None:
        return Text("-")
    cell = Text(f"checked {when(state.rules_checked_at, now)}", style="dim")
    if state.rules_firing:
        cell.append(f"; firing: {state.rules_firing}", style="bold")
    if state.rules_blocked:
        cell.append(f"; cannot judge: {state.rules_blocked}", style="yellow")
    return cell
