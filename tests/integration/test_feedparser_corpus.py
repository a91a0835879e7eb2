"""Robustness: every feed in feedparser's own test corpus goes through the real ingestion path."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path

import feedparser

from service.demo.server import FeedServer, Route
from service.domain.feeds import FeedSpec
from tests.integration.harness import Ingestion

HEADER = re.compile(rb"^Header:\s*([A-Za-z-]+):\s*(.+?)\s*$", re.M)
T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def route_for(path: Path) -> Route:
    """Serve the file with the HTTP headers its own comment block asks for."""
    body = path.read_bytes()
    headers = {name.decode().title(): value.decode("latin-1") for name, value in HEADER.findall(body[:2000])}
    content_type = headers.pop("Content-Type", "application/xml")
    return Route(body, content_type=content_type, headers=headers)


def test_every_fixture_feed_is_ingested_without_an_unhandled_error(shared_corpora, make_settings):
    """No fixture (well-formed, ill-formed or mis-encoded) crashes a cycle or is lost silently."""
    files = sorted((shared_corpora / "feedparser-fixtures").rglob("*.xml"))
    assert len(files) > 1000
    with FeedServer() as server:
        specs = []
        for index, path in enumerate(files):
            server.routes[f"/{index}"] = route_for(path)
            specs.append(FeedSpec(name=f"fx{index}", url=server.url(f"/{index}"), interval=60))
        run = Ingestion(make_settings(parse_workers=2, fetch_concurrency=32), specs)
        try:
            report = run.cycle(T0)
        finally:
            run.close()
    assert len(report.outcomes) == len(files)
    internal = [(files[int(o.feed[2:])], o.error) for o in report.outcomes if (o.error or "").startswith("internal error")]
    assert internal == []
    # Every failure is one of the reasons a person can read, not a stack trace.
    for outcome in report.failed:
        assert outcome.error and "Traceback" not in outcome.error
    # A feed feedparser itself reads entries from is never reported as failed by us.
    readable = {
        f"fx{index}"
        for index, path in enumerate(files)
        if feedparser.parse(io.BytesIO(path.read_bytes()), response_headers={"content-location": "http://x/"}).entries
    }
    failed = {o.feed for o in report.failed}
    assert sorted(files[int(name[2:])].name for name in readable & failed) == []
    assert report.new_articles > 400
