"""Autosave of a reviewer's unsaved note, and saves that keep or clear it atomically.

The Review page writes the pending note here on every change (a text edit, an added
sentence), so a reload restores it. Writing it is not a correction and makes no event; the
correction is the note version Save makes, and ``save_version`` writes that version and
clears (or re-bases) the autosave in one transaction, so no state exists where both the
saved note and a stale copy of the same edits would be offered.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb

from pipelines.editing import same_note
from pipelines.types import Evidence, NoteSentence
from workbench.store.access import require
from workbench.store.conflicts import EditConflict
from workbench.store.db import ConcurrentEdit, Store, utcnow
from workbench.store.events import insert_events, new_event
from workbench.store.notes import save_note
from workbench.store.records import Event

DISCARDED = "note.autosave_discarded"

# One autosave per (encounter, user): MERGE, not ON CONFLICT, so it runs on DuckLake too.
_UPSERT = (
    "MERGE INTO note_autosaves AS t USING (SELECT ? AS encounter_id, ? AS user_id,"
    " ? AS note_version, ? AS sentences, ? AS updated_at) AS s USING (encounter_id, user_id)"
    " WHEN MATCHED THEN UPDATE SET note_version = s.note_version, sentences = s.sentences,"
    " updated_at = s.updated_at WHEN NOT MATCHED THEN INSERT BY NAME"
)
_SELECT = (
    "SELECT note_version, sentences, updated_at FROM note_autosaves"
    " WHERE encounter_id = ? AND user_id = ?"
)
_DELETE = "DELETE FROM note_autosaves WHERE encounter_id = ? AND user_id = ?"


@dataclass(frozen=True)
class Autosave:
    """A reviewer's unsaved note: ``sentences`` as they would be on top of ``note_version``
    (blank text marks a sentence to remove on Save)."""

    encounter_id: str
    user_id: str
    note_version: int
    sentences: tuple[NoteSentence, ...]
    updated_at: datetime


def put_autosave(
    store: Store,
    encounter_id: str,
    note_version: int,
    user_id: str,
    sentences: tuple[NoteSentence, ...],
) -> datetime:
    """Keep ``user_id``'s pending note for ``note_version`` (replacing their earlier one)."""
    require(store, "note.edit", encounter_id)
    now = utcnow()
    with store.transaction() as con:
        _put(con, encounter_id, note_version, user_id, sentences, now)
    return now


def get_autosave(store: Store, encounter_id: str, user_id: str) -> Autosave | None:
    """The user's pending note for this encounter, or None."""
    require(store, "note.edit", encounter_id)
    with store.connect() as con:
        row = con.execute(_SELECT, [encounter_id, user_id]).fetchone()
    if row is None:
        return None
    return Autosave(encounter_id, user_id, row[0], _load(row[1]), row[2])


def clear_autosave(store: Store, encounter_id: str, user_id: str) -> None:
    """Forget the user's pending note (nothing is left to save)."""
    require(store, "note.edit", encounter_id)
    with store.transaction() as con:
        con.execute(_DELETE, [encounter_id, user_id])


def discard_autosave(store: Store, encounter_id: str, user_id: str) -> bool:
    """The reviewer throws away unsaved changes: removed, with a ``note.autosave_discarded``
    event in the same transaction. Returns False when there was nothing to discard."""
    require(store, "note.edit", encounter_id)
    with store.transaction() as con:
        row = con.execute(_SELECT, [encounter_id, user_id]).fetchone()
        if row is None:
            return False
        con.execute(_DELETE, [encounter_id, user_id])
        insert_events(
            con,
            [
                new_event(
                    user_id,
                    encounter_id,
                    DISCARDED,
                    object_type="note",
                    object_id=f"{encounter_id}/note/{row[0]}",
                    before={"note_version": row[0], "sentences": len(_load(row[1]))},
                    note_version=row[0],
                )
            ],
        )
    return True


def save_version(
    store: Store,
    encounter_id: str,
    base_version: int,
    sentences: tuple[NoteSentence, ...],
    user_id: str,
    *,
    keep: tuple[NoteSentence, ...] = (),
    sections: tuple[str, ...] | None = None,
    extra_events: Sequence[Event] = (),
    redrafted: Sequence[str] = (),
) -> int:
    """``save_note`` and the user's autosave in one transaction.

    ``keep`` is the pending note the reviewer still has on top of the new version (unsaved
    edits carried over a one-click action); when it is empty or equal to ``sentences`` the
    autosave is cleared. Raises what ``save_note`` raises, and then nothing is written,
    except that a save refused because someone saved a newer version first keeps
    ``sentences`` as an open conflict (``workbench.store.conflicts``) and raises
    ``EditConflict``, a ``ConcurrentEdit`` that names it: the refused text is never lost.
    """
    require(store, "note.edit", encounter_id)
    try:
        return _save_version(
            store,
            encounter_id,
            base_version,
            sentences,
            user_id,
            keep=keep,
            sections=sections,
            extra_events=extra_events,
            redrafted=redrafted,
        )
    except ConcurrentEdit as exc:
        if isinstance(exc, EditConflict) or _in_transaction(store):
            raise  # inside a caller's transaction the rollback would drop the kept text
        from workbench.store.conflicts import keep_refused

        conflict = keep_refused(store, encounter_id, base_version, sentences, user_id)
        raise EditConflict(
            f"Not saved: version {conflict.theirs_version} of {encounter_id} was saved by "
            "someone else while you edited version "
            f"{base_version}. Your text is kept: compare both and choose.",
            conflict,
        ) from exc


def _in_transaction(store: Store) -> bool:
    """Inside a caller's ``transaction()`` in this thread? (A view made with ``as_actor``
    shares its root's state, hence ``root``.)"""
    root = getattr(store, "root", store)
    return bool(getattr(getattr(root, "_local", None), "in_tx", False))


def _save_version(
    store: Store,
    encounter_id: str,
    base_version: int,
    sentences: tuple[NoteSentence, ...],
    user_id: str,
    *,
    keep: tuple[NoteSentence, ...],
    sections: tuple[str, ...] | None,
    extra_events: Sequence[Event],
    redrafted: Sequence[str],
) -> int:
    with store.transaction() as con:
        version = save_note(
            store,
            encounter_id,
            base_version,
            sentences,
            user_id,
            extra_events=extra_events,
            redrafted=redrafted,
            sections=sections,
        )
        if keep and not same_note(keep, sentences):
            _put(con, encounter_id, version, user_id, keep, utcnow())
        else:
            con.execute(_DELETE, [encounter_id, user_id])
    return version


def _put(
    con: duckdb.DuckDBPyConnection,
    encounter_id: str,
    note_version: int,
    user_id: str,
    sentences: tuple[NoteSentence, ...],
    now: datetime,
) -> None:
    con.execute(_UPSERT, [encounter_id, user_id, note_version, _dump(sentences), now])


def dump_sentences(sentences: tuple[NoteSentence, ...]) -> str:
    """Sentences (with evidence) as the JSON the autosave and conflict tables keep."""
    return _dump(sentences)


def load_sentences(raw: str) -> tuple[NoteSentence, ...]:
    """The inverse of ``dump_sentences``."""
    return _load(raw)


def _dump(sentences: tuple[NoteSentence, ...]) -> str:
    return json.dumps(
        [
            {
                "sentence_id": s.sentence_id,
                "section": s.section,
                "text": s.text,
                "origin": s.origin,
                "evidence": [
                    [e.segment_idx, e.start_char, e.end_char, e.start_s, e.end_s]
                    for e in s.evidence
                ],
            }
            for s in sentences
        ]
    )


def _load(raw: str) -> tuple[NoteSentence, ...]:
    return tuple(
        NoteSentence(
            d["sentence_id"],
            d["section"],
            d["text"],
            tuple(Evidence(*e) for e in d["evidence"]),
            d["origin"],
        )
        for d in json.loads(raw)
    )
