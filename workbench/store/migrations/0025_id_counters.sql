-- 0025: the last id handed out per numbered table (workbench.store.ids). Ids are never given
-- twice: a purge that deletes the newest support check must not let a new check take its id
-- while the note.verified event still names it. Starts past each table's largest id and past
-- what its sequence already handed out (a file store's rows since deleted; a lake has none).
CREATE TABLE id_counters (
    name    TEXT PRIMARY KEY,
    last_id BIGINT NOT NULL
);
INSERT INTO id_counters (name, last_id)
    SELECT 'vocabulary', greatest(coalesce(max(seq), 0), coalesce((SELECT max(last_value)
        FROM duckdb_sequences() WHERE sequence_name = 'vocabulary_seq'), 0)) FROM vocabulary
    UNION ALL SELECT 'code_decisions', greatest(coalesce(max(seq), 0), coalesce((SELECT
        max(last_value) FROM duckdb_sequences() WHERE sequence_name = 'code_decisions_seq'), 0))
        FROM code_decisions
    UNION ALL SELECT 'model_activations', greatest(coalesce(max(seq), 0), coalesce((SELECT
        max(last_value) FROM duckdb_sequences() WHERE sequence_name = 'model_activations_seq'),
        0)) FROM model_activations
    UNION ALL SELECT 'support_checks', greatest(coalesce(max(check_id), 0), coalesce((SELECT
        max(last_value) FROM duckdb_sequences() WHERE sequence_name = 'support_checks_seq'), 0))
        FROM support_checks
    UNION ALL SELECT 'clinician_styles', greatest(coalesce(max(style_id), 0), coalesce((SELECT
        max(last_value) FROM duckdb_sequences() WHERE sequence_name = 'clinician_styles_seq'),
        0)) FROM clinician_styles
    UNION ALL SELECT 'simulation_runs', coalesce(max(run), 0) FROM simulation_runs;
