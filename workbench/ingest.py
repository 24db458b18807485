"""Ingest: validate an audio file, store it by content hash and create its encounter."""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pipelines.audio import AudioInfo, probe_audio
from workbench import store as st

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EncounterMeta:
    """What a person (or the demo) says about an encounter when ingesting it."""

    encounter_id: str | None = None
    title: str | None = None
    specialty: str | None = None
    visit_type: str | None = None
    clinician: str | None = None
    patient_label: str | None = None
    source: str = "upload"
    clinician_id: str | None = None  # owner's user id (a clinician capturing owns it anyway)


@dataclass(frozen=True)
class IngestResult:
    """The encounter for the audio; ``audio.notes`` holds what the person should be told."""

    encounter_id: str
    created: bool
    audio: AudioInfo


def max_duration_s() -> float:
    """The longest recording ingest accepts: $SCRIBE_MAX_AUDIO_HOURS, default 4 hours."""
    from workbench.settings import setting

    return float(setting("SCRIBE_MAX_AUDIO_HOURS")) * 3600


def audio_path(data_dir: Path, sha256: str, suffix: str) -> Path:
    """Where the audio with this hash lives inside the data directory."""
    return Path(data_dir) / "audio" / sha256[:2] / f"{sha256}{suffix.lower()}"


def ingest_file(
    store: st.Store,
    data_dir: Path,
    path: Path,
    user_id: str,
    meta: EncounterMeta | None = None,
    max_duration: float | None = None,
) -> IngestResult:
    """Validate and store ``path`` and create its encounter; ingesting it again is a no-op.

    The file is stored under the suffix of its real format (an mp3 named ``.wav`` is
    kept as ``.mp3``; ``result.audio.notes`` says so). ``max_duration`` (seconds)
    defaults to ``max_duration_s()``. Raises pipelines.audio.AudioError with a readable
    message for unusable audio; then nothing is written.
    """
    path = Path(path)
    meta = meta or EncounterMeta()
    info = probe_audio(path, max_duration_s=max_duration or max_duration_s())
    existing = st.find_encounter_by_audio(store, info.sha256)
    if existing is not None:
        return IngestResult(existing.encounter_id, False, info)
    target = audio_path(data_dir, info.sha256, info.suffix or path.suffix)
    copied = _copy_atomically(path, target)
    encounter_id = meta.encounter_id or f"enc-{info.sha256[:12]}"
    try:
        created = _record(store, data_dir, path, target, info, meta, encounter_id, user_id)
    except BaseException:
        if copied:  # the database said no: leave no orphan file behind
            target.unlink(missing_ok=True)
        raise
    log.info("ingested encounter %s (%.1f s audio)", encounter_id, info.duration_s)
    return IngestResult(encounter_id, created, info)


def ingest_bytes(
    store: st.Store,
    data_dir: Path,
    data: bytes,
    filename: str,
    user_id: str,
    meta: EncounterMeta | None = None,
    max_duration: float | None = None,
) -> IngestResult:
    """``ingest_file`` for an upload or a browser recording held in memory.

    The bytes go to a scratch file named like the upload under ``DATA_DIR/tmp`` (on
    disk, and removed afterwards), so the stored original name is the upload's.
    """
    scratch = Path(data_dir) / "tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=scratch, prefix="upload-") as tmp:
        path = Path(tmp) / _safe_name(filename)
        path.write_bytes(data)
        return ingest_file(store, data_dir, path, user_id, meta, max_duration)


def _record(
    store: st.Store, data_dir: Path, path: Path, target: Path, info: AudioInfo,
    meta: EncounterMeta, encounter_id: str, user_id: str,
) -> bool:
    """The audio row and the encounter, in one transaction."""
    with store.transaction():
        st.add_audio(
            store,
            st.AudioRecord(
                sha256=info.sha256,
                stored_path=str(target.relative_to(data_dir)),
                original_name=path.name,
                format=info.format,
                duration_s=info.duration_s,
                sample_rate=info.sample_rate,
                channels=info.channels,
                size_bytes=info.size_bytes,
            ),
        )
        return st.add_encounter(
            store,
            st.EncounterRecord(
                encounter_id=encounter_id,
                title=meta.title or path.stem,
                specialty=meta.specialty,
                visit_type=meta.visit_type,
                clinician=meta.clinician,
                patient_label=meta.patient_label,
                audio_sha256=info.sha256,
                source=meta.source,
                clinician_id=meta.clinician_id,
            ),
            user_id,
        )


def _safe_name(filename: str) -> str:
    """The upload's base name with only harmless characters (it names a scratch file)."""
    name = re.sub(r"[^\w.\- ]+", "_", Path(filename or "").name).strip(" .")
    return name or "recording"


def _copy_atomically(source: Path, target: Path) -> bool:
    """Copy via a temporary file and rename, so a crash never leaves half a file.

    Returns False when the target already existed (nothing copied).
    """
    if target.exists():
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".ingest-")
    try:
        with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
            shutil.copyfileobj(src, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True
