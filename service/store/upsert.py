"""INSERT ... ON CONFLICT DO NOTHING for whichever dialect the engine speaks."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import Insert
from sqlmodel import Session


def insert_ignoring_conflicts(session: Session, table) -> Insert:
    """An INSERT on `table` that skips rows clashing with any unique constraint."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    raise NotImplementedError(f"reewatch supports SQLite and PostgreSQL, not {dialect}")
