"""Who signed which note version of an encounter, and when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from workbench.store.db import Store


@dataclass(frozen=True)
class Signature:
    """One signed note version; the signer's display name comes from ``users``."""

    encounter_id: str
    note_version: int
    signed_by: str
    signer_name: str
    signed_at: datetime
    attestation: str


def list_signatures(store: Store, encounter_id: str) -> list[Signature]:
    """Every signature of the encounter's note, oldest version first."""
    with store.connect() as con:
        rows = con.execute(
            "SELECT s.encounter_id, s.note_version, s.signed_by,"
            " coalesce(u.display_name, s.signed_by), s.signed_at, s.attestation"
            " FROM signatures s LEFT JOIN users u ON u.user_id = s.signed_by"
            " WHERE s.encounter_id = ? ORDER BY s.note_version",
            [encounter_id],
        ).fetchall()
    return [Signature(*row) for row in rows]
