-- 0003: clinicians' decisions on machine code suggestions, append-only.
-- The current decision on a code is the newest row for (encounter_id, code_system, code).

CREATE SEQUENCE code_decisions_seq START 1;

CREATE TABLE code_decisions (
    seq                BIGINT PRIMARY KEY DEFAULT nextval('code_decisions_seq'),
    encounter_id       TEXT NOT NULL,
    code_system        TEXT NOT NULL,
    code               TEXT NOT NULL,
    description        TEXT,
    decision           TEXT NOT NULL CHECK (decision IN ('accepted', 'rejected')),
    score              DOUBLE,
    rank               INTEGER,
    evidence           JSON,
    entity_set_version INTEGER,
    model_version      TEXT,
    decided_at         TIMESTAMP NOT NULL,
    decided_by         TEXT NOT NULL
);
