"""Change the key of a data directory: old key -> new key, plaintext -> encrypted, or back.

Under the store lock, the database is copied into a new file with the new key (DuckDB's
``COPY FROM DATABASE``) and every stored audio file and trained model is re-encrypted, all
inside a staging folder in the data directory; the copy is then verified (every table row
for row, every audio file against the sha256 in its name, every model against its bytes
before) and only then swapped in by renames. Until
the swap the old files are untouched, so a failure or a crash midway leaves the old data
as it was. The swap itself writes a marker first; a rekey interrupted there is rolled back
by the next ``scribe rekey`` (``recover``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from workbench import audio_store, model_store
from workbench import store as st
from workbench.store.copy import CopyError, copy_database
from workbench.store.lake import shared_store_refusal

log = logging.getLogger(__name__)

STAGING = ".rekey-new"  # the re-encrypted copy being built
ASIDE = ".rekey-old"  # the old files during the swap
SWAP_MARKER = "SWAPPING"
DB_FILES = (st.DB_FILENAME, st.DB_FILENAME + ".wal")
SWAPPED = ("audio", model_store.MODELS_DIR)  # folders swapped beside the database


class RekeyError(Exception):
    """The key change did not happen; the old data is unchanged and usable."""


@dataclass(frozen=True)
class RekeyResult:
    tables: int
    rows: int
    audio_files: int
    encrypted: bool
    models: int = 0


def rekey(data_dir: Path, old_key: bytes | None, new_key: bytes | None) -> RekeyResult:
    """Re-encrypt the data directory from ``old_key`` to ``new_key`` (None: plaintext).

    Raises RekeyError (nothing changed) when the old key does not open the data, or the
    copy does not verify.
    """
    if refusal := shared_store_refusal("scribe rekey"):
        raise RekeyError(refusal)
    data_dir = Path(data_dir)
    store = st.Store(data_dir / st.DB_FILENAME, key=old_key)
    try:
        with store.exclusive(checkpoint=False):
            recover(data_dir)
            if not (data_dir / st.DB_FILENAME).exists():
                raise RekeyError(f"No database in {data_dir}")
            store.fold_log()  # now the .duckdb file is the whole database
            staging = data_dir / STAGING
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir()
            try:
                tables, rows = copy_database(
                    data_dir / st.DB_FILENAME, old_key, staging / st.DB_FILENAME, new_key
                )
                count = _copy_audio(data_dir, staging, old_key, new_key)
                models = _copy_models(data_dir, staging, old_key, new_key)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
            try:
                _swap(data_dir, staging)
            except BaseException:
                recover(data_dir)  # before the commit point: the old files go back
                raise
    except st.WrongKey as exc:
        raise RekeyError(f"The current key does not open the data: {exc}") from exc
    except CopyError as exc:
        raise RekeyError(str(exc)) from exc
    log.info(
        "rekeyed %s: %d tables, %d audio files, %d models", data_dir.name, tables, count, models
    )
    return RekeyResult(tables, rows, count, new_key is not None, models)


def recover(data_dir: Path) -> bool:
    """Undo a swap that a crash interrupted (put the old files back); True if it did."""
    aside = Path(data_dir) / ASIDE
    if not (aside / SWAP_MARKER).exists():
        shutil.rmtree(aside, ignore_errors=True)
        shutil.rmtree(Path(data_dir) / STAGING, ignore_errors=True)
        return False
    for name in (*DB_FILES, *SWAPPED):
        if (aside / name).exists():
            target = Path(data_dir) / name
            if target.is_dir():
                shutil.rmtree(target)
            else:
                target.unlink(missing_ok=True)
            os.replace(aside / name, target)
    shutil.rmtree(aside)
    shutil.rmtree(Path(data_dir) / STAGING, ignore_errors=True)
    log.warning("rolled back an interrupted rekey in %s", Path(data_dir).name)
    return True


def _copy_audio(data_dir: Path, staging: Path, old_key: bytes | None, new_key: bytes | None) -> int:
    """Re-encrypt every stored audio file into ``staging/audio`` and check it."""
    count = 0
    source_root = data_dir / "audio"
    for path in sorted(source_root.rglob("*")) if source_root.is_dir() else ():
        if not path.is_file() or path.name.startswith("."):
            continue
        try:
            data = audio_store.read_audio(path, old_key)
        except audio_store.AudioStoreError as exc:
            raise RekeyError(str(exc)) from exc
        name = audio_store.stem(path)
        if hashlib.sha256(data).hexdigest() != name:
            raise RekeyError(f"{path.name}: its content does not match its sha256 name")
        blob = data if new_key is None else audio_store.encrypt(data, new_key, name)
        target = staging / path.relative_to(data_dir)
        audio_store.write_atomically(target, blob)
        if audio_store.read_audio(target, new_key) != data:
            raise RekeyError(f"{path.name}: the re-encrypted copy does not read back")
        count += 1
    return count


def _copy_models(
    data_dir: Path, staging: Path, old_key: bytes | None, new_key: bytes | None
) -> int:
    """Re-encrypt every trained model into ``staging/models`` and check it reads back as the
    same model (the same packed bytes). A crashed training's hidden leftovers are dropped."""
    if not (data_dir / model_store.MODELS_DIR).is_dir():
        return 0
    (staging / model_store.MODELS_DIR).mkdir()
    try:
        paths = model_store.stored_models(data_dir)
        for path in paths:
            pack = model_store.read_pack(data_dir, path, old_key)
            model_store.write_pack(staging, path, pack, new_key)
            if model_store.read_pack(staging, path, new_key) != pack:
                raise RekeyError(f"{path}: the re-encrypted copy does not read back")
    except (model_store.ModelStoreError, FileNotFoundError, ValueError) as exc:
        raise RekeyError(str(exc)) from exc
    return len(paths)


def _swap(data_dir: Path, staging: Path) -> None:
    """Put the staged files in place of the old ones (marker first: see ``recover``)."""
    aside = data_dir / ASIDE
    shutil.rmtree(aside, ignore_errors=True)
    aside.mkdir()
    marker = aside / SWAP_MARKER
    marker.write_text("a rekey is swapping files; `scribe rekey` rolls it back\n")
    _fsync_dir(aside)
    for name in (*DB_FILES, *SWAPPED):
        if (data_dir / name).exists():
            os.replace(data_dir / name, aside / name)
    for name in (st.DB_FILENAME, *SWAPPED):
        if (staging / name).exists():
            os.replace(staging / name, data_dir / name)
    _fsync_dir(data_dir)
    marker.unlink()  # the commit point: from here on the new files are the data
    shutil.rmtree(aside)
    shutil.rmtree(staging, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
