-- 0006: the support check of note versions (pipelines.verify). One row per check, never
-- updated: a newer check of the same note version (new entities, a new checker) is a new
-- row, and the newest row is the current one. Sentence labels and omissions belong to it.

CREATE SEQUENCE support_checks_seq START 1;

CREATE TABLE support_checks (
    check_id           BIGINT PRIMARY KEY DEFAULT nextval('support_checks_seq'),
    encounter_id       TEXT NOT NULL,
    note_version       INTEGER NOT NULL,
    transcript_version INTEGER,
    entity_set_version INTEGER,
    checker_version    TEXT NOT NULL,
    options            JSON,
    sentences          INTEGER NOT NULL,
    unsupported        INTEGER NOT NULL,
    partly_supported   INTEGER NOT NULL,
    omissions          INTEGER NOT NULL,
    seconds            DOUBLE,
    created_at         TIMESTAMP NOT NULL,
    created_by         TEXT NOT NULL
);

CREATE INDEX support_checks_note ON support_checks (encounter_id, note_version);

CREATE TABLE sentence_support (
    check_id    BIGINT NOT NULL,
    idx         INTEGER NOT NULL,
    sentence_id TEXT NOT NULL,
    section     TEXT NOT NULL,
    text        TEXT NOT NULL,
    label       TEXT NOT NULL CHECK (label IN ('supported', 'partly_supported', 'unsupported')),
    score       DOUBLE NOT NULL,
    reasons     JSON NOT NULL,   -- [[kind, verdict, message]]
    evidence    JSON NOT NULL,   -- [[segment_idx, start_char, end_char, start_s, end_s]]
    concepts    JSON NOT NULL,
    linked      BOOLEAN NOT NULL,
    PRIMARY KEY (check_id, idx)
);

CREATE TABLE omissions (
    check_id   BIGINT NOT NULL,
    idx        INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    reason     TEXT NOT NULL,
    mentions   JSON NOT NULL,
    evidence   JSON NOT NULL,
    section    TEXT NOT NULL,
    suggestion TEXT NOT NULL,
    PRIMARY KEY (check_id, idx)
);
