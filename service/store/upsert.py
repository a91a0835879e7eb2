"""INSERT ... ON CONFLICT for whichever dialect the engine speaks."""

from __future__ import annotations

from collections.abc import Sequence

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


def insert_updating_conflicts(session: Session, table, keys: Sequence[str], update: Sequence[str]) -> Insert:
    """An INSERT on `table` that, when `keys` match a stored row, overwrites its `update` columns.

    PostgreSQL refuses two rows with the same keys in one statement: deduplicate first.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        stmt = postgresql.insert(table)
    elif dialect == "sqlite":
        stmt = sqlite.insert(table)
    else:
        raise NotImplementedError(f"reewatch supports SQLite and PostgreSQL, not {dialect}")
    return stmt.on_conflict_do_update(index_elements=list(keys), set_={c: stmt.excluded[c] for c in update})
