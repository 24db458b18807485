-- 0019: annotation work (issue 8). Tasks in annotators' queues, what they label, imports from
-- Label Studio, and the gold version a lead picks when several annotators labelled the same
-- encounter. The tables hold the current state; every change is also a typed event
-- (annotation.saved, annotation.submitted, ...) with before/after, which is the history.
-- No secondary indexes on columns that change (status): DuckDB turns such updates into a
-- delete and an insert, which is slower and can trip its unique-key checks.

CREATE TABLE annotation_tasks (
    task_id            TEXT PRIMARY KEY,
    encounter_id       TEXT NOT NULL,
    kind               TEXT NOT NULL,     -- entities, sections, transcript, quality, pairwise
    assignee           TEXT NOT NULL,     -- users.user_id, or labelstudio:<email>
    status             TEXT NOT NULL,     -- draft, submitted, reviewed
    transcript_version INTEGER,           -- the transcript its spans point into
    note_version       INTEGER,           -- the note it rates (quality)
    payload            JSON,              -- kind-specific, e.g. pairwise's two drafts in order
    source             TEXT NOT NULL,     -- app or labelstudio
    external_id        TEXT,              -- the Label Studio task id
    revision           INTEGER NOT NULL,  -- bumped by every save: a stale save is refused
    created_by         TEXT NOT NULL,
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL,
    submitted_at       TIMESTAMP,
    reviewed_by        TEXT,
    reviewed_at        TIMESTAMP,
    review_comment     TEXT
);

CREATE TABLE annotations (
    task_id       TEXT NOT NULL,
    annotation_id TEXT NOT NULL,
    encounter_id  TEXT NOT NULL,
    annotator     TEXT NOT NULL,
    kind          TEXT NOT NULL,   -- span, relation, encounter_label, section_label, ...
    label         TEXT,
    segment_idx   INTEGER,
    start_char    INTEGER,
    end_char      INTEGER,
    text          TEXT,
    value         JSON,
    origin        TEXT NOT NULL,   -- human, suggestion, confirmed
    model_version TEXT,
    PRIMARY KEY (task_id, annotation_id)
);

-- One row per external annotation revision imported (Label Studio annotation id and its
-- updated_at): a rerun after a dropped connection imports nothing twice.
CREATE TABLE annotation_imports (
    external_ref TEXT PRIMARY KEY,
    task_id      TEXT NOT NULL,
    imported_at  TIMESTAMP NOT NULL
);

-- The gold annotation set of an encounter and task kind, chosen by a lead (adjudication).
-- Append-only: the newest row is the gold; earlier rows say who chose what before.
CREATE TABLE annotation_gold (
    encounter_id TEXT NOT NULL,
    kind         TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    method       TEXT NOT NULL,    -- task (one annotator's version) or merged
    chosen_task  TEXT,             -- the task whose version was taken (method task)
    annotations  JSON NOT NULL,    -- the gold set
    chosen_by    TEXT NOT NULL,
    chosen_at    TIMESTAMP NOT NULL,
    reason       TEXT,
    PRIMARY KEY (encounter_id, kind, seq)
);
