"""The reusable PostgreSQL test databases (tests/databases.py): each test must get a database in
its fresh state whatever the test before it did, or store tests would pass or fail by order.

Each case drives its own pool (its own tag), so the pool the rest of the suite uses is untouched."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import psycopg
import pytest
from psycopg import sql

from tests import databases
from tests.conftest import POSTGRES_ADMIN_URL, _require_postgres

pytestmark = pytest.mark.postgres


@pytest.fixture
def pool() -> Iterator[databases.PostgresDatabases]:
    _require_postgres()
    pool = databases.PostgresDatabases(POSTGRES_ADMIN_URL)
    try:
        yield pool
    finally:
        pool.close()


def connect(url: str) -> psycopg.Connection:
    return psycopg.connect(databases._conninfo(url), autocommit=True)


def wait_until_nobody_is_connected(url: str) -> None:
    """A closed connection leaves the server a moment after the client lets go of it: wait (at
    most a minute) until the server no longer lists one to this database."""
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(databases._conninfo(POSTGRES_ADMIN_URL), autocommit=True) as admin:
        for _ in range(1200):
            if not admin.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (name,)).fetchone()[0]:
                return
            time.sleep(0.05)
    raise AssertionError(f"a connection to {name} is still open on the server after a minute")


def tables_with_rows(url: str) -> dict[str, int]:
    with connect(url) as c:
        tables = [row[0] for row in c.execute(databases._USER_TABLES)]
        return {t: n for t in tables if (n := c.execute(f"SELECT count(*) FROM {t}").fetchone()[0])}


def oid_of(url: str) -> int:
    """The database's identity: kept when it is reset and renamed, new when it is recreated."""
    with connect(url) as c:
        return c.execute("SELECT oid FROM pg_database WHERE datname = current_database()").fetchone()[0]


def add_feed(c: psycopg.Connection, name: str) -> int:
    return c.execute(
        "INSERT INTO feeds (name, url, interval_seconds, kind, weight, enabled, consecutive_failures, created_at, backfill)"
        " VALUES (%s, %s, 60, 'wire', 0.9, true, 0, now(), 'quiet') RETURNING id",
        (name, f"https://{name}.example/feed"),
    ).fetchone()[0]


def test_rows_and_used_sequences_are_gone_for_the_next_test(pool):
    """A migrated database comes back empty, its ids starting again at 1, its schema kept."""
    url = pool.acquire(migrated=True)
    first = oid_of(url)
    with connect(url) as c:
        assert [add_feed(c, "a"), add_feed(c, "b")] == [1, 2]
        c.execute("INSERT INTO instance_heartbeats (instance_id, host, pid, started_at, beat_at) VALUES ('x', 'h', 1, now(), now())")
    assert tables_with_rows(url)
    pool.release(url)

    again = pool.acquire(migrated=True)
    assert oid_of(again) == first  # the same database, reset, not a new one
    assert tables_with_rows(again) == {}
    with connect(again) as c:
        assert add_feed(c, "c") == 1
        assert c.execute("SELECT version_num FROM alembic_version").fetchone() is not None
    pool.release(again)


def test_a_sequence_used_by_a_table_the_test_emptied_itself_starts_again(pool):
    """A table with no rows left is not truncated; its sequence is still set back."""
    url = pool.acquire(migrated=True)
    first = oid_of(url)
    with connect(url) as c:
        add_feed(c, "a")
        c.execute("DELETE FROM feeds")
    pool.release(url)
    again = pool.acquire(migrated=True)
    assert oid_of(again) == first
    with connect(again) as c:
        assert add_feed(c, "b") == 1
    pool.release(again)


def test_a_connection_the_test_left_open_cannot_reach_the_next_test(pool):
    url = pool.acquire(migrated=True)
    leftover = connect(url)
    leftover.execute("SELECT 1")
    pool.release(url)
    with pytest.raises(psycopg.OperationalError):
        leftover.execute("SELECT 1")
    leftover.close()
    again = pool.acquire(migrated=True)
    assert tables_with_rows(again) == {}
    pool.release(again)


def _add_column(c: psycopg.Connection) -> None:
    c.execute("ALTER TABLE feeds ADD COLUMN surprise integer")


def _drop_index(c: psycopg.Connection) -> None:
    c.execute("DROP INDEX ix_feeds_next_poll_at")


def _downgrade(c: psycopg.Connection) -> None:
    c.execute("UPDATE alembic_version SET version_num = 'an-older-revision'")


def _extra_table(c: psycopg.Connection) -> None:
    c.execute("CREATE TABLE scratch (id integer)")


@pytest.mark.parametrize("change", [_add_column, _drop_index, _downgrade, _extra_table])
def test_a_changed_schema_is_replaced_by_a_fresh_database(pool, change: Callable[[psycopg.Connection], None]):
    """A test that alters the schema or the Alembic version costs a new database; the next test
    never sees the change."""
    url = pool.acquire(migrated=True)
    with connect(url) as c:
        fresh = pool._state(c, True)
        change(c)
        assert pool._state(c, True) != fresh
    pool.release(url)
    again = pool.acquire(migrated=True)
    with connect(again) as c:
        assert pool._state(c, True) == fresh
    pool.release(again)


def test_an_empty_database_something_was_created_in_is_emptied(pool):
    """The empty database loses whatever a test created in it, schemas included."""
    url = pool.acquire(migrated=False)
    with connect(url) as c:
        empty = pool._state(c, False)
        c.execute("CREATE SCHEMA elsewhere")
        c.execute("CREATE TABLE elsewhere.t (id integer)")
        c.execute("CREATE TABLE public.u (id integer)")
    pool.release(url)
    again = pool.acquire(migrated=False)
    with connect(again) as c:
        assert pool._state(c, False) == empty
        assert c.execute("SELECT count(*) FROM pg_namespace WHERE nspname = 'elsewhere'").fetchone()[0] == 0
    pool.release(again)


def test_migrating_an_empty_database_puts_the_migrated_one_in_its_place(pool):
    """Only an empty database nobody is connected to is swapped; otherwise nothing changes."""
    url = pool.acquire(migrated=False)
    holder = connect(url)
    assert pool.migrate(url) is False  # someone is connected: left as it is
    holder.close()
    wait_until_nobody_is_connected(url)
    assert pool.migrate(url) is True
    with connect(url) as c:
        assert c.execute("SELECT version_num FROM alembic_version").fetchone() is not None
    pool.release(url)

    touched = pool.acquire(migrated=False)
    with connect(touched) as c:
        c.execute("CREATE TABLE scratch (id integer)")
    assert pool.migrate(touched) is False  # something was created: the migrations must run
    with connect(touched) as c:
        assert c.execute("SELECT to_regclass('public.alembic_version')").fetchone()[0] is None
    pool.release(touched)


def test_leftovers_of_a_run_that_is_gone_are_dropped_and_a_live_run_s_are_kept(pool):
    """A killed run's databases go; those of a run still holding its tag's lock stay."""
    gone, alive = f"{databases.PREFIX}gone0000000001_e_1", f"{databases.PREFIX}alive000000001_e_1"
    admin = pool._admin
    # The live run takes its lock first, as a run does before it creates anything.
    other_run = psycopg.connect(databases._conninfo(POSTGRES_ADMIN_URL), autocommit=True)
    try:
        other_run.execute("SELECT pg_advisory_lock(hashtext(%s))", ("alive000000001",))
        for name in (gone, alive):
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        newcomer = databases.PostgresDatabases(POSTGRES_ADMIN_URL)
        newcomer.close()
        # Another test process starting its own pool may be dropping the same leftover right now
        # (it holds the dead run's lock while it does, so the newcomer skipped it): once the lock
        # can be had, whoever took it is done.
        admin.execute("SELECT pg_advisory_lock(hashtext(%s))", ("gone0000000001",))
        admin.execute("SELECT pg_advisory_unlock(hashtext(%s))", ("gone0000000001",))
        left = {row[0] for row in admin.execute("SELECT datname FROM pg_database WHERE datname IN (%s, %s)", (gone, alive))}
        assert left == {alive}
    finally:
        other_run.close()
        for name in (gone, alive):
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
