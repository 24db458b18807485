-- 0017: a note save refused because someone saved a newer version first keeps the refused
-- text here instead of dropping it, until its author takes theirs, merges by hand or discards
-- it (each an event). No index: few rows, and resolving one updates it in place. ``base_version`` is what they edited; ``theirs_version`` the newer one
-- that was saved meanwhile. Resolved rows stay (resolution and time) as the record.
CREATE TABLE note_conflicts (
    conflict_id    TEXT PRIMARY KEY,
    encounter_id   TEXT NOT NULL,
    user_id        TEXT NOT NULL,
    base_version   INTEGER NOT NULL,
    theirs_version INTEGER NOT NULL,
    sentences      JSON NOT NULL,
    created_at     TIMESTAMP NOT NULL,
    resolution     TEXT,
    resolved_at    TIMESTAMP
);
