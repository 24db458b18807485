"""Counts for `scribe status` and the worklist header."""

from __future__ import annotations

from workbench.store.access import require
from workbench.store.db import Store


def status_counts(store: Store) -> dict[str, int]:
    """How many encounters reached each step, plus the number of events."""
    require(store, "analytics.view", None)
    with store.connect() as con:
        row = con.execute(
            "SELECT"
            " (SELECT count(*) FROM encounters),"
            " (SELECT count(DISTINCT encounter_id) FROM transcripts),"
            " (SELECT count(DISTINCT encounter_id) FROM entity_sets),"
            " (SELECT count(DISTINCT encounter_id) FROM notes),"
            " (SELECT count(DISTINCT encounter_id) FROM signatures),"
            " (SELECT count(*) FROM events),"
            " (SELECT count(*) FROM audio_files)"
        ).fetchone()
    keys = (
        "encounters",
        "transcribed",
        "with_entities",
        "drafted",
        "signed",
        "events",
        "audio_files",
    )
    return dict(zip(keys, (int(v) for v in row), strict=True))
