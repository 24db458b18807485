"""Backups of a data directory and their restore, each file checked by sha256.

A backup is one uncompressed tar (stored audio is compressed already, an encrypted
database does not compress) holding the database file, the stored audio and the other
files of the data directory as they are, so a backup of encrypted data stays encrypted,
plus ``MANIFEST.json`` (the sha256 and size of every file) and ``MANIFEST.sha256`` (the
sha256 of the manifest). It is taken under the store lock after a checkpoint, so it is
one consistent snapshot.

Restore reads the whole backup and checks every checksum before it writes anything; it
refuses members that are not plain files or whose names leave the target (absolute, or
with ``..``). It builds the new data directory in a hidden folder beside the target and
renames it into place; an existing non-empty target is only replaced with ``force`` and
is then kept aside (renamed ``NAME.before-restore-TIME``).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from workbench import store as st
from workbench.store.lake import shared_store_refusal

MANIFEST = "MANIFEST.json"
MANIFEST_SUM = "MANIFEST.sha256"
FORMAT = "scribe-workbench-backup"
VERSION = 1
# Not part of a snapshot: the lock, scratch space and a rekey's half-built copies.
SKIPPED_TOP = {st.DB_FILENAME + ".lock", st.DB_FILENAME + ".tmp", "tmp", ".rekey-new", ".rekey-old"}
_BLOCK = 1 << 20


class BackupError(Exception):
    """The backup cannot be made or restored; nothing was written to the target."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    files: int
    bytes: int
    encrypted: bool


def backup(data_dir: Path, out: Path, key: bytes | None) -> BackupResult:
    """Write a checked snapshot of ``data_dir`` to the tar file ``out`` (not overwritten).

    ``key`` is the data's master key (None: unencrypted); it is used only to checkpoint the
    database, and the files are copied as they are on disk.
    """
    data_dir, out = Path(data_dir), Path(out)
    if refusal := shared_store_refusal("scribe backup"):
        raise BackupError(refusal)
    if out.exists():
        raise BackupError(f"{out} already exists; choose a new file name")
    if out.resolve().is_relative_to(data_dir.resolve()):
        raise BackupError("Write the backup outside the data directory")
    if not (data_dir / st.DB_FILENAME).exists():
        raise BackupError(f"No database in {data_dir}")
    store = st.Store(data_dir / st.DB_FILENAME, key=key)
    partial = out.with_name(out.name + ".partial")
    try:
        with store.exclusive():  # checkpointed: nobody writes while the files are copied
            files = _snapshot_files(data_dir)
            entries = {}
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # owner only
            with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w") as tar:
                for rel, path in files:
                    entries[rel] = _add_file(tar, path, rel)
                manifest = json.dumps(
                    {
                        "format": FORMAT,
                        "version": VERSION,
                        "created": datetime.now(UTC).isoformat(timespec="seconds"),
                        "encrypted": key is not None,
                        "files": entries,
                    },
                    indent=1,
                    sort_keys=True,
                ).encode()
                _add_bytes(tar, MANIFEST, manifest)
                digest = hashlib.sha256(manifest).hexdigest()
                _add_bytes(tar, MANIFEST_SUM, (digest + "\n").encode())
            with open(partial, "rb+") as fh:
                os.fsync(fh.fileno())
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, out)
    total = sum(e["bytes"] for e in entries.values())
    return BackupResult(out, len(entries), total, key is not None)


def verify(backup_file: Path) -> dict:
    """Check a backup without writing anything; returns its manifest.

    Raises BackupError for a file that is not a backup, is truncated or corrupted, or holds
    a member that is not a plain file or whose name leaves the target.
    """
    return _read_verified(Path(backup_file))


def restore(backup_file: Path, data_dir: Path, force: bool = False) -> BackupResult:
    """Restore a checked backup into ``data_dir`` (refused if it holds files, unless ``force``:
    then the old directory is kept aside beside it)."""
    if refusal := shared_store_refusal("scribe restore"):
        raise BackupError(refusal)
    backup_file, data_dir = Path(backup_file), Path(data_dir).resolve()
    occupied = data_dir.exists() and any(data_dir.iterdir())
    if occupied and not force:
        raise BackupError(
            f"{data_dir} is not empty; pass --force to replace it (the old one is kept aside)"
        )
    manifest = _read_verified(backup_file)  # every checksum, before writing anything
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    staging = data_dir.with_name(f".{data_dir.name}.restoring-{stamp}")
    try:
        staging.mkdir(parents=True)
        _extract(backup_file, staging, manifest["files"])
        _swap_in(staging, data_dir, occupied, stamp)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    total = sum(e["bytes"] for e in manifest["files"].values())
    return BackupResult(data_dir, len(manifest["files"]), total, bool(manifest.get("encrypted")))


def _extract(backup_file: Path, staging: Path, files: dict) -> None:
    """Write the listed files under ``staging``, checking each checksum again as it goes
    (the backup could change between the check and the extraction)."""
    with tarfile.open(backup_file, "r:") as tar:
        for member in tar:
            name = _safe_name(member.name)
            if name not in files:
                continue
            target = staging.joinpath(*PurePosixPath(name).parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            digest = hashlib.sha256()
            with tar.extractfile(member) as src, open(target, "wb") as out:
                for block in iter(lambda: src.read(_BLOCK), b""):
                    digest.update(block)
                    out.write(block)
            if digest.hexdigest() != files[name]["sha256"]:
                raise BackupError(f"{backup_file.name} changed while restoring ({name})")


def _swap_in(staging: Path, data_dir: Path, occupied: bool, stamp: str) -> None:
    if occupied:
        aside = data_dir.with_name(f"{data_dir.name}.before-restore-{stamp}")
        lock = st.Store(data_dir / st.DB_FILENAME)
        with lock.exclusive(checkpoint=False):  # no one writes while it moves
            os.replace(data_dir, aside)
    elif data_dir.exists():
        data_dir.rmdir()
    os.replace(staging, data_dir)


def _snapshot_files(data_dir: Path) -> list[tuple[str, Path]]:
    found = []
    for path in sorted(data_dir.rglob("*")):
        rel = path.relative_to(data_dir)
        if rel.parts[0] in SKIPPED_TOP or path.is_symlink() or not path.is_file():
            continue
        found.append((rel.as_posix(), path))
    return found


def _add_file(tar: tarfile.TarFile, path: Path, rel: str) -> dict:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_BLOCK), b""):
            digest.update(block)
    info = tar.gettarinfo(str(path), arcname=rel)
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    with open(path, "rb") as fh:
        tar.addfile(info, fh)
    return {"sha256": digest.hexdigest(), "bytes": info.size}


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), 0o600
    info.mtime = int(datetime.now(UTC).timestamp())
    tar.addfile(info, io.BytesIO(data))


def _safe_name(name: str) -> str:
    path = PurePosixPath(name)
    if not name or path.is_absolute() or ".." in path.parts or "\\" in name:
        raise BackupError(f"Refused: the backup holds a file outside its folder ({name!r})")
    return path.as_posix()


def _read_verified(backup_file: Path) -> dict:
    """The manifest, after checking it and every file against it (reads, writes nothing)."""
    if not backup_file.is_file():
        raise BackupError(f"{backup_file}: no such backup file")
    sums: dict[str, tuple[str, int]] = {}
    manifest_bytes = manifest_sum = None
    try:
        with tarfile.open(backup_file, "r:") as tar:
            for member in tar:
                name = _safe_name(member.name)
                if member.isdir():
                    continue
                if not member.isfile():
                    raise BackupError(f"Refused: {name!r} in the backup is not a plain file")
                if name in (MANIFEST, MANIFEST_SUM):
                    data = tar.extractfile(member).read()
                    if name == MANIFEST:
                        manifest_bytes = data
                    else:
                        manifest_sum = data.decode("ascii", "replace").strip()
                    continue
                if name in sums:
                    raise BackupError(f"Refused: {name!r} appears twice in the backup")
                digest, size = hashlib.sha256(), 0
                with tar.extractfile(member) as src:
                    for block in iter(lambda: src.read(_BLOCK), b""):
                        digest.update(block)
                        size += len(block)
                sums[name] = (digest.hexdigest(), size)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise BackupError(f"{backup_file.name} is truncated or not a backup: {exc}") from exc
    if manifest_bytes is None or manifest_sum is None:
        raise BackupError(f"{backup_file.name} is not a complete backup (no manifest)")
    if hashlib.sha256(manifest_bytes).hexdigest() != manifest_sum:
        raise BackupError(f"{backup_file.name} is corrupted: the manifest's checksum differs")
    manifest = json.loads(manifest_bytes)
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise BackupError(f"{backup_file.name} is not a Scribe Workbench backup (version 1)")
    expected = {name: (e["sha256"], e["bytes"]) for name, e in manifest["files"].items()}
    if set(expected) != set(sums):
        missing = sorted(set(expected) - set(sums))[:3]
        extra = sorted(set(sums) - set(expected))[:3]
        raise BackupError(
            f"{backup_file.name} is incomplete or altered: missing {missing}, unlisted {extra}"
        )
    for name, found in sums.items():
        if expected[name] != found:
            raise BackupError(f"{backup_file.name} is corrupted: {name} fails its checksum")
    return manifest
