"""Ingest: validate an audio file, store it by content hash and create its encounter."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import tempfile
import unicodedata
from dataclasses import dataclass, fields, replace
from pathlib import Path

from pipelines.audio import AudioError, AudioInfo, probe_audio, probe_audio_bytes
from workbench import store as st
from workbench.audio_store import audio_path, write_audio

log = logging.getLogger(__name__)

# An upload's name becomes a scratch file name and the default title: keep it well under
# the 255-byte file-name limit of common file systems, counted in UTF-8 bytes.
MAX_NAME_BYTES = 120
MAX_META_CHARS = 200
# Names Windows reserves for devices: harmless here, but a data directory may be copied.
_RESERVED = re.compile(r"^(?:con|prn|aux|nul|com\d|lpt\d)(?:\.|$)", re.IGNORECASE)
# Format characters (zero-width, bidi overrides) vanish; control, line/paragraph
# separator, surrogate, private and unassigned characters become spaces.
_FORMAT = "Cf"
_INVISIBLE = ("Cc", "Cs", "Co", "Cn", "Zl", "Zp")


class InvalidUpload(AudioError):
    """An upload's details (title, labels, id) are unusable; the message says which and why."""


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
    meta = clean_meta(meta or EncounterMeta())
    info = probe_audio(path, max_duration_s=max_duration or max_duration_s())
    return _keep(store, data_dir, info, path.name, path, meta, user_id)


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
    disk, and removed afterwards), so the stored original name is the upload's; with an
    encrypted store they are checked in memory instead and never written unencrypted.
    """
    if store.encrypted:  # checked and encrypted in memory: no plaintext file on disk
        name = safe_upload_name(filename)
        info = probe_audio_bytes(data, name, max_duration_s=max_duration or max_duration_s())
        meta = clean_meta(meta or EncounterMeta())
        return _keep(store, data_dir, info, name, data, meta, user_id)
    scratch = Path(data_dir) / "tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=scratch, prefix="upload-") as tmp:
        path = Path(tmp) / safe_upload_name(filename)
        path.write_bytes(data)
        return ingest_file(store, data_dir, path, user_id, meta, max_duration)


def _keep(
    store: st.Store, data_dir: Path, info: AudioInfo, name: str, source: Path | bytes,
    meta: EncounterMeta, user_id: str,
) -> IngestResult:
    """Store checked audio (encrypted when the store is) and create its encounter."""
    existing = st.find_encounter_by_audio(store, info.sha256)
    if existing is not None:
        return IngestResult(existing.encounter_id, False, info)
    suffix = info.suffix or Path(name).suffix
    if store.encrypted:
        data = source if isinstance(source, bytes) else source.read_bytes()
        if hashlib.sha256(data).hexdigest() != info.sha256:
            raise AudioError(f"{name}: the file changed while it was being ingested; try again")
        target, copied = write_audio(data_dir, data, info.sha256, suffix, store.key)
    else:
        target = audio_path(data_dir, info.sha256, suffix)
        copied = _copy_atomically(source, target)
    encounter_id = meta.encounter_id or f"enc-{info.sha256[:12]}"
    try:
        created = _record(store, data_dir, name, target, info, meta, encounter_id, user_id)
    except BaseException:
        if copied:  # the database said no: leave no orphan file behind
            target.unlink(missing_ok=True)
        raise
    log.info("ingested encounter %s (%.1f s audio)", encounter_id, info.duration_s)
    return IngestResult(encounter_id, created, info)


def _record(
    store: st.Store, data_dir: Path, name: str, target: Path, info: AudioInfo,
    meta: EncounterMeta, encounter_id: str, user_id: str,
) -> bool:
    """The audio row and the encounter, in one transaction."""
    with store.transaction():
        st.add_audio(
            store,
            st.AudioRecord(
                sha256=info.sha256,
                stored_path=str(target.relative_to(data_dir)),
                original_name=name,
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
                title=meta.title or Path(name).stem,
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


def clean_meta(meta: EncounterMeta) -> EncounterMeta:
    """The metadata with invisible characters removed and blanks collapsed.

    Raises InvalidUpload for a value longer than ``MAX_META_CHARS`` or an encounter id that
    is not letters, digits, ``.``, ``_`` and ``-``.
    """
    changes: dict[str, str | None] = {}
    for f in fields(meta):
        value = getattr(meta, f.name)
        if not isinstance(value, str):
            continue
        text = " ".join(_visible(value).split())
        if len(text) > MAX_META_CHARS:
            label = f.name.replace("_", " ")
            raise InvalidUpload(f"The {label} is {len(text)} characters long; "
                                f"the maximum is {MAX_META_CHARS}.")
        changes[f.name] = text or None
    if changes.get("source") is None:
        changes["source"] = meta.source or "upload"
    eid = changes.get("encounter_id")
    if eid is not None and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", eid):
        raise InvalidUpload(f"Encounter id {eid[:40]!r} may hold only letters, digits, "
                            "'.', '_' and '-'.")
    return replace(meta, **changes)


def _visible(text: str) -> str:
    """``text`` in NFC without control, format (zero-width, bidi) or private characters."""
    text = unicodedata.normalize("NFC", text)
    kept = (c for c in text if unicodedata.category(c) != _FORMAT)
    return "".join(" " if unicodedata.category(c) in _INVISIBLE else c for c in kept)


def safe_upload_name(filename: str) -> str:
    """The upload's base name with only harmless characters (it names a scratch file).

    Path parts, invisible characters (NUL, bidi overrides, zero-width) and anything but
    letters, digits, ``.``, ``-``, ``_`` and space go; a Windows device name gets a ``_``
    prefix; a long name is shortened to ``MAX_NAME_BYTES`` (UTF-8), keeping its suffix.
    """
    base = _visible(str(filename or "")).replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"[^\w.\- ]+", "_", base).strip(" .")
    if _RESERVED.match(name):
        name = f"_{name}"
    stem, dot, suffix = name.rpartition(".")
    if not dot or len(suffix) > 8:
        stem, suffix = name, ""
    suffix = f".{suffix}" if suffix else ""
    while len((stem + suffix).encode("utf-8")) > MAX_NAME_BYTES:
        stem = stem[:-1]
    name = (stem.rstrip(" .") + suffix) if stem.strip(" .") else ""
    return name or f"recording{suffix}"


_PARTIAL = ".ingest-"


def remove_partial_copies(audio_dir: Path) -> int:
    """Delete half-copied audio (``.ingest-PID-*``) whose process is gone, e.g. killed while
    copying; a live ingest's copy is left alone. Returns how many were removed."""
    removed = 0
    for partial in Path(audio_dir).glob(f"*/{_PARTIAL}*"):
        pid = partial.name[len(_PARTIAL):].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            partial.unlink(missing_ok=True)
            removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def _copy_atomically(source: Path, target: Path) -> bool:
    """Copy via a temporary file and rename, so a crash never leaves half a file.

    Returns False when the target already existed (nothing copied).
    """
    if target.exists():
        return False
    remove_partial_copies(target.parent.parent)
    target.parent.mkdir(parents=True, exist_ok=True)
    # The pid in the name lets a later ingest remove what a killed process left behind.
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f"{_PARTIAL}{os.getpid()}-")
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
