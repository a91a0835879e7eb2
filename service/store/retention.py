"""Deleting what is past its retention, one small batch per transaction.

Each call deletes at most `batch` rows and commits, so no transaction holds many locks or much
undo, and polling goes on between batches. On PostgreSQL the rows are picked with
FOR UPDATE SKIP LOCKED: instances running retention at once take different batches instead of
waiting on each other. Articles an alert refers to are kept (alerts are kept for good, and the
outbox's foreign key would take them along).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, exists
from sqlmodel import Session, select

from service.store.models import Article, OutboxAlert, PriceBar


def _lockable(session: Session, query):
    if session.get_bind().dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query


def delete_old_articles(session: Session, cutoff: datetime, batch: int) -> int:
    """Delete up to `batch` articles fetched before `cutoff` that no alert refers to; commit."""
    unreferenced = ~exists().where(OutboxAlert.article_id == Article.id)
    ids = list(
        session.exec(
            _lockable(session, select(Article.id).where(Article.fetched_at < cutoff, unreferenced).order_by(Article.id).limit(batch))
        )
    )
    if ids:
        # The reference test again in the delete itself: an alert queued meanwhile keeps its article.
        session.exec(delete(Article).where(Article.id.in_(ids), unreferenced))
    session.commit()
    return len(ids)


def delete_old_price_bars(session: Session, cutoff: datetime, batch: int) -> int:
    """Delete up to `batch` price bars that start before `cutoff`; commit."""
    ids = list(
        session.exec(_lockable(session, select(PriceBar.id).where(PriceBar.timestamp < cutoff).order_by(PriceBar.id).limit(batch)))
    )
    if ids:
        session.exec(delete(PriceBar).where(PriceBar.id.in_(ids)))
    session.commit()
    return len(ids)
