-- 0022: Label Studio sync state (workbench.labelstudio_sync). ``server`` is the scheme, host
-- and port of the Label Studio server; ``project`` the title given to `scribe labelstudio`.
-- A task is one encounter's transcript version in one project; re-pushing updates it in
-- place. An imported annotation is keyed by its id and Label Studio's ``updated_at``: an
-- annotation edited in Label Studio after a pull is imported again as a new submission,
-- the same one twice never (``submission_ref`` is the external ref of that submission).
CREATE TABLE labelstudio_projects (
    server        TEXT NOT NULL,
    project       TEXT NOT NULL,
    ls_project_id INTEGER NOT NULL,
    config_sha256 TEXT NOT NULL,
    pushed_by     TEXT NOT NULL,
    pushed_at     TIMESTAMP NOT NULL,
    PRIMARY KEY (server, project)
);

CREATE TABLE labelstudio_tasks (
    server             TEXT NOT NULL,
    ls_task_id         INTEGER NOT NULL,
    ls_project_id      INTEGER NOT NULL,
    encounter_id       TEXT NOT NULL,
    transcript_version INTEGER NOT NULL,
    task_sha256        TEXT NOT NULL,
    pushed_at          TIMESTAMP NOT NULL,
    PRIMARY KEY (server, ls_task_id)
);

CREATE TABLE labelstudio_imports (
    server           TEXT NOT NULL,
    ls_annotation_id INTEGER NOT NULL,
    ls_updated_at    TEXT NOT NULL,
    ls_project_id    INTEGER NOT NULL,
    ls_task_id       INTEGER NOT NULL,
    encounter_id     TEXT NOT NULL,
    user_id          TEXT NOT NULL,
    submission_ref   TEXT NOT NULL,
    imported_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (server, ls_annotation_id, ls_updated_at)
);
