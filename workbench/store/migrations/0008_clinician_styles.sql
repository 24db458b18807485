-- 0008: clinicians' writing styles (pipelines.drafting.style), learned from their signed
-- notes. One row per learning, never updated: each sign-off adds a row and the newest row
-- of a clinician is the one drafts follow. ``style`` is ClinicianStyle.to_dict().

CREATE SEQUENCE clinician_styles_seq START 1;

CREATE TABLE clinician_styles (
    style_id      BIGINT PRIMARY KEY DEFAULT nextval('clinician_styles_seq'),
    clinician     TEXT NOT NULL,
    style_version TEXT NOT NULL,
    notes         INTEGER NOT NULL,
    style         JSON NOT NULL,
    summary       TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    created_by    TEXT NOT NULL
);

CREATE INDEX clinician_styles_clinician ON clinician_styles (clinician);
