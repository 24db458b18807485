"""The ``manifest.json`` of a training-data export, and its check against the files.

A manifest names the format and its record schema, the store's schema version, the filters,
the counts (encounters, records, what was skipped and why), who made it and when, and the
size and sha256 of every file beside it. ``verify_export`` recomputes the digests: a file
changed, missing or added after the export is reported.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
_CHUNK = 1 << 20


def file_entry(path: Path, root: Path) -> dict[str, Any]:
    """One ``files`` entry: the path relative to ``root``, its size and sha256."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return {
        "path": path.relative_to(root).as_posix(),
        "bytes": path.stat().st_size,
        "sha256": digest.hexdigest(),
    }


def write_manifest(root: Path, manifest: dict[str, Any]) -> Path:
    """Write ``manifest`` plus a ``files`` entry for every other file under ``root``."""
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.name != MANIFEST)
    body = {
        "manifest_version": MANIFEST_VERSION,
        **manifest,
        "files": [file_entry(p, root) for p in files],
    }
    path = root / MANIFEST
    path.write_text(json.dumps(body, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def read_manifest(root: Path) -> dict[str, Any]:
    """The manifest of the export in ``root``; ValueError when missing or not valid JSON."""
    path = Path(root) / MANIFEST
    if not path.is_file():
        raise ValueError(f"No {MANIFEST} in {root}: not a Scribe Workbench export")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("files"), list):
        raise ValueError(f"{path} has no list of files")
    return data


def verify_export(root: Path) -> list[str]:
    """What does not match the manifest (empty: every file is as exported)."""
    root = Path(root)
    try:
        manifest = read_manifest(root)
    except ValueError as exc:
        return [str(exc)]
    problems = []
    listed = set()
    for entry in manifest["files"]:
        name = str(entry.get("path", ""))
        listed.add(name)
        path = root / name
        if not path.is_file():
            problems.append(f"{name}: missing")
            continue
        found = file_entry(path, root)
        if found["bytes"] != entry.get("bytes"):
            said = entry.get("bytes")
            problems.append(f"{name}: {found['bytes']} bytes, the manifest says {said}")
        elif found["sha256"] != entry.get("sha256"):
            problems.append(f"{name}: sha256 differs from the manifest (the file was changed)")
    for path in sorted(root.rglob("*")):
        name = path.relative_to(root).as_posix()
        if path.is_file() and name != MANIFEST and name not in listed:
            problems.append(f"{name}: not in the manifest")
    return problems
