"""Review activity read from the event log: active review time and the sentences a person
actually looked at.

``review.active`` events (``after.seconds``: active seconds credited, ``after.since_last_s``:
seconds since the previous one) come from the Review page's heartbeat
(``workbench.review_time``). A sentence counts as *looked at* when a person played its
evidence (``sentence.viewed``, written by ``ReviewContext.play``), accepted, edited, added
or moved it. A *signing round* starts after the encounter's previous signature (or at the
beginning): what a signature records covers that round only.
"""

from __future__ import annotations

from datetime import datetime

from workbench.store.access import require
from workbench.store.db import Store

ACTIVE = "review.active"
VIEWED = "sentence.viewed"
SIGNED = "note.signed"
LOOKED_AT_KINDS = (
    VIEWED,
    "sentence.accepted",
    "sentence.edited",
    "sentence.added",
    "sentence.moved",
    "omission.added",
)

_ROUND_START = "SELECT max(ts) FROM events WHERE encounter_id = ? AND kind = ?"
_ACTIVE_SUM = (
    "SELECT coalesce(sum(CAST(after->>'seconds' AS DOUBLE)), 0) FROM events"
    " WHERE encounter_id = ? AND kind = ? AND (? IS NULL OR ts > ?)"
)
_LAST_ACTIVE = "SELECT max(ts) FROM events WHERE encounter_id = ? AND kind = ? AND user_id = ?"
_LOOKED_AT = (
    "SELECT DISTINCT object_id FROM events WHERE encounter_id = ? AND object_id IS NOT NULL"
    " AND (? IS NULL OR ts > ?) AND kind IN ({})"
).format(", ".join("?" * len(LOOKED_AT_KINDS)))


def round_start(store: Store, encounter_id: str) -> datetime | None:
    """When the current signing round began: the previous signature's time (None: never)."""
    require(store, "encounter.view", encounter_id)
    with store.connect() as con:
        return con.execute(_ROUND_START, [encounter_id, SIGNED]).fetchone()[0]


def active_review_seconds(store: Store, encounter_id: str, since: datetime | None = None) -> float:
    """Total active review time of the encounter in seconds (all reviewers), optionally
    only after ``since``. Analytics reads this."""
    require(store, "encounter.view", encounter_id)
    with store.connect() as con:
        row = con.execute(_ACTIVE_SUM, [encounter_id, ACTIVE, since, since]).fetchone()
    return float(row[0])


def last_active(store: Store, encounter_id: str, user_id: str) -> datetime | None:
    """Time of the user's newest ``review.active`` event on the encounter."""
    require(store, "encounter.view", encounter_id)
    with store.connect() as con:
        return con.execute(_LAST_ACTIVE, [encounter_id, ACTIVE, user_id]).fetchone()[0]


def looked_at_ids(store: Store, encounter_id: str, since: datetime | None = None) -> set[str]:
    """Sentence ids a person viewed, accepted, edited, added or moved (after ``since``)."""
    require(store, "encounter.view", encounter_id)
    with store.connect() as con:
        rows = con.execute(_LOOKED_AT, [encounter_id, since, since, *LOOKED_AT_KINDS]).fetchall()
    return {r[0] for r in rows}
