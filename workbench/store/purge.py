"""What the retention policy removed: audio files, and text replaced by a de-identified form.

The order of work keeps the database truthful across a crash: an audio purge is committed
(row plus ``audio.purged`` events) before the file is deleted, so the database never points
at a missing file without saying why, and a rerun deletes any file a crash left behind. A
text purge rewrites one encounter's text in a single transaction, so it is whole or absent.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from workbench.store.db import Store, utcnow
from workbench.store.events import insert_events, new_event

AUDIO_PURGED, TEXT_DEIDENTIFIED = "audio.purged", "text.deidentified"
REASON = "retention policy"

# Rewrites one text: (new text, [(start, end, replacement)] of what changed, in old offsets).
Rewrite = Callable[[str], tuple[str, list[tuple[int, int, str]]]]


@dataclass(frozen=True)
class StoredAudio:
    """An audio file the store knows, its encounters, and whether it was purged."""

    sha256: str
    stored_path: str
    created_at: datetime
    encounter_ids: tuple[str, ...]
    purged_at: datetime | None


def list_stored_audio(store: Store, created_before: datetime | None = None) -> list[StoredAudio]:
    """Audio files (stored before ``created_before``, if given), oldest first."""
    with store.connect() as con:
        rows = con.execute(
            "SELECT a.sha256, a.stored_path, a.created_at,"
            " list(e.encounter_id ORDER BY e.encounter_id) FILTER (WHERE e.encounter_id"
            "  IS NOT NULL), p.purged_at"
            " FROM audio_files a LEFT JOIN encounters e ON e.audio_sha256 = a.sha256"
            " LEFT JOIN audio_purges p ON p.sha256 = a.sha256"
            " WHERE ? IS NULL OR a.created_at < ?"
            " GROUP BY a.sha256, a.stored_path, a.created_at, p.purged_at"
            " ORDER BY a.created_at, a.sha256",
            [created_before, created_before],
        ).fetchall()
    return [StoredAudio(r[0], r[1], r[2], tuple(r[3] or ()), r[4]) for r in rows]


def mark_audio_purged(store: Store, audio: StoredAudio, user_id: str, policy: dict) -> bool:
    """Record that ``audio`` is purged (one ``audio.purged`` event per encounter), before its
    file is deleted. Returns False (nothing written) when it was already recorded."""
    with store.transaction() as con:
        if con.execute("SELECT 1 FROM audio_purges WHERE sha256 = ?", [audio.sha256]).fetchone():
            return False
        now = utcnow()
        con.execute(
            "INSERT INTO audio_purges (sha256, purged_at, purged_by, reason) VALUES (?, ?, ?, ?)",
            [audio.sha256, now, user_id, REASON],
        )
        insert_events(
            con,
            [
                new_event(
                    user_id,
                    encounter_id,
                    AUDIO_PURGED,
                    object_type="audio",
                    object_id=audio.sha256,
                    before={"stored_path": audio.stored_path},
                    after={"reason": REASON, **policy},
                )
                for encounter_id in audio.encounter_ids or (None,)
            ],
        )
    return True


def text_due(store: Store, created_before: datetime) -> list[str]:
    """Encounters created before ``created_before`` whose text is not yet de-identified."""
    with store.connect() as con:
        rows = con.execute(
            "SELECT e.encounter_id FROM encounters e"
            " WHERE e.created_at < ? AND NOT EXISTS ("
            "  SELECT 1 FROM text_purges t WHERE t.encounter_id = e.encounter_id)"
            " ORDER BY e.encounter_id",
            [created_before],
        ).fetchall()
    return [r[0] for r in rows]


def text_purged_at(store: Store, encounter_id: str) -> datetime | None:
    """When the retention policy de-identified the encounter's text (None: not done)."""
    with store.connect() as con:
        row = con.execute(
            "SELECT purged_at FROM text_purges WHERE encounter_id = ?", [encounter_id]
        ).fetchone()
    return row[0] if row else None


def deidentify_encounter_text(
    store: Store, encounter_id: str, rewrite: Rewrite, user_id: str, policy: dict
) -> int:
    """Replace every stored text of the encounter by ``rewrite``'s form, in one transaction:
    transcript segments and words, entity texts and offsets, note sentences and evidence
    offsets, pending autosaves and refused edits, and texts inside its events; support checks
    (derived, and re-run when the note is viewed) are dropped. Returns how
    many texts changed (0 and nothing written when it was done already)."""
    with store.transaction() as con:
        if con.execute(
            "SELECT 1 FROM text_purges WHERE encounter_id = ?", [encounter_id]
        ).fetchone():
            return 0
        changed = _segments(con, encounter_id, rewrite)
        changed += _sentences(con, encounter_id, rewrite)
        changed += _json_texts(con, encounter_id, rewrite)
        _drop_support_checks(con, encounter_id)
        con.execute(
            "INSERT INTO text_purges (encounter_id, purged_at, purged_by, reason)"
            " VALUES (?, ?, ?, ?)",
            [encounter_id, utcnow(), user_id, REASON],
        )
        insert_events(
            con,
            [
                new_event(
                    user_id,
                    encounter_id,
                    TEXT_DEIDENTIFIED,
                    object_type="encounter",
                    object_id=encounter_id,
                    after={"reason": REASON, "texts": changed, **policy},
                )
            ],
        )
    return changed


def _segments(con: duckdb.DuckDBPyConnection, encounter_id: str, rewrite: Rewrite) -> int:
    """Segments, their words and the entities and evidence that point into them."""
    changed = 0
    rows = con.execute(
        "SELECT transcript_version, idx, text FROM segments WHERE encounter_id = ?",
        [encounter_id],
    ).fetchall()
    for t_version, idx, text in rows:
        new, edits = rewrite(text)
        if not edits:
            continue
        changed += 1
        con.execute(
            "UPDATE segments SET text = ? WHERE encounter_id = ? AND transcript_version = ?"
            " AND idx = ?",
            [new, encounter_id, t_version, idx],
        )
        _words(con, encounter_id, t_version, idx, text, edits)
        for row in con.execute(
            "SELECT s.version, x.idx, x.start_char, x.end_char FROM entity_sets s"
            " JOIN entities x ON x.encounter_id = s.encounter_id AND x.set_version = s.version"
            " WHERE s.encounter_id = ? AND s.transcript_version = ? AND x.segment_idx = ?",
            [encounter_id, t_version, idx],
        ).fetchall():
            start, end = shift(row[2], edits), shift(row[3], edits, end=True)
            con.execute(
                "UPDATE entities SET start_char = ?, end_char = ?, text = ?"
                " WHERE encounter_id = ? AND set_version = ? AND idx = ?",
                [start, end, new[start:end], encounter_id, row[0], row[1]],
            )
        for row in con.execute(
            "SELECT a.task_id, a.annotation_id, a.start_char, a.end_char FROM annotations a"
            " JOIN annotation_tasks t ON t.task_id = a.task_id"
            " WHERE a.encounter_id = ? AND t.transcript_version = ? AND a.segment_idx = ?"
            " AND a.start_char IS NOT NULL",
            [encounter_id, t_version, idx],
        ).fetchall():
            start, end = shift(row[2], edits), shift(row[3], edits, end=True)
            con.execute(
                "UPDATE annotations SET start_char = ?, end_char = ?, text = ?"
                " WHERE task_id = ? AND annotation_id = ?",
                [start, end, new[start:end], row[0], row[1]],
            )
        for row in con.execute(
            "SELECT e.note_version, e.sentence_idx, e.idx, e.start_char, e.end_char"
            " FROM evidence e JOIN notes n"
            "  ON n.encounter_id = e.encounter_id AND n.version = e.note_version"
            " WHERE e.encounter_id = ? AND n.transcript_version = ? AND e.segment_idx = ?",
            [encounter_id, t_version, idx],
        ).fetchall():
            con.execute(
                "UPDATE evidence SET start_char = ?, end_char = ? WHERE encounter_id = ?"
                " AND note_version = ? AND sentence_idx = ? AND idx = ?",
                [shift(row[3], edits), shift(row[4], edits, end=True), encounter_id, *row[:3]],
            )
    return changed


def _words(
    con: duckdb.DuckDBPyConnection,
    encounter_id: str,
    t_version: int,
    segment_idx: int,
    text: str,
    edits: list[tuple[int, int, str]],
) -> None:
    """Each word inside a replaced span: the first becomes the replacement, the rest empty."""
    cursor, done = 0, set()
    for idx, word in con.execute(
        "SELECT idx, text FROM words WHERE encounter_id = ? AND transcript_version = ?"
        " AND segment_idx = ? ORDER BY idx",
        [encounter_id, t_version, segment_idx],
    ).fetchall():
        token = word.strip()
        at = text.find(token, cursor) if token else -1
        if at < 0:  # not found in order (a repaired word): keep nothing of it
            new_word = ""
        else:
            cursor = at + len(token)
            hit = next((i for i, e in enumerate(edits) if e[0] < cursor and at < e[1]), None)
            if hit is None:
                continue
            lead = word[: len(word) - len(word.lstrip())]
            new_word = "" if hit in done else lead + edits[hit][2]
            done.add(hit)
        con.execute(
            "UPDATE words SET text = ? WHERE encounter_id = ? AND transcript_version = ?"
            " AND segment_idx = ? AND idx = ?",
            [new_word, encounter_id, t_version, segment_idx, idx],
        )


def _sentences(con: duckdb.DuckDBPyConnection, encounter_id: str, rewrite: Rewrite) -> int:
    changed = 0
    for version, idx, text in con.execute(
        "SELECT note_version, idx, text FROM note_sentences WHERE encounter_id = ?",
        [encounter_id],
    ).fetchall():
        new, edits = rewrite(text)
        if edits:
            changed += 1
            con.execute(
                "UPDATE note_sentences SET text = ? WHERE encounter_id = ? AND note_version = ?"
                " AND idx = ?",
                [new, encounter_id, version, idx],
            )
    return changed


def _drop_support_checks(con: duckdb.DuckDBPyConnection, encounter_id: str) -> None:
    """Support checks quote sentences and suggest text; they are derived, so they go."""
    checks = "(SELECT check_id FROM support_checks WHERE encounter_id = ?)"
    con.execute(f"DELETE FROM sentence_support WHERE check_id IN {checks}", [encounter_id])
    con.execute(f"DELETE FROM omissions WHERE check_id IN {checks}", [encounter_id])
    con.execute("DELETE FROM support_checks WHERE encounter_id = ?", [encounter_id])


# JSON columns that may hold clinical text: (table, key columns, JSON columns).
_JSON_TABLES = (
    ("events", ("event_id",), ("before", "after")),
    ("note_autosaves", ("user_id",), ("sentences",)),
    ("note_conflicts", ("conflict_id",), ("sentences",)),
    ("draft_variants", ("variant_id",), ("draft",)),  # pairwise comparison's drafts
    # Annotation values (a corrected transcript text, comments) and adjudicated gold sets.
    # Gold span offsets are not shifted: the NER export drops gold that no longer quotes
    # the transcript (``export_formats.ner_spans``).
    ("annotations", ("task_id", "annotation_id"), ("value",)),
    ("annotation_gold", ("kind", "seq"), ("annotations",)),
)


def _json_texts(con: duckdb.DuckDBPyConnection, encounter_id: str, rewrite: Rewrite) -> int:
    changed = 0
    for table, keys, columns in _JSON_TABLES:
        # Identifiers come from the constant above, never from input.
        select = f"SELECT {', '.join(keys + columns)} FROM {table} WHERE encounter_id = ?"
        for row in con.execute(select, [encounter_id]).fetchall():
            key, values = row[: len(keys)], row[len(keys) :]
            for column, raw in zip(columns, values, strict=True):
                if raw is None:
                    continue
                new, count = _rewrite_json(json.loads(raw), rewrite)
                if count:
                    changed += count
                    where = " AND ".join(f"{k} = ?" for k in keys)
                    con.execute(
                        f"UPDATE {table} SET {column} = ? WHERE encounter_id = ? AND {where}",
                        [json.dumps(new, sort_keys=True), encounter_id, *key],
                    )
    return changed


def _rewrite_json(value: Any, rewrite: Rewrite) -> tuple[Any, int]:
    """Every string under a ``text`` key (at any depth) rewritten; returns (value, count)."""
    if isinstance(value, list):
        pairs = [_rewrite_json(v, rewrite) for v in value]
        return [p[0] for p in pairs], sum(p[1] for p in pairs)
    if not isinstance(value, dict):
        return value, 0
    out, count = {}, 0
    for k, v in value.items():
        if k == "text" and isinstance(v, str):
            new, edits = rewrite(v)
            out[k], count = new, count + bool(edits)
        else:
            out[k], n = _rewrite_json(v, rewrite)
            count += n
    return out, count


def shift(offset: int, edits: list[tuple[int, int, str]], end: bool = False) -> int:
    """``offset`` in the old text, as an offset in the rewritten text. An offset strictly
    inside a replaced span moves to the start of its replacement (``end``: to its end)."""
    moved = 0
    for start, stop, replacement in sorted(edits):
        if offset >= stop:  # after this span
            moved += len(replacement) - (stop - start)
            continue
        if offset <= start:  # before it, and so before every later one
            break
        return start + moved + (len(replacement) if end else 0)
    return offset + moved
