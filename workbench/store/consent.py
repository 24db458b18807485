"""Training-use consent per encounter: recorded grants and withdrawals, and the current state.

Consent is append-only (``training_consent`` rows, each with a ``consent.granted`` or
``consent.withdrawn`` event in the same transaction); the current state of an encounter is
its newest row. An encounter nobody recorded consent for has NOT consented: training use is
a secondary use of a patient's visit, so it needs a positive decision, and a missing record
must never be read as a yes. The only exception are the scripted demo encounters
(``source = 'demo'``): synthetic voices reading scripts we wrote, with no patient behind them.

Every export of training data (NER training, style learning, ...) keeps only
``consented_ids``. The signed-note export to the record (FHIR, text) is care, not training,
and is not gated.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import duckdb

from workbench.store.db import NotFound, Store, utcnow
from workbench.store.events import insert_events, new_event

GRANTED, WITHDRAWN = "consent.granted", "consent.withdrawn"

# The newest consent row of every encounter, or the default when there is none. (arg_max,
# not QUALIFY: with a bound parameter DuckDB 1.5.5 can fail on QUALIFY; see styles.py.)
_STATE = (
    "SELECT e.encounter_id, coalesce(c.granted, e.source = 'demo', false) AS granted,"
    " c.recorded_by, c.recorded_at, c.note"
    " FROM encounters e LEFT JOIN ("
    "   SELECT encounter_id, arg_max(granted, seq) AS granted,"
    "    arg_max(recorded_by, seq) AS recorded_by, arg_max(recorded_at, seq) AS recorded_at,"
    "    arg_max_null(note, seq) AS note"
    "   FROM training_consent GROUP BY encounter_id"
    " ) c ON c.encounter_id = e.encounter_id"
)


@dataclass(frozen=True)
class ConsentState:
    """An encounter's current training-use consent; ``recorded_by`` is None for the default."""

    encounter_id: str
    granted: bool
    recorded_by: str | None = None
    recorded_at: datetime | None = None
    note: str | None = None

    @property
    def label(self) -> str:
        """How a person reads it: granted / withdrawn / not recorded (default)."""
        if self.recorded_by is None:
            return "granted (demo)" if self.granted else "not recorded (no training use)"
        return "granted" if self.granted else "withdrawn"


def set_consent(
    store: Store, encounter_id: str, granted: bool, user_id: str, note: str | None = None
) -> ConsentState:
    """Record a grant or a withdrawal (with its event); returns the new state.

    Recording the state it already has is still recorded: it says who confirmed it, when.
    Raises NotFound for an unknown encounter; then nothing is written.
    """
    note = (note or "").strip() or None
    with store.transaction() as con:
        if not con.execute(
            "SELECT 1 FROM encounters WHERE encounter_id = ?", [encounter_id]
        ).fetchone():
            raise NotFound(f"No encounter {encounter_id}")
        before = _state(con, [encounter_id])[encounter_id]
        seq = con.execute(
            "SELECT coalesce(max(seq), 0) + 1 FROM training_consent WHERE encounter_id = ?",
            [encounter_id],
        ).fetchone()[0]
        now = utcnow()
        con.execute(
            "INSERT INTO training_consent (encounter_id, seq, granted, recorded_by, recorded_at,"
            " note) VALUES (?, ?, ?, ?, ?, ?)",
            [encounter_id, seq, granted, user_id, now, note],
        )
        insert_events(
            con,
            [
                new_event(
                    user_id,
                    encounter_id,
                    GRANTED if granted else WITHDRAWN,
                    object_type="consent",
                    object_id=f"{encounter_id}/consent/{seq}",
                    before={"granted": before.granted},
                    after={"granted": granted, "note": note},
                )
            ],
        )
    return ConsentState(encounter_id, granted, user_id, now, note)


def get_consent(store: Store, encounter_id: str) -> ConsentState:
    """The encounter's current consent; raises NotFound for an unknown encounter."""
    with store.connect() as con:
        found = _state(con, [encounter_id])
    if encounter_id not in found:
        raise NotFound(f"No encounter {encounter_id}")
    return found[encounter_id]


def list_consent(store: Store) -> list[ConsentState]:
    """The current consent of every encounter, by id."""
    with store.connect() as con:
        rows = con.execute(_STATE + " ORDER BY e.encounter_id").fetchall()
    return [ConsentState(*row) for row in rows]


def consent_history(store: Store, encounter_id: str) -> list[ConsentState]:
    """Every recorded grant and withdrawal of the encounter, oldest first."""
    with store.connect() as con:
        rows = con.execute(
            "SELECT encounter_id, granted, recorded_by, recorded_at, note FROM training_consent"
            " WHERE encounter_id = ? ORDER BY seq",
            [encounter_id],
        ).fetchall()
    return [ConsentState(*row) for row in rows]


def consented_ids(store: Store, encounter_ids: Iterable[str] | None = None) -> set[str]:
    """The encounters (of ``encounter_ids``, or all) whose data may be used for training."""
    with store.connect() as con:
        found = _state(con, None if encounter_ids is None else list(encounter_ids))
    return {eid for eid, state in found.items() if state.granted}


def _state(
    con: duckdb.DuckDBPyConnection, encounter_ids: list[str] | None
) -> dict[str, ConsentState]:
    if encounter_ids is None:
        rows = con.execute(_STATE).fetchall()
    else:
        rows = con.execute(
            _STATE + " WHERE list_contains(?, e.encounter_id)", [encounter_ids]
        ).fetchall()
    return {row[0]: ConsentState(*row) for row in rows}
