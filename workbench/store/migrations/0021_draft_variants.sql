-- 0021: draft variants for blind pairwise comparison (issue 8). Each row is one draft of an
-- encounter from one drafter version: the stored machine draft, a re-draft by another
-- drafter, or the clinician-signed note as a reference. Rows are never updated; the id is a
-- hash of the content, so storing the same draft again adds nothing. Pairwise tasks name
-- two variant ids in their payload (annotation_tasks.payload), in the order shown.

CREATE TABLE draft_variants (
    variant_id         TEXT PRIMARY KEY,
    encounter_id       TEXT NOT NULL,
    drafter            TEXT NOT NULL,     -- rules, learned, llm, clinician (signed), ...
    model_version      TEXT NOT NULL,     -- the version compared (Draft.model_version)
    source             TEXT NOT NULL,     -- note (stored machine draft), redraft, signed
    note_version       INTEGER,           -- the note version it was taken from (note, signed)
    transcript_version INTEGER,           -- the transcript it was drafted from
    template           TEXT NOT NULL,
    draft              JSON NOT NULL,     -- the Draft: sections, sentences with evidence
    created_at         TIMESTAMP NOT NULL,
    created_by         TEXT NOT NULL
);
