"""`reewatch eval`: grade the rules on a desk's own labelled history, and gate rule edits on it."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from service.cli.context import err, load_cli_settings, out

#: Exit codes: what a desk's CI reads.
UNDER_MINIMUM = 1
UNREADABLE = 2


class EvalFormat(str, Enum):
    table = "table"
    json = "json"


def evaluate(
    files: Annotated[
        list[Path],
        typer.Argument(help="Labelled YAML files, or folders of them (the format is in docs/rules.md)."),
    ],
    rules: Annotated[Path | None, typer.Option("--rules", help="The rules folder (default: the service's).")] = None,
    output: Annotated[EvalFormat, typer.Option("--format", help="table for people, json for tools.")] = EvalFormat.table,
    min_precision: Annotated[float | None, typer.Option("--min-precision", min=0, max=1, help="Exit 1 below this.")] = None,
    min_recall: Annotated[float | None, typer.Option("--min-recall", min=0, max=1, help="Exit 1 below this.")] = None,
    min_type: Annotated[
        float | None, typer.Option("--min-type", min=0, max=1, help="Exit 1 below this event-type accuracy.")
    ] = None,
    min_direction: Annotated[
        float | None, typer.Option("--min-direction", min=0, max=1, help="Exit 1 below this direction accuracy.")
    ] = None,
) -> None:
    """Grade the rules on labelled items: precision, recall, event types and directions, then
    every miss and false alarm with the rules that fired or nearly fired. Exits 1 under a
    minimum, 2 when the rules or a labelled file cannot be read."""
    from service.errors import ConfigError
    from service.evaluation.corpus import load_corpus
    from service.evaluation.grading import grade
    from service.rules import load_ruleset

    settings = load_cli_settings()
    paths = _labelled_files(files)
    try:
        ruleset = load_ruleset(rules or settings.rules_dir)
        groups = ruleset.catalogue.groups
        labelled = [(path, load_corpus(path, tickers=groups)) for path in paths]
    except ConfigError as exc:
        for problem in exc.problems:
            err.print(str(problem), style="red", highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(UNREADABLE) from None
    per_file = {str(path): grade(ruleset, items) for path, items in labelled}
    overall = grade(ruleset, [item for _, items in labelled for item in items], diagnose=False)
    wrong = [result for report in per_file.values() for result in report.wrong]
    minimums = {"precision": min_precision, "recall": min_recall, "type_accuracy": min_type,
                "direction_accuracy": min_direction}
    failed = {name: floor for name, floor in minimums.items() if floor is not None and getattr(overall, name) < floor}
    if output is EvalFormat.json:
        print(
            json.dumps(
                {
                    "files": {name: report.figures() for name, report in per_file.items()},
                    "overall": overall.figures(),
                    "minimums": {k: v for k, v in minimums.items() if v is not None},
                    "failed": sorted(failed),
                    "wrong": [result.as_json() for result in wrong],
                },
                ensure_ascii=True,
            )
        )
    else:
        _print_report(per_file, overall, wrong, failed)
    if failed:
        raise typer.Exit(UNDER_MINIMUM)


def _labelled_files(files: list[Path]) -> list[Path]:
    found: list[Path] = []
    for path in files:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()))
        else:
            found.append(path)
    if not found:
        err.print("no labelled files given (YAML files or folders of them)", style="red")
        raise typer.Exit(UNREADABLE)
    return found


def _print_report(per_file, overall, wrong, failed: dict[str, float]) -> None:
    table = Table(title="Rules graded on labelled items")
    for column in ("file", "items", "precision", "recall", "event type", "direction", "false alarms", "missed"):
        table.add_column(column, justify="left" if column == "file" else "right")
    rows = list(per_file.items())
    if len(rows) > 1:
        rows.append(("all", overall))
    for name, report in rows:
        table.add_row(
            Text(name),
            str(report.items),
            f"{report.precision:.3f}",
            f"{report.recall:.3f}",
            f"{report.type_accuracy:.3f}",
            f"{report.direction_accuracy:.3f}",
            str(report.false_positives),
            str(report.false_negatives),
        )
    out.print(table)
    for result in wrong:
        item, verdict = result.item, result.verdict
        out.print(Text.assemble((f"{item.id} ", "bold"), item.title), soft_wrap=True)
        out.print(Text(f"  {'; '.join(result.problems)}", style="yellow"), soft_wrap=True)
        fired = ", ".join(verdict.rules) or "none"
        out.print(Text(f"  fired: {fired}; score {verdict.score}; types {', '.join(verdict.event_types) or '-'}"),
                  soft_wrap=True)
        if verdict.matched:
            out.print(Text(f"  matched: {' · '.join(verdict.matched)}"), soft_wrap=True)
        for near in result.near_misses:
            out.print(Text(f"  nearly: {near}", style="dim"), soft_wrap=True)
    for name, floor in failed.items():
        err.print(Text(f"{name.replace('_', ' ')} {getattr(overall, name):.3f} is under the minimum {floor:.3f}",
                       style="red"))
