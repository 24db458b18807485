"""The names the system knows for an encounter (for de-identified exports)."""

from __future__ import annotations

from workbench.store.db import Store

_NAMES = (
    "SELECT e.patient_label, e.clinician, u.display_name FROM encounters e"
    " LEFT JOIN users u ON u.user_id = e.clinician WHERE e.encounter_id = ?"
)


def encounter_names(store: Store, encounter_id: str) -> tuple[str, ...]:
    """The patient label, the clinician's user id and display name (those that are set)."""
    with store.connect() as con:
        row = con.execute(_NAMES, [encounter_id]).fetchone()
    return tuple(str(n) for n in (row or ()) if n)
