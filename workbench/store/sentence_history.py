"""What people did to a note's sentences over time, read from the event log.

Targeted regeneration needs it: a sentence a person edited, added or moved is theirs and
is never re-drafted; a draft sentence a person deleted is not brought back; a person's
sentence whose evidence a transcript correction changed is flagged until they edit it.
"""

from __future__ import annotations

from pipelines.types import Evidence, NoteSentence
from workbench.store.access import require
from workbench.store.db import Store

# Event kinds by which a sentence becomes a person's (its object_id is the sentence id).
HUMAN_KINDS = ("sentence.edited", "sentence.added", "sentence.moved", "omission.added")
EVIDENCE_CHANGED = "sentence.evidence_changed"

_HUMAN = (
    "SELECT DISTINCT object_id FROM events WHERE encounter_id = ? AND object_id IS NOT NULL"
    " AND kind IN (?, ?, ?, ?)"
)
_DELETED = (
    "WITH gone AS ("
    "  SELECT DISTINCT object_id AS sentence_id FROM events"
    "  WHERE encounter_id = ? AND kind = 'sentence.deleted'"
    "), last AS ("
    "  SELECT ns.sentence_id, max(ns.note_version) AS note_version FROM note_sentences ns"
    "  JOIN gone ON gone.sentence_id = ns.sentence_id WHERE ns.encounter_id = ?"
    "  GROUP BY ns.sentence_id"
    ") SELECT ns.note_version, ns.idx, ns.sentence_id, ns.section, ns.text, ns.origin"
    " FROM note_sentences ns JOIN last"
    "   ON last.sentence_id = ns.sentence_id AND last.note_version = ns.note_version"
    " WHERE ns.encounter_id = ?"
    "   AND ns.sentence_id NOT IN ("
    "     SELECT sentence_id FROM note_sentences WHERE encounter_id = ?"
    "       AND note_version = (SELECT max(version) FROM notes WHERE encounter_id = ?))"
    " ORDER BY ns.note_version, ns.idx"
)
_EVIDENCE = (
    "SELECT segment_idx, start_char, end_char, start_s, end_s FROM evidence"
    " WHERE encounter_id = ? AND note_version = ? AND sentence_idx = ? ORDER BY idx"
)
_FLAGS = (
    "SELECT object_id, arg_max(kind, ts) FROM events"
    " WHERE encounter_id = ? AND kind IN (?, 'sentence.edited') AND object_id IS NOT NULL"
    " GROUP BY object_id"
)


def human_sentence_ids(store: Store, encounter_id: str) -> set[str]:
    """Ids of the sentences a person edited, added (also from an omission) or moved."""
    require(store, "encounter.view", encounter_id)
    with store.connect() as con:
        rows = con.execute(_HUMAN, [encounter_id, *HUMAN_KINDS]).fetchall()
    return {r[0] for r in rows}


def deleted_sentences(store: Store, encounter_id: str) -> tuple[NoteSentence, ...]:
    """Sentences a person deleted (and that are not back in the newest version), each as it
    was in the last version that had it, evidence included."""
    require(store, "text.phi", encounter_id)
    with store.connect() as con:
        rows = con.execute(_DELETED, [encounter_id] * 5).fetchall()
        out = []
        for version, idx, sentence_id, section, text, origin in rows:
            evidence = tuple(
                Evidence(*r)
                for r in con.execute(_EVIDENCE, [encounter_id, version, idx]).fetchall()
            )
            out.append(NoteSentence(sentence_id, section, text, evidence, origin))
    return tuple(out)


def evidence_changed_ids(store: Store, encounter_id: str) -> set[str]:
    """Sentences flagged by a transcript correction ("evidence changed since you edited
    this") that nobody has edited since."""
    require(store, "encounter.view", encounter_id)
    with store.connect() as con:
        rows = con.execute(_FLAGS, [encounter_id, EVIDENCE_CHANGED]).fetchall()
    return {r[0] for r in rows if r[1] == EVIDENCE_CHANGED}
