"""Numbered schema migrations, applied in order when a store is opened.

Each migration is a file ``migrations/NNNN_name.sql`` and runs in its own transaction
together with the row that records it, so a crash leaves the schema at a whole version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from workbench.store.db import Store, StoreError, utcnow
from workbench.store.lake_sql import for_lake

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def available_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """All migrations shipped with the code, in version order."""
    found = []
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise StoreError(f"Badly named migration file: {path.name}")
        found.append(Migration(int(match.group(1)), match.group(2), path.read_text()))
    versions = [m.version for m in found]
    # Gaps are allowed (branches reserve numbers); a number used twice is not.
    if len(set(versions)) != len(versions):
        raise StoreError(f"Two migration files share a number: {versions}")
    return found


SCHEMA_MIGRATIONS = (
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMP NOT NULL)"
)


def applied_versions(con: duckdb.DuckDBPyConnection, lake: bool = False) -> set[int]:
    """Versions already applied to this database (empty for a new file). ``lake``: the
    database is a DuckLake (no PRIMARY KEY; the write lock keeps versions unique)."""
    con.execute(for_lake(SCHEMA_MIGRATIONS) if lake else SCHEMA_MIGRATIONS)
    return {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}


def migrate(store: Store, migrations: list[Migration] | None = None) -> list[int]:
    """Apply every pending migration; returns the versions applied now."""
    migrations = available_migrations() if migrations is None else migrations
    with store.connect() as con:
        if store.lake is not None:  # no write-ahead log; DuckLake commits to its catalog
            return _apply(store, con, migrations)
        # Every commit below goes straight into the database file (a checkpoint instead of
        # the write-ahead log): DuckDB 1.5.5 cannot replay some schema changes from the log
        # (0009's ALTER TABLE: "Failure while replaying WAL file"), so a process killed after
        # a migration's commit left a database nobody could open (tests/test_crash_safety.py).
        con.execute("SET checkpoint_threshold = '0b'")
        try:
            return _apply(store, con, migrations)
        finally:
            con.execute("RESET checkpoint_threshold")


def _apply(store: Store, con: duckdb.DuckDBPyConnection, migrations: list[Migration]) -> list[int]:
    applied_now: list[int] = []
    lake = store.lake is not None
    done = applied_versions(con, lake)
    newest_known = max((m.version for m in migrations), default=0)
    if done and max(done) > newest_known:
        raise StoreError(
            f"Database schema version {max(done)} is newer than this code knows "
            f"({newest_known}); upgrade Scribe Workbench"
        )
    for migration in migrations:
        if migration.version in done:
            continue
        with store.transaction() as tx:
            tx.execute(for_lake(migration.sql) if lake else migration.sql)
            tx.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, ?)",
                [migration.version, migration.name, utcnow()],
            )
        applied_now.append(migration.version)
    return applied_now


def schema_version(store: Store) -> int:
    """The highest applied migration (0 for a blank database)."""
    with store.connect() as con:
        return max(applied_versions(con, store.lake is not None), default=0)
