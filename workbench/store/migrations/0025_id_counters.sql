-- 0025: the last id handed out per numbered table (workbench.store.ids). Ids are never given
-- twice: a purge that deletes the newest support check must not let a new check take its id
-- while the note.verified event still names it. Starts at each table's current largest id.
CREATE TABLE id_counters (
    name    TEXT PRIMARY KEY,
    last_id BIGINT NOT NULL
);
INSERT INTO id_counters (name, last_id)
    SELECT 'vocabulary', coalesce(max(seq), 0) FROM vocabulary
    UNION ALL SELECT 'code_decisions', coalesce(max(seq), 0) FROM code_decisions
    UNION ALL SELECT 'model_activations', coalesce(max(seq), 0) FROM model_activations
    UNION ALL SELECT 'support_checks', coalesce(max(check_id), 0) FROM support_checks
    UNION ALL SELECT 'clinician_styles', coalesce(max(style_id), 0) FROM clinician_styles
    UNION ALL SELECT 'simulation_runs', coalesce(max(run), 0) FROM simulation_runs;
