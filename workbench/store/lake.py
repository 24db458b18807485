"""The shared store: DuckLake with a PostgreSQL catalog and a Parquet data path.

Several workbench servers (and ``scribe process`` runs) on several machines use one lake,
set by ``SCRIBE_LAKE=postgresql://USER@HOST:PORT/DBNAME?data_path=/abs/dir``. Each process
keeps one in-memory DuckDB with the ducklake and postgres extensions loaded and the lake
attached (``lake_host``), so a unit of work costs no attach.

Correctness across servers is the single-file store's rule, one writer at a time: instead of
the ``fcntl`` lock on a sidecar file, a unit of work holds a PostgreSQL session advisory lock
on the catalog (``WriteLock``). Every server derives the same key from one fixed name, and
PostgreSQL drops the lock when the holding process dies. DuckLake has no keys, so the
store's read-check-write steps (versions, ``ConcurrentEdit``, next ids) rely on that lock.

A password never goes in the URL (it would land in logs and process lists): libpq's
``PGPASSWORD`` / ``PGPASSFILE`` supply it, for psycopg and the postgres extension alike.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import duckdb

from workbench.store.db import StoreBusy, StoreError, httpfs_extension, memory_host, quoted

log = logging.getLogger(__name__)

LAKE_SCHEME = "postgresql"
LAKE_ATTACHED = "scribe"  # the name the lake is attached under (``USE``d: SQL unqualified)
# One key for every server of one lake: derived from a fixed name, so it never changes
# between versions or machines (64-bit signed, as pg_advisory_lock takes it).
LOCK_NAME = b"scribe-workbench: one writer at a time"
LOCK_KEY = int.from_bytes(hashlib.sha256(LOCK_NAME).digest()[:8], "big", signed=True)
CONNECT_TIMEOUT_S = 10
LOCK_POLL_S = 0.02


def shared_store_refusal(action: str) -> str | None:
    """Why ``action`` (work on the single-file database's files: backup, restore, rekey, a
    read-only file handle) cannot run while SCRIBE_LAKE is set; None when it is not."""
    from workbench.settings import setting

    url = setting("SCRIBE_LAKE").strip()
    if not url:
        return None
    where = str(parse_lake_url(url))
    return (
        f"{action} works on the single-file database in SCRIBE_HOME, but SCRIBE_LAKE selects "
        f"the shared store ({where}). Back up that PostgreSQL database (pg_dump) together with "
        "the data path's files instead, or unset SCRIBE_LAKE for the single-file store."
    )


class LakeUnavailable(StoreError):
    """The lake's catalog (PostgreSQL) cannot be reached, or its data path is unusable."""


@dataclass(frozen=True)
class LakeConfig:
    """Where a lake lives: its PostgreSQL catalog and its Parquet data path."""

    user: str
    host: str
    port: int
    dbname: str
    data_path: Path

    def conninfo(self) -> str:
        """The libpq connection string (no password: libpq reads PGPASSWORD/PGPASSFILE)."""
        return (
            f"host={self.host} port={self.port} dbname={self.dbname} user={self.user} "
            f"connect_timeout={CONNECT_TIMEOUT_S}"
        )

    def where(self) -> str:
        """The catalog as a person reads it in an error message."""
        return f"PostgreSQL {self.host}:{self.port}, database {self.dbname!r}, user {self.user!r}"

    def __str__(self) -> str:
        return (
            f"{LAKE_SCHEME}://{self.user}@{self.host}:{self.port}/{self.dbname}"
            f"?data_path={self.data_path}"
        )


def parse_lake_url(url: str) -> LakeConfig:
    """``postgresql://USER@HOST:PORT/DBNAME?data_path=/abs/dir`` as a ``LakeConfig``.

    Raises StoreError naming what is wrong: another scheme, a password in the URL, no
    user, host or database, a missing or relative ``data_path``, unknown parameters.
    """
    form = f"{LAKE_SCHEME}://USER@HOST:PORT/DBNAME?data_path=/absolute/dir"
    try:
        parts = urlsplit(url.strip())
        port = parts.port or 5432
    except ValueError as exc:
        raise StoreError(f"SCRIBE_LAKE is not a valid URL ({exc}); expected {form}") from None
    if parts.scheme not in (LAKE_SCHEME, "postgres"):
        raise StoreError(
            f"SCRIBE_LAKE must start with {LAKE_SCHEME}:// (a PostgreSQL catalog), "
            f"not {parts.scheme or 'nothing'!r}; expected {form}"
        )
    if parts.password is not None:
        raise StoreError(
            "SCRIBE_LAKE must not contain a password (it would show in logs and process "
            "lists): remove it and set PGPASSWORD or a PGPASSFILE (~/.pgpass) instead"
        )
    dbname = unquote(parts.path.lstrip("/"))
    missing = [n for n, v in (("user", parts.username), ("host", parts.hostname),
                              ("database name", dbname)) if not v]  # fmt: skip
    if missing:
        raise StoreError(f"SCRIBE_LAKE lacks the {', '.join(missing)}; expected {form}")
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(query) - {"data_path"})
    if unknown:
        raise StoreError(f"SCRIBE_LAKE has unknown parameters {unknown}; expected {form}")
    data_path = (query.get("data_path") or [""])[0]
    if not data_path:
        raise StoreError(
            f"SCRIBE_LAKE lacks ?data_path=/absolute/dir (where the lake's Parquet files go); "
            f"expected {form}"
        )
    if not os.path.isabs(data_path):
        raise StoreError(
            f"SCRIBE_LAKE's data_path {data_path!r} is relative: give an absolute directory "
            "that every server mounts at the same path"
        )
    return LakeConfig(unquote(parts.username), parts.hostname, port, dbname, Path(data_path))


def extension_file(package: str, name: str) -> Path:
    """An extension file shipped by a ``duckdb-extension-*`` package (no download)."""
    import importlib

    module = importlib.import_module(package)
    folder = Path(module.__file__).parent / "extensions" / f"v{duckdb.__version__}"
    found = folder / f"{name}.duckdb_extension"
    if not found.is_file():
        raise StoreError(
            f"The shared store needs {package.replace('_', '-')} {duckdb.__version__} "
            f"(no {found.name} in {folder}); install the version in requirements.lock"
        )
    return found


def postgres_extension(cache_dir: Path) -> Path:
    """The postgres extension under the file name DuckDB loads it by.

    The package ships ``postgres.duckdb_extension`` but its entry point is
    ``postgres_scanner``: DuckDB derives the entry point from the file name, so LOAD of the
    shipped file fails. A symlink ``postgres_scanner.duckdb_extension`` to it loads. The
    symlink goes in a folder named after the target's path, so servers sharing
    ``cache_dir`` with different installations do not overwrite each other's.
    """
    target = extension_file("duckdb_extension_postgres", "postgres")
    folder = cache_dir / "duckdb-extensions" / hashlib.sha256(str(target).encode()).hexdigest()[:16]
    link = folder / "postgres_scanner.duckdb_extension"
    if link.is_symlink() and Path(os.readlink(link)) == target:
        return link
    folder.mkdir(parents=True, exist_ok=True)
    staging = folder / f".link-{os.getpid()}"
    staging.unlink(missing_ok=True)
    staging.symlink_to(target)
    os.replace(staging, link)  # atomic: a concurrent LOAD sees the old link or the new
    return link


def extension_host(cache_dir: Path, spill_dir: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the ducklake, postgres and httpfs extensions loaded from
    their packages (autoinstall and autoload off: nothing is downloaded)."""
    spill_dir.mkdir(parents=True, exist_ok=True)
    extensions = [
        extension_file("duckdb_extension_ducklake", "ducklake"),
        postgres_extension(cache_dir),
        # httpfs brings OpenSSL; without it DuckDB only reads encrypted Parquet.
        httpfs_extension(),
    ]
    return memory_host(spill_dir, extensions, "the DuckLake extensions")


def lake_host(config: LakeConfig, cache_dir: Path, spill_dir: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the lake attached as ``scribe`` and in use.

    Raises LakeUnavailable (which catalog, what to check) when PostgreSQL does not answer.
    """
    host = extension_host(cache_dir, spill_dir)
    try:
        config.data_path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        host.close()
        raise LakeUnavailable(
            f"Cannot use the lake's data path {config.data_path}: {exc.strerror}. It must be "
            "a directory this user can write, mounted at the same path on every server."
        ) from None
    data_path = str(config.data_path).rstrip("/") + "/"
    try:
        host.execute(
            f"ATTACH {quoted('ducklake:postgres:' + config.conninfo())} AS {LAKE_ATTACHED} "
            f"(DATA_PATH {quoted(data_path)})"
        )
        host.execute(f"USE {LAKE_ATTACHED}")
    except duckdb.Error as exc:
        host.close()
        raise unavailable(config, exc) from None
    return host


def unavailable(config: LakeConfig, exc: Exception) -> LakeUnavailable:
    """A catalog that does not answer, as an error that says where and what to check."""
    reason = str(exc).strip().splitlines()[-1][:300] if str(exc).strip() else type(exc).__name__
    return LakeUnavailable(
        f"Cannot reach the shared store's catalog ({config.where()}): {reason}. Check that "
        "PostgreSQL runs there and accepts this host (listen_addresses, pg_hba.conf), that "
        "the database exists, and the password in PGPASSWORD / PGPASSFILE."
    )


# The lock's session must notice a dead server or network path: without keepalives an idle
# TCP connection whose peer vanished looks open for hours (seconds: first probe, gap, tries).
LOCK_KEEPALIVES = {"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10,
                   "keepalives_count": 3}  # fmt: skip
# pg_locks shows a bigint advisory key as two oids (high and low 32 bits) with objsubid 1.
LOCK_CLASSID, LOCK_OBJID = (LOCK_KEY % 2**64) >> 32, LOCK_KEY % 2**32
HELD_SQL = (
    "SELECT 1 FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'advisory'"
    " AND granted AND classid = %s::oid AND objid = %s::oid AND objsubid = 1"
)


def catalog_connection(config: LakeConfig, **options):
    """A psycopg connection to the catalog (autocommit), for the write lock and stamps."""
    import psycopg

    try:
        return psycopg.connect(config.conninfo(), autocommit=True, **options)
    except psycopg.Error as exc:
        raise unavailable(config, exc) from None


class WriteLock:
    """The lake's one-writer lock: a PostgreSQL session advisory lock on the catalog.

    Holds one catalog connection for the Store handle's lifetime (the lock belongs to that
    session: if the process dies, PostgreSQL ends the session and frees the lock). Only the
    lock's holder (the thread inside ``Store._file_lock``) uses or closes that session;
    ``newest_snapshot`` (stamps, asked from any thread) has a connection of its own.
    """

    def __init__(self, config: LakeConfig) -> None:
        self.config = config
        self._con = None
        self._stamp_con = None
        self._stamp_guard = threading.Lock()  # one psycopg query at a time on it

    def _connection(self):
        if self._con is None or self._con.closed:
            self._con = catalog_connection(self.config, **LOCK_KEEPALIVES)
        return self._con

    def acquire(self, timeout_s: float) -> None:
        """Take the lock, polling until ``timeout_s``; StoreBusy after that."""
        import psycopg

        deadline = time.monotonic() + timeout_s
        waited = False
        retried = False
        while True:
            try:
                got = (
                    self._connection()
                    .execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY])
                    .fetchone()[0]
                )
            except psycopg.OperationalError as exc:  # the session broke: a fresh one next
                self.close()
                if retried:
                    raise unavailable(self.config, exc) from None
                retried = True  # a session ended while idle (server restart): once more
                continue
            if got:
                break
            if time.monotonic() > deadline:
                raise StoreBusy(
                    f"The shared store ({self.config.where()}) is busy: another process held "
                    f"its write lock for more than {timeout_s:g} s"
                )
            waited = True
            time.sleep(LOCK_POLL_S)
        if waited:
            log.debug("lake write lock acquired after waiting")

    def held(self) -> bool:
        """Whether this handle's session still holds the lock (False also when the session
        has ended: PostgreSQL then freed the lock and another server may have taken it)."""
        import psycopg

        if self._con is None or self._con.closed:
            return False
        try:
            return self._con.execute(HELD_SQL, [LOCK_CLASSID, LOCK_OBJID]).fetchone() is not None
        except psycopg.Error:
            return False

    def release(self) -> None:
        """Give the lock back (a broken session has already lost it)."""
        import psycopg

        try:
            self._con.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])
        except (psycopg.Error, AttributeError) as exc:
            log.warning("releasing the lake write lock failed (%s); dropping the session", exc)
            self.close()

    def newest_snapshot(self) -> int | None:
        """The catalog's newest DuckLake snapshot id: it grows with every commit by any
        server, so it stands in for the single file's size and time (None: no catalog)."""
        import psycopg

        with self._stamp_guard:
            try:
                if self._stamp_con is None or self._stamp_con.closed:
                    self._stamp_con = catalog_connection(self.config)
                row = self._stamp_con.execute(
                    "SELECT max(snapshot_id) FROM ducklake_snapshot"
                ).fetchone()
            except psycopg.errors.UndefinedTable:  # not attached yet: DuckLake makes it then
                return None
            except psycopg.OperationalError as exc:  # a fresh session next time
                self._close_stamps()
                raise unavailable(self.config, exc) from None
        return row[0]

    def _close_stamps(self) -> None:
        if self._stamp_con is not None:
            try:
                self._stamp_con.close()
            finally:
                self._stamp_con = None

    def close(self) -> None:
        """Close the lock's session (and so free the lock if held); only its holder calls
        this."""
        if self._con is not None:
            try:
                self._con.close()
            finally:
                self._con = None
