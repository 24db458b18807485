"""Processing jobs as the store remembers them, so a server killed mid-job resumes it.

Submitting an encounter for processing appends a ``job.queued`` event; the job's results
(transcript, entities, note) are its completion. A queued encounter without a note is
unfinished: the next server start (or ``scribe process --all``) runs it again, and the
pipeline skips every step already stored.
"""

from __future__ import annotations

from workbench.store.db import Store
from workbench.store.events import insert_events, new_event

QUEUED = "job.queued"


def record_queued(store: Store, encounter_id: str, user_id: str) -> None:
    """Remember that ``user_id`` asked for the encounter to be processed."""
    with store.transaction() as con:
        insert_events(
            con,
            [new_event(user_id, encounter_id, QUEUED, object_type="job", object_id=encounter_id)],
        )


def unfinished_jobs(store: Store) -> list[tuple[str, str]]:
    """(encounter, who queued it last) for queued encounters that have no note yet, unless
    their audio was purged before they were transcribed (nothing could finish them)."""
    with store.connect() as con:
        return con.execute(
            "SELECT e.encounter_id, arg_max(e.user_id, e.ts) FROM events e"
            " JOIN encounters x ON x.encounter_id = e.encounter_id"
            " WHERE e.kind = ?"
            " AND NOT EXISTS (SELECT 1 FROM notes n WHERE n.encounter_id = e.encounter_id)"
            " AND NOT (EXISTS (SELECT 1 FROM audio_purges p WHERE p.sha256 = x.audio_sha256)"
            "  AND NOT EXISTS (SELECT 1 FROM transcripts t"
            "   WHERE t.encounter_id = e.encounter_id))"
            " GROUP BY e.encounter_id ORDER BY min(e.ts)",
            [QUEUED],
        ).fetchall()
