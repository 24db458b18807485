"""Who signed which note version of an encounter, when, and what they reviewed first."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from workbench.store.access import require
from workbench.store.db import Store


@dataclass(frozen=True)
class Signature:
    """One signed note version; the signer's display name comes from ``users``.

    ``active_seconds`` (active review time of that signing round), ``looked_at`` (sentence
    ids looked at), ``sentences`` and ``flagged`` (how many needed a decision) are None for
    signatures made before migration 0010.
    """

    encounter_id: str
    note_version: int
    signed_by: str
    signer_name: str
    signed_at: datetime
    attestation: str
    active_seconds: float | None = None
    looked_at: tuple[str, ...] | None = None
    sentences: int | None = None
    flagged: int | None = None


def list_signatures(store: Store, encounter_id: str) -> list[Signature]:
    """Every signature of the encounter's note, oldest version first."""
    require(store, "encounter.view", encounter_id)
    with store.connect() as con:
        rows = con.execute(
            "SELECT s.encounter_id, s.note_version, s.signed_by,"
            " coalesce(u.display_name, s.signed_by), s.signed_at, s.attestation,"
            " s.active_seconds, s.looked_at, s.sentences, s.flagged"
            " FROM signatures s LEFT JOIN users u ON u.user_id = s.signed_by"
            " WHERE s.encounter_id = ? ORDER BY s.note_version",
            [encounter_id],
        ).fetchall()
    return [
        Signature(*row[:7], tuple(json.loads(row[7])) if row[7] else None, row[8], row[9])
        for row in rows
    ]
