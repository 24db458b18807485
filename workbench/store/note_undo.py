"""Undo of the last saved change to a note: a new version with the previous version's
sentences. Versions are never deleted; the undo is itself a version and can be undone.

Each sentence the undo changes gets a ``sentence.undone`` event (not an edit, addition or
deletion by the person, which would count as their decision on it) and the note a
``note.undone`` event, in the same transaction as the new version.
"""

from __future__ import annotations

from pipelines.types import NoteSentence
from workbench.store.access import require
from workbench.store.autosave import save_version
from workbench.store.db import InvalidEdit, Store
from workbench.store.events import new_event
from workbench.store.notes import _read_note, diff_sentences, require_newest

UNDONE = "note.undone"
SENTENCE_UNDONE = "sentence.undone"


def undo_target(store: Store, encounter_id: str, version: int) -> int | None:
    """The version an undo of ``version`` restores (its parent), or None when there is
    nothing to undo: a first draft, or a parent on an older transcript (its evidence would
    point into text that is no longer there)."""
    require(store, "encounter.view", encounter_id)
    with store.connect() as con:
        current = _read_note(con, encounter_id, version)
        if current.parent_version is None:
            return None
        parent = _read_note(con, encounter_id, current.parent_version)
    if parent.transcript_version != current.transcript_version:
        return None
    return parent.version


def undo_last_save(
    store: Store,
    encounter_id: str,
    version: int,
    user_id: str,
    keep: tuple[NoteSentence, ...] = (),
) -> int:
    """Save a new version restoring the sentences and section order of ``version``'s parent.

    ``keep`` is the reviewer's pending note on top of the restored version (see
    ``save_version``). Raises ConcurrentEdit when ``version`` is not the newest, NoteLocked
    when the note is signed, InvalidEdit when there is nothing to undo. Returns the new version.
    """
    require(store, "note.edit", encounter_id)
    with store.transaction() as con:
        require_newest(con, encounter_id, version, "undo")
        target = undo_target(store, encounter_id, version)
        if target is None:
            raise InvalidEdit(f"Version {version} of {encounter_id} has no save to undo")
        current = _read_note(con, encounter_id, version)
        restored = _read_note(con, encounter_id, target)
        changes = diff_sentences(current.draft.sentences, restored.draft.sentences)
        events = [
            new_event(
                user_id,
                encounter_id,
                SENTENCE_UNDONE,
                object_type="sentence",
                object_id=sentence_id,
                before=before,
                after=after,
            )
            for _, sentence_id, before, after in changes
        ]
        events.append(
            new_event(
                user_id,
                encounter_id,
                UNDONE,
                object_type="note",
                object_id=f"{encounter_id}/note/{version}",
                before={"version": version},
                after={"restored_version": target},
            )
        )
        return save_version(
            store,
            encounter_id,
            version,
            restored.draft.sentences,
            user_id,
            keep=keep,
            sections=restored.draft.sections,
            extra_events=events,
            redrafted=[c[1] for c in changes],
        )
