"""Migrations on SQLite and PostgreSQL: they apply, reverse, re-apply, and match the models."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

from service.store import migrate
from service.store.db import make_engine


def test_upgrade_downgrade_upgrade(database_url):
    """Every migration can be undone and redone; the schema ends where it started."""
    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    try:
        tables = set(inspect(engine).get_table_names())
        assert {"feeds", "articles", "alembic_version"} <= tables
        assert migrate.current_revision(engine) == migrate.head_revision(database_url)

        migrate.downgrade(database_url, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        assert migrate.current_revision(engine) is None

        migrate.upgrade(database_url)
        assert set(inspect(engine).get_table_names()) == tables
    finally:
        engine.dispose()


def test_models_and_migrations_agree(database_url):
    """After upgrading, autogenerate finds nothing to do: no model change lacks a migration."""
    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            diff = compare_metadata(context, SQLModel.metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_upgrade_is_idempotent(database_url):
    """Running `db upgrade` on an up-to-date database changes nothing and does not fail."""
    migrate.upgrade(database_url)
    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    try:
        assert migrate.current_revision(engine) == migrate.head_revision(database_url)
    finally:
        engine.dispose()
