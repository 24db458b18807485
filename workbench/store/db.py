"""The DuckDB handle: one writer at a time, across threads and processes.

DuckDB lets only one process hold a database file open read-write, and a second
process that tries fails at once. The workbench server and a batch ``scribe process``
run therefore never keep the file open: every unit of work takes an exclusive
``fcntl`` lock on a sidecar ``.lock`` file (blocking, with a timeout), opens the
database, runs one transaction, closes it and releases the lock. Opening costs about
20 ms, slow work (ASR, NLP) happens outside the lock, and the waiting side simply
queues instead of crashing. Nested calls in one thread reuse the open connection.

With a key the file is encrypted (AES-GCM, through the httpfs extension's OpenSSL): the
handle keeps one in-memory DuckDB with the extension loaded and ATTACHes the file, with a
key derived from the master key (``workbench.keys``), for each unit of work (under 1 ms;
a fresh in-memory DuckDB plus LOAD would add ~40 ms per open). ``USE`` makes it the default
database, so unqualified SQL and migrations are unchanged; its write-ahead log and any
spill files are encrypted too.

Lake mode (``lake``: a ``workbench.store.lake.LakeConfig``, from ``SCRIBE_LAKE``): the
database is a DuckLake (PostgreSQL catalog, Parquet files) shared by several servers. The
handle keeps one in-memory DuckDB with the lake attached for its lifetime, and the unit of
work's lock is a PostgreSQL advisory lock on the catalog instead of the ``fcntl`` lock, so
``connect``/``transaction`` keep their meaning across machines. Stamps follow the catalog's
newest snapshot id; there is no write-ahead log to fold, and ``exclusive`` (backup, rekey:
work on the database's files) refuses.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import socket
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:
    from workbench.store.access import Actor
    from workbench.store.lake import LakeConfig, WriteLock

from workbench import keys

# DuckDB checkpoints (folds the write-ahead log into the file) when the last connection
# closes: 100-400 ms on a database of 10,000 encounters, paid by every one-event write such
# as ▶'s ``sentence.viewed``. A connection whose only writes were such activity records
# (``transaction(activity=True)``: small inserts, whose log DuckDB replays reliably) closes
# without it (~5 ms); the log is durable and the next open replays it (~0.25 ms per logged
# commit), and it is folded in on close once it is this big. Any other write (schema
# changes, whose replay DuckDB 1.5 can fail on, included) is folded in when it closes.
WAL_FOLD_BYTES = 16 * 1024  # ~30 activity commits: replay under ~10 ms

log = logging.getLogger(__name__)


class StoreError(Exception):
    """A database problem, with a title a person can act on."""


class WrongKey(StoreError):
    """The database is encrypted with another key, or its encryption does not match the
    key settings; nothing was read or written."""


class StoreBusy(StoreError):
    """Another process held the database for longer than the lock timeout."""


class NotFound(StoreError):
    """The encounter, version or object asked for does not exist."""


class ConcurrentEdit(StoreError):
    """Someone saved a newer version since this edit started; nothing was written."""


class NoteLocked(StoreError):
    """The note is signed and can no longer be edited."""


class InvalidEdit(StoreError):
    """A correction that does not fit the data (bad span, unknown label, ...); nothing written."""


ATTACHED = "scribe"  # the name an encrypted file is attached under

LAKE_KEY_REFUSED = (
    "SCRIBE_KEY / SCRIBE_KEY_FILE cannot protect the shared store (SCRIBE_LAKE): DuckLake can "
    "encrypt its Parquet files, but it keeps each column's smallest and largest value (words "
    "of transcripts and notes) and small writes inline in the PostgreSQL catalog, in "
    "plaintext. Unset the key and encrypt the catalog's and data path's disks instead, or "
    "use the single-file store (unset SCRIBE_LAKE) with the key."
)


def httpfs_extension() -> Path:
    """The httpfs extension file shipped by the ``duckdb-extension-httpfs`` package.

    DuckDB writes encrypted files only with OpenSSL, which httpfs brings; loading it from
    the package needs no network and writes nothing to the home directory.
    """
    import duckdb_extension_httpfs

    folder = Path(duckdb_extension_httpfs.__file__).parent / "extensions" / f"v{duckdb.__version__}"
    found = folder / "httpfs.duckdb_extension"
    if not found.is_file():
        raise StoreError(
            f"Encryption needs duckdb-extension-httpfs {duckdb.__version__} "
            f"(no {found.name} in {folder}); install the version in requirements.lock"
        )
    return found


def memory_host(
    spill_dir: Path, extensions: list[Path], what: str, encrypt_spill: bool = False
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB that spills to ``spill_dir``, with ``extensions`` loaded from their
    package files (autoinstall and autoload off: nothing is downloaded). A load that fails is
    a StoreError naming ``what`` the extensions are for."""
    config = {
        "temp_directory": str(spill_dir),
        "autoinstall_known_extensions": "false",
        "autoload_known_extensions": "false",
    }
    if encrypt_spill:
        config["temp_file_encryption"] = "true"
    try:
        host = duckdb.connect(":memory:", config=config)
        for extension in extensions:
            host.execute(f"LOAD {quoted(str(extension))}")
    except duckdb.Error as exc:
        raise StoreError(f"Cannot load {what}: {exc}") from exc
    return host


def encrypted_host(spill_dir: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with httpfs loaded; spill files go encrypted to ``spill_dir``."""
    host = memory_host(
        spill_dir, [httpfs_extension()], "DuckDB encryption (httpfs)", encrypt_spill=True
    )
    host.execute("PRAGMA disable_checkpoint_on_shutdown")  # _close decides
    return host


def quoted(text: str) -> str:
    """A SQL string literal, for the statements that take no bound parameters."""
    return "'" + text.replace("'", "''") + "'"


def _open_error(path: Path, exc: duckdb.Error, encrypted: bool) -> StoreError:
    """The driver's refusal to open as an error that says what to do."""
    message = str(exc)
    if "Wrong encryption key" in message:
        return WrongKey(
            f"Cannot open database {path.name}: it is encrypted with another key than "
            "SCRIBE_KEY / SCRIBE_KEY_FILE. Set the key it was encrypted with (to change "
            "keys use `scribe rekey --new-key-file FILE`)."
        )
    if "is not encrypted" in message:
        return WrongKey(
            f"Database {path.name} is not encrypted, but SCRIBE_KEY / SCRIBE_KEY_FILE is "
            "set. Encrypt it once with `scribe rekey --new-key-file FILE` while no key is "
            "set, then set the key; or unset the key."
        )
    if "encrypted database" in message and not encrypted:
        return WrongKey(
            f"Database {path.name} is encrypted: set SCRIBE_KEY or SCRIBE_KEY_FILE to its key."
        )
    return StoreError(f"Cannot open database {path.name}: {exc}")


def _file_state(path: Path) -> tuple[int, int] | None:
    try:
        found = os.stat(path)
    except FileNotFoundError:
        return None
    return (found.st_mtime_ns, found.st_size)


def utcnow() -> datetime:
    """Naive UTC now: the store keeps every timestamp in UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


class Store:
    """A DuckDB database file plus the lock that serialises access to it.

    Use ``with store.connect() as con:`` for reads and ``with store.transaction() as con:``
    for writes; both are re-entrant within a thread.
    """

    def __init__(
        self,
        path: Path,
        lock_timeout_s: float = 120.0,
        key: bytes | None = None,
        lake: LakeConfig | None = None,
    ) -> None:
        """``key``: the master key of an encrypted database (None: a plaintext file).
        ``lake``: the shared DuckLake store to use instead of the file at ``path`` (whose
        folder still holds audio, models and caches)."""
        from workbench.store.access import SYSTEM  # (access imports StoreError from here)

        if lake is not None and key is not None:
            raise StoreError(LAKE_KEY_REFUSED)

        self.actor: Actor = SYSTEM  # who the store functions act for (see ``as_actor``)
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.lock_timeout_s = lock_timeout_s
        self._thread_lock = threading.RLock()
        self._local = threading.local()
        self._commits = 0  # transactions committed through this handle
        self._quiet_commits = 0  # of which only recorded activity (see ``transaction``)
        self._changes_elsewhere = 0  # file changes this handle did not make, as seen
        self._files: tuple | None = None  # the files as this handle last left them
        self._key = key
        self._host: duckdb.DuckDBPyConnection | None = None  # in-memory DuckDB (encrypted/lake)
        self._lake = lake
        self._lake_lock: WriteLock | None = None
        if lake is not None:
            from workbench.store.lake import WriteLock

            self._lake_lock = WriteLock(lake)

    @property
    def encrypted(self) -> bool:
        """Whether this handle opens the database file encrypted."""
        return self._key is not None

    @property
    def key(self) -> bytes | None:
        """The master key (also the source of the audio key); None when unencrypted."""
        return self._key

    @property
    def lake(self) -> LakeConfig | None:
        """The shared DuckLake store this handle uses (None: the single file ``path``)."""
        return self._lake

    def refuse_in_lake_mode(self, action: str) -> None:
        """StoreError for ``action`` (work on the database's files) in lake mode."""
        if self.lake is not None:
            raise StoreError(
                f"{action} works on the single-file database, but this workbench uses the "
                f"shared store ({self.lake}). Back up the PostgreSQL catalog (pg_dump) and "
                "the data path's files together instead."
            )

    def __repr__(self) -> str:
        if self._lake is not None:
            return f"Store(lake={str(self._lake)!r})"
        return f"Store({str(self.path)!r})"

    def as_actor(self, actor: Actor) -> Store:
        """This database acting for ``actor`` (see ``ActorStore``)."""
        return ActorStore(self, actor)

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """An open connection, holding the exclusive lock until the outermost exit."""
        con = getattr(self._local, "con", None)
        if con is not None:
            yield con
            return
        kept = getattr(self._local, "kept", None)
        if kept is not None:  # inside one_connection(): open now, close when it ends
            kept.enter_context(self._thread_lock)
            kept.enter_context(self._file_lock())
            self._local.con = self._open()
            kept.callback(self._close)
            yield self._local.con
            return
        with self._thread_lock, self._file_lock():
            self._local.con = self._open()
            try:
                yield self._local.con
            finally:
                self._close()

    @contextmanager
    def one_connection(self) -> Iterator[None]:
        """Inside this block the first ``connect`` opens the database and every later one in
        this thread reuses it; it closes (and the lock is released) when the block ends. A
        page rerun whose cached reads all missed then opens the file once, not once per read
        (20-30 ms each); a rerun that reads nothing opens nothing."""
        if getattr(self._local, "kept", None) is not None or getattr(self._local, "con", None):
            yield
            return
        with ExitStack() as kept:
            self._local.kept = kept
            try:
                yield
            finally:
                self._local.kept = None

    @contextmanager
    def exclusive(self, checkpoint: bool = True) -> Iterator[None]:
        """Hold the lock with the database closed, for work on its files (backup, rekey).

        ``checkpoint`` first folds the write-ahead log into the file, so the file alone is
        the whole database while the lock is held. Not re-entrant with ``connect``.
        Refuses in lake mode: the lake's files are PostgreSQL's and the data path's.
        """
        self.refuse_in_lake_mode("Exclusive work on the database files (backup, rekey)")
        with self._thread_lock, self._file_lock():
            if checkpoint:
                self.fold_log()
            yield
            # The files may have changed under this handle (restored, re-encrypted).
            self._files = None

    def fold_log(self) -> None:
        """Open, CHECKPOINT (fold the write-ahead log into the file) and close; only while
        holding ``exclusive()``."""
        self.refuse_in_lake_mode("Folding the write-ahead log")
        self._local.con = self._open()
        try:
            self._local.con.execute("CHECKPOINT")
        finally:
            self._close()

    def _open(self) -> duckdb.DuckDBPyConnection:
        self._notice_changes()  # (holding the lock) what others wrote before this open
        self._local.log_at_open = self._log_size()
        self._local.activity_commits, self._local.other_commits = 0, 0
        if self._lake is not None:
            return self._lake_cursor()
        if self._key is not None:
            return self._attach()
        try:
            con = duckdb.connect(str(self.path))
            con.execute("PRAGMA disable_checkpoint_on_shutdown")  # _close decides
        except duckdb.Error as exc:
            raise _open_error(self.path, exc, encrypted=False) from exc
        return con

    def _attach(self, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        """A connection whose default database is the encrypted file, attached now
        (``READ_ONLY`` for handles that only read, ``workbench.store.readonly``)."""
        if self._host is None:
            # Spill files where DuckDB puts a file database's own: beside it, ``NAME.tmp``
            # (one process at a time opens the file, so one folder serves).
            self._host = encrypted_host(self.path.with_name(self.path.name + ".tmp"))
        # ATTACH takes no bound parameters: the path is quoted, the key is hex.
        attach = (
            f"ATTACH {quoted(str(self.path))} AS {ATTACHED} "
            f"(ENCRYPTION_KEY '{keys.database_key(self._key)}'{', READ_ONLY' if read_only else ''})"
        )
        try:
            # A close that failed halfway may have left it attached.
            self._host.execute(f"DETACH DATABASE IF EXISTS {ATTACHED}")
            self._host.execute(attach)
        except duckdb.Error as exc:
            raise _open_error(self.path, exc, encrypted=True) from exc
        con = self._host.cursor()
        con.execute(f"USE {ATTACHED}")
        return con

    def _spill_dir(self) -> Path:
        """Where this process's lake host spills: under ``NAME.tmp`` beside the database (as
        a file database's own), in a folder of this host and process, since several lake
        servers share SCRIBE_HOME and DuckDB instances clash in one temp folder. Removed
        (with what DuckDB left there) when this handle is garbage-collected or the process
        exits."""
        # The handle's id too: handles of one process each remove only their own folder.
        name = f"{socket.gethostname()}-{os.getpid()}-{id(self):x}"
        folder = self.path.with_name(self.path.name + ".tmp") / name
        folder.mkdir(parents=True, exist_ok=True)
        weakref.finalize(self, shutil.rmtree, folder, ignore_errors=True)
        return folder

    def _lake_cursor(self) -> duckdb.DuckDBPyConnection:
        """A connection of this handle's lake host (attached once, kept between units)."""
        from workbench.store.lake import LAKE_ATTACHED, lake_host

        if self._host is None:
            self._host = lake_host(
                self._lake,
                cache_dir=self.path.parent / "cache",
                spill_dir=self._spill_dir(),
            )
        con = self._host.cursor()
        try:
            con.execute(f"USE {LAKE_ATTACHED}")
        except duckdb.Error as exc:  # a broken host: the next unit attaches afresh
            con.close()
            self._host.close()
            self._host = None
            raise StoreError(f"The shared store ({self._lake}) failed: {exc}") from exc
        return con

    def _close(self) -> None:
        if self._lake is not None:  # the host stays attached; no log to fold
            con, self._local.con = self._local.con, None
            con.close()
            self._files = self._files_after_commit()
            return
        con, self._local.con = self._local.con, None
        try:
            size = self._log_size()
            only_activity = self._local.activity_commits and not self._local.other_commits
            if size > WAL_FOLD_BYTES or (size > self._local.log_at_open and not only_activity):
                con.execute("CHECKPOINT")
        except duckdb.Error as exc:  # the log stays and is folded in on a later close
            log.warning("checkpoint of %s failed: %s", self.path.name, exc)
        finally:
            con.close()
            if self._host is not None:  # closes the file (checkpoint on shutdown is off)
                self._detach()
            # Still holding the lock: whatever the files look like now is this handle's doing.
            self._files = self._file_states()

    def _detach(self) -> None:
        try:
            self._host.execute(f"DETACH {ATTACHED}")
        except duckdb.Error as exc:  # never keep the file open past the lock: drop it all
            log.warning("detach of %s failed (%s); closing the in-memory host", self.path.name, exc)
            self._host.close()
            self._host = None

    @contextmanager
    def transaction(self, activity: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection inside one transaction: committed on success, rolled back on error.

        ``activity=True`` marks a transaction that only records what the reviewer did
        (``sentence.viewed``, ``review.active``): it changes ``stamp`` but not
        ``content_stamp``, so reads that do not show activity stay cached."""
        with self.connect() as con:
            if getattr(self._local, "in_tx", False):
                yield con
                return
            con.execute("BEGIN TRANSACTION")
            self._local.in_tx = True
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            else:
                self._check_lock_held(con)
                con.execute("COMMIT")
                self._commits += 1
                self._files = self._files_after_commit()  # holding the lock: ours
                self._quiet_commits += activity
                if activity:
                    self._local.activity_commits += 1
                else:
                    self._local.other_commits += 1
            finally:
                self._local.in_tx = False

    def _check_lock_held(self, con: duckdb.DuckDBPyConnection) -> None:
        """Before COMMIT in lake mode: still the one writer? If the lock's PostgreSQL session
        ended during the transaction, another server may have taken the lock and written
        since; committing could overwrite its change, so roll back and say so."""
        if self._lake_lock is None or self._lake_lock.held():
            return
        con.execute("ROLLBACK")
        raise StoreError(
            f"The shared store's write lock was lost during a write (its session on "
            f"{self._lake.where()} ended), so another server may have written meanwhile: "
            "nothing was saved (rolled back). Try again."
        )

    def _files_after_commit(self) -> tuple | None:
        """The files' state after a commit; None (seen as a change by the next stamp) when
        the lake's catalog does not answer: the write is committed all the same, so a
        failing read here must not report it failed (and invite a second copy)."""
        try:
            return self._file_states()
        except StoreError as exc:
            log.warning("reading the store's state after a commit failed: %s", exc)
            return None

    def stamp(self) -> tuple:
        """A token that changes whenever the database may have changed, without opening it.

        Reads keyed by it can be cached: a commit through this handle counts itself, and one
        from another process (``scribe process``) changes the file or its write-ahead log
        (size or modification time), which differs from how this handle left them. Costs two
        ``stat`` calls. In lake mode another server's commit shows as a newer snapshot id in
        the catalog (one query on the lock's session, under 1 ms).
        """
        self._notice_changes()
        return (self._commits, self._changes_elsewhere)

    def content_stamp(self) -> tuple:
        """Like ``stamp``, but unchanged by this handle's activity-only commits (see
        ``transaction``): for cached reads that show no activity (notes, transcripts,
        decisions, the worklist), so ▶ and the heartbeat do not empty them."""
        self._notice_changes()
        return (self._commits - self._quiet_commits, self._changes_elsewhere)

    def _log_size(self) -> int:
        if self._lake is not None:
            return 0
        found = _file_state(self.path.with_name(self.path.name + ".wal"))
        return found[1] if found else 0

    def _file_states(self) -> tuple:
        if self._lake_lock is not None:  # any server's commit makes a new snapshot
            return (self._lake_lock.newest_snapshot(),)
        return (_file_state(self.path), _file_state(self.path.with_name(self.path.name + ".wal")))

    def _notice_changes(self) -> None:
        files = self._file_states()
        if files != self._files:  # written by someone else (or never seen): count it
            self._changes_elsewhere += 1
            self._files = files

    @contextmanager
    def _file_lock(self) -> Iterator[None]:
        """The one-writer lock: ``fcntl`` on the sidecar file, or the lake's advisory lock."""
        if self._lake_lock is not None:
            self._lake_lock.acquire(self.lock_timeout_s)
            try:
                yield
            finally:
                self._lake_lock.release()
            return
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.lock_path, "a+") as fh:
            deadline = time.monotonic() + self.lock_timeout_s
            waited = False
            while True:
                try:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise StoreBusy(
                            f"Database {self.path.name} is busy: another process held it "
                            f"for more than {self.lock_timeout_s:.0f} s"
                        ) from None
                    waited = True
                    time.sleep(0.02)
            if waited:
                log.debug("store lock acquired after waiting")
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


class ActorStore(Store):
    """A store handle acting for another actor. It holds no database state of its own: every
    connection, transaction and stamp is the handle's it was made from, so both share the
    lock, this thread's open connection (and encrypted host) and the cache stamps."""

    def __init__(self, root: Store, actor: Actor) -> None:  # no Store.__init__: no own state
        self.root = root.root if isinstance(root, ActorStore) else root
        self.actor = actor
        self.path = root.path
        self.lock_path = root.lock_path
        self.lock_timeout_s = root.lock_timeout_s

    def __repr__(self) -> str:
        where = f"lake={str(self.lake)!r}" if self.lake is not None else repr(str(self.path))
        return f"Store({where}, actor={self.actor.user_id!r})"

    @property
    def lake(self) -> LakeConfig | None:
        return self.root.lake

    @property
    def encrypted(self) -> bool:
        return self.root.encrypted

    @property
    def key(self) -> bytes | None:
        return self.root.key

    def connect(self) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
        return self.root.connect()

    def one_connection(self) -> AbstractContextManager[None]:
        return self.root.one_connection()

    def exclusive(self, checkpoint: bool = True) -> AbstractContextManager[None]:
        return self.root.exclusive(checkpoint)

    def fold_log(self) -> None:
        self.root.fold_log()

    def transaction(
        self, activity: bool = False
    ) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
        return self.root.transaction(activity)

    def stamp(self) -> tuple:
        return self.root.stamp()

    def content_stamp(self) -> tuple:
        return self.root.content_stamp()
