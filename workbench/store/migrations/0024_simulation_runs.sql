-- 0024: runs of the usage simulator (`scribe simulate`, workbench.simulate). One row per run,
-- written when it starts (counts, seconds and finished_at filled when it ends; a run killed
-- midway keeps NULL there and its committed chunks of whole encounters). The run number
-- keeps appended runs' encounter ids (sim-RUN-N) apart.
CREATE TABLE simulation_runs (
    run         INTEGER PRIMARY KEY,
    seed        BIGINT NOT NULL,
    spec        JSON NOT NULL,
    encounters  INTEGER NOT NULL,
    counts      JSON,
    seconds     DOUBLE,
    started_at  TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    created_by  TEXT NOT NULL
);
