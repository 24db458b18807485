"""Copy a database file into a new one with another key (used by ``scribe rekey``)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from workbench.store.db import ATTACHED, StoreError, encrypted_host, quoted


class CopyError(StoreError):
    """The copy failed or differs from the original; the original is untouched."""


def _attach_sql(alias: str, path: Path, key: bytes | None, read_only: bool = False) -> str:
    from workbench.keys import database_key

    options = []
    if key is not None:
        options.append(f"ENCRYPTION_KEY '{database_key(key)}'")
    if read_only:
        options.append("READ_ONLY")
    suffix = f" ({', '.join(options)})" if options else ""
    return f"ATTACH {quoted(str(path))} AS {alias}{suffix}"


def copy_database(
    source: Path, source_key: bytes | None, target: Path, target_key: bytes | None
) -> tuple[int, int]:
    """Copy the database file ``source`` into a new file ``target`` with another key
    (None: plaintext) and check that every table has identical rows; returns the number
    of tables and rows. The source is opened read-only; hold its store's lock."""
    host = encrypted_host(Path(target).with_name(Path(target).name + ".tmp"))
    try:
        host.execute(_attach_sql("old_db", source, source_key, read_only=True))
        host.execute(_attach_sql(ATTACHED, target, target_key))
        host.execute(f"COPY FROM DATABASE old_db TO {ATTACHED}")
        tables, rows = _verify_copy(host)
        host.execute(f"CHECKPOINT {ATTACHED}")
    except duckdb.Error as exc:
        raise CopyError(f"Copying the database failed: {exc}") from exc
    finally:
        host.close()
    return tables, rows


def _verify_copy(host: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """Every table of the old database has identical rows in the new one."""
    names = [
        row[0]
        for row in host.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'old_db'"
            " ORDER BY table_name"
        ).fetchall()
    ]
    copied = {
        row[0]
        for row in host.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = ?", [ATTACHED]
        ).fetchall()
    }
    if set(names) != copied:
        raise CopyError(f"The copy has other tables: {sorted(copied ^ set(names))}")
    total = 0
    for name in names:
        # Table names come from the catalog, not from input; quoted as identifiers.
        old, new = f'old_db."{name}"', f'{ATTACHED}."{name}"'
        count = host.execute(f"SELECT count(*) FROM {old}").fetchone()[0]
        differ = host.execute(
            f"SELECT count(*) FROM ((SELECT * FROM {old} EXCEPT ALL SELECT * FROM {new})"
            f" UNION ALL (SELECT * FROM {new} EXCEPT ALL SELECT * FROM {old}))"
        ).fetchone()[0]
        if differ:
            raise CopyError(f"Table {name}: {differ} rows differ after the copy")
        total += count
    return len(names), total
