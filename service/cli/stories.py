"""`reewatch stories`: the stories of the last hours, as the desk was told them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import Enum
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from service.cli.context import err, errors_as_messages, load_cli_settings, out, store_session


class StoriesFormat(str, Enum):
    table = "table"
    json = "json"


def stories(
    since: Annotated[str, typer.Option("--since", help="How far back: 24h, 90m, 7d.")] = "24h",
    output: Annotated[
        StoriesFormat, typer.Option("--format", help="table for people, json for one object a line.")
    ] = StoriesFormat.table,
    every: Annotated[
        bool, typer.Option("--all", help="Also the stories no rule fired on (every stored article has one).")
    ] = False,
) -> None:
    """Stories with a report in the period, newest first: first seen, sources, severity, alert state."""
    from service.config import parse_duration
    from service.store.stories import recent_stories

    try:
        span = parse_duration(since)
    except ValueError as exc:
        err.print(f"--since: {exc}", style="red", markup=False, highlight=False)
        raise typer.Exit(2) from None
    if span is None:
        err.print("--since: give a period, like 24h or 7d", style="red", markup=False, highlight=False)
        raise typer.Exit(2)
    settings = load_cli_settings()
    now = datetime.now(UTC)
    with errors_as_messages(settings), store_session(settings) as session:
        found = recent_stories(session, now - span, judged_only=not every)
    if output is StoriesFormat.json:
        for listing in found:
            # ensure_ascii keeps every line plain ASCII: feed text cannot smuggle control characters.
            print(json.dumps(story_json(listing), ensure_ascii=True))
        return
    if not found:
        out.print(f"No stories since {(now - span):%Y-%m-%d %H:%M} UTC.")
        return
    table = Table(title=f"Stories since {(now - span):%Y-%m-%d %H:%M} UTC")
    for column in ("id", "first seen", "story", "sources", "severity", "alert"):
        table.add_column(column, overflow="fold")
    for listing in found:
        story = listing.story
        table.add_row(
            str(story.id),
            f"{story.first_seen:%Y-%m-%d %H:%M}",
            Text(listing.lead.title),
            Text(f"{len(story.sources)}: " + ", ".join(story.sources)),
            story.severity or "-",
            Text(_state(story)),
        )
    out.print(table)


def _state(story: Any) -> str:
    if story.state == "alerted":
        return f"alerted {story.alerted_at:%H:%M}" if story.alerted_at else "alerted"
    if story.state == "quiet":
        return f"quiet ({story.quiet_reason})" if story.quiet_reason else "quiet"
    return "no alert"


def story_json(listing: Any) -> dict[str, Any]:
    """A story as `stories --format json` prints it: these field names are a contract."""
    story = listing.story
    lead = listing.lead
    return {
        "id": story.id,
        "title": lead.title,
        "first_seen": story.first_seen.isoformat(),
        "last_seen": story.last_seen.isoformat(),
        "event_type": story.event_type,
        "severity": story.severity,
        "state": story.state,
        "quiet_reason": story.quiet_reason,
        "alerted_at": story.alerted_at.isoformat() if story.alerted_at else None,
        "sources": list(story.sources),
        "official": story.official,
        "tickers": list(story.tickers),
        "lead": {"title": lead.title, "link": lead.link, "source": lead.source},
        "reports": [
            {
                "title": r.title,
                "link": r.link,
                "source": r.source,
                "kind": r.kind,
                "published": r.published.isoformat(),
                "score": r.score,
                "severity": r.severity,
                "alert": r.alert,
                "quiet": r.quiet,
            }
            for r in listing.reports
        ],
    }
