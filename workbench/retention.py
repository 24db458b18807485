"""`scribe retention apply`: delete stored audio after N days, de-identify text after M days.

Audio older than the policy (by when it was stored) is first recorded as purged (an
``audio.purged`` event per encounter, committed), then its file is deleted; a crash in
between leaves a purge record and a file that the next run deletes, never a database that
points at a missing file without a reason. The transcript and note stay: with
``text_days``, those of encounters older than that are rewritten in their de-identified form
(``pipelines.deid``), one encounter per transaction. Running it again changes nothing more.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from workbench import store as st
from workbench.store import purge
from workbench.store.db import utcnow

log = logging.getLogger(__name__)

# The de-identifier: text and names known to be in it -> an object with ``.text``.
Deidentify = Callable[[str, Sequence[str]], object]


@dataclass(frozen=True)
class RetentionPolicy:
    """Keep stored audio ``audio_days`` days; with ``text_days``, keep identifiable text that
    long (then only its de-identified form)."""

    audio_days: int
    text_days: int | None = None

    def __post_init__(self) -> None:
        if self.audio_days < 0 or (self.text_days is not None and self.text_days < 0):
            raise ValueError("retention days must be 0 or more")

    def record(self) -> dict:
        """The policy as recorded in the events."""
        return {"audio_days": self.audio_days, "text_days": self.text_days}


@dataclass
class RetentionReport:
    """What a run removed (or, for a dry run, would remove)."""

    dry_run: bool
    audio: list[purge.StoredAudio] = field(default_factory=list)  # newly purged
    files_deleted: int = 0  # including files an interrupted run left behind
    texts: list[str] = field(default_factory=list)  # encounters whose text was de-identified
    bytes_freed: int = 0

    def as_json(self) -> dict:
        return {
            "dry_run": self.dry_run,
            "audio_purged": [a.sha256 for a in self.audio],
            "encounters_audio_purged": sorted({e for a in self.audio for e in a.encounter_ids}),
            "files_deleted": self.files_deleted,
            "bytes_freed": self.bytes_freed,
            "text_deidentified": self.texts,
        }


def apply_retention(
    store: st.Store,
    data_dir: Path,
    policy: RetentionPolicy,
    user_id: str,
    *,
    dry_run: bool = False,
    deidentify: Deidentify | None = None,
    now: datetime | None = None,
) -> RetentionReport:
    """Apply ``policy`` to the store and the audio files under ``data_dir``.

    ``deidentify`` defaults to ``pipelines.deid.deidentify`` (needed only with ``text_days``).
    A dry run reads and reports only.
    """
    now = now or utcnow()
    report = RetentionReport(dry_run)
    audio_cutoff = now - timedelta(days=policy.audio_days)
    for audio in purge.list_stored_audio(store):
        path = Path(data_dir) / audio.stored_path
        due = audio.purged_at is None and audio.created_at < audio_cutoff
        if not due and audio.purged_at is None:
            continue
        if due:
            report.audio.append(audio)
            if not dry_run:
                purge.mark_audio_purged(store, audio, user_id, policy.record())
        if path.exists():  # due now, or left behind by an interrupted run
            report.bytes_freed += path.stat().st_size
            report.files_deleted += 1
            if not dry_run:
                path.unlink(missing_ok=True)
    if policy.text_days is not None:
        report.texts = purge.text_due(store, now - timedelta(days=policy.text_days))
        if not dry_run and report.texts:
            deid = deidentify or _default_deidentify()
            for encounter_id in report.texts:
                rewrite = _rewriter(deid, _known_names(store, encounter_id))
                purge.deidentify_encounter_text(
                    store, encounter_id, rewrite, user_id, policy.record()
                )
    log.info(
        "retention%s: %d audio files purged, %d files deleted, %d encounters de-identified",
        " (dry run)" if dry_run else "",
        len(report.audio),
        report.files_deleted,
        len(report.texts),
    )
    return report


def _default_deidentify() -> Deidentify:
    from pipelines.deid import deidentify  # the deid helper's module (pure, offline)

    return deidentify


def _known_names(store: st.Store, encounter_id: str) -> list[str]:
    """Names the de-identifier should catch even where its rules would not."""
    from workbench.store.known_names import encounter_names

    return list(encounter_names(store, encounter_id))


def _rewriter(deid: Deidentify, names: list[str]) -> purge.Rewrite:
    """``deid`` as a store rewrite: the new text and what changed, in the old offsets."""

    def rewrite(text: str) -> tuple[str, list[tuple[int, int, str]]]:
        new = deid(text, names).text
        if new == text:
            return text, []
        matcher = difflib.SequenceMatcher(None, text, new, autojunk=False)
        edits = [
            (i1, i2, new[j1:j2]) for op, i1, i2, j1, j2 in matcher.get_opcodes() if op != "equal"
        ]
        return new, edits

    return rewrite
