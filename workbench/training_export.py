"""``scribe export FORMAT --out DIR``: choose the encounters, write the format's files and a
manifest into a temporary folder beside DIR, rename it into place, record the export.

Who may: the ``training.export`` action (admins; the operator's CLI). Which encounters:
every one the actor may list, changed on or after ``--since`` (if given), and with
training-use consent (``workbench.store.consent``). Consent is required by default; the
explicit ``consented_only=False`` (``--all-encounters``) is refused unless the export is
de-identified, and the manifest says how many encounters without consent it holds.

An export never leaves a half-written folder: everything is written into
``.DIR.part-<id>`` and renamed to DIR at the end (a failure removes it); an existing DIR
that is not empty is refused unless ``force``. The export's events (``dataset.exported``
and one ``training.exported`` per encounter) are written once the folder is in place; if
that fails the folder is removed again, so no export exists without its record.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import time
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pipelines.export import ExportError
from pipelines.export.manifest import MANIFEST, read_manifest, write_manifest
from workbench import store as db
from workbench.export_formats import FORMATS, ExportOptions, FormatResult
from workbench.store.access import require
from workbench.store.db import utcnow
from workbench.store.exports import changed_since, record_dataset_export
from workbench.store.simulation import simulated_ids

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExportRequest:
    """One ``scribe export FORMAT`` run."""

    format: str
    out: Path
    since: date | None = None
    consented_only: bool = True
    deidentified: bool = False
    force: bool = False


@dataclass(frozen=True)
class ExportSummary:
    """Where the export went, its manifest (as written) and how long it took."""

    out: Path
    manifest: dict[str, Any]
    seconds: float


def parse_since(text: str | None) -> date | None:
    """``--since``: an ISO date (YYYY-MM-DD, midnight UTC); ExportError for anything else."""
    if text is None or not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ExportError(
            f"--since must be a date as YYYY-MM-DD (for example 2025-03-01), not {text!r}"
        ) from None


def check_request(request: ExportRequest) -> None:
    """ExportError for a request that cannot run: unknown format, identified data without
    consent, or an output folder that is a file or is not empty (without ``force``)."""
    if request.format not in FORMATS:
        raise ExportError(
            f"Unknown export format {request.format!r}; choose one of {', '.join(FORMATS)}"
        )
    if not request.consented_only and not request.deidentified:
        raise ExportError(
            "--all-encounters exports encounters without training-use consent and is only "
            "allowed with --deidentified; without it, only consented encounters are exported."
        )
    out = request.out
    if out.exists() and not out.is_dir():
        raise ExportError(f"{out} is a file; give a folder for the export")
    if out.is_dir() and any(out.iterdir()) and not request.force:
        raise ExportError(f"{out} is not empty; choose a new folder or pass --force to replace it")


def export_dataset(store: db.Store, request: ExportRequest, user_id: str) -> ExportSummary:
    """Run the export (see the module docstring); raises ExportError for a bad request and
    Forbidden unless the actor may export training data. Nothing is left behind on error."""
    started = time.perf_counter()
    check_request(request)
    require(store, "training.export")
    spec = FORMATS[request.format]
    since = None if request.since is None else datetime.combine(request.since, datetime.min.time())
    all_ids = sorted(s.encounter.encounter_id for s in db.list_encounters(store))
    # Never train on fake data: simulated encounters (``scribe simulate``) are left out first,
    # counted under "simulated" in the manifest.
    simulated = simulated_ids(store, all_ids)
    skipped: dict[str, list[str]] = {"simulated": [e for e in all_ids if e in simulated]}
    ids = [e for e in all_ids if e not in simulated]
    if since is not None:
        recent = changed_since(store, ids, since)
        skipped["unchanged_since"] = [e for e in ids if e not in recent]
        ids = [e for e in ids if e in recent]
    consented = db.consented_ids(store, ids)
    without_consent = [e for e in ids if e not in consented]
    if request.consented_only:
        skipped["no_consent"] = without_consent
        ids = [e for e in ids if e in consented]
    export_id = uuid.uuid4().hex
    out = request.out
    out.parent.mkdir(parents=True, exist_ok=True)
    part = out.parent / f".{out.name}.part-{export_id[:12]}"
    part.mkdir()
    try:
        options = ExportOptions(deidentified=request.deidentified, since=since)
        result = spec.write(store, ids, part, options)
        manifest = _manifest(
            store, request, export_id, user_id, all_ids, ids, skipped, without_consent, result
        )
        write_manifest(part, manifest)
        _publish(part, out, request.force)
    except BaseException:
        shutil.rmtree(part, ignore_errors=True)
        raise
    digest = hashlib.sha256((out / MANIFEST).read_bytes()).hexdigest()
    try:
        record_dataset_export(
            store,
            user_id,
            export_id,
            request.format,
            result.encounters,
            {
                "schema": result.schema,
                "out": str(out),
                "filters": manifest["filters"],
                "counts": manifest["counts"],
                "manifest_sha256": digest,
            },
        )
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)  # no export without its record
        raise
    seconds = time.perf_counter() - started
    log.info(
        "exported %s %s: %d encounters, %s records in %.2f s",
        request.format,
        export_id,
        len(result.encounters),
        result.records,
        seconds,
    )
    return ExportSummary(out, read_manifest(out), seconds)


def _manifest(
    store: db.Store,
    request: ExportRequest,
    export_id: str,
    user_id: str,
    all_ids: list[str],
    ids: list[str],
    skipped: dict[str, list[str]],
    without_consent: list[str],
    result: FormatResult,
) -> dict[str, Any]:
    skipped = {**skipped, **result.skipped}
    skipped = {reason: found for reason, found in skipped.items() if found}
    return {
        "format": request.format,
        "schema": result.schema,
        "store_schema_version": db.schema_version(store),
        "export_id": export_id,
        "created_at": utcnow().isoformat(timespec="seconds") + "Z",
        "created_by": user_id,
        "role": store.actor.role,
        "filters": {
            "since": request.since.isoformat() if request.since else None,
            "consent": "consented-only" if request.consented_only else "all-encounters",
            "deidentified": request.deidentified,
        },
        "counts": {
            "encounters_in_store": len(all_ids),
            "encounters_selected": len(ids),
            "encounters": len(result.encounters),
            "records": result.records,
            "files": len(result.files),
            "without_consent": 0 if request.consented_only else len(without_consent),
            "skipped": {reason: len(found) for reason, found in sorted(skipped.items())},
        },
        "skipped_encounters": {reason: found for reason, found in sorted(skipped.items())},
        "encounter_ids": result.encounters,
        "details": result.details,
    }


def _publish(part: Path, out: Path, force: bool) -> None:
    """Rename the finished folder to ``out``; a non-empty ``out`` only with ``force`` (it is
    moved aside first and removed once the new one is in place)."""
    if out.is_dir() and not any(out.iterdir()):
        out.rmdir()
    old = None
    if out.exists():
        if not force:  # filled while we were writing
            raise ExportError(f"{out} is not empty; choose a new folder or pass --force")
        old = out.parent / f".{out.name}.old-{part.name.rsplit('-', 1)[-1]}"
        out.rename(old)
    part.rename(out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
