-- 0016: training-use consent per encounter, and audio purged by the retention policy.
--
-- Consent is append-only: every grant or withdrawal is a row (who, when, optional note), and
-- the current state of an encounter is its newest row. An encounter with no row has not
-- consented, except a scripted demo (source 'demo', no real patient): see store/consent.py.
CREATE TABLE training_consent (
    encounter_id TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    granted      BOOLEAN NOT NULL,
    recorded_by  TEXT NOT NULL,
    recorded_at  TIMESTAMP NOT NULL,
    note         TEXT,
    PRIMARY KEY (encounter_id, seq)
);

-- One row per audio file the retention policy removed. The row is committed before the file is
-- deleted, so a crash in between leaves a purge record and a file a rerun deletes, never a row
-- that points at a missing file without saying why.
CREATE TABLE audio_purges (
    sha256    TEXT PRIMARY KEY,
    purged_at TIMESTAMP NOT NULL,
    purged_by TEXT NOT NULL,
    reason    TEXT NOT NULL
);

-- Encounters whose transcript and note text the retention policy replaced by a de-identified
-- form (once: a second run leaves them alone).
CREATE TABLE text_purges (
    encounter_id TEXT PRIMARY KEY,
    purged_at    TIMESTAMP NOT NULL,
    purged_by    TEXT NOT NULL,
    reason       TEXT NOT NULL
);
