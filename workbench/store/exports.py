"""What the training-data exports read beyond the per-encounter functions, and their record.

``changed_since`` picks the encounters with a recorded change on or after a time (views and
exports do not count as changes); ``entity_reviews`` counts each encounter's entity
corrections and confirmations (only reviewed entity sets are training data);
``record_dataset_export`` writes the export's events: one ``dataset.exported`` with the
format, filters, counts and manifest digest, and one ``training.exported`` per encounter it
holds, in one transaction (each audited by ``insert_events``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from workbench.store.access import require
from workbench.store.db import Store
from workbench.store.events import ACTIVITY_KINDS, insert_events, new_event
from workbench.store.models import ENTITY_REVIEW_KINDS

DATASET_EXPORTED = "dataset.exported"
ENCOUNTER_EXPORTED = "training.exported"
# Events that record reading or exporting, not a change to the encounter's data.
NOT_CHANGES: tuple[str, ...] = (
    *sorted(ACTIVITY_KINDS),
    "note.exported",
    ENCOUNTER_EXPORTED,
    DATASET_EXPORTED,
)

_CHANGED_SINCE = (
    "SELECT encounter_id FROM events"
    " WHERE list_contains($ids, encounter_id) AND ts >= $since"
    " AND NOT list_contains($skip, kind)"
    " UNION SELECT encounter_id FROM encounters"
    " WHERE list_contains($ids, encounter_id) AND created_at >= $since"
)
_ENTITY_REVIEWS = (
    "SELECT encounter_id, count(*) FROM events"
    " WHERE list_contains(?, encounter_id) AND list_contains(?, kind) GROUP BY encounter_id"
)


def changed_since(store: Store, encounter_ids: Sequence[str], since: datetime) -> set[str]:
    """The encounters (of ``encounter_ids``) created or changed on or after ``since`` (UTC)."""
    require(store, "training.export")
    with store.connect() as con:
        rows = con.execute(
            _CHANGED_SINCE,
            {"ids": list(encounter_ids), "since": since, "skip": list(NOT_CHANGES)},
        ).fetchall()
    return {row[0] for row in rows}


def entity_reviews(store: Store, encounter_ids: Sequence[str]) -> dict[str, int]:
    """How many entity corrections and confirmations each encounter has (absent: none)."""
    require(store, "training.export")
    with store.connect() as con:
        rows = con.execute(
            _ENTITY_REVIEWS, [list(encounter_ids), list(ENTITY_REVIEW_KINDS)]
        ).fetchall()
    return {row[0]: int(row[1]) for row in rows}


def record_dataset_export(
    store: Store,
    user_id: str,
    export_id: str,
    fmt: str,
    encounter_ids: Sequence[str],
    summary: dict[str, Any],
) -> None:
    """The export's ``dataset.exported`` event (``summary``: ids, counts and digests, never
    text) and a ``training.exported`` event per encounter it holds, in one transaction."""
    require(store, "training.export")
    object_id = f"export/{export_id}"
    events = [
        new_event(
            user_id,
            None,
            DATASET_EXPORTED,
            object_type="export",
            object_id=object_id,
            after={"export_id": export_id, "format": fmt, **summary},
        )
    ]
    events += [
        new_event(
            user_id,
            encounter_id,
            ENCOUNTER_EXPORTED,
            object_type="encounter",
            object_id=encounter_id,
            after={
                "export_id": export_id,
                "format": fmt,
                "deidentified": bool(summary.get("filters", {}).get("deidentified")),
            },
        )
        for encounter_id in encounter_ids
    ]
    with store.transaction() as con:
        insert_events(con, events)
