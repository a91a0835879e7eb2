"""Test databases that are cheap to hand out: a migrated SQLite template copied per test, and
PostgreSQL databases kept per pytest process and reset between tests.

Creating a PostgreSQL database per test and dropping it afterwards costs a checkpoint each
(about half a second), and running the migrations costs another 0.1 to 0.2 s; on a small
machine that is a large share of the suite. Instead, each pytest process (each xdist worker)
keeps one empty and one migrated database. A test gets the empty one; when its set-up migrates
it (the `engine` fixture, test helpers through `upgrade` below), the migrated one is renamed
into its place, which is what running the migrations would have made of it. After each test:

- ends the connections the test left open, and renames the database, so that nothing the test
  leaves behind (a thread, a pool with pre-ping) can reach the database the next test gets;
- empties it again: the migrated one by TRUNCATE of the tables that hold rows and a reset of the
  used sequences, the empty one by dropping its schemas when something was created in them;
- compares a fingerprint of the catalog (schemas, tables, columns, constraints, indexes,
  sequences, types, functions, the Alembic version) with the one it had when created, and
  recreates the database from scratch when they differ. A test that changes the schema thus
  costs what every test cost before, and never leaks its changes into the next test.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from service.store import migrate

#: Every database this module creates starts with this prefix (the tag of the pytest process
#: that owns it follows), so leftovers of a killed run can be found and dropped.
PREFIX = "reewatch_tw_"
_NAME = re.compile(rf"^{PREFIX}([a-z0-9]+)_[em]_\d+$")

#: What the catalog of a database holds, as one md5: enough to tell a reset database from a
#: fresh one. Only user schemas count (not pg_catalog, pg_toast, information_schema).
_FINGERPRINT = """
WITH ns AS (
    SELECT oid, nspname FROM pg_namespace
    WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'
), parts(part) AS (
    SELECT concat_ws(',', 'db', datconnlimit, datallowconn, datacl::text)
      FROM pg_database WHERE datname = current_database()
    UNION ALL SELECT concat_ws(',', 'dbset', setrole, setconfig::text)
      FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase
      WHERE d.datname = current_database()
    UNION ALL SELECT concat_ws(',', 'ns', n.nspname, n.nspowner::regrole, n.nspacl::text,
                               obj_description(n.oid, 'pg_namespace'))
      FROM pg_namespace n JOIN ns USING (oid)
    UNION ALL SELECT concat_ws(',', 'rel', ns.nspname, c.relname, c.relkind, c.relpersistence,
                               c.relowner::regrole, c.relacl::text, c.reloptions::text,
                               c.relrowsecurity)
      FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
    UNION ALL SELECT concat_ws(',', 'att', ns.nspname, c.relname, a.attnum, a.attname,
                               format_type(a.atttypid, a.atttypmod), a.attnotnull,
                               a.attisdropped, a.attidentity, a.attgenerated, a.attcollation,
                               pg_get_expr(d.adbin, d.adrelid))
      FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN ns ON ns.oid = c.relnamespace
      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE a.attnum > 0
    UNION ALL SELECT concat_ws(',', 'con', ns.nspname, con.conname, con.conrelid::regclass,
                               con.contypid::regtype, pg_get_constraintdef(con.oid))
      FROM pg_constraint con JOIN ns ON ns.oid = con.connamespace
    UNION ALL SELECT concat_ws(',', 'idx', pg_get_indexdef(i.indexrelid))
      FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN ns ON ns.oid = c.relnamespace
    UNION ALL SELECT concat_ws(',', 'trg', pg_get_triggerdef(t.oid))
      FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN ns ON ns.oid = c.relnamespace
      WHERE NOT t.tgisinternal
    UNION ALL SELECT concat_ws(',', 'view', c.oid::regclass, pg_get_viewdef(c.oid))
      FROM pg_class c JOIN ns ON ns.oid = c.relnamespace WHERE c.relkind IN ('v', 'm')
    UNION ALL SELECT concat_ws(',', 'pol', pol.polrelid::regclass, pol.polname)
      FROM pg_policy pol
    UNION ALL SELECT concat_ws(',', 'type', ns.nspname, t.typname, t.typtype, t.typowner::regrole,
                               (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
                                  FROM pg_enum e WHERE e.enumtypid = t.oid))
      FROM pg_type t JOIN ns ON ns.oid = t.typnamespace
    UNION ALL SELECT concat_ws(',', 'proc', ns.nspname, p.proname,
                               pg_get_function_identity_arguments(p.oid), md5(p.prosrc))
      FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace
    UNION ALL SELECT concat_ws(',', 'ext', extname, extversion, extnamespace::regnamespace)
      FROM pg_extension
    UNION ALL SELECT concat_ws(',', 'seq', schemaname, sequencename, data_type, start_value,
                               min_value, max_value, increment_by, cycle, cache_size, last_value)
      FROM pg_sequences WHERE schemaname NOT LIKE 'pg\\_%'
    UNION ALL SELECT concat_ws(',', 'lo', count(*)) FROM pg_largeobject_metadata
    UNION ALL SELECT concat_ws(',', 'defacl', defaclrole::regrole, defaclnamespace,
                               defaclobjtype, defaclacl::text)
      FROM pg_default_acl
)
SELECT md5(string_agg(part, E'\\n' ORDER BY part)) FROM parts
"""

#: Tables that hold at least one row, and sequences that were used (in user schemas).
_USER_TABLES = """
SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
   AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
   AND NOT (n.nspname = 'public' AND c.relname = 'alembic_version')
"""
_USED_SEQUENCES = """
SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename), start_value
  FROM pg_sequences
 WHERE schemaname NOT LIKE 'pg\\_%' AND last_value IS NOT NULL
"""
_USER_SCHEMAS = """
SELECT nspname FROM pg_namespace
 WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'
"""


def _conninfo(sqlalchemy_url: str) -> str:
    """The psycopg form of a SQLAlchemy PostgreSQL URL."""
    return make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)


class PostgresDatabases:
    """The empty and the migrated PostgreSQL database of one pytest process."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.base = admin_url.rsplit("/", 1)[0]
        self._conninfo = _conninfo(admin_url)
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        # The worker id keeps names readable; the uuid keeps them apart from a run of the suite
        # in another checkout, or a run that was killed and left its databases behind.
        self.tag = re.sub(r"[^a-z0-9]", "", worker.lower()) + uuid.uuid4().hex[:10]
        self._serial = 0
        self._admin = psycopg.connect(self._conninfo, autocommit=True)
        # Held for the whole run: it tells other runs that this tag's databases are in use.
        self._admin.execute("SELECT pg_advisory_lock(hashtext(%s))", (self.tag,))
        self._drop_leftovers()
        #: Databases ready for a test, by kind (migrated or not), and those a test holds.
        self._spare: dict[bool, str] = {}
        self._lent: dict[str, bool] = {}
        self._fingerprints: dict[bool, tuple[str, str | None]] = {}

    # --- handing out ---

    def acquire(self, migrated: bool) -> str:
        """The URL of an empty (or migrated) database in its fresh state, for one test."""
        name = self._spare.pop(migrated, None) or self._create(migrated)
        self._lent[name] = migrated
        return f"{self.base}/{name}"

    def release(self, url: str) -> None:
        """End the test's use of the database and bring it back to its fresh state."""
        name = url.rsplit("/", 1)[1]
        migrated = self._lent.pop(name)
        new_name = self._next_name(migrated)
        if not self._close_and_rename(name, new_name):
            self._drop(name)
            return
        try:
            clean = self._reset(new_name, migrated)
        except psycopg.Error:
            clean = False
        if clean:
            self._spare[migrated] = new_name
        else:
            self._drop(new_name)

    def migrate(self, url: str) -> bool:
        """Migrate the empty database at `url` by putting the spare migrated one in its place.

        Done only when it gives exactly what running the migrations would: the database is one
        of ours, lent out empty, nobody is connected to it and nothing was created in it.
        False, with nothing changed, otherwise."""
        name = url.rsplit("/", 1)[1]
        if self._lent.get(name) is not False:
            return False
        if True not in self._spare:
            self._spare[True] = self._create(True)
        connected = "SELECT count(*) FROM pg_stat_activity WHERE datname = %s"
        if self._admin.execute(connected, (name,)).fetchone()[0]:
            return False  # checked first: a rename would wait 5 s for them before failing
        aside = self._next_name(False)
        try:
            # A rename fails while anyone is connected, and then nobody can connect by `url`.
            self._rename(name, aside)
        except psycopg.errors.ObjectInUse:
            return False
        if self._fingerprint(aside, False) != self._fingerprints[False]:
            self._rename(aside, name)
            return False
        self._rename(self._spare.pop(True), name)
        self._lent[name] = True
        self._spare[False] = aside
        return True

    def close(self) -> None:
        for name in [*self._spare.values(), *self._lent]:
            self._drop(name)
        self._spare.clear()
        self._lent.clear()
        self._admin.close()

    # --- the steps ---

    def _next_name(self, migrated: bool) -> str:
        self._serial += 1
        return f"{PREFIX}{self.tag}_{'m' if migrated else 'e'}_{self._serial}"

    def _create(self, migrated: bool) -> str:
        name = self._next_name(migrated)
        self._admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        if migrated:
            migrate.upgrade(f"{self.base}/{name}")
        fingerprint = self._fingerprint(name, migrated)
        # Every later reset is compared with the state of the first fresh database.
        self._fingerprints.setdefault(migrated, fingerprint)
        return name

    def _rename(self, name: str, new_name: str) -> None:
        self._admin.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(sql.Identifier(name), sql.Identifier(new_name)))

    def _close_and_rename(self, name: str, new_name: str) -> bool:
        """End every connection to `name` and rename it; False if that did not succeed."""
        for _ in range(20):
            # With a timeout, pg_terminate_backend waits until the backend is gone.
            self._admin.execute(
                "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
            try:
                self._rename(name, new_name)
                return True
            except psycopg.errors.ObjectInUse:
                continue  # something connected again in between: end that too
        return False

    def _reset(self, name: str, migrated: bool) -> bool:
        """Empty the database; True when its catalog is that of a fresh one again."""
        with psycopg.connect(self._conninfo, dbname=name, autocommit=True) as connection:
            if migrated:
                tables = [row[0] for row in connection.execute(_USER_TABLES)]
                if tables:
                    probe = " UNION ALL ".join(f"SELECT {i} FROM (SELECT FROM {t} LIMIT 1) AS x" for i, t in enumerate(tables))
                    full = [tables[row[0]] for row in connection.execute(probe)]
                    if full:
                        connection.execute(f"TRUNCATE {', '.join(full)} RESTART IDENTITY CASCADE")
                for sequence, start in connection.execute(_USED_SEQUENCES).fetchall():
                    connection.execute("SELECT setval(%s::regclass, %s, false)", (sequence, start))
            elif self._state(connection, migrated) != self._fingerprints[migrated]:
                # Something was created (a test migrated, or the service did): start over with
                # a public schema as CREATE DATABASE makes it.
                with connection.transaction():
                    for (schema,) in connection.execute(_USER_SCHEMAS).fetchall():
                        connection.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
                    connection.execute("CREATE SCHEMA public AUTHORIZATION pg_database_owner")
                    connection.execute("GRANT USAGE ON SCHEMA public TO PUBLIC")
                    connection.execute("COMMENT ON SCHEMA public IS 'standard public schema'")
            return self._state(connection, migrated) == self._fingerprints[migrated]

    def _fingerprint(self, name: str, migrated: bool) -> tuple[str, str | None]:
        with psycopg.connect(self._conninfo, dbname=name, autocommit=True) as connection:
            return self._state(connection, migrated)

    @staticmethod
    def _state(connection: psycopg.Connection, migrated: bool) -> tuple[str, str | None]:
        catalog = connection.execute(_FINGERPRINT).fetchone()[0]
        version = None
        if migrated:
            try:
                rows = connection.execute("SELECT version_num FROM public.alembic_version ORDER BY 1").fetchall()
                version = ",".join(row[0] for row in rows)
            except psycopg.errors.UndefinedTable:
                version = "missing"
        return catalog, version

    def _drop(self, name: str) -> None:
        self._admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def _drop_leftovers(self) -> None:
        """Drop the databases of runs that ended without cleaning up (killed, or crashed).

        A run holds an advisory lock on its tag while it lives; a tag whose lock can be taken
        belongs to a run that is gone. Databases of other naming schemes are left alone."""
        names = [row[0] for row in self._admin.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (PREFIX + "%",))]
        for name in names:
            match = _NAME.match(name)
            if match is None or match.group(1) == self.tag:
                continue
            tag = match.group(1)
            if self._admin.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (tag,)).fetchone()[0]:
                try:
                    self._drop(name)
                finally:
                    self._admin.execute("SELECT pg_advisory_unlock(hashtext(%s))", (tag,))


class SQLiteTemplate:
    """A database file migrated once (when first needed), copied to each test that migrates a
    database file that does not exist yet: the copy is what the migrations would have made."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "migrated.db"

    def copy_to(self, path: Path) -> bool:
        """Put a migrated database at `path` if nothing is there yet; False otherwise."""
        if any(Path(f"{path}{suffix}").exists() for suffix in ("", "-wal", "-shm", "-journal")):
            return False
        if not self.path.exists():
            migrate.upgrade(f"sqlite:///{self.path}")
            # Closing the migration's last connection checkpoints the WAL into the file.
            assert not Path(f"{self.path}-wal").exists(), "the migrated template kept a WAL file"
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.path, path)
        return True


#: This process's PostgreSQL databases and SQLite template, once tests/conftest.py made them.
POSTGRES: list[PostgresDatabases] = []
SQLITE: list[SQLiteTemplate] = []


def upgrade(url: str) -> None:
    """`migrate.upgrade(url)` for test set-up: the same result, cheaper where it can be.

    For a test's own database that is still empty (a SQLite file not yet created, a PostgreSQL
    database from `postgres_url` nothing was created in), it puts a migrated copy in place.
    Tests of the migrations themselves call `migrate.upgrade`, never this."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if SQLITE and parsed.database and parsed.database != ":memory:" and SQLITE[0].copy_to(Path(parsed.database)):
            return
    elif POSTGRES and url.rsplit("/", 1)[0] == POSTGRES[0].base and POSTGRES[0].migrate(url):
        return
    migrate.upgrade(url)
