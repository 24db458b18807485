-- 0011: a reviewer's unsaved note, kept as they type so a browser reload or a new session
-- loses nothing. One row per encounter and user: the pending sentences (with evidence) on top
-- of ``note_version``; written on every change, removed on Save. It is scratch state, not a
-- correction: what the reviewer finally saves becomes a note version with its events.

CREATE TABLE note_autosaves (
    encounter_id TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    note_version INTEGER NOT NULL,
    sentences    JSON NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (encounter_id, user_id)
);
