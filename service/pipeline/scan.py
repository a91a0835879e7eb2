"""`reewatch scan`: fetch or read one feed, parse it and score every entry, writing nothing.

The same fetcher, parser and rules as the service, so what `scan` shows is what the service
would store and alert on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from service.bootstrap import make_parser_pool
from service.config import Settings
from service.domain.feeds import SOURCE_WEIGHTS, Entry, FeedSpec
from service.domain.scoring import Assessment, Source
from service.errors import ConfigError, ReewatchError
from service.rules import Ruleset, score_entry
from service.sources.feed_config import load_feeds
from service.sources.fetcher import fetch_feed, make_http_client


@dataclass(frozen=True)
class ScannedEntry:
    entry: Entry
    verdict: Assessment

    def as_json(self) -> dict[str, Any]:
        """The `scan --format json` line: these names are a contract."""
        entry, verdict = self.entry, self.verdict
        return {
            "guid": entry.guid,
            "link": entry.link,
            "title": entry.title,
            "published": entry.published.isoformat() if entry.published else None,
            "event_types": list(verdict.event_types),
            "score": verdict.score,
            "severity": verdict.severity,
            "alert": verdict.alert,
            "rules": list(verdict.rules),
            "matched": list(verdict.matched),
            "impacts": dict(verdict.impacts),
            "relevance": dict(verdict.relevance),
            "channels": list(verdict.channels),
            "frame": [frame.as_json() for frame in verdict.frames],
        }


@dataclass
class ScanReport:
    source: Source
    entries: list[ScannedEntry]
    warnings: list[str]


def is_url(source: str) -> bool:
    return urlsplit(source).scheme in ("http", "https")


async def scan_source(settings: Settings, source: str, ruleset: Ruleset, *, kind: str | None = None) -> ScanReport:
    """Fetch (URL) or read (file) a feed and score each entry. Raises ReewatchError on failure."""
    if is_url(source):
        async with make_http_client(settings) as client:
            fetched = await fetch_feed(
                client,
                source,
                etag=None,
                last_modified=None,
                max_bytes=settings.max_body_bytes,
                deadline=settings.fetch_deadline,
            )
        body, url, content_type = fetched.body or b"", fetched.url, fetched.content_type
    else:
        path = Path(source)
        body = _read_file(path, settings.max_body_bytes)
        # A file has no Content-Type header; say it is XML so the parser does not warn.
        url, content_type = path.resolve().as_uri(), "application/xml"
    # The service's own parser workers: a hostile body meets the same deadline and memory cap.
    parser = make_parser_pool(settings)
    try:
        parsed = await parser.parse(body, url=url, content_type=content_type, now=datetime.now(UTC))
    finally:
        parser.close()
    scoring_source = _source_for(settings, source, kind)
    entries = [ScannedEntry(entry, score_entry(ruleset, entry, scoring_source)) for entry in parsed.entries]
    return ScanReport(scoring_source, entries, parsed.warnings)


def _read_file(path: Path, max_bytes: int) -> bytes:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise ReewatchError(f"{path} is {size:,} bytes, over the {max_bytes:,}-byte cap")
        return path.read_bytes()
    except OSError as exc:
        raise ReewatchError(f"cannot read {path}: {exc.strerror or exc}") from None


def _source_for(settings: Settings, source: str, kind: str | None) -> Source:
    """The feed as feeds.yaml declares it when the URL is listed there, else a named guess."""
    spec = _configured_feed(settings, source)
    if spec is not None:
        chosen = kind or spec.kind
        weight = spec.source_weight if chosen == spec.kind else SOURCE_WEIGHTS[chosen]
        return Source(name=spec.name, kind=chosen, weight=weight)
    chosen = kind or "sector"
    name = urlsplit(source).hostname or source if is_url(source) else Path(source).stem
    return Source(name=name, kind=chosen, weight=SOURCE_WEIGHTS[chosen])


def _configured_feed(settings: Settings, source: str) -> FeedSpec | None:
    if not is_url(source) or not settings.feeds_file.exists():
        return None
    try:
        specs = load_feeds(settings.feeds_file)
    except ConfigError:
        return None  # a broken feeds.yaml must not stop a dry run of one URL
    return next((s for s in specs if str(s.url) == source), None)
