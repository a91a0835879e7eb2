"""Storing articles idempotently: once per feed by guid, once overall by canonical link."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import false, or_, select
from sqlmodel import Session

from service.domain.feeds import Entry
from service.domain.scoring import Assessment
from service.store.models import Article
from service.store.upsert import insert_ignoring_conflicts


def unseen_entries(session: Session, feed_id: int, entries: Sequence[Entry]) -> tuple[list[Entry], int, int]:
    """Entries not stored yet, plus how many were already seen in this feed and in another one."""
    if not entries:
        return [], 0, 0
    guids = [e.guid for e in entries]
    links = [e.canonical_link for e in entries if e.canonical_link]
    seen_here: set[str] = set()
    seen_links: set[str] = set()
    for chunk_guids, chunk_links in _chunks(guids, links):
        rows = session.exec(
            select(Article.feed_id, Article.guid, Article.canonical_link).where(
                or_(
                    (Article.feed_id == feed_id) & Article.guid.in_(chunk_guids),
                    Article.canonical_link.in_(chunk_links) if chunk_links else false(),
                )
            )
        )
        for row_feed, row_guid, row_link in rows:
            if row_feed == feed_id:
                seen_here.add(row_guid)
            if row_link:
                seen_links.add(row_link)
    fresh: list[Entry] = []
    here = elsewhere = 0
    for entry in entries:
        if entry.guid in seen_here:
            here += 1
        elif entry.canonical_link and entry.canonical_link in seen_links:
            elsewhere += 1
        else:
            fresh.append(entry)
    return fresh, here, elsewhere


def insert_articles(
    session: Session,
    feed_id: int,
    entries: Sequence[Entry],
    fetched_at: datetime,
    verdicts: Mapping[str, Assessment] | None = None,
) -> list[tuple[int, Entry]]:
    """Insert entries with their verdicts (by guid), skipping any that another writer stored
    first; returns (id, entry) inserted."""
    if not entries:
        return []
    by_guid = {e.guid: e for e in entries}
    verdicts = verdicts or {}
    rows = [
        {
            "feed_id": feed_id,
            "guid": e.guid,
            "link": e.link,
            "canonical_link": e.canonical_link,
            "title": e.title,
            "summary": e.summary,
            "published": e.published,
            "fetched_at": fetched_at,
            "content_hash": e.content_hash,
            **verdict_columns(verdicts.get(e.guid), fetched_at),
        }
        for e in entries
    ]
    stmt = insert_ignoring_conflicts(session, Article).returning(Article.id, Article.guid)
    inserted = session.exec(stmt, params=rows).all()
    return [(row.id, by_guid[row.guid]) for row in inserted]


def verdict_columns(verdict: Assessment | None, scored_at: datetime) -> dict[str, Any]:
    """The article columns that hold a verdict (all NULL when the article was not scored)."""
    if verdict is None:
        return dict.fromkeys(VERDICT_COLUMNS)
    return {
        "event_types": list(verdict.event_types),
        "score": verdict.score,
        "severity": verdict.severity,
        "alert": verdict.alert,
        "impacts": dict(verdict.impacts),
        "relevance": dict(verdict.relevance),
        "rules": list(verdict.rules),
        "matched": list(verdict.matched),
        "novelty": verdict.novelty,
        "scored_at": scored_at,
    }


VERDICT_COLUMNS = (
    "event_types", "score", "severity", "alert", "impacts", "relevance", "rules", "matched", "novelty", "scored_at",
)


def _chunks(guids: list[str], links: list[str], size: int = 500):
    for start in range(0, max(len(guids), len(links)), size):
        yield guids[start : start + size], links[start : start + size]


def alerted_since(session: Session, since: datetime, until: datetime) -> list[Article]:
    """Articles that raised an alert between `since` and `until` (when fetched), oldest first."""
    query = (
        select(Article)
        .where(Article.alert.is_(True), Article.fetched_at >= since, Article.fetched_at <= until)
        .order_by(Article.fetched_at, Article.id)
    )
    return list(session.scalars(query))
