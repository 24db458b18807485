"""A store handle that only reads: for notebooks and reports beside a running workbench.

It follows the store's one-writer design (``workbench.store.db``): each unit of work takes
the same exclusive lock, opens the file with DuckDB's ``read_only=True`` (an encrypted file
is attached ``READ_ONLY``), runs, closes and releases the lock. So the file is never held
between calls and a running workbench or ``scribe process`` only ever waits for one read.
It never migrates, checkpoints or writes; ``transaction`` refuses.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from workbench.store import DB_FILENAME
from workbench.store.db import (
    Store,
    StoreError,
    _open_error,
)
from workbench.store.lake import shared_store_refusal
from workbench.store.migrations import available_migrations


class ReadOnly(StoreError):
    """A write was attempted through a read-only handle; nothing was written."""


class ReadOnlyStore(Store):
    """``Store`` whose connections are read-only and whose transactions refuse."""

    def _open(self) -> duckdb.DuckDBPyConnection:
        self._notice_changes()
        if self._key is not None:
            return self._attach(read_only=True)
        try:
            return duckdb.connect(str(self.path), read_only=True)
        except duckdb.Error as exc:
            raise _open_error(self.path, exc, encrypted=False) from exc

    def _close(self) -> None:
        con, self._local.con = self._local.con, None
        try:
            con.close()
        finally:
            if self._host is not None:
                self._detach()
            self._files = self._file_states()

    @contextmanager
    def transaction(self, activity: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        raise ReadOnly(f"{self.path.name} is open read-only: nothing may be written")
        yield  # pragma: no cover  (a generator, so the refusal comes on entering)

    def exclusive(self, checkpoint: bool = True):
        raise ReadOnly(f"{self.path.name} is open read-only")


def open_read_only(data_dir: Path, key: bytes | None = None) -> ReadOnlyStore:
    """The store in ``data_dir``, read-only. It must exist and be migrated to this code's
    schema (opening it once with the workbench or ``scribe status`` does that)."""
    if refusal := shared_store_refusal("A read-only store (notebooks, reports)"):
        raise StoreError(refusal)
    path = Path(data_dir) / DB_FILENAME
    if not path.is_file():
        raise StoreError(f"No workbench database at {path}")
    store = ReadOnlyStore(path, key=key)
    with store.connect() as con:
        try:
            found = {r[0] for r in con.execute("SELECT version FROM schema_migrations").fetchall()}
        except duckdb.Error as exc:
            raise StoreError(f"{path} is not a workbench database: {exc}") from exc
    missing = [m.version for m in available_migrations() if m.version not in found]
    if missing:
        raise StoreError(
            f"{path} lacks migrations {missing}: open it once with the workbench "
            "(`scribe status`) to upgrade it, then read it here."
        )
    return store
