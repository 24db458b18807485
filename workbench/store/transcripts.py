"""Transcript versions with their segments and words."""

from __future__ import annotations

import json

from pipelines.types import Segment, Transcript, Word
from workbench.store.access import present_transcript, require
from workbench.store.bulk import insert_rows
from workbench.store.db import ConcurrentEdit, NotFound, Store, utcnow
from workbench.store.events import insert_events, new_event


def save_transcript(
    store: Store,
    encounter_id: str,
    transcript: Transcript,
    user_id: str,
    kind: str = "asr",
    base_version: int | None = None,
) -> int:
    """Store a transcript as the encounter's next version; returns the version number.

    With ``base_version`` (a correction), raises ConcurrentEdit unless that is still the
    newest version, so two people correcting at once never overwrite each other.
    """
    require(store, "transcript.edit", encounter_id)
    with store.transaction() as con:
        if not con.execute(
            "SELECT 1 FROM encounters WHERE encounter_id = ?", [encounter_id]
        ).fetchone():
            raise NotFound(f"No encounter {encounter_id}")
        version = con.execute(
            "SELECT coalesce(max(version), 0) + 1 FROM transcripts WHERE encounter_id = ?",
            [encounter_id],
        ).fetchone()[0]
        if base_version is not None and version - 1 != base_version:
            raise ConcurrentEdit(
                f"Transcript of {encounter_id} changed: you corrected version {base_version}, "
                f"the newest is {version - 1}. Reload to see the other changes."
            )
        con.execute(
            "INSERT INTO transcripts (encounter_id, version, model, language, duration_s,"
            " input_sha256, options, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                encounter_id,
                version,
                transcript.model,
                transcript.language,
                transcript.duration_s,
                transcript.input_sha256,
                json.dumps(transcript.options, sort_keys=True, default=str),
                utcnow(),
                user_id,
            ],
        )
        insert_rows(
            con,
            "segments",
            [
                (
                    encounter_id,
                    version,
                    s.idx,
                    s.start,
                    s.end,
                    s.speaker,
                    s.text,
                    s.avg_logprob,
                    s.no_speech_prob,
                    s.compression_ratio,
                )
                for s in transcript.segments
            ],
        )
        insert_rows(
            con,
            "words",
            [
                (encounter_id, version, s.idx, i, w.start, w.end, w.text, w.probability)
                for s in transcript.segments
                for i, w in enumerate(s.words)
            ],
        )
        insert_events(
            con,
            [
                new_event(
                    user_id,
                    encounter_id,
                    f"transcript.{kind}",
                    object_type="transcript",
                    object_id=f"{encounter_id}/transcript/{version}",
                    after={"version": version, "segments": len(transcript.segments)},
                    model_version=transcript.model,
                )
            ],
        )
        return version


def latest_transcript_version(store: Store, encounter_id: str) -> int | None:
    """The newest transcript version of an encounter, or None."""
    require(store, "encounter.view", encounter_id)
    with store.connect() as con:
        return con.execute(
            "SELECT max(version) FROM transcripts WHERE encounter_id = ?", [encounter_id]
        ).fetchone()[0]


def get_transcript(
    store: Store, encounter_id: str, version: int | None = None
) -> tuple[int, Transcript] | None:
    """(version, transcript) for the given or newest version, or None if there is none; its
    text as the actor may read it (``access.present_transcript``)."""
    require(store, "encounter.view", encounter_id)
    with store.connect() as con:
        if version is None:
            version = latest_transcript_version(store, encounter_id)
            if version is None:
                return None
        head = con.execute(
            "SELECT model, language, duration_s, input_sha256, options FROM transcripts"
            " WHERE encounter_id = ? AND version = ?",
            [encounter_id, version],
        ).fetchone()
        if head is None:
            return None
        seg_rows = con.execute(
            "SELECT idx, start_s, end_s, text, speaker, avg_logprob, no_speech_prob,"
            " compression_ratio FROM segments WHERE encounter_id = ? AND transcript_version = ?"
            " ORDER BY idx",
            [encounter_id, version],
        ).fetchall()
        word_rows = con.execute(
            "SELECT segment_idx, start_s, end_s, text, probability FROM words"
            " WHERE encounter_id = ? AND transcript_version = ? ORDER BY segment_idx, idx",
            [encounter_id, version],
        ).fetchall()
    words: dict[int, list[Word]] = {}
    for seg_idx, start, end, text, prob in word_rows:
        words.setdefault(seg_idx, []).append(Word(start, end, text, prob))
    segments = tuple(
        Segment(
            idx=r[0],
            start=r[1],
            end=r[2],
            text=r[3],
            speaker=r[4],
            words=tuple(words.get(r[0], ())),
            avg_logprob=r[5] or 0.0,
            no_speech_prob=r[6] or 0.0,
            compression_ratio=r[7] or 0.0,
        )
        for r in seg_rows
    )
    transcript = Transcript(
        segments=segments,
        language=head[1] or "en",
        duration_s=head[2] or 0.0,
        model=head[0],
        input_sha256=head[3] or "",
        options=json.loads(head[4]) if head[4] else {},
    )
    return version, present_transcript(store, encounter_id, transcript)
