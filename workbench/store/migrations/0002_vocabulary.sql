-- 0002: per-clinician custom vocabulary for ASR biasing, append-only.
-- The current list is, for each (owner, term), the newest row: 'add' keeps it, 'remove' drops it.

CREATE SEQUENCE vocabulary_seq START 1;

CREATE TABLE vocabulary (
    seq    BIGINT PRIMARY KEY DEFAULT nextval('vocabulary_seq'),
    owner  TEXT NOT NULL,
    term   TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('add', 'remove')),
    ts     TIMESTAMP NOT NULL,
    actor  TEXT NOT NULL
);
