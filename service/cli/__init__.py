"""The `reewatch` command line: a thin shell over `service.pipeline`, one module per area."""

from __future__ import annotations

import typer

from service.cli.alerts import alerts_app
from service.cli.digest import digest_app
from service.cli.evaluate import evaluate
from service.cli.feeds import feeds_app
from service.cli.prices import prices_app
from service.cli.rules import rules_app, scan
from service.cli.service import db_app, demo, run

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    # Rich tracebacks print local variables, which can hold tokens: plain tracebacks only.
    pretty_exceptions_enable=False,
    help="Rare-earth policy news and price alerts.",
)
app.command()(run)
app.command()(demo)
app.command()(scan)
app.command("eval")(evaluate)
app.add_typer(db_app, name="db")
app.add_typer(feeds_app, name="feeds")
app.add_typer(rules_app, name="rules")
app.add_typer(prices_app, name="prices")
app.add_typer(digest_app, name="digest")
app.add_typer(alerts_app, name="alerts")


def main() -> None:
    app()
