"""Annotation tasks: which encounters an annotator may open (``access.ASSIGNED``)."""

from __future__ import annotations

from workbench.store.access import require
from workbench.store.db import NotFound, Store, utcnow
from workbench.store.events import insert_events, new_event

_EXISTS = "SELECT 1 FROM encounters WHERE encounter_id = ?"
_INSERT = (
    "INSERT INTO assignments (encounter_id, user_id, assigned_by, assigned_at)"
    " SELECT ?, ?, ?, ? WHERE NOT EXISTS"
    " (SELECT 1 FROM assignments WHERE encounter_id = ? AND user_id = ?)"
)
_DELETE = "DELETE FROM assignments WHERE encounter_id = ? AND user_id = ?"
_LIST = "SELECT encounter_id FROM assignments WHERE user_id = ? ORDER BY assigned_at, 1"


def assign_encounter(store: Store, encounter_id: str, user_id: str) -> bool:
    """Assign the encounter to the annotator (``task.assign``); False if it already was."""
    require(store, "task.assign", encounter_id)
    with store.transaction() as con:
        if not con.execute(_EXISTS, [encounter_id]).fetchone():
            raise NotFound(f"No encounter {encounter_id}")
        return add_assignment(con, store, encounter_id, user_id)


def add_assignment(con, store: Store, encounter_id: str, user_id: str) -> bool:
    """Insert the assignment and its event inside the caller's transaction (the caller has
    checked ``task.assign``); False if it existed."""
    row = [encounter_id, user_id, store.actor.user_id, utcnow(), encounter_id, user_id]
    added = con.execute(_INSERT, row).fetchone()[0]
    if added:
        insert_events(con, [_event(store, encounter_id, "task.assigned", user_id)])
    return bool(added)


def unassign_encounter(store: Store, encounter_id: str, user_id: str) -> bool:
    """Take the task back (``task.assign``); False if it was not assigned."""
    require(store, "task.assign", encounter_id)
    with store.transaction() as con:
        removed = con.execute(_DELETE, [encounter_id, user_id]).fetchone()[0]
        if removed:
            insert_events(con, [_event(store, encounter_id, "task.unassigned", user_id)])
        return bool(removed)


def assigned_encounters(store: Store, user_id: str) -> list[str]:
    """Ids of the encounters assigned to the user (their own list, or ``task.assign``)."""
    if user_id != store.actor.user_id:
        require(store, "task.assign")
    with store.connect() as con:
        return [r[0] for r in con.execute(_LIST, [user_id]).fetchall()]


def _event(store: Store, encounter_id: str, kind: str, user_id: str):
    return new_event(store.actor.user_id, encounter_id, kind, object_type="user", object_id=user_id)
