-- 0005: the model registry. A row per trained model version, never updated; which version
-- the pipeline uses is the newest row of model_activations for its kind (NULL model_id:
-- back to rules only), so "at most one active per kind" holds by construction and every
-- switch stays on record.

CREATE TABLE models (
    model_id          TEXT PRIMARY KEY,
    kind              TEXT NOT NULL CHECK (kind IN ('ner')),
    created_at        TIMESTAMP NOT NULL,
    created_by        TEXT NOT NULL,
    path              TEXT NOT NULL,      -- model folder, relative to the data directory
    base_nlp_version  TEXT NOT NULL,      -- the rule pipeline it was trained beside
    encounters        INTEGER NOT NULL,   -- encounters in the training data (train + held out)
    entities          INTEGER NOT NULL,   -- entity spans in the training data
    corrections       INTEGER NOT NULL,   -- correction events behind that data
    data_snapshot     JSON NOT NULL,      -- [{encounter_id, transcript_version, entity_set_version}]
    training          JSON NOT NULL,      -- options, split, epochs, seconds
    metrics           JSON NOT NULL       -- held-out precision / recall / F1, per label
);

CREATE SEQUENCE model_activations_seq START 1;

CREATE TABLE model_activations (
    seq          BIGINT PRIMARY KEY DEFAULT nextval('model_activations_seq'),
    kind         TEXT NOT NULL,
    model_id     TEXT,
    activated_at TIMESTAMP NOT NULL,
    activated_by TEXT NOT NULL
);
