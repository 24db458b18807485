-- 0001: the foundation schema. All timestamps are UTC (TIMESTAMP, naive).
-- Nothing here is ever updated in place: new versions and events are appended.

CREATE TABLE users (
    user_id      TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    role         TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL
);

-- Audio is addressed by the sha256 of its bytes; the file lives under the data dir.
CREATE TABLE audio_files (
    sha256        TEXT PRIMARY KEY,
    stored_path   TEXT NOT NULL,
    original_name TEXT,
    format        TEXT,
    duration_s    DOUBLE,
    sample_rate   INTEGER,
    channels      INTEGER,
    size_bytes    BIGINT,
    created_at    TIMESTAMP NOT NULL
);

CREATE TABLE encounters (
    encounter_id  TEXT PRIMARY KEY,
    title         TEXT NOT NULL,
    specialty     TEXT,
    visit_type    TEXT,
    clinician     TEXT,
    patient_label TEXT,
    audio_sha256  TEXT,
    source        TEXT,
    created_at    TIMESTAMP NOT NULL,
    created_by    TEXT
);

CREATE TABLE transcripts (
    encounter_id TEXT NOT NULL,
    version      INTEGER NOT NULL,
    model        TEXT NOT NULL,
    language     TEXT,
    duration_s   DOUBLE,
    input_sha256 TEXT,
    options      JSON,
    created_at   TIMESTAMP NOT NULL,
    created_by   TEXT NOT NULL,
    PRIMARY KEY (encounter_id, version)
);

CREATE TABLE segments (
    encounter_id       TEXT NOT NULL,
    transcript_version INTEGER NOT NULL,
    idx                INTEGER NOT NULL,
    start_s            DOUBLE NOT NULL,
    end_s              DOUBLE NOT NULL,
    speaker            TEXT NOT NULL,
    text               TEXT NOT NULL,
    avg_logprob        DOUBLE,
    no_speech_prob     DOUBLE,
    compression_ratio  DOUBLE,
    PRIMARY KEY (encounter_id, transcript_version, idx)
);

CREATE TABLE words (
    encounter_id       TEXT NOT NULL,
    transcript_version INTEGER NOT NULL,
    segment_idx        INTEGER NOT NULL,
    idx                INTEGER NOT NULL,
    start_s            DOUBLE NOT NULL,
    end_s              DOUBLE NOT NULL,
    text               TEXT NOT NULL,
    probability        DOUBLE,
    PRIMARY KEY (encounter_id, transcript_version, segment_idx, idx)
);

-- One entity set per (encounter, version); each set belongs to one transcript version.
CREATE TABLE entity_sets (
    encounter_id       TEXT NOT NULL,
    version            INTEGER NOT NULL,
    transcript_version INTEGER NOT NULL,
    model_version      TEXT NOT NULL,
    created_at         TIMESTAMP NOT NULL,
    created_by         TEXT NOT NULL,
    PRIMARY KEY (encounter_id, version)
);

CREATE TABLE entities (
    encounter_id TEXT NOT NULL,
    set_version  INTEGER NOT NULL,
    idx          INTEGER NOT NULL,
    segment_idx  INTEGER NOT NULL,
    start_char   INTEGER NOT NULL,
    end_char     INTEGER NOT NULL,
    text         TEXT NOT NULL,
    label        TEXT NOT NULL,
    negated      BOOLEAN NOT NULL,
    historical   BOOLEAN NOT NULL,
    family       BOOLEAN NOT NULL,
    hypothetical BOOLEAN NOT NULL,
    uncertain    BOOLEAN NOT NULL,
    code         TEXT,
    code_system  TEXT,
    code_label   TEXT,
    attributes   JSON,
    source       TEXT NOT NULL,
    PRIMARY KEY (encounter_id, set_version, idx)
);

CREATE TABLE notes (
    encounter_id       TEXT NOT NULL,
    version            INTEGER NOT NULL,
    parent_version     INTEGER,
    template           TEXT NOT NULL,
    sections           JSON NOT NULL,
    model_version      TEXT NOT NULL,
    transcript_version INTEGER,
    input_sha256       TEXT,
    options            JSON,
    created_at         TIMESTAMP NOT NULL,
    created_by         TEXT NOT NULL,
    PRIMARY KEY (encounter_id, version)
);

CREATE TABLE note_sentences (
    encounter_id TEXT NOT NULL,
    note_version INTEGER NOT NULL,
    idx          INTEGER NOT NULL,
    sentence_id  TEXT NOT NULL,
    section      TEXT NOT NULL,
    text         TEXT NOT NULL,
    origin       TEXT NOT NULL,
    PRIMARY KEY (encounter_id, note_version, idx)
);

CREATE TABLE evidence (
    encounter_id   TEXT NOT NULL,
    note_version   INTEGER NOT NULL,
    sentence_idx   INTEGER NOT NULL,
    idx            INTEGER NOT NULL,
    segment_idx    INTEGER NOT NULL,
    start_char     INTEGER NOT NULL,
    end_char       INTEGER NOT NULL,
    start_s        DOUBLE NOT NULL,
    end_s          DOUBLE NOT NULL,
    PRIMARY KEY (encounter_id, note_version, sentence_idx, idx)
);

-- A signature locks the encounter's note at that version (amendments come later).
CREATE TABLE signatures (
    encounter_id TEXT NOT NULL,
    note_version INTEGER NOT NULL,
    signed_by    TEXT NOT NULL,
    signed_at    TIMESTAMP NOT NULL,
    attestation  TEXT NOT NULL,
    PRIMARY KEY (encounter_id, note_version)
);

-- Every change anyone makes, append-only: who, when, what, before and after.
CREATE TABLE events (
    event_id      TEXT PRIMARY KEY,
    ts            TIMESTAMP NOT NULL,
    user_id       TEXT NOT NULL,
    encounter_id  TEXT,
    kind          TEXT NOT NULL,
    object_type   TEXT,
    object_id     TEXT,
    before        JSON,
    after         JSON,
    model_version TEXT,
    note_version  INTEGER
);

CREATE INDEX events_encounter ON events (encounter_id);
