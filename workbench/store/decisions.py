"""A reviewer's decision on each sentence of a note: accepted as drafted, edited, added,
moved or deleted, read from the event log.

Edits, additions, moves and deletions are written by ``save_note`` (one event per change);
an explicit "accept" changes no text, so it is an event of its own, ``sentence.accepted``.
Sign-off uses the newest decision per sentence: a sentence is *reviewed* when a person
accepted, edited, added or moved it after the machine last wrote it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from workbench.store.access import require
from workbench.store.db import Store
from workbench.store.events import insert_events, new_event
from workbench.store.notes import check_unsigned, require_newest

ACCEPTED = "sentence.accepted"
# Event kinds that are a person's decision on a sentence (object_id is the sentence id).
DECISION_KINDS = (
    ACCEPTED,
    "sentence.edited",
    "sentence.added",
    "sentence.moved",
    "sentence.deleted",
    "omission.added",
    "sentence.undone",  # an undo put it back as it was: nobody has decided on it since
)

_DECISIONS = (
    "SELECT object_id, arg_max(kind, ts), arg_max(user_id, ts), max(ts),"
    " arg_max(note_version, ts) FROM events"
    " WHERE encounter_id = ? AND object_id IS NOT NULL AND kind IN ({})"
    " GROUP BY object_id"
).format(", ".join("?" * len(DECISION_KINDS)))


@dataclass(frozen=True)
class SentenceDecision:
    """The newest decision a person made on one sentence."""

    sentence_id: str
    kind: str  # one of DECISION_KINDS
    user_id: str
    ts: datetime
    note_version: int | None

    @property
    def reviewed(self) -> bool:
        """A person looked at it and kept it (accepted, wrote or moved it)."""
        return self.kind not in ("sentence.deleted", "sentence.undone")


def accept_sentences(
    store: Store, encounter_id: str, note_version: int, sentence_ids: Iterable[str], user_id: str
) -> int:
    """Record that ``user_id`` accepts these sentences of ``note_version`` as drafted.

    One ``sentence.accepted`` event per sentence, in one transaction. Raises NoteLocked for a
    signed note and ConcurrentEdit when ``note_version`` is no longer the newest (the
    sentences may have changed since the reviewer read them). Returns how many were recorded.
    """
    require(store, "note.edit", encounter_id)
    ids = list(dict.fromkeys(sentence_ids))
    with store.transaction() as con:
        check_unsigned(con, encounter_id)
        require_newest(con, encounter_id, note_version, "accept sentences of")
        known = {
            r[0]
            for r in con.execute(
                "SELECT sentence_id FROM note_sentences"
                " WHERE encounter_id = ? AND note_version = ?",
                [encounter_id, note_version],
            ).fetchall()
        }
        missing = [i for i in ids if i not in known]
        if missing:
            raise KeyError(f"No sentence {missing[0]} in version {note_version} of {encounter_id}")
        insert_events(
            con,
            [
                new_event(
                    user_id,
                    encounter_id,
                    ACCEPTED,
                    object_type="sentence",
                    object_id=i,
                    note_version=note_version,
                )
                for i in ids
            ],
        )
    return len(ids)


def sentence_decisions(store: Store, encounter_id: str) -> dict[str, SentenceDecision]:
    """The newest decision per sentence id (sentences nobody decided on are absent)."""
    require(store, "encounter.view", encounter_id)
    with store.connect() as con:
        rows = con.execute(_DECISIONS, [encounter_id, *DECISION_KINDS]).fetchall()
    return {r[0]: SentenceDecision(*r) for r in rows}
