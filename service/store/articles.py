"""Storing articles idempotently: once per feed by guid, once overall by canonical link."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import false, or_, select
from sqlmodel import Session

from service.domain.feeds import Entry
from service.domain.scoring import Assessment
from service.events.sketch import sketch, words
from service.events.stories import SAME_STORY
from service.store.models import Article
from service.store.upsert import insert_ignoring_conflicts


def unseen_entries(session: Session, feed_id: int, entries: Sequence[Entry]) -> tuple[list[Entry], int, int]:
    """Entries not stored yet, plus how many were already seen in this feed, and how many repeat
    an article stored from another feed (or earlier in this batch under another guid).

    A canonical link is the article's key only while it leads to one article. Some feeds link
    several items to one listing page ("/news", "/press#item-3"); an entry whose link is already
    held by a different article (`same_article`) is kept, stored without the link as its key,
    where treating the link as the article's identity would drop it as a duplicate."""
    if not entries:
        return [], 0, 0
    guids = [e.guid for e in entries]
    links = [e.canonical_link for e in entries if e.canonical_link]
    seen_here: set[str] = set()
    held: dict[str, tuple[str, str]] = {}  # canonical link -> the stored article's title and text
    for chunk_guids, chunk_links in _chunks(guids, links):
        rows = session.exec(
            select(Article.feed_id, Article.guid, Article.canonical_link, Article.title, Article.summary).where(
                or_(
                    (Article.feed_id == feed_id) & Article.guid.in_(chunk_guids),
                    Article.canonical_link.in_(chunk_links) if chunk_links else false(),
                )
            )
        )
        for row_feed, row_guid, row_link, row_title, row_summary in rows:
            if row_feed == feed_id:
                seen_here.add(row_guid)
            if row_link:
                held[row_link] = (row_title, row_summary)
    fresh: list[Entry] = []
    here = elsewhere = 0
    for entry in entries:
        if entry.guid in seen_here:
            here += 1
            continue
        link = entry.canonical_link
        if link:
            holder = held.get(link)
            if holder is None:
                held[link] = (entry.title, entry.summary)
            elif same_article(*holder, entry.title, entry.summary):
                elsewhere += 1
                continue
            else:
                entry = replace(entry, canonical_link=None)
        fresh.append(entry)
    return fresh, here, elsewhere


#: Word sequences at least this long that begin another headline make it the same headline with
#: the outlet's name appended ("... to 60% - Reuters").
_HEADLINE_PREFIX_WORDS = 4


def same_article(title: str, summary: str, other_title: str, other_summary: str) -> bool:
    """Whether two entries under one link are one article: the same headline (give or take case,
    punctuation and an outlet's name appended), or texts that are near duplicates (an edited
    headline over the same text). Different items of one listing page are neither."""
    mine, theirs = words(title), words(other_title)
    shorter, longer = sorted((mine, theirs), key=len)
    if shorter == longer[: len(shorter)] and (len(shorter) >= _HEADLINE_PREFIX_WORDS or shorter == longer):
        return True
    return sketch(f"{title}\n{summary}").resemblance(sketch(f"{other_title}\n{other_summary}")) >= SAME_STORY


def insert_articles(
    session: Session,
    feed_id: int,
    entries: Sequence[Entry],
    fetched_at: datetime,
    verdicts: Mapping[str, Assessment] | None = None,
) -> list[tuple[int, Entry]]:
    """Insert entries with their verdicts (by guid), skipping any that another writer stored
    first (the same guid from this feed, or the same article under its link); returns (id,
    entry) inserted."""
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
    stored = [(row.id, by_guid[row.guid]) for row in inserted]
    # Another writer may have stored a different article under one of these links since
    # `unseen_entries` looked (two feeds linking to one listing page, polled at once): such an
    # entry is stored without the link as its key, not dropped as a duplicate.
    done = {row.guid for row in inserted}
    refused = {e.canonical_link: e for e in entries if e.guid not in done and e.canonical_link}
    if refused:
        holders = session.exec(
            select(Article.canonical_link, Article.title, Article.summary).where(Article.canonical_link.in_(list(refused)))
        )
        different = [
            replace(refused[link], canonical_link=None)
            for link, title, summary in holders
            if not same_article(title, summary, refused[link].title, refused[link].summary)
        ]
        if different:
            stored += insert_articles(session, feed_id, different, fetched_at, verdicts)
    return stored


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
