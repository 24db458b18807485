-- 0015: who may see which encounter, and the audit log.
-- An encounter belongs to its clinician (clinician_id, a user id; NULL on older rows, which
-- then belong to created_by). Annotators see the encounters assigned to them. The audit log
-- is append-only: each row's hash covers its fields and the previous row's hash, so an edit
-- or a deleted row breaks the chain (workbench.store.audit.verify_chain).

ALTER TABLE encounters ADD COLUMN clinician_id TEXT;

CREATE TABLE assignments (
    encounter_id TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    assigned_by  TEXT NOT NULL,
    assigned_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (encounter_id, user_id)
);

CREATE TABLE audit_log (
    seq         BIGINT PRIMARY KEY,
    ts          TIMESTAMP NOT NULL,  -- UTC
    user_id     TEXT NOT NULL,
    role        TEXT,
    action      TEXT NOT NULL,
    object_type TEXT,
    object_id   TEXT,
    outcome     TEXT NOT NULL,   -- allowed, denied or failed
    detail      TEXT,            -- JSON: ids and reasons only, never clinical text
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
