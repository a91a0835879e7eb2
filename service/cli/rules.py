"""The alert rules: `rules check`, and `scan`, the dry run over one feed."""

from __future__ import annotations

import json
from collections.abc import Mapping
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from service.cli.context import err, errors_as_messages, load_cli_settings, out

rules_app = typer.Typer(no_args_is_help=True, help="The alert rules and watchlists.")

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


@rules_app.command("check")
def rules_check(
    directory: Annotated[
        Path | None, typer.Argument(help="The rules folder (default: REEWATCH_RULES_DIR, ./rules).")
    ] = None,
) -> None:
    """Check every file the service loads from the rules folder (feeds, watchlists, word lists,
    ignore list, alert rules, digest readers, calendar) with the service's own loaders; list
    every problem as file:line:column, exit 1 if any."""
    from datetime import UTC, datetime

    from service.pipeline.check import calendar_warnings, check_rules_folder

    settings = load_cli_settings()
    folder = directory or settings.rules_dir
    with errors_as_messages(settings):
        summary = check_rules_folder(folder)
        warnings = calendar_warnings(folder, datetime.now(UTC).date())
    out.print(Text(f"{folder}: OK, {summary}"), soft_wrap=True)
    for warning in warnings:
        err.print(Text(f"warning: {warning}", style="yellow"), soft_wrap=True)


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
    import asyncio

    from service.pipeline.scan import scan_source
    from service.rules import load_ruleset

    settings = load_cli_settings()
    with errors_as_messages(settings):
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
            Text(top_tickers(verdict.impacts, verdict.relevance)),
            Text(scanned.entry.title),
            Text(", ".join(verdict.rules) or "-"),
            style=style,
        )
    out.print(table)


def top_tickers(impacts: Mapping[str, str], relevance: Mapping[str, int], limit: int = 4) -> str:
    """The tickers the article names first, then the rest of the impacted ones: "MP\u25b2 USAR\u25b2 +22"."""
    names = sorted(relevance, key=lambda t: (-relevance[t], t))
    names += [t for t in impacts if t not in relevance and impacts[t] != "neutral"]
    names += [t for t in impacts if t not in relevance and impacts[t] == "neutral"]
    shown = [f"{t}{ARROWS.get(impacts.get(t, ''), '')}" for t in names[:limit]]
    if len(names) > limit:
        shown.append(f"+{len(names) - limit}")
    return " ".join(shown) or "-"
